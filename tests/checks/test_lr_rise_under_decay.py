"""A loss that rises while the logged LR decays is not pinned on the LR; a real too-high LR still is.

Simulated training (a one-hidden-layer tanh classifier, plain SGD, warm-up then a linear decay to 0,
the loss logged as the mean of every 10 steps, as a trainer does):

* a data stream sorted by difficulty (label noise growing from 0 to 60% along the run) at a sane LR:
  the loss turns up soon after the peak and keeps rising while the LR falls to 0. DV001 reports the
  rise with the LR at its onset and top as logged and names the likelier causes; no lr_too_high
  finding, no LR advice.
* the same model on shuffled data at an LR far above its stability limit: the loss blows up as the
  LR reaches its peak (and falls back as the LR decays). It must still be attributed to the LR.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.model import conform, make_frame
from lossdoc.testing import synth_logset


def _train(lr_peak: float, *, sorted_stream: bool, steps: int = 1200, warm: int, seed: int = 0,
           batch: int = 16, every: int = 10) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n, c, d, h = steps * batch, 3, 8, 32
    mu = rng.normal(0, 1.5, (c, d))
    yb = rng.integers(0, c, n)
    x = mu[yb] + rng.normal(0, 1.0, (n, d))
    if sorted_stream:  # sorted by difficulty: the share of noisy labels grows along the run
        flip = rng.random(n) < np.linspace(0.0, 0.6, n)
    else:
        flip = rng.random(n) < 0.05
        perm = rng.permutation(n)
        x, yb = x[perm], yb[perm]
    y = np.where(flip, rng.integers(0, c, n), yb)
    w1, b1 = rng.normal(0, 1 / np.sqrt(d), (d, h)), np.zeros(h)
    w2, b2 = rng.normal(0, 1 / np.sqrt(h), (h, c)), np.zeros(c)
    t = np.arange(steps)
    lrs = np.where(t < warm, lr_peak * (t + 1) / warm, lr_peak * (steps - t) / (steps - warm))
    losses = np.empty(steps)
    rows = np.arange(batch)
    for i in range(steps):
        xb, tb = x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
        a = np.tanh(xb @ w1 + b1)
        z = a @ w2 + b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        losses[i] = -np.mean(np.log(p[rows, tb] + 1e-300))
        g = p
        g[rows, tb] -= 1
        g /= batch
        ga = g @ w2.T * (1 - a**2)
        for arr, grad in ((w1, xb.T @ ga), (b1, ga.sum(0)), (w2, a.T @ g), (b2, g.sum(0))):
            arr -= lrs[i] * grad
    step = np.arange(1, steps + 1)[every - 1::every]
    logged = losses.reshape(-1, every).mean(1)
    return pl.concat([
        conform(make_frame({"run": "r", "split": "train", "metric": "loss", "name": "loss", "step": step,
                            "value": logged})),
        conform(make_frame({"run": "r", "split": "train", "metric": "lr", "name": "learning_rate", "step": step,
                            "value": lrs[every - 1::every]})),
    ])


def _findings(frame: pl.DataFrame) -> list:
    runs, _ = run_checks(synth_logset(frame), Config(), summaries=False)
    return [f for r in runs for f in r.findings]


def test_rise_on_a_sorted_stream_while_the_lr_decays_is_not_the_lr() -> None:
    fs = _findings(_train(0.1, sorted_stream=True, warm=60))
    dv = [f for f in fs if f.rule == "DV001"]
    assert dv, "the rise itself is a divergence"
    assert not [f for f in fs if f.category == "lr_too_high"], [f.message for f in fs]
    ev = dv[0].evidence.extra["lr_decayed_rise"]
    # the LRs as logged: the onset soon after the warm-up, the top near the end of the linear decay
    assert ev["lr_onset"] > 0.5 * 0.1 and ev["lr_top"] <= 0.25 * ev["lr_onset"]
    assert "the LR decayed while it rose" in dv[0].message
    rec = dv[0].recommendation
    assert "the data the steps see" in rec and "loss-scale" in rec
    assert "lower the peak LR" not in rec and "raise" not in rec.lower()


# 8x and 16x: far enough above the stability limit that the run blows up at the peak whatever the seed and
# the BLAS build (at 4.0 it sits at the edge: with numpy 2.4.6's OpenBLAS seed 0 only spikes once and recovers,
# so that case measured the floating-point library, not lossdoc)
@pytest.mark.parametrize("lr_peak", [8.0, 16.0])
def test_blowup_at_the_peak_lr_under_the_same_schedule_is_still_the_lr(lr_peak: float) -> None:
    fs = _findings(_train(lr_peak, sorted_stream=False, warm=300))
    cause = [f for f in fs if f.rule == "LR006"]
    assert cause and "confidence high" in cause[0].message, [f.message for f in fs]
    assert any(f.rule == "LR002" for f in fs)
