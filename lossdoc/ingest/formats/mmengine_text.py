"""MMEngine's text log (``<work_dir>/<timestamp>/<timestamp>.log``; OpenMMLab 2.x: MMDetection 3.x, MMSeg 1.x,
MMPretrain, MMYOLO...).

Checked with the search tool against ``open-mmlab/mmengine`` ``mmengine/runner/log_processor.py``
(``LogProcessor.get_log_after_iter`` / ``get_log_after_epoch``): a by-epoch run prints ``Epoch({mode})
[{epoch}][{iter}/{dataloader_len}]`` (train and val) or ``Epoch(test) [{iter}/{len}]``, an iteration-based one
``Iter({mode}) [{iter}/{max_iters}]`` (train) or ``Iter({mode}) [{batch}/{len}]`` (val, test); then ``name: value``
items joined by two spaces (``lr`` in ``.4e``, ``eta``, ``time``, ``data_time``, ``memory``, the losses). The
validation result is the line at the evaluation's end (``[{len}/{len}]``) with the metrics. Sample::

    05/01 12:00:00 - mmengine - INFO - Epoch(train)  [1][ 50/313]  base_lr: 1.0000e-02 lr: 1.0000e-02  eta: 0:33:18  time: 0.2121  data_time: 0.0110  memory: 3364  grad_norm: 4.2  loss: 2.1377  loss_cls: 1.1324  loss_bbox: 1.0053
    05/01 12:10:00 - mmengine - INFO - Epoch(val) [1][50/50]    coco/bbox_mAP: 0.1020  coco/bbox_mAP_50: 0.2040  data_time: 0.0021  time: 0.0456

Step: by epoch, ``(epoch - 1) x N + iter`` with ``N`` the printed dataloader length of the training lines, and a
validation result at its epoch's end (``epoch x N``); by iteration, the iteration, and a validation or test result
at the last training iteration before it. ``eta``, ``time``, ``data_time`` and ``memory`` are timing, not metrics;
validation progress lines (no metric) add nothing. Several runs appended to one log are told apart as in the other
line readers (the last is read).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import (
    finish,
    regex_pairs,
)
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.ingest.text import LOG_NUMBER, matching
from lossdoc.model import IngestNote, ParseResult, split_and_metric

#: ``Epoch(train) [3][ 50/313]``, ``Epoch(val) [3][50/50]``, ``Epoch(test) [50/50]``, ``Iter(train) [ 500/40000]``
_HEAD = (r"\b(Epoch|Iter)\((train|val|test)\)\s+(?:\[\s*(\d+)\s*\])?\[\s*(\d+)\s*/\s*(\d+)\s*\]\s+(.*)$")
_SNIFF = re.compile(r"\b(?:Epoch|Iter)\((?:train|val)\)\s+(?:\[\s*\d+\s*\])?\[\s*\d+\s*/\s*\d+\s*\]\s+\S+: ")
_PAIR = rf"([A-Za-z_][\w/.\-]*):\s+({LOG_NUMBER})(?:\s|$)"
#: timing and memory items of every line: not metrics of the run
_TIMING = ("eta", "time", "data_time", "memory")


def _metric(name: str) -> str:
    """``loss_cls`` stays a component, ``lr`` the LR, ``base_lr`` its own series, ``coco/bbox_mAP`` ->
    ``coco_bbox_m_ap`` (the line's mode gives the split, never the name)."""
    if name == "base_lr":
        return name
    return split_and_metric(name.replace("/", "_"))[1]


class MMEngineTextParser(LineParser):
    name = "mmengine-text"
    title = "MMEngine text log (OpenMMLab 2.x <timestamp>.log)"
    recognises = ("'Epoch(train)  [1][ 50/313]  lr: 1.0000e-02  ...  loss: 2.1377  loss_cls: 1.1324' and "
                  "'Epoch(val) [1][50/50]  coco/bbox_mAP: 0.1020' lines, or 'Iter(train) [ 500/40000]  ...' ones")
    priority = 30
    sniff_pattern = _SNIFF

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        rows = matching(lines, _HEAD).select(
            "lineno", pl.col("1").alias("by"), pl.col("2").alias("mode"),
            pl.col("3").cast(pl.Int64).alias("epoch"), pl.col("4").cast(pl.Int64).alias("it"),
            pl.col("5").cast(pl.Int64).alias("total"), pl.col("6").alias("body"))
        pairs = regex_pairs(rows, "body", _PAIR, ["lineno", "by", "mode", "epoch", "it", "total"]).filter(
            ~pl.col("name").is_in(_TIMING))
        train = rows.filter(pl.col("mode") == "train")
        by_epoch = bool(train.height and (train.get_column("by") == "Epoch").all()) or (
            not train.height and bool((rows.get_column("by") == "Epoch").any()))
        meta: dict[str, object] = {"x_axis": "iteration"}
        if by_epoch:
            per = int(train.get_column("total").max() or 0) if train.height else 0  # type: ignore[arg-type]
            train_step = (pl.col("epoch") - 1) * per + pl.col("it") if per else pl.col("epoch")
            # a validation result closes its epoch; a test result (no epoch printed) the run
            end_step = pl.col("epoch") * per if per else pl.col("epoch")
            step = (pl.when(pl.col("mode") == "train").then(train_step)
                    .when(pl.col("epoch").is_not_null()).then(end_step).otherwise(None))
            if per:
                meta["iterations_per_epoch"] = per
                notes.append(IngestNote("inferred", f"step = (epoch - 1) x {per} + iteration ({per} iterations per "
                                        "epoch, as printed); a validation result at its epoch's end"))
        else:
            step = pl.when(pl.col("mode") == "train").then(pl.col("it")).otherwise(None)
        # a result without a step of its own (an iteration-based validation, a test) sits at the last training step
        # before it
        pairs = pairs.sort("lineno", maintain_order=True).with_columns(step.forward_fill().alias("step"))
        # one metric name per logged name, decided once (not per row: a long log has 10^6 items)
        metric = {n: _metric(n) for n in pairs.get_column("name").unique().to_list()}
        long = pairs.select(
            pl.lit(inp.run_name).alias("run"), pl.col("mode").alias("split"),
            pl.col("name").replace_strict(metric, return_dtype=pl.String).alias("metric"), "name",
            pl.col("step").cast(pl.Int64), pl.col("epoch").cast(pl.Float64),
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno")
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [MMEngineTextParser()]
