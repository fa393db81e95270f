"""Numbers the corpus audit (benchmarks/quality/audit_numbers.py) found stated as if logged: a training value
"at step S" that is a mean of the interval before S (GP002), a step that is a mean of steps (GP001/GP003's
end-level line), and levels -- means or medians of a window -- given bare ("flat at 3.531", "sits at 3.164").
Each is now either the logged value at a logged step or labelled derived."""

from __future__ import annotations

import json
import re

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def _hf(train: list[tuple[int, float]], val: list[tuple[int, float]], rule: str) -> list:
    # a trainer_state.json: training loss every 10 steps, evaluations every 100 (as the HF Trainer logs them)
    hist = [{"step": s, "epoch": s / 1000, "loss": round(v, 4), "learning_rate": 1e-4} for s, v in train]
    hist += [{"step": s, "epoch": s / 1000, "eval_loss": round(v, 4)} for s, v in val]
    hist.sort(key=lambda h: h["step"])
    doc = {"global_step": train[-1][0], "max_steps": train[-1][0], "logging_steps": 10, "eval_steps": 100,
           "log_history": hist}
    logset = LogSet([read_input(from_bytes(json.dumps(doc).encode(), "out/trainer_state.json"), "hf-trainer")])
    runs, _ = run_checks(logset, Config(select=(rule,)), summaries=False)
    return [f for r in runs for f in r.findings if f.rule == rule]


def test_val_below_train_example_says_the_training_side_is_an_interval_mean() -> None:
    # public dev logs Karasik777/ForecastTest and yashnil/habs-forecast (Lightning, per-step training loss,
    # per-epoch validation): "e.g. 9.59 vs 5.404 at step 1,019" where the log holds 5.585 at step 1,019 --
    # 5.404 was the mean of the last quarter of the interval before that evaluation
    rng = np.random.default_rng(0)
    train = [(s, 1.0 + 0.2 * np.exp(-s / 400) + rng.normal(0, 0.05)) for s in range(10, 1001, 10)]
    val = [(s, 0.6 + 0.2 * np.exp(-s / 400)) for s in range(100, 1001, 100)]
    (f,) = _hf(train, val, "GP002")
    shown = dict(train)
    m = re.search(r"e\.g\. ([\d.]+) vs ([\d.]+) at step ([\d,]+)", f.message)
    if m:  # the short form only when the training value is the one logged at that step
        assert float(m.group(2)) == round(shown[int(m.group(3).replace(",", ""))], 4), f.message
    assert "at step 1,000 vs training" in f.message and "derived: the mean of its 2 losses logged at steps " \
        "990-1,000" in f.message, f.message


def test_gap_end_level_names_a_mean_step_as_a_mean() -> None:
    # public dev logs arshiv-web/finnews and cykolahi/SpectrogramClassifier: "training through the mean loss
    # of each interval between evaluations, at step 9,750" -- 9,750 is the mean step of the last interval's
    # losses, no step of the log
    train = [(s, 0.3 + 1.7 * np.exp(-s / 200)) for s in range(10, 1001, 10)]
    val = [(s, 1.5 + 0.5 * np.exp(-s / 200) + 0.0002 * s) for s in range(100, 1001, 100)]
    (f,) = _hf(train, val, "GP001")
    logged = {s for s, _ in train} | {s for s, _ in val}
    named = [int(t.replace(",", "")) for t in re.findall(r"at step ([\d,]+)", f.message)]
    assert named and all(s in logged for s in named), (named, f.message)
    assert "at 955, the mean step of the last interval's losses" in f.message, f.message


def test_plateau_level_is_labelled_a_mean() -> None:
    # realruns hf lr_char lr1e-05 and sample_logs nanogpt/plateau: "Flat at 2.877 since step 500" where 2.877
    # is the mean of the window's logged values (2.935 was logged at step 500)
    # a loss that never moves from 3.0 (+-0.02) over 400 logged steps
    rng = np.random.default_rng(1)
    steps = np.arange(1, 401)
    loss = 3.0 + rng.normal(0, 0.02, steps.size)
    text = "".join(f"step {s} loss {v:.4f}\n" for s, v in zip(steps, loss))
    logset = LogSet([read_input(from_bytes(text.encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("PL001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert re.search(r"has been flat at [\d.]+ \(mean\) since step", f.message), f.message
    assert re.search(r"^Flat at [\d.]+ \(mean\) since step", f.recommendation), f.recommendation


def test_trivial_level_is_labelled_a_median_at_logged_steps() -> None:
    # realruns sklearn deep_sigmoid / tensorboard lr_adam_digits lr1: "sits at 2.345 over the last 50% of the
    # run (from step 301)" and "Stuck at 2.345" -- a median (of bin means on a long log, from a bin-mean step)
    # 1,000 points logged every 7 steps from step 10: the detector judges bin means at their mean steps
    rng = np.random.default_rng(2)
    steps = 7 * np.arange(1000) + 10
    i = np.arange(steps.size)
    loss = np.where(i < 100, 2.3026 + 0.0 * i, 2.3026) + rng.normal(0, 0.01, steps.size)
    loss[0] = 2.3026
    text = "".join(f"step {s} loss {v:.4f}\n" for s, v in zip(steps, loss))
    logset = LogSet([read_input(from_bytes(text.encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("LM002",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    m = re.search(r"sits at ([\d.]+) \(median\) over the last 50% of the run \(from step ([\d,]+)", f.message)
    assert m, f.message
    start = int(m.group(2).replace(",", ""))
    assert start in set(steps.tolist()) and f.start_step == start and f.end_step == int(steps[-1])
    window = loss[steps >= start]
    assert float(m.group(1)) == float(f"{np.median(np.round(window, 4)):.4g}")
    assert re.search(r"^Stuck at [\d.]+ \(median\) from step", f.recommendation), f.recommendation


def test_divergence_states_the_lr_beside_the_step_it_was_in_force() -> None:
    # sample_logs/runs/hf/divergence: "rose from its best level 3.021 ... at step 30 to 73.52 (mean of the last
    # points) by step 200 (...) (LR in force 0.2417)" -- 0.2417 was the LR at step 30; by step 200 the schedule
    # had reached 0.5. The LR is now stated beside the onset's step.
    rng = np.random.default_rng(3)
    lines = []
    for s in range(1, 201):
        lr = min(0.5, 0.004 * s)  # a warm-up to 0.5 by step 125
        v = 3.0 - s / 100 if s <= 60 else 2.4 + 0.1 * (s - 60)
        lines.append(f"step {s} loss {v + rng.normal(0, 0.01):.4f} lr {lr:g}")
    logset = LogSet([read_input(from_bytes(("\n".join(lines) + "\n").encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("DV001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    m = re.search(r"at step ([\d,]+) \(LR in force ([\d.e-]+)\) to ", f.message)
    assert m, f.message
    onset = int(m.group(1).replace(",", ""))
    assert float(m.group(2)) == min(0.5, 0.004 * onset) < 0.5
    assert "points) (LR in force" not in f.message and ")(LR in force" not in f.message
