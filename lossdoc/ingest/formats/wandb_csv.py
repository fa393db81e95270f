"""Weights & Biases chart-panel "Download CSV" export (W&B web app, line-plot panel menu;
layout as documented in docs.wandb.ai "Line plots" / "Point aggregation" and docs/formats-reference.md §11a,
checked against exports of 2024-2025).

Sample (``wandb_export_2024-05-05T10_07_23.233-04_00.csv``)::

    "Step","misty-river-12 - train/loss","misty-river-12 - train/loss__MIN","misty-river-12 - train/loss__MAX"
    "0","2.7314","2.7314","2.7314"
    "50","2.2103","2.1877","2.2931"

The first column is the chart's x axis (``Step`` by default; another metric or a time axis
when chosen). Then, per run and metric, ``"<run> - <metric>"`` (the line's value) and its
``__MIN``/``__MAX`` columns; one file may hold several runs (the ``run`` column). Empty cells
mean "no point there". The rows are what the chart showed, **bucketed or sampled**, not the raw
history: the line value is kept as the series, and the bucket extremes as their own metrics
``<metric>_min`` / ``<metric>_max`` (a note says so). A non-integer x axis becomes the step by
row order (noted as ``inferred``).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import dedupe_metrics
from lossdoc.ingest.formats._table import read_table
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, concat_frames, split_and_metric

_NAME = re.compile(r"^wandb_export_.*\.csv$", re.I)
_SNIFF_COL = re.compile(r'"?[^",\n]+ - [^",\n]+__(?:MIN|MAX)"?')


def _split_column(col: str) -> tuple[str, str, str] | None:
    """``'run-1 - train/loss__MIN'`` -> (``'run-1'``, ``'train/loss'``, ``'min'``); kind ``''`` for the line."""
    kind = ""
    base = col
    for suffix in ("__MIN", "__MAX"):
        if col.endswith(suffix):
            kind, base = suffix[2:].lower(), col[: -len(suffix)]
    if " - " not in base:
        return None
    # Run display names are free text and may hold " - "; metric keys rarely do: split at the last one.
    run, metric = base.rsplit(" - ", 1)
    return run.strip(), metric.strip(), kind


class WandbCSVParser(Parser):
    name = "wandb-csv"
    title = "Weights & Biases chart 'Download CSV' export"
    recognises = "wandb_export_*.csv; columns '<run> - <metric>' with '__MIN'/'__MAX' partners"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        first = inp.head_text(16384).lstrip("\ufeff").split("\n", 1)[0]
        cols = len(_SNIFF_COL.findall(first))
        named = bool(_NAME.match(inp.inner_name))
        if cols:
            return 0.95 if named else 0.85
        if named and " - " in first:
            return 0.7
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        table, notes = read_table(inp, ",", live=False)
        if table.width < 2:
            return ParseResult(concat_frames([]), notes)
        xcol = table.columns[0]
        x = to_float(pl.col(xcol))
        xs = table.select(x.alias("x")).get_column("x")
        integral = (xs.len() > 0 and xs.null_count() == 0 and bool(((xs - xs.round(0)).abs() == 0).all())
                    and bool((xs.abs() < 2.0**62).all()))  # 1e100 is "integral" but no Int64 step
        if integral:
            step = x.round(0).cast(pl.Int64)
        else:
            step = pl.int_range(0, pl.len(), dtype=pl.Int64)
            notes.append(IngestNote("inferred", f"x axis '{xcol}' is not an integer step; row order used as the step"))
        low = xcol.lower()
        epoch = x if "epoch" in low else pl.lit(None, dtype=pl.Float64)
        wall = x if ("time" in low and not integral) else pl.lit(None, dtype=pl.Float64)
        base = table.with_columns(step.alias("_step"), epoch.alias("_epoch"), wall.alias("_wall"))
        cols: list[tuple[str, str, str, str]] = []
        skipped = []
        for c in table.columns[1:]:
            parts = _split_column(c)
            if parts is None:
                skipped.append(c)
                continue
            cols.append((c, *parts))
        if skipped:
            notes.append(
                IngestNote(
                    "skipped_lines",
                    f"{len(skipped)} column(s) not '<run> - <metric>': {skipped[:3]}",
                    count=len(skipped),
                )
            )
        # (split, metric) per run from the metric key; MIN/MAX as <metric>_min/_max.
        frames = []
        runs = list(dict.fromkeys(r for _, r, _, _ in cols))
        for run in runs:
            mine = [(c, m, k) for c, r, m, k in cols if r == run]
            keys = dedupe_metrics((m, *split_and_metric(m)) for _, m, k in mine if k == "")
            for c, m, k in mine:
                split, metric = keys.get(m) or split_and_metric(m)
                if k:
                    metric = f"{metric}_{k}"
                frames.append(
                    base.filter(pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "")).select(
                        pl.lit(run).alias("run"),
                        pl.lit(split).alias("split"),
                        pl.lit(metric).alias("metric"),
                        pl.lit(m if not k else f"{m}__{k.upper()}").alias("name"),
                        pl.col("_step").alias("step"),
                        pl.col("_epoch").alias("epoch"),
                        pl.col("_wall").alias("wall_time"),
                        to_float(pl.col(c)).alias("value"),
                    )
                )
        if any(k for _, _, _, k in cols):
            notes.append(
                IngestNote(
                    "other",
                    "W&B chart export: points are the chart's buckets/samples, not the raw history; "
                    "__MIN/__MAX (bucket extremes) read as <metric>_min/<metric>_max",
                )
            )
        else:
            notes.append(
                IngestNote("other", "W&B chart export: points are the chart's buckets/samples, not the raw history")
            )
        frame = concat_frames(frames)
        bad = frame.filter(pl.col("value").is_null())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} cell(s) not a number; skipped", count=bad.height))
            frame = frame.filter(pl.col("value").is_not_null())
        return ParseResult(frame, notes)


PARSERS = [WandbCSVParser()]
