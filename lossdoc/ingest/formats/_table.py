"""Reading a small delimited file (CSV / TSV) for the long-tail parsers, all cells as strings.

Cells are kept as strings so that ``nan``/``inf``/``NaN`` survive (:func:`to_float` converts
them); a row with a different number of fields than the header is reported, never fatal; an
unterminated last row is dropped as a torn tail when the file is one a trainer appends to
(``live``), and otherwise only when it is visibly cut (fewer fields than the header) - an
exported CSV often just lacks the final newline.
"""

from __future__ import annotations

import io

import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.inputs import InputFile
from lossdoc.model import IngestNote


def read_table(inp: InputFile, sep: str = ",", *, live: bool = True) -> tuple[pl.DataFrame, list[IngestNote]]:
    """Header + rows of ``inp`` as a String frame (column names stripped), and notes."""
    text = inp.read_text()
    notes: list[IngestNote] = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.rstrip("\n")
    if not body.strip():
        return pl.DataFrame(), notes
    lines = pl.Series("line", body.split("\n"))
    header_fields = _count_fields(lines[0], sep)
    nfields = lines.str.count_matches(sep, literal=True) + 1
    if not text.endswith("\n") and len(lines) > 1:
        last = lines[-1]
        if live or _count_fields(last, sep) < header_fields:
            notes.append(
                IngestNote(
                    "torn_tail", "last row has no line ending (file still being written?); ignored", line=len(lines)
                )
            )
            lines = lines.head(len(lines) - 1)
            nfields = nfields.head(len(nfields) - 1)
    # Quoted separators make the quick count unreliable; only trust it for unquoted files.
    if '"' not in body:
        ragged = (nfields.slice(1) != header_fields) & (lines.slice(1).str.strip_chars() != "")
        n_ragged = int(ragged.sum())
        if n_ragged:
            first = int(ragged.arg_true()[0]) + 2
            notes.append(
                IngestNote(
                    "skipped_lines",
                    f"{n_ragged} row(s) have a different number of fields than the header "
                    "(missing cells read as not logged, extra cells ignored)",
                    line=first,
                    count=n_ragged,
                )
            )
    data = "\n".join(lines.to_list()) + "\n"
    try:
        df = pl.read_csv(
            io.BytesIO(data.encode("utf-8")), separator=sep, infer_schema=False, truncate_ragged_lines=True
        )
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"cannot read as a table: {exc}".splitlines()[0], path=inp.name) from None
    df = df.rename({c: c.strip() for c in df.columns})
    # Blank lines become all-null rows.
    if df.width:
        df = df.filter(~pl.all_horizontal(pl.all().is_null()))
    return df, notes


def _count_fields(line: str, sep: str) -> int:
    return line.count(sep) + 1
