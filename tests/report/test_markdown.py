"""The Markdown report (PR comment / job summary): content, Mermaid chart, size limit, escaping."""

from __future__ import annotations

import re

import pytest

from lossdoc.report.model import Report
from lossdoc.report.render_markdown import CHART_POINTS, MAX_CHARS, md
from tests.conftest import real_logs_available
from tests.report.builders import (
    XSS_IMG,
    XSS_SCRIPT,
    finding,
    hostile_report,
    real_nanogpt_report,
    synthetic_report,
)


@pytest.mark.skipif(not real_logs_available(), reason="real logs not available")
def test_verdict_numbers_findings_and_recommendations():
    r = real_nanogpt_report()
    text = r.to_markdown()
    lines = text.splitlines()
    assert lines[0] == "## ❌ lossdoc: FAIL — Problems found"
    assert "**1 error, 1 warning, 1 info in 1 run** · fails the gate (`--fail-on error`)" in text
    # Key numbers row: steps, final train loss (NaN), best val 3.369 at step 400, extrapolation.
    assert "| 🔴 chenzihua-nanogpt-kirin | 0–450 | NaN | 3.369 (400) | 3.2 [2.97, 3.43] @ 1,000 |" in lines
    # Findings table in severity order, each message and recommendation present.
    rows = [ln for ln in lines if re.match(r"\| \d+ \| ", ln) and "|---" not in ln]
    assert [row.split("|")[2].strip() for row in rows[:3]] == ["🔴 error", "🟠 warning", "🔵 info"]
    for f in r.findings:
        assert md(f.message, 400) in text
        assert md(f.recommendation, 600) in text
    assert "| 2 | ols-hac-slope | -2.6e-04 | -0.001 | 0.0312 | 100–400 |" in lines


def test_mermaid_xychart_has_at_most_chart_points():
    text = synthetic_report(20000).to_markdown()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block
    body = block.group(1)
    assert body.startswith("%%{init: ") and "\nxychart-beta\n" in body
    assert 'x-axis "step" ' in body and 'y-axis "loss" ' in body
    values = re.search(r"line \[(.*)\]", body).group(1).split(", ")
    assert 2 <= len(values) <= CHART_POINTS
    assert all(re.fullmatch(r"-?[\d.]+(e[-+]\d+)?", v) for v in values)


def test_pass_report_has_no_findings_table():
    text = synthetic_report(500, spike_at=None).to_markdown()
    assert text.startswith("## ✅ lossdoc: PASS")
    assert "No findings: every check that ran passed." in text
    assert "### Recommendations" not in text


def test_many_findings_are_truncated_with_a_note():
    r = synthetic_report(2000, spike_at=None)
    run = r.runs[0]
    long = "x" * 300
    run.findings = [finding("SP001", "loss-spike", "loss_spikes", "warning", run.run, i, i, f"spike {i} {long}",
                            f"do {i} {long}") for i in range(1000)]
    text = r.to_markdown()
    assert len(text) <= MAX_CHARS
    m = re.search(r"\*\*(\d+) more findings not shown\*\*", text)
    assert m
    shown = len([ln for ln in text.splitlines() if re.match(r"\| \d+ \| 🟠 warning", ln)])
    assert shown + int(m.group(1)) == 1000 and shown > 10


def test_hostile_strings_are_escaped():
    text = hostile_report().to_markdown()
    assert XSS_SCRIPT not in text and XSS_IMG not in text
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\x1b" not in text and "\x07" not in text
    # Markdown from a log cannot make links, code spans, emphasis, table cells or mentions.
    assert "\\[link\\](javascript:alert(1))" in text
    assert "\\`code\\` \\*bold\\*" in text and "\\|" in text
    assert "@everyone" not in text and "&#64;everyone" in text
    # The Mermaid title keeps only safe characters.
    title = re.search(r'title "([^"]*)"', text).group(1)
    assert re.fullmatch(r"[0-9A-Za-z _.,:/()+-]*", title)


def test_md_escape_table_cell():
    assert md("a|b") == "a\\|b"
    assert md("line\nbreak") == "line break"
    assert md("<b>&") == "&lt;b&gt;&amp;"
    assert md("see https://x.y") == "see https:&#47;&#47;x.y"


def test_empty_report_renders():
    text = Report(runs=[], version="0").to_markdown()
    assert text.startswith("## ✅ lossdoc: PASS") and "mermaid" not in text


def test_baseline_comparison_table():
    from tests.report.builders import sample_comparison

    r = synthetic_report(3000, runs=("gamma",))
    r.comparison = sample_comparison()
    text = r.to_markdown()
    assert r.verdict == "fail" and text.startswith("## ❌ lossdoc: FAIL")
    assert "**❌ Regressed** (tolerance 1%)" in text
    assert "- baseline: main (hf-trainer) · main/trainer\\_state.json" in text
    assert ("| final train loss (mean over steps 2,400..2,999) | 1.82 | 1.7 | 0.12 (+7.06%) | [0.05, 0.19] "
            "| 0.0020 | ❌ |") in text


def _mermaid(text: str) -> str:
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block
    return block.group(1)


def test_mermaid_draws_train_val_and_baseline_in_colours_set_in_the_init_block():
    import json

    import numpy as np

    from lossdoc.report.render_markdown import MERMAID_COLORS

    r = synthetic_report(20000, val_every=500)
    steps = np.arange(0, 20000, 100)
    r.runs[0].curves["baselines"] = [{"run": "main", "split": "train", "step": steps.tolist(),
                                      "loss": (1.6 + 2 / (1 + steps / 2000)).tolist()}]
    text = r.to_markdown()
    body = _mermaid(text)
    init = re.match(r"%%\{init: (.*)\}%%\n", body)
    assert init, body[:200]
    palette = json.loads(init.group(1))["themeVariables"]["xyChart"]["plotColorPalette"].split(", ")
    assert palette == [MERMAID_COLORS["train"], MERMAID_COLORS["val"], MERMAID_COLORS["baseline"]]
    lines = re.findall(r"^    line \[(.*)\]$", body, re.M)
    assert len(lines) == 3  # train, val, baseline: one colour each, in that order
    sizes = {len(v.split(", ")) for v in lines}
    assert len(sizes) == 1 and 2 <= sizes.pop() <= CHART_POINTS  # one step grid for every line
    lo, hi = (float(x) for x in re.search(r'y-axis "loss" (\S+) --> (\S+)', body).groups())
    assert all(lo <= float(x) <= hi for v in lines for x in v.split(", "))
    caption = text.split("```", 2)[2]
    assert "blue: train" in caption and "orange: val" in caption and "grey: baseline" in caption
    # GitHub: a comment is at most 65,536 characters; Mermaid refuses a diagram over its maxTextSize
    # (50,000 by default); the chart is a small part of either.
    assert len(body) < 5_000 and len(text) < 60_000


def test_mermaid_colours_follow_the_lines_drawn():
    import json

    from lossdoc.report.render_markdown import MERMAID_COLORS

    body = _mermaid(synthetic_report(3000, val_every=None).to_markdown())
    palette = json.loads(re.match(r"%%\{init: (.*)\}%%\n", body).group(1))["themeVariables"]["xyChart"]
    assert palette["plotColorPalette"] == MERMAID_COLORS["train"]
    assert len(re.findall(r"^    line \[", body, re.M)) == 1
