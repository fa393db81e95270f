"""scikit-learn MLP ``verbose=True`` output.

Sample lines follow ``sklearn/neural_network/_multilayer_perceptron.py``: ``_fit_stochastic``
prints ``"Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_)`` and, with early stopping,
``_update_no_improvement_count`` prints ``"Validation score: %f" % self.validation_scores_[-1]``
right after it (FORMATS.md 13c).
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

PATH = SAMPLE_LOGS / "sklearn_mlp" / "early_stopping.log"


def test_golden() -> None:
    src = read_path(PATH)
    assert src.format == "sklearn-mlp"
    assert_golden(src.frame, "sklearn_mlp/early_stopping.csv")


def test_validation_score_is_a_score_not_a_loss() -> None:
    src = read_path(PATH)
    assert keys(src) == {("train", "loss", "loss"), ("val", "validation_score", "Validation score")}
    assert series(src, "val", "validation_score") == [(1, 0.8125), (2, 0.84375), (3, 0.840625)]
    assert series(src, "val", "loss") == []
    assert series(src, "train", "loss")[0] == (1, 0.69314718)


def test_broken_variants() -> None:
    src = read_data(torn(PATH.read_bytes(), 40), "x.log")
    assert "torn_tail" in note_kinds(src)
    src = read_data(crlf(b"Iteration 1, loss = nan\nIteration 2, loss = 0.50000000\n"), "x.log")
    assert math.isnan(series(src, "train", "loss")[0][1]) and series(src, "train", "loss")[1] == (2, 0.5)


def test_detected() -> None:
    assert choose(from_bytes(PATH.read_bytes(), name="stdout.txt")).name == "sklearn-mlp"
