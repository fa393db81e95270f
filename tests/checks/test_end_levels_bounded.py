"""GP001/GP003's end levels come from Theil-Sen lines, which take every pair of points at once: through the
last fifth of a validation loss logged at every one of 100,000 steps that was 2*10^8 slopes, 87 s and 10 GB
for one log. The lines go through at most the last 1,000 evaluations, and the message says how many."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.detectors.generalization import MAX_END_EVALS, end_k
from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_the_fit_window_is_the_last_fifth_up_to_1000_evaluations() -> None:
    assert end_k(10) == 3 and end_k(50) == 10 and end_k(4_000) == 800
    assert end_k(6_000) == MAX_END_EVALS == 1_000 and end_k(10**6) == 1_000


def test_a_per_step_validation_column_is_judged_on_its_last_1000_evaluations() -> None:
    # train and validation logged at each of 6,000 steps, validation 30% above training at the end
    n = 6_000
    rng = np.random.default_rng(0)
    s = np.arange(1, n + 1)
    train = 1.0 + 2.0 * np.exp(-s / 1_000) + rng.normal(0, 0.02, n)
    val = 1.3 + 2.0 * np.exp(-s / 1_000) + rng.normal(0, 0.02, n)
    text = "step,train_loss,val_loss\n" + "".join(f"{a},{b:.5f},{c:.5f}\n" for a, b, c in zip(s, train, val))
    logset = LogSet([read_input(from_bytes(text.encode(), "metrics.csv"), "csv")])
    runs, _ = run_checks(logset, Config(select=("GP001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings if f.rule == "GP001"]
    assert "Theil-Sen fit lines through the last 1,000 evaluations" in f.message
    # the levels are still the end of the run's: about 1.30 vs 1.00 (30% above)
    assert "30% above the training loss" in f.message or "29% above the training loss" in f.message \
        or "31% above the training loss" in f.message
