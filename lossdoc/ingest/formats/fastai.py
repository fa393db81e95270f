"""fastai ``CSVLogger`` ``history.csv``.

Checked against docs/formats-reference.md §10b (``fastai/fastai`` ``fastai/callback/progress.py``
``CSVLogger.before_fit`` / ``_write_line``: header ``','.join(recorder.metric_names)`` =
``epoch,train_loss,valid_loss,<metrics...>,time``; each row ``','.join(str(t) for t in log)``;
``epoch`` 0-based; ``time`` a ``mm:ss`` (or ``h:mm:ss``) string). Sample::

    epoch,train_loss,valid_loss,accuracy,time
    0,0.6931471824645996,0.5123407244682312,0.8125,00:12
    1,0.4512,0.4011,0.8433,00:11

``train_loss`` is ``train``/``loss``, ``valid_loss`` ``val``/``loss``; the other metric columns
(``accuracy``, ``error_rate``...) are computed by fastai on the validation set, so they are
split ``val``. ``time`` is the epoch's duration; ``wall_time`` is its running sum (seconds since
the fit started). ``step`` and ``epoch`` are the 0-based ``epoch`` column.
"""

from __future__ import annotations

import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.formats._common import finish, map_keys, read_csv_table, readable_metric, wide_to_long
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.model import IngestNote, ParseResult


def _header(inp: InputFile) -> list[str]:
    first = inp.head_text(8192).split("\n", 1)[0]
    return [h.strip() for h in first.rstrip("\r").split(",")]


def classify(col: str) -> tuple[str, str] | None:
    if col in ("epoch", "time"):
        return None
    if col == "train_loss":
        return "train", "loss"
    if col == "valid_loss":
        return "val", "loss"
    return "val", readable_metric(col)


def _seconds(expr: pl.Expr) -> pl.Expr:
    """``'01:02'`` -> 62.0, ``'1:00:05'`` -> 3605.0 (fastai ``format_time``)."""
    parts = expr.str.strip_chars().str.split(":")
    n = parts.list.len()
    last = parts.list.get(-1, null_on_oob=True).cast(pl.Float64, strict=False)
    mid = parts.list.get(-2, null_on_oob=True).cast(pl.Float64, strict=False).fill_null(0.0)
    hours = pl.when(n >= 3).then(parts.list.get(-3, null_on_oob=True).cast(pl.Float64, strict=False)).otherwise(0.0)
    return last + 60.0 * mid + 3600.0 * hours


class FastaiParser(Parser):
    name = "fastai"
    title = "fastai CSVLogger history.csv"
    recognises = "history.csv with header 'epoch,train_loss,valid_loss,...,time'"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        h = _header(inp)
        if len(h) < 4 or h[0] != "epoch" or h[1] != "train_loss" or h[2] != "valid_loss":
            return 0.0
        if h[-1] != "time":
            return 0.6
        return 0.95 if inp.inner_name.lower().endswith("history.csv") else 0.85

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        df, _ = read_csv_table(inp, notes)
        if "epoch" not in df.columns:
            raise ParseError("history.csv has no 'epoch' column", path=inp.name, line=1)
        cols = map_keys([c for c in df.columns if c != "lineno" and not c.startswith("_col")], classify)
        epoch = pl.col("epoch").cast(pl.Float64, strict=False)
        wall = _seconds(pl.col("time")).cum_sum() if "time" in df.columns else None
        long = wide_to_long(df, cols, run=inp.run_name, step=epoch, epoch=epoch, wall_time=wall)
        return ParseResult(finish(long, notes, "row"), notes, {"x_axis": "epoch", "epoch_base": 0})


PARSERS = [FastaiParser()]
