"""Reader fixes for batch 7's UNREADABLE.tsv logs (helper r7): each shape as a small verbatim excerpt of the log it
came from (data/b7/, source named above each test: repository, path, commit), what lossdoc must now read, and the
note it gives where it decided. Each test fails on main at 8af16a6."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source

DATA = Path(__file__).parent / "data" / "b7"


def read(data: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes((DATA / data).read_bytes(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str, run: str = "r") -> list[float]:
    f = src.frame.filter((pl.col("run") == run) & (pl.col("split") == split) & (pl.col("metric") == metric))
    return [round(v, 4) for v in f.sort("step").get_column("value").to_list()]


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return [int(s) for s in f.sort("step").get_column("step").to_list()]


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


def notes(src: Source) -> str:
    return "\n".join(n.message for n in src.notes)


# ------------------------------------------------ Lightning: a per-step loss too short, the per-epoch one the loss
# kabir0774/speech-enhancement-code lightning_logs/version_13/metrics.csv @ 376b51e54f87ad5a3b697489f14c1341091fa24f,
# lines 1-19 and 37-41: 'train_loss_step' logged once (step 49, log_every_n_steps=50 on 4-step epochs) beside
# 'train_loss_epoch' once an epoch. main read the 1-point per-step column as the loss.

def test_lightning_sparse_step_column_gives_way_to_the_epoch_column() -> None:
    src = read("kabir_metrics.csv", "metrics.csv")
    assert src.format == "lightning-csv"
    assert values(src, "train", "loss") == [0.4061, 0.3896, 0.4042, 0.3479, 0.3907, 0.3889, 0.3118, 0.2909]
    assert values(src, "train", "loss_step") == [0.2941]
    assert "'train_loss_step' has 1 point(s) against 8 in 'train_loss_epoch'" in notes(src)
