"""maskrcnn-benchmark (and its forks: FCOS, Scene-Graph-Benchmark, MaskTextSpotter...) ``MetricLogger`` lines.

Checked with the search tool against ``facebookresearch/maskrcnn-benchmark`` forks'
``maskrcnn_benchmark/engine/trainer.py``: ``do_train`` logs every 20 iterations
``meters.delimiter.join(["eta: {eta}", "iter: {iter}", "{meters}", "lr: {lr:.6f}", "max mem: {memory:.0f}"])``
with the delimiter ``"  "``; ``maskrcnn_benchmark/utils/metric_logger.py`` ``MetricLogger.__str__`` writes each
meter as ``"{}: {:.4f} ({:.4f})".format(name, meter.median, meter.global_avg)``: the median over a window of
the last 20 values, then the average since the start. The first (windowed median) is read as the logged value;
the parenthesised running average is not read. ``time`` and ``data`` are seconds per iteration (not read);
``lr`` is the learning rate. The lines follow a long config dump. Sample::

    2020-02-28 16:13:30,732 maskrcnn_benchmark.trainer INFO: eta: 6:12:33  iter: 20  loss: 2.2403 (2.5577)  loss_classifier: 0.2882 (0.4062)  time: 0.5212 (0.5591)  data: 0.0220 (0.0574)  lr: 0.003587  max mem: 5048
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import last_run_result, regex_pairs
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import LOG_NUMBER, matching, to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric

_NUM = LOG_NUMBER
#: ``eta: 6:12:33`` or ``eta: 1 day, 2:03:04`` (``str(datetime.timedelta)``), then the iteration
_HEAD = r"\beta: (?:\d+ days?, )?\d+:\d\d:\d\d  iter: (\d+)  (.*)$"
_METER = rf"([A-Za-z_][\w/.\-]*): ({_NUM}) \({_NUM}\)"
_LR = rf"  lr: ({_NUM})(?:  |$)"
_SNIFF = re.compile(rf"\beta: (?:\d+ days?, )?\d+:\d\d:\d\d  iter: \d+  [A-Za-z_][\w/.\-]*: {_NUM} \({_NUM}\)")
#: per-iteration timings of the MetricLogger, not training metrics
_TIMINGS = ("time", "data")


class MaskrcnnBenchmarkParser(LineParser):
    name = "maskrcnn-benchmark"
    title = "maskrcnn-benchmark / FCOS MetricLogger training log"
    recognises = "'eta: 6:12:33  iter: 20  loss: 2.2403 (2.5577)  ...  lr: 0.001  max mem: 5048' lines (windowed median read)"
    priority = 30
    sniff_pattern = _SNIFF
    strong = 0.95

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        recs = (matching(lines, _HEAD)
                .select("lineno", pl.col("1").cast(pl.Int64).alias("step"), pl.col("2").alias("body")))
        meters = regex_pairs(recs, "body", _METER, ["lineno", "step"]).filter(~pl.col("name").is_in(_TIMINGS))
        lr = recs.select("lineno", "step", pl.lit("lr").alias("name"),
                         to_float(pl.col("body").str.extract(_LR, 1)).alias("value")).filter(pl.col("value").is_not_null())
        rows = pl.concat([meters, lr], how="vertical_relaxed")
        names = rows.get_column("name").unique(maintain_order=True).to_list()
        metric = {n: canonical_metric(n.lower()) for n in names}
        long = rows.sort("lineno", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), pl.lit("train").alias("split"),
            pl.col("name").replace_strict(metric, return_dtype=pl.String).alias("metric"), "name", "step",
            pl.lit(None, dtype=pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            "value", "lineno")
        if long.height:
            notes.append(IngestNote("inferred", "maskrcnn-benchmark MetricLogger prints each meter as 'median (global "
                                    "average)': the median over the last 20 iterations is read, the running "
                                    "average in brackets is not"))
        return last_run_result(long, lines, notes)


PARSERS = [MaskrcnnBenchmarkParser()]
