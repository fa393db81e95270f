"""One report, one LR target: the symptom findings (NF00x, DV00x, OS001, SP001) and the likely-cause
finding LR006 on the same run name the same target LR, so a user is never told "2-3x" in one finding
and "3-10x" or "a fifth" in the next (the nanoGPT divergence sample of the README did exactly that)."""

from __future__ import annotations

import re

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import read
from lossdoc.testing import synth_logset
from tests.conftest import SAMPLE_LOGS


def _recommendations(logset) -> dict[str, str]:
    runs, _ = run_checks(logset, Config(), summaries=False)
    return {f.rule: f.recommendation for r in runs for f in r.findings if f.recommendation}


def test_nan_at_peak_lr_one_target():
    recs = _recommendations(synth_logset(steps=1000, seed=7, schedule="constant", lr=0.003,
                                         inject=[{"kind": "nan", "at": 600}]))
    assert "LR006" in recs
    targets = {rule: m.group(0) for rule, text in recs.items()
               if (m := re.search(r"lower the peak LR from \S+ to [0-9.e+-]*[0-9]", text))}
    assert "LR006" in targets and len(targets) >= 2, recs
    assert len(set(targets.values())) == 1, targets
    assert targets["LR006"] == "lower the peak LR from 3e-3 to 1e-3-1.5e-3", targets


def test_no_logged_lr_one_factor():
    recs = _recommendations(read(str(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")))
    assert {"DV001", "LR006"} <= set(recs), recs
    factors = {rule: m.group(1) for rule, text in recs.items()
               if (m := re.search(r"lower the learning rate (\S+x)", text))}
    assert factors.get("LR006") == "2-3x" and factors.get("DV001") == "2-3x", factors
