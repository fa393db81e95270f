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


def test_analyze_has_its_real_signature():
    import inspect

    params = inspect.signature(lossdoc.analyze).parameters
    assert list(params) == ["paths", "format", "config", "select", "ignore", "fail_on", "baseline", "tolerance",
                            "horizon", "progress", "jobs", "scheduler", "split_runs"]
    from lossdoc.api import analyze as api_analyze

    # the top-level wrapper offers every option of lossdoc.api.analyze, with the same defaults
    assert {k: v.default for k, v in params.items()} == {
        k: v.default for k, v in inspect.signature(api_analyze).parameters.items()}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in params.items() if name != "paths")
    import pytest

    with pytest.raises(TypeError):
        lossdoc.analyze("x.log", fail_om="error")  # a misspelt option is a TypeError at once


def test_repr_is_one_short_line_and_html_repr_is_a_fragment():
    report = lossdoc.analyze(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")
    r = repr(report)
    assert "\n" not in r and len(r) <= 120 and r.startswith("<lossdoc.Report fail")
    assert "1 error" in r or "error" in r
    assert "\n" not in repr(report.runs[0]) and len(repr(report.runs[0])) <= 120
    frag = report._repr_html_()
    import re

    assert not re.search(r"<(html|head|body|!doctype)[\s>]", frag, re.I)
    assert '<div class="lossdoc-page">' in frag and "<style>" in frag and "<svg" in frag
    assert frag.rstrip().endswith("</div>")


def test_logset_to_pandas_without_pyarrow():
    import pytest

    pd = pytest.importorskip("pandas")
    logs = lossdoc.read(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")
    df = logs.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["run", "split", "metric", "name", "step", "epoch", "wall_time", "value"]
    assert len(df) == logs.frame.height
    assert df["value"].tolist()[:5] == logs.frame["value"].to_list()[:5]
    assert "\n" not in repr(logs)


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch):
    import sys

    import pytest

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    logs = lossdoc.read(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")
    with pytest.raises(ImportError, match=r"lossdoc\[pandas\]"):
        logs.to_pandas()


def test_analyze_a_directory_of_runs_in_two_processes_is_the_sweep(tmp_path):
    """``lossdoc.analyze(DIR, jobs=2)`` is what ``lossdoc analyze DIR -j 2`` does: a ranked sweep whose
    runs have the findings of the in-process sweep."""
    from lossdoc.sweep import SweepReport

    src = SAMPLE_LOGS / "runs" / "nanogpt"
    one = lossdoc.analyze(src, jobs=1)
    lines: list[str] = []
    two = lossdoc.analyze(src, jobs=2, progress=lines.append)
    assert isinstance(two, SweepReport) and len(two.runs) == len(one.runs) >= 2
    key = lambda rep: sorted((r.run, tuple(sorted((f.rule, f.start_step) for f in r.findings))) for r in rep.runs)
    assert key(two) == key(one)
    assert any(f.category == "divergence" for r in two.runs for f in r.findings)
    # progress is reported as the runs finish, ending with every run done
    assert lines and lines[-1].split("]")[1].strip().startswith(f"{len(two.runs)}/{len(two.runs)} runs")
