"""W&B local run directories.

``new_sdk``: a real offline run written by wandb 0.31.0 (see ``sample_logs/wandb_run/README.md``
for the script); its ``run-<id>.wandb`` spans two 32 KiB blocks. Broken variants and a record
longer than a block (FIRST/MIDDLE/LAST chunks) are built here with the framing of
``wandb/sdk/internal/datastore.py`` (``_write_data``) and the field numbers of
``wandb/proto/wandb_internal.proto`` (Record.history = 2, Record.run = 17,
HistoryRecord.item = 1 / step = 2, HistoryItem.key = 1 / value_json = 16,
RunRecord.display_name = 8). ``old_sdk``: ``wandb-history.jsonl`` rows as in FORMATS.md 11b.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import zlib
from pathlib import Path

import pytest

import lossdoc
from lossdoc.errors import EmptyInputError
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import keys, note_kinds, read_path, series

NEW = SAMPLE_LOGS / "wandb_run" / "new_sdk" / "wandb"
OLD = SAMPLE_LOGS / "wandb_run" / "old_sdk" / "wandb"
NEW_RUN = NEW / "offline-run-20261126_090014-pfgpz4tm"
OLD_RUN = OLD / "run-20200315_101500-1a2b3c4d"


# --- a tiny writer mirroring the SDK's framing, for constructed variants ------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(num << 3) + _varint(payload)
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def history(step: int, items: dict[str, str]) -> bytes:
    body = b"".join(_field(1, _field(1, k.encode()) + _field(16, v.encode())) for k, v in items.items())
    return _field(2, body + _field(2, _field(1, step)))


def run_record(name: str) -> bytes:
    return _field(17, _field(1, b"abc") + _field(8, name.encode()))


def wandb_file(records: list[bytes]) -> bytes:
    out = bytearray(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))

    def chunk(data: bytes, typ: int) -> None:
        crc = zlib.crc32(data, zlib.crc32(bytes([typ]))) & 0xFFFFFFFF
        out.extend(struct.pack("<IHB", crc, len(data), typ) + data)

    for rec in records:
        left = 32768 - len(out) % 32768
        if left < 7:
            out.extend(b"\x00" * left)
            left = 32768
        if len(rec) + 7 <= left:
            chunk(rec, 1)
            continue
        chunk(rec[: left - 7], 2)
        rest = rec[left - 7 :]
        while len(rest) > 32768 - 7:
            chunk(rest[: 32768 - 7], 3)
            rest = rest[32768 - 7 :]
        chunk(rest, 4)
    return bytes(out)


# --- tests ------------------------------------------------------------------------------------


def test_real_offline_run_golden() -> None:
    logs = lossdoc.read(NEW)
    assert [s.format for s in logs.sources] == ["wandb-run"]
    src = logs.sources[0]
    assert src.runs == ["quiet-fjord-7"]  # RunRecord.display_name
    assert keys(src) == {
        ("train", "loss", "train/loss"),
        ("train", "lr", "train/learning_rate"),
        ("val", "loss", "eval/loss"),
    }
    loss = series(src, "train", "loss")
    # gen.py: loss = 3.0 / (1 + 0.01 * i) for i in range(150)
    assert len(loss) == 150 and loss[0] == (0, 3.0) and loss[149][1] == pytest.approx(3.0 / 2.49)
    val = series(src, "val", "loss")
    assert [s for s, _ in val] == [49, 99, 149] and math.isnan(val[1][1])
    assert_golden(src.frame, "wandb_run/new_sdk.csv")


def test_binary_file_alone() -> None:
    src = read_path(NEW_RUN / "run-pfgpz4tm.wandb")
    assert src.format == "wandb-run" and src.frame.height == 303


def test_old_sdk_history_jsonl_golden() -> None:
    src = lossdoc.read(OLD).sources[0]
    assert src.format == "wandb-run" and src.runs == ["1a2b3c4d"]
    assert series(src, "train", "loss") == [(0, 2.7314), (1, 2.2103), (2, 1.9455)]
    assert math.isnan(series(src, "val", "loss")[0][1])
    assert_golden(src.frame, "wandb_run/old_sdk.csv")


def test_cut_binary_reads_up_to_the_cut(tmp_path: Path) -> None:
    run = tmp_path / "wandb" / "run-20240101_000000-cut1"
    run.mkdir(parents=True)
    data = (NEW_RUN / "run-pfgpz4tm.wandb").read_bytes()
    (run / "run-cut1.wandb").write_bytes(data[:40000])  # inside the second block
    src = lossdoc.read(run).sources[0]
    assert "torn_tail" in note_kinds(src)
    n = len(series(src, "train", "loss"))
    assert 50 < n < 150
    assert [s for s, _ in series(src, "train", "loss")] == list(range(n))


def test_record_longer_than_a_block_and_non_numeric_values(tmp_path: Path) -> None:
    big = "x" * 70000  # a logged string: FIRST, MIDDLE, LAST chunks; not a number, so skipped
    recs = [
        run_record("long-one"),
        history(0, {"_step": "0", "_timestamp": "1700000000.5", "loss": "2.5", "note": json.dumps(big)}),
        history(1, {"_step": "1", "loss": "NaN", "img": '{"_type": "image-file"}', "ok": "true"}),
        history(2, {"_step": "2", "loss": "Infinity"}),
    ]
    data = wandb_file(recs)
    assert len(data) > 2 * 32768
    run = tmp_path / "run-20240101_000000-big1"
    run.mkdir()
    (run / "run-big1.wandb").write_bytes(data)
    src = lossdoc.read(run).sources[0]
    assert src.runs == ["long-one"]
    loss = series(src, "train", "loss")
    assert loss[0] == (0, 2.5) and math.isnan(loss[1][1]) and loss[2] == (2, math.inf)
    assert keys(src) == {("train", "loss", "loss")}
    assert src.frame.get_column("wall_time").to_list()[0] == 1700000000.5


def test_corrupt_binary_falls_back_to_summary_and_says_so(tmp_path: Path) -> None:
    run = tmp_path / "run-20240101_000000-bad1"
    (run / "files").mkdir(parents=True)
    data = bytearray((NEW_RUN / "run-pfgpz4tm.wandb").read_bytes())
    data[200] ^= 0xFF  # checksum mismatch in an early record
    (run / "run-bad1.wandb").write_bytes(bytes(data))
    (run / "files" / "wandb-summary.json").write_text('{"train/loss": 1.2048, "_step": 149, "_wandb": {"runtime": 3}}')
    src = lossdoc.read(run).sources[0]
    msgs = " ".join(n.message for n in src.notes)
    assert "not readable" in msgs and "last value" in msgs
    assert series(src, "train", "loss") == [(149, 1.2048)]


def test_summary_only_and_empty(tmp_path: Path) -> None:
    run = tmp_path / "wandb" / "run-20240101_000000-sum1"
    shutil.copytree(OLD_RUN, run)
    (run / "wandb-history.jsonl").unlink()
    src = lossdoc.read(run).sources[0]
    assert series(src, "train", "loss") == [(2, 1.9455)]
    assert any("one point each" in n.message for n in src.notes)
    (run / "wandb-summary.json").write_text("{}")
    with pytest.raises(EmptyInputError):
        lossdoc.read(run)


def test_torn_history_jsonl(tmp_path: Path) -> None:
    run = tmp_path / "run-20240101_000000-torn"
    run.mkdir()
    text = (OLD_RUN / "wandb-history.jsonl").read_text()
    (run / "wandb-history.jsonl").write_text(text.rstrip("\n")[:-10])
    src = lossdoc.read(run).sources[0]
    assert "torn_tail" in note_kinds(src)
    assert len(series(src, "train", "loss")) == 3 and series(src, "val", "loss") == []


def test_hf_trainer_run_uses_its_global_step(tmp_path: Path) -> None:
    # transformers WandbCallback.on_log: wandb.log({**logs, "train/global_step": state.global_step}) with
    # define_metric("*", step_metric="train/global_step"); W&B's _step only counts the log calls.
    recs = [
        run_record("hf-run"),
        history(0, {"_step": "0", "train/loss": "2.5", "train/epoch": "0.1", "train/global_step": "10"}),
        history(1, {"_step": "1", "train/loss": "2.1", "train/epoch": "0.2", "train/global_step": "20"}),
        history(2, {"_step": "2", "eval/loss": "2.3", "train/epoch": "0.2", "train/global_step": "20"}),
    ]
    run = tmp_path / "run-20240101_000000-hf01"
    run.mkdir()
    (run / "run-hf01.wandb").write_bytes(wandb_file(recs))
    src = lossdoc.read(run).sources[0]
    assert series(src, "train", "loss") == [(10, 2.5), (20, 2.1)]
    assert series(src, "val", "loss") == [(20, 2.3)]
    assert keys(src) == {("train", "loss", "train/loss"), ("val", "loss", "eval/loss")}  # no global_step/epoch series
    assert src.frame.get_column("epoch").to_list() == [0.1, 0.2, 0.2]
    assert any("'train/global_step' used as the step" in n.message for n in src.notes)
