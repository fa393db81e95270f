"""Step normalisation applied to every parser's output: restarts and duplicated steps.

A resumed run appends to its log and its steps go back; the resumed segment is the truth
(the earlier rows after the resume point were thrown away by the trainer), so for each
series a row is kept only if no *later* row has a step at or below it. A counter that goes
back to its very start is not such a resume; :mod:`lossdoc.ingest.runs`' rule (the first loss after
it against the end level and the run's first value) tells which it is: where the loss carries on
where it stopped, a counter reset (a script restarted from its checkpoint that counts from 0 again):
its segments are laid end to end, with derived steps; where the loss is back near its first level,
a new run appended to the log: the last run is kept alone. Each restart, each run left out and
each duplicated step is reported as an :class:`IngestNote`, never silently dropped.
Vectorised (one pass of window functions), so it costs little at 10^7 rows.
"""

from __future__ import annotations

import contextvars
import dataclasses

import numpy as np
import polars as pl

from lossdoc.ingest.runs import EDGE_POINTS, FRESH, MIN_MOVE, back_toward_start, find_runs
from lossdoc.model import IngestNote, join_blocks
from lossdoc.numfmt import fmt_num as fmt

#: Set by ``lossdoc.ingest.read(..., split_runs=True)``: separate runs appended to one log are each kept as a
#: run of its own (``<run> (run k of n)``) instead of the last alone (:func:`_keep_last_of_new_runs`).
SPLIT_RUNS: contextvars.ContextVar[bool] = contextvars.ContextVar("lossdoc_split_runs", default=False)

KEYS = ["run", "split", "metric", "name"]
#: What a ``restart`` note about a counter reset (not a resume) says; LG001 tells the two apart by it.
COUNTER_RESET = "read as one run whose counter was reset"


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
    df, notes = _lay_counter_resets_end_to_end(df)
    if notes and not df.select((step.diff().over(KEYS) <= 0).any()).item():
        return df, notes
    df, run_notes = _keep_last_of_new_runs(df)
    notes += run_notes
    if run_notes and not df.select((step.diff().over(KEYS) <= 0).any()).item():
        return df, notes
    df = df.with_row_index("_i")
    later_min = step.reverse().cum_min().reverse().shift(-1).over(KEYS)
    prev = step.shift(1).over(KEYS)
    df = df.with_columns(
        (step >= later_min).fill_null(False).alias("_superseded"),
        (step < prev).fill_null(False).alias("_restart"),
        (step == prev).fill_null(False).alias("_dup"),
    )
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


def _keep_last_of_new_runs(df: pl.DataFrame) -> tuple[pl.DataFrame, list[IngestNote]]:
    """Separate runs appended to one log, for readers that do not tell them apart themselves (the line readers
    do, :func:`lossdoc.ingest.runs.keep_last_run`): where the run's training loss (else its validation loss)
    goes back to its start with the loss back near its first level (:func:`lossdoc.ingest.runs.find_runs`, the
    one rule: at least :data:`~lossdoc.ingest.runs.FRESH` of the way back from where the run before ended to
    where it started), a new run begins, not a resume: only the last run is kept (its rows from each series'
    last return to its start), and a ``several_runs`` note names the earlier runs' steps and the rows left out.
    Keeping the later rows only where they overlap (a resume's rule) would join the earlier run's rows beyond
    the last run's end to it: a curve that belongs to no run."""
    st = pl.col("step")
    pos = pl.int_range(pl.len()).over(KEYS)
    d = st.diff()
    tol = d.filter(d > 0).first().over(KEYS).fill_null(0)
    to_start = ((st < st.shift(1)) & (st <= st.cum_min().shift(1) + tol)).over(KEYS).fill_null(False)
    marked = df.with_columns(to_start.alias("_start"))
    if not marked.get_column("_start").any():
        return df, []
    notes: list[IngestNote] = []
    cut: list[str] = []
    for run in marked.filter(pl.col("_start")).get_column("run").unique(maintain_order=True).to_list():
        mine = marked.filter(pl.col("run") == run)
        ser = None
        for split in ("train", "val"):
            pick = mine.filter((pl.col("split") == split) & (pl.col("metric") == "loss"))
            if pick.height:
                first = pick.row(0, named=True)
                ser = pick.filter(pl.all_horizontal([pl.col(k) == first[k] for k in KEYS]))
                break
        if ser is None or not ser.get_column("_start").any():
            continue
        ref = ser.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("lineno"), pl.col("step").alias("counter"),
                         "value")
        spans = find_runs(ref)
        if len(spans) < 2:
            continue
        cut.append(run)
        steps = ser.get_column("step")
        vals = ser.get_column("value")
        # what is kept is each series' rows from its last return to its start (below): the note names the segments
        # the reference series is cut into at every such return, so its numbers are those of what is analysed
        starts = [0, *ser.select(pl.arg_where(pl.col("_start"))).to_series().to_list(), ser.height]
        segs = [(a, b - 1) for a, b in zip(starts[:-1], starts[1:], strict=True) if b > a]
        (a0, b0), (a1, b1) = segs[-2], segs[-1]
        shown = ", ".join(f"steps {int(steps[a]):,}-{int(steps[b]):,} ({b - a + 1:,} points)"
                          for a, b in segs[:-1][:8]) + (f", ... ({len(segs) - 9} more)" if len(segs) > 9 else "")
        notes.append(IngestNote(
            "several_runs",
            f"the log holds {len(segs)} separate runs: the step counter goes back to its start {len(segs) - 1} "
            f"time(s), {len(spans) - 1} of them with the loss back near its first level (a new run rather than a "
            f"resume); the last time {ser.item(0, 'name')} starts again at {fmt(vals[a1])} (step {int(steps[a1]):,}) "
            f"after the run before ran from {fmt(vals[a0])} to {fmt(vals[b0])}: analysed the last, steps "
            f"{int(steps[a1]):,}-{int(steps[b1]):,} ({b1 - a1 + 1:,} points); earlier runs not "
            f"analysed: {shown} (@DROPPED@ row(s) left out) -- split the log, or analyse it with --split-runs, to "
            "have each judged",
            run=run, count=len(segs), step=int(steps[a1]),
        ))
    if not cut:
        return df, []
    if SPLIT_RUNS.get():
        return _name_new_runs(marked, notes)
    last_start = pl.when(pl.col("_start")).then(pl.col("_pos")).max().over(KEYS).fill_null(0)
    marked = marked.with_columns(pos.alias("_pos")).with_columns(
        ((pl.col("_pos") >= last_start) | ~pl.col("run").is_in(cut)).alias("_keep"))
    gone = marked.filter(~pl.col("_keep")).group_by("run").len()
    n_gone = dict(gone.iter_rows())
    notes = [dataclasses.replace(n, message=n.message.replace("@DROPPED@", f"{n_gone.get(n.run, 0):,}"))
             for n in notes]
    return marked.filter(pl.col("_keep")).drop("_start", "_pos", "_keep"), notes


def _name_new_runs(marked: pl.DataFrame, notes: list[IngestNote]) -> tuple[pl.DataFrame, list[IngestNote]]:
    """:func:`_keep_last_of_new_runs` with split runs: every row kept, each run's rows named ``<run> (run k of n)``
    (n from its note's reference series); a series counts its runs from its last back to its first (a series
    logged from a later run on belongs to the runs it was logged in), and its ``several_runs`` note becomes an
    ``inferred`` one saying the runs were read apart."""
    counts = {n.run: int(n.count or 0) for n in notes}
    seg = pl.col("_start").cast(pl.Int64).cum_sum().over(KEYS)
    out = marked.with_columns(seg.alias("_seg")).with_columns(
        (pl.col("_seg").max().over(KEYS) - pl.col("_seg")).alias("_from_end"))
    total = pl.col("run").replace_strict(counts, default=None, return_dtype=pl.Int64)
    k = pl.max_horizontal(total - pl.col("_from_end"), pl.lit(1))
    out = out.with_columns(
        pl.when(total.is_null()).then(pl.col("run"))
        .otherwise(pl.format("{} (run {} of {})", pl.col("run"), k, total)).alias("run"))
    said = [IngestNote("inferred", f"the log holds {n.count} separate runs (the step counter goes back to its start "
                       f"{int(n.count or 1) - 1} time(s)), each read as a run of its own (split runs)",
                       count=n.count) for n in notes]
    return out.drop("_start", "_seg", "_from_end"), said


def _lay_counter_resets_end_to_end(df: pl.DataFrame) -> tuple[pl.DataFrame, list[IngestNote]]:
    """A counter that goes back to its start while the loss carries on where it stopped is one run whose
    counter was reset (a script restarted from its checkpoint that counts from 0 again, a second
    ``fit()``), not a resume that overwrote what came before: the later segments are laid end to end
    (their steps offset, noted as derived) instead of dropping everything before the reset.

    "Back to its start": at or below the series' first step. "Carries on": the first loss after the reset
    sits less than half-way back from the median of the last :data:`~lossdoc.ingest.runs.EDGE_POINTS` before
    it to the series' first value (:func:`lossdoc.ingest.runs.back_toward_start` below
    :data:`~lossdoc.ingest.runs.FRESH`, with :func:`lossdoc.ingest.runs.find_runs`' measures: one rule tells a
    counter reset from a new run, which logs the untrained level again at its first point; where the loss had
    not moved by :data:`~lossdoc.ingest.runs.MIN_MOVE` of its level, it carries on unless it starts above
    all it logged). Decided per run: every loss series of the
    run with a reset must carry on at each of its resets; every series of that run is then offset at its own
    resets alike.
    """
    # one window over the whole test (two separate windows cost twice: 0.78 s vs 0.44 s at 10^7 rows)
    st = pl.col("step")
    reset = ((st < st.shift(1)) & (st <= st.first())).fill_null(False).over(KEYS)
    marked = df.with_columns(reset.alias("_reset"))
    if not marked.get_column("_reset").any():
        return df, []
    notes: list[IngestNote] = []
    carry_runs: list[str] = []
    lossy = marked.filter(pl.col("metric").str.contains("loss"))
    for run in marked.filter(pl.col("_reset")).get_column("run").unique(maintain_order=True).to_list():
        # the run's loss series that reset, each split out once (not one filter of every loss row per series)
        mine = lossy.filter(pl.col("run") == run)
        series = [ser for ser in mine.partition_by(KEYS, maintain_order=True) if ser.get_column("_reset").any()]
        if not series:
            continue
        ok, shown, shown_moved = True, None, False
        for ser in series:
            v = ser.get_column("value").to_numpy()
            at = ser.get_column("_reset").to_numpy().nonzero()[0]
            fin0 = v[np.isfinite(v)]
            if fin0.size == 0:
                continue
            v_first = float(fin0[0])
            bounds = [0, *at.tolist(), v.size]
            for j, i in enumerate(at.tolist()):
                before, after = v[max(bounds[j], i - EDGE_POINTS):i], v[i:bounds[j + 2]]
                before, after = before[np.isfinite(before)], after[np.isfinite(after)]
                if not before.size or not after.size:
                    ok = False
                    break
                # runs.find_runs' measures: the end level (median of the last EDGE_POINTS) and the first value
                # after the reset (a new run logs the untrained level again there, and falls fast from it)
                b, a = float(np.median(before)), float(after[0])
                # a new run by find_runs' rule: back at least half-way to where it started; or, where the loss
                # had not moved, above all it logged before
                scale = MIN_MOVE * max(abs(v_first), abs(b), 1e-12)
                top = v[:i][np.isfinite(v[:i])].max()
                if (back_toward_start(v_first, b, a) >= FRESH) if abs(v_first - b) >= scale else a > top + scale:
                    ok = False
                    break
                # the note shows the first reset of a series that moved (one that did not shows nothing carried on)
                if shown is None or (not shown_moved and abs(v_first - b) >= scale):
                    steps = ser.get_column("step").to_numpy()
                    shown = (int(steps[i - 1]), int(steps[i]), b, a, v_first, int(at.size), ser.get_column("name")[0])
                    shown_moved = abs(v_first - b) >= scale
            if not ok:
                break
        if ok and shown is not None:
            carry_runs.append(run)
            s0, s1, b, a, v_first, n, name = shown
            notes.append(IngestNote(
                "restart",
                f"the step counter goes back to its start {n} time(s) (first after step {s0:,}, to {s1:,}) while "
                f"the loss carries on where it stopped ({name}: {fmt(b)} before (median of the last {EDGE_POINTS} "
                f"points), {fmt(a)} after; it started at {fmt(v_first)}): {COUNTER_RESET}, the later "
                "segments laid end to end (their steps derived: offset by the steps before them)",
                run=run, count=n, step=s0,
            ))
    if not carry_runs:
        return df, []
    seg = pl.col("_reset").cast(pl.Int64).cum_sum().over(KEYS)
    marked = marked.with_columns(seg.alias("_seg"))
    d = (pl.col("step").diff().filter(pl.col("step").diff() > 0)).median().over(KEYS)
    marked = marked.with_columns(d.fill_null(1).alias("_d"))
    spans = (marked.group_by([*KEYS, "_seg"], maintain_order=True)
             .agg(pl.col("step").first().alias("_f"), pl.col("step").last().alias("_l"), pl.col("_d").first())
             .sort([*KEYS, "_seg"])
             .with_columns((pl.col("_l").shift(1) + pl.col("_d") - pl.col("_f")).fill_null(0).over(KEYS).alias("_gap"))
             .with_columns(pl.col("_gap").cum_sum().over(KEYS).alias("_off"))
             .select([*KEYS, "_seg", "_off"]))
    marked = marked.join(spans, on=[*KEYS, "_seg"], how="left", maintain_order="left")
    off = pl.when(pl.col("run").is_in(carry_runs)).then(pl.col("_off")).otherwise(0)
    dtype = marked.schema["step"]
    out = marked.with_columns((pl.col("step").cast(pl.Int64) + off.cast(pl.Int64)).cast(dtype).alias("step"))
    return out.drop("_reset", "_seg", "_d", "_off"), notes
