"""Shared helpers for the column-oriented formats (Keras/Lightning/generic CSV, JSON dicts).

Not a format (the leading underscore keeps :mod:`lossdoc._builtin` from looking for
``PARSERS`` here). Everything is vectorised with polars: a CSV is read once with every
column as a string, then unpivoted to the long :data:`lossdoc.model.SCHEMA` table, and the
cells are turned into floats with :func:`lossdoc.ingest.text.to_float` semantics, so
``nan``/``inf``/``-Infinity`` survive as values while empty and ``NA`` cells are simply not
logged points.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import load_lines, to_float
from lossdoc.model import (
    IngestNote,
    canonical_metric,
    conform_blocks,
    snake_case,
    split_and_metric,
)

#: Cells that mean "nothing logged here" (not a value): empty, Keras ``NA``, pandas/None spellings.
_CLOCK = re.compile(r"^(?:\d{4}-\d\d-\d\d[ T])?\d{1,3}:\d\d(?::\d\d(?:\.\d+)?)?$")
MISSING_TOKENS: tuple[str, ...] = ("", "NA", "N/A", "n/a", "na", "None", "none", "null", "NULL", "-", "--")

_SEPARATORS = (",", "\t", ";", "|")


@dataclass(slots=True)
class CsvHead:
    """What a sniffer sees: the separator, the header fields and a few rows (all stripped)."""

    sep: str
    header: list[str]
    rows: list[list[str]]
    truncated: bool  #: the head ended inside the file (more rows follow)

    @property
    def lower(self) -> list[str]:
        return [h.lower() for h in self.header]

    def has_empty_cells(self) -> bool:
        n = len(self.header)
        return any(len(r) < n or any(c == "" for c in r) for r in self.rows)

    def numeric_share(self) -> float:
        # a clock cell ("0:00:21", the elapsed-time columns of the BERT fine-tuning tutorial's training_stats.csv,
        # or "2025-07-03 15:56:22") is neither a metric nor text: it does not count either way
        cells = [c for r in self.rows for c in r if c not in MISSING_TOKENS and not _CLOCK.match(c.strip())]
        if not cells:
            return 0.0
        return sum(1 for c in cells if is_number(c)) / len(cells)


def is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def detect_separator(header_line: str) -> str | None:
    """The separator of a header line: the most frequent of ``, TAB ; |`` (None if none occurs),
    not counting those inside double-quoted names (a quoted name may also run past the line)."""
    bare = re.sub(r'"[^"]*$', "", re.sub(r'"(?:[^"]|"")*"', "", header_line))
    counts = {s: bare.count(s) for s in _SEPARATORS}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    return sep if n else None


#: Most columns a table may have (a W&B export of ~600 runs with their __MIN/__MAX partners).
MAX_COLUMNS = 2_000
#: How far :func:`sniff_csv` looks for the end of a long header line.
MAX_HEADER_BYTES = 16 * 1024 * 1024


def sniff_csv(inp: InputFile, max_rows: int = 30) -> CsvHead | None:
    """Header and first rows of a delimited text file, or None if it does not look like one."""
    size = 32 * 1024
    text = inp.head_text(size)
    if not text or "\x00" in text[:1024]:
        return None
    # A wide export (a W&B CSV of many runs, 10^5 columns) has a header line longer than the usual
    # head: look further, up to MAX_HEADER_BYTES, for the end of the header and a first row.
    while text.count("\n") < 2 and len(text) >= size - 4 and size < MAX_HEADER_BYTES:
        size = min(size * 8, MAX_HEADER_BYTES)
        text = inp.head_text(size)
    lines = text.splitlines()
    truncated = len(text) >= size - 4
    if truncated and lines:
        lines = lines[:-1]  # the head may cut the last line
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return None
    sep = detect_separator(lines[0])
    if sep is None:
        return None
    try:
        parsed = list(csv.reader(io.StringIO("\n".join(lines[: max_rows + 1])), delimiter=sep))
    except csv.Error:
        return None
    header = [h.strip() for h in parsed[0]]
    rows = [[_TENSOR_CELL_RE.sub(r"\1", c.strip()) for c in r] for r in parsed[1:]]
    return CsvHead(sep=sep, header=header, rows=rows, truncated=truncated)


@dataclass(slots=True)
class Table:
    """A delimited file read with every column as a string.

    ``df`` has the stripped header names plus ``_line`` (the 1-based line of each row in the
    file); blank lines and a torn last row are already removed (and noted in ``notes``).
    """

    df: pl.DataFrame
    header: list[str]
    notes: list[IngestNote] = field(default_factory=list)


def torn_row_note(line: int, cut: str | None = None) -> IngestNote:
    """The note for a table's last row cut off without a line ending (a file still being written): the
    row is not read, or (``cut``, the column of its last cell) only that cell is not. One wording for
    every reader of such a table."""
    if cut is not None:
        return IngestNote("torn_tail", f"last row has no line ending (file still being written?): its last cell "
                          f"({cut!r}) may be cut there and was not read; the cells before it, each followed by a "
                          "separator, were", line=line)
    return IngestNote("torn_tail", "last row has no line ending (file still being written?); it was not read", line=line)


def read_table(inp: InputFile, sep: str | None = None, *, what: str = "CSV", torn_cells: bool = True) -> Table:
    """Read a delimited file (CSV/TSV, CRLF or LF, with or without BOM) as strings.

    Ragged rows are tolerated (missing trailing cells read as empty, extra cells ignored)
    and noted; a last row without a line ending (file still being written) is noted and loses its
    last cell, which may be cut (``torn_cells``; the whole row when fewer than two cells would remain, or
    with ``torn_cells=False``: tables that hold one value a row have nothing to gain). Raises
    :class:`EmptyInputError` for an empty or header-only file.
    """
    if inp.size == 0:
        raise EmptyInputError("file is empty", path=inp.name)
    if sep is None:
        head = sniff_csv(inp)
        if head is None:
            raise ParseError(f"not a delimited ({what}) file: no separator in the header line", path=inp.name, line=1)
        sep = head.sep
    src: object
    if inp.is_utf8_file():
        src = inp.path
    else:
        src = io.BytesIO(inp.read_text().encode("utf-8"))
    try:
        df = pl.read_csv(
            src,  # type: ignore[arg-type]
            separator=sep,
            has_header=True,
            infer_schema=False,
            truncate_ragged_lines=True,
            encoding="utf8-lossy",
            quote_char='"',
            raise_if_empty=False,
            glob=False,  # a file named run[1].csv is a name, not a pattern
        )
    except pl.exceptions.PolarsError as exc:
        # polars gives up on a stray quote inside an unquoted cell ('5" screen'); Python's csv
        # module reads it as a literal character. Only this rare case pays for the Python loop.
        df = _read_csv_python(inp, sep)
        if df is None:
            raise ParseError(f"cannot read as {what}: {str(exc).splitlines()[0]}", path=inp.name) from None
    if len(df.columns) > MAX_COLUMNS:  # each value column becomes a series (~3 ms each, and its checks)
        raise ParseError(f"{what} has {len(df.columns):,} columns; lossdoc reads at most {MAX_COLUMNS:,} per "
                         "table: keep the step and metric columns you need (e.g. with `cut -d, -f1-50`)",
                         path=inp.name, line=1)
    header = [c.strip().lstrip("\ufeff") for c in df.columns]
    if len(set(header)) != len(header):  # "loss" and " loss" in one header: keep them apart
        header = [h if header.index(h) == i else f"{h}_{i}" for i, h in enumerate(header)]
    df = df.rename(dict(zip(df.columns, header))).with_row_index("_line", offset=2)
    df = df.with_columns(pl.col("_line").cast(pl.Int64))
    notes: list[IngestNote] = []
    if df.height == 0:
        raise EmptyInputError(f"{what} has a header but no rows", path=inp.name, line=1)
    # Blank lines come back as all-null rows; they keep the row -> line mapping, then go.
    cols = header
    df = df.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in cols))
    # A logger that writes its header each time it starts (open(..., "a")) repeats it mid-file.
    repeated = df.filter(pl.all_horizontal(pl.col(c).str.strip_chars() == c for c in cols))
    if repeated.height:
        df = df.filter(~pl.col("_line").is_in(repeated.get_column("_line").implode()))
        notes.append(
            IngestNote(
                "other",
                f"the header line is repeated {repeated.height} time(s) inside the file (appended runs?); "
                "the repeats were skipped",
                line=int(repeated.get_column("_line").first()),  # type: ignore[arg-type]
                count=repeated.height,
            )
        )
    ragged = _ragged_lines(inp, sep, len(header))
    if ragged is not None and ragged.height:
        first = int(ragged.get_column("lineno").first())  # type: ignore[arg-type]
        short = int(ragged.filter(pl.col("n") < len(header)).height)
        notes.append(
            IngestNote(
                "other",
                f"{ragged.height} row(s) do not have the header's {len(header)} fields "
                f"({short} short: missing cells read as empty; {ragged.height - short} long: extra cells ignored)",
                line=first,
                count=ragged.height,
            )
        )
    if df.height and not inp.ends_with_newline():
        # only the row's last written cell can be cut (every cell before it is followed by a separator): that
        # cell is not read; the row is kept when two cells or more remain (a step and a value), else dropped
        last = int(df.get_column("_line").max())  # type: ignore[arg-type]
        row = df.filter(pl.col("_line") == last).row(0, named=True)
        filled = [c for c in header if row.get(c) is not None and str(row[c]).strip() != ""]
        if torn_cells and len(filled) >= 3:
            cut = filled[-1]
            df = df.with_columns(pl.when(pl.col("_line") == last).then(None).otherwise(pl.col(cut)).alias(cut))
            notes.append(torn_row_note(last, cut))
        else:
            df = df.filter(pl.col("_line") != last)
            notes.append(torn_row_note(last))
    if df.height == 0:
        raise EmptyInputError(f"{what} has a header but no complete rows", path=inp.name, line=1)
    df, tensors = _untensor(df, header)
    if tensors:
        notes.append(IngestNote("inferred", f"cells written as tensor reprs ({', '.join(tensors[:4])}: "
                                "'tf.Tensor(1017.89984, shape=(), dtype=float32)', 'tensor(0.5432)') read as the "
                                "number inside"))
    return Table(df=df, header=header, notes=notes)


#: A cell holding a printed scalar tensor (a list of tf.Tensor / torch tensors saved with pandas): the number
#: inside is the value. ``tf.Tensor(1017.89984, shape=(), dtype=float32)``, ``tensor(0.5432, device='cuda:0')``.
_TENSOR_CELL = r"^\s*(?:tf\.Tensor|tensor)\(\s*([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf))\s*(?:,[^()]*(?:\([^()]*\)[^()]*)*)?\)\s*$"
_TENSOR_CELL_RE = re.compile(_TENSOR_CELL)


def _untensor(df: pl.DataFrame, header: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """``df`` with every cell that is a printed scalar tensor replaced by its number; the columns that held one."""
    cols = [c for c in header if df.schema.get(c) == pl.String]
    if not cols:
        return df, []
    # a column is written one way throughout: its first rows say whether it holds tensors (cheap on big tables)
    hit = df.head(100).select([pl.col(c).str.contains(r"(?:tf\.Tensor|tensor)\(").any().alias(c) for c in cols]).row(0)
    found = [c for c, h in zip(cols, hit, strict=True) if h]
    if not found:
        return df, []
    return df.with_columns([
        pl.coalesce(pl.col(c).str.extract(_TENSOR_CELL, 1), pl.col(c)).alias(c) for c in found]), found


def _read_csv_python(inp: InputFile, sep: str) -> pl.DataFrame | None:
    """Every cell as a string, with the header's width (short rows padded, long rows cut)."""
    try:
        rows = list(csv.reader(io.StringIO(inp.read_text()), delimiter=sep))
    except csv.Error:
        return None
    if not rows or not rows[0]:
        return None
    names = [h if h else f"_col{j}" for j, h in enumerate(rows[0])]
    names = [h if names.index(h) == j else f"{h}_{j}" for j, h in enumerate(names)]
    body = [r + [None] * (len(names) - len(r)) if r else [None] * len(names) for r in rows[1:]]  # type: ignore[list-item]
    return pl.DataFrame([r[: len(names)] for r in body], schema={n: pl.String for n in names}, orient="row")


def _ragged_lines(inp: InputFile, sep: str, n_fields: int) -> pl.DataFrame | None:
    """Lines (after the header) whose field count differs from the header's (quote-aware enough)."""
    try:
        lines = load_lines(inp, clean=False)
    except Exception:  # noqa: BLE001 - only used for a note
        return None
    body = lines.filter((pl.col("lineno") > 1) & (pl.col("line").str.strip_chars() != ""))
    unquoted = pl.col("line")
    if body.select(unquoted.str.contains('"', literal=True).any()).item():  # quoted cells may hold `sep`
        unquoted = unquoted.str.replace_all(r'"[^"]*"', "")
    n = (unquoted.str.count_matches(sep, literal=True) + 1).alias("n")
    out = body.select("lineno", n).filter(pl.col("n") != n_fields)
    if not inp.ends_with_newline() and lines.height:
        out = out.filter(pl.col("lineno") != lines.get_column("lineno").max())
    return out


class SeriesNamer:
    """Assigns each source name one (split, metric) so that one series never has two names.

    The first name to claim a (split, metric) keeps it; a later name that maps to the same pair
    gets its own snake_case name as metric (``train_samples_per_second`` beside
    ``train_tokens_per_second``, both "throughput").
    """

    def __init__(self) -> None:
        self.owner: dict[tuple[str, str], str] = {}
        self.assigned: dict[str, tuple[str, str]] = {}

    def assign(self, name: str, split: str, metric: str, *, ident: str | None = None) -> tuple[str, str]:
        """(split, metric) for ``name``; ``ident`` (default ``name``) identifies the series source,
        for logs where one name appears under several splits (a ``"split": "val"`` field)."""
        ident = name if ident is None else ident
        if ident in self.assigned:
            return self.assigned[ident]
        key = (split, metric)
        if key in self.owner and self.owner[key] != name:
            base = snake_case(name)
            metric = base
            i = 2
            while (split, metric) in self.owner:
                metric = f"{base}_{i}"
                i += 1
            key = (split, metric)
        self.owner[key] = name
        self.assigned[ident] = key
        return key

    def auto(self, name: str, default_split: str = "train") -> tuple[str, str]:
        split, metric = guess_split_metric(name, default_split)
        return self.assign(name, split, metric)


def bare_split(name: str) -> str | None:
    """The split a column named by a split word alone names (``valid`` -> ``val``, ``Train`` -> ``train``), else None.

    In a file named as a loss (``losses.csv`` with columns ``train,valid,total``) such a column is that
    split's loss, not a training series called ``valid``."""
    # the word alone is a split exactly when "<word>_loss" reads as that split's loss
    split, metric = split_and_metric(re.sub(r"\s+", "_", name.strip()).lower() + "_loss", default_split="?")
    return split if split != "?" and metric == "loss" else None


#: canonical names a 'metrics/' namespace may hold (:func:`guess_split_metric`)
_NAMESPACED = frozenset({"loss", "lr", "accuracy", "grad_norm", "throughput"})


def guess_split_metric(name: str, default_split: str = "train") -> tuple[str, str]:
    """:func:`lossdoc.model.split_and_metric` that also reads spaced names (``Valid MSE``, ``Train loss``)."""
    spaced = re.sub(r"\s+", "_", name.strip())
    split, metric = split_and_metric(spaced, default_split)
    if metric.startswith("metrics_") and canonical_metric(metric[len("metrics_"):]) in _NAMESPACED:
        # 'metrics/loss', 'metrics/learning_rate' beside 'val_metrics/loss': a 'metrics/' namespace around the
        # loss or the lr, not a metric of its own
        metric = canonical_metric(metric[len("metrics_"):])
    if split == default_split and _EVAL_TASK.match(name.strip().lower()):
        # detectron2 writes its evaluators' results into metrics.json as '<task>/<metric>' ('bbox/AP', 'segm/AP50',
        # 'sem_seg/mIoU', 'panoptic_seg/PQ'; detectron2/engine/defaults.py, flatten_results_dict): computed on the
        # evaluation set, never on the training batches
        return "val", metric
    if split == default_split:
        # camelCase headers: 'ValLoss' / 'valAcc' name their split as 'val_loss' / 'Val Loss' do
        snake = snake_case(name)
        if snake != spaced.lower():
            s2, m2 = split_and_metric(snake, default_split)
            if s2 != default_split:
                return s2, m2
        # 'exposure_val_loss' beside 'exposure_train_loss': a task's name, then the split, then the metric
        m = _INFIX_SPLIT.match(snake_case(name))
        if m and not set(m.group(1).split("_")) & (_NOT_A_TASK | _SPLIT_WORDS):
            return split_and_metric(f"{m.group(2)}_{m.group(3)}", default_split)
    return split, metric


#: the task prefixes of detectron2's evaluation results in metrics.json
_EVAL_TASK = re.compile(r"^(?:bbox|segm|keypoints|sem_seg|panoptic_seg)/")
#: words before the split that make the column a summary of the series, not a task's series ('best_val_loss')
_NOT_A_TASK = frozenset({"best", "min", "max", "lowest", "highest", "top", "ema", "smooth", "smoothed", "running",
                         "moving", "final", "last", "prev", "previous", "initial", "init", "baseline", "std", "var"})
_SPLIT_WORDS = frozenset({"train", "training", "val", "valid", "validation", "eval", "test", "dev"})
#: ``<task>_<split>_<loss|acc>`` (``exposure_val_loss``): the split word inside the name, before the metric
_INFIX_SPLIT = re.compile(r"^([a-z][a-z0-9]*(?:_[a-z0-9]+)*?)_(train|training|val|valid|validation|eval|test)"
                          r"_(loss|acc|accuracy)$")


def melt(
    df: pl.DataFrame,
    columns: Mapping[str, tuple[str, str]],
    *,
    run: str,
    step: str = "_step",
    epoch: str | None = None,
    wall_time: str | None = None,
    line: str = "_line",
) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """Wide string table -> one :data:`SCHEMA` block per value column (``ParseResult(blocks=...)``).

    ``columns`` maps each value column to its (split, metric); ``step`` / ``epoch`` /
    ``wall_time`` name already-typed columns of ``df``. Missing cells (:data:`MISSING_TOKENS`)
    are not points; non-numeric cells are returned separately (``name``, ``_line``, ``raw``)
    so the caller can note them. Series come out one after another, each in file order, with
    literal key columns: a 10^7-row metrics.csv is not unpivoted into one 3*10^7-row table with
    four string columns (3.1 s and ~3 GB there).
    """
    blocks: list[pl.DataFrame] = []
    bads: list[pl.DataFrame] = []
    for name, (split, metric) in columns.items():
        raw = pl.col(name).cast(pl.String).str.strip_chars()
        cells = (df.select(step, line, *[c for c in (epoch, wall_time) if c], raw.alias("raw"))
                 .filter(pl.col("raw").is_not_null() & ~pl.col("raw").is_in(list(MISSING_TOKENS)))
                 .with_columns(pl.col("raw").cast(pl.Float64, strict=False).alias("value")))
        bad = cells.filter(pl.col("value").is_null())
        if bad.height:  # the stripped cell did not cast as it stands: to_float's spellings, else bad
            cells = cells.with_columns(pl.col("value").fill_null(to_float(pl.col("raw"))))
            bad = cells.filter(pl.col("value").is_null())
        if bad.height:
            bads.append(bad.select(pl.lit(name).alias("name"), line, "raw"))
            cells = cells.filter(pl.col("value").is_not_null())
        blocks.append(cells.select(
            pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
            pl.lit(name).alias("name"), pl.col(step).alias("step"),
            (pl.col(epoch).cast(pl.Float64) if epoch else pl.lit(None, dtype=pl.Float64)).alias("epoch"),
            (pl.col(wall_time).cast(pl.Float64) if wall_time else pl.lit(None, dtype=pl.Float64)).alias("wall_time"),
            pl.col("value"),
        ))
    bad_all = (pl.concat(bads) if bads else
               pl.DataFrame(schema={"name": pl.String, line: pl.Int64, "raw": pl.String}))
    return conform_blocks(blocks), bad_all


def bad_cells_note(bad: pl.DataFrame, *, what: str = "cell") -> IngestNote | None:
    """A ``skipped_lines`` note for non-numeric cells in value columns (None if there are none)."""
    if bad.height == 0:
        return None
    first = bad.sort("_line").row(0, named=True)
    cols = bad.get_column("name").unique(maintain_order=True).to_list()
    shown = ", ".join(repr(c) for c in cols[:3]) + (" ..." if len(cols) > 3 else "")
    return IngestNote(
        "skipped_lines",
        f"{bad.height} non-numeric {what}(s) skipped in {shown} (first: {first['raw']!r})",
        line=int(first["_line"]),
        count=bad.height,
    )


def numeric_columns(df: pl.DataFrame, candidates: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``candidates`` into columns holding at least one number and columns holding none."""
    if not candidates:
        return [], []

    def counts_in(frame: pl.DataFrame, cols: Sequence[str]) -> tuple[int, ...]:
        return frame.select([to_float(pl.col(c).cast(pl.String)).is_not_null().sum().alias(c) for c in cols]).row(0)

    # a number among the first 1,000 rows settles a column; only the others are read to the end
    head = dict(zip(candidates, counts_in(df.head(1000), candidates)))
    rest = [c for c in candidates if not head[c]]
    full = dict(zip(rest, counts_in(df, rest))) if rest and df.height > 1000 else {}
    counts = [head[c] or full.get(c, 0) for c in candidates]
    num = [c for c, n in zip(candidates, counts) if n]
    other = [c for c, n in zip(candidates, counts) if not n]
    return num, other


def int_axis(df: pl.DataFrame, col: str, *, alias: str, what: str, missing: str, path: str,
             notes: list[IngestNote]) -> pl.DataFrame:
    """``df`` with column ``col`` parsed as an integer axis (``alias``, :func:`int_column` with ``what``); rows
    without one are dropped with a ``skipped_lines`` note, "N row(s) without {missing} skipped", naming the
    first of them."""
    df = df.with_columns(int_column(df, col, path=path, what=what).alias(alias))
    bad = df.filter(pl.col(alias).is_null())
    if bad.height:
        notes.append(IngestNote("skipped_lines", f"{bad.height} row(s) without {missing} skipped",
                                line=int(bad.get_column("_line").first()),  # type: ignore[arg-type]
                                count=bad.height))
        df = df.filter(pl.col(alias).is_not_null())
    return df


def step_axis(df: pl.DataFrame, col: str, *, path: str, notes: list[IngestNote]) -> pl.DataFrame:
    """``df`` with column ``col`` parsed as the integer step (``_step``, :func:`int_axis`)."""
    return int_axis(df, col, alias="_step", what="step", missing=f"a {col!r} value", path=path, notes=notes)


def int_column(df: pl.DataFrame, col: str, *, path: str, what: str) -> pl.Series:
    """Parse an axis column (``epoch``, ``step``) as integers.

    Float spellings of integers (``3.0``) are accepted. Empty cells stay null, and so do a few
    garbled cells (a corrupt line: the caller skips the row with a note); a column that is mostly
    not whole numbers is a ParseError.
    """
    cells = df.get_column(col)
    if cells.dtype == pl.String:
        direct = cells.cast(pl.Int64, strict=False)
        if direct.null_count() == cells.null_count():  # every cell an integer as written (the usual case)
            return direct
    raw = cells.cast(pl.String).str.strip_chars()
    as_float = raw.str.strip_chars_start("+").cast(pl.Float64, strict=False)
    finite_int = as_float.is_finite() & (as_float == as_float.floor())
    bad = (raw.is_not_null() & (raw != "") & ~finite_int.fill_null(False)).fill_null(False)
    filled = int((raw.is_not_null() & (raw != "")).sum())
    if bad.any() and 2 * int(bad.sum()) < filled:
        return as_float.cast(pl.Int64, strict=False).zip_with(~bad, pl.Series([None], dtype=pl.Int64))
    if bad.any():
        i = int(bad.arg_max())  # type: ignore[arg-type]
        line = int(df.get_column("_line")[i])
        raise ParseError(f"{what} column {col!r} holds {raw[i]!r}, not a whole number", path=path, line=line)
    return as_float.cast(pl.Int64, strict=False)
