"""The step range a finding carries (the report's Steps column, the chart's marks, JSON start_step/end_step)
is made of logged steps of its series, as its message is: on a long series the detectors judge bin means at
their mean steps, which are not steps of the log."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet

# 1,000 points logged every 7 steps from step 10: bin means of 2-3 of them fall between logged steps
STEPS = 7 * np.arange(1000) + 10


def _findings(loss: np.ndarray, rule: str) -> list:
    text = "".join(f"step {s} loss {v:.4f}\n" for s, v in zip(STEPS, loss))
    logset = LogSet([read_input(from_bytes(text.encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=(rule,)), summaries=False)
    return [f for r in runs for f in r.findings if f.rule == rule]


def test_converged_plateau_step_range_is_the_logged_window() -> None:
    # falls from 3 to 1 over the first 300 points, then sits at 1 +- 0.01 (PL002 "converged early")
    rng = np.random.default_rng(3)
    i = np.arange(STEPS.size)
    loss = np.where(i < 300, 3.0 - 2.0 * i / 299, 1.0) + rng.normal(0, 0.01, STEPS.size)
    (f,) = _findings(loss, "PL002")
    lo = int(f.message.split("(steps ")[1].split("-")[0].replace(",", ""))
    assert f"(steps {lo:,}-{STEPS[-1]:,})" in f.message
    assert (f.start_step, f.end_step) == (lo, int(STEPS[-1]))
    # the evidence window too (the Markdown report's evidence table and JUnit print it)
    assert tuple(f.evidence.window) == (lo, int(STEPS[-1]))


def test_still_improving_step_range_is_logged() -> None:
    # a loss still falling at the end of the log (SI001): 1 + 2 exp(-i/600) +- 0.01
    rng = np.random.default_rng(5)
    i = np.arange(STEPS.size)
    loss = 1.0 + 2.0 * np.exp(-i / 600) + rng.normal(0, 0.01, STEPS.size)
    (f,) = _findings(loss, "SI001")
    assert f"when the log ends at step {STEPS[-1]:,}" in f.message
    assert f.end_step == int(STEPS[-1])
    assert f.start_step in set(STEPS.tolist())
    assert tuple(f.evidence.window) == (f.start_step, f.end_step)


def test_escaped_plateau_names_logged_steps() -> None:
    # stuck at 2.3 for the first 40% of the run, then a sudden drop to 0.7 (LM001): the steps of the stretch
    # and of the drop were bin-mean steps ("stuck from step 3" on a log written every 2 steps)
    rng = np.random.default_rng(7)
    i = np.arange(STEPS.size)
    loss = np.where(i < 400, 2.3, 0.7 + 1.6 * np.exp(-(i - 400) / 15.0)) + rng.normal(0, 0.01, STEPS.size)
    (f,) = _findings(loss, "LM001")
    logged = set(STEPS.tolist())
    named = [int(t.replace(",", "")) for t in
             f.message.split("from step ")[1].split(" (")[0].replace(" to ", " ").split()]
    named.append(int(f.message.split("by step ")[1].split(" ")[0].replace(",", "")))
    assert all(t in logged for t in named), named
    assert f.start_step in logged and f.end_step in logged
    assert f"({named[1] - named[0]:,} steps" in f.message


def test_divergence_best_step_is_logged() -> None:
    # Jiff-Zhang/FastSpeech2 (batch 17 dev), logged every 100 steps: DV001 said "best level 0.4238 at step 13,150"
    # -- a bin's mean step -- where the log has 13,100 and 13,200. Falls from 3 to 1 over the first 200 points,
    # then rises steadily to 2 (a divergence), noise 0.02
    rng = np.random.default_rng(11)
    i = np.arange(STEPS.size)
    loss = np.where(i < 200, 3.0 - 2.0 * i / 199, 1.0 + (i - 199) / 800) + rng.normal(0, 0.02, STEPS.size)
    (f,) = _findings(loss, "DV001")
    assert f.start_step in set(STEPS.tolist())
    at = int(f.message.split(") at step ")[1].split(" ")[0].replace(",", ""))
    assert at == f.start_step
