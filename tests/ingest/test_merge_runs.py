"""One run is one run: the files a trainer writes for one run are read as one run (lossdoc/ingest/merge.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import lossdoc
from lossdoc.checks.series import series_from_blocks
from tests.conftest import SAMPLE_LOGS

RUNS = SAMPLE_LOGS / "runs"

#: run directory -> (the format kept, the format merged into it)
SAME_RUN = {
    "hf/overfitting": ("hf-trainer", "hf-console"),
    "hf/divergence": ("hf-trainer", "hf-console"),  # the console numbers its entries 1, 2, 3...
    "hf/nan": ("hf-trainer", "hf-console"),
    "keras/healthy": ("keras-csv", "keras-progbar"),
    "keras/overfitting": ("keras-csv", "keras-progbar"),
    "lightning/healthy": ("lightning-csv", "tensorboard"),
}


@pytest.mark.parametrize("run_dir", sorted(SAME_RUN))
def test_files_of_one_run_are_one_run_with_its_sources_noted(run_dir: str) -> None:
    logs = lossdoc.read(RUNS / run_dir)
    assert len(logs.sources) == 1 and len(logs.sources[0].runs) == 1
    src = logs.sources[0]
    kept, merged = SAME_RUN[run_dir]
    assert src.format == kept
    assert [m["format"] for m in src.meta["merged_sources"]] == [kept, merged]
    assert any(n.kind == "merged_sources" and merged in n.message for n in src.notes)
    # no series counted twice: one (split, metric) key each, the structured file's values
    rows = src.frame
    assert rows.select("split", "metric").unique().height == rows.select("split", "metric", "name").unique().height
    alone = lossdoc.read(next(p for p in (RUNS / run_dir).rglob("*") if p.name in ("trainer_state.json",
                                                                                  "training.log", "metrics.csv")
                              and "checkpoint-" not in str(p)))
    mine = series_from_blocks(src.blocks)[("train", "loss")]
    theirs = series_from_blocks(alone.sources[0].blocks)[("train", "loss")]
    assert np.array_equal(mine.steps, theirs.steps)
    assert np.array_equal(mine.values, theirs.values, equal_nan=True)


def test_report_of_a_run_directory_has_each_finding_once() -> None:
    report = lossdoc.analyze(RUNS / "hf" / "overfitting")
    assert len(report.runs) == 1
    keys = [(f.rule, f.split, f.metric, f.start_step) for f in report.findings]
    assert len(keys) == len(set(keys))


def test_two_seeds_of_one_recipe_stay_two_runs(tmp_path: Path) -> None:
    for name in ("healthy", "healthy_seed2"):
        shutil.copy(RUNS / "nanogpt" / name / "train.log", tmp_path / f"{name}.log")
    logs = lossdoc.read(tmp_path)
    assert sorted(r for s in logs.sources for r in s.runs) == ["healthy", "healthy_seed2"]
    assert not any(s.meta.get("merged_sources") for s in logs.sources)


def test_a_series_only_the_second_file_logs_is_added(tmp_path: Path) -> None:
    steps = range(10, 110, 10)
    losses = [3.0 - 0.0213 * i for i in range(10)]
    (tmp_path / "a.csv").write_text("step,loss\n" + "".join(f"{s},{v!r}\n" for s, v in zip(steps, losses)))
    (tmp_path / "b.csv").write_text("step,loss,grad_norm\n" + "".join(
        f"{s},{v:.4f},{1.5 + i / 10:.2f}\n" for i, (s, v) in enumerate(zip(steps, losses))))
    logs = lossdoc.read([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert len(logs.sources) == 1, [(s.path, s.format) for s in logs.sources]
    series = series_from_blocks(logs.sources[0].blocks)
    assert series[("train", "loss")].values.tolist() == losses  # the first file's values, once
    assert series[("train", "grad_norm")].values.size == 10  # only the second file logs it
