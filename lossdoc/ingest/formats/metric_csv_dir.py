"""A directory of one-metric-per-file CSVs, as hand-rolled training scripts write them
(``np.savetxt`` / ``pandas.DataFrame.to_csv`` of one curve per file; no single trainer owns it).

Sample (``train_loss.csv``; ``val_loss.csv`` beside it)::

    step,value
    0,2.3026
    100,1.8734

Each file holds one series: a step-like column (``step``, ``global_step``, ``iter``,
``iteration``, ``epoch``, ``batch``) and a value column (``value``, or the metric named like
the file). The file stem names the series: ``train_loss``/``loss`` -> train loss,
``val_loss`` -> val loss (:func:`lossdoc.model.split_and_metric`). An optional ``wall_time``/
``time``/``timestamp`` column becomes ``wall_time``. The directory is one run named after it.
TensorBoard's own exports (``Wall time,Step,Value``) belong to ``tensorboard-csv``.

Numbers-only files (``np.savetxt("train_loss.csv", losses)``, with or without a header line, any
of ``.csv .txt .dat .tsv``; see :mod:`lossdoc.ingest.formats.numeric_column`) are members too: a
folder holding ``train_loss.csv`` and ``val_loss.csv`` of plain numbers is one run with a train and a
val loss.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._common import dedupe_metrics
from lossdoc.ingest.formats._table import read_table
from lossdoc.ingest.formats.numeric_column import SUFFIXES, frames_for, is_curve_file
from lossdoc.ingest.inputs import HEAD_BYTES, open_file
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, concat_frames, snake_case, split_and_metric

_STEP_COLS = ("step", "global_step", "iter", "iteration", "epoch", "batch", "steps", "iters")
_TIME_COLS = ("wall_time", "walltime", "time", "timestamp")
#: Files that would be logs of their own beside one-metric files (then the folder is not claimed whole).
_OTHER_LOGS = (".log", ".jsonl", ".out", ".csv")


def _columns(header: list[str], stem: str) -> tuple[str, str, str | None] | None:
    """(step column, value column, time column) of a one-metric file, or None."""
    low = {snake_case(h): h for h in header if h.strip()}
    if not 2 <= len(low) <= 3:
        return None
    step = next((low[c] for c in _STEP_COLS if c in low), None)
    if step is None:
        return None
    rest = [k for k in low if low[k] != step]
    time = next((low[c] for c in _TIME_COLS if c in rest), None)
    vals = [k for k in rest if low[k] != time]
    if len(vals) != 1:
        return None
    v = vals[0]
    if v == "value" or v == snake_case(stem) or snake_case(stem).endswith(v) or v.endswith(snake_case(stem)):
        return step, low[v], time
    return None


def _header(f: Path) -> list[str]:
    try:
        with open(f, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return []
    if first.startswith("\ufeff"):
        first = first[1:]
    return [h.strip().strip('"') for h in first.strip().split(",")]


def _numeric(f: Path) -> bool:
    """``f`` holds numbers only (one per line, a list, or a headerless table) and is named like a curve."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    return is_curve_file(f.stem, head)


def _members(path: Path) -> list[tuple[Path, tuple[str, str, str | None] | None]]:
    """The directory's one-metric files: (file, (step, value, time) columns), or (file, None) for a
    numbers-only file; [] when a CSV in it is neither."""
    out: list[tuple[Path, tuple[str, str, str | None] | None]] = []
    try:
        files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES
                       and not f.name.startswith("."))
    except OSError:
        return []
    for f in files:
        if f.suffix.lower() != ".csv" or f.stat().st_size == 0:
            if f.stat().st_size and _numeric(f):
                out.append((f, None))
            continue
        header = _header(f)
        if _columns(header, f.stem) is None and _numeric(f):
            out.append((f, None))
            continue
        if [h.lower() for h in header] == ["wall time", "step", "value"]:
            return []  # TensorBoard exports: tensorboard-csv
        cols = _columns(header, f.stem)
        if cols is None:
            return []  # a CSV that is not one-metric-per-file: not this format
        out.append((f, cols))
    return out


class MetricCSVDirParser(Parser):
    name = "csv-dir"
    title = "Directory of one-metric-per-file CSVs"
    recognises = ("a directory of one-metric files: CSVs with step,value columns, or numbers only (np.savetxt), "
                  "with or without a header (train_loss.csv + val_loss.csv -> one run)")
    priority = 40

    def sniff_dir(self, path: Path) -> float:
        members = _members(path)
        if not members or any(d.is_dir() and not d.name.startswith(".") for d in path.iterdir()):
            return 0.0  # with subdirectories, the directory walk reads each part
        taken = {f for f, _ in members}
        if any(f.is_file() and f not in taken and f.suffix.lower() in _OTHER_LOGS and f.stat().st_size
               for f in path.iterdir()):
            return 0.0  # another log beside them (train.log, metrics.csv): the walk reads every file
        lossy = any("loss" in f.stem.lower() for f, _ in members)
        if len(members) < 2:
            return 0.9 if lossy and members[0][1] is None else 0.0
        return 0.9 if lossy else 0.6

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        members = _members(path)
        run = path.resolve().name or "run"
        numeric = [(f.stem, f"{display}/{f.name}", open_file(f, f"{display}/{f.name}")) for f, c in members if c is None]
        members_csv = [(f, c) for f, c in members if c is not None]
        keys = dedupe_metrics((f.stem, *split_and_metric(f.stem)) for f, _ in members_csv)
        frames, notes = [], []
        if numeric:
            fr, nt = frames_for(numeric, run)
            frames.append(fr)
            notes.extend(nt)
        for f, (step_col, val_col, time_col) in members_csv:  # type: ignore[misc]
            table, nt = read_table(open_file(f, f"{display}/{f.name}"), ",", live=True)
            notes.extend(IngestNote(n.kind, f"{f.name}: {n.message}", n.line, n.run, n.count, n.step) for n in nt)
            step = to_float(pl.col(step_col)).cast(pl.Int64, strict=False)
            df = table.select(
                step.alias("step"),
                (to_float(pl.col(time_col)) if time_col else pl.lit(None, dtype=pl.Float64)).alias("wall_time"),
                to_float(pl.col(val_col)).alias("value"),
                pl.col(val_col).alias("_raw"),
            )
            bad = df.filter(pl.col("step").is_null() | pl.col("value").is_null())
            if bad.height:
                notes.append(
                    IngestNote(
                        "skipped_lines",
                        f"{f.name}: {bad.height} row(s) without a readable step or value",
                        count=bad.height,
                    )
                )
                df = df.filter(pl.col("step").is_not_null() & pl.col("value").is_not_null())
            split, metric = keys[f.stem]
            epoch = pl.col("step").cast(pl.Float64) if step_col.lower() == "epoch" else pl.lit(None, dtype=pl.Float64)
            frames.append(
                df.select(
                    pl.lit(run).alias("run"),
                    pl.lit(split).alias("split"),
                    pl.lit(metric).alias("metric"),
                    pl.lit(f.stem).alias("name"),
                    "step",
                    epoch.alias("epoch"),
                    "wall_time",
                    "value",
                )
            )
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=display)
        return ParseResult(frame, notes)


PARSERS = [MetricCSVDirParser()]
