"""fairseq ``fairseq-train`` logs, ``--log-format simple`` and ``json``.

Checked against docs/formats-reference.md §8 (``facebookresearch/fairseq``
``fairseq/logging/progress_bar.py`` ``SimpleProgressBar.log`` / ``print``,
``JsonProgressBar.log`` / ``print``, ``format_stat``; ``fairseq_cli/train.py`` ``train`` /
``validate``; ``fairseq/criterions/cross_entropy.py`` ``reduce_metrics``). Sample (simple)::

    2024-03-01 10:00:00 | INFO | train_inner | epoch 001:    100 / 1563 loss=9.812, nll_loss=9.706, ppl=835.12, num_updates=100, lr=1.25e-05, gnorm=2.114
    2024-03-01 10:11:30 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 8.534 | nll_loss 8.401 | ppl 338.12 | num_updates 1563
    2024-03-01 10:11:45 | INFO | train | epoch 001 | loss 10.345 | nll_loss 10.233 | ppl 1203.45 | num_updates 1563 | lr 0.000195375

and (json)::

    2024-03-01 10:00:00 | INFO | train_inner | {"epoch": 1, "update": 0.064, "loss": "9.812", "num_updates": "100", "lr": "1.25e-05"}
    2024-03-01 10:22:58 | INFO | valid | {"epoch": 2, "valid_loss": "7.912", "valid_ppl": "221.03", "valid_num_updates": "3126"}

``fairseq-hydra-train`` writes the same records behind hydra's prefix (``hydra_train.log``)::

    [2021-03-04 11:17:20,118][train_inner][INFO] - {"epoch": 1, "update": 0.05, "loss": "15.947", "num_updates": "100"}
    [2021-03-04 11:20:01,300][valid][INFO] - {"epoch": 1, "valid_loss": "8.0", "valid_num_updates": "1000"}

Axis: ``num_updates`` (optimizer updates); ``epoch`` fractional for ``train_inner`` records;
``wall_time`` is the logging timestamp read as UTC (the log does not say its time zone). Logs of
fairseq < 0.10, printed without the logging prefix (``| epoch 001:    100 / 1563 loss=...``), are
read the same way, without ``wall_time``.
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

from lossdoc.ingest.formats._common import drop_torn_tail, finish, json_pairs, read_text_lines, split_pairs
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric

_PREFIX = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| [A-Z]+ \| (\S+) \| (.*)$"
#: fairseq >= 0.10 run through hydra (``fairseq-hydra-train``, ``hydra_train.log``): hydra's logging prefix
_HYDRA_PREFIX = r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:[,.]\d+)?\]\[([^\]\s]+)\]\[[A-Z]+\] - (.*)$"
_HYDRA_SNIFF = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:[,.]\d+)?\]\[([^\]\s]+)\]\[([A-Z]+)\] - ", re.M)
_INNER_HEAD = r"^(epoch (\d+):\s+(\d+) / (\d+) )"
_PRINT = r"^epoch (\d+) \| (.*)$"
_SUBSET = r"valid on '([^']+)' subset"
_SNIFF = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| [A-Z]+ \| (?:train_inner \| (?:epoch \d+:\s+\d+ / \d+ |\{\"epoch\")"
    r"|\S+ \| epoch \d+ \| valid on '[^']+' subset|train \| epoch \d+ \| loss "
    r"|\S+ \| \{\"epoch\": \d+, \"\w+_(?:loss|nll_loss)\": )",
    re.M,
)
_SNIFF_LEGACY = re.compile(r"^\| epoch \d{3}(?::\s+\d+ / \d+ loss=| \| valid on '[^']+' subset \| loss )", re.M)
_AXIS = {"num_updates", "epoch", "update"}


def _metric(key: str) -> str:
    return canonical_metric(key)


def _split_of(subset: str) -> str:
    return "test" if subset.lower().startswith("test") else "val"


class FairseqParser(Parser):
    name = "fairseq"
    title = "fairseq-train log (simple / json)"
    recognises = ("'| INFO | train_inner | epoch 001: ...' / \"| valid | ... valid on 'valid' subset\" / json records; "
                  "hydra_train.log ('[ts][train_inner][INFO] - {...}')")
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        if "][INFO] - " in head:
            head = _HYDRA_SNIFF.sub(r"\1 | \3 | \2 | ", head)
        n = len(_SNIFF.findall(head)) + len(_SNIFF_LEGACY.findall(head))
        if n >= 2:
            return 0.95
        return 0.8 if n else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        overflow = lines.filter(line.str.contains("gradient overflow detected", literal=True)).height
        hydra = lines.filter(line.str.starts_with("[") & line.str.contains("] - ", literal=True)).select(
            "lineno", line.str.extract_groups(_HYDRA_PREFIX).alias("_g")).unnest("_g")
        recs = (
            pl.concat([
                lines.filter(line.str.contains(" | ", literal=True))
                .select("lineno", line.str.extract_groups(_PREFIX).alias("_g")).unnest("_g"),
                hydra.filter(pl.col("2").is_not_null()),
            ]).sort("lineno")
            .rename({"1": "ts", "2": "tag", "3": "msg"})
            .filter(pl.col("tag").is_not_null())
            .with_columns(
                pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.epoch("s").cast(pl.Float64)
                .alias("wall_time"),
                pl.col("msg").str.starts_with("{").alias("json"),
            )
            .drop("ts")
        )
        # fairseq < 0.10 printed without the logging prefix: '| epoch 001:    100 / 1563 loss=...'.
        legacy = lines.filter(line.str.starts_with("| epoch ")).select(
            "lineno",
            pl.when(line.str.contains(_SUBSET)).then(pl.lit("valid"))
            .when(line.str.contains(r"^\| epoch \d+:")).then(pl.lit("train_inner"))
            .otherwise(pl.lit("train")).alias("tag"),
            line.str.slice(2).alias("msg"),
            pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            pl.lit(False).alias("json"),
        )
        if legacy.height:
            recs = pl.concat([recs, legacy.select(recs.columns)], how="vertical_relaxed").sort("lineno")
        msg = pl.col("msg")
        is_inner = pl.col("tag") == "train_inner"
        # --- the bulk: mid-epoch train_inner records ---
        inner_s = recs.filter(is_inner & ~pl.col("json"))
        hdr = inner_s.select(msg.str.extract_groups(_INNER_HEAD).alias("_h")).unnest("_h")
        inner_s = inner_s.with_columns(
            msg.str.slice(hdr.get_column("1").str.len_chars().fill_null(0)).alias("body"),
            (hdr.get_column("2").cast(pl.Float64, strict=False) - 1
             + hdr.get_column("3").cast(pl.Float64, strict=False) / hdr.get_column("4").cast(pl.Float64, strict=False))
            .alias("epoch"),
            msg.str.extract(r"num_updates=(\d+)", 1).cast(pl.Int64, strict=False).alias("step"),
        ).filter(pl.col("epoch").is_not_null())
        inner_kv = split_pairs(inner_s.select("lineno", "step", "epoch", "wall_time", "body"), "body",
                               item_sep=", ", kv_sep="=").with_columns(
            pl.lit("inner").alias("kind"), pl.lit(None, dtype=pl.String).alias("subset"))
        # --- end-of-epoch train summaries and validation records (few lines) ---
        other = recs.filter(~is_inner)
        other = other.with_columns(
            pl.when(pl.col("tag") == "train").then(pl.lit("train"))
            .when(msg.str.contains(_SUBSET) | (pl.col("json") & msg.str.contains('"epoch"', literal=True)))
            .then(pl.lit("valid")).otherwise(None).alias("kind"),
        ).filter(pl.col("kind").is_not_null()).with_columns(
            pl.when(pl.col("kind") == "valid")
            .then(pl.coalesce(msg.str.extract(_SUBSET, 1), pl.col("tag"))).otherwise(None).alias("subset")
        )
        printed = other.filter(~pl.col("json")).with_columns(
            msg.str.extract(_PRINT, 1).cast(pl.Float64, strict=False).alias("epoch"),
            msg.str.extract(r"\| num_updates (\d+)", 1).cast(pl.Int64, strict=False).alias("step"),
            msg.str.extract(_PRINT, 2).str.replace(r"^valid on '[^']+' subset(?: \| |$)", "").alias("body"),
        )
        printed_kv = split_pairs(
            printed.select("lineno", "step", "epoch", "wall_time", "kind", "subset", "body"), "body",
            item_sep=" | ", kv_sep=" ")
        # --- json records (inner and summaries) ---
        js = pl.concat([recs.filter(is_inner & pl.col("json")).with_columns(
                            pl.lit("inner").alias("kind"), pl.lit(None, dtype=pl.String).alias("subset")),
                        other.filter(pl.col("json"))], how="vertical_relaxed")
        js = js.with_columns(
            msg.str.extract(r'"(?:\w+_)?num_updates": "?(\d+)', 1).cast(pl.Int64, strict=False).alias("step"),
            pl.coalesce(msg.str.extract(r'"update": ([-+\d.eE]+)', 1).cast(pl.Float64, strict=False),
                        msg.str.extract(r'"epoch": (\d+)', 1).cast(pl.Float64, strict=False)).alias("epoch"),
        )
        js_kv = json_pairs(js.select("lineno", "step", "epoch", "wall_time", "kind", "subset", "tag",
                                     pl.col("msg").alias("line")))
        # summaries and validation prefix every key with the tag ("valid_loss", "train_loss")
        js_kv = js_kv.with_columns(
            pl.when((pl.col("kind") != "inner") & pl.col("key").str.starts_with(pl.col("tag") + "_"))
            .then(pl.col("key").str.slice(pl.col("tag").str.len_chars() + 1))
            .otherwise(pl.col("key")).alias("bare"),
        ).drop("tag")
        cols = ["lineno", "step", "epoch", "wall_time", "kind", "subset", "key", "bare", "raw"]
        kv = pl.concat(
            [inner_kv.with_columns(pl.col("key").alias("bare")).select(cols),
             printed_kv.with_columns(pl.col("key").alias("bare")).select(cols),
             js_kv.select(cols)],
            how="vertical_relaxed",
        ).filter(~pl.col("bare").is_in(list(_AXIS)))
        has_inner = inner_s.height > 0 or js.filter(pl.col("kind") == "inner").height > 0
        subsets = other.get_column("subset").drop_nulls().unique(maintain_order=True).to_list()
        first_by_split: dict[str, str] = {}
        for sub in subsets:
            first_by_split.setdefault(_split_of(sub), sub)
        # (kind, subset, bare key) -> (split, metric), decided on the few distinct combinations.
        combos = kv.select("kind", "subset", "bare").unique(maintain_order=True)
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
        long = kv.join(mapping, on=["kind", "subset", "bare"], how="left", nulls_equal=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"), "step", "epoch",
            "wall_time", to_float(pl.col("raw")).alias("value"), "lineno",
        ).sort("lineno", maintain_order=True)
        if overflow:
            notes.append(IngestNote("other", f"{overflow} gradient overflow(s) detected (fp16): those updates were "
                                             "skipped and the loss scale reduced", count=overflow))
        meta = {"loss_base": 2, "x_axis": "num_updates"}
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [FairseqParser()]
