"""OS001's cycle test (``swing_test``): the residual autocorrelation at up to half a period, judged
against an AR(1) null. It must hold its level on the noise real per-step losses have (white, wandering
red noise, heavy-tailed batches) and find a repeating cycle of realistic size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from lossdoc.analysis.smoothing import rolling_median
from lossdoc.checks.detectors.oscillation import swing_test

ALPHA = 0.01


def _ar1(rng: np.random.Generator, n: int, phi: float, heavy: bool) -> np.ndarray:
    e = rng.standard_t(2, n + 50) if heavy else rng.standard_normal(n + 50)
    return lfilter([1.0], [1.0, -phi], e)[50:]


def _p(r: np.ndarray) -> float:
    # as the detector calls it: drift removed by a running median over half the window, lags up to n/4
    n = r.size
    res = swing_test(r - rolling_median(r, max(3, (n // 2) | 1), trailing=False), max(1, n // 4))
    return 1.0 if res is None else res.p


@pytest.mark.parametrize(("n", "phi", "heavy"), [(16, 0.0, False), (48, 0.5, False), (48, 0.9, False),
                                                  (160, 0.9, False), (160, 0.0, True), (48, 0.7, True)])
def test_noise_alone_rarely_reads_as_a_cycle(n: int, phi: float, heavy: bool) -> None:
    rng = np.random.default_rng(12345 + n)
    p = np.array([_p(_ar1(rng, n, phi, heavy)) for _ in range(400)])
    # at most the nominal rate (+ two binomial standard errors of 400 draws)
    assert float(np.mean(p < ALPHA)) <= ALPHA + 2 * np.sqrt(ALPHA * (1 - ALPHA) / 400)


@pytest.mark.parametrize(("n", "period", "snr", "power"), [(24, 4.0, 2.0, 0.9), (48, 12.0, 2.0, 0.7),
                                                            (160, 20.0, 1.0, 0.9)])
def test_a_cycle_of_realistic_size_is_found(n: int, period: float, snr: float, power: float) -> None:
    # a sinusoid whose r.m.s. is snr x the s.d. of red noise (AR(1) 0.3), at least 4 cycles in the window:
    # found in most draws (the lags are Sidak-corrected, so short windows need the larger cycle)
    rng = np.random.default_rng(777 + n)
    t = np.arange(n)
    found = [_p(snr * np.sqrt(2) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
                + _ar1(rng, n, 0.3, False) * np.sqrt(1 - 0.3 ** 2)) < ALPHA for _ in range(100)]
    assert np.mean(found) >= power


def test_the_advice_names_a_large_swing_as_a_factor_not_thousands_of_percent() -> None:
    """A classifier's per-batch loss near zero swings by a factor of 17 around its trend: the recommendation says
    "a factor of 17.5 from trough to peak", not "1650%" beside a message giving the r.m.s. as 143%; a smaller swing
    is a share of the loss, and a loss that can be negative swings in its own units."""
    from lossdoc.checks.detectors.oscillation import _swing_words

    assert _swing_words(16.5, True).startswith("a factor of 17.5 from trough to peak")
    assert _swing_words(0.556, True).startswith("56% of the loss from trough to peak")
    assert _swing_words(0.4, False).startswith("0.4 from trough to peak")
