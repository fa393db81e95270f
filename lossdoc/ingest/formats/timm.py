"""timm (``huggingface/pytorch-image-models``) ``train.py`` ``summary.csv``.

Checked against docs/formats-reference.md §10a (``timm/utils/summary.py`` ``update_summary``: a
``csv.DictWriter`` row per epoch with ``epoch``, ``train_<k>`` for the train metrics, ``eval_<k>``
for the eval metrics, then ``lr`` in later versions; Python float reprs; epoch 0-based).
Sample::

    epoch,train_loss,eval_loss,eval_top1,eval_top5,lr
    0,6.8921,6.5412,1.234,5.678,0.0001
    1,6.3107,5.9876,4.102,12.88,0.0002

``train_*`` columns are split ``train``, ``eval_*`` split ``val`` (``eval_top1`` -> ``top1``), ``lr``
is the training learning rate. ``step`` and ``epoch`` are the 0-based ``epoch`` column.
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
    if col == "epoch":
        return None
    if col.startswith("train_"):
        return "train", readable_metric(col[len("train_"):])
    if col.startswith("eval_"):
        return "val", readable_metric(col[len("eval_"):])
    if col == "lr":
        return "train", "lr"
    return "other", readable_metric(col)


class TimmParser(Parser):
    name = "timm"
    title = "timm train.py summary.csv"
    recognises = "summary.csv with header 'epoch,train_loss,eval_loss,eval_top1,...[,lr]'"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        h = _header(inp)
        if len(h) < 3 or h[0] != "epoch" or "train_loss" not in h:
            return 0.0
        if not any(c.startswith("eval_") for c in h):
            return 0.0
        if not all(c == "epoch" or c == "lr" or c.startswith(("train_", "eval_")) for c in h):
            return 0.5
        return 0.95 if inp.inner_name.lower().endswith("summary.csv") else 0.8

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        df, _ = read_csv_table(inp, notes)
        if "epoch" not in df.columns:
            raise ParseError("summary.csv has no 'epoch' column", path=inp.name, line=1)
        cols = map_keys([c for c in df.columns if c != "lineno" and not c.startswith("_col")], classify)
        epoch = pl.col("epoch").cast(pl.Float64, strict=False)
        long = wide_to_long(df, cols, run=inp.run_name, step=epoch, epoch=epoch)
        return ParseResult(finish(long, notes, "row"), notes, {"x_axis": "epoch", "epoch_base": 0})


PARSERS = [TimmParser()]
