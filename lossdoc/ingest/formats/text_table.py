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
_UNIT = r"(?:\s+(?:s|sec|secs|seconds|ms|min|m))?"


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
        text = lines.get_column("line").to_list()
        linenos = lines.get_column("lineno").to_list()
        cols: list[str] | None = None
        recs: list[tuple[int, str, float | None]] = []  # (lineno, column, value)
        steps: dict[int, int] = {}
        headers = 0
        row: re.Pattern[str] | None = None
        for ln, line in zip(linenos, text):
            found = _table_header(line)
            if found is not None:
                cols, headers = found, headers + 1
                row = re.compile(rf"^\s*(\d+)((?:\s+(?:{_NUM})){{{len(cols) - 1}}}){_UNIT}\s*$")
                continue
            if row is None or cols is None:
                continue
            m = row.match(line)
            if m is None:
                continue
            steps[ln] = int(m.group(1))
            for name, raw in zip(cols[1:], m.group(2).split()):
                recs.append((ln, name, float(raw)))
        if not recs or cols is None:
            raise ParseError("no table rows under a header naming an epoch/step column and a loss", path=inp.name,
                             line=1)
        long = pl.DataFrame(recs, schema={"lineno": pl.Int64, "name": pl.String, "value": pl.Float64}, orient="row")
        names = long.get_column("name").unique(maintain_order=True).to_list()
        kept = [n for n in names if not (set(re.split(r"[\s_()/]+", n.lower())) & _TIME_WORDS)]
        if len(kept) < len(names):
            notes.append(IngestNote("inferred", f"columns of time not read: {', '.join(n for n in names if n not in kept)}"))
        sm = {n: guess_split_metric(n) for n in kept}
        long = (long.filter(pl.col("name").is_in(kept))
                .with_columns(pl.col("lineno").replace_strict(steps, return_dtype=pl.Int64).alias("step"),
                              pl.col("name").replace_strict({n: s for n, (s, _) in sm.items()}).alias("split"),
                              pl.col("name").replace_strict({n: m for n, (_, m) in sm.items()}).alias("metric")))
        axis = cols[0].lower()
        long = long.select(pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step",
                           (pl.col("step").cast(pl.Float64) if axis in ("epoch", "ep") else
                            pl.lit(None, dtype=pl.Float64)).alias("epoch"),
                           pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno")
        notes.append(IngestNote("inferred", f"a table of {len(steps):,} row(s) under the header "
                                f"{'  '.join(cols)!r}" + (f" (printed {headers} times)" if headers > 1 else "")
                                + f": '{cols[0]}' is the step; lines outside the table are not read"))
        meta: dict[str, object] = {"x_axis": "epoch"} if axis in ("epoch", "ep") else {}
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [TextTableParser()]
