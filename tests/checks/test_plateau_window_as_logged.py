"""PL002 on a long series: the window it prints is the logged steps and the mean of the logged values."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_long_series_window_ends_at_the_last_logged_step() -> None:
    # 1,000 steps (judged on 400 bin means at their mean steps): the loss falls from 3 to 1 over the first
    # 300 steps, then sits at 1 +- 0.01; the last logged step is 1,000 and the window's level is the mean
    # of the logged values in it
    rng = np.random.default_rng(3)
    steps = np.arange(1, 1001)
    loss = np.where(steps <= 300, 3.0 - 2.0 * (steps - 1) / 299, 1.0) + rng.normal(0, 0.01, steps.size)
    text = "".join(f"step {s} loss {v:.4f}\n" for s, v in zip(steps, loss))
    logset = LogSet([read_input(from_bytes(text.encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("PL002",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    lo = int(f.message.split("(steps ")[1].split("-")[0].replace(",", ""))
    assert f"(steps {lo:,}-1,000)" in f.message
    assert lo in steps
    level = float(np.mean(np.round(loss, 4)[steps >= lo]))
    assert f"level {level:.4g} (mean over the window)" in f.message
