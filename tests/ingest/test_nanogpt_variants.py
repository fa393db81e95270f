"""modded-nanogpt and build-nanogpt logs.

Samples follow the sources read with the search tool:
- ``KellerJordan/modded-nanogpt`` ``train_gpt.py`` (commit 93f0e6b9):
  ``print0(f"step:{step}/{train_steps} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms step_avg:{training_time_ms/max(step, 1):.2f}ms", console=True)``
  and ``print0(f"step:{step+1}/{train_steps} train_time:{approx_training_time_ms:.0f}ms step_avg:{approx_training_time_ms/(step + 1):.2f}ms", console=True)``;
  the log starts with ``print0(code)`` (the script itself); older records print ``train_loss:{:.4f}``.
- ``karpathy/build-nanogpt`` ``train_gpt2.py``:
  ``print(f"step {step:5d} | loss: {loss_accum.item():.6f} | lr {lr:.4e} | norm: {norm:.4f} | dt: {dt*1000:.2f}ms | tok/sec: {tokens_per_sec:.2f}")``,
  ``print(f"validation loss: {val_loss_accum.item():.4f}")``,
  ``print(f"HellaSwag accuracy: {num_correct_norm}/{num_total}={acc_norm:.4f}")``,
  ``f.write(f"{step} train {loss_accum.item():.6f}\\n")``, ``f.write(f"{step} val {val_loss_accum.item():.4f}\\n")``,
  ``f.write(f"{step} hella {acc_norm:.4f}\\n")``.
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn

CASES = [("modded-nanogpt", "record"), ("build-nanogpt", "stdout"), ("build-nanogpt", "logdir")]


@pytest.mark.parametrize(("fmt", "case"), CASES)
def test_golden(fmt: str, case: str) -> None:
    src = read_path(sample(fmt, case))
    assert src.format == fmt
    assert_golden(src.frame, f"{fmt}/{case}.csv")


def test_modded_val_train_and_timing() -> None:
    src = read_path(sample("modded-nanogpt", "record"))
    assert series(src, "val", "loss") == [(0, 10.8258), (125, 4.2918)]
    train = series(src, "train", "loss")
    assert train[0][0] == 126 and math.isnan(train[0][1])
    # step_avg from training lines only; train_time (ms) -> wall_time (s)
    assert series(src, "train", "step_avg_ms") == [(1, 25.41), (2, 25.5), (126, 85.95)]
    walls = src.frame.filter(src.frame["metric"] == "step_avg_ms").sort("step")["wall_time"].to_list()
    assert walls == pytest.approx([0.025, 0.051, 10.83])
    assert src.meta["total_steps"] == 1750
    assert "train_time" not in src.frame["name"].to_list()


def test_modded_seconds_variant() -> None:
    text = "step:10/100 train_loss:3.5000 train_time:1.500s step_avg:150.00ms\n"
    src = read_data(text.encode(), "run/log.txt", "modded-nanogpt")
    assert series(src, "train", "loss") == [(10, 3.5)]
    assert src.frame["wall_time"].unique().to_list() == [1.5]


def test_build_stdout_eval_lines_take_the_next_step() -> None:
    src = read_path(sample("build-nanogpt", "stdout"))
    assert series(src, "val", "loss") == [(0, 10.9501)]
    assert series(src, "val", "hellaswag_accuracy") == [(0, 0.2523)]
    assert series(src, "train", "loss") == [(0, 10.955042), (1, 10.880291)]
    assert ("train", "grad_norm", "norm") in keys(src) and ("train", "step_time_ms", "dt") in keys(src)
    assert series(src, "train", "step_time_ms")[1] == (1, 330.41)


def test_build_logtxt() -> None:
    src = read_path(sample("build-nanogpt", "logdir"))
    assert series(src, "train", "loss") == [(0, 10.955042), (1, 10.880291)]
    assert series(src, "val", "loss") == [(0, 10.9501)]


@pytest.mark.parametrize(("fmt", "case"), CASES)
def test_torn_tail_and_crlf(fmt: str, case: str) -> None:
    path = sample(fmt, case)
    data = path.read_bytes()
    full = read_path(path)
    t = read_data(torn(data), f"{case}/{path.name}")
    assert "torn_tail" in note_kinds(t) and t.frame.height < full.frame.height
    c = read_data(crlf(data), f"{case}/{path.name}")
    assert c.frame.drop("run").equals(full.frame.drop("run"))


@pytest.mark.parametrize(("fmt", "case"), CASES)
def test_detected(fmt: str, case: str) -> None:
    path = sample(fmt, case)
    assert choose(open_file(path)).name == fmt
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == fmt
