"""Generalisation judged from accuracy when the log has no held-out loss: a train-validation accuracy gap
(GP003) and validation accuracy that peaked and fell while training accuracy kept rising (OF003).

Many hand-rolled classifiers print accuracy for both splits and a loss only for training (``Epoch 20/20,
Loss: 0.0773, Train Acc: 97.27%, Val Acc: 56.77%``). The loss rules (GP001, OF001) need a validation loss;
these two read the same evidence from the accuracies instead, and only then: a log with a validation loss
(or a loss on the held-out split it evaluates) is judged by the loss rules, never twice.

Which series: the held-out top-1 accuracy (:func:`lossdoc.checks.detectors.accuracy.accuracy_series`,
validation first, else test; ``accuracy``, ``acc``, ``top1``...; never top-k, F1 or precision) and the
training accuracy of the *same* metric. Both must read on one scale: fractions (every value in [0, 1]) or
percent (values above 1, none above 100); a pair that does not is not judged. The error rate
(100% - accuracy) plays the loss's part where a ratio is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from lossdoc.analysis.stats import adjust_pvalues
from lossdoc.checks.detectors._common import (
    SPLIT_WORD,
    aligned,
    config_number,
    fmt_num,
    fmt_step,
    framework_remedies,
    smooth_min,
    tlabel,
    tname,
)
from lossdoc.checks.detectors.accuracy import (
    _display_name,
    accuracy_series,
    as_fraction,
)
from lossdoc.checks.detectors.generalization import (
    end_k,
    end_levels,
    gap_positive,
    level_after_min,
    mean_step_text,
    when_best,
)
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Severity


class Pair(SimpleNamespace):
    """The held-out accuracy ``val``, the training accuracy ``train`` (same metric), their aligned values
    (``st``, ``tl``, ``vl``: as logged) and the scale: ``unit`` 100 for percent, 1 for fractions."""


def accuracy_pair(ctx: RunContext, min_points: int) -> Pair | None:
    """The held-out and training accuracy to compare, when the log has no held-out loss; else None."""
    if ctx.loss("val") is not None:
        return None  # GP001/OF001 judge the validation loss
    held = [a for a in accuracy_series(ctx) if a.split in ("val", "test")]
    if not held:
        return None
    val = held[0]
    if ctx.loss(val.split) is not None:
        return None  # a test loss: OF001 judges it
    train = ctx.series("train", val.metric)
    if train is None:
        return None
    _, tv = train.finite()
    vs, vv = val.finite()
    if vs.size < min_points or tv.size < 2:
        return None
    ft, fv = as_fraction(tv), as_fraction(vv)
    if ft is None or fv is None:
        return None
    if ft[1] != fv[1]:
        return None  # one in percent, one as a fraction (or a percent series that never passed 1%): unclear
    unit = 100.0 if ft[1] else 1.0
    al = aligned(ctx, train, val)
    if al is None or al[0].size < min_points:
        return None
    st, tl, vl = al
    return Pair(val=val, train=train, st=st, tl=tl, vl=vl, unit=unit, percent=ft[1],
                vname=_display_name(val), tname=_display_name(train))


def _show(v: float, pr: Pair) -> str:
    """An accuracy value in the log's own scale ('56.77%' or '0.5677')."""
    return f"{fmt_num(v)}%" if pr.percent else fmt_num(v)


def _diff(v: float, pr: Pair) -> str:
    """A difference of accuracies: 'percentage points' for a percent log."""
    return f"{fmt_num(v)} percentage points" if pr.percent else fmt_num(v)


def train_rise(ctx: RunContext, train: Series) -> tuple[float, int, float]:
    """(first logged value, its step, top): how far the training accuracy rose in the log, from its first
    logged value to the 98th percentile of its (down-sampled) values, so one lucky batch does not set it."""
    st, tv = train.finite()
    _, y, _ = ctx.downsampled(train)
    y = y[np.isfinite(y)]
    return float(tv[0]), int(st[0]), float(np.percentile(y, 98))


def _best(pr: Pair) -> tuple[int, float]:
    """The step and value (as logged) of the best held-out accuracy; the earliest on a tie."""
    vs, vv = pr.val.finite()
    i = int(np.argmax(vv))
    return int(vs[i]), float(vv[i])


def accuracy_early_stopping(ctx: RunContext, val: Series, step: int) -> str:
    """How to stop at the best held-out accuracy, in the words of the run's framework (monitoring the
    accuracy the log shows, mode max: the run has no validation loss to monitor)."""
    fmt = ctx.format or ""
    name = val.name
    s = fmt_step(step)
    if fmt.startswith("keras"):
        return (f"use EarlyStopping(monitor='{name}', mode='max', patience=3-5, restore_best_weights=True) "
                f"(best epoch {s})")
    if fmt.startswith("lightning"):
        return (f"use ModelCheckpoint(monitor='{name}', mode='max', save_top_k=1) with EarlyStopping(monitor='{name}', "
                f"mode='max', patience=3-5) (best step {s})")
    if fmt.startswith("hf"):
        return ("set load_best_model_at_end=True, metric_for_best_model='accuracy', greater_is_better=True and "
                f"EarlyStoppingCallback(early_stopping_patience=3) (best step {s})")
    return (f"save the model whenever {name} reaches a new best and stop after 3-5 evaluations without one "
            f"(best at step {s})")


def keep_text(ctx: RunContext, pr: Pair, step: int, best: float, lead: str) -> str:
    """Which model to keep. On a validation split: ``lead`` and the framework's early stopping at the best
    step. On a test split (the log holds out nothing else) the epoch must not be picked by the test score:
    an epoch chosen on the test set overstates that score, so the advice is to hold out a validation split."""
    if pr.val.split != "test":
        return lead + accuracy_early_stopping(ctx, pr.val, step)
    return (f"The log evaluates only on a test set: hold out a validation split (10-20% of the training data) and "
            f"stop at its best epoch; {pr.vname} was highest at step {step:,} ({_show(best, pr)} as logged), but an "
            "epoch picked by the test score overstates it")


def accuracy_remedy(ctx: RunContext, step: int) -> str:
    """How to overfit less, led by the regularisers the configuration states are off."""
    h = ctx.hparams()
    tips = []
    dropout, wd = config_number(h.get("dropout")), config_number(h.get("weight_decay"))
    if dropout is not None and dropout == 0:
        tips.append("add dropout 0.1-0.3 (the configuration has dropout = 0)")
    if wd is not None and wd == 0:
        tips.append("add weight decay (0.01-0.1 with AdamW, 1e-4-5e-4 with SGD; the configuration has "
                    "weight_decay = 0)")
    tips.append(framework_remedies(ctx, step)[1])
    return "; ".join(tips)


def accuracy_gap(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """GP003: the held-out accuracy ends well below the training accuracy.

    Both levels at the end come from Theil-Sen lines through the last fifth of the evaluations (at least 3, at most 1,000;
    :func:`end_levels`, the training accuracy as the mean of each interval between evaluations). The gap
    ``train - val`` must be (1) at least ``min-gap-points`` of accuracy (fraction; 2 points: about the binomial
    standard error of an accuracy on a few hundred to a thousand held-out examples, below which a gap is
    not an estimate anyone acts on), (2) at least ``min-gap`` of the training error, i.e. the validation
    error is at least 1.2x the training error (the guide's "val >= 1.2x train", with the error rate as the
    loss), and (3) at least ``min-gap-range`` of how far the training accuracy rose in the log (the
    guide's "sizeable share of the range"). Positive is one decision, as GP001's: the Bonferroni minimum
    of the exact sign test over the evaluations after the first quarter and the one-sided t-test over the
    last third. A warning by size (GP001's sizes), else a note."""
    pr = accuracy_pair(ctx, p.min_points)
    if pr is None:
        return
    st, tl, vl, unit = pr.st, pr.tl, pr.vl, pr.unit
    gap = tl - vl
    k = end_k(st.size)
    lv = end_levels(pr.train, st, vl, k)
    if lv is None:
        kk = max(2, st.size // 5)
        a_t, a_v = float(np.mean(tl[-kk:])), float(np.mean(vl[-kk:]))
        how = f"means of the last {kk} evaluations"
    else:
        a_t, a_v, t_at = lv
        how = (f"Theil-Sen fit lines through the last {min(k, st.size - 1):,} evaluations: {pr.vname} at step "
               f"{int(st[-1]):,}, {pr.tname} through its mean over each interval between evaluations, "
               f"{mean_step_text(pr.train, t_at)}")
    end_gap = a_t - a_v
    if end_gap <= 0:
        return
    err_t, err_v = max(unit - a_t, 0.0), max(unit - a_v, 0.0)
    rel_err = end_gap / max(err_t, 1e-3 * unit)
    first, first_step, top = train_rise(ctx, pr.train)
    rise = max(top - first, 0.0)
    scale = max(rise, p.range_floor * unit)
    rel_range = end_gap / scale
    sign = gap_positive(st, gap)
    pos, sign_p, tail, t_stat, t_p, pval = sign.pos, sign.sign_p, sign.tail, sign.t_stat, sign.t_p, sign.pval
    ctx.decide(pval)
    if (end_gap < p.min_gap_points * unit or rel_err < p.min_gap or rel_range < p.min_gap_range
            or pval >= p.alpha):
        return
    large = ((rel_err >= p.warn_gap and rel_range >= p.warn_gap_range)
             or (rel_err >= p.warn_gap_offset and rel_range >= p.warn_gap_range_offset))
    i_open = int(np.argmax(gap > 0.5 * end_gap))
    opened = int(st[i_open])
    since = ("above half that size since step" if bool(np.all(gap[i_open:] > 0.5 * end_gap))
             else "first above half that size at step")
    ratio = (f"{err_v / err_t:,.1f}x" if err_t > 0 and err_v / err_t < 10 else
             f"{err_v / err_t:,.0f}x" if err_t > 0 else "far above")
    if scale > rise:
        range_txt = (f"{rel_range:.0%} of {_diff(scale, pr)} (the floor: {pr.tname} rose less than that in "
                     f"the log)")
    else:
        range_txt = (f"{rel_range:.0%} of the {_diff(rise, pr)} {pr.tname} rose in the log, from its first "
                     f"logged value {_show(first, pr)} at step {first_step:,} to {_show(top, pr)}, the 98th "
                     f"percentile of its values")
    best_step, best = _best(pr)
    msg = (f"{pr.vname} ends at {_show(a_v, pr)}, {_diff(end_gap, pr)} below {pr.tname} "
           f"{_show(a_t, pr)} at step {int(st[-1]):,} (end levels, derived: {how}); the {SPLIT_WORD[pr.val.split]} error "
           f"({_show(unit, pr)} - accuracy, derived) {_show(err_v, pr)} is {ratio} the training error "
           f"{_show(err_t, pr)}; the gap is {range_txt}; {since} {opened:,}; positive at {pos} of the last "
           f"{sign.n_half} evaluations, sign test p={sign_p:.2g}; last {tail.size} evaluations' mean gap "
           f"{_diff(float(np.mean(tail)), pr)}, one-sided t={t_stat:.1f}, p={t_p:.2g}; Bonferroni p={pval:.2g}; "
           f"the log has no {SPLIT_WORD[pr.val.split]} loss, so the gap is judged on accuracy; {pr.vname} was highest at "
           f"step {best_step:,} ({_show(best, pr)} as logged)"
           + ("" if large else
              f"; below the warning size (validation error {1 + p.warn_gap:g}x the training error with a gap of "
              f"{p.warn_gap_range:.0%} of the training accuracy's rise, or {1 + p.warn_gap_offset:g}x with "
              f"{p.warn_gap_range_offset:.0%} of it): a note"))
    yield Hit(
        message=msg,
        evidence=Evidence("sign-test|t-test (Bonferroni) on the accuracy gap", float(rel_range),
                          float(p.min_gap_range), pval, (int(st[0]), int(st[-1])),
                          {"train_end": a_t, "val_end": a_v, "gap_end": end_gap, "percent": pr.percent,
                           "error_ratio_minus_1": rel_err, "relative_to_rise": rel_range, "train_rise": rise,
                           "train_first": first, "train_top": top, "end_levels": how, "opened_step": opened,
                           "sign_pvalue": sign_p, "t_pvalue": t_p, "t_statistic": t_stat,
                           "t_points": int(tail.size), "best_val_step": best_step, "best_val": best,
                           "val_metric": pr.val.name, "train_metric": pr.train.name}),
        start_step=opened, end_step=int(st[-1]), alpha=p.alpha, split=pr.val.split, metric=pr.val.metric,
        severity=None if large else Severity.INFO,
        values={"gap": f"{_diff(end_gap, pr)} below {pr.tname} ({_show(a_v, pr)} vs {_show(a_t, pr)}, "
                       "end levels)",
                "step": fmt_step(int(st[-1])), "best_step": fmt_step(best_step), "best": _show(best, pr),
                "val_name": pr.vname, "held": SPLIT_WORD[pr.val.split],
                "keep": keep_text(ctx, pr, best_step, best, "Meanwhile keep the model from the best validation "
                                  f"accuracy ({_show(best, pr)} at step {best_step:,}, as logged): "),
                "early_stopping": accuracy_early_stopping(ctx, pr.val, best_step),
                "remedy": accuracy_remedy(ctx, int(st[-1]))},
    )


def accuracy_overfitting(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """OF003: the held-out accuracy peaked well before the end and then fell by a clear margin while the
    training accuracy kept rising (OF001's pattern, read on accuracy when the log has no held-out loss).

    The peak is the maximum of the centred running median (:func:`smooth_min` on the negated values: a lone
    lucky evaluation does not set it), with at least ``min-post-points`` evaluations from it to the end and at
    most ``max-peak-fraction`` of the run's steps before it (the guide: the best point "well before the end").
    The decision is one p-value, OF001's: Simes' combination of the trend test of a decline from the peak to the
    end and the level test that validation held a level below its peak (:func:`level_after_min` on the negated
    accuracy: a step down that stays). The size: from the highest 3-point running median to the median of the
    last evaluations (at least 3) it fell at least ``min-drop-points`` of accuracy and ``min-drop-range`` of
    the range validation accuracy rose from its first logged value (the guide's "10% of its range"). Training
    accuracy rose after the peak (its own trend test, or at least ``min-train-rise`` higher at the end) and its
    mean after the peak is above its level there: a training accuracy that fell with validation is not
    memorising."""
    pr = accuracy_pair(ctx, p.min_points)
    if pr is None:
        return
    unit = pr.unit
    vs, vv = pr.val.finite()
    vs_f = vs.astype(float)
    m = int(smooth_min(vs_f, -vv))
    post = vs >= vs[m]
    span = float(vs[-1] - vs[0])
    if post.sum() < p.min_post_points or span <= 0 or (vs[m] - vs[0]) > p.max_peak_fraction * span:
        return
    peak_step = int(vs[m])
    tr = ctx.trend(pr.val, float(peak_step), float(vs[-1]))
    if tr is None or not np.isfinite(tr.pvalue_decreasing):
        return
    p_trend = float(tr.pvalue_decreasing)
    lvl_stat, p_level = level_after_min(-vv.astype(float), min_post=p.min_post_points)
    pval = float(np.min(adjust_pvalues((p_trend, p_level), "bh")))
    ctx.decide(pval)
    last = vv[post][-max(3, min(int(post.sum()) // 4, vv.size // 10)):]
    end_level = float(np.median(last))
    top3 = float(np.max(np.median(np.lib.stride_tricks.sliding_window_view(vv, 3), axis=1)))
    first = float(vv[0])
    scale = max(top3 - first, p.range_floor * unit)
    drop = top3 - end_level
    drop_range = drop / scale
    if pval >= p.alpha or drop < p.min_drop_points * unit or drop_range < p.min_drop_range:
        return
    ts, tv = pr.train.finite()
    if not (ts > peak_step).any():
        return
    kt = max(1, ts.size // 40)
    j = int(np.searchsorted(ts, peak_step))
    t_at = float(np.median(tv[max(0, j - kt):min(ts.size, j + kt + 1)]))
    t_fin = float(np.median(tv[-kt:]))
    if float(np.mean(tv[ts > peak_step])) <= t_at:
        return  # training accuracy fell with validation: not memorising
    ttr = ctx.trend(pr.train, float(peak_step), float(vs[-1]))
    rising = ttr is not None and np.isfinite(ttr.pvalue_increasing) and ttr.pvalue_increasing < p.alpha
    if not (rising or t_fin - t_at >= p.min_train_rise * unit):
        return
    i_best = int(np.argmax(vv))
    best_step, best = int(vs[i_best]), float(vv[i_best])
    evals_after = int((vs > best_step).sum())
    n_at = min(ts.size, j + kt + 1) - max(0, j - kt)
    fin = "its last value" if kt == 1 else f"the median of its last {kt}"
    t_txt = (f"{tlabel(ttr)} p={ttr.pvalue_increasing:.2g} for the rise" if ttr is not None
             and np.isfinite(ttr.pvalue_increasing) else "no trend test")
    msg = (f"{pr.vname} was highest at step {best_step:,} ({_show(best, pr)} as logged) and fell to "
           f"{_show(end_level, pr)} (median of the last {last.size} evaluations, derived): {_diff(drop, pr)} below "
           f"its highest 3-point running median {_show(top3, pr)}, {drop_range:.0%} of the {_diff(scale, pr)} it "
           f"rose from its first logged value {_show(first, pr)} -- over the next {evals_after} evaluations "
           f"({tname(tr)}={tr.tstat:.1f}, one-sided p={p_trend:.2g} for the decline; level test, the mean after the "
           f"highest running-median window {_diff(lvl_stat, pr)} below it, p={p_level:.2g}; Simes p={pval:.2g}), "
           f"while {pr.tname} kept rising ({_show(t_at, pr)} -> {_show(t_fin, pr)}: the median of its {n_at} "
           f"points around step {peak_step:,}, then {fin}; {t_txt}): the model is overfitting; the log has no "
           f"{SPLIT_WORD[pr.val.split]} loss, so this is judged on accuracy; step {best_step:,} is the "
           "early-stopping point")
    yield Hit(
        message=msg,
        evidence=Evidence(f"{tr.method}|level (Simes) on the accuracy", float(drop_range), float(p.min_drop_range),
                          pval, (best_step, int(vs[-1])),
                          {"trend_pvalue": p_trend, "level_pvalue": p_level, "level_statistic": lvl_stat,
                           "best_val": best, "best_step": best_step, "peak_level": top3, "end_level": end_level,
                           "drop": drop, "drop_of_range": drop_range, "val_first": first, "train_at_peak": t_at,
                           "train_end": t_fin, "train_rising_pvalue": None if ttr is None
                           else float(ttr.pvalue_increasing), "percent": pr.percent,
                           "smoothed_peak_step": peak_step}),
        start_step=best_step, end_step=int(vs[-1]), alpha=p.alpha, split=pr.val.split, metric=pr.val.metric,
        values={"step": fmt_step(best_step), "best": _show(best, pr), "val_name": pr.vname,
                "keep": keep_text(ctx, pr, best_step, best, f"Keep the model from step {best_step:,} ({pr.vname} "
                                  f"{_show(best, pr)}, as logged) and stop there next time: "),
                "when": when_best(best_step, vs, "peak"),
                "early_stopping": accuracy_early_stopping(ctx, pr.val, best_step),
                "remedy": accuracy_remedy(ctx, best_step)},
    )


DETECTORS = {"accuracy-gap": accuracy_gap, "accuracy-overfitting": accuracy_overfitting}
