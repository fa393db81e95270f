"""Progress: not learning (UF001) and stopped while still improving (SI001)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from lossdoc.checks.detectors._common import (
    GBT_FORMATS, SPLIT_WORD, TINY, early_fall, first_level, fmt_num, fmt_step, head_text, held_word, logged_step_from,
    lr_text, range_scale, rel, shown_lr, tlabel, unlogged_head,
)
from lossdoc.checks.context import unreliable_fit
from lossdoc.checks.engine import Hit, RunContext, Series, final_level
from lossdoc.checks.series import epoch_mean_loss, final_level_words
from lossdoc.checks.findings import Evidence, Severity


def _start_words(v: np.ndarray) -> str:
    """How :func:`_start_level` and :func:`final_level` of ``v`` are derived, exactly, for a message that prints
    them ("its first logged value and the mean of its last 3 values" on a 6-point log, where "the first and
    last 5% of points" was one point at the start and half the log at the end)."""
    k = max(1, min(int(0.05 * v.size), 1000))
    start = ("its first logged value" if k == 1 else f"the mean of its first {k} values" if k < 3
             else f"the median of its first {k:,} values")
    return f"{start} and {final_level_words(v)}"


def _start_level(v: np.ndarray) -> float:
    """Where training started: the first 5% of points (1 to 1,000); their median once there are three or
    more, so one spike among the first few per-step losses (44.8 beside 16, 14, 17) does not set the start."""
    k = max(1, min(int(0.05 * v.size), 1000))
    return float(np.median(v[:k])) if k >= 3 else float(np.mean(v[:k]))


def _lowest_level(y: np.ndarray) -> float:
    """The lowest level the loss reached: the lowest of ten bin medians once there are 30 points or more (a
    per-step loss's single low batch is noise, not a level it reached), else the lowest point."""
    if y.size >= 30:
        return float(min(np.median(b) for b in np.array_split(y, 10)))
    return float(np.min(y))


def not_learning(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """The loss barely moved from where it started. A validation loss is judged only on a log with no training
    loss (:func:`_held_out_never_fell`: an inconclusive note)."""
    if s is None:
        return
    if s.split != "train":
        if ctx.loss("train") is None:
            yield from _held_out_never_fell(ctx, s, p)
        else:
            yield from _held_out_frozen(ctx, s, p)
        return
    st, v = s.finite()
    if v.size < p.min_points:
        return
    start, end = _start_level(v), final_level(v)
    if end is None or start == 0:
        return
    drop = -rel(end, start)
    if drop >= p.min_drop:
        # it fell, but a classifier can fall a little and stay stuck high: still within near-trivial of
        # ln(C), the loss of predicting every class equally (C from the config or a first loss that is
        # ln(C)), having removed less than max-drop-near-trivial of where it started
        hit = _near_trivial(ctx, s, p, start, end, drop, st)
        if hit is None:
            hit = _stuck_high(ctx, s, p, st)
        if hit is not None:
            yield hit
        return
    if drop <= -p.min_drop:
        return  # it rose by more than min-drop (divergence: DV001/DV002)
    x, y, _ = ctx.downsampled(s)
    if -rel(_lowest_level(y), start) >= 2 * p.min_drop:
        return  # it did learn at some point and then lost it: divergence, not underfitting
    tr = ctx.trend(s, float(x[0]), float(x[-1]))
    trend_txt = ""
    if tr is not None and np.isfinite(tr.pvalue_decreasing):
        # the trend test covers the whole run: a loss whose end level is above its start is not "still falling",
        # whatever that test says (yashnil/habs-forecast: "ended 0.9% higher; it is still falling slowly (p=0.024)")
        trend_txt = ((f"; it is still falling slowly (p={tr.pvalue_decreasing:.2g})" if drop >= 0 else
                      f"; a trend test over the whole run leans down (p={tr.pvalue_decreasing:.2g}), though the end "
                      "level is the higher")
                     if tr.pvalue_decreasing < 0.05
                     else f"; no significant downward trend (p={tr.pvalue_decreasing:.2g})")
    moved = f"fell only {drop:.1%}" if drop >= 0 else f"did not fall (it ended {-drop:.1%} higher)"
    msg = (f"{s.label} {moved} over the run (level {fmt_num(start)} -> {fmt_num(end)} by step "
           f"{int(st[-1]):,}, {_start_words(v)}){trend_txt}{lr_text(ctx, int(st[-1]))}")
    # a log that starts mid-training does not show where training started: a note, not a warning
    head = unlogged_head(s)
    sev = None
    fell_early = early_fall(v, end)
    # the advice opens with what the note leaves open: a note's "check the wiring" would presume what it says the
    # log cannot show
    check = "Check"
    if head is not None:
        msg += head_text(head)
        sev = Severity.INFO
        check = (f"First read the loss where training started (the log begins at step {head:,}); if it barely "
                 "moved from there, check")
    elif drop >= 0 and fell_early >= p.min_drop:
        # the start above is the median of the first 5% of points: on a long log that window can hold a fast
        # initial fall (1,600 steps: 80 of them), and "fell only x%" then measures the slow tail that followed.
        # From its first logged values the loss did fall by min-drop: it learned, then slowed; whether it slowed
        # high cannot be told from the log ("x%" is relative to a level a constant part of the loss moves)
        sev = Severity.INFO
        check = "It learned early and then slowed; if the level it slowed at is too high for the task, check"
        msg += (f"; but from its first logged values ({fmt_num(first_level(v))}, the lower of the first value and "
                f"the median of the first three) it fell {fell_early:.0%}: it learned within its first 5% "
                "of points and then slowed, and how far a slowing loss still is from its floor cannot be told from "
                "the log (inconclusive): a note")
    elif (getattr(p, "stuck_val_ratio", None) is not None and getattr(p, "levelled_min_drop", None) is not None
          and drop >= p.levelled_min_drop):
        # "fell only x%" is relative to the level: a loss that fell clearly (by levelled-min-drop of its level or
        # more: a smooth loss that moved 0.2% is "clearly" above its tiny noise, and did not learn) and then
        # levelled off may sit at its floor (plateau.maybe_floor, as for stuck high); then a note
        lo = _levelled_off(ctx, s, p)
        if lo is not None:
            from lossdoc.checks.detectors.plateau import fall_text, maybe_floor

            w, fell, noise = lo
            floor, ratio = maybe_floor(ctx, s, p, w.start, float(w.level))
            if floor:
                sev = Severity.INFO
                check = "It levelled off, perhaps at its floor; if that level is too high for the task, check"
                # "clearly" is against the point noise, not the level: say by how much (a 0.2% fall can be 5x it)
                msg += (f"; {fall_text(fell, noise)}, and then levelled off at "
                        f"{fmt_num(float(w.level))} (mean, flat over {w.frac:.0%} of the run): "
                        + ("no held-out loss near the training level shows that this level is high (it may be the "
                           "loss's floor): a note" if ratio is None else
                           f"the validation loss there is {ratio:.2f}x the training loss, so the model does fit its "
                           "training set better than unseen data: a note, not underfitting"))
    lr = ctx.lr_peak()
    yield Hit(
        message=msg,
        evidence=Evidence("relative-drop", drop, float(p.min_drop), None if tr is None else float(tr.pvalue_decreasing),
                          (int(st[0]), int(st[-1])), {"start": start, "end": end, "first_step": int(st[0]),
                                                      "unlogged_head": head is not None}),
        start_step=int(st[0]), end_step=int(st[-1]),
        severity=sev,
        # the LR advised around is the logged peak: say so, and where, when the LR in force at the end differs
        # (a decayed schedule: 'LR in force 4.611e-10' in the message beside 'around 5e-5' read as a contradiction)
        values={"drop": f"{max(drop, 0.0):.1%}", "moved": moved, "check": check,
                "lr": ("the current LR" if not lr else shown_lr(lr[0])
                       if ctx.lr_at(int(st[-1])) is None or shown_lr(ctx.lr_at(int(st[-1])) or 0.0) == shown_lr(lr[0])
                       else f"the run's logged peak LR, {shown_lr(lr[0])} (step {lr[1]:,})"),
                "step": fmt_step(int(st[-1]))},
    )


def _held_out_never_fell(ctx: RunContext, s: Series, p: SimpleNamespace) -> Iterator[Hit]:
    """A log with a validation loss and no training loss (a Lightning run that logs only ``val_loss``): the
    validation loss never fell min-drop below its first evaluations, and never 2 x min-drop at any point. Its
    first evaluation comes after some training, so this alone cannot tell a model that learned nothing from one
    that fitted its training set before that evaluation and has overfitted since: a note that says so and names
    what would settle it (the training loss), never a warning."""
    st, v = s.finite()
    if v.size < p.min_points:
        return
    start, end = _start_level(v), final_level(v)
    if end is None or start <= 0:
        return
    drop = -rel(end, start)
    low = float(np.min(v))
    if abs(drop) >= p.min_drop or -rel(low, start) >= 2 * p.min_drop:
        # it fell (SI001/PL002 and the rest judge it); rose by more than min-drop (divergence or overfitting, which
        # a log without a training loss cannot tell apart either: DV001 leaves it undecided); or an evaluation went
        # well below the start and it came back up -- in each case "never improved" would not be what it did
        return
    moved = f"fell only {drop:.1%}" if drop >= 0 else f"did not fall (it ended {-drop:.1%} higher)"
    lr = ctx.lr_peak()
    msg = (f"{s.label} {moved} over the run (level {fmt_num(start)} -> {fmt_num(end)} by step {int(st[-1]):,}, "
           f"{_start_words(v)}; its lowest evaluation {fmt_num(low)} at step {int(st[int(np.argmin(v))]):,}) and the "
           f"log has no training loss: the {held_word(s)} never improved on its first evaluations, which come after "
           "some training, so whether the model learned nothing (underfitting) or fitted its training set before "
           "them and has overfitted since cannot be told (inconclusive): a note")
    yield Hit(
        message=msg,
        evidence=Evidence("relative-drop", drop, float(p.min_drop), None, (int(st[0]), int(st[-1])),
                          {"start": start, "end": end, "first_step": int(st[0]), "held_out_only": True}),
        start_step=int(st[0]), end_step=int(st[-1]),
        severity=Severity.INFO,
        values={"drop": f"{max(drop, 0.0):.1%}", "moved": moved, "step": fmt_step(int(st[-1])),
                "check": ("Log the training loss beside it (and one validation pass before training starts), to tell "
                          "a model that learned nothing from one that overfitted early; if the training loss did not "
                          "fall either, check"),
                "lr": shown_lr(lr[0]) if lr else "the current LR"},
    )


def _held_out_frozen(ctx: RunContext, s: Series, p: SimpleNamespace) -> Iterator[Hit]:
    """A held-out loss identical, to every logged digit, at each of its min-points or more evaluations, while the
    training loss moved and did not end above its first value: the predictions on the held-out set never changed.
    A model that outputs the same for every input (collapsed to one class), or an evaluation that does not use the
    weights being trained, does this; a held-out loss that is learning moves in its last digits at least. Not when
    the training loss rose (a network killed by a blow-up also outputs a constant: divergence, DV001/DV002)."""
    st, v = s.finite()
    if v.size < p.min_points or float(np.ptp(v)) != 0.0 or _digits(float(v[0])) < 4:
        # 0.0 at every evaluation is a loss not computed (LG006's reading of exact zeros), and a value of 1-3
        # significant digits (0.000, 0.25, 1.0) may be a print rounded past the digits that moved
        return
    train = ctx.loss("train")
    tv = train.finite()[1] if train is not None else np.empty(0)
    if tv.size < p.min_points or float(np.ptp(tv)) == 0.0:
        return  # no training loss to compare, or frozen too (nothing trains: the weights never changed)
    end = final_level(tv)
    if end is None or end > float(tv[0]):
        return
    lo, hi = float(np.min(tv)), float(np.max(tv))
    where = SPLIT_WORD.get(s.split, s.split)
    shown = repr(float(v[0]))  # as logged (the shortest digits that read back as it): no digit changed
    msg = (f"{s.label} is {shown} at every one of its {v.size} evaluations (steps {int(st[0]):,}-{int(st[-1]):,}), "
           f"identical to every logged digit, while the training loss moved ({fmt_num(lo)} to {fmt_num(hi)} as "
           f"logged): the predictions on the {where} set never changed -- a model that outputs the same for every "
           "input (one class), or an evaluation that does not use the weights being trained")
    lr = ctx.lr_peak()
    yield Hit(
        message=msg,
        # the statistic: how many evaluations hold the one value, against the min-points this needs
        evidence=Evidence("held-out-loss-constant", float(v.size), float(p.min_points), None, (int(st[0]), int(st[-1])),
                          {"value": float(v[0]), "range": 0.0, "train_min": lo, "train_max": hi}),
        start_step=int(st[0]), end_step=int(st[-1]),
        values={"drop": "0.0%", "moved": f"did not change on the {where} set ({shown} at every evaluation)",
                "step": fmt_step(int(st[-1])),
                "check": ("Check that the evaluation runs the model being trained (not a copy loaded once, not "
                          "in a mode that ignores the input) and that its outputs are not one class for every input; "
                          "then check"),
                "lr": shown_lr(lr[0]) if lr else "the current LR"},
    )


def _digits(x: float) -> int:
    """Significant digits of ``x`` as logged (its shortest repr): 2.2169435024261475 -> 17, 0.25 -> 2, 0.0 -> 0."""
    mant = repr(abs(x)).split("e")[0].replace(".", "")
    return len(mant.strip("0"))


def _plateau_params(p: SimpleNamespace) -> SimpleNamespace:
    """This rule's copy of PL001's parameters, named as PL001's reading of a series (plateau._assess) wants them."""
    return SimpleNamespace(margin=p.margin, stuck_margin=p.stuck_margin, range_margin=p.range_margin,
                           range_cap=p.range_cap, alpha=p.alpha, min_points=p.plateau_min_points,
                           stuck_fraction=p.stuck_fraction, stuck_drop=p.stuck_drop, moving_share=p.moving_share,
                           waste_fraction=p.waste_fraction)


def _levelled_off(ctx: RunContext, s: Series, p: SimpleNamespace) -> tuple[Any, float, float] | None:
    """PL001's flat window when the loss *fell* (by at least 5x its point noise, the robust s.d. of the window's
    successive differences) and then levelled off over at least stuck-fraction of the run; else None. A loss that
    never moved (flat from its first value) is not "levelled off". Returned with how far it fell (the median of
    its first 5% of points less the window's level) and that point noise."""
    if getattr(p, "stuck_drop", None) is None:
        return None
    from lossdoc.checks.detectors.plateau import _assess, clear_fall, fall_and_noise

    a = _assess(ctx, s, _plateau_params(p))
    if a is None or a[1].frac < p.stuck_fraction:
        return None
    fell, noise = fall_and_noise(ctx, s, a[1])
    return (a[1], fell, noise) if clear_fall(fell, noise) else None


def _stuck_high(ctx: RunContext, s: Series, p: SimpleNamespace, st: np.ndarray) -> Hit | None:
    """It fell by more than min-drop, then stopped: PL001's "stuck" reading of the series (flat over at least
    stuck-fraction of the run, TOST on the HAC slope, after removing less than stuck-drop of its start, and
    not demonstrably still falling). A loss that stopped that high is underfitting (the labelling guide's
    "stuck high"), whatever PL001 calls the plateau; the thresholds are this rule's copy of PL001's."""
    if getattr(p, "stuck_drop", None) is None:
        return None
    from lossdoc.checks.detectors.plateau import _assess, _logged, maybe_floor, val_mean

    a = _assess(ctx, s, _plateau_params(p))
    if a is None or a[0] != "stuck":
        return None
    w = a[1]
    lstart, _, level, share = _logged(s, w)
    first = float(s.finite()[1][0])
    fell = -rel(level, first)
    moved = (f"fell only {fell:.0%} from its first logged value {fmt_num(first)} and then stopped: flat at "
             f"{fmt_num(level)} (mean) from step {lstart:,}, {share:.0%} of the run")
    msg = (f"{s.label} {moved} (TOST: change within {w.basis} across the window, p={w.eq.pvalue:.2g}): stuck high, "
           f"the model no longer fits its training set better{lr_text(ctx, lstart)}")
    floor, ratio = maybe_floor(ctx, s, p, w.start, level)
    if ratio is not None:
        msg += (f"; the validation loss there averages {fmt_num(val_mean(ctx, w.start) or 0.0)} "
                f"({ratio:.2f}x the training loss, derived)")
    # stuck *high* needs evidence that the level is high (plateau.maybe_floor): without it the finding is a note
    sev = None
    check = "Check"
    cap = getattr(p, "stuck_val_ratio", None)
    if floor:
        sev = Severity.INFO
        check = ("It stopped, perhaps at its floor; if that level is too high for the task, check" if ratio is None
                 else "It fits its training set better than unseen data; if the training level is still too high "
                 "for the task, check")
        msg += ("; no held-out loss near the training level shows that this level is high (it may be the loss's "
                "floor): a note" if ratio is None else
                f"; the validation loss is well above the training loss (more than {cap:g}x), so the model does fit "
                "its training set better than unseen data: a note, not underfitting")
    lr = ctx.lr_peak()
    return Hit(
        message=msg,
        evidence=Evidence("tost-equivalence-slope", float(w.eq.slope), float(w.margin), float(w.eq.pvalue),
                          (w.start, w.end), {"level": w.level, "window_fraction": w.frac, "drop_before": fell,
                                             "ci_low": w.eq.ci_low, "ci_high": w.eq.ci_high,
                                             "margin_change": w.margin * w.wspan, "margin_basis": w.basis}),
        start_step=int(st[0]), end_step=int(st[-1]), severity=sev,
        values={"drop": f"{fell:.1%}", "moved": f"fell only {fell:.0%} and stopped at {fmt_num(level)}", "check": check,
                "lr": shown_lr(lr[0]) if lr else "the current LR",
                "step": fmt_step(lstart)},
    )


def _near_trivial(ctx: RunContext, s: Series, p: SimpleNamespace, start: float, end: float, drop: float,
                  st: np.ndarray) -> Hit | None:
    near = getattr(p, "near_trivial", None)
    if near is None or drop >= p.max_drop_near_trivial or end <= 0:
        return None
    from lossdoc.checks.detectors.local_minimum import trivial_levels

    for t in trivial_levels(ctx, s, p):
        if t["kind"] != "uniform":
            continue
        lc = float(t["level"])
        below = (lc - end) / lc
        if not -near <= below <= near:
            continue
        moved = (f"fell only {drop:.1%} and is still within {abs(below):.0%} of ln({t['classes']:,}) = {lc:.3f}, "
                 f"the loss of predicting every class equally (C from {t['source']})")
        msg = (f"{s.label} {moved}: level {fmt_num(start)} -> {fmt_num(end)} by step {int(st[-1]):,} "
               f"({_start_words(s.finite()[1])}){lr_text(ctx, int(st[-1]))}")
        lr = ctx.lr_peak()
        return Hit(
            message=msg,
            evidence=Evidence("near-trivial-level", end / lc, 1 - float(near), None, (int(st[0]), int(st[-1])),
                              {"start": start, "end": end, "drop": drop, "trivial_level": lc,
                               "classes": t["classes"], "level_source": t["source"]}),
            start_step=int(st[0]), end_step=int(st[-1]),
            values={"drop": f"{drop:.1%}", "moved": moved, "check": "Check",
                    "lr": shown_lr(lr[0]) if lr else "the current LR",
                    "step": fmt_step(int(st[-1]))},
        )
    return None


def still_improving(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Run-level: the validation loss (else the training loss) was still clearly falling when the log ends.

    The validation loss is judged when it has ``min-val-points`` evaluations, the training loss (when no
    validation loss is judged) from as many points (the labelling guide's
    "validation, else training": a training loss still falling while the validation loss stopped or
    turned up is not a run that more steps would help). When the validation test is inconclusive (or
    significant with a decline under min-rate that is clear only by its projection) but the validation
    loss is at its best inside its trailing window (it has not stopped), the training loss decides: its
    own significant decline is the evidence (one more recorded decision), and the note gives the
    validation loss's own p-value and what it lacked."""
    val, train = ctx.loss("val"), ctx.loss("train")
    val_ok = val is not None and np.isfinite(val.values).sum() >= p.min_val_points
    # the training loss is judged from min-val-points points too when no validation loss is (the exact
    # Mann-Kendall test decides from four: a 5-epoch training log that falls monotonically is "still
    # improving" as surely as a 5-evaluation validation loss); standing in for an inconclusive validation
    # test it needs min-points (a few noisy training points must not overrule the validation loss)
    train_ok = train is not None and np.isfinite(train.values).sum() >= (p.min_points if val_ok else p.min_val_points)
    if val_ok:
        hit, lo, vclear, vjudged = _still_improving(ctx, val, p)
        if hit is not None:
            yield hit
            return
        vs, vv = val.finite()
        # the training loss supplies only the significance the few validation points lack: the validation
        # loss's own decline must be clear (a validation loss that moved 4% of its range while training kept
        # falling is levelling off, and it is the one that decides)
        if not (train_ok and lo is not None and vclear and vv.size
                and np.isfinite(val.values[-1]) and vs[int(np.argmin(vv))] >= lo):
            return
        head = (f"; the validation loss is at its best ({fmt_num(float(np.min(vv)))}) in its last "
                f"{len(vv) - int(np.searchsorted(vs, lo))} evaluations")
        vp, vrate, vgain, vproj = vjudged
        if vp is not None and vp < p.alpha:
            # its own trend is significant: what it lacks is a decline of min-rate across the window (its
            # clear decline rests on its projection), and the message must not say it had no trend
            note = head + (f", falling significantly (p={vp:.2g}) but by {vrate:.1%} of its range per "
                           f"{p.window_fraction:.0%} of the run (under {p.min_rate:.0%}; {vproj})")
        else:
            note = head + " and falling clearly, but with no significant trend of its own" + (
                f" (p={vp:.2g})" if vp is not None else "")
    else:
        note = ""
    if train is not None:
        # a per-epoch mean logged beside a noisy per-step loss (Lightning's train_loss_epoch) is the
        # same curve with the batch noise averaged out: the trend is judged on it (still one decision)
        means = epoch_mean_loss(ctx.series_map(), "train", p.min_val_points)
        if means is not None:
            train, train_ok = means, True
    if train_ok:
        hit, _, _, _ = _still_improving(ctx, train, p, note)
        # standing in for an inconclusive validation test, the training loss's evidence is its own significant
        # trailing decline, not a curve fit (a fit to a validation-less training loss stands on its own)
        if hit is not None and not (note and hit.alpha is None):
            yield hit


@dataclass(frozen=True)
class TrailingDeclineResult:
    """What SI001's decision on a series rests on (:func:`si_evidence`): the down-sampled series ``x``,
    ``y`` and its step ``span``; the trailing window's start ``lo`` and trend test ``tr`` (None when the
    window has too few points: then nothing below is computed); the end ``level``; the window's decline
    ``rate`` as a share of the range per window-fraction of the run; the projection (``ex`` the fitted
    extrapolation or None, ``gain`` as a share of the level, ``proj`` its wording, ``hstep`` its step,
    ``horizon`` the run's); ``rng_level`` the range the run covered; the fit's predicted drop ``fit_drop``
    in units of that range and whether its backtest is ``precise``."""

    x: np.ndarray
    y: np.ndarray
    span: float
    lo: float
    tr: Any = None
    level: float = float("nan")
    rate: float = float("nan")
    ex: Any = None
    gain: float = float("nan")
    proj: str = ""
    hstep: int = 0
    horizon: int | None = None
    rng_level: float = float("nan")
    fit_drop: float = float("nan")
    precise: bool = False
    #: the straight-line projection passed zero and half the end level stands in for it (not a prediction)
    capped: bool = False
    #: ``rate`` as a share of the end level per whole run (derived: the trailing decline on the level's scale)
    level_rate: float = float("nan")


def si_evidence(ctx: RunContext, target: Series, p: SimpleNamespace) -> TrailingDeclineResult | None:
    """What SI001's decision on ``target`` rests on, without deciding (``benchmarks/si_calibration.py``
    reads the same numbers; the effect flags ``clear`` / ``fit_clear`` are SI001's own, from these).
    None when ``target`` ends non-finite or spans no steps; ``tr`` is None when there is no trend test."""
    if not np.isfinite(target.values[-1]):
        return None  # ended non-finite: NF001's business
    x, y, _ = ctx.downsampled(target)
    span = float(x[-1] - x[0])
    if span <= 0:
        return None
    lo = x[-1] - p.window_fraction * span
    # short logs: widen the trailing window to min-points, but never past half of the points (a window
    # holding the early fast drop would call every short run "still improving"); the exact
    # Mann-Kendall test decides from 4 points (a monotone 4-point fall has p = 1/24)
    need = min(max(p.min_points, 4), max(4, x.size // 2))
    if (x >= lo).sum() < need:
        if x.size < 4:
            return None
        lo = float(x[-need])
    tr = ctx.trend(target, lo, float(x[-1]))
    if tr is None:
        return TrailingDeclineResult(x, y, span, lo)
    level = final_level(target.values) or float(y[-1])
    at_lo = tr.intercept + tr.slope * lo if np.isfinite(tr.intercept) else float(y[x >= lo][0])
    # how much the trailing window removed, against the range the run covered (floored at 1% of the
    # level): a loss at 0.1 falling 7% of its level after falling from 2.3 is not "clearly improving"
    # per window-fraction of the run: a window widened to min-points on a short log must not count
    # the extra steps' decline as if it happened in the last fifth
    rate = -tr.slope * min(x[-1] - lo, p.window_fraction * span) / range_scale(ctx, target, at_lo)
    nominal = x >= x[-1] - p.window_fraction * span
    if x[-1] - lo > p.window_fraction * span and nominal.sum() >= 3:
        # the widened window's straight line overstates where a decelerating curve is now: the
        # decline must also hold across the last window-fraction itself (its own least-squares
        # slope, from three points or more: through two it is one noisy difference, and an eval loss's
        # last two evaluations vetoed a 4x-referenced run still improving; an effect size, not another test)
        xs, ys = x[nominal], y[nominal]
        tail = -float(np.polyfit(xs - xs[0], ys, 1)[0]) * p.window_fraction * span / range_scale(ctx, target, at_lo)
        rate = min(rate, tail)
    ex = ctx.extrapolation(target)
    if ex is not None and ctx.extrapolation_fit(target)[1] is not None:
        # fitted to the last half of the run alone (the whole run's fit missed its end): a summary figure, with
        # its interval from half the points -- not evidence that the loss is still falling, which this rule
        # takes from the trailing trend
        ex = None
    horizon = ctx.horizon
    capped = False
    if ex is not None and np.nanmin(y) >= 0 and not (ex.loss >= 0):
        ex = None  # a never-negative loss predicted below zero: the fit extrapolates nonsense here
    yb = ctx.downsampled(target, 200)[1]  # the range as the summary measures it
    if ex is not None and unreliable_fit(ex, float(np.max(yb) - np.min(yb)) if yb.size else None, level) is not None:
        # a fit the run summary calls unreliable (its backtest missed, its interval wider than twice the range
        # or the level) predicts nothing: the trailing trend is projected instead, never quoted from it
        ex = None
    if ex is not None and np.isfinite(ex.loss):
        gain = -rel(float(ex.loss), level)
        proj = (f"the {ex.model} fit predicts {fmt_num(ex.loss)} [{fmt_num(ex.low)}, {fmt_num(ex.high)}] at step "
                f"{int(ex.step):,}")
        hstep = int(ex.step)
    else:
        hstep = int(horizon or 2 * x[-1])
        gain = -tr.slope * (hstep - x[-1]) / max(abs(level), TINY) * 0.5  # half the linear projection
        proj = f"half the linear projection to step {hstep:,} is {fmt_num(level * (1 - gain))}"
        if np.nanmin(y) >= 0 and gain > 0.5:
            gain = 0.5  # a non-negative loss cannot be projected through zero
            capped = True
            proj = (f"the linear projection to step {hstep:,} passes zero, so half the end level is taken: "
                    f"{fmt_num(level * (1 - gain))}")
    rng_level = range_scale(ctx, target, level)
    fit_drop = (level - float(ex.loss)) / rng_level if ex is not None and np.isfinite(ex.loss) else 0.0
    precise = bool(ex is not None and ex.backtest_error is not None and np.isfinite(ex.backtest_error)
                   and abs(ex.backtest_error) <= p.max_precise_backtest)
    return TrailingDeclineResult(x, y, span, lo, tr, level=level, rate=float(rate), ex=ex, gain=float(gain),
                                 proj=proj, hstep=hstep, horizon=horizon, rng_level=rng_level,
                                 fit_drop=float(fit_drop), precise=precise,
                                 capped=capped, level_rate=float(rate * range_scale(ctx, target, at_lo)
                                                                 / (p.window_fraction * max(abs(level), TINY))))


def _still_improving(ctx: RunContext, target: Series, p: SimpleNamespace,
                     note: str = "") -> tuple[Hit | None, float | None, bool, tuple[float | None, float, float, str]]:
    """The finding for ``target`` (or None), the start of the trailing window it tested, whether its
    decline there is clear (an effect size; False when untested) and (the window's one-sided p-value,
    its decline as a share of the range per window-fraction of the run, the projected gain at the horizon
    as a share of the level, the words that say what projected it) -- (None, nan, nan, "") when untested."""
    none = (None, float("nan"), float("nan"), "")
    e = si_evidence(ctx, target, p)
    if e is None:
        return None, None, False, none
    if e.tr is None:
        return None, e.lo, False, none
    tr, x, y, lo, span = e.tr, e.x, e.y, e.lo, e.span
    ctx.decide(float(tr.pvalue_decreasing))
    level, rate, ex, gain, proj, hstep = e.level, e.rate, e.ex, e.gain, e.proj, e.hstep
    rng_level, fit_drop, precise, horizon = e.rng_level, e.fit_drop, e.precise, e.horizon
    capped = e.capped
    # (a) the trailing window is falling: significantly, and by at least min-rate
    trend_ok = bool(np.isfinite(tr.pvalue_decreasing) and tr.pvalue_decreasing < p.alpha and rate >= p.min_rate)
    # the decline is clear (an effect size, whatever supplies the significance): min-rate of the range across
    # the window, or (a decelerating curve whose last fifth moved only a few % of the range) a window that
    # still falls while the projection to the horizon gains min-fit-gain of the level
    clear = bool(rate >= p.min_rate or (rate > 0 and gain >= p.min_fit_gain))
    # ... or, for the fit's own route, a fit that reproduces its held-out tail within max-precise-backtest
    # predicts a drop to the horizon of at least min-fit-range of the range the run covered: the level is
    # the wrong scale for a high-offset loss (an LM at 8.7 nats whose power law, backtested to 0.2%, gains
    # 12% of its 2.3-nat range at twice the steps gains "3.3% of the level"); a noisier fit's prediction
    # does not count (a power law on a converging curve always predicts a little lower)
    fit_clear = clear or bool(rate > 0 and precise and fit_drop >= p.min_fit_range)
    # (b) or the fitted curve, validated by its own backtest, predicts a level whose whole 90% interval
    # lies below today's (noise too high for a window test, but the curve has clearly not flattened)
    # ... and the predicted drop is worth having on the run's own scale: at least min-rate of the range
    # it covered (2% of the level of a loss that fell from 2.3 to 0.05 is noise-sized progress)
    # ... and the decline is clear: a power law fitted to a converging curve always predicts a little lower
    # (3-6% at twice the steps), and a window that stopped falling is not "still falling"
    fit_ok = bool(ex is not None and ex.backtest_error is not None and np.isfinite(ex.backtest_error)
                  and abs(ex.backtest_error) <= p.max_backtest_error and np.isfinite(ex.high) and ex.high < level
                  and gain >= 2 * p.min_gain
                  and level - float(ex.loss) >= p.min_rate * rng_level and fit_clear)
    if trend_ok and gain < p.min_gain:
        # a curve fit that flattens out must not veto a significant trailing decline: project the
        # trailing trend instead (half of it, as above)
        hstep = int(horizon or 2 * x[-1])
        lin = -tr.slope * (hstep - x[-1]) / max(abs(level), TINY) * 0.5
        capped_now = bool(np.nanmin(y) >= 0 and lin > 0.5)
        if capped_now:
            lin = 0.5
        if lin > gain:
            gain, ex = lin, None
            capped = capped_now
            proj = (f"half the trailing trend projected to step {hstep:,} is {fmt_num(level * (1 - gain))} "
                    "(the curve fit flattens sooner)" if not capped_now else
                    f"the trailing trend projected to step {hstep:,} passes zero, so half the end level is taken: "
                    f"{fmt_num(level * (1 - gain))} (the curve fit flattens sooner)")
    # (the p-value, the rate, the projected gain and what projected it: a fit the summary would quote, or half
    # the straight-line trend -- derived; a message that cites the gain must say which)
    judged = (float(tr.pvalue_decreasing) if np.isfinite(tr.pvalue_decreasing) else None, float(rate), float(gain),
              f"its {ex.model} fit predicts it {gain:.1%} lower at the horizon" if ex is not None else
              f"half its straight-line trend projected to the horizon is {gain:.1%} lower, derived")
    if not ((trend_ok and gain >= p.min_gain) or fit_ok):
        return None, lo, clear, judged
    running = ctx.total_steps is not None and ctx.total_steps > x[-1]
    if trend_ok:
        per = (f"over the last {(x[-1] - lo) / span:.0%} of the run" if x[-1] - lo <= p.window_fraction * span * 1.0001
               else f"per {p.window_fraction:.0%} of the run, trend over the last {(x[-1] - lo) / span:.0%}")
        how = (f"by {rate:.1%} of the range the run covered {per} (derived from a least-squares slope; min-rate "
               f"{p.min_rate:.0%}), {tlabel(tr)} "
               f"p={tr.pvalue_decreasing:.2g} (alpha {p.alpha:g})")
        # the decision's effect: the trailing decline as a share of the range per window-fraction of the run,
        # against min-rate (the test's own statistic and alpha are in extra)
        ev = Evidence(tr.method, float(rate), float(p.min_rate), float(tr.pvalue_decreasing), (int(lo), int(x[-1])),
                      {})
    else:
        how = f"the fit's backtest error is {abs(ex.backtest_error):.1%} and its whole interval lies below the last level"
        if not clear:
            how += (f"; the trailing window fell {rate:.1%} of the range the run covered per "
                    f"{p.window_fraction:.0%} of the run (under {p.min_rate:.0%}), but the fit, backtested within "
                    f"{p.max_precise_backtest:.0%}, predicts a drop of {fit_drop:.1%} of that range (at least "
                    f"{p.min_fit_range:.0%})")
        ev = Evidence("curve-fit-extrapolation", gain, 2 * float(p.min_gain), None, (int(x[0]), int(x[-1])), {})
    last = int(target.finite()[0][-1])  # the last logged step (x holds bin-mean steps on a long series)
    msg = (f"{target.label} was still falling when the log ends at step {last:,} ({how}){note}; {proj} "
           f"({gain:.1%} below the end level {fmt_num(level)}, {final_level_words(target.values)})"
           + (f"; the log plans {ctx.total_steps:,} steps, so the run may still be going"
                                   if running else ""))
    # the window as logged (its start and x hold bin-mean steps on a long series), as the message names it
    window = (logged_step_from(target, int(ev.window[0]), last), last)
    ev = Evidence(ev.method, ev.statistic, ev.threshold, ev.pvalue, window,
                  {"predicted_gain": gain, "horizon": hstep, "level": level, "trailing_rate": rate,
                   # the trailing trend's fall per whole run as a share of the end level (derived): what the
                   # contradiction step weighs against a plateau note's "< max-change of its level"
                   "level_rate_per_run": e.level_rate,
                   "alpha": float(p.alpha), "test_statistic": float(tr.tstat), "min_gain": float(p.min_gain),
                   "predicted_range_drop": fit_drop if ex is not None else None,
                   "predicted": None if ex is None else float(ex.loss),
                   "low": None if ex is None else float(ex.low), "high": None if ex is None else float(ex.high),
                   "backtest_error": None if ex is None else ex.backtest_error})
    predicted = fmt_num(float(ex.loss)) if ex is not None else fmt_num(level * (1 - gain))
    return Hit(
        message=msg,
        evidence=ev,
        # the finding's steps as logged (the window's start and x hold bin-mean steps on a long series)
        start_step=window[0], end_step=last, alpha=p.alpha if trend_ok else None,
        split=target.split, metric=target.metric,
        values={"step": fmt_step(last), "horizon": fmt_step(hstep), "gain": f"{gain:.1%}",
                "predicted": predicted,
                # a projection through zero predicts no level: the recommendation must not quote half the end
                # level as what training longer "should give"
                # boosted trees have no LR schedule to stretch and no checkpoint to resume: more rounds, stopped by
                # the eval set
                "more": ("Add boosting rounds (num_boost_round / n_estimators / iterations) with early_stopping_rounds "
                         "on an eval set, so the extra rounds stop when validation stops improving"
                         if (ctx.format or "") in GBT_FORMATS else
                         "Train longer (and stretch the LR schedule to the new length), or resume from the last "
                         "checkpoint with a short decay phase"),
                "outlook": (f"its straight-line trend would reach zero before step {fmt_step(hstep)}, so no level "
                            f"there is predicted (half the end level, {fmt_num(level * (1 - gain))}, derived, is only "
                            "the figure that sizes the gain)" if capped and ex is None else
                            f"half its trailing trend projected to step {fmt_step(hstep)} gives about {predicted} "
                            f"({gain:.1%} lower; derived, a rough guide rather than a fitted prediction)" if ex is None else
                            f"training to step {fmt_step(hstep)} should give about {predicted} ({gain:.1%} lower; the "
                            f"{ex.model} fit's 90% interval is {fmt_num(float(ex.low))} to {fmt_num(float(ex.high))})")},
    ), lo, clear, judged

DETECTORS = {"not-learning": not_learning, "still-improving": still_improving}
