"""SI001's evidence states what the decision compared: the trailing decline (a share of the range the run
covered per fifth of the run) against min-rate, with the trend test's one-sided p-value; the test's own
statistic and alpha are in extra. It used to pair the test statistic with min-gain, a bound it was
never compared with."""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet

# eight epochs still falling monotonically (the rule case fail_short_log_still_falling)
LOG = "epoch,loss\n0,2.3009\n1,1.9367\n2,1.64\n3,1.3998\n4,1.202\n5,1.0363\n6,0.902\n7,0.79434\n"


def test_trend_evidence_is_the_decline_against_min_rate() -> None:
    logset = LogSet([read_input(from_bytes(LOG.encode(), "history.csv"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("SI001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    ev = f.evidence
    assert ev.method == "mann-kendall-exact"
    assert ev.threshold == 0.05  # min-rate
    assert ev.statistic == ev.extra["trailing_rate"] >= ev.threshold
    assert f"by {ev.statistic:.1%} of the range the run covered" in f.message
    assert "(derived from a least-squares slope; min-rate 5%)" in f.message and "p=0.042 (alpha 0.05)" in f.message  # the thresholds compared with
    assert ev.pvalue is not None and ev.pvalue < ev.extra["alpha"] == 0.05
    assert ev.extra["test_statistic"] == -1.0  # a monotone fall: Kendall's S over its maximum
    assert ev.window == (4, 7)
