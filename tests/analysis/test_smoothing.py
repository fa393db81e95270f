"""Smoothers: TensorBoard EMA against its reference loop, LOWESS/savgol against direct library
calls, rolling median/MAD against brute-force windows, robust z-scores on planted spikes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from lossdoc.analysis.smoothing import (
    ema_debiased,
    lowess,
    robust_zscore,
    rolling_mad,
    rolling_median,
    savgol,
    time_weighted_ema,
)


def tb_classic_smoothing(values, weight):
    """Line-by-line port of TensorBoard's ``classicSmoothing``
    (tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts)."""
    w = min(max(weight, 0.0), 1.0)
    ys = list(values)
    is_constant = all(v == ys[0] for v in ys)
    last = 0.0 if ys else math.nan
    num_accum = 0
    out = []
    for y in ys:
        if not is_constant and math.isfinite(y):
            last = last * w + (1 - w) * y
            num_accum += 1
            debias = 1.0 if w == 1 else 1 - w**num_accum
            out.append(last / debias)
        else:
            out.append(y)
    return np.array(out, dtype=float)


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99, 0.999, 1.0, -0.5, 1.5])
def test_ema_matches_tensorboard_reference_loop(weight):
    rng = np.random.default_rng(11)
    y = np.cumsum(rng.normal(size=3000)) + 50
    y[[5, 100, 101, 2000]] = [np.nan, np.inf, -np.inf, np.nan]
    got = ema_debiased(y, weight)
    ref = tb_classic_smoothing(y, weight)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    # non-finite points pass through at their positions
    assert np.isnan(got[5]) and got[100] == np.inf and got[101] == -np.inf


def test_ema_known_values_and_edge_cases():
    # closed form for w=0.5: [1, (0.25+0.5)/0.75, (0.375+0.5*... )] computed by hand
    np.testing.assert_allclose(ema_debiased([1.0, 2.0, 3.0], 0.5), [1.0, 5 / 3, 17 / 7])
    assert ema_debiased([], 0.6).size == 0
    np.testing.assert_array_equal(ema_debiased([4.0, 4.0, 4.0], 0.9), [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(ema_debiased([np.nan, np.nan], 0.9), [np.nan, np.nan])
    big = ema_debiased([1e30, 3e30, 2e30], 0.6)
    np.testing.assert_allclose(big, tb_classic_smoothing([1e30, 3e30, 2e30], 0.6), rtol=1e-12)


def test_time_weighted_ema_equals_direct_weighted_mean():
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.integers(1, 20, size=400)).astype(float)
    y = rng.normal(size=400)
    y[7] = np.nan
    hl = 25.0
    got = time_weighted_ema(t, y, hl)
    fin = np.isfinite(y)
    tf, yf = t[fin], y[fin]
    ref = np.array([np.sum(0.5 ** ((tk - tf[: k + 1]) / hl) * yf[: k + 1])
                    / np.sum(0.5 ** ((tk - tf[: k + 1]) / hl)) for k, tk in enumerate(tf)])
    np.testing.assert_allclose(got[fin], ref, rtol=1e-10)
    assert np.isnan(got[7])
    # a half-life tiny compared with the span (many overflow-safe blocks) still works
    tiny = time_weighted_ema(t, y, 0.01)
    np.testing.assert_allclose(tiny[fin], yf, rtol=1e-9)
    with pytest.raises(ValueError):
        time_weighted_ema(t, y, 0.0)


def test_lowess_matches_statsmodels_and_passes_nan_through():
    from statsmodels.nonparametric.smoothers_lowess import lowess as sm_lowess

    rng = np.random.default_rng(5)
    t = np.arange(500.0)
    y = 3 * np.exp(-t / 100) + rng.normal(scale=0.1, size=500)
    ref = sm_lowess(y, t, frac=0.2, it=1, delta=5.0, return_sorted=False)
    np.testing.assert_allclose(lowess(t, y, frac=0.2, it=1, delta=5.0), ref, rtol=1e-10)
    y2 = y.copy()
    y2[10] = np.nan
    out = lowess(t, y2, frac=0.2)
    assert np.isnan(out[10]) and np.isfinite(out[np.arange(500) != 10]).all()


def test_lowess_large_input_is_downsampled_and_close():
    rng = np.random.default_rng(6)
    t = np.arange(120_000.0)
    truth = 2 + np.exp(-t / 20_000)
    y = truth + rng.normal(scale=0.05, size=t.size)
    out = lowess(t, y, frac=0.1)
    assert out.shape == y.shape
    assert np.max(np.abs(out - truth)) < 0.02


def test_savgol_matches_scipy_and_is_nan_safe():
    rng = np.random.default_rng(7)
    y = np.sin(np.linspace(0, 6, 300)) + rng.normal(scale=0.1, size=300)
    np.testing.assert_allclose(savgol(y, 21, 2), signal.savgol_filter(y, 21, 2, mode="interp"))
    y2 = y.copy()
    y2[[50, 51]] = np.nan
    out = savgol(y2, 21, 2)
    assert np.isnan(out[50]) and np.isnan(out[51]) and np.isfinite(np.delete(out, [50, 51])).all()
    # even window rounded down to odd; too-short series returned unchanged
    np.testing.assert_allclose(savgol(y, 22, 2), signal.savgol_filter(y, 21, 2, mode="interp"))
    np.testing.assert_array_equal(savgol([1.0, 2.0], 11), [1.0, 2.0])


def _brute_median(x, w, trailing):
    n = len(x)
    if trailing:
        return np.array([np.median(x[max(0, i - w + 1): i + 1]) for i in range(n)])
    lo = (w - 1) // 2
    hi = w - 1 - lo
    return np.array([np.median(x[max(0, i - lo): i + hi + 1]) for i in range(n)])


@pytest.mark.parametrize("w", [1, 2, 3, 4, 7, 10, 51])
@pytest.mark.parametrize("trailing", [True, False])
def test_rolling_median_and_mad_match_brute_force(w, trailing):
    rng = np.random.default_rng(w)
    x = rng.standard_t(3, size=80)
    med = rolling_median(x, w, trailing=trailing)
    np.testing.assert_allclose(med, _brute_median(x, w, trailing), rtol=1e-12)
    # two-pass MAD: median over the window of |x_j - m_j|
    mad = rolling_mad(x, w, trailing=trailing)
    np.testing.assert_allclose(mad, _brute_median(np.abs(x - med), w, trailing), rtol=1e-12)


def test_rolling_median_skips_nonfinite_points():
    x = np.array([1.0, 2.0, np.nan, 3.0, np.inf, 4.0])
    got = rolling_median(x, 2)
    np.testing.assert_allclose(got, [1.0, 1.5, np.nan, 2.5, np.nan, 3.5])


def test_robust_zscore_flags_planted_spikes_only():
    rng = np.random.default_rng(21)
    y = 2.0 + rng.normal(scale=0.05, size=2000)
    spikes = [300, 1200, 1800]
    y[spikes] += 1.0  # 20 sigma
    y[900] = np.nan
    z = robust_zscore(y, 100)
    flagged = set(np.flatnonzero(np.abs(z) > 8).tolist())
    assert flagged == set(spikes)
    assert np.isnan(z[0]) and np.isnan(z[900])
    # scale estimate is unbiased for normal noise: z of clean points has sd close to 1
    clean = np.delete(z, spikes + [0, 900])
    assert 0.9 < np.nanstd(clean) < 1.15
    zc = robust_zscore(y, 101, trailing=False)
    assert set(np.flatnonzero(np.abs(zc) > 8).tolist()) == set(spikes)


def test_robust_zscore_quantised_and_constant_series_do_not_divide_by_zero():
    y = np.array([1.0] * 50 + [1.01] + [1.0] * 20)
    z = robust_zscore(y, 20)
    assert np.isinf(z[50]) and z[50] > 0  # any move off a perfectly flat window is infinite
    assert np.all(z[10:50] == 0)
    assert np.isnan(z[:10]).all()  # min_periods: fewer than 10 preceding points score NaN
    y2 = np.array([1.0, 1.0, 1.01] * 40)  # MAD 0 but mean abs deviation > 0: finite fallback
    z2 = robust_zscore(y2, 30)
    assert np.all(np.isfinite(z2[31:]))
    assert np.all(robust_zscore(np.ones(30), 5)[5:] == 0)
    assert np.all(robust_zscore(np.ones(30), 5, min_periods=1)[1:] == 0)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.floats(min_value=-1e6, max_value=1e6)
                | hs.sampled_from([np.nan, np.inf, -np.inf]), max_size=200),
       hs.floats(-0.5, 1.5))
def test_ema_equals_reference_loop_on_arbitrary_series(values, weight):
    got = ema_debiased(values, weight)
    np.testing.assert_allclose(got, tb_classic_smoothing(values, weight), rtol=1e-9, atol=1e-9)
