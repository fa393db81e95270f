"""fairseq ``fairseq-train`` logs, ``--log-format simple`` and ``json``.

Checked against FORMATS.md §8 (``facebookresearch/fairseq``
``fairseq/logging/progress_bar.py`` ``SimpleProgressBar.log`` / ``print``,
``JsonProgressBar.log`` / ``print``, ``format_stat``; ``fairseq_cli/train.py`` ``train`` /
``validate``; ``fairseq/criterions/cross_entropy.py`` ``reduce_metrics``). Sample (simple)::

    2024-03-01 10:00:00 | INFO | train_inner | epoch 001:    100 / 1563 loss=9.812, nll_loss=9.706, ppl=835.12, num_updates=100, lr=1.25e-05, gnorm=2.114
    2024-03-01 10:11:30 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 8.534 | nll_loss 8.401 | ppl 338.12 | num_updates 1563
    2024-03-01 10:11:45 | INFO | train | epoch 001 | loss 10.345 | nll_loss 10.233 | ppl 1203.45 | num_updates 1563 | lr 0.000195375

and (json)::

    2024-03-01 10:00:00 | INFO | train_inner | {"epoch": 1, "update": 0.064, "loss": "9.812", "num_updates": "100", "lr": "1.25e-05"}
    2024-03-01 10:22:58 | INFO | valid | {"epoch": 2, "valid_loss": "7.912", "valid_ppl": "221.03", "valid_num_updates": "3126"}

Axis: ``num_updates`` (optimizer updates); ``epoch`` fractional for ``train_inner`` records.
fairseq's cross-entropy losses are in **bits** (base 2; ``ppl = 2 ** nll_loss``): values are kept
exactly as logged and ``meta["loss_base"] = 2`` says so. ``train_inner`` records are the
training curve (``train``/``loss``); the end-of-epoch ``train`` summary is ``train``/``epoch_loss``
(etc.) when inner records exist, else ``train``/``loss``; validation records go to ``val``
(``test`` for subsets named ``test*``), with the subset name prefixed to the metric for a
second validation subset. Gradient-overflow notes are counted in a note.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, json_pairs, read_text_lines, strip_quotes
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric

_PREFIX = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| [A-Z]+ \| (\S+) \| (.*)$"
_INNER = r"^epoch (\d+):\s+(\d+) / (\d+) (.*)$"
_PRINT = r"^epoch (\d+) \| (.*)$"
_KV_EQ = r"([A-Za-z_][\w]*)=([^,\s]+)"
_KV_BAR = r"(?:^|\| )([A-Za-z_][\w]*) ([^|\s]+)(?: |$)"
_SUBSET = r"valid on '([^']+)' subset"
_SNIFF = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| [A-Z]+ \| (?:train_inner \| (?:epoch \d+:\s+\d+ / \d+ |\{\"epoch\")"
    r"|\S+ \| epoch \d+ \| valid on '[^']+' subset|train \| epoch \d+ \| loss "
    r"|\S+ \| \{\"epoch\": \d+, \"\w+_(?:loss|nll_loss)\": )",
    re.M,
)
_AXIS = {"num_updates", "epoch", "update"}


def _metric(key: str) -> str:
    return canonical_metric(key)


def _split_of(subset: str) -> str:
    return "test" if subset.lower().startswith("test") else "val"


class FairseqParser(Parser):
    name = "fairseq"
    title = "fairseq-train log (simple / json)"
    recognises = "'| INFO | train_inner | epoch 001: ...' / \"| valid | ... valid on 'valid' subset\" / json records"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        n = len(_SNIFF.findall(inp.head_text()))
        if n >= 2:
            return 0.95
        return 0.8 if n else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        overflow = lines.filter(line.str.contains("gradient overflow detected", literal=True)).height
        recs = (
            lines.select(
                "lineno",
                line.str.extract(_PREFIX, 1).alias("ts"),
                line.str.extract(_PREFIX, 2).alias("tag"),
                line.str.extract(_PREFIX, 3).alias("msg"),
            )
            .filter(pl.col("tag").is_not_null())
            .with_columns(
                pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.epoch("s").cast(pl.Float64)
                .alias("wall_time")
            )
        )
        msg = pl.col("msg")
        is_json = msg.str.starts_with("{")
        recs = recs.with_columns(
            is_json.alias("json"),
            pl.when(pl.col("tag") == "train_inner").then(pl.lit("inner"))
            .when(pl.col("tag") == "train").then(pl.lit("train"))
            .when(msg.str.contains(_SUBSET) | (is_json & msg.str.contains('"epoch"', literal=True)))
            .then(pl.lit("valid")).otherwise(None).alias("kind"),
        ).filter(pl.col("kind").is_not_null())
        # Valid subset: the message names it (simple), or the tag is the subset name (json).
        recs = recs.with_columns(
            pl.when(pl.col("kind") == "valid")
            .then(pl.coalesce(msg.str.extract(_SUBSET, 1), pl.col("tag"))).otherwise(None).alias("subset")
        )
        simple = recs.filter(~pl.col("json"))
        inner = simple.filter(pl.col("kind") == "inner").with_columns(
            msg.str.extract(_INNER, 1).cast(pl.Int64, strict=False).alias("E"),
            msg.str.extract(_INNER, 2).cast(pl.Float64, strict=False).alias("i"),
            msg.str.extract(_INNER, 3).cast(pl.Float64, strict=False).alias("n"),
            msg.str.extract(_INNER, 4).alias("body"),
        )
        inner_kv = (
            inner.select("lineno", pl.col("body").str.extract_all(_KV_EQ).alias("_p")).explode("_p")
            .filter(pl.col("_p").is_not_null())
            .select("lineno", pl.col("_p").str.extract(_KV_EQ, 1).alias("key"),
                    pl.col("_p").str.extract(_KV_EQ, 2).alias("raw"))
        )
        printed = simple.filter(pl.col("kind") != "inner").with_columns(
            msg.str.extract(_PRINT, 1).cast(pl.Int64, strict=False).alias("E"),
            msg.str.extract(_PRINT, 2).str.replace(r"^valid on '[^']+' subset(?: \| |$)", "").alias("body"),
        )
        printed_kv = (
            printed.select("lineno", pl.col("body").str.extract_all(_KV_BAR).alias("_p")).explode("_p")
            .filter(pl.col("_p").is_not_null())
            .select("lineno", pl.col("_p").str.extract(_KV_BAR, 1).alias("key"),
                    pl.col("_p").str.extract(_KV_BAR, 2).alias("raw"))
        )
        js = recs.filter(pl.col("json"))
        js_kv = json_pairs(js.select("lineno", pl.col("msg").alias("line")))
        # json end-of-epoch / valid records prefix every key with the tag ("valid_loss", "train_loss").
        js_kv = js_kv.join(js.select("lineno", "tag", "kind"), on="lineno").with_columns(
            pl.when((pl.col("kind") != "inner") & pl.col("key").str.starts_with(pl.col("tag") + "_"))
            .then(pl.col("key").str.slice(pl.col("tag").str.len_chars() + 1))
            .otherwise(pl.col("key")).alias("bare"),
        )
        kv = pl.concat(
            [
                inner_kv.with_columns(pl.col("key").alias("bare")),
                printed_kv.with_columns(pl.col("key").alias("bare")),
                js_kv.select("lineno", "key", "raw", "bare"),
            ],
            how="vertical_relaxed",
        ).with_columns(strip_quotes(pl.col("raw")).alias("raw"))
        # Per-record axis: num_updates, and epoch (fractional for inner records).
        upd = kv.filter(pl.col("bare") == "num_updates").group_by("lineno").agg(
            to_float(pl.col("raw").first()).cast(pl.Int64, strict=False).alias("step"))
        js_epoch = kv.filter(pl.col("key").is_in(["epoch", "update"])).pivot(
            on="key", index="lineno", values="raw", aggregate_function="first") if js.height else None
        axis = recs.select("lineno", "kind", "subset", "wall_time").join(upd, on="lineno", how="left")
        axis = axis.join(inner.select("lineno", (pl.col("E") - 1 + pl.col("i") / pl.col("n")).alias("_e1")),
                         on="lineno", how="left")
        axis = axis.join(printed.select("lineno", pl.col("E").cast(pl.Float64).alias("_e2")), on="lineno", how="left")
        if js_epoch is not None:
            for k in ("epoch", "update"):
                if k not in js_epoch.columns:
                    js_epoch = js_epoch.with_columns(pl.lit(None, dtype=pl.String).alias(k))
            axis = axis.join(
                js_epoch.select("lineno", pl.coalesce(pl.col("update").cast(pl.Float64, strict=False),
                                                      pl.col("epoch").cast(pl.Float64, strict=False)).alias("_e3")),
                on="lineno", how="left")
        else:
            axis = axis.with_columns(pl.lit(None, dtype=pl.Float64).alias("_e3"))
        axis = axis.with_columns(pl.coalesce("_e1", "_e2", "_e3").alias("epoch")).drop("_e1", "_e2", "_e3")
        has_inner = axis.filter(pl.col("kind") == "inner").height > 0
        subsets = [s for s in axis.get_column("subset").drop_nulls().unique(maintain_order=True).to_list()]
        first_by_split: dict[str, str] = {}
        for s in subsets:
            first_by_split.setdefault(_split_of(s), s)
        long = kv.filter(~pl.col("bare").is_in(list(_AXIS))).join(axis, on="lineno", how="inner")
        # (kind, subset, bare key) -> (split, metric), computed on the few distinct combinations.
        combos = long.select("kind", "subset", "bare").unique(maintain_order=True)
        split_col, metric_col = [], []
        for kind, subset, bare in combos.iter_rows():
            m = _metric(bare)
            if kind == "inner":
                split_col.append("train")
                metric_col.append(m)
            elif kind == "train":
                split_col.append("train")
                metric_col.append(f"epoch_{m}" if has_inner else m)
            else:
                sp = _split_of(subset or "valid")
                split_col.append(sp)
                metric_col.append(m if first_by_split.get(sp) == subset else f"{subset}_{m}")
        mapping = combos.with_columns(pl.Series("split", split_col, dtype=pl.String),
                                      pl.Series("metric", metric_col, dtype=pl.String))
        long = long.join(mapping, on=["kind", "subset", "bare"], how="left", nulls_equal=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"), "step", "epoch",
            "wall_time", to_float(pl.col("raw")).alias("value"), "lineno",
        ).sort("lineno", maintain_order=True)
        if overflow:
            notes.append(IngestNote("other", f"{overflow} gradient overflow(s) detected (fp16): those updates were "
                                             "skipped and the loss scale reduced", count=overflow))
        meta = {"loss_base": 2, "x_axis": "num_updates"}
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [FairseqParser()]
