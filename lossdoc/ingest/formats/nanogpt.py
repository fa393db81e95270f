"""nanoGPT stdout (``karpathy/nanoGPT`` ``train.py``, checked against commit e2221318).

Sample::

    step 0: train loss 4.2874, val loss 4.2823
    iter 0: loss 4.2657, time 31250.47ms, mfu -100.00%
    iter 10: loss 3.2385, time 98.12ms, mfu 38.12%

``iter`` lines are the training loss of the last micro-batch (noisy); ``step`` lines are
``estimate_loss()`` means for both splits. Axis: ``iter_num`` (0-based). Lines are matched
with vectorised polars regexes, never a Python loop per line.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run_of
from lossdoc.ingest.text import (
    RANK_AT_START,
    clean_head,
    count_lines,
    last_line,
    load_lines,
    scan_lines,
    stream_queries,
    to_float,
    torn_tail_note,
)
from lossdoc.model import IngestNote, ParseResult, conform_blocks

# One pass per line kind: a single pattern with groups costs half of three separate extracts.
_ITER = r"^iter (\d+): loss ([^,\s]+)(?:, time ([^m,\s]+)ms)?"
_EVAL = r"^step (\d+): train loss ([^,\s]+), val loss ([^,\s]+)"
_SNIFF_ITER = re.compile(r"^iter \d+: loss [-+\w.]+, time [\d.]+ms", re.M)
_SNIFF_EVAL = re.compile(r"^step \d+: train loss [-+\w.]+, val loss [-+\w.]+", re.M)


class NanoGPTParser(Parser):
    name = "nanogpt"
    title = "nanoGPT stdout"
    recognises = "'iter N: loss X, time Yms[, mfu Z%]' and 'step N: train loss X, val loss Y' lines"
    priority = 20
    streams_from_disk = True  # measured peak: 1.25x at 10^7 points

    def sniff(self, inp: InputFile) -> float:
        head = clean_head(inp.head_text())
        n_iter = len(_SNIFF_ITER.findall(head))
        n_eval = len(_SNIFF_EVAL.findall(head))
        if n_iter >= 2 or (n_iter and n_eval):
            return 0.95
        if n_iter or n_eval:
            return 0.7
        return 0.0

    def _extract(self, lines: pl.LazyFrame, engine: str, *, check_ranks: bool
                 ) -> tuple[pl.DataFrame, pl.DataFrame, int | None] | None:
        """(iter rows, eval rows, last line number) of ``lines``; None when rank-prefixed lines
        need :func:`load_lines` (only looked for when ``check_ranks``)."""
        line = pl.col("line")
        g = pl.col("_g")
        it = (
            lines.filter(line.str.starts_with("iter "))
            .select(pl.col("lineno"), line.str.extract_groups(_ITER).alias("_g"))
            .select(
                pl.col("lineno"),
                g.struct[0].cast(pl.Int64, strict=False).alias("step"),
                to_float(g.struct[1]).alias("value"),
                g.struct[2].cast(pl.Float64, strict=False).alias("time_ms"),
            )
            .filter(pl.col("step").is_not_null())
        )
        ev = self._eval_rows(lines, with_lineno=True)
        meta = [pl.col("lineno").max().alias("last")]
        if check_ranks:
            meta.append(line.str.contains(RANK_AT_START).any().alias("ranked"))
        m = lines.select(meta).collect(engine=engine)  # type: ignore[call-overload]
        if check_ranks and m.item(0, "ranked"):
            return None
        last = m.item(0, "last")
        return (it.collect(engine=engine), ev.collect(engine=engine),  # type: ignore[call-overload]
                int(last) if last is not None else None)

    def _fast(self, inp: InputFile) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        """(iter rows, eval rows) of a clean log by literal splits, streamed, without line numbers;
        None when the file needs :func:`load_lines` or when any iter line does not read cleanly
        this way (the regex path then decides, with its line numbers for the note).

        ``iter N: loss X, time Yms, mfu Z%`` is cut at the commas and at ``: loss ``: half the cost
        of the regex at 10^7 lines, same values for every line nanoGPT prints."""
        line = pl.col("line")
        parts = pl.col("_p")
        head = pl.col("_h")
        t = pl.col("_t")

        def queries(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
            # The loss is cast as it stands (nanoGPT prints it with no padding; polars reads nan, inf,
            # +inf): a value needing to_float's strips becomes null and sends the file to the regex
            # path. The time field is sliced, not stripped. Both save 18% of the scan.
            it = (
                lines.filter(line.str.starts_with("iter "))
                .select(line.str.slice(5).str.split_exact(",", 2).alias("_p"))
                .select(parts.struct[0].str.split_exact(": loss ", 1).alias("_h"), parts.struct[1].alias("_t"))
                .select(
                    head.struct[0].cast(pl.Int64, strict=False).alias("step"),
                    head.struct[1].cast(pl.Float64, strict=False).alias("value"),
                    pl.when(t.str.starts_with(" time ") & t.str.ends_with("ms")).then(t.str.slice(6).str.head(-2))
                    .cast(pl.Float64, strict=False).alias("time_ms"),
                )
            )
            # a torn last eval line must still have its row: unmatched rows are dropped after the tail check
            return [it, self._eval_rows(lines, keep_unmatched=True)]

        got = stream_queries(inp, queries)
        if got is None:
            return None
        it_df, ev_df = got
        if it_df.select(pl.col("step").is_null().any() | pl.col("value").is_null().any()).item():
            return None
        if inp.size and not inp.ends_with_newline():  # the torn last line's row is the last of its kind
            tail = last_line(inp)
            if tail.startswith("iter "):
                it_df = it_df.head(-1)
            elif tail.startswith("step "):
                ev_df = ev_df.head(-1)
        ev_df = ev_df.filter(pl.col("step").is_not_null())
        return it_df, ev_df

    @staticmethod
    def _eval_rows(lines: pl.LazyFrame, *, with_lineno: bool = False, keep_unmatched: bool = False) -> pl.LazyFrame:
        line = pl.col("line")
        g = pl.col("_g")
        keep = [pl.col("lineno")] if with_lineno else []
        rows = (
            lines.filter(line.str.starts_with("step "))
            .select(*keep, line.str.extract_groups(_EVAL).alias("_g"))
            .select(
                *keep,
                g.struct[0].cast(pl.Int64, strict=False).alias("step"),
                to_float(g.struct[1]).alias("train"),
                to_float(g.struct[2]).alias("val"),
            )
        )
        return rows if keep_unmatched else rows.filter(pl.col("step").is_not_null())

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        fast = self._fast(inp)
        if fast is not None and _goes_back(fast[0]):
            fast = None  # several runs or a resume: the line-numbered path below tells them apart
        if fast is not None:
            it, ev = fast
            tail = torn_tail_note(inp, count_lines(inp)) if inp.size and not inp.ends_with_newline() else None
            if tail is not None:
                notes.append(tail)
            return ParseResult(blocks=self._blocks(inp, it, ev), notes=notes)
        got = None
        lazy = scan_lines(inp)  # big clean logs stream: one chunk of lines in memory at a time
        if lazy is not None:
            try:
                got = self._extract(lazy, "streaming", check_ranks=True)
            except pl.exceptions.PolarsError:
                got = None
        if got is None:
            got = self._extract(load_lines(inp, notes=notes).lazy(), "in-memory", check_ranks=False)
        assert got is not None
        it, ev, last_line_no = got
        tail = torn_tail_note(inp, last_line_no)
        if tail is not None:
            # A torn last line may hold a cut number ("loss 2.4" of "2.41"): drop a value on it.
            it = it.filter(pl.col("lineno") != last_line_no)
            ev = ev.filter(pl.col("lineno") != last_line_no)
            notes.append(tail)
        bad = it.filter(pl.col("value").is_null())
        if bad.height:
            first = bad.get_column("lineno").head(3).to_list()
            notes.append(IngestNote("skipped_lines", f"{bad.height} iter line(s) without a readable loss (lines {first})",
                                    line=first[0], count=bad.height))
            it = it.filter(pl.col("value").is_not_null())
        meta: dict[str, int] = {}
        if _goes_back(it):  # (the file's lines are loaded only then)
            it, ev = keep_last_run_of([it, ev], it.select("lineno", pl.col("step").alias("counter"), "value"),
                                      load_lines(inp).select("lineno", "line"), notes, what="iter line", meta=meta)
        return ParseResult(blocks=self._blocks(inp, it, ev), notes=notes, meta=meta)

    @staticmethod
    def _blocks(inp: InputFile, it: pl.DataFrame, ev: pl.DataFrame) -> list[pl.DataFrame]:
        """One frame per series, with literal key columns (no 10^7-row string columns)."""
        run = inp.run_name
        times = it if it.get_column("time_ms").null_count() == 0 else it.filter(pl.col("time_ms").is_not_null())
        return conform_blocks([
            it.select(pl.lit(run).alias("run"), pl.lit("train").alias("split"), pl.lit("loss").alias("metric"),
                      pl.lit("loss").alias("name"), "step", "value"),
            # the same step column as the loss block (no copy when every iter line has a time)
            times.select(pl.lit(run).alias("run"), pl.lit("train").alias("split"),
                         pl.lit("step_time_ms").alias("metric"), pl.lit("time").alias("name"), "step",
                         pl.col("time_ms").alias("value")),
            # The eval line's train loss is a different estimate (mean over eval_iters batches) than the
            # iter lines' single-batch loss: its own metric, so (run, split, metric) stays one series.
            ev.select(pl.lit(run).alias("run"), pl.lit("train").alias("split"),
                      pl.lit("estimated_loss").alias("metric"),
                      pl.lit("train loss").alias("name"), "step", pl.col("train").alias("value")),
            ev.select(pl.lit(run).alias("run"), pl.lit("val").alias("split"), pl.lit("loss").alias("metric"),
                      pl.lit("val loss").alias("name"), "step", pl.col("val").alias("value")),
        ])


def _goes_back(it: pl.DataFrame) -> bool:
    """Whether the iter lines' counter goes back anywhere (a resume, or several runs in one log)."""
    return bool(it.height > 1 and it.select((pl.col("step").diff() < 0).any()).item())


PARSERS = [NanoGPTParser()]
