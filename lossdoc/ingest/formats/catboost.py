"""CatBoost training directory ``catboost_info/`` (``catboost/catboost`` ``catboost/libs/logging``,
the ``learn_error.tsv`` / ``test_error.tsv`` files of ``train_dir``; checked against 1.2).

Sample (``learn_error.tsv``; ``test_error.tsv`` has the same layout)::

    iter\tLogloss
    0\t0.6718801529
    1\t0.6486221495

``iter`` is 0-based and is the step; every other column is a metric (``Logloss``, ``RMSE``,
``AUC``...; snake_cased; the first loss-like one is read as metric ``loss``, noted).
``learn_error.tsv`` is split ``train``, ``test_error.tsv`` (the
``eval_set``) split ``val``. A directory holding either file is one run named after the
directory (``catboost_info`` itself is named after its parent); a single TSV is read alone.
``time_left.tsv`` and the ``learn/``/``test/`` event files beside them are not read.

CatBoost's console output (``logging_level="Verbose"``, ``verbose=N``: "the optimized metric, elapsed time of
training, remaining time of training", catboost.ai ``train`` reference) is read by ``catboost-console``::

    0:\tlearn: 0.6565711\ttest: 0.6567316\tbest: 0.6567316 (0)\ttotal: 59.8ms\tremaining: 59.7s
    100:\tlearn: 0.2125060\ttotal: 5.21s\tremaining: 46.4s

The number before the colon is the iteration (the step), ``learn`` the training set's value of the eval_metric
(the loss function unless the script set another; split ``train``) and ``test`` the first eval set's (``val``). A
``learn`` that rose over the run is a score (an accuracy, an AUC): read as metric ``eval_metric``, not as the loss. ``best`` (the best test value
so far and its iteration) and the ``total`` / ``remaining`` times are not metrics: read as the loss by the text
reader, ``total: 0.85s`` was elapsed time.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.formats._evalsets import loss_metric, loss_note
from lossdoc.ingest.formats._table import read_table
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile, open_file
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.ingest.text import LOG_NUMBER, matching, to_float
from lossdoc.model import IngestNote, ParseResult, concat_frames, snake_case

_FILES = {"learn_error.tsv": "train", "test_error.tsv": "val"}


def _run_name(directory: Path) -> str:
    d = directory.resolve()
    if d.name == "catboost_info" and d.parent.name:
        return d.parent.name
    return d.name or "catboost"


def _frame(inp: InputFile, split: str, run: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    table, notes = read_table(inp, "\t", live=True)
    if "iter" not in table.columns:
        return concat_frames([]), notes
    return _table_frame(table, notes, inp.name, split, run), notes


def _table_frame(table: pl.DataFrame, notes: list[IngestNote], where: str, split: str, run: str) -> pl.DataFrame:
    """Long rows of one split from CatBoost's per-iteration table (``iter`` and one text column per metric)."""
    step = pl.col("iter").str.strip_chars().cast(pl.Int64, strict=False)
    bad = table.filter(step.is_null())
    if bad.height:
        notes.append(
            IngestNote("skipped_lines", f"{bad.height} row(s) in {where} without an integer iter", count=bad.height)
        )
        table = table.filter(step.is_not_null())
    frames = []
    names = {c: snake_case(c.split(":")[0]) for c in table.columns if c != "iter" and c}
    primary = loss_metric(list(names.values()))
    metric_of = {c: snake_case(c) for c in names}
    if primary is not None:
        col = next(c for c, n in names.items() if n == primary)
        vals = to_float(pl.col(col))
        top = table.select(vals.max().alias("max"), (vals != 0).any().alias("any")).row(0)
        if top[0] is not None and top[0] <= 0 and top[1]:
            # CatBoost 0.8 and earlier wrote its log-loss metrics with the sign of a log-likelihood ("catboost uses
            # positive logarithms in mlogloss ... you need to maximize this metric", catboost/catboost#401): -1.40
            # rising to -0.0015 is a loss falling from 1.40. Read as what it is, a score, not as a loss that rose
            metric_of[col] = f"{metric_of[col]}_log_likelihood"
            notes.append(IngestNote(
                "inferred", f"{col!r} is at or below 0 throughout: the log-likelihood older CatBoost (0.8 and earlier) "
                f"wrote for its log-loss metrics (higher is better; catboost/catboost#401), read as '{metric_of[col]}', "
                "not as the loss; no loss to judge"))
        else:
            notes.append(loss_note(primary))
            metric_of.update({c: "loss" for c, n in names.items() if n == primary})
    for col, metric in metric_of.items():
        frames.append(
            table.filter(pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != "")).select(
                pl.lit(run).alias("run"),
                pl.lit(split).alias("split"),
                pl.lit(metric).alias("metric"),
                pl.lit(col).alias("name"),
                step.alias("step"),
                to_float(pl.col(col)).alias("value"),
            )
        )
    return concat_frames(frames)


class CatBoostParser(Parser):
    name = "catboost"
    title = "CatBoost catboost_info/ (learn_error.tsv, test_error.tsv)"
    recognises = "a catboost_info/ directory, or learn_error.tsv / test_error.tsv with an 'iter' column"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        if inp.inner_name in _FILES and inp.head_text(64).startswith("iter\t"):
            return 0.95
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        split = _FILES.get(inp.inner_name, "train" if "learn" in inp.inner_name else "val")
        run = _run_name(inp.path.parent) if inp.path is not None else inp.run_name
        frame, notes = _frame(inp, split, run)
        return ParseResult(frame, notes)

    def sniff_dir(self, path: Path) -> float:
        found = [f for f in _FILES if (path / f).is_file()]
        if not found:
            return 0.0
        return 0.95 if path.name == "catboost_info" or len(found) == 2 else 0.9

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        run = _run_name(path)
        frames, notes = [], []
        for fname, split in _FILES.items():
            f = path / fname
            if f.is_file() and f.stat().st_size:
                fr, nt = _frame(open_file(f, f"{display}/{fname}"), split, run)
                frames.append(fr)
                notes.extend(replace(n, message=f"{fname}: {n.message}") for n in nt)
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=display)
        return ParseResult(frame, notes)


#: one iteration's line of catboost_training.json: ``{"learn":[0.68],"iteration":0,"passed_time":..,"remaining_time":..}``
_JSON_ITER = r'^\s*(\{.*"iteration"\s*:\s*\d+.*\})\s*,?\s*$'


def _metric_names(items: object) -> list[str]:
    """Metric names of ``meta.learn_metrics`` / ``test_metrics``: ``[{"name": "Logloss", "best_value": "Min"}]``
    (CatBoost 0.2x and later) or ``[{"Logloss": "min"}]`` (earlier)."""
    out = []
    for m in items if isinstance(items, list) else []:
        if isinstance(m, dict):
            name = m.get("name") if "name" in m else next(iter(m), None)
            if isinstance(name, str):
                out.append(name)
    return out


class CatBoostJsonParser(Parser):
    """``catboost_info/catboost_training.json`` (``catboost/libs/logging/logging.cpp``, ``TJsonLoggingBackend``: the
    ``meta`` object names the learn and test sets and metrics, then one line per iteration holds ``learn`` and
    ``test`` arrays of those metrics' values). Read like ``learn_error.tsv`` / ``test_error.tsv`` (learn: train,
    the first test set: val; the first loss-like metric as ``loss``); a file still being written (no closing
    brackets yet) is read line by line all the same."""

    name = "catboost-json"
    title = "CatBoost catboost_training.json"
    recognises = "catboost_training.json: a 'meta' with learn_metrics/test_metrics, then one {'learn': [...], 'iteration': N} line per iteration"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text(4096)
        if '"learn_metrics"' in head and '"iterations"' in head:
            return 0.95
        if inp.inner_name == "catboost_training.json" and '"iteration"' in head:
            return 0.9
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        last = lines.get_column("line").tail(1).to_list()
        if not (last and re.fullmatch(r"[\s\]}]*", last[0])):  # the closing brackets of a finished file are not torn
            lines = drop_torn_tail(inp, lines, notes)
        meta_line = inp.head_text(65536)
        m = re.search(r'"meta"\s*:\s*(\{.*?\})\s*,\s*"iterations"', meta_line, re.S)
        meta = {}
        if m:
            try:
                meta = json.loads(m.group(1))
            except ValueError:
                meta = {}
        learn_names = _metric_names(meta.get("learn_metrics")) or ["learn"]
        test_names = _metric_names(meta.get("test_metrics"))
        test_sets = [t for t in meta.get("test_sets", []) if isinstance(t, str)] if isinstance(meta, dict) else []
        rows = matching(lines, _JSON_ITER).select(
            "lineno", pl.col("1").str.json_decode(pl.Struct({"iteration": pl.Int64, "learn": pl.List(pl.Float64),
                                                               "test": pl.List(pl.Float64)})).alias("j")).unnest("j")
        run = _run_name(inp.path.parent) if inp.path is not None else inp.run_name
        frames = []
        for split, col, names in (("train", "learn", learn_names), ("val", "test", test_names or ["test"])):
            if rows.height == 0 or rows.get_column(col).drop_nulls().len() == 0:
                continue
            # several test sets: CatBoost writes every metric of the first, then of the next; the first is read
            width = len(names)
            table = rows.filter(pl.col(col).is_not_null()).select(
                pl.col("iteration").cast(pl.String).alias("iter"),
                *[pl.col(col).list.get(i, null_on_oob=True).cast(pl.String).alias(n) for i, n in enumerate(names)])
            frames.append(_table_frame(table, notes, inp.name, split, run))
            if split == "val" and len(test_sets) > 1:
                notes.append(IngestNote("inferred", f"{len(test_sets)} eval sets; the first ({test_sets[0]}) is read as "
                                        f"the validation set, {width} metric(s) each"))
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=inp.name)
        return ParseResult(frame, notes, {"x_axis": "iteration"})


_TIME = r"[\d.]+(?:us|ms|s|m|h|d)(?: [\d.]+(?:us|ms|s|m|h))*"
_CONSOLE = (rf"^\s*(\d+):\s+learn:\s*({LOG_NUMBER})(?:\s+test:\s*({LOG_NUMBER}))?"
            rf"(?:\s+best:\s*{LOG_NUMBER}\s*\(\d+\))?\s+total:\s*{_TIME}\s+remaining:")
_CONSOLE_SNIFF = re.compile(_CONSOLE, re.M)


class CatBoostConsoleParser(LineParser):
    name = "catboost-console"
    title = "CatBoost console output (verbose training lines)"
    recognises = "'0:\tlearn: 0.6565711\ttest: 0.6567316\tbest: 0.6567316 (0)\ttotal: 59.8ms\tremaining: 59.7s' lines"
    priority = 30
    sniff_pattern = _CONSOLE_SNIFF

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        rows = matching(lines, _CONSOLE).with_columns(pl.col("1").cast(pl.Int64).alias("step"))
        frames = [rows.filter(pl.col(g).is_not_null()).select(
            pl.lit(inp.run_name).alias("run"), pl.lit(split).alias("split"), pl.lit("loss").alias("metric"),
            pl.lit(name).alias("name"), "step", pl.lit(None, dtype=pl.Float64).alias("epoch"),
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), to_float(pl.col(g)).alias("value"), "lineno")
            for g, split, name in (("2", "train", "learn"), ("3", "val", "test"))]
        long = pl.concat(frames, how="vertical")
        if long.height:
            # the console prints the eval_metric, which is the loss function unless the script set another: a value
            # that rose over the run (Thalaivar/DDP: 0.48 -> 0.96, an accuracy) is a score, not a loss to judge
            learn = long.filter(pl.col("split") == "train").sort("step").get_column("value").drop_nans().drop_nulls()
            k = max(1, learn.len() // 10)
            first, end = float(learn.head(k).median() or 0), float(learn.tail(k).median() or 0)  # type: ignore[arg-type]
            if learn.len() >= 4 and end > first:
                long = long.with_columns(pl.lit("eval_metric").alias("metric"))
                notes.append(IngestNote(
                    "inferred", f"CatBoost console lines: 'learn' rose over the run ({first:.4g} -> {end:.4g}, medians "
                    f"of the first and last {k} values): CatBoost prints its eval_metric, here a score (accuracy, "
                    "AUC...), not the loss; read as 'eval_metric', not judged as a loss; 'best' and the "
                    "elapsed/remaining times are not read"))
            else:
                notes.append(IngestNote("inferred", "CatBoost console lines: 'learn' and 'test' are the eval_metric (the "
                                        "loss function unless the script set another) on the training and the first "
                                        "eval set, read as the training and validation loss; 'best' and the "
                                        "elapsed/remaining times are not read"))
        meta: dict[str, object] = {"x_axis": "iteration"}
        long = keep_last_run(long.sort("lineno", maintain_order=True), reference(long), lines.select("lineno", "line"),
                             notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [CatBoostParser(), CatBoostJsonParser(), CatBoostConsoleParser()]
