"""TensorBoard event files (``events.out.tfevents.*``), read without TensorFlow or protobuf.

Checked against ``tensorflow/tensorboard`` 2.21 (``summary/writer/record_writer.py``,
``compat/proto/{event,summary,tensor}.proto``), ``torch.utils.tensorboard`` (``add_scalar`` with and
without ``new_style``, ``add_scalars``), tensorboardX 2.6 and the Keras ``TensorBoard`` callback
layout (docs/formats-reference.md §3). A record (little-endian)::

    uint64 length | uint32 masked CRC32C(length) | Event payload (length bytes) | uint32 masked CRC32C(payload)
    payload: 09 <f64 wall_time> 10 <varint step> 2a <len> 0a <len> 0a <len> "train/loss" 15 <f32 value>
             = Event{wall_time, step, summary{value{tag, simple_value}}}

Scalars come in three storage forms, all read: ``simple_value`` (float32; torch, tensorboardX, TF1),
``tensor`` with ``tensor_content`` (TF2 / Keras; the ``scalars`` plugin metadata is on the first
value of each tag in a file only, so the plugin is remembered per file and tag) and ``tensor`` with
``float_val`` / ``double_val`` (torch ``new_style=True``), packed or not; DT_HALF / DT_BFLOAT16 too.

Speed: records are framed by one Python loop over the 16-byte headers, then every record whose
payload has the fixed layout above (one value per event, the common case) is decoded for all
records at once with numpy (varints, tag bytes, values); only the rest (file header, graphs, several
values per event, first values carrying metadata) goes through a small pure-Python protobuf decoder.

CRC choice: the masked CRC32C of every record *length* is checked (vectorised, cheap), so the
framing can be trusted and a corrupt header is reported instead of read as garbage. Payload CRCs
are not checked (pure-Python CRC32C runs at a few MB/s; this is what makes tensorboard's own reader
slow): a corrupt payload shows up as a decode error (``ParseError`` with the file and byte offset).
A record cut short at the end of a file (writer still running) is ignored with a ``torn_tail`` note.
"""

from __future__ import annotations

import contextvars
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.model import (IngestNote, ParseResult, canonical_metric, conform_blocks, empty_frame, snake_case,
                           split_and_metric)
from lossdoc.runconfig import set_config

EVENT_NAME = "tfevents"

# ---------------------------------------------------------------------------- CRC32C (Castagnoli)
_CRC_TABLE = np.zeros(256, dtype=np.uint32)
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE[_i] = _c


def _masked_crc_rows(m: np.ndarray) -> np.ndarray:
    """Masked CRC32C of each row of a (n, k) uint8 matrix, vectorised over rows."""
    crc = np.full(m.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for k in range(m.shape[1]):
        crc = _CRC_TABLE[(crc ^ m[:, k]) & 0xFF] ^ (crc >> np.uint32(8))
    return _finish_crc(crc)


def _finish_crc(crc: np.ndarray) -> np.ndarray:
    crc = crc ^ np.uint32(0xFFFFFFFF)
    return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(0xA282EAD8)


def _masked_crc_u64(v: np.ndarray) -> np.ndarray:
    """Masked CRC32C of the 8 little-endian bytes of each uint64 (a record's length field)."""
    crc = np.full(len(v), 0xFFFFFFFF, dtype=np.uint32)
    for k in range(8):
        byte = ((v >> np.uint64(8 * k)) & np.uint64(0xFF)).astype(np.uint32)
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> np.uint32(8))
    return _finish_crc(crc)


def masked_crc32c(data: bytes) -> int:
    """Masked CRC32C of ``data`` (TFRecord framing)."""
    return int(_masked_crc_rows(np.frombuffer(data, dtype=np.uint8)[None, :])[0])


# ---------------------------------------------------------------------------- framing
_HEAD = struct.Struct("<Q")


def frame_records(buf: bytes | memoryview, display: str,
                  padded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Payload offsets and lengths of every complete record, and the offset of a torn last record.

    Records are walked one by one in Python for a few dozen records, then the pattern of the last
    record lengths (period 1-16: one tag, or several tags logged each step) is assumed to repeat and
    checked for up to 2^20 records at once with numpy; the walk resumes where it breaks (a varint
    growing a byte, a new tag). Every record's length CRC is then checked in one vectorised pass.
    Raises :class:`ParseError` when a record header in the middle of the file is corrupt.
    """
    n = len(buf)
    a = padded if padded is not None else _padded(buf, 16)
    unpack = _HEAD.unpack_from
    chunks: list[np.ndarray] = []
    pos = 0
    torn: int | None = None
    corrupt: int | None = None
    while pos < n and torn is None:
        starts: list[int] = []
        lens: list[int] = []
        for _ in range(48):
            if pos >= n:
                break
            if pos + 12 > n:
                torn = pos
                break
            length = unpack(buf, pos)[0]
            end = pos + length + 16
            if end > n:
                if masked_crc32c(buf[pos : pos + 8]) != _HEAD_CRC.unpack_from(buf, pos + 8)[0]:
                    corrupt = pos  # reported below unless an earlier header is already wrong
                torn = pos
                break
            starts.append(pos)
            lens.append(length)
            pos = end
        chunks.append(np.array(starts, dtype=np.int64))
        if torn is not None or pos >= n:
            break
        period = next((p for p in range(1, 17) if len(lens) >= 2 * p and lens[-p:] == lens[-2 * p : -p]), 0)
        if not period:
            continue
        pattern = np.array(lens[-period:], dtype=np.int64)
        sizes = pattern + 16
        cycle = int(sizes.sum())
        reps = min((n - pos) // cycle, (1 << 20) // period)
        if reps < 2:
            continue
        inner = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        cand = (pos + np.arange(reps, dtype=np.int64)[:, None] * cycle + inner[None, :]).ravel()
        match = _u64_at(a, cand).astype(np.int64) == np.tile(pattern, reps)
        bad = np.flatnonzero(~match)
        good = int(bad[0]) if len(bad) else len(cand)
        chunks.append(cand[:good])
        pos = int(cand[good]) if good < len(cand) else pos + reps * cycle
    starts_all = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    if len(starts_all):
        raw = _at(a, starts_all, "<u8")
        bad = np.flatnonzero(_masked_crc_u64(raw) != _at(a, starts_all + 8, "<u4"))
        if len(bad):
            off = int(starts_all[bad[0]])
            raise _CorruptHeader(f"corrupt TFRecord header at byte offset {off} (length CRC mismatch)",
                                 path=display, offset=off)
        lengths = raw.astype(np.int64)
    else:
        lengths = np.zeros(0, dtype=np.int64)
    if corrupt is not None:
        raise _CorruptHeader(f"corrupt TFRecord header at byte offset {corrupt} (length CRC mismatch)",
                             path=display, offset=corrupt)
    return starts_all + 12, lengths, torn


class _CorruptHeader(ParseError):
    """A damaged record (header CRC mismatch, or a payload that is not an Event); ``offset`` is
    where the record starts."""

    def __init__(self, message: str, *, path: str, offset: int) -> None:
        self.offset = offset
        super().__init__(message, path=path)


_HEAD_CRC = struct.Struct("<I")

# ---------------------------------------------------------------------------- vectorised fast path
_PAD = 64


def _varints(a: np.ndarray, pos: np.ndarray, maxlen: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode one varint at each position: (value as uint64, byte length; maxlen+1 if unterminated).

    Byte by byte over the shrinking set of positions whose varint continues, so the common 1-3 byte
    varints cost a few passes over 1-D arrays.
    """
    last = len(a) - 1
    b = a[np.minimum(pos, last)]
    val = (b & 0x7F).astype(np.uint64)
    ln = np.ones(len(pos), dtype=np.int64)
    idx = np.flatnonzero(b >= 0x80)
    k = 1
    while len(idx) and k < maxlen:
        b = a[np.minimum(pos[idx] + k, last)]
        val[idx] |= (b & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        ln[idx] += 1
        idx = idx[b >= 0x80]
        k += 1
    ln[idx] = maxlen + 1
    return val, ln


def _at(a: np.ndarray, pos: np.ndarray, dtype: str) -> np.ndarray:
    """The little-endian number (``<u8``, ``<u4``, ``<f8``, ``<f4``) at each byte position.

    One 1-D gather per alignment residue of a view of the buffer: much cheaper than gathering an
    (n, 8) byte matrix. Positions must leave room for the number (callers pad the buffer).
    """
    size = np.dtype(dtype).itemsize
    out = np.empty(len(pos), dtype=dtype)
    if len(pos) == 0:
        return out
    res = (pos % size).astype(np.intp)
    present = np.flatnonzero(np.bincount(res, minlength=size))
    for r in present.tolist():
        view = np.frombuffer(a.data, dtype=dtype, offset=r, count=(len(a) - r) // size)
        if len(present) == 1:
            out[:] = view[(pos - r) // size]
        else:
            sel = np.flatnonzero(res == r)
            out[sel] = view[(pos[sel] - r) // size]
    return out


def _u64_at(a: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return _at(a, pos, "<u8")


def _factorize_rows(mat: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """Distinct rows of a (m, L) uint8 matrix and each row's index into them (hash + verify)."""
    m, width = mat.shape
    if width == 0 or (mat == mat[0]).all():
        return [mat[0].tobytes()], np.zeros(m, dtype=np.int64)
    words_n = (width + 7) // 8
    padded = np.zeros((m, words_n * 8), dtype=np.uint8)
    padded[:, :width] = mat
    words = padded.view("<u8")
    h = words[:, 0].copy()
    for k in range(1, words_n):
        h = h * np.uint64(0x9E3779B97F4A7C15) ^ words[:, k]
    _, first, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.ravel()
    if not (padded == padded[first[inv]]).all():  # a hash collision: exact (slower) path
        names, inv = np.unique(np.ascontiguousarray(mat).view(f"S{width}").ravel(), return_inverse=True)
        return [bytes(x).ljust(width, b"\0") for x in names], inv.ravel()
    return [mat[i].tobytes() for i in first], inv


_META_SCALARS = bytes([0x4A, 0x0B, 0x0A, 0x09, 0x0A, 0x07]) + b"scalars"
# Value bodies after the tag: (prefix, value dtype, needs the "scalars" plugin remembered for the tag).
_BODIES: list[tuple[bytes, str, bool]] = []
for _suffix in (b"", _META_SCALARS):
    _BODIES += [
        (b"\x15", "<f4", False),  # simple_value
        (bytes([0x42, 0x0A, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04]), "<f4", True),  # tensor_content f32
        (bytes([0x42, 0x0E, 0x08, 0x02, 0x12, 0x00, 0x22, 0x08]), "<f8", True),  # tensor_content f64
        (bytes([0x42, 0x0A, 0x08, 0x01, 0x12, 0x00, 0x2A, 0x04]), "<f4", True),  # float_val packed
        (bytes([0x42, 0x0E, 0x08, 0x02, 0x12, 0x00, 0x32, 0x08]), "<f8", True),  # double_val packed
    ]
_SUFFIXES = [b""] * 5 + [_META_SCALARS] * 5


class _Column:
    """A column appended to piece by piece, held in a few large blocks instead of one array a piece.

    Each piece's few-MB array, once freed, stays in the C heap (glibc serves arrays under its ~32 MB
    mmap threshold from there and returns a freed one in the middle of the heap to no one), so
    joining 60 of them into one column held both in memory at once. A block is sized for the whole
    file (``capacity``: an upper estimate of its scalars), allocated once and filled as pieces come:
    its pages are resident only as they are written, and a column that fits its block is a view of
    it, with no join. More scalars than the estimate open another block (joined at the end)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), _MIN_BLOCK)
        self.blocks: list[np.ndarray] = []
        self.fill = 0  # elements written in the last block
        self.dtype: np.dtype | None = None

    def append(self, arr: np.ndarray) -> None:
        if self.dtype is None:
            self.dtype = arr.dtype
        elif arr.dtype != self.dtype:
            dt = np.result_type(self.dtype, arr.dtype)
            if dt != self.dtype:  # e.g. int32 record numbers, then int64 ones: widen what is held (rare)
                self.blocks = [b.astype(dt) for b in self.blocks]
                self.dtype = dt
        pos = 0
        while pos < len(arr):
            if not self.blocks or self.fill == len(self.blocks[-1]):
                self.blocks.append(np.empty(max(self.capacity, len(arr) - pos), dtype=self.dtype))
                self.fill = 0
            blk = self.blocks[-1]
            k = min(len(arr) - pos, len(blk) - self.fill)
            blk[self.fill:self.fill + k] = arr[pos:pos + k]
            self.fill += k
            pos += k

    def __bool__(self) -> bool:
        return bool(self.blocks)

    def joined(self) -> np.ndarray:
        """The column as one array (a view of the block when it fits one); the column is emptied."""
        blocks, fill = self.blocks, self.fill
        self.blocks, self.fill = [], 0
        if not blocks:
            return np.empty(0, dtype=self.dtype if self.dtype is not None else np.float64)
        if len(blocks) == 1:
            return blocks[0][:fill]
        arr = np.empty(sum(len(b) for b in blocks[:-1]) + fill, dtype=self.dtype)
        pos = 0
        blocks.reverse()
        while blocks:  # each block freed as soon as it is copied
            b = blocks.pop()
            n = len(b) if blocks else fill
            arr[pos:pos + n] = b[:n]
            pos += n
            del b
        return arr


#: Fewest elements a :class:`_Column` block holds.
_MIN_BLOCK = 1 << 12

#: Smallest event record holding a scalar, framing included (an estimate: :class:`_Column` sizes its
#: block as the bytes to read over this, and adds a block if a file holds more).
_MIN_SCALAR_RECORD = 25


@dataclass
class _Scalars:
    """Scalars read from one event file, as parallel columns (``capacity``: an upper estimate of
    their number, see :class:`_Column`)."""

    capacity: int = 1 << 12
    tags: list[str] = field(default_factory=list)
    tag_idx: _Column = field(init=False)
    step: _Column = field(init=False)
    wall: _Column = field(init=False)
    value: _Column = field(init=False)
    order: _Column = field(init=False)  # record index, to keep file order
    needs_plugin: _Column = field(init=False)  # tensor form: keep only "scalars" tags
    scalars_plugin: set[int] = field(default_factory=set)  # tags seen with "scalars" metadata by the fast path
    bad_records: list[tuple[int, int]] = field(default_factory=list)  # (record, byte offset): payload undecodable
    _tag_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("tag_idx", "step", "wall", "value", "order", "needs_plugin"):
            setattr(self, name, _Column(self.capacity))

    def tag_id(self, tag: str) -> int:
        i = self._tag_ids.get(tag)
        if i is None:
            i = self._tag_ids[tag] = len(self.tags)
            self.tags.append(tag)
        return i


def _fast_path(a: np.ndarray, offs: np.ndarray, lens: np.ndarray, out: _Scalars, base: int = 0) -> np.ndarray:
    """Decode every record with the one-value layout; return a mask of the records it handled
    (``base``: the index of ``offs[0]`` among all records, for their file order)."""
    n = len(offs)
    done = np.zeros(n, dtype=bool)
    if n == 0:
        return done
    o, e = offs, offs + lens
    ok = (lens >= 17) & (a[o] == 0x09) & (a[o + 9] == 0x10)
    step, sl = _varints(a, o + 10, 10)
    p = o + 10 + sl
    ok &= a[np.minimum(p, len(a) - 1)] == 0x2A
    slen, l2 = _varints(a, p + 1, 3)
    q = p + 1 + l2
    ok &= q + slen.astype(np.int64) == e
    ok &= a[np.minimum(q, len(a) - 1)] == 0x0A
    vlen, l3 = _varints(a, q + 1, 3)
    r = q + 1 + l3
    ok &= r + vlen.astype(np.int64) == e
    ok &= a[np.minimum(r, len(a) - 1)] == 0x0A
    tlen, l4 = _varints(a, r + 1, 2)
    t = r + 1 + l4
    tl = tlen.astype(np.int64)
    u = t + tl
    ok &= u < e
    if not ok.any():
        return done
    values = np.full(n, np.nan)
    needs_plugin = np.zeros(n, dtype=bool)
    has_meta = np.zeros(n, dtype=bool)
    uc = np.minimum(u, len(a) - 32)
    for (prefix, dt, plug), suffix in zip(_BODIES, _SUFFIXES):
        size = 4 if dt == "<f4" else 8
        body = len(prefix) + size + len(suffix)
        cand = ok & ~done & (u + body == e)
        if not cand.any():
            continue
        sel = np.flatnonzero(cand)
        us = uc[sel]
        if len(prefix) == 8:
            match = _u64_at(a, us) == np.frombuffer(prefix, dtype="<u8")[0]
        else:
            match = a[us] == prefix[0]
        if suffix:
            suf = a[(us + len(prefix) + size)[:, None] + np.arange(len(suffix))]
            match &= (suf == np.frombuffer(suffix, dtype=np.uint8)).all(axis=1)
        sel = sel[match]
        if not len(sel):
            continue
        values[sel] = _at(a, uc[sel] + len(prefix), dt)
        needs_plugin[sel] = plug and not suffix
        has_meta[sel] = bool(suffix)
        done[sel] = True
    if not done.any():
        return done
    idx = np.flatnonzero(done)
    tag_of = np.empty(len(idx), dtype=np.int32)
    tls = tl[idx]
    for length in np.unique(tls):
        sub = np.flatnonzero(tls == length)
        ts = t[idx[sub]]
        mat = np.ascontiguousarray(a[ts[:, None] + np.arange(int(length))])
        names, inv = _factorize_rows(mat)
        ids = np.array([out.tag_id(b.decode("utf-8", "replace")) for b in names], dtype=np.int32)
        tag_of[sub] = ids[inv]
    wall = _at(a, o[idx] + 1, "<f8")
    out.tag_idx.append(tag_of)
    out.step.append(step[idx].view(np.int64))
    out.wall.append(wall)
    out.value.append(values[idx])
    out.order.append((idx + base).astype(np.int32 if base + n < 2**31 else np.int64))
    out.needs_plugin.append(needs_plugin[idx])
    out.scalars_plugin.update(int(i) for i in np.unique(tag_of[has_meta[idx]]))
    return done


# ---------------------------------------------------------------------------- general decoder
class _Corrupt(Exception):
    pass


def _fields(buf: bytes, start: int, end: int):  # type: ignore[no-untyped-def]
    """Yield (field number, wire type, value) of a protobuf message; value is int or (start, end)."""
    pos = start
    while pos < end:
        key = 0
        shift = 0
        while True:
            if pos >= end:
                raise _Corrupt
            b = buf[pos]
            pos += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        fnum, wt = key >> 3, key & 7
        if wt == 0:
            v = 0
            shift = 0
            while True:
                if pos >= end:
                    raise _Corrupt
                b = buf[pos]
                pos += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            yield fnum, 0, v
        elif wt == 1:
            if pos + 8 > end:
                raise _Corrupt
            yield fnum, 1, (pos, pos + 8)
            pos += 8
        elif wt == 2:
            ln = 0
            shift = 0
            while True:
                if pos >= end:
                    raise _Corrupt
                b = buf[pos]
                pos += 1
                ln |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            if pos + ln > end:
                raise _Corrupt
            yield fnum, 2, (pos, pos + ln)
            pos += ln
        elif wt == 5:
            if pos + 4 > end:
                raise _Corrupt
            yield fnum, 5, (pos, pos + 4)
            pos += 4
        else:
            raise _Corrupt


def _half(bits: int) -> float:
    return float(np.array([bits & 0xFFFF], dtype=np.uint16).view(np.float16)[0])


def _bf16(bits: int) -> float:
    return float(np.array([(bits & 0xFFFF) << 16], dtype=np.uint32).view(np.float32)[0])


_DT_FLOAT, _DT_DOUBLE, _DT_BFLOAT16, _DT_HALF = 1, 2, 14, 19


def _tensor_scalar(buf: bytes, s: int, e: int) -> float | None:
    """The single float held by a TensorProto, or None if it is not a one-element float tensor."""
    dtype = 0
    content: tuple[int, int] | None = None
    vals: list[float] = []
    n_elems = 1
    for f, wt, v in _fields(buf, s, e):
        if f == 1 and wt == 0:
            dtype = v
        elif f == 2 and wt == 2:  # TensorShapeProto: dim = 2 {size = 1}
            for df, dwt, dv in _fields(buf, *dv_range(v)):
                if df == 2 and dwt == 2:
                    for sf, swt, sv in _fields(buf, *dv_range(dv)):
                        if sf == 1 and swt == 0:
                            n_elems *= sv
        elif f == 4 and wt == 2:
            content = v
        elif f == 5:  # float_val
            if wt == 5:
                vals.append(struct.unpack_from("<f", buf, v[0])[0])
            elif wt == 2:
                vals.extend(struct.unpack_from(f"<{(v[1] - v[0]) // 4}f", buf, v[0]))
        elif f == 6:  # double_val
            if wt == 1:
                vals.append(struct.unpack_from("<d", buf, v[0])[0])
            elif wt == 2:
                vals.extend(struct.unpack_from(f"<{(v[1] - v[0]) // 8}d", buf, v[0]))
        elif f == 13:  # half_val (DT_HALF / DT_BFLOAT16 bits in int32)
            conv = _bf16 if dtype == _DT_BFLOAT16 else _half
            if wt == 0:
                vals.append(conv(v))
            elif wt == 2:
                vals.extend(conv(x) for _, _, x in _fields_varints(buf, *v))
    if n_elems != 1 or dtype not in (_DT_FLOAT, _DT_DOUBLE, _DT_HALF, _DT_BFLOAT16):
        return None
    if content is not None:
        raw = buf[content[0] : content[1]]
        if dtype == _DT_FLOAT and len(raw) == 4:
            return struct.unpack("<f", raw)[0]
        if dtype == _DT_DOUBLE and len(raw) == 8:
            return struct.unpack("<d", raw)[0]
        if dtype == _DT_HALF and len(raw) == 2:
            return float(np.frombuffer(raw, dtype=np.float16)[0])
        if dtype == _DT_BFLOAT16 and len(raw) == 2:
            return _bf16(int.from_bytes(raw, "little"))
        return None
    if len(vals) == 1:
        return float(vals[0])
    return None


def dv_range(v: object) -> tuple[int, int]:
    assert isinstance(v, tuple)
    return v


def _fields_varints(buf: bytes, s: int, e: int):  # type: ignore[no-untyped-def]
    pos = s
    while pos < e:
        v = 0
        shift = 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        yield 0, 0, v


def _plugin_name(buf: bytes, s: int, e: int) -> str | None:
    for f, wt, v in _fields(buf, s, e):
        if f == 1 and wt == 2:  # plugin_data
            for pf, pwt, pv in _fields(buf, *dv_range(v)):
                if pf == 1 and pwt == 2:
                    return bytes(buf[pv[0] : pv[1]]).decode("utf-8", "replace")
    return None


def _slow_path(buf: bytes, offs: np.ndarray, lens: np.ndarray, rec: np.ndarray, out: _Scalars,
               plugins: dict[str, str], display: str, rec_base: int = 0, byte_base: int = 0) -> None:
    tags: list[int] = []
    steps: list[int] = []
    walls: list[float] = []
    values: list[float] = []
    order: list[int] = []
    for i in rec.tolist():
        s = int(offs[i])
        e = s + int(lens[i])
        kept = len(tags)
        try:
            wall = float("nan")
            step = 0
            summary: tuple[int, int] | None = None
            for f, wt, v in _fields(buf, s, e):
                if f == 1 and wt == 1:
                    wall = struct.unpack_from("<d", buf, v[0])[0]
                elif f == 2 and wt == 0:
                    step = v - (1 << 64) if v >= 1 << 63 else v
                elif f == 5 and wt == 2:
                    summary = v
            if summary is None:
                continue
            for f, wt, v in _fields(buf, *summary):
                if f != 1 or wt != 2:
                    continue
                tag = ""
                simple: float | None = None
                tensor: tuple[int, int] | None = None
                meta: tuple[int, int] | None = None
                for vf, vwt, vv in _fields(buf, *v):
                    if vf == 1 and vwt == 2:
                        tag = bytes(buf[vv[0] : vv[1]]).decode("utf-8", "replace")
                    elif vf == 2 and vwt == 5:
                        simple = struct.unpack_from("<f", buf, vv[0])[0]
                    elif vf == 8 and vwt == 2:
                        tensor = vv
                    elif vf == 9 and vwt == 2:
                        meta = vv
                if meta is not None and tag not in plugins:
                    name = _plugin_name(buf, *meta)
                    if name:
                        plugins[tag] = name
                if simple is not None:
                    val = simple
                elif tensor is not None and plugins.get(tag) == "scalars":
                    got = _tensor_scalar(buf, *tensor)
                    if got is None:
                        continue
                    val = got
                else:
                    continue
                tags.append(out.tag_id(tag))
                steps.append(step)
                walls.append(wall)
                values.append(val)
                order.append(i + rec_base)
        except (_Corrupt, struct.error, IndexError):
            # The framing around it is intact (lengths and their CRCs checked): this one payload is
            # garbage. Skip it alone, keep reading the records after it, and say so.
            for lst in (tags, steps, walls, values, order):
                del lst[kept:]
            out.bad_records.append((i + rec_base, int(s - 12) + byte_base))
    if tags:
        out.tag_idx.append(np.array(tags, dtype=np.int32))
        out.step.append(np.array(steps, dtype=np.int64))
        out.wall.append(np.array(walls, dtype=np.float64))
        out.value.append(np.array(values, dtype=np.float64))
        out.order.append(np.array(order, dtype=np.int64))
        out.needs_plugin.append(np.zeros(len(tags), dtype=bool))


def read_events(buf: bytes | memoryview, display: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    """Every scalar in one event file: a frame with ``name, step, wall_time, value`` in file order."""
    damaged: str | None = None
    while True:
        try:
            frame, notes = _read_events(buf, display)
        except _CorruptHeader as exc:
            if exc.offset <= 0:
                raise
            # As TensorBoard's loader does on a DataLossError: keep every record before the damage.
            buf, damaged = buf[: exc.offset], exc.message
            continue
        if damaged is not None:
            notes.append(IngestNote("skipped_lines", f"{damaged}: read the records before it, skipped the rest "
                                    "of the file"))
        return frame, notes


def _padded(buf: bytes | memoryview, pad: int) -> np.ndarray:
    """``buf`` as uint8 followed by at least ``pad`` zero bytes: without a copy when ``buf`` is a view
    of the start of a longer zero-padded ``bytearray`` (:func:`read_padded`), else copied."""
    if isinstance(buf, memoryview) and isinstance(buf.obj, bytearray) and len(buf.obj) >= len(buf) + pad:
        return np.frombuffer(buf.obj, dtype=np.uint8)
    return np.frombuffer(bytes(buf) + b"\0" * pad, dtype=np.uint8)


def read_padded(path: Path) -> memoryview:
    """The file's bytes as a view of a ``bytearray`` with :data:`_PAD` zero bytes after them, so that
    decoding needs no padded copy of the whole file (10^7 scalars: a 0.5 GB file)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        ba = bytearray(size + _PAD)
        got = fh.readinto(memoryview(ba)[:size])
    return memoryview(ba)[:got]


#: Records decoded at once by the vectorised path: bounds its ~40 temporary arrays to ~40 MB each.
_CHUNK = 1 << 20


def _read_events(buf: bytes | memoryview, display: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    notes: list[IngestNote] = []
    a = _padded(buf, _PAD)
    offs, lens, torn = frame_records(buf, display, a)
    if torn is not None:
        notes.append(IngestNote("torn_tail", f"last record (at byte offset {torn}) is cut short "
                                "(file still being written?); ignored"))
    out = _Scalars(len(buf) // _MIN_SCALAR_RECORD + 1)
    plugins: dict[str, str] = {}
    _decode(buf, a, offs, lens, out, plugins, display, 0, 0)
    return _build(out, plugins, notes), notes


def _decode(buf: bytes | memoryview, a: np.ndarray, offs: np.ndarray, lens: np.ndarray, out: _Scalars,
            plugins: dict[str, str], display: str, rec_base: int, byte_base: int) -> None:
    """Decode the records at ``offs``/``lens`` of ``buf`` (``a``: the same bytes, zero-padded) into ``out``;
    ``rec_base``/``byte_base``: index of the first record and offset of ``buf`` in the file."""
    done = np.zeros(len(offs), dtype=bool)
    for c in range(0, len(offs), _CHUNK):
        done[c:c + _CHUNK] = _fast_path(a, offs[c:c + _CHUNK], lens[c:c + _CHUNK], out, base=rec_base + c)
    # Everything else (file header, graphs, several values per event, first values of a tag that
    # carry plugin metadata) through the general decoder, which also learns each tag's plugin.
    _slow_path(buf, offs, lens, np.flatnonzero(~done), out, plugins, display, rec_base, byte_base)


def _build(out: _Scalars, plugins: dict[str, str], notes: list[IngestNote]) -> pl.DataFrame:
    if out.bad_records:
        rec, off = out.bad_records[0]
        n = len(out.bad_records)
        notes.append(IngestNote("skipped_lines", f"{n} event record(s) with intact framing but an undecodable "
                                f"payload skipped (first: record {rec} at byte offset {off}); the records "
                                "around them were read", count=n))
    if not out.tag_idx:
        return pl.DataFrame(schema={"name": pl.String, "step": pl.Int64, "wall_time": pl.Float64,
                                    "value": pl.Float64})
    keep = out.needs_plugin.joined()
    tag_idx = out.tag_idx.joined()
    if keep.any():
        # Tensor-form values count only when the tag's plugin (from its first value) is "scalars".
        for i in out.scalars_plugin:
            plugins.setdefault(out.tags[i], "scalars")
        scal = np.array([plugins.get(t) == "scalars" for t in out.tags], dtype=bool)
        keep = ~keep | scal[tag_idx]
    else:
        keep = np.ones(len(tag_idx), dtype=bool)
    order = out.order.joined()
    sort: np.ndarray | None
    if len(order) > 1 and not bool((order[1:] > order[:-1]).all()):
        sort = np.argsort(order, kind="stable")
        sort = sort[keep[sort]]
    else:
        sort = None if bool(keep.all()) else np.flatnonzero(keep)
    del order, keep

    def col(parts: _Column) -> np.ndarray:
        arr = parts.joined()
        return arr if sort is None else arr[sort]

    names = pl.Series("name", out.tags, dtype=pl.String).cast(pl.Categorical)
    return pl.DataFrame({
        # Categorical: one small code per row, not a string (10^7 points: ~0.2 GB less).
        "name": names.gather(tag_idx if sort is None else tag_idx[sort]),
        "step": col(out.step),
        "wall_time": col(out.wall),
        "value": col(out.value),
    })


#: Bytes of an event file decoded at a time by :func:`read_event_file` (~160,000 scalars; their decoding
#: temporaries are ~40 arrays of that length).
PIECE_BYTES = 8 << 20


def read_event_file(path: Path, display: str,
                    piece: int = PIECE_BYTES) -> tuple[pl.DataFrame, list[IngestNote], dict[str, object]]:
    """:func:`read_events` for a file on disk, read ``piece`` bytes at a time (records cut by a piece's
    end carried over to the next), plus the file's HParams (:func:`read_hparams`). Peak memory is one
    piece and its decoding temporaries plus the decoded columns (~33 bytes a scalar), not the file:
    10^7 scalars are a 0.5 GB file. Same rows and notes as :func:`read_events` on the whole file."""
    from lossdoc.ingest.inputs import open_file, sniff_compression

    with open(path, "rb") as fh:
        compressed = sniff_compression(fh.read(8)) is not None
    if compressed:  # a gzip/zstd... event file in a logdir: decompressed whole (as a single compressed log is)
        inp = open_file(path, display)
        data = inp.data if inp.data is not None else path.read_bytes()
        frame, notes = read_events(data, display)
        return frame, list(inp.notes) + notes, read_hparams(data)
    limit: int | None = None
    damaged: str | None = None
    while True:
        try:
            frame, notes, hp = _read_event_pieces(path, display, piece, limit)
        except _CorruptHeader as exc:
            if exc.offset <= 0:
                raise
            limit, damaged = exc.offset, exc.message  # as read_events: keep every record before the damage
            continue
        if damaged is not None:
            notes.append(IngestNote("skipped_lines", f"{damaged}: read the records before it, skipped the rest "
                                    "of the file"))
        return frame, notes, hp


def _read_event_pieces(path: Path, display: str, piece: int,
                       limit: int | None) -> tuple[pl.DataFrame, list[IngestNote], dict[str, object]]:
    notes: list[IngestNote] = []
    plugins: dict[str, str] = {}
    hparams: dict[str, object] = {}
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size if limit is None else limit
        out = _Scalars(size // _MIN_SCALAR_RECORD + 1)
        start = 0  # file offset of data[0]
        rec_base = 0
        carry = b""
        while True:
            want = min(piece, size - start - len(carry))
            data = carry + fh.read(want) if want > 0 else carry
            at_end = start + len(data) >= size
            a = _padded(data, _PAD)
            try:
                offs, lens, torn = frame_records(data, display, a)
            except _CorruptHeader as exc:
                raise _CorruptHeader(exc.message.replace(f"offset {exc.offset}", f"offset {exc.offset + start}"),
                                     path=display, offset=exc.offset + start) from None
            whole = len(data) if torn is None else torn
            if _HP_TAG in data:
                hparams.update(read_hparams(data[:whole]))
            _decode(data, a, offs, lens, out, plugins, display, rec_base, start)
            rec_base += len(offs)
            del a
            if at_end:
                if torn is not None:
                    notes.append(IngestNote("torn_tail", f"last record (at byte offset {torn + start}) is cut "
                                            "short (file still being written?); ignored"))
                break
            carry = data[whole:]
            start += whole
    return _build(out, plugins, notes), notes, hparams


# ---------------------------------------------------------------------------- hparams plugin
_HP_TAG = b"_hparams_/session_start_info"


def _pb_value(buf: bytes, s: int, e: int) -> object:
    """A ``google.protobuf.Value``: null, number (double), string, bool; lists of them."""
    for f, wt, v in _fields(buf, s, e):
        if f == 1:
            return None
        if f == 2 and wt == 1:
            x = struct.unpack_from("<d", buf, v[0])[0]
            return int(x) if x.is_integer() and abs(x) < 2**53 else x
        if f == 3 and wt == 2:
            return buf[v[0]:v[1]].decode("utf-8", "replace")
        if f == 4 and wt == 0:
            return bool(v)
        if f == 6 and wt == 2:  # ListValue{repeated Value values = 1}
            return [_pb_value(buf, *lv) for lf, lwt, lv in _fields(buf, *v) if lf == 1 and lwt == 2]
    return None


def read_hparams(buf: bytes | memoryview) -> dict[str, object]:
    """The hparams of a TensorBoard HParams ``session_start_info`` summary (torch ``add_hparams``,
    ``tensorboard.plugins.hparams.api.hparams``, Lightning): ``{name: value}``; ``{}`` when none.

    ``Summary.Value.metadata.plugin_data{plugin_name: "hparams", content: HParamsPluginData}``;
    ``HParamsPluginData.session_start_info`` (field 3) holds ``map<string, Value> hparams`` (field 1)."""
    raw = buf.obj if isinstance(buf, memoryview) and isinstance(buf.obj, bytearray) else buf  # read_padded's
    n = len(buf)
    at = raw.find(_HP_TAG, 0, n)
    if at < 0:
        return {}
    out: dict[str, object] = {}
    try:
        offs, lens, _ = frame_records(buf, "")
    except Exception:  # noqa: BLE001 - hparams never fail a read
        return {}
    while at >= 0:
        i = int(np.searchsorted(offs, at, side="right")) - 1
        if i >= 0:
            s, e = int(offs[i]), int(offs[i]) + int(lens[i])
            try:
                out.update(_session_hparams(raw, s, e))
            except (_Corrupt, struct.error, IndexError):
                pass
        at = raw.find(_HP_TAG, at + len(_HP_TAG), n)
    return out


def _session_hparams(buf: bytes, s: int, e: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for f, wt, v in _fields(buf, s, e):
        if f != 5 or wt != 2:
            continue
        for sf, swt, sv in _fields(buf, *v):  # Summary.value
            if sf != 1 or swt != 2:
                continue
            for vf, vwt, vv in _fields(buf, *sv):
                if vf != 9 or vwt != 2:  # metadata
                    continue
                for mf, mwt, mv in _fields(buf, *vv):
                    if mf != 1 or mwt != 2:  # plugin_data
                        continue
                    content = next((pv for pf, pwt, pv in _fields(buf, *mv) if pf == 2 and pwt == 2), None)
                    if content is None:
                        continue
                    for hf, hwt, hv in _fields(buf, *content):
                        if hf != 3 or hwt != 2:  # session_start_info
                            continue
                        for ef, ewt, ev in _fields(buf, *hv):
                            if ef != 1 or ewt != 2:  # map entry {key = 1, value = 2}
                                continue
                            key, val = None, None
                            for kf, kwt, kv in _fields(buf, *ev):
                                if kf == 1 and kwt == 2:
                                    key = buf[kv[0]:kv[1]].decode("utf-8", "replace")
                                elif kf == 2 and kwt == 2:
                                    val = _pb_value(buf, *kv)
                            if key is not None:
                                out[key] = val
    return out


# ---------------------------------------------------------------------------- tags -> split/metric
_SPLIT_DIRS = {
    "train": "train", "training": "train", "train_inner": "train",
    "validation": "val", "valid": "val", "val": "val", "eval": "val", "evaluation": "val", "dev": "val",
    "test": "test", "testing": "test",
}
_OTHER_AXIS = re.compile(r"[ _]vs[ _](?:samples|tokens|gigaflos)$")
_MEGATRON_GROUP = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+/")


def tag_split_metric(tag: str, dir_split: str | None) -> tuple[str, str] | None:
    """(split, canonical metric) for a tag, or None for a tag plotted against another axis."""
    default = dir_split or "train"
    t = tag
    m = _MEGATRON_GROUP.match(t)
    if m and "/" not in t[m.end():]:
        t = t[m.end():]  # Megatron-DeepSpeed "lm-loss-training/lm loss"
    k = re.fullmatch(r"evaluation_(.+)_vs_iterations", t)  # Keras validation/ per-iteration evaluation
    if k:
        return "val", canonical_metric(k.group(1))
    if _OTHER_AXIS.search(t):
        return None
    low = t.lower()
    # Megatron: "lm loss validation", "lm loss validation ppl", "lm loss test" (tensorboardX: "_" for " ")
    mg = re.fullmatch(r"(.+?)[ _](validation|test)(?:[ _](ppl))?", t, flags=re.I)
    if mg:
        base, split = mg.group(1), "val" if mg.group(2).lower() == "validation" else "test"
        if mg.group(3):
            return split, "perplexity" if canonical_metric(base) == "loss" else f"{snake_case(base)}_ppl"
        return split, canonical_metric(base)
    for pre in ("epoch_", "batch_"):  # Keras TensorBoard callback
        if low.startswith(pre) and len(t) > len(pre):
            split, metric = split_and_metric(t[len(pre):], default_split=default)
            return split, metric
    return split_and_metric(t, default_split=default)


def _resolve_collisions(keys: list[tuple[str, str, str, str, int]]) -> list[str]:
    """One (run, split, metric) per name: on a clash the series with most points keeps the canonical
    metric, the others take their name in snake_case (e.g. Keras ``epoch_loss`` beside ``batch_loss``).
    ``keys``: (run, split, metric, name, points) per block; returns each block's metric."""
    names: dict[tuple[str, str, str], dict[str, int]] = {}
    for run, split, metric, name, n in keys:
        d = names.setdefault((run, split, metric), {})
        d[name] = d.get(name, 0) + n
    taken = set(names)
    renames: dict[tuple[str, str, str], str] = {}
    for (run, split, metric), by_name in names.items():
        if len(by_name) < 2:
            continue
        ordered = sorted(by_name, key=lambda nm: -by_name[nm])  # stable: first seen wins a tie
        for nm in ordered[1:]:
            new = snake_case(nm.rsplit("/", 1)[-1])
            while (run, split, new) in taken:
                new += "_2"
            taken.add((run, split, new))
            renames[(run, split, nm)] = new
    return [renames.get((run, split, name), metric) for run, split, metric, name, _ in keys]


# ---------------------------------------------------------------------------- parser
#: Files that are logs in their own right (so a tree holding them is not a pure TensorBoard logdir).
_OTHER_LOG_SUFFIXES = (".log", ".txt", ".csv", ".tsv", ".json", ".jsonl", ".out")

#: ``lossdoc watch`` sets a reader that decodes only the records appended since its last call
#: (``(path, display) -> (frame, notes)`` as :func:`read_events` returns them); None reads the file.
EVENT_READER: contextvars.ContextVar[Callable[[Path, str], tuple[pl.DataFrame, list[IngestNote]]] | None] = \
    contextvars.ContextVar("lossdoc_event_reader", default=None)


#: names that hold "tfevents" but are not event files: source, notebooks, text exports of one
#: (``events.out.tfevents.csv``), TensorBoard's profiler and lock files
_NOT_EVENT_SUFFIXES = (".py", ".pyc", ".pyi", ".ipynb", ".md", ".rst", ".html", ".sh", ".yaml", ".yml", ".toml",
                       ".profile-empty", ".lock") + _OTHER_LOG_SUFFIXES


def _is_event_file(name: str) -> bool:
    """Whether a file (or a compressed file's inner) name is a TensorBoard event file's
    (``events.out.tfevents.<time>.<host>...``): "tfevents" in a source file's name
    (``tfevents.py``) or an export's (``events.out.tfevents.csv``) is not."""
    low = name.lower()
    return EVENT_NAME in low and not low.endswith(_NOT_EVENT_SUFFIXES)


@dataclass
class _Group:
    """The event files of one directory and where their series go."""

    run: str
    dir_split: str | None  # split given by the directory (Keras train/ validation/, fairseq valid/)
    prefix: str | None  # shown before the tag in series names ("validation/epoch_loss")
    frame: pl.DataFrame
    renamed: str | None = None  # add_scalars: the one tag is shown as "<main_tag>_<key>"


class TensorBoardParser(Parser):
    name = "tensorboard"
    title = "TensorBoard event files"
    recognises = "files named events.out.tfevents.* (TFRecord of Event protos); log directories of them"
    priority = 10
    streams_from_disk = True  # measured peak: 1.24x at 10^7 points

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_bytes(256)
        framed = len(head) >= 16 and b"brain.Event:" in head[:64]
        if _is_event_file(inp.inner_name):
            return 0.99 if framed or len(head) >= 12 else 0.9
        return 0.9 if framed else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        if inp.data is None and inp.path is not None:  # a plain file on disk: read piece by piece
            try:
                frame, notes, hparams = read_event_file(inp.path, inp.name)
            except OSError as exc:
                raise ParseError(f"cannot read file: {exc.strerror or exc}", path=inp.name) from None
        else:
            buf = inp.read_bytes()
            frame, notes = read_events(buf, inp.name)
            hparams = read_hparams(buf)
        group = _Group(inp.run_name, None, None, frame)
        if inp.path is not None:
            parent = inp.path.resolve().parent
            if parent.name.lower() in _SPLIT_DIRS and parent.parent.name:
                group = _Group(parent.parent.name, _SPLIT_DIRS[parent.name.lower()], parent.name, frame)
        res = self._finish([group], notes)
        res.meta["config_raw"] = hparams
        return res

    def sniff_dir(self, path: Path) -> float:
        found = 0
        other = False
        for i, (dirpath, dirnames, filenames) in enumerate(os.walk(path)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for f in filenames:
                if _is_event_file(f):
                    found += 1
                elif f.lower().endswith(_OTHER_LOG_SUFFIXES):
                    # Another log lives in this tree (a console log, metrics.csv, trainer_state.json):
                    # not a pure logdir, so the directory walk should read both.
                    other = True
            if i > 2000:
                break
        if not found:
            return 0.0
        return 0.5 if other else 0.95

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        notes: list[IngestNote] = []
        by_dir: dict[Path, list[Path]] = {}
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            files = sorted(f for f in filenames if _is_event_file(f))
            if files:
                by_dir[Path(dirpath)] = [Path(dirpath) / f for f in files]
        resolved = path.resolve()
        root_name = resolved.name or display
        if root_name.startswith("version_") and resolved.parent.name:  # Lightning lightning_logs/version_N
            root_name = f"{resolved.parent.name}/{root_name}"

        def run_of(run_dir: Path) -> str:
            rel = os.path.relpath(run_dir, path)
            return root_name if rel == "." else rel.replace(os.sep, "/")

        groups = []
        hparams: dict[Path, dict[str, object]] = {}  # TensorBoard hparams by event-file directory
        run_hp: dict[str, dict[str, object]] = {}  # ... by run
        for d in sorted(by_dir):
            frames = []
            for f in by_dir[d]:  # several files in one directory: a restarted writer, read in name order
                rel = os.path.join(display, os.path.relpath(f, path))
                reader = EVENT_READER.get()
                hp: dict[str, object] = {}
                try:
                    if reader is not None:
                        fr, fnotes = reader(f, rel)
                    else:
                        fr, fnotes, hp = read_event_file(f, rel)
                except OSError as exc:
                    raise ParseError(f"cannot read event file: {exc.strerror or exc}", path=rel) from None
                if hp:
                    hparams.setdefault(d, {}).update(hp)
                notes.extend(IngestNote(n.kind, f"{rel}: {n.message}", line=n.line, run=run_of(d))
                             for n in fnotes)
                frames.append(fr)
            frame = pl.concat([f.with_columns(pl.col("name").cast(pl.Categorical)) for f in frames])
            if frame.height == 0:
                continue
            tags = frame.get_column("name").unique().to_list()
            one = tags[0] if len(tags) == 1 else None
            if d != path and one is not None and d.name.startswith(one.replace("/", "_") + "_"):
                # torch add_scalars(main_tag, {key: v}): <run>/<main_tag>_<key>/ holding the tag main_tag
                key = d.name[len(one.replace("/", "_")) + 1:]
                split = _SPLIT_DIRS.get(key.lower())
                groups.append(_Group(run_of(d.parent), split, None, frame, renamed=d.name))
            elif d != path and d.parent != path and one is not None and d.parent.name == one.replace("/", "_"):
                # tensorboardX add_scalars: <run>/<main_tag>/<key>/
                split = _SPLIT_DIRS.get(d.name.lower())
                groups.append(_Group(run_of(d.parent.parent), split, None, frame, renamed=f"{one}_{d.name}"))
            elif d != path and d.name.lower() in _SPLIT_DIRS:
                groups.append(_Group(run_of(d.parent), _SPLIT_DIRS[d.name.lower()], d.name, frame))
            else:
                groups.append(_Group(run_of(d), None, None, frame))
            if d in hparams:
                run_hp.setdefault(groups[-1].run, {}).update(hparams.pop(d))
        for d, hp in hparams.items():  # no scalars beside them (torch add_hparams' own <run>/<time>/ dir)
            run_hp.setdefault(run_of(d.parent if d != path else d), {}).update(hp)
        res = self._finish(groups, notes)
        self._configs(res, path, groups, run_hp)
        return res

    @staticmethod
    def _configs(res: ParseResult, root: Path, groups: list[_Group], raw: dict[str, dict[str, object]]) -> None:
        """Each run's config: a config file in its directory (Lightning ``hparams.yaml``) under the
        hparams its event files carry; one run's goes in ``config_raw`` (merged with the root's files)."""
        from lossdoc.ingest.config_text import config_from_files

        runs = list(dict.fromkeys(g.run for g in groups if g.frame.height))
        if len(runs) == 1:
            raw = {runs[0]: {k: v for hp in raw.values() for k, v in hp.items()}}
            res.meta["config_raw"] = raw.get(runs[0], {})
            return
        for run in runs:
            files = config_from_files(root / run) if (root / run).is_dir() else {}
            set_config(res.meta, {**files, **raw.get(run, {})}, run=run)

    def _finish(self, groups: list[_Group], notes: list[IngestNote]) -> ParseResult:
        """One block per (group, tag) whose run/split/metric/name are literals (one value each, not a
        string per row), in group order and, within a group, in the order tags first appear."""
        blocks: list[tuple[str, str, str, str, pl.DataFrame]] = []  # run, split, metric, shown, rows
        skipped_axis: set[str] = set()
        for g in groups:
            fr = g.frame
            if fr.height == 0:
                continue
            names = fr.get_column("name").unique(maintain_order=True).cast(pl.String).to_list()
            for n in names:
                if g.renamed is not None:
                    shown = g.renamed
                    sm = (g.dir_split, tag_split_metric(n, g.dir_split)[1]) if g.dir_split else \
                        tag_split_metric(shown, None)  # type: ignore[index]
                else:
                    sm = tag_split_metric(n, g.dir_split)
                    shown = f"{g.prefix}/{n}" if g.prefix else n
                if sm is None:
                    skipped_axis.add(n)
                    continue
                rows = fr if len(names) == 1 else fr.filter(pl.col("name") == n)
                blocks.append((g.run, sm[0], sm[1], shown, rows))
        if skipped_axis:
            shown = ", ".join(sorted(skipped_axis)[:4]) + (" ..." if len(skipped_axis) > 4 else "")
            notes.append(IngestNote("other", f"{len(skipped_axis)} tag(s) plotted against samples/tokens rather "
                                    f"than steps not read (the same values are logged against the step): {shown}",
                                    count=len(skipped_axis)))
        if not blocks:
            return ParseResult(empty_frame(), notes)
        metrics = _resolve_collisions([(run, split, metric, shown, rows.height)
                                       for run, split, metric, shown, rows in blocks])
        out = [rows.select(pl.lit(run, dtype=pl.String).alias("run"), pl.lit(split, dtype=pl.String).alias("split"),
                           pl.lit(metric, dtype=pl.String).alias("metric"),
                           pl.lit(shown, dtype=pl.String).alias("name"), pl.col("step").cast(pl.Int64),
                           pl.lit(None, dtype=pl.Float64).alias("epoch"), pl.col("wall_time").cast(pl.Float64),
                           pl.col("value").cast(pl.Float64))
               for (run, split, _, shown, rows), metric in zip(blocks, metrics, strict=True)]
        return ParseResult(notes=notes, blocks=conform_blocks(out))


PARSERS = [TensorBoardParser()]
