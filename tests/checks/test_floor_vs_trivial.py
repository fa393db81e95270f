"""A loss that fell a little and levelled off may sit at its floor -- unless that level is a trivial predictor's.

UF001 ("fell only x%" / stuck high) and PL001 ("stuck") give a note instead of a warning when the loss fell
clearly and then levelled off with no validation loss near its level: "fell only 21%" is relative to a level that
may include an irreducible part (a regulariser, an entropy). That reading must not apply at ln(C), the loss of
predicting every class equally, which the log itself shows here (the first logged loss is within 4% of ln(10)):
there the loss is stuck at a trivial solution, and both stay warnings; no "converged early" note replaces them.
"""

from __future__ import annotations

import math

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def _log(level: float) -> str:
    rng = np.random.default_rng(3)
    v = level + 0.09 * np.exp(-np.arange(1, 201) / 8) + rng.normal(0.0, 0.0015, 200)
    return "".join(f"Iteration {i}, loss = {x:.8f}\n" for i, x in enumerate(v, start=1))


def _findings(text: str) -> list:
    ls = LogSet([read_input(from_bytes(text.encode(), "train.log"), None)])
    runs, _ = run_checks(ls, Config(), summaries=False)
    return [f for r in runs for f in r.findings]


def test_levelled_off_at_ln_c_is_stuck_not_a_floor() -> None:
    fs = _findings(_log(math.log(10)))
    by_rule = {f.rule: f for f in fs}
    assert by_rule["UF001"].severity.name == "WARNING" and "floor" not in by_rule["UF001"].message
    assert by_rule["PL001"].severity.name == "WARNING" and "flat at 2.30" in by_rule["PL001"].message
    assert "PL002" not in by_rule


def test_the_same_shape_away_from_ln_c_levelled_off() -> None:
    """The same curve 20% above ln(10) (no trivial level nearby, no validation loss): a converged note."""
    fs = _findings(_log(1.2 * math.log(10)))
    assert not [f for f in fs if f.rule == "PL001"]
    assert [f.severity.name for f in fs if f.rule == "PL002"] == ["INFO"]
