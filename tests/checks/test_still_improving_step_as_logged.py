"""SI001 on a long series: 'the log ends at step N' is the last logged step, not a bin-mean step."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_still_improving_names_the_last_logged_step() -> None:
    # 1,000 epochs (judged on 400 bin means at their mean steps), a loss still falling steadily at the end
    rng = np.random.default_rng(7)
    rows = ["epoch,loss"] + [f"{i},{2.0 * math.exp(-i / 1500) + 0.3 + rng.normal(0, 0.002):.5f}" for i in range(1000)]
    logset = LogSet([read_input(from_bytes(("\n".join(rows) + "\n").encode(), "history.csv"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("SI001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert "was still falling when the log ends at step 999 (" in f.message
    assert f.recommendation.startswith("Still improving at step 999:")
