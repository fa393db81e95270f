"""PL002's effect-size route: a noisy per-step loss whose equivalence test is inconclusive is reported as
converged only after real progress, and the note says which route decided.

Modelled on the real-run corpus's Adam run at LR 1 (benchmarks/realruns tensorboard lr_adam_digits lr1): the
loss starts at ln(10) = 2.30, blows up to 10^3-10^4 in the first steps and then sits at ~2.35 for the rest of
the run. Its first bin mean (600 points in 400 bins) holds the blow-up, so the loss "fell" 99.9% from where
the binned series starts; it never got below its first logged value. That is a run stuck at a trivial level,
not one that converged after real progress, and the effect-size route (whose size gate a flat stuck loss
passes) must not call it "converged early".
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.model import make_frame
from lossdoc.testing import synth_logset


def _run(values: np.ndarray) -> list:
    frame = make_frame({"run": "r", "split": "train", "metric": "loss", "name": "loss",
                        "step": np.arange(1, values.size + 1, dtype=np.int64), "value": values})
    runs, _ = run_checks(synth_logset(frame=pl.DataFrame(frame)), Config(select=("PL002",)), summaries=False)
    return [f for r in runs for f in r.findings]


def _stuck_after_blow_up(first: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    y = 2.35 * (1 + 0.12 * rng.standard_normal(600))
    y[0] = first
    y[1:6] = [40.0, 900.0, 1.2e4, 3e3, 150.0]  # the blow-up at LR 1, inside the first bin of 400
    return y


def test_stuck_after_an_early_blow_up_is_not_converged() -> None:
    fs = _run(_stuck_after_blow_up(first=2.297))
    assert not fs, [f.message for f in fs]


def test_a_noisy_tail_after_real_progress_is_converged_by_effect_size() -> None:
    # the same noise on a loss that came down from 4.6 to 2.35 over the first ~40% of the run and then sat
    # there: the equivalence test (+-2% of the level) is inconclusive on every window under 75% of the run
    # and the flat part is shorter than that; the effect-size route reports it
    rng = np.random.default_rng(3)
    t = np.arange(600)
    fs = _run((2.35 + 2.25 * np.exp(-t / 60)) * (1 + 0.12 * rng.standard_normal(600)))
    assert len(fs) == 1, [f.message for f in fs]
    f = fs[0]
    assert f.evidence.extra["route"] == "effect-size"
    assert f.evidence.method == "theil-sen-change+hac-noninferiority"
    # the statistic is the Theil-Sen change, within its threshold (2% of the level), and the bound
    # rules out an improvement beyond 5% of the level
    assert abs(f.evidence.statistic) <= f.evidence.threshold
    assert f.evidence.extra["bound"] > -f.evidence.extra["margin_change"]
    assert f.evidence.pvalue < 0.05
    assert "effect-size route" in f.message
