"""The array helpers that keep step arrays from being copied whole: ``search`` finds the same positions as
``np.searchsorted`` for every kind of probe (numpy copies the whole array to the probe's type when they
differ: an int32 array probed with an int64 or float, an int64 one with a float), and the bin step sums of
``bin_series`` are the same for int32 steps as for int64 steps."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

from lossdoc.analysis import downsample
from lossdoc.analysis._arrays import search
from lossdoc.analysis.downsample import bin_series

PROBES = [np.int64(5), 5, 5.5, -0.5, 2.0**31, 2**31, 2**31 - 1, -2**40, 2**40, float("nan"), float("inf"),
          -float("inf"), np.array([0, 3, 2**31, -1, 7], dtype=np.int64), np.array([0.5, np.nan, 2.5e9, -3.2]),
          [1, 2], np.array([], dtype=np.int64), np.array([3, 4], dtype=np.int32), np.float32(2.5),
          np.array([1, 2], dtype=np.uint8), 1e300, -1e300, np.array([[1.5, 2.5]]), 7.0, np.uint64(2**63 + 5)]


@pytest.mark.parametrize("seed", range(20))
def test_search_on_integer_steps_is_searchsorted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    wide = np.sort(rng.choice([-5, 0, 1, 2, 3, 5, 7, 100, 2**31 - 2, 2**31 - 1], int(rng.integers(0, 40))))
    for steps in (wide.astype(np.int32), wide.astype(np.int64), wide.astype(np.int64) + 2**40):
        for probe, side in itertools.product(PROBES, ("left", "right")):
            want = np.searchsorted(steps.astype(np.float64 if np.asarray(probe).dtype.kind == "f" else np.int64),
                                   probe, side=side)
            got = search(steps, probe, side)
            assert np.ndim(got) == np.ndim(want)
            np.testing.assert_array_equal(got, want, err_msg=f"{steps.dtype} {probe!r} {side}")


@pytest.mark.parametrize(("dtype", "probe"), [(np.int32, np.int64(123_456)), (np.int32, 123_456.5),
                                              (np.int64, 123_456.5), (np.int32, np.array([5, 7]))])
def test_search_does_not_copy_the_steps(dtype: type, probe: object) -> None:
    steps = np.arange(10**6, dtype=dtype)
    tracemalloc.start()
    try:
        got = search(steps, probe, "right")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(got, np.searchsorted(steps.astype(np.float64), probe, side="right"))
    assert peak < steps.nbytes // 10  # np.searchsorted copies all of it (4-8 MB here)


def test_search_on_other_arrays_is_searchsorted() -> None:
    a = np.array([0.5, 1.0, 2.5])
    assert search(a, 1.0, "right") == np.searchsorted(a, 1.0, side="right")
    b = np.arange(10, dtype=np.int64)
    np.testing.assert_array_equal(search(b, [2.5, 3]), np.searchsorted(b, [2.5, 3]))


@pytest.mark.parametrize("seed", range(10))
def test_bins_of_int32_steps_match_int64_steps(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downsample, "_BLOCK", 64)  # bin sums taken a few bins at a time
    rng = np.random.default_rng(seed)
    n = int(rng.integers(300, 3000))
    steps = np.unique(rng.integers(0, 2**31 - 1, n))
    y = rng.normal(size=steps.size)
    a, b = bin_series(steps.astype(np.int32), y, 37), bin_series(steps.astype(np.int64), y, 37)
    for field in ("step", "mean", "min", "max", "count", "first", "last"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_last_quarter_bounds_are_the_last_quarter_of_each_interval_since_the_previous_evaluation() -> None:
    from lossdoc.analysis._arrays import last_quarter_bounds

    ts = np.arange(1, 101)  # training losses logged at steps 1..100
    vs = np.array([8, 40, 41, 100])  # evaluations
    lo, hi = last_quarter_bounds(ts, vs)
    # (0, 8]: 8 losses, the last 2 (steps 7-8); (8, 40]: 32, the last 8 (33-40); (40, 41]: 1, itself;
    # (41, 100]: 59, the last 14 (87-100)
    assert [(int(ts[a]), int(ts[b - 1])) for a, b in zip(lo, hi)] == [(7, 8), (33, 40), (41, 41), (87, 100)]
    # an interval with no training loss gets none (GP001 then leaves the evaluation out)
    lo, hi = last_quarter_bounds(np.array([10, 20]), np.array([15, 16, 20]))
    assert (hi - lo).tolist() == [1, 0, 1]
