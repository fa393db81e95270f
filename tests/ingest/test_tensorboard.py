"""TensorBoard event files.

The files in ``tests/ingest/data/tensorboard/`` were written by real writers (tensorboardX 2.6.5 and
tensorboard 2.21's ``EventFileWriter`` with its protos) by ``scripts/make_tensorboard_samples.py``; values are
``loss_at(step) = 2 + 3 / sqrt(1 + step)`` stored as float32 (so compared here through ``np.float32``).
Other cases are built in memory with the TFRecord framing of FORMATS.md section 3b.
"""

from __future__ import annotations

import math
import shutil
import struct
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossdoc
from lossdoc.ingest import choose
from lossdoc.ingest.formats import tfevents
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import keys, note_kinds, series

DATA = Path(__file__).parent / "data" / "tensorboard"
CASES = ["simple", "add_scalars", "add_scalars_tbx", "keras", "new_style", "megatron", "restart", "torn"]


def f32(x: float) -> float:
    return float(np.float32(x))


def loss_at(step: int) -> float:
    return 2.0 + 3.0 / math.sqrt(1 + step)


def only(logs: lossdoc.LogSet):  # type: ignore[no-untyped-def]
    assert len(logs.sources) == 1
    return logs.sources[0]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    src = only(lossdoc.read(DATA / case))
    assert src.format == "tensorboard"
    assert_golden(src.frame, f"tensorboard/{case}.csv")


def test_simple_value_nan_inf_and_wall_time() -> None:
    src = only(lossdoc.read(DATA / "simple"))
    loss = series(src, "train", "loss")
    assert loss[0] == (0, f32(loss_at(0))) and loss[1] == (5, f32(loss_at(5)))
    assert math.isnan(dict(loss)[30]) and dict(loss)[35] == math.inf
    assert series(src, "val", "loss") == [(s, f32(loss_at(s) + 0.1)) for s in (0, 20, 40)]
    assert series(src, "train", "lr")[0] == (0, f32(1e-3))
    assert src.frame.filter(pl.col("step") == 5)["wall_time"].to_list()[0] == 1_700_000_005.0
    assert ("val", "loss", "eval/loss") in keys(src)


def test_keras_train_and_validation_dirs_are_splits_of_one_run() -> None:
    src = only(lossdoc.read(DATA / "keras"))
    assert src.runs == ["20240101-120000"]
    assert series(src, "train", "loss") == [(e, f32(loss_at(e * 100))) for e in range(6)]
    assert series(src, "val", "loss") == [(e, f32(loss_at(e * 100) + 0.15)) for e in range(6)]
    assert series(src, "val", "accuracy")[-1] == (5, f32(0.75))
    # per-iteration evaluation: its own series (another axis), not mixed into the epoch series
    assert series(src, "val", "evaluation_loss_vs_iterations")[0] == (100, f32(loss_at(0) + 0.15))
    assert ("val", "loss", "validation/epoch_loss") in keys(src)
    # the graph record and the text-plugin string tensor are not scalars
    assert not any("keras" == n for _, _, n in keys(src))


def test_keras_single_file_in_validation_dir() -> None:
    f = next((DATA / "keras" / "20240101-120000" / "validation").iterdir())
    src = only(lossdoc.read(f))
    assert src.runs == ["20240101-120000"] and set(src.frame["split"]) == {"val"}


@pytest.mark.parametrize("case", ["add_scalars", "add_scalars_tbx"])
def test_add_scalars_subdirectories_are_splits(case: str) -> None:
    src = only(lossdoc.read(DATA / case))
    assert src.runs == [case]
    assert series(src, "train", "loss") == [(s, f32(loss_at(s))) for s in (0, 10, 20, 30)]
    assert series(src, "val", "loss") == [(s, f32(loss_at(s) + 0.2)) for s in (0, 10, 20, 30)]
    assert ("val", "loss", "loss_val") in keys(src)


def test_tensor_forms_float_double_half_bfloat16_unpacked() -> None:
    src = only(lossdoc.read(DATA / "new_style"))
    assert series(src, "train", "loss") == [(0, f32(5.0)), (10, f32(loss_at(10))), (20, f32(loss_at(20))), (30, 1.75)]
    assert series(src, "train", "aux_loss")[1] == (10, loss_at(10) / 3)  # double_val: exact
    assert series(src, "train", "grad_norm")[0] == (0, 1.5)  # DT_HALF
    assert series(src, "train", "grad_norm")[1] == (10, float(np.float16(1.6)))
    assert series(src, "train", "lr")[0] == (0, 0.25)  # DT_BFLOAT16
    assert series(src, "train", "lr")[2][1] == pytest.approx(0.27, rel=1e-2)


def test_megatron_tags() -> None:
    src = only(lossdoc.read(DATA / "megatron"))
    got = keys(src)
    assert ("train", "loss", "lm loss") in got and ("train", "lr", "learning-rate") in got
    assert ("train", "grad_norm", "grad-norm/grad-norm") in got
    assert ("val", "loss", "lm-loss-validation/lm loss validation") in got
    assert ("val", "perplexity", "lm-loss-validation/lm loss validation ppl") in got
    assert not any("vs samples" in n for _, _, n in got)  # other axis: not read, noted
    assert "other" in note_kinds(src)


def test_restart_and_torn() -> None:
    src = only(lossdoc.read(DATA / "restart"))
    assert [s for s, _ in series(src, "train", "loss")] == [0, 10, 20, 30, 40, 50]
    assert series(src, "train", "loss")[2] == (20, f32(loss_at(20) - 0.01))  # the resumed segment wins
    assert "restart" in note_kinds(src)
    torn = only(lossdoc.read(DATA / "torn"))
    assert "torn_tail" in note_kinds(torn)
    full = only(lossdoc.read(DATA / "simple"))
    assert torn.frame.height == full.frame.height - 1


# ---------------------------------------------------------------------------- built in memory
def record(payload: bytes) -> bytes:
    head = struct.pack("<Q", len(payload))
    return (head + struct.pack("<I", tfevents.masked_crc32c(head)) + payload
            + struct.pack("<I", tfevents.masked_crc32c(payload)))


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def scalar_event(step: int, tag: str, value: float, wall: float = 1.0) -> bytes:
    t = tag.encode()
    val = b"\x0a" + varint(len(t)) + t + b"\x15" + struct.pack("<f", value)
    summ = b"\x0a" + varint(len(val)) + val
    return b"\x09" + struct.pack("<d", wall) + b"\x10" + varint(step) + b"\x2a" + varint(len(summ)) + summ


HEADER = record(b"\x09" + struct.pack("<d", 1.0) + b"\x1a\x0dbrain.Event:2")


def test_crc32c_reference_value() -> None:
    # CRC-32C check value of "123456789" is 0xE3069283 (RFC 3720 appendix B.4 / the Castagnoli CRC catalogue)
    crc = 0xE3069283
    assert tfevents.masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_constructed_example_from_formats_md() -> None:
    payload = scalar_event(10, "train/loss", 2.5)
    assert payload[9:].hex(" ") == "10 0a 2a 13 0a 11 0a 0a 74 72 61 69 6e 2f 6c 6f 73 73 15 00 00 20 40"
    frame, notes = tfevents.read_events(HEADER + record(payload), "x")
    assert frame.rows() == [("train/loss", 10, 1.0, 2.5)] and notes == []


def test_corrupt_record_in_the_middle_names_file_and_offset(tmp_path: Path) -> None:
    recs = [HEADER] + [record(scalar_event(s, "loss", 1.0 / (s + 1))) for s in range(5)]
    data = bytearray(b"".join(recs))
    off = sum(len(r) for r in recs[:3])
    data[off] ^= 0x01  # the length of record 3
    f = tmp_path / "events.out.tfevents.1.host"
    f.write_bytes(bytes(data))
    src = only(lossdoc.read(f))  # the records before the damage are kept, as TensorBoard does
    assert [s for s, _ in series(src, "train", "loss")] == [0, 1]
    note = next(n for n in src.notes if n.kind == "skipped_lines")
    assert f"corrupt TFRecord header at byte offset {off}" in note.message
    # a payload that is not a protobuf, framed with valid CRCs: only that record is lost (issue 15)
    bad = b"".join(recs[:2]) + record(b"\x2a\xff\xff\x01") + b"".join(recs[2:])
    f.write_bytes(bad)
    src = only(lossdoc.read(f))
    assert [s for s, _ in series(src, "train", "loss")] == [0, 1, 2, 3, 4]
    assert any("undecodable payload skipped (first: record 2 at byte offset" in n.message for n in src.notes)


def test_torn_header_and_torn_payload() -> None:
    recs = HEADER + b"".join(record(scalar_event(s, "loss", 2.0)) for s in range(3))
    for cut in (5, 14, 30):
        frame, notes = tfevents.read_events(recs + record(scalar_event(3, "loss", 2.0))[:cut], "x")
        assert frame["step"].to_list() == [0, 1, 2] and [n.kind for n in notes] == ["torn_tail"]


def test_several_files_in_one_directory_read_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "events.out.tfevents.2.host").write_bytes(HEADER + record(scalar_event(2, "loss", 3.0)))
    (tmp_path / "events.out.tfevents.1.host").write_bytes(HEADER + record(scalar_event(1, "loss", 4.0)))
    src = only(lossdoc.read(tmp_path))
    assert series(src, "train", "loss") == [(1, 4.0), (2, 3.0)]


def test_logdir_with_one_run_per_subdirectory(tmp_path: Path) -> None:
    for run in ("lr_1e-3", "lr_1e-4"):
        shutil.copytree(DATA / "simple", tmp_path / "lightning_logs" / run)
    src = only(lossdoc.read(tmp_path))
    assert src.runs == ["lightning_logs/lr_1e-3", "lightning_logs/lr_1e-4"]


def test_lightning_version_dir_keeps_its_parent_in_the_run_name(tmp_path: Path) -> None:
    d = tmp_path / "lightning_logs" / "version_3"
    shutil.copytree(DATA / "simple", d)
    (d / "hparams.yaml").write_text("lr: 0.001\n")
    assert only(lossdoc.read(d)).runs == ["lightning_logs/version_3"]


# Fast path (vectorised) and general decoder agree on random events of every shape the fast path takes.
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**40), 2**62), st.sampled_from(["loss", "a" * 200, "val/loss", "é"]),
                          st.floats(width=32, allow_nan=False), st.floats(0, 2e9)), min_size=1, max_size=40))
def test_fast_path_matches_general_decoder(events: list[tuple[int, str, float, float]]) -> None:
    buf = HEADER + b"".join(record(scalar_event(s, t, v, w)) for s, t, v, w in events)
    frame, _ = tfevents.read_events(buf, "x")
    assert frame.rows() == [(t, s, w, v) for s, t, v, w in events]
    # the same through the general decoder alone
    offs, lens, _ = tfevents.frame_records(buf, "x")
    out = tfevents._Scalars()
    tfevents._slow_path(buf, offs, lens, np.arange(len(offs)), out, {}, "x")
    got = [(out.tags[i], s, w, v) for i, s, w, v in zip(out.tag_idx.joined(), out.step.joined(),
                                                         out.wall.joined(), out.value.joined())]
    assert got == [(t, s, w, v) for s, t, v, w in events]


def test_detected_by_name_and_content() -> None:
    for f in DATA.rglob("events.out.tfevents.*"):
        assert choose(open_file(f)).name == "tensorboard", f
    f = next((DATA / "simple").iterdir())
    assert choose(from_bytes(f.read_bytes(), name="<stdin>", inner_name="stdin")).name == "tensorboard"
    assert tfevents.TensorBoardParser().sniff(from_bytes(b"iter 0: loss 2.0, time 1.0ms\n", inner_name="x.log")) == 0
