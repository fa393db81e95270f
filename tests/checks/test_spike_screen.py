"""The spike check's minimum and rank screens computed piece by piece (bounded memory) keep exactly the
points a trailing filter of the whole curve keeps, at every piece boundary and window size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import minimum_filter1d, rank_filter

from lossdoc.checks.detectors import spike


def _whole(v: np.ndarray, w: int, min_rise: float) -> np.ndarray:
    tmin = minimum_filter1d(v, w, mode="nearest", origin=(w - 1) // 2)
    return np.flatnonzero(v[1:] >= (1 + min_rise) * tmin[:-1]) + 1


def test_no_points_to_screen() -> None:
    assert spike._min_screen(np.array([2.0]), 10, 0.5).size == 0


def _whole_rank(v: np.ndarray, w: int, min_rise: float) -> np.ndarray:
    low = rank_filter(v, (w - 1) // 2, size=w, mode="nearest", origin=(w - 1) // 2)
    return np.flatnonzero(v[1:] >= (1 + min_rise) * low[:-1]) + 1


# (screen, the whole-curve filter it must equal, min_rise, seed multiplier)
_SCREENS = {
    "minimum": (spike._min_screen, _whole, 0.5, 7919),
    "rank": (spike._rank_screen, _whole_rank, 0.2, 104729),
}


@pytest.mark.parametrize("screen", sorted(_SCREENS))
@pytest.mark.parametrize("w", (1, 2, 5, 50, 51, 300))
@pytest.mark.parametrize("piece", (7, 64, 1000, 1 << 20))
def test_screen_in_pieces_equals_the_whole_curve(monkeypatch: pytest.MonkeyPatch, screen: str, w: int,
                                                 piece: int) -> None:
    run, whole, min_rise, mult = _SCREENS[screen]
    monkeypatch.setattr(spike, "_SCREEN_PIECE", piece)
    rng = np.random.default_rng(w * mult + piece)
    for n in (1, 2, 3, w, w + 1, 999, 2500):
        v = np.exp(rng.normal(0, 0.3, n)) * np.linspace(3, 1, n)
        v[rng.integers(0, n, max(1, n // 50))] *= 4  # spikes
        v[rng.integers(0, n, max(1, n // 80))] = 1.0  # ties
        got = run(v, w, min_rise)
        np.testing.assert_array_equal(got, whole(v, w, min_rise))
        if n > 1000:
            assert got.size  # the spikes are there to be found


@pytest.mark.parametrize("w", (1, 5, 50))
def test_spike_points_with_windows_gathered_in_blocks_are_the_same(monkeypatch: pytest.MonkeyPatch, w: int) -> None:
    rng = np.random.default_rng(w)
    v = np.exp(rng.normal(0, 0.3, 5000)) * np.linspace(3, 1, 5000)
    v[rng.integers(0, 5000, 100)] *= 4
    v[:3] = 1.0  # candidates with a short history
    whole = spike._spike_points(v, w, 3.0, 0.2)
    assert whole[0].size
    for block in (1, 7, 64):
        monkeypatch.setattr(spike, "_WINDOW_VALUES", block)
        for got, want in zip(spike._spike_points(v, w, 3.0, 0.2), whole):
            np.testing.assert_array_equal(got, want)
