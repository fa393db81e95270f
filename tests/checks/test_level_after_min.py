"""OF001's level test (generalization.level_after_min): its size on curves that never rose, its power on
one that held a level above its minimum, and its determinism."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.detectors.generalization import level_after_min


def _converged(n: int, rng: np.random.Generator, sd: float) -> np.ndarray:
    x = np.arange(n, dtype=float)
    return 0.5 + np.exp(-x / (n / 8)) + rng.normal(0.0, sd, n)


def test_a_curve_that_never_rose_is_rarely_called_a_rise():
    """An exponential descent to a flat level plus iid noise: the search for the minimum is part of the
    test, so the lowest window sitting below the later points by chance is not evidence. A null built
    from the curve's own residuals instead (which a fit absorbs) rejected 20-45% of these at 0.05."""
    rng = np.random.default_rng(11)
    for n in (8, 12, 30):
        p = [level_after_min(np.arange(n, dtype=float), _converged(n, rng, 0.05))[1] for _ in range(60)]
        assert np.mean(np.asarray(p) < 0.05) <= 0.1, (n, sorted(p)[:8])


def test_a_level_held_above_the_minimum_is_found_and_the_p_value_is_reproducible():
    """0.50 -> 0.71 -> 0.64: a rise that partly came back (no monotone trend after the minimum)."""
    y = np.array([1.6, 1.2, 0.9, 0.7, 0.56, 0.5, 0.51, 0.56, 0.62, 0.67, 0.7, 0.71, 0.69, 0.67, 0.65, 0.64,
                  0.63, 0.63])
    x = np.arange(y.size, dtype=float)
    stat, p = level_after_min(x, y)
    assert stat > 0.05 and p < 0.05
    assert level_after_min(x, y) == (stat, p)
    # the same curve that kept falling instead: nothing to find
    assert level_after_min(x, np.minimum.accumulate(y))[1] == 1.0
