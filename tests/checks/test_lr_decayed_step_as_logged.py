"""LR003 on a long series: the step it names is the step the LR was last logged at, not a bin-mean step."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_lr_decayed_names_the_last_logged_step() -> None:
    # 1,000 epochs (judged on 400 bin means at their mean steps): a cosine LR from 1e-3 to 1e-6 while the
    # loss still falls 16% of the range it covered over the last 20%; the log ends at epoch 999
    rng = np.random.default_rng(5)
    rows = ["epoch,lr,loss"]
    for i in range(1000):
        lr = 1e-6 + (1e-3 - 1e-6) * 0.5 * (1 + math.cos(math.pi * i / 999))
        rows.append(f"{i},{lr:.6g},{2.0 * math.exp(-i / 2000) + 0.5 + rng.normal(0, 0.002):.5f}")
    logset = LogSet([read_input(from_bytes(("\n".join(rows) + "\n").encode(), "history.csv"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("LR003",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert "The LR reached 1e-6 by step 999 while the loss still fell" in f.recommendation


def test_lr_decayed_window_is_logged_steps() -> None:
    # an HF-style log every 5 steps from 5 to 300 (realruns hf/lr_char/lr1_seed0: the window "241-300" began
    # at 80% of the run, a step never logged); a linear LR decay to 0.3% while the loss still falls
    rows = []
    for step in range(5, 301, 5):
        lr = 1e-3 * max(0.003, 1 - step / 300)
        rows.append(f"step {step} loss {2.0 * math.exp(-step / 400) + 0.5:.5f} lr {lr:.6g}")
    logset = LogSet([read_input(from_bytes(("\n".join(rows) + "\n").encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("LR003",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert f.start_step % 5 == 0 and f.end_step == 300
    assert tuple(f.evidence.window) == (f.start_step, f.end_step)
