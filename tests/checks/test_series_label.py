"""A held-out series a log names like its training series (a text log's ``loss`` after an ``Evaluation:`` header) is
named with its split in the report's messages: "validation loss was lowest at step 200", not "loss was lowest", which a
reader takes for the training loss."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.checks.series import Series
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def _series(split: str, name: str) -> Series:
    return Series(split, "loss", name, np.arange(3), np.ones(3))


def test_a_name_without_its_split_gets_the_split_word() -> None:
    assert _series("val", "loss").label == "validation loss"
    assert _series("test", "loss").label == "test loss"


def test_names_that_say_their_split_and_training_names_are_as_logged() -> None:
    assert _series("val", "val_loss").label == "val_loss"
    assert _series("val", "eval/loss").label == "eval/loss"
    assert _series("test", "test_loss").label == "test_loss"
    assert _series("val", "Valid Loss").label == "Valid Loss"
    assert _series("train", "loss").label == "loss"


def _tf_text_log() -> str:
    """A TensorFlow-1 text-classifier script: a training line per step, an ``Evaluation:`` header and one line
    with the same keys every 20 steps; the validation loss is lowest at step 200 and rises after it."""
    rng = np.random.default_rng(3)
    lines = []
    for step in range(1, 401):
        tr = 1.0 * np.exp(-step / 60) + 0.02 + abs(rng.normal(0, 0.01))
        lines.append(f"2017-07-11 18:01:13,167: INFO: step {step}, loss {tr:.6g}, acc {min(0.99, 0.5 + step / 500):.6g}")
        if step % 20 == 0:
            va = 0.3 + 0.6 * np.exp(-step / 50) + (0.0008 * (step - 200) if step > 200 else 0.0)
            lines.append("Evaluation:")
            lines.append(f"2017-07-11 18:01:14,000: INFO: step {step}, loss {va:.6g}, acc 0.9")
            lines.append("")
    return "\n".join(lines) + "\n"


def test_overfitting_on_an_unnamed_validation_loss_says_validation() -> None:
    ls = LogSet([read_input(from_bytes(_tf_text_log().encode(), "train_log.log"), None)])
    runs, _ = run_checks(ls, Config(), summaries=False)
    of = [f for r in runs for f in r.findings if f.rule == "OF001"]
    assert of, [f.rule for r in runs for f in r.findings]
    assert of[0].message.startswith("validation loss was lowest at step ")
