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
