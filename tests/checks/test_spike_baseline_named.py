"""SP001's recommendation names the baseline its factor was measured against, as the message does: a spike
in a short series (a few evaluations) is sized against the median of the points around it, not a trailing
median (the recommendation said 'trailing median' whatever the message said)."""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_short_series_spike_recommendation_names_the_median_around_it() -> None:
    val = [3.0, 2.5, 2.2, 2.0, 1.9, 3.5, 1.8, 1.75, 1.7, 1.68]
    text = "epoch,loss,val_loss\n" + "".join(f"{i},{2.0 / (i + 1) + 0.5:.4f},{v}\n" for i, v in enumerate(val))
    logset = LogSet([read_input(from_bytes(text.encode(), "training.log"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("SP001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    # 3.5 against the median of 2.0, 1.9 (before) and 1.8, 1.75 (after) = 1.85: 1.89x
    assert "largest 1.89x the median of the points around it (1.85 -> 3.5" in f.message
    assert "Largest spike at step 5 (1.89x the median of the points around it, 1 spike(s) in all)" in f.recommendation
    assert "trailing median" not in f.recommendation
