"""Reader fixes of round 14: each shape as a few lines in the layout of the public log it came from (source named
above each test: repository, path, commit; the values here are made up), what lossdoc must read."""

from __future__ import annotations

import pytest

from lossdoc.model import split_and_metric
from tests.ingest.test_reader_notes_dev import read, steps, values


# ------------------------------------------------------------------ a metric named with its split in words
# BoyDun/tensorflow-cifar-10 train.out @ 0617b30fc20f46277a962fbbf0d8a227c2ccbcf3: 'Global Step: 10, accuracy: 10.9%,
# loss = 2.30' lines, and every 100 steps 'Accuracy on Test-Set: 10.40% (1040 / 10000)'. main read the test-set
# accuracy as a training series 'accuracy_on_test_set'.

@pytest.mark.parametrize(("name", "split", "metric"), [
    ("Accuracy on Test-Set", "test", "accuracy"),
    ("loss on the validation set", "val", "loss"),
    ("acc of val data", "val", "accuracy"),
    ("loss_test_set", "test", "loss"),
    ("val_loss", "val", "loss"),
    ("loss", "train", "loss"),
    ("loss_dataset", "train", "loss_dataset"),
])
def test_a_split_named_after_the_metric(name: str, split: str, metric: str) -> None:
    assert split_and_metric(name) == (split, metric)


def test_accuracy_on_the_test_set_is_the_test_split() -> None:
    lines = []
    for step in range(10, 301, 10):
        lines.append(f"Global Step: {step:6d}, accuracy:  {10 + step / 10:.1f}%, loss = {2.3 - step / 300:.2f} "
                     "(611.0 examples/sec, 0.21 sec/batch)")
        if step % 100 == 0:
            lines.append(f"Accuracy on Test-Set: {10 + step / 20:.2f}% ({int(100 * (10 + step / 20))} / 10000)")
    src = read("\n".join(lines) + "\n", "train.out")
    assert values(src, "test", "accuracy") == [15.0, 20.0, 25.0]
    assert steps(src, "test", "accuracy") == [100, 200, 300]
    assert len(values(src, "train", "accuracy")) == 30
    assert not values(src, "train", "accuracy_on_test_set")


# ------------------------------------------------------------------ an item's position out of a total as the counter
# philippweinmann/mip_local_unet train_logs.txt @ c03d90b6505ab747964e98fe7a80b46801eaf791: 'Patch number: 99 / 20955,
# Train loss: 0.181631' every 100 patches, 'avg_dice_scores: 0.0037' after every 30 of them. main used line order as
# the step and read 'Patch number' as a series (99, 199, ...).

def test_a_numbered_item_out_of_a_total_is_the_step() -> None:
    lines = []
    for k in range(1, 61):
        lines.append(f"Patch number: {100 * k - 1} / 20955, Train loss: {0.2 - k / 1000:.6f}")
        if k % 30 == 0:
            lines.append(f"avg_dice_scores: {k / 100:.4f}")
    src = read("\n".join(lines) + "\n", "train_logs.txt")
    assert steps(src, "train", "loss")[:3] == [99, 199, 299]
    assert values(src, "train", "loss")[:2] == [0.199, 0.198]
    assert not values(src, "train", "patch_number")
    assert steps(src, "train", "avg_dice_scores") == [2999, 5999]


def test_a_config_index_without_a_total_is_not_a_counter() -> None:
    """'ignore_index: 255' in a config dump names no position; the iteration counter stays the step."""
    lines = ["ignore_index: 255, batch_size: 8"]
    lines += [f"iter: {i}, loss: {2.0 - i / 100:.3f}" for i in range(10, 110, 10)]
    src = read("\n".join(lines) + "\n", "workerlog.0")
    assert steps(src, "train", "loss") == list(range(10, 110, 10))


# ------------------------------------------------------------------ detectron2's evaluation results in metrics.json
# BUAAZhangHaonan/mgm_mask2former metrics.json (batch-10 dev): training lines '{"iteration": 19, "total_loss": 109.27,
# ...}' and after each evaluation '{"bbox/AP": 0.0, "iteration": 2000, "segm/AP": 39.84, "segm/AP50": 80.26, ...}'.
# main read the evaluators' '<task>/<metric>' results as training series.

def test_detectron2_evaluation_results_are_validation() -> None:
    lines = [f'{{"data_time": 0.003, "iteration": {i}, "lr": 0.0001, "total_loss": {100 - i / 50:.3f}}}'
             for i in range(19, 4000, 20)]
    lines.insert(100, '{"bbox/AP": 0.0, "iteration": 2000, "segm/AP": 39.8, "segm/AP50": 80.3, "sem_seg/mIoU": 51.2}')
    lines.append('{"bbox/AP": 0.0, "iteration": 4000, "segm/AP": 65.1, "segm/AP50": 91.3, "sem_seg/mIoU": 60.4}')
    src = read("\n".join(lines) + "\n", "metrics.json")
    assert values(src, "val", "segm_ap") == [39.8, 65.1]
    assert values(src, "val", "sem_seg_m_io_u") == [51.2, 60.4]
    assert not values(src, "train", "segm_ap")
    assert len(values(src, "train", "loss")) == 200


# ------------------------------------------------------------------ a Lightning file with validation rows only
# ML-Ops-Burnsides-Bitches-Group-51/grape_vine_classification_group_51 metrics.csv (batch-8 dev): validation_step logs
# val_loss and acc, training_step logs nothing: 'Prediction,Target,acc,epoch,step,val_loss' rows. main read acc as the
# training accuracy.

def test_unnamed_columns_on_validation_rows_only_are_validation() -> None:
    rows = ["Prediction,Target,acc,epoch,step,val_loss"]
    rows += [f"0.0,2.12,{0.15 + e / 100:.2f},{e},{400 * e + 399},{5e8 - 1e7 * e:.1f}" for e in range(10)]
    src = read("\n".join(rows) + "\n", "metrics.csv")
    assert values(src, "val", "accuracy")[:2] == [0.15, 0.16]
    assert not values(src, "train", "accuracy")
    assert any("read as validation" in n.message for n in src.notes)


def test_an_unnamed_training_metric_stays_training() -> None:
    """training_step logs 'loss' on its own rows, validation_step 'val_loss' on others: loss stays the training loss."""
    rows = ["epoch,loss,step,val_loss"]
    for e in range(5):
        rows += [f"{e},{2.0 - e / 10 - b / 100:.3f},{100 * e + 10 * b + 9}," for b in range(10)]
        rows.append(f"{e},,{100 * e + 99},{2.1 - e / 10:.3f}")
    src = read("\n".join(rows) + "\n", "metrics.csv")
    assert len(values(src, "train", "loss")) == 50
    assert len(values(src, "val", "loss")) == 5


# ------------------------------------------------------------------ per-batch lines after a run that printed one an epoch
# Alexanderareo/peptide_selection nohup.out (batch-7 dev): run 1 prints '\r Epoch:N,Loss:x' once an epoch for epochs
# 0-499, run 2 eight times an epoch for epochs 0-199. main numbered only the lines in runs of 3 or more, so run 1's 1,500
# lines had no step ('values before any counter'), were dropped without a several-runs note, and --split-runs could not
# bring them back.

def _two_runs() -> str:
    lines = []
    for e in range(30):
        lines += [f"\r Epoch:{e},Loss:{2.0 / (1 + e):.6f}", "work", f"MSE_loss = {1.0 / (1 + e) + 0.3:.6f}"]
    for e in range(20):
        lines += [f"\r Epoch:{e},Loss:{3.0 / (1 + e + b / 8):.6f}" for b in range(8)]
        lines += ["work", f"MSE_loss = {1.5 / (1 + e) + 0.4:.6f}"]
    return "\n".join(lines) + "\n"


def test_a_run_printed_once_an_epoch_before_a_per_batch_run_is_an_earlier_run(tmp_path) -> None:
    import lossdoc

    src = read(_two_runs(), "nohup.out")
    assert len(values(src, "train", "loss")) == 160  # the last run: 20 epochs of 8 lines
    runs = [n.message for n in src.notes if n.kind == "several_runs"]
    assert runs and "earlier runs not analysed: lines 1-" in runs[0]
    assert not [n for n in src.notes if "before any counter" in n.message]
    path = tmp_path / "nohup.out"
    path.write_text(_two_runs())
    first, last = lossdoc.read(str(path), split_runs=True).sources
    assert len(values(first, "train", "loss")) == 30 and len(values(last, "train", "loss")) == 160


def test_a_resume_a_little_back_carries_on() -> None:
    """The epoch counter going back to 10 after 14 (a resume from a checkpoint) is no new run: every line is read."""
    lines = []
    for e in list(range(15)) + list(range(10, 20)):
        lines += [f"epoch: {e} | loss: {2.0 / (1 + e + b / 4):.5f}" for b in range(4)]
    src = read("\n".join(lines) + "\n", "train.log")
    assert not [n for n in src.notes if n.kind == "several_runs"]
    assert len(values(src, "train", "loss")) >= 80


# ------------------------------------------------------------------ tracebacks and a web server's log beside the training
# ClaireLC/backprop_kf_vo train_output.txt (batch-10 dev): 'File ".../train.py", line 82, in <module>' after the last
# loss line was read as a series 'line' (93). AkmalMohammedKP/EXPLAINpy training.log (batch-1 dev): Werkzeug's
# 'Debugger PIN: 832-733-745' and '127.0.0.1 - - [01/Mar/2024 03:58:20] "POST /code HTTP/1.1" 200 -' were series.

def test_traceback_frames_and_access_log_lines_are_not_series() -> None:
    lines = ["INFO:werkzeug: * Debugger PIN: 832-733-745",
             'INFO:werkzeug:127.0.0.1 - - [01/Mar/2024 03:58:20] "POST /code HTTP/1.1" 200 -']
    lines += [f"INFO:root:Epoch [{e}/10], Loss: {9.0 / e:.4f}" for e in range(1, 11)]
    lines += ["Traceback (most recent call last):", '  File "/home/u/train.py", line 82, in <module>',
              "    main()", '  File "/home/u/train.py", line 64, in main', "KeyboardInterrupt"]
    src = read("\n".join(lines) + "\n", "training.log")
    assert set(src.frame.get_column("metric").unique().to_list()) == {"loss"}
    assert steps(src, "train", "loss") == list(range(1, 11))


# ------------------------------------------------------------------ a best-so-far summary naming a past epoch
# Siddharth-Jaswal/Dysarthria-Classifier train.log (batch-2 dev): after 'Epoch [20/20] LR: 0.001 | Train Loss: 0.19 |
# Train Acc: 0.94' comes 'Best model found at epoch 19 with train_loss=0.1932', then the test metrics. main took
# 'epoch 19' as the counter: the test results sat at the end of epoch 19 (before the last training epoch) and a
# series 'with_train_loss' held the best value.

def test_a_best_at_epoch_summary_does_not_move_the_steps() -> None:
    lines = ["2026-05-01 04:24:57 | INFO | Train samples=11730 | Val samples=0 | Test samples=4252"]
    for e in range(1, 21):
        lines += [f"2026-05-01 04:00:00 | DEBUG | Epoch {e:02d} | Batch {b}/62 | batch_loss={1.0 / (e + b / 62):.4f}"
                  for b in (20, 40, 60, 62)]
        lines.append(f"2026-05-01 04:00:00 | INFO | Epoch [{e}/20] LR: 0.001000 | Train Loss: {1.0 / e:.4f} | "
                     f"Train Acc: {0.5 + e / 50:.4f}")
    lines.append("2026-05-01 04:37:12 | INFO | Best model found at epoch 19 with train_loss=0.1932")
    for name, acc in (("Combined", 0.7446), ("HeadMic", 0.7883), ("ArrayMic", 0.7005)):
        lines.append(f"2026-05-01 04:37:40 | INFO | Test Metrics - {name} metrics: {{'accuracy': {acc}, "
                     "'balanced_accuracy': 0.7111, 'precision': 0.5884, 'recall': 0.621, 'roc_auc': 0.7712}")
    src = read("\n".join(lines) + "\n", "train.log")
    last_train = max(steps(src, "train", "loss"))
    assert last_train == 1240
    assert steps(src, "test", "accuracy") == [last_train]
    assert not [m for m in src.frame.get_column("metric").unique().to_list() if "with" in m]


def test_a_best_clause_on_an_epoch_line_keeps_the_line() -> None:
    """'Epoch [12/20] ... (best 0.41 at epoch 9)' is epoch 12's line: it stays, the best-so-far clause a detail."""
    lines = [f"Epoch [{e}/20] train_loss: {1.0 / e:.4f} val_loss: {1.2 / e + 0.1:.4f} (best {1.2 / e + 0.1:.4f} at epoch {e})"
             for e in range(1, 21)]
    src = read("\n".join(lines) + "\n", "train.log")
    assert len(values(src, "val", "loss")) == 20
    assert steps(src, "train", "loss") == list(range(1, 21))


# ------------------------------------------------------------------ epoch lines printed after their batches
# Farouc/ccvaes training_logs.txt (batch-10 dev): '  [Batch 50] Loss: 15494.8 | Sup: 7727.6 | Class(Aux): 2.520 |
# Acc: 6.2%' x5, then '===> Epoch 1/30 terminée.' and the epoch's 'Avg Loss: ...'. main read the epoch lines as
# headers: epoch 1's batches were skipped ('values before any counter') and the others sat one epoch early.

def test_epoch_lines_after_their_batches_close_the_epoch() -> None:
    lines = []
    for e in range(1, 6):
        lines += [f"  [Batch {b}] Loss: {100.0 / (e + b / 250):.1f} | Sup: 7.6 | Acc: {e + b / 100:.1f}%"
                  for b in range(50, 251, 50)]
        lines += [f"===> Epoch {e}/5 terminée.", f"     Avg Loss: {100.0 / (e + 0.5):.2f}"]
    src = read("\n".join(lines) + "\n", "training_logs.txt")
    assert steps(src, "train", "loss") == [250 * (e - 1) + b for e in range(1, 6) for b in range(50, 251, 50)]
    assert steps(src, "train", "avg_loss") == [250 * e for e in range(1, 6)]


def test_epoch_header_lines_before_their_batches_are_unchanged() -> None:
    """'**** EPOCH 1 ****' then its batch lines (a header): batch lines after the last header, none before the first."""
    lines = []
    for e in range(1, 6):
        lines.append(f"**** EPOCH {e} ****")
        lines += [f"  [Batch {b}] Loss: {100.0 / (e + b / 250):.1f}" for b in range(50, 251, 50)]
    src = read("\n".join(lines) + "\n", "log_train.txt")
    assert steps(src, "train", "loss") == [250 * (e - 1) + b for e in range(1, 6) for b in range(50, 251, 50)]
