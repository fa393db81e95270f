"""MLflow file store ``mlruns/`` (``mlflow/mlflow`` ``mlflow/store/tracking/file_store.py``:
``_get_metric_from_line``, ``log_metric``, ``get_metric_history``; checked against MLflow 2.x/3.x).

Sample (``mlruns/<experiment_id>/<run_id>/metrics/val_loss``)::

    1717236942123 0.5123407244682312 0
    1717236999456 0.4710039794445038 1
    1717237056789 nan 2

One line per logged point: ``timestamp value step`` with the timestamp in milliseconds since
the epoch (becomes ``wall_time`` in seconds) and ``step`` the step; very old files have only
``timestamp value``. A key with ``/`` (``train/loss``) is a nested path under ``metrics/``. The
run is named by ``tags/mlflow.runName`` (else ``run_name`` in ``meta.yaml``, else the run id);
one run per run id. PATH may be ``mlruns/``, an experiment directory, a run directory or a
single metric file. When every point of a metric has step 0 (``log_metric`` without ``step``)
or no step field, the line order is the step (noted as ``inferred``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._common import dedupe_metrics
from lossdoc.ingest.inputs import InputFile, open_file
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import LOG_NUMBER, load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames, split_and_metric
from lossdoc.runconfig import set_config

_LINE = r"^\s*(\d+) (\S+)(?: (-?\d+))?\s*$"
_SNIFF = re.compile(r"^\d{10,13} [-+\w.]+(?: -?\d+)?$", re.M)
#: one MLflow metric line exactly: a millisecond timestamp, the value, the step
_STRICT = re.compile(rf"^\d{{13}} {LOG_NUMBER} -?\d+\s*$")
_SKIP = {".trash", "models", ".git"}


def _is_run_dir(p: Path) -> bool:
    return (p / "metrics").is_dir() and (
        (p / "meta.yaml").is_file() or (p / "tags").is_dir() or (p / "params").is_dir()
    )


def _run_dirs(path: Path) -> list[Path]:
    """Run directories under ``path`` (itself a run, an experiment or an ``mlruns`` store)."""
    if _is_run_dir(path):
        return [path]
    runs: list[Path] = []
    try:
        children = sorted(c for c in path.iterdir() if c.is_dir() and c.name not in _SKIP)
    except OSError:
        return []
    for c in children:
        if _is_run_dir(c):
            runs.append(c)
    if runs:
        return runs
    for c in children:  # mlruns/<experiment>/<run>
        try:
            grand = sorted(g for g in c.iterdir() if g.is_dir())
        except OSError:
            continue
        runs.extend(g for g in grand if _is_run_dir(g))
    return runs


def _run_name(run_dir: Path) -> str:
    tag = run_dir / "tags" / "mlflow.runName"
    try:
        if tag.is_file():
            name = tag.read_text(encoding="utf-8", errors="replace").strip()
            if name:
                return name
        meta = run_dir / "meta.yaml"
        if meta.is_file():
            m = re.search(
                r"^run_name:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", meta.read_text(encoding="utf-8", errors="replace"), re.M
            )
            if m:
                return m.group(1)
    except OSError:
        pass
    return run_dir.name


def _metric_files(run_dir: Path) -> list[tuple[str, Path]]:
    root = run_dir / "metrics"
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            p = Path(dirpath) / f
            out.append((p.relative_to(root).as_posix(), p))
    return out


def _read_metric(inp: InputFile, key: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    """(lineno, step, wall_time, value) of one metric file, plus notes."""
    notes: list[IngestNote] = []
    lines = load_lines(inp, notes=notes)
    lines = lines.filter(pl.col("line").str.strip_chars() != "")
    last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
    tail = torn_tail_note(inp, last_line)
    if tail is not None and last_line is not None:
        lines = lines.filter(pl.col("lineno") != last_line)
        notes.append(tail)
    g = lines.with_columns(pl.col("line").str.extract_groups(_LINE).alias("g")).unnest("g")
    df = g.select(
        "lineno",
        pl.col("3").cast(pl.Int64, strict=False).alias("step"),
        (pl.col("1").cast(pl.Float64, strict=False) / 1000.0).alias("wall_time"),
        to_float(pl.col("2")).alias("value"),
    )
    bad = df.filter(pl.col("wall_time").is_null() | pl.col("value").is_null())
    if bad.height:
        first = bad.get_column("lineno").head(3).to_list()
        notes.append(
            IngestNote(
                "skipped_lines",
                f"{key}: {bad.height} line(s) not 'timestamp value [step]' (lines {first})",
                line=first[0],
                count=bad.height,
            )
        )
        df = df.filter(pl.col("wall_time").is_not_null() & pl.col("value").is_not_null())
    if df.height > 1 and df.select(pl.col("step").fill_null(0).eq(0).all()).item():
        why = "no step field" if df.get_column("step").null_count() == df.height else "every step is 0"
        notes.append(
            IngestNote("inferred", f"{key}: {why} (logged without step=); line order used as the step", count=df.height)
        )
        df = df.with_columns(pl.int_range(0, pl.len(), dtype=pl.Int64).alias("step"))
    else:
        df = df.with_columns(pl.col("step").fill_null(0))
    return df, notes


def _parse_run(run_dir: Path, display: str, run: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    files = _metric_files(run_dir)
    keys = dedupe_metrics((k, *split_and_metric(k)) for k, _ in files)
    frames, notes = [], []
    for key, path in files:
        if path.stat().st_size == 0:
            continue
        df, nt = _read_metric(open_file(path, os.path.join(display, "metrics", key)), key)
        notes.extend(nt)
        split, metric = keys[key]
        frames.append(
            df.select(
                pl.lit(run).alias("run"),
                pl.lit(split).alias("split"),
                pl.lit(metric).alias("metric"),
                pl.lit(key).alias("name"),
                "step",
                "wall_time",
                "value",
            )
        )
    return concat_frames(frames), notes


def read_params(run_dir: Path) -> dict[str, str]:
    """``params/<key>`` files of a run: each holds the value as text (nested keys are sub-paths)."""
    pdir = run_dir / "params"
    out: dict[str, str] = {}
    if not pdir.is_dir():
        return out
    for f in sorted(pdir.rglob("*")):
        if f.is_file() and f.stat().st_size <= 1 << 16:
            out[f.relative_to(pdir).as_posix()] = f.read_text(encoding="utf-8", errors="replace").strip()
    return out


class MLflowParser(Parser):
    name = "mlflow"
    title = "MLflow file store (mlruns/)"
    recognises = "mlruns/<experiment>/<run>/metrics/<key> files ('timestamp value step' lines)"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        n = len(_SNIFF.findall(head))
        if not n:
            return 0.0
        if inp.path is not None and "metrics" in inp.path.resolve().parts[:-1]:
            return 0.95
        lines = [ln for ln in head.splitlines()[:-1] if ln.strip()]  # the last may be cut by the head
        if len(lines) >= 3 and all(_STRICT.match(ln) for ln in lines):
            # every line '<13-digit ms timestamp> <value> <step>': an MLflow metric file copied out of its
            # mlruns/ tree (a numeric-column read would take the timestamp for the loss)
            return 0.9
        return 0.6 if n >= 2 else 0.4

    def parse(self, inp: InputFile) -> ParseResult:
        key, run = inp.inner_name, inp.run_name
        meta: dict[str, Any] = {}
        if inp.path is not None:
            parts = inp.path.resolve().parts
            if "metrics" in parts[:-1]:
                i = len(parts) - 1 - parts[::-1].index("metrics")
                key = "/".join(parts[i + 1 :])
                run = _run_name(Path(*parts[:i]))
                meta["config_raw"] = read_params(Path(*parts[:i]))
        df, notes = _read_metric(inp, key)
        split, metric = split_and_metric(key)
        frame = df.select(
            pl.lit(run).alias("run"),
            pl.lit(split).alias("split"),
            pl.lit(metric).alias("metric"),
            pl.lit(key).alias("name"),
            "step",
            "wall_time",
            "value",
        )
        return ParseResult(concat_frames([frame]), notes, meta)

    def sniff_dir(self, path: Path) -> float:
        runs = _run_dirs(path)
        return 0.95 if runs else 0.0

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        runs = _run_dirs(path)
        names = [_run_name(r) for r in runs]
        frames, notes = [], []
        meta: dict[str, Any] = {"runs": len(runs)}
        for r, name in zip(runs, names, strict=True):
            if names.count(name) > 1:  # two runs with one name: keep them apart by run id
                name = f"{name} ({r.name[:8]})"
            set_config(meta, read_params(r), run=name)
            rel = os.path.relpath(r, path)
            fr, nt = _parse_run(r, display if rel == "." else os.path.join(display, rel), name)
            frames.append(fr)
            notes.extend(nt)
        frame = concat_frames(frames)
        if frame.height == 0:
            raise EmptyInputError(f"no metric values found (read as {self.name})", path=display)
        return ParseResult(frame, notes, meta=meta)


PARSERS = [MLflowParser()]
