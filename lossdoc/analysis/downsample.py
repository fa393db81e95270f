"""Down-sampling that never hides a spike: equal-width step bins keeping min, max, first, last.

Used to draw long curves (every bin keeps its extremes, so a one-step spike survives any
zoom level) and to make curve fits cheap (bin means weighted by their counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoc.analysis._arrays import as_float, finite_pairs, quiet

__all__ = ["BinnedResult", "bin_series", "downsample_for_fit"]


@dataclass(frozen=True, eq=False)  # holds arrays: identity equality, hashable
class BinnedResult:
    """Per-bin summary of a series (one entry per non-empty bin, in step order).

    Attributes
    ----------
    step : numpy.ndarray
        Mean step of the points in the bin.
    mean, min, max : numpy.ndarray
        Mean, minimum and maximum of the bin's finite values (NaN if it has none).
    first, last : numpy.ndarray
        First and last finite value in the bin, in step order (NaN if none).
    count : numpy.ndarray
        Number of finite values in the bin (int64).
    n_nonfinite : numpy.ndarray
        Number of NaN/+-inf values in the bin (int64); they are not in min/max/mean.
    edges : numpy.ndarray
        The ``n_bins + 1`` equal-width bin edges in step units.
    """

    step: np.ndarray
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray
    first: np.ndarray
    last: np.ndarray
    count: np.ndarray
    n_nonfinite: np.ndarray
    edges: np.ndarray

    def __len__(self) -> int:
        return int(self.step.size)


def _empty(edges: np.ndarray) -> BinnedResult:
    f = np.empty(0, dtype=np.float64)
    i = np.empty(0, dtype=np.int64)
    return BinnedResult(f, f, f, f, f, f, i, i, edges)


def bin_series(steps: object, values: object, n_bins: int) -> BinnedResult:
    """Summarise a series in ``n_bins`` equal-width bins of step.

    Parameters
    ----------
    steps : array_like
        Step of each point (points with a non-finite step are dropped).
    values : array_like
        Values; non-finite values are counted per bin in ``n_nonfinite`` but kept out of the
        statistics.
    n_bins : int
        Number of equal-width bins spanning ``[min(step), max(step)]`` (>= 1).

    Returns
    -------
    BinnedResult
        Only bins holding at least one point (finite or not) are returned.

    Notes
    -----
    O(n) with ``np.add.reduceat`` / ``np.minimum.reduceat`` / ``np.maximum.reduceat`` when the
    steps are sorted (an unsorted input is stably sorted first). Every bin keeps its min and
    max, so the global min and max of the finite values are always preserved.
    """
    st = np.asarray(steps)
    y = as_float(values)
    # Integer steps stay integers (no 80 MB float copy at 10^7 points) while every bin's step sum is
    # exact in float64, so the bin means are the same numbers either way.
    t = st.ravel() if st.dtype.kind in "iu" and st.ndim == 1 else as_float(steps)
    if t.shape != y.shape:
        raise ValueError(f"steps and values differ in length ({t.size} != {y.size})")
    nb = int(n_bins)
    if nb < 1:
        raise ValueError(f"n_bins must be >= 1 (got {n_bins!r})")
    if t.dtype.kind == "f":
        okt = np.isfinite(t)
        if not okt.all():
            t, y = t[okt], y[okt]
    if t.size == 0:
        return _empty(np.empty(0))
    if t.size > 1 and np.any(t[1:] < t[:-1]):
        order = np.argsort(t, kind="stable")
        t, y = t[order], y[order]
    if t.dtype.kind != "f" and max(abs(int(t[0])), abs(int(t[-1]))) * t.size >= 2**53:
        t = t.astype(np.float64)  # sums could lose exactness in float: bin in floats as before
    starts, edges = _starts_and_edges(t, nb)
    ends = np.concatenate((starts[1:], [t.size]))
    total = ends - starts
    if np.isfinite(y).all():
        return _bin_all_finite(t, y, starts, ends, total, edges)
    fin = np.isfinite(y)
    cnt = np.add.reduceat(fin.astype(np.int64), starts)
    with quiet():
        s = np.add.reduceat(np.where(fin, y, 0.0), starts)
        mean = np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)
        # mean of huge values can overflow in the sum; fall back to a scaled sum there
        bad = (cnt > 0) & ~np.isfinite(mean)
        if bad.any():
            scale = np.maximum.reduceat(np.where(fin, np.abs(y), 0.0), starts)
            ys = np.where(fin, y / np.repeat(np.where(scale > 0, scale, 1.0), total), 0.0)
            mean2 = np.add.reduceat(ys, starts) / np.maximum(cnt, 1) * scale
            mean = np.where(bad, mean2, mean)
        step = _step_sums(t, starts) / total
        bad_t = ~np.isfinite(step)
        if bad_t.any():
            step = np.where(bad_t, 0.5 * t[starts] + 0.5 * t[ends - 1], step)
    vmin = np.minimum.reduceat(np.where(fin, y, np.inf), starts)
    vmax = np.maximum.reduceat(np.where(fin, y, -np.inf), starts)
    vmin = np.where(cnt > 0, vmin, np.nan)
    vmax = np.where(cnt > 0, vmax, np.nan)
    fpos = np.flatnonzero(fin)
    first = np.full(starts.size, np.nan)
    last = np.full(starts.size, np.nan)
    if fpos.size:
        fi = np.searchsorted(fpos, starts, side="left")
        li = np.searchsorted(fpos, ends, side="left") - 1
        has = cnt > 0
        first[has] = y[fpos[fi[has]]]
        last[has] = y[fpos[li[has]]]
    return BinnedResult(
        step=step,
        mean=mean,
        min=vmin,
        max=vmax,
        first=first,
        last=last,
        count=cnt,
        n_nonfinite=(total - cnt).astype(np.int64),
        edges=edges,
    )


def _starts_and_edges(t: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """(first index of every non-empty bin, the ``nb + 1`` edges) of sorted, finite, non-empty ``t``."""
    t0, t1 = float(t[0]), float(t[-1])
    edges = np.linspace(t0, t1, nb + 1)
    with quiet():
        width = (t1 - t0) / nb
        if width > 0 and np.isfinite(width):
            starts = _bin_starts(t, t0, width, nb)
        else:
            starts = np.zeros(1, dtype=np.int64)
    return starts, edges


def bin_starts(steps: np.ndarray, n_bins: int) -> np.ndarray | None:
    """The first index of every bin :func:`bin_series` returns for sorted integer ``steps`` (whose bin
    sums are exact: the case it bins as integers), or None for any other input. Lets a caller reduce
    another series on the same steps bin by bin, e.g. piece by piece."""
    t = np.asarray(steps)
    if t.ndim != 1 or t.dtype.kind not in "iu" or t.size == 0 or int(n_bins) < 1:
        return None
    if t.size > 1 and np.any(t[1:] < t[:-1]):
        return None
    if max(abs(int(t[0])), abs(int(t[-1]))) * t.size >= 2**53:
        return None
    return _starts_and_edges(t, int(n_bins))[0]


#: Points whose bin index is computed at a time (bounds the temporaries at ~8 MB).
_BLOCK = 1 << 20


def _bin_index(t: np.ndarray, t0: float, width: float, nb: int) -> np.ndarray:
    """``floor((t - t0) / width)`` clipped to ``[0, nb-1]``: the bin of each point (float64)."""
    pos = np.subtract(t, t0, dtype=np.float64)
    pos /= width
    np.floor(pos, out=pos)
    np.clip(pos, 0, nb - 1, out=pos)
    return pos


def _bin_starts(t: np.ndarray, t0: float, width: float, nb: int) -> np.ndarray:
    """Index of the first point of every non-empty bin of sorted ``t``: where the bin index
    ``floor((t - t0) / width)`` clipped to ``[0, nb-1]`` changes.

    The bin index never decreases along sorted ``t``, so the first point of bin ``k`` or later is
    found by a binary search for the edge ``t0 + k * width`` (O(nb log n)); rounding can put that
    search a point or two off, so each found start is checked with the formula itself on its
    two sides and moved until it holds. Only if that does not settle (it always does on real
    data) are the points scanned block by block."""
    n = t.size
    if n > 4 * nb:
        k = np.arange(1, nb, dtype=np.float64)
        edge = t0 + k * width
        if t.dtype.kind in "iu":  # integer probes: a float probe would make numpy copy t to float
            edge = np.ceil(edge).astype(t.dtype)
        s = np.searchsorted(t, edge, side="left").astype(np.int64)
        for _ in range(4):
            s = np.clip(s, 1, n - 1)
            low = _bin_index(t[s - 1], t0, width, nb) >= k  # the point before is already in bin >= k
            high = _bin_index(t[s], t0, width, nb) < k  # the point found is still in a bin < k
            if not (low.any() or high.any()):
                # bins with no point share their successor's start: keep each start once
                return np.concatenate(([0], np.unique(s)))
            s = s - low + high
    return _bin_starts_scan(t, t0, width, nb)


def _bin_starts_scan(t: np.ndarray, t0: float, width: float, nb: int) -> np.ndarray:
    """:func:`_bin_starts` by computing every point's bin, block by block (bounded temporaries)."""
    out = [np.zeros(1, dtype=np.int64)]
    prev = None
    for a in range(0, t.size, _BLOCK):
        pos = _bin_index(t[a:a + _BLOCK], t0, width, nb)
        if prev is not None and pos[0] != prev:
            out.append(np.array([a], dtype=np.int64))
        out.append(np.flatnonzero(pos[1:] != pos[:-1]) + (a + 1))
        prev = pos[-1]
    return np.concatenate(out)


def _step_sums(t: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``np.add.reduceat(t, starts)``, the same sums, for compact (int32) steps without the int64 copy of
    the whole array numpy makes for it (80 MB at 10^7 steps): a group of whole bins of about
    :data:`_BLOCK` points at a time."""
    if t.dtype != np.int32 or t.size <= 2 * _BLOCK or starts.size < 2:
        return np.add.reduceat(t, starts)
    out = np.empty(starts.size, dtype=np.int64)
    j = 0
    while j < starts.size:
        a = int(starts[j])
        k = max(int(np.searchsorted(starts, a + _BLOCK, side="right")), j + 1)
        b = int(starts[k]) if k < starts.size else t.size
        out[j:k] = np.add.reduceat(t[a:b].astype(np.int64), starts[j:k] - a)
        j = k
    return out



def _bin_all_finite(t: np.ndarray, y: np.ndarray, starts: np.ndarray, ends: np.ndarray, total: np.ndarray,
                    edges: np.ndarray) -> BinnedResult:
    """:func:`bin_series` when every value is finite: no masked copies of the series (at 10^7
    points each is 80 MB), the same results."""
    with quiet():
        mean = np.add.reduceat(y, starts) / total
        bad = ~np.isfinite(mean)  # a sum of huge values overflowed: scale it
        if bad.any():
            scale = np.maximum.reduceat(np.abs(y), starts)
            ys = y / np.repeat(np.where(scale > 0, scale, 1.0), total)
            mean = np.where(bad, np.add.reduceat(ys, starts) / total * scale, mean)
        step = _step_sums(t, starts) / total
        bad_t = ~np.isfinite(step)
        if bad_t.any():
            step = np.where(bad_t, 0.5 * t[starts] + 0.5 * t[ends - 1], step)
    return BinnedResult(
        step=step,
        mean=mean,
        min=np.minimum.reduceat(y, starts),
        max=np.maximum.reduceat(y, starts),
        first=y[starts].astype(np.float64, copy=True),
        last=y[ends - 1].astype(np.float64, copy=True),
        count=total.astype(np.int64),
        n_nonfinite=np.zeros(starts.size, dtype=np.int64),
        edges=edges,
    )


def downsample_for_fit(
    steps: object, values: object, max_points: int = 2000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduce a series to at most ``max_points`` weighted points for curve fitting.

    Parameters
    ----------
    steps, values : array_like
        The series; points where either is non-finite are dropped.
    max_points : int, default 2000
        Upper bound on the number of points returned.

    Returns
    -------
    steps, values, weights : numpy.ndarray
        Sorted finite points with unit weights when there are at most ``max_points`` of them;
        otherwise equal-width bin means (at the mean step of each bin) with the bin counts as
        weights (a bin mean of ``k`` points has variance ``sigma**2 / k``).
    """
    mp = max(int(max_points), 1)
    st = np.asarray(steps)
    if st.dtype.kind in "iu" and st.ndim == 1 and st.size > mp:
        # integer steps are binned as integers (no float copy of a 10^7-point step axis)
        y = as_float(values)
        if st.shape != y.shape:
            raise ValueError(f"steps and values differ in length ({st.size} != {y.size})")
        ok = np.isfinite(y)
        if not ok.all():
            st, y = st[ok], y[ok]
        if st.size > mp:
            b = bin_series(st, y, mp)
            keep = b.count > 0
            return b.step[keep], b.mean[keep], b.count[keep].astype(np.float64)
    x, y = finite_pairs(steps, values)
    if x.size <= mp:
        return x, y, np.ones(x.size)
    b = bin_series(x, y, mp)
    keep = b.count > 0
    return b.step[keep], b.mean[keep], b.count[keep].astype(np.float64)
