"""MindSpore console output: ``LossMonitor`` lines (and the same print in MindSpore's tutorials and model zoo).

Checked with the search tool (docs/formats-reference.md §10j) against ``mindspore-ai/mindspore``
``mindspore/python/mindspore/train/callback/_loss_monitor.py``: ``step_end`` prints
``"epoch: %s step: %s, loss is %s" % (cb_params.cur_epoch_num, cur_step_in_epoch, loss)`` where
``cur_step_in_epoch = (cb_params.cur_step_num - 1) % cb_params.batch_num + 1`` (both 1-based, the step
counted within the epoch) every ``per_print_times`` steps, and ``on_train_epoch_end`` (``model.fit`` with
an evaluation set) prints ``"Eval result: epoch %d, metrics: %s" % (cb_params.cur_epoch_num, metrics)``
with the metrics dict. Model-zoo callbacks add ``global_step: N`` after the step; the tutorials print
``"epoch: %s, step: %s, loss is %s"`` (0-based, with commas). Sample::

    epoch: 1 step: 2502, loss is 6.500506401062012
    Train epoch time: 2234463.234 ms, per step time: 893.071 ms
    Eval result: epoch 1, metrics: {'accuracy': 0.5412, 'loss': 1.2107}

The step is ``global_step`` where printed; else a step counter that restarts every epoch is combined with
the epoch (``(epoch - e0) x per-epoch + step``, the steps per epoch estimated from the largest step seen,
noted); a counter that never restarts is the step. Evaluation results sit at the last step of their epoch
(the latest training step when the steps are not per epoch). A loss printed as something other than a
number (a tuple of tensors) is skipped and counted.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import last_run_result, regex_pairs
from lossdoc.ingest.formats._epoch_counter import epoch_counter, restarts
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import LOG_NUMBER, matching, to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric, split_and_metric, snake_case

_NUM = LOG_NUMBER
_LOSS = r"\bepoch:\s*(\d+),?\s+step:\s*(\d+),?\s+(?:global_step:\s*(\d+),?\s+)?loss is\s+(\S+)"
_EVAL = r"\bEval result: epoch (\d+), metrics: (\{.*\})"
_EVAL_PAIR = rf"'([^']+)':\s*({_NUM})"
_SNIFF = re.compile(r"\bepoch:\s*\d+,?\s+step:\s*\d+,?\s+(?:global_step:\s*\d+,?\s+)?loss is\s+[-+\d.naiINT(]")


class MindSporeParser(LineParser):
    name = "mindspore"
    title = "MindSpore LossMonitor console output"
    recognises = "'epoch: 1 step: 2502, loss is 6.5005' lines (LossMonitor), with 'Eval result: epoch 1, metrics: {...}'"
    priority = 30
    sniff_pattern = _SNIFF

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        recs = (matching(lines, _LOSS)
                .select("lineno", pl.col("1").cast(pl.Float64).alias("epoch"), pl.col("2").cast(pl.Int64).alias("_s"),
                        pl.col("3").cast(pl.Int64, strict=False).alias("_g"), pl.col("4").alias("raw")))
        recs = recs.with_columns(to_float(pl.col("raw").str.strip_chars_end(",")).alias("value"))
        bad = recs.filter(pl.col("value").is_null())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} LossMonitor line(s) whose loss is not a number "
                                    f"(first: {bad.get_column('raw')[0][:30]!r}); skipped",
                                    line=int(bad.get_column("lineno")[0]), count=bad.height))
            recs = recs.filter(pl.col("value").is_not_null())
        ec = None
        if recs.height and recs.get_column("_g").null_count() == 0:
            recs = recs.with_columns(pl.col("_g").alias("step"))
        else:
            r = restarts(recs, "_s", "epoch")
            if r.per_epoch:
                ec = epoch_counter(recs.get_column("_s"), recs.get_column("epoch"), "step")
                recs = recs.with_columns(ec.step(pl.col("_s"), pl.col("epoch")).round(0).cast(pl.Int64).alias("step"))
                notes.append(ec.note())
            else:
                recs = recs.with_columns(pl.col("_s").alias("step"))
        train = recs.select("lineno", pl.lit("train").alias("split"), pl.lit("loss").alias("metric"),
                            pl.lit("loss").alias("name"), "step", "epoch", "value")
        ev = regex_pairs(matching(lines, _EVAL).with_columns(pl.col("1").cast(pl.Float64).alias("epoch")), "2",
                         _EVAL_PAIR, ["lineno", "epoch"])
        if ev.height:
            if ec is not None:
                ev = ev.with_columns(ec.epoch_end(pl.col("epoch")).round(0).cast(pl.Int64).alias("step"))
            else:  # the latest training step before the line
                ev = ev.sort("lineno").join_asof(train.select("lineno", "step").sort("lineno"), on="lineno")
            names = ev.get_column("name").unique(maintain_order=True).to_list()
            metric = {n: canonical_metric(split_and_metric(snake_case(n))[1]) for n in names}
            ev = ev.select("lineno", pl.lit("val").alias("split"),
                           pl.col("name").replace_strict(metric, return_dtype=pl.String).alias("metric"),
                           "name", "step", "epoch", "value")
        frames = [train] + ([ev] if ev.height else [])
        long = pl.concat(frames, how="vertical_relaxed").sort("lineno", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step", "epoch",
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno")
        return last_run_result(long, lines, notes)


PARSERS = [MindSporeParser()]
