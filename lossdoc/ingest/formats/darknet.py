"""Darknet (pjreddie/darknet and AlexeyAB/darknet, YOLOv2-v4's trainer) training output.

Checked with the search tool against the trainers' C source. ``examples/detector.c`` ``train_detector``
prints once an iteration (pjreddie)::

    printf("%ld: %f, %f avg, %f rate, %lf seconds, %d images\\n", get_current_batch(net), loss, avg_loss,
           get_current_rate(net), what_time_is_it_now()-time, i*imgs);

and AlexeyAB's fork ``src/detector.c``::

    printf("\\n %d: %f, %f avg loss, %f rate, %lf seconds, %d images, %f hours left\\n", iteration, loss,
           avg_loss, get_current_rate(net), (what_time_is_it_now() - time), iteration*imgs, avg_time);

``examples/classifier.c`` ``train_classifier`` prints ``"%ld, %.3f: %f, %f avg, %f rate, %lf seconds, %ld
images"`` (the batch, then the epoch), ``examples/rnn.c`` ``"%d: %f, %f avg, %f rate, %lf seconds, %f epochs"``.
``loss`` is the iteration's loss (summed over the batch's images for a detector: hundreds to thousands at
the start), ``avg_loss`` darknet's own running average (``avg_loss*.9 + loss*.1``), ``rate`` the learning
rate in force. Between these lines the detector prints one ``Region Avg IOU: ...`` line per subdivision
(not read). Read: ``loss`` as the training loss at the iteration, ``avg`` as ``avg_loss`` (a note says it is
darknet's exponential average, not a second loss), ``rate`` as ``lr``, the classifier's epoch as the epoch.
A NaN loss prints as ``-nan`` or ``nan`` and is kept as NaN."""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import last_run_result
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import LOG_NUMBER, matching, to_float
from lossdoc.model import IngestNote, ParseResult

_NUM = LOG_NUMBER
#: ``12: 680.5, 680.5 avg, 0.001 rate, 3.2 seconds, 768 images`` (AlexeyAB: ``avg loss``; the classifier puts
#: ``, <epoch>`` after the batch; rnn ends in ``epochs``)
_LINE = (rf"^\s*(\d+)(?:, ({_NUM}))?: ({_NUM}), ({_NUM}) avg(?: loss)?, ({_NUM}) rate, {_NUM} seconds, "
         rf"{_NUM} (?:images|epochs)")
_SNIFF = re.compile(_LINE, re.MULTILINE)


class DarknetParser(LineParser):
    name = "darknet"
    title = "Darknet (YOLOv2-v4) training output"
    recognises = "'12: 680.5, 680.5 avg, 0.001 rate, 3.2 seconds, 768 images' lines (AlexeyAB: 'avg loss')"
    priority = 30
    sniff_pattern = _SNIFF
    strong = 0.95

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        recs = matching(lines, _LINE).select(
            "lineno", pl.col("1").cast(pl.Int64).alias("step"), to_float(pl.col("2")).alias("epoch"),
            to_float(pl.col("3")).alias("loss"), to_float(pl.col("4")).alias("avg_loss"),
            to_float(pl.col("5")).alias("lr"))
        long = (recs.unpivot(["loss", "avg_loss", "lr"], index=["lineno", "step", "epoch"], variable_name="name")
                .sort("lineno", maintain_order=True)
                .select(pl.lit(inp.run_name).alias("run"), pl.lit("train").alias("split"),
                        pl.col("name").alias("metric"), "name", "step", "epoch",
                        pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno"))
        if long.height:
            notes.append(IngestNote("inferred", "darknet prints each iteration's loss, then its own running average "
                                    "(avg_loss*.9 + loss*.1): the first is read as the loss, the second as "
                                    "avg_loss, a smoothing of it, not a second loss"))
        return last_run_result(long, lines, notes)


PARSERS = [DarknetParser()]
