"""`lossdoc analyze` end to end: the checks engine fills the report, the renderers write it."""

from __future__ import annotations

import json

import pytest
from markupsafe import escape  # what jinja2's autoescape writes (' as &#39;; html.escape writes &#x27;)

from lossdoc.cli import main
from lossdoc.report.render_markdown import md
from tests.conftest import real_logs_available
from tests.report.builders import NANOGPT_LOG

pytestmark = pytest.mark.skipif(not real_logs_available(), reason="real logs not available")


def test_analyze_writes_html_markdown_and_summary(runner, tmp_path):
    html, mdf, js = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.json"
    res = runner.invoke(main, ["analyze", str(NANOGPT_LOG), "--html", str(html), "--markdown", str(mdf),
                               "--json", str(js)])
    doc = json.loads(js.read_text())
    # SOURCES.tsv: this run goes NaN from iter 425 on, so at least one error finding: exit 1.
    assert doc["verdict"] == "fail" and res.exit_code == 1, res.output
    findings = doc["runs"][0]["findings"]
    assert any(f["category"] == "non_finite" for f in findings)
    page, comment = html.read_text(), mdf.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert comment.startswith("## ❌ lossdoc: FAIL")
    for i, f in enumerate(sorted(findings, key=lambda f: ["error", "warning", "info"].index(f["severity"])), 1):
        assert f'id="finding-{i}"' in page
        assert str(escape(f["message"])) in page and str(escape(f["recommendation"])) in page
        assert md(f["message"], 400) in comment
    # Terminal summary on stdout (no TTY: no colour), then where the files went.
    out = res.output
    assert out.startswith(" FAIL ") and "\x1b" not in out
    assert f"HTML report: {html}" in out and f"Markdown report: {mdf}" in out


def test_markdown_to_stdout_suppresses_summary(runner, tmp_path):
    res = runner.invoke(main, ["analyze", str(NANOGPT_LOG), "--no-html", "--markdown", "-"])
    assert res.exit_code == 1
    assert res.output.startswith("## ❌ lossdoc: FAIL") and "```mermaid" in res.output
