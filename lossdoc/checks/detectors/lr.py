"""Learning-rate evidence: no warm-up with early spikes (LR001), peak LR before divergence (LR002),
LR decayed to ~0 while still improving (LR003), LR too low for progress (LR004: a significant, tiny
fall that does not slow down -- per unit of the LR in force when the logged LR changes, since a fall the
LR starves is about LR x |gradient|^2 per step and a decaying LR slows it without any convergence).

These rules pin a symptom on the learning rate only when the log shows the LR (the lr
series, or the configured LR in the hyper-parameters) next to the symptom. LR002 leaves out a rise that
went on while the logged LR decayed to a small fraction of its onset value (``rise_outlasts_lr``) and an
"explosion" the loss came straight back from (a spike, as DV002 judges it).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
from scipy import stats as _st

from lossdoc.checks.detectors._common import (
    early_fall, first_level, fmt_num, fmt_step, head_text, logged_step_from, lr_reference, range_scale, rel,
    rise_outlasts_lr, round_lr, shown_lr, tlabel, unlogged_head,
)
from lossdoc.checks.detectors.divergence import find_divergence, settled_at_zero, significant_rise, stayed_up
from lossdoc.checks.detectors.spike import find_spikes, size_key, sizeable_events
from lossdoc.checks.engine import Hit, RunContext, Series, final_level
from lossdoc.checks.findings import Evidence, Severity


def _nice(n: float) -> int:
    """Round a step count up to 1, 2 or 5 x 10^k."""
    if n <= 1:
        return 1
    e = 10 ** math.floor(math.log10(n))
    for m in (1, 2, 5, 10):
        if n <= m * e:
            return int(m * e)
    return int(10 * e)


def no_warmup_spikes(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    lr = ctx.lr()
    if s is None or lr is None:
        return
    ls, lv = lr.finite()
    st, v = s.finite()
    if ls.size < 3 or v.size < p.min_points or lv.max() <= 0:
        return
    peak = float(lv.max())
    if ls[0] > st[0] + 0.01 * (st[-1] - st[0]) or lv[0] < p.no_warmup_ratio * peak:
        return  # LR not logged from the start, or it does ramp up
    early_end = st[0] + p.early_fraction * (st[-1] - st[0])
    found = find_spikes(ctx, s, p.window, p.zscore, p.min_rise, p.min_points)
    events = [e for e in found if e["peak_step"] <= early_end]
    if not events:
        return
    excess = _early_excess(st, early_end, len(events), len(found) - len(events), min(p.window, max(5, st.size // 4)))
    if excess >= getattr(p, "excess_alpha", 0.01):
        return  # the run spikes as often later as it did early on: heavy-tailed batches (SP001), not the start
    big = max(events, key=size_key)
    warm = _nice(max(0.02 * (st[-1] - st[0]), big["peak_step"] - st[0]))
    # the size that matters is the jump against the range the run covered (as SP001 judges it): early
    # blips of a few % of the range (1.2x on a loss that falls 5 -> 2) are a note, not a warning
    height = max((e["peak"] - e["base"]) / range_scale(ctx, s, e["base"]) for e in events)
    # ... and as SP001 sizes a jump: a one-point jump (one hard batch) counts only when it rises the whole range
    # (warn-range-single) and stands out in log space beyond the series' own heavy right tail; a lasting one by
    # the level it held over two consecutive points
    w = int(min(p.window, max(5, v.size // 4)))
    sizeable = sizeable_events(ctx, s, events, range_scale(ctx, s, big["base"]), w, p.zscore,
                               getattr(p, "warn_range", 0.25), getattr(p, "warn_range_single", 1.0),
                               getattr(p, "tail_alpha", None), int(getattr(p, "tail_min_points", 1000)))
    largest = f"{big['factor']:.1f}x" if np.isfinite(big["factor"]) else "a jump (no ratio: the loss is not above 0 throughout)"
    msg = (f"the LR starts at {shown_lr(float(lv[0]))} ({lv[0] / peak:.0%} of its peak {shown_lr(peak)}) with no "
           f"warm-up, and the loss spikes {len(events)} time(s) in the first {p.early_fraction:.0%} of the run "
           f"(largest {largest} at step {big['peak_step']:,}; the highest jump {height:.0%} of the range "
           f"the run covered)")
    if height >= getattr(p, "warn_range", 0.25) and not sizeable:
        msg += ("; each a hard batch (a single point, or two in a row, within the scatter this per-batch loss shows "
                "in log space), not an early instability that earns a warning")
    yield Hit(
        message=msg,
        evidence=Evidence("robust-zscore", big["z"], float(p.zscore), None, (int(st[0]), int(early_end)),
                          {"lr_start": float(lv[0]), "lr_peak": peak, "spikes": len(events),
                           "height_of_range": height}),
        start_step=int(st[0]), end_step=big["end"],
        severity=None if sizeable else Severity.INFO,
        values={"lr": shown_lr(peak), "warmup": f"{warm:,}", "step": fmt_step(big["peak_step"])},
    )


def _early_excess(st: np.ndarray, early_end: float, n_early: int, n_later: int, window: int) -> float:
    """One-sided p-value that ``n_early`` spikes in the early part of the run (logged steps up to
    ``early_end``) exceed what the rest of the run's spike rate predicts: P(X >= n_early), X Poisson with mean
    the later spikes per logged point x the early points a spike can be found at (those after the first
    ``window``, which the spike test needs as history). The missing warm-up's overshoot is an early effect:
    a long per-batch log that spikes 26 times in its first 10% and 182 times in the other 90% spikes as often
    at the start as anywhere (heavy-tailed batches, SP001's finding), and gives no sign of it. With no later
    spike the rate is 0 and any early spike is in excess (p = 0). A plug-in rate, a guard rather than a
    finding: no p-value enters the false-discovery family."""
    n_e = int(np.searchsorted(st, early_end, side="right"))
    eligible = max(n_e - window, 1)
    lam = n_later / max(st.size - n_e, 1) * eligible
    if lam <= 0:
        return 0.0
    return float(_st.poisson.sf(n_early - 1, lam))


def peak_lr_before_divergence(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None or ctx.lr() is None:
        return
    onset, what = None, ""
    bad = np.flatnonzero(~np.isfinite(s.values))
    if bad.size:
        onset, what = int(s.steps[bad[0]]), "the loss went non-finite"
    st, v = s.finite()
    if v.size >= p.min_points:  # an explosion (DV002's test) also marks an onset
        k = int(min(max(5, 0.01 * v.size), 100))
        early = float(np.median(np.abs(v[:k])))
        over = np.flatnonzero(v[k:] >= p.explosion_factor * early) if early > 0 else np.empty(0, dtype=int)
        # the first crossing that is not one bad batch: the loss stayed up after it (DV002's test, ``stayed_up``:
        # the median of its last tenth above the upper quartile of the early points), the run went non-finite, or
        # the next logged point is not back below the early level. A jump the loss came straight back from (the next point below where training
        # started) left the weights unharmed: the batch was bad, not the step (a spike, SP001)
        rest = v[k + over[0]:] if over.size else v[:0]
        stays = bool(rest.size) and (stayed_up(v[:k], rest) or bad.size > 0)
        hit = next((k + int(i) for i in over if stays or k + i + 1 >= v.size or v[k + i + 1] >= early), None)
        if hit is not None and (onset is None or int(st[hit]) < onset):
            onset, what = int(st[hit]), f"the loss exploded (>= {p.explosion_factor:g}x its early level)"
    d = find_divergence(ctx, s, p.min_points, p.min_fraction)
    pval = None
    if d is not None and significant_rise(d, p) and settled_at_zero(ctx, s, d) is None:
        # (a signed loss that rose from a negative best to 0 and stayed there is no divergence shown: DV001's note)
        end = min(d["end_step"], int(s.steps[bad[0]])) if bad.size else d["end_step"]
        # a rise that went on while the LR decayed is not the peak LR's doing (DV001 names what else);
        # a NaN or an explosion of its own still counts
        unexplained = rise_outlasts_lr(ctx, s, d["best_step"], end, decayed=p.lr_decayed,
                                       late_share=p.late_share) is not None
        if (onset is None or d["best_step"] < onset) and not unexplained:
            onset, what = d["best_step"], f"the loss started rising ({d['rise']:.0%} by the end)"
            # a level shift is judged by its size, not a test: no p-value enters the BH control then
            pval = float(d["trend"].pvalue_increasing) if d["trend"].pvalue_increasing < p.alpha else None
    if onset is None:
        return
    pk = ctx.lr_peak(until=onset)
    lr_on = ctx.lr_at(onset)
    if pk is None or not lr_on or lr_on < p.near_peak * pk[0]:
        return
    top = ctx.lr_peak()  # the schedule's own peak (pk is the peak up to the onset)
    if not (st < onset).any():
        # no finite loss before the onset: no step at this LR is seen doing harm, and "the peak so far" of a
        # schedule's first point is that point. Only an LR already near the schedule's own peak (a constant
        # LR, or no warm-up) is a suspect then; a NaN at a warm-up's first tiny LR points at the data,
        # the initialisation or the precision (NF001 says so)
        if top is None or lr_on < p.near_peak * top[0]:
            return
    peak, peak_step = pk
    warm = ctx.warmup_end() or 0
    warm_sugg = _nice(max(2 * warm, 0.5 * onset, 1))
    gn = ctx.grad_norm()
    gn_txt = ""
    if gn is not None:
        gs, gv = gn.finite()
        pre = gv[gs <= onset]
        if pre.size >= 5:
            gn_txt = f"; grad norm {fmt_num(float(np.median(pre)))} (median) before it"
    later = ""
    if top is not None and top[0] > 1.05 * peak:  # still warming up at the onset: not the schedule's peak
        later = f" (the schedule went on to {fmt_num(top[0])} at step {top[1]:,})"
    ref = lr_reference(ctx, onset)
    msg = (f"the LR had reached {fmt_num(peak)} at step {peak_step:,}{later} and was still in force "
           f"({fmt_num(lr_on)}) when {what} at step {onset:,}"
           + (f" (trend p={pval:.2g})" if pval is not None else "") + gn_txt)
    yield Hit(
        message=msg,
        evidence=Evidence("lr-at-onset-ratio", lr_on / peak, float(p.near_peak), pval, (peak_step, onset),
                          {"lr_peak": peak, "lr_peak_step": peak_step, "lr_at_onset": lr_on, "onset_step": onset,
                           "warmup_end": warm}),
        start_step=onset, end_step=onset, alpha=p.alpha if pval is not None else None,
        values={"lr": fmt_num(peak), "peak_step": fmt_step(peak_step), "step": fmt_step(onset),
                "lr_low": round_lr(ref / 3), "lr_high": round_lr(ref / 2), "warmup": f"{warm_sugg:,}"},
    )


def _val_stopped(ctx: RunContext, p: SimpleNamespace) -> bool:
    """A validation loss with min-val-points evaluations that did not fall by min-improvement of its range
    across its own trailing window (widened to 4 evaluations, at most half of them): the training loss falling
    during the LR's final decay (the anneal lowers it by design) says nothing a longer schedule would buy.
    An effect size, not a test: it only withholds the note."""
    val = ctx.loss("val")
    if val is None or np.isfinite(val.values).sum() < getattr(p, "min_val_points", 5):
        return False
    x, y, _ = ctx.downsampled(val)
    span = float(x[-1] - x[0])
    if span <= 0 or not np.isfinite(y[-1]):
        return False
    lo = x[-1] - p.window_fraction * span
    if (x >= lo).sum() < 4:
        lo = float(x[-min(4, max(2, x.size // 2))])
    tr = ctx.trend(val, lo, float(x[-1]))
    if tr is None or not np.isfinite(tr.slope):
        return False
    rate = -tr.slope * min(x[-1] - lo, p.window_fraction * span) / range_scale(ctx, val, float(y[-1]))
    return rate < p.min_improvement


def lr_decayed_while_improving(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    lr = ctx.lr()
    if s is None or lr is None:
        return
    ls, lv = lr.finite()
    if ls.size < 3 or lv.max() <= 0:
        return
    peak = float(lv.max())
    if lv[-1] > p.min_ratio * peak:
        return
    x, y, _ = ctx.downsampled(s)
    if x.size < p.min_points:
        return
    lo = x[-1] - p.window_fraction * (x[-1] - x[0])
    if (x >= lo).sum() < p.min_points:
        return
    tr = ctx.trend(s, float(lo), float(x[-1]))
    if tr is None or not (np.isfinite(tr.pvalue_decreasing) and tr.pvalue_decreasing < p.alpha):
        return
    level = final_level(s.values) or float(y[-1])
    ctx.decide(float(tr.pvalue_decreasing))
    # against the range the run covered, as SI001 (a near-zero loss falling "119%" of its level is noise)
    rate = -tr.slope * (x[-1] - lo) / range_scale(ctx, s, level)
    if rate < p.min_improvement:
        return
    if _val_stopped(ctx, p):
        return
    msg = (f"the LR decayed to {shown_lr(float(lv[-1]))} ({lv[-1] / peak:.1%} of its peak {shown_lr(peak)}) while "
           f"{s.label} was still falling by {rate:.1%} of the range the run covered over the last {p.window_fraction:.0%} of the run "
           f"({tlabel(tr)} p={tr.pvalue_decreasing:.2g})")
    # the window as logged steps of the series: lo is a fraction of the run and x[-1] a bin-mean step
    first, last = logged_step_from(s, float(lo)), int(s.finite()[0][-1])
    yield Hit(
        message=msg,
        evidence=Evidence(tr.method, float(tr.tstat), float(p.min_improvement), float(tr.pvalue_decreasing),
                          (first, last), {"lr_end": float(lv[-1]), "lr_peak": peak, "improvement": rate}),
        start_step=first, end_step=last, alpha=p.alpha,
        values={"lr_end": shown_lr(float(lv[-1])), "lr_floor": round_lr(0.1 * peak),
                # the step the LR was last logged at (x holds bin-mean steps on a long series)
                "steps": f"{_nice(1.5 * float(x[-1])):,}", "step": fmt_step(int(ls[-1]))},
    )


def _mean_lr(ctx: RunContext, lo: float, hi: float) -> float | None:
    """Mean of the logged LR over [lo, hi] (the last value logged at or before ``lo`` when none falls
    inside); None without an lr series or with a non-positive mean."""
    s = ctx.lr()
    if s is None:
        return None
    st, v = s.finite()
    if not st.size:
        return None
    inside = v[(st >= lo) & (st <= hi)]
    m = float(np.mean(inside)) if inside.size else ctx.lr_at(lo)
    return m if m is not None and m > 0 else None


def _train_fall(ctx: RunContext) -> float | None:
    """How much of where it started the run's training loss (5+ finite points) removed: the larger of its fall
    from the mean of its first 5% of points and from its first logged values (:func:`early_fall`) to the mean
    of its last 5%; None without a training loss."""
    t = ctx.loss("train")
    if t is None:
        return None
    v = t.finite()[1]
    if v.size < 5:
        return None
    k = max(1, math.ceil(0.05 * v.size))
    start, end = float(np.mean(v[:k])), float(np.mean(v[-k:]))
    if not (np.isfinite(start) and np.isfinite(end)) or start == 0:
        return None
    return max(-rel(end, start), early_fall(v, end))


def _ends_words(k: int) -> str:
    """How LR004's start and end levels are derived: the means of the first and last ``k`` values."""
    return "its first and last logged values" if k == 1 else f"the means of its first and last {k:,} values"


def lr_too_low(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Steady but tiny progress: a significant, non-decelerating decrease that removed < max-drop of the loss."""
    if s is None:
        return
    x, y, _ = ctx.downsampled(s)
    if x.size < p.min_points:
        return
    st, v = s.finite()
    # the same number of points at both ends (the means of the first and last 5%, one point each on a
    # short log): a 3-point end mean against a 1-point start understated a steady fall over 5 evaluations
    k = max(1, math.ceil(0.05 * v.size))
    start, end = float(np.mean(v[:k])), float(np.mean(v[-k:]))
    if not np.isfinite(end) or start == 0:
        return
    drop = -rel(end, start)
    if not (0 < drop < p.max_drop):
        return
    # progress was not tiny when the loss fell by max-drop from its first logged values (a fast fall inside the
    # first 5% of points, then a slow tail: what convergence looks like too) or, for a held-out loss, when the
    # *training* loss did (the LR moves the training loss; a validation loss that falls more slowly than a
    # training loss that learned is generalisation, not the step size). Nothing in the log then shows the LR
    # holding the run back: a note (inconclusive), with no advice to raise it
    learned = ""
    ef, tf = early_fall(v, end), (_train_fall(ctx) if s.split != "train" else None)
    if ef >= p.max_drop:
        learned = (f"from its first logged values ({fmt_num(first_level(v))}, the lower of the first value and the "
                   f"median of the first three) it fell {ef:.0%}: it learned early and then slowed, as a converging "
                   "loss does too")
    elif tf is not None and tf >= p.max_drop:
        learned = (f"the training loss fell {tf:.0%} over the run: the LR moves the training loss, and that one "
                   "learned; a held-out loss falling more slowly says more about generalisation than the step size")
    tr = ctx.trend(s, float(x[0]), float(x[-1]))
    if tr is None or not (np.isfinite(tr.pvalue_decreasing) and tr.pvalue_decreasing < p.alpha):
        return
    # the end means depend on where a swinging loss happened to be: progress is tiny only when the
    # fitted trend line says so too (a val loss swinging 1.7-3.7 whose line fell 25% is not "0.04%")
    line_drop = -float(tr.slope) * float(x[-1] - x[0]) / abs(start)
    if not line_drop < p.max_drop:
        return
    per_lr = ""
    raw_pace = float("nan")
    # no deceleration: the second half falls at least `linearity` x as fast as the first. On 5-7 points each
    # half holds 3-4 and the comparison is an effect size, not a test: it only withholds the warning (a short
    # fine-tune that fell 3.568 -> 3.540 and then sat at 3.54 is converging, not starved)
    if x.size >= p.min_points:
        mid = x[0] + 0.5 * (x[-1] - x[0])
        a, b = ctx.trend(s, float(x[0]), float(mid)), ctx.trend(s, float(mid), float(x[-1]))
        if a is None or b is None or not a.slope < 0:
            return
        # progress per unit of LR when the logged LR changes (a linear or cosine decay): a loss that the LR
        # starves falls by about LR x |gradient|^2 per step, so a decaying LR slows it down without the
        # loss converging; the slopes are compared per unit of the mean LR in force in each half
        la, lb = _mean_lr(ctx, float(x[0]), float(mid)), _mean_lr(ctx, float(mid), float(x[-1]))
        ra, rb = a.slope, b.slope
        raw_pace = float(rb / ra)
        if la and lb and not 0.9 <= lb / la <= 1.1:
            ra, rb = a.slope / la, b.slope / lb
            per_lr = (f"; per unit of the LR in force (mean {shown_lr(la)} in the first half, {shown_lr(lb)} in "
                      f"the second) the second half fell {rb / ra:.0%} as fast as the first")
        if not rb <= p.linearity * ra:
            return
        # a fall that speeds up (the second half at least max-acceleration x as fast as the first, per unit of
        # the LR when that changes) is a run in its early phase: leaving its initial level, an optimizer
        # warming up. "Only x% over the run" then measures how far a run that just got going has come, not
        # what the LR allows (a GPT-2 log cut at step 13: 10.875 -> 10.707, each step's fall larger)
        acc = getattr(p, "max_acceleration", None)
        if acc is not None and rb < acc * ra:  # (slopes are negative: rb falls faster)
            return
    lr = ctx.lr_peak()
    lr_v = lr[0] if lr else ctx.lr_at(float(x[-1]))
    # a logged LR that changed over the run (a warm-up, a decay) is named by its peak, as what it is
    lrs = ctx.lr()
    varies = bool(lr and lrs is not None and lrs.finite()[1].size and float(np.min(lrs.finite()[1])) < 0.9 * lr[0])
    which = "peak LR" if varies else "LR"
    lr_txt = f" with {which} {shown_lr(lr_v)}" if lr_v else ""
    # "no sign of slowing down" rests on the halves' trend lines; on fewer than 8 points each half holds 3-4 of
    # them, and the message says the comparison is an effect size on few points
    pace = ("with no sign of slowing down" if x.size >= 8 else
            f"not slowing down over its {x.size} points (the slopes of its two halves compared: an effect size "
            "on few points, not a test)")
    msg = (f"{s.label} falls steadily but slowly{lr_txt}: only {drop:.2%} over the run (level {fmt_num(start)} -> "
           f"{fmt_num(end)}, {_ends_words(k)}), {pace} ({tlabel(tr)} p={tr.pvalue_decreasing:.2g}"
           f"{per_lr})")
    # a log that starts mid-training: "only x% over the run" is measured from a value training had already
    # reached, so it says nothing about the LR -- a note, not a warning
    head = unlogged_head(s)
    if head is not None:
        msg += head_text(head)
    if learned:
        msg += f"; {'and' if head is not None else 'but'} {learned} (inconclusive): a note"
    yield Hit(
        message=msg,
        evidence=Evidence(tr.method, float(tr.tstat), float(p.max_drop), float(tr.pvalue_decreasing),
                          (int(x[0]), int(x[-1])), {"drop": drop, "lr": lr_v, "first_step": int(st[0]),
                                                    "unlogged_head": head is not None, "early_fall": ef,
                                                    "train_fall": tf, "raw_pace": raw_pace,
                                                    # the loss itself slowed down (per step, whatever the LR
                                                    # did): a plateau note beside it wins (runner)
                                                    "raw_slowed": bool(raw_pace < p.linearity)}),
        start_step=int(x[0]), end_step=int(x[-1]), alpha=p.alpha,
        severity=Severity.INFO if head is not None or learned else None,
        values={"lr": shown_lr(lr_v) if lr_v else "the current LR",
                "at_lr": f" at {which} {shown_lr(lr_v)}" if lr_v else "",
                "raise_advice": ("this log does not show the LR holding it back (see the message); compare with runs at "
                                 "other LRs" if learned else
                                 (f"first read the loss where training started (the log begins at step {head:,}); "
                                  "if it fell this slowly from there, " if head is not None else "")
                                 + (f"raise it 3-10x (to {round_lr(3 * lr_v)}-{round_lr(10 * lr_v)})" if lr_v
                                    else "raise the learning rate 3-10x")),
                "drop": f"{drop:.2%}"},
    )


DETECTORS = {"no-warmup-spikes": no_warmup_spikes, "peak-lr-before-divergence": peak_lr_before_divergence,
             "lr-decayed-while-improving": lr_decayed_while_improving, "lr-too-low": lr_too_low}
