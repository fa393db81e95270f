"""TensorBoard scalar "Download data" export (``tensorflow/tensorboard`` scalars dashboard, the
CSV/JSON download link of a scalar card; checked against TensorBoard 2.x).

Sample (``run-train-tag-epoch_loss.csv``)::

    Wall time,Step,Value
    1715000000.123,0,0.6931
    1715000060.456,1,0.5210

One series per file: ``Wall time`` (Unix seconds), ``Step``, ``Value``. The JSON download holds
the same as ``[[wall_time, step, value], ...]``. The file name is ``run-<run>-tag-<tag>.csv``
(``/`` in run or tag written as ``_``; some versions write ``run_<run>-tag-<tag>``); a download renamed
after its tag (``train_loss.csv``) takes the file's name as the tag when it names a metric. The split
comes from a run name ending in ``train``/``validation``/``val``/``eval``/``test`` (Keras'
``logs/train``, ``logs/validation``) or else from the tag (``train_loss``, ``val/loss``); the
metric from the tag, with Keras' ``epoch_`` prefix removed (``epoch_loss`` -> ``loss``). A
directory of such files is read together: files whose runs differ only by the split word
become one run with several splits.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.formats._common import dedupe_metrics
from lossdoc.ingest.formats._table import read_table
from lossdoc.ingest.formats.numeric_column import METRIC_NAME
from lossdoc.ingest.inputs import InputFile, open_file
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric, concat_frames, split_and_metric

_NAME = re.compile(r"^run[-_](?P<run>.*?)-tag-(?P<tag>.+)\.(?P<ext>csv|json)$", re.I)
_HEADER = re.compile(r'^\ufeff?"?Wall time"?,"?Step"?,"?Value"?\s*$', re.M)
_SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "validation": "val",
    "val": "val",
    "valid": "val",
    "eval": "val",
    "evaluation": "val",
    "test": "test",
}


def _name_parts(fname: str) -> tuple[str, str] | None:
    m = _NAME.match(fname)
    return (m.group("run"), m.group("tag")) if m else None


def _run_split(run: str) -> tuple[str, str | None]:
    """``'exp1_validation'`` -> (``'exp1'``, ``'val'``); ``'version_0'`` -> (``'version_0'``, None)."""
    parts = re.split(r"[_/.\-]", run)
    if parts and parts[-1].lower() in _SPLIT_WORDS:
        rest = run[: len(run) - len(parts[-1])].rstrip("_/.-")
        return rest, _SPLIT_WORDS[parts[-1].lower()]
    return run, None


def _series_key(run_split: str | None, tag: str) -> tuple[str, str]:
    if run_split is not None:
        t = tag[len("epoch_") :] if tag.lower().startswith("epoch_") and len(tag) > 6 else tag
        return run_split, canonical_metric(t)
    t = tag[len("epoch_") :] if tag.lower().startswith("epoch_") and len(tag) > 6 else tag
    return split_and_metric(t)


def _read(inp: InputFile) -> tuple[pl.DataFrame, list[IngestNote]]:
    """(step, wall_time, value) rows of one export."""
    if inp.inner_name.lower().endswith(".json"):
        try:
            rows = json.loads(inp.read_text())
            cols = {"wall_time": [r[0] for r in rows], "step": [r[1] for r in rows], "value": [r[2] for r in rows]}
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise ParseError(
                f"not a TensorBoard JSON download ([[wall_time, step, value], ...]): {exc}", path=inp.name
            ) from None
        df = pl.DataFrame(cols, schema={"wall_time": pl.Float64, "step": pl.Int64, "value": pl.Float64}, strict=False)
        return df.filter(pl.col("step").is_not_null()), []
    table, notes = read_table(inp, ",", live=False)
    cols = {c.lower(): c for c in table.columns}
    if not {"wall time", "step", "value"} <= set(cols):
        return pl.DataFrame(schema={"wall_time": pl.Float64, "step": pl.Int64, "value": pl.Float64}), notes
    df = table.select(
        to_float(pl.col(cols["wall time"])).alias("wall_time"),
        to_float(pl.col(cols["step"])).cast(pl.Int64, strict=False).alias("step"),
        to_float(pl.col(cols["value"])).alias("value"),
    )
    bad = df.filter(pl.col("step").is_null() | pl.col("value").is_null())
    if bad.height:
        notes.append(
            IngestNote("skipped_lines", f"{bad.height} row(s) without a readable step or value", count=bad.height)
        )
        df = df.filter(pl.col("step").is_not_null() & pl.col("value").is_not_null())
    return df, notes


def _export_files(path: Path) -> list[Path]:
    try:
        return sorted(f for f in path.iterdir() if f.is_file() and _name_parts(f.name))
    except OSError:
        return []


class TensorBoardCSVParser(Parser):
    name = "tensorboard-csv"
    title = "TensorBoard scalar CSV/JSON download"
    recognises = "'Wall time,Step,Value' CSV (run-<run>-tag-<tag>.csv), or a directory of them"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        named = _name_parts(inp.inner_name) is not None
        head = inp.head_text(4096)
        if _HEADER.match(head.lstrip()):
            return 0.95 if named else 0.85
        if named and inp.inner_name.lower().endswith(".json") and re.match(r"^\s*\[\s*\[", head):
            return 0.9
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        parts = _name_parts(inp.inner_name)
        if parts is None:
            # NOTE: a download renamed after its tag (``train_loss.csv``, ``val_acc.csv``): the file's name is the
            # only name the series has, as for a numbers-only file; any other name keeps the column's ``Value``.
            stem = inp.inner_name.rsplit(".", 1)[0]
            run, tag = inp.run_name, (stem if METRIC_NAME.search(stem) else "value")
            split_from_run = None
        else:
            run, tag = parts
            run, split_from_run = _run_split(run)
            if not run or run == ".":
                run = inp.path.resolve().parent.name if inp.path is not None else "run"
        df, notes = _read(inp)
        split, metric = _series_key(split_from_run, tag)
        frame = df.select(
            pl.lit(run).alias("run"),
            pl.lit(split).alias("split"),
            pl.lit(metric).alias("metric"),
            pl.lit(tag).alias("name"),
            "step",
            "wall_time",
            "value",
        )
        return ParseResult(concat_frames([frame]), notes)

    def sniff_dir(self, path: Path) -> float:
        files = _export_files(path)
        if not files:
            return 0.0
        entries = list(path.iterdir())
        others = [f for f in entries if f.is_file() and f.suffix.lower() == ".csv" and f not in files]
        # With subdirectories the directory is more than one export set: let the directory walk read each part.
        subdirs = [d for d in entries if d.is_dir() and not d.name.startswith(".")]
        return 0.0 if others or subdirs else 0.9

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        entries = []
        for f in _export_files(path):
            run, tag = _name_parts(f.name)  # type: ignore[misc]
            base, split = _run_split(run)
            if not base or base == ".":
                base = path.resolve().name
            entries.append((f, base, split, tag))
        frames, notes = [], []
        # (split, metric) per run must come from one file: dedupe per run.
        for base in dict.fromkeys(e[1] for e in entries):
            mine = [e for e in entries if e[1] == base]
            keys = dedupe_metrics((e[0].name, *_series_key(e[2], e[3])) for e in mine)
            for f, _, _, tag in mine:
                df, nt = _read(open_file(f, f"{display}/{f.name}"))
                notes.extend(IngestNote(n.kind, f"{f.name}: {n.message}", n.line, n.run, n.count, n.step) for n in nt)
                split, metric = keys[f.name]
                frames.append(
                    df.select(
                        pl.lit(base).alias("run"),
                        pl.lit(split).alias("split"),
                        pl.lit(metric).alias("metric"),
                        pl.lit(tag).alias("name"),
                        "step",
                        "wall_time",
                        "value",
                    )
                )
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=display)
        return ParseResult(frame, notes)


PARSERS = [TensorBoardCSVParser()]
