"""Ultralytics YOLO ``results.csv`` (YOLOv5, YOLOv8/11 and later).

Checked against docs/formats-reference.md §9 (``ultralytics/ultralytics`` ``engine/trainer.py``
``BaseTrainer.save_metrics``: ``"%.6g,"`` values after an ``epoch,time`` header; older 8.x
``"%23s,"`` / ``"%23.5g,"`` padding; ``ultralytics/yolov5`` ``utils/loggers/__init__.py``
``Loggers.on_fit_epoch_end``: ``"%20s,"`` / ``"%20.5g,"``, 0-based epochs) and the real files in
``yolo`` of the real logs (``tests/ingest/test_real_logs.py``). Sample::

    epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),...,lr/pg0,lr/pg1,lr/pg2
    1,35.2105,1.2345,1.87651,1.12341,0.61234,...,0.0033281,0.0033281,0.0033281
    2,68.9044,1.1822,1.50123,1.09877,0.65871,...,0.0065962,0.0065962,0.0065962

One row per epoch. Component losses (``box_loss``, ``cls_loss``, ``dfl_loss``, ``obj_loss``,
``seg_loss``...) each become their own metric; no total is invented. ``metrics/*`` are
validation scores (higher is better); ``lr/pg0`` (``x/lr0`` in YOLOv5) is ``lr`` and the other
parameter groups ``lr_pg1``, ``lr_pg2``. ``step`` and ``epoch`` are the ``epoch`` column as
written (0-based in YOLOv5 and early YOLOv8 files, 1-based since); ``time`` (seconds since the
start) is ``wall_time``.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.formats._common import finish, map_keys, read_csv_table, readable_metric, wide_to_long
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.model import IngestNote, ParseResult

_LR = re.compile(r"^(?:lr/pg|x/lr)(\d+)$")


def _header(inp: InputFile) -> list[str]:
    first = inp.head_text(8192).lstrip("\ufeff").split("\n", 1)[0]
    return [h.strip() for h in first.rstrip("\r").split(",")]


def _looks_like_yolo(header: list[str]) -> bool:
    """``epoch`` first, ``train/*`` loss columns, and ``val/*``, ``metrics/*`` or ``lr/*`` columns
    (YOLOv5/8/11 ``train/box_loss``; YOLOv10 ``train/box_om``, ``train/cls_oo``; RT-DETR ``train/giou_loss``)."""
    if not header or header[0] != "epoch" or "step" in header:
        # a 'step' column is Lightning's (CSVLogger writes 'epoch,step' before its 'train/loss', 'val/loss' keys
        # in alphabetical order): a YOLO results.csv counts epochs only
        return False
    has_train = any(h.startswith("train/") and len(h) > 6 for h in header)
    has_other = any(h.startswith(("metrics/", "val/", "lr/")) for h in header)
    return has_train and has_other


def _loss_item(rest: str) -> str:
    """A ``train/`` or ``val/`` column holds a loss item: YOLOv10's ``box_om`` (one-to-many head) and
    ``box_oo`` (one-to-one head) become ``box_om_loss`` / ``box_oo_loss`` so they read as components."""
    m = readable_metric(rest)
    return m if "loss" in m or m in ("lr", "accuracy", "perplexity") or m.startswith("lr_") else f"{m}_loss"


def classify(col: str) -> tuple[str, str] | None:
    """(split, metric) of a ``results.csv`` column; None for the axis columns."""
    if col in ("epoch", "time"):
        return None
    m = _LR.match(col)
    if m:
        g = int(m.group(1))
        return "train", "lr" if g == 0 else f"lr_pg{g}"
    if "/" in col:
        prefix, rest = col.split("/", 1)
        if prefix == "train":
            return "train", _loss_item(rest)
        if prefix == "val":
            return "val", _loss_item(rest)
        if prefix == "metrics":
            return "val", readable_metric(rest)
    return "other", readable_metric(col)


class YoloParser(Parser):
    name = "yolo"
    title = "Ultralytics YOLO results.csv"
    recognises = ("results.csv with header 'epoch[,time],train/*,...' and val/*, metrics/* or lr/* columns (padded or "
                  "not): YOLOv5/8/11 train/box_loss, YOLOv10 train/box_om, train/cls_oo, RT-DETR train/giou_loss")
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        header = _header(inp)
        if not _looks_like_yolo(header):
            return 0.0
        if inp.inner_name.lower().endswith("results.csv"):
            return 0.95
        return 0.85

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        df, header = read_csv_table(inp, notes)
        if "epoch" not in df.columns:
            raise ParseError("results.csv has no 'epoch' column", path=inp.name, line=1)
        cols = map_keys([c for c in df.columns if c != "lineno" and not c.startswith("_col")], classify)
        epoch = pl.col("epoch").cast(pl.Float64, strict=False)
        wall = pl.col("time") if "time" in df.columns else None
        long = wide_to_long(df, cols, run=inp.run_name, step=epoch, epoch=epoch, wall_time=wall)
        meta: dict[str, object] = {"x_axis": "epoch"}
        first = df.select(epoch.min()).item() if df.height else None
        if first is not None:
            if first in (0, 1):
                meta["epoch_base"] = int(first)
        return ParseResult(finish(long, notes, "row"), notes, meta)


PARSERS = [YoloParser()]
