"""A directory of one-metric-per-file CSVs (hand-rolled scripts: ``np.savetxt`` /
``DataFrame.to_csv`` of one curve per file, ``step,value`` header)."""

from __future__ import annotations

import math
from pathlib import Path

import lossdoc
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import keys, note_kinds, series

RUN = SAMPLE_LOGS / "csv_dir" / "mnist_mlp"


def test_golden_one_run_two_splits() -> None:
    logs = lossdoc.read(RUN)
    assert [s.format for s in logs.sources] == ["csv-dir"]
    src = logs.sources[0]
    assert src.runs == ["mnist_mlp"]
    assert keys(src) == {
        ("train", "loss", "train_loss"),
        ("val", "loss", "val_loss"),
        ("val", "accuracy", "val_accuracy"),
    }
    assert series(src, "val", "loss") == [(0, 2.3011), (200, 1.3022)]
    assert_golden(src.frame, "csv_dir/mnist_mlp.csv")


def test_found_inside_a_parent_directory() -> None:
    logs = lossdoc.read(RUN.parent)
    assert [s.format for s in logs.sources] == ["csv-dir"]


def test_loss_and_val_loss_with_named_value_column(tmp_path: Path) -> None:
    (tmp_path / "loss.csv").write_bytes(b"epoch,loss\r\n0,1.5\r\n1,nan\r\n2,1.1\r\n")
    (tmp_path / "val_loss.csv").write_bytes(b"epoch,val_loss\n0,1.6\n1,1.4\n2,1.")  # being written
    src = lossdoc.read(tmp_path).sources[0]
    assert src.format == "csv-dir"
    train = series(src, "train", "loss")
    assert [s for s, _ in train] == [0, 1, 2] and math.isnan(train[1][1])
    assert series(src, "val", "loss") == [(0, 1.6), (1, 1.4)]
    assert "torn_tail" in note_kinds(src)
    assert src.frame.get_column("epoch").drop_nulls().to_list()[:1] == [0.0]


def test_a_wide_csv_is_not_this_format(tmp_path: Path) -> None:
    (tmp_path / "a_loss.csv").write_text("step,value\n0,1\n")
    (tmp_path / "metrics.csv").write_text("step,loss,acc,lr\n0,1,0.1,0.01\n")
    from lossdoc.ingest.formats.metric_csv_dir import MetricCSVDirParser

    assert MetricCSVDirParser().sniff_dir(tmp_path) == 0.0
