"""YOLOv7 (and YOLOv5 before v6, YOLOR) console output (``nohup.out``, ``train.log``): the tqdm training rows.

Checked with the search tool against ``WongKinYiu/yolov7`` ``train.py``: each batch redraws the bar with
``pbar.set_description(('%10s' * 2 + '%10.4g' * 6) % (f'{epoch}/{epochs - 1}', mem, *mloss, targets.shape[0],
imgs.shape[-1]))`` under the header ``Epoch gpu_mem box obj cls total labels img_size``, where ``mloss`` is
``(mloss * i + loss_items) / (i + 1)``: the mean of the epoch so far. The last row of an epoch is therefore the
epoch's mean training loss, the value ``results.txt`` keeps; it is the one read (one point per epoch, the epoch
0-based as written). ``test.py`` then prints ``'%20s' + '%12i' * 2 + '%12.3g' * 4`` for ``all``: images,
labels, precision, recall, mAP@0.5, mAP@0.5:0.95, read as that epoch's validation metrics. The rows are tqdm
redraws separated by ``\\r`` with colour escapes (``load_lines`` splits and strips them). Sample::

         Epoch   gpu_mem       box       obj       cls     total    labels  img_size
         0/299       12G   0.07403   0.03256         0    0.1066       161       640:   3%|▎  | 1/38 [00:09<05:52]
                   all         100         479     0.00464        0.29      0.0014    0.000222
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
#: epoch/last, memory ('12G', '0'), box obj cls total, labels, image size, then tqdm's ':' (or the end)
_ROW = (rf"^\s*(\d+)/(\d+)\s+[\d.]+[GMK]?\s+({_NUM})\s+({_NUM})\s+({_NUM})\s+({_NUM})\s+\d+\s+\d+"
        r"(?::|\s*$)")
_VAL = rf"^\s+all\s+\d+\s+\d+\s+({_NUM})\s+({_NUM})\s+({_NUM})\s+({_NUM})\s*$"
_SNIFF = re.compile(rf"(?:^|[\r\n])\s*\d+/\d+\s+[\d.]+[GMK]?(?:\s+{_NUM}){{4}}\s+\d+\s+\d+:\s+\d+%\|")
_HEADER = re.compile(r"Epoch\s+gpu_mem\s+box\s+obj\s+cls\s+total\s+labels\s+img_size")
_TRAIN = {"3": ("box_loss", "train/box_loss"), "4": ("obj_loss", "train/obj_loss"),
          "5": ("cls_loss", "train/cls_loss"), "6": ("loss", "train/total_loss")}
_VALS = {"1": ("precision", "metrics/precision"), "2": ("recall", "metrics/recall"),
         "3": ("map_0_5", "metrics/mAP_0.5"), "4": ("map_0_5_0_95", "metrics/mAP_0.5:0.95")}


class YoloConsoleParser(Parser):
    name = "yolo-console"
    title = "YOLOv7 / YOLOv5 (v5.0) console training rows"
    recognises = "tqdm rows '0/299  12G  0.074  0.033  0  0.107  161  640: 3%|...' under 'Epoch gpu_mem box obj cls total'"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        if _HEADER.search(inp.head_text()) is None and _HEADER.search(inp.tail_text() or "") is None:
            return 0.0
        return line_confidence(inp, _SNIFF, strong=0.9, weak=0.6)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = drop_torn_tail(inp, read_text_lines(inp, notes), notes).with_row_index("_order")
        line = pl.col("line")
        rows = (lines.filter(line.str.contains(_ROW))
                .with_columns(line.str.extract_groups(_ROW).alias("_g")).unnest("_g")
                .with_columns(pl.col("1").cast(pl.Int64).alias("step"), pl.col("2").cast(pl.Int64).alias("_last")))
        # the epoch's last redraw holds its mean (a restarted epoch: the last of its last stretch)
        last = rows.group_by("step", maintain_order=True).agg(pl.all().sort_by("_order").last()).sort("_order")
        frames = [last.select("lineno", "_order", "step", pl.lit("train").alias("split"), pl.lit(m).alias("metric"),
                              pl.lit(n).alias("name"), to_float(pl.col(g)).alias("value"))
                  for g, (m, n) in _TRAIN.items()]
        val = (lines.filter(line.str.contains(_VAL))
               .with_columns(line.str.extract_groups(_VAL).alias("_g")).unnest("_g").sort("_order"))
        if val.height and last.height:
            # a validation row belongs to the epoch whose training rows came before it
            val = val.join_asof(last.select("_order", pl.col("step")), on="_order").filter(pl.col("step").is_not_null())
            val = val.group_by("step", maintain_order=True).agg(pl.all().sort_by("_order").last())
            frames += [val.select("lineno", "_order", "step", pl.lit("val").alias("split"), pl.lit(m).alias("metric"),
                                  pl.lit(n).alias("name"), to_float(pl.col(g)).alias("value"))
                       for g, (m, n) in _VALS.items()]
        long = pl.concat(frames, how="vertical_relaxed").sort("_order", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step",
            pl.col("step").cast(pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            "value", "lineno")
        if last.height:
            notes.append(IngestNote("inferred", "YOLO console rows redraw the epoch's running mean loss each batch: "
                                    f"the last row of each of {last.height} epoch(s) is read (its mean)"))
        meta: dict[str, object] = {"x_axis": "epoch", "epoch_base": 0}
        if rows.height:
            meta["total_steps"] = int(rows.get_column("_last").max()) + 1  # type: ignore[arg-type]
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [YoloConsoleParser()]
