"""Class "all-or-nothing reading": one bad record, entry or number costs only itself. What can be
read is read, and what was lost is said in a note (which becomes an LG002 finding).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoc.cli import main
from lossdoc.ingest import read
from tests.hardening.cases import N, _record, _scalar_event, loss_at, trainer_state, write

HEADER = _record(b"\x09" + struct.pack("<d", 1.7e9) + b"\x1a\x0dbrain.Event:2")


def loss_points(path: Path) -> tuple[int, int, list[str]]:
    """(points of the loss series, its non-finite count, every note's message) of one log."""
    logset = read(str(path))
    frame = logset.frame
    loss = frame.filter((frame["metric"] == "loss") & (frame["split"] == "train"))
    vals = loss["value"].to_list()
    notes = [n.message for s in logset.sources for n in s.notes]
    return len(vals), sum(1 for v in vals if not math.isfinite(v)), notes


# --------------------------------------------------------------------------- TensorBoard
def tb_with(tmp_path: Path, bad: dict[int, bytes]) -> Path:
    recs = [_record(_scalar_event(i, "loss", loss_at(i))) for i in range(N)]
    for i, payload in bad.items():
        recs[i] = _record(payload)  # framing and CRCs intact, payload garbage
    return write(tmp_path / "tb" / "events.out.tfevents.1700000000.host.1.0", HEADER + b"".join(recs))


GARBAGE = b"\xff\xfe garbage payload \x00\x01" * 3


@pytest.mark.parametrize(("where", "payload"), [
    ({30: GARBAGE}, "middle"),
    ({0: GARBAGE}, "first"),
    ({N - 1: GARBAGE}, "last"),
    ({5: GARBAGE, 50: b"\x0a\xff\xff\xff\xff\xff\xff", 90: b"\x2a\x80"}, "several"),
    ({40: b"\x09\x00\x00"}, "short-double"),
])
def test_garbage_tensorboard_payload_costs_only_its_record(tmp_path: Path, where: dict[int, bytes],
                                                           payload: str) -> None:
    path = tb_with(tmp_path, where)
    n, _, notes = loss_points(path.parent)
    assert n == N - len(where)
    note = [m for m in notes if "undecodable payload" in m]
    assert len(note) == 1 and f"{len(where)} event record(s)" in note[0]


def test_garbage_tensorboard_payload_is_a_finding_in_the_report(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tb_with(tmp_path, {30: GARBAGE})
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["analyze", "tb", "--json", "-", "--no-html", "-q"])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(res.output)
    assert any(f["rule"] == "LG002" and "undecodable" in f["message"] for f in doc["runs"][0]["findings"])


# --------------------------------------------------------------------------- trainer_state.json
def state_with(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    st = json.loads(trainer_state())
    edit(st["log_history"])
    return write(tmp_path / "out" / "trainer_state.json", json.dumps(st))


@pytest.mark.parametrize("stray", ["stray", 42, [1, 2], None, True])
def test_stray_log_history_entry_costs_only_itself(tmp_path: Path, stray: object) -> None:
    path = state_with(tmp_path, lambda h: h.insert(20, stray))
    n, _, notes = loss_points(path)
    assert n == N
    assert any("not a JSON object skipped" in m and "entry 20" in m for m in notes), notes


def test_integer_beyond_float_range_is_kept_as_infinite(tmp_path: Path) -> None:
    text = trainer_state().replace(f'"loss": {loss_at(2)}', '"loss": 1' + "0" * 400, 1)
    path = write(tmp_path / "out" / "trainer_state.json", text)
    n, nonfinite, _ = loss_points(path)
    assert n == N and nonfinite == 1


def test_negative_integer_beyond_float_range(tmp_path: Path) -> None:
    text = trainer_state().replace(f'"loss": {loss_at(2)}', '"loss": -1' + "0" * 400, 1)
    path = write(tmp_path / "out" / "trainer_state.json", text)
    n, nonfinite, _ = loss_points(path)
    assert n == N and nonfinite == 1


@pytest.mark.parametrize("value", ["abc", "nan", True, False, {"x": 1}, [1.0]])
def test_non_numeric_value_is_noted_not_silently_dropped(tmp_path: Path, value: object) -> None:
    def edit(h: list[dict]) -> None:  # type: ignore[type-arg]
        h[10]["loss"] = value

    path = state_with(tmp_path, edit)
    n, _, notes = loss_points(path)
    assert n == N - 1
    assert any("not numbers" in m and "'loss' (1)" in m for m in notes), notes


@pytest.mark.parametrize("step", [2**70, "7", 1.5e30])
def test_unusable_step_costs_only_its_entry(tmp_path: Path, step: object) -> None:
    def edit(h: list[dict]) -> None:  # type: ignore[type-arg]
        h[5]["step"] = step

    path = state_with(tmp_path, edit)
    n, _, notes = loss_points(path)
    assert n >= N - 1
    assert any("usable 'step'" in m for m in notes), notes


def test_stray_entry_in_a_checkpoint_dir_still_analyses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state_with(tmp_path, lambda h: h.insert(3, "oops"))
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["analyze", "out", "--no-html", "-q", "--json", "-"])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(res.output)
    assert any(f["rule"] == "LG002" for f in doc["runs"][0]["findings"])


# --------------------------------------------------------------------------- JSON lines
def jsonl(tmp_path: Path, bad: dict[int, str]) -> Path:
    lines = [json.dumps({"step": i, "loss": loss_at(i)}) for i in range(N)]
    for i, text in bad.items():
        lines[i] = text
    return write(tmp_path / "metrics.jsonl", "\n".join(lines) + "\n")


@pytest.mark.parametrize("step", ["1" + "0" * 30, "NaN", "Infinity", "-1e300"])
def test_jsonl_record_with_unusable_step_costs_only_itself(tmp_path: Path, step: str) -> None:
    path = jsonl(tmp_path, {11: f'{{"step": {step}, "loss": 2.0}}'})
    n, _, notes = loss_points(path)
    assert n == N - 1
    assert any("not a finite integer-range number skipped" in m for m in notes), notes


@pytest.mark.parametrize("value", ['"abc"', "true", "false"])
def test_jsonl_string_or_boolean_metric_is_noted(tmp_path: Path, value: str) -> None:
    path = jsonl(tmp_path, {12: f'{{"step": 12, "loss": {value}}}'})
    n, _, notes = loss_points(path)
    assert n == N - 1
    assert any("strings or booleans" in m and "'loss'" in m for m in notes), notes
