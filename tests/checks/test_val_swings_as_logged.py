"""OS001's validation swings on a long log: the range it prints is the range as logged, not of bin means."""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_long_validation_log_prints_its_logged_range_and_says_the_changes_are_between_means() -> None:
    # 400 evaluations in pairs: (1.0, 1.2), (2.0, 2.4), (1.0, 1.2), ... -- the detector compares means of
    # about 2 evaluations (1.1, 2.2, ...), but the loss as logged ran from 1 to 2.4
    rows = ["epoch,loss,val_loss"]
    for i in range(400):
        hi = (i // 2) % 2
        rows.append(f"{i},{1.0 - 0.001 * i:.4f},{(2.0 if hi else 1.0) * (1.2 if i % 2 else 1.0):g}")
    logset = LogSet([read_input(from_bytes(("\n".join(rows) + "\n").encode(), "history.csv"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("OS001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings if f.split == "val"]
    assert "between consecutive means of about 2 evaluations after step 80" in f.message
    assert "between 1 and 2.4 as logged" in f.message
