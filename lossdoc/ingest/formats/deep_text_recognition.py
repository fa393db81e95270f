"""clovaai/deep-text-recognition-benchmark ``log_train.txt`` (and its forks: scene-text and OCR trainers).

Checked with the search tool against ``clovaai/deep-text-recognition-benchmark`` ``train.py``
(docs/formats-reference.md §10k). The current
version (commit 63a3702) writes, every ``--valInterval`` iterations (and after the first)::

    loss_log = f'[{iteration+1}/{opt.num_iter}] Train loss: {loss_avg.val():0.5f}, Valid loss: {valid_loss:0.5f}, Elapsed_time: {elapsed_time:0.5f}'
    current_model_log = f'{"Current_accuracy":17s}: {current_accuracy:0.3f}, {"Current_norm_ED":17s}: {current_norm_ED:0.2f}'
    best_model_log = f'{"Best_accuracy":17s}: {best_accuracy:0.3f}, {"Best_norm_ED":17s}: {best_norm_ED:0.2f}'

then a table of five predictions. The first version (commit 1c6efa5) wrote
``[{i}/{opt.num_iter}] Loss: {..:0.5f} elapsed_time: {..:0.5f}``, five ``pred, gt: ..`` lines, then
``[{i}/{opt.num_iter}] valid loss: {..:0.5f} accuracy: {..:0.3f}, norm_ED: {..:0.2f}`` and a
``best_accuracy: .., best_norm_ED: ..`` line. Sample::

    [1/200000] Train loss: 0.00023, Valid loss: 0.00622, Elapsed_time: 3.53794
    Current_accuracy : 96.083, Current_norm_ED  : 0.39
    Best_accuracy    : 96.083, Best_norm_ED     : 0.39

Read: the training loss (the mean over the iterations since the last log), the validation loss, accuracy
(in percent, as logged) and normalised edit distance, at the iteration ``N`` of ``[N/M]`` (``M`` is
``meta["total_steps"]``); ``Elapsed_time`` is the wall time. The ``Best_*`` lines are running bests of the
validation values (derived, not read); the prediction tables are not metrics.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import finish
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

_N = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))"
_NEW = rf"^\[(\d+)/(\d+)\] Train loss: {_N}, Valid loss: {_N}, Elapsed_time: {_N}"
_CURRENT = rf"^Current_accuracy\s*: {_N}, Current_norm_ED\s*: {_N}"
_OLD_TRAIN = rf"^\[(\d+)/(\d+)\] Loss: {_N} elapsed_time: {_N}"
_OLD_VALID = rf"^\[(\d+)/(\d+)\] valid loss: {_N} accuracy: {_N}, norm_ED: {_N}"
_SNIFF = re.compile(r"^\[\d+/\d+\] (?:Train loss: \S+, Valid loss: \S+, Elapsed_time|valid loss: \S+ accuracy: \S+, "
                    r"norm_ED|Loss: \S+ elapsed_time): ", re.M)


class DeepTextRecognitionParser(LineParser):
    name = "deep-text-recognition"
    title = "clovaai deep-text-recognition-benchmark log_train.txt"
    recognises = ("'[N/M] Train loss: X, Valid loss: Y, Elapsed_time: Z' with 'Current_accuracy : A, Current_norm_ED : B' "
                  "lines (and the first version's '[N/M] Loss: X elapsed_time: Z' / '[N/M] valid loss: ...')")
    priority = 30
    sniff_pattern = _SNIFF
    strong = 0.95
    weak = 0.7

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        line = pl.col("line")
        # every record's step; a Current_accuracy line belongs to the [N/M] line before it
        lines = lines.with_columns(
            line.str.extract(r"^\[(\d+)/\d+\] ", 1).cast(pl.Int64, strict=False).alias("_n"),
            line.str.extract(r"^\[\d+/(\d+)\] ", 1).cast(pl.Int64, strict=False).alias("_m"),
        ).with_columns(pl.col("_n").forward_fill().alias("step"))
        parts: list[pl.DataFrame] = []

        def take(pattern: str, cols: list[tuple[int, str, str, str]], wall: int | None = None) -> None:
            hit = (lines.with_columns(line.str.extract_groups(pattern).alias("_g")).unnest("_g")
                   .filter(pl.col("1").is_not_null()))
            wt = to_float(pl.col(str(wall))) if wall else pl.lit(None, dtype=pl.Float64)
            for idx, split, metric, name in cols:
                parts.append(hit.select(
                    "lineno", "step", pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                    pl.lit(name).alias("name"), wt.alias("wall_time"), to_float(pl.col(str(idx))).alias("value")))

        take(_NEW, [(3, "train", "loss", "Train loss"), (4, "val", "loss", "Valid loss")], wall=5)
        take(_CURRENT, [(1, "val", "accuracy", "Current_accuracy"), (2, "val", "norm_ed", "Current_norm_ED")])
        take(_OLD_TRAIN, [(3, "train", "loss", "Loss")], wall=4)
        take(_OLD_VALID, [(3, "val", "loss", "valid loss"), (4, "val", "accuracy", "accuracy"),
                          (5, "val", "norm_ed", "norm_ED")])
        long = pl.concat(parts).sort("lineno", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step",
            pl.lit(None, dtype=pl.Float64).alias("epoch"), "wall_time", "value", "lineno")
        meta: dict[str, object] = {}
        total = lines.get_column("_m").max()
        if total is not None:
            meta["total_steps"] = int(total)  # type: ignore[arg-type]
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [DeepTextRecognitionParser()]
