"""'LR in force' beside a step is the LR logged at or before it; a step before the lr series' first point
gets that first value with where it was logged (realruns tensorboard lr_sgd_synth lr10: 'at step 3 (LR in
force 10)' where the LR was first logged at step 132)."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def _spike_message(lr_from: int) -> str:
    rng = np.random.default_rng(1)
    lines = []
    for i in range(1, 301):
        v = 4.0 if i == 80 else 1.0 + 0.5 * np.exp(-i / 50) + rng.normal(0, 0.01)
        lines.append(f"step {i} loss {v:.4f}" + (" lr 0.1" if i >= lr_from else ""))
    logset = LogSet([read_input(from_bytes(("\n".join(lines) + "\n").encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("SP001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    return f.message


def test_lr_first_logged_after_the_step_says_where_it_was_logged() -> None:
    msg = _spike_message(lr_from=150)
    assert "at step 80 (LR 0.1 as first logged, at step 150)" in msg
    assert "LR in force" not in msg


def test_lr_logged_before_the_step_is_in_force() -> None:
    assert "at step 80 (LR in force 0.1)" in _spike_message(lr_from=1)


def test_a_configured_lr_is_not_called_in_force() -> None:
    # Dimas263/NLP_NER_BERT_BILSTM_CRF (batch 16): no LR series, only the hyper-parameters the script printed
    # ('Namespace(..., lr=3e-05, ...)'); NF001 said "at step 27 (LR in force 3e-5)", a value the log never shows
    # at that step. It is the configured LR, and says so.
    lines = ["Namespace(lr=3e-05, batch_size=16)"]
    lines += [f"step {i} loss {'nan' if i >= 200 else f'{1.0 + 0.5 * np.exp(-i / 50):.4f}'}" for i in range(1, 301)]
    logset = LogSet([read_input(from_bytes(("\n".join(lines) + "\n").encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("NF001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert "first at step 200 (configured LR 3e-5)" in f.message and "LR in force" not in f.message, f.message
