"""CatBoost training directory ``catboost_info/`` (``catboost/catboost`` ``catboost/libs/logging``,
the ``learn_error.tsv`` / ``test_error.tsv`` files of ``train_dir``; checked against 1.2).

Sample (``learn_error.tsv``; ``test_error.tsv`` has the same layout)::

    iter\tLogloss
    0\t0.6718801529
    1\t0.6486221495

``iter`` is 0-based and is the step; every other column is a metric (``Logloss``, ``RMSE``,
``AUC``...; snake_cased; the first loss-like one is read as metric ``loss``, noted).
``learn_error.tsv`` is split ``train``, ``test_error.tsv`` (the
``eval_set``) split ``val``. A directory holding either file is one run named after the
directory (``catboost_info`` itself is named after its parent); a single TSV is read alone.
``time_left.tsv`` and the ``learn/``/``test/`` event files beside them are not read.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._evalsets import loss_metric, loss_note
from lossdoc.ingest.formats._table import read_table
from lossdoc.ingest.inputs import InputFile, open_file
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, concat_frames, snake_case

_FILES = {"learn_error.tsv": "train", "test_error.tsv": "val"}


def _run_name(directory: Path) -> str:
    d = directory.resolve()
    if d.name == "catboost_info" and d.parent.name:
        return d.parent.name
    return d.name or "catboost"


def _frame(inp: InputFile, split: str, run: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    table, notes = read_table(inp, "\t", live=True)
    if "iter" not in table.columns:
        return concat_frames([]), notes
    step = pl.col("iter").str.strip_chars().cast(pl.Int64, strict=False)
    bad = table.filter(step.is_null())
    if bad.height:
        notes.append(
            IngestNote("skipped_lines", f"{bad.height} row(s) in {inp.name} without an integer iter", count=bad.height)
        )
        table = table.filter(step.is_not_null())
    frames = []
    names = {c: snake_case(c.split(":")[0]) for c in table.columns if c != "iter" and c}
    primary = loss_metric(list(names.values()))
    if primary is not None:
        notes.append(loss_note(primary))
    for col in table.columns:
        if col == "iter" or not col:
            continue
        metric = "loss" if names[col] == primary else snake_case(col)
        frames.append(
            table.filter(pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != "")).select(
                pl.lit(run).alias("run"),
                pl.lit(split).alias("split"),
                pl.lit(metric).alias("metric"),
                pl.lit(col).alias("name"),
                step.alias("step"),
                to_float(pl.col(col)).alias("value"),
            )
        )
    return concat_frames(frames), notes


class CatBoostParser(Parser):
    name = "catboost"
    title = "CatBoost catboost_info/ (learn_error.tsv, test_error.tsv)"
    recognises = "a catboost_info/ directory, or learn_error.tsv / test_error.tsv with an 'iter' column"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        if inp.inner_name in _FILES and inp.head_text(64).startswith("iter\t"):
            return 0.95
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        split = _FILES.get(inp.inner_name, "train" if "learn" in inp.inner_name else "val")
        run = _run_name(inp.path.parent) if inp.path is not None else inp.run_name
        frame, notes = _frame(inp, split, run)
        return ParseResult(frame, notes)

    def sniff_dir(self, path: Path) -> float:
        found = [f for f in _FILES if (path / f).is_file()]
        if not found:
            return 0.0
        return 0.95 if path.name == "catboost_info" or len(found) == 2 else 0.9

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        run = _run_name(path)
        frames, notes = [], []
        for fname, split in _FILES.items():
            f = path / fname
            if f.is_file() and f.stat().st_size:
                fr, nt = _frame(open_file(f, f"{display}/{fname}"), split, run)
                frames.append(fr)
                notes.extend(replace(n, message=f"{fname}: {n.message}") for n in nt)
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=display)
        return ParseResult(frame, notes)


PARSERS = [CatBoostParser()]
