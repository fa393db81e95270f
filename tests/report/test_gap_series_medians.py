"""The HTML report's gap chart takes, at each evaluation, the median of the training losses in the last
quarter of the interval since the previous one. That was a Python loop of np.median calls: 6 minutes of a
10^7-step log whose validation loss is logged at every step. The vectorised medians equal np.median's,
segment by segment, ties, NaN and empty intervals included."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.report.present import ChartSeries, gap_series, segment_medians


@pytest.mark.parametrize("seed", range(40))
def test_segment_medians_equal_numpy_median(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    v = rng.normal(size=n)
    if seed % 3 == 0:
        v = np.round(v, 1)  # ties
    if seed % 7 == 0:
        v[rng.integers(0, n)] = np.nan
    hi = np.sort(rng.integers(0, n + 1, size=int(rng.integers(1, 15))))
    lo0 = np.concatenate(([0], hi[:-1]))
    lo = hi - np.maximum((hi - lo0) // 4, np.minimum(hi - lo0, 1))
    want = np.array([np.median(v[a:b]) if b > a else v[max(b - 1, 0)] for a, b in zip(lo, hi)], dtype=float)
    assert np.array_equal(segment_medians(v, lo, hi), want, equal_nan=True)


def test_gap_at_every_step_is_val_minus_the_training_loss_logged_there() -> None:
    steps = np.arange(1, 2_001)
    train = 1.0 + np.exp(-steps / 500)
    val = train + 0.25
    tr = ChartSeries(label="train", steps=steps, values=train, binned=None, points=steps.size)
    va = ChartSeries(label="val", steps=steps, values=val, binned=None, points=steps.size)
    st, gap = gap_series(tr, va)
    assert np.array_equal(st, steps.astype(float))
    assert np.allclose(gap, 0.25)
