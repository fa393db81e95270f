"""Shared helpers for the "long tail" trainer parsers (fairseq, YOLO, timm, fastai, MMEngine, ...).

Private module (the leading underscore keeps it out of parser discovery). Everything here is
vectorised with polars: per-epoch CSV tables, flat JSON-lines records and ``key: value`` text
records all become one long (lineno, key, raw value) table before the parser maps keys to
(split, metric) and builds the :data:`lossdoc.model.SCHEMA` frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, canonical_metric, concat_frames

_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")

#: one ``"key": value`` pair of a flat JSON object; value is a quoted string or a bare token
#: (numbers, ``NaN``, ``Infinity``, ``true``, ``null``). Nested objects are not descended into.
JSON_PAIR = r'"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*"|[^,{}\[\]\s]+)'


def readable_metric(raw: str) -> str:
    """A metric name for keys that ``snake_case`` would mangle (``mAP50-95(B)`` -> ``map50_95_b``).

    Lower-cases and joins word characters with ``_``; canonical names (``acc`` -> ``accuracy``,
    ``lr``...) still apply.
    """
    s = _NON_WORD.sub("_", raw.strip()).strip("_").lower() or "value"
    return canonical_metric(s)


def dedupe_metrics(keys: Iterable[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """Map each raw key to (split, metric) so that no (split, metric) comes from two keys.

    ``keys`` holds (raw key, split, metric) in order of first appearance; a later key whose
    (split, metric) is taken falls back to its :func:`readable_metric` name, then to that name
    with a numeric suffix.
    """
    out: dict[str, tuple[str, str]] = {}
    taken: set[tuple[str, str]] = set()
    for raw, split, metric in keys:
        if raw in out:
            continue
        cand = (split, metric)
        if cand in taken:
            cand = (split, _NON_WORD.sub("_", raw.strip()).strip("_").lower() or "value")
            i = 2
            base = cand[1]
            while cand in taken:
                cand = (split, f"{base}_{i}")
                i += 1
        taken.add(cand)
        out[raw] = cand
    return out


def strip_quotes(expr: pl.Expr) -> pl.Expr:
    """``'"9.812"'`` -> ``'9.812'`` (fairseq json writes numbers as strings)."""
    return expr.str.strip_chars().str.strip_chars('"').str.strip_chars()


def json_pairs(lines: pl.DataFrame, col: str = "line") -> pl.DataFrame:
    """Explode flat JSON objects (one per row of ``lines``) into (lineno, key, raw) rows.

    ``raw`` keeps the token as written (quotes stripped), so ``NaN`` / ``Infinity`` survive and
    :func:`lossdoc.ingest.text.to_float` reads them. Row order within a line is kept.
    """
    keep = [c for c in lines.columns if c != col]
    return (
        lines.select(*keep, pl.col(col).str.extract_all(JSON_PAIR).alias("_p"))
        .explode("_p")
        .filter(pl.col("_p").is_not_null())
        # '"key": value' -> split at the closing quote + colon (cheaper than a second regex pass)
        .with_columns(pl.col("_p").str.splitn('":', 2).alias("_kv"))
        .select(
            *keep,
            pl.col("_kv").struct.field("field_0").str.strip_chars_start('"').alias("key"),
            strip_quotes(pl.col("_kv").struct.field("field_1")).alias("raw"),
        )
    )


def split_pairs(
    df: pl.DataFrame, body: str, *, item_sep: str, kv_sep: str, keep: list[str] | None = None
) -> pl.DataFrame:
    """Explode ``body`` (``'k=v, k=v'``, ``'k v | k v'``...) into (keep..., key, raw) rows.

    Plain string splits (``str.split`` + ``str.splitn``), no regex: the hot path of text logs
    that print many ``key value`` pairs per line. Items without ``kv_sep`` are dropped.
    """
    keep = keep if keep is not None else [c for c in df.columns if c != body]
    return (
        df.select(*keep, pl.col(body).str.split(item_sep).alias("_p"))
        .explode("_p")
        .filter(pl.col("_p").str.contains(kv_sep, literal=True))
        .with_columns(pl.col("_p").str.splitn(kv_sep, 2).alias("_kv"))
        .select(
            *keep,
            pl.col("_kv").struct.field("field_0").str.strip_chars().alias("key"),
            pl.col("_kv").struct.field("field_1").str.strip_chars().alias("raw"),
        )
    )


def regex_pairs(df: pl.DataFrame, body: str, pattern: str, keep: list[str]) -> pl.DataFrame:
    """Explode ``body`` into one row per match of ``pattern`` (two groups: a name and a number): the ``keep``
    columns, ``name`` and ``value`` (Float64 by :func:`lossdoc.ingest.text.to_float`, nan/inf kept). Row order
    within a line is kept. For pairs a regex must find (``loss = 1.02, accuracy = 0.5``, ``'acc': 0.9``,
    ``Loss=0.2019 | Reco=0.1994``); plain separators are :func:`split_pairs`' cheaper job."""
    p = pl.col("_p")
    return (df.select(*keep, pl.col(body).str.extract_all(pattern).alias("_p"))
            .explode("_p").filter(p.is_not_null())
            .select(*keep, p.str.extract(pattern, 1).alias("name"), to_float(p.str.extract(pattern, 2)).alias("value")))


def drop_torn_tail(inp: InputFile, df: pl.DataFrame, notes: list[IngestNote], what: str = "line") -> pl.DataFrame:
    """Drop the rows of the last physical line when the input does not end with a newline."""
    if df.height == 0:
        return df
    last = int(df.get_column("lineno").max())  # type: ignore[arg-type]
    note = torn_tail_note(inp, last, what)
    if note is None:
        return df
    notes.append(note)
    return df.filter(pl.col("lineno") != last)


def read_text_lines(inp: InputFile, notes: list[IngestNote]) -> pl.DataFrame:
    """:func:`load_lines` with ``\\r`` kept out (CRLF endings) and surrounding blanks stripped."""
    lines = load_lines(inp, notes=notes)
    return lines.with_columns(pl.col("line").str.strip_chars_end("\r"))


def read_csv_table(inp: InputFile, notes: list[IngestNote]) -> tuple[pl.DataFrame, list[str]]:
    """Read a small per-epoch CSV (YOLO ``results.csv``, timm ``summary.csv``, fastai ``history.csv``).

    Returns every cell as a stripped string plus a ``lineno`` column (1-based physical line),
    and the stripped header names. Tolerates space-padded headers and cells (Ultralytics 8.x,
    YOLOv5), CRLF endings, blank lines, a torn last row (dropped with a ``torn_tail`` note) and
    the header repeated mid-file (rows skipped with a note).
    """
    text = inp.read_text()
    raw_lines = text.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    numbered = [(i + 1, ln.rstrip("\r")) for i, ln in enumerate(raw_lines)]
    numbered = [(i, ln) for i, ln in numbered if ln.strip()]
    if not numbered:
        raise ParseError("no header line", path=inp.name)
    header_no, header_line = numbered[0]
    header = [h.strip() for h in header_line.split(",")]
    body = numbered[1:]
    if body and not inp.ends_with_newline():
        note = torn_tail_note(inp, body[-1][0], "row")
        if note is not None:
            notes.append(note)
        body = body[:-1]
    names = [h if h else f"_col{j}" for j, h in enumerate(header)]
    if len(set(names)) != len(names):
        seen: dict[str, int] = {}
        for j, h in enumerate(names):
            if h in seen:
                names[j] = f"{h}_{j}"
            seen[h] = j
    if not body:
        empty = {"lineno": pl.Series([], dtype=pl.Int64), **{n: pl.Series([], dtype=pl.String) for n in names}}
        return pl.DataFrame(empty), header
    # One row per physical line, split on commas (these files never quote a comma): a ragged or
    # quote-mangled row cannot shift the others or the line numbers.
    lines = pl.DataFrame(
        {"lineno": [i for i, _ in body], "_l": [ln for _, ln in body]},
        schema={"lineno": pl.Int64, "_l": pl.String},
    ).with_columns(pl.col("_l").str.split(","))
    ragged = lines.filter(pl.col("_l").list.len() != len(names))
    if ragged.height:
        notes.append(
            IngestNote("skipped_lines", f"{ragged.height} row(s) do not have the header's {len(names)} fields "
                       "(missing cells read as not logged, extra cells ignored)",
                       line=int(ragged.get_column("lineno")[0]), count=ragged.height)
        )
    df = lines.select(
        *(pl.col("_l").list.get(j, null_on_oob=True).str.strip_chars().str.strip_chars('"').alias(n)
          for j, n in enumerate(names)),
        "lineno",
    )
    first = names[0]
    repeated = df.filter(pl.col(first) == header[0])
    if repeated.height:
        rows = repeated.get_column("lineno").to_list()
        notes.append(
            IngestNote("restart", f"header line repeated {len(rows)} time(s) (appended run?); those lines skipped",
                       line=rows[0], count=len(rows))
        )
        df = df.filter(pl.col(first) != header[0])
    return df, header


def wide_to_long(
    df: pl.DataFrame,
    columns: dict[str, tuple[str, str]],
    *,
    run: str,
    step: pl.Expr,
    epoch: pl.Expr | None = None,
    wall_time: pl.Expr | None = None,
) -> pl.DataFrame:
    """Unpivot string columns of a wide table into SCHEMA rows, one per non-empty cell.

    ``columns`` maps column name -> (split, metric); the column name is the row's ``name``.
    Empty cells are absent values (no row); ``nan`` / ``inf`` are kept as values.
    """
    base = df.with_columns(
        step.cast(pl.Int64, strict=False).alias("_step"),
        (epoch if epoch is not None else pl.lit(None)).cast(pl.Float64, strict=False).alias("_epoch"),
        (wall_time if wall_time is not None else pl.lit(None)).cast(pl.Float64, strict=False).alias("_wall"),
    )
    frames = []
    for col, (split, metric) in columns.items():
        frames.append(
            base.filter(pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != ""))
            .select(
                pl.lit(run).alias("run"),
                pl.lit(split).alias("split"),
                pl.lit(metric).alias("metric"),
                pl.lit(col).alias("name"),
                pl.col("_step").alias("step"),
                pl.col("_epoch").alias("epoch"),
                pl.col("_wall").alias("wall_time"),
                to_float(pl.col(col)).alias("value"),
                pl.col("lineno"),
            )
        )
    return concat_frames_keep_lineno(frames)


def concat_frames_keep_lineno(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(
            schema={"run": pl.String, "split": pl.String, "metric": pl.String, "name": pl.String,
                    "step": pl.Int64, "epoch": pl.Float64, "wall_time": pl.Float64, "value": pl.Float64,
                    "lineno": pl.Int64}
        )
    return pl.concat(frames, how="vertical_relaxed")


def finish(long: pl.DataFrame, notes: list[IngestNote], what: str = "line") -> pl.DataFrame:
    """Drop rows without a step or with an unreadable value (noted as ``skipped_lines``); SCHEMA frame."""
    if long.height == 0:
        return concat_frames([])
    bad = long.filter(pl.col("step").is_null() | pl.col("value").is_null())
    if bad.height:
        lines = bad.get_column("lineno").unique(maintain_order=True)
        first = lines.head(3).to_list()
        notes.append(
            IngestNote(
                "skipped_lines",
                f"{bad.height} value(s) on {lines.len()} {what}(s) without a readable step or number "
                f"(first at lines {first}); skipped",
                line=first[0],
                count=int(bad.height),
            )
        )
        long = long.filter(pl.col("step").is_not_null() & pl.col("value").is_not_null())
    return concat_frames([long.drop("lineno")])


def map_keys(
    keys: Iterable[str],
    classify: Callable[[str], tuple[str, str] | None],
) -> dict[str, tuple[str, str]]:
    """Apply ``classify`` (raw key -> (split, metric) or None to ignore) and dedupe the result."""
    triples = []
    for k in keys:
        sm = classify(k)
        if sm is not None:
            triples.append((k, sm[0], sm[1]))
    return dedupe_metrics(triples)


def last_run_result(long: pl.DataFrame, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
    """The end of a line reader's ``parse``: the last of several runs kept (``runs.keep_last_run``, the others
    noted, the file's lines telling runs apart), rows without a step or value dropped (:func:`finish`)."""
    from lossdoc.ingest.runs import keep_last_run, reference

    meta: dict[str, object] = {}
    long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
    return ParseResult(finish(long, notes), notes, meta)
