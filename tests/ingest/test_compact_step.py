"""A Lightning metrics.csv whose steps all fit in Int32 is held with an Int32 step column inside its
source's blocks (``lossdoc.model.COMPACT_STEP``: 40 MB instead of 80 MB at 10^7 rows); every table handed
out gives Int64 steps, the same numbers. Steps past 2**31 - 1 (token counts) keep Int64, also when they
pass it only in a later piece of the streamed read, and are reported exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lossdoc
from lossdoc.config import Config
from lossdoc.ingest import read
from lossdoc.ingest.formats import lightning_csv
from lossdoc.model import COMPACT_STEP, SCHEMA, join_blocks, validate, wide_columns


def _lightning(path: Path, n: int, every: int, nan_at: int | None = None) -> Path:
    """A version_0/ directory whose metrics.csv logs ``n`` steps ``every`` apart (> 1 MB from ~40,000 rows:
    several pieces of the streamed read)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "hparams.yaml").write_text("lr: 0.001\n", encoding="utf-8")
    rows = "".join(f"{i * 3 // n},{i * every},{'nan' if i == nan_at else f'{3.0 / math.sqrt(1 + i):.6f}'},"
                   f"{1e-3:.6e}\n" for i in range(n))
    (path / "metrics.csv").write_text("epoch,step,train_loss_step,lr-Adam\n" + rows, encoding="utf-8")
    return path


def test_steps_that_fit_are_held_as_int32_and_handed_out_as_int64(tmp_path: Path) -> None:
    run = _lightning(tmp_path / "version_0", 100, 10)
    logs = read(run)
    src = logs.sources[0]
    assert [b.schema["step"] for b in src.blocks] == [pl.Int32, pl.Int32]
    for frame in (logs.frame, src.frame, join_blocks(src.blocks), wide_columns(src.blocks[0])):
        assert frame.schema["step"] == pl.Int64
    validate(logs.frame)
    assert logs.frame.schema == pl.Schema(SCHEMA)
    assert logs.frame.get_column("step").to_list()[:3] == [0, 10, 20]
    report = lossdoc.analyze(run, config=Config())
    (r,) = report.runs
    assert r.frame is None or r.frame.schema["step"] == pl.Int64
    assert {s.steps.dtype for s in (r.data or {}).values()} == {np.dtype(np.int32)}


@pytest.mark.parametrize("every", [40_000, 10])
def test_token_count_steps_past_int32_are_read_and_reported_exactly(tmp_path: Path, every: int,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    n, nan_at = 100_000, 90_000  # with 40,000 tokens a step, 2**31 is passed at row 53,688: a later piece
    run = _lightning(tmp_path / "version_0", n, every, nan_at=nan_at)
    assert (run / "metrics.csv").stat().st_size > 2 * lightning_csv._PIECE
    src = read(run).sources[0]
    big = (n - 1) * every > 2**31 - 1
    assert all((b.schema["step"] == pl.Int64) == big for b in src.blocks)
    assert all(b.schema["step"] in COMPACT_STEP for b in src.blocks) != big
    steps = src.frame.filter(pl.col("name") == "train_loss_step").get_column("step")
    assert steps.dtype == pl.Int64 and steps.to_list() == [i * every for i in range(n)]
    report = json.loads(lossdoc.analyze(run, config=Config()).to_json())
    (r,) = report["runs"]
    loss = next(s for s in r["series"] if s["name"] == "train_loss_step")
    assert (loss["first_step"], loss["last_step"], loss["non_finite"]) == (0, (n - 1) * every, 1)
    nan = [f for f in r["findings"] if f["category"] == "non_finite"]
    assert nan and nan[0]["start_step"] == nan_at * every
    # the same rows as the string path reads (the typed reader turned off)
    monkeypatch.setattr(lightning_csv, "_parse_typed", lambda *a, **k: None)
    slow = read(run).sources[0]
    assert slow.frame.sort("name", "step").equals(src.frame.sort("name", "step"))
