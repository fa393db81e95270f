"""Step normalisation applied to every parser's output: restarts and duplicated steps.

A resumed run appends to its log and its steps go back; the resumed segment is the truth
(the earlier rows after the resume point were thrown away by the trainer), so for each
series a row is kept only if no *later* row has a step at or below it. Each restart and
each duplicated step is reported as an :class:`IngestNote`, never silently dropped.
Vectorised (one pass of window functions), so it costs little at 10^7 rows.
"""

from __future__ import annotations

import polars as pl

from lossdoc.model import IngestNote, join_blocks

KEYS = ["run", "split", "metric", "name"]


def normalise_blocks(blocks: list[pl.DataFrame]) -> tuple[list[pl.DataFrame], list[IngestNote]]:
    """:func:`normalise_steps` for a parser's blocks (:class:`lossdoc.model.ParseResult`).

    Blocks that each hold one series, none shared with another block, with strictly increasing
    steps are returned as they are (no concatenation: their literal key columns stay one value
    each); anything else is joined into one table and normalised as a whole."""
    blocks = [b for b in blocks if b.height] or blocks[:1]
    if not blocks:
        return blocks, []
    if len(blocks) == 1 and blocks[0].height < 2:
        return blocks, []
    # One block too goes through the check below first: normalise_steps compares every row's keys
    # with the row before, which materialises literal key columns (10^7 strings, ~0.3 GB).
    seen: set[tuple[str, ...]] = set()
    clean = True
    for b in blocks:
        stats = b.select([pl.col(k).n_unique().alias(k) for k in KEYS]).row(0, named=True)
        stats["_down"] = _goes_down(b.get_column("step"))
        first = b.row(0, named=True)  # (get_column would materialise a literal column)
        key = tuple(str(first[k]) for k in KEYS)
        if any(stats[k] != 1 for k in KEYS) or stats["_down"] or key in seen:
            clean = False
            break
        seen.add(key)
    if clean:
        return blocks, []
    out, notes = normalise_steps(join_blocks(blocks))
    return [out], notes


def _goes_down(step: pl.Series) -> bool:
    """Whether a step is at or below the one before it: ``(step.diff() <= 0).any()``, for one plain
    Int64 (or compact Int32) chunk compared in slices of its numpy view (the diff of a 10^7-row block is an 80 MB
    column)."""
    if step.dtype not in (pl.Int64, pl.Int32) or step.null_count() or step.n_chunks() != 1:
        return bool(step.to_frame().select((pl.col("step").diff() <= 0).any()).item())
    arr = step.to_numpy()
    at, size = 0, 1 << 20
    while at < arr.size - 1:
        seg = arr[at:at + size + 1]
        if (seg[1:] <= seg[:-1]).any():
            return True
        at += size
    return False


def normalise_steps(df: pl.DataFrame) -> tuple[pl.DataFrame, list[IngestNote]]:
    if df.height < 2:
        return df, []
    step = pl.col("step")
    # Fastest path: each series one contiguous block of rows (what most parsers emit) and strictly
    # increasing inside it -> nothing to do. Comparing each row with the one before avoids grouping
    # millions of rows by four string keys (1-2 s at 10^7 rows).
    same = pl.all_horizontal([pl.col(k) == pl.col(k).shift(1) for k in KEYS]).fill_null(False)
    marks = df.select(same.alias("_same"), (step.diff() <= 0).fill_null(False).alias("_down"))
    starts = df.filter(~marks.get_column("_same"))
    contiguous = starts.select(pl.struct(KEYS).n_unique()).item() == starts.height
    if contiguous and not (marks.get_column("_same") & marks.get_column("_down")).any():
        return df, []
    # Fast path: every series strictly increasing in file order -> nothing to do.
    bad = df.select((step.diff().over(KEYS) <= 0).any()).item()
    if not bad:
        return df, []
    df = df.with_row_index("_i")
    later_min = step.reverse().cum_min().reverse().shift(-1).over(KEYS)
    prev = step.shift(1).over(KEYS)
    df = df.with_columns(
        (step >= later_min).fill_null(False).alias("_superseded"),
        (step < prev).fill_null(False).alias("_restart"),
        (step == prev).fill_null(False).alias("_dup"),
    )
    notes: list[IngestNote] = []
    restarts = df.filter(pl.col("_restart"))
    if restarts.height:
        per_run = restarts.group_by("run", maintain_order=True).agg(
            pl.col("step").unique(maintain_order=True).alias("steps")
        )
        for run, steps in per_run.iter_rows():
            dropped = df.filter(pl.col("_superseded") & (pl.col("run") == run) & ~pl.col("_dup")).height
            shown = ", ".join(f"{s:,}" for s in steps[:5]) + (" ..." if len(steps) > 5 else "")
            notes.append(
                IngestNote(
                    "restart",
                    f"steps go back at step {shown} (resumed run): kept the resumed segment, "
                    f"dropped {dropped:,} earlier row(s) it overwrote",
                    run=run,
                    count=len(steps),
                    step=int(steps[0]),
                    steps=tuple(int(x) for x in steps),
                )
            )
    dups = df.filter(pl.col("_dup"))
    if dups.height:
        for run, n, first in (
            dups.group_by("run", maintain_order=True).agg(pl.len(), pl.col("step").first()).iter_rows()
        ):
            notes.append(
                IngestNote(
                    "duplicate_steps",
                    f"{n:,} row(s) repeat the step before them (first at step {first:,}); kept the last value",
                    run=run,
                    count=int(n),
                    step=int(first),
                )
            )
    out = df.filter(~pl.col("_superseded")).drop("_i", "_superseded", "_restart", "_dup")
    return out, notes
