"""Learning-curve fits and extrapolation with honest prediction intervals.

Three parametric families from the learning-curve literature (research/peers.md §5; Domhan
et al. 2015 as ported in NNI ``curvefunctions.py``), written for decreasing losses:

``power-law``
    ``L(t) = E + A * (t + t0) ** -alpha`` (pow4 / the per-run scaling-law form)
``exponential``
    ``L(t) = E + A * exp(-t / tau)`` (decay to a floor)
``mmf``
    ``L(t) = E + (B - E) / (1 + (kappa * t) ** delta)`` (Morgan-Mercer-Flodin)

Every fit runs on at most 2000 weighted points (:func:`~lossdoc.analysis.downsample.
downsample_for_fit`), in normalised units (``s = t / T``, ``z = (y - offset) / scale``) so
1e30 or 1e-30 losses and 1e7 steps fit alike. Starting values come from a grid over the
nonlinear parameters with the linear ones (E, A) solved exactly (variable projection); the
full model is then refined with a soft-L1 loss (so loss spikes do not drag the curve) by a
small bounded Levenberg-Marquardt (:func:`_robust_lm`: the objective of
``scipy.optimize.least_squares(loss="soft_l1")`` at a fifth of its cost) and the model with
the lowest AICc is kept.

Nothing here raises on bad data or emits a warning: too few points or a failed fit return
``None``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special as _sp

from lossdoc.analysis._arrays import as_float, dot, quiet
from lossdoc.analysis.downsample import downsample_for_fit

__all__ = [
    "MODELS",
    "BacktestResult",
    "ExtrapolationResult",
    "FitResult",
    "backtest",
    "extrapolate",
    "fit_curve",
]

NAN = float("nan")
MIN_POINTS = 8  # fewer finite points than this: no fit
FIT_POINTS = 2000
_RHO_MAX = 0.97
_E_BOUND = 100.0  # |E| in normalised units (the data span at most [-1, 1])


# ----------------------------------------------------------------------------- models


@dataclass(frozen=True)
class _Model:
    """A curve family in normalised units: ``z = theta[0] + theta[1] * g(s; theta[2:])``."""

    name: str
    names: tuple[str, ...]  # parameter names in original units (for FitResult.params)
    # (s, theta, with_jacobian) -> (f, d f / d theta of shape (n, p) or None), in one pass
    kernel: Callable[[np.ndarray, np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]
    # s -> (grid of nonlinear parameters (K, q), basis g(s; grid[k]) for every k (n, K))
    grid_basis: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    # inverse of g: s such that g(s; nl) = q (q > 0), or nan
    inverse: Callable[[float, np.ndarray], float]
    # map normalised theta -> original-unit parameters
    to_params: Callable[[np.ndarray, float, float, float, float], dict[str, float]]

    def f(self, s: np.ndarray, th: np.ndarray) -> np.ndarray:
        return self.kernel(s, th, False)[0]

    def grad(self, s: np.ndarray, th: np.ndarray) -> np.ndarray:
        return self.kernel(s, th, True)[1]  # type: ignore[return-value]


def _pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every (a_i, b_j), a-major: shape (len(a) * len(b), 2)."""
    return np.column_stack([np.repeat(a, b.size), np.tile(b, a.size)])


# Power law: g = (s + s0) ** -alpha, computed as exp(-alpha * log(s + s0)) (one log, one exp).
_POW_ALPHA = np.geomspace(0.05, 6.0, 12)
_POW_S0 = np.geomspace(1e-4, 3.0, 10)


def _pow_kernel(s: np.ndarray, th: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray | None]:
    e, a, alpha, s0 = th
    u = s + s0
    lu = np.log(u)
    g = np.exp(-alpha * lu)
    f = e + a * g
    if not jac:
        return f, None
    j = np.empty((s.size, 4))
    j[:, 0] = 1.0
    j[:, 1] = g
    ag = a * g
    j[:, 2] = -ag * lu
    j[:, 3] = -alpha * ag / u
    return f, j


def _pow_grid(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lu = np.log(s[:, None] + _POW_S0[None, :])  # (n, 10)
    g = np.exp(-_POW_ALPHA[None, :, None] * lu[:, None, :]).reshape(s.size, -1)
    return _pairs(_POW_ALPHA, _POW_S0), g


def _pow_inverse(q: float, nl: np.ndarray) -> float:
    return q ** (-1.0 / nl[0]) - nl[1]


def _pow_params(th: np.ndarray, off: float, sc: float, t_scale: float, origin: float) -> dict[str, float]:
    alpha = float(th[2])
    return {
        "E": off + sc * th[0],
        "A": sc * th[1] * t_scale**alpha,
        "alpha": alpha,
        "t0": th[3] * t_scale - origin,
    }


_EXP_TAU = np.geomspace(1e-3, 20.0, 40)


def _exp_kernel(s: np.ndarray, th: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray | None]:
    e, a, tau = th
    g = np.exp(-s / tau)
    f = e + a * g
    if not jac:
        return f, None
    j = np.empty((s.size, 3))
    j[:, 0] = 1.0
    j[:, 1] = g
    j[:, 2] = a * g * s / (tau * tau)
    return f, j


def _exp_grid(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _EXP_TAU[:, None], np.exp(-s[:, None] / _EXP_TAU[None, :])


def _exp_inverse(q: float, nl: np.ndarray) -> float:
    return -nl[0] * math.log(q)


def _exp_params(th: np.ndarray, off: float, sc: float, t_scale: float, origin: float) -> dict[str, float]:
    tau = float(th[2]) * t_scale
    # in original steps: A * exp(-(t - origin)/tau) = A exp(origin/tau) exp(-t/tau)
    return {"E": off + sc * th[0], "A": sc * th[1] * math.exp(min(origin / tau, 700.0)), "tau": tau}


# MMF: g = 1 / (1 + (kappa s) ** delta), with (kappa s) ** delta = exp(delta * log(kappa s)) (0 at s = 0).
_MMF_KAPPA = np.geomspace(0.1, 3e3, 14)
_MMF_DELTA = np.geomspace(0.2, 6.0, 8)


def _mmf_kernel(s: np.ndarray, th: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray | None]:
    e, d, kappa, delta = th
    ks = kappa * s
    logks = np.log(ks)  # -inf at s = 0 (callers silence the warning): q = 0 there
    q = np.exp(delta * logks)
    g = 1.0 / (1.0 + q)
    f = e + d * g
    if not jac:
        return f, None
    j = np.empty((s.size, 4))
    j[:, 0] = 1.0
    j[:, 1] = g
    dgq = d * g * g * q
    j[:, 2] = -dgq * (delta / kappa)
    j[:, 3] = -dgq * np.where(ks > 0, logks, 0.0)
    return f, j


def _mmf_grid(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lks = np.log(s)[:, None] + np.log(_MMF_KAPPA)[None, :]  # (n, 14)
    g = 1.0 / (1.0 + np.exp(_MMF_DELTA[None, None, :] * lks[:, :, None]))
    return _pairs(_MMF_KAPPA, _MMF_DELTA), g.reshape(s.size, -1)


def _mmf_inverse(q: float, nl: np.ndarray) -> float:
    return (1.0 / q - 1.0) ** (1.0 / nl[1]) / nl[0]


def _mmf_params(th: np.ndarray, off: float, sc: float, t_scale: float, origin: float) -> dict[str, float]:
    e = off + sc * th[0]
    return {
        "E": e,
        "B": e + sc * th[1],
        "kappa": float(th[2]) / t_scale,
        "delta": float(th[3]),
    }


MODELS: dict[str, _Model] = {
    "power-law": _Model(
        name="power-law",
        names=("E", "A", "alpha", "t0"),
        kernel=_pow_kernel,
        grid_basis=_pow_grid,
        lower=(-_E_BOUND, -np.inf, 1e-3, 1e-6),
        upper=(_E_BOUND, np.inf, 20.0, 50.0),
        inverse=_pow_inverse,
        to_params=_pow_params,
    ),
    "exponential": _Model(
        name="exponential",
        names=("E", "A", "tau"),
        kernel=_exp_kernel,
        grid_basis=_exp_grid,
        lower=(-_E_BOUND, -np.inf, 1e-5),
        upper=(_E_BOUND, np.inf, 1e3),
        inverse=_exp_inverse,
        to_params=_exp_params,
    ),
    "mmf": _Model(
        name="mmf",
        names=("E", "B", "kappa", "delta"),
        kernel=_mmf_kernel,
        grid_basis=_mmf_grid,
        lower=(-_E_BOUND, -np.inf, 1e-4, 0.05),
        upper=(_E_BOUND, np.inf, 1e6, 20.0),
        inverse=_mmf_inverse,
        to_params=_mmf_params,
    ),
}


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)  # holds arrays: identity equality, hashable
class FitResult:
    """A fitted learning curve.

    Attributes
    ----------
    model : str
        ``"power-law"``, ``"exponential"`` or ``"mmf"``.
    params : dict
        Parameters in original units (see the module docstring; ``E`` is the asymptote).
    cov : numpy.ndarray
        Covariance of ``params`` (in the order of ``params``), from the Jacobian at the
        optimum, *not* inflated for autocorrelation (``infl`` holds that factor).
    aic, bic : float
        Gaussian AIC and BIC of the weighted fit (variance counted as a parameter).
    residual_sd : float
        Standard deviation of one logged point around the curve (original units).
    n : int
        Points fitted (after down-sampling).
    converged : bool
        The optimiser reported success and no parameter sits on a bound.
    aicc : float
        Small-sample corrected AIC, the criterion that picks the model.
    infl : float
        Variance inflation ``(1 + rho) / (1 - rho)`` from the lag-1 autocorrelation ``rho``
        of the residuals (1 if ``rho <= 0``), applied to the parameter uncertainty.
    rho : float
        That lag-1 autocorrelation.
    """

    model: str
    params: dict[str, float]
    cov: np.ndarray
    aic: float
    bic: float
    residual_sd: float
    n: int
    converged: bool
    infl: float = 1.0
    rho: float = 0.0
    aicc: float = NAN
    _theta: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    _cov_z: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False, compare=False)
    _norm: tuple[float, float, float, float] = field(default=(0.0, 1.0, 1.0, 0.0), repr=False, compare=False)
    _sigma_z: float = field(default=0.0, repr=False, compare=False)
    _df: float = field(default=1.0, repr=False, compare=False)
    #: (Akaike weight, model name, theta) of every candidate fit, for the model-spread term
    _alts: tuple[tuple[float, str, np.ndarray], ...] = field(default=(), repr=False, compare=False)

    # -- helpers
    def _spec(self) -> _Model:
        return MODELS[self.model]

    def _s(self, step: object) -> np.ndarray:
        _, _, t_scale, origin = self._norm
        return (as_float(step) - origin) / t_scale

    @property
    def asymptote(self) -> float:
        """The fitted value as the step goes to infinity (``E``)."""
        return float(self.params["E"])

    def predict(self, step: object) -> np.ndarray | float:
        """Fitted curve at ``step`` (scalar in, float out; array in, array out)."""
        off, sc, _, _ = self._norm
        s = self._s(step)
        with quiet():
            z = self._spec().f(np.maximum(s, 0.0), self._theta)
            y = off + sc * z
        return float(y[0]) if np.ndim(step) == 0 else y

    def interval(
        self, step: object, level: float = 0.9, noise: bool = True
    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Prediction interval of the loss logged at ``step``.

        Parameters
        ----------
        step : float or array_like
            Step(s) to predict at.
        level : float, default 0.9
            Coverage probability.
        noise : bool, default True
            Include the point-to-point noise (a *prediction* interval for one logged value);
            ``False`` gives the confidence interval of the curve itself.

        Returns
        -------
        low, high : float or numpy.ndarray

        Notes
        -----
        Delta method: ``var = infl * g' C g + sum_m w_m (f_m - f)^2 + noise_var`` with ``g``
        the gradient of the curve with respect to the parameters, ``C`` their covariance,
        ``infl`` the AR(1) variance inflation of the residuals (an effective-sample-size
        correction for autocorrelated noise; it also widens the interval when the model misses
        systematic structure, which shows up as correlated residuals), and the middle term the
        spread of the other candidate families weighted by their Akaike weights ``w_m``
        (Burnham & Anderson's model-selection uncertainty: where the families disagree about
        the future, the interval says so). Quantiles are Student t with ``n_eff - p`` degrees
        of freedom, ``n_eff = n / infl``. On 200 seeded power-law curves with AR(1) noise
        (phi 0.7), fitted on 300 points and predicting 300 steps ahead, the 90% interval
        covers the logged value 90% of the time (tests/analysis/test_fitting.py).
        """
        off, sc, _, _ = self._norm
        s = np.maximum(self._s(step), 0.0)
        with quiet():
            g = self._spec().grad(s, self._theta)
            var = self.infl * np.einsum("ij,jk,ik->i", g, self._cov_z, g)
            mid0 = self._spec().f(s, self._theta)
            for wt, name, th in self._alts:
                if name != self.model and wt > 1e-6:
                    var = var + wt * (MODELS[name].f(s, th) - mid0) ** 2
            if noise:
                var = var + self._sigma_z**2
            q = float(_sp.stdtrit(self._df, 0.5 + float(level) / 2.0))  # = scipy.stats.t.ppf, without its overhead
            mid = self._spec().f(s, self._theta)
            half = q * np.sqrt(np.maximum(var, 0.0))
            lo = off + sc * (mid - half)
            hi = off + sc * (mid + half)
        if np.ndim(step) == 0:
            return float(lo[0]), float(hi[0])
        return lo, hi

    def steps_to(self, target: float) -> float | None:
        """Step at which the fitted curve reaches ``target``.

        Returns
        -------
        float or None
            ``None`` when the curve never gets there (for a decreasing curve: the asymptote is
            at or above ``target``). A target already passed gives a step inside the data.
        """
        off, sc, t_scale, origin = self._norm
        th = self._theta
        try:
            zt = (float(target) - off) / sc
            q = (zt - th[0]) / th[1] if th[1] != 0 else NAN
            if not (q > 0 and math.isfinite(q)):
                return None
            if self.model == "mmf" and q >= 1.0:
                return float(origin)
            with quiet():
                s = self._spec().inverse(q, th[2:])
            if not math.isfinite(s):
                return None
            return float(max(s, 0.0) * t_scale + origin)
        except (ArithmeticError, ValueError):
            return None


@dataclass(frozen=True)
class BacktestResult:
    """Fit on the first half of a curve, predict the second.

    Attributes
    ----------
    predicted : float
        Mean prediction over the last 10% of the points.
    actual : float
        Mean logged value over those points.
    rel_error : float
        ``|predicted - actual| / |actual|`` (the data span when ``actual`` is 0).
    coverage : float
        Share of the second-half points inside their 90% prediction interval.
    final_in_interval : bool
        Whether ``actual`` lies in the 90% interval for a mean over the last 10%.
    model : str
        Model chosen on the first half.
    n_fit : int
        Points in the first half.
    """

    predicted: float
    actual: float
    rel_error: float
    coverage: float
    final_in_interval: bool
    model: str
    n_fit: int


@dataclass(frozen=True)
class ExtrapolationResult:
    """Where the loss is heading.

    Attributes
    ----------
    step : int
        The horizon (absolute step).
    loss, low, high : float
        Predicted loss and its prediction interval at ``step``.
    model : str
        Chosen curve family.
    asymptote : float or None
        Fitted value at infinity; None when the fit did not converge (typically the asymptote
        ran into its bound because the curve is still straight or accelerating).
    backtest_error : float or None
        :attr:`BacktestResult.rel_error` of the same procedure on this curve (None if the first
        half was too short to fit).
    level : float
        Interval coverage.
    """

    step: int
    loss: float
    low: float
    high: float
    model: str
    asymptote: float | None
    backtest_error: float | None
    level: float = 0.9


# ----------------------------------------------------------------------------- fitting


def _fit_one(
    spec: _Model, s: np.ndarray, z: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, bool] | None:
    """(theta, cov_z, weighted RSS, converged) or None."""
    sw = np.sqrt(w)
    # variable projection on a grid: for each nonlinear setting the weighted regression of z
    # on [1, g] has a closed form; all settings at once
    grid, g = spec.grid_basis(s)  # (K, q), (n, K)
    sw_ = float(w.sum())
    sg = w @ g
    sgg = w @ (g * g)
    sz = float(w @ z)
    sgz = (w * z) @ g
    szz = float(w @ (z * z))
    den = sw_ * sgg - sg * sg
    ok = np.isfinite(den) & (den > 1e-12 * np.maximum(sw_ * sgg, 1e-300)) & np.isfinite(sgz)
    if not ok.any():
        return None
    a = np.where(ok, (sw_ * sgz - sg * sz) / np.where(ok, den, 1.0), 0.0)
    e = (sz - a * sg) / sw_
    rss = szz - e * sz - a * sgz
    rss = np.where(ok & np.isfinite(rss), rss, np.inf)
    kbest = int(np.argmin(rss))
    if not np.isfinite(rss[kbest]):
        return None
    th0 = np.concatenate([[e[kbest], a[kbest]], grid[kbest]])
    lower = np.array(spec.lower, dtype=float)
    upper = np.array(spec.upper, dtype=float)
    th0 = np.clip(th0, lower + 1e-12, upper - 1e-12)
    r0 = sw * (spec.f(s, th0) - z)
    sigma0 = 1.4826 * float(np.median(np.abs(r0 - np.median(r0))))
    f_scale = max(2.0 * sigma0, 1e-9)
    unit = bool(np.all(w == 1.0))  # not down-sampled: every weight 1, nothing to multiply by
    out = _robust_lm(spec, s, None if unit else sw, z, th0, lower, upper, f_scale, max_nfev=100 * th0.size)
    if out is None:
        return None
    th, success = out
    fv, jz = spec.kernel(s, th, True)
    r = sw * (fv - z)
    if not np.all(np.isfinite(r)):
        return None
    rss = float(r @ r)
    n, p = s.size, th.size
    j = sw[:, None] * jz  # type: ignore[index]
    try:
        jtj_inv = np.linalg.pinv(j.T @ j)
    except np.linalg.LinAlgError:
        return None
    cov = jtj_inv * (rss / max(n - p, 1))
    span = upper - lower
    at_bound = np.any((np.abs(th - lower) < 1e-6 * np.where(np.isfinite(span), span, 1.0))
                      | (np.abs(upper - th) < 1e-6 * np.where(np.isfinite(span), span, 1.0)))
    ok = success and not at_bound and bool(np.all(np.isfinite(cov)))
    return th, cov, rss, ok


def _robust_lm(
    spec: _Model, s: np.ndarray, sw: np.ndarray | None, z: np.ndarray, th0: np.ndarray, lower: np.ndarray,
    upper: np.ndarray, c: float, max_nfev: int, ftol: float = 1e-10, xtol: float = 1e-10,
) -> tuple[np.ndarray, bool] | None:
    """Minimise the soft-L1 cost ``c^2 sum(sqrt(1 + (r_i / c)^2) - 1)``, ``r = sw * (f(s; theta) - z)``,
    within the box ``[lower, upper]``.

    The objective of ``scipy.optimize.least_squares(loss="soft_l1", f_scale=c, bounds=...)``
    (the solver used before), minimised by Levenberg-Marquardt for a problem of 3-4 parameters:
    Gauss-Newton with the robust loss's curvature correction (``J' diag(rho' + 2 rho'' r^2/c^2) J``,
    as scipy scales the Jacobian; Triggs et al. 2000), Marquardt's scaling by the largest diagonal
    seen, Nielsen's damping update, and bounds by projection onto the box with the bound
    parameters that the gradient pushes outwards held fixed. Model and Jacobian come from one
    kernel call per trial point, so an iteration costs ~50 us on 2000 points instead of ~0.3 ms
    in ``least_squares`` (same optimum; tolerances tighter than its 1e-8 defaults).

    Returns
    -------
    (theta, success) or None
        ``success`` is False when ``max_nfev`` evaluations did not meet the tolerances; None on a
        non-finite start or gradient. ``sw=None`` means unit weights.
    """
    kern = spec.kernel
    p = th0.size
    n = s.size
    c2 = c * c
    inv_c2 = 1.0 / c2
    th = th0.copy()
    fv, jz = kern(s, th, True)
    r = fv - z if sw is None else sw * (fv - z)
    sq = np.sqrt(1.0 + r * r * inv_c2)
    cost = c2 * (float(sq.sum()) - n)
    nfev = 1
    if not math.isfinite(cost):
        return None
    diag = np.zeros(p)
    lam = 1e-3
    nu = 2.0
    success = False
    sw_col = None if sw is None else sw[:, None]
    while nfev < max_nfev:
        jw = jz if sw_col is None else jz * sw_col  # type: ignore[operator]
        rho1 = 1.0 / sq  # rho'(r^2/c^2); rho' + 2 rho'' r^2/c^2 = rho1 ** 3
        grad = jw.T @ (rho1 * r)
        hess = (jw * (rho1 * rho1 * rho1)[:, None]).T @ jw
        if not (np.isfinite(grad).all() and np.isfinite(hess).all()):
            return None
        np.maximum(diag, hess.diagonal(), out=diag)
        free = ~(((th <= lower) & (grad > 0)) | ((th >= upper) & (grad < 0)))
        nfree = int(free.sum())
        if nfree == 0:  # every parameter held at a bound by the gradient: a stationary point
            success = True
            break
        if nfree < p:
            hf, gf, df = hess[np.ix_(free, free)], grad[free], diag[free]
        else:
            hf, gf, df = hess, grad, diag
        accepted = False
        while nfev < max_nfev:
            m = hf.copy()
            m.flat[:: nfree + 1] += lam * df
            try:
                dfree = np.linalg.solve(m, -gf)
            except np.linalg.LinAlgError:
                lam *= nu
                nu *= 2.0
                nfev += 1
                continue
            if nfree < p:
                step = np.zeros(p)
                step[free] = dfree
            else:
                step = dfree
            th_new = np.minimum(np.maximum(th + step, lower), upper)
            step = th_new - th
            pred = -(float(grad @ step) + 0.5 * float(step @ hess @ step))
            fv, jz_new = kern(s, th_new, True)
            r_new = fv - z if sw is None else sw * (fv - z)
            sq_new = np.sqrt(1.0 + r_new * r_new * inv_c2)
            cost_new = c2 * (float(sq_new.sum()) - n)
            nfev += 1
            small = math.sqrt(float(step @ step)) < xtol * (xtol + math.sqrt(float(th @ th)))
            if cost_new < cost:  # False for nan
                ratio = (cost - cost_new) / pred if pred > 0 else 0.0
                done = (cost - cost_new) < ftol * cost or small
                th, r, sq, cost, jz = th_new, r_new, sq_new, cost_new, jz_new
                lam *= max(1.0 / 3.0, 1.0 - (2.0 * ratio - 1.0) ** 3)
                nu = 2.0
                accepted = True
                success = done
                break
            if small:  # no smaller step can lower the cost: converged
                success = True
                break
            lam *= nu
            nu *= 2.0
        if success or not accepted:
            break
    return th, success


def _lag1(r: np.ndarray) -> float:
    d = r - r.mean()
    den = dot(d, d)
    return dot(d[1:], d[:-1]) / den if den > 0 else 0.0


def fit_curve(
    steps: object, values: object, models: Sequence[str] | None = None
) -> FitResult | None:
    """Fit learning-curve models and keep the best by AICc.

    Parameters
    ----------
    steps, values : array_like
        The curve; non-finite points are dropped; more than 2000 points are reduced to
        count-weighted bin means.
    models : sequence of str, optional
        Subset of :data:`MODELS` (default: all).

    Returns
    -------
    FitResult or None
        ``None`` with fewer than 8 finite points, fewer than 3 distinct steps, a constant
        series, or when no model could be fitted.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1, 201.0)
    >>> fit = fit_curve(t, 2.0 + 5.0 * (t + 10.0) ** -0.5, models=["power-law"])
    >>> round(fit.asymptote, 3), round(fit.params["alpha"], 3)
    (2.0, 0.5)
    """
    with warnings.catch_warnings(), quiet():
        warnings.simplefilter("ignore")
        return _fit_curve(steps, values, models)


def _fit_curve(steps: object, values: object, models: Sequence[str] | None) -> FitResult | None:
    try:
        t, y, w = downsample_for_fit(steps, values, FIT_POINTS)
    except ValueError:
        return None
    n = int(t.size)
    if n < MIN_POINTS or np.unique(t).size < 3:
        return None
    origin = min(0.0, float(t[0]))
    t_scale = float(t[-1] - origin)
    off = float(np.median(y))
    sc = float(np.max(np.abs(y - off)))
    if not (t_scale > 0 and math.isfinite(t_scale) and sc > 0 and math.isfinite(sc)):
        return None
    s = (t - origin) / t_scale
    z = (y - off) / sc
    names = list(MODELS) if models is None else [m for m in models if m in MODELS]
    best: FitResult | None = None
    best_aicc = math.inf
    cands: list[tuple[float, str, np.ndarray]] = []
    for name in names:
        spec = MODELS[name]
        out = _fit_one(spec, s, z, w)
        if out is None:
            continue
        th, cov_z, rss, ok = out
        p = th.size
        k = p + 1
        if rss <= 0:
            rss = 1e-300
        # Gaussian log-likelihood with per-point weights (weights sum to the raw point count)
        ll_term = n * math.log(rss / n)
        aic = ll_term + 2 * k
        aicc = aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf)
        bic = ll_term + k * math.log(n)
        r = np.sqrt(w) * (spec.f(s, th) - z)
        rho = _lag1(r)
        rho = min(max(rho, 0.0), _RHO_MAX)
        infl = (1.0 + rho) / (1.0 - rho)
        sigma_z = math.sqrt(rss / max(n - p, 1))  # per raw point (weights are counts)
        # noise of a single logged point: the weighted residual variance per unit weight
        df = max(n / infl - p, 1.0)
        params = spec.to_params(th, off, sc, t_scale, origin)
        cov = _param_cov(spec, th, cov_z, off, sc, t_scale, origin)
        fr = FitResult(
            model=name,
            params={k_: float(v) for k_, v in params.items()},
            cov=cov,
            aic=float(aic),
            aicc=float(aicc),
            bic=float(bic),
            residual_sd=float(sigma_z * sc),
            n=n,
            converged=ok,
            infl=float(infl),
            rho=float(rho),
            _theta=th,
            _cov_z=cov_z,
            _norm=(off, sc, t_scale, origin),
            _sigma_z=float(sigma_z),
            _df=float(df),
        )
        rank = aicc if ok else aicc + 1e6  # prefer converged fits
        if math.isfinite(aicc):
            cands.append((rank, name, th))
        if rank < best_aicc:
            best, best_aicc = fr, rank
    if best is None or len(cands) < 2:
        return best
    ranks = np.array([c[0] for c in cands])
    wts = np.exp(-0.5 * (ranks - ranks.min()))
    wts /= wts.sum()
    alts = tuple((float(wt), name, th) for wt, (_, name, th) in zip(wts, cands))
    return dataclasses.replace(best, _alts=alts)


def _param_cov(
    spec: _Model, th: np.ndarray, cov_z: np.ndarray, off: float, sc: float, t_scale: float, origin: float
) -> np.ndarray:
    """Covariance of the original-unit parameters by a numerical Jacobian of the mapping."""
    base = np.array(list(spec.to_params(th, off, sc, t_scale, origin).values()), dtype=float)
    jm = np.zeros((base.size, th.size))
    for i in range(th.size):
        h = 1e-6 * max(abs(th[i]), 1e-3)
        tp = th.copy()
        tp[i] += h
        jm[:, i] = (np.array(list(spec.to_params(tp, off, sc, t_scale, origin).values())) - base) / h
    return jm @ cov_z @ jm.T


# ----------------------------------------------------------------------------- backtest


def backtest(steps: object, values: object, models: Sequence[str] | None = None) -> BacktestResult | None:
    """Fit the first half (by step) and predict the second.

    Parameters
    ----------
    steps, values : array_like
        The curve (non-finite points dropped).
    models : sequence of str, optional
        Families the first-half fit may choose from (default: all). :func:`extrapolate` passes
        the family chosen on the whole curve, so the backtest checks the model that makes the
        prediction (and costs one fit, not three).

    Returns
    -------
    BacktestResult or None
        ``None`` when either half is too short or the first-half fit fails.
    """
    with warnings.catch_warnings(), quiet():
        warnings.simplefilter("ignore")
        try:
            t, y, w = downsample_for_fit(steps, values, 2 * FIT_POINTS)
        except ValueError:
            return None
        if t.size < 2 * MIN_POINTS:
            return None
        mid = 0.5 * (t[0] + t[-1])
        first = t <= mid
        if first.sum() < MIN_POINTS or (~first).sum() < 3:
            return None
        fit = fit_curve(t[first], y[first], models=models)
        if fit is None:
            return None
        t2, y2 = t[~first], y[~first]
        m = max(1, int(math.ceil(0.1 * t2.size)))
        tail_t, tail_y, tail_w = t2[-m:], y2[-m:], w[~first][-m:]
        pred = float(np.mean(fit.predict(tail_t)))
        actual = float(np.average(tail_y, weights=tail_w))
        denom = abs(actual) if actual != 0 else float(np.ptp(y))
        rel = abs(pred - actual) / denom if denom > 0 else NAN
        lo, hi = fit.interval(t2, 0.9)
        cov = float(np.mean((y2 >= lo) & (y2 <= hi)))
        # interval of a mean over the tail: curve uncertainty + noise / effective count
        clo, chi = fit.interval(float(np.mean(tail_t)), 0.9, noise=False)
        q = float(_sp.stdtrit(fit._df, 0.95))
        extra = q * fit.residual_sd * math.sqrt(fit.infl / max(float(tail_w.sum()), 1.0))
        inside = bool((clo - extra) <= actual <= (chi + extra))
        return BacktestResult(
            predicted=pred,
            actual=actual,
            rel_error=float(rel),
            coverage=cov,
            final_in_interval=inside,
            model=fit.model,
            n_fit=int(first.sum()),
        )


def extrapolate(
    steps: object, values: object, horizon: float, level: float = 0.9, *, fit: FitResult | None = None
) -> ExtrapolationResult | None:
    """Predict the loss at step ``horizon`` with a prediction interval.

    Parameters
    ----------
    steps, values : array_like
        The curve so far.
    horizon : float
        Absolute step to predict at (e.g. the planned total).
    level : float, default 0.9
        Interval coverage.
    fit : FitResult, optional
        ``fit_curve(steps, values)`` when the caller already has it (it is not fitted again).

    Returns
    -------
    ExtrapolationResult or None
        ``None`` when the curve cannot be fitted (too short, constant, failed fit) or the
        horizon is not finite.
    """
    h = float(horizon)
    if not math.isfinite(h):
        return None
    if fit is None:
        fit = fit_curve(steps, values)
    if fit is None:
        return None
    loss = fit.predict(h)
    lo, hi = fit.interval(h, level)
    if not all(math.isfinite(v) for v in (loss, lo, hi)):
        return None
    bt = backtest(steps, values, models=(fit.model,))
    bte = None if bt is None or not math.isfinite(bt.rel_error) else float(bt.rel_error)
    # an asymptote pinned to its bound (a straight or still-accelerating curve) is no estimate
    asym = fit.asymptote if fit.converged else NAN
    return ExtrapolationResult(
        step=int(round(h)),
        loss=float(loss),
        low=float(lo),
        high=float(hi),
        model=fit.model,
        asymptote=float(asym) if math.isfinite(asym) else None,
        backtest_error=bte,
        level=float(level),
    )
