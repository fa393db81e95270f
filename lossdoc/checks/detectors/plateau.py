"""Plateau (PL001) and converged early (PL002): the loss is demonstrably flat over the trailing part of the run.

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
plateau (that is "inconclusive", not "flat"); no fixed patience is involved.

PL001 tests the trailing 75%, 50% and 25% of the run; the longest window that passes sets where the
plateau starts, and harm decides whether PL001 reports it: a plateau covering most of the run at a
loss that barely fell from its start (and not demonstrably still falling) is training stuck early (a
warning). A plateau over ``waste-fraction`` of the run after real progress wasted its steps but not
the model: it is convergence, PL002's note (its +-``stuck-margin``-of-the-level margin does not scale
with the loss's offset: a constant added to a converged loss lets a window that still moves a tenth
of the range pass it).

Everything else that is flat after real progress is convergence, and PL002 reports it when it
covers at least ``min-share`` of the run (the mirror image of SI001's "still improving"): those
steps bought nothing. PL002 places the start on a finer grid of windows (75%, 70%, 60%, ... down
to ``min-share``) so the step it names to stop at is within a tenth of the run, and stays silent on
any series PL001 grades stuck (the two never both fire on one series). A validation loss
that stopped improving while the training loss kept falling is PL002's too.

On a noisy per-step loss the HAC interval is wider than the 2% margin however flat the loss is, so
TOST says nothing; PL002 (never PL001, a warning) then has an effect-size route
(:func:`_effect_window`): a window of ``bound-min-share`` or more whose Theil-Sen change is within
``max-change`` of the level and whose one-sided HAC bound rules out an improvement beyond
``bound-margin`` of it. Its note says which route decided.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy.stats import theilslopes

from lossdoc.analysis.stats import equivalence_slope, mann_kendall, mann_kendall_exact
from lossdoc.checks.detectors._common import (
    GBT_FORMATS,
    MAD_TO_SD,
    covered_scale,
    fmt_num,
    fmt_step,
    framework_remedies,
    logged_step_from,
    lr_text,
    noise_sd,
    range_scale,
    rel,
    round_lr,
    shown_lr,
    unlogged_head,
)
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Severity

#: PL001's trailing windows (fractions of the run), longest first
_FRACTIONS = (0.75, 0.5, 0.25)
#: PL002's: the same and every tenth between, so the step it names to stop at is within a tenth of the run
_FINE = (0.75, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25)


@dataclass
class _Flat:
    """A trailing window shown flat: its share of the run, points, mean level and TOST result."""

    frac: float
    xw: np.ndarray
    yw: np.ndarray
    level: float
    eq: object
    margin: float  # per step
    wspan: float
    basis: str
    one_sided: bool = False  # "improved by less than the margin" (a validation loss; a rise is no improvement)
    #: which test showed it: "tost" (equivalence within the margin) or "effect" (PL002's effect-size route: the
    #: Theil-Sen change within max-change of the level, and an improvement beyond the wider bound-margin ruled
    #: out by the slope's one-sided HAC bound; ``eq`` is then the test against that wider margin)
    route: str = "tost"
    sen: float = float("nan")  # Theil-Sen change across the window (effect route)
    size_limit: float = float("nan")  # max-change x |level|: the largest Theil-Sen change allowed (effect route)
    alpha: float = 0.05  # the one-sided test's size (effect route's bound is its 1 - alpha one)
    #: an equivalence window flat only within a range margin wider than bound-margin of the level also rules out
    #: an improvement beyond ``bound_margin`` (value units across the window) by its one-sided test, p ``bound_p``
    bound_p: float = float("nan")
    bound_margin: float = float("nan")
    bound_low: float = float("nan")  # that test's one-sided (1 - alpha) lower bound of the change across the window
    min_points: int = 10  # windows of this many points or more take the bound's error from a quadratic trend's scatter

    @property
    def pvalue(self) -> float:
        """The decision's p-value: the TOST's, or its non-inferiority half for a one-sided window (the larger of
        that and the bound's test when both decided: an intersection-union test)."""
        p = float(self.eq.pvalue_low if self.one_sided else self.eq.pvalue)
        return max(p, self.bound_p) if np.isfinite(self.bound_p) else p

    @property
    def start(self) -> int:
        return int(self.xw[0])

    @property
    def end(self) -> int:
        return int(self.xw[-1])

    @property
    def change(self) -> float:
        """The change across the window: the HAC trend's (OLS slope), or the Theil-Sen slope's on the
        effect-size route (robust to the heavy-tailed per-batch losses that route is for)."""
        if self.route == "effect":
            return float(self.sen)
        return float(self.eq.slope * self.wspan)

    @property
    def bound(self) -> float:
        """The one-sided (1 - alpha) lower bound of the change across the window (the HAC slope's; the bound
        test's when an equivalence window needed one)."""
        return float(self.bound_low) if np.isfinite(self.bound_low) else float(self.eq.ci_low * self.wspan)


def _tost_p(p: float, one_sided: bool = False) -> str:
    """'TOST p=1e-06'; an exactly constant window has no spread to test against (p computes as 0)."""
    if one_sided:
        return ("every value in the window equal" if p == 0 else
                f"one-sided test that it fell by less than that, p={p:.2g}")
    return "every value in the window equal" if p == 0 else f"TOST p={p:.2g}"


def _trailing(p: SimpleNamespace, x: np.ndarray, frac: float) -> np.ndarray:
    """The trailing ``frac`` of the run as a mask over ``x``: the points at or after ``x[-1] - frac x span``. On a
    short series (fewer than ``min-points`` points there) whose points do not fall on that boundary, the points
    inside it span less than ``min-share`` of the run, which the tests below reject, so the window starts at the
    last point before it instead: the shortest trailing window that spans ``frac`` of the run (the guide's
    "last >= 30%"). Evaluated every k steps, the points after the 30% boundary span floor(0.3 (n - 1)) of the
    n - 1 intervals -- 8 of 29 (28%) on 30 evaluations, 3 of 11 (27%) on 12 -- so without this the guide's
    30% window was never tested on a short series unless 0.3 (n - 1) is a whole number, and the shortest window
    tested was the 40% one. Windows of ``min-points`` or more, and short windows that already span
    ``min-share``, are unchanged."""
    span = float(x[-1] - x[0])
    keep = x >= x[-1] - frac * span
    n = int(keep.sum())
    share = getattr(p, "min_share", None)
    if (share is not None and 0 < n < min(p.min_points, x.size) and frac >= share - 1e-9
            and float(x[-1] - x[x.size - n]) < share * span - 1e-9):
        keep[x.size - n - 1] = True
    return keep


def _flat_window(ctx: RunContext, s: Series, p: SimpleNamespace, x: np.ndarray, y: np.ndarray,
                 frac: float, one_sided: bool = False, tried: list[float] | None = None,
                 level_only: bool = False) -> _Flat | None:
    """The trailing ``frac`` of the run, if it is demonstrably flat (the one decision recorded).

    ``level_only``: the margin is ``margin`` (``stuck-margin`` for long windows) of the window's level alone, never
    capped at ``range-cap`` of the range the run covered nor widened by ``range-margin`` of it (PL002's short
    validation route, :func:`_short_val_window`).

    ``one_sided``: demonstrably not improving by the margin -- the lower end of the slope's interval above
    ``-margin`` (the non-inferiority half of the TOST, one test at ``alpha``): a validation loss that rose a
    little did not improve, and whether it rose by too much is OF001's question, not "flat".

    ``tried``: collect the window's p-value there instead of recording it as a decision of its own."""
    span = float(x[-1] - x[0])
    keep = _trailing(p, x, frac)
    if keep.sum() < _min_points(p, x.size):
        return None
    xw, yw = x[keep], y[keep]
    if keep.sum() < p.min_points and float(xw[-1] - xw[0]) < p.min_share * span - 1e-9:
        # a short series' window of few points must itself span min-share of the run (the guide's "last
        # >= 30%"): the last 4 of 12 evaluations span only 27% of it
        return None
    level = float(np.mean(yw))
    wspan = float(xw[-1] - xw[0]) or 1.0
    start_level = float(y[0])  # where training started: the first (bin-mean) point
    early_stuck = frac >= p.stuck_fraction and -rel(level, start_level) < p.stuck_drop
    long_flat = frac >= p.waste_fraction
    m_lvl = (p.stuck_margin if early_stuck or long_flat else p.margin) * abs(level)
    margin, basis, by_range = _margin(ctx, s, p, level, early_stuck or long_flat)
    if level_only:
        if level == 0:
            return None  # no level to size a margin against
        margin, basis, by_range = m_lvl, f"+-{m_lvl / abs(level):.0%} of the level ({fmt_num(m_lvl)})", False
    margin /= wspan
    eq = equivalence_slope(xw, yw, margin, alpha=p.alpha)
    passed = bool(np.isfinite(eq.ci_low) and eq.ci_low > -margin) if one_sided else eq.equivalent
    pval = float(eq.pvalue_low if one_sided else eq.pvalue)
    if tried is None:
        ctx.decide(pval)
    elif np.isfinite(pval):
        tried.append(pval)  # the caller records one p-value for its scan of windows (PL002)
    # flat relative to the range, but demonstrably still moving by more than the level margin in
    # relative terms (a classifier's loss halving from 0.006 to 0.003 after falling from 4.3): that
    # is progress on its own scale, not a plateau
    moving = eq.ci_high * wspan < -m_lvl or (not one_sided and eq.ci_low * wspan > m_lvl)
    if not moving and passed and by_range:
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
        moving = bool(np.isfinite(mk.pvalue) and mk.pvalue < p.alpha and (-sen if one_sided else abs(sen))
                      > max(m_lvl, 2 * unit))
    if passed and not moving:
        return _Flat(frac, xw, yw, level, eq, margin, wspan, basis, one_sided, alpha=p.alpha, min_points=p.min_points)
    return None


def _effect_window(ctx: RunContext, s: Series, p: SimpleNamespace, x: np.ndarray, y: np.ndarray,
                   frac: float, tried: list[float]) -> _Flat | None:
    """PL002's effect-size route for the trailing ``frac`` of the run, when the equivalence test is
    inconclusive: "no meaningful improvement" shown by its size and a bound, not by an
    interval inside +-``margin``.

    A noisy per-step loss (per-log scatter 5-40% of the level) gives the HAC slope an interval wider than
    the 2% margin however flat the loss is, so TOST cannot pass and the converged tail the labelling guide
    reads from block means is never reported. Here the window passes when all hold:

    * its Theil-Sen change (median of pairwise slopes x the window's span: robust to the heavy-tailed
      batches that make the scatter) is within ``max-change`` of its level, either way -- the guide's
      "changes the loss by < ~2% of its level";
    * the slope's one-sided ``1 - alpha`` HAC bound rules out an improvement larger than ``bound-margin``
      of the level (never more than ``range-cap`` of the range the run covered; never widened by the range,
      as TOST's margin is for a loss near zero: a bound of 400% of the level rules nothing out): a
      non-inferiority test at ``alpha``, whose p-value is the decision's;
    * the window covers ``bound-min-share`` of the run or more (the guide: "normal convergence ... counts
      only if it wasted a large share of the run"), and holds ``min-points`` points (never
      ``short-min-points``: a few evaluations are the equivalence test's);
    * on a training loss, real progress before it (the caller's check, as for the equivalence test: the
      window's level ``stuck-drop`` below :func:`_start`)."""
    bound_margin = getattr(p, "bound_margin", None)
    if bound_margin is None or frac < getattr(p, "bound_min_share", p.min_share) - 1e-9:
        return None
    span = float(x[-1] - x[0])
    keep = _trailing(p, x, frac)
    if int(keep.sum()) < _min_points(p, x.size):
        return None
    xw, yw = x[keep], y[keep]
    wspan = float(xw[-1] - xw[0])
    if wspan <= 0 or (xw.size < p.min_points and wspan < p.min_share * span - 1e-9):
        return None  # a short series' window of few points must itself span min-share of the run (as TOST's)
    level = float(np.mean(yw))
    if level == 0:
        return None  # no level to size a change against (the equivalence test's range margin judges it)
    sen = float(theilslopes(yw, xw)[0]) * wspan
    if not np.isfinite(sen) or abs(sen) > p.max_change * abs(level):
        return None
    rng, rng_name = covered_scale(ctx, s, level)
    bound = min(bound_margin * abs(level), p.range_cap * rng)
    basis = (f"+-{bound_margin:.0%} of the level ({fmt_num(bound)})" if bound >= bound_margin * abs(level) else
             f"+-{p.range_cap:.0%} of {rng_name} ({fmt_num(bound)})")
    eq = _bound_test(xw, yw, bound / wspan, p)
    if np.isfinite(eq.pvalue_low):
        tried.append(float(eq.pvalue_low))
    if not (np.isfinite(eq.ci_low) and eq.ci_low * wspan > -bound):
        return None
    return _Flat(frac, xw, yw, level, eq, bound / wspan, wspan, basis, one_sided=True, route="effect", sen=sen,
                 size_limit=p.max_change * abs(level), alpha=p.alpha, min_points=p.min_points)


def _bound_test(xw: np.ndarray, yw: np.ndarray, margin: float, p: SimpleNamespace) -> object:
    """The bound's test (:func:`equivalence_slope` against ``margin`` per step): the window's OLS trend slope, its
    HAC standard error computed from the scatter about a quadratic trend when the window holds ``min-points`` or
    more, not about the line. A smooth converging tail (an XGBoost eval curve, a noiseless epoch history) bends,
    and about a straight line that bend reads as noise so autocorrelated (AR(1) coefficient near 1) that the HAC
    interval spans many times the change: 0.05 + 0.9 exp(-epoch/5) over its last 30% moves by 0.3% of its level,
    yet its one-sided bound on the change was below -5%. The bend is the mean, not sampling noise; the slope's
    estimate is the same (the quadratic's residuals are orthogonal to the line), only its spread is the noise's.
    On a flat or linear window the two differ by one degree of freedom."""
    if xw.size < p.min_points:
        return equivalence_slope(xw, yw, margin, alpha=p.alpha)
    xc = (xw - xw.mean()) / (float(np.ptp(xw)) or 1.0)
    quad = np.polynomial.polynomial.polyfit(xc, yw, 2)
    resid = yw - np.polynomial.polynomial.polyval(xc, quad)
    line = np.polynomial.polynomial.polyfit(xc, yw, 1)
    return equivalence_slope(xw, np.polynomial.polynomial.polyval(xc, line) + resid, margin, alpha=p.alpha)


def _bounded(ctx: RunContext, s: Series, p: SimpleNamespace, w: _Flat) -> bool:
    """Whether an equivalence window also rules out an improvement beyond ``bound-margin`` of its level (the
    lower end of the slope's ``1 - 2 alpha`` interval, a one-sided ``1 - alpha`` bound, above ``-bound-margin``
    x the level across the window). The equivalence margin may be ``range-margin`` of the range the run covered
    (flat on any scale), and on a loss that came down from several times its level that is 10-20% of the level:
    a curve whose last 30% still falls 5% of its level passed it (in 5-40% of simulated series,
    ``benchmarks/plateau_power.py``) and only the point estimate stood between it and "converged". A level near
    zero (within 1% of the range the run covered) keeps the range margin: 5% of 1e-4 rules nothing out there."""
    bound_margin = getattr(p, "bound_margin", None)
    if bound_margin is None or not np.isfinite(w.eq.ci_low) or w.margin * w.wspan <= bound_margin * abs(w.level):
        return True  # the equivalence margin is itself within bound-margin of the level
    if abs(w.level) <= 0.01 * covered_scale(ctx, s, w.level)[0]:
        return True
    bound = bound_margin * abs(w.level)
    eq = _bound_test(w.xw, w.yw, bound / w.wspan, p)
    if not (np.isfinite(eq.ci_low) and eq.ci_low * w.wspan > -bound):
        return False
    # the decision rejects both nulls (equivalence within the margin, no improvement beyond the bound): an
    # intersection-union test, whose p-value is the larger of the two
    w.bound_p, w.bound_margin, w.bound_low = float(eq.pvalue_low), bound, float(eq.ci_low * w.wspan)
    return True


def _start(s: Series, y: np.ndarray) -> float:
    """Where PL002 measures a training loss's progress from: the first (bin-mean) point, or the first logged
    value when the first bin's mean is more than twice it (a positive loss, a log that starts at the start of
    training): a blow-up in the first steps, not noise, inflates a mean that much. A run at LR 1 that rose to
    10^4 by step 5 and then sat at ln(10) "fell" 99.9% from that mean (600 points in 400 bins), but never got
    below its first logged 2.297 -- stuck at a trivial level, not converged after real progress."""
    start = float(y[0])
    if unlogged_head(s) is None:
        first = float(s.finite()[1][0])
        if np.isfinite(first) and first > 0 and start > 2 * first:
            return first
    return start


def _min_points(p: SimpleNamespace, n: int) -> int:
    """Points a trailing window needs: ``min-points``; on a short series (fewer than ``min-points /
    min-share`` points: a validation loss evaluated 10-30 times, a 20-epoch Keras history) ``short-min-points``
    (PL002 only), or its last ``min-share`` of the run could never be tested. Few points widen the TOST
    interval (t with few degrees of freedom), so only a window that is flat well inside its margin passes."""
    short = getattr(p, "short_min_points", None)
    share = getattr(p, "min_share", None)
    if short is None or share is None or n >= p.min_points / share:
        return p.min_points
    return min(p.min_points, int(short))


def _declining(p: SimpleNamespace, w: _Flat) -> bool:
    """The window is flat within its margin but demonstrably still falling: the upper end of the TOST's
    ``1 - 2 alpha`` interval of the slope lies below zero (a one-sided test of decline at ``alpha``) and the
    trend removed at least ``moving-share`` of the margin across the window. "Stuck" says the model is not
    learning; a loss that is still going down -- an LR far too low, a high-offset loss converging slowly --
    is judged by UF001/LR004 ("falls steadily but slowly") and by the wasted / converged readings, never
    as stuck. (Level-relative "barely fell" cannot tell the two apart: a language model converging at 4 nats
    from 5.3 also removed only a quarter of its start.)"""
    share = getattr(p, "moving_share", None)
    if share is None:
        return False
    return bool(np.isfinite(w.eq.ci_high) and w.eq.ci_high < 0 and w.change <= -share * w.margin * w.wspan)


def _monotone_decline(p: SimpleNamespace, w: _Flat) -> bool:
    """A short window demonstrably falling by its order, not its slope: an exact one-sided Mann-Kendall test
    (:func:`mann_kendall_exact`, the window is under 12 points) below ``alpha``, its Sen change removing at least
    ``moving-share`` of the margin. A smooth fall that speeds up (a run just getting going: 10.845 ... 10.707,
    faster each step) bends the HAC interval of its slope past zero, though every step is lower than the last."""
    if w.yw.size < 3 or w.yw.size >= 12:
        return False
    _, _, p_dec = mann_kendall_exact(w.yw)
    sen = float(theilslopes(w.yw, w.xw)[0]) * w.wspan
    return bool(np.isfinite(p_dec) and p_dec < p.alpha and sen <= -p.moving_share * w.margin * w.wspan)


def _small_spread(p: SimpleNamespace, w: _Flat) -> bool:
    """A short window (fewer than ``min-points`` points) whose largest-to-smallest change is within
    ``min-spread`` of its level: every logged value in it sits within that band, so "no meaningful improvement"
    is read from the values, not only from a slope that few points pin down (the note says it rests on few
    points). False for a rule without ``min-spread``."""
    spread = getattr(p, "min_spread", None)
    if spread is None or w.level == 0:
        return False
    return bool(float(np.ptp(w.yw)) <= spread * abs(w.level))


def _halves(w: _Flat) -> tuple[float, float]:
    """(the change across the first half of the window's points, across the second half): each half's
    least-squares slope x its span in steps (an odd count shares its middle point). Derived, for the message
    and :func:`_decelerating`."""
    xw, yw = np.asarray(w.xw, dtype=float), np.asarray(w.yw, dtype=float)
    h = (yw.size + 1) // 2
    xa, ya, xb, yb = xw[:h], yw[:h], xw[yw.size - h:], yw[yw.size - h:]
    a = float(np.polyfit(xa - xa[0], ya, 1)[0]) * float(xa[-1] - xa[0])
    b = float(np.polyfit(xb - xb[0], yb, 1)[0]) * float(xb[-1] - xb[0])
    return a, b


def _decelerating(w: _Flat) -> bool:
    """The window's fall slows down: its second half (by points) falls less per step than its first half, which
    falls. A converging loss does this (each evaluation gains less than the one before); one still falling at a
    steady rate (an LR too low, a run cut short: LR004's "no sign of slowing down") does not."""
    xw = np.asarray(w.xw, dtype=float)
    h = (xw.size + 1) // 2
    a, b = _halves(w)
    da, db = float(xw[h - 1] - xw[0]), float(xw[-1] - xw[xw.size - h])
    if a >= 0 or da <= 0 or db <= 0:
        return False
    return bool(b / db > a / da)  # per step; both negative when falling: the second half falls more slowly


def _short_val_window(ctx: RunContext, s: Series, p: SimpleNamespace, x: np.ndarray, y: np.ndarray, frac: float,
                      tried: list[float]) -> _Flat | None:
    """PL002's short validation route: a window of fewer than ``min-points`` evaluations (a validation loss
    evaluated 4-30 times) whose values, largest to smallest, span at most ``min-spread`` of its level (the
    guide's "changes the loss by < ~2% of its level", read from the values), tested one-sided against a margin
    of the level alone (``level_only``: a validation loss first evaluated after the training loss's fast fall
    covered a range of a few % of its level, and a third of that, range-cap, is under 1%: 0.7995, 0.7827, 0.7770,
    0.7742, 0.7725 moved 38% of its own range in its last four evaluations and 1.3% of its level). A window
    demonstrably still falling must also be decelerating (:func:`_decelerating`): a steady fall, however small, is
    LR004's / SI001's question. The bound of :func:`_bounded` (an improvement beyond bound-margin ruled out) still
    applies (the caller). None otherwise."""
    w = _flat_window(ctx, s, p, x, y, frac, one_sided=True, tried=tried, level_only=True)
    if w is None or w.yw.size >= p.min_points or not _small_spread(p, w):
        return None
    if _declining(p, w) and not _decelerating(w):
        return None
    return w


def _few_text(p: SimpleNamespace, w: _Flat) -> str:
    """'; it rests on only 4 points ...' for a window of fewer than ``min-points`` points ('' otherwise)."""
    if w.yw.size >= p.min_points:
        return ""
    spread = float(np.ptp(w.yw)) / abs(w.level) if w.level else float("nan")
    return (f"; it rests on only {w.yw.size} points (a short log: the slope's test has {w.yw.size - 2} degrees "
            f"of freedom; the window's values span {spread:.1%} of its level, largest to smallest, derived)")


def _at_zero(ctx: RunContext, s: Series, p: SimpleNamespace, y: np.ndarray, level: float) -> bool:
    """A never-negative loss at its floor of zero (within 1% of the range it covered), with a validation
    loss there to say what the steps since bought: a training set fitted exactly (convergence)."""
    val = ctx.loss("val")
    has_val = val is not None and int(np.isfinite(val.values).sum()) >= p.min_points
    return bool(has_val and np.nanmin(y) >= 0 and abs(level) <= 0.01 * range_scale(ctx, s, level))


def _assess(ctx: RunContext, s: Series, p: SimpleNamespace,
            tried: list[float] | None = None, short: bool = False) -> tuple[str, _Flat] | None:
    """PL001's reading of a training series: ("stuck" | "slow" | "levelled" | "wasted" | "converged", the
    longest flat window of 75/50/25% of the run), or None when none is flat. "levelled": flat over
    stuck-fraction of the run after a clear fall that removed less than stuck-drop of its start, with no
    validation loss near the training level (given ``stuck_val_ratio``): a converged loss that may sit at its
    floor, PL002's note."""
    x, y, _ = ctx.downsampled(s)
    # ``short`` (PL001's own reading): a series of fewer than min-points / min-share points (a 5-19-epoch history)
    # is read on windows of short-min-points that span min-share of the run, and such a window is flat only when
    # its values, largest to smallest, also span at most min-spread of its level (few points barely pin a slope
    # down). Without it a 6-point loss that fell 0.8% and then sat within 0.1% for 60% of the run was nobody's:
    # PL002 leaves a run flat near where it started to PL001's "stuck", which needed 10 points
    need = _min_points(p, x.size) if short else p.min_points
    if x.size < need or float(x[-1] - x[0]) <= 0:
        return None
    # on such a short series the margin is the level's alone (stuck-margin over half the run or more): "the range the
    # run covered" of a loss that never moved is its noise, and a third of that is no margin at all
    few = short and x.size < p.min_points / p.min_share
    found = None
    for frac in _FRACTIONS:
        found = _flat_window(ctx, s, p, x, y, frac, tried=tried, level_only=few)
        if found is not None and found.yw.size < p.min_points and not _small_spread(p, found):
            found = None
        if found is not None:
            break
    if found is None:
        return None
    drop = -rel(found.level, float(y[0]))  # fraction of the starting loss removed before the plateau
    # "barely fell from its first value" needs that value to be where training started (not a log that
    # begins mid-training) and the window not to be demonstrably still falling
    if found.frac >= p.stuck_fraction and drop < p.stuck_drop and unlogged_head(s) is None:
        if not (_declining(p, found) or (few and _monotone_decline(p, found))):
            # "fell only x% from its start" is relative to the level, and a loss's level includes what it can
            # never remove (an irreducible entropy, a regulariser, a summed multi-part loss): a loss that fell
            # clearly and then levelled off may sit at its floor. It is "stuck" only when a held-out loss at about
            # the training level shows the model fits its training set no better than unseen data (UF001's
            # stuck-high reading); else it levelled off -- PL002's convergence note. A loss that never clearly
            # moved is stuck.
            if getattr(p, "stuck_val_ratio", None) is not None and _levelled(ctx, s, p, found):
                return "levelled", found
            return "stuck", found
        if found.frac < p.waste_fraction:
            # flat within the margin but demonstrably still falling, after barely falling before: slow
            # progress -- under-trained or converging slowly at a high floor; the log cannot tell which
            return "slow", found
    # flat for most of the run: whatever the level, the steps bought nothing -- unless a never-negative
    # loss sits at its floor of zero and a validation loss is there to say what those steps bought: a
    # training set fitted exactly is where the generalisation story starts (OF001/GP001 judge it),
    # convergence. Without a validation loss nothing the log shows moved after the loss reached zero:
    # those steps were wasted (warning)
    if found.frac >= p.waste_fraction and not _at_zero(ctx, s, p, y, found.level):
        return "wasted", found
    return "converged", found


def _levelled(ctx: RunContext, s: Series, p: SimpleNamespace, w: _Flat) -> bool:
    """The loss fell clearly before the flat window ``w`` and no validation loss near its level says the model is
    stuck (:func:`maybe_floor`): it levelled off, perhaps at its floor -- PL002's note, not PL001's "stuck"."""
    return fell_clearly(ctx, s, w) and maybe_floor(ctx, s, p, w.start, float(w.level))[0]


def plateau(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """PL001: a training loss stuck early, barely below its start (a warning). A flat tail after real
    progress is convergence, however long: PL002 reports it."""
    if s is None or s.split != "train":
        return
    a = _assess(ctx, s, p, short=True)
    if a is None or a[0] not in ("stuck", "slow"):
        return  # converged, or flat over most of the run after real progress: PL002's note
    kind, w = a
    if kind == "slow":
        yield _slow_hit(ctx, s, p, w)
        return
    x, y, _ = ctx.downsampled(s)
    start_level = float(y[0])
    drop = -rel(w.level, start_level)
    # the message prints the window as logged (first and last logged steps, the mean of the logged values,
    # its share of the logged run) and the fall from the first logged value, not from a first bin's mean
    lstart, lend, level, share = _logged(s, w)
    first = float(s.finite()[1][0])
    fell = -rel(level, first)
    msg = (f"{s.label} has been flat at {fmt_num(level)} (mean) since step {lstart:,} ({share:.0%} of the run) after "
           + (f"falling only {fell:.0%} from its first logged value {fmt_num(first)}" if fell >= 0 else
              f"never getting below its first logged value {fmt_num(first)}") + f"{lr_text(ctx, lstart)} "
           + f"(TOST: change within {w.basis} across the window, p={w.eq.pvalue:.2g})")
    yield Hit(
        message=msg,
        evidence=Evidence("tost-equivalence-slope", float(w.eq.slope), float(w.margin), float(w.eq.pvalue),
                          (lstart, lend),  # as logged (w holds bin-mean steps on a long series)
                          {"level": w.level, "window_fraction": w.frac, "drop_before": drop,
                           "ci_low": w.eq.ci_low, "ci_high": w.eq.ci_high, "stuck": 1.0,
                           "change_of_range": abs(w.change) / covered_scale(ctx, s, w.level)[0],
                           "margin_change": w.margin * w.wspan, "margin_basis": w.basis}),
        start_step=lstart, end_step=lend,
        severity=Severity.WARNING,
        # the mean of the window's logged values: "Flat at 3.531 (mean)", a derived level said to be one
        values={"step": fmt_step(lstart), "level": f"{fmt_num(level)} (mean)", "fraction": f"{share:.0%}",
                "advice": _stuck_advice(ctx, lstart)},
    )


def trivial_level(ctx: RunContext, s: Series, p: SimpleNamespace, level: float) -> float | None:
    """ln(C) when ``level`` is within trivial-tolerance of it as the log shows it (config, or a first loss at
    ln(C)): a flat loss there is stuck at a trivial solution, never "levelled off at its floor"; else None (also
    for a rule without trivial-tolerance)."""
    near = getattr(p, "trivial_tolerance", None)
    if near is None:
        return None
    from lossdoc.checks.detectors.local_minimum import uniform_level_near

    return uniform_level_near(ctx, s, level, near, p.prior_tolerance)


def maybe_floor(ctx: RunContext, s: Series, p: SimpleNamespace, from_step: float,
                level: float) -> tuple[bool, float | None]:
    """(whether a loss flat at ``level`` from ``from_step`` may sit at its floor, the validation loss's mean there
    over ``level``). "Fell only x%" is relative to the level, and a loss's level includes what it can never remove
    (an irreducible entropy, a regulariser, a summed multi-part loss); the level is shown to be high only by a
    validation loss within stuck-val-ratio of it (the model fits its training set no better than unseen data) or
    by a trivial predictor's ln(C) (:func:`trivial_level`). False for a rule without stuck-val-ratio."""
    cap = getattr(p, "stuck_val_ratio", None)
    ratio = val_ratio(ctx, from_step, level)
    if cap is None or (ratio is not None and ratio <= cap):
        return False, ratio
    return trivial_level(ctx, s, p, level) is None, ratio


def val_mean(ctx: RunContext, from_step: float) -> float | None:
    """The validation loss's mean over its finite values from ``from_step`` on (None without any)."""
    val = ctx.loss("val")
    if val is None:
        return None
    vs, vv = val.finite()
    vw = vv[vs >= from_step]
    return float(np.mean(vw)) if vw.size else None


def val_ratio(ctx: RunContext, from_step: float, level: float) -> float | None:
    """The validation loss's mean from ``from_step`` on over the training ``level`` (None without one)."""
    if not level > 0:
        return None
    m = val_mean(ctx, from_step)
    return None if m is None else m / level


def fall_and_noise(ctx: RunContext, s: Series, w: _Flat) -> tuple[float, float]:
    """(how far the loss fell to the flat window ``w``: the median of its first 5% of points less the window's
    level; its point noise: the robust s.d. of the window's successive differences, over sqrt 2). Both derived;
    the messages that say a loss "fell clearly" state them."""
    _, y, _ = ctx.downsampled(s)
    d = np.diff(np.asarray(w.yw, dtype=float))
    noise = MAD_TO_SD * float(np.median(np.abs(d))) / np.sqrt(2.0) if d.size else 0.0
    fell = float(np.median(y[:max(1, y.size // 20)])) - float(w.level)
    return fell, noise


def fell_clearly(ctx: RunContext, s: Series, w: _Flat) -> bool:
    """Whether the loss fell to the flat window ``w`` by at least 5x its point noise (:func:`fall_and_noise`):
    a loss that moved and levelled off, not one flat from its first value."""
    return clear_fall(*fall_and_noise(ctx, s, w))


def clear_fall(fell: float, noise: float) -> bool:
    """A fall of at least 5x the point noise (the two of :func:`fall_and_noise`)."""
    return fell > 0 and fell >= 5.0 * noise


def fall_text(fell: float, noise: float) -> str:
    """'it fell by 0.16, 25x its point noise (derived: ...)': what "fell clearly" rests on, in numbers."""
    times = f", {fell / noise:.0f}x its point noise" if noise > 0 else ""
    return (f"it fell by {fmt_num(fell)}{times} (derived: the median of the first 5% of points less the flat "
            "level)")


def _slow_hit(ctx: RunContext, s: Series, p: SimpleNamespace, w: _Flat) -> Hit:
    """PL001's note for a window that passes the flatness test after the loss barely fell but is still
    demonstrably falling: not "stuck", not converged -- inconclusive."""
    lstart, lend, level, share = _logged(s, w)
    first = float(s.finite()[1][0])
    fell = -rel(level, first)
    x, y, _ = ctx.downsampled(s)
    msg = (f"{s.label} has changed by only {fmt_num(w.change)} since step {lstart:,} ({share:.0%} of the run; within "
           f"{w.basis}, {_tost_p(w.pvalue, w.one_sided)}) after falling {fell:.0%} from its first logged value {fmt_num(first)}"
           f"{lr_text(ctx, lstart)}, but it is still falling (the slope's {1 - 2 * p.alpha:.0%} interval lies below "
           f"zero): slow progress, not stuck -- under-trained or converging slowly at a high floor; the log alone "
           f"cannot tell which (inconclusive)")
    return Hit(
        message=msg,
        evidence=Evidence("tost-equivalence-slope", float(w.eq.slope), float(w.margin), float(w.eq.pvalue),
                          (lstart, lend),  # as logged
                          {"level": w.level, "window_fraction": w.frac, "drop_before": -rel(w.level, float(y[0])),
                           "ci_low": w.eq.ci_low, "ci_high": w.eq.ci_high, "stuck": 0.0, "declining": 1.0,
                           "change_of_range": abs(w.change) / covered_scale(ctx, s, w.level)[0],
                           "margin_change": w.margin * w.wspan, "margin_basis": w.basis}),
        start_step=lstart, end_step=lend,
        severity=Severity.INFO,
        # the mean of the window's logged values: "Flat at 3.531 (mean)", a derived level said to be one
        values={"step": fmt_step(lstart), "level": f"{fmt_num(level)} (mean)", "fraction": f"{share:.0%}",
                "advice": ("compare with a run at a 3-10x higher LR or with the loss a reference model reaches: if "
                           "either gets much lower, this run is under-trained (raise the LR or train longer)")},
    )


def _windows(ctx: RunContext, s: Series, p: SimpleNamespace, x: np.ndarray, train: bool) -> tuple[float, ...]:
    """PL002's trailing windows, longest first: :data:`_FINE`; for a validation loss evaluated so few times
    that its last 75% holds fewer than ``short-min-points`` evaluations (4 evaluations over a run), also its
    whole series, when that spans ``min-share`` of the run (as the training loss's steps measure it): such a
    log has no trailing window to test, and "no improvement after the first evaluation" is its answer."""
    if train or not hasattr(p, "short_min_points") or x.size < p.short_min_points:
        return _FINE
    span = float(x[-1] - x[0])
    if int((x >= x[-1] - _FINE[0] * span).sum()) >= p.short_min_points:
        return _FINE
    run = _run_span(ctx, s)
    if run > 0 and span < p.min_share * run - 1e-9:
        return _FINE
    return (1.0, *_FINE)


def _run_span(ctx: RunContext, s: Series) -> float:
    """Steps the run covered: the training loss's and ``s``'s together (``s``'s own when no training loss)."""
    st, _ = s.finite()
    lo, hi = float(st[0]), float(st[-1])
    tr = ctx.loss("train")
    if tr is not None and tr is not s:
        ts, _ = tr.finite()
        if ts.size:
            lo, hi = min(lo, float(ts[0])), max(hi, float(ts[-1]))
    return hi - lo


def converged(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """PL002: the loss converged and stayed flat for at least ``min-share`` of the run after real
    progress -- the steps since bought nothing. On a validation loss: it stopped improving while the
    training loss kept falling.

    The scan over trailing windows is one decision per series, and one p-value joins the rule's
    false-discovery family for it: the reported window's, or the smallest of the windows tried when none
    is reported (the windows are nested, so their tests are not independent looks; counting each one let
    seven failed training-loss windows erase a validation loss's p=0.02 on a 4-evaluation log)."""
    if s is None:
        return
    tried: list[float] = []
    kind, w = _converged_window(ctx, s, p, tried)
    if w is not None:
        ctx.decide(w.pvalue)
    elif tried:
        ctx.decide(min(tried))
    if kind == "train":
        yield _converged_hit(ctx, s, p, w)
    elif kind == "val":
        yield from _val_stopped(ctx, s, p, w)


def _converged_window(ctx: RunContext, s: Series, p: SimpleNamespace,
                      tried: list[float]) -> tuple[str | None, _Flat | None]:
    """PL002's reading of a series: ("train" | "val", the window to report), ("pl001", None) for a training loss
    PL001 reports (stuck, or its inconclusive note), or (None, None)."""
    x, y, _ = ctx.downsampled(s)
    train = s.split == "train"
    # a series of fewer than min-points points (a validation loss evaluated 4-9 times, a 6-epoch history) is
    # tested on windows of short-min-points
    if x.size < _min_points(p, x.size) or float(x[-1] - x[0]) <= 0:
        return None, None
    if train:
        a = _assess(ctx, s, p, tried)
        if a is not None and a[0] in ("stuck", "slow"):
            return "pl001", None  # PL001's finding (a warning, or its inconclusive note), not PL002's
        if a is not None and a[0] == "levelled":
            return "train", a[1]  # fell clearly, then flat: converged (nothing shows the level is high)
        if a is not None and a[0] == "wasted":
            # flat over waste-fraction of the run or more after real progress (PL001's reading of the window,
            # +-stuck-margin of the level): the run converged and the steps since bought nothing -- a note on
            # a healthy model, however long the tail (the model is not harmed; the compute was spent)
            start = _start(s, y)
            if start != float(y[0]) and -rel(a[1].level, start) < p.stuck_drop:
                # the first bin's mean, inflated by a blow-up in the first steps, made it look like progress:
                # it never got far below its first logged value
                return None, None
            return "train", a[1]
    start_level = _start(s, y)
    for frac in _windows(ctx, s, p, x, train):
        if frac < p.min_share - 1e-9:
            break
        if train and frac >= p.waste_fraction and x.size >= p.min_points:
            # flat over most of the run is convergence only at a fitted-to-zero training loss (see _assess); a
            # series too short for _assess (fewer than min-points: a 5-epoch history, whose only window of
            # short-min-points is its last 75%) is tested below like any other window
            w = _flat_window(ctx, s, p, x, y, frac, tried=tried)
            if w is not None and _at_zero(ctx, s, p, y, w.level):
                return "train", w
            continue
        w = _flat_window(ctx, s, p, x, y, frac, one_sided=not train, tried=tried)
        if (not train and getattr(p, "min_spread", None) is not None and int(_trailing(p, x, frac).sum())
                < p.min_points and (w is None or (_declining(p, w) and not (_small_spread(p, w) and _decelerating(w))))):
            # a short validation window the range-capped margin rejects, or one still falling that the route
            # below may show levelled off (its values within min-spread of the level, the fall slowing down)
            w = _short_val_window(ctx, s, p, x, y, frac, tried) or w
        if w is None or abs(w.change) > p.max_change * abs(w.level) or not _bounded(ctx, s, p, w):
            # not shown flat within the margin (a noisy per-step loss: the interval is wider than the margin),
            # or flat against the range the run covered but the trend still moved it by more than max-change
            # of its level (a classifier's loss near zero still shrinking by a fifth), or flat only within a
            # range margin wider than bound-margin of the level: the effect-size route
            w = _effect_window(ctx, s, p, x, y, frac, tried)
            if w is None:
                continue
        if w.yw.size < p.min_points and _declining(p, w) and not (_small_spread(p, w)
                                                                  and (train or _decelerating(w))):
            # a short window (few evaluations) that passes within its margin but is demonstrably still
            # falling (2.620, 2.616, 2.598, 2.587, 2.581, 2.572: 1.8% of its level): slow progress, not stopped --
            # unless its largest-to-smallest change is within min-spread of its level (2.996, 2.972, 2.968, 2.966:
            # 1.0%): the guide's "changes the loss by < ~2% of its level" read from the values themselves, and the
            # bound above rules out an improvement beyond bound-margin. A validation loss must also be falling more
            # slowly in the second half of the window than in the first (0.7827, 0.7770, 0.7742, 0.7725): one still
            # falling at a steady rate is not levelling off, however little it moves (the model kept is selected on
            # it; benchmarks/plateau_short_val.py)
            continue
        falling = getattr(p, "val_still_falling", None)
        if (not train and falling is not None and np.isfinite(w.eq.ci_high) and w.eq.ci_high < 0
                and -w.change >= falling * abs(w.level)):
            # a validation loss demonstrably still falling (the slope's interval below zero) by val-still-falling
            # of its level or more has not stopped improving: the model kept is selected on it, and stopping at
            # the window's start would keep a worse one (val-still-falling is max-change, the guide's "< ~2%")
            continue
        if train and -rel(w.level, start_level) < p.stuck_drop:
            # flat near where it started: a run that barely trained is not "converged" (over stuck-fraction
            # of the run that is PL001's "stuck"; over less, under-training that UF001/LR004 judge) -- and
            # "stop early, or spend the steps on a bigger model" would be the wrong advice for it. A short series
            # (too few points for _assess here) that fell clearly first and has no validation loss near its level
            # levelled off, as _assess reads a long one ("levelled"; PL001's short route leaves it to this note)
            if x.size < p.min_points and w.frac >= p.stuck_fraction and _levelled(ctx, s, p, w):
                return "train", w
            return None, None
        return ("train" if train else "val"), w
    return None, None


def _share_text(w: _Flat, scale: float | None = None) -> str:
    """The window's change as a share of its level -- or, for a level near zero (within 1% of ``scale``, the range
    the run covered), of that range: "287% of its level" says nothing about a loss fitted to 5e-05."""
    if w.level == 0:
        return "it sits at 0"
    if scale is not None and scale > 0 and abs(w.level) <= 0.01 * scale:
        return f"{abs(w.change) / scale:.2%} of the range the run covered (its level is near zero)"
    return f"{abs(w.change) / abs(w.level):.1%} of its level"


def _scatter(w: _Flat) -> str:
    """' (HAC, scatter about a quadratic trend)' when the bound's standard error came from that (:func:`_bound_test`)."""
    return " (HAC, scatter about a quadratic trend)" if w.yw.size >= w.min_points else ""


def _how(w: _Flat, within: str, scale: float | None = None) -> str:
    """How the window was shown flat, for the message: '1.2% of its level, derived from the window's trend;
    within +-2% of the level (0.02), TOST p=0.01', or the effect-size route's size and bound."""
    if w.route == "effect":
        return (f"{_share_text(w, scale)}, derived: the Theil-Sen slope across the window, within "
                f"{w.size_limit / abs(w.level):.0%} of the level; effect-size route: the HAC trend's one-sided "
                f"{1 - w.alpha:.0%} bound on the change{_scatter(w)}, {fmt_num(w.bound)}, rules out an improvement beyond "
                f"{w.basis.removeprefix('+-')}, p={w.pvalue:.2g}")
    eq_p = float(w.eq.pvalue_low if w.one_sided else w.eq.pvalue)
    bound = ""
    if np.isfinite(w.bound_p):
        bound = (f"; the trend's one-sided {1 - w.alpha:.0%} bound on the change{_scatter(w)}, {fmt_num(w.bound)}, "
                 "rules out an "
                 f"improvement beyond {w.bound_margin / abs(w.level):.0%} of the level ({fmt_num(w.bound_margin)}), "
                 f"p={w.bound_p:.2g}")
    return f"{_share_text(w, scale)}, derived from the window's trend; {within}, {_tost_p(eq_p, w.one_sided)}{bound}"


def _logged(s: Series, w: _Flat) -> tuple[int, int, float, float]:
    """The window as logged: its first and last logged steps, the mean of the logged values in it and its
    share of the logged run. A long series is judged on bin means at their mean steps (not logged steps, and
    a mean of bin means); the message prints what the log holds."""
    st, v = s.finite()
    keep = st >= w.xw[0]
    if not keep.any():
        return w.start, w.end, w.level, w.frac
    ws, wv = st[keep], v[keep]
    span = float(st[-1] - st[0]) or 1.0
    return int(ws[0]), int(ws[-1]), float(np.mean(wv)), float(ws[-1] - ws[0]) / span


def _converged_hit(ctx: RunContext, s: Series, p: SimpleNamespace, w: _Flat) -> Hit:
    lstart, lend, level, share = _logged(s, w)
    msg = (f"{s.label} converged early: the last {share:.0%} of the run (steps {lstart:,}-{lend:,}) changed it by "
           f"{fmt_num(w.change)} ({_how(w, f'within {w.basis}', range_scale(ctx, s, w.level))}); level "
           f"{fmt_num(level)} (mean over the window){_few_text(p, w)}")
    val = ctx.loss("val")
    monitor = "val" if val is not None and int(np.isfinite(val.values).sum()) >= 3 else "train"
    x, y, _ = ctx.downsampled(s)
    if _at_zero(ctx, s, p, y, w.level):
        # a training set fitted exactly: what the later steps bought is the validation loss's story
        advice = (f"the training loss sits at its floor from step ~{lstart:,}: the steps since can only fit the "
                  f"training set harder; stop there ({_stop_advice(ctx, lstart, monitor)}) and judge the run by "
                  "its validation loss")
    else:
        decay = _lr_decay(ctx, lstart, lend)
        if decay is None:
            advice = (f"those steps bought little (the change above); stop at step ~{lstart:,} "
                      f"({_stop_advice(ctx, lstart, monitor)}), or spend them on a bigger model, more data, or an "
                      "earlier LR decay")
        else:
            # the logged LR was still decaying over the window and the loss did not follow: an earlier decay is
            # what the run already had, and stopping there means a schedule that ends there
            advice = (f"those steps bought little (the change above), though the logged LR decayed from {decay[0]} "
                      f"(in force at step {lstart:,}) to {decay[1]} by step {lend:,}; stop at step ~{lstart:,} with the LR schedule "
                      f"shortened to end there ({_stop_advice(ctx, lstart, monitor)}), or spend the steps on a bigger "
                      "model or more data")
    return Hit(
        message=msg,
        evidence=_evidence(w, {"share": w.frac, "max_change": float(p.max_change), "min_share": float(p.min_share),
                                              "run_share": float(share)},
                           (lstart, lend)),
        start_step=lstart, end_step=lend,  # as logged (w holds bin-mean steps on a long series)
        values={"step": fmt_step(lstart), "end": fmt_step(lend), "level": fmt_num(level),
                "fraction": f"{share:.0%}",
                "advice": advice},
    )


def _val_stopped(ctx: RunContext, s: Series, p: SimpleNamespace, w: _Flat) -> Iterator[Hit]:
    """A validation loss that stopped improving while the training loss kept falling: the steps since
    bought training fit only. When the training loss is flat too, its own finding says it all -- if it has one:
    a per-step training loss too noisy for PL001/PL002 of its own (+-3% scatter, -1.5% over the window) left a
    validation loss flat for all 7 of its evaluations with no finding at all (EsraCesur4/nlp_summarization); the
    validation note is given then, and says what the training loss did."""
    start, end = w.start, w.end
    train = ctx.loss("train")
    t_txt, t_change, k = "", None, 1
    if train is not None:
        ts, tv = train.finite()
        a = tv[(ts >= start) & (ts <= end)]
        if a.size >= 3:
            k = max(1, a.size // 5)
            t_change = float(np.mean(a[-k:]) / np.mean(a[:k]) - 1) if np.mean(a[:k]) != 0 else None
        if t_change is None or t_change > -p.margin:
            # training flat as well: PL001/PL002 on the training loss report the run -- when they do
            if t_change is None or _converged_window(ctx, train, p, [])[0] is not None:
                return
            t_txt = (f"; the training loss changed by {t_change:.1%} over the same steps (" + (
                "means of the first and last fifth" if k > 1 else "its first and last values there")
                + "), too noisy for a finding of its own")
        else:
            t_txt = f" while the training loss kept falling ({t_change:.0%} over the same steps, " + (
                "means of the first and last fifth)" if k > 1 else "its first and last values there)")
    lstart, lend, level, share = _logged(s, w)
    run = _run_span(ctx, s)
    if run > 0:
        # its share of the run the training loss's steps measure (a validation loss first evaluated at step 50 of
        # a 10-250 run: steps 100-250 are 62% of the run, not 75% of the evaluations' span)
        share = float(lend - lstart) / run
    where = f"the last {share:.0%} of the run (steps {lstart:,}-{lend:,})"
    if w.frac >= 1.0:
        # the whole of a validation loss evaluated a handful of times: its share of the run is the training steps'
        n_ev = int(np.isfinite(s.finite()[1]).sum())
        where = f"all {n_ev} evaluations (steps {lstart:,}-{lend:,}, {share:.0%} of the run)"
    within = f"no improvement of {w.basis.removeprefix('+-')}" if w.one_sided else f"within {w.basis}"
    what = "stopped improving"
    if w.yw.size < p.min_points and _declining(p, w):
        # a short window still falling, by less each time (the short validation route): it levelled off
        a, b = _halves(w)
        what = (f"levelled off (still falling, but more slowly: {fmt_num(a)} across the first half of the window's "
                f"evaluations, {fmt_num(b)} across the second, derived)")
    msg = (f"{s.label} {what}: {where} changed it by "
           f"{fmt_num(w.change)} ({_how(w, within)}); level {fmt_num(level)} (mean over the window){t_txt}{_few_text(p, w)}")
    yield Hit(
        message=msg,
        evidence=_evidence(w, {"share": w.frac, "train_change": t_change, "max_change": float(p.max_change),
                               "min_share": float(p.min_share), "run_share": float(share),
                               "decelerating": bool(w.yw.size < p.min_points and _declining(p, w))},
                           (lstart, lend)),
        start_step=lstart, end_step=lend,  # as logged (w holds bin-mean steps on a long series)
        values={"step": fmt_step(lstart), "end": fmt_step(lend), "level": fmt_num(level),
                "fraction": f"{share:.0%}",
                "advice": (f"validation stopped gaining at step ~{lstart:,}: stop there "
                           f"({_stop_advice(ctx, lstart, 'val')}), or spend the steps on what lets validation "
                           f"follow the training loss: {framework_remedies(ctx, lstart)[1]}")},
    )


def _evidence(w: _Flat, extra: dict, window: tuple[int, int]) -> Evidence:
    """The window is the logged steps the message names (``w`` holds bin-mean steps on a long series).

    On the effect-size route the statistic is the Theil-Sen change across the window, the threshold
    ``max-change`` of the level, the p-value the one-sided HAC test against ``bound-margin`` (``bound``, its
    lower bound, and ``margin_change``, that margin across the window)."""
    if w.route == "effect":
        return Evidence("theil-sen-change+hac-noninferiority", float(w.sen), float(w.size_limit), w.pvalue, window,
                        {"level": w.level, "window_fraction": w.frac, "change": w.change, "route": "effect-size",
                         "ols_change": float(w.eq.slope * w.wspan), "bound": w.bound,
                         "ci_low": w.eq.ci_low, "ci_high": w.eq.ci_high,
                         "margin_change": w.margin * w.wspan, "margin_basis": w.basis, **extra})
    return Evidence("noninferiority-slope" if w.one_sided else "tost-equivalence-slope", float(w.eq.slope),
                    float(w.margin), w.pvalue, window,
                    {"level": w.level, "window_fraction": w.frac, "change": w.change, "route": "equivalence",
                     "ci_low": w.eq.ci_low, "ci_high": w.eq.ci_high,
                     "margin_change": w.margin * w.wspan, "margin_basis": w.basis,
                     **({"bound": w.bound, "bound_margin_change": w.bound_margin, "bound_pvalue": w.bound_p}
                        if np.isfinite(w.bound_p) else {}), **extra})


def _lr_decay(ctx: RunContext, start: int, end: int) -> tuple[str, str] | None:
    """(LR in force at ``start``, at ``end``) as logged when the run logs its LR and it fell by more than a
    tenth between them (a schedule still decaying over a converged window); else None."""
    if ctx.lr() is None:
        return None
    a, b = ctx.lr_at(start), ctx.lr_at(end)
    if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)) or a <= 0 or b >= 0.9 * a:
        return None
    return shown_lr(a), shown_lr(b)


def _stop_advice(ctx: RunContext, step: int, monitor: str) -> str:
    """How to stop at ``step`` in the words of the run's framework; ``monitor`` is the loss to watch
    ("val" when the run logs a validation loss, else "train")."""
    fmt = ctx.format or ""
    s = fmt_step(step)
    if fmt in GBT_FORMATS:
        return ("early_stopping_rounds (10-50) with an eval set and best_iteration" if monitor == "val" else
                f"num_boost_round / n_estimators ~{s}")
    if fmt.startswith("keras"):
        m = "val_loss" if monitor == "val" else "loss"
        return f"EarlyStopping(monitor='{m}', patience=3-5, restore_best_weights=True)"
    if fmt.startswith("lightning"):
        m = "val_loss" if monitor == "val" else "train_loss"
        return f"EarlyStopping(monitor='{m}', patience=3-5) with ModelCheckpoint(monitor='{m}', mode='min')"
    if fmt.startswith("hf"):
        if monitor == "val":
            return ("load_best_model_at_end=True, metric_for_best_model='eval_loss' and "
                    "EarlyStoppingCallback(early_stopping_patience=3)")
        return f"max_steps ~{s}, or an eval set with EarlyStoppingCallback"
    if fmt == "sklearn-mlp":
        return "early_stopping=True with n_iter_no_change=10" if monitor == "val" else f"max_iter ~{s}"
    return ("early stopping on the validation loss" if monitor == "val" else
            "early stopping on the training loss, or a shorter schedule")


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
        return (f"{tip}; if they are, the LR in force ({shown_lr(lr)}) is likely wrong by an order of magnitude: "
                f"run an LR range test between {round_lr(lr / 10)} and {round_lr(lr * 10)}")
    return f"{tip}; then run an LR range test (x0.1 to x10 of the current LR)"


def _measure_advice(ctx: RunContext, s: Series) -> str:
    """How to log the series so its trend can be read, in the words of the run's framework."""
    fmt = ctx.format or ""
    held = s.split in ("val", "test")
    if fmt.startswith("hf"):
        return ("evaluate more often on a fixed eval set (eval_strategy='steps', a smaller eval_steps)" if held else
                "log over more steps (a larger logging_steps: each logged loss is the mean since the last log) or "
                "evaluate on a fixed eval set (eval_strategy='steps')")
    if fmt.startswith("lightning"):
        return ("evaluate on a larger validation set (limit_val_batches) or more often (val_check_interval)" if held
                else "log the epoch's mean too (self.log('train_loss', loss, on_step=True, on_epoch=True)) or "
                "evaluate on a fixed validation set")
    return ("evaluate on a larger or fixed held-out set, so each evaluation scatters less" if held else
            "log the mean loss over more steps (per epoch, or over 50-100 batches) or evaluate on a fixed held-out "
            "set at intervals")


def trend_inconclusive(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """LG007: a loss whose trailing ``window-fraction`` of the run shows no trend the log can measure: the change's
    ``1 - 2 alpha`` interval (HAC, about a quadratic trend: :func:`_bound_test`) holds zero (no significant trend either
    way) and reaches below -``bound-margin`` of the level (an improvement that size is not ruled out), while its
    Theil-Sen change is within ``bound-margin`` of the level and its point-to-point scatter at least ``min-scatter`` of
    it (the scatter, not a smooth curve's bend, is what widens the interval). Neither "flat" (PL001/PL002, which need that interval inside their margin, or the bound above
    -``bound-margin``) nor "still improving" (SI001, which needs a significant decline) can be said, and silence
    would read as "nothing wrong": the note says so, with the numbers. Not a decision: no p-value enters a
    false-discovery family. Dropped (runner) when any finding on the series judged it."""
    if s is None:
        return
    x, y, _ = ctx.downsampled(s)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < p.min_points or not np.isfinite(s.values[-1]) or float(np.min(y)) < 0:
        return
    span = float(x[-1] - x[0])
    keep = x >= x[-1] - p.window_fraction * span
    xw, yw = x[keep], y[keep]
    wspan = float(xw[-1] - xw[0]) if xw.size else 0.0
    if xw.size < p.min_window_points or wspan <= 0:
        return
    level = float(np.mean(yw))
    if level <= 0:
        return
    sen = float(theilslopes(yw, xw)[0]) * wspan
    noise = noise_sd(yw)
    if not np.isfinite(sen) or abs(sen) > p.bound_margin * level or noise < p.min_scatter * level:
        # a change the point estimate itself puts beyond bound-margin, or a smooth curve (scatter under min-scatter of
        # the level) whose interval is wide only because its bend is autocorrelated: the log does show a trend there
        return
    eq = _bound_test(xw, yw, p.bound_margin * level / wspan, SimpleNamespace(alpha=p.alpha, min_points=p.min_window_points))
    lo, hi = float(eq.ci_low) * wspan, float(eq.ci_high) * wspan
    if not (np.isfinite(lo) and np.isfinite(hi)) or not (lo < -p.bound_margin * level and 0 < hi):
        return  # an improvement beyond bound-margin ruled out (flat enough for PL002), or a significant decline
    first, last = logged_step_from(s, float(xw[0])), int(s.finite()[0][-1])  # logged steps (xw: bin-mean steps)
    share = wspan / span if span > 0 else 1.0
    h = xw.size // 2
    a, b = float(np.mean(yw[:h])), float(np.mean(yw[h:]))
    msg = (f"{s.label} shows no trend the log can measure over the last {share:.0%} of the run (steps {first:,}-"
           f"{last:,}): its change there is {fmt_num(sen)} ({abs(sen) / level:.1%} of its level {fmt_num(level)}, the "
           f"window's mean; derived: the Theil-Sen slope across the window), and the mean of the window's first half "
           f"is {fmt_num(a)}, of its second half {fmt_num(b)} (derived); but its values scatter by {fmt_num(noise)} "
           f"from point to point ({noise / level:.0%} of the level, derived), so the change's {1 - 2 * p.alpha:.0%} "
           f"interval (HAC) runs from {fmt_num(lo)} to {fmt_num(hi)}: a plateau cannot be told from an improvement "
           f"of up to {-lo / level:.0%} of the level over that window (inconclusive)")
    yield Hit(
        message=msg,
        evidence=Evidence("theil-sen-change+hac-interval", float(sen), float(p.bound_margin * level), None,
                          (first, last), {"level": level, "ci_low": lo, "ci_high": hi, "noise_sd": noise,
                                          "window_fraction": share, "first_half_mean": a, "second_half_mean": b}),
        start_step=first, end_step=last,
        values={"name": s.label, "advice": _measure_advice(ctx, s),
                "reach": f"{-lo / level:.0%}"},
    )


DETECTORS = {"plateau": plateau, "converged-early": converged, "trend-inconclusive": trend_inconclusive}
