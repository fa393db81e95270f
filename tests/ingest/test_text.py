"""The ``text`` fallback for hand-rolled training logs.

Styles below are the common ``print``/``logging`` idioms: PyTorch tutorial
``'Epoch [{}/{}], Step [{}/{}], Loss: {:.4f}'``, ``f"Epoch {e}/{n}, Train Loss: ..., Val Loss: ..."``,
``key=value`` logging, ``| name value |`` tables, ``global_step N: train/loss X``, tqdm-style
``loss=0.91``; the real log ``pytorch_custom/barber0-llm-pretrain-train.log`` (Barber0/LLM-pretrain)
writes ``ep: 0, batch: 20, time: 9.17, ntokens: 485.20/513, loss: 10.984375``.
"""

from __future__ import annotations

import math

import pytest

from lossdoc.errors import UnknownFormatError
from lossdoc.ingest import choose, rank
from lossdoc.ingest.inputs import from_bytes
from tests.conftest import REAL_LOGS, SAMPLE_LOGS, real_logs_available
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

# (id, log text, {(split, metric): [(step, value), ...]} that must come out; other series may exist)
STYLES = [
    (
        "epoch-summary",
        "Epoch 1/35, Train Loss: 0.69, Val Loss: 0.71\nEpoch 2/35, Train Loss: 0.57, Val Loss: 0.61\n"
        "Epoch 3/35, Train Loss: 0.50, Val Loss: 0.58\n",
        {("train", "loss"): [(1, 0.69), (2, 0.57), (3, 0.5)], ("val", "loss"): [(1, 0.71), (2, 0.61), (3, 0.58)]},
    ),
    (
        "tutorial-epoch-step",  # Step restarts each epoch: combined with the epoch, 300 per epoch as printed
        "Epoch [1/5], Step [100/300], Loss: 0.5231\nEpoch [1/5], Step [200/300], Loss: 0.4231\n"
        "Epoch [2/5], Step [100/300], Loss: 0.3231\nEpoch [2/5], Step [200/300], Loss: 0.2231\n",
        {("train", "loss"): [(100, 0.5231), (200, 0.4231), (400, 0.3231), (500, 0.2231)]},
    ),
    (
        # A header line names another counter before training ("Training batches: 6501"): it is no step
        # of the run, so the per-epoch Step is still combined with the epoch (both epochs kept, no restart)
        "header-counter-then-epoch-step",
        "Training batches: 300\nEvaluation batches: 300\n"
        "Epoch 0 | Step 0/300 | Loss: 8.9 | LR: 3e-05\nEpoch 0 | Step 200/300 | Loss: 0.8 | LR: 3e-04\n"
        "Epoch 1 | Step 0/300 | Loss: 0.6 | LR: 2e-04\nEpoch 1 | Step 200/300 | Loss: 0.5 | LR: 1e-06\n",
        {("train", "loss"): [(0, 8.9), (200, 0.8), (300, 0.6), (500, 0.5)]},
    ),
    (
        # Evaluation values on lines of their own under a section header (AnshDhalla1's GPT-2 fine-tuning
        # log): they take the step of the line before but are validation values, not more training
        # points that overwrite the last logged training loss at that step (0.5133 read as 0.5301)
        "eval-section-under-header",
        "Epoch 0 | Step 100/200 | Loss: 0.6241 | LR: 1e-04\nEpoch 0 | Step 200/200 | Loss: 0.5133 | LR: 1e-04\n"
        "INFO: Evaluation Results:\nINFO:    Loss: 0.5301\nINFO:    Perplexity: 1.70\n"
        "Epoch 1 | Step 100/200 | Loss: 0.4941 | LR: 1e-05\nEpoch 1 | Step 200/200 | Loss: 0.4631 | LR: 1e-05\n"
        "INFO: Evaluation Results:\nINFO:    Loss: 0.4887\nINFO:    Perplexity: 1.63\n",
        {("train", "loss"): [(100, 0.6241), (200, 0.5133), (300, 0.4941), (400, 0.4631)],
         ("val", "loss"): [(200, 0.5301), (400, 0.4887)], ("val", "perplexity"): [(200, 1.70), (400, 1.63)]},
    ),
    (
        # Evaluation lines that share the training line's keys, each right after a line announcing the
        # evaluation (AIHHU/PaddleCIFAR10 training_log.txt, public dev log): they are the val loss; read as
        # training points at the same epoch they overwrote the training loss (0.6286 read as 0.4866)
        "eval-lines-under-header-same-keys",
        "testing in eval mode\u2026\u2026\nepoch: 0,  loss is: 2.5048, acc is: 0.0709\n"
        "epoch: 0,  loss is: 0.6286, acc is: 0.7797\ntesting in eval mode\u2026\u2026\n"
        "epoch: 0,  loss is: 0.4866, acc is: 0.8353\nNow continue training\u2026\u2026\nNew model has been saved!\n\n"
        "epoch: 1,  loss is: 0.3675, acc is: 0.8733\ntesting in eval mode\u2026\u2026\n"
        "epoch: 1,  loss is: 0.5760, acc is: 0.8035\nNow continue training\u2026\u2026\n"
        "epoch: 2,  loss is: 0.2923, acc is: 0.8986\ntesting in eval mode\u2026\u2026\n"
        "epoch: 2,  loss is: 0.4973, acc is: 0.8435\n",
        {("train", "loss"): [(0, 0.6286), (1, 0.3675), (2, 0.2923)],
         ("val", "loss"): [(0, 0.4866), (1, 0.576), (2, 0.4973)]},
    ),
    (
        # A test pass printed with the training loop's own print after "OK: Finished training for N epochs"
        # (lcskrishna/fruit-classification-pytorch training_log.txt, public log): its per-batch "Loss :" lines
        # were read as 255 more training steps at the end of the curve
        "test-pass-after-training-ended",
        "Epoch : 1\nLoss : 4.11\nLoss : 4.05\nLoss : 3.90\nEpoch : 2\nLoss : 3.5\nLoss : 3.2\nLoss : 3.0\n"
        "Epoch : 3\nLoss : 2.9\nLoss : 2.8\nLoss : 2.7\nOK: Finished training for 3 epochs\n"
        "('Accuracy : ', 67.1875)\nLoss : 1.59\n('Accuracy : ', 60.9)\nLoss : 1.80\n('Accuracy : ', 51.5)\n"
        "Loss : 2.25\nOK: testing done with overall accuracy is : 58.5\n",
        {("train", "loss"): [(0, 4.11), (1, 4.05), (2, 3.9), (3, 3.5), (4, 3.2), (5, 3.0), (6, 2.9), (7, 2.8),
                             (8, 2.7)]},
    ),
    (
        # ... but when an epoch starts again after "Training finished" training goes on (another run): those
        # lines stay training lines (the last run is the one analysed)
        "training-goes-on-after-a-finished-line",
        "Epoch 1, loss: 0.90\nEpoch 2, loss: 0.70\nEpoch 3, loss: 0.60\nTraining finished\n"
        "Epoch 1, loss: 0.95\nEpoch 2, loss: 0.72\nEpoch 3, loss: 0.61\n",
        {("train", "loss"): [(1, 0.95), (2, 0.72), (3, 0.61)]},
    ),
    (
        # The loop's own loss printed before an evaluation metric named with its split (111223-oss/EViT-Jittor-
        # Reproduction train_log.txt): the loss is training's -- it was read as a test loss, as if the line had
        # named the test split for both
        "loss-before-a-split-named-metric",
        "Epoch 001, Loss: 1.7584, Test Acc: 44.76%\nEpoch 002, Loss: 1.3785, Test Acc: 52.76%\n"
        "Epoch 003, Loss: 1.2229, Test Acc: 55.72%\n",
        {("train", "loss"): [(1, 1.7584), (2, 1.3785), (3, 1.2229)],
         ("test", "accuracy"): [(1, 44.76), (2, 52.76), (3, 55.72)]},
    ),
    (
        # ... and a Lightning progress bar whose training loss sits before the validation metrics logged at the
        # last evaluation (Delve-ERAV1/MACHINE-TRANSLATION train_logs.txt): training's at every step, not
        # validation's from the first epoch with validation metrics on
        "progress-bar-loss-before-validation-metrics",
        "Epoch 0:  50%|#####     | 1/2 [00:01<00:01, v_num=2, loss=7.100]\n"
        "Epoch 0: 100%|##########| 2/2 [00:02<00:00, v_num=2, loss=6.900]\n"
        "Epoch 1:  50%|#####     | 1/2 [00:01<00:01, v_num=2, loss=6.220, validation_cer=0.712, validation_bleu=0.000]\n"
        "Epoch 1: 100%|##########| 2/2 [00:02<00:00, v_num=2, loss=6.010, validation_cer=0.712, validation_bleu=0.000]\n",
        {("train", "loss"): [(1, 7.1), (2, 6.9), (3, 6.22), (4, 6.01)]},
    ),
    (
        # ... but a line that names the split before its first value is that split's ("Test set: loss ...")
        "split-named-at-the-head-of-the-line",
        "Epoch 1, Test: Loss: 0.91, Acc: 0.61\nEpoch 2, Test: Loss: 0.82, Acc: 0.66\n",
        {("test", "loss"): [(1, 0.91), (2, 0.82)]},
    ),
    (
        # An epoch header on a line of its own, then each split's loss alone on a line after its split word
        # (yihengy/CrazyExperiment log_train.log): unrecognised before (no loss word, and the header lines
        # outnumbered either value line)
        "split-word-lines-under-epoch-headers",
        "Creating new model \nEpoch: 0\nTraining: 4.5239\nValidation: 4.3571\nEpoch: 1\nTraining: 3.9012\n"
        "Validation: 4.0021\nEpoch: 2\nTraining: 3.5170\nValidation: 3.8870\n",
        {("train", "loss"): [(0, 4.5239), (1, 3.9012), (2, 3.517)], ("val", "loss"): [(0, 4.3571), (1, 4.0021),
                                                                                    (2, 3.887)]},
    ),
    (
        # ... and with the header numbered "Epoch #N" (yihengy/SimDenoiser log_train.log)
        "epoch-hash-headers",
        "Loading Dataset--\nEpoch #0\nTrain: 0.9870\nValidation: 51.7834\nEpoch #1\nTrain: 0.8366\n"
        "Validation: 1.7767\nEpoch #2\nTrain: 0.7710\nValidation: 0.9021\n",
        {("train", "loss"): [(0, 0.987), (1, 0.8366), (2, 0.771)], ("val", "loss"): [(0, 51.7834), (1, 1.7767),
                                                                                  (2, 0.9021)]},
    ),
    (
        # ... but one banner naming a split above the first training line is not a section: every line is
        # training's (fewer than 3 lines under it)
        "one-eval-banner-is-not-a-section",
        "Validation set loaded\nepoch: 0,  loss is: 2.5048\nepoch: 1,  loss is: 0.6286\n"
        "epoch: 2,  loss is: 0.4866\nepoch: 3,  loss is: 0.3675\n",
        {("train", "loss"): [(0, 2.5048), (1, 0.6286), (2, 0.4866), (3, 0.3675)]},
    ),
    (
        # One key printed once per split on a line (B777B2056-2's machine-translation log): each is the
        # split's named last before it -- the second Token Acc is the validation one, it was dropped
        "same-key-per-split",
        "Epoch 0 | Train Loss: 11.2338 | Token Acc: 0.0490 | Seq Acc: 0.0000 | Val Loss: 10.9681 | Token Acc: 0.0660"
        " | Seq Acc: 0.0000\n"
        "Epoch 1 | Train Loss: 10.8902 | Token Acc: 0.0660 | Seq Acc: 0.0000 | Val Loss: 10.8130 | Token Acc: 0.0661"
        " | Seq Acc: 0.0000\n",
        {("train", "loss"): [(0, 11.2338), (1, 10.8902)], ("train", "token_acc"): [(0, 0.049), (1, 0.066)],
         ("val", "loss"): [(0, 10.9681), (1, 10.813)], ("val", "token_acc"): [(0, 0.066), (1, 0.0661)],
         ("val", "seq_acc"): [(0, 0.0), (1, 0.0)]},
    ),
    (
        # A global counter repeated once at a resume, across an epoch change (AdityaAshvin's ScalingDown
        # log: "Global Batch 7095" ends epoch 4 and starts epoch 5, then counts on): one counter, not a
        # per-epoch one -- read as per-epoch, steps ran to 6x the run (epoch x the largest batch + batch)
        "global-counter-repeated-at-resume",
        "Epoch 1, Global Batch 5, Training Loss: 9.1\nEpoch 1, Global Batch 10, Training Loss: 8.2\n"
        "Epoch 2, Global Batch 15, Training Loss: 7.3\nEpoch 2, Global Batch 20, Training Loss: 6.4\n"
        "Epoch 3, Global Batch 20, Training Loss: 6.3\nEpoch 3, Global Batch 25, Training Loss: 5.5\n"
        "Epoch 4, Global Batch 30, Training Loss: 4.6\nEpoch 4, Global Batch 35, Training Loss: 3.7\n",
        {("train", "loss"): [(5, 9.1), (10, 8.2), (15, 7.3), (20, 6.3), (25, 5.5), (30, 4.6), (35, 3.7)]},
    ),
    (
        "key-equals",
        "step=10 loss=2.5 lr=0.001\nstep=20 loss=2.4 lr=0.001\nstep=30 loss=nan lr=0.0009\n",
        {
            ("train", "loss"): [(10, 2.5), (20, 2.4), (30, math.nan)],
            ("train", "lr"): [(10, 0.001), (20, 0.001), (30, 0.0009)],
        },
    ),
    (
        "logging-pipes",
        "2024-05-01 10:00:00,123 INFO step 100 | train_loss 2.50 | grad_norm 1.2\n"
        "2024-05-01 10:00:05,123 INFO step 200 | train_loss 2.40 | grad_norm 1.1\n"
        "2024-05-01 10:00:06,000 INFO step 200 | val_loss 2.60\n"
        "2024-05-01 10:00:10,123 INFO step 300 | train_loss 2.30 | grad_norm 1.0\n",
        {
            ("train", "loss"): [(100, 2.5), (200, 2.4), (300, 2.3)],
            ("val", "loss"): [(200, 2.6)],
            ("train", "grad_norm"): [(100, 1.2), (200, 1.1), (300, 1.0)],
        },
    ),
    (
        "iteration-colon",
        "iteration: 1, loss: 3.2, acc: 0.1\niteration: 2, loss: 3.0, acc: 0.2\niteration: 3, loss: 2.8, acc: 0.3\n",
        {("train", "loss"): [(1, 3.2), (2, 3.0), (3, 2.8)], ("train", "accuracy"): [(1, 0.1), (2, 0.2), (3, 0.3)]},
    ),
    (
        "global-step-slash-keys",
        "global_step 1000: train/loss 1.25, train/lr 3e-4\nglobal_step 2000: train/loss 1.15, train/lr 2e-4\n"
        "global_step 2000: eval/loss 1.30\nglobal_step 3000: train/loss 1.05, train/lr 1e-4\n",
        {
            ("train", "loss"): [(1000, 1.25), (2000, 1.15), (3000, 1.05)],
            ("val", "loss"): [(2000, 1.3)],
            ("train", "lr"): [(1000, 3e-4), (2000, 2e-4), (3000, 1e-4)],
        },
    ),
    (
        "batch-resets-estimated",  # no /total: 100 per epoch estimated from the largest batch (99, 0-based)
        "epoch 0 batch 0 loss 2.0\nepoch 0 batch 50 loss 1.9\nepoch 0 batch 99 loss 1.8\n"
        "epoch 1 batch 0 loss 1.7\nepoch 1 batch 50 loss 1.6\nepoch 1 batch 99 loss 1.5\n"
        "epoch 1 test_loss 1.65 test_acc 0.7\n",
        {
            ("train", "loss"): [(0, 2.0), (50, 1.9), (99, 1.8), (100, 1.7), (150, 1.6), (199, 1.5)],
            ("test", "loss"): [(199, 1.65)],
            ("test", "accuracy"): [(199, 0.7)],
        },
    ),
    (
        "tqdm-postfix-epochs",
        "Epoch 1: loss=0.91, acc=0.55\nEpoch 2: loss=0.81, acc=0.65\nEpoch 3: loss=0.71, acc=0.75\n",
        {("train", "loss"): [(1, 0.91), (2, 0.81), (3, 0.71)]},
    ),
    (
        "pipe-table-valid-words",
        "| epoch 1 | step 50 | loss 4.10 | ppl 60.3 |\n| epoch 1 | step 100 | loss 3.90 | ppl 49.4 |\n"
        "| epoch 1 | step 100 | valid loss 4.00 | valid ppl 54.6 |\n| epoch 2 | step 150 | loss 3.70 | ppl 40.4 |\n",
        {
            ("train", "loss"): [(50, 4.1), (100, 3.9), (150, 3.7)],
            ("val", "loss"): [(100, 4.0)],
            ("val", "perplexity"): [(100, 54.6)],
        },
    ),
    (
        "line-split-context",  # "Accuracy" on a validation line is validation accuracy
        "Epoch 1 Step 10 Loss: 0.9\nEpoch 1 Validation Loss: 0.95, Accuracy: 0.61\n"
        "Epoch 2 Step 20 Loss: 0.8\nEpoch 2 Validation Loss: 0.85, Accuracy: 0.70\n",
        {
            ("train", "loss"): [(10, 0.9), (20, 0.8)],
            ("val", "loss"): [(10, 0.95), (20, 0.85)],
            ("val", "accuracy"): [(10, 0.61), (20, 0.7)],
        },
    ),
    (
        "pytorch-mnist-example",  # pytorch/examples mnist/main.py: 'Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'
        "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.305945\nTrain Epoch: 1 [640/60000 (1%)]\tLoss: 1.365489\n\n"
        "Test set: Average loss: 0.1018, Accuracy: 9663/10000 (97%)\n\n"
        "Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.201314\nTrain Epoch: 2 [640/60000 (1%)]\tLoss: 0.171452\n\n"
        "Test set: Average loss: 0.0610, Accuracy: 9801/10000 (98%)\n",
        {
            ("train", "loss"): [(0, 2.305945), (640, 1.365489), (60000, 0.201314), (60640, 0.171452)],
            ("test", "loss"): [(640, 0.1018), (60640, 0.061)],
            ("test", "accuracy"): [(640, 9663.0), (60640, 9801.0)],
        },
    ),
    (
        "progress-bar-redraws",  # tqdm postfix, "\r" redraws in one physical line; N/M beside the epoch
        "Epoch 0:  10%|#   | 5/50 [00:01<00:09,  4.90it/s, v_num=0, train_loss=2.300]\r"
        "Epoch 0: 100%|####| 50/50 [00:10<00:00,  4.90it/s, v_num=0, train_loss=1.500, val_loss=1.700]\n"
        "Epoch 1:  10%|#   | 5/50 [00:01<00:09,  4.90it/s, v_num=0, train_loss=1.400, val_loss=1.700]\r"
        "Epoch 1: 100%|####| 50/50 [00:10<00:00,  4.90it/s, v_num=0, train_loss=1.200, val_loss=1.500]\n",
        {
            ("train", "loss"): [(5, 2.3), (50, 1.5), (55, 1.4), (100, 1.2)],
            ("val", "loss"): [(50, 1.7), (55, 1.7), (100, 1.5)],
        },
    ),
    (
        # public log weiche20010905/Polymer outputs/train.log: "[epoch step/total]" opens each line, a
        # header line says "train=965193 val=9749" (sizes, not counters), "  >> val" lines follow evaluations
        "epoch-and-step-in-one-bracket",
        "[train] train=965193 val=9749 vocab=182 len=96 n_feat=10\n[train] params 61.2M\n"
        "[0 200/75400] loss 4.0317 lr 2.98e-05 0.5m\n[0 400/75400] loss 2.8447 lr 5.98e-05 1.0m\n"
        "  >> val 0.4238 | validity 0.943 polymer_valid 0.135 uniqueness 1.000 novelty 1.000\n"
        "[1 600/75400] loss 2.2836 lr 8.98e-05 1.6m\n[1 800/75400] loss 1.9891 lr 1.20e-04 2.1m\n"
        "  >> val 0.2918 | validity 0.988 polymer_valid 0.645 uniqueness 1.000 novelty 0.991\n",
        {
            ("train", "loss"): [(200, 4.0317), (400, 2.8447), (600, 2.2836), (800, 1.9891)],
            ("val", "loss"): [(400, 0.4238), (800, 0.2918)],
        },
    ),
    (
        # public log YanjieZe/image-caption-generator log/train.log: 'count' is the batch counter and
        # restarts each epoch; "loss:1082.527588: " ends with a colon
        "count-counter-per-epoch",
        "INFO:root:train epoch: 0\nINFO:root:count: 0, loss:1082.527588: \nINFO:root:count: 50, loss:675.150940: \n"
        "INFO:root:count: 100, loss:494.290009: \nINFO:root:train epoch: 1\nINFO:root:count: 0, loss:330.1: \n"
        "INFO:root:count: 50, loss:320.2: \nINFO:root:count: 100, loss:310.3: \n",
        {("train", "loss"): [(0, 1082.527588), (50, 675.15094), (100, 494.290009), (101, 330.1), (151, 320.2),
                             (201, 310.3)]},
    ),
    (
        # public log ted-yszhao/kd-retinanet outputs/train.log: no key named as a loss; 'total' is it
        "total-is-the-loss",
        "2026-03-24 11:15:52,482 | INFO | epoch=0 step=0 lr=0.001 total=2.192192 det=1.932989 kd=0.518404 w_l2=201.642\n"
        "2026-03-24 11:15:52,861 | INFO | epoch=0 step=1 lr=0.001 total=2.234082 det=1.983843 kd=0.500477 w_l2=201.642\n"
        "2026-03-24 11:15:53,407 | INFO | epoch=0 step=2 lr=0.001 total=2.284371 det=2.043554 kd=0.481633 w_l2=201.642\n",
        {("train", "loss"): [(0, 2.192192), (1, 2.234082), (2, 2.284371)], ("train", "det"): [(0, 1.932989), (1, 1.983843),
                                                                                           (2, 2.043554)]},
    ),
    (
        "exact-name-beats-average",
        "step 1 avg_loss 2.5 loss 2.3\nstep 2 avg_loss 2.4 loss 2.2\nstep 3 avg_loss 2.3 loss 2.1\n",
        {("train", "loss"): [(1, 2.3), (2, 2.2), (3, 2.1)], ("train", "avg_loss"): [(1, 2.5), (2, 2.4), (3, 2.3)]},
    ),
]


def _same(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> bool:
    return len(got) == len(want) and all(
        gs == ws and (gv == pytest.approx(wv) or (math.isnan(gv) and math.isnan(wv)))
        for (gs, gv), (ws, wv) in zip(got, want, strict=True)
    )


@pytest.mark.parametrize(("text", "want"), [pytest.param(t, w, id=i) for i, t, w in STYLES])
def test_hand_rolled_styles(text: str, want: dict[tuple[str, str], list[tuple[int, float]]]) -> None:
    src = read_data(text.encode(), "train.log")
    assert src.format == "text"
    for (split, metric), points in want.items():
        assert _same(series(src, split, metric), points), (split, metric, series(src, split, metric))
    inferred = [n.message for n in src.notes if n.kind == "inferred"]
    assert inferred and inferred[0].startswith("read as a hand-rolled text log: step = ")


@pytest.mark.parametrize(("text", "want"), [pytest.param(t, w, id=i) for i, t, w in STYLES])
def test_styles_claimed_only_weakly(text: str, want: object) -> None:
    conf = {c.parser.name: c.confidence for c in rank(from_bytes(text.encode(), name="train.log"))}
    assert 0.25 <= conf["text"] <= 0.4


NOT_LOGS = [
    (
        "readme-prose",
        "This project trains a model for 3 epochs.\nWe found the loss went to 2.5 after 100 steps.\n"
        "Install with pip install foo==1.2.\nStep 1: clone the repo\nStep 2: run it\n",
    ),
    ("yaml-config", "lr: 0.001\nepochs: 10\nbatch_size: 32\nweight_decay: 0.01\nwarmup_steps: 500\n"),
    (
        "python-source",
        "for epoch in range(10):\n    lr = 0.001 * 0.9 ** epoch\n    batch_size = 32\n    print(f'epoch {epoch}')\n",
    ),
    (
        "changelog",
        "## 1.2.0 (2024-05-01)\n- fix loss scaling when fp16=True\n## 1.1.0 (2024-03-02)\n- add step 3 to docs\n",
    ),
    ("bare-numbers-csv", "1,2.3\n2,2.1\n3,1.9\n"),
    ("counter-without-metric", "Step 1: download\nStep 2: unpack\nStep 3: train\nStep 4: evaluate\n"),
]


@pytest.mark.parametrize("text", [pytest.param(t, id=i) for i, t in NOT_LOGS])
def test_prose_and_non_logs_are_not_claimed(text: str) -> None:
    with pytest.raises(UnknownFormatError):
        choose(from_bytes(text.encode(), name="notes.txt"))


@pytest.mark.parametrize("case", ["epoch_summary", "kv_logging", "tutorial_epoch_step"])
def test_golden_samples(case: str) -> None:
    src = read_path(SAMPLE_LOGS / "text" / f"{case}.log")
    assert src.format == "text"
    assert_golden(src.frame, f"text/{case}.csv")


def test_kv_logging_ignores_source_locations() -> None:
    src = read_path(SAMPLE_LOGS / "text" / "kv_logging.log")
    assert all(".py" not in n for _, _, n in keys(src))
    assert "duplicate_steps" not in note_kinds(src)


def test_broken_variants() -> None:
    data = (SAMPLE_LOGS / "text" / "epoch_summary.log").read_bytes()
    src = read_data(crlf(data), "train.log")
    assert [s for s, _ in series(src, "train", "loss")] == [1, 2, 3, 4]
    assert math.isnan(series(src, "val", "loss")[3][1])
    src = read_data(torn(data, 30), "train.log")  # cut mid-line, as a file still being written
    assert "torn_tail" in note_kinds(src)
    cut = b"step=10 loss=2.5\nstep=20 loss=2.4\nstep=30 loss=2."
    src = read_data(cut, "train.log")
    assert series(src, "train", "loss") == [(10, 2.5), (20, 2.4)]
    assert "torn_tail" in note_kinds(src)


def test_inspect_note_says_how_the_file_was_read() -> None:
    src = read_path(SAMPLE_LOGS / "text" / "tutorial_epoch_step.log")
    msgs = [n.message for n in src.notes if n.kind == "inferred"]
    assert "step = epoch and 'Step' combined" in msgs[0]
    assert "keys read: Loss, Validation Loss, Accuracy" in msgs[0]
    assert "8 of 8 line(s) matched" in msgs[0]
    assert any("300 per epoch, as printed" in m for m in msgs)


@pytest.mark.skipif(not real_logs_available(), reason="../shared/real_logs not present")
def test_real_barber0_log() -> None:
    src = read_path(REAL_LOGS / "pytorch_custom" / "barber0-llm-pretrain-train.log")
    assert src.format == "text"
    loss = series(src, "train", "loss")
    # 13 lines 'ep: 0, batch: 20*k, ..., loss: X' (k = 1..13): batch is the step
    assert len(loss) == 13 and loss[0] == (20, 10.984375) and loss[-1] == (260, 8.390625)
    assert ("train", "ntokens", "ntokens") in keys(src)


def test_glog_record_prefix_is_not_a_metric() -> None:
    # public dev log JiayuZou2020/Object-detection-based-on-SSD loss.txt (TF-slim): each record is
    # printed twice, once as "INFO:tensorflow:..." and once behind a glog prefix, whose "I0228 18"
    # was read as a training series 'I0228' of 1,092 points
    data = b"".join(
        b"INFO:tensorflow:global step %d: loss = %.4f (0.851 sec/step)\n"
        b"I0228 18:38:%02d.877903  8672 learning.py:507] global step %d: loss = %.4f (0.851 sec/step)\n"
        % (s, 60.0 - s / 10, s % 60, s, 60.0 - s / 10) for s in range(310, 420, 10))
    src = read_data(data, "loss.txt")
    assert {m for _, m, _ in keys(src)} == {"loss"}
    assert series(src, "train", "loss")[:2] == [(310, 29.0), (320, 28.0)]


def test_per_batch_lines_with_only_an_epoch_counter_are_steps() -> None:
    # public dev log KAMIENDER/translation_base_on_Attention: "epoch: 0 | loss: 9.65" for each of 400
    # batches an epoch; keeping the last line of each epoch read 100 of 40,000 losses
    data = b"".join(b"epoch: %d | loss: %.3f\n" % (e, 9.0 - e - b / 10) for e in range(3) for b in range(4))
    data += b"epoch: 2 | val_loss: 5.5\n"
    src = read_data(data, "loss.txt")
    tr = series(src, "train", "loss")
    assert [s for s, _ in tr] == list(range(12)) and tr[4] == (4, 8.0)
    assert series(src, "val", "loss") == [(11, 5.5)]  # after the last batch line of its epoch
    assert any("repeat within an epoch" in n.message and "derived" in n.message for n in src.notes)


def test_an_epoch_counter_repeated_by_separate_sessions_stays_the_step() -> None:
    # the same epochs printed once per session (public dev log Ericavanee/robust_nsde: 5 runs of 10
    # epochs) are not per-batch lines: the epoch stays the step and the runs are told apart as before
    data = b"".join(b"epoch=%d, loss=%.4f\n" % (e, 1.0 / (e + 1)) for _ in range(3) for e in range(6))
    src = read_data(data, "log_train.txt")
    assert [s for s, _ in series(src, "train", "loss")] == list(range(6))
    assert not any("repeat within an epoch" in n.message for n in src.notes)


def test_test_pass_after_training_is_named_in_a_note():
    src = read_data(b"Epoch : 1\nLoss : 4.1\nLoss : 4.0\nEpoch : 2\nLoss : 3.5\nLoss : 3.2\n"
                    b"OK: Finished training for 2 epochs\nLoss : 1.59\nLoss : 1.80\n", "training_log.txt")
    note = [n for n in src.notes if "Finished training" in n.message]
    assert note and note[0].line == 8 and note[0].count == 2
    assert "not read as training" in note[0].message
