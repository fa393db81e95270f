"""Reader fixes of round 16: each shape as a few lines in the layout of the public log it came from (source named
above each test: repository, path; the values here are made up), what lossdoc must read."""

from __future__ import annotations

import pytest

from tests.ingest.test_reader_notes_dev import read, values

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
