"""NVIDIA NeMo 2 ``ProgressPrinter`` stdout.

Checked against ``NVIDIA/NeMo`` ``nemo/lightning/pytorch/callbacks/progress_printer.py``
(commit 8e2ee3d4, ``ProgressPrinter.on_train_batch_end`` / ``format_string``: prefix
``f"Training epoch {trainer.current_epoch}, iteration {n-1}/{self.total-1}"`` then
``f" | {metric}: {val}"`` per metric, an integer-valued float printed as an int, anything else as
``{val:.4}``; metrics are averaged over ``log_interval`` except ``global_step``) and docs/formats-reference.md
§10g. Sample::

    Training epoch 0, iteration 0/999 | lr: 1.5e-07 | global_batch_size: 256 | global_step: 0 | reduced_train_loss: 11.03 | train_step_timing in s: 3.5 | consumed_samples: 256
    Training epoch 0, iteration 1/999 | lr: 3e-07 | global_batch_size: 256 | global_step: 1 | reduced_train_loss: 10.98 | train_step_timing in s: 3.456 | consumed_samples: 512
    Validation: iteration 5/10

Axis: the ``global_step`` metric when printed, else the iteration. ``reduced_train_loss`` is
``train``/``loss``; ``val_loss`` (when a user adds it to the printed metrics) ``val``/``loss``;
``train_step_timing in s`` is ``step_time_s``. ``Validation:`` progress lines hold no values.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, map_keys, read_text_lines, split_pairs
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, split_and_metric

_LINE = r"^Training epoch (\d+), iteration (\d+)/(\d+)((?: \| [^|:]+: [^|]*)*)\s*$"
_SNIFF = re.compile(r"^Training epoch \d+, iteration \d+/\d+ \| ", re.M)
_AXIS = {"global_step", "epoch"}


def classify(key: str) -> tuple[str, str] | None:
    k = key.strip()
    if k in _AXIS:
        return None
    if k in ("reduced_train_loss", "train_loss"):
        return "train", "loss"
    if k == "train_step_timing in s":
        return "train", "step_time_s"
    return split_and_metric(k)


class NemoParser(Parser):
    name = "nemo"
    title = "NVIDIA NeMo 2 ProgressPrinter stdout"
    recognises = "'Training epoch E, iteration N/M | key: value | ...' lines"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _SNIFF, strong=0.9, weak=0.75)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        recs = (
            lines.filter(line.str.starts_with("Training epoch "))
            .select("lineno", line.str.extract_groups(_LINE).alias("_g"))
            .unnest("_g")
            .select("lineno", pl.col("1").cast(pl.Float64, strict=False).alias("epoch"),
                    pl.col("2").cast(pl.Int64, strict=False).alias("iteration"),
                    pl.col("3").cast(pl.Int64, strict=False).alias("_total"),
                    pl.col("4").str.strip_chars_start(" |").alias("body"))
            .filter(pl.col("iteration").is_not_null())
        )
        kv = split_pairs(recs.select("lineno", "body"), "body", item_sep=" | ", kv_sep=": ")
        gstep = kv.filter(pl.col("key") == "global_step").select(
            "lineno", to_float(pl.col("raw")).cast(pl.Int64, strict=False).alias("_g"))
        axis = recs.join(gstep, on="lineno", how="left").select(
            "lineno", pl.coalesce("_g", "iteration").alias("step"), "epoch")
        keymap = map_keys(kv.get_column("key").unique(maintain_order=True).to_list(), classify)
        mapping = pl.DataFrame({"key": list(keymap), "split": [v[0] for v in keymap.values()],
                                "metric": [v[1] for v in keymap.values()]},
                               schema={"key": pl.String, "split": pl.String, "metric": pl.String})
        long = kv.join(mapping, on="key", how="inner").join(axis, on="lineno", how="left").select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"), "step", "epoch",
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), to_float(pl.col("raw")).alias("value"), "lineno",
        ).sort("lineno", maintain_order=True)
        meta: dict[str, object] = {}
        total = recs.get_column("_total").max()
        if total is not None:
            meta["total_steps"] = int(total) + 1  # type: ignore[operator]
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [NemoParser()]
