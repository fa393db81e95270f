"""A whole-number epoch column is held compactly inside a source's blocks (UInt8/16/32; a Lightning
metrics.csv of 10^7 rows: 10 MB instead of 80 MB) and read back as the same Float64 numbers by every
table handed out; any other epoch column (fractions, negatives, -0.0, NaN, too large) stays Float64."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lossdoc
from lossdoc.ingest import read
from lossdoc.model import COMPACT_EPOCH, SCHEMA, compact_epoch, float_epoch, join_blocks, validate


@pytest.mark.parametrize(("values", "dtype"), [
    ([0.0, 0.0, 1.0, 2.0, None, 255.0], pl.UInt8),
    ([0.0, 256.0], pl.UInt16),
    ([3.0, 65536.0], pl.UInt32),
    ([0.0, 2.0**32 - 1], pl.UInt32),
])
def test_whole_epochs_are_held_compactly_and_read_back_exactly(values: list[float | None], dtype: pl.DataType) -> None:
    s = pl.Series("epoch", values, dtype=pl.Float64)
    got = compact_epoch(s)
    assert got.dtype == dtype
    back = got.cast(pl.Float64)
    assert back.to_list() == s.to_list()  # nulls where they were, the same numbers
    np.testing.assert_array_equal(back.to_numpy(), s.to_numpy())
    assert compact_epoch(got.cast(pl.UInt32)).dtype == dtype  # a wider compact column is narrowed


@pytest.mark.parametrize("values", [
    [0.0, 0.5, 1.0],  # fractional epochs (HF's 0.0128)
    [0.0, -1.0],
    [1.0, -0.0],  # -0.0 would come back as 0.0
    [0.0, math.nan],
    [0.0, math.inf],
    [0.0, 2.0**32],
    [0.0, 1e300],
])
def test_other_epochs_stay_float64(values: list[float]) -> None:
    s = pl.Series("epoch", values, dtype=pl.Float64)
    got = compact_epoch(s)
    assert got.dtype == pl.Float64
    assert got.to_list() == s.to_list() or str(got.to_list()) == str(s.to_list())


def _lightning(path: Path, epochs: list[str], n: int = 40) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "hparams.yaml").write_text("lr: 0.001\n", encoding="utf-8")
    rows = "".join(f"{epochs[i * len(epochs) // n]},{i},{2.0 - i / 100:.4f},{1e-3:.6e}\n" for i in range(n))
    (path / "metrics.csv").write_text("epoch,step,train_loss_step,lr-Adam\n" + rows, encoding="utf-8")
    return path


def test_lightning_blocks_hold_a_compact_epoch_every_table_gives_float64(tmp_path: Path) -> None:
    run = _lightning(tmp_path / "version_0", ["0", "1", "2", "3"])
    logs = read(run)
    src = logs.sources[0]
    assert [b.schema["epoch"] for b in src.blocks] == [pl.UInt8, pl.UInt8]
    for frame in (logs.frame, src.frame, join_blocks(src.blocks), float_epoch(src.blocks[0])):
        assert frame.schema["epoch"] == pl.Float64
    validate(logs.frame)
    assert logs.frame.schema == pl.Schema(SCHEMA)
    assert logs.frame.get_column("epoch").to_list()[:11] == [0.0] * 10 + [1.0]
    assert sorted(set(logs.to_pandas()["epoch"])) == [0.0, 1.0, 2.0, 3.0]
    report = lossdoc.analyze(run)
    assert all(r.frame is None or r.frame.schema["epoch"] == pl.Float64 for r in report.runs)


def test_one_series_run_frame_has_float64_epoch(tmp_path: Path) -> None:
    path = tmp_path / "version_0"
    path.mkdir()
    (path / "hparams.yaml").write_text("lr: 0.001\n", encoding="utf-8")
    (path / "metrics.csv").write_text("epoch,step,train_loss\n" + "".join(f"{i // 10},{i},{2 - i / 100}\n"
                                                                        for i in range(60)), encoding="utf-8")
    assert read(path).sources[0].blocks[0].schema["epoch"] in COMPACT_EPOCH
    (run,) = lossdoc.analyze(path).runs
    assert run.frame is not None and run.frame.schema["epoch"] == pl.Float64
    assert run.frame.get_column("epoch").to_list() == [float(i // 10) for i in range(60)]


@pytest.mark.parametrize("odd", ["0.5", "-1", "-0.0", "70000", "4294967296", "nan"])
def test_lightning_file_with_another_epoch_keeps_float64_exactly(tmp_path: Path, odd: str) -> None:
    run = _lightning(tmp_path / "version_0", ["0", "1", odd, "3"])
    src = read(run).sources[0]
    assert all(b.schema["epoch"] == pl.Float64 for b in src.blocks)
    got = src.frame.get_column("epoch").to_list()
    want = float(odd)
    at = [g for g in got if not (g in (0.0, 1.0, 3.0) and str(g) != "-0.0")]
    assert at and all(str(g) == str(want) for g in at)
