"""A step counter that restarts every epoch, combined with the epoch into one step that keeps rising.

Not a format (the leading underscore keeps :mod:`lossdoc._builtin` from looking for ``PARSERS``
here). Shared by the hand-rolled text reader (``Epoch 2 | Batch 100/400``) and the table readers
(``epoch,batch,loss`` CSVs, JSON Lines): a ``batch`` / ``iter`` / ``step`` counter that goes back
exactly when the epoch moves on, at nearly every epoch change, counts batches within the epoch.
Read as the step it would make every epoch's points collide with the last epoch's (kept as
duplicates or as a "resumed" segment): it is combined with the epoch instead,
``step = (epoch - e0) * per_epoch + counter``, with ``per_epoch`` from the counter's printed total
(``/400``) when there is one, else from the largest value seen. A global counter that never goes
back stays the step; one that goes back once while the epoch does not move on is a resume, left to
the restart normaliser.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lossdoc.model import IngestNote

#: Table columns that may count batches within an epoch (compared lower-cased): beside an epoch
#: column, one of these that restarts every epoch is combined with it.
COUNTER_NAMES = ("step", "steps", "iteration", "iterations", "iter", "iters", "it", "batch", "batches",
                 "batch_idx", "batch_id", "epoch_step")


#: The share of a counter's resets that must come with an epoch change for it to be the epoch's batch counter.
PER_EPOCH_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class Restarts:
    """Where a counter goes back, read against the epoch (rows that carry the counter, in order)."""

    resets: int  #: rows where the counter goes back, or stays put while the epoch moves on
    with_epoch: int  #: of those, rows where the epoch moves on (or back)
    drops: int  #: rows where the counter goes back
    epoch_moves: int  #: rows where the epoch moves on (or back)

    @property
    def per_epoch(self) -> bool:
        """The counter restarts with the epoch: PER_EPOCH_SHARE of the resets or more come with an epoch change and at
        least half of the epoch changes come with a reset (a global counter that went back once at a resume does not).
        Not every reset: a script killed inside an epoch and run again from that epoch restarts the counter with
        the epoch unchanged ('Epoch 0 [80/223]', then 'Epoch 0 [0/223]': 12 of 98 resets in a debugging log)."""
        return (self.resets > 0 and self.with_epoch >= PER_EPOCH_SHARE * self.resets
                and 2 * self.with_epoch >= self.epoch_moves)


def restarts(df: pl.DataFrame, counter: str, epoch: str) -> Restarts:
    """:class:`Restarts` of column ``counter`` in ``df`` (rows in order, the counter never null; ``epoch``
    forward-filled, null before any epoch)."""
    # the epoch moves on, or back to its start (a script run again in the same log: "Epoch 8 [150/223]" then
    # "Epoch 0 [0/223]"): the counter restarting there is still the epoch's batch counter
    ep_moves = (pl.col(epoch).diff() != 0).fill_null(False)
    d = pl.col(counter).diff()
    drop = (d < 0).fill_null(False)
    back = drop | ((d == 0).fill_null(False) & ep_moves)
    row = df.select(back.sum().alias("r"), (back & ep_moves).sum().alias("w"), drop.sum().alias("d"),
                    ep_moves.sum().alias("m")).row(0)
    return Restarts(*(int(v or 0) for v in row))


@dataclass(frozen=True, slots=True)
class EpochCounter:
    """How a per-epoch counter and the epoch make one step: ``(epoch - e0) * per + counter``."""

    key: str  #: the counter's name as logged
    per: int  #: counter values per epoch
    b0: int  #: the counter's first value in an epoch (0 or 1)
    e0: float  #: the first epoch
    how: str  #: where ``per`` comes from ("as printed", "estimated from the largest value seen")

    def step(self, counter: pl.Expr, epoch: pl.Expr) -> pl.Expr:
        return (epoch - self.e0) * self.per + counter

    def epoch_end(self, epoch: pl.Expr) -> pl.Expr:
        """The step of an epoch's last batch (where an epoch summary without a counter goes)."""
        return (epoch - self.e0 + 1) * self.per + self.b0 - 1

    def note(self, *, derived: bool = False) -> IngestNote:
        tail = "; the step is derived from the two, not logged" if derived else ""
        return IngestNote(
            "inferred",
            f"'{self.key}' restarts every epoch: step = (epoch - {self.e0:g}) x {self.per} + {self.key} "
            f"({self.per} per epoch, {self.how}){tail}",
        )


def epoch_counter(counter: pl.Series, epoch: pl.Series, key: str, total: pl.Series | None = None,
                  first_epoch: float | None = None) -> EpochCounter:
    """The :class:`EpochCounter` of a counter that restarts every epoch: ``counter`` its values, ``epoch``
    the epochs (the smallest is ``e0`` unless ``first_epoch``, the run's first epoch when the log shows it
    began before its first line, says otherwise), ``total`` the printed ``/M`` totals if any."""
    b_min = counter.min()
    b0 = 0 if (b_min is not None and b_min <= 0) else 1  # type: ignore[operator]
    totals = total.drop_nulls() if total is not None else None
    if totals is not None and totals.len():
        per, how = int(totals.max()), "as printed"  # type: ignore[arg-type]
    else:
        per, how = int(counter.max() - b0 + 1), "estimated from the largest value seen"  # type: ignore[operator]
    e0 = epoch.min() if first_epoch is None else first_epoch
    return EpochCounter(key=key, per=per, b0=b0, e0=float(e0) if e0 is not None else 0.0, how=how)  # type: ignore[arg-type]


def combine_table_axis(df: pl.DataFrame, step: str, epoch: str, key: str) -> tuple[pl.DataFrame, IngestNote | None]:
    """A table's step column ``step`` (integers, never null; rows in file order) replaced by the combined
    step when it restarts every epoch of the numeric column ``epoch`` (whole epochs only), with the note
    saying so; else ``df`` unchanged and None. ``key`` is the counter's name as logged."""
    if df.height < 2 or epoch not in df.columns:
        return df, None
    if not df.select((pl.col(step).diff() < 0).any()).item():
        return df, None  # a counter that never goes back is a global one (every Lightning metrics.csv): no cost
    ep = df.get_column(epoch).cast(pl.Float64, strict=False)
    seen = ep.drop_nulls()
    if seen.len() == 0 or not bool(((seen == seen.floor()) & seen.is_finite()).all()):
        return df, None  # a fractional epoch (HF's 0.25) moves at every row: not an epoch of batches
    probe = pl.DataFrame({"c": df.get_column(step), "e": ep.forward_fill()})
    r = restarts(probe, "c", "e")
    if not r.per_epoch:
        return df, None
    ec = epoch_counter(df.get_column(step), seen, key)
    e = ep.forward_fill().fill_null(ec.e0)
    combined = ((e - ec.e0) * ec.per + df.get_column(step).cast(pl.Float64)).round(0).cast(pl.Int64)
    return df.with_columns(combined.alias(step)), ec.note(derived=True)
