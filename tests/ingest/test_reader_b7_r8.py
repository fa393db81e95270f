"""Reader fixes for batch 7's dev READER notes (helper r8): each shape as a small verbatim excerpt of the log it came
from (data/b7r8/, source named above each test: repository, path, commit), what lossdoc must now read. Each test
fails on main at 99a0b73."""

from __future__ import annotations

from pathlib import Path

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source
from tests.ingest.test_reader_mismatches_b4 import series, values

DATA = Path(__file__).parent / "data" / "b7r8"


def read(data: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes((DATA / data).read_bytes(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


# ------------------------------------------------------- a dataset's sizes per split are no loss and no epoch
# h31263219/2026ImageClassification_HW3 output/train.log @ fa90706ef7db6ae6862c4421fcc179c2d25b30fb, lines 1-6 and
# 14-16 (the file is UTF-16; the excerpt is the same text in UTF-8): main read 'Val: 21' (21 validation images) as
# a validation loss of 21.

def test_split_sizes_line_is_not_a_val_loss() -> None:
    src = read("hw3_train.log", "train.log")
    assert ("val", "loss") not in series(src)
    assert values(src, "train", "loss") == [6.8574, 5.1284, 3.0699, 0.3469, 0.8692, 0.9963]


# WindsorWZZ/BiGRU-multi-head-attention training_output.txt @ f075d4a1624baad4c3f2deb43aa6a0a2e038b30f, lines 4-6,
# 14-24 and 43-47: main read 'test: 96' / 47 / 29 (each class's test samples) as a test loss, 'train: 223' as an
# epoch counter.

def test_per_class_split_counts_are_not_a_test_loss() -> None:
    src = read("bigru_training_output.txt", "training_output.txt")
    assert series(src) == {("train", "loss"), ("train", "accuracy")}
    assert values(src, "train", "loss") == [0.4111, 0.3952, 0.3846, 0.3763, 0.371]


# ------------------------------------------------ Lightning: a stage-prefixed loss logged on step and on epoch
# NLPQuy/lejepa-MLProject logs/lightning_logs/version_3/metrics.csv @ 44ce443bb0c80ec8dab446b3d9628455868e3884,
# lines 1-7: 'fit/loss_step' (stable-pretraining logs under Lightning's stage name 'fit'; the run stopped in epoch 0,
# so its '_epoch' twin was never written). main read no train loss, only 'fit_loss_step' beside
# 'inet_probe_loss_step'.

def test_fit_stage_loss_step_column_is_the_train_loss() -> None:
    src = read("lejepa_metrics.csv", "metrics.csv")
    assert src.format == "lightning-csv"
    assert values(src, "train", "loss") == [6.4539, 5.5845, 4.5714]
    assert values(src, "train", "inet_probe_loss") == [7.3611, 7.0518, 7.2865]
    assert values(src, "train", "sigreg") == [125.5, 107.5, 86.0]
