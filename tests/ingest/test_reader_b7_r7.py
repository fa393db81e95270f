"""Reader fixes for batch 7's UNREADABLE.tsv logs (helper r7): each shape as a small verbatim excerpt of the log it
came from (data/b7/, source named above each test: repository, path, commit), what lossdoc must now read, and the
note it gives where it decided. Each test fails on main at 8af16a6."""

from __future__ import annotations

import json
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


# ------------------------------------------------------------------- Keras-style History lists, one per model
# Az0s/dl_opt results/history.json @ ee6f2460ae2b8f7f539a83942eced5bd5c2753ae: the "Softmax" and "Linear" entries
# (of 4), values verbatim. main: "no numeric History lists found".

def test_history_per_model_key_is_one_run_per_model() -> None:
    src = read("az0s_history.json", "history.json")
    assert set(src.frame.get_column("run").unique()) == {"r/Softmax", "r/Linear"}
    doc = json.loads((DATA / "az0s_history.json").read_text())
    assert values(src, "train", "loss", run="r/Linear") == [round(v, 4) for v in doc["Linear"]["train_loss"]]
    assert values(src, "val", "loss", run="r/Softmax") == [round(v, 4) for v in doc["Softmax"]["val_loss"]]
    assert "fold/run/model key(s) (Softmax, Linear)" in notes(src)


def test_history_under_split_named_keys_is_still_not_runs() -> None:
    # {"train_metrics": {...}, "val_metrics": {...}}: keys naming a split are no models
    doc = {"train_metrics": {"loss": [1.0, 0.5, 0.4]}, "val_metrics": {"loss": [1.2, 0.9, 0.8]}}
    inp = from_bytes(json.dumps(doc).encode(), name="history.json")
    inp.run_name = "r"
    try:
        src = read_input(inp, None)
    except Exception:  # noqa: BLE001 - not read at all is as good as not read as runs
        return
    assert set(src.frame.get_column("run").unique()) == {"r"}


# ------------------------------------------------------------------------- TensorFlow scalars, one a line
# hisham24/HeartSegmentation train_loss_history.txt @ 617b60786e6c5098a55554998a94bc6df5059010, lines 1-12:
# 'tf.Tensor(0.8734007, shape=(), dtype=float32)'. The 32 of float32 is no second column.

def test_tf_tensor_per_line() -> None:
    src = read("train_loss_history.txt", "train_loss_history.txt")
    assert src.format == "numeric-column"
    assert len(series(src)) == 1
    (split, metric), = series(src)
    assert values(src, split, metric)[:3] == [0.8734, 0.1585, 0.0996]
    assert len(values(src, split, metric)) == 12
