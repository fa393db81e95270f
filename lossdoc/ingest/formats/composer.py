"""Composer / LLM Foundry ``ConsoleLogger`` output.

Checked against ``mosaicml/composer`` ``composer/loggers/console_logger.py`` (commit 02c872e4,
``ConsoleLogger.log_to_console``: a header, ``':'`` when there is data, then
``f'\\n\\t {prefix}{data_name}: {data_str}'`` per metric with prefix ``Train `` or ``Eval ``;
``_get_progress_string``: ``[epoch={e}][batch={b}/{n}]`` when the duration is in epochs (``b`` is
the batch within the epoch), else ``[{unit}={cur}/{total}]``; ``_get_eval_progress_string``:
``[Eval batch={b}/{n}] Eval on {label} data``) and docs/formats-reference.md §10f
(``format_log_data_value``: floats ``{:.4f}``). Sample::

    [batch=100/4800]:
    \t Train loss/train/total: 4.1234
    \t Train lr-DecoupledAdamW/group0: 0.0002

Records span several lines; the header's step is forward-filled over the metric lines with
polars (no per-line loop). Step: the global batch (``(epoch - 1) * n + b`` for epoch headers,
``b`` for ``[batch=b/n]``); for other units (``token``, ``sample``) the ``Train time/batch`` value
of the block when logged, else the header's count with a note. ``Eval`` metrics take the step of
the last training header before them. Names: ``loss/train/total`` -> ``train``/``loss``;
``metrics/train/X`` -> ``train``/``x``; ``metrics/eval/X`` -> ``val``/``x`` (another evaluator label
prefixes the metric); ``lr-<Opt>/group0`` -> ``lr`` (``lr_group1``...).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, map_keys, read_text_lines, readable_metric
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, snake_case

_HEADER = r"^(?:\[epoch=(\d+)\])?\[(batch|token|sample|iteration|epoch|duration)=(\d+)(?:/(\d+))?\]:?\s*$"
_EVAL_HEADER = r"^\[Eval batch=\d+/\d+\] Eval on (\S+) data:?\s*$"
_METRIC = r"^\t (Train|Eval) (.+?): (.*)$"
_TENSOR = r"^tensor\(\s*([^,)\s]+)"
_LR = re.compile(r"^lr-[^/]+/group(\d+)$")
_SNIFF = re.compile(r"^(?:\[epoch=\d+\])?\[(?:batch|token|sample|iteration)=\d+(?:/\d+)?\]:\s*\n\t (?:Train|Eval) ",
                    re.M)


def classify(key: str) -> tuple[str, str] | None:
    """``key`` is ``'<Train|Eval> <name>'``."""
    prefix, name = key.split(" ", 1)
    m = _LR.match(name)
    if m:
        g = int(m.group(1))
        return "train", "lr" if g == 0 else f"lr_group{g}"
    parts = name.split("/")
    default = "val" if prefix == "Eval" else "train"
    if parts[0] in ("loss", "metrics") and len(parts) >= 3:
        label = parts[1]
        split = {"train": "train", "eval": "val"}.get(label, default)
        rest = "_".join(snake_case(p) for p in parts[2:])
        if parts[0] == "loss":
            metric = "loss" if rest == "total" else f"loss_{rest}"
        else:
            metric = rest
        if label not in ("train", "eval"):
            metric = f"{snake_case(label)}_{metric}"
        return split, metric
    return default, readable_metric(name)


class ComposerParser(Parser):
    name = "composer"
    title = "Composer / LLM Foundry ConsoleLogger"
    recognises = "'[batch=N/M]:' / '[epoch=E][batch=N/M]:' headers followed by tab-indented 'Train ...: value' lines"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text().replace("\r\n", "\n")
        n = len(_SNIFF.findall(head))
        if n >= 2:
            return 0.9
        return 0.75 if n else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        h = lines.select(line.str.extract_groups(_HEADER).alias("_h")).unnest("_h")
        m = lines.select(line.str.extract_groups(_METRIC).alias("_m")).unnest("_m")
        df = lines.with_columns(
            h.get_column("1").cast(pl.Int64, strict=False).alias("_e"),
            h.get_column("2").alias("_unit"),
            h.get_column("3").cast(pl.Int64, strict=False).alias("_cur"),
            h.get_column("4").cast(pl.Int64, strict=False).alias("_tot"),
            pl.when(line.str.starts_with("[Eval ")).then(line.str.extract(_EVAL_HEADER, 1)).alias("_eval_label"),
            m.get_column("1").alias("_prefix"),
            m.get_column("2").alias("_name"),
            m.get_column("3").str.strip_chars().alias("_raw"),
        )
        is_train_header = pl.col("_unit").is_not_null()
        header_step = (
            pl.when(pl.col("_e").is_not_null() & pl.col("_tot").is_not_null())
            .then((pl.col("_e") - 1) * pl.col("_tot") + pl.col("_cur"))
            .when(pl.col("_unit").is_in(["batch", "iteration"]) | pl.col("_e").is_not_null())
            .then(pl.col("_cur"))
            .otherwise(None)
        )
        df = df.with_columns(
            # block id: increments at every header (train or eval)
            (is_train_header | pl.col("_eval_label").is_not_null()).cum_sum().alias("_block"),
            pl.when(is_train_header).then(pl.lit(True)).when(pl.col("_eval_label").is_not_null())
            .then(pl.lit(False)).otherwise(None).forward_fill().alias("_in_train"),
            pl.when(is_train_header).then(header_step).otherwise(None).alias("_hstep"),
            pl.when(is_train_header).then(pl.col("_cur")).otherwise(None).alias("_hcount"),
        )
        # The Train time/batch value of each train block (used for token/sample units).
        tb = (
            df.filter((pl.col("_prefix") == "Train") & (pl.col("_name") == "time/batch"))
            .group_by("_block").agg(to_float(pl.col("_raw").first()).cast(pl.Int64, strict=False).alias("_tb"))
        )
        df = df.join(tb, on="_block", how="left").with_columns(
            pl.when(is_train_header).then(pl.coalesce("_hstep", "_tb", "_hcount")).otherwise(None).alias("_bstep"),
        )
        used_count = df.filter(is_train_header & pl.col("_hstep").is_null() & pl.col("_tb").is_null()).height
        if used_count:
            notes.append(IngestNote("inferred", f"{used_count} header(s) count tokens or samples and their block "
                                                "logs no 'time/batch'; the header's count is used as the step"))
        df = df.with_columns(
            pl.col("_bstep").forward_fill().alias("step"),
            pl.col("_e").forward_fill().cast(pl.Float64).alias("epoch"),
        )
        mets = df.filter(pl.col("_prefix").is_not_null()).with_columns(
            (pl.col("_prefix") + " " + pl.col("_name")).alias("key"),
            pl.coalesce(pl.col("_raw").str.extract(_TENSOR, 1), pl.col("_raw")).alias("raw"),
        )
        # Quoted strings, lists and dicts are not metric values.
        mets = mets.filter(~pl.col("raw").str.contains(r"^['\"\[{(]"))
        keymap = map_keys(mets.get_column("key").unique(maintain_order=True).to_list(), classify)
        mapping = pl.DataFrame({"key": list(keymap), "split": [v[0] for v in keymap.values()],
                                "metric": [v[1] for v in keymap.values()]},
                               schema={"key": pl.String, "split": pl.String, "metric": pl.String})
        long = mets.join(mapping, on="key", how="inner").select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("_name").alias("name"), "step", "epoch",
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), to_float(pl.col("raw")).alias("value"), "lineno",
        ).sort("lineno", maintain_order=True)
        meta: dict[str, object] = {}
        tot_max = df.filter(pl.col("_unit") == "batch").get_column("_tot").max()
        if tot_max is not None and df.get_column("_e").null_count() == df.height:
            meta["total_steps"] = int(tot_max)  # type: ignore[arg-type]
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [ComposerParser()]
