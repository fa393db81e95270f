"""Train/validation relations: overfitting (OF001), a large gap (GP001), val below train (GP002).

Validation losses are compared with the training loss *at the same steps*: the mean of the
training losses logged in the last quarter of the interval since the previous evaluation
(:func:`_common.aligned`), so a noisy per-step training loss is not compared point-to-point. GP001's
size at the end uses :func:`end_levels` (whole intervals, Theil-Sen fit lines); GP001/GP002 use the
training loss the log estimated at the evaluations the way it estimated val when there is one
(:func:`gap_train`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from scipy.stats import binomtest, mannwhitneyu, theilslopes, ttest_1samp

from lossdoc.analysis._arrays import last_quarter_bounds, search
from lossdoc.analysis.stats import adjust_pvalues
from lossdoc.checks.context import never_negative
from lossdoc.checks.detectors._common import (
    SPLIT_WORD,
    TINY,
    aligned,
    descent_ends,
    descent_scale,
    fmt_num,
    fmt_step,
    framework_remedies,
    held_word,
    noise_sd,
    range_scale,
    rel,
    smooth_min,
    tlabel,
    tname,
)
from lossdoc.checks.engine import Hit, RunContext, Series, robust_trend
from lossdoc.checks.findings import Evidence, Severity
from lossdoc.checks.series import is_component_sum, summed_components


def overfitting(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Validation loss bottoms out, then rises significantly while the training loss still falls.

    The held-out loss is the validation loss, or the test loss of a log that evaluates on a test split
    only (``Train Loss: ... Test Loss: ...`` of a hand-rolled loop: its test set is the one held out during
    training), as :func:`lossdoc.checks.series.held_out_loss` and the report's chart take it.

    A validation loss the log gives only as components (YOLO's val/box_loss, val/seg_loss, val/cls_loss,
    val/dfl_loss, judged as their sum) can hide a component that overfits behind one that still falls
    (a classification term falling 3.3 -> 1.8 while the box term rises 0.31 -> 0.56 and its training
    term keeps falling). When the sum does not overfit, each validation component with a training
    counterpart of the same name is tested the same way against that counterpart, and reported only when
    its rise is at least part-rise-range of the range it covered and the counterpart fell at least
    part-train-drop of its own range after the minimum."""
    if s is None or (s.split == "test" and ctx.loss("val") is not s):
        return  # the held-out loss is the validation loss; a test loss only when the log has no validation
    hits = list(_overfitting(ctx, s, ctx.loss("train"), p))
    yield from hits
    sm = ctx.series_map()
    if hits or not is_component_sum(sm, s):
        return
    # the terms of the sum, as resolve_loss adds them (a term 0 throughout is in neither the sum nor here)
    parts = [(c, sm.get(("train", c.metric))) for c in summed_components(sm, s.split)]
    for c, t in parts:
        if t is not None:
            yield from _overfitting(ctx, c, t, p, part=True)


def _overfitting(ctx: RunContext, s: Series, train: Series | None, p: SimpleNamespace,
                 part: bool = False) -> Iterator[Hit]:
    vs, vv = s.finite()
    if vs.size < p.min_points:
        return
    m, smooth_level = smooth_min(vs.astype(float), vv, value=True, centre_edges=True)
    post = vs >= vs[m]
    if post.sum() < p.min_post_points:
        if not part:
            yield from _short_rise(ctx, s, train, p, int(post.sum()))
        return
    best_step, best = int(vs[m]), float(vv[m])
    tr = ctx.trend(s, best_step, float(vs[-1]))
    if tr is None or not np.isfinite(tr.pvalue_increasing):
        return
    tail = vv[post][-max(2, int(post.sum()) // 4):]
    end = float(np.mean(tail))
    rise = rel(end, best)
    # the decision, one p-value: Simes' combination of the trend test from the minimum to the end (a
    # steady rise) and the level test (validation held a level above its minimum: a step up that stays,
    # or a rise that partly came back, which has no monotone trend to find)
    lvl_stat, p_level = level_after_min(_level_points(ctx, s, vv), min_post=p.min_post_points)
    p_trend = float(tr.pvalue_increasing)
    # (Simes' p is the smallest Benjamini-Hochberg adjusted p-value: min(1, 2 min(p), max(p)) for two)
    pval = float(np.min(adjust_pvalues((p_trend, p_level), "bh")))
    # where validation *ends*: the median of its last few evaluations (a steady rise is understated by
    # the mean of the whole last quarter); this sets the severity
    last = vv[post][-max(3, min(int(post.sum()) // 4, vs.size // 10)):]
    end_level = float(np.median(last))
    # ...and the minimum of its 3-point running median (a lone low evaluation does not set the level)
    min_level = float(np.min(np.median(np.lib.stride_tricks.sliding_window_view(vv, 3), axis=1)))
    ctx.decide(pval)
    if not (pval < p.alpha and rise >= p.min_rise):
        return
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
    # how far the training loss still moved after the val minimum, as a share of the range it covered
    # (medians of ~5% of its points at the val minimum and at the end): near zero, "fell 96%" can be
    # 0.002 -> 0.0001, a model that had already fitted its training set
    kt = max(1, ts.size // 40)
    j = int(search(ts, best_step))
    t_at = float(np.median(tv[max(0, j - kt):min(ts.size, j + kt + 1)]))
    t_fin = float(np.median(tv[-kt:]))
    t_scale = range_scale(ctx, train, t_at)
    train_drop = (t_at - t_fin) / t_scale
    # validation held a level above its minimum *while* training held one below its level there: a
    # training loss that rose with validation and came back (a wandering run, 7.1 -> 8.0 -> 7.1 on both)
    # made validation worse by getting worse itself, not by memorising. "Held a level above" is a claim
    # about noisy values, tested: its values after the minimum against the 2 kt + 1 around it (t_at's),
    # one-sided Mann-Whitney at alpha, and their median at or above t_at. Per-batch losses are heavy-tailed
    # and skewed (0.04-1.17 about a median of 0.33): their mean sits above their median, and the median of
    # the ~11 points around the minimum is itself a noisy level (a dip to 0.29 beside a flat 0.33), so
    # "the mean after >= that median", the earlier veto, held on a training loss that never rose. A veto
    # only: the p-value is in no false-discovery family and no message
    t_after = tv[ts > best_step]
    t_near = tv[max(0, j - kt):min(ts.size, j + kt + 1)]
    if (t_after.size and float(np.median(t_after)) >= t_at
            and float(mannwhitneyu(t_after, t_near, alternative="greater").pvalue) < p.alpha):
        return
    # a non-negative training loss already within fitted-level of the range of zero at the val minimum
    # (cross-entropy 0.02 after starting at 2.3): the training set was fitted, there was little left to fall
    fitted = never_negative(train) and t_at <= p.fitted_level * t_scale
    # the numbers a reader checks against the log: the logged minimum and its step (the smoothed
    # minimum above only anchors the test window)
    i_min = int(np.argmin(vv))
    low_step, low = int(vs[i_min]), float(vv[i_min])
    evals_after = int((vs > low_step).sum())
    if evals_after < tail.size:
        # the lowest logged value is among the last evaluations the end level averages: validation came back to
        # (or below) everything before as the log ends -- no rise to report, and "lowest at step 100, rose over
        # the next 0 evaluations" would contradict itself (esther-soyoung/latent_ode: a test loss flat at 34.9-36
        # for 50 epochs with one 40.0, whose last evaluation, 34.67, was its lowest)
        return
    # harm by size: a rise that is a small share of the range validation covered (0.188 -> 0.207 after
    # falling from 2.3) is a note with the checkpoint advice, not a warning
    rise_range = (end_level - min_level) / range_scale(ctx, s, best)
    # ...or on its own level. The range runs from where the loss started, and a loss that fell by orders of
    # magnitude (an un-normalised regression MSE 4735 -> 49, a classifier's val loss ending near 0.05) has
    # a range tens of times its level, set by the first evaluation or two: 5% of it asks for a rise of
    # several times the level. A never-negative validation loss that ended warn-rise-level above its
    # minimum level is large too. 20% is what the range clause already asks of a classifier falling
    # 2.3 -> 0.5 (5% of 1.8 = 18% of 0.5), so the level clause changes nothing for a loss that fell less
    # than ~5x and caps the bar for one that fell further (a loss that can be negative has no level to
    # measure against: the range alone). The level is the minimum of the running median over ~5% of the
    # evaluations (smooth_min's, which places the minimum): measured on the level, the lowest 3-point
    # median of a long noisy series is a noise extreme (0.33 where 2,255 evaluations scattered +-0.03 about
    # 0.39), a bias a rise measured on the range dwarfs
    level_rise = ((end_level - smooth_level) / smooth_level
                  if smooth_level > 0 and never_negative(s) else None)
    # ...and only a rise that stands out from the evaluations' own scatter: the level of a near-zero loss can
    # sit below its point noise (a YOLO val loss scattered between 4e-05 and 0.09 "rose 950%" from 8e-05 to
    # 8.4e-04), where a multiple of the level is noise; the range clause's denominator dwarfs the noise already
    level_noise = noise_sd(vv[m:])
    on_level = (level_rise is not None and level_rise >= p.warn_rise_level
                and end_level - smooth_level >= p.warn_rise_noise * level_noise)
    # a warning needs both: val ended a real share of its range (or of its level) above the minimum, and
    # the training loss was still being fitted -- not already near zero (fitted) and then moving
    # < warn-train-drop of its range: validation drifting up after the training set was fitted is a note
    # with the checkpoint advice
    big = rise_range >= p.warn_rise_range or on_level
    fitting = not fitted or train_drop >= p.warn_train_drop
    sev = None if big and fitting else Severity.INFO
    if part and not (rise_range >= p.part_rise_range and train_drop >= p.part_train_drop):
        # a component stands in for the summed loss only with a rise and a training fall that are large on
        # its own scale (a dfl term 3% above its minimum while its training term moved 1% of its range is
        # noise the sum rightly absorbs)
        return
    keep = ctx.checkpoint_for(s, low_step)
    if keep is None:
        stop = f"step {low_step:,} is the early-stopping point"
        keep_step, keep_val = low_step, low
    elif keep[0] == low_step:
        stop = f"step {low_step:,} is the early-stopping point (a checkpoint was saved there)"
        keep_step, keep_val = low_step, low
    else:
        keep_step, keep_val = keep[0], keep[1]
        # the value is the last evaluation at or before the checkpoint: say where it was logged when that
        # is not the checkpoint's own step (0.1567 logged at step 1,626 is not "step 2,000 (0.1567)")
        seen = "" if keep[3] is None or keep[3] == keep_step else f", logged at step {keep[3]:,}, the last evaluation before it"
        stop = (f"no checkpoint was saved at step {low_step:,} ({keep[2]}); the saved one with the lowest "
                f"{s.label} is step {keep_step:,} ({fmt_num(keep_val)}{seen})")
    who = f"its training counterpart {train.label}" if part else "the training loss"
    if fitting:
        train_txt = (f"while {who} fell {-t_change:.0%} ({train_drop:.0%} of the range it covered): "
                     f"the model is overfitting")
    else:
        # medians around the smoothed minimum (not the logged one the message names), then at the end: say so
        n_at = min(ts.size, j + kt + 1) - max(0, j - kt)
        fin = "its last value" if kt == 1 else f"the median of its last {kt}"
        where = f"around step {best_step:,}" + ("" if best_step == low_step else
                                                ", where validation's running median is lowest")
        train_txt = (f"after {who} had levelled off near zero ({fmt_num(t_at)} -> {fmt_num(t_fin)}: the median "
                     f"of its {n_at} points {where}, then {fin}; "
                     f"{max(train_drop, 0.0):.1%} of the range it covered): validation drifted up once the "
                     f"training set was fitted")
    msg = (f"{s.label} was lowest at step {low_step:,} ({fmt_num(low)} as logged) and rose to {fmt_num(end)} "
           f"(mean of the last {tail.size} evaluations, {rel(end, low):.0%} above that minimum; the median of the "
           f"last {last.size}, {fmt_num(end_level)}, is {rise_range:.0%} of the range it covered"
           + " above the lowest 3-point running median " + fmt_num(min_level)
           + ("" if level_rise is None else f", {level_rise:.0%} above the smoothed minimum "
              f"{fmt_num(smooth_level)}, the lowest running median over ~5% of the evaluations (at least 3)")
           + f") over the next "
           f"{evals_after} evaluations ({tname(tr)}={tr.tstat:.1f}, one-sided p={p_trend:.2g}; level test, "
           f"the mean after the lowest running-median window {fmt_num(lvl_stat)} above it, p={p_level:.2g}; "
           f"Simes p={pval:.2g}) "
           f"{train_txt}" + (f" (the summed validation loss {ctx.loss(s.split).name} did not rise)" if part else "")
           + f"; {stop}")
    patience = max(2, min(5, evals_after // 3))
    early_stopping, remedy = framework_remedies(ctx, low_step)
    yield Hit(
        message=msg,
        evidence=Evidence(f"{tr.method}|level (Simes)", float(tr.tstat), float(p.min_rise), pval,
                          (best_step, int(vs[-1])),
                          {"trend_pvalue": p_trend, "level_pvalue": p_level, "level_statistic": lvl_stat,
                           "best_val": low, "end_val": end, "rise": rise, "rise_of_range": rise_range,
                           "rise_of_level": level_rise, "smoothed_min_level": smooth_level,
                           "noise_after_min": level_noise,
                           "train_change": t_change, "train_drop_of_range": train_drop, "train_fitted": fitted,
                           "end_level": end_level, "min_level": min_level,
                           "best_step": low_step, "smoothed_best_val": best,
                           "smoothed_best_step": best_step, "keep_step": keep_step}),
        start_step=low_step, end_step=int(vs[-1]), alpha=p.alpha, severity=sev,
        values={"held": "test" if s.split == "test" else "val",
                "step": fmt_step(keep_step), "best": fmt_num(keep_val) + (f" in {s.label}" if part else "")
                + ("" if keep is None or keep[3] is None or keep[3] == keep_step else f", as logged at step {keep[3]:,}"),
                "patience": patience, "when": when_best(low_step, vs),
                # the best step is the lowest logged evaluation (the checkpoint to keep is named above)
                "early_stopping": early_stopping, "remedy": remedy},
    )


def when_best(best_step: int, vs: np.ndarray, what: str = "minimum") -> str:
    """Where in the run the validation ``what`` (its minimum; a validation accuracy's peak) came, for the advice,
    ``vs`` the evaluations' steps: at the first evaluation, the best point may lie before it (the first evaluation
    comes after some training), which "stop there" alone does not say."""
    if best_step <= vs[0]:
        return (f"the {what} was the first evaluation, so the best point may lie before it: evaluate more often "
                "early in training to find it")
    return f"the {what} came {(best_step - vs[0]) / max(vs[-1] - vs[0], 1):.0%} of the way through"


def _short_rise(ctx: RunContext, s: Series, train: Series | None, p: SimpleNamespace, have: int) -> Iterator[Hit]:
    """Too few evaluations after the minimum for the rise test (``have``, fewer than min-post-points, from the
    lowest running median on), but a rise large by its size alone: a note (inconclusive) that names the
    early-stopping point.

    An 8-epoch log whose validation loss was lowest at epoch 5 (1.170) and then rose at each of the 2 evaluations
    after it (1.22, 1.26) while the training loss kept falling cannot reach alpha with any test (two points
    after a minimum), and the min-post-points gate said nothing at all. The effect-size route: at least 2
    evaluations after the logged minimum; the last of them the highest since the minimum (still rising as the log
    ends); that rise at least short-rise-range of the range validation covered down to its minimum and (a
    never-negative loss) short-rise-level of the minimum's level; the training loss's last logged value below its
    value at the minimum. Such a rise on so few points can be noise, so it is a note, never a warning, and its
    evidence carries no p-value (it joins no false-discovery family)."""
    rr, rl = getattr(p, "short_rise_range", None), getattr(p, "short_rise_level", None)
    if train is None or rr is None or rl is None:
        return
    vs, vv = s.finite()
    i = int(np.argmin(vv))
    after = vv[i + 1:]
    if after.size < 2 or after.size >= p.min_post_points:
        return
    low, end = float(vv[i]), float(after[-1])
    span = float(np.max(vv[:i + 1])) - low
    if span <= 0 or (end - low) < rr * span:
        return
    rising = bool(np.all(np.diff(after) > 0)) and float(after[0]) > low
    # not rising at each evaluation (0.136 -> 0.154, 0.220, 0.190): the rise persisted when every evaluation after
    # the minimum stayed above it by half of what the end must rise on one of its scales (half of short-rise-range
    # of the range, or of a never-negative loss half of short-rise-level of the level): one evaluation back near
    # the minimum is noise
    need = rr * span if not never_negative(s) or low <= 0 else min(rr * span, rl * low)
    if not rising and float(np.min(after)) - low < 0.5 * need:
        return
    level_rise = (end - low) / low if low > 0 and never_negative(s) else None
    if never_negative(s) and (level_rise is None or level_rise < rl):
        return
    ts, tv = train.finite()
    at = ts <= vs[i]
    if not at.any() or not (ts > vs[i]).any():
        return
    t_at, t_at_step, t_end, t_end_step = float(tv[at][-1]), int(ts[at][-1]), float(tv[-1]), int(ts[-1])
    if not t_end < t_at:
        return
    low_step, end_step = int(vs[i]), int(vs[-1])
    keep = ctx.checkpoint_for(s, low_step)
    keep_step, keep_val = (low_step, low) if keep is None else (keep[0], keep[1])
    early_stopping, remedy = framework_remedies(ctx, low_step)
    how = (f"rose at each of the {after.size} evaluations after it" if rising else
           f"stayed above it at each of the {after.size} evaluations after it (the lowest of them "
           f"{fmt_num(float(np.min(after)))}, the highest {fmt_num(float(np.max(after)))})")
    msg = (f"{s.label} was lowest at step {low_step:,} ({fmt_num(low)} as logged) and {how}, "
           f"{'to' if rising else 'ending at'} {fmt_num(end)} at step {end_step:,} "
           f"({(end - low) / span:.0%} of the range it came down to that minimum"
           + ("" if level_rise is None else f", {level_rise:.0%} above the minimum")
           + f", derived), while the training loss fell from {fmt_num(t_at)} at step {t_at_step:,} to "
           f"{fmt_num(t_end)} at step {t_end_step:,} (as logged); too few evaluations for the rise test, which needs "
           f"{p.min_post_points} from the lowest running median on ({have} here): the start of overfitting, or "
           f"noise (inconclusive): a note; step {low_step:,} is the early-stopping point so far")
    yield Hit(
        message=msg,
        evidence=Evidence("rise-after-minimum (effect size)", (end - low) / span, float(rr), None,
                          (low_step, end_step),
                          {"best_val": low, "best_step": low_step, "end_val": end, "evals_after": int(after.size),
                           "rise_of_range": (end - low) / span, "rise_of_level": level_rise,
                           "train_at_best": t_at, "train_end": t_end, "keep_step": keep_step}),
        start_step=low_step, end_step=end_step, severity=Severity.INFO,
        values={"held": "test" if s.split == "test" else "val",
                "step": fmt_step(keep_step), "best": fmt_num(keep_val), "patience": 2, "when": when_best(low_step, vs),
                "early_stopping": early_stopping, "remedy": remedy},
    )


#: The level test (:func:`level_after_min`) runs on at most this many points (bin means beyond it)...
LEVEL_POINTS = 120
#: ...with this many simulated null series (seeded: the same log gives the same p-value).
LEVEL_SIMULATIONS = 999


def _level_points(ctx: RunContext, s: Series, vv: np.ndarray) -> np.ndarray:
    """The validation values the level test sees, in order: as logged, or bin means beyond :data:`LEVEL_POINTS`."""
    if vv.size <= LEVEL_POINTS:
        return vv.astype(float)
    _, y, _ = ctx.downsampled(s, LEVEL_POINTS)
    return y[np.isfinite(y)].astype(float)


def _level_stat_windows(y: np.ndarray, k: int, after: int) -> np.ndarray:
    """Medians of the k-point windows followed by at least ``after`` points (along the last axis)."""
    return np.median(np.lib.stride_tricks.sliding_window_view(y[..., :y.shape[-1] - after], k, axis=-1), axis=-1)


def _level_stat(y: np.ndarray, k: int, after: int) -> np.ndarray:
    """Per row of ``y`` (b x n): the mean of every point after the k-point window with the lowest median
    (among the windows followed by at least ``after`` points) minus that median."""
    n, rows = y.shape[1], np.arange(y.shape[0])
    w = _level_stat_windows(y, k, after)
    j = np.argmin(w, axis=1)
    tail_sum = np.cumsum(y[:, ::-1], axis=1)[:, ::-1]  # tail_sum[:, i] = sum of y[:, i:]
    start = j + k
    return tail_sum[rows, start] / (n - start) - w[rows, j]


#: Successive differences needed after the lowest window to estimate the noise's autocorrelation.
LEVEL_AR_DIFFS = 10


def _ar1_from_differences(y: np.ndarray) -> float:
    """AR(1) coefficient of the noise from the lag-1 autocorrelation r of the median-centred successive
    differences (phi = 1 + 2r), clipped to [0, 0.9]; 0 with fewer than :data:`LEVEL_AR_DIFFS`."""
    d = np.diff(y)
    if d.size < LEVEL_AR_DIFFS:
        return 0.0
    dc = d - np.median(d)
    den = float(np.sum(dc * dc))
    if den <= 0:
        return 0.0
    return min(max(1.0 + 2.0 * float(np.sum(dc[1:] * dc[:-1])) / den, 0.0), 0.9)


def level_after_min(y: np.ndarray, *, min_post: int = 4) -> tuple[float, float]:
    """(statistic, one-sided p-value) that validation ``y`` (its evaluations in order; their steps do not
    enter: the statistic is a mean over evaluations and the null's fit an ordering) *held a level above*
    its lowest one after reaching it.

    The statistic: the mean of every evaluation after the window (of :func:`smooth_min`'s width) with the
    lowest median, minus that median. A step up that stays (0.157 -> 0.21 with a zig-zag around it) or a
    rise that partly came back (0.50 -> 0.71 -> 0.64) has no monotone trend for a trend test to find,
    but holds a level above the minimum.

    The null: a validation loss that never rose -- its non-increasing least-squares fit
    (``scipy.optimize.isotonic_regression``) plus independent normal noise of the point noise s.d.
    measured from successive differences (:func:`noise_sd`: a level shift is one difference, not
    spread). The p-value is the share of :data:`LEVEL_SIMULATIONS` such series whose statistic, the
    window chosen afresh (the search for the minimum is part of the test), reaches the observed one.
    With 10+ successive differences from the lowest window on (:data:`LEVEL_AR_DIFFS`) the null noise is
    AR(1), its coefficient estimated from them (:func:`_ar1_from_differences`). On simulated converged curves (an exponential descent to a flat
    level, 8-50 evaluations) it rejects at 0.05: 2-4% of iid-normal, 2-4% of t(3), 1-9% of AR(1) 0.3 and
    0-11% of AR(1) 0.6 series (without the AR(1) null: up to 19% and 52% at 50 evaluations; the trend test
    16% and 28%); the effect-size bars stay."""
    from scipy.optimize import isotonic_regression

    n = y.size
    k = max(5, n // 20) if n >= 15 else 3
    # evaluations after the window: min_post counted from the window's centre (OF001's
    # min-post-points, counted from the minimum), and at least 2
    after = max(2, min_post - 1 - k // 2)
    if n < k + after:
        return 0.0, 1.0
    t = float(_level_stat(y[None, :], k, after)[0])
    if not (np.isfinite(t) and t > 0):
        return t, 1.0
    sd = noise_sd(y)
    if sd <= 0:
        # most successive differences equal (a booster's eval metric flat to the last digit, or values
        # rounded to a few decimals): the mean absolute deviation of the differences, which the jumps
        # between rounding levels still reach (normal-consistent, sqrt(pi/2)); 0 only for a curve with
        # no point noise at all, whose null series is its fit
        d = np.diff(y)
        sd = float(np.sqrt(np.pi / 2) * np.mean(np.abs(d - np.median(d))) / np.sqrt(2))
    fit = np.asarray(isotonic_regression(y, increasing=False).x, dtype=float)
    rng = np.random.default_rng(0)
    # autocorrelated noise (a validation loss that wanders) makes a level look held: with at least
    # LEVEL_AR_DIFFS successive differences from the lowest window on, their lag-1 autocorrelation r gives
    # the AR(1) coefficient phi = 1 + 2r of the noise (iid noise: r = -1/2, phi = 0), clipped to [0, 0.9],
    # and the null noise is AR(1) with it (sd / sqrt(1 - phi): the differences see only 1 - phi of it)
    phi = _ar1_from_differences(y[int(np.argmin(_level_stat_windows(y, k, after))):])
    if phi > 0:
        sig = sd / np.sqrt(1.0 - phi)
        noise = rng.normal(0.0, sig * np.sqrt(1.0 - phi * phi), (LEVEL_SIMULATIONS, n))
        noise[:, 0] = rng.normal(0.0, sig, LEVEL_SIMULATIONS)
        # the AR(1) recursion x[i] = e[i] + phi x[i-1] along each series (bit for bit the loop it replaced;
        # scipy.signal imported here: only this branch needs it)
        from scipy.signal import lfilter

        noise = lfilter([1.0], [1.0, -phi], noise, axis=1)
    else:
        noise = rng.normal(0.0, sd, (LEVEL_SIMULATIONS, n))
    sims = _level_stat(fit[None, :] + noise, k, after)
    return t, (1 + int(np.sum(sims >= t))) / (LEVEL_SIMULATIONS + 1)


def gap_train(ctx: RunContext, val: Series | None) -> Series | None:
    """The training loss to hold the validation loss against: the training loss *estimated at the
    evaluations the way the validation loss is* when the log has one (nanoGPT's ``step N: train loss X,
    val loss Y``: eval mode, no dropout, the same number of batches), else the training loss as logged.
    A per-batch loss with dropout on sits above the model's eval-mode loss on the same data, which
    shrinks the gap (nanoGPT, dropout 0.2: 1.90 per batch vs 1.80 estimated, against val 2.90)."""
    est = ctx.series("train", "estimated_loss")
    if val is not None and est is not None:
        es, _ = est.finite()
        vs, _ = val.finite()
        if es.size >= 3 and np.isin(vs, es).mean() >= 0.8:
            return est
    return ctx.loss("train")


def _t_greater(x: np.ndarray) -> tuple[float, float]:
    """(t, p) of the one-sided one-sample t-test that the mean of ``x`` is above 0
    (``scipy.stats.ttest_1samp``). Identical values (zero spread, where scipy warns of catastrophic
    cancellation) give t = +-inf and p = 0 or 1 by their sign."""
    m = x.size
    mean = float(np.mean(x))
    if m < 2 or not np.isfinite(mean):
        return 0.0, 1.0
    if float(np.std(x, ddof=1)) <= 1e-12 * max(abs(mean), TINY):
        return (math.inf, 0.0) if mean > 0 else (-math.inf if mean < 0 else 0.0, 1.0)
    res = ttest_1samp(x, 0.0, alternative="greater")
    return float(res.statistic), float(res.pvalue)


class GapSign(NamedTuple):
    """That an end gap (validation minus training, or its accuracy mirror) is positive, as one decision."""

    pos: int  #: evaluations after the first quarter of the run with a positive gap...
    n_half: int  #: ...of this many
    sign_p: float  #: exact sign test over them
    tail: np.ndarray  #: the last third of the gaps (at least 3)
    t_stat: float
    t_p: float  #: one-sided t-test that their mean is above 0
    pval: float  #: Bonferroni minimum of the two


def gap_positive(st: np.ndarray, gap: np.ndarray) -> GapSign:
    """The Bonferroni minimum of an exact sign test over the evaluations after the first quarter of the
    run and a one-sided t-test over the last third (GP001, GP003)."""
    half = gap[st >= st[0] + 0.25 * (st[-1] - st[0])]
    if half.size < 2:
        half = gap[-2:]
    pos = int(np.sum(half > 0))
    sign_p = float(binomtest(pos, half.size, 0.5, alternative="greater").pvalue)
    tail = gap[-max(3, st.size // 3):]
    t_stat, t_p = _t_greater(tail)
    return GapSign(pos, int(half.size), sign_p, tail, t_stat, t_p, min(1.0, 2.0 * min(sign_p, t_p)))


#: Evaluations the end levels' fit lines go through at most: Theil-Sen takes every pair of points (k^2 / 2 slopes,
#: in memory at once), so a validation loss logged at every one of 100,000 steps (k = 20,000) cost 87 s and
#: 10 GB; the last 1,000 evaluations fix a line as well as the last 20,000 do.
MAX_END_EVALS = 1000


def end_k(n: int) -> int:
    """How many of ``n`` aligned evaluations :func:`end_levels` fits: the last fifth, at least 3, at most
    :data:`MAX_END_EVALS`."""
    return min(max(3, n // 5), MAX_END_EVALS)


def end_levels(train: Series, st: np.ndarray, vl: np.ndarray, k: int) -> tuple[float, float, float] | None:
    """(training level, validation level, the training level's step) at the end of the run, from
    Theil-Sen fit lines through the last ``k`` evaluations.

    Validation: the line through the values as logged, at the last evaluation ``st[-1]`` (a mean of the
    last evaluations describes the middle of that window, not its end). Training: the line through the
    mean of *all* the training losses logged in each interval between evaluations, placed at the mean
    step of those losses, read at the last interval's mean step. A whole interval averages every batch
    of an epoch (a last-quarter window sees the same quarter of the data each epoch, which can sit 10%
    above or below the rest); the line is not extrapolated to the evaluation, so while the training loss
    still falls its level is if anything overstated and the gap understated. None when fewer than 2
    intervals hold training losses."""
    ts, tv = train.finite()
    if ts.size == 0 or st.size < 2:
        return None
    k = min(k, st.size - 1)  # each interval needs the previous evaluation as its start
    lo_steps, hi_steps = st[-k - 1:-1], st[-k:]
    lo = search(ts, lo_steps, side="right")
    hi = search(ts, hi_steps, side="right")
    cnt = hi - lo
    ok = cnt > 0
    if ok.sum() < 2:
        return None
    cs_v = np.concatenate(([0.0], np.cumsum(tv[lo[0]:hi[-1]], dtype=float)))
    cs_s = np.concatenate(([0.0], np.cumsum(ts[lo[0]:hi[-1]], dtype=float)))
    a, b = lo[ok] - lo[0], hi[ok] - lo[0]
    means = (cs_v[b] - cs_v[a]) / cnt[ok]
    where = (cs_s[b] - cs_s[a]) / cnt[ok]
    slope, icpt, _, _ = theilslopes(means, where)
    t_end = float(icpt + slope * where[-1])
    vslope, vicpt, _, _ = theilslopes(vl[-k:], st[-k:].astype(float))
    v_end = float(vicpt + vslope * float(st[-1]))
    if not (np.isfinite(t_end) and np.isfinite(v_end)):
        return None
    # a fit line is read inside the data it was fitted on, so it never leaves that data's span: a steep
    # Theil-Sen line through the interval means of a loss falling to ~0.001 can reach -0.009 at the
    # last one, a training level no never-negative loss had (and a gap "614% above" it)
    t_end = min(max(t_end, float(np.min(means))), float(np.max(means)))
    vw = vl[-k:]
    v_end = min(max(v_end, float(np.min(vw))), float(np.max(vw)))
    return t_end, v_end, float(where[-1])


def train_val_gap(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Validation loss well above the training loss at the same steps at the end of the run: reported
    when large (severity by size), growing or not, wherever it opened.

    The size is stated relative to the *training* loss (val 3.1 vs train 0.56 is "453% above the training
    loss"), and must also be a real share of the range the training loss came down (:func:`descent_scale`;
    near zero, 0.02 vs 0.01 is "100% above" but no gap anyone would act on). Both levels are taken at the last evaluation
    (:func:`end_levels`: Theil-Sen fit lines through the last fifth of the evaluations, at least 3, at most
    1,000).

    That the gap is positive is one decision with one p-value, the Bonferroni minimum of two exact
    tests on the aligned gaps (each evaluation against the training level logged just before it): a
    sign test over the evaluations after the first quarter of the run (the initial transient, where a
    regularised model's val is often below its train loss, is left out), which holds against
    heavy-tailed gaps on long runs; and a one-sided one-sample t-test over the last third of the
    evaluations (at least 3), which has the power on short runs whose gap opened midway (5-10
    evaluations, the first ones below zero). Its growth: the run's trend test."""
    train = gap_train(ctx, s)
    if s is None or train is None:
        return
    al = aligned(ctx, train, s)
    if al is None or al[0].size < p.min_points:
        return
    st, tl, vl = al
    scale = ctx.meta.get("val_loss_scale")
    if scale:
        # the reader knows the two losses are on different scales (Joey NMT: summed over the validation set vs per
        # batch): their difference is no gap; said once, as a note, so that its absence is not read as "no gap"
        yield Hit(
            message=f"not compared: {scale}, so the {held_word(s)} and the training loss are on different "
                    "scales and their difference is not a train-validation gap (inconclusive): a note",
            evidence=Evidence("scales differ (reader)", float("nan"), float("nan"), None, (int(st[0]), int(st[-1])),
                              {"why": scale}),
            start_step=int(st[0]), end_step=int(st[-1]), split=s.split, metric="loss", severity=Severity.INFO,
            values={"lead": "No gap can be measured between losses on different scales: to compare them,",
                    "remedy": "log both per token (the validation loss per token is ln of the logged ppl)"})
        return
    gap = vl - tl
    k = end_k(st.size)
    lv = end_levels(train, st, vl, k)
    if lv is None:
        kk = max(2, st.size // 5)
        end_train, end_val = float(np.mean(tl[-kk:])), float(np.mean(vl[-kk:]))
        how = f"means of the last {kk} evaluations"
    elif train.metric == "estimated_loss":
        end_train, end_val, _ = lv
        how = (f"Theil-Sen fit lines through the last {min(k, st.size - 1):,} evaluations at step {int(st[-1]):,}: "
               f"{SPLIT_WORD.get(s.split, s.split)}, and the training loss the log estimated at each evaluation "
               "the same way")
    else:
        end_train, end_val, t_at = lv
        how = (f"Theil-Sen fit lines through the last {min(k, st.size - 1):,} evaluations: "
               f"{SPLIT_WORD.get(s.split, s.split)} at step "
               f"{int(st[-1]):,}, training through the mean loss of each interval between evaluations, "
               f"{mean_step_text(train, t_at)}")
    end_gap = end_val - end_train
    if end_gap <= 0:
        return
    rel_train = end_gap / max(abs(end_train), TINY)
    scale = descent_scale(ctx, train, end_train)
    rel_range = end_gap / scale
    # what the range is, in the log's own numbers: from the first *logged* value (not the untrained loss when
    # the log starts after training began: a coarser logging interval, per-epoch means, HF's first log at
    # logging_steps) down to the 2nd percentile of the bin means (derived)
    ends = descent_ends(ctx, train)
    if ends is None or scale > ends[0] - ends[2] + TINY:
        range_txt = (f"{rel_range:.0%} of {fmt_num(scale)}, 1% of the training level (the floor: the training loss "
                     f"came down less than that in the log)")
    else:
        range_txt = (f"{rel_range:.0%} of the range the training loss came down in the log, {fmt_num(scale)}: from "
                     f"its first logged value {fmt_num(ends[0])} at step {ends[1]:,} to {fmt_num(ends[2])}, the 2nd "
                     f"percentile of its bin means; a log that starts after training began understates that range")
    sign = gap_positive(st, gap)
    pos, sign_p, tail, t_stat, t_p, pval = sign.pos, sign.sign_p, sign.tail, sign.t_stat, sign.t_p, sign.pval
    ctx.decide(pval)
    if rel_train < p.min_gap or rel_range < p.min_gap_range or pval >= p.alpha:
        return
    tr = robust_trend(st.astype(float), gap)
    grows = bool(tr is not None and np.isfinite(tr.pvalue_increasing) and tr.pvalue_increasing < p.alpha
                 and gap[-1] > gap[0])
    i_open = int(np.argmax(gap > 0.5 * end_gap))
    opened = int(st[i_open])
    # "since": it stayed above half the end gap from then on; else only where it first got there
    since = ("above half that size since step" if bool(np.all(gap[i_open:] > 0.5 * end_gap))
             else "first above half that size at step")
    # large: val 1.4x train (warn-gap) and 15% of the range the training loss came down; or, on a high-offset loss
    # (a classifier at 1.1 nats that came down 0.34), a gap as large as half of everything training
    # achieved, with val at least 1.25x train
    large = ((rel_train >= p.warn_gap and rel_range >= p.warn_gap_range)
             or (rel_train >= p.warn_gap_offset
                 and rel_range >= p.warn_gap_range_offset))
    grow_txt = (f", and growing ({tlabel(tr)} of the gap, one-sided p={tr.pvalue_increasing:.2g})" if grows
                else ", not growing")
    warn_gap = p.warn_gap
    # a gap just under the warning size is shown to one decimal: "50% above" as a note reads as a mistake
    pct = f"{rel_train:.1%}" if not large and f"{rel_train:.0%}" == f"{warn_gap:.0%}" else f"{rel_train:.0%}"
    # a percentage of a near-zero training loss reads as noise ("5,720,926% above"): say how many times
    above = (f"is {pct} above the training loss {fmt_num(end_train)}" if rel_train < 10 else
             f"is {end_val / end_train:,.0f}x the training loss {fmt_num(end_train)}" if end_train > 0 else
             f"is far above the training loss {fmt_num(end_train)}")
    msg = (f"{held_word(s)} {fmt_num(end_val)} {above} "
           f"at step {int(st[-1]):,} (end levels, derived: {how}; gap {fmt_num(end_gap)} = {range_txt}; {since} {opened:,}; positive at {pos} of the last "
           f"{sign.n_half} evaluations, sign test p={sign_p:.2g}; last {tail.size} evaluations' mean gap "
           f"{fmt_num(float(np.mean(tail)))}, one-sided t={t_stat:.1f}, p={t_p:.2g}; Bonferroni p={pval:.2g})"
           f"{grow_txt}" + ("" if large else
                            f"; below the warning size (val {warn_gap:.0%} above train with a gap of "
                            f"{p.warn_gap_range:.0%} of that range, or "
                            f"{p.warn_gap_offset:.0%} above with "
                            f"{p.warn_gap_range_offset:.0%} of it): a note"))
    yield Hit(
        message=msg,
        evidence=Evidence("sign-test|t-test (Bonferroni)+trend", rel_train, float(p.min_gap), pval,
                          (int(st[0]), int(st[-1])),
                          {"relative_to_train": rel_train, "relative_to_range": rel_range, "gap_end": end_gap,
                           "range": scale, "range_from": None if ends is None else ends[0],
                           "range_from_step": None if ends is None else ends[1],
                           "range_low": None if ends is None else ends[2],
                           "train_end": end_train, "val_end": end_val, "end_levels": how, "opened_step": opened,
                           "sign_pvalue": sign_p, "t_pvalue": t_p, "t_statistic": t_stat, "t_points": int(tail.size),
                           "growing": grows,
                           "growth_pvalue": None if tr is None else float(tr.pvalue_increasing)}),
        start_step=opened, end_step=int(st[-1]), alpha=p.alpha, split=s.split, metric="loss",
        severity=None if large else Severity.INFO,
        values={"lead": "Validation ends at " + (f"{pct} above the training loss" if rel_train < 10 else
                                                  f"{end_val / end_train:,.0f}x the training loss" if end_train > 0
                                                  else "far above the training loss")
                        + f" by step {fmt_step(int(st[-1]))}. To close the gap:",
                # in the framework's own terms: a booster has no dropout or weight decay to add
                "remedy": framework_remedies(ctx, int(st[-1]))[1]},
    )


def aligned_pair_text(train: Series, val: Series, step: int, v_val: float, v_train: float) -> str:
    """A validation value and the training value :func:`aligned` set beside it, as a message states them:
    ``0.09 vs 0.16 at step 19`` when the training loss was logged at that step as that value; otherwise the
    training side says where it comes from -- the one training loss logged at another step, or the mean of
    the last quarter of the interval since the previous evaluation (a derived value: the log holds no
    training loss of 5.404 at step 1,019 when it logged 5.585 there)."""
    ts, tv = train.finite()
    vs, _ = val.finite()
    k = int(np.searchsorted(vs, step))
    los, his = last_quarter_bounds(ts, vs[:k + 1])  # the losses aligned() set beside the evaluation at ``step``
    lo, hi = int(los[-1]), int(his[-1])
    if hi - lo == 1 and v_train == float(tv[lo]):
        if int(ts[lo]) == step:
            return f"{fmt_num(v_val)} vs {fmt_num(v_train)} at step {step:,}"
        return f"{fmt_num(v_val)} at step {step:,} vs training {fmt_num(v_train)} as logged at step {int(ts[lo]):,}"
    if hi - lo > 1 and math.isclose(v_train, float(np.mean(tv[lo:hi])), rel_tol=1e-9, abs_tol=1e-12):
        return (f"{fmt_num(v_val)} at step {step:,} vs training {fmt_num(v_train)}, derived: the mean of its "
                f"{hi - lo:,} losses logged at steps {int(ts[lo]):,}-{int(ts[hi - 1]):,}")
    return f"{fmt_num(v_val)} at step {step:,} vs training {fmt_num(v_train)} (derived: its level aligned to that step)"


def mean_step_text(train: Series, at: float) -> str:
    """Where a line through interval means is read: ``at step 580`` when that is a logged step of ``train``,
    else ``at 9,750, the mean step of the last interval's losses`` (a mean of steps is no step of the log)."""
    ts = train.steps
    if float(at).is_integer() and ts.size and ts[min(int(np.searchsorted(ts, int(at))), ts.size - 1)] == int(at):
        return f"at step {int(at):,}"
    return f"at {at:,.0f}, the mean step of the last interval's losses"


def val_below_train(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Validation loss consistently below the training loss at the same steps."""
    train = gap_train(ctx, s)
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
    # the example is the last aligned step where validation *is* below training (the last step itself may be one of
    # the few where it is not: "below ... at 83% of the steps, e.g. 9.59 vs training 5.404" contradicted itself)
    j = int(np.flatnonzero(half)[np.flatnonzero(below)[-1]])
    msg = (f"{held_word(s)} is below the training loss at {frac:.0%} of the aligned steps in the second half "
           f"(median {relgap:.0%} lower, e.g. {aligned_pair_text(train, s, int(st[j]), float(vl[j]), float(tl[j]))})")
    yield Hit(
        message=msg,
        evidence=Evidence("fraction-below", frac, float(p.min_fraction), None, (int(st[half][0]), int(st[-1])),
                          {"median_relative_gap": relgap}),
        start_step=int(st[half][0]), end_step=int(st[-1]), split=s.split, metric="loss",
        values={"gap": f"{relgap:.0%}", "step": fmt_step(int(st[-1]))},
    )


DETECTORS = {"overfitting": overfitting, "train-val-gap": train_val_gap, "val-below-train": val_below_train}
