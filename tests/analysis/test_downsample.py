"""Down-sampling keeps every spike: bin statistics against a per-bin brute force."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.analysis.downsample import bin_series, downsample_for_fit


def _brute(t, y, n_bins):
    edges = np.linspace(t.min(), t.max(), n_bins + 1)
    width = (t.max() - t.min()) / n_bins
    idx = np.clip(np.floor((t - t.min()) / width).astype(int), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = idx == b
        if not sel.any():
            continue
        yy = y[sel]
        fin = np.isfinite(yy)
        f = yy[fin]
        rows.append((t[sel].mean(), f.mean() if f.size else np.nan, f.min() if f.size else np.nan,
                     f.max() if f.size else np.nan, f[0] if f.size else np.nan,
                     f[-1] if f.size else np.nan, fin.sum(), (~fin).sum()))
    return edges, np.array(rows, dtype=float)


def test_bin_series_matches_brute_force_with_gaps_and_nonfinite():
    rng = np.random.default_rng(1)
    t = np.sort(rng.choice(100_000, size=5000, replace=False)).astype(float)
    t = t[(t < 30_000) | (t > 45_000)]  # a gap: some bins are empty
    y = rng.normal(size=t.size)
    y[rng.choice(t.size, 40, replace=False)] = np.nan
    y[10] = np.inf
    b = bin_series(t, y, 97)
    edges, ref = _brute(t, y, 97)
    np.testing.assert_allclose(b.edges, edges)
    got = np.column_stack([b.step, b.mean, b.min, b.max, b.first, b.last, b.count, b.n_nonfinite])
    np.testing.assert_allclose(got, ref, rtol=1e-12, equal_nan=True)
    assert len(b) < 97  # empty bins dropped


def test_spikes_survive_any_bin_count():
    rng = np.random.default_rng(2)
    t = np.arange(1_000_000.0)
    y = 2 + 0.01 * rng.normal(size=t.size)
    y[123_457] = 40.0
    y[765_432] = -5.0
    for n_bins in (10, 333, 5000):
        b = bin_series(t, y, n_bins)
        assert b.max.max() == 40.0 and b.min.min() == -5.0
        assert b.count.sum() == t.size


def test_unsorted_input_and_degenerate_cases():
    b = bin_series([3, 1, 2], [30.0, 10.0, 20.0], 3)
    np.testing.assert_array_equal(b.first, [10.0, 20.0, 30.0])
    one = bin_series([5, 5, 5], [1.0, np.nan, 3.0], 4)  # all at one step: one bin
    assert len(one) == 1 and one.count[0] == 2 and one.n_nonfinite[0] == 1 and one.mean[0] == 2.0
    assert len(bin_series([], [], 10)) == 0
    allnan = bin_series([0, 1], [np.nan, np.nan], 1)
    assert np.isnan(allnan.min[0]) and allnan.n_nonfinite[0] == 2
    huge = bin_series([0, 1], [1e308, 1e308], 1)
    assert huge.mean[0] == pytest.approx(1e308)
    with pytest.raises(ValueError):
        bin_series([1, 2], [1.0], 2)
    with pytest.raises(ValueError):
        bin_series([1, 2], [1.0, 2.0], 0)


def test_downsample_for_fit_identity_when_small_and_weighted_when_large():
    t = np.arange(100.0)
    y = t**0.5
    y[3] = np.nan
    x, v, w = downsample_for_fit(t, y, 2000)
    assert x.size == 99 and np.all(w == 1) and not np.isnan(v).any()
    rng = np.random.default_rng(3)
    t = np.arange(50_000.0)
    y = rng.normal(size=t.size)
    x, v, w = downsample_for_fit(t, y, 1000)
    assert x.size <= 1000 and w.sum() == t.size
    # count-weighted bin means reproduce the overall mean exactly
    assert np.average(v, weights=w) == pytest.approx(y.mean(), abs=1e-12)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402

_floats = hs.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(-10**6, 10**6), _floats), min_size=1, max_size=300),
       hs.integers(1, 50))
def test_bin_series_properties(points, n_bins):
    t = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    b = bin_series(t, y, n_bins)
    fin = np.isfinite(y)
    assert b.count.sum() == fin.sum() and b.n_nonfinite.sum() == (~fin).sum()
    assert len(b) <= n_bins and np.all(np.diff(b.step) > 0)
    if fin.any():
        assert np.nanmax(b.max) == y[fin].max() and np.nanmin(b.min) == y[fin].min()
    has = b.count > 0
    assert np.all(b.min[has] <= b.max[has])


@settings(max_examples=150, deadline=None)
@given(hs.lists(hs.integers(-10**9, 10**9), min_size=2, max_size=2000), hs.integers(1, 400),
       hs.sampled_from(["int64", "float64"]), hs.integers(1, 4))
def test_bin_boundaries_by_binary_search_equal_a_scan_of_every_point(raw, n_bins, dtype, repeat):
    # the O(nb log n) search must put every point in the bin the floor formula gives it
    # (duplicate steps, uneven gaps, integer and float steps, many points per bin)
    from lossdoc.analysis.downsample import _bin_starts, _bin_starts_scan

    t = np.repeat(np.sort(np.array(raw, dtype=dtype)), repeat)
    t0, t1 = float(t[0]), float(t[-1])
    if t1 == t0:
        return
    width = (t1 - t0) / n_bins
    assert np.array_equal(_bin_starts(t, t0, width, n_bins), _bin_starts_scan(t, t0, width, n_bins))


def test_evenly_spaced_ten_million_steps_bin_like_a_scan():
    from lossdoc.analysis.downsample import _bin_starts, _bin_starts_scan

    t = np.arange(3, 3 + 7 * 10_000_000, 7, dtype=np.int64)
    for n_bins in (20, 400, 600, 1999):
        width = (float(t[-1]) - float(t[0])) / n_bins
        assert np.array_equal(_bin_starts(t, float(t[0]), width, n_bins),
                              _bin_starts_scan(t, float(t[0]), width, n_bins))
