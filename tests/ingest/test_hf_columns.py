"""hf-trainer's columnar reader for big trainer_state.json files (issue #18: memory at 10^7 entries).

A big pretty-printed file is read in pieces into columns (``_hf_columns``) instead of a Python object
per entry. Whatever the reader takes, it must give what ``json`` gives: the same rows in the same
order, the same notes and meta. Whatever it does not model must go to ``json`` unchanged (torn files
with their salvage, other layouts, nested values). The tests force the columnar path on small files
(``FAST_MIN_BYTES = 0``) and cut them into tiny pieces, so that entries straddle piece ends.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lossdoc.ingest import from_bytes
from lossdoc.ingest.formats import _hf_columns, hf_trainer
from lossdoc.model import ParseResult
from tests.conftest import REAL_LOGS, real_logs_available

ROOT = Path(__file__).resolve().parents[2]
NAN, INF = float("nan"), float("inf")
PIECES = (200, 1000, 1 << 20)


def fixture_files() -> list[Path]:
    found = sorted((ROOT / "sample_logs").rglob("trainer_state.json"))
    found += sorted((ROOT / "benchmarks" / "realruns").rglob("trainer_state.json.gz"))
    if real_logs_available():
        found += sorted(REAL_LOGS.rglob("trainer_state.json"))
    return found


def data_of(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.suffix == ".gz" else raw


def columnar(data: bytes, piece: int, monkeypatch: pytest.MonkeyPatch) -> ParseResult:
    """The columnar reader's result; fails the test if it handed the file to json."""
    monkeypatch.setattr(_hf_columns, "PIECE_BYTES", piece)
    cols = _hf_columns.read_columns(io.BytesIO(data), axis=hf_trainer.AXIS_KEYS,
                                    train_sig=hf_trainer._train_with_grad_norm, log_history=hf_trainer._LOG_HISTORY)
    return hf_trainer.columns_to_result(cols, "run")


def via_json(data: bytes) -> ParseResult:
    return hf_trainer.parse_state_text(data.decode("utf-8"), "run", "trainer_state.json")


def assert_same(a: ParseResult, b: ParseResult) -> None:
    assert_frame_equal(a.frame, b.frame)  # values, NaN/inf, nulls, dtypes and row order
    assert [(n.kind, n.message, n.count, n.step, n.line) for n in a.notes] == \
        [(n.kind, n.message, n.count, n.step, n.line) for n in b.notes]
    assert a.meta == b.meta


def dump(doc: object) -> bytes:
    # as TrainerState.save_to_json writes it
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(p.parents[3])))
def test_every_trainer_state_in_the_repository_reads_as_with_json(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = data_of(path)
    expected = via_json(data)
    assert expected.frame.height > 0
    for piece in (600, 1 << 20):  # entries cut across pieces; one piece
        assert_same(columnar(data, piece, monkeypatch), expected)


def odd_history() -> list[dict[str, object]]:
    """Every kind of value and entry the reader has to get right."""
    return [
        {"epoch": 0.1, "grad_norm": 1.5, "learning_rate": 5e-05, "loss": 2.5, "step": 10},
        {"epoch": 0.2, "grad_norm": NAN, "learning_rate": 4.9e-05, "loss": 2.4, "step": 20},  # hidden NaN
        {"epoch": 0.3, "grad_norm": INF, "learning_rate": 4.8e-05, "loss": NAN, "step": 30},  # not hidden
        {"epoch": 0.4, "grad_norm": -INF, "learning_rate": 0, "loss": 10**400, "step": 40},  # int past float range
        {"epoch": 0.5, "grad_norm": None, "learning_rate": -0, "loss": 1e-320, "step": 50.0},
        {"epoch": 0.5, "eval_loss": 2.1, "eval_runtime": 12.3, "eval_note": "fast, {really}", "step": 50},
        {"epoch": 0.6, "grad_norm": True, "learning_rate": [], "loss": "2.3", "step": "60", "extra": {}},
        {"epoch": None, "loss": 2.2, "step": None, "num_input_tokens_seen": 1234},
        {"loss": 2.1, "epoch": 0.7, "step": 70, "grad_norm": 0.123456789012345678},  # keys not sorted
        {"epoch": 0.8, "eval_squad_loss": 2.05, "eval_squad_f1": 80.5, "step": 80},
        {"epoch": 0.8, "test_loss": 2.0, "test_accuracy": 0.5, "step": 80},
        {"epoch": 0.9, "loss": 2.0, "step": 12345678901234567890, "learning_rate": 1e400},
        {"epoch": 1.0, "step": 100, "total_flos": 1.2e18, "train_loss": 2.2, "train_runtime": 36.5,
         "train_samples_per_second": 100.0},
        {"epoch": 1.0, "eval_loss": -0.0, "step": 100, "eval_steps_per_second": 1e-7},
    ]


@pytest.mark.parametrize("piece", PIECES)
def test_nan_infinity_null_strings_and_odd_steps_read_as_with_json(piece: int, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"best_metric": NAN, "best_model_checkpoint": "out/checkpoint-80", "global_step": 100,
           "log_history": odd_history(), "logging_steps": 10, "max_steps": 100, "eval_steps": 50,
           "save_steps": 50, "num_train_epochs": 1, "train_batch_size": 8,
           "stateful_callbacks": {"TrainerControl": {"args": {"should_save": True}, "attributes": {}},
                                  "Other": {"args": {}, "attributes": {"x": [1, 2]}}}}
    data = dump(doc)
    expected = via_json(data)
    got = columnar(data, piece, monkeypatch)
    assert_same(got, expected)
    # what the user sees, spelled out: NaN and inf values kept, the hidden NaN and the dropped values noted
    kinds = [n.kind for n in got.notes]
    assert kinds == ["inferred", "hidden_nan", "skipped_lines"]
    assert got.notes[1].step == 20 and got.notes[1].count == 1
    loss = got.frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
    assert loss.height == 8 and loss.get_column("value").is_nan().sum() == 1  # the string "2.3" is not read
    assert loss.get_column("value").to_list()[3] == INF  # 10**400 as json reads it
    assert got.meta["best_model_checkpoint"] == "out/checkpoint-80" and got.meta["total_steps"] == 100


def test_a_generated_run_reads_as_with_json_through_parse_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser's own entry (file on disk, over the size threshold) takes the columnar path."""
    hist = []
    for i in range(1, 3001):
        hist.append({"epoch": round(i / 3000, 4), "grad_norm": 1.0 + (i % 7) / 10, "learning_rate": 1e-4,
                     "loss": 3.0 / (1 + i / 100) if i != 1500 else NAN, "step": i})
        if i % 500 == 0:
            hist.append({"epoch": round(i / 3000, 4), "eval_loss": 3.1 / (1 + i / 100), "step": i})
    data = dump({"global_step": 3000, "log_history": hist, "max_steps": 3000})
    path = tmp_path / "out" / "trainer_state.json"
    path.parent.mkdir()
    path.write_bytes(data)
    monkeypatch.setattr(_hf_columns, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(_hf_columns, "PIECE_BYTES", 4096)
    calls = []
    monkeypatch.setattr(hf_trainer, "columns_to_result",
                        lambda cols, run, f=hf_trainer.columns_to_result: calls.append(run) or f(cols, run))
    got = hf_trainer.HFTrainerParser().parse_dir(path.parent, "out")
    assert len(calls) == 1
    expected = hf_trainer.parse_state_text(data.decode(), calls[0], "out/trainer_state.json")
    assert_frame_equal(got.frame, expected.frame)
    assert got.meta == {**expected.meta, "checkpoint_steps": []} or got.meta == expected.meta
    assert got.frame.height == 3000 * 3 + 6  # loss (its NaN kept), grad_norm, learning_rate; 6 eval_loss


UNUSUAL = {
    "compact": lambda doc: json.dumps(doc).encode(),
    "indent 4": lambda doc: json.dumps(doc, indent=4).encode(),
    "CRLF": lambda doc: dump(doc).replace(b"\n", b"\r\n"),
    "blank line": lambda doc: dump(doc).replace(b"\n    {", b"\n\n    {", 1),
    "nested value": lambda doc: dump({**doc, "log_history": [*doc["log_history"], {"step": 9, "loss": [1.0, 2.0]}]}),
    "repeated key": lambda doc: dump(doc).replace(b'"loss": 2.5,', b'"loss": 2.5,\n      "loss": 7.5,', 1),
    "escaped key": lambda doc: dump({**doc, "log_history": [*doc["log_history"], {"step": 9, "l\u00f6ss": 1.0}]}).replace(
        b"l\xc3\xb6ss", b"l\\u00f6ss"),
    "empty entry": lambda doc: dump({**doc, "log_history": [*doc["log_history"], {}]}),
    "Latin-1": lambda doc: dump({**doc, "log_history": [*doc["log_history"], {"step": 9, "caf\u00e9": 1.0}]}).replace(
        b"\xc3\xa9", b"\xe9"),
    "missing comma": lambda doc: dump(doc).replace(b'"loss": 2.5,', b'"loss": 2.5', 1),
    "trailing comma": lambda doc: dump(doc).replace(b"\n    }\n  ]", b"\n    },\n  ]", 1),
    "two log_history keys": lambda doc: dump(doc).replace(b'"max_steps"', b'"log_history": [],\n  "max_steps"', 1),
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_what_the_reader_does_not_model_goes_to_json(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"global_step": 20, "log_history": odd_history()[:2], "max_steps": 20}
    data = UNUSUAL[name](doc)
    monkeypatch.setattr(_hf_columns, "PIECE_BYTES", 300)
    with pytest.raises(_hf_columns.Unusual):
        _hf_columns.read_columns(io.BytesIO(data), axis=hf_trainer.AXIS_KEYS,
                                 train_sig=hf_trainer._train_with_grad_norm, log_history=hf_trainer._LOG_HISTORY)
    # ... and the parser gives exactly what json gives (or json's error)
    monkeypatch.setattr(_hf_columns, "FAST_MIN_BYTES", 0)
    inp = from_bytes(data, name="trainer_state.json", inner_name="trainer_state.json")
    try:
        expected = hf_trainer.parse_state_text(inp.read_text(), "run", "trainer_state.json")
    except Exception as exc:  # noqa: BLE001 - the same error either way
        with pytest.raises(type(exc), match=str(exc)[:40].replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
            hf_trainer.parse_state(from_bytes(data, name="trainer_state.json", inner_name="trainer_state.json"), "run")
        return
    assert_same(hf_trainer.parse_state(from_bytes(data, name="trainer_state.json", inner_name="trainer_state.json"),
                                       "run"), expected)


def torn_texts() -> list[tuple[str, str]]:
    hist = [{"epoch": i / 100, "grad_norm": 1.0 if i != 97 else NAN, "learning_rate": 1e-4, "loss": 3.0 - i / 100,
             "step": i} for i in range(1, 101)]
    hist.insert(50, {"epoch": 0.5, "eval_loss": 2.6, "step": 50})
    text = dump({"global_step": 100, "log_history": hist, "logging_steps": 1, "max_steps": 100,
                 "best_metric": None}).decode()
    end = text.index("\n  ]")
    # every cut in the last two entries (inside keys, numbers, NaN, between lines, after "}" and "},")
    return [(f"cut at {c}", text[:c]) for c in range(text.rindex('"epoch": 0.99'), end + 3, 7)] + \
        [("after the array", text[: end + 6]), ("mid-file", text[: text.index('"step": 50') + 4])]


@pytest.mark.parametrize(("name", "text"), torn_texts(), ids=[n for n, _ in torn_texts()])
def test_a_torn_file_reads_as_json_salvages_it(name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file cut while the Trainer writes it: the complete entries and a torn_tail note at the cut's
    line, as json's salvage gives; the columnar reader salvages it itself (a 10^7-entry file being
    written would otherwise take ~10 GB)."""
    data = text.encode()
    expected = via_json(data)
    assert expected.notes[0].kind == "torn_tail"
    monkeypatch.setattr(_hf_columns, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(_hf_columns, "PIECE_BYTES", 500)
    calls = []
    monkeypatch.setattr(hf_trainer, "columns_to_result",
                        lambda cols, run, f=hf_trainer.columns_to_result: calls.append(run) or f(cols, run))
    got = hf_trainer.parse_state(from_bytes(data, name="trainer_state.json", inner_name="trainer_state.json"), "run")
    assert_same(got, expected)
    if name != "after the array":  # cut after log_history closed: the top-level fields are torn, json reads it
        assert calls == ["run"]
