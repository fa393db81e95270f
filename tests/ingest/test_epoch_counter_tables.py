"""Tables whose batch/iter/step column restarts every epoch: one step from the epoch and the counter.

Read as the step, such a counter made every epoch collide with the others: 'epoch,batch,loss' kept 3 of
9 rows (duplicate steps), 'epoch,step,loss' only the last epoch (a "resumed" segment). A global counter
and a real resume are read as before.
"""

from __future__ import annotations

import json

import pytest

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source

EPOCHS = (1, 2, 3)
BATCHES = (0, 100, 200)


def _loss(e: int, b: int) -> float:
    return round(2.0 - 0.2 * e - b / 1000, 4)


def _csv(counter: str, sep: str = ",") -> str:
    rows = [sep.join(("epoch", counter, "loss"))]
    rows += [sep.join((str(e), str(b), str(_loss(e, b)))) for e in EPOCHS for b in BATCHES]
    return "\n".join(rows) + "\n"


def read(text: str, name: str) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "run"
    return read_input(inp)


def _loss_points(src: Source) -> list[tuple[int, float]]:
    fr = src.frame.filter(src.frame["metric"] == "loss").sort("step")
    return list(zip(fr["step"].to_list(), fr["value"].to_list()))


@pytest.mark.parametrize("counter", ["batch", "iter", "step", "batch_idx", "Batch", "iteration"])
@pytest.mark.parametrize("sep,name", [(",", "log.csv"), ("\t", "log.tsv")])
def test_per_epoch_counter_is_combined_with_the_epoch(counter: str, sep: str, name: str) -> None:
    src = read(_csv(counter, sep), name)
    pts = _loss_points(src)
    # every row kept, in file order, on steps that keep rising: (epoch - 1) * 201 + counter
    assert [s for s, _ in pts] == [(e - 1) * 201 + b for e in EPOCHS for b in BATCHES]
    assert [v for _, v in pts] == [_loss(e, b) for e in EPOCHS for b in BATCHES]
    assert set(src.frame["metric"].to_list()) == {"loss"}  # the counter is the axis, not a metric
    msgs = [n.message for n in src.notes if n.kind == "inferred"]
    assert any(f"'{counter}' restarts every epoch" in m and "derived" in m for m in msgs), msgs
    assert not any(n.kind in ("restart", "duplicate_steps") for n in src.notes)
    assert src.frame.filter(src.frame["step"] == 201)["epoch"].to_list() == [2.0]  # epochs as logged


def test_batch_column_is_not_a_keras_file() -> None:
    # CSVLogger writes one row per epoch and never a batch column: the generic reader takes the file
    assert read(_csv("batch"), "training.log.csv").format == "csv"
    assert read(_csv("iter"), "history.csv").format == "csv"
    # a real CSVLogger file is still Keras's
    keras = "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.88,0.41,0.95,0.17\n1,0.96,0.14,0.97,0.11\n"
    assert read(keras, "training.csv").format == "keras-csv"


def test_step_that_restarts_with_the_epoch_is_not_lightning() -> None:
    assert read(_csv("step"), "train_log.csv").format == "csv"


def test_metrics_csv_with_a_per_epoch_step_is_combined_too() -> None:
    # named like Lightning's file (claimed by its reader, typed fast path): still one rising step
    src = read(_csv("step"), "metrics.csv")
    assert src.format == "lightning-csv"
    assert [s for s, _ in _loss_points(src)] == [(e - 1) * 201 + b for e in EPOCHS for b in BATCHES]
    assert any("'step' restarts every epoch" in n.message for n in src.notes)


def test_jsonl_per_epoch_counter() -> None:
    text = "".join(json.dumps({"epoch": e, "batch": b, "loss": _loss(e, b)}) + "\n" for e in EPOCHS for b in BATCHES)
    src = read(text, "log.jsonl")
    assert [s for s, _ in _loss_points(src)] == [(e - 1) * 201 + b for e in EPOCHS for b in BATCHES]


def test_printed_counter_from_one_restarts_counts_from_one() -> None:
    rows = "epoch,batch,loss\n" + "".join(f"{e},{b},{1.0 / (e * b)}\n" for e in (1, 2) for b in (1, 2, 3, 4))
    pts = _loss_points(read(rows, "log.csv"))
    assert [s for s, _ in pts] == [1, 2, 3, 4, 5, 6, 7, 8]  # 4 per epoch, counted from 1


def test_global_counter_stays_the_step() -> None:
    rows = "epoch,step,loss\n" + "".join(f"{e},{100 * i},{2.0 - 0.1 * i}\n"
                                         for i, e in enumerate((0, 0, 0, 1, 1, 1, 2, 2, 2)))
    src = read(rows, "log.csv")
    assert [s for s, _ in _loss_points(src)] == [100 * i for i in range(9)]
    assert not any("restarts every epoch" in n.message for n in src.notes)


def test_resume_stays_a_resume() -> None:
    # a global counter that goes back once (a resume from a checkpoint) while the epoch does not move on
    body = [(0, 0), (0, 100), (1, 200), (1, 300), (2, 400), (2, 500), (1, 200), (1, 300), (2, 400), (2, 500),
            (3, 600)]
    rows = "epoch,step,loss\n" + "".join(f"{e},{s},{2.0 - s / 1000 - 0.01 * i}\n" for i, (e, s) in enumerate(body))
    src = read(rows, "log.csv")
    assert [s for s, _ in _loss_points(src)] == [0, 100, 200, 300, 400, 500, 600]
    assert any(n.kind == "restart" for n in src.notes)
    assert not any("restarts every epoch" in n.message for n in src.notes)


def test_fractional_epoch_is_not_combined() -> None:
    # HF-style fractional epochs move at every row; a counter that went back there is not per epoch
    rows = "epoch,step,loss\n0.5,10,2.0\n1.0,20,1.9\n1.5,5,1.8\n2.0,15,1.7\n"
    src = read(rows, "log.csv")
    assert not any("restarts every epoch" in n.message for n in src.notes)
