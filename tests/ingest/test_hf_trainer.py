"""hf-trainer: trainer_state.json (FORMATS.md §1a) — entry kinds, NaN tokens, torn files, output dirs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

import lossdoc
from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest import choose, from_bytes, read_input
from lossdoc.ingest.registry import get_parser
from lossdoc.model import Source
from tests.conftest import REAL_LOGS, real_logs_available
from tests.ingest.golden import assert_golden

NAN = float("nan")
INF = float("inf")


def state(log_history: list[dict], **top: object) -> dict:
    """A trainer_state.json document with the newest top-level keys (values constructed)."""
    doc = {
        "best_global_step": None,
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": 1.0,
        "eval_steps": 20,
        "global_step": 40,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": log_history,
        "logging_steps": 10,
        "max_steps": 40,
        "num_input_tokens_seen": 0,
        "num_train_epochs": 1,
        "save_steps": 20,
        "total_flos": 1.31e15,
        "train_batch_size": 8,
        "trial_name": None,
        "trial_params": None,
    }
    doc.update(top)
    return doc


def dump(doc: object) -> str:
    # Exactly how TrainerState.save_to_json writes: Python json, NaN/Infinity tokens allowed.
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


HISTORY = [
    {"epoch": 0.25, "grad_norm": 3.8121, "learning_rate": 4.9e-05, "loss": 2.7314, "step": 10},
    {"epoch": 0.5, "grad_norm": NAN, "learning_rate": 4.8e-05, "loss": 2.4102, "step": 20},
    {"epoch": 0.5, "eval_loss": 2.0517, "eval_runtime": 12.3481, "eval_samples_per_second": 81.2,
     "eval_steps_per_second": 10.15, "step": 20},
    {"epoch": 0.5, "eval_squad_loss": 2.5, "eval_squad_f1": 61.5, "step": 20},
    {"epoch": 0.75, "grad_norm": INF, "learning_rate": 4.7e-05, "loss": INF, "step": 30},
    {"epoch": 1.0, "grad_norm": 1.5, "learning_rate": 4.6e-05, "loss": 1.9, "step": 40},
    {"epoch": 1.0, "eval_loss": 1.95, "eval_runtime": 12.1, "eval_samples_per_second": 82.0,
     "eval_steps_per_second": 10.2, "step": 40},
    {"epoch": 1.0, "test_loss": 1.97, "test_accuracy": 0.5, "step": 40},
    {"epoch": 1.0, "step": 40, "total_flos": 1.31e15, "train_loss": 2.2894, "train_runtime": 301.9921,
     "train_samples_per_second": 26.49, "train_steps_per_second": 0.828},
]


def read_text(text: str, name: str = "trainer_state.json", fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name, inner_name=name)
    inp.run_name = "sample"  # a generic file name would otherwise be named after the working directory
    return read_input(inp, fmt)


def series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))


def test_all_entry_kinds_become_their_own_series() -> None:
    src = read_text(dump(state(HISTORY)))
    assert src.format == "hf-trainer"
    assert_golden(src.frame, "hf-trainer/all_kinds.csv")
    f = src.frame
    train = series(f, "train", "loss")
    assert train["name"].unique().to_list() == ["loss"]
    assert train["step"].to_list() == [10, 20, 30, 40]
    assert math.isinf(train["value"][2])  # logged Infinity kept as a value
    assert math.isnan(series(f, "train", "grad_norm")["value"][1])
    assert series(f, "val", "loss")[["name", "step"]].rows() == [("eval_loss", 20), ("eval_loss", 40)]
    assert series(f, "val", "squad_loss")[["name", "value"]].rows() == [("eval_squad_loss", 2.5)]
    assert series(f, "test", "loss")["name"].to_list() == ["test_loss"]
    avg = series(f, "train", "average_loss")
    assert avg[["name", "step", "value"]].rows() == [("train_loss", 40, 2.2894)]
    assert series(f, "train", "runtime")["name"].to_list() == ["train_runtime"]
    assert series(f, "val", "runtime")["name"].to_list() == ["eval_runtime", "eval_runtime"]
    assert series(f, "train", "lr")["value"].to_list() == [4.9e-05, 4.8e-05, 4.7e-05, 4.6e-05]
    assert f["epoch"].null_count() == 0


def test_meta_and_hidden_nan_note() -> None:
    doc = state(HISTORY, best_metric=1.95, best_global_step=40)
    src = read_text(dump(doc))
    assert src.meta["total_steps"] == 40
    assert src.meta["logging_steps"] == 10
    assert src.meta["eval_steps"] == 20
    assert src.meta["num_train_epochs"] == 1
    assert src.meta["train_batch_size"] == 8
    assert src.meta["best_metric"] == 1.95 and src.meta["best_global_step"] == 40
    hidden = [n for n in src.notes if n.kind == "hidden_nan"]
    # step 20: grad_norm NaN beside a finite loss; step 30 has an infinite loss too (not hidden).
    assert len(hidden) == 1 and hidden[0].step == 20 and hidden[0].count == 1
    assert "logging_nan_inf_filter" in hidden[0].message


def test_old_state_without_newer_keys() -> None:
    # Older transformers: no logging_steps / eval_steps / grad_norm; epoch rounded to 2 decimals.
    doc = {
        "best_metric": None, "best_model_checkpoint": None, "epoch": 0.5, "global_step": 20,
        "is_hyper_param_search": False, "is_local_process_zero": True, "is_world_process_zero": True,
        "log_history": [{"epoch": 0.25, "learning_rate": 4.9e-05, "loss": 2.7314, "step": 10},
                        {"epoch": 0.5, "learning_rate": 4.8e-05, "loss": 2.4102, "step": 20}],
        "max_steps": 40, "num_train_epochs": 1, "total_flos": 0, "trial_name": None, "trial_params": None,
    }
    src = read_text(dump(doc))
    assert series(src.frame, "train", "loss")["value"].to_list() == [2.7314, 2.4102]
    assert {k: v for k, v in src.meta.items() if k != "config"} == {
        "total_steps": 40, "num_train_epochs": 1, "global_step": 20}
    assert src.meta["config"]["raw"] == {"max_steps": 40, "num_train_epochs": 1}


def test_torn_file_keeps_complete_entries_before_the_cut() -> None:
    text = dump(state(HISTORY))
    cut = text.index('"eval_squad_f1"') + 5  # inside the 4th entry
    src = read_text(text[:cut])
    torn = [n for n in src.notes if n.kind == "torn_tail"]
    assert len(torn) == 1 and "3 complete log_history entries" in torn[0].message
    assert torn[0].line == text[:cut].count("\n") + 1
    assert series(src.frame, "train", "loss")["step"].to_list() == [10, 20]
    assert series(src.frame, "val", "loss")["step"].to_list() == [20]
    assert series(src.frame, "val", "squad_loss").height == 0
    # Top-level keys before log_history survive (sorted keys: eval_steps comes first).
    assert src.meta.get("eval_steps") == 20


def test_torn_file_cut_between_entries() -> None:
    text = dump(state(HISTORY[:2]))
    cut = text.index("},", text.index('"log_history"')) + 2  # right after the first entry's "},"
    src = read_text(text[:cut])
    assert series(src.frame, "train", "loss")["value"].to_list() == [2.7314]
    assert [n.kind for n in src.notes] == ["torn_tail"]


def test_malformed_json_in_the_middle_is_a_parse_error_with_line() -> None:
    text = dump(state(HISTORY))
    bad_at = text.index('"learning_rate": 4.8e-05')
    broken = text[:bad_at] + '"learning_rate" 4.8e-05' + text[bad_at + len('"learning_rate": 4.8e-05'):]
    with pytest.raises(ParseError) as err:
        read_text(broken)
    assert err.value.line == text[:bad_at].count("\n") + 1
    assert err.value.path == "trainer_state.json"
    assert "trainer_state.json:" in str(err.value)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("   \n", EmptyInputError, id="blank"),
        pytest.param('{"global_step": 3, "log_history": []}\n', EmptyInputError, id="no-entries"),
        pytest.param('{"global_step": 3}\n', ParseError, id="no-log-history"),
        pytest.param('"just a string"\n', ParseError, id="not-an-object"),
    ],
)
def test_bad_documents_raise_clear_errors(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as err:
        get_parser("hf-trainer").parse(from_bytes(text.encode(), name="trainer_state.json"))
    assert str(err.value).startswith("trainer_state.json")


def test_bom_and_crlf() -> None:
    text = dump(state(HISTORY[:2])).replace("\n", "\r\n")
    src = read_input(from_bytes(b"\xef\xbb\xbf" + text.encode(), name="trainer_state.json"))
    assert series(src.frame, "train", "loss")["value"].to_list() == [2.7314, 2.4102]
    assert any(n.kind == "decoding" for n in src.notes)


def test_bare_log_history_list() -> None:
    src = read_text(json.dumps(HISTORY[:2]), name="history.json")
    assert src.format == "hf-trainer"
    assert series(src.frame, "train", "loss")["step"].to_list() == [10, 20]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param("trainer_state.json", dump(state(HISTORY)), id="by-name"),
        pytest.param("state_copy.json", dump(state(HISTORY)), id="content-only"),
        pytest.param("trainer_state.json", dump(state(HISTORY))[:300], id="torn-head"),
    ],
)
def test_sniffing(name: str, text: str) -> None:
    assert choose(from_bytes(text.encode(), name=name, inner_name=name)).name == "hf-trainer"


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(doc), encoding="utf-8")


def test_output_dir_uses_latest_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "my-finetune"
    _write(out / "checkpoint-20" / "trainer_state.json", state(HISTORY[:2], global_step=20))
    _write(out / "checkpoint-100" / "trainer_state.json", state(HISTORY, global_step=40))  # 100 > 20 numerically
    _write(out / "checkpoint-9" / "trainer_state.json", state(HISTORY[:1], global_step=10))
    logs = lossdoc.read(out)
    assert [s.format for s in logs.sources] == ["hf-trainer"]
    src = logs.sources[0]
    assert src.runs == ["my-finetune"]
    assert series(src.frame, "train", "loss")["step"].to_list() == [10, 20, 30, 40]
    other = [n.message for n in src.notes if n.kind == "other"]
    assert len(other) == 1 and "checkpoint-100" in other[0]


def test_output_dir_prefers_top_level_state(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _write(out / "checkpoint-20" / "trainer_state.json", state(HISTORY[:2]))
    _write(out / "trainer_state.json", state(HISTORY[:1]))
    src = lossdoc.read(out).sources[0]
    assert series(src.frame, "train", "loss")["step"].to_list() == [10]
    other = [n.message for n in src.notes if n.kind == "other"]
    assert len(other) == 1 and "top of the directory" in other[0]


@pytest.mark.skipif(not real_logs_available(), reason="../shared/real_logs not present")
def test_real_state_meta() -> None:
    src = lossdoc.read(REAL_LOGS / "hf_trainer/nukumizu-qwen05-verifier/trainer_state.json").sources[0]
    assert src.meta["total_steps"] == 120
    assert src.meta["best_global_step"] == 120
    val = series(src.frame, "val", "loss")
    # best_metric is the lowest eval_loss in that file, at step 120.
    assert val["value"].min() == src.meta["best_metric"]
    assert val.filter(pl.col("value") == val["value"].min())["step"].to_list() == [120]


def test_experiments_dir_with_a_run_still_training(tmp_path: Path) -> None:
    # out/ holds only checkpoint-N/ subdirectories (no file of its own yet): one run, newest copy.
    out = tmp_path / "experiments" / "bert-run"
    _write(out / "checkpoint-20" / "trainer_state.json", state(HISTORY[:2], global_step=20))
    _write(out / "checkpoint-40" / "trainer_state.json", state(HISTORY, global_step=40))
    (out / "checkpoint-40" / "config.json").write_text('{"model_type": "bert"}')
    logs = lossdoc.read(tmp_path / "experiments")
    assert [s.format for s in logs.sources] == ["hf-trainer"]
    assert logs.sources[0].runs == ["bert-run"]
    assert series(logs.sources[0].frame, "train", "loss")["step"].to_list() == [10, 20, 30, 40]
    # An older checkpoint's copy named directly is still read.
    old = lossdoc.read(out / "checkpoint-20" / "trainer_state.json").sources[0]
    assert old.format == "hf-trainer" and old.runs == ["bert-run/checkpoint-20"]


def test_generic_output_dir_name_takes_its_parent(tmp_path: Path) -> None:
    out = tmp_path / "bert-lr3e-5" / "output"
    _write(out / "trainer_state.json", state(HISTORY[:2]))
    assert lossdoc.read(out).sources[0].runs == ["bert-lr3e-5/output"]
