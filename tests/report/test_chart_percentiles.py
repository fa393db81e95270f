"""The charts' log-axis test takes the 5th and 95th percentiles without copying a 10^7-point curve:
the same floats as ``np.percentile``, from a bracket of the values or, failing that, from all."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.report import charts


@pytest.mark.parametrize("limit", (0, 10, 1 << 20))
def test_percentiles_equal_numpys(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(charts, "_PERCENTILE_COPY", limit)
    rng = np.random.default_rng(limit + 1)
    curves = [
        np.exp(rng.normal(0, 2, 200_001)),  # lognormal
        np.linspace(5, 0.1, 150_000),  # a monotone curve (strided sample of sorted values)
        np.round(rng.uniform(0, 3, 100_000), 1),  # many ties
        np.full(70_000, 2.5),  # all equal
        np.array([1.0, 3.0]),
        rng.uniform(1e-3, 1, 11),
    ]
    for v in curves:
        v.setflags(write=False)  # as polars lends them
        for qs in ((5, 95), (0, 100), (50,), (2.5, 97.5)):
            want = [float(x) for x in np.percentile(v, qs)]
            assert charts._percentiles(v, qs) == want


def test_wide_range_decides_as_before() -> None:
    v = np.geomspace(1e-5, 1, 300_000)
    assert charts._wide_range([v], 1e3) and not charts._wide_range([np.linspace(1, 2, 300_000)], 100)
