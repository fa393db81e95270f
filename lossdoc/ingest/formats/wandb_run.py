"""Weights & Biases local run directory ``wandb/run-<date>_<time>-<id>/`` (``wandb/wandb``:
``wandb/sdk/internal/datastore.py`` for the framing, ``wandb/proto/wandb_internal.proto`` for
the records; field numbers checked against the proto at commit 00243053; old SDK < 0.10:
``wandb-history.jsonl``).

Sample (``wandb-history.jsonl``, old SDK; the new SDK's ``run-<id>.wandb`` holds the same rows
as protobuf records)::

    {"_step": 0, "_runtime": 3.1, "_timestamp": 1700000000.5, "train/loss": 2.7314}
    {"_step": 1, "_runtime": 4.2, "_timestamp": 1700000001.6, "train/loss": 2.2103}
    {"_step": 2, "_runtime": 5.0, "_timestamp": 1700000002.4, "eval/loss": 2.4011}

``run-<id>.wandb``: a 7-byte header (``:W&B``, uint16 LE 0xBEE1, uint8 version), then
LevelDB-log framing in 32 KiB blocks: chunks with a 7-byte header (uint32 LE CRC-32 seeded
with the CRC of the type byte, uint16 LE length, uint8 type FULL/FIRST/MIDDLE/LAST); a block
tail shorter than 7 bytes is zero padding. Each payload is a ``wandb_internal.Record``; the
fields read are ``Record.history`` (2) -> ``HistoryRecord.item`` (1: ``key`` 1,
``nested_key`` 2, ``value_json`` 16) and ``HistoryRecord.step`` (2: ``num`` 1), and
``Record.run`` (17) -> ``RunRecord.display_name`` (8) for the run name. The axis is
``_step``, except that a run logging ``train/global_step`` (HF Trainer) or
``trainer/global_step`` (Lightning) is plotted against it, as W&B does via ``define_metric``
(noted); ``epoch``/``train/epoch`` fill the epoch column; ``_timestamp`` is the wall time; other
``_``-keys and non-numeric values (media, tables) are skipped. A record cut short at the end (run
still going) is a torn tail.
Only ``wandb-summary.json`` (last value of each key) gives one point per metric (noted).
"""

from __future__ import annotations

import json
import math
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.config_text import read_config_file
from lossdoc.ingest.formats._common import dedupe_metrics
from lossdoc.ingest.inputs import InputFile, open_file
from lossdoc.ingest.registry import Parser
from lossdoc.model import IngestNote, ParseResult, concat_frames, split_and_metric
from lossdoc.runconfig import set_config

_IDENT = b":W&B"
_MAGIC = 0xBEE1
_BLOCK = 32768
_HDR = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_CRC = {t: zlib.crc32(bytes([t])) & 0xFFFFFFFF for t in (1, 2, 3, 4)}
#: Metrics that are the x axis of HF Trainer / Lightning runs, and their epoch.
STEP_KEYS = ["train/global_step", "trainer/global_step", "global_step"]
EPOCH_KEYS = ["epoch", "train/epoch", "trainer/epoch"]
_RUN_DIR = re.compile(r"^(?:offline-)?run-(?:\d{8}_\d{6}-)?(?P<id>[\w-]+)$")


class _Cut(Exception):
    """The file ends inside a record (still being written)."""


# --- minimal protobuf walker -------------------------------------------------------------


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes):  # type: ignore[no-untyped-def]
    """Yield (field number, wire type, value) of one message; LEN values are bytes."""
    i, n = 0, len(buf)
    while i < n:
        tag, i = _varint(buf, i)
        field, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            ln, i = _varint(buf, i)
            if i + ln > n:
                raise ValueError("truncated length-delimited field")
            v, i = buf[i : i + ln], i + ln
        elif wt == 1:
            v, i = buf[i : i + 8], i + 8
        elif wt == 5:
            v, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield field, wt, v


def _history(buf: bytes) -> tuple[int | None, list[tuple[str, str]]]:
    step: int | None = None
    items: list[tuple[str, str]] = []
    for f, wt, v in _fields(buf):
        if f == 1 and wt == 2:
            key, nested, value = "", [], ""
            for f2, wt2, v2 in _fields(v):
                if wt2 != 2:
                    continue
                if f2 == 1:
                    key = v2.decode("utf-8", "replace")
                elif f2 == 2:
                    nested.append(v2.decode("utf-8", "replace"))
                elif f2 == 16:
                    value = v2.decode("utf-8", "replace")
            items.append((key or ".".join(nested), value))
        elif f == 2 and wt == 2:
            for f2, wt2, v2 in _fields(v):
                if f2 == 1 and wt2 == 0:
                    step = v2 - (1 << 64) if v2 >= 1 << 63 else v2
    return step, items


def _records(data: bytes, notes: list[IngestNote]):  # type: ignore[no-untyped-def]
    """Yield the payloads of a ``.wandb`` file (LevelDB-log framing)."""
    if len(data) < _HDR or data[:4] != _IDENT:
        raise ParseError("not a W&B run file (no ':W&B' header)")
    _, magic, version = struct.unpack("<4sHB", data[:_HDR])
    if magic != _MAGIC:
        raise ParseError(f"unexpected W&B header magic {magic:#x}")
    if version != 0:
        notes.append(IngestNote("other", f"W&B file format version {version} (lossdoc knows version 0); read anyway"))
    pos, size = _HDR, len(data)
    pending: bytes | None = None
    while True:
        left = _BLOCK - pos % _BLOCK
        if left < _HDR:
            pos += left  # zero padding at the block tail
        if pos + _HDR > size:
            if pos < size and data[pos:].strip(b"\x00") or pending is not None:
                raise _Cut()
            return
        crc, length, typ = struct.unpack("<IHB", data[pos : pos + _HDR])
        if typ == 0 and length == 0:
            return  # zero-filled: nothing written past here
        if pos + _HDR + length > size:
            raise _Cut()
        chunk = data[pos + _HDR : pos + _HDR + length]
        if typ not in _CRC or zlib.crc32(chunk, _CRC[typ]) & 0xFFFFFFFF != crc:
            raise ParseError(f"corrupt W&B record at byte {pos} (checksum mismatch)")
        pos += _HDR + length
        if typ == _FULL:
            yield chunk
        elif typ == _FIRST:
            pending = chunk
        elif typ == _MIDDLE and pending is not None:
            pending += chunk
        elif typ == _LAST and pending is not None:
            yield pending + chunk
            pending = None
        else:
            raise ParseError(f"W&B record fragments out of order at byte {pos}")


def _number(value_json: str) -> float | None:
    try:
        v = json.loads(value_json)
    except (ValueError, RecursionError):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def read_wandb_file(data: bytes, notes: list[IngestNote]) -> tuple[dict[str, list], str | None]:
    """History rows of a ``.wandb`` file as columns (key, step, wall_time, value) and the display name."""
    cols: dict[str, list] = {"row": [], "key": [], "step": [], "wall_time": [], "value": []}
    name: str | None = None
    row = 0
    try:
        for payload in _records(data, notes):
            for f, wt, v in _fields(payload):
                if f == 2 and wt == 2:
                    step, items = _history(v)
                    values = dict(items)
                    if step is None and "_step" in values:
                        s = _number(values["_step"])
                        step = int(s) if s is not None and math.isfinite(s) else None
                    if step is None:
                        continue
                    ts = _number(values.get("_timestamp", "null"))
                    row += 1
                    for key, raw in items:
                        if key.startswith("_"):
                            continue
                        val = _number(raw)
                        if val is None:
                            continue
                        cols["row"].append(row)
                        cols["key"].append(key)
                        cols["step"].append(step)
                        cols["wall_time"].append(ts)
                        cols["value"].append(val)
                elif f == 17 and wt == 2:
                    for f2, wt2, v2 in _fields(v):
                        if f2 == 8 and wt2 == 2 and v2:
                            name = v2.decode("utf-8", "replace")
    except _Cut:
        notes.append(IngestNote("torn_tail", "the .wandb file ends inside a record (run still going?); read up to it"))
    return cols, name


def _history_jsonl(inp: InputFile, notes: list[IngestNote]) -> dict[str, list]:
    cols: dict[str, list] = {"row": [], "key": [], "step": [], "wall_time": [], "value": []}
    text = inp.read_text()
    lines = text.split("\n")
    torn = not text.endswith("\n")
    bad = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            if torn and i == len(lines) - 1:
                notes.append(
                    IngestNote("torn_tail", "last history row cut short (run still going?); ignored", line=i + 1)
                )
            else:
                bad += 1
            continue
        if not isinstance(row, dict) or "_step" not in row:
            bad += 1
            continue
        ts = row.get("_timestamp")
        for key, val in row.items():
            if key.startswith("_") or isinstance(val, bool) or not isinstance(val, (int, float)):
                continue
            cols["row"].append(i)
            cols["key"].append(key)
            cols["step"].append(int(row["_step"]))
            cols["wall_time"].append(float(ts) if isinstance(ts, (int, float)) else None)
            cols["value"].append(float(val))
    if bad:
        notes.append(IngestNote("skipped_lines", f"{bad} history row(s) not a JSON object with _step", count=bad))
    return cols


def _summary(path: Path, notes: list[IngestNote]) -> dict[str, list]:
    cols: dict[str, list] = {"row": [], "key": [], "step": [], "wall_time": [], "value": []}
    try:
        obj = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        notes.append(IngestNote("other", f"wandb-summary.json not readable: {exc}"))
        return cols
    if not isinstance(obj, dict):
        return cols
    step = obj.get("_step")
    step = int(step) if isinstance(step, (int, float)) and not isinstance(step, bool) else 0
    ts = obj.get("_timestamp")
    for key, val in obj.items():
        if key.startswith("_") or isinstance(val, bool) or not isinstance(val, (int, float)):
            continue
        cols["row"].append(0)
        cols["key"].append(key)
        cols["step"].append(step)
        cols["wall_time"].append(float(ts) if isinstance(ts, (int, float)) else None)
        cols["value"].append(float(val))
    notes.append(
        IngestNote(
            "other", "only wandb-summary.json was read: the last value of each metric, one point each (no history)"
        )
    )
    return cols


def _to_frame(cols: dict[str, list], run: str, notes: list[IngestNote]) -> pl.DataFrame:
    df = pl.DataFrame(
        cols, schema={"row": pl.Int64, "key": pl.String, "step": pl.Int64, "wall_time": pl.Float64, "value": pl.Float64}
    )
    if df.height == 0:
        return concat_frames([])
    rows = df.select("row").unique().sort("row")
    gstep = (
        df.filter(pl.col("key").is_in(STEP_KEYS))
        .group_by("row")
        .agg(pl.col("value").first().alias("_g"), pl.col("key").first().alias("_gk"))
    )
    if gstep.height:
        # HF / Lightning runs log their optimizer step as a metric and plot against it (define_metric);
        # W&B's own _step only counts log calls.
        rows = rows.join(gstep, on="row", how="left").with_columns(pl.col("_g").forward_fill())
        notes.append(
            IngestNote("inferred", f"'{gstep.get_column('_gk')[0]}' used as the step (W&B's _step counts log calls)")
        )
    else:
        rows = rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("_g"))
    ep = df.filter(pl.col("key").is_in(EPOCH_KEYS)).group_by("row").agg(pl.col("value").first().alias("epoch"))
    rows = (
        rows.join(ep, on="row", how="left")
        if ep.height
        else rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("epoch"))
    )
    df = (
        df.filter(~pl.col("key").is_in(STEP_KEYS + EPOCH_KEYS))
        .join(rows, on="row", how="left")
        .with_columns(pl.coalesce(pl.col("_g").round(0).cast(pl.Int64, strict=False), pl.col("step")).alias("step"))
    )
    if df.height == 0:
        return concat_frames([])
    keys = df.get_column("key").unique(maintain_order=True).to_list()
    series = dedupe_metrics((k, *split_and_metric(k)) for k in keys)
    return concat_frames(
        [
            df.select(
                pl.lit(run).alias("run"),
                pl.col("key")
                .replace_strict({k: v[0] for k, v in series.items()}, return_dtype=pl.String)
                .alias("split"),
                pl.col("key")
                .replace_strict({k: v[1] for k, v in series.items()}, return_dtype=pl.String)
                .alias("metric"),
                pl.col("key").alias("name"),
                "step",
                "epoch",
                "wall_time",
                "value",
            )
        ]
    )


def _find(run_dir: Path, name: str) -> Path | None:
    for p in (run_dir / name, run_dir / "files" / name):
        if p.is_file() and p.stat().st_size:
            return p
    return None


def _is_run_dir(p: Path) -> bool:
    if not p.is_dir():
        return False
    if any(p.glob("*.wandb")):
        return True
    return _find(p, "wandb-history.jsonl") is not None or (
        _find(p, "wandb-summary.json") is not None and bool(_RUN_DIR.match(p.name) or p.name == "files")
    )


def _run_dirs(path: Path) -> list[Path]:
    if _is_run_dir(path):
        return [path]
    try:
        return sorted(c for c in path.iterdir() if not c.is_symlink() and _RUN_DIR.match(c.name) and _is_run_dir(c))
    except OSError:
        return []


def run_config_file(run_dir: Path) -> dict[str, Any]:
    """The run's ``files/config.yaml`` (``key: {desc: ..., value: X}``) as ``{key: X}``."""
    p = _find(run_dir, "config.yaml")
    return read_config_file(p) if p is not None else {}


def _run_id(run_dir: Path) -> str:
    m = _RUN_DIR.match(run_dir.name)
    return m.group("id") if m else run_dir.name


def parse_run_dir(run_dir: Path, display: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    notes: list[IngestNote] = []
    run = _run_id(run_dir)
    cols: dict[str, list] | None = None
    binaries = sorted(run_dir.glob("*.wandb"))
    for b in binaries[:1]:
        try:
            cols, name = read_wandb_file(b.read_bytes(), notes)
            run = name or run
        except (ParseError, ValueError, OSError) as exc:
            notes.append(
                IngestNote(
                    "other",
                    f"binary history {b.name} was not readable ({exc}); "
                    "falling back to wandb-history.jsonl / wandb-summary.json",
                )
            )
            cols = None
    if cols is None or not cols["key"]:
        hist = _find(run_dir, "wandb-history.jsonl")
        if hist is not None:
            cols = _history_jsonl(open_file(hist, f"{display}/{hist.name}"), notes)
    if cols is None or not cols["key"]:
        summ = _find(run_dir, "wandb-summary.json")
        if summ is not None:
            cols = _summary(summ, notes)
    return _to_frame(cols or {"row": [], "key": [], "step": [], "wall_time": [], "value": []}, run, notes), notes


class WandbRunParser(Parser):
    name = "wandb-run"
    title = "Weights & Biases local run directory (wandb/run-*/)"
    recognises = (
        "wandb/run-*/ with run-<id>.wandb (binary history), wandb-history.jsonl (old SDK) or wandb-summary.json"
    )
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        if inp.head_bytes(4) == _IDENT:
            return 0.95
        if inp.inner_name == "wandb-history.jsonl" and '"_step"' in inp.head_text(4096):
            return 0.95
        if inp.inner_name == "wandb-summary.json" and inp.head_text(1).startswith("{"):
            return 0.9
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        run_dir = inp.path.resolve().parent if inp.path is not None else None
        if run_dir is not None and run_dir.name == "files":
            run_dir = run_dir.parent
        run = _run_id(run_dir) if run_dir is not None else inp.run_name
        if inp.head_bytes(4) == _IDENT:
            cols, name = read_wandb_file(inp.read_bytes(), notes)
            run = name or run
        elif inp.inner_name == "wandb-summary.json" and inp.path is not None:
            cols = _summary(inp.path, notes)
        else:
            cols = _history_jsonl(inp, notes)
        meta = {"config_raw": run_config_file(run_dir)} if run_dir is not None else {}
        return ParseResult(_to_frame(cols, run, notes), notes, meta)

    def sniff_dir(self, path: Path) -> float:
        return 0.95 if _run_dirs(path) else 0.0

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        frames, notes = [], []
        meta: dict[str, Any] = {}
        for r in _run_dirs(path):
            sub = display if r == path else f"{display}/{r.name}"
            fr, nt = parse_run_dir(r, sub)
            frames.append(fr)
            notes.extend(nt)
            if fr.height:
                set_config(meta, run_config_file(r), run=fr.item(0, "run"))
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=display)
        return ParseResult(frame, notes, meta)


PARSERS = [WandbRunParser()]
