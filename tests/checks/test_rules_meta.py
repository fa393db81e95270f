"""Every rule file is valid and documented, and has pass/fail/override cases (STYLE.md §1.10, house rule 5)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lossdoc.checks.selection import get_detectors, render_template
from lossdoc.checks.findings import CATEGORIES
from lossdoc.checks.rulefile import DOC_FIELDS, NAME_RE, load_rule_file, load_rules
from lossdoc.testing import load_rule_cases

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((ROOT / "rules").glob("*.toml"))
CASES = load_rule_cases(Path(__file__).parent / "rule_cases")


def test_rules_loaded_from_the_package_equal_the_files_in_rules():
    assert {p.stem for p in RULE_FILES} == set(load_rules())


def test_ids_and_names_unique():
    specs = [load_rule_file(p) for p in RULE_FILES]
    assert len({s.id for s in specs}) == len(specs)
    assert len({s.name for s in specs}) == len(specs)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file(path: Path) -> None:
    spec = load_rule_file(path)  # validates keys, id format, category, severity
    assert spec.id == path.stem
    assert NAME_RE.match(spec.name)
    assert spec.category in CATEGORIES
    assert spec.detector in get_detectors(), f"{spec.id}: unknown detector {spec.detector}"
    for f in DOC_FIELDS:
        assert spec.doc()[f].strip(), f"{spec.id}: empty {f}"
    # every threshold in [params] has a comment in the file saying what it means
    raw = path.read_text(encoding="utf-8")
    for k in spec.params:
        line = next(ln for ln in raw.splitlines() if ln.startswith(f"{k} ") or ln.startswith(f"{k}="))
        assert "#" in line, f"{spec.id}: parameter {k} has no comment"
    # the recommendation template renders without leftover format errors
    assert "{" not in render_template("{x}", {"x": 1})
    tomllib.loads(raw)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_has_cases(path: Path) -> None:
    rid = path.stem
    spec = load_rule_file(path)
    names = [n for r, n, _ in CASES if r == rid]
    assert names, f"{rid}: no tests/checks/rule_cases/{rid}.yaml"
    assert any(n.startswith("pass_") for n in names), f"{rid}: no pass_ case"
    assert any(n.startswith("fail_") for n in names), f"{rid}: no fail_ case"
    if spec.params:
        assert any("params" in c for r, _, c in CASES if r == rid), f"{rid}: no case overrides its params"
        for r, n, c in CASES:
            if r == rid and "params" in c:
                assert set(c["params"]) <= set(spec.params), f"{rid}_{n}: unknown params"


def test_case_files_name_existing_rules():
    ids = {p.stem for p in RULE_FILES}
    assert {r for r, _, _ in CASES} <= ids
