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
from lossdoc.analysis.stats import lag1_autocorr
from lossdoc.checks.detectors._common import (
    GBT_FORMATS,
    RANGE_FLOOR,
    RISE_CAUSES,
    TINY,
    above_first,
    fmt_num,
    fmt_step,
    framework_remedies,
    held_word,
    logged_step_from,
    lr_advice,
    lr_reference,
    lr_text,
    range_scale,
    rise_outlasts_lr,
    rise_outlasts_lr_text,
    round_lr,
    shown_lr,
    smooth_min,
    tname,
)
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Severity
from lossdoc.numfmt import fmt_share


def _plan(ctx: RunContext, step: int, kind: str, from_start: bool = False) -> str:
    """What to do after a rise (``kind`` "rise") or a blow-up ("explosion"), in the run's framework:
    boosted trees have no gradient norm, Adam or warm-up -- they keep the best round (early stopping)
    and take a smaller eta with more rounds. ``from_start``: the loss was never better than at its first
    logged value, so no checkpoint of the run is worth going back to: restart it."""
    at = fmt_step(step)
    if (ctx.format or "") in GBT_FORMATS:
        ref = lr_reference(ctx, step)
        eta = (f"lower eta from {shown_lr(ref)} to {round_lr(ref / 10)}-{round_lr(ref / 3)}" if ref > 0 else
               "lower eta/learning_rate 3-10x")
        return f"Keep the model of round {at}: {framework_remedies(ctx, step)[0]}; and {eta} with proportionally more rounds."
    if from_start:
        return (f"No checkpoint of the run is worth resuming (none is better than its start): restart it and "
                f"{lr_advice(ctx, step)}, clip the gradient norm at 1.0, and add or lengthen the warm-up.")
    if kind == "rise":
        return (f"Restart from a checkpoint near step {at} and {lr_advice(ctx, step)}, clip the gradient norm at 1.0, "
                "and consider Adam beta2 = 0.95 and a longer warm-up; at large scale also QK-norm or z-loss "
                "(OPT, BLOOM, OLMo 2 lessons).")
    return (f"Restart from a checkpoint before step {at}, {lr_advice(ctx, step)}, clip the gradient norm at 1.0 "
            "and check the loss scale / use bf16.")


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


def resume_jumps(ctx: RunContext, s: Series) -> list[int]:
    """Resumes (the log's steps go back, LG001) at which ``s`` jumps up while the LR carries on unchanged.

    The resumed run's first value stands above the last ones before the resume by at least
    ``RESUME_JUMP`` of the range the run covered and ``RESUME_NOISE`` x their point noise, and the LR in
    force does not change at the resume by more than 2x (when it does, the LR may be what the loss answers).
    The kept series joins two runs there: the resumed run started worse than the run it continues (its
    weights or optimizer state not as they were), which is not something the pre-resume curve did."""
    return [j[0] for j in resume_jump_details(ctx, s)]


def resume_jump_details(ctx: RunContext, s: Series) -> list[tuple[int, float, float, int, int]]:
    """(first step of the resumed run, its value, the median of the 5 values before it, the first and last
    step of those 5) for every resume at which ``s`` jumps up (:func:`resume_jumps`)."""
    steps = sorted({int(x) for n in ctx.notes if n.kind == "restart"
                    for x in (getattr(n, "steps", None) or ((n.step,) if n.step is not None else ()))})
    if not steps:
        return []
    st, v = s.finite()
    out = []
    for r in steps:
        i = int(np.searchsorted(st, r, side="left"))
        if i < 3 or i >= v.size:
            continue
        pre = v[max(0, i - 5):i]
        base = float(np.median(pre))
        noise = float(MAD_TO_SD * np.median(np.abs(np.diff(pre)))) if pre.size >= 2 else 0.0
        jump = float(v[i]) - base
        if not (jump >= RESUME_JUMP * range_scale(ctx, s, base) and jump >= RESUME_NOISE * noise):
            continue
        before, after = ctx.lr_at(float(st[i - 1])), ctx.lr_at(float(st[i]))
        if before and after and not (0.5 <= after / before <= 2.0):
            continue
        out.append((int(st[i]), float(v[i]), base, int(st[max(0, i - 5)]), int(st[i - 1])))
    return out


#: a resumed run's first value this fraction of the run's range above the last values before the resume...
RESUME_JUMP = 0.1
#: ... and this many times their point noise (see resume_jumps)
RESUME_NOISE = 10.0


def find_divergence(ctx: RunContext, s: Series, min_points: int, min_fraction: float) -> dict[str, Any] | None:
    """Best point, post-best window and its trend test; None when there is too little data.

    The window starts after the last scheduled LR restart and after the last resume at which the loss
    jumped up (``resume_jumps``): a rise made of a resumed run starting worse is not a divergence of the
    training it continues."""
    x, y, _ = ctx.downsampled(s)
    if x.size < min_points:
        return None
    restarts = lr_restarts(ctx) + resume_jumps(ctx, s)
    lo = float(max(restarts)) if restarts else float(x[0])
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
    # the standard error of the rise (the mean of the tail's points minus a running median of smooth_min's
    # width at the best), from the point noise: averaging shrinks it by the square root of the points
    # averaged, fewer in effect when the residuals are autocorrelated (AR(1), their lag-1 autocorrelation,
    # clipped to [0, 0.9]). The same rise on the same curve is then judged alike whether it was logged every
    # step or every 10th (the point noise alone made the bar depend on the logging interval)
    kb = max(5, xs.size // 20) if xs.size >= 15 else (3 if xs.size >= 5 else 1)
    rr = resid[np.isfinite(resid)]
    rho = lag1_autocorr(rr) if rr.size >= 10 else 0.0
    rho = min(max(rho, 0.0), 0.9) if np.isfinite(rho) else 0.0
    se = noise * np.sqrt((1 + rho) / (1 - rho) * (1.0 / tail.size + (np.pi / 2) / kb))
    # "by step N": the last logged step (xs holds bin-mean steps on a long log: 48,826 where none was logged)
    # and "at step N" for the best: a logged step -- the bin's mean step when the log has it, else the first logged
    # step after it (13,150 was no step of a log written every 100 steps); best_x keeps the bin's own step for the
    # judging below
    lst = s.finite()[0]
    b = int(best_step)
    k = int(np.searchsorted(lst, b))
    shown = b if k < lst.size and int(lst[k]) == b else logged_step_from(s, best_step)
    return {"best_step": shown, "best_x": best_step, "best": best, "end": end,
            "end_step": int(s.finite()[0][-1]),
            "rise": (end - best) / scale, "rise_level": (end - best) / max(abs(best), TINY), "scale": scale,
            "trend": tr, "n": int(post.sum()), "noise_rel": noise / scale, "se_rel": float(se) / scale,
            "swing": earlier_swing(level[seg], best, end)}


def earlier_swing(level: np.ndarray, best: float, end: float) -> tuple[int, int] | None:
    """(points the curve stayed up in its longest earlier swing, points the final rise has lasted) when the
    rise from ``best`` to ``end`` is no more sustained than a swing the curve already made and recovered
    from; else None.

    ``level`` is the running median of the curve (in order). With r = end - best: once the curve first came
    down to within r/2 of its best, a *swing* is a stretch that climbed to best + 3r/4 or more and came back
    to within r/2 of the best; the final rise is the stretch from the last time the curve was within r/2 of
    its best to the end. A loss that oscillates around a level (a GAN's generator, a cyclic schedule whose LR
    the log does not show) ends on one more such swing: the guide's divergence "rises in a sustained way",
    so the final rise must last longer than twice the longest swing the curve came back from."""
    r = end - best
    if not (np.isfinite(r) and r > 0):
        return None
    lv = level[np.isfinite(level)]
    low, high = best + 0.5 * r, best + 0.75 * r
    down = np.flatnonzero(lv <= low)
    if down.size == 0:
        return None
    final = lv.size - 1 - int(down[-1])
    longest, i = 0, int(down[0])
    while i < int(down[-1]):
        up = i + int(np.argmax(lv[i:] >= high)) if np.any(lv[i:] >= high) else lv.size
        if up >= int(down[-1]):
            break
        back = up + int(np.argmax(lv[up:] <= low))
        # the points it stayed above the half-way level on this swing
        start = i + int(np.flatnonzero(lv[i:up + 1] <= low)[-1]) if np.any(lv[i:up + 1] <= low) else i
        longest = max(longest, back - start - 1)
        i = back
    if longest == 0 or final > 2 * longest:
        return None
    return longest, final


def significant_rise(d: dict[str, Any] | None, p: SimpleNamespace) -> bool:
    """The post-best trend is significant *and* the rise exceeds ``min-rise`` and ``noise-mult`` x its
    standard error (the point noise over the points the end and best levels average, AR(1)-inflated: a
    window that starts at the minimum is biased upwards; on strongly autocorrelated noise a wander can
    pass the test but not the effect-size bar)."""
    if d is None:
        return False
    if level_shift(d, p):
        return True
    return bool(d["trend"].pvalue_increasing < p.alpha and d["rise"] >= max(p.min_rise, p.noise_mult * d["se_rel"]))


def level_shift(d: dict[str, Any] | None, p: SimpleNamespace) -> bool:
    """A step up that stays up (the end level ``shift-mult`` x the point noise above the best level)
    is sustained even when a trend test sees only a jump and a flat line."""
    return bool(d is not None and d["rise"] >= max(p.min_rise, p.shift_mult * d["noise_rel"]))


def divergence(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    if s.split != "train":
        # a held-out loss only on a log with no training loss (beside one, a rise is OF001's or DV001's on training)
        if ctx.loss("train") is None:
            note = _held_out_rise(ctx, s, p)
            if note is not None:
                yield note
        return
    hit = _rise_after_best(ctx, s, p)
    if hit is None:
        hit = _above_start(ctx, s, p)
    if hit is not None:
        yield hit


def _rise_words(s: Series, d: dict[str, Any], p: SimpleNamespace) -> tuple[bool, str, str]:
    """(whether the rise is judged as a level shift, how it was shown, what was logged at the best step when the
    running median there differs) for a message about :func:`find_divergence`'s rise ``d`` on ``s``."""
    tr = d["trend"]
    onset = d["best_step"]
    shift = level_shift(d, p) and not tr.pvalue_increasing < p.alpha
    how = ((f"a level shift of {_times(d['rise'] / d['noise_rel'])} the point noise" if d["noise_rel"] > 0 else
            "a level shift; the curve has no point noise around its running median") if shift else
           f"{tname(tr)}={tr.tstat:.1f}, one-sided p={tr.pvalue_increasing:.2g}")
    sst, sv = s.finite()
    at = sv[sst == onset]
    # a centred running median at the first points already holds the rise: say what was logged there
    logged = (f"; {fmt_num(float(at[-1]))} as logged at step {onset:,}"
              if at.size and fmt_num(float(at[-1])) != fmt_num(d["best"]) else "")
    return shift, how, logged


def _held_out_rise(ctx: RunContext, s: Series, p: SimpleNamespace) -> Hit | None:
    """A validation loss that rose from its best level, sustained (DV001's rise test and size bars), on a log with
    no training loss (a Lightning run that logs only ``val_loss``, a GAN whose training losses are the two sides of
    its game). Divergence (training itself got worse) and overfitting (training kept improving while unseen data got
    worse) look alike without the training loss: an inconclusive note, outside the rule's false-discovery family
    (it decides nothing), never an error."""
    d = find_divergence(ctx, s, p.min_points, p.min_fraction)
    if d is None or not significant_rise(d, p) or d["swing"] is not None:
        return None
    tr = d["trend"]
    onset = d["best_step"]
    shift, how, logged = _rise_words(s, d, p)
    word = held_word(s)
    msg = (f"{s.label} rose from its best level {fmt_num(d['best'])} (running median{logged}) at step {onset:,} to "
           f"{fmt_num(d['end'])} (mean of the last points) by step {d['end_step']:,} "
           f"({fmt_share(d['rise'], 'the range the run covered')}; {fmt_share(d['rise_level'], 'the level')}; {how}, "
           f"{d['n']} points), and the log has no training loss: whether training itself got worse (divergence) or "
           f"kept improving while the {word} got worse (overfitting) cannot be told (inconclusive): a note")
    return Hit(
        message=msg,
        evidence=Evidence("level-shift" if shift else tr.method,
                          d["rise"] / max(d["noise_rel"], TINY) if shift else float(tr.tstat),
                          float(p.shift_mult) if shift else float(p.min_rise),
                          None if shift else float(tr.pvalue_increasing), (onset, d["end_step"]),
                          {"rise": d["rise"], "rise_of_level": d["rise_level"], "best": d["best"], "end": d["end"],
                           "held_out_only": True}),
        start_step=onset, end_step=d["end_step"], severity=Severity.INFO,
        values={"step": fmt_step(onset), "best": f"{fmt_num(d['best'])}, running median{logged}",
                "lr_advice": lr_advice(ctx, onset),
                "plan": (f"Keep the checkpoint from near step {fmt_step(onset)} (early stopping on the {word}), and log "
                         "the training loss beside it: if it rose too, lower the learning rate; if it kept falling, "
                         f"regularise: {framework_remedies(ctx, onset)[1]}.")},
    )


def _rise_after_best(ctx: RunContext, s: Series, p: SimpleNamespace) -> Hit | None:
    d = find_divergence(ctx, s, p.min_points, p.min_fraction)
    if d is None:
        return None
    tr = d["trend"]
    onset = d["best_step"]
    ctx.decide(float(tr.pvalue_increasing))
    if not significant_rise(d, p) or d["swing"] is not None:
        return None  # no rise, or one no more sustained than the swings the curve came back from (oscillation)
    settled = _settled_at_zero(ctx, s, d)
    if settled is not None:
        return settled
    shift, how, logged = _rise_words(s, d, p)
    # a rise that went on while the logged LR decayed to a fraction of its onset value: the step size does
    # not explain it (no LR advice then; the likelier causes are named instead)
    decay = rise_outlasts_lr(ctx, s, onset, d["end_step"], decayed=getattr(p, "lr_decayed", 0.25),
                             late_share=getattr(p, "late_share", 1 / 3))
    # the LR in force at the onset sits beside the onset's step: after "by step <end>" it read as the LR there
    # (sample hf/divergence: 0.2417 at step 30, where the schedule had reached 0.5 by step 200)
    msg = (f"{s.label} rose from its best level {fmt_num(d['best'])} (running median{logged}) at step {onset:,}"
           f"{lr_text(ctx, onset)} to {fmt_num(d['end'])} (mean of the last points) by step {d['end_step']:,} "
           f"({fmt_share(d['rise'], 'the range the run covered')}; {fmt_share(d['rise_level'], 'the level')})"
           f" ({how}, {d['n']} points)"
           + (f"; {rise_outlasts_lr_text(decay)}, so the LR does not explain it" if decay else ""))
    from_start = onset <= int(s.finite()[0][0])  # best at the first logged point
    plan = _plan(ctx, onset, "rise", from_start=from_start)
    if decay:
        plan = (f"Keep the weights from near step {fmt_step(onset)}. A too-high step size stops driving a loss up once "
                f"the LR is cut, and this rise went on while the LR decayed to {shown_lr(decay['lr_top'])}: check "
                + "; ".join(RISE_CAUSES) + ".")
    return Hit(
        message=msg,
        evidence=Evidence("level-shift" if shift else tr.method,
                          d["rise"] / max(d["noise_rel"], TINY) if shift else float(tr.tstat),
                          float(p.shift_mult) if shift else float(p.min_rise),
                          None if shift else float(tr.pvalue_increasing),
                          (onset, d["end_step"]),
                          {"rise": d["rise"], "rise_of_level": d["rise_level"], "scale": d["scale"],
                           "noise": d["noise_rel"], "best": d["best"], "end": d["end"], "slope": tr.slope,
                           "alpha": p.alpha, "lr": ctx.lr_at(onset), "from_start": from_start,
                           **({"lr_decayed_rise": decay} if decay else {})}),
        start_step=onset, end_step=d["end_step"], alpha=None if shift else p.alpha,
        values={"step": fmt_step(onset), "best": f"{fmt_num(d['best'])}, running median{logged}",
                "lr_advice": lr_advice(ctx, onset), "plan": plan},
    )


#: a signed loss that rose from a negative best "settled at 0" when its end level and its last third lie within this
#: share of the best's magnitude of 0
ZERO_SETTLE = 0.1


def settled_at_zero(ctx: RunContext, s: Series, d: dict[str, Any]) -> np.ndarray | None:
    """The last third of the (down-sampled) points after the best of :func:`find_divergence`'s rise ``d``, when the
    rise went from a negative best to 0 and stayed there (the end level and every one of those points within
    ``ZERO_SETTLE`` / twice that of the best's magnitude of 0); None otherwise."""
    best, end = float(d["best"]), float(d["end"])
    if not best < 0 or abs(end) > ZERO_SETTLE * abs(best):
        return None
    x, y, _ = ctx.downsampled(s)
    post = y[x >= d["best_x"]]
    last = post[-max(3, post.size // 3):]
    if last.size == 0 or float(np.max(np.abs(last))) > 2 * ZERO_SETTLE * abs(best):
        return None
    return last


def _settled_at_zero(ctx: RunContext, s: Series, d: dict[str, Any]) -> Hit | None:
    """An inconclusive note instead of DV001's error when a loss rose from a negative best to 0 and stayed there.

    A signed objective settles at 0 when its two sides balance: a WGAN critic's loss (-0.43 at its best, 0.002
    at the end: m-orlewski/face-generator-gan), an energy-based model's contrastive divergence (-0.051, then
    0.0018-0.0022 over the last 80% of the run: JorgeOrtizV/DiffusionModels_Project). A loss that is better the
    further below 0 it goes (a negative log-likelihood) and rose to 0 diverged; the log cannot say which, and an
    end level this close to 0 after a rise is what the balanced kind does. A note outside the rule's
    false-discovery family (it decides nothing), never an error."""
    last = settled_at_zero(ctx, s, d)
    if last is None:
        return None
    best, end = float(d["best"]), float(d["end"])
    onset = d["best_step"]
    msg = (f"{s.label} rose from its best level {fmt_num(best)} (running median) at step {onset:,} to "
           f"{fmt_num(end)} (mean of the last points) by step {d['end_step']:,}, every point of the last third within "
           f"{fmt_num(float(np.max(np.abs(last))))} of 0 (derived): a signed objective settles at 0 when "
           "its two sides balance (a WGAN critic's loss, a contrastive divergence), while a loss that is better the "
           "further below 0 it goes (a negative log-likelihood) diverged -- the log cannot tell which "
           "(inconclusive): a note")
    return Hit(
        message=msg,
        evidence=Evidence("settled-at-zero", abs(end) / abs(best), ZERO_SETTLE, None, (onset, d["end_step"]),
                          {"best": best, "end": end, "rise": d["rise"], "settled_at_zero": True}),
        start_step=onset, end_step=d["end_step"], severity=Severity.INFO,
        values={"step": fmt_step(onset), "best": f"{fmt_num(best)}, running median", "lr_advice": lr_advice(ctx, onset),
                "plan": (f"If {s.label} is a critic's or a contrastive-divergence loss, 0 is where it settles and nothing "
                         "needs to change; judge the run on the generator's or the model's own metric. If it is a loss "
                         f"that should keep falling below 0, keep the weights from near step {fmt_step(onset)} and lower "
                         "the learning rate.")},
    )


def _above_start(ctx: RunContext, s: Series, p: SimpleNamespace) -> Hit | None:
    """The training loss ended above where it started: the last third of the run sits above the first
    logged value (the untrained model's loss: positive, on a loss that never goes below zero) by
    ``start-rise`` of its level, and either by ``shift-mult`` x
    the spread of that last third (a dead network's constant loss has none), or the first value lies below
    nearly all of the later values by a rank test. A run that never got back below its starting loss was undone
    by its updates (a blow-up before the first logged point, or right after it) even when the rise after
    its best point is too small or too short to test: the post-best window then starts at the first point.

    The shift and the rank test are :func:`above_first`'s; the rank test is one decision in the rule's
    false-discovery family."""
    st, v = s.finite()
    n = v.size
    if n < p.min_points:
        return None
    first = float(v[0])
    if not first > 0 or bool(np.any(v < 0)):
        # the test compares with the untrained model's loss, a positive level on a loss bounded below by zero.
        # A first value of exactly 0 is a placeholder a script logged before training (a list started as [0]),
        # not a loss; and a loss that takes negative values (a contrastive-divergence or other signed
        # objective, a log-likelihood of a learned variance) has no zero floor, so "x% above its first value"
        # has no meaning (107.9% above -0.03) and its first logged value no claim to be where training
        # started: its rise is judged after its best point, against the range the run covered (issue #13:
        # scale and sign), as for every other loss
        return None
    a = above_first(v, p.shift_mult)
    med, rise, spread, shift, k, rho, n_eff, pval = a.med, a.rise, a.spread, a.shift, a.k, a.rho, a.n_eff, a.pval
    if not (np.isfinite(rise) and rise > 0 and rise >= p.start_rise * max(abs(first), TINY)):
        return None
    if not shift:
        ctx.decide(pval)
        if pval >= p.alpha:
            return None
    # where it rose: the first point whose 3-point running median reached halfway up
    sm = rolling_median(v, 3, trailing=False) if n >= 3 else v
    up = np.flatnonzero(sm[1:] >= first + 0.5 * rise)
    onset = int(st[1 + int(up[0])]) if up.size else int(st[1])
    rel_rise = rise / max(abs(first), TINY)
    how = ((f"the last third is constant at {fmt_num(med)}" if spread == 0 else
            f"a level shift of {rise / spread:.0f}x the spread of the last third") if shift else
           f"rank test: {k} of the {a.later} later values at or below the first, effective n {n_eff:.0f} "
           f"(lag-1 rank autocorrelation of the last third {rho:.2f}), p={pval:.2g}")
    msg = (f"{s.label} ended above where it started: the last third of the run sat at {fmt_num(med)} (median), "
           f"{rel_rise:.1%} above its first logged value {fmt_num(first)} (step {int(st[0]):,}); it rose from step "
           f"{onset:,}{lr_text(ctx, onset)} and never came back below its start ({how}, {n} points)")
    return Hit(
        message=msg,
        evidence=Evidence("rise-above-start" if shift else "rank-test-vs-start",
                          rise / spread if shift and spread > 0 else (float("inf") if shift else float(n_eff)),
                          float(p.shift_mult) if shift else float(p.alpha),
                          None if shift else pval, (int(st[0]), int(st[-1])),
                          {"first": first, "from_start": True, "late_median": med, "rise_of_level": rel_rise, "spread": spread,
                           "later_points": a.later, "at_or_below_first": k, "rank_autocorr": rho,
                           "n_eff": n_eff, "alpha": p.alpha, "lr": ctx.lr_at(onset)}),
        start_step=onset, end_step=int(st[-1]), alpha=None if shift else p.alpha,
        values={"step": fmt_step(int(st[0])), "best": f"{fmt_num(first)}, its first logged value",
                "lr_advice": lr_advice(ctx, onset), "plan": _plan(ctx, int(st[0]), "rise", from_start=True)},
    )


def _times(ratio: float) -> str:
    """A ratio for a message: ``56x``; ``6.16e+24x`` rather than a 25-digit whole number."""
    return f"{ratio:.3g}x" if ratio >= 1e6 else f"{ratio:.0f}x"


def _early_text(head: np.ndarray, early: float, what: str = "level") -> str:
    """The early level (the median of the magnitudes of ``head``, the first points) as what it is: the first
    logged value, or a median of the first points (derived)."""
    first = float(head[0])
    if head.size == 1:
        return (f"its first logged value {fmt_num(first)}" if early == first else
                f"the magnitude of its first logged value {fmt_num(first)}")
    mag = "magnitudes" if what == "magnitude" or bool(np.any(head < 0)) else "values"
    return f"its early {what} {fmt_num(early)}, the median of the first {head.size} logged {mag}"


def _lr_in_force(ctx: RunContext, step: int) -> str:
    """' with LR 0.05' for the recommendation, or that the log shows none."""
    lr = ctx.lr_at(step)
    return f" with LR {shown_lr(lr)}" if lr else " (the log shows no LR)"


def stayed_up(head: np.ndarray, rest: np.ndarray) -> bool:
    """An explosion did not come back: the median of the last tenth of ``rest`` (the values from the first
    crossing on; at least 3) stands above the upper quartile of the magnitudes of ``head`` (the early points
    whose median is the early level). A loss back at a level it logged regularly before it exploded came back,
    whatever its tail does: on a heavy-tailed per-batch loss (a classifier near zero, whose batches log 3e-4 to
    0.05 around a median of 0.005) the mean of the last tenth is set by its hardest batches and its median
    drifts a little above the early one, and neither is a loss that stayed up. The median of the tail, not its
    mean, so that one more hard batch at the end does not make an explosion of a spike."""
    tail = rest[-max(3, rest.size // 10):]
    return bool(tail.size) and float(np.median(tail)) > float(np.quantile(np.abs(head), 0.75))


def explosion(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Loss reaching ``factor`` x its early level (median of the first ``early-points``) and not coming
    back below that early level (Megatron flags 10x the max of the first 100 as "unexpectedly large")."""
    if s is None:
        return
    st, v = s.finite()
    # a loss that then went non-finite confirms the blow-up: two finite values (2.6e6, then 1.9e22, then
    # NaN from the third epoch on) are enough to measure the jump between them
    ends_nonfinite = bool(s.values.size) and not np.isfinite(s.values[-1])
    if v.size < (min(p.min_points, getattr(p, "min_points_nonfinite", p.min_points)) if ends_nonfinite
                 else p.min_points):
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
    stays = stayed_up(v[:k], rest)
    if not (stays or ends_nonfinite):
        return  # it came back: a spike (SP001), not an explosion
    peak = float(np.max(rest))
    step = int(st[i])
    msg = (f"{s.label} exploded to {fmt_num(peak)} ({_times(peak / early)} {_early_text(v[:k], early)}) "
           f"from step {step:,}{lr_text(ctx, step)} and did not come back"
           + ("; the run then went non-finite" if ends_nonfinite else ""))
    yield Hit(
        message=msg,
        evidence=Evidence("ratio-to-early-level", peak / early, float(p.factor), None, (step, int(st[-1])),
                          {"early_level": early, "peak": peak, "lr": ctx.lr_at(step)}),
        start_step=step, end_step=int(st[-1]),
        values={"step": fmt_step(step), "lr_advice": lr_advice(ctx, step),
                "lr": _lr_in_force(ctx, step), "plan": _plan(ctx, step, "explosion")},
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
    msg = (f"{s.label} ran away below zero: {fmt_num(low)} ({_times(abs(low) / early)} "
           f"{_early_text(v[:k], early, 'magnitude')}) from step {step:,}{lr_text(ctx, step)} and still falling at "
           "the end: an objective "
           "that is unbounded below is diverging, not improving")
    yield Hit(
        message=msg,
        evidence=Evidence("ratio-to-early-level", abs(low) / early, float(p.factor), None, (step, int(st[-1])),
                          {"early_level": early, "low": low, "direction": "down", "lr": ctx.lr_at(step)}),
        start_step=step, end_step=int(st[-1]),
        values={"step": fmt_step(step), "lr_advice": lr_advice(ctx, step),
                "lr": _lr_in_force(ctx, step), "plan": _plan(ctx, step, "explosion")},
    )


DETECTORS = {"divergence": divergence, "explosion": explosion}
