"""A fixed-width table printed by a hand-rolled loop: a header line naming the columns (words, a column's
words separated by single spaces, columns by two or more), then one row of numbers per epoch.

No trainer owns it; it is what ``print(f"{'Epoch':<8}{'Train Loss':<13}...")`` then
``print(f"{epoch:<8}{train_loss:<13.4f}...")`` writes, found in public repositories (benchmarks/publiclogs batch
8, unreadable then: DandaAkhilReddy/enzyme-gcn-classifier ``training_output.log``). Sample::

    Epoch    Train Loss   Train Acc    Test Loss    Test Acc     Time
    ----------------------------------------------------------------------
    1        2.4288       0.2771       1.7552       0.2771       0.55    s
    10       1.7038       0.2646       1.7079       0.2458       0.44    s

Read: the header's first column names the axis (``Epoch``, ``Step``, ``Iter``, ``Iteration``), and some column a
loss; a row is a line whose cells, split on blanks, are numbers -- as many as the header has columns, an optional
unit word after the last (``s``, ``sec``) -- under that header (a dashed rule between them is skipped). Each
column is the series its name says (``Train Loss`` -> train loss, ``Test Acc`` -> test accuracy; a column named
by a unit of time is not read). Lines that are neither (the banner, the config, the final summary) are not read
and are not reported one by one: the file is a console log. A header printed again (a restart) starts its rows
over; the runs normaliser keeps the last run, noted.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.formats._tabular import guess_split_metric
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.model import IngestNote, ParseResult

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[nN][aA][nN]|[-+]?[iI][nN][fF]"
_AXES = ("epoch", "step", "iter", "iteration", "ep")
#: a header: 3+ columns of words (a column's words joined by single spaces), columns apart by 2+ blanks
_HEADER = re.compile(r"^\s*([A-Za-z][\w.%()/-]*(?: [A-Za-z][\w.%()/-]*)*)(?:\s{2,}[A-Za-z][\w.%()/-]*(?: [A-Za-z][\w.%()/-]*)*){2,}\s*$")
_TIME_WORDS = {"time", "elapsed", "duration", "sec", "secs", "seconds", "s", "eta"}
_UNITS = ("s", "sec", "secs", "seconds", "ms", "min", "m")
_UNIT = rf"(?:\s+(?:{'|'.join(_UNITS)}))?"


def _columns(header: str) -> list[str]:
    return [c.strip() for c in re.split(r"\s{2,}", header.strip()) if c.strip()]


def _table_header(line: str) -> list[str] | None:
    """The header's column names when ``line`` is a table header with an axis first and a loss column."""
    if not _HEADER.match(line):
        return None
    cols = _columns(line)
    if cols[0].lower() not in _AXES or not any("loss" in c.lower() for c in cols[1:]):
        return None
    return cols


class TextTableParser(Parser):
    name = "text-table"
    title = "Fixed-width table printed by a training loop (header 'Epoch  Train Loss  Val Loss ...', rows of numbers)"
    recognises = ("a header line 'Epoch    Train Loss   Train Acc    Test Loss ...' (columns two or more blanks apart, "
                  "the first an epoch/step/iter, one a loss) followed by rows of numbers, one per epoch")
    priority = 40

    def sniff(self, inp: InputFile) -> float:
        lines = inp.head_text().splitlines()
        for i, line in enumerate(lines):
            cols = _table_header(line)
            if cols is None:
                continue
            row = re.compile(rf"^\s*\d+(?:\s+(?:{_NUM})){{{len(cols) - 1}}}{_UNIT}\s*$")
            after = [ln for ln in lines[i + 1:i + 8] if ln.strip() and not re.fullmatch(r"\s*[-=]{5,}\s*", ln)]
            if len(after) >= 2 and all(row.match(ln) for ln in after[:2]):
                return 0.8
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = drop_torn_tail(inp, read_text_lines(inp, notes), notes)
        line = pl.col("line")
        # the headers: the few lines the header pattern matches (polars), confirmed one by one; every line after a
        # header belongs to it until the next one (a header printed again starts its rows over)
        found = [(ln, c) for ln, text in lines.filter(line.str.contains(_HEADER.pattern)).select("lineno", "line")
                 .iter_rows() if (c := _table_header(text)) is not None]
        if not found:
            raise ParseError("no header naming an epoch/step column and a loss", path=inp.name, line=1)
        cols = found[-1][1]
        heads = pl.DataFrame({"lineno": [ln for ln, _ in found], "_h": list(range(len(found)))},
                             schema={"lineno": pl.Int64, "_h": pl.Int64})
        # a row: an integer, then numbers, an optional unit word last; its numbers as many as its header's columns
        tokens = (lines.join(heads, on="lineno", how="left")
                  .with_columns(pl.col("_h").forward_fill().alias("_under"))
                  .filter(pl.col("_h").is_null() & pl.col("_under").is_not_null()
                          & line.str.contains(rf"^\s*\d+(?:\s+(?:{_NUM}))+{_UNIT}\s*$"))
                  .select("lineno", "_under", line.str.extract_all(r"\S+").alias("_t")))
        tokens = tokens.with_columns(
            pl.when(pl.col("_t").list.last().is_in(list(_UNITS))).then(pl.col("_t").list.head(pl.col("_t").list.len() - 1))
            .otherwise(pl.col("_t")).alias("_t"))
        width = pl.Series([len(c) for _, c in found]).gather(tokens.get_column("_under"))
        rows = tokens.filter(pl.col("_t").list.len() == width)
        if rows.height == 0:
            raise ParseError("no table rows under a header naming an epoch/step column and a loss", path=inp.name,
                             line=1)
        names = pl.DataFrame([(h, k, name) for h, (_, c) in enumerate(found) for k, name in enumerate(c[1:], 1)],
                             schema={"_under": pl.Int64, "_k": pl.Int64, "name": pl.String}, orient="row")
        long = (rows.with_columns(pl.col("_t").list.first().cast(pl.Int64).alias("step"),
                                  pl.int_ranges(1, pl.col("_t").list.len()).alias("_k"),
                                  pl.col("_t").list.slice(1).alias("_v"))
                .explode("_k", "_v")
                .join(names, on=["_under", "_k"], how="left")
                .select("lineno", "step", "name", pl.col("_v").cast(pl.Float64).alias("value")))
        steps = rows.height
        headers = len(found)
        names = long.get_column("name").unique(maintain_order=True).to_list()
        kept = [n for n in names if not (set(re.split(r"[\s_()/]+", n.lower())) & _TIME_WORDS)]
        if len(kept) < len(names):
            notes.append(IngestNote("inferred", f"columns of time not read: {', '.join(n for n in names if n not in kept)}"))
        sm = {n: guess_split_metric(n) for n in kept}
        long = (long.filter(pl.col("name").is_in(kept))
                .with_columns(pl.col("name").replace_strict({n: s for n, (s, _) in sm.items()}).alias("split"),
                              pl.col("name").replace_strict({n: m for n, (_, m) in sm.items()}).alias("metric")))
        axis = cols[0].lower()
        long = long.select(pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step",
                           (pl.col("step").cast(pl.Float64) if axis in ("epoch", "ep") else
                            pl.lit(None, dtype=pl.Float64)).alias("epoch"),
                           pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno")
        notes.append(IngestNote("inferred", f"a table of {steps:,} row(s) under the header "
                                f"{'  '.join(cols)!r}" + (f" (printed {headers} times)" if headers > 1 else "")
                                + f": '{cols[0]}' is the step; lines outside the table are not read"))
        meta: dict[str, object] = {"x_axis": "epoch"} if axis in ("epoch", "ep") else {}
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [TextTableParser()]
