"""The memory-lean helpers of the analysis path give what their one-line numpy/polars forms gave."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lossdoc.checks.series import Series
from lossdoc.checks.summary import _logged_min
from lossdoc.ingest.normalise import _goes_down, normalise_blocks
from lossdoc.model import conform


@pytest.mark.parametrize(("at", "how"), [(1, "back"), (1 << 20, "repeat"), ((1 << 20) + 1, "back"),
                                         ((2 << 20) + 4, "repeat")])
def test_a_step_going_down_is_found_at_any_place(at: int, how: str) -> None:
    # the steps are compared in slices of 2^20: a step going down at a slice's edge counts too
    steps = np.arange((2 << 20) + 5, dtype=np.int64)
    assert not _goes_down(pl.Series("step", steps))
    steps[at] = steps[at - 1] - (how == "back")
    assert _goes_down(pl.Series("step", steps))


@pytest.mark.parametrize("how", ["repeat", "back"])
def test_a_block_whose_steps_go_down_is_normalised_and_noted(how: str) -> None:
    steps = np.array([1, 2, 3, 3 if how == "repeat" else 2, 5])
    block = conform(pl.DataFrame({"run": "r", "split": "train", "metric": "loss", "name": "loss",
                                  "step": steps, "value": np.ones(steps.size)}))
    _, notes = normalise_blocks([block])
    assert notes and notes[0].kind == ("duplicate_steps" if how == "repeat" else "restart")
    clean = block.with_columns(pl.Series("step", [1, 2, 3, 4, 5]))
    out, notes = normalise_blocks([clean])
    assert notes == [] and out[0] is clean  # returned as it is


def test_steps_with_nulls_or_chunks_are_checked_as_before() -> None:
    assert not _goes_down(pl.Series("step", [1, None, 3]))
    assert _goes_down(pl.Series("step", [3, 1, None, 4]))
    assert not _goes_down(pl.Series("step", [1, 3, None, 2]))  # (diff next to a null is null, as before)
    two = pl.concat([pl.Series("step", [1, 2]), pl.Series("step", [2, 3])], rechunk=False)
    assert two.n_chunks() == 2 and _goes_down(two)


def test_best_logged_value_is_the_first_smallest_finite_one_not_left_out() -> None:
    v = np.array([3.0, np.nan, 1.0, -np.inf, 1.0, 0.5, 2.0])
    s = Series("train", "loss", "loss", np.arange(10, 17), v)
    assert _logged_min(s) == (0.5, 15)
    assert _logged_min(s, np.array([False] * 5 + [True, False])) == (1.0, 12)
    assert _logged_min(s, np.array([True, False, True, False, True, True, True])) is None
    zeros = Series("train", "loss", "loss", np.arange(3), np.array([1.0, -0.0, 0.0]))
    assert _logged_min(zeros) == (-0.0, 1)
    lent = pl.Series([2.0, 1.0, 1.0]).to_numpy()  # read-only, as polars lends it
    assert _logged_min(Series("train", "loss", "loss", np.arange(3), lent)) == (1.0, 1)
