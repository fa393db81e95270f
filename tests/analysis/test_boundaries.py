"""lossdoc.analysis stays pure: no imports from ingest/checks/report/cli, no I/O, no printing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lossdoc.analysis

PKG = Path(lossdoc.analysis.__file__).parent
MODULES = sorted(PKG.glob("*.py"))
FORBIDDEN_PREFIXES = ("lossdoc.ingest", "lossdoc.checks", "lossdoc.report", "lossdoc.cli", "lossdoc.api")
FORBIDDEN_CALLS = {"print", "open", "input"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_analysis_module_is_pure(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith(FORBIDDEN_PREFIXES), f"{path.name} imports {node.module}"
        if isinstance(node, ast.Import):
            for a in node.names:
                assert not a.name.startswith(FORBIDDEN_PREFIXES), f"{path.name} imports {a.name}"
                assert a.name not in ("os", "sys", "pathlib", "logging"), f"{path.name} imports {a.name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{path.name} calls {node.func.id}()"


def test_importing_the_package_imports_nothing_heavy():
    import subprocess
    import sys

    code = "import sys, lossdoc.analysis; print(any(m.startswith(('scipy', 'statsmodels')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
