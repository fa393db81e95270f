"""SP001's context ratios (grad norm, loss scale at a spike) read the right window of the series."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from lossdoc.checks.detectors.spike import _ratio_at
from lossdoc.checks.series import Series


def _by_masks(st: np.ndarray, v: np.ndarray, lo: int, hi: int, before: int, use_min: bool) -> float | None:
    ok = np.isfinite(v)
    st, v = st[ok], v[ok]
    inw, pre = (st >= lo) & (st <= hi), (st >= before) & (st < lo)
    if not inw.any() or not pre.any():
        return None
    ref = float(np.median(v[pre]))
    if ref == 0:
        return None
    return float((v[inw].min() if use_min else v[inw].max()) / ref)


@settings(max_examples=200, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(0, 300), hs.sampled_from([0.5, 1.0, 2.0, 7.0, 0.0, float("nan"), float("inf")])),
                min_size=1, max_size=200),
       hs.integers(0, 300), hs.integers(0, 60), hs.integers(0, 60), hs.booleans())
def test_window_by_binary_search_equals_the_masks(points, lo, width, back, use_min):
    # sorted steps with repeats, NaN/inf values, windows partly or wholly outside the series
    points.sort(key=lambda p: p[0])
    st = np.array([p[0] for p in points], dtype=np.int64)
    v = np.array([p[1] for p in points])
    s = Series("train", "grad_norm", "grad_norm", st, v)
    assert _ratio_at(s, lo, lo + width, lo - back, use_min) == _by_masks(st, v, lo, lo + width, lo - back, use_min)


def test_grad_norm_jump_at_a_spike_of_a_long_series():
    st = np.arange(1_000_000, dtype=np.int64)
    gn = np.full(st.size, 0.5)
    gn[700_000:700_003] = 4.0
    s = Series("train", "grad_norm", "grad_norm", st, gn)
    assert _ratio_at(s, 700_000, 700_002, 699_950) == 8.0
