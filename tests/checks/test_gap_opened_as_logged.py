"""GP001 says the gap has been above half its end size 'since step N' only when it stayed there; a gap
that got there and fell back below half before opening again is 'first above half that size at step N'
(28 of the 119 GP001 findings on realruns/public-dev/shared/sample_logs said 'since' of such a gap)."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet

TRAIN = [round(0.2 + 1.8 * np.exp(-i / 4), 4) for i in range(20)]


def _message(gap: list[float]) -> str:
    val = [round(t + g, 4) for t, g in zip(TRAIN, gap)]
    text = "epoch,loss,val_loss\n" + "".join(f"{i},{t},{v}\n" for i, (t, v) in enumerate(zip(TRAIN, val)))
    logset = LogSet([read_input(from_bytes(text.encode(), "training.log"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("GP001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    return f.message


def test_a_gap_that_fell_back_is_not_above_half_since_it_first_got_there() -> None:
    # above half the end gap at epochs 4-5, back to 0.1 at 6-7, above again from 8 on
    gap = [0.0, 0.02, 0.03, 0.05, 0.5, 0.55, 0.1, 0.12, 0.5, 0.55, 0.6, 0.62, 0.65, 0.66, 0.68, 0.7, 0.71,
           0.72, 0.73, 0.75]
    msg = _message(gap)
    assert "first above half that size at step 4;" in msg
    assert "since step" not in msg


def test_a_gap_that_stayed_above_half_is_so_since_it_got_there() -> None:
    gap = [0.0, 0.02, 0.03, 0.05, 0.5, 0.55, 0.5, 0.52, 0.5, 0.55, 0.6, 0.62, 0.65, 0.66, 0.68, 0.7, 0.71,
           0.72, 0.73, 0.75]
    assert "above half that size since step 4;" in _message(gap)
