"""OF001 on an HF run whose best evaluation fell between two checkpoints: the checkpoint it names to keep
is one that was saved, and the value it shows beside it says where that value was logged."""

from __future__ import annotations

import json

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_the_checkpoint_value_names_the_evaluation_it_comes_from() -> None:
    # evaluations every 300 steps, checkpoints every 500 (public dev log codebert: "the saved one ... is
    # step 2,000 (0.1567)" where 0.1567 was logged at step 1,626, the last evaluation before it)
    hist = []
    for i in range(1, 11):
        step = 300 * i
        hist.append({"step": step, "epoch": i / 10, "loss": round(1.0 / i, 4), "learning_rate": 2e-5})
        val = 0.5 - 0.1 * i if i <= 3 else 0.2 + 0.04 * (i - 3)  # lowest at step 900, then rising
        hist.append({"step": step, "epoch": i / 10, "eval_loss": round(val, 4)})
    doc = {"global_step": 3000, "max_steps": 3000, "save_steps": 500, "eval_steps": 300,
           "logging_steps": 300, "log_history": hist}
    data = json.dumps(doc).encode()
    logset = LogSet([read_input(from_bytes(data, "out/trainer_state.json"), "hf-trainer")])
    runs, _ = run_checks(logset, Config(select=("OF001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert "no checkpoint was saved at step 900" in f.message
    assert "is step 1,000 (0.2, logged at step 900, the last evaluation before it)" in f.message
    assert "Keep the checkpoint at step 1,000 (val loss 0.2, as logged at step 900)" in f.recommendation
    # the early-stopping advice's best step is the best evaluation, not the checkpoint kept instead of it
    assert "EarlyStoppingCallback(early_stopping_patience=3) (best step 900)" in f.recommendation
    assert "(best step 1,000)" not in f.recommendation


def test_a_test_split_held_out_loss_is_named_as_such_in_the_advice() -> None:
    # a hand-rolled loop that evaluates on its test split only ('Train Loss: .. Test Loss: ..'): OF001 judges the test
    # loss as the held-out loss, and its advice must not call the value it quotes a validation loss (the numbers audit
    # flagged "(val loss 34.67)" beside a test/loss series)
    lines = []
    for e in range(1, 21):
        test = 1.0 - 0.08 * e if e <= 8 else 0.36 + 0.03 * (e - 8)
        lines.append(f"Epoch {e}/20 Train Loss: {1.2 / e:.4f} Test Loss: {test:.4f}")
    src = read_input(from_bytes(("\n".join(lines) + "\n").encode(), "train.log"))
    runs, _ = run_checks(LogSet([src]), Config(select=("OF001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert f.split == "test"
    assert "Keep the checkpoint at step 8 (test loss 0.36)" in f.recommendation
