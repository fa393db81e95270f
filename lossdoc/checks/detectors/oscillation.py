"""Oscillation (OS001): swings around the trend that are large relative to the trend itself.

On the down-sampled series (bin means, which average minibatch noise away, so what is left
is structure, not sampling noise), in log space when the loss is positive (swings measured
as relative changes). After the first ``skip-fraction`` of the run (the initial fast drop), the
trend is the best non-increasing fit (isotonic regression: a step-decay kink is trend, not
oscillation) and the residuals are tested:

* structure, one decision (the stronger of two tests, Sidak-corrected for the choice), p < ``alpha``:
  a Wald-Wolfowitz runs test on the residual signs, one-sided for too many runs (alternation; red noise
  gives fewer runs, not more), standardised against the same residuals in random order around a trend
  fitted again (:func:`calibrated_runs_z`: an isotonic fit forces sign changes of its own), or :func:`swing_test`, the residual autocorrelation at up to half a
  period (so ``min-swings`` swings fit) against an AR(1) null with Bartlett's variance: a cycle turns
  it negative, per-batch noise leaves it at 0 and a loss that wanders (red noise) keeps it positive.
  Too *few* runs is no evidence: red noise does that too;
* size: residual root-mean-square (of the 3-point median filtered residuals, or, when a cycle is
  established and larger, of its repeating part: the share of the raw residuals' variance the
  autocorrelation at half a period explains, so noise around the trend does not count) / the
  trend's total change >= ``ratio``, >= ``min-amplitude`` (relative, e.g. 5% of the loss), and for
  a training loss >= ``min-amplitude-range`` of the range the run covered (``min-cycle-amplitude-range``
  for an established cycle);
* symmetry: downward excursions at least ``min-symmetry`` x the upward ones (90th percentiles),
  since a burst of spikes only goes up;
* steepness: the steepest rise of the curve (filtered; raw when a cycle sets the size) at most
  ``max-steepness`` x its steepest fall (a jump and a slow recovery, repeated, is a run of spikes);
* repetition: at least ``min-swings`` alternating excursions beyond half the r.m.s. (a monotone
  rise past the minimum is divergence or overfitting, not oscillation).

A validation loss is first judged by the size of its swings alone (:func:`_val_swings`): it carries
no batch-sampling noise, so most changes between evaluations being 1.5x or more, alternating in
direction, is oscillation on a log too short for the structure tests -- when the swings are also large
in loss units against the range the run covered (``min-amplitude-range``), as for a training loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
from scipy import stats as _st
from scipy.optimize import isotonic_regression

from lossdoc.analysis._arrays import search
from lossdoc.analysis.smoothing import rolling_median
from lossdoc.checks.detectors._common import (
    MAD_TO_SD, SPLIT_WORD, TINY, fmt_num, fmt_step, held_word, lr_advice, lr_text, range_scale,
)
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


def _winsorize(r: np.ndarray, k: float = 5.0) -> np.ndarray:
    """``r`` clipped to its median +- ``k`` robust s.d.: one hard batch does not set an autocorrelation."""
    med = float(np.median(r))
    mad = MAD_TO_SD * float(np.median(np.abs(r - med)))
    return np.clip(r, med - k * mad, med + k * mad) if mad > 0 else r


def swing_test(r: np.ndarray, max_lag: int) -> SimpleNamespace | None:
    """A repeating cycle in the residuals ``r`` against red noise.

    A loss that swings up and down around its trend has a negative residual autocorrelation at half its
    period; per-batch noise has none (white) or a positive, decaying one (AR(1): ``phi**k``, when the
    loss wanders). For every lag ``k`` up to ``max_lag`` (half a period, so at least ``n / (2 max_lag)``
    cycles fit) the sample autocorrelation of the winsorized residuals is compared with the AR(1) null
    whose ``phi`` is the lag-1 autocorrelation (0 when that is negative: alternation is the signal
    then), with Bartlett's variance; the most negative one-sided z, Sidak-corrected over the lags, is the
    p-value. None when there are fewer than 8 residuals."""
    n = int(r.size)
    if n < 8 or max_lag < 1:
        return None
    rw = _winsorize(r)
    rc = rw - rw.mean()
    den = float(np.dot(rc, rc))
    if den <= 0:
        return None
    lags = np.arange(1, min(max_lag, n // 2) + 1)
    acf = np.array([float(np.dot(rc[:-k], rc[k:])) / den for k in lags])
    phi = min(max(float(acf[0]), 0.0), 0.95)
    rho = phi ** lags
    if phi > 0:
        var = ((1 + phi ** 2) * (1 - phi ** (2 * lags)) / (1 - phi ** 2) - 2 * lags * phi ** (2 * lags)) / n
    else:
        var = np.full(lags.size, 1.0 / n)
    z = (acf - rho + 1.0 / n) / np.sqrt(np.maximum(var, 1e-12))  # (-1/n: the sample autocorrelation's bias)
    i = int(np.argmin(z))
    p = float(-np.expm1(lags.size * np.log1p(-_st.norm.cdf(z[i]))))
    return SimpleNamespace(lag=int(lags[i]), acf=float(acf[i]), expected=float(rho[i] - 1.0 / n), z=float(z[i]),
                           p=p, phi=phi, resid=rw)


def _logged_window(s: Series, x: np.ndarray, cut: int) -> tuple[int, int]:
    """(first, last) logged steps of the judged window ``x[cut:]``: a long series is judged on bin means at
    their mean steps, which need not be logged steps; the window starts at the first logged step past the
    midpoint between its first bin's mean step and the previous one's, and ends at the last logged step."""
    st, _ = s.finite()
    lo = 0.5 * float(x[cut - 1] + x[cut]) if cut > 0 else -math.inf
    i = int(search(st, lo, side="right"))  # a float probe: numpy would copy the steps to float
    first = int(st[i]) if i < st.size else int(x[cut])
    return first, int(st[-1]) if st.size else int(x[-1])


def _val_swings(ctx: RunContext, s: Series, p: SimpleNamespace) -> Hit | None:
    """A validation loss that swings up and down by a large factor between evaluations, again and again.

    A validation loss is a mean over the whole validation set: it carries no batch-sampling noise, so
    consecutive evaluations that differ by ``val-swing`` (log ratio, 0.4 = 1.5x) are the model moving.
    Swings are the norm rather than events when at least half of the changes after the first
    ``skip-fraction`` are that large and they alternate in direction ``min-swings`` times (a monotone
    fall or rise in big steps is one swing; one spike and its recovery are two), and when their size in
    loss units is large against the range the run covered: half the median swing (its amplitude) at least
    ``min-amplitude-range`` of it, the training route's floor -- a validation loss near zero (an accurate
    classifier's, 1e-4 after 0.22) swings 3x between evaluations while moving 1% of that range, which is
    the hardest few examples flipping, not the model bouncing across a valley. An effect-size
    route, with no test to pass: it judges 9-epoch logs the runs test cannot."""
    x, y, _ = ctx.downsampled(s, 200)
    if x.size < p.min_val_points or not np.all(np.isfinite(y)) or not np.all(y > 0):
        return None
    cut = int(p.skip_fraction * x.size)
    z = np.log(y[cut:])
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
    # the same swings in loss units against the range the run covered, as the training route judges its
    # residuals: near zero (a classifier at 100% whose validation loss came down from 0.22 to 1e-4) ratios
    # between tiny values swing 3x while the loss moves a few thousandths of that range. A swing's
    # amplitude is half the change (the residual about the trend of an alternation of that size)
    lin = float(np.median(np.abs(np.diff(y[cut:]))[big]))
    of_range = lin / range_scale(ctx, s, float(np.median(y[cut:])))
    if 0.5 * of_range < p.min_amplitude_range:
        return None
    start, end = _logged_window(s, x, cut)
    # the range as logged (the changes may be between bin means of a long series)
    rst, rv = s.finite()
    after = rv[rst >= start]
    lo_v, hi_v = float(np.min(after)), float(np.max(after))
    between = ("between evaluations" if rv.size <= x.size else
               f"between consecutive means of about {rv.size / x.size:.0f} evaluations")
    msg = (f"{s.label} swings up and down {between} after step {start:,}: {nbig} of {d.size} changes "
           f"are {math.exp(p.val_swing):.1f}x or more (median of those {typical:.1f}x) in {swings} alternating "
           f"swings, between {fmt_num(lo_v)} and {fmt_num(hi_v)} as logged (a median swing of {fmt_num(lin)}, "
           f"{100 * of_range:.2g}% of the range the run covered, derived); a {held_word(s)} is a mean over the "
           f"whole {SPLIT_WORD.get(s.split, s.split)} set, so swings this size are the model moving, not sampling "
           f"noise{lr_text(ctx, start)}")
    return Hit(
        message=msg,
        evidence=Evidence("validation-swings", typical, float(math.exp(p.val_swing)), None, (start, end),
                          {"big_changes": nbig, "changes": int(d.size), "swings": swings, "low": lo_v, "high": hi_v,
                           "median_swing": lin, "swing_of_range": of_range}),
        start_step=start, end_step=end,
        values={"step": fmt_step(start), "swing": f"{typical:.1f}x (up or down) between evaluations of the loss (the median of the large changes)",
                "lr_advice": lr_advice(ctx, start, 3.0, 2.0)},
    )


def _trend(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(3-point median filtered curve, its best non-increasing fit)."""
    # a centred 3-point running median removes isolated spikes (SP001's business) but keeps swings
    # that last several points
    zf = rolling_median(z, 3, trailing=False)
    # the trend a training curve is expected to follow: the best non-increasing fit (isotonic
    # regression, pool-adjacent-violators); an LR step-decay kink is monotone, so it is trend
    return zf, isotonic_regression(zf, increasing=False).x


NULL_DRAWS = 200  # permutations of the residuals that calibrate the runs test (its null's mean and s.d.)


def calibrated_runs_z(trend: np.ndarray, r: np.ndarray, z_obs: float, draws: int = NULL_DRAWS) -> float:
    """The runs-test z of the residuals ``r`` around the fitted ``trend``, against what noise with no order
    gives around a trend fitted the same way.

    The textbook runs test assumes residuals around a fixed curve. Around an isotonic fit they are not: the
    fit pools adjacent points into blocks whose residuals sum to zero, so every block holds both signs and
    a noisy, steadily falling loss has more sign runs than the textbook expects (on simulated healthy decays
    the one-sided test at 0.01 rejected 4.5% of them, t(3) noise 9%; ``benchmarks/quality/sim_os001.py``).
    The null is the residuals themselves in random order (a permutation: same sizes, same heavy tails, no
    order) added to the trend, with the trend fitted again: the observed z is standardised by the mean and
    s.d. of the ``draws`` permuted z's (a fixed seed: the same log gives the same answer). Residuals that
    wander (AR(1), running means) give fewer runs than their permutations, so the null stays conservative
    for them; a loss that alternates gives more runs than any order of its own residuals."""
    if r.size < 3 or not np.isfinite(z_obs):
        return z_obs
    rng = np.random.default_rng(r.size)
    zs = np.empty(draws)
    for b in range(draws):
        zb = trend + rng.permutation(r)
        zs[b] = runs_test(zb - _trend(zb)[1])[1]
    sd = float(np.std(zs, ddof=1))
    return float((z_obs - np.mean(zs)) / sd) if sd > 0 else z_obs


def structure(z: np.ndarray, min_swings: int) -> tuple:
    """The structure tests of :func:`oscillation` on the judged window ``z`` (log loss when positive):
    (filtered curve, trend, raw residuals, sign runs, runs z, one-sided runs p, two-sided runs p, the
    :func:`swing_test` result or None)."""
    zf, trend = _trend(z)
    r_raw = z - trend  # the tests need the unfiltered residuals: a running median correlates them
    # structure: too many sign runs is alternation whatever the noise; too few is also what red noise (a
    # loss that wanders, AR(1)) does, so slow swings are judged by the autocorrelation test instead. (A
    # drift the non-increasing trend cannot follow, e.g. a loss creeping up, would read as red noise: a
    # centred running median over half the window removes it and keeps any cycle of min-swings swings.)
    runs, zr, pr2 = runs_test(r_raw)
    zr = calibrated_runs_z(trend, r_raw, zr)
    pr = float(_st.norm.sf(zr)) if runs > 1 else 1.0
    cyc = swing_test(r_raw - rolling_median(r_raw, max(3, (z.size // 2) | 1), trailing=False),
                     max(1, z.size // max(min_swings, 1)))
    return zf, trend, r_raw, runs, zr, pr, pr2, cyc


def oscillation(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    if s.split != "train" and getattr(p, "val_swing", None) is not None:
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
    zf, trend, r_raw, runs, zr, pr, pr2, cyc = structure(z, int(p.min_swings))
    p_cyc = cyc.p if cyc is not None else 1.0
    k = max(2, z.size // 10)
    drop = abs(float(np.mean(trend[:k]) - np.mean(trend[-k:])))
    level_scale = 1.0 if positive else max(float(np.median(np.abs(ya))), TINY)
    by_cycle = cyc is not None and p_cyc <= pr
    # size: the r.m.s. of the filtered residuals (root-mean-square, not MAD: around an isotonic fit most
    # residuals are exactly 0 and the swings are the minority that matters) ...
    r = zf - trend
    rmax = float(np.max(np.abs(r))) if r.size else 0.0
    amp = rmax * float(np.sqrt(np.mean((r / rmax) ** 2))) if rmax > 0 and np.isfinite(rmax) else 0.0
    lin_amp = float(np.sqrt(np.mean((np.exp(trend) * (np.exp(r) - 1) if positive else r) ** 2)))
    curve, rs = zf, r
    cycle_size = False
    if cyc is not None and p_cyc < p.alpha:
        # ... but a swing of one or two points is gone from the 3-point median filtered curve: its size is
        # then the repeating part of the raw residuals, the share of their variance the cycle explains
        # (-autocorrelation at half a period), so per-batch noise around the trend does not count
        share = min(1.0, max(0.0, -cyc.acf))
        amp_c = float(np.sqrt(share * np.mean(cyc.resid ** 2)))
        if amp_c > amp:
            cycle_size = True
            amp = amp_c
            lin_all = np.exp(trend) * (np.exp(r_raw) - 1) if positive else r_raw
            lin_amp = float(np.sqrt(share * np.mean(_winsorize(lin_all) ** 2)))
            curve, rs = z, cyc.resid
    ratio = amp / max(drop, TINY)
    rel_amp = amp / level_scale
    # swings go both ways; bursts of spikes only go up: compare the 90th-percentile excursions
    pos = float(np.quantile(rs[rs > 0], 0.9)) if (rs > 0).any() else 0.0
    neg = float(-np.quantile(rs[rs < 0], 0.1)) if (rs < 0).any() else 0.0
    symmetry = neg / pos if pos > 0 else 0.0
    if symmetry < p.min_symmetry:
        return
    # ... and in steepness: a swing comes down about as steeply as it went up, while a jump that damages
    # the model (a corrupted batch) goes up in one step and recovers over many (SP001's business)
    dz = np.diff(curve)
    steep = float(np.max(dz)) / max(float(-np.min(dz)), TINY) if dz.size and np.min(dz) < 0 else math.inf
    if steep > p.max_steepness:
        return
    # repetition: alternating excursions beyond half the r.m.s., on the curve the size was measured on
    big = rs[np.abs(rs) > 0.5 * amp]
    swings = 1 + int(np.sum(np.sign(big[1:]) != np.sign(big[:-1]))) if big.size else 0
    if swings < p.min_swings:  # a monotone rise (divergence, overfitting) is one swing, not oscillation
        return
    # one decision: whichever of the two tests the evidence is stronger in, Sidak-corrected for the choice
    pr_eff = min(1.0, float(-np.expm1(2.0 * np.log1p(-min(pr, p_cyc, 1.0 - 1e-16)))))
    ctx.decide(pr_eff)
    # the swings in loss units against the range the run covered: in log space a classifier's per-batch
    # loss near zero "oscillates" by 70% of its level while moving 1% of the range it covered
    amp_range = lin_amp / range_scale(ctx, s, float(np.median(ya)))
    # (validation losses are means over the whole validation set, free of batch sampling noise: their
    # swings are structure whatever their size against the range)
    per_batch = s.split == "train"
    # (per-batch noise has no cycle: a repeating cycle the autocorrelation test establishes is judged
    # against the range from min-cycle-amplitude-range)
    range_floor = getattr(p, "min_amplitude_range", 0.05)
    if by_cycle and p_cyc < p.alpha:
        range_floor = min(range_floor, getattr(p, "min_cycle_amplitude_range", range_floor))
    if not (ratio >= p.ratio and rel_amp >= p.min_amplitude and pr_eff < p.alpha
            and (not per_batch or amp_range >= range_floor)):
        return
    # (a flat trend makes the ratio astronomically large: say so instead of printing 10^299)
    trend_txt = f", {ratio:.2f}x the trend's change" if ratio < 1e3 else " while the trend stayed flat"
    swing = (math.exp(2 * amp) - 1) if positive else 2 * amp
    start, end = _logged_window(s, x, cut)
    parts = []
    if not by_cycle:
        parts.append(f"alternating swings: {runs} sign runs, runs-test z={zr:.1f}")
    if cyc is not None and (by_cycle or cycle_size):
        every = cyc.lag * float(np.median(np.diff(xa))) if xa.size > 1 else 0.0
        unit = ("evaluation" if s.split != "train" else "logged point") if x.size == len(s) else "bin mean"
        parts.append(f"a repeating cycle: the residuals around the trend reverse about every "
                     f"{'step' if round(every) == 1 else f'{every:,.0f} steps'}, "
                     f"autocorrelation {cyc.acf:+.2f} at a lag of {cyc.lag} {unit}{'s' if cyc.lag > 1 else ''} against "
                     f"{cyc.expected:+.2f} for red noise (AR(1) coefficient {cyc.phi:.2f}), z={cyc.z:.1f}")
    how = "; ".join(parts) + f", p={pr_eff:.2g}"
    if cycle_size:
        size = (f"swings of {rel_amp:.1%} of the loss (r.m.s. of the repeating part, derived)" if positive else
                f"swings of r.m.s. {fmt_num(amp)} (the repeating part, derived)")
    else:
        size = f"residual r.m.s. {rel_amp:.1%} of the loss"
    msg = (f"{s.label} oscillates around its trend: {size} ({amp_range:.0%} of the range the run covered), "
           f"{swings} swings{trend_txt} after step {start:,} ({how}){lr_text(ctx, start)}")
    extra = {"relative_amplitude": rel_amp, "amplitude_of_range": amp_range, "symmetry": symmetry,
             "typical_swing": swing, "runs": runs, "runs_z": zr, "runs_p": pr, "runs_p_two_sided": pr2, "trend_change": drop,
             "structure_test": "residual autocorrelation vs AR(1)" if by_cycle else "runs test"}
    if cyc is not None:
        extra.update({"cycle_lag": cyc.lag, "cycle_acf": cyc.acf, "cycle_expected": cyc.expected, "cycle_z": cyc.z,
                      "cycle_p": cyc.p, "ar1": cyc.phi})
    yield Hit(
        message=msg,
        evidence=Evidence("residual-to-trend-ratio", ratio, float(p.ratio),
                          pr_eff, (start, end), extra),
        start_step=start, end_step=end, alpha=p.alpha,
        values={"step": fmt_step(start), "swing": _swing_words(swing, positive),
                "lr_advice": lr_advice(ctx, start, 3.0, 2.0)},
    )


def _swing_words(swing: float, positive: bool) -> str:
    """The recommendation's trough-to-peak swing (the trend -1 to +1 r.m.s.): "56% from trough to peak", on a
    positive loss that swings by a factor of 2 or more "a factor of 17 from trough to peak" (not "1717%", beside
    a message that gives the r.m.s. as 145%), on a loss that can be negative in its own units."""
    how = " (derived: the trend -1 to +1 r.m.s.)"
    if not positive:
        return f"{fmt_num(swing)} from trough to peak{how}"
    return (f"a factor of {1.0 + swing:.3g} from trough to peak{how}" if swing >= 1.0 else
            f"{swing:.0%} of the loss from trough to peak{how}")


DETECTORS = {"oscillation": oscillation}
