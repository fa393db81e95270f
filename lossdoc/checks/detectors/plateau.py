"""Plateau (PL001): the loss is demonstrably flat over the trailing part of the run.

"Flat" is an equivalence claim, so it is tested as one: two one-sided tests (TOST) that the
HAC trend slope lies inside +-margin. The margin for the change across the window is
``margin`` (``stuck-margin`` for long windows) of the window's level, capped at ``range-cap`` of
the range the run covered (a window holding a third of the range is not flat, whatever the
level: a 10.8-nat LM falling steadily by 1.5% is not stuck); or, when wider, ``range-margin`` of
that range (flat on any scale: a classifier at 0.05 wobbling by 15% of its level after falling
from 1.4). A window that passes only on the range must also not be demonstrably moving by more
than the level margin -- by its HAC interval, or by a significant Mann-Kendall trend (Hamed-Rao)
whose Sen-slope change exceeds the margin and two logged units: a loss still halving near zero is
progress on its own scale, a step of one logged unit (0.0001 -> 0.0000) is the log's resolution. A noisy curve whose slope cannot be pinned down is *not* called a
plateau (that is "inconclusive", not "flat"); no fixed patience is involved. The longest trailing
window (75%, 50% or 25% of the run) that passes sets where the plateau starts. Harm sets the
severity: a final plateau after real progress is convergence (info); a plateau covering most of
the run at a loss that barely fell from its start is training stuck early, and a plateau over
``waste-fraction`` of the run wasted most of its steps (both warnings) -- unless a never-negative
loss sits at zero and a validation loss says what the later steps bought (a training set fitted
exactly: convergence).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from lossdoc.analysis.stats import equivalence_slope, mann_kendall
from lossdoc.checks.detectors._common import covered_scale, fmt_num, fmt_step, lr_text, range_scale, rel
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Severity

_FRACTIONS = (0.75, 0.5, 0.25)


def plateau(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    x, y, _ = ctx.downsampled(s)
    if x.size < p.min_points:
        return
    span = float(x[-1] - x[0])
    if span <= 0:
        return
    found = None
    start_level = float(y[0])  # where training started: the first (bin-mean) point
    for frac in _FRACTIONS:
        lo = x[-1] - frac * span
        keep = x >= lo
        if keep.sum() < p.min_points:
            continue
        xw, yw = x[keep], y[keep]
        level = float(np.mean(yw))
        wspan = float(xw[-1] - xw[0]) or 1.0
        early_stuck = frac >= p.stuck_fraction and -rel(level, start_level) < p.stuck_drop
        long_flat = frac >= p.waste_fraction
        m_lvl = (p.stuck_margin if early_stuck or long_flat else p.margin) * abs(level)
        margin, basis, by_range = _margin(ctx, s, p, level, early_stuck or long_flat)
        margin /= wspan
        eq = equivalence_slope(xw, yw, margin, alpha=p.alpha)
        ctx.test_pvalue(eq.pvalue)
        # flat relative to the range, but demonstrably still moving by more than the level margin in
        # relative terms (a classifier's loss halving from 0.006 to 0.003 after falling from 4.3): that
        # is progress on its own scale, not a plateau
        moving = eq.ci_high * wspan < -m_lvl or eq.ci_low * wspan > m_lvl
        if not moving and eq.equivalent and by_range:
            # a smooth curve's curvature widens the HAC interval (its residuals are all autocorrelated
            # bend), so also: a significant monotone decline or rise (Mann-Kendall, Hamed-Rao corrected
            # for autocorrelation) whose Sen-slope change across the window exceeds the level margin
            # (a loss halving from 0.006 to 0.003 moves; ties at a logged 0.0000 do not)
            # (a move of one logged unit -- 0.0001 -> 0.0000 at 4 decimals -- is the log's resolution,
            # not movement: the change must exceed two of the smallest steps between logged values)
            mk = mann_kendall(yw)
            sen = mk.slope * (yw.size - 1)
            gaps = np.diff(np.unique(yw))
            unit = float(gaps.min()) if gaps.size else 0.0
            moving = bool(np.isfinite(mk.pvalue) and mk.pvalue < p.alpha and abs(sen) > max(m_lvl, 2 * unit))
        if eq.equivalent and not moving:
            found = (frac, xw, yw, level, eq, margin, wspan, basis)
            break
    if found is None:
        return
    frac, xw, yw, level, eq, margin, wspan, basis = found
    if s.split != "train":
        yield from _val_plateau(ctx, s, p, found)
        return
    drop = -rel(level, start_level)  # fraction of the starting loss removed before the plateau
    stuck = frac >= p.stuck_fraction and drop < p.stuck_drop
    # flat for most of the run: whatever the level, the steps bought nothing -- unless a never-negative
    # loss sits at its floor of zero (within 1% of the range it covered) and a validation loss is
    # there to say what those steps bought: a training set fitted exactly is where the generalisation
    # story starts (OF001/GP001 judge it), convergence (info). Without a validation loss nothing the
    # log shows moved after the loss reached zero: those steps were wasted (warning)
    val = ctx.loss("val")
    has_val = val is not None and int(np.isfinite(val.values).sum()) >= p.min_points
    at_zero = bool(has_val and np.nanmin(y) >= 0 and abs(level) <= 0.01 * range_scale(ctx, s, level))
    wasted = frac >= p.waste_fraction and not at_zero
    change = eq.slope * wspan
    start = int(xw[0])
    if wasted and not stuck:
        msg = (f"{s.name} has been flat at {fmt_num(level)} since step {start:,}: the last {frac:.0%} of the run "
               f"changed it by {fmt_num(change)} (within {basis}; TOST p={eq.pvalue:.2g})")
    elif stuck:
        msg = (f"{s.name} has been flat at {fmt_num(level)} since step {start:,} ({frac:.0%} of the run) after "
               + (f"falling only {drop:.0%} from {fmt_num(start_level)}" if drop >= 0 else
                f"never getting below its start {fmt_num(start_level)}") + f"{lr_text(ctx, start)} "
               + f"(TOST: change within {basis} across the window, p={eq.pvalue:.2g})")
    else:
        msg = (f"{s.name} has converged: flat at {fmt_num(level)} over the last {frac:.0%} of the run "
               f"(from step {start:,}; change {fmt_num(change)} across it, within {basis}; "
               f"TOST p={eq.pvalue:.2g})")
    yield Hit(
        message=msg,
        evidence=Evidence("tost-equivalence-slope", float(eq.slope), float(margin), float(eq.pvalue),
                          (start, int(xw[-1])),
                          {"level": level, "window_fraction": frac, "drop_before": drop,
                           "ci_low": eq.ci_low, "ci_high": eq.ci_high, "stuck": float(stuck),
                           "margin_change": margin * wspan, "margin_basis": basis}),
        start_step=start, end_step=int(xw[-1]),
        severity=Severity.WARNING if stuck or wasted else Severity.INFO,
        values={"step": fmt_step(start), "level": fmt_num(level), "fraction": f"{frac:.0%}",
                "advice": (_stuck_advice(ctx, start) if stuck else
                           f"the last {frac:.0%} of the run bought nothing: stop at step ~{start:,} (early stopping "
                           "on the training loss), or use the compute for a larger model or more data; if the LR "
                           "is still high, decay it" if wasted else
                           f"the last {frac:.0%} of steps changed the loss by less than {basis}: stop earlier (or at "
                           f"step ~{start:,}) and spend the compute on a larger model or more data, or decay "
                           "the LR further if it is still high")},
    )


def _val_plateau(ctx: RunContext, s: Series, p: SimpleNamespace, found: tuple) -> Iterator[Hit]:
    """A validation loss that stopped improving while the training loss kept falling: the steps since
    bought training fit only. When the training loss is flat too, its own finding says it all."""
    frac, xw, yw, level, eq, margin, wspan, basis = found
    start, end = int(xw[0]), int(xw[-1])
    train = ctx.loss("train")
    t_txt, t_change = "", None
    if train is not None:
        ts, tv = train.finite()
        a = tv[(ts >= start) & (ts <= end)]
        if a.size >= 3:
            k = max(1, a.size // 5)
            t_change = float(np.mean(a[-k:]) / np.mean(a[:k]) - 1) if np.mean(a[:k]) != 0 else None
        if t_change is None or t_change > -p.margin:
            return  # training flat as well: PL001 on the training loss reports the run
        t_txt = f" while the training loss kept falling ({t_change:.0%} over the same steps)"
    msg = (f"{s.name} stopped improving: flat at {fmt_num(level)} since step {start:,} ({frac:.0%} of the run; "
           f"change within {basis}, TOST p={eq.pvalue:.2g})"
           f"{t_txt}")
    yield Hit(
        message=msg,
        evidence=Evidence("tost-equivalence-slope", float(eq.slope), float(margin), float(eq.pvalue), (start, end),
                          {"level": level, "window_fraction": frac, "train_change": t_change,
                           "margin_change": margin * wspan, "margin_basis": basis}),
        start_step=start, end_step=end,
        severity=Severity.INFO,  # a note with early-stopping advice: validation converged, nothing broke
        values={"step": fmt_step(start), "level": fmt_num(level), "fraction": f"{frac:.0%}",
                "advice": (f"validation stopped gaining at step ~{start:,}: stop there (early stopping on the "
                           "validation loss) or spend the steps on regularisation (dropout, weight decay, "
                           "augmentation) or more data, which is what lets validation follow the training loss")},
    )


def _margin(ctx: RunContext, s: Series, p: SimpleNamespace, level: float, long: bool) -> tuple[float, str, bool]:
    """The equivalence margin for the change across a window, what it is relative to, and whether it
    is the range route (wider than the level margin).

    Relative to the level alone, "flat" fails both ways: a classifier at 1e-4 wobbling by 0.5e-4 is
    never within 2% of its level although it stopped moving after the first 5% of the run, and a
    language model at 10.8 nats falling steadily by 0.17 (its whole range) is "within 5% of the level".
    So the change must be within ``margin`` (``stuck-margin`` for long windows) of the level *and*
    within ``range-cap`` of the range the run covered; or within ``range-margin`` of that range
    (floored at 1% of the level), which is flat on any scale.

    "The range the run covered" is the smaller of the percentile range and the range the loss came
    down from its first logged value (:func:`descent_scale`): a run that blew up to 1e21 at step 7
    and then swung between 0.7 and 11 did not cover a range of 1e21 against which those swings are
    "flat"; one that never got below its start is held to its level margin."""
    rng, rng_name = covered_scale(ctx, s, level)
    m_lvl = (p.stuck_margin if long else p.margin)
    by_level = min(m_lvl * abs(level), p.range_cap * rng)
    by_range = p.range_margin * rng
    if by_range >= by_level:
        return by_range, f"+-{p.range_margin:.0%} of {rng_name} ({fmt_num(by_range)})", True
    if by_level < m_lvl * abs(level):
        return by_level, f"+-{p.range_cap:.0%} of {rng_name} ({fmt_num(by_level)})", False
    return by_level, f"+-{m_lvl:.0%} of the level ({fmt_num(by_level)})", False


def _stuck_advice(ctx: RunContext, step: int) -> str:
    lr = ctx.lr_at(step)
    tip = "check that the loss and labels are wired up (a frozen model or wrong targets look like this)"
    if lr:
        from lossdoc.checks.detectors._common import round_lr

        return (f"{tip}; if they are, the LR in force ({round_lr(lr)}) is likely wrong by an order of magnitude: "
                f"run an LR range test between {round_lr(lr / 10)} and {round_lr(lr * 10)}")
    return f"{tip}; then run an LR range test (x0.1 to x10 of the current LR)"


DETECTORS = {"plateau": plateau}
