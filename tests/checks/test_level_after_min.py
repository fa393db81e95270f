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
        p = [level_after_min(_converged(n, rng, 0.05))[1] for _ in range(60)]
        assert np.mean(np.asarray(p) < 0.05) <= 0.1, (n, sorted(p)[:8])


def test_a_wandering_validation_loss_is_rarely_called_a_rise():
    """AR(1) noise with coefficient 0.6 over 50 evaluations wanders: a null of independent noise called
    about half of these a held level; the AR(1) null estimated from the differences after the minimum
    keeps it near its size."""
    rng = np.random.default_rng(12)
    n, hits = 50, 0
    for _ in range(60):
        e = rng.normal(0.0, 0.05, n)
        for i in range(1, n):
            e[i] += 0.6 * e[i - 1]
        x = np.arange(n, dtype=float)
        hits += level_after_min(0.5 + np.exp(-x / (n / 8)) + e)[1] < 0.05
    assert hits / 60 <= 0.2


def test_a_level_held_above_the_minimum_is_found_and_the_p_value_is_reproducible():
    """0.50 -> 0.71 -> 0.64 (a real run's validation loss, 50 epochs): a rise that partly came back, no
    monotone trend after the minimum."""
    y = np.array([2.0819, 1.8546, 1.6417, 1.4354, 1.2215, 1.0347, 0.8806, 0.7729, 0.6893, 0.6255,
                  0.5731, 0.5433, 0.5573, 0.5657, 0.5692, 0.5668, 0.5679, 0.5646, 0.5532, 0.5300, 0.5009, 0.5009,
                  0.5113, 0.5349, 0.5822, 0.6224, 0.6556, 0.6910, 0.7112, 0.7115, 0.7010, 0.6947, 0.6836, 0.6789,
                  0.6735, 0.6685, 0.6670, 0.6652, 0.6628, 0.6576, 0.6531, 0.6582, 0.6647, 0.6645, 0.6696, 0.6719,
                  0.6706, 0.6595, 0.6494, 0.6436])
    stat, p = level_after_min(y)
    assert stat > 0.05 and p < 0.05
    assert level_after_min(y) == (stat, p)
    # the same curve that kept falling instead: nothing to find
    assert level_after_min(np.minimum.accumulate(y))[1] == 1.0
