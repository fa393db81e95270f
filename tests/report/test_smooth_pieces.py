"""The chart's smoothed loss of a long series is smoothed and binned a group of bins at a time
(``present._smooth_in_pieces``, bounded memory): the same bins as smoothing the whole series and
binning it, to rounding (1e-12 relative), at every piece size, and the whole route for the cases
it leaves out."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.analysis.smoothing import ema_debiased
from lossdoc.report import present


def _series(n: int, seed: int, gaps: bool) -> present.ChartSeries:
    rng = np.random.default_rng(seed)
    steps = np.cumsum(rng.integers(1, 4, n)) if gaps else np.arange(n)
    values = 2 + 9 * (1 + np.arange(n) / max(n / 100, 1)) ** -0.45 + rng.normal(0, 0.05, n)
    values[rng.integers(0, n, 5)] += 3  # spikes
    return present.ChartSeries("loss", steps.astype(np.int64), values, present._bin(steps, values, 600))


@pytest.mark.parametrize("piece", (50, 1000, 4096))
@pytest.mark.parametrize("n_bins", (7, 600))
@pytest.mark.parametrize("weight", (0.6, 0.99, 0.99996))
@pytest.mark.parametrize("gaps", (False, True))
def test_pieces_equal_the_whole_series(monkeypatch: pytest.MonkeyPatch, piece: int, n_bins: int,
                                       weight: float, gaps: bool) -> None:
    monkeypatch.setattr(present, "SMOOTH_PIECE", piece)
    monkeypatch.setattr(present, "SMOOTH_WHOLE_MAX", 0)
    s = _series(20_000, piece + n_bins, gaps)
    s.binned = present._bin(s.steps, s.values, n_bins)
    got = present._smooth_in_pieces(s, weight, n_bins)
    assert got is not None
    ref = present._bin(s.steps, ema_debiased(s.values, weight), n_bins)
    for field in ("step", "mean", "min", "max", "count"):
        np.testing.assert_allclose(getattr(got, field), getattr(ref, field), rtol=1e-12, atol=0)


def test_cases_left_to_the_whole_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(present, "SMOOTH_PIECE", 100)
    monkeypatch.setattr(present, "SMOOTH_WHOLE_MAX", 0)
    s = _series(20_000, 1, False)
    assert present._smooth_in_pieces(s, 0.0, 600) is None  # no smoothing
    assert present._smooth_in_pieces(s, 1.0, 600) is None  # TensorBoard's flat zero
    flat = present.ChartSeries("loss", s.steps, np.full(s.steps.size, 2.5), s.binned)
    assert present._smooth_in_pieces(flat, 0.9, 600) is None  # all equal: returned unsmoothed
    assert present._smooth_in_pieces(_series(150, 2, False), 0.9, 600) is None  # short
    floats = present.ChartSeries("loss", s.steps.astype(float), s.values, s.binned)
    assert present._smooth_in_pieces(floats, 0.9, 600) is None  # steps not integers
