"""Oscillation (OS001): swings around the trend that are large relative to the trend itself.

On the down-sampled series (bin means, which average minibatch noise away, so what is left
is structure, not sampling noise), in log space when the loss is positive (swings measured
as relative changes). After the first ``skip-fraction`` of the run (the initial fast drop), the
trend is the best non-increasing fit (isotonic regression: a step-decay kink is trend, not
oscillation) and the residuals are tested three ways:

* size: residual root-mean-square / the trend's total change >= ``ratio``;
* amplitude: residual root-mean-square >= ``min-amplitude`` (relative, e.g. 2% of the loss);
* structure: a Wald-Wolfowitz runs test on the residual signs (too many runs = alternation,
  too few = slow swings) with p < ``alpha``; white noise passes neither side;
* symmetry: downward excursions at least ``min-symmetry`` x the upward ones (90th percentiles),
  since a burst of spikes only goes up;
* steepness: the steepest rise of the filtered curve at most ``max-steepness`` x its steepest fall
  (a jump and a slow recovery, repeated, is a run of spikes);
* repetition: at least ``min-swings`` alternating excursions beyond half the r.m.s. (a monotone
  rise past the minimum is divergence or overfitting, not oscillation).

A validation loss is first judged by the size of its swings alone (:func:`_val_swings`): it carries
no batch-sampling noise, so most changes between evaluations being 1.5x or more, alternating in
direction, is oscillation on a log too short for the runs test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
from scipy import stats as _st
from scipy.optimize import isotonic_regression

from lossdoc.analysis.smoothing import rolling_median
from lossdoc.checks.detectors._common import TINY, fmt_num, fmt_step, lr_advice, lr_text, range_scale
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence


def runs_test(r: np.ndarray) -> tuple[int, float, float]:
    """(number of sign runs, z, two-sided p) of the Wald-Wolfowitz runs test on ``sign(r)``."""
    sgn = r[r != 0] > 0
    n1, n2 = int(sgn.sum()), int((~sgn).sum())
    n = n1 + n2
    if n1 == 0 or n2 == 0 or n < 3:
        return 1, 0.0, 1.0
    runs = 1 + int(np.sum(sgn[1:] != sgn[:-1]))
    mu = 2.0 * n1 * n2 / n + 1
    var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n) / (n * n * (n - 1))
    if var <= 0:
        return runs, 0.0, 1.0
    z = (runs - mu) / math.sqrt(var)
    return runs, float(z), float(2 * _st.norm.sf(abs(z)))


def _val_swings(ctx: RunContext, s: Series, p: SimpleNamespace) -> Hit | None:
    """A validation loss that swings up and down by a large factor between evaluations, again and again.

    A validation loss is a mean over the whole validation set: it carries no batch-sampling noise, so
    consecutive evaluations that differ by ``val-swing`` (log ratio, 0.4 = 1.5x) are the model moving.
    Swings are the norm rather than events when at least half of the changes after the first
    ``skip-fraction`` are that large and they alternate in direction ``min-swings`` times (a monotone
    fall or rise in big steps is one swing; one spike and its recovery are two). An effect-size
    route, with no test to pass: it judges 9-epoch logs the runs test cannot."""
    x, y, _ = ctx.downsampled(s, 200)
    if x.size < p.min_val_points or not np.all(np.isfinite(y)) or not np.all(y > 0):
        return None
    cut = int(p.skip_fraction * x.size)
    xa, z = x[cut:], np.log(y[cut:])
    d = np.diff(z)
    big = np.abs(d) >= p.val_swing
    nbig = int(big.sum())
    if nbig < p.min_swings or nbig < 0.5 * d.size:
        return None
    sg = np.sign(d[big])
    swings = 1 + int(np.sum(sg[1:] != sg[:-1]))
    if swings < p.min_swings:
        return None
    typical = float(np.exp(np.median(np.abs(d[big]))))
    start = int(xa[0])
    # the range as logged (the changes may be between bin means of a long series)
    rst, rv = s.finite()
    after = rv[rst >= start]
    lo_v, hi_v = float(np.min(after)), float(np.max(after))
    between = ("between evaluations" if rv.size <= x.size else
               f"between consecutive means of about {rv.size / x.size:.0f} evaluations")
    msg = (f"{s.name} swings up and down {between} after step {start:,}: {nbig} of {d.size} changes "
           f"are {math.exp(p.val_swing):.1f}x or more (median of those {typical:.1f}x) in {swings} alternating "
           f"swings, between {fmt_num(lo_v)} and {fmt_num(hi_v)} as logged; a validation loss is a mean over the "
           f"whole validation set, so swings this size are the model moving, not sampling noise{lr_text(ctx, start)}")
    return Hit(
        message=msg,
        evidence=Evidence("validation-swings", typical, float(math.exp(p.val_swing)), None, (start, int(xa[-1])),
                          {"big_changes": nbig, "changes": int(d.size), "swings": swings, "low": lo_v, "high": hi_v}),
        start_step=start, end_step=int(xa[-1]),
        values={"step": fmt_step(start), "swing": f"{typical:.1f}x (up or down) between evaluations",
                "lr_advice": lr_advice(ctx, start, 3.0, 2.0)},
    )


def oscillation(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    if s.split == "val" and getattr(p, "val_swing", None) is not None:
        hit = _val_swings(ctx, s, p)
        if hit is not None:
            yield hit
            return
    x, y, _ = ctx.downsampled(s, 200)
    if x.size < p.min_points:
        return
    cut = int(p.skip_fraction * x.size)
    xa, ya = x[cut:], y[cut:]
    if xa.size < p.min_points:
        return
    positive = bool(np.all(ya > 0))
    z = np.log(ya) if positive else ya
    # a centred 3-point running median removes isolated spikes (SP001's business) but keeps swings
    # that last several points
    zf = rolling_median(z, 3, trailing=False)
    # the trend a training curve is expected to follow: the best non-increasing fit (isotonic
    # regression, pool-adjacent-violators); an LR step-decay kink is monotone, so it is trend
    trend = isotonic_regression(zf, increasing=False).x
    r = zf - trend
    r_raw = z - trend  # the runs test needs the unfiltered residuals: a running median correlates them
    # root-mean-square, not MAD: around an isotonic fit most residuals are exactly 0 and the swings
    # are the minority that matters
    rmax = float(np.max(np.abs(r))) if r.size else 0.0
    amp = rmax * float(np.sqrt(np.mean((r / rmax) ** 2))) if rmax > 0 and np.isfinite(rmax) else 0.0
    k = max(2, z.size // 10)
    drop = abs(float(np.mean(trend[:k]) - np.mean(trend[-k:])))
    ratio = amp / max(drop, TINY)
    level_scale = 1.0 if positive else max(float(np.median(np.abs(ya))), TINY)
    rel_amp = amp / level_scale
    # swings go both ways; bursts of spikes only go up: compare the 90th-percentile excursions
    pos = float(np.quantile(r[r > 0], 0.9)) if (r > 0).any() else 0.0
    neg = float(-np.quantile(r[r < 0], 0.1)) if (r < 0).any() else 0.0
    symmetry = neg / pos if pos > 0 else 0.0
    if symmetry < p.min_symmetry:
        return
    # ... and in steepness: a swing comes down about as steeply as it went up, while a jump that damages
    # the model (a corrupted batch) goes up in one step and recovers over many (SP001's business)
    dz = np.diff(zf)
    steep = float(np.max(dz)) / max(float(-np.min(dz)), TINY) if dz.size and np.min(dz) < 0 else math.inf
    if steep > p.max_steepness:
        return
    big = r[np.abs(r) > 0.5 * amp]
    swings = 1 + int(np.sum(np.sign(big[1:]) != np.sign(big[:-1]))) if big.size else 0
    if swings < p.min_swings:  # a monotone rise (divergence, overfitting) is one swing, not oscillation
        return
    runs, zr, pr = runs_test(r_raw)
    ctx.decide(pr)
    # the swings in loss units against the range the run covered: in log space a classifier's per-batch
    # loss near zero "oscillates" by 70% of its level while moving 1% of the range it covered
    lin = np.exp(trend) * (np.exp(r) - 1) if positive else r
    amp_range = float(np.sqrt(np.mean(lin ** 2))) / range_scale(ctx, s, float(np.median(ya)))
    # (validation losses are means over the whole validation set, free of batch sampling noise: their
    # swings are structure whatever their size against the range)
    per_batch = s.split == "train"
    if not (ratio >= p.ratio and rel_amp >= p.min_amplitude and pr < p.alpha
            and (not per_batch or amp_range >= getattr(p, "min_amplitude_range", 0.05))):
        return
    kind = "alternating" if zr > 0 else "slow"
    # (a flat trend makes the ratio astronomically large: say so instead of printing 10^299)
    trend_txt = f", {ratio:.2f}x the trend's change" if ratio < 1e3 else " while the trend stayed flat"
    swing = (math.exp(2 * amp) - 1) if positive else 2 * amp
    start = int(xa[0])
    msg = (f"{s.name} oscillates around its trend: residual r.m.s. {rel_amp:.1%} of the loss ({amp_range:.0%} of the range "
           f"the run covered), {swings} swings{trend_txt} after step {start:,} ({kind} swings: {runs} sign runs, runs-test z={zr:.1f}, p={pr:.2g})"
           f"{lr_text(ctx, start)}")
    yield Hit(
        message=msg,
        evidence=Evidence("residual-to-trend-ratio", ratio, float(p.ratio), pr, (start, int(xa[-1])),
                          {"relative_amplitude": rel_amp, "amplitude_of_range": amp_range, "symmetry": symmetry, "typical_swing": swing, "runs": runs, "runs_z": zr,
                           "trend_change": drop}),
        start_step=start, end_step=int(xa[-1]), alpha=p.alpha,
        values={"step": fmt_step(start), "swing": f"{swing:.0%}", "lr_advice": lr_advice(ctx, start, 3.0, 2.0)},
    )


DETECTORS = {"oscillation": oscillation}
