"""Statistical tests: reference values from statsmodels/scipy or brute force, and error rates
on seeded autocorrelated noise (the property a loss-curve test must have)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal
from scipy import stats as st

from lossdoc.analysis.stats import (
    adjust_pvalues,
    block_bootstrap,
    change_point,
    change_points,
    effective_sample_size,
    equivalence_slope,
    lag1_autocorr,
    long_run_variance,
    mann_kendall,
    robust_scale,
    trend_test,
)


def ar1(rng, n, phi, scale=1.0):
    """Stationary AR(1) noise (first value drawn from the stationary distribution)."""
    e = rng.normal(scale=scale, size=n)
    e[0] /= math.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e)


# ----------------------------------------------------------------------------- trend_test


@pytest.mark.parametrize("maxlags", [0, 1, 5, 20])
def test_hac_slope_and_se_match_statsmodels(maxlags):
    import statsmodels.api as sm

    rng = np.random.default_rng(maxlags)
    x = np.cumsum(rng.integers(1, 10, size=250)).astype(float)  # uneven steps
    y = 3.0 - 0.002 * x + ar1(rng, 250, 0.6, 0.1)
    res = trend_test(x, y, maxlags=maxlags)
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags}, use_t=True)
    assert res.slope == pytest.approx(ref.params[1], rel=1e-8)
    assert res.intercept == pytest.approx(ref.params[0], rel=1e-8)
    assert res.se == pytest.approx(ref.bse[1], rel=1e-8)
    assert res.tstat == pytest.approx(ref.tvalues[1], rel=1e-8)
    assert res.pvalue == pytest.approx(ref.pvalues[1], rel=1e-6)
    assert res.method == "ols-hac" and res.n == 250 and res.maxlags == maxlags
    # one-sided p-values are the halves of the two-sided one
    assert min(res.pvalue_increasing, res.pvalue_decreasing) == pytest.approx(res.pvalue / 2)


def test_hac_false_positive_rate_on_flat_ar1_noise():
    """300 flat AR(1) series, phi = 0.8, n = 300: the default HAC test keeps its 5% size
    (<= 7%) where plain OLS rejects about half the time."""
    rng = np.random.default_rng(20261126)
    x = np.arange(300.0)
    hac_rej = ols_rej = 0
    for _ in range(300):
        y = ar1(rng, 300, 0.8)
        hac_rej += trend_test(x, y).pvalue < 0.05
        ols_rej += st.linregress(x, y).pvalue < 0.05
    assert hac_rej / 300 <= 0.07
    assert ols_rej / 300 > 0.3


def test_hac_detects_a_real_trend_in_ar1_noise():
    rng = np.random.default_rng(8)
    x = np.arange(1000.0)
    hits = sum(trend_test(x, 0.004 * x + ar1(rng, 1000, 0.8)).pvalue_increasing < 0.05 for _ in range(50))
    assert hits >= 45
    r = trend_test(x, 0.004 * x + ar1(rng, 1000, 0.8))
    assert r.ci_low < 0.004 < r.ci_high and r.slope > 0


def test_trend_test_degenerate_inputs():
    assert math.isnan(trend_test([1, 2], [1.0, 2.0]).pvalue)
    assert math.isnan(trend_test([1, 1, 1, 1], [1.0, 2.0, 3.0, 4.0]).slope)  # one distinct step
    flat = trend_test(np.arange(10), np.full(10, 3.0))
    assert flat.slope == 0 and flat.pvalue == 1.0
    line = trend_test(np.arange(10), 2.0 * np.arange(10))
    assert line.slope == pytest.approx(2.0) and line.pvalue == 0.0 and line.pvalue_increasing == 0.0
    rng = np.random.default_rng(1)
    y = 1e-3 * np.arange(100) + rng.normal(size=100)
    y[[5, 6]] = [np.nan, np.inf]
    base = trend_test(np.arange(100), y)
    assert base.n == 98
    for k in (1e30, 1e-30, -1.0):
        r = trend_test(np.arange(100), k * y)
        assert r.slope == pytest.approx(k * base.slope, rel=1e-9)
        assert r.pvalue == pytest.approx(base.pvalue, rel=1e-9)


def test_long_run_variance_of_ar1():
    # long-run variance of AR(1) with unit innovations: 1 / (1 - phi)^2 = 4 for phi = 0.5
    rng = np.random.default_rng(4)
    lrv = np.median([long_run_variance(ar1(rng, 5000, 0.5)) for _ in range(20)])
    assert lrv == pytest.approx(4.0, rel=0.1)


# ----------------------------------------------------------------------------- equivalence


def test_equivalence_flat_versus_sloped():
    rng = np.random.default_rng(12)
    x = np.arange(2000.0)
    flat = equivalence_slope(x, 1.5 + ar1(rng, 2000, 0.7, 0.01), margin=1e-5)
    assert flat.equivalent and flat.pvalue < 0.05 and -1e-5 < flat.ci_low < flat.ci_high < 1e-5
    sloped = equivalence_slope(x, 1.5 - 1e-4 * x + ar1(rng, 2000, 0.7, 0.01), margin=1e-5)
    assert not sloped.equivalent and sloped.pvalue > 0.5
    tiny = equivalence_slope([1, 2], [1.0, 1.0], margin=1.0)
    assert not tiny.equivalent and math.isnan(tiny.pvalue)


@pytest.mark.parametrize("drift", [0.0, -5e-6, -2e-5, 5e-6], ids=["flat", "falls-less", "falls-more", "rises"])
def test_noninferiority_half_is_scipys_one_sided_t_and_agrees_with_the_interval(drift):
    """PL002's one-sided "did not improve by the margin": pvalue_low is the t upper tail of
    (slope + margin) / se at the trend test's df (scipy.stats.t.sf), and it is below alpha exactly
    when the 1 - 2 alpha interval's lower end lies above -margin."""
    rng = np.random.default_rng(21)
    x = np.arange(400.0)
    eq = equivalence_slope(x, 1.5 + drift * x + ar1(rng, 400, 0.5, 0.01), margin=1e-5, alpha=0.05)
    tr = trend_test(x, 1.5 + drift * x + ar1(np.random.default_rng(21), 400, 0.5, 0.01))
    assert eq.pvalue_low == pytest.approx(st.t.sf((tr.slope + 1e-5) / tr.se, tr.df), rel=1e-10)
    assert eq.pvalue == pytest.approx(max(eq.pvalue_low, st.t.sf((1e-5 - tr.slope) / tr.se, tr.df)), rel=1e-10)
    assert (eq.pvalue_low < 0.05) == (eq.ci_low > -1e-5)


# ----------------------------------------------------------------------------- Mann-Kendall


def mk_reference(y, correction):
    """Direct O(n^2) Mann-Kendall following Hamed & Rao (1998) eq. 18 as implemented in
    pymannkendall 1.4.3 ``hamed_rao_modification_test`` (Sen slope, ranks, ACF, 1.96/sqrt(n))."""
    n = len(y)
    s = sum(np.sign(y[j] - y[i]) for i in range(n - 1) for j in range(i + 1, n))
    _, c = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(c * (c - 1) * (2 * c + 5))) / 18
    if correction:
        slopes = [(y[j] - y[i]) / (j - i) for i in range(n - 1) for j in range(i + 1, n)]
        det = y - np.median(slopes) * np.arange(n)
        r = st.rankdata(det)
        d = r - r.mean()
        acf = np.array([np.sum(d[k:] * d[: n - k]) for k in range(n)]) / np.sum(d * d)
        bound = st.norm.ppf(0.975) / math.sqrt(n)
        tot = sum((n - k) * (n - k - 1) * (n - k - 2) * acf[k] for k in range(1, n) if abs(acf[k]) > bound)
        var *= 1 + 2 / (n * (n - 1) * (n - 2)) * tot
    z = (s - np.sign(s)) / math.sqrt(var)
    return s, z, 2 * st.norm.sf(abs(z))


@pytest.mark.parametrize("correction", [None, "hamed-rao-all"])
def test_mann_kendall_matches_direct_computation(correction):
    rng = np.random.default_rng(31)
    y = np.round(0.01 * np.arange(150) + ar1(rng, 150, 0.6), 1)  # ties on purpose
    res = mann_kendall(y, correction=correction)
    s, z, p = mk_reference(y, correction)
    assert res.s == s
    assert res.z == pytest.approx(z, rel=1e-9)
    assert res.pvalue == pytest.approx(p, rel=1e-7)
    assert res.tau == pytest.approx(st.kendalltau(np.arange(150), y).statistic)


def test_mann_kendall_reports_sens_slope_as_scipy_computes_it():
    """The Sen slope the Hamed-Rao correction detrends with is reported (PL001 sizes a window's change
    with it): scipy.stats.theilslopes' slope of the series against its index."""
    from scipy.stats import theilslopes

    rng = np.random.default_rng(7)
    y = 3.0 - 0.01 * np.arange(150) + rng.normal(0, 0.05, 150)
    for corr in ("hamed-rao", None):
        assert mann_kendall(y, correction=corr).slope == pytest.approx(theilslopes(y).slope, rel=1e-12)
    assert mann_kendall(np.full(10, 2.0)).slope == 0.0
    assert math.isnan(mann_kendall([1.0, 2.0]).slope)


def test_mann_kendall_default_correction_uses_leading_significant_lags():
    rng = np.random.default_rng(32)
    y = ar1(rng, 120, 0.8)
    n = y.size
    sen = np.median([(y[j] - y[i]) / (j - i) for i in range(n - 1) for j in range(i + 1, n)])
    det = y - sen * np.arange(n)
    d = st.rankdata(det) - (n + 1) / 2
    acf = np.array([np.sum(d[k:] * d[: n - k]) for k in range(n)]) / np.sum(d * d)
    bound = st.norm.ppf(0.975) / math.sqrt(n)
    k = 1
    tot = 0.0
    while k < n and abs(acf[k]) > bound:
        tot += (n - k) * (n - k - 1) * (n - k - 2) * acf[k]
        k += 1
    factor = 1 + 2 / (n * (n - 1) * (n - 2)) * tot
    assert mann_kendall(y).n_eff_ratio == pytest.approx(1 / factor, rel=1e-9)


def test_mann_kendall_hamed_rao_controls_false_alarms():
    rng = np.random.default_rng(77)
    hr = every_lag = classic = 0
    for _ in range(150):
        y = ar1(rng, 200, 0.7)
        hr += mann_kendall(y).pvalue < 0.05
        every_lag += mann_kendall(y, correction="hamed-rao-all").pvalue < 0.05
        classic += mann_kendall(y, correction=None).pvalue < 0.05
    assert hr / 150 <= 0.12 < every_lag / 150 < classic / 150


def test_mann_kendall_edge_cases_and_long_input():
    assert math.isnan(mann_kendall([1.0, 2.0]).pvalue)
    c = mann_kendall(np.full(20, 2.0))
    assert c.s == 0 and c.pvalue == 1.0
    rng = np.random.default_rng(5)
    long = mann_kendall(-1e-5 * np.arange(100_000) + rng.normal(size=100_000))
    assert long.n == 20_000 and long.s < 0 and long.pvalue < 1e-6


# ----------------------------------------------------------------------------- change points


def test_change_point_finds_a_planted_shift():
    rng = np.random.default_rng(41)
    y = np.concatenate([ar1(rng, 300, 0.5, 0.1), 0.5 + ar1(rng, 200, 0.5, 0.1)])
    y[[10, 400]] = np.nan
    r = change_point(y)
    assert abs(r.index - 300) <= 3
    assert r.pvalue < 1e-6
    assert r.before_mean == pytest.approx(0.0, abs=0.05) and r.after_mean == pytest.approx(0.5, abs=0.05)


def test_change_point_false_alarms_on_autocorrelated_noise():
    rng = np.random.default_rng(42)
    alarms = sum(change_point(ar1(rng, 400, 0.7)).pvalue < 0.05 for _ in range(200))
    assert alarms / 200 <= 0.10


def test_change_points_binary_segmentation():
    rng = np.random.default_rng(43)
    y = np.concatenate([np.zeros(200), np.ones(150), np.full(250, -1.0)]) + rng.normal(scale=0.2, size=600)
    cps = change_points(y, max_points=5)
    idx = [c.index for c in cps]
    assert len(idx) == 2 and abs(idx[0] - 200) <= 3 and abs(idx[1] - 350) <= 3
    assert change_point([1.0, 2.0]).index == -1
    assert change_point(np.full(50, 1.0)).pvalue == 1.0


# ----------------------------------------------------------------------------- multiplicity


@pytest.mark.parametrize(("method", "sm_method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjust_pvalues_matches_statsmodels(method, sm_method):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(9)
    p = np.concatenate([rng.uniform(size=30), rng.uniform(0, 0.01, size=10)])
    np.testing.assert_allclose(adjust_pvalues(p, method), multipletests(p, method=sm_method)[1], rtol=1e-12)
    withnan = adjust_pvalues([0.01, np.nan, 0.02], method)
    assert np.isnan(withnan[1])
    np.testing.assert_allclose(withnan[[0, 2]], multipletests([0.01, 0.02], method=sm_method)[1])
    with pytest.raises(ValueError):
        adjust_pvalues([0.1], "bonferroni-typo")


# ----------------------------------------------------------------------------- bootstrap, ESS


@pytest.mark.parametrize("kind", ["circular", "stationary"])
def test_block_bootstrap_se_of_mean_under_ar1(kind):
    rng = np.random.default_rng(51)
    y = ar1(rng, 4000, 0.5)
    boots = block_bootstrap(y, np.mean, n_boot=600, rng=np.random.default_rng(1), kind=kind)
    # sd of the mean of AR(1): sqrt(lrv / n) = 1 / ((1 - phi) sqrt(n))
    assert boots.std() == pytest.approx(1 / (0.5 * math.sqrt(4000)), rel=0.25)
    # an iid bootstrap (block length 1) understates it by about sqrt(3)
    iid = block_bootstrap(y, np.mean, n_boot=600, block_len=1, rng=2)
    assert iid.std() < 0.75 * boots.std()


def test_block_bootstrap_reproducible_and_vectorized_equivalent():
    y = np.random.default_rng(3).normal(size=500)
    a = block_bootstrap(y, np.mean, n_boot=50, rng=7)
    b = block_bootstrap(y, np.mean, n_boot=50, rng=7, vectorized=True)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert block_bootstrap([], np.mean).size == 0


def test_effective_sample_size_and_helpers():
    import statsmodels.tsa.stattools as ts

    rng = np.random.default_rng(61)
    y = ar1(rng, 20_000, 0.5)
    assert effective_sample_size(y) == pytest.approx(20_000 / 3, rel=0.1)
    assert effective_sample_size(y, "bartlett") == pytest.approx(20_000 / 3, rel=0.35)
    assert lag1_autocorr(y) == pytest.approx(ts.acf(y, nlags=1)[1], rel=1e-10)
    assert effective_sample_size(np.full(10, 1.0)) == 10
    assert math.isnan(lag1_autocorr([1.0, 2.0]))
    assert robust_scale(rng.normal(scale=2.0, size=20_000)) == pytest.approx(2.0, rel=0.05)
    assert robust_scale([np.nan, 5.0, 5.0]) == 0.0


def test_slope_change_finds_plateau_onset_and_divergence():
    rng = np.random.default_rng(44)
    t = np.arange(600.0)
    plateau = np.where(t < 400, 3 - 0.002 * t, 2.2) + ar1(rng, 600, 0.6, 0.02)
    r = change_point(plateau, kind="slope")
    assert r.kind == "slope" and abs(r.index - 400) <= 15 and r.pvalue < 0.01
    assert r.before_slope == pytest.approx(-0.002, rel=0.1) and abs(r.after_slope) < 2e-4
    # long series: binned to 2000 points, index mapped back to the original positions
    steps = np.arange(100_000.0)
    y = np.where(steps < 70_000, -1e-5 * steps, -0.7 + 2e-5 * (steps - 70_000))
    y = y + rng.normal(scale=0.05, size=steps.size)
    r2 = change_point(y, kind="slope", steps=steps)
    assert abs(r2.index - 70_000) <= 500 and r2.pvalue < 0.01 and r2.after_slope > 0
    assert change_point(np.arange(8.0), kind="slope").index == -1  # too short
    with pytest.raises(ValueError):
        change_point(y, kind="variance")


def test_slope_change_false_alarms_on_straight_line_with_ar1_noise():
    rng = np.random.default_rng(45)
    t = np.arange(300.0)
    alarms = sum(change_point(1 - 0.001 * t + ar1(rng, 300, 0.6, 0.05), kind="slope").pvalue < 0.05
                 for _ in range(60))
    assert alarms / 60 <= 0.12


def test_mann_kendall_exact_small_samples():
    """A perfectly monotone 5-point series reaches p = 1/5! (the normal approximation gives 0.014);
    with ties the permutation p-value equals full enumeration over all 6! orderings."""
    import itertools

    from lossdoc.analysis.stats import mann_kendall_exact

    s, up, down = mann_kendall_exact([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s == 10 and up == pytest.approx(1 / 120) and down == pytest.approx(1.0)
    y = np.array([0.9, 0.7, 0.7, 0.5, 0.5, 0.6])
    s, up, down = mann_kendall_exact(y)

    def stat(a):
        return sum(np.sign(a[j] - a[i]) for i in range(len(a)) for j in range(i + 1, len(a)))

    null = np.array([stat(np.array(p)) for p in itertools.permutations(y)])
    assert s == stat(y)
    assert down == pytest.approx(np.mean(null <= s))
    assert up == pytest.approx(np.mean(null >= s))
