"""Charts show what the findings are about, in colours that mean the same thing everywhere (issue #14)."""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from lossdoc.model import make_frame
from lossdoc.report import charts
from lossdoc.report.model import Report
from tests.report.builders import finding, run_from_frame


def _rows(run: str, split: str, metric: str, steps: np.ndarray, values: np.ndarray) -> pl.DataFrame:
    return make_frame({"run": run, "split": split, "metric": metric, "name": f"{split}/{metric}",
                       "step": steps.tolist(), "value": values.tolist()})


def _run(name: str, level: float, extra: pl.DataFrame | None = None, findings: list | None = None):
    steps = np.arange(0, 1000, 10)
    frames = [_rows(name, "train", "loss", steps, level * (1 + 2 * np.exp(-steps / 200))),
              _rows(name, "val", "loss", steps[::10], level * (1.1 + 2 * np.exp(-steps[::10] / 200)))]
    if extra is not None:
        frames.append(extra)
    return run_from_frame(pl.concat(frames), source=f"{name}.log", fmt="jsonl", findings=findings)


def _stroke_colours(svg: str) -> set[str]:
    return {c.lower() for c in re.findall(r"stroke: ?(#[0-9a-fA-F]{6})", svg)}


def test_a_series_a_finding_is_about_is_drawn_even_when_it_is_not_a_loss() -> None:
    steps = np.arange(0, 1000, 10)
    acc = _rows("r", "val", "accuracy", steps, 0.5 + 0.4 * (1 - np.exp(-steps / 300)))
    f = finding("XX001", "accuracy-thing", "plateau", "warning", "r", 500, 990, "val accuracy flat", "do x",
                split="val", metric="accuracy")
    report = Report(runs=[_run("r", 1.0, acc, [f])])
    chart = charts.dynamics_chart(report)
    assert chart is not None and "val/accuracy" in chart.desc
    assert "val/accuracy (a finding is about this series)" in chart.svg


def test_split_colours_are_the_same_in_every_chart_of_a_run() -> None:
    # two runs whose losses differ 100x get a chart each: each draws train and val in the split colours
    report = Report(runs=[_run("small", 0.01), _run("big", 1.0)])
    groups = charts.loss_charts(report, {})
    assert len(groups) == 2
    for g in groups:
        used = _stroke_colours(g.linear.svg)
        assert charts.SPLIT_COLOR["train"] in used and charts.SPLIT_COLOR["val"] in used
    dyn = charts.dynamics_chart(Report(runs=[_run("one", 1.0)]))
    assert dyn is not None and charts.SPLIT_COLOR["val"] in _stroke_colours(dyn.svg)  # the gap is validation's


def test_baselines_can_be_told_apart() -> None:
    run = _run("cand", 1.0)
    steps = np.arange(0, 1000, 50).tolist()
    run.curves["baselines"] = [{"run": "main", "split": "train", "step": steps, "loss": [1.2] * len(steps)},
                               {"run": "seed2", "split": "train", "step": steps, "loss": [1.3] * len(steps)}]
    svg = charts.loss_charts(Report(runs=[run]), {})[0].linear.svg
    used = _stroke_colours(svg)
    assert charts.BASELINE_COLORS[0] in used and charts.BASELINE_COLORS[1] in used
    assert not set(charts.BASELINE_COLORS[:2]) & set(charts.SPLIT_COLOR.values())


def test_finding_spans_are_drawn_outside_the_plot_area() -> None:
    # a finding from the best step to the end once shaded most of the plot over the curves
    from matplotlib.figure import Figure

    fs = [finding("OF001", "overfitting", "overfitting", "warning", "r", 100, 990, "m", "r", split="val"),
          finding("GP001", "train-val-gap", "train_val_gap", "warning", "r", 50, 990, "m", "r", split="val"),
          finding("SP001", "loss-spike", "loss_spikes", "warning", "r", 400, 400, "m", "r")]
    ax = Figure().subplots()
    ax.plot([0, 1000], [0, 1])
    ax.set_xlim(0, 1000)
    charts._finding_marks(ax, [(i + 1, f) for i, f in enumerate(fs)], labels=True)
    spans = [p for p in ax.patches]
    assert len(spans) == 2  # the two findings with a step range
    extents = []
    for p in spans:  # axvspan: x in data, y in axes fraction (a Rectangle, or a Polygon before matplotlib 3.9)
        ys = [p.get_y(), p.get_y() + p.get_height()] if hasattr(p, "get_height") else [v[1] for v in p.get_xy()]
        extents.append((min(ys), max(ys)))
        assert min(ys) >= 1.0 and max(ys) > min(ys)  # above the plot area, never over a curve
    assert len(set(extents)) == 2  # overlapping spans: one lane each
