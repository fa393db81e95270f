"""One curve per file, numbers only: ``np.savetxt("train_loss.csv", losses)`` and its kin (no
single trainer owns it; the layouts below are what ``numpy.savetxt``, ``pandas.Series.to_csv`` and
``print(loss, file=f)`` write).

Sample (``train_loss.csv``; ``val_loss.csv`` beside it)::

    2.302585092994045684e+00
    1.873412847518920898e+00
    1.624108791351318359e+00

Also read: an optional first line naming the column (``loss``; ``# train loss`` as ``savetxt(header=)``
writes it; ``,0`` from pandas), ``#`` comment lines, and headerless ``step value`` pairs (``0,2.30`` /
``0 2.30``: pandas with its index, or two columns of ``savetxt``), whose first column is the step when
it never decreases. The file name names the series (``train_loss`` -> train loss, ``val_acc`` -> val
accuracy; :func:`lossdoc.model.split_and_metric`), the header when the name does not.

Without a step column the value's position is the step (0-based; an ``inferred`` note says so).
Files side by side in one folder are one run, named after the folder (``csv-dir`` reads the folder).
When a train series has k times as many values as a validation series (a value per batch against
one per epoch), each validation value is placed at the end of its k-value block, noted.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames, snake_case, split_and_metric

_NUM = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
_ONE = re.compile(rf"^\s*({_NUM})\s*$")
_TWO = re.compile(rf"^\s*({_NUM})\s*[,;\t ]\s*({_NUM})\s*$")
_ONE_RS = rf"^\s*({_NUM})\s*$"
_TWO_RS = rf"^\s*({_NUM})\s*[,;\t ]\s*({_NUM})\s*$"
#: File extensions of numeric-column files (and none at all).
SUFFIXES = (".csv", ".txt", ".tsv", ".dat", ".log", "")
#: Words in a file name that say it holds a training curve.
_METRIC_NAME = re.compile(
    r"(?i)(loss|acc|accuracy|lr|learning_rate|ppl|perplexity|err|error|bleu|f1|score|map|iou|dice|reward|return|"
    r"metric|history|nll|mse|mae|rmse|cost|objective)"
)


def _plural(stem: str) -> str:
    """``train_losses`` -> ``train_loss``, ``val_accs`` -> ``val_acc`` (lists are named in the plural)."""
    s = snake_case(stem)
    for pl_, sg in (("losses", "loss"), ("accs", "acc"), ("accuracies", "accuracy"), ("errors", "error"),
                    ("scores", "score"), ("rewards", "reward"), ("lrs", "lr")):
        if s.endswith(pl_):
            return s[: -len(pl_)] + sg
    return s


def series_of(stem: str, header: str | None) -> tuple[str, str]:
    """(split, metric) of a file from its name, else from its header line."""
    split, metric = split_and_metric(_plural(stem))
    if header and split == "train" and not re.search(r"(?i)train", stem):
        hsplit, hmetric = split_and_metric(_plural(header.strip("# \"',")))
        if hsplit != "train" and snake_case(header) not in ("", "0", "value", "values"):
            return hsplit, hmetric
    return split, metric


def head_shape(text: str) -> tuple[int, str | None] | None:
    """(columns, header) when ``text`` (a file's head) is numbers only: one per line, or
    headerless step/value pairs; an optional first header/comment line. None otherwise."""
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
    if len(text) >= 60_000 and lines:
        lines = lines[:-1]  # the head may cut the last line
    header = None
    body = []
    for ln in lines:
        if not ln:
            continue
        if ln.startswith("#"):
            if header is None and not body:
                header = ln.lstrip("# ").strip() or None
            continue
        body.append(ln)
    if len(body) < 2:
        return None
    if not _ONE.match(body[0]) and not _TWO.match(body[0]):
        if header is not None or len(body[0]) > 80:
            return None
        header, body = body[0], body[1:]
    if len(body) < 3:
        return None
    if all(_ONE.match(b) for b in body):
        return 1, header
    if all(_TWO.match(b) for b in body):
        return 2, header
    return None


def read_numeric(inp: InputFile, notes: list[IngestNote]) -> tuple[pl.DataFrame, str | None, bool]:
    """(frame with ``step``, ``value``; header; whether the step was written) of a numeric-column file."""
    lines = load_lines(inp, notes=notes)
    last = int(lines.get_column("lineno").max() or 0) if lines.height else None
    tail = torn_tail_note(inp, last, "value")
    if tail is not None:
        lines = lines.filter(pl.col("lineno") != last)
        notes.append(tail)
    line = pl.col("line").str.strip_chars()
    lines = lines.with_columns(line.alias("line")).filter((pl.col("line") != "") & ~pl.col("line").str.starts_with("#"))
    one = lines.select("lineno", pl.col("line").str.extract(_ONE_RS, 1).alias("v"))
    header = None
    if lines.height and one.item(0, "v") is None and lines.select(
            pl.col("line").first().str.contains(_TWO_RS)).item() is False:
        header = lines.item(0, "line")
        lines, one = lines.slice(1), one.slice(1)
    two_cols = one.height > 0 and one.get_column("v").null_count() > one.height // 2
    if two_cols:
        g = lines.select("lineno", pl.col("line").str.extract_groups(_TWO_RS).alias("g"))
        df = g.select("lineno", to_float(pl.col("g").struct[0]).alias("s"), to_float(pl.col("g").struct[1]).alias("value"))
    else:
        df = one.select("lineno", pl.lit(None, dtype=pl.Float64).alias("s"), to_float(pl.col("v")).alias("value"))
    bad = df.filter(pl.col("value").is_null())
    if bad.height:
        first = bad.get_column("lineno").head(3).to_list()
        notes.append(IngestNote("skipped_lines", f"{bad.height} line(s) that are not numbers skipped (lines {first})",
                                line=first[0], count=bad.height))
        df = df.filter(pl.col("value").is_not_null())
    stepped = False
    if two_cols:
        s = df.get_column("s")
        integral = bool((s.is_finite() & (s == s.round(0))).all()) if df.height else False
        stepped = integral and bool((s.diff().drop_nulls() >= 0).all())
        if not stepped:  # two measurements per line, not a step: keep the second as the value by position
            notes.append(IngestNote("inferred", "first column is not a step (not whole, increasing numbers): "
                                    "second column read as the value, line order as the step"))
    step = pl.col("s").cast(pl.Int64) if stepped else pl.int_range(0, pl.len(), dtype=pl.Int64)
    return df.select(step.alias("step"), "value"), header, stepped


def frames_for(files: list[tuple[str, str, InputFile]], run: str) -> tuple[pl.DataFrame, list[IngestNote]]:
    """One run from numeric-column files ``(stem, display, input)``: a series per file."""
    from lossdoc.ingest.formats._common import dedupe_metrics

    notes: list[IngestNote] = []
    read: list[tuple[str, str, pl.DataFrame, str | None, bool]] = []
    for stem, display, inp in files:
        nt: list[IngestNote] = []
        df, header, stepped = read_numeric(inp, nt)
        notes.extend(IngestNote(n.kind, f"{display}: {n.message}", n.line, n.run, n.count, n.step) for n in nt)
        if df.height:
            read.append((stem, display, df, header, stepped))
    keys = dedupe_metrics((stem, *series_of(stem, header)) for stem, _, _, header, _ in read)
    train_n = max((df.height for stem, _, df, _, st in read if keys[stem][0] == "train" and not st), default=0)
    frames = []
    for stem, display, df, _, stepped in read:
        split, metric = keys[stem]
        if not stepped:
            k = train_n // df.height if split != "train" and df.height and train_n > df.height else 1
            if k > 1 and train_n % df.height == 0:
                df = df.with_columns(((pl.col("step") + 1) * k - 1).alias("step"))
                notes.append(IngestNote("inferred", f"{display}: {df.height} values against {train_n} training "
                                        f"values: value i placed at step (i+1) x {k} - 1 (the end of its block)"))
            else:
                notes.append(IngestNote("inferred", f"{display}: no step written: the value's position (0-based) "
                                        "is the step"))
        frames.append(df.select(pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                                pl.lit(stem).alias("name"), "step", "value"))
    return concat_frames(frames), notes


class NumericColumnParser(Parser):
    name = "numeric-column"
    title = "One-column numeric file (np.savetxt / a list of losses)"
    recognises = ("numbers only, one per line (or headerless 'step value' pairs), optional header/# comment line; "
                  "named like the curve: train_loss.csv, val_loss.txt, losses.dat")
    priority = 45

    def sniff(self, inp: InputFile) -> float:
        stem, _, ext = inp.inner_name.rpartition(".")
        if not stem:
            stem, ext = inp.inner_name, ""
        if f".{ext}".lower() not in SUFFIXES and ext:
            return 0.0
        shape = head_shape(inp.head_text())
        if shape is None:
            return 0.0
        if shape[0] == 2 and shape[1] and len([h for h in re.split(r"[,;\t ]+", shape[1]) if h.strip()]) >= 2:
            return 0.0  # a named two-column table ("epoch,loss"): the CSV readers' business
        # bare numbers in a file not named like a curve (notes.txt) are not claimed: --format numeric-column
        return 0.8 if _METRIC_NAME.search(stem) or (shape[1] and _METRIC_NAME.search(shape[1])) else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        stem = inp.inner_name.rsplit(".", 1)[0] if "." in inp.inner_name else inp.inner_name
        frame, notes = frames_for([(stem, inp.name, inp)], inp.run_name)
        if frame.height == 0:
            raise EmptyInputError(f"no numbers found (read as {self.name})", path=inp.name)
        return ParseResult(frame, notes)


PARSERS = [NumericColumnParser()]
