"""TensorBoard scalar "Download data" exports.

Files follow TensorBoard's scalar-card download: header ``Wall time,Step,Value``, one row per
point, file name ``run-<run>-tag-<tag>.csv`` (Keras' ``TensorBoard`` callback writes runs
``train`` / ``validation`` and tags ``epoch_loss``, ``epoch_accuracy``; Lightning's
``TensorBoardLogger`` runs ``version_N`` with tags such as ``train_loss``). The JSON download
holds ``[[wall_time, step, value], ...]``.
"""

from __future__ import annotations

import json
import math

import pytest

import lossdoc
from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series

DIR = SAMPLE_LOGS / "tensorboard_csv"


def test_keras_export_directory_pairs_train_and_validation() -> None:
    logs = lossdoc.read(DIR / "keras_fit")
    assert [s.format for s in logs.sources] == ["tensorboard-csv"]
    src = logs.sources[0]
    assert src.runs == ["keras_fit"]
    assert keys(src) == {
        ("train", "loss", "epoch_loss"),
        ("val", "loss", "epoch_loss"),
        ("train", "accuracy", "epoch_accuracy"),
    }
    assert series(src, "val", "loss")[2] == (2, 0.5633)
    assert_golden(src.frame, "tensorboard_csv/keras_fit.csv")


def test_single_lightning_export() -> None:
    src = read_path(DIR / "run_version_0-tag-train_loss.csv")
    assert src.format == "tensorboard-csv"
    assert src.runs == ["version_0"]
    loss = series(src, "train", "loss")
    assert loss[:2] == [(49, 2.3012), (99, 1.9874)] and loss[2] == (149, math.inf)
    assert src.frame.get_column("wall_time").to_list()[0] == 1716000000.0
    assert_golden(src.frame, "tensorboard_csv/run_version_0.csv")


def test_export_without_final_newline_keeps_last_row_crlf_ok() -> None:
    data = crlf((DIR / "keras_fit" / "run-validation-tag-epoch_loss.csv").read_bytes()).rstrip(b"\r\n")
    src = read_data(data, "run-validation-tag-epoch_loss.csv")
    assert len(series(src, "val", "loss")) == 3  # a complete row, just no newline (browser download)
    assert "torn_tail" not in note_kinds(src)


def test_cut_row_and_ragged_row_noted() -> None:
    data = b"Wall time,Step,Value\n1.0,0,0.5\n2.0,1\n3.0,2,0.4,9\n4.0,3"
    src = read_data(data, "run-train-tag-loss.csv")
    assert series(src, "train", "loss") == [(0, 0.5), (2, 0.4)]
    assert "torn_tail" in note_kinds(src) and "skipped_lines" in note_kinds(src)


def test_json_download() -> None:
    data = json.dumps([[1715000000.5, 0, 0.9], [1715000001.5, 1, 0.8]]).encode()
    src = read_data(data, "run-validation-tag-epoch_loss.json")
    assert src.format == "tensorboard-csv"
    assert series(src, "val", "loss") == [(0, 0.9), (1, 0.8)]


def test_header_alone_is_enough_to_detect() -> None:
    data = (DIR / "run_version_0-tag-train_loss.csv").read_bytes()
    assert choose(from_bytes(data, name="loss_curve.csv")).name == "tensorboard-csv"


def test_parent_directory_reads_the_export_set_and_the_loose_file() -> None:
    logs = lossdoc.read(DIR)
    assert {(s.format, tuple(s.runs)) for s in logs.sources} == {
        ("tensorboard-csv", ("keras_fit",)),
        ("tensorboard-csv", ("version_0",)),
    }


# ------------------------------------------------------------------ TensorBoard download renamed after its tag
# charliehuang09/U-Net train_loss.csv (commit f6acd9d51c09c6edba06b9dd4d5d3bd6d7f5943f): a scalar card's 'Wall time,Step,Value' download saved
# as train_loss.csv (fhlx2005/ERSNet and ofrik/Seq2Seq have the same): the file's name is the series' name.
UNET = (
    "Wall time,Step,Value\n"
    "1688704569.8823638,56,524.1263427734375\n"
    "1688704634.531968,113,517.4484252929688\n"
)


def test_tensorboard_download_named_after_its_tag() -> None:
    src = read_data(UNET.encode(), "train_loss.csv")
    assert src.format == "tensorboard-csv"
    assert [(s, round(v, 4)) for s, v in series(src, "train", "loss")] == [(56, 524.1263), (113, 517.4484)]
    assert src.frame.get_column("name").unique().to_list() == ["train_loss"]


@pytest.mark.parametrize("name", ["export.csv", "scalars.csv"])
def test_tensorboard_download_with_another_name_keeps_value(name: str) -> None:
    src = read_data(UNET.encode(), name)
    assert src.frame.get_column("name").unique().to_list() == ["value"]
