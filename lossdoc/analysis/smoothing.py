"""Smoothers for loss curves: TensorBoard EMA, time-weighted EMA, LOWESS, Savitzky-Golay,
rolling median / MAD and robust z-scores.

Conventions shared by every function here:

* Inputs are 1-D array-likes of equal length; the result has the same length as ``values``.
* Non-finite values (NaN, +-inf) are *passed through* unchanged at their positions and are
  ignored by the smoother (they neither enter a window nor advance a counter), the convention
  of TensorBoard's ``classicSmoothing``.
* Nothing here reads files, prints or emits warnings.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from lossdoc.analysis._arrays import as_float, quiet

__all__ = [
    "MAD_TO_SD",
    "ema_debiased",
    "ema_debiased_pieces",
    "lowess",
    "robust_zscore",
    "rolling_mad",
    "rolling_median",
    "savgol",
    "time_weighted_ema",
]

#: Consistency constant: ``1.4826 * MAD`` estimates the standard deviation of a normal sample.
MAD_TO_SD = 1.4826
#: ``sqrt(pi/2)``: mean absolute deviation * this estimates the normal standard deviation.
_MEANAD_TO_SD = math.sqrt(math.pi / 2.0)
#: Above this many points :func:`lowess` runs on bin means and interpolates.
LOWESS_MAX_POINTS = 50_000


def ema_debiased(values: object, weight: float = 0.6) -> np.ndarray:
    """TensorBoard's debiased exponential moving average (``classicSmoothing``).

    Parameters
    ----------
    values : array_like
        The series, in step order.
    weight : float, default 0.6
        Smoothing weight (TensorBoard's slider), clamped to ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        Smoothed values, same length as ``values``.

    Notes
    -----
    Reproduces ``tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts``
    ``classicSmoothing``: a series whose values are all equal is returned unsmoothed;
    ``last = 0``; for every finite point ``n += 1``, ``last = w*last + (1-w)*y`` and the
    output is ``last / (1 - w**n)`` (divisor 1 if ``w == 1``, so TensorBoard then shows 0);
    non-finite points pass through and do not advance ``n``. ``last / (1 - w**n)`` is the
    weighted mean ``sum(w**i * y[n-1-i]) / sum(w**i)``, which is polars' ``ewm_mean`` with
    ``alpha = 1 - w`` and ``adjust=True``; it runs over the finite points (O(n), in Rust: 0.09 s
    for 10^7 points where :func:`scipy.signal.lfilter` of the recursion took 0.14-0.24 s here;
    the two agree to 1e-12 relative).

    Examples
    --------
    >>> ema_debiased([1.0, 2.0, 3.0], weight=0.5).round(4).tolist()
    [1.0, 1.6667, 2.4286]
    """
    y = as_float(values)
    if y.size == 0 or np.all(y == y[0]):
        return y.copy()
    w = min(max(float(weight), 0.0), 1.0) if math.isfinite(weight) else 0.0
    fin = np.isfinite(y)
    all_finite = bool(fin.all())
    yf = y if all_finite else y[fin]  # no masked copy of a clean 10^7-point series
    if yf.size == 0:
        return y.copy()
    if w == 1.0:
        smoothed = np.zeros_like(yf)  # last stays 0 and TensorBoard divides by 1
    elif w == 0.0:
        smoothed = yf.copy()
    else:
        import polars as pl

        with quiet():
            smoothed = pl.Series(yf).ewm_mean(alpha=1.0 - w, adjust=True).to_numpy(writable=True)
    if all_finite:
        return smoothed
    out = y.copy()
    out[fin] = smoothed
    return out


def ema_debiased_pieces(values: np.ndarray, weight: float, cuts: np.ndarray):
    """:func:`ema_debiased` of a series of finite values whose values are not all equal, with
    ``0 < weight < 1``, yielded piece by piece: the smoothed ``values[cuts[i]:cuts[i + 1]]`` for each
    ``i`` (``cuts`` from 0 to ``values.size``, increasing), so a 10^7-point series is never smoothed
    into one more 10^7-value array.

    Each piece is smoothed alone (polars ``ewm_mean``, as :func:`ema_debiased`) and joined to the
    pieces before it: with ``q = weight``, the debiased EMA at a point is ``S / D``, ``S`` the sum of
    ``q**age * y`` and ``D`` that of ``q**age`` over the points so far; a piece's own mean ``m`` of
    ``k`` points gives ``S = q**k * S0 + m * D_k`` and ``D = q**k * D0 + D_k``, ``D_k = (1 - q**k) /
    (1 - q)``, ``S0, D0`` those of the pieces before. The same numbers as :func:`ema_debiased` to
    ~1e-13 relative (rounding of the join), not bit for bit."""
    import polars as pl

    q = float(weight)
    alpha = 1.0 - q
    s0 = d0 = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        y = values[int(a):int(b)]
        if not y.size:
            yield y.astype(np.float64)
            continue
        with quiet():
            m = pl.Series(y).ewm_mean(alpha=alpha, adjust=True).to_numpy(writable=True)
        if d0 > 0.0:
            k = np.arange(1, y.size + 1, dtype=np.float64)
            qk = np.exp(k * math.log(q))  # q**k
            dk = -np.expm1(k * math.log(q)) / alpha  # 1 + q + ... + q**(k-1)
            full = (qk * s0 + m * dk) / (qk * d0 + dk)
        else:
            full = m
            dk = np.array([-math.expm1(y.size * math.log(q)) / alpha])
            qk = np.array([math.exp(y.size * math.log(q))])
        # the sums at the piece's last point carry into the next piece
        s0, d0 = float(qk[-1] * s0 + m[-1] * dk[-1]), float(qk[-1] * d0 + dk[-1])
        yield full


def time_weighted_ema(steps: object, values: object, half_life: float) -> np.ndarray:
    """Exponential moving average whose decay follows the step axis (for uneven logging).

    Parameters
    ----------
    steps : array_like
        Step (or time) of each point, non-decreasing.
    values : array_like
        The series.
    half_life : float
        Distance along ``steps`` after which a point's weight has halved (> 0).

    Returns
    -------
    numpy.ndarray
        ``s_k = sum_j w_kj y_j / sum_j w_kj`` over finite points ``j <= k`` with
        ``w_kj = 0.5 ** ((t_k - t_j) / half_life)``; non-finite values (or steps) pass through.

    Raises
    ------
    ValueError
        If ``half_life`` is not positive and finite or the lengths differ.

    Notes
    -----
    The normalised form (numerator and denominator both decayed, as in W&B's TWEMA) needs
    no debiasing: the first output equals the first value. Points at equal steps get equal
    weight. Computed in blocks of at most 600 e-foldings with cumulative sums, so it is
    vectorised and cannot overflow.
    """
    t = as_float(steps)
    y = as_float(values)
    if t.shape != y.shape:
        raise ValueError(f"steps and values differ in length ({t.size} != {y.size})")
    hl = float(half_life)
    if not (math.isfinite(hl) and hl > 0):
        raise ValueError(f"half_life must be positive and finite (got {half_life!r})")
    out = y.copy()
    fin = np.isfinite(y) & np.isfinite(t)
    tf, yf = t[fin], y[fin]
    if yf.size == 0:
        return out
    rate = math.log(2.0) / hl
    e = (tf - tf[0]) * rate  # e-foldings since the first point, non-decreasing
    res = np.empty_like(yf)
    num = den = 0.0
    e_prev = e[0]
    start = 0
    n = yf.size
    with quiet():
        while start < n:
            stop = int(np.searchsorted(e, e[start] + 600.0, side="right"))
            stop = max(stop, start + 1)
            eb = e[start:stop] - e[start]
            carry = math.exp(-(e[start] - e_prev))
            wts = np.exp(eb)
            cn = np.cumsum(yf[start:stop] * wts) + num * carry
            cd = np.cumsum(wts) + den * carry
            res[start:stop] = cn / cd
            decay_last = math.exp(-eb[-1])
            num, den = cn[-1] * decay_last, cd[-1] * decay_last
            e_prev = e[stop - 1]
            start = stop
    out[fin] = res
    return out


def lowess(
    steps: object,
    values: object,
    frac: float = 0.1,
    it: int = 1,
    delta: float | None = None,
) -> np.ndarray:
    """LOWESS smoother (``statsmodels.nonparametric.smoothers_lowess.lowess``).

    Parameters
    ----------
    steps, values : array_like
        Abscissa and series, equal length.
    frac : float, default 0.1
        Fraction of points used for each local regression.
    it : int, default 1
        Robustifying iterations (down-weight outliers such as spikes).
    delta : float, optional
        Points closer than ``delta`` reuse linear interpolation; default 1% of the step range.

    Returns
    -------
    numpy.ndarray
        Smoothed values at every input position (non-finite inputs pass through).

    Notes
    -----
    Above :data:`LOWESS_MAX_POINTS` finite points the fit runs on equal-width bin means
    (:func:`lossdoc.analysis.downsample.downsample_for_fit`) and is linearly interpolated
    back to the original steps. statsmodels is imported on first use (it costs ~1.5 s).
    """
    t = as_float(steps)
    y = as_float(values)
    if t.shape != y.shape:
        raise ValueError(f"steps and values differ in length ({t.size} != {y.size})")
    out = y.copy()
    fin = np.isfinite(t) & np.isfinite(y)
    tf, yf = t[fin], y[fin]
    if yf.size < 3:
        return out
    span = float(tf.max() - tf.min())
    if span == 0.0 or np.all(yf == yf[0]):
        return out
    d = 0.01 * span if delta is None else float(delta)
    from statsmodels.nonparametric.smoothers_lowess import lowess as _sm_lowess

    xs, ys = tf, yf
    if yf.size > LOWESS_MAX_POINTS:
        from lossdoc.analysis.downsample import downsample_for_fit

        xs, ys, _ = downsample_for_fit(tf, yf, max_points=LOWESS_MAX_POINTS)
    with quiet():
        fitted = _sm_lowess(ys, xs, frac=frac, it=int(it), delta=d, return_sorted=True)
    fx, fy = fitted[:, 0], fitted[:, 1]
    ok = np.isfinite(fy)
    if ok.sum() < 2:
        return out
    out[fin] = np.interp(tf, fx[ok], fy[ok])
    return out


def savgol(values: object, window: int, polyorder: int = 2) -> np.ndarray:
    """Savitzky-Golay smoother (``scipy.signal.savgol_filter``, ``mode="interp"``).

    Parameters
    ----------
    values : array_like
        The series (treated as evenly spaced).
    window : int
        Window length in points; made odd and shrunk to the series length if needed.
    polyorder : int, default 2
        Degree of the local polynomial.

    Returns
    -------
    numpy.ndarray
        Smoothed values. Non-finite points are linearly interpolated over before filtering and
        restored afterwards. A series too short for the window is returned unchanged.
    """
    y = as_float(values)
    out = y.copy()
    fin = np.isfinite(y)
    nf = int(fin.sum())
    if nf == 0:
        return out
    w = min(int(window), y.size)
    if w % 2 == 0:
        w -= 1
    if w <= polyorder or w < 3:
        return out
    filled = y
    if nf < y.size:
        idx = np.arange(y.size)
        filled = y.copy()
        filled[~fin] = np.interp(idx[~fin], idx[fin], y[fin])
    with quiet():
        from scipy import signal  # imported here only: scipy.signal costs ~0.15 s to import

        sm = signal.savgol_filter(filled, w, int(polyorder), mode="interp")
    out[fin] = sm[fin]
    return out


def _window(window: int) -> int:
    w = int(window)
    if w < 1:
        raise ValueError(f"window must be >= 1 (got {window!r})")
    return w


def _median_filter(x: np.ndarray, w: int, origin: int) -> np.ndarray:
    """``median_filter`` with a true median for even ``w`` (mean of the two middle ranks)."""
    if w % 2:
        return ndimage.median_filter(x, size=w, mode="nearest", origin=origin)
    lo = ndimage.rank_filter(x, w // 2 - 1, size=w, mode="nearest", origin=origin)
    hi = ndimage.rank_filter(x, w // 2, size=w, mode="nearest", origin=origin)
    with quiet():
        return 0.5 * lo + 0.5 * hi


def _rolling_median_finite(x: np.ndarray, w: int, trailing: bool) -> np.ndarray:
    """Rolling median of an all-finite array; windows are truncated at the edges."""
    with quiet():  # the mean of two middle values near 1e308 overflows to inf
        return _rolling_median_impl(x, w, trailing)


def _rolling_median_impl(x: np.ndarray, w: int, trailing: bool) -> np.ndarray:
    n = x.size
    if n == 0:
        return x.copy()
    if trailing:
        w = min(w, n)
        # window [i-w+1, i]: origin (w-1)//2 (checked against np.median in the tests)
        res = _median_filter(x, w, (w - 1) // 2)
        for i in range(w - 1):
            res[i] = np.median(x[: i + 1])
        return res
    w = min(w, 2 * n - 1)
    half_lo = (w - 1) // 2
    half_hi = w - 1 - half_lo
    # window [i-half_lo, i+half_hi]: origin 0 for odd w, -1 for even w
    res = _median_filter(x, w, 0 if w % 2 else -1)
    for i in range(min(half_lo, n)):
        res[i] = np.median(x[: i + half_hi + 1])
    for i in range(max(n - half_hi, half_lo, 0), n):
        res[i] = np.median(x[max(i - half_lo, 0) :])
    return res


def rolling_median(values: object, window: int, trailing: bool = True) -> np.ndarray:
    """Rolling median over ``window`` finite points (``scipy.ndimage.median_filter``).

    Parameters
    ----------
    values : array_like
        The series.
    window : int
        Window length in points (counting finite points only).
    trailing : bool, default True
        ``True``: window ``[i-window+1, i]`` (causal); ``False``: centred on ``i``.
        Windows are truncated at the series ends (the first trailing values are expanding
        medians), never padded.

    Returns
    -------
    numpy.ndarray
        Rolling medians; NaN where the input is non-finite.
    """
    y = as_float(values)
    w = _window(window)
    out = np.full(y.shape, np.nan)
    fin = np.isfinite(y)
    if fin.any():
        out[fin] = _rolling_median_finite(y[fin], w, trailing)
    return out


def rolling_mad(values: object, window: int, trailing: bool = True) -> np.ndarray:
    """Rolling median absolute deviation (unscaled) over ``window`` finite points.

    Parameters
    ----------
    values : array_like
        The series.
    window : int
        Window length in points.
    trailing : bool, default True
        Trailing (causal) or centred windows, as in :func:`rolling_median`.

    Returns
    -------
    numpy.ndarray
        ``median_{j in window(i)} |y_j - m_j|`` where ``m_j`` is the rolling median at ``j``
        (a two-pass rolling MAD: O(n log w) instead of O(n w), and equal to the exact MAD of
        a window when the median is locally constant). Multiply by :data:`MAD_TO_SD` for a
        standard-deviation estimate. NaN where the input is non-finite.
    """
    y = as_float(values)
    w = _window(window)
    out = np.full(y.shape, np.nan)
    fin = np.isfinite(y)
    if fin.any():
        yf = y[fin]
        med = _rolling_median_finite(yf, w, trailing)
        with quiet():
            dev = np.abs(yf - med)
        out[fin] = _rolling_median_finite(dev, w, trailing)
    return out


def robust_zscore(
    values: object, window: int, trailing: bool = True, min_periods: int | None = None
) -> np.ndarray:
    """Robust z-score of each point against a rolling median and MAD.

    Parameters
    ----------
    values : array_like
        The series.
    window : int
        Window length in (finite) points.
    trailing : bool, default True
        ``True``: each point is scored against the *preceding* ``window`` finite points
        (excluding itself; the first finite point scores NaN). ``False``: against the centred
        window that includes it.
    min_periods : int, optional
        Fewest finite points a reference window must hold for a score (fewer: NaN), default
        ``min(window, 10)`` so that the first points are not scored against a one- or
        two-point "distribution".

    Returns
    -------
    numpy.ndarray
        ``(y_i - median) / (1.4826 * MAD)``. Where the MAD is 0 (flat or quantised windows)
        the scale falls back to ``sqrt(pi/2) *`` the rolling mean absolute deviation; where
        that is 0 too, the score is 0 for a point equal to the median and +-inf otherwise.
        NaN where the input is non-finite.
    """
    y = as_float(values)
    w = _window(window)
    out = np.full(y.shape, np.nan)
    fin = np.isfinite(y)
    yf = y[fin]
    n = yf.size
    if n == 0:
        return out
    med = _rolling_median_finite(yf, w, trailing)
    # In-place arithmetic throughout (same operations, same results): at 10^7 points each
    # temporary is 80 MB, and the spike check runs this on the full-resolution loss.
    with quiet():
        dev = yf - med
        np.abs(dev, out=dev)
        mad = _rolling_median_finite(dev, w, trailing)
        if trailing:
            # mean absolute deviation over the same trailing window (expanding at the head):
            # (c[i+1] - c[lo]) / (i + 1 - lo) with lo = max(i - m + 1, 0), c the cumulative sum
            m = min(w, n)
            c = np.empty(n + 1)
            c[0] = 0.0
            np.cumsum(dev, out=c[1:])
            meanad = np.empty(n)
            meanad[: m - 1] = (c[1:m] - c[0]) / np.arange(1, m)
            np.subtract(c[m:], c[: n - m + 1], out=meanad[m - 1 :])
            meanad[m - 1 :] /= m
            del c
        else:
            meanad = ndimage.uniform_filter1d(dev, size=min(w, n), mode="nearest")
        del dev
        scale = mad
        scale *= MAD_TO_SD
        meanad *= _MEANAD_TO_SD
        np.copyto(scale, meanad, where=~(scale > 0))
        del meanad
        mp = min(w, 10) if min_periods is None else max(int(min_periods), 1)
        if trailing:
            ref_med = np.empty(n)
            ref_med[0] = np.nan
            ref_med[1:] = med[:-1]
            ref_scale = np.empty(n)
            ref_scale[0] = np.nan
            ref_scale[1:] = scale[:-1]
            ref_med[:mp] = np.nan
        else:
            idx = np.arange(n)
            ref_med, ref_scale = med.copy(), scale
            lo = (w - 1) // 2
            size = np.minimum(idx, lo) + np.minimum(n - 1 - idx, w - 1 - lo) + 1
            ref_med[size < mp] = np.nan
        del med
        diff = yf - ref_med
        # ref_scale > 0: diff / ref_scale; else 0 where diff == 0 and +-inf elsewhere
        z = np.sign(diff)
        z *= np.inf
        z[diff == 0] = 0.0
        np.divide(diff, ref_scale, out=z, where=ref_scale > 0)
        z[np.isnan(ref_med)] = np.nan
    out[fin] = z
    return out
