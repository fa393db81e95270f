"""OF001's note on a training set already fitted prints two training-loss numbers: they are medians around
the step where validation's running median is lowest (not necessarily the logged minimum the message
names) and at the end, and the message says so (realruns keras n_train150_regnone_seed1: 'lowest at step
15 ... levelled off near zero (0.006729 -> 0.001138, ...)', where 0.006729 was logged at step 21)."""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def _message(val: list[float], train: list[float]) -> str:
    text = "epoch,loss,val_loss\n" + "".join(f"{i},{t},{v}\n" for i, (t, v) in enumerate(zip(train, val)))
    logset = LogSet([read_input(from_bytes(text.encode(), "training.log"), "keras-csv")])
    runs, _ = run_checks(logset, Config(select=("OF001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    return f.message


TRAIN = [2.301, 1.1819, 0.60727, 0.31227, 0.16081, 0.08305, 0.043126, 0.022628, 0.012104, 0.0067011,
         0.0039271, 0.0025028, 0.0017716, 0.0013961, 0.0012034, 0.0011, 0.00105, 0.00102, 0.001]


def test_training_levels_are_labelled_as_medians_at_the_smoothed_minimum() -> None:
    # a lone low evaluation at epoch 6 (the logged minimum); validation's running median is lowest at 9
    val = [2.3, 1.2776, 0.73031, 0.43738, 0.28059, 0.19666, 0.1, 0.12769, 0.11482, 0.1075, 0.115, 0.1225,
           0.13, 0.1375, 0.145, 0.15, 0.155, 0.16, 0.165]
    msg = _message(val, TRAIN)
    assert "lowest at step 6 (0.1 as logged)" in msg
    # the median of epochs 6-8's training loss (0.043126, 0.022628, 0.012104) and the last logged value
    assert ("levelled off near zero (0.02263 -> 0.001: the median of its 3 points around step 7, where "
            "validation's running median is lowest, then its last value;") in msg


def test_training_levels_at_the_logged_minimum() -> None:
    # the running median is lowest at the logged minimum too (epoch 9)
    val = [2.3, 1.2776, 0.73031, 0.43738, 0.28059, 0.19666, 0.15174, 0.14, 0.112, 0.1075, 0.109, 0.110,
           0.13, 0.1375, 0.145, 0.15, 0.155, 0.16, 0.165]
    msg = _message(val, TRAIN)
    assert "lowest at step 9 (0.1075 as logged)" in msg
    # the median of epochs 8-10's training loss (0.012104, 0.0067011, 0.0039271)
    assert "(0.006701 -> 0.001: the median of its 3 points around step 9, then its last value;" in msg
