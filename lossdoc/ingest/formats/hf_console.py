"""Hugging Face ``transformers`` Trainer console output: the ``{'loss': ...}`` dict lines.

Written by ``ProgressCallback.on_log`` (``tqdm.write``) or ``PrinterCallback.on_log`` (``print``),
checked against docs/formats-reference.md §1b: the old layout (raw floats), the 2024 layout (with
``grad_norm``, commit 55093b7) and the 2025 layout on main (every float a quoted ``'{v:.4g}'``).
Sample::

    {'loss': 2.7314, 'learning_rate': 4.9e-05, 'epoch': 0.04}
    {'loss': '2.731', 'grad_norm': '3.812', 'learning_rate': '4.9e-05', 'epoch': '0.04'}
    {'eval_loss': 2.0517, 'eval_runtime': 12.3481, 'eval_samples_per_second': 81.2, 'epoch': 1.0}

The console dict has **no step**. When stderr was captured too, ``tqdm.write`` redraws the
training bar right after each dict, and its count is ``global_step``: steps are read from it
(checked against a real run's ``trainer_state.json``). Otherwise training line k (1-based) is put
at ``k * logging_steps`` when the log states ``logging_steps`` (the TrainingArguments dump,
``--logging_steps N``), else at ``k``, and evaluation lines and the end-of-training summary are
attached to the latest training step. Either way an ``inferred`` note says how. Candidate lines are found with vectorised polars
filters (tqdm ``\\r`` redraws, ANSI codes and interleaved warnings are handled by
:func:`lossdoc.ingest.text.load_lines`); key/value pairs are extracted with a regex, which
reads quoted and unquoted numbers alike.
"""

from __future__ import annotations

import math
import re

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats.hf_trainer import hidden_nan_note
from lossdoc.ingest.formats._tabular import SeriesNamer
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.runs import AFTER_LINE, keep_last_run
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames

#: A dict line as Trainer prints it: the first key is one the Trainer logs.
_DICT_START = r"\{'(?:loss|eval_|test_|train_|learning_rate|grad_norm|epoch)[^']*': "
_DICT = r"(\{'.*\})"
_PAIR = r"'([^']+)': '?([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|NaN|Infinity))'?(?:,|\})"
_PAIR_GROUPS = r"^'(?P<key>[^']+)': '?(?P<raw>[^',}]+)'?[,}]$"
_SNIFF = re.compile(r"\{'(?:loss|eval_loss|train_runtime|learning_rate)': '?[-\d.naif]", re.M)

_HINTS = {
    "logging_steps": r"(?:\blogging_steps\s*[=:]\s*|--logging[_-]steps[= ]+|\"logging_steps\":\s*)(\d*\.?\d+)",
    "max_steps": r"(?:\bmax_steps\s*=\s*|--max[_-]steps[= ]+|Total optimization steps\s*=\s*)([\d,]+)",
}
#: A counter printed before the dict on its line ("Epoch 3: {'loss': ...}", "step 200 {...}").
_PREFIX_COUNTER = r"(?i)\b(?:epoch|step|iter(?:ation)?)\s*[:=#]?\s*(\d+)[^\d{]*\{'"
AXIS_KEYS = frozenset({"epoch", "step", "num_input_tokens_seen", "num_tokens"})  # num_tokens: TRL's name


def _hint(lines: pl.DataFrame, pattern: str) -> float | None:
    found = (
        lines.select(pl.col("line").str.extract(pattern, 1).str.replace_all(",", "").cast(pl.Float64, strict=False))
        .to_series()
        .drop_nulls()
    )
    found = found.filter(found > 0)
    return float(found[0]) if found.len() else None


def _tqdm_steps(lines: pl.DataFrame, kinds: pl.DataFrame) -> pl.DataFrame | None:
    """``kinds`` with exact steps from the training progress bar, or None when the log lacks it.

    ``tqdm.write`` (ProgressCallback.on_log) clears the bars, prints the dict and redraws them, so
    when stderr is captured too, the first thing on the line after a dict is the training bar with
    its current count, which ProgressCallback.on_step_end has set to ``global_step``. Taken only if
    every training dict has such a bar with one common total and the counts increase.
    """
    bar = r"\|\s*(\d+)/(\d+) \["
    first = (
        lines.filter(pl.col("line").str.strip_chars() != "")
        .unique(subset="lineno", keep="first", maintain_order=True)
        .select(
            (pl.col("lineno") - 1).alias("lineno"),
            pl.col("line").str.extract(bar, 1).cast(pl.Int64, strict=False).alias("bar_n"),
            pl.col("line").str.extract(bar, 2).cast(pl.Int64, strict=False).alias("bar_total"),
        )
        .drop_nulls("bar_n")
    )
    if first.height == 0:
        return None
    k = kinds.join(first, on="lineno", how="left", maintain_order="left")
    train = k.filter(pl.col("kind") == "train")
    if train.height == 0 or train.get_column("bar_n").null_count():
        return None
    totals = train.get_column("bar_total").unique()
    steps = train.get_column("bar_n")
    if totals.len() != 1 or (steps.diff().drop_nulls() <= 0).any() or steps.min() <= 0:  # type: ignore[operator]
        return None
    total = int(totals[0])
    ok = pl.col("bar_n").is_not_null() & (pl.col("bar_total") == total)
    latest = pl.when(pl.col("kind") == "train").then(pl.col("bar_n")).forward_fill().fill_null(0)
    return k.with_columns(pl.when(ok).then(pl.col("bar_n")).otherwise(latest).alias("step")).drop(
        "bar_n", "bar_total"
    )


class HFConsoleParser(Parser):
    name = "hf-console"
    title = "Hugging Face Trainer console dict lines"
    recognises = "stdout lines like {'loss': 2.73, 'learning_rate': 4.9e-05, 'epoch': 0.04} (raw or quoted values)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _SNIFF, strong=0.9, weak=0.7)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        if lines.height == 0:
            raise EmptyInputError("file is empty", path=inp.name)
        line = pl.col("line")
        cand = lines.filter(line.str.contains(_DICT_START)).with_columns(line.str.extract(_DICT, 1).alias("d"))
        last_line = int(lines.get_column("lineno").max())  # type: ignore[arg-type]
        tail = torn_tail_note(inp, last_line)
        if tail is not None:
            cand = cand.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        cand = cand.filter(pl.col("d").is_not_null()).with_row_index("rec")
        if cand.height == 0:
            raise EmptyInputError("no Trainer log dicts ({'loss': ...}) found", path=inp.name)
        pairs = (
            cand.select("rec", "lineno", pl.col("d").str.extract_all(_PAIR).alias("p"))
            .explode("p")
            .drop_nulls("p")
            .with_columns(pl.col("p").str.extract_groups(_PAIR_GROUPS).alias("g"))
            .unnest("g")
            .with_columns(to_float(pl.col("raw")).alias("value"))
            .drop_nulls(["key", "value"])
        )
        # Kind of each record, from its keys (vectorised, one row per record).
        key = pl.col("key")
        kinds = (
            pairs.group_by("rec", maintain_order=True)
            .agg(
                key.str.starts_with("eval_").any().alias("is_eval"),
                key.str.starts_with("test_").any().alias("is_test"),
                ((key == "train_runtime").any() | ((key == "train_loss").any() & ~(key == "loss").any())).alias(
                    "is_sum"
                ),
                pl.col("value").filter(key == "epoch").first().alias("epoch"),
            )
            .with_columns(
                pl.when("is_eval")
                .then(pl.lit("val"))
                .when("is_test")
                .then(pl.lit("test"))
                .when("is_sum")
                .then(pl.lit("summary"))
                .otherwise(pl.lit("train"))
                .alias("kind")
            )
            .sort("rec")
        )
        kinds = kinds.join(cand.select("rec", "lineno", "line"), on="rec", how="left").sort("rec")
        # "Test Results: {'eval_loss': 0.1865, ...}": trainer.evaluate() on the test set prints eval_ keys too; the
        # script's label before the dict names the split (devmarkpro/ag-news-classification: the test loss sat on the
        # last validation point and replaced it)
        tested = pl.col("line").str.split("{").list.first().str.contains(r"(?i)\btest(?:ing)?\b")
        kinds = kinds.with_columns(pl.when((pl.col("kind") == "val") & tested).then(pl.lit("test"))
                                   .otherwise(pl.col("kind")).alias("kind"))
        pairs = pairs.with_columns(key.alias("logged"))
        test_recs = kinds.filter(pl.col("kind") == "test").select("rec")
        if test_recs.height:  # its series apart from validation's (named as logged)
            pairs = pairs.with_columns(
                pl.when(pl.col("rec").is_in(test_recs.get_column("rec").implode()) & key.str.starts_with("eval_"))
                .then(pl.lit("test_") + key.str.slice(5)).otherwise(key).alias("key"))
        run_meta: dict[str, int] = {}
        kinds = self._last_run(kinds, pairs, lines, notes, run_meta)
        pairs = pairs.join(kinds.select("rec"), on="rec", how="semi")
        if AFTER_LINE in run_meta:  # the hints below are the kept run's own
            lines = lines.filter(pl.col("lineno") > run_meta[AFTER_LINE])
        kinds = kinds.drop("lineno", "line", "_counter")
        logging_hint = _hint(lines, _HINTS["logging_steps"])
        max_hint = _hint(lines, _HINTS["max_steps"])
        max_steps = int(max_hint) if max_hint else None
        logging_steps: int | None = None
        if logging_hint is not None and logging_hint >= 1:
            logging_steps = int(logging_hint)
        elif logging_hint is not None and max_steps:
            # logging_steps < 1 is a fraction of the run (TrainingArguments): ceil(max_steps * ratio).
            logging_steps = math.ceil(max_steps * logging_hint)
        unit = logging_steps or 1
        is_train = pl.col("kind") == "train"
        kinds = kinds.join(cand.select("rec", "lineno"), on="rec", how="left").sort("rec")
        bar_steps = _tqdm_steps(lines, kinds)
        if bar_steps is not None:
            kinds = bar_steps
        else:
            kinds = kinds.with_columns((is_train.cast(pl.Int64).cum_sum() * unit).alias("step"))
        if max_steps is not None and bar_steps is None:
            # The summary comes at the end of training: put it at max_steps when the log says it.
            kinds = kinds.with_columns(
                pl.when(pl.col("kind") == "summary")
                .then(pl.max_horizontal(pl.col("step"), pl.lit(max_steps)))
                .otherwise(pl.col("step"))
                .alias("step")
            )
        n_train = int(kinds.filter(is_train).height)
        if bar_steps is not None:
            how = "steps are read from the tqdm progress bar redrawn after each log line"
        elif logging_steps:
            how = f"training log k is put at step k x logging_steps ({logging_steps}, stated in the log)"
        else:
            how = "training log k is put at step k (logging_steps not stated in the log; real steps are a multiple)"
        where_eval = "" if bar_steps is not None else "; evaluation lines sit at the latest training step"
        notes.append(IngestNote("inferred", f"console dicts carry no step: {how}{where_eval}", count=n_train))
        long = pairs.join(kinds.select("rec", "kind", "step", pl.col("epoch").alias("ep")), on="rec").filter(
            ~key.is_in(list(AXIS_KEYS))
        )
        namer = SeriesNamer()
        for k, kind in long.select("key", "kind").unique(maintain_order=True).iter_rows():
            if k in namer.assigned:
                continue
            if kind == "summary" and k == "train_loss":
                namer.assign(k, "train", "average_loss")
            else:
                namer.auto(k, "train" if kind in ("train", "summary") else kind)
        splits = {n: s for n, (s, _) in namer.assigned.items()}
        metrics = {n: m for n, (_, m) in namer.assigned.items()}
        order = {n: i for i, n in enumerate(namer.assigned)}
        frame = (
            long.select(
                pl.lit(inp.run_name).alias("run"),
                key.replace_strict(splits, return_dtype=pl.String).alias("split"),
                key.replace_strict(metrics, return_dtype=pl.String).alias("metric"),
                pl.col("logged").alias("name"),
                pl.col("step"),
                pl.col("ep").alias("epoch"),
                pl.col("value"),
                key.replace_strict(order, return_dtype=pl.Int64).alias("_o"),
            )
            .sort("_o", maintain_order=True)
            .drop("_o")
        )
        hidden = (
            pairs.join(kinds.select("rec", "kind", "step"), on="rec")
            .filter(pl.col("kind") == "train")
            .group_by("rec", maintain_order=True)
            .agg(
                pl.col("value").filter(key == "grad_norm").first().alias("g"),
                pl.col("value").filter(key == "loss").first().alias("l"),
                pl.col("step").first(),
            )
            .filter(~pl.col("g").is_finite() & pl.col("l").is_finite())
        )
        if hidden.height:
            notes.append(hidden_nan_note(hidden.get_column("step").to_list()))
        meta: dict[str, int] = dict(run_meta)
        if logging_steps:
            meta["logging_steps"] = logging_steps
        if max_steps:
            meta["total_steps"] = max_steps
        return ParseResult(concat_frames([frame]), notes, meta)

    @staticmethod
    def _last_run(kinds: pl.DataFrame, pairs: pl.DataFrame, lines: pl.DataFrame,
                  notes: list[IngestNote], meta: dict[str, int]) -> pl.DataFrame:
        """The records of the last of several runs in one console log (:mod:`lossdoc.ingest.runs`), with
        a note; all of them when the log holds one run. The counter is the dict's ``epoch``, else one the
        line prints before the dict (``Epoch 3: {'loss': ...}``)."""
        kinds = kinds.with_columns(pl.coalesce(
            "epoch", pl.col("line").str.extract(_PREFIX_COUNTER, 1).cast(pl.Float64, strict=False)).alias("_counter"))
        loss = pairs.filter(pl.col("key") == "loss").group_by("rec").agg(pl.col("value").first())
        ref = (kinds.filter(pl.col("kind") == "train").join(loss, on="rec", how="inner", maintain_order="left")
               .select("lineno", pl.col("_counter").alias("counter"), "value"))
        return keep_last_run(kinds, ref, lines, notes, counter_col="_counter", what="log line", meta=meta)


PARSERS = [HFConsoleParser()]
