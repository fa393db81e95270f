"""Helpers for the long-tail trainer parser tests (fairseq, yolo, timm, fastai, mmengine, ...).

Samples live in ``sample_logs/<format>/<case>/`` (one file per case, constructed from the
trainers' format strings; each test module cites the source lines). Broken variants are
derived from them in memory.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lossdoc.ingest import read_input
from lossdoc.ingest.inputs import from_bytes, open_file
from lossdoc.model import Source
from tests.conftest import SAMPLE_LOGS


def sample(fmt: str, case: str) -> Path:
    files = sorted(p for p in (SAMPLE_LOGS / fmt / case).iterdir() if p.is_file())
    assert len(files) == 1, files
    return files[0]


def read_path(path: Path, fmt: str | None = None) -> Source:
    return read_input(open_file(path), fmt)


def read_data(data: bytes, inner_name: str, fmt: str | None = None) -> Source:
    """Parse bytes as if they were the file ``inner_name`` (e.g. ``'case/results.csv'``)."""
    return read_input(from_bytes(data, name=inner_name, inner_name=inner_name), fmt)


def torn(data: bytes, cut: int = 3) -> bytes:
    """The file as a writer would leave it mid-line: no final newline, last line cut short."""
    body = data.rstrip(b"\r\n")
    return body[:-cut]


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def series(src: Source, split: str, metric: str) -> list[tuple[int, float]]:
    df = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return list(zip(df.get_column("step").to_list(), df.get_column("value").to_list(), strict=True))


def keys(src: Source) -> set[tuple[str, str, str]]:
    return {(s, m, n) for s, m, n in src.frame.select("split", "metric", "name").unique().iter_rows()}


def note_kinds(src: Source) -> list[str]:
    return [n.kind for n in src.notes]
