"""hf-console: the Trainer's console dict lines in their three layouts (FORMATS.md §1b)."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

import lossdoc
from lossdoc.errors import EmptyInputError
from lossdoc.ingest import choose, from_bytes, read_input
from lossdoc.model import Source
from tests.ingest.golden import assert_golden

# The same two training logs, one evaluation and the summary, as each layout prints them.
OLD = """\
{'loss': 2.7314, 'learning_rate': 4.9e-05, 'epoch': 0.04}
{'loss': 2.4102, 'learning_rate': 4.8e-05, 'epoch': 0.08}
{'eval_loss': 2.0517, 'eval_runtime': 12.3481, 'eval_samples_per_second': 81.2, 'epoch': 0.08}
{'train_runtime': 301.9921, 'train_samples_per_second': 26.49, 'train_steps_per_second': 0.828, 'train_loss': 2.2894, 'epoch': 0.08}
"""
MIDDLE = """\
{'loss': 2.7314, 'grad_norm': 3.812103271484375, 'learning_rate': 4.9e-05, 'epoch': 0.04}
{'loss': 2.4102, 'grad_norm': nan, 'learning_rate': 4.8e-05, 'epoch': 0.08}
{'eval_loss': 2.0517, 'eval_runtime': 12.3481, 'eval_samples_per_second': 81.2, 'eval_steps_per_second': 10.15, 'epoch': 0.08}
{'train_runtime': 301.9921, 'train_samples_per_second': 26.49, 'train_steps_per_second': 0.828, 'train_loss': 2.2894, 'epoch': 0.08}
"""
NEWEST = """\
{'loss': '2.731', 'grad_norm': '3.812', 'learning_rate': '4.9e-05', 'epoch': '0.04'}
{'loss': '2.41', 'grad_norm': 'inf', 'learning_rate': '4.8e-05', 'epoch': '0.08'}
{'eval_loss': '2.052', 'eval_runtime': '12.35', 'eval_samples_per_second': '81.2', 'eval_steps_per_second': '10.15', 'epoch': '0.08'}
{'train_runtime': '302', 'train_samples_per_second': '26.49', 'train_steps_per_second': '0.828', 'train_loss': '2.289', 'epoch': '0.08'}
"""


def read(text: str, name: str = "train_stdout.log") -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "sample"
    return read_input(inp)


def series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))


@pytest.mark.parametrize(("layout", "text"), [("old", OLD), ("middle", MIDDLE), ("newest", NEWEST)])
def test_layouts(layout: str, text: str) -> None:
    src = read(text)
    assert src.format == "hf-console"
    assert_golden(src.frame, f"hf-console/{layout}.csv")
    f = src.frame
    assert series(f, "train", "loss")["step"].to_list() == [1, 2]
    assert series(f, "train", "loss")["epoch"].to_list() == [0.04, 0.08]
    assert series(f, "val", "loss")[["name", "step"]].rows() == [("eval_loss", 2)]
    assert series(f, "train", "average_loss")[["name", "step"]].rows() == [("train_loss", 2)]
    assert series(f, "train", "lr")["value"].to_list() == [4.9e-05, 4.8e-05]
    inferred = [n for n in src.notes if n.kind == "inferred"]
    assert len(inferred) == 1 and "step k" in inferred[0].message


def test_non_finite_values_are_kept_and_hidden_nan_noted() -> None:
    mid = read(MIDDLE)
    assert math.isnan(series(mid.frame, "train", "grad_norm")["value"][1])
    assert [n.step for n in mid.notes if n.kind == "hidden_nan"] == [2]
    new = read(NEWEST)
    assert math.isinf(series(new.frame, "train", "grad_norm")["value"][1])


def test_logging_steps_from_training_arguments_dump() -> None:
    args = "TrainingArguments(\n_n_gpu=1,\nlogging_steps=50,\nmax_steps=-1,\n)\n"
    src = read(args + "***** Running training *****\n  Total optimization steps = 1,000\n" + OLD)
    assert series(src.frame, "train", "loss")["step"].to_list() == [50, 100]
    assert series(src.frame, "val", "loss")["step"].to_list() == [100]
    # The summary is at the end of training, which the log states (1,000 steps).
    assert series(src.frame, "train", "average_loss")["step"].to_list() == [1000]
    assert {k: v for k, v in src.meta.items() if k != "config"} == {"logging_steps": 50, "total_steps": 1000}
    assert src.meta["config"]["max_steps"] == 1000 and src.meta["config"]["raw"]["logging_steps"] == 50
    assert "logging_steps (50" in next(n.message for n in src.notes if n.kind == "inferred")


def test_tqdm_redraws_ansi_and_warnings_are_tolerated() -> None:
    bar = "\r{p:3d}%|\x1b[32m###\x1b[0m      | {n}/50 [00:0{n}<00:40,  1.10it/s]"
    lines = OLD.splitlines()
    text = (
        "Some weights of the model were not initialized: ['classifier.bias']\n"
        + bar.format(p=2, n=1) + bar.format(p=4, n=2) + "\r" + " " * 40 + "\r" + lines[0] + "\n"
        + "/usr/lib/python3/site-packages/torch/utils/checkpoint.py:61: UserWarning: None of the inputs\n"
        + bar.format(p=6, n=3) + "\r" + lines[1] + "\n"
        + bar.format(p=8, n=4) + "\n"
        + lines[2] + "\n" + lines[3] + "\n"
    )
    src = read(text)
    clean = read(OLD)
    assert src.frame.equals(clean.frame)


def test_eval_before_first_training_log_sits_at_step_0() -> None:
    src = read("{'eval_loss': 3.1, 'eval_runtime': 1.0, 'epoch': 0}\n" + OLD)
    assert series(src.frame, "val", "loss")["step"].to_list() == [0, 2]


def test_torn_last_line_is_ignored_and_noted() -> None:
    text = OLD + "{'loss': 2.3, 'learning_rate': 4."
    src = read(text)
    assert series(src.frame, "train", "loss")["value"].to_list() == [2.7314, 2.4102]
    assert [n.line for n in src.notes if n.kind == "torn_tail"] == [5]


def test_no_dicts_is_an_empty_input_error() -> None:
    inp = from_bytes(b"nothing to see\nstill nothing\n", name="x.log")
    with pytest.raises(EmptyInputError, match="x.log"):
        read_input(inp, "hf-console")


@pytest.mark.parametrize("text", [OLD, MIDDLE, NEWEST], ids=["old", "middle", "newest"])
def test_sniffing(text: str) -> None:
    assert choose(from_bytes(("loading model...\n" + text).encode(), name="out.txt")).name == "hf-console"


def test_fractional_logging_steps_is_a_share_of_max_steps() -> None:
    # TrainingArguments: logging_steps < 1 means ceil(max_steps * logging_steps).
    src = read("logging_steps=0.01,\nmax_steps=1234,\n" + OLD)
    assert series(src.frame, "train", "loss")["step"].to_list() == [13, 26]


def _tqdm_log(eval_at: int, start: float = 3) -> str:
    """ProgressCallback output with stderr captured: tqdm.write clears the bar, prints the dict,
    redraws the bar (count = global_step) on the next line. logging_steps=10, one eval at ``eval_at``;
    the loss falls from ``start`` by 0.5 per log."""
    def bar(n: int) -> str:
        return f"\r{n:3d}%|#         | {n}/100 [00:01<00:09,  9.50it/s]"

    out = [bar(0)]
    for step in range(1, 31):
        out.append(bar(step))
        if step % 10 == 0:
            out.append("\r" + " " * 48 + f"\r{{'loss': '{start - step / 20:.4g}', 'learning_rate': '1e-4', "
                       f"'epoch': '{step / 100:.4g}'}}\n" + bar(step))
        if step == eval_at:
            out.append("\n\r  0%|          | 0/3 [00:00<?, ?it/s]\x1b[A\n\r100%|##########| 3/3 [00:00<00:00]\x1b[A")
            out.append("\r" + " " * 48 + f"\r\x1b[A{{'eval_loss': '2.5', 'epoch': '{step / 100:.4g}'}}\n" + bar(step))
    return "".join(out) + "\n"


def test_steps_from_the_tqdm_bar_after_each_dict() -> None:
    src = read(_tqdm_log(eval_at=25))
    assert series(src.frame, "train", "loss")["step"].to_list() == [10, 20, 30]
    assert series(src.frame, "val", "loss")["step"].to_list() == [25]  # not a logging step: exact anyway
    assert "tqdm progress bar" in next(n.message for n in src.notes if n.kind == "inferred")


def test_tqdm_bar_counts_that_go_back_are_not_trusted() -> None:
    # one training continued in a second process whose bar restarts (the loss carries on from 1.5)
    src = read(_tqdm_log(eval_at=25) + _tqdm_log(eval_at=25, start=1.5))
    assert series(src.frame, "train", "loss")["step"].to_list() == [1, 2, 3, 4, 5, 6]
    assert not [n for n in src.notes if n.kind == "several_runs"]


def test_two_trainings_in_one_log_the_last_is_read_at_its_bar_steps() -> None:
    # the same training run twice into one log: bar and epoch back to the start, loss back to 2.5
    text = _tqdm_log(eval_at=25)
    src = read(text + text)
    assert series(src.frame, "train", "loss")["step"].to_list() == [10, 20, 30]
    assert series(src.frame, "train", "loss")["value"].to_list() == [2.5, 2.0, 1.5]
    assert series(src.frame, "val", "loss")["step"].to_list() == [25]
    note = next(n for n in src.notes if n.kind == "several_runs")
    assert note.count == 2 and "analysed the last" in note.message


HF_RUN = Path(__file__).resolve().parents[2] / "sample_logs" / "runs" / "hf" / "healthy"


@pytest.mark.skipif(not (HF_RUN / "console.log").is_file(), reason="sample_logs/runs/hf not generated")
def test_real_console_matches_its_trainer_state() -> None:
    # Both written by one real Trainer run (scripts/make_sample_logs.py): same series at the same steps.
    con = lossdoc.read(HF_RUN / "console.log").sources[0].frame
    state = lossdoc.read(HF_RUN / "output" / "trainer_state.json").sources[0].frame
    key = ["split", "metric", "step"]
    joined = con.join(state, on=key, how="inner", suffix="_s")
    assert joined.height == con.height  # every console point sits at a step the state file has
    rel = ((joined["value"] - joined["value_s"]).abs() / joined["value_s"].abs()).max()
    assert rel < 5e-4  # the console prints '{v:.4g}'
