"""YOLOv3/v5/v7 ``results.txt`` (``ultralytics/yolov5`` before ``results.csv``, and ``WongKinYiu/yolov7``
``train.py``: ``s = ('%10s' * 2 + '%10.4g' * 6) % (f'{epoch}/{epochs - 1}', mem, *mloss, targets,
img_size)`` then ``'%10.4g' * 7 % results`` per epoch). No header: 15 fields a line. Sample::

          0/29     1.86G   0.09854   0.09318         0    0.1917        24       416         0         0  0.004895 0.0009547   0.09176   0.05526         0
          1/29     1.93G   0.09296    0.1009         0    0.1939        37       416   0.04823   0.01505  0.007566  0.001351    0.0922   0.05528         0

Fields: epoch/last epoch, GPU memory, train box (GIoU in early releases), objectness, class and total
loss, targets, image size, precision, recall, mAP@0.5, mAP@0.5:0.95, val box, objectness and class loss.
The series are named as ``results.csv`` names them (``train/box_loss``, ``metrics/mAP_0.5``,
``val/obj_loss``...; the file itself has no names); the total is the training ``loss``. Axis: the epoch
(0-based, as written); the last epoch planned is ``meta["total_steps"]``.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)"
_LINE_RS = rf"^\s*\d+/\d+\s+\S+(?:\s+{_NUM}){{13}}\s*$"
_LINE = re.compile(_LINE_RS, re.M)
#: field index -> (split, metric, name as results.csv spells it)
FIELDS: dict[int, tuple[str, str, str]] = {
    2: ("train", "box_loss", "train/box_loss"), 3: ("train", "obj_loss", "train/obj_loss"),
    4: ("train", "cls_loss", "train/cls_loss"), 5: ("train", "loss", "train/total_loss"),
    8: ("val", "precision", "metrics/precision"), 9: ("val", "recall", "metrics/recall"),
    10: ("val", "map_0_5", "metrics/mAP_0.5"), 11: ("val", "map_0_5_0_95", "metrics/mAP_0.5:0.95"),
    12: ("val", "box_loss", "val/box_loss"), 13: ("val", "obj_loss", "val/obj_loss"),
    14: ("val", "cls_loss", "val/cls_loss"),
}


class YoloTxtParser(Parser):
    name = "yolo-txt"
    title = "YOLOv3/v5/v7 results.txt"
    recognises = "results.txt: 15 fields a line, '0/29  1.86G  box obj cls total targets img P R mAP50 mAP val_box ...'"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _LINE, strong=0.8, weak=0.5, named=lambda name: name.endswith("results.txt"))

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        f = pl.col("f")
        rows = (lines.filter(pl.col("line").str.contains(_LINE_RS))
                .select("lineno", pl.col("line").str.strip_chars().str.replace_all(r"\s+", " ").str.split(" ").alias("f"))
                .filter(f.list.len() == 15)
                .with_columns(f.list.get(0).str.split("/").list.get(0).cast(pl.Int64, strict=False).alias("step"),
                              f.list.get(0).str.split("/").list.get(1).cast(pl.Int64, strict=False).alias("_last")))
        skipped = lines.filter(pl.col("line").str.strip_chars() != "").height - rows.height
        if skipped:
            notes.append(IngestNote("skipped_lines", f"{skipped} line(s) that are not 15-field epoch lines skipped",
                                    count=skipped))
        frames = [rows.select("lineno", "step", pl.lit(sp).alias("split"), pl.lit(m).alias("metric"),
                              pl.lit(name).alias("name"), to_float(f.list.get(i)).alias("value"))
                  for i, (sp, m, name) in FIELDS.items()]
        long = pl.concat(frames).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step",
            pl.col("step").cast(pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            "value", "lineno").sort("lineno", maintain_order=True)
        meta: dict[str, object] = {"x_axis": "epoch", "epoch_base": 0}
        if rows.height and rows.get_column("_last").drop_nulls().len():
            meta["total_steps"] = int(rows.get_column("_last").max()) + 1  # type: ignore[operator]
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [YoloTxtParser()]
