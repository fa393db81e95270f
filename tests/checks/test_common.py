"""Detector helpers: the smoothed minimum that sets "the best step" for OF001 and DV001."""

from __future__ import annotations

import numpy as np

import lossdoc.checks.detectors._common as common


def test_smooth_min_of_a_long_series_finds_the_same_best_stretch():
    # a U-shaped validation curve (best at 60% of the run) with noise and a deep one-point dip early;
    # 50,000 points take the binned path, which must agree with the exact running median
    rng = np.random.default_rng(4)
    n = 50_000
    x = np.arange(n, dtype=float) * 3
    y = 1.0 + 4.0 * ((np.arange(n) / n) - 0.6) ** 2 + rng.normal(0, 0.05, n)
    y[5_000] = -5.0  # a dip: never "the best step"
    i, level = common.smooth_min(x, y, value=True)
    saved = common.SMOOTH_MIN_MAX_POINTS
    try:
        common.SMOOTH_MIN_MAX_POINTS = 10**9  # the exact running median over 2,500 points
        j, exact_level = common.smooth_min(x, y, value=True)
    finally:
        common.SMOOTH_MIN_MAX_POINTS = saved
    assert abs(i - j) < 0.01 * n and abs(i - 0.6 * n) < 0.02 * n
    assert abs(level - exact_level) < 0.01
    assert y[i] > -1  # not the dip


def test_smooth_min_keeps_the_exact_path_for_ordinary_lengths():
    y = np.array([5.0, 4.0, 3.0, 0.5, 3.1, 2.0, 1.0, 1.1, 1.2, 1.3, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    # the one-point dip at index 3 is smoothed away (a 5-point running median): the best stretch is 5-9
    assert common.smooth_min(np.arange(y.size, dtype=float), y) in range(5, 10)
