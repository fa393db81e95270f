"""Reader fixes of round 15: each shape as a few lines in the layout of the public log it came from (source named
above each test: repository, path, commit; the values here are made up), what lossdoc must read."""

from __future__ import annotations

import json

import pytest

from lossdoc.model import canonical_metric, split_and_metric
from tests.ingest.test_reader_notes_dev import read, steps, values

# ------------------------------------------------------------------ a loss term whose name begins with "Lr"
# Abdelrahman350/Synergy training.csv (Keras CSVLogger): columns 'Lc_loss, Lr_loss, Pm_loss, loss, lr' and their
# val_ twins. main read 'Lr_loss' as the learning rate (Lightning's 'lr-AdamW' rule: any name starting 'lr_'), so
# the real 'lr' column became 'lr_2' and the low-rank loss term was plotted and judged as the LR.

@pytest.mark.parametrize(("name", "metric"), [
    ("Lr_loss", "lr_loss"),
    ("lr-AdamW", "lr"),
    ("lr-SGD/pg1", "lr"),
    ("lr", "lr"),
])
def test_a_name_starting_lr_is_the_lr_unless_it_is_a_loss(name: str, metric: str) -> None:
    assert canonical_metric(name) == metric


def test_lr_loss_column_is_a_loss_term_and_lr_stays_the_lr() -> None:
    rows = ["epoch,Lc_loss,Lr_loss,loss,lr,val_Lc_loss,val_Lr_loss,val_loss"]
    for e in range(6):
        rows.append(f"{e},{11.9 - e},{11.7 - e},{1.3 - 0.1 * e:.2f},0.01,{41.0 - e},{34.0 - e},{3.9 - 0.2 * e:.2f}")
    src = read("\n".join(rows) + "\n", "training.csv")
    assert values(src, "train", "lr") == [0.01] * 6
    assert values(src, "train", "lr_loss") == [11.7, 10.7, 9.7, 8.7, 7.7, 6.7]
    assert values(src, "val", "lr_loss") == [34.0, 33.0, 32.0, 31.0, 30.0, 29.0]
    assert split_and_metric("val_Lr_loss") == ("val", "lr_loss")


# ------------------------------------------------------------------ Caffe's parse_log.py table: NumIters is the step
# luameows/amsoftmax-caffe train.txt: the CSV Caffe's tools/extra/parse_log.py writes ('NumIters', 'Seconds',
# 'LearningRate', then each net output). main numbered the rows 0, 1, 2 (no step column found) and read NumIters
# as a series of its own.

def test_caffe_parse_log_numiters_is_the_step() -> None:
    rows = ["NumIters,Seconds,LearningRate,accuracy,softmax_loss"]
    for i in range(6):
        rows.append(f"{1000.0 * i},{28.3 + 250 * i:.3f},0.01,{0.92 + 0.01 * i:.2f},{5.0 - 0.4 * i:.2f}")
    src = read("\n".join(rows) + "\n", "train.txt")
    frame = src.frame
    loss = frame.filter(frame["metric"] == "softmax_loss").sort("step")
    assert loss["step"].to_list() == [0, 1000, 2000, 3000, 4000, 5000]
    assert loss["value"].to_list() == [5.0, 4.6, 4.2, 3.8, 3.4, 3.0]
    assert "num_iters" not in set(frame["metric"].to_list())


# ------------------------------------------------------------------ a split glued to its metric: trloss, valloss
# GraphmindDartmouth/DISGEN output.log: 'Epoch: 01, trloss: 1.4891, trroc: 0.5552, tracc: 0.5420, valloss: 0.7609,
# valacc: 0.1709, testloss_1: 0.7601, ...' lines. main read every one of them as a training series ('train
# valloss'), so the validation loss was never judged as one.

@pytest.mark.parametrize(("name", "split", "metric"), [
    ("trloss", "train", "loss"),
    ("tracc", "train", "accuracy"),
    ("valloss", "val", "loss"),
    ("validloss", "val", "loss"),
    ("valacc", "val", "accuracy"),
    ("testloss_1", "test", "loss_1"),
    ("devacc", "val", "accuracy"),
    # words that merely begin like a split are left alone
    ("tracking", "train", "tracking"),
    ("testing", "train", "testing"),
    ("terror", "train", "terror"),
    ("trainer_loss", "train", "trainer_loss"),
])
def test_a_split_glued_to_its_metric(name: str, split: str, metric: str) -> None:
    assert split_and_metric(name) == (split, metric)


def test_glued_split_keys_in_a_hand_rolled_log() -> None:
    lines = [f"Epoch: {e:02d}, trloss: {1.5 - 0.05 * e:.4f}, tracc: 0.54, valloss: {0.76 - 0.01 * e:.4f}, "
             f"valacc: 0.17, testloss_1: {0.75 - 0.01 * e:.4f}" for e in range(1, 9)]
    src = read("\n".join(lines) + "\n", "output.log")
    assert values(src, "train", "loss")[:2] == [1.45, 1.4]
    assert values(src, "val", "loss")[:2] == [0.75, 0.74]
    assert values(src, "test", "loss_1")[:2] == [0.74, 0.73]
    assert values(src, "train", "valloss") == []


# ------------------------------------------------------------------ a Lightning column logged in validation_step only
# Anushna99/deeploc2-fyp metrics.csv: columns 'bce_loss, epoch, step, train_loss_batch_epoch, train_loss_batch_step,
# val_loss_batch'; bce_loss has a value only on the rows holding val_loss_batch (the training epoch row of the same
# step is a row of its own). main read it as a training series because the file has training columns.

def deeploc_metrics(epochs: int, step_loss, bce, val, train_epoch) -> str:
    """A metrics.csv in the layout of Anushna99/deeploc2-fyp: per epoch, six per-step training rows, a validation row
    (bce_loss, val_loss_batch) and the training epoch row of the same step; the values are functions of (epoch[,
    step])."""
    rows = ["bce_loss,epoch,step,train_loss_batch_epoch,train_loss_batch_step,val_loss_batch"]
    for e in range(epochs):
        for s in range(49, 600, 100):
            rows.append(f",{e},{e * 622 + s},,{step_loss(e, s):.4f},")
        end = e * 622 + 621
        rows.append(f"{bce(e):.4f},{e},{end},,,{val(e):.4f}")
        rows.append(f",{e},{end},{train_epoch(e):.4f},,")
    return "\n".join(rows) + "\n"


def test_lightning_column_only_on_validation_rows_is_validation() -> None:
    text = deeploc_metrics(4, lambda e, s: 0.3, lambda e: 0.20 - 0.01 * e, lambda e: 0.33 - 0.01 * e,
                           lambda e: 0.33 - 0.02 * e)
    src = read(text, "metrics.csv")
    assert values(src, "val", "bce_loss") == [0.2, 0.19, 0.18, 0.17]
    assert values(src, "train", "bce_loss") == []
    assert any("bce_loss: every value sits on a row holding val_loss_batch" in n.message for n in src.notes)


# ------------------------------------------------------------------ LLaMA-Factory: the evaluation after training
# CoderJzy/llm trainer_log.jsonl (LLaMA-Factory LoRA, 720 steps): the last record, written by do_eval after training,
# counts the evaluation's own batches ('current_steps': 8, 'total_steps': 8). main read it as the counter going back
# to its start and laid it end to end at step 800: a validation point 80 steps after the run ended.

def _llf(cur: int, total: int, **kw: float | None) -> str:
    rec = {"current_steps": cur, "total_steps": total, "loss": None, "eval_loss": None, "learning_rate": None,
           "epoch": round(10 * cur / 720, 2), "percentage": 100.0, "elapsed_time": "0:01:00", "remaining_time": "0:00:00"}
    rec.update(kw)
    return json.dumps(rec)


def test_llamafactory_evaluation_after_training_is_not_a_curve_point() -> None:
    recs = []
    for step in range(10, 721, 10):
        recs.append(_llf(step, 720, loss=round(1.0 / step, 4), learning_rate=1e-4))
        if step % 100 == 0:
            recs.append(_llf(step, 720, eval_loss=round(2.0 / step, 4)))
    recs.append(_llf(720, 720))
    recs.append(_llf(8, 8, eval_loss=0.0082))
    src = read("\n".join(recs) + "\n", "trainer_log.jsonl")
    assert steps(src, "val", "loss") == [100, 200, 300, 400, 500, 600, 700]
    assert max(steps(src, "train", "loss")) == 720
    note = [n.message for n in src.notes if "after training" in n.message]
    assert note and "eval_loss 0.0082" in note[0] and "total_steps 8" in note[0]


def test_llamafactory_evaluation_only_file_is_read_as_it_is() -> None:
    recs = [_llf(k, 8, eval_loss=0.5 - 0.01 * k) for k in range(1, 9)]
    src = read("\n".join(recs) + "\n", "trainer_log.jsonl")
    assert steps(src, "val", "loss") == list(range(1, 9))


# ------------------------------------------------------------------ pytorch/examples mnist: the short last batch
# bsridatta/Bengali-ai nohup.out: 'Train Epoch: 1 [159744/160672 (99%)]\tLoss: 2.31' lines, then the epoch's last
# line '[130208/160672 (100%)]' (batch_idx * len(data), the last batch shorter), then 'Val set: Average Loss: 2.21,
# Accuracy: 0.81'. main did not take '[N/M]' for a per-epoch counter (it went back inside every epoch): the epochs
# were laid end to end as counter resets, 884 rows dropped as overwritten and the validation loss read as 1 point.

def _mnist_epochs(n_epochs: int, total: int = 2600, batch: int = 512, last: int = 40) -> str:
    lines = []
    n_batches = -(-total // batch)
    for e in range(1, n_epochs + 1):
        for b in range(n_batches):
            size = batch if b < n_batches - 1 else total - batch * (n_batches - 1)
            lines.append(f"Train Epoch: {e} [{b * size}/{total} ({100 * b / n_batches:.0f}%)]\tLoss: {2.4 / e - 0.01 * b:.6f}")
        lines.append(f"Val set: Average Loss: {2.2 / e:.4f}, Accuracy: {0.8 + 0.01 * e:.4f}")
    return "\n".join(lines) + "\n"


def test_mnist_example_short_last_batch_keeps_epochs_and_validation() -> None:
    src = read(_mnist_epochs(5), "nohup.out")
    assert len(values(src, "val", "loss")) == 5
    tr = steps(src, "train", "loss")
    assert len(tr) == 30 and tr == sorted(set(tr))
    assert any("drops on the last line of 5 epoch(s)" in n.message for n in src.notes)
    assert not any(n.kind == "restart" for n in src.notes)


def test_a_bar_reset_to_zero_at_the_epoch_end_is_not_a_short_last_batch() -> None:
    lines = []
    for e in range(3):
        lines += [f"Epoch {e}: {k}/6 [00:01<00:00, 2.4it/s, loss={3.0 - 0.1 * k - e:.3f}]" for k in range(1, 7)]
        lines.append(f"Epoch {e}: 0/6 [00:00<?, ?it/s, loss={2.4 - e:.3f}]")
    src = read("\n".join(lines) + "\n", "train_output.log")
    assert not any("drops on the last line" in n.message for n in src.notes)


# ------------------------------------------------------------------ a file no reader claims from its head and tail
# 0Jmins0/Distillation src/nohup.out (3 MB): tqdm redraws of 40 kB a line fill its first and last 64 kB, and the
# 'Epoch [1/15], Loss: 68.0616' lines sit in between. Readers judge a file by its head and tail, so lossdoc said
# "unrecognised log format" of a log its text reader reads whole.

def _bar(epoch: int) -> str:
    return "\r".join(f"Epoch {epoch}/15:  {k}%|          | {k}/636 [00:01<16:05,  1.52s/batch]" for k in range(700))


def test_a_log_hidden_between_progress_bars_is_read_whole_with_a_note(tmp_path) -> None:
    import lossdoc

    lines = ["/home/x/models.py:116: FutureWarning: You are using `torch.load` with `weights_only=False`"] * 3
    for e in range(1, 13):
        lines.append(_bar(e))
        lines.append(f"Epoch [{e}/15], Loss: {68.0 / e ** 0.3:.4f}")
    lines.append("\r".join(f"Calculating Top-1 Accuracy: {k}%|#| {k}/38370 [51:11<00:01, 17.20query/s]"
                           for k in range(3000)))
    p = tmp_path / "nohup.out"
    p.write_text("\n".join(lines) + "\n")
    src = lossdoc.read(str(p)).sources[0]
    loss = src.frame.filter(src.frame["metric"] == "loss").sort("step")
    assert loss["value"].to_list()[:2] == [68.0, round(68.0 / 2 ** 0.3, 4)]
    assert loss.height == 12
    assert "no reader recognised the file's format" in src.notes[0].message


def test_a_text_without_a_loss_series_is_still_unrecognised(tmp_path) -> None:
    from click.testing import CliRunner

    from lossdoc.cli import main

    p = tmp_path / "notes.txt"
    p.write_text("".join(f"Processing sample {i} with 6 molecules, took {0.1 * i:.1f}s\n" for i in range(40)))
    res = CliRunner().invoke(main, ["analyze", str(p), "--no-html"])
    assert res.exit_code == 2
    assert "unrecognised log format" in res.output and "Traceback" not in res.output
