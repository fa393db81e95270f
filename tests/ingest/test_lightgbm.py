"""LightGBM evaluation logs.

Sample lines follow ``microsoft/LightGBM`` ``python-package/lightgbm/callback.py``:
``_format_eval_result`` -> ``f"{value[0]}'s {value[1]}: {value[2]:g}"`` (cv: ``... + {std:g}``,
dataset ``cv_agg`` and ``valid <metric>`` in 4.x), ``_LogEvaluationCallback`` joins them with
``\\t`` after ``f"[{env.iteration + 1}]"``; ``early_stopping`` prints ``"Training until
validation scores don't improve for {n} rounds"`` and ``"Early stopping, best iteration is:"``
followed by the best line again (FORMATS.md 13b).
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

DIR = SAMPLE_LOGS / "lightgbm"


@pytest.mark.parametrize("case", ["early_stopping", "cv"])
def test_golden(case: str) -> None:
    src = read_path(DIR / f"{case}.log")
    assert src.format == "lightgbm"
    assert_golden(src.frame, f"lightgbm/{case}.csv")


def test_one_based_iterations_and_best_line_not_repeated() -> None:
    src = read_path(DIR / "early_stopping.log")
    assert series(src, "train", "loss") == [(1, 0.812345), (2, 0.701234), (3, 0.612001), (4, 0.540077)]
    assert [s for s, _ in series(src, "val", "loss")] == [1, 2, 3, 4]
    assert keys(src) == {("train", "loss", "training's l2"), ("val", "loss", "valid_1's l2")}
    assert "restart" not in note_kinds(src) and "duplicate_steps" not in note_kinds(src)
    assert any("best iteration 2" in n.message for n in src.notes)


def test_cv_mean_and_std() -> None:
    src = read_path(DIR / "cv.log")
    assert series(src, "val", "loss")[0] == (1, 0.652431)
    assert series(src, "val", "loss_std")[2] == (3, 0.00433)


def test_broken_variants() -> None:
    data = (DIR / "early_stopping.log").read_bytes()
    src = read_data(torn(data, 30), "x.log")  # cut inside the last (repeated best) line
    assert "torn_tail" in note_kinds(src)
    assert len(series(src, "train", "loss")) == 4
    src = read_data(
        crlf(b"[1]\ttraining's l2: nan\tvalid_0's l2: inf\n[2]\ttraining's l2: 0.5\tvalid_0's l2: 0.6\n"), "x.log"
    )
    assert math.isnan(series(src, "train", "loss")[0][1]) and series(src, "val", "loss")[0] == (1, math.inf)


def test_detected_as_lightgbm_with_info_lines() -> None:
    assert choose(from_bytes((DIR / "early_stopping.log").read_bytes(), name="train.log")).name == "lightgbm"
