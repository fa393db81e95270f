"""The public API is explicit and pinned (httpx's test_exported_members)."""

from __future__ import annotations

import lossdoc
from tests.conftest import SAMPLE_LOGS


def test_exported_members():
    assert sorted(lossdoc.__all__) == sorted(
        ["Evidence", "Finding", "LogSet", "LossdocError", "Report", "Severity", "__version__", "analyze", "read"])
    for name in lossdoc.__all__:
        assert getattr(lossdoc, name) is not None


def test_analyze_returns_a_report_with_findings_and_renders(tmp_path):
    report = lossdoc.analyze(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")
    assert isinstance(report, lossdoc.Report)
    assert report.verdict == "fail"
    assert any(f.category == "divergence" and f.severity == lossdoc.Severity.ERROR for f in report.findings)
    html = report.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html and "<svg" in html
    assert "loss-divergence" in report.to_markdown()
    assert '"schema": "lossdoc/report-1"' in report.to_json()
    assert report._repr_html_().startswith("<")
    logs = lossdoc.read(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")
    assert isinstance(logs, lossdoc.LogSet) and logs.frame.height > 0
