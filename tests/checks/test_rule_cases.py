"""Rule cases as data (sqlfluff style): tests/checks/rule_cases/<ID>.yaml, ids <ID>_<case>."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossdoc.testing import load_rule_cases, run_rule_case

ROOT = Path(__file__).resolve().parents[2]
CASES = load_rule_cases(Path(__file__).parent / "rule_cases")


@pytest.mark.parametrize(("rule", "name", "case"), CASES, ids=[f"{r}_{n}" for r, n, _ in CASES])
def test_rule_case(rule: str, name: str, case: dict) -> None:
    findings = run_rule_case(rule, case, root=ROOT)
    if name.startswith("fail_"):
        assert findings, f"{rule}_{name}: a fail_ case must produce a finding"
