"""Divergence: a sustained, significant rise after the best point (DV001) and explosions (DV002).

DV001 runs a HAC trend test (OLS slope, Newey-West with AR(1) prewhitening,
``analysis.stats.trend_test``) on the down-sampled loss from its best point (minimum of a
centred running median) to the end, after the last scheduled LR restart when the lr series
shows one. It needs both significance (one-sided p below ``alpha`` after the run's
Benjamini-Hochberg control) and an effect size (the end level at least ``min-rise`` above
the best level), so a flat, noisy converged curve does not count.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from lossdoc.analysis.smoothing import MAD_TO_SD, rolling_median
from lossdoc.checks.detectors._common import (
    RANGE_FLOOR, TINY, fmt_num, fmt_step, lr_advice, lr_text, range_scale, round_lr, smooth_min, tlabel, tname,
)
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence


def lr_restarts(ctx: RunContext) -> list[int]:
    """Steps where the lr series jumps up by more than 2x from below half its peak (SGDR restarts)."""
    if "lr_restarts" not in ctx._cache:
        ctx._cache["lr_restarts"] = _lr_restarts(ctx)
    return ctx._cache["lr_restarts"]


def _lr_restarts(ctx: RunContext) -> list[int]:
    s = ctx.lr()
    if s is None:
        return []
    st, v = s.finite()
    if st.size < 3 or v.max() <= 0:
        return []
    peak = v.max()
    # in slices: 2 * v of a 10^7-point lr series is an 80 MB temporary
    cuts = [*range(0, v.size - 1, 1 << 20), v.size - 1]
    at = [a + np.flatnonzero((v[a + 1:b + 1] > 2 * v[a:b]) & (v[a:b] < 0.5 * peak)) for a, b in zip(cuts, cuts[1:])]
    warm = ctx.warmup_end() or -1
    return [int(x) for x in st[1:][np.concatenate(at)] if x > warm]


def find_divergence(ctx: RunContext, s: Series, min_points: int, min_fraction: float) -> dict[str, Any] | None:
    """Best point, post-best window and its trend test; None when there is too little data."""
    x, y, _ = ctx.downsampled(s)
    if x.size < min_points:
        return None
    restarts = lr_restarts(ctx)
    lo = float(restarts[-1]) if restarts else float(x[0])
    seg = x >= lo
    if seg.sum() < min_points:
        return None
    xs, ys = x[seg], y[seg]
    m, best = smooth_min(xs, ys, value=True)
    best_step = float(xs[m])
    post = xs >= best_step
    span = float(x[-1] - x[0]) or 1.0
    if post.sum() < min_points or (xs[-1] - best_step) < min_fraction * span:
        return None
    tr = ctx.trend(s, best_step, float(xs[-1]))
    if tr is None or not np.isfinite(tr.pvalue_increasing):
        return None
    tail = ys[post][-max(3, int(0.05 * post.sum())):]
    end = float(np.mean(tail))
    # point noise of the (down-sampled) curve around its local level: the rise must stand out from it
    k = max(5, x.size // 20)
    level = rolling_median(y, k, trailing=False)
    resid = y - level
    noise = float(MAD_TO_SD * np.median(np.abs(resid - np.median(resid))))
    # sizes relative to the range the run covered (floored at 1% of the level), not to the level: a
    # language model at 3 nats and a classifier at 0.001 are judged alike. The range of the curve's
    # running median when that is smaller: recurring spikes (13 in 600 points, more than the 2% the
    # percentile range drops) must not set the scale a sustained rise is measured against
    fin = level[np.isfinite(level)]
    smooth = float(fin.max() - fin.min()) if fin.size >= 2 else np.inf
    scale = min(range_scale(ctx, s, best), max(smooth, RANGE_FLOOR * abs(best), TINY))
    return {"best_step": int(best_step), "best": best, "end": end, "end_step": int(xs[-1]),
            "rise": (end - best) / scale, "rise_level": (end - best) / max(abs(best), TINY), "scale": scale,
            "trend": tr, "n": int(post.sum()), "noise_rel": noise / scale}


def significant_rise(d: dict[str, Any] | None, p: SimpleNamespace) -> bool:
    """The post-best trend is significant *and* the rise exceeds ``min-rise`` and ``noise-mult`` x the
    curve's relative point noise (a window that starts at the minimum is biased upwards; on
    strongly autocorrelated noise a wander can pass the test but not the effect-size bar)."""
    if d is None:
        return False
    if level_shift(d, p):
        return True
    return bool(d["trend"].pvalue_increasing < p.alpha and d["rise"] >= max(p.min_rise, p.noise_mult * d["noise_rel"]))


def level_shift(d: dict[str, Any] | None, p: SimpleNamespace) -> bool:
    """A step up that stays up (the end level ``shift-mult`` x the point noise above the best level)
    is sustained even when a trend test sees only a jump and a flat line."""
    return bool(d is not None and d["rise"] >= max(p.min_rise, p.shift_mult * d["noise_rel"]))


def _train_falling(ctx: RunContext, lo: float, hi: float) -> bool:
    """The training loss fell over [lo, hi] (a significant downward trend, or its level at the end of
    the window below the level at its start): a rising validation loss is then overfitting (OF001)."""
    tr = ctx.loss("train")
    if tr is None:
        return False
    st, v = tr.finite()
    a, b = v[(st >= lo) & (st <= hi)], v[st <= hi]
    if a.size < 3:
        return False
    k = max(1, a.size // 5)
    return bool(np.mean(a[-k:]) < np.mean(a[:k]))


def divergence(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    d = find_divergence(ctx, s, p.min_points, p.min_fraction)
    if d is None:
        return
    tr = d["trend"]
    onset = d["best_step"]
    if s.split != "train" and (ctx.loss("train") is None or _train_falling(ctx, onset, d["end_step"])):
        return  # validation rising while training falls is overfitting (OF001); without train, undecided
    ctx.decide(float(tr.pvalue_increasing))
    if not significant_rise(d, p):
        return
    shift = level_shift(d, p) and not tr.pvalue_increasing < p.alpha
    how = (f"a level shift of {d['rise'] / max(d['noise_rel'], TINY):.0f}x the point noise" if shift else
           f"{tname(tr)}={tr.tstat:.1f}, one-sided p={tr.pvalue_increasing:.2g}")
    both = "" if s.split == "train" else " while the training loss did not fall either"
    msg = (f"{s.name} rose from its best level {fmt_num(d['best'])} (running median) at step {onset:,} to "
           f"{fmt_num(d['end'])} (mean of the last points) by step {d['end_step']:,} ({d['rise']:.0%} of the "
           f"range the run covered; {d['rise_level']:.0%} of the level)"
           f"{both}{lr_text(ctx, onset)} ({how}, {d['n']} points)")
    yield Hit(
        message=msg,
        evidence=Evidence("level-shift" if shift else tr.method,
                          d["rise"] / max(d["noise_rel"], TINY) if shift else float(tr.tstat),
                          float(p.shift_mult) if shift else float(p.min_rise),
                          None if shift else float(tr.pvalue_increasing),
                          (onset, d["end_step"]),
                          {"rise": d["rise"], "rise_of_level": d["rise_level"], "scale": d["scale"],
                           "noise": d["noise_rel"], "best": d["best"], "end": d["end"], "slope": tr.slope,
                           "alpha": p.alpha, "lr": ctx.lr_at(onset)}),
        start_step=onset, end_step=d["end_step"], alpha=None if shift else p.alpha,
        values={"step": fmt_step(onset), "best": f"{fmt_num(d['best'])}, running median",
                "lr_advice": lr_advice(ctx, onset)},
    )


def explosion(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Loss reaching ``factor`` x its early level (median of the first ``early-points``) and not coming
    back below that early level (Megatron flags 10x the max of the first 100 as "unexpectedly large")."""
    if s is None:
        return
    st, v = s.finite()
    if v.size < p.min_points:
        return
    # the early level: the first 1% of the points (5 to early-points); on a log of a handful of points
    # that blew up within a few steps, the first third of them (at least the first point)
    k = int(min(max(5, 0.01 * v.size), p.early_points, max(1, v.size // 3)))
    early = float(np.median(np.abs(v[:k])))
    if early <= 0:
        return
    over = np.flatnonzero(v[k:] >= p.factor * early)
    if not over.size:
        yield from _negative_explosion(ctx, s, p, st, v, k, early)
        return
    i = k + int(over[0])
    rest = v[i:]
    ends_nonfinite = not np.isfinite(s.values[-1])
    stays = float(np.mean(rest[-max(3, rest.size // 10):])) > early
    if not (stays or ends_nonfinite):
        return  # it came back: a spike (SP001), not an explosion
    peak = float(np.max(rest))
    step = int(st[i])
    msg = (f"{s.name} exploded to {fmt_num(peak)} ({peak / early:.0f}x its early level {fmt_num(early)}) from "
           f"step {step:,}{lr_text(ctx, step)} and did not come back"
           + ("; the run then went non-finite" if ends_nonfinite else ""))
    yield Hit(
        message=msg,
        evidence=Evidence("ratio-to-early-level", peak / early, float(p.factor), None, (step, int(st[-1])),
                          {"early_level": early, "peak": peak, "lr": ctx.lr_at(step)}),
        start_step=step, end_step=int(st[-1]),
        values={"step": fmt_step(step), "lr_advice": lr_advice(ctx, step),
                "lr": round_lr(ctx.lr_at(step) or 0.0) if ctx.lr_at(step) else "the current LR"},
    )


def _negative_explosion(ctx: RunContext, s: Series, p: SimpleNamespace, st: np.ndarray, v: np.ndarray, k: int,
                        early: float) -> Iterator[Hit]:
    """A loss that runs away *downwards*: at least ``factor`` x its early magnitude below zero, still
    at its most negative at the end. A loss unbounded below (a log-likelihood of a collapsing variance,
    an adversarial or contrastive term) is diverging, not "still improving"."""
    under = np.flatnonzero(v[k:] <= -p.factor * early)
    if not under.size:
        return
    i = k + int(under[0])
    tail = v[-max(3, (v.size - i) // 10):]
    if float(np.mean(tail)) > -p.factor * early:
        return  # it came back: not a runaway
    low = float(np.min(v[i:]))
    step = int(st[i])
    msg = (f"{s.name} ran away below zero: {fmt_num(low)} ({abs(low) / early:.0f}x its early magnitude "
           f"{fmt_num(early)}) from step {step:,}{lr_text(ctx, step)} and still falling at the end: an objective "
           "that is unbounded below is diverging, not improving")
    yield Hit(
        message=msg,
        evidence=Evidence("ratio-to-early-level", abs(low) / early, float(p.factor), None, (step, int(st[-1])),
                          {"early_level": early, "low": low, "direction": "down", "lr": ctx.lr_at(step)}),
        start_step=step, end_step=int(st[-1]),
        values={"step": fmt_step(step), "lr_advice": lr_advice(ctx, step),
                "lr": round_lr(ctx.lr_at(step) or 0.0) if ctx.lr_at(step) else "the current LR"},
    )


DETECTORS = {"divergence": divergence, "explosion": explosion}
