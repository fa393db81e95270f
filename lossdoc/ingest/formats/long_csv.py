"""Long ("tidy") CSV of scalars: one row per (tag, step, value), as event-file readers export them.

Not tied to one trainer; checked against the writers that make such tables: tbparse
(``SummaryReader(logdir).scalars``: columns ``step, tag, value``, with ``extra_columns`` also
``dir_name``, ``file_name``, ``wall_time``; ``DataFrame.to_csv`` adds an unnamed index column),
MLflow's metric history (``MlflowClient.get_metric_history``: ``key, value, timestamp, step``, the
timestamp in milliseconds) and hand-written TensorBoard exports. Sample (a real one)::

    filename,tag,step,value
    ./tensorboard/events.out.tfevents.1745944791.host.2897.0,train/current_loss,100,2.668
    ./tensorboard/events.out.tfevents.1745944791.host.2897.0,train/tot_loss,100,2.682

The series is the tag (its split and metric read from it as TensorBoard tags are: ``train/loss``,
``val_loss``, Keras' ``epoch_loss``). A source column (``dir_name``, ``run``, ``filename``...)
whose path holds a split word (``logs/train/events...``, ``logs/validation``) gives the split, as
TensorBoard's run directories do for Keras; sources that differ otherwise are separate runs.
Without a step column the row number within the tag is the step (with a note).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._tabular import SeriesNamer, is_number, read_table, sniff_csv, step_axis
from lossdoc.ingest.formats.generic_csv import EPOCH_NAMES, STEP_NAMES, find_column
from lossdoc.ingest.formats.tb_csv import _SPLIT_WORDS, _series_key
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, concat_frames

TAG_NAMES = ("tag", "metric", "metric_name", "key", "series", "scalar", "name")
VALUE_NAMES = ("value", "scalar_value", "simple_value", "val")
SOURCE_NAMES = ("dir_name", "run", "run_name", "logdir", "dir", "filename", "file_name", "file", "path")
WALL_NAMES = ("wall_time", "walltime", "timestamp", "time")


def _source_parts(source: str) -> tuple[str, str | None]:
    """``'logs/run1/validation/events.out...'`` -> (``'logs/run1'``, ``'val'``): the run's path and split."""
    parts = [p for p in re.split(r"[\\/]", source) if p not in ("", ".")]
    if parts and parts[-1].startswith("events.out.tfevents"):
        parts = parts[:-1]
    split = None
    for i in range(len(parts) - 1, -1, -1):
        word = parts[i].lower()
        if word in _SPLIT_WORDS:
            split = _SPLIT_WORDS[word]
            parts = parts[:i] + parts[i + 1 :]
            break
    return "/".join(parts), split


class LongCSVParser(Parser):
    name = "long-csv"
    title = "Long CSV of scalars (tag, step, value): tbparse, MLflow metric history, TensorBoard exports"
    recognises = "a CSV with a tag/key/metric column, a value column and usually a step column, one row per point"
    priority = 40

    def sniff(self, inp: InputFile) -> float:
        head = sniff_csv(inp)
        if head is None or not head.rows or not 2 <= len(head.header) <= 8:
            return 0.0
        tag = find_column(head.header, TAG_NAMES)
        value = find_column(head.header, VALUE_NAMES)
        if tag is None or value is None:
            return 0.0
        ti, vi = head.header.index(tag), head.header.index(value)
        rows = [r for r in head.rows if len(r) == len(head.header)]
        if not rows:
            return 0.0
        tags = [r[ti].strip() for r in rows]
        # the tag column names series (text, repeated); the value column holds the numbers
        if sum(bool(t) and not is_number(t) for t in tags) < 0.9 * len(rows):
            return 0.0
        if sum(is_number(r[vi].strip()) for r in rows) < 0.8 * len(rows):
            return 0.0
        return 0.85 if find_column(head.header, STEP_NAMES + EPOCH_NAMES) else 0.6

    def parse(self, inp: InputFile) -> ParseResult:
        table = read_table(inp, torn_cells=False)
        df, header = table.df, table.header
        notes = list(table.notes)
        tag_col, value_col = find_column(header, TAG_NAMES), find_column(header, VALUE_NAMES)
        if tag_col is None or value_col is None:
            raise EmptyInputError("no tag and value columns (a long table of scalars needs both)", path=inp.name)
        step_col = find_column(header, STEP_NAMES)
        epoch_col = find_column(header, EPOCH_NAMES)
        wall_col = find_column(header, WALL_NAMES)
        src_col = find_column(header, SOURCE_NAMES)
        df = df.with_columns(pl.col(tag_col).str.strip_chars().alias("_tag"),
                             to_float(pl.col(value_col)).alias("_value"))
        bad = df.filter(pl.col("_tag").is_null() | (pl.col("_tag") == "") | pl.col("_value").is_null())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} row(s) without a tag or a number in "
                                    f"{value_col!r} skipped", line=int(bad.get_column("_line").first()),  # type: ignore[arg-type]
                                    count=bad.height))
            df = df.filter(pl.col("_tag").is_not_null() & (pl.col("_tag") != "") & pl.col("_value").is_not_null())
        if df.height == 0:
            raise EmptyInputError(f"no rows with a tag and a number in {value_col!r}", path=inp.name)
        axis = step_col or epoch_col
        if axis is not None:
            df = step_axis(df, axis, path=inp.name, notes=notes)
        else:
            df = df.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("_tag").alias("_step"))
            notes.append(IngestNote("inferred", "no step column: each tag's row number (0-based) is its step"))
        epoch = (to_float(pl.col(epoch_col)) if epoch_col is not None and epoch_col != axis
                 else pl.col("_step").cast(pl.Float64) if axis is not None and axis == epoch_col
                 else pl.lit(None, dtype=pl.Float64))
        wall = pl.lit(None, dtype=pl.Float64)
        if wall_col is not None:
            w = df.select(to_float(pl.col(wall_col))).to_series()
            if w.null_count() < w.len():
                ms = float(w.drop_nulls().median()) > 1e11  # type: ignore[arg-type]
                wall = to_float(pl.col(wall_col)) / (1000.0 if ms else 1.0)
                if ms:
                    notes.append(IngestNote("inferred", f"{wall_col!r} is in milliseconds (MLflow): read as seconds"))
        sources = (df.get_column(src_col).cast(pl.String).fill_null("").unique(maintain_order=True).to_list()
                   if src_col is not None else [""])
        parts = {s: _source_parts(s) for s in sources}
        run_paths = list(dict.fromkeys(p for p, _ in parts.values()))
        run_of = {s: (inp.run_name if len(run_paths) == 1 else f"{inp.run_name}/{parts[s][0] or 'root'}") for s in sources}
        split_of: dict[str, str | None] = {s: parts[s][1] for s in sources}
        src = pl.col(src_col).cast(pl.String).fill_null("") if src_col is not None else pl.lit("")
        split_col = find_column(header, ("split", "subset", "phase", "mode"))
        if split_col is not None:
            # a split column (lossdoc's own long table, MMCV's 'mode'): each (source, split) is its own key
            words = pl.col(split_col).str.strip_chars().str.to_lowercase()
            src = src + pl.lit("\x01") + words.fill_null("")
            for s, w in df.select(src.alias("s"), words.alias("w")).unique(maintain_order=True).iter_rows():
                base = s.split("\x01", 1)[0]
                run_of[s] = run_of[base]
                split_of[s] = _SPLIT_WORDS.get(w or "", split_of[base])
        df = df.with_columns(src.alias("_src"))
        keyed = df.select("_src", "_tag").unique(maintain_order=True)
        namers: dict[str, SeriesNamer] = {}
        split_map: dict[str, str] = {}
        metric_map: dict[str, str] = {}
        for s, t in keyed.iter_rows():
            split, metric = _series_key(split_of[s], t)
            ident = f"{s}\x00{t}"
            namer = namers.setdefault(run_of[s], SeriesNamer())
            split_map[ident], metric_map[ident] = namer.assign(t, split, metric, ident=f"{split_of[s]}\x00{t}")
        ident = pl.col("_src") + pl.lit("\x00") + pl.col("_tag")
        frame = df.select(
            pl.col("_src").replace_strict(run_of, return_dtype=pl.String).alias("run"),
            ident.replace_strict(split_map, return_dtype=pl.String).alias("split"),
            ident.replace_strict(metric_map, return_dtype=pl.String).alias("metric"),
            pl.col("_tag").alias("name"),
            pl.col("_step").alias("step"),
            epoch.alias("epoch"),
            wall.alias("wall_time"),
            pl.col("_value").alias("value"),
        )
        if len(run_paths) > 1:
            notes.append(IngestNote("inferred", f"{len(run_paths)} runs told apart by {src_col!r}: "
                                    + ", ".join(p or "(root)" for p in run_paths[:4])))
        return ParseResult(concat_frames([frame]), notes)


PARSERS = [LongCSVParser()]
