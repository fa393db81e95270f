"""Reading a directory: whole-directory artefacts are claimed only when the claim is confident;
anything else is walked so that every log in an experiment folder or sweep is read."""

from __future__ import annotations

import shutil

import lossdoc
from tests.conftest import SAMPLE_LOGS

RUNS = SAMPLE_LOGS / "runs"


def test_sweep_folder_reads_every_trainer_not_just_event_files():
    logs = lossdoc.read(RUNS)
    formats = {s.format for s in logs.sources}
    assert {"hf-trainer", "lightning-csv", "keras-csv", "keras-progbar", "nanogpt", "xgboost"} <= formats
    merged = {m["format"] for s in logs.sources for m in s.meta.get("merged_sources", [])}
    assert {"hf-console", "tensorboard", "keras-progbar"} <= merged  # read, and merged into their runs
    runs = {r for s in logs.sources for r in s.runs}
    # runs are named by where they sit in the walked folder, without the directories trainers make
    # (output/, lightning_logs/); one run read from two artefacts is one run
    assert {"nanogpt/healthy", "nanogpt/divergence", "keras/healthy", "xgboost/overfitting",
            "hf/healthy", "lightning/nan/version_0"} <= runs
    assert not any("/output" in r or "lightning_logs" in r or ":" in r or "[" in r for r in runs)


def test_experiment_folder_with_an_event_file_and_a_text_log(tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(RUNS / "hf" / "healthy" / "output" / "runs", exp / "tb")
    shutil.copy(RUNS / "nanogpt" / "healthy" / "train.log", exp / "train.log")
    logs = lossdoc.read(exp)
    assert sorted(s.format for s in logs.sources) == ["nanogpt", "tensorboard"]


def test_event_file_only_logdir_is_still_claimed_whole():
    logs = lossdoc.read(RUNS / "hf" / "healthy" / "output" / "runs")
    assert [s.format for s in logs.sources] == ["tensorboard"]


def test_a_file_named_after_tfevents_is_not_taken_for_an_event_file(tmp_path):
    """A project folder holding lossdoc's own source (``tfevents.py``) or a CSV export named after the event
    file it came from is no TensorBoard logdir: the walk reads the training log beside them instead of
    failing with "corrupt TFRecord header" on the source file."""
    exp = tmp_path / "exp"
    (exp / "pkg").mkdir(parents=True)
    (exp / "pkg" / "tfevents.py").write_text('"""TensorBoard event files."""\nEVENT_NAME = "tfevents"\n')
    (exp / "events.out.tfevents.csv").write_text("step,value\n1,2.0\n")
    shutil.copy(RUNS / "nanogpt" / "healthy" / "train.log", exp / "train.log")
    logs = lossdoc.read(exp)
    assert "tensorboard" not in {s.format for s in logs.sources}
    assert "nanogpt" in {s.format for s in logs.sources}
    # a real event file in the same tree is still read as one
    shutil.copytree(RUNS / "hf" / "healthy" / "output" / "runs", exp / "tb")
    assert "tensorboard" in {s.format for s in lossdoc.read(exp).sources}
