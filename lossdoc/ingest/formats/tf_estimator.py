"""TensorFlow Estimator / ``tf.compat.v1`` training logs: ``LoggingTensorHook`` loss lines and evaluation dicts.

Checked with the search tool against ``tensorflow/tensorflow``
``tensorflow/python/training/basic_session_run_hooks.py``: ``LoggingTensorHook._log_tensors`` logs
``"%s = %s" % (tag, value)`` for each tensor, joined by ``", "``, followed by ``" (%.3f sec)"`` once a
previous trigger exists (not on the first line). ``Estimator.train`` hooks it with the tensors
``{'loss': loss, 'step': global_step}``, so the lines read ``loss = 1.0218862, step = 0`` then
``loss = 0.5186956, step = 100 (162.563 sec)``; with ``tf.logging`` they carry the ``INFO:tensorflow:`` prefix,
with absl an ``I1206 12:00:00.1 123 basic_session_run_hooks.py:262] `` prefix. ``StepCounterHook`` logs
``global_step/sec: 0.615146`` (throughput, not read). ``estimator.py`` ``_write_dict_to_summary`` logs
``'Saving dict for global step %d: %s'`` with ``k = v, k = v`` of the evaluation metrics (``loss`` is the mean
evaluation loss; ``global_step`` is skipped): those are validation values at that step. Sample::

    INFO:tensorflow:loss = 1.0218862, step = 0
    INFO:tensorflow:global_step/sec: 0.615146
    INFO:tensorflow:loss = 0.5186956, step = 100 (162.563 sec)
    INFO:tensorflow:Saving dict for global step 5468: eval_accuracy = 0.8500477, eval_loss = 0.7216634, global_step = 5468, loss = 0.7218847
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import (
    dedupe_metrics,
    regex_pairs, last_run_result)
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import LOG_NUMBER, matching, to_float
from lossdoc.model import (
    IngestNote,
    ParseResult,
    canonical_metric,
    snake_case,
    split_and_metric,
)

_NUM = LOG_NUMBER
#: the hook's line after the logger's prefix (``INFO:tensorflow:`` or absl's ``...py:262] ``)
_PREFIX = r"(?:INFO:tensorflow:|\.py:\d+\] )"
_LOSS = rf"{_PREFIX}loss = ({_NUM}), step = (\d+)(?: \([\d.]+ sec\))?\s*$"
_EVAL = rf"{_PREFIX}Saving dict for global step (\d+): (.*)$"
_EVAL_PAIR = rf"([A-Za-z_][\w/.\-]*) = ({_NUM})\b"
_SNIFF = re.compile(rf"{_PREFIX}loss = {_NUM}, step = \d+")


class TfEstimatorParser(LineParser):
    name = "tf-estimator"
    title = "TensorFlow Estimator / tf.compat.v1 training log (LoggingTensorHook)"
    recognises = "'INFO:tensorflow:loss = 1.02, step = 100 (162.5 sec)' lines, with 'Saving dict for global step N: ...' evaluations"
    priority = 30
    sniff_pattern = _SNIFF

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        train = (matching(lines, _LOSS)
                 .select("lineno", pl.lit("train").alias("split"), pl.lit("loss").alias("metric"),
                         pl.lit("loss").alias("name"), pl.col("2").cast(pl.Int64).alias("step"),
                         to_float(pl.col("1")).alias("value")))
        ev = regex_pairs(matching(lines, _EVAL).with_columns(pl.col("1").cast(pl.Int64).alias("step")), "2", _EVAL_PAIR,
                         ["lineno", "step"]).filter(pl.col("name") != "global_step")
        frames = [train]
        if ev.height:
            names = ev.get_column("name").unique(maintain_order=True).to_list()
            # 'loss' is the Estimator's own mean evaluation loss; a model's 'eval_loss' comes second
            order = sorted(names, key=lambda n: n != "loss")
            metric = dedupe_metrics((n, "val", canonical_metric(split_and_metric(snake_case(n))[1])) for n in order)
            ev = ev.select("lineno", pl.lit("val").alias("split"),
                           pl.col("name").replace_strict({n: m for n, (_, m) in metric.items()}, return_dtype=pl.String)
                           .alias("metric"), "name", "step", "value")
            frames.append(ev)
        long = pl.concat(frames, how="vertical_relaxed").sort("lineno", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step",
            pl.lit(None, dtype=pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            "value", "lineno")
        return last_run_result(long, lines, notes)


PARSERS = [TfEstimatorParser()]
