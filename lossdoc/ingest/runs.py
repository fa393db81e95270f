"""Several independent training runs written to one log file (a script that appends to ``train.log``
each time it is started): tell them apart from a resume, and keep the last one.

A *resume* continues one run: its counter goes back a little (to a checkpoint) and the loss carries on
at its level; the step normaliser (:mod:`lossdoc.ingest.normalise`) keeps the resumed segment. A *new
run* starts over: its counter goes back to the start of the run before it (``Epoch 0``/``1``, step 0)
and either the loss is back near that run's starting level or the header the script printed before
its first run is printed again ("Starting training ...", a config dump); when the loss clearly carries
on at the level where the run before it ended, it is a continuation (``fit()`` called again, a resume
with a counter that restarts) and is not cut.

Joining separate runs gives one curve whose numbers belong to no run (a loss that "spikes" back to its
initial value, a best value from one run and a final one from another), and keeping only the rows a
later run overwrote mixes them at the steps it did not reach. So the readers that can meet this
(line-oriented logs: hand-rolled text, HF console dicts, the Keras progress bar, nanoGPT) analyse the
last run and say in a ``several_runs`` note how many runs the file holds and on which lines, so that
nothing is joined or dropped silently. Splitting the file gives each run its own report.

The decision is made on the reader's reference series (the training loss, else its first series):
one row per logged point, in file order, with its line number, its counter and its value. Only the
points where the counter goes back are examined (a Python loop over those few, numpy inside).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from lossdoc.model import IngestNote

#: ``ParseResult.meta`` key: the last data line of the run before the one kept, so that the config the
#: log prints is read from the kept run's own lines (:func:`lossdoc.ingest.config_text.config_from_input`)
AFTER_LINE = "last_run_after_line"
#: A run's end level is the median of its last this many points (one noisy point does not decide); its
#: start level and the next segment's are their first values (a fresh run falls fast from there).
EDGE_POINTS = 3
#: Where a segment's first value sits between the end level (0) and the start level (1) of the run
#: before it: from FRESH up it starts over (a new run); up to CONTINUING it carries on (a resume, another
#: ``fit()``); in between the repeated header decides.
FRESH = 0.5
CONTINUING = 0.25
#: Column of a reference series: True on a point whose line names its epoch as the last the run announced
#: ("Epoch 20/20"). A counter that goes back to its start after such a point starts a new run: a resume goes
#: back to a checkpoint of a run that has not finished, never to the start of one that has.
FINISHED = "_finished"
#: A run whose loss moved by less than this share of its level says nothing about where the next one
#: starts: the header decides.
MIN_MOVE = 0.05


def back_toward_start(start: float, end: float, new: float) -> float:
    """Where ``new`` (the loss just after the counter went back) sits between a run's end level ``end``
    (0: it carries on) and its start level ``start`` (1: it starts over); from :data:`FRESH` up it is a
    new run. The one statement of the rule: the step normaliser's counter-reset test uses it too.
    ``start`` must differ from ``end`` (a run that moved)."""
    return (new - end) / (start - end)


@dataclass(frozen=True, slots=True)
class RunSpan:
    """One run of a file: its first and last data line, its number of points and its first counter."""

    first: int
    last: int
    points: int
    counter: float
    #: the run before this one ended on its last announced epoch ("Epoch 20/20")
    after_finished: bool = False


def _normalised(expr: pl.Expr) -> pl.Expr:
    """A line as a header template: digits (timestamps, counts) and spacing do not matter."""
    return expr.str.replace_all(r"\d+(?:[.,:]\d+)*", "#").str.replace_all(r"\s+", " ").str.strip_chars()


def _header_lines(lines: pl.DataFrame | None, ref_lines: np.ndarray, first_back: int) -> np.ndarray:
    """Line numbers, after the first data line, of lines the script printed before its first run's
    first point and did not print again while that run was logging (its per-epoch lines are no
    header): "Starting training", "Loaded N sequences", a config dump. Sorted."""
    if lines is None or lines.height == 0 or ref_lines.size == 0:
        return np.empty(0, dtype=np.int64)
    first_data = int(ref_lines[0])
    end_first = int(ref_lines[first_back - 1]) if first_back > 0 else int(ref_lines[-1])
    lines = lines.select("lineno", _normalised(pl.col("line")).alias("_t")).filter(
        pl.col("_t").str.count_matches(r"[A-Za-z]") >= 3
    )
    before = lines.filter(pl.col("lineno") < first_data).get_column("_t").unique()
    inside = lines.filter(pl.col("lineno").is_between(first_data, end_first)).get_column("_t").unique()
    heads = before.filter(~before.is_in(inside.implode()))
    if heads.len() == 0:
        return np.empty(0, dtype=np.int64)
    at = lines.filter((pl.col("lineno") > end_first) & pl.col("_t").is_in(heads.implode())).get_column("lineno")
    return np.unique(at.to_numpy().astype(np.int64))


def _new_line_at(lines: pl.DataFrame | None, line_nos: np.ndarray, first: int, last: int, reset: int) -> bool:
    """Whether a line between a run's last point (line ``last``) and the point where the counter went back
    (line ``reset``) is one the run did not print from its first point (line ``first``) to its last: a
    header of what starts there. Lines as :func:`_header_lines` reads them (three letters or more, digits and
    spacing ignored); ``line_nos`` is ``lines``' sorted line numbers (the rows are sliced, not filtered: a
    file with many resets stays linear)."""
    if lines is None or lines.height == 0 or reset - last < 2:
        return False
    a, b = int(np.searchsorted(line_nos, first, side="left")), int(np.searchsorted(line_nos, reset, side="right"))
    near = lines.slice(a, b - a).select(
        "lineno", _normalised(pl.col("line")).alias("_t")).filter(pl.col("_t").str.count_matches(r"[A-Za-z]") >= 3)
    gap = near.filter(pl.col("lineno") > last).get_column("_t")
    inside = near.filter(pl.col("lineno") <= last).get_column("_t")
    return bool(gap.len()) and bool((~gap.is_in(inside.implode())).any())


def reference(rows: pl.DataFrame, *, value: str = "value", counter: str = "step") -> pl.DataFrame:
    """The series of ``rows`` (``lineno``, ``split``, ``metric``, a counter and a value column) that tells
    runs apart: the training loss, else the validation loss, else the first series; as :func:`find_runs`
    takes it."""
    pick = rows.head(0)
    for split, metric in (("train", "loss"), ("val", "loss")):
        pick = rows.filter((pl.col("split") == split) & (pl.col("metric") == metric))
        if pick.height:
            break
    if pick.height == 0 and rows.height:
        first = rows.row(0, named=True)
        pick = rows.filter((pl.col("split") == first["split"]) & (pl.col("metric") == first["metric"]))
    extra = [FINISHED] if FINISHED in pick.columns else []
    return pick.select("lineno", pl.col(counter).alias("counter"), pl.col(value).cast(pl.Float64, strict=False)
                       .alias("value"), *extra)


def _median(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else None


def find_runs(ref: pl.DataFrame, lines: pl.DataFrame | None = None) -> list[RunSpan]:
    """The runs of a file, from its reference series ``ref`` (columns ``lineno``, ``counter``,
    ``value``; one row per point in file order) and its ``lines`` (``lineno``, ``line``) for the
    repeated header. One span (the whole file) when the file holds one run."""
    ref = ref.filter(pl.col("counter").is_not_null())
    if ref.height < 2:
        return []
    ln = ref.get_column("lineno").cast(pl.Int64).to_numpy()
    done = (ref.get_column(FINISHED).fill_null(False).to_numpy() if FINISHED in ref.columns
            else np.zeros(ref.height, dtype=bool))
    c = ref.get_column("counter").cast(pl.Float64).to_numpy()
    v = ref.get_column("value").cast(pl.Float64).to_numpy()
    back = np.flatnonzero(c[1:] < c[:-1]) + 1
    if back.size == 0:
        return [RunSpan(int(ln[0]), int(ln[-1]), int(ln.size), float(c[0]))]
    # "back to its start": at or below everything logged before (within one logging interval)
    steps = np.diff(c)
    pos = steps[steps > 0]
    tol = float(pos[0]) if pos.size else 0.0
    lowest = np.minimum.accumulate(c)
    cand = back[c[back] <= lowest[back - 1] + tol]
    if cand.size == 0:
        return [RunSpan(int(ln[0]), int(ln[-1]), int(ln.size), float(c[0]))]
    heads = _header_lines(lines, ln, int(back[0]))
    fin = np.isfinite(v)
    # index of the first finite value at or after each point (n when none): a run's and a segment's start
    nxt = np.minimum.accumulate(np.where(fin, np.arange(c.size), c.size)[::-1])[::-1]
    top = np.where(fin, v, -np.inf)
    bounds = [0]
    finished_at: set[int] = set()
    # the current run's lowest counter and highest value so far, kept up to date point by point once
    # (each point is scanned once: a log whose counter resets thousands of times stays linear)
    run_low, run_top, seen = np.inf, -np.inf, 0
    line_nos: np.ndarray | None = None  # the lines' numbers, sorted, once a reset needs them
    for n, i in enumerate(cand):
        i = int(i)
        lo = bounds[-1]
        run_low = min(run_low, float(c[seen:i].min()))
        run_top = max(run_top, float(top[seen:i].max()))
        seen = i
        if c[i] > run_low + tol:
            continue  # back to the start of the file but not of the run since the last cut
        hi = int(cand[n + 1]) if n + 1 < cand.size else c.size
        f = float(v[nxt[lo]]) if nxt[lo] < i else None
        new = float(v[nxt[i]]) if nxt[i] < hi else None
        last = _median(v[max(lo, i - EDGE_POINTS):i])
        # a header line printed between the run's last point and this one
        headed = bool(np.searchsorted(heads, ln[i], side="left") > np.searchsorted(heads, ln[i - 1], side="right"))
        fresh = continuing = False
        between = False  # the new segment starts between CONTINUING and FRESH of the way back to the start
        if f is not None and new is not None and last is not None:
            scale = MIN_MOVE * max(abs(f), abs(last), 1e-12)
            if abs(f - last) >= scale:
                # where the new segment starts between the end level (0) and the start level (1) of the run before
                at = back_toward_start(f, last, new)
                fresh, continuing = at >= FRESH, at <= CONTINUING
                between = not fresh and not continuing
            else:
                # a run that did not move: a new one shows by starting above all it logged (a resume would
                # carry on inside its range)
                fresh = new > run_top + scale
        # the run before ended on its last announced epoch ("Epoch 20/20" then "Epoch 1/20"): it finished
        if done[i - 1] and not fresh:
            fresh = True
            finished_at.add(i)
        if between and not headed and lines is not None:
            # a line printed at the reset that the run before never printed ("[Stage 2] fold 1 fine-tuning
            # starts" after a 60-epoch pretraining; Skye412/CrackMorphFormer): the script announced something new
            if line_nos is None:
                lines = lines.sort("lineno")
                line_nos = lines.get_column("lineno").cast(pl.Int64).to_numpy()
            headed = _new_line_at(lines, line_nos, int(ln[lo]), int(ln[i - 1]), int(ln[i]))
        if fresh or (headed and not continuing):
            bounds.append(i)
            run_low, run_top = np.inf, -np.inf
    if len(bounds) == 1:
        return [RunSpan(int(ln[0]), int(ln[-1]), int(ln.size), float(c[0]))]
    out = []
    ends = bounds[1:] + [c.size]
    for a, b in zip(bounds, ends, strict=True):
        out.append(RunSpan(int(ln[a]), int(ln[b - 1]), b - a, float(c[a]), a in finished_at))
    return out


#: A run that logged fewer points than this (a script restarted and killed after a few lines) is too short for any
#: trend test (LG004's trend-min-points: the exact Mann-Kendall test needs 4): when the file's last run is one, the
#: latest run with this many is read
STUB_POINTS = 4


#: Set by :mod:`lossdoc.live` while it follows a log being written: the run being written is the one to read, however
#: few points it has logged so far (a stub of a finished file is a run that was killed; a live one has just started)
FOLLOWING: contextvars.ContextVar[bool] = contextvars.ContextVar("lossdoc_following", default=False)


@contextlib.contextmanager
def following() -> Iterator[None]:
    """Read inside it as :mod:`lossdoc.live` does, :data:`FOLLOWING` set: the run being written is read."""
    token = FOLLOWING.set(True)
    try:
        yield
    finally:
        FOLLOWING.reset(token)


def analysed_run(runs: list[RunSpan]) -> int:
    """The index of the run to read: the last, or, when the last runs are stubs (fewer than :data:`STUB_POINTS`
    points), the latest before them that is not (the last when every run is a stub, or while :data:`FOLLOWING`)."""
    k = len(runs) - 1
    if FOLLOWING.get():
        return k
    while k > 0 and runs[k].points < STUB_POINTS:
        k -= 1
    return k if runs[k].points >= STUB_POINTS else len(runs) - 1


def several_runs_note(runs: list[RunSpan], dropped: int, *, what: str = "point", k: int | None = None) -> IngestNote:
    """The note saying which runs a file holds and which one is read (the last, or run ``k`` when the runs after
    it are stubs: :func:`analysed_run`)."""
    k = len(runs) - 1 if k is None else k
    me = runs[k]
    why = ", or after the run before reached its last announced epoch" if any(r.after_finished for r in runs) else ""
    others = [r for i, r in enumerate(runs) if i != k]
    shown = ", ".join(f"lines {r.first:,}-{r.last:,} ({r.points:,} {what}s)" for r in others[:8])
    if len(others) > 8:
        shown += f", ... ({len(others) - 8} more)"
    if k == len(runs) - 1:
        which = "analysed the last"
    else:
        stubs = runs[k + 1:]
        sizes = ", ".join(f"{r.points:,}" for r in stubs[:3]) + (", ..." if len(stubs) > 3 else "")
        which = (f"analysed the latest with {STUB_POINTS} {what}s or more ("
                 + (f"the last run is too short to judge: {sizes} {what}(s)" if len(stubs) == 1 else
                    f"the last {len(stubs)} runs are too short to judge: {sizes} {what}s") + ")")
    return IngestNote(
        "several_runs",
        f"the file holds {len(runs)} separate runs (the counter goes back to its start with the loss back at its "
        f"starting level, or part-way back with a header printed there{why}): {which}, lines {me.first:,}-{me.last:,} "
        f"({me.points:,} {what}s); {'earlier' if k == len(runs) - 1 else 'other'} runs not analysed: {shown} "
        f"({dropped:,} row(s) left out) -- "
        "split the file, or analyse it with --split-runs, to have each judged",
        line=me.first,
        count=len(runs),
        spans=tuple((r.first, r.last) for r in runs),
    )


def keep_last_run(rows: pl.DataFrame, ref: pl.DataFrame, lines: pl.DataFrame | None, notes: list[IngestNote],
                  *, line_col: str = "lineno", counter_col: str = "step", what: str = "point",
                  meta: dict[str, Any] | None = None) -> pl.DataFrame:
    """``rows`` (any frame with a line-number column ``line_col`` and a counter ``counter_col``) restricted
    to the last run that :func:`find_runs` sees in ``ref``; a ``several_runs`` note is appended when rows
    were left out. Rows between the last point of the run before and the first of the last run belong to
    the last run when their counter is not past its start (an evaluation at step 0 printed before the
    first training line), else to the run before (its final evaluation, its summary). With ``meta``,
    :data:`AFTER_LINE` is set there when rows were left out."""
    return keep_last_run_of([rows], ref, lines, notes, line_col=line_col, counter_col=counter_col, what=what,
                            meta=meta)[0]


#: Set by :func:`lossdoc.ingest.split_file_runs` while it reads a file once per earlier run: the index of the run
#: :func:`keep_last_run` keeps instead of the last (0 = the first), with no ``several_runs`` note (the caller names
#: the run). None: the last run, noted.
KEEP_RUN: contextvars.ContextVar[int | None] = contextvars.ContextVar("lossdoc_keep_run", default=None)


def keep_last_run_of(frames: Sequence[pl.DataFrame], ref: pl.DataFrame, lines: pl.DataFrame | None,
                     notes: list[IngestNote], *, line_col: str = "lineno", counter_col: str = "step",
                     what: str = "point", meta: dict[str, Any] | None = None) -> list[pl.DataFrame]:
    """:func:`keep_last_run` for a reader that holds its rows in several frames (nanoGPT's iter and eval
    lines): each restricted to the last run, one note counting the rows left out of all of them."""
    runs = find_runs(ref, lines)
    if len(runs) < 2:
        return list(frames)
    want = KEEP_RUN.get()
    if want is not None and 0 <= want < len(runs) - 1:
        if meta is not None and want > 0:
            meta[AFTER_LINE] = runs[want - 1].last
        return [in_run(f, runs, want, line_col=line_col, counter_col=counter_col) for f in frames]
    k = analysed_run(runs)
    kept = [in_run(f, runs, k, line_col=line_col, counter_col=counter_col) for f in frames]
    dropped = sum(f.height - g.height for f, g in zip(frames, kept, strict=True))
    notes.append(several_runs_note(runs, dropped, what=what, k=k))
    if meta is not None and k > 0:
        meta[AFTER_LINE] = runs[k - 1].last
    return kept


def in_run(rows: pl.DataFrame, runs: list[RunSpan], k: int, *, line_col: str = "lineno",
           counter_col: str = "step") -> pl.DataFrame:
    """The rows of ``rows`` that belong to run ``k`` of ``runs``, by :func:`keep_last_run`'s rule for the rows
    between two runs: those whose counter is not past the later run's start belong to it (an evaluation at
    step 0 printed before its first training line), the others to the run before (its final evaluation).
    The last run holds every row from its first line on."""
    line, counter = pl.col(line_col), pl.col(counter_col).cast(pl.Float64)
    me = runs[k]
    if k == len(runs) - 1:
        keep = line >= me.first
    else:
        nxt = runs[k + 1]
        keep = ((line >= me.first) & (line <= me.last)) | (
            (line > me.last) & (line < nxt.first) & ~(counter <= nxt.counter).fill_null(False))
    if k > 0:
        keep = keep | ((line > runs[k - 1].last) & (line < me.first) & (counter <= me.counter).fill_null(False))
    return rows.filter(keep)
