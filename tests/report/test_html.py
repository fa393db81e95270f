"""The HTML report: structure, key content, charts, size, self-containment, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lossdoc.model import make_frame
from lossdoc.report.model import Report
from tests.conftest import real_logs_available
from tests.report.builders import (
    XSS_IMG,
    XSS_SCRIPT,
    finding,
    hostile_report,
    real_nanogpt_report,
    run_from_frame,
    synthetic_frame,
    synthetic_report,
)

needs_real = pytest.mark.skipif(not real_logs_available(), reason="real logs not available")


class _Collector(HTMLParser):
    """Tags, attributes and text of a document (to assert on structure, not on string layout)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.svg_titles: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        self.text.append(data)
        # The chart's own title (a child of <svg>), not the hover titles of its points.
        if len(self.stack) >= 2 and self.stack[-1] == "title" and self.stack[-2] == "svg":
            self.svg_titles.append(data)

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(html: str) -> _Collector:
    p = _Collector()
    p.feed(html)
    p.close()
    return p


@pytest.fixture(scope="module")
def nanogpt_html() -> tuple[Report, str]:
    if not real_logs_available():
        pytest.skip("real logs not available")
    r = real_nanogpt_report()
    return r, r.to_html()


@needs_real
def test_verdict_and_key_numbers_at_the_top(nanogpt_html):
    report, html = nanogpt_html
    doc = parse(html)
    text = doc.all_text()
    assert report.verdict == "fail"
    h1 = html.index("<h1")
    # The verdict comes first, then the numbers, before the charts and the findings.
    assert "FAIL" in html[:h1 + 400] and "Problems found" in html[h1:h1 + 400]
    assert html.index("Final train loss") < html.index('id="curves-h"') < html.index('id="findings-h"')
    # nanoGPT log: best val 3.3687 at step 400 (the last eval line), train loss NaN at the end.
    assert "Best val loss 3.369 at step 400" in text
    assert "Final train loss NaN" in text
    assert "Extrapolated loss at step 1,000 3.2 interval 2.97 – 3.43 · exponential fit" in text
    # the last step as logged (not a count of steps: an epoch-indexed log 0-19 ran 20 epochs)
    assert "Last step logged 450 0–450" in text


@needs_real
def test_each_finding_has_message_evidence_and_recommendation_in_severity_order(nanogpt_html):
    report, html = nanogpt_html
    doc = parse(html)
    text = doc.all_text()
    positions = []
    for i, f in enumerate(sorted(report.findings, key=lambda f: -int(f.severity)), start=1):
        assert f"finding-{i}" in doc.ids()
        assert f.message in text and f.recommendation in text
        positions.append(text.index(f.message))
    assert positions == sorted(positions)  # error, warning, info
    # Evidence of the plateau finding: method, statistic, threshold, p-value, window.
    block = html[html.index('id="finding-2"'):html.index('id="finding-3"')]
    block_text = parse(block).all_text()
    for s in ("Method ols-hac-slope", "Statistic -2.6e-04", "Threshold -0.001", "p-value 0.0312",
              "Window steps 100–400", "relative change -0.037"):
        assert s in block_text


@needs_real
def test_charts_are_inline_svg_with_titles_and_finding_links(nanogpt_html):
    _, html = nanogpt_html
    doc = parse(html)
    svgs = [a for t, a in doc.tags if t == "svg"]
    assert len(svgs) == 3  # loss linear, loss log, dynamics (val-train gap)
    assert all(a.get("role") == "img" and a.get("aria-labelledby") for a in svgs)
    assert doc.svg_titles == ["Loss by step (linear scale)", "Loss by step (log scale)", "Training dynamics by step"]
    # Numbered marks link to the findings that have a step span (1: NaN, 2: plateau; 3 has none).
    links = {a.get("xlink:href") or a.get("href") for t, a in doc.tags if t == "a"}
    assert {"#finding-1", "#finding-2"} <= links and "#finding-3" not in links
    assert len(doc.tags and [t for t, _ in doc.tags if t == "figcaption"]) == 3
    # Text stays text (svg.fonttype none) and ids are unique across the inline SVGs.
    assert "<text" in html
    ids = [a["id"] for _, a in doc.tags if a.get("id")]
    assert len(ids) == len(set(ids))


@needs_real
def test_run_metadata_rules_and_notes(nanogpt_html):
    report, html = nanogpt_html
    text = parse(html).all_text()
    run = report.runs[0]
    assert run.source in text and "Detected format nanogpt" in text
    assert f"lossdoc {report.version}" in text
    assert "SP001 loss-spike loss spikes warning window = 50, zscore = 6.0" in text
    for s in run.series:
        assert s.name in text


def test_self_contained_no_network_no_script():
    html = synthetic_report(3000, runs=("a", "b")).to_html()
    lower = html.lower()
    assert "<script" not in lower
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", lower)
    assert "url(http" not in lower and "@import" not in lower and "@font-face" not in lower
    assert "<link" not in lower and "<img" not in lower and "<iframe" not in lower
    assert "default-src 'none'" in html  # CSP: even a bug could not fetch anything


def test_multi_run_overlay_table_and_comparison():
    r = synthetic_report(3000, runs=("alpha", "beta", "gamma"))
    # The shape lossdoc.compare.compare_report returns.
    r.comparison = {
        "regressed": True, "tolerance": 0.01, "alpha": 0.05, "method": "circular block bootstrap",
        "baselines": [{"run": "main", "source": "main/trainer_state.json", "format": "hf-trainer",
                       "last_step": 2999}],
        "runs": [{"run": "gamma", "source": "g", "series": "train/loss", "regressed": True,
                  "note": "compared on the common range 0..2,999",
                  "quantities": [
                      {"name": "final_train_loss", "label": "final train loss (mean over steps 2,400..2,999)",
                       "candidate": 1.82, "baseline": 1.70, "difference": 0.12, "relative": 0.0706,
                       "ci": [0.05, 0.19], "level": 0.9, "test": "circular block bootstrap", "pvalue": 0.002,
                       "margin": 0.017, "regressed": True, "gating": True},
                      {"name": "steps_to_baseline_final", "label": "steps to reach the baseline's final loss",
                       "candidate": None, "baseline": 2900.0, "difference": None, "relative": None, "ci": None,
                       "test": "first crossing", "pvalue": None, "regressed": True, "gating": False}]}]}
    html = r.to_html()
    doc = parse(html)
    text = doc.all_text()
    assert r.verdict == "fail"
    assert "Runs" in text and "Comparison with the baseline regressed" in text
    for name in ("alpha", "beta", "gamma"):
        assert f"{name} hf-trainer" in text
    assert "Baseline main (hf-trainer) · main/trainer_state.json" in text and "Tolerance 1%" in text
    assert ("final train loss (mean over steps 2,400..2,999) circular block bootstrap 1.82 1.7 0.12 +7.06% "
            "[0.05, 0.19] 0.0020 worse") in text
    assert ("steps to reach the baseline's final loss first crossing — 2,900 — — — — worse (informational)"
            in text)
    assert "compared on the common range 0..2,999" in text
    rows = [a for t, a in doc.tags if t == "tr" and a.get("class") == "bad"]
    assert len(rows) == 1  # only the gating quantity is marked as a regression
    # One legend entry per run in the overlaid loss chart.
    for name in ("alpha", "beta", "gamma"):
        assert f">{name} train (smoothed)<" in html


def test_no_findings_says_so():
    r = synthetic_report(500, spike_at=None)
    html = r.to_html()
    assert r.verdict == "pass"
    text = parse(html).all_text()
    assert "PASS" in text and "No findings: every check that ran passed." in text


def test_hostile_strings_appear_only_escaped():
    html = hostile_report().to_html()
    doc = parse(html)
    # No element or attribute was injected: only the template's own tags exist.
    assert not [t for t, _ in doc.tags if t in ("script", "img", "iframe", "object", "embed")]
    assert not [a for _, a in doc.tags for k in a if k.startswith("on")]
    assert XSS_SCRIPT not in html and XSS_IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The strings are still shown (escaped), in text and in the chart's SVG (legend, desc).
    text = doc.all_text()
    assert XSS_SCRIPT in text and "onerror=alert(1)>" in text
    assert "\x1b" not in html and "\x07" not in html
    assert "javascript:" not in html.replace("[link](javascript:alert(1))", "")


def test_svg_text_from_log_is_escaped_and_mathtext_inert():
    frame = synthetic_frame("r", 300, seed=3, val_every=None, lr=False, grad_norm=False)
    frames = [frame.with_columns(pl.lit(name).alias("run")) for name in (f"{XSS_SCRIPT}$x^2$", "b&c_")]
    runs = [run_from_frame(f, source="s", fmt="f") for f in frames]
    html = Report(runs=runs, version="0").to_html()
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;$x^2$ train (smoothed)" in svg
    assert "b&amp;c_ train (smoothed)" in svg


def test_huge_log_stays_small_and_keeps_spikes():
    # 10^7 steps of a seeded decay with one 4x spike at step 6,543,210.
    n = 10_000_000
    rng = np.random.default_rng(20260522)
    steps = np.arange(n, dtype=np.int64)
    loss = 1.5 + 2.5 * (1 + steps / 2e5) ** -0.7 + 0.02 * rng.standard_normal(n)
    loss[6_543_210] = 40.0
    frame = pl.DataFrame({"step": steps, "value": loss}).select(
        run=pl.lit("big"), split=pl.lit("train"), metric=pl.lit("loss"), name=pl.lit("loss"), step="step",
        epoch=pl.lit(None, pl.Float64), wall_time=pl.lit(None, pl.Float64), value="value")
    f = finding("SP001", "loss-spike", "loss_spikes", "warning", "big", 6_543_210, 6_543_210, "spike", "clip")
    r = Report(runs=[run_from_frame(frame, source="big.log", fmt="text", findings=[f])], version="0")
    html = r.to_html()
    assert len(html.encode()) < 1_500_000
    # The spike survives down-sampling: the y axis reaches 40 (a tick at 40 on the linear chart).
    linear = html[html.index('id="chart-loss-linear"'):html.index('id="chart-loss-log"')]
    assert re.search(r">40<|>40\.0<", linear)


def test_templates_ship_inside_the_package():
    from importlib.resources import files

    t = files("lossdoc") / "report" / "templates"
    assert (t / "report.html.j2").is_file() and (t / "_style.css").is_file()


def test_runs_on_different_scales_get_one_chart_each():
    small = synthetic_frame("small", 3000, seed=5, val_every=None)
    big = synthetic_frame("big", 3000, seed=6, val_every=None).with_columns(pl.col("value") * 1000)
    r = Report(runs=[run_from_frame(small, source="a", fmt="f"), run_from_frame(big, source="b", fmt="f")],
               version="0")
    doc = parse(r.to_html())
    figs = [a["id"] for t, a in doc.tags if t == "figure"]
    assert figs[:4] == ["chart-loss-1-linear", "chart-loss-1-log", "chart-loss-2-linear", "chart-loss-2-log"]
    assert doc.svg_titles[:2] == ["small: loss by step (linear scale)", "small: loss by step (log scale)"]


def test_component_losses_are_summed_like_the_checks_do():
    # YOLO-style: no `loss`, three component losses; the chart draws their sum.
    parts = []
    for k, comp in enumerate(("box_loss", "cls_loss", "dfl_loss")):
        parts.append(make_frame({"run": "yolo", "split": "train", "metric": comp, "name": f"train/{comp}",
                                 "step": list(range(10)), "value": [float(k + 1)] * 10}))
    r = Report(runs=[run_from_frame(pl.concat(parts), source="results.csv", fmt="yolo")], version="0")
    from lossdoc.report.present import loss_series

    s = loss_series(r.runs[0], "train")
    assert s.label == "train/box_loss + train/cls_loss + train/dfl_loss"
    assert s.values.tolist() == [6.0] * 10
    assert "train loss from 6 at step 0 to 6 at step 9" in r.to_html()


def test_thousands_of_findings_are_capped():
    from lossdoc.report.render_html import MAX_CHART_MARKS, MAX_FINDINGS

    r = synthetic_report(2000, spike_at=None)
    run = r.runs[0]
    run.findings = [finding("SP001", "loss-spike", "loss_spikes", "warning", run.run, i, i, f"spike {i}", "clip")
                    for i in range(2000)]
    html = r.to_html()
    doc = parse(html)
    assert len([a for t, a in doc.tags if t == "li" and "finding" in (a.get("class") or "")]) == MAX_FINDINGS
    assert f"{2000 - MAX_FINDINGS} more findings are not listed here" in doc.all_text()
    linear = html[html.index('id="chart-loss-linear"'):html.index('id="chart-loss-log"')]
    assert len(re.findall(r'href="#finding-\d+"', linear)) == MAX_CHART_MARKS
    assert len(html.encode()) < 1_500_000


def test_baseline_curves_are_overlaid_when_attached():
    r = synthetic_report(3000, runs=("cand",))
    steps = np.linspace(0, 2999, 300)
    r.runs[0].curves["baselines"] = [{"run": "main<b>", "split": "train", "step": steps.tolist(),
                                      "loss": (1.4 + 2.6 * (1 + steps / 60) ** -0.7).tolist()}]
    html = r.to_html()
    linear = html[html.index('id="chart-loss-linear"'):html.index('id="chart-loss-log"')]
    assert ">baseline main&lt;b&gt;<" in linear


def test_rendering_leaves_matplotlib_global_state_alone():
    # A notebook user's backend must survive report.to_html() / _repr_html_().
    import subprocess
    import sys

    code = ("import matplotlib, sys; matplotlib.use('svg')\n"
            "from tests.report.builders import synthetic_report\n"
            "html = synthetic_report(500, spike_at=None)._repr_html_()\n"
            "assert '<svg' in html\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["svg", "False"]


def test_log_scale_loss_axis_is_labelled_with_plain_numbers():
    # "2", "3", "10" on the log chart, not matplotlib's "2x10^0" (hard to read as a loss)
    r = Report(runs=[run_from_frame(synthetic_frame("r", 3000, seed=5, val_every=None), source="a", fmt="f")],
               version="0")
    html = r.to_html()
    start = html.index('id="chart-loss-log"')
    svg = html[start:html.index("</svg>", start)]
    labels = [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]
    numbers = [s for s in labels if re.fullmatch(r"[-\u2212]?[\d.]+(e[-+]?\d+)?", s)]
    assert len(numbers) >= 3  # x ticks and at least some y ticks
    assert not any("×" in s or "\u00d7" in s for s in labels), labels


def test_gap_panel_shows_a_trend_through_noisy_dense_evaluations():
    # 2,000 evaluations, each 0.05 above the training loss plus +-0.2 noise: the drawn gap line is the
    # smoothed one (its wiggle a fraction of the raw spread), every evaluation still in the faint band
    from lossdoc.report.present import gap_chart_series, loss_series

    rng = np.random.default_rng(3)
    steps = np.arange(0, 200_000, 10)
    train = 2.0 + 8.0 * (1 + steps / 2000.0) ** -0.5
    vsteps = steps[::10]
    val = 2.05 + 8.0 * (1 + vsteps / 2000.0) ** -0.5 + rng.normal(0, 0.2, vsteps.size)
    frame = pl.concat([
        make_frame({"run": "r", "split": "train", "metric": "loss", "name": "train/loss", "step": steps.tolist(),
                    "value": (train + rng.normal(0, 0.02, steps.size)).tolist()}),
        make_frame({"run": "r", "split": "val", "metric": "loss", "name": "val/loss", "step": vsteps.tolist(),
                    "value": val.tolist()})])
    run = run_from_frame(frame, source="t.log", fmt="f")
    g = gap_chart_series(loss_series(run, "train", smooth=True), loss_series(run, "val"))
    assert g is not None and g.smooth is not None
    late = g.smooth.step > 20_000
    assert abs(float(np.median(g.smooth.mean[late])) - 0.05) < 0.03  # the offset can be read off the line
    assert float(np.std(g.smooth.mean[late])) < 0.25 * float(np.std(g.values))
    assert g.binned.max.max() == g.values.max() and g.binned.min.min() == g.values.min()
    # few evaluations: drawn as they are, no smoothing
    sparse = gap_chart_series(loss_series(run, "train", smooth=True), loss_series(
        run_from_frame(frame.filter((pl.col("split") == "train") | (pl.col("step") % 5000 == 0)), source="t", fmt="f"),
        "val"))
    # all 40: the training level at an evaluation comes from the logged losses up to its step
    assert sparse is not None and sparse.smooth is None and sparse.values.size == 40
