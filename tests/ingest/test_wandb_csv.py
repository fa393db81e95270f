"""W&B chart-panel "Download CSV" exports.

Layout per FORMATS.md 11a (W&B docs "Line plots" / "Point aggregation"): first column the x
axis (``Step`` by default), then per run ``"<run> - <metric>"``, ``"... __MIN"``, ``"... __MAX"``,
all fields quoted, empty cells where a run has no point.
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series

DIR = SAMPLE_LOGS / "wandb_csv"
STEP = DIR / "wandb_export_2024-05-05T10_07_23.233-04_00.csv"
EPOCH = DIR / "wandb_export_2024-05-06T09_00_00.000-04_00.csv"


@pytest.mark.parametrize(("path", "golden"), [(STEP, "two_runs"), (EPOCH, "epoch_axis")])
def test_golden(path, golden: str) -> None:  # type: ignore[no-untyped-def]
    src = read_path(path)
    assert src.format == "wandb-csv"
    assert_golden(src.frame, f"wandb_csv/{golden}.csv")


def test_runs_series_and_min_max() -> None:
    src = read_path(STEP)
    assert src.runs == ["misty-river-12", "calm-sea-3"]
    assert ("train", "loss_min", "train/loss__MIN") in keys(src)
    f = src.frame
    calm = f.filter((f["run"] == "calm-sea-3") & (f["metric"] == "loss"))
    assert calm.get_column("step").to_list() == [0, 100]  # empty cells are "no point", not NaN
    mr = f.filter((f["run"] == "misty-river-12") & (f["metric"] == "loss_max"))
    assert mr.get_column("value").to_list() == [2.7314, 2.2931, 2.0034]
    assert any("not the raw history" in n.message for n in src.notes)


def test_non_integer_x_axis_uses_row_order_and_keeps_epoch() -> None:
    src = read_path(EPOCH)
    val = series(src, "val", "loss")
    assert [s for s, _ in val] == [0, 1, 2] and math.isnan(val[2][1])
    assert src.frame.filter(src.frame["metric"] == "loss").get_column("epoch").to_list() == [0.5, 1.0, 1.5]
    assert "inferred" in note_kinds(src)


def test_crlf_and_missing_final_newline() -> None:
    data = crlf(STEP.read_bytes()).rstrip(b"\r\n")
    src = read_data(data, STEP.name)
    assert src.frame.equals(read_path(STEP).frame)


def test_detected_by_header_without_the_usual_name() -> None:
    assert choose(from_bytes(STEP.read_bytes(), name="export.csv")).name == "wandb-csv"
