"""Generic CSV / TSV of metrics: a fallback for hand-rolled loggers (``df.to_csv``, ``csv.writer``).

Not tied to a trainer (checked with pandas ``to_csv`` and ``csv.DictWriter`` output). Sample::

    step,train_loss,val_loss,lr
    100,2.4312,2.5120,0.0003
    200,2.1107,,0.0003

The axis is the first column named like a step (``step``, ``global_step``, ``iter``,
``iteration``, ``update``, ``batch``...), else ``epoch``; with none, the row index (0-based, with an
``inferred`` note). A ``batch`` / ``iter`` / ``step`` column beside an ``epoch`` column that restarts every
epoch is combined with it (``step = (epoch - e0) * per_epoch + batch``, noted as derived:
:mod:`lossdoc.ingest.formats._epoch_counter`). Every other numeric column is a series, its split guessed from its name
(``val_loss``, ``Valid MSE``, ``eval/loss``). A file whose first line is all numbers (with as many cells as the
rows after it) has no header: it is read as a numbers-only table (:mod:`lossdoc.ingest.formats.numeric_column`;
its columns named after the file, else ``col2``...), noted. Sniffing stays at or below 0.45 so that any specific
format (Lightning, Keras, YOLO, timm, fastai, W&B exports) wins.
"""

from __future__ import annotations

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._epoch_counter import COUNTER_NAMES, combine_table_axis
from lossdoc.ingest.formats._tabular import (
    SeriesNamer,
    bad_cells_note,
    bare_split,
    guess_split_metric,
    melt,
    numeric_columns,
    read_table,
    sniff_csv,
    step_axis,
)
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.model import IngestNote, ParseResult

#: Axis names, best first (compared lower-cased and stripped).
STEP_NAMES = (
    "step",
    "global_step",
    "globalstep",
    "steps",
    "iteration",
    "iter",
    "iters",
    "it",
    "update",
    "updates",
    "num_updates",
    "trainer/global_step",
    "train/global_step",
    "_step",
    "batch",
    "batches",
    "batch_idx",
)
EPOCH_NAMES = ("epoch", "epochs", "ep")
WALL_NAMES = ("wall_time", "walltime", "timestamp", "_timestamp", "unix_time", "elapsed", "elapsed_time")
#: Substrings that make a column name loss-like (what a fallback must see before claiming a file).
LOSS_WORDS = ("loss", "ppl", "perplexity", "nll", "mse", "mae", "rmse", "bpc", "bpb", "error", "objective")


def find_column(header: list[str], names: tuple[str, ...]) -> str | None:
    low = {h.strip().lower(): h for h in reversed(header)}
    for n in names:
        if n in low:
            return low[n]
    return None


def loss_like(name: str) -> bool:
    low = name.lower()
    return any(w in low for w in LOSS_WORDS)


def _stem(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(".", 1)[0]


def _headerless(header: list[str], df: pl.DataFrame) -> bool:
    """The first line is data: every cell a number, and the rows after it have as many cells."""
    from lossdoc.ingest.formats._tabular import is_number

    if len(header) < 2 or not all(is_number(h.strip().strip("\"'")) for h in header):
        return False
    cols = [c for c in header if c in df.columns]
    full = df.select(pl.all_horizontal([pl.col(c).is_not_null() & (pl.col(c).cast(pl.String).str.strip_chars() != "")
                                        for c in cols]).sum()).item()
    return df.height > 0 and int(full or 0) >= 0.95 * df.height


def _read_headerless(inp: InputFile) -> ParseResult:
    """A CSV without a header line (``np.savetxt(..., delimiter=",")``): read as a numbers-only table
    (:mod:`lossdoc.ingest.formats.numeric_column`), its first line kept as data."""
    from lossdoc.ingest.formats.numeric_column import frames_for

    stem = inp.inner_name.rsplit(".", 1)[0] if "." in inp.inner_name else inp.inner_name
    frame, notes = frames_for([(stem, inp.name, inp)], inp.run_name, generic=True)
    if frame.height == 0:
        raise EmptyInputError("no numbers found", path=inp.name)
    notes.insert(0, IngestNote("inferred", "every cell of the first line is a number: the file has no header line "
                               "(the first line is read as data, the file as a numbers-only table)"))
    return ParseResult(frame, notes)


class GenericCSVParser(Parser):
    name = "csv"
    title = "Generic metrics CSV/TSV (fallback)"
    recognises = ("any CSV/TSV with loss-like numeric columns (or named like a loss: loss.csv with G, D columns) and a "
                  "step/iter/epoch column (or none; pandas' unnamed index column counts)")
    priority = 90
    heuristic = True

    def sniff(self, inp: InputFile) -> float:
        head = sniff_csv(inp)
        if head is None or len(head.header) < 2 or not head.rows:
            return 0.0
        if head.numeric_share() < 0.8:
            return 0.0
        has_axis = find_column(head.header, STEP_NAMES + EPOCH_NAMES) is not None
        if any(loss_like(h) for h in head.header) or loss_like(_stem(inp.inner_name)):
            return 0.45 if has_axis else 0.35
        return 0.2 if has_axis else 0.1

    def parse(self, inp: InputFile) -> ParseResult:
        table = read_table(inp)
        df, header = table.df, table.header
        if _headerless(header, df):
            return _read_headerless(inp)
        notes = list(table.notes)
        step_col = find_column(header, STEP_NAMES)
        if step_col is None and header and not header[0].strip():
            step_col = header[0]  # pandas' unnamed index column (DataFrame.to_csv): the row number
        epoch_col = find_column(header, EPOCH_NAMES)
        wall_col = find_column(header, WALL_NAMES)
        axis_cols = [c for c in (step_col, epoch_col, wall_col) if c is not None]
        epoch = wall = None
        if epoch_col:
            df = df.with_columns(pl.col(epoch_col).str.strip_chars().cast(pl.Float64, strict=False).alias("_epoch"))
            epoch = "_epoch"
        if wall_col:
            df = df.with_columns(pl.col(wall_col).str.strip_chars().cast(pl.Float64, strict=False).alias("_wall"))
            if df.get_column("_wall").null_count() == df.height:  # e.g. "00:12" or ISO dates: not seconds
                axis_cols.remove(wall_col)
                df = df.drop("_wall")
            else:
                wall = "_wall"
        if step_col is None and epoch_col is not None:
            ep = df.get_column("_epoch")
            if ep.drop_nulls().len() and (ep.drop_nulls() == ep.drop_nulls().floor()).all():
                step_col = epoch_col
        if step_col is not None:
            df = step_axis(df, step_col, path=inp.name, notes=notes)
            if epoch and step_col != epoch_col and step_col.strip().lower() in COUNTER_NAMES:
                # 'epoch,batch,loss' with batch 0..200 in every epoch: one step from the two
                df, note = combine_table_axis(df, "_step", epoch, step_col)
                if note:
                    notes.append(note)
        else:
            df = df.with_columns((pl.int_range(pl.len(), dtype=pl.Int64)).alias("_step"))
            why = "the epoch column is fractional" if epoch_col else "no step/iteration/epoch column"
            notes.append(IngestNote("inferred", f"{why}: the row index (0-based) is the step"))
        candidates = [c for c in header if c not in axis_cols]
        numeric, other = numeric_columns(df, candidates)
        if other:
            notes.append(IngestNote("other", f"column(s) without numbers ignored: {', '.join(other[:5])}"))
        if not numeric:
            raise EmptyInputError("no numeric metric columns", path=inp.name)
        namer = SeriesNamer()
        # loss.csv with columns G and D (a GAN's two losses): the file says what they are
        lossy_file = loss_like(_stem(inp.inner_name)) and not any(loss_like(c) for c in numeric)
        mapping = {}
        for c in numeric:
            if lossy_file and c.strip():
                split = bare_split(c)  # 'train' / 'valid' columns of losses.csv: each split's loss
                if split is not None:
                    mapping[c] = namer.assign(c, split, "loss")
                    continue
                split, metric = guess_split_metric(c)
                mapping[c] = namer.assign(c, split, f"{metric}_loss")
            else:
                mapping[c] = namer.auto(c)
        if lossy_file:
            notes.append(IngestNote("inferred", f"the file is named {inp.inner_name!r}: its columns are read as losses "
                                    f"({', '.join(f'{c} -> {sp} {m}' for c, (sp, m) in list(mapping.items())[:4])})"))
        blocks, bad = melt(df, mapping, run=inp.run_name, epoch=epoch, wall_time=wall)
        note = bad_cells_note(bad)
        if note:
            notes.append(note)
        return ParseResult(blocks=blocks, notes=notes)


PARSERS = [GenericCSVParser()]
