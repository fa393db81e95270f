"""XGBoost evaluation logs.

Sample lines follow ``dmlc/xgboost`` ``python-package/xgboost/callback.py``
``EvaluationMonitor._fmt_metric``: ``msg = f"\\t{data}-{metric}:{score:.5f}"`` (``+{std:.5f}``
for ``xgb.cv``), each line starting with ``f"[{epoch}]"`` (0-based round); the sklearn API
names its sets ``validation_0``, ``validation_1`` (FORMATS.md 13a).
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

DIR = SAMPLE_LOGS / "xgboost"


@pytest.mark.parametrize("case", ["train_eval", "cv", "sklearn_two_sets"])
def test_golden(case: str) -> None:
    src = read_path(DIR / f"{case}.log")
    assert src.format == "xgboost"
    assert_golden(src.frame, f"xgboost/{case}.csv")


def test_rounds_are_zero_based_steps_and_sets_become_splits() -> None:
    src = read_path(DIR / "train_eval.log")
    assert series(src, "train", "loss")[0] == (0, 0.61532)
    assert series(src, "val", "loss")[-1] == (4, 0.45902)
    assert keys(src) == {("train", "loss", "train-logloss"), ("val", "loss", "eval-logloss")}
    inferred = " ".join(n.message for n in src.notes if n.kind == "inferred")
    assert "'eval' -> val" in inferred and "'logloss' (the first loss-like one) read as metric loss" in inferred


def test_cv_std_is_its_own_series() -> None:
    src = read_path(DIR / "cv.log")
    assert series(src, "val", "loss")[0] == (0, 17.63839)  # xgb.cv's "test" fold is held-out data
    assert series(src, "val", "loss_std")[0] == (0, 0.12125)
    assert series(src, "train", "loss_std")[2] == (2, 0.02054)


def test_second_positional_set_is_not_merged_into_val() -> None:
    src = read_path(DIR / "sklearn_two_sets.log")
    assert series(src, "val", "loss")[0] == (0, 0.66123)
    assert series(src, "other", "validation_1_loss")[0] == (0, 0.67020)


def test_torn_last_line_dropped_and_noted() -> None:
    data = (DIR / "train_eval.log").read_bytes()
    src = read_data(torn(data), "x.log")
    assert [s for s, _ in series(src, "train", "loss")] == [0, 1, 2, 3]
    assert "torn_tail" in note_kinds(src)


def test_nan_and_inf_kept_crlf_tolerated() -> None:
    data = b"[0]\ttrain-rmse:nan\teval-rmse:inf\n[1]\ttrain-rmse:1.50000\teval-rmse:-inf\n"
    src = read_data(crlf(data), "x.log")
    assert math.isnan(series(src, "train", "loss")[0][1])
    assert series(src, "val", "loss") == [(0, math.inf), (1, -math.inf)]


def test_malformed_item_skipped_with_note() -> None:
    src = read_data(b"[0]\ttrain-logloss:0.6\teval-logloss:0.7\n[1]\ttrain-logloss:0.5\tgarbage\n", "x.log")
    assert series(src, "val", "loss") == [(0, 0.7)]
    assert "skipped_lines" in note_kinds(src)


def test_legacy_best_iteration_repeat_is_not_a_point() -> None:
    data = (
        b"Will train until eval-logloss hasn't improved in 2 rounds.\n"
        b"[0]\ttrain-logloss:0.6\teval-logloss:0.7\n[1]\ttrain-logloss:0.5\teval-logloss:0.65\n"
        b"[2]\ttrain-logloss:0.4\teval-logloss:0.66\n[3]\ttrain-logloss:0.35\teval-logloss:0.67\n"
        b"Stopping. Best iteration:\n[1]\ttrain-logloss:0.5\teval-logloss:0.65\n"
    )
    src = read_data(data, "x.log")
    assert [s for s, _ in series(src, "val", "loss")] == [0, 1, 2, 3]
    assert "restart" not in note_kinds(src)


def test_scores_keep_their_names_beside_the_loss() -> None:
    src = read_data(b"[0]\ttrain-auc:0.81000\ttrain-logloss:0.60000\teval-auc:0.79000\teval-logloss:0.61000\n", "x.log")
    assert keys(src) == {
        ("train", "auc", "train-auc"),
        ("train", "loss", "train-logloss"),
        ("val", "auc", "eval-auc"),
        ("val", "loss", "eval-logloss"),
    }


def test_detected_as_xgboost_not_lightgbm() -> None:
    assert choose(from_bytes((DIR / "cv.log").read_bytes(), name="cv.log")).name == "xgboost"
