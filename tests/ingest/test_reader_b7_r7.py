"""Reader fixes for batch 7's UNREADABLE.tsv logs (helper r7): each shape as a small verbatim excerpt of the log it
came from (data/b7/, source named above each test: repository, path, commit), what lossdoc must now read, and the
note it gives where it decided. Each test fails on main at 8af16a6 but the split-keys guard, which keeps main's
behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source

DATA = Path(__file__).parent / "data" / "b7"


def read(data: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes((DATA / data).read_bytes(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str, run: str = "r") -> list[float]:
    f = src.frame.filter((pl.col("run") == run) & (pl.col("split") == split) & (pl.col("metric") == metric))
    return [round(v, 4) for v in f.sort("step").get_column("value").to_list()]


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return [int(s) for s in f.sort("step").get_column("step").to_list()]


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


def notes(src: Source) -> str:
    return "\n".join(n.message for n in src.notes)


# ------------------------------------------------ Lightning: a per-step loss too short, the per-epoch one the loss
# kabir0774/speech-enhancement-code lightning_logs/version_13/metrics.csv @ 376b51e54f87ad5a3b697489f14c1341091fa24f,
# lines 1-19 and 37-41: 'train_loss_step' logged once (step 49, log_every_n_steps=50 on 4-step epochs) beside
# 'train_loss_epoch' once an epoch. main read the 1-point per-step column as the loss.

def test_lightning_sparse_step_column_gives_way_to_the_epoch_column() -> None:
    src = read("kabir_metrics.csv", "metrics.csv")
    assert src.format == "lightning-csv"
    assert values(src, "train", "loss") == [0.4061, 0.3896, 0.4042, 0.3479, 0.3907, 0.3889, 0.3118, 0.2909]
    assert values(src, "train", "loss_step") == [0.2941]
    assert "'train_loss_step' has 1 point(s) against 8 in 'train_loss_epoch'" in notes(src)


# ------------------------------------------------------------------- Keras-style History lists, one per model
# Az0s/dl_opt results/history.json @ ee6f2460ae2b8f7f539a83942eced5bd5c2753ae: the "Softmax" and "Linear" entries
# (of 4), values verbatim. main: "no numeric History lists found".

def test_history_per_model_key_is_one_run_per_model() -> None:
    src = read("az0s_history.json", "history.json")
    assert set(src.frame.get_column("run").unique()) == {"r/Softmax", "r/Linear"}
    doc = json.loads((DATA / "az0s_history.json").read_text())
    assert values(src, "train", "loss", run="r/Linear") == [round(v, 4) for v in doc["Linear"]["train_loss"]]
    assert values(src, "val", "loss", run="r/Softmax") == [round(v, 4) for v in doc["Softmax"]["val_loss"]]
    assert "fold/run/model key(s) (Softmax, Linear)" in notes(src)


def test_history_under_split_named_keys_is_still_not_runs() -> None:
    # {"train_metrics": {...}, "val_metrics": {...}}: keys naming a split are no models
    doc = {"train_metrics": {"loss": [1.0, 0.5, 0.4]}, "val_metrics": {"loss": [1.2, 0.9, 0.8]}}
    inp = from_bytes(json.dumps(doc).encode(), name="history.json")
    inp.run_name = "r"
    try:
        src = read_input(inp, None)
    except Exception:  # noqa: BLE001 - not read at all is as good as not read as runs
        return
    assert set(src.frame.get_column("run").unique()) == {"r"}


# --------------------------------------------------------------------- key,value pairs in a headerless CSV
# desinurch/lottery-ticket-hypothesis output/train.log @ a059d4616f545ab90ea4f5a402d9215839e17483 (the whole file).

def test_key_value_csv_rows() -> None:
    src = read("desinurch_train.log", "train.log")
    assert src.format == "text"
    assert steps(src, "train", "loss") == [1, 2, 3, 4, 5]
    assert values(src, "train", "loss") == [2.3096, 2.3116, 2.3055, 2.2991, 2.2982]
    assert values(src, "train", "accuracy")[:2] == [0.0469, 0.0156]


# ----------------------------------------------------------------------------------- a '|' table in a log
# simon-jonas-buehrer/LGN-mnist-benchmark results/train.log @ b0b437fdca730062bacb9e85ee2b136e299e1ff0, lines 1-24:
# 'epoch | tr_loss | tr_acc | ... | va_loss | ...' after an args line and a model printout.

def test_pipe_table_under_its_header() -> None:
    src = read("simon_train.log", "train.log")
    assert src.format == "text"
    assert steps(src, "train", "loss") == [1, 2, 3, 4, 5, 6, 7]
    assert values(src, "train", "loss")[:3] == [1.54, 1.352, 1.235]
    assert values(src, "val", "loss")[:3] == [1.638, 1.534, 1.474]
    assert values(src, "test", "accuracy")[:2] == [42.25, 47.24]
    assert "tr_loss -> train_loss" in notes(src)


# ------------------------------------------------------------------------- TensorFlow scalars, one a line
# hisham24/HeartSegmentation train_loss_history.txt @ 617b60786e6c5098a55554998a94bc6df5059010, lines 1-12:
# 'tf.Tensor(0.8734007, shape=(), dtype=float32)'. The 32 of float32 is no second column.

def test_tf_tensor_per_line() -> None:
    src = read("train_loss_history.txt", "train_loss_history.txt")
    assert src.format == "numeric-column"
    assert len(series(src)) == 1
    (split, metric), = series(src)
    assert values(src, split, metric)[:3] == [0.8734, 0.1585, 0.0996]
    assert len(values(src, split, metric)) == 12


# ------------------------------------------------------------------- a count in the preamble is not the step
# gabrielmjrr/representation-stabilization results/train.log @ b24f6d47f0d32c3731b926ef4629149e6a97f9e6, lines
# 50-72: 'Train batches: 391' / 'Test batches:  79' once, then 'Epoch    1/200  train_loss=...' lines. main took
# 'Test batches' as the step and read 1 point.

def test_counter_printed_once_in_the_preamble_is_not_the_step() -> None:
    src = read("gabriel_train.log", "train.log")
    assert steps(src, "train", "loss") == [1, 2, 3, 4, 5, 6]
    assert values(src, "train", "loss")[:2] == [2.0862, 1.55]
    assert values(src, "test", "loss")[:2] == [1.6849, 1.3635]
    assert "'Train batches' (391), 'Test batches' (79): printed once each" in notes(src)


# ------------------------------------------------------------ tqdm bars with a warning glued on after them
# Mate-Tomatos/CatsVSDogs output/train.log @ 8bda8c57b9fde9138645df8ef55fea4df7a210d8, lines 1-15 and the first 4
# epochs; each '\r' line cut to its segments holding a warning and its last three (the 'Epoch  N/15 | ...' summary).

def test_epoch_lines_among_bars_with_glued_warnings() -> None:
    src = read("mate_train.log", "train.log")
    assert src.format == "text"
    assert steps(src, "train", "loss") == [1, 2, 3, 4]
    assert values(src, "train", "loss") == [0.2709, 0.2381, 0.2256, 0.2193]
    assert values(src, "val", "loss") == [0.1456, 0.1331, 0.1408, 0.1331]


# ---------------------------------------------------------------- a printed PyTorch model among the lines
# conanjgz/critical-error-detection-for-MT output/train.log @ 965299447eb37ab3ea1be88a2e3734e4b0c01e50, lines
# 27857-27990 (the end of a run, the next run's config and the first 117 lines of its model printout) and
# 28160-28208 (the end of the printout and that run's 10 epochs).

def test_module_printout_lines_are_not_the_log() -> None:
    src = read("conanjgz_train.log", "train.log")
    assert src.format == "text"
    assert values(src, "train", "loss")[:3] == [0.566, 0.469, 0.427]
    assert len(values(src, "train", "loss")) == 10
    assert values(src, "val", "loss")[:2] == [0.463, 0.396]


# ------------------------------------------------------------------------ tqdm bars without a total
# jma02/d-flow logs/nohup.out @ e4b083139841fc4e53f6d65c017f8378b9ec3afd, lines 1-40, 320-350 and 455-471:
# 'Epoch 0: 22it [00:14,  8.07it/s]\x1b[A' bars around 'Step: 99 (0) | Loss: 1.26963 | ...' lines.

def test_step_lines_among_bars_without_a_total() -> None:
    src = read("jma02_nohup.out", "nohup.out")
    assert src.format == "text"
    assert steps(src, "train", "loss") == [99, 199, 299, 399, 499, 599]
    assert values(src, "train", "loss")[:2] == [1.2696, 0.6178]


# -------------------------------------------------------------- the Python logging HOWTO's US date format
# allenhjw/DeepLearning run.log @ a167cd62898bc397c71bd38f3a42459f98d00e65, lines 115-190: two runs, each '07/07/2022
# 05:11:27 PM epochs:30' (and its lr lines) then 30 '... PM Loss per epochs:933.46' lines. main read '07/07' as an
# N/M counter and 'PM' into each key ('pm_epochs'); read naively, the two runs would be one 60-point curve.

def test_us_timestamp_and_a_setting_header_repeated_at_each_start() -> None:
    src = read("allenhjw_run.log", "run.log")
    names = {m for _, m in series(src)}
    assert not any(m.startswith(("pm_", "am_")) for m in names)
    assert steps(src, "train", "loss") == list(range(30))  # the last run, numbered from 0 under its header
    assert values(src, "train", "loss")[:2] == [932.1924, 815.4446]
    assert "the file holds 2 separate runs" in notes(src)
    assert "the headers above them all print 30: a setting printed as each run starts" in notes(src)


# ---------------------------------------------------------- a '\r'-redrawn progress counter is no header line
# Enoch-H-Kang/DDC-DPT train_output.log @ 354d5466d2a5ed19595b5a0567773cafa6511cc3, lines 1-5, 134-139, 268-273,
# 402-407 and 536-541 (the 130-line tensor dumps between left out): 'Batch 0 of 13\rBatch 1 of 13\r...\r\tTrain
# loss: 0.75' under 'Epoch: N'. main took the overwritten 'Batch N of M' as the step: 1 point.

def test_redrawn_progress_counter_is_not_the_step() -> None:
    src = read("enoch_train_output.log", "train_output.log")
    assert steps(src, "train", "loss") == [1, 2, 3, 4]
    assert values(src, "train", "loss")[:2] == [0.7523, 0.674]


# Palindrome-del/IronDiscipline metrics.csv (batch-9 dev log): 15 epochs of 22 steps, 'train_loss_step' every 50
# steps (6 values) beside 'train_loss_epoch' once an epoch. main read the 6 per-step values as the loss (too few to
# judge) and never looked at the 15 per-epoch ones.

def _pair_csv(epochs: int, steps_per_epoch: int, every: int) -> Source:
    rows = ["epoch,step,train_loss_epoch,train_loss_step"]
    step = 0
    for e in range(epochs):
        for _ in range(steps_per_epoch):
            step += 1
            if step % every == 0:
                rows.append(f"{e},{step - 1},,{100.0 / (1 + step / 50):.4f}")
        rows.append(f"{e},{step - 1},{100.0 / (1 + e):.4f},")
    inp = from_bytes(("\n".join(rows) + "\n").encode(), name="metrics.csv")
    inp.run_name = "r"
    return read_input(inp, None)


def test_lightning_step_column_with_fewer_points_than_epochs_gives_way() -> None:
    src = _pair_csv(15, 22, 50)
    assert len(values(src, "train", "loss")) == 15
    assert len(values(src, "train", "loss_step")) == 6
    assert "'train_loss_step' has 6 point(s) against 15 in 'train_loss_epoch'" in notes(src)


def test_lightning_step_column_with_more_points_than_epochs_stays_the_loss() -> None:
    # epochs of 100 steps: two per-step values an epoch, the per-step column is the finer series
    src = _pair_csv(10, 100, 50)
    assert len(values(src, "train", "loss")) == 20
    assert len(values(src, "train", "loss_epoch")) == 10
