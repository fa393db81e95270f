"""Odd but legal reports render in every format without error (and without charts they cannot draw)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from lossdoc.model import make_frame
from lossdoc.report.model import Report, RunReport, RunSummary
from tests.report.builders import finding, run_from_frame, synthetic_frame


def _frame(split: str, steps, values, metric: str = "loss") -> pl.DataFrame:
    return make_frame({"run": "r", "split": split, "metric": metric, "name": f"{split}_{metric}", "step": steps,
                       "value": values})


CASES = {
    "val-only": _frame("val", [0, 10, 20], [3.0, 2.0, 1.5]),
    "single-point": _frame("train", [5], [2.0]),
    "all-nan": _frame("train", list(range(50)), [math.nan] * 50),
    "negative-loss": _frame("train", list(range(200)), list(np.linspace(-1.0, -5.0, 200))),
    "same-step": _frame("train", [0, 0, 0], [1.0, 2.0, 3.0]),
    "inf-and-huge": _frame("train", list(range(300)), [1e30 if i == 150 else (math.inf if i == 151 else 2.0)
                                                      for i in range(300)]),
    "no-loss": _frame("train", list(range(100)), list(np.linspace(0.1, 0.9, 100)), metric="accuracy"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_renders_in_every_format(case):
    frame = CASES[case]
    f = finding("SP001", "loss-spike", "loss_spikes", "warning", "r", 0, 0, "msg", "rec")
    run = run_from_frame(frame, source="x.log", fmt="text", findings=[f])
    run.curves = {"fit": {"step": [0, 1], "loss": ["bad", None]}, "smoothing": {"weight": "x"}}
    r = Report(runs=[run], version="0")
    html = r.to_html()
    assert "msg" in html and "rec" in html
    if case == "negative-loss":
        assert 'id="chart-loss-linear"' in html and 'id="chart-loss-log"' not in html
    if case == "no-loss":
        assert "No loss series to draw." in html
    assert "msg" in r.to_markdown()
    assert "msg" in r.to_text()


def test_run_without_frame_and_empty_report():
    # e.g. a baseline read from a snapshot: summary numbers but no rows to draw.
    run = RunReport(run="base", source="base.json", format="snapshot", series=[],
                    summary=RunSummary(final_train_loss=2.0, best_val_loss=2.1, best_val_step=100))
    for r in (Report(runs=[run], version="0"), Report(runs=[], version="0")):
        html = r.to_html()
        assert html.startswith("<!DOCTYPE html>") and "<svg" not in html
        assert r.to_markdown().startswith("## ✅ lossdoc: PASS")
        assert r.to_text().startswith(" PASS ")


def test_findings_of_runs_beyond_the_chart_limit_are_still_listed():
    from lossdoc.report.charts import MAX_RUNS_DRAWN

    runs = []
    for k in range(MAX_RUNS_DRAWN + 2):
        fr = synthetic_frame(f"r{k}", 300, seed=k, val_every=None, lr=False, grad_norm=False)
        runs.append(run_from_frame(fr, source="s", fmt="f", findings=[
            finding("SP001", "loss-spike", "loss_spikes", "info", f"r{k}", 10, 10, f"message of r{k}", "r")]))
    html = Report(runs=runs, version="0").to_html()
    last = f"r{MAX_RUNS_DRAWN + 1}"
    assert f"message of {last}" in html
    assert f"Only the first {MAX_RUNS_DRAWN} runs are drawn." in html
