"""A GAN's discriminator and generator losses are no loss the loss chart draws (LG005): each gets a panel."""

from __future__ import annotations

import numpy as np
import polars as pl

from lossdoc.model import make_frame
from lossdoc.report import charts
from lossdoc.report.model import Report
from tests.report.builders import run_from_frame


def _rows(metric: str, name: str, values: np.ndarray) -> pl.DataFrame:
    steps = np.arange(values.size)
    return make_frame({"run": "gan", "split": "train", "metric": metric, "name": name,
                       "step": steps.tolist(), "value": values.tolist()})


def test_both_sides_of_the_game_are_drawn_and_said_to_be_unjudged() -> None:
    n = np.arange(200)
    frame = pl.concat([_rows("disc_loss", "train_disc_loss", -0.9 * (1 - np.exp(-n / 40))),
                       _rows("gen_loss", "train_gen_loss", -0.2 + n / 250)])
    report = Report(runs=[run_from_frame(frame, source="metrics.csv", fmt="lightning-csv")])
    assert charts.loss_charts(report, {}) == []  # no loss of the split: nothing summed to draw
    chart = charts.dynamics_chart(report)
    assert chart is not None
    assert "train/disc_loss" in chart.desc and "train/gen_loss" in chart.desc
    assert chart.svg.count("one side of a GAN") == 2
