"""TensorBoard event files read piece by piece (``tfevents.read_event_file``, bounded memory) give the
same rows, notes and hparams as the whole file decoded at once (``read_events``), whatever the piece
size: records cut by a piece's end, records larger than a piece, torn tails, corrupt headers and
undecodable payloads in any piece."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from polars.testing import assert_frame_equal

from lossdoc.ingest.formats import tfevents
from tests.ingest.test_tensorboard import HEADER, record, scalar_event

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in (ROOT / "tests" / "ingest" / "data", ROOT / "sample_logs")
               for p in d.rglob("events.out.tfevents*") if p.is_file())
PIECES = (64, 97, 1000, 4096, 1 << 20)


def _same(path: Path, piece: int) -> None:
    buf = path.read_bytes()
    want, want_notes = tfevents.read_events(buf, "x")
    got, notes, hp = tfevents.read_event_file(path, "x", piece=piece)
    assert_frame_equal(got, want)
    assert [(n.kind, n.message) for n in notes] == [(n.kind, n.message) for n in want_notes]
    assert hp == tfevents.read_hparams(buf)


def test_there_are_event_files_to_check() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("piece", PIECES)
def test_every_event_file_reads_the_same_in_pieces(piece: int) -> None:
    for path in FILES:
        _same(path, piece)


def _events(n: int) -> list[bytes]:
    return [record(scalar_event(s, "train/loss" if s % 3 else "lr", 1.0 / (s + 1), wall=100.0 + s))
            for s in range(n)]


@pytest.mark.parametrize("piece", (50, 300, 1 << 20))
def test_torn_corrupt_and_undecodable_records_in_any_piece(tmp_path: Path, piece: int) -> None:
    recs = [HEADER] + _events(60)
    f = tmp_path / "events.out.tfevents.1.host"
    whole = b"".join(recs)
    f.write_bytes(whole + recs[5][:20])  # torn tail
    _same(f, piece)
    data = bytearray(whole)
    data[sum(len(r) for r in recs[:40])] ^= 0x01  # a corrupt length header in the middle
    f.write_bytes(bytes(data))
    _same(f, piece)
    f.write_bytes(b"".join(recs[:30]) + record(b"\x2a\xff\xff\x01") + b"".join(recs[30:]))  # undecodable payload
    _same(f, piece)
    f.write_bytes(b"".join(recs[:10]) + record(scalar_event(10, "x" * 5000, 1.0)) + b"".join(recs[10:]))  # > a piece
    _same(f, piece)


def test_columns_in_blocks_equal_the_pieces_joined() -> None:
    rng = np.random.default_rng(3)
    pieces = [rng.integers(0, 1000, n).astype(np.int32) for n in (0, 5, 17, 1, 40, 3)]
    pieces.append(np.arange(9, dtype=np.int64) + 2**40)  # a wider part (the general decoder's int64)
    for cap in (1, 7, 64, 10_000):
        col = tfevents._Column(cap)
        col.capacity = cap  # below the floor, to cross many block ends
        for p in pieces:
            col.append(p)
        got = col.joined()
        want = np.concatenate(pieces)
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(got, want)
        assert not col and len(col.joined()) == 0


@pytest.mark.parametrize("estimate", (10**9, 400, 1))
def test_event_files_read_the_same_whatever_the_size_estimate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                              estimate: int) -> None:
    # a tiny estimate (10^9 bytes a scalar) opens a block every few scalars; 1 byte a scalar, one block
    monkeypatch.setattr(tfevents, "_MIN_SCALAR_RECORD", estimate)
    monkeypatch.setattr(tfevents, "_MIN_BLOCK", 1)
    f = tmp_path / "events.out.tfevents.1.host"
    recs = [HEADER] + _events(200)
    f.write_bytes(b"".join(recs[:30]) + record(b"\x2a\xff\xff\x01") + b"".join(recs[30:]))
    for path in [*FILES, f]:
        for piece in (97, 1 << 20):
            _same(path, piece)
