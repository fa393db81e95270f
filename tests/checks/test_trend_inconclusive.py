"""LG007 in a full run of the checks: the note a user gets when no check could judge a noisy loss, and none beside a
finding that did judge it (the runner drops it: "no trend the log can measure" would contradict that finding)."""

from __future__ import annotations

import json

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.testing import synth_logset

#: a per-step loss that fell from 7 to ~5 early, then scatters +-15% about a flat level (rules/LG007.toml's example)
NOISY_FLAT = dict(steps=500, start=7.0, floor=5.0, tau=20, alpha=1.0, noise=0.15, phi=0.0, schedule="constant", seed=2)


def _findings(cfg: Config, **kw: object) -> list:
    runs, _ = run_checks(synth_logset(**{**NOISY_FLAT, **kw}), cfg, summaries=False)
    return [f for r in runs for f in r.findings]


def test_a_noisy_flat_tail_no_check_could_judge_gets_the_note_alone() -> None:
    found = _findings(Config())
    assert [f.rule for f in found] == ["LG007"]
    note = found[0]
    assert note.severity.name == "INFO" and "(inconclusive)" in note.message
    # no decision, so no p-value: the report must not print "p-value NaN" (JSON null, no NaN token)
    assert note.evidence.pvalue is None
    assert "NaN" not in json.dumps(note.to_dict()["evidence"])


def test_no_note_beside_a_finding_that_judged_the_series() -> None:
    # the same scatter about a level the loss never left: UF001 and PL001 judge it, so LG007 (which fires on its own
    # here) is dropped
    assert [f.rule for f in _findings(Config(select=("LG007",)), start=5.0)] == ["LG007"]
    found = _findings(Config(), start=5.0)
    assert {f.category for f in found} >= {"underfitting", "plateau"}
    assert not [f for f in found if f.rule == "LG007"]
