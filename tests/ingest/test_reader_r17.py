"""Reader fixes of round 17, from batch 16's collectors' notes: each shape as a few lines in the layout of the public
log it came from (source named above each test; the values here are made up), what lossdoc must read."""

from __future__ import annotations

import pytest

from tests.ingest.test_reader_notes_dev import read, values

# ------------------------------------------------------------------ a run index and a named loss function
# kimbente/ice_thickness pinn.log: 'Run 1/5, Epoch 100/1000, Training Loss (NLML): -1.2345' -- lossdoc read one series,
# 'Run' (the run's number as a metric), and missed the loss: '(NLML)' (the negative log marginal likelihood a
# Gaussian process minimises) broke the key, and 'Run N/M' is which of several runs the line belongs to.


def _runs(key: str = "Run", qual: str = "(NLML)", runs: int = 2) -> str:
    out = []
    for r in range(1, runs + 1):
        for e in range(10, 110, 10):
            out.append(f"{key} {r}/{runs}, Epoch {e}/100, Training Loss {qual}: {-0.5 - e / 100 - r / 10:.4f}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("key", ["Run", "Fold", "Trial"])
def test_a_run_index_is_no_metric_and_its_runs_are_told_apart(key: str) -> None:
    src = read(_runs(key), "pinn.log")
    assert values(src, "train", "loss") == [round(-0.5 - e / 100 - 0.2, 4) for e in range(10, 110, 10)]
    assert not values(src, "train", key.lower())
    assert any(n.kind == "several_runs" for n in src.notes)


@pytest.mark.parametrize("qual", ["(NLML)", "(MSE)", "(ce)"])
def test_a_loss_named_by_its_function_in_brackets_is_read(qual: str) -> None:
    src = read(_runs(qual=qual, runs=1), "train.log")
    assert len(values(src, "train", "loss")) == 10


def test_only_a_loss_function_in_brackets_is_stripped() -> None:
    # 'Loss (train):' names a split and 'Loss (4D):' one of several losses: their brackets stay
    import re

    from lossdoc.ingest.formats.heuristic_text import _QUALIFIED_KEY

    q = re.compile(_QUALIFIED_KEY)
    assert q.sub(r"\1\2", "Training Loss (NLML): -1.2") == "Training Loss: -1.2"
    assert q.sub(r"\1\2", "Loss (train): 0.4, Loss (4D): 0.2") == "Loss (train): 0.4, Loss (4D): 0.2"


# ------------------------------------------------------------------ a bracketed split tag beside the logger's function name
# taishan1994/pytorch_cnn_rnn_transformer transformer.log and Dimas263/NLP_NER_BERT_BILSTM_CRF main.log: Python
# logging's '%(funcName)s' field prints 'train' on every line, the evaluation's too ('... - train - 224 - [dev]
# loss:100.9, accuracy:0.83'): the first split word before the values was 'train', so the dev loss overwrote the
# training loss at that step (22 fake spikes) and there was no validation series.


def test_a_bracketed_split_tag_wins_over_a_logger_field() -> None:
    out = []
    for step in range(0, 4000, 40):
        out.append(f"2021-09-12 18:34:58,773 - INFO - transformer.py - train - 219 - [train] epoch:0 "
                   f"step:{step}/4000 loss:{2.0 / (1 + step / 400):.6f}")
        if step % 1000 == 960:
            out.append(f"2021-09-12 18:35:08,487 - INFO - transformer.py - train - 224 - [dev] "
                       f"loss:{60 + step / 100:.4f}, accuracy:0.8319, f1:0.8319")
    src = read("\n".join(out) + "\n", "transformer.log")
    assert values(src, "val", "loss") == [69.6, 79.6, 89.6, 99.6]
    assert max(values(src, "train", "loss")) == 2.0  # no dev loss among the training losses


# ------------------------------------------------------------------ pix2pix's loss_log.txt before 'data:' was printed
# TrinhQuocNguyen/DeblurGAN_CC checkpoints/experiment_name/loss_log.txt (batch 16, unreadable): '(epoch: 1, iters: 100,
# time: 0.512) G_GAN: 2.013 G_L1: 101.2 D_real+fake: -4.57' -- no 'data:' field, and a '+' in a loss name.


def test_an_older_pix2pix_loss_log_is_read() -> None:
    text = "".join(f"(epoch: {e}, iters: {it}, time: 0.512) G_GAN: {2 + it / 1000:.3f} G_L1: {100 - e:.3f} "
                   f"D_real+fake: -{4 + e / 10:.3f} \n" for e in (1, 2, 3) for it in (100, 200, 300))
    src = read(text, "loss_log.txt")
    assert src.format == "cyclegan"
    assert values(src, "train", "d_real_fake_loss")[:2] == [-4.1, -4.1]
    assert len(values(src, "train", "g_l1_loss")) == 9
    assert not values(src, "train", "data_time")  # not printed: no series, no skipped-line note
    assert not [n for n in src.notes if n.kind == "skipped_lines"]


# ------------------------------------------------------------------ padding after the last newline is no torn row
# mjdarvishi/computer_vision runs/.../results.csv (batch 17): the last row ends with a newline, then a line of padding
# spaces without one; the row before it was dropped as "torn" (7 of 8 epochs read).


def test_blanks_after_the_last_newline_do_not_tear_the_last_row() -> None:
    head = "epoch,train/box_loss,val/box_loss\n"
    rows = "".join(f"{e},{1 - e / 10:.2f},{1.1 - e / 10:.2f}\n" for e in range(1, 9))
    src = read(head + rows + "                ", "results.csv")
    assert len(values(src, "train", "box_loss")) == 8
    assert not [n for n in src.notes if n.kind == "torn_tail"]
    torn = read(head + rows + "9,0.1", "results.csv")  # a row cut mid-write still is
    assert [n.kind for n in torn.notes if n.kind == "torn_tail"] == ["torn_tail"]
