"""Reader fixes of round 16: each shape as a few lines in the layout of the public log it came from (source named
above each test: repository, path; the values here are made up), what lossdoc must read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.ingest.test_reader_notes_dev import read, values
from tests.ingest.test_reader_notes_dev import steps as steps_of

# ------------------------------------------------------------------ an evaluation announced by a verb
# nicetea17/CIFAR10-Classifier-AlexNet-and-Resnet18 output.log (Swin-Transformer-style logging): each epoch's
# 'INFO Validate: Time .. Loss 1.21 (1.19) Acc@1 ..' line was read as a second *training* loss ('loss_2'), beside
# the epoch's 'Train: [e/E] .. loss ..' lines, because 'Validate' was not a split word; 'Average Testing accuracy'
# (AndreCI/DL_p2) and 'Testing ... mAP' likewise went to the training side.


def _swin(epochs: int = 6) -> str:
    out = []
    for e in range(epochs):
        for b in (0, 10):
            out.append(f"[2024-01-01 10:00:00 resnet18] (main.py 200): INFO Train: [{e}/{epochs}][{b}/20]\t"
                       f"lr 0.010000\ttime 0.1 (0.1)\tloss {2.0 / (e + 1) + 0.01 * b:.4f} ({2.0 / (e + 1):.4f})\t"
                       "Acc@1 50.0 (50.0)\tMem 900MB")
        out.append(f"[2024-01-01 10:00:00 resnet18] (main.py 200): INFO Validate: \tTime 0.1 (0.1)\t"
                   f"Loss {2.5 / (e + 1):.4f} ({2.4 / (e + 1):.4f})\tAcc@1 50.0 (50.0)\tMem 900MB")
    return "\n".join(out) + "\n"


def test_a_line_announced_by_validate_is_validation() -> None:
    src = read(_swin(), "output.log")
    val = values(src, "val", "loss")
    assert val == [round(2.5 / (e + 1), 4) for e in range(6)]
    assert not values(src, "train", "loss_2")


@pytest.mark.parametrize(("word", "split"), [("Testing", "test"), ("Evaluating", "val"), ("Training", "train")])
def test_a_verb_before_the_values_names_their_split(word: str, split: str) -> None:
    lines = []
    for e in range(1, 7):
        lines.append(f"12/01/2020 10:00:00 Average Training loss {1.0 / e:.4f} - epoch {e}/6")
        if word != "Training":
            lines.append(f"12/01/2020 10:00:00 Average {word} loss {1.2 / e:.4f} - epoch {e}/6")
    src = read("\n".join(lines) + "\n", "output.log")
    assert values(src, "train", "loss") == [round(1.0 / e, 4) for e in range(1, 7)]
    if word != "Training":
        assert values(src, split, "loss") == [round(1.2 / e, 4) for e in range(1, 7)]


# ------------------------------------------------------------------ a loss qualified in parentheses
# esther-soyoung/latent_ode baseline.log (latent_ode's run_models.py): each epoch prints 'Train loss (one batch):
# 53.94' and 'Train CE loss (one batch): 0.1331' under the test line 'Epoch 0010 [Test seq (cond on sampled tp)] |
# Loss 41.2 | ...'. '(' is no key character, so the training loss was never read and the run had only its test loss.

def test_a_loss_qualified_by_how_it_was_aggregated_is_read() -> None:
    lines = []
    for e in range(1, 9):
        lines.append(f"Epoch {e:04d} [Test seq (cond on sampled tp)] | Loss {60.0 / e:.6f} | Likelihood -{60.0 / e:.6f}")
        lines.append(f"Train loss (one batch): {55.0 / e:.6f}")
        lines.append(f"Train CE loss (one batch): {0.13 / e:.6f}")
    src = read("\n".join(lines) + "\n", "baseline.log")
    assert values(src, "train", "loss") == [round(55.0 / e, 4) for e in range(1, 9)]
    assert values(src, "test", "loss") == [round(60.0 / e, 4) for e in range(1, 9)]


def test_other_parenthesised_qualifiers_are_not_read_as_a_key() -> None:
    lines = [f"Epoch {e}: loss {1.0 / e:.4f}\nTime (mins): {e * 3}" for e in range(1, 7)]
    src = read("\n".join(lines) + "\n", "train.log")
    assert values(src, "train", "loss") == [round(1.0 / e, 4) for e in range(1, 7)]
    assert not values(src, "train", "time")


# ------------------------------------------------------------------ detectron2-style month/day timestamps
# EdisonLeeeee/BlockGCL exp.log and OrionZJ/Fabric-Defect-Detection workerlog.0 (PaddleDetection): lines start with
# '[06/12 10:41:07]' (detectron2's and ppdet's logger, datefmt '%m/%d %H:%M:%S'). Its '06/12' was read as an [N/M]
# batch counter, so the steps ran by the day of the month (BlockGCL: 5..1,688 for epochs 1..100; ppdet: 47 points of
# a 378-point run). And a best-so-far clause after the values ('[best_test_acc: .. at epoch 40]') made the whole
# line the test split's, the training loss with it.

def _gcl(n: int = 8) -> str:
    return "".join(f"[06/12 10:{e:02d}:07] exp INFO: [Epoch {e:>4}/ 100] loss=-{100 + 10 * e:.4f}, "
                   f"test_acc={70 + e:.2f}±0.50 [best_test_acc: {70 + e:.2f}±0.50 at epoch {e}]\n"
                   for e in range(1, n + 1))


def test_a_month_day_timestamp_is_not_a_batch_counter() -> None:
    src = read(_gcl(), "exp.log")
    assert steps_of(src, "train", "loss") == list(range(1, 9))


def test_a_best_so_far_clause_does_not_make_the_loss_a_test_loss() -> None:
    src = read(_gcl(), "exp.log")
    assert values(src, "train", "loss") == [-(100 + 10 * e) for e in range(1, 9)]
    assert values(src, "test", "accuracy") == [70 + e for e in range(1, 9)]
    assert not values(src, "test", "loss")


def test_ppdet_lines_step_by_epoch_and_batch() -> None:
    text = "".join(f"[06/12 10:{e:02d}:{b:02d}] ppdet.engine INFO: Epoch: [{e}] [{b:>3}/536] learning_rate: 0.000100 "
                   f"loss_class: {1.0 / (e + 1):.6f} loss_bbox: 0.2 loss: {3.0 / (e + 1) + 0.001 * b:.6f} eta: 1:00:00\n"
                   for e in range(4) for b in (0, 100, 200, 300, 400, 500))
    src = read(text, "workerlog.0")
    assert steps_of(src, "train", "loss") == [e * 536 + b for e in range(4) for b in (0, 100, 200, 300, 400, 500)]


# ------------------------------------------------------------------ a split word inside a dotted logger name
# Joey NMT's training.py logs through logging.getLogger(__name__), so every line carries 'joeynmt.training':
# logger.info("Validation result (%s) at epoch %3d, step %8d: %s: %6.2f, loss: %8.4f, ppl: %8.4f, duration: %.4fs").
# The first split word before the values was the logger's 'training', so the validation loss was read as training's.

def _joey(epochs: int, train: Callable[[int], float], val: Callable[[int], float]) -> str:
    """A Joey NMT training log: 5 'Batch Loss' lines an epoch, then the epoch's validation line."""
    lines = []
    for k in range(1, epochs + 1):
        for j in range(5):
            st = (k - 1) * 500 + 100 * (j + 1)
            lines.append(f"2021-05-01 10:00:00,123 - INFO - joeynmt.training - Epoch   {k}, Step: {st:>8}, "
                         f"Batch Loss: {train(k):12.6f}, Tokens per Sec: 9000, Lr: 0.000300")
        lines.append(f"2021-05-01 10:00:00,123 - INFO - joeynmt.training - Validation result (greedy) at epoch "
                     f"{k:3d}, step {k * 500:8d}: bleu: {3.0 * k:6.2f}, loss: {val(k):8.4f}, ppl: "
                     f"{40.0 / k:8.4f}, duration: 10.1234s")
    return "\n".join(lines) + "\n"


def test_a_split_word_in_a_dotted_logger_name_does_not_name_the_split() -> None:
    src = read(_joey(6, lambda k: 4.0 / k, lambda k: 40000.0 / k), "train.log")
    assert values(src, "val", "loss") == [round(40000.0 / k, 4) for k in range(1, 7)]
    assert max(values(src, "train", "loss")) == 4.0  # the batch losses only


def test_joey_nmt_losses_are_marked_as_on_different_scales() -> None:
    # its validation loss is summed over the validation set (45,352 beside a training 'Batch Loss' of 6,604): GP001
    # must not read their difference as a train-validation gap
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config
    from lossdoc.model import LogSet

    src = read(_joey(8, lambda k: 12000.0 / (1 + 0.1 * k), lambda k: 80000.0 / (1 + 0.1 * k)), "train.log")
    assert "Joey NMT" in src.meta.get("val_loss_scale", "")
    runs, _ = run_checks(LogSet([src]), Config(select=("GP001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert str(f.severity) == "info" and f.message.startswith("not compared: Joey NMT")
    assert "No gap can be measured" in f.recommendation


def test_validate_loss_is_the_validation_loss() -> None:
    # tuero/UPSA train_val.log: 'Epoch:  3, Train Loss: 0.4100, Validate Loss: 0.5200' (batch 15, public dev)
    text = "".join(f"2021-01-01 10:00:00,000 [INFO ]  Epoch: {e:2d}, Train Loss: {1.0 / (e + 1):.4f}, "
                   f"Validate Loss: {1.2 / (e + 1):.4f}\n" for e in range(8))
    src = read(text, "train_val.log")
    assert values(src, "val", "loss") == [round(1.2 / (e + 1), 4) for e in range(8)]
    assert values(src, "train", "loss") == [round(1.0 / (e + 1), 4) for e in range(8)]
