"""Curve fits: parameters recovered on noiseless and noisy curves, model choice by AICc,
prediction-interval coverage on seeded AR(1)-noise curves, and no exception or warning on
bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from lossdoc.analysis.fitting import MODELS, backtest, extrapolate, fit_curve


def ar1(rng, n, phi, scale):
    e = rng.normal(scale=scale, size=n)
    e[0] /= math.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e)


T = np.arange(1, 2001.0)
POW = 2.0 + 5.0 * (T + 10.0) ** -0.5
EXP = 1.0 + 3.0 * np.exp(-T / 300.0)
MMF = 0.5 + (4.0 - 0.5) / (1.0 + (0.01 * T) ** 1.5)


@pytest.mark.parametrize(
    ("model", "y", "truth"),
    [
        ("power-law", POW, {"E": 2.0, "A": 5.0, "alpha": 0.5, "t0": 10.0}),
        ("exponential", EXP, {"E": 1.0, "A": 3.0, "tau": 300.0}),
        ("mmf", MMF, {"E": 0.5, "B": 4.0, "kappa": 0.01, "delta": 1.5}),
    ],
)
def test_noiseless_parameters_recovered_and_model_chosen(model, y, truth):
    fit = fit_curve(T, y, models=[model])
    assert fit is not None and fit.converged and fit.model == model
    for k, v in truth.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-6), k
    assert fit.cov.shape == (len(truth), len(truth))
    k = len(truth) + 1  # parameters + noise variance
    assert fit.aicc - fit.aic == pytest.approx(2 * k * (k + 1) / (fit.n - k - 1))
    assert fit.bic - fit.aic == pytest.approx(k * math.log(fit.n) - 2 * k)
    best = fit_curve(T, y)  # all families: AICc picks the generating one
    assert best.model == model
    assert best.asymptote == pytest.approx(truth["E"], rel=1e-6)


def test_noisy_power_law_parameters_within_tolerance():
    rng = np.random.default_rng(101)
    y = POW + ar1(rng, T.size, 0.5, 0.01)
    fit = fit_curve(T, y, models=["power-law"])
    assert fit.params["E"] == pytest.approx(2.0, abs=0.05)
    assert fit.params["alpha"] == pytest.approx(0.5, abs=0.15)
    assert fit.residual_sd == pytest.approx(0.01 / math.sqrt(1 - 0.25), rel=0.15)
    assert fit.rho > 0.3 and fit.infl > 1.5  # autocorrelation detected and used
    assert fit.n == 2000


def test_spikes_do_not_drag_the_fit():
    rng = np.random.default_rng(102)
    y = POW + rng.normal(scale=0.01, size=T.size)
    y[rng.choice(T.size, 20, replace=False)] += 3.0
    fit = fit_curve(T, y, models=["power-law"])
    assert fit.asymptote == pytest.approx(2.0, abs=0.05)


def test_prediction_interval_coverage_on_ar1_noise_curves():
    """200 seeded power-law curves with AR(1) noise (phi 0.7): fit 300 points, predict the
    observation 300 steps beyond the data; the 90% interval should cover ~90% of them."""
    rng = np.random.default_rng(2026)
    t = np.arange(1, 601.0)
    hits = curve_hits = 0
    for _ in range(200):
        e, a, al, t0 = rng.uniform(1, 3), rng.uniform(2, 10), rng.uniform(0.3, 1.0), rng.uniform(5, 50)
        truth = e + a * (t + t0) ** -al
        y = truth + ar1(rng, t.size, 0.7, 0.02)
        fit = fit_curve(t[:300], y[:300])
        lo, hi = fit.interval(t[-1], level=0.9)
        hits += lo <= y[-1] <= hi
        clo, chi = fit.interval(t[-1], level=0.9, noise=False)
        curve_hits += clo <= truth[-1] <= chi
    assert 0.82 <= hits / 200 <= 0.97
    # the interval of the curve itself under-covers (about 80% here: the delta method and
    # the model spread do not capture all of the extrapolation error); documented, pinned
    assert 0.7 <= curve_hits / 200 < hits / 200


def test_predict_interval_and_steps_to_are_consistent():
    fit = fit_curve(T, POW, models=["power-law"])
    grid = np.array([10.0, 500.0, 5000.0])
    np.testing.assert_allclose(fit.predict(grid), 2.0 + 5.0 * (grid + 10.0) ** -0.5, rtol=1e-8)
    assert isinstance(fit.predict(100.0), float)
    lo, hi = fit.interval(grid)
    assert np.all(lo <= fit.predict(grid)) and np.all(fit.predict(grid) <= hi)
    target = 2.0 + 5.0 * (9990.0 + 10.0) ** -0.5
    assert fit.steps_to(target) == pytest.approx(9990.0, rel=1e-6)
    assert fit.steps_to(1.9) is None  # below the asymptote: never reached
    assert fit.steps_to(10.0) == 0.0  # already passed before the first step
    exp = fit_curve(T, EXP, models=["exponential"])
    assert exp.steps_to(1.0 + 3.0 * math.exp(-4.0)) == pytest.approx(1200.0, rel=1e-6)
    mmf = fit_curve(T, MMF, models=["mmf"])
    assert mmf.predict(float(mmf.steps_to(1.0))) == pytest.approx(1.0, rel=1e-8)


def test_extrapolate_and_backtest():
    rng = np.random.default_rng(103)
    y = POW + ar1(rng, T.size, 0.6, 0.01)
    ex = extrapolate(T, y, horizon=20_000)
    truth = 2.0 + 5.0 * (20_010.0) ** -0.5
    assert ex.step == 20_000 and ex.low < truth < ex.high
    assert ex.low < ex.loss < ex.high and ex.model in MODELS
    assert ex.asymptote == pytest.approx(2.0, abs=0.1)
    assert ex.backtest_error is not None and ex.backtest_error < 0.02
    # extrapolate backtests the family it chose on the whole curve
    bt = backtest(T, y, models=(ex.model,))
    assert bt.rel_error == pytest.approx(ex.backtest_error)
    assert bt.model == ex.model
    assert backtest(T, y).rel_error < 0.02  # free choice of family on the first half
    assert bt.n_fit == 1000 and bt.coverage > 0.6 and isinstance(bt.final_in_interval, bool)
    clean = backtest(T, POW)
    assert clean.rel_error < 1e-6


@pytest.mark.parametrize("k", [1e30, 1e-30, -1.0])
def test_scale_and_sign_invariance(k):
    base = extrapolate(T, POW, 5000)
    ex = extrapolate(T, k * POW, 5000)
    lo, hi = sorted((k * base.low, k * base.high))
    assert ex.loss == pytest.approx(k * base.loss, rel=1e-6)
    assert ex.low == pytest.approx(lo, rel=1e-5) and ex.high == pytest.approx(hi, rel=1e-5)


def test_bad_input_returns_none_without_warnings():
    assert fit_curve(T[:5], POW[:5]) is None  # too few points
    assert fit_curve(T, np.full(T.size, 2.0)) is None  # constant
    assert fit_curve(np.full(20, 3.0), np.arange(20.0)) is None  # one step
    assert fit_curve(T, np.full(T.size, np.nan)) is None
    assert extrapolate(T, POW, float("nan")) is None
    assert backtest(T[:10], POW[:10]) is None
    rng = np.random.default_rng(104)
    noise = rng.normal(size=300)
    fit = fit_curve(np.arange(300), noise)  # no structure at all: a fit, but honest width
    if fit is not None:
        lo, hi = fit.interval(600.0)
        assert hi - lo > 2.0
    y = POW.copy()
    y[[3, 50, 51]] = [np.nan, np.inf, -np.inf]
    assert fit_curve(T, y).n == T.size - 3
    unsorted = np.random.default_rng(0).permutation(T.size)
    assert fit_curve(T[unsorted], POW[unsorted]).params["alpha"] == pytest.approx(0.5, rel=1e-6)


def test_straight_line_has_no_asymptote():
    rng = np.random.default_rng(105)
    t = np.arange(1, 5001.0)
    ex = extrapolate(t, 5 - 0.0005 * t + rng.normal(scale=0.02, size=t.size), 6000)
    assert ex is not None and ex.asymptote is None
    assert ex.low < 5 - 0.0005 * 6000 < ex.high
    assert not fit_curve(t, 5 - 0.0005 * t + rng.normal(scale=0.02, size=t.size)).converged


# --- the solver: the optimum scipy.optimize.least_squares(loss="soft_l1") finds (the solver used before)


def _norm(t, y):
    s = t / t[-1]
    off = float(np.median(y))
    return s, (y - off) / float(np.max(np.abs(y - off)))


@pytest.mark.parametrize(("model", "y", "seed"), [("power-law", POW, 301), ("exponential", EXP, 302), ("mmf", MMF, 303)])
def test_solver_reaches_the_least_squares_optimum(model, y, seed):
    from scipy import optimize

    from lossdoc.analysis.fitting import _robust_lm

    rng = np.random.default_rng(seed)
    noisy = y + ar1(rng, T.size, 0.6, 0.02)
    noisy[[300, 900, 1500]] += 1.0  # spikes: the soft-L1 loss matters
    s, z = _norm(T, noisy)
    spec, sw = MODELS[model], np.ones_like(s)
    lower, upper = np.array(spec.lower), np.array(spec.upper)
    th0 = {"power-law": [0.0, 0.5, 0.3, 0.01], "exponential": [0.0, 1.0, 0.3], "mmf": [0.0, 1.0, 10.0, 1.0]}[model]
    th0 = np.array(th0)
    ref = optimize.least_squares(lambda th: sw * (spec.f(s, th) - z), th0, jac=lambda th: spec.grad(s, th),
                                 bounds=(lower, upper), loss="soft_l1", f_scale=0.05, x_scale="jac",
                                 ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=5000)
    with np.errstate(all="ignore"):
        out = _robust_lm(spec, s, sw, z, th0, lower, upper, 0.05, max_nfev=400)
    assert out is not None and out[1]
    assert ref.success
    np.testing.assert_allclose(out[0], ref.x, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model", list(MODELS))
def test_model_jacobian_matches_finite_differences(model):
    spec = MODELS[model]
    s = np.linspace(0.0, 2.0, 50)
    th = {"power-law": [0.1, 0.7, 0.6, 0.05], "exponential": [0.2, 0.9, 0.4], "mmf": [-0.1, 1.2, 3.0, 1.3]}[model]
    th = np.array(th)
    with np.errstate(all="ignore"):
        jac = spec.grad(s, th)
        for i in range(th.size):
            h = 1e-7 * max(abs(th[i]), 1e-3)
            up, dn = th.copy(), th.copy()
            up[i] += h
            dn[i] -= h
            np.testing.assert_allclose(jac[:, i], (spec.f(s, up) - spec.f(s, dn)) / (2 * h), rtol=1e-5, atol=1e-8)


def test_grid_bases_match_the_model_curves():
    # the vectorised start-value grid evaluates the same curves as the model at each grid point
    s = np.linspace(0.0, 1.0, 101)
    for spec in MODELS.values():
        with np.errstate(all="ignore"):  # log(0) at s = 0, as inside fit_curve
            grid, g = spec.grid_basis(s)
            assert g.shape == (s.size, grid.shape[0]) and grid.shape[0] >= 40
            for k in range(0, grid.shape[0], 7):
                th = np.concatenate([[0.0, 1.0], grid[k]])
                np.testing.assert_allclose(g[:, k], spec.f(s, th), rtol=1e-12)
