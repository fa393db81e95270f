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
