"""Learning rates in messages: a logged or configured LR is shown as logged (4 significant digits, like
every logged number of a report), a target LR the advice invents is rounded as people write LRs."""

from __future__ import annotations

import pytest

from lossdoc.checks.detectors._common import round_lr, shown_lr


@pytest.mark.parametrize(("logged", "shown"), [(0.0139, "0.0139"), (2.98e-05, "2.98e-5"), (1.565e-06, "1.565e-6"),
                                               (3e-4, "3e-4"), (0.05, "0.05"), (1.0, "1"), (2.5e-4, "2.5e-4"),
                                               (0.00123456, "1.235e-3")])
def test_logged_lr_is_shown_as_logged(logged: float, shown: str) -> None:
    assert shown_lr(logged) == shown
    assert float(shown_lr(logged)) == pytest.approx(logged, rel=5e-4)


def test_targets_stay_rounded() -> None:
    # the advice's targets (the peak / 3 to / 2, a range test's bounds) are suggestions, not readings
    assert round_lr(0.0139 / 3) == "4.6e-3" and round_lr(3e-4 / 2) == "1.5e-4"
