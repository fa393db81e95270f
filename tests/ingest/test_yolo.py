"""Ultralytics ``results.csv``.

Sample layouts follow the writers' format strings:
- current ``ultralytics/engine/trainer.py`` ``BaseTrainer.save_metrics``:
  ``s = "" if file.exists() else (("%s," * n % tuple(["epoch", "time"] + keys)).rstrip(",") + "\\n")``;
  ``f.write(s + ("%.6g," * n % tuple([self.epoch + 1, t] + vals)).rstrip(",") + "\\n")``
- Ultralytics 8.0.x: ``("%23s," * n % tuple(["epoch"] + keys))`` / ``("%23.5g," * n % tuple([self.epoch] + vals))``
- YOLOv5 ``utils/loggers/__init__.py`` ``on_fit_epoch_end``: ``"%20s,"`` header, ``"%20.5g,"`` values, 0-based epoch
(FORMATS.md §9; the 8.0.x and v5 samples were generated with exactly those format strings).
"""

from __future__ import annotations

import math

import polars as pl
import pytest

import lossdoc
from lossdoc.errors import ParseError
from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import (
    crlf,
    keys,
    note_kinds,
    read_data,
    read_path,
    sample,
    series,
    torn,
)

CASES = ["v8-current", "v8-padded", "v5"]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    src = read_path(sample("yolo", case))
    assert src.format == "yolo"
    assert_golden(src.frame, f"yolo/{case}.csv")


def test_component_losses_are_separate_and_no_total_is_invented() -> None:
    src = read_path(sample("yolo", "v8-current"))
    metrics = {(s, m) for s, m, _ in keys(src)}
    assert {("train", "box_loss"), ("train", "cls_loss"), ("train", "dfl_loss")} <= metrics
    assert {("val", "box_loss"), ("val", "cls_loss"), ("val", "dfl_loss")} <= metrics
    assert ("train", "loss") not in metrics and ("val", "loss") not in metrics
    assert series(src, "train", "box_loss") == [(1, 1.2345), (2, 1.1822), (3, 1.1401)]
    # wall_time is the 'time' column (seconds since start)
    assert src.frame.filter(src.frame["step"] == 2)["wall_time"].unique().to_list() == [68.9044]


def test_metrics_are_val_scores_and_lr_groups() -> None:
    src = read_path(sample("yolo", "v8-current"))
    k = keys(src)
    assert ("val", "map50_95_b", "metrics/mAP50-95(B)") in k
    assert ("val", "precision_b", "metrics/precision(B)") in k
    assert ("train", "lr", "lr/pg0") in k and ("train", "lr_pg1", "lr/pg1") in k and ("train", "lr_pg2", "lr/pg2") in k


def test_nan_cell_is_kept() -> None:
    src = read_path(sample("yolo", "v8-current"))
    val_box = series(src, "val", "box_loss")
    assert [s for s, _ in val_box] == [1, 2, 3] and math.isnan(val_box[2][1])


def test_padded_header_names_are_stripped() -> None:
    src = read_path(sample("yolo", "v8-padded"))
    assert ("train", "box_loss", "train/box_loss") in keys(src)
    assert series(src, "train", "box_loss") == [(0, 1.6878), (1, 1.267)]
    assert src.meta["epoch_base"] == 0


def test_yolov5_keys_and_zero_based_epochs() -> None:
    src = read_path(sample("yolo", "v5"))
    k = keys(src)
    assert ("train", "obj_loss", "train/obj_loss") in k
    assert ("val", "map_0_5_0_95", "metrics/mAP_0.5:0.95") in k
    assert ("train", "lr", "x/lr0") in k and ("train", "lr_pg2", "x/lr2") in k
    assert [s for s, _ in series(src, "train", "box_loss")] == [0, 1, 2]


def test_torn_last_row_is_dropped_with_a_note() -> None:
    data = sample("yolo", "v8-current").read_bytes()
    src = read_data(torn(data), "v8-current/results.csv")
    assert [s for s, _ in series(src, "train", "box_loss")] == [1, 2]
    assert "torn_tail" in note_kinds(src)


def test_crlf_reads_the_same() -> None:
    path = sample("yolo", "v8-padded")
    a = read_data(path.read_bytes(), "v8-padded/results.csv")
    b = read_data(crlf(path.read_bytes()), "v8-padded/results.csv")
    assert a.frame.equals(b.frame)


def test_resumed_run_appends_rows() -> None:
    # A resumed run appends to the same file (the header is written only when the file is new).
    data = sample("yolo", "v8-current").read_bytes()
    lines = data.decode().splitlines(keepends=True)
    resumed = "".join(lines + lines[2:3]).encode()  # epoch 2 logged again after epoch 3
    src = read_data(resumed, "r/results.csv")
    assert [s for s, _ in series(src, "train", "box_loss")] == [1, 2]
    assert "restart" in note_kinds(src)


def test_missing_epoch_column_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        read_data(b"time,train/box_loss,metrics/mAP50(B)\n1,2,3\n", "x/results.csv", "yolo")


@pytest.mark.parametrize("case", CASES)
def test_detected_as_yolo_by_name_and_by_content(case: str) -> None:
    path = sample("yolo", case)
    assert choose(open_file(path)).name == "yolo"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "yolo"


def test_classification_and_segmentation_keys() -> None:
    # ClassificationTrainer.label_loss_items -> train/loss; ClassifyMetrics.keys -> metrics/accuracy_top1, _top5;
    # SegmentationTrainer adds train/seg_loss and (M) mask metrics.
    cls = read_data(
        b"epoch,time,train/loss,metrics/accuracy_top1,metrics/accuracy_top5,val/loss,lr/pg0,lr/pg1,lr/pg2\n"
        b"1,12.5,2.3026,0.41,0.87,2.1,0.000333,0.000333,0.000333\n",
        "cls/results.csv",
    )
    assert cls.format == "yolo"
    assert series(cls, "train", "loss") == [(1, 2.3026)] and series(cls, "val", "loss") == [(1, 2.1)]
    assert series(cls, "val", "accuracy_top1") == [(1, 0.41)]
    seg = read_data(
        b"epoch,time,train/box_loss,train/seg_loss,train/cls_loss,train/dfl_loss,metrics/mAP50-95(M),val/seg_loss\n"
        b"1,40.1,1.2,2.5,1.9,1.1,0.21,2.4\n",
        "seg/results.csv",
    )
    assert series(seg, "train", "seg_loss") == [(1, 2.5)] and series(seg, "val", "map50_95_m") == [(1, 0.21)]


def test_a_lightning_csv_with_slash_keys_outside_lightning_logs_is_not_yolo(tmp_path) -> None:
    # EnriqueVilchezL/mamba_road_scene_segmentation lightning_logs/version_9/metrics.csv, copied out of its
    # directory: 'epoch,step,train/Accuracy,train/IoU,train/loss,val/...' was read as a YOLO results.csv, the
    # epoch as the step and 'IoU' as a loss term. A 'step' column is Lightning's; YOLO counts epochs only.
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,train/Accuracy,train/IoU,train/loss,val/Accuracy,val/IoU,val/loss\n"
                 "0,124,,,,0.81,0.42,0.55\n0,124,0.78,0.39,0.61,,,\n"
                 "1,249,,,,0.84,0.47,0.49\n1,249,0.83,0.45,0.50,,,\n")
    src = lossdoc.read(str(p)).sources[0]
    assert src.format == "lightning-csv"
    f = src.frame
    assert sorted(f.filter(pl.col("metric") == "loss")["step"].unique().to_list()) == [124, 249]
    assert not f.filter(pl.col("metric").str.contains("iou_loss")).height
