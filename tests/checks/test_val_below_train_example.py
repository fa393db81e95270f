"""GP002's example pair is one where validation is below training: "below the training loss at 83% of the aligned steps
..., e.g. 9.59 at step 1,019 vs training 5.404" (the last step, one of the few where it is not) contradicted the claim
it illustrates (Karasik777/ForecastTest, batch-6 dev)."""

from __future__ import annotations

import re

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_the_example_shows_validation_below_training() -> None:
    rows = ["epoch,loss,val_loss"]
    for e in range(30):
        tr = 2.0 * 0.95 ** e + 1.0
        va = tr * 0.7 if e != 29 else tr * 1.3  # below training everywhere but the last epoch
        rows.append(f"{e},{tr:.4f},{va:.4f}")
    ls = LogSet([read_input(from_bytes(("\n".join(rows) + "\n").encode(), "training.csv"), "keras-csv")])
    runs, _ = run_checks(ls, Config(select=("GP002",)), summaries=False)
    found = [f for r in runs for f in r.findings if f.rule == "GP002"]
    assert found, "GP002 did not fire"
    m = re.search(r"e\.g\. ([0-9.]+) vs ([0-9.]+) at step ([0-9,]+)", found[0].message)
    assert m, found[0].message
    val, train = float(m.group(1)), float(m.group(2))
    assert val < train
    assert m.group(3) == "28"
