"""Train/validation relations: overfitting (OF001), a large growing gap (GP001), val below train (GP002).

Validation losses are compared with the training loss *at the same steps*: the mean of the
training losses logged since the previous evaluation (:func:`_common.aligned`), so a noisy
per-step training loss is not compared point-to-point.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from lossdoc.checks.detectors._common import TINY, aligned, fmt_num, fmt_step, rel, smooth_min, tlabel, tname
from lossdoc.checks.engine import Hit, RunContext, Series, robust_trend
from lossdoc.checks.findings import Evidence


def overfitting(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Validation loss bottoms out, then rises significantly while the training loss still falls."""
    if s is None:
        return
    vs, vv = s.finite()
    if vs.size < p.min_points:
        return
    m = smooth_min(vs.astype(float), vv)
    post = vs >= vs[m]
    if post.sum() < p.min_post_points:
        return
    best_step, best = int(vs[m]), float(vv[m])
    tr = ctx.trend(s, best_step, float(vs[-1]))
    if tr is None or not np.isfinite(tr.pvalue_increasing):
        return
    tail = vv[post][-max(2, int(post.sum()) // 4):]
    end = float(np.mean(tail))
    rise = rel(end, best)
    if not (tr.pvalue_increasing < p.alpha and rise >= p.min_rise):
        return
    train = ctx.loss("train")
    if train is None:
        return
    ttr = ctx.trend(train, best_step, float(vs[-1]))
    ts, tv = train.finite()
    at_best = tv[(ts <= best_step)][-max(1, int(0.02 * ts.size)):] if (ts <= best_step).any() else tv[:1]
    t_end = tv[-max(1, int(0.02 * ts.size)):]
    t_change = rel(float(np.mean(t_end)), float(np.mean(at_best)))
    falling = ttr is not None and np.isfinite(ttr.pvalue_decreasing) and ttr.pvalue_decreasing < p.alpha
    if not (falling or t_change <= -p.min_train_drop):
        return
    evals_after = int(post.sum()) - 1
    msg = (f"{s.name} was best at step {best_step:,} ({fmt_num(best)}) and rose {rise:.0%} to {fmt_num(end)} over the "
           f"next {evals_after} evaluations ({tname(tr)}={tr.tstat:.1f}, one-sided p={tr.pvalue_increasing:.2g}) "
           f"while the training loss fell {-t_change:.0%}: the model is overfitting; step {best_step:,} is the "
           f"early-stopping point")
    patience = max(2, min(5, evals_after // 3))
    yield Hit(
        message=msg,
        evidence=Evidence(tr.method, float(tr.tstat), float(p.min_rise), float(tr.pvalue_increasing),
                          (best_step, int(vs[-1])),
                          {"best_val": best, "end_val": end, "rise": rise, "train_change": t_change,
                           "best_step": best_step}),
        start_step=best_step, end_step=int(vs[-1]), alpha=p.alpha,
        values={"step": fmt_step(best_step), "best": fmt_num(best), "patience": patience,
                "best_fraction": f"{(best_step - vs[0]) / max(vs[-1] - vs[0], 1):.0%}"},
    )


def train_val_gap(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Validation loss far above the training loss at the same steps, with the gap growing."""
    train = ctx.loss("train")
    if s is None or train is None:
        return
    al = aligned(ctx, train, s)
    if al is None or al[0].size < p.min_points:
        return
    st, tl, vl = al
    gap = vl - tl
    relgap = gap / np.maximum(np.abs(vl), TINY)
    k = max(2, st.size // 5)
    end_rel = float(np.mean(relgap[-k:]))
    start_gap, end_gap = float(np.mean(gap[:k])), float(np.mean(gap[-k:]))
    if end_rel < p.min_gap or end_gap <= 0:
        return
    tr = robust_trend(st.astype(float), gap)
    if tr is None:
        return
    ctx.test_pvalue(tr.pvalue_increasing)
    ctx.test_pvalue(tr.pvalue_decreasing)
    grows = np.isfinite(tr.pvalue_increasing) and tr.pvalue_increasing < p.alpha and end_gap >= p.min_growth * max(start_gap, 0.0)
    if not grows:
        return
    msg = (f"validation loss is {end_rel:.0%} above the training loss at the same steps by step {int(st[-1]):,} "
           f"(gap {fmt_num(start_gap)} -> {fmt_num(end_gap)}; {tlabel(tr)} of the gap, "
           f"one-sided p={tr.pvalue_increasing:.2g})")
    yield Hit(
        message=msg,
        evidence=Evidence(tr.method, float(tr.tstat), float(p.min_gap), float(tr.pvalue_increasing),
                          (int(st[0]), int(st[-1])),
                          {"relative_gap": end_rel, "gap_start": start_gap, "gap_end": end_gap}),
        start_step=int(st[0]), end_step=int(st[-1]), alpha=p.alpha, split="val", metric="loss",
        values={"gap": f"{end_rel:.0%}", "step": fmt_step(int(st[-1]))},
    )


def val_below_train(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Validation loss consistently below the training loss at the same steps."""
    train = ctx.loss("train")
    if s is None or train is None:
        return
    al = aligned(ctx, train, s)
    if al is None or al[0].size < p.min_points:
        return
    st, tl, vl = al
    half = st >= st[0] + 0.5 * (st[-1] - st[0])
    if half.sum() < 2:
        half[:] = True
    below = vl[half] < tl[half]
    frac = float(below.mean())
    relgap = float(np.median((tl[half] - vl[half]) / np.maximum(np.abs(tl[half]), TINY)))
    if frac < p.min_fraction or relgap < p.min_gap:
        return
    msg = (f"validation loss is below the training loss at {frac:.0%} of the aligned steps in the second half "
           f"(median {relgap:.0%} lower, e.g. {fmt_num(float(vl[-1]))} vs {fmt_num(float(tl[-1]))} at step "
           f"{int(st[-1]):,})")
    yield Hit(
        message=msg,
        evidence=Evidence("fraction-below", frac, float(p.min_fraction), None, (int(st[half][0]), int(st[-1])),
                          {"median_relative_gap": relgap}),
        start_step=int(st[half][0]), end_step=int(st[-1]), split="val", metric="loss",
        values={"gap": f"{relgap:.0%}", "step": fmt_step(int(st[-1]))},
    )


DETECTORS = {"overfitting": overfitting, "train-val-gap": train_val_gap, "val-below-train": val_below_train}
