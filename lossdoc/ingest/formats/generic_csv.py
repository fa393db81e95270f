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
from lossdoc.ingest.formats._loss_columns import (
    counter_columns,
    main_loss,
    meter_columns,
    tagged_columns,
    unlogged_splits,
)
from lossdoc.ingest.formats._tabular import (
    MISSING_TOKENS,
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
from lossdoc.ingest.text import to_float
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
    "numiters",  # Caffe's tools/extra/parse_log.py: NumIters,Seconds,LearningRate,<outputs>
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
        summary: pl.DataFrame | None = None
        summary_word = ""
        if step_col is not None:
            per_epoch_counter = bool(epoch and step_col != epoch_col and step_col.strip().lower() in COUNTER_NAMES)
            if per_epoch_counter:
                df, summary, summary_word = split_summary_rows(df, step_col, "_epoch")
            df = step_axis(df, step_col, path=inp.name, notes=notes)
            if per_epoch_counter:
                # 'epoch,batch,loss' with batch 0..200 in every epoch: one step from the two
                df = df.with_columns(pl.col("_step").alias("_batch"))
                df, note = combine_table_axis(df, "_step", "_epoch", step_col)
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
        note = empty_rows_note(df, numeric, step_col or "row")
        if note:
            notes.append(note)
        namer = SeriesNamer()
        # loss.csv with columns G and D (a GAN's two losses): the file says what they are
        lossy_file = loss_like(_stem(inp.inner_name)) and not any(loss_like(c) for c in numeric)
        mapping = {}
        tagged = tagged_columns(numeric)  # 'Loss (1D)' .. 'Loss (6D)': a run per setting, below
        for c in numeric:
            if c in tagged:
                continue
            if lossy_file and c.strip():
                split = bare_split(c)  # 'train' / 'valid' columns of losses.csv: each split's loss
                if split is not None:
                    mapping[c] = namer.assign(c, split, "loss")
                    continue
                split, metric = guess_split_metric(c)
                mapping[c] = namer.assign(c, split, f"{metric}_loss")
            else:
                mapping[c] = namer.auto(c)
        mapping = unlogged_splits(df, meter_columns(mapping, notes), notes)
        mapping = cross_split_sums(df, main_loss(counter_columns(df, mapping, notes), notes), notes)
        if lossy_file:
            notes.append(IngestNote("inferred", f"the file is named {inp.inner_name!r}: its columns are read as losses "
                                    f"({', '.join(f'{c} -> {sp} {m}' for c, (sp, m) in list(mapping.items())[:4])})"))
        blocks, bad = melt(df, mapping, run=inp.run_name, epoch=epoch, wall_time=wall)
        if "_batch" in df.columns:
            blocks = _running_sums(df, blocks, step_col or "", notes)
        if summary is not None:
            blocks += _summary_blocks(df, summary, summary_word, mapping, blocks, step_col or "", inp.run_name,
                                      wall, notes)
        if tagged:
            more, bad2 = _tagged_runs(df, tagged, inp.run_name, epoch, wall, notes)
            blocks, bad = blocks + more, pl.concat([bad, bad2])
        note = bad_cells_note(bad)
        if note:
            notes.append(note)
        return ParseResult(blocks=blocks, notes=notes)


def _tagged_runs(df: pl.DataFrame, tagged: dict[str, tuple[str, str]], run: str, epoch: str | None,
                 wall: str | None, notes: list[IngestNote]) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """The columns of :func:`tagged_columns` as one run per setting, ``<run> (<setting>)``, each under its base
    name's (split, metric), noted."""
    blocks: list[pl.DataFrame] = []
    bads = []
    for c, (base, tag) in tagged.items():
        b, bad = melt(df, {c: guess_split_metric(base)}, run=f"{run} ({tag})", epoch=epoch, wall_time=wall)
        blocks += b
        bads.append(bad)
    cols = list(tagged)
    shown = ", ".join(repr(c) for c in cols[:3]) + (f" ... {cols[-1]!r}" if len(cols) > 3 else "")
    notes.append(IngestNote(
        "inferred", f"columns {shown} name the same metric for {len(cols)} different settings (the part in "
        f"brackets): read as {len(cols)} runs side by side ('{run} ({tagged[cols[0]][1]})' ...), one curve each, "
        "not as parts of one loss"))
    return blocks, pl.concat(bads)


def empty_rows_note(df: pl.DataFrame, columns: list[str], axis: str) -> IngestNote | None:
    """A ``gap`` note for rows that carry a step (or epoch) but no value in any value column (``3,,``): no
    point is read there, and a reader of the curve should know the step is missing rather than never
    logged. pandas' ``to_csv`` writes NaN as an empty cell, so the values may have been NaN: said, not assumed."""
    if not columns or "_step" not in df.columns:
        return None
    empty = pl.all_horizontal([pl.col(c).cast(pl.String).str.strip_chars().is_in(list(MISSING_TOKENS)).fill_null(True)
                               for c in columns])
    rows = df.filter(empty & pl.col("_step").is_not_null())
    if rows.height == 0:
        return None
    at = ", ".join(f"{v:,}" for v in rows.get_column("_step").head(5).to_list()) + (" ..." if rows.height > 5 else "")
    return IngestNote(
        "gap", f"{rows.height} row(s) have a {axis!r} but no value in any column ({axis!r} = {at}): nothing is read "
        "there (an empty cell is also how pandas' to_csv writes NaN: if the values were NaN, the run had non-finite "
        "losses there)", line=int(rows.get_column("_line").min()),  # type: ignore[arg-type]
        count=rows.height, step=int(rows.get_column("_step").min()))  # type: ignore[arg-type]


#: Most value columns :func:`cross_split_sums` compares (each train column against each train/held-out pair).
_MAX_SUM_COLUMNS = 40


def cross_split_sums(df: pl.DataFrame, mapping: dict[str, tuple[str, str]],
                     notes: list[IngestNote]) -> dict[str, tuple[str, str]]:
    """``mapping`` with each training column that is, on every row, the sum of a training column and a
    validation/test column (``total`` = ``train`` + ``valid`` in a ``losses.csv``) moved to split ``other``:
    it mixes two splits, so it is neither's loss (read as a training loss it copies every validation spike).
    Needs three rows or more with all three values, equal within a relative 1e-6."""
    held = [c for c, (sp, _) in mapping.items() if sp in ("val", "test")]
    train = [c for c, (sp, _) in mapping.items() if sp == "train"]
    if not held or len(train) < 2 or len(mapping) > _MAX_SUM_COLUMNS:
        return mapping
    vals = df.select([to_float(pl.col(c).cast(pl.String)).alias(c) for c in held + train])
    head = vals.head(200)  # every triple is screened on the first rows; only a match is checked to the end

    def sums(frame: pl.DataFrame, c: str, a: str, b: str) -> int:
        """Rows with all three values where c == a + b (within 1e-6), or -1 if any row differs."""
        both = frame.select(pl.col(c), (pl.col(a) + pl.col(b)).alias("_s")).filter(
            pl.col(c).is_finite() & pl.col("_s").is_finite())
        ok = both.select(((pl.col(c) - pl.col("_s")).abs()
                          <= 1e-6 * pl.max_horizontal(pl.col(c).abs(), pl.col("_s").abs(), pl.lit(1e-12))).all()).item()
        return both.height if ok else -1

    out = dict(mapping)
    for c in train:
        for a in train:
            if a == c:
                continue
            for b in held:
                if sums(head, c, a, b) < 3:
                    continue
                n = sums(vals, c, a, b) if vals.height > head.height else sums(head, c, a, b)
                if n >= 3:
                    out[c] = ("other", mapping[c][1])
                    notes.append(IngestNote(
                        "inferred", f"{c!r} is {a!r} + {b!r} on every row ({n} rows): a sum over the "
                        f"{mapping[a][0]} and {mapping[b][0]} splits, read as other {mapping[c][1]}, not as a "
                        f"{mapping[c][0]} series"))
                    break
            if out[c][0] == "other":
                break
    return out


def split_summary_rows(df: pl.DataFrame, counter: str, epoch: str) -> tuple[pl.DataFrame, pl.DataFrame | None, str]:
    """``df`` without its epoch summary rows, the summary rows, and the word that marks them.

    A per-epoch counter column (``Batch``) that holds one word instead of a number (``summary``, ``end``,
    ``avg``) on at most one row per epoch, in two epochs or more, marks the row that sums the epoch up
    (``1,summary,1.989,0.304,6986``): its values are the epoch's, not a batch's. A word naming a split
    (``val``) is not such a row (left as it was: skipped with a note). No such rows: ``(df, None, "")``."""
    raw = pl.col(counter).cast(pl.String).str.strip_chars()
    word = (raw.str.contains(r"^[A-Za-z][A-Za-z _-]{0,30}$").fill_null(False)
            & raw.cast(pl.Float64, strict=False).is_null() & ~raw.is_in(list(MISSING_TOKENS))
            & pl.col(epoch).is_not_null())
    rows = df.filter(word)
    if rows.height < 2:
        return df, None, ""
    words = rows.get_column(counter).str.strip_chars().str.to_lowercase().unique()
    if words.len() != 1 or bare_split(words[0]) is not None:
        return df, None, ""
    if rows.get_column(epoch).n_unique() != rows.height:
        return df, None, ""
    return df.filter(~word), rows, str(rows.get_column(counter).str.strip_chars()[0])


#: A running sum's per-batch mean (value / batches seen) may change by at most this factor within an epoch.
_RUNNING_SUM_SPREAD = 5.0


def _is_running_sum(cells: pl.DataFrame) -> bool:
    """True when ``cells`` (``_epoch``, ``_batch``, ``value``, in file order) grow within every epoch in
    proportion to the batches seen, and start again at each epoch: a sum over the epoch so far (an
    accumulated ``running_loss`` printed before it is divided), not a per-batch value.

    Needs two epochs of three rows or more, every one strictly increasing, non-negative, and each row's
    value per batch seen within a factor :data:`_RUNNING_SUM_SPREAD` of the epoch's others."""
    fin = cells.filter(pl.col("value").is_finite() & pl.col("_epoch").is_not_null())
    if fin.height < 6:
        return False
    b0 = 0 if int(fin.get_column("_batch").min()) <= 0 else 1  # type: ignore[arg-type]
    per = (fin.with_columns((pl.col("value") / (pl.col("_batch") - b0 + 1).cast(pl.Float64)).alias("_m"))
           .group_by("_epoch", maintain_order=True)
           .agg(pl.len().alias("n"),
                (pl.col("value").diff().drop_nulls() > 0).all().alias("up"),
                (pl.col("_batch").diff().drop_nulls() > 0).all().alias("b_up"),
                (pl.col("value").min() >= 0).alias("pos"),
                (pl.col("_m").max() / pl.col("_m").min()).alias("spread")))
    full = per.filter(pl.col("n") >= 3)
    if full.height < 2 or 2 * full.height < per.filter(pl.col("n") >= 2).height:
        return False
    return bool(full.select(pl.col("up").all() & pl.col("b_up").all() & pl.col("pos").all()
                            & (pl.col("spread") <= _RUNNING_SUM_SPREAD).all()).item())


def _running_sums(df: pl.DataFrame, blocks: list[pl.DataFrame], counter: str,
                  notes: list[IngestNote]) -> list[pl.DataFrame]:
    """``blocks`` with each series that is a running sum over the epoch (:func:`_is_running_sum`) moved to
    split ``other`` as ``<metric>_running_sum``: it is not a loss, and read as one it rises every epoch."""
    out = []
    for b in blocks:
        if b.height < 6:
            out.append(b)
            continue
        cells = b.select("step", "value").with_row_index("_i").join(
            df.select(pl.col("_step").alias("step"), "_epoch", "_batch").unique("step", keep="last"),
            on="step", how="left").sort("_i")
        if not _is_running_sum(cells):
            out.append(b)
            continue
        split, metric, name = b.get_column("split")[0], b.get_column("metric")[0], b.get_column("name")[0]
        out.append(b.with_columns(pl.lit("other").alias("split"), pl.lit(f"{metric}_running_sum").alias("metric")))
        unit = counter.lower()
        units = unit + ("es" if unit.endswith(("ch", "sh", "s", "x")) else "s")
        notes.append(IngestNote(
            "inferred", f"{name!r} grows within every epoch in proportion to the '{counter}' rows seen and starts "
            f"again at each epoch: a running sum over the epoch, not a per-{unit} value; read as other "
            f"{metric}_running_sum, not as the {split} {metric}; to have it checked, log it divided by the {units} "
            "seen so far (running_loss / (i + 1): the epoch's mean so far, which falls as a loss does)"))
    return out


def _summary_blocks(df: pl.DataFrame, summary: pl.DataFrame, word: str, mapping: dict[str, tuple[str, str]],
                    blocks: list[pl.DataFrame], counter: str, run: str, wall: str | None,
                    notes: list[IngestNote]) -> list[pl.DataFrame]:
    """The epoch summary rows (:func:`split_summary_rows`) as series at each epoch's last step: under the
    column's own (split, metric) when the per-row series of that column is a running sum (moved out by
    :func:`_running_sums`) and so is not that metric, else as ``<metric>_epoch`` beside it."""
    ends = df.group_by("_epoch").agg(pl.col("_step").max().alias("_step"))
    summary = summary.with_columns(pl.col("_epoch").cast(pl.Float64)).join(ends, on="_epoch", how="left")
    lost = summary.filter(pl.col("_step").is_null())
    summary = summary.filter(pl.col("_step").is_not_null())
    if wall is not None and wall not in summary.columns:
        wall = None
    taken = {(b.get_column("split")[0], b.get_column("metric")[0]) for b in blocks if b.height}
    cols = {}
    for c, (split, metric) in mapping.items():
        if c not in summary.columns:
            continue
        cols[c] = (split, metric) if (split, metric) not in taken else (split, f"{metric}_epoch")
    out, _bad = melt(summary, cols, run=run, epoch="_epoch", wall_time=wall)
    out = [b for b in out if b.height]
    if out:
        said = ", ".join(f"{b.get_column('name')[0]} -> {b.get_column('split')[0]} {b.get_column('metric')[0]}"
                         for b in out[:4])
        notes.append(IngestNote(
            "inferred", f"{summary.height} row(s) have '{word}' instead of a number in '{counter}', one per epoch: "
            f"read as the epoch's values ({said}) at the epoch's last '{counter}' step (derived)",
            line=int(summary.get_column("_line").min()),  # type: ignore[arg-type]
            count=summary.height))
    if lost.height:
        notes.append(IngestNote("skipped_lines", f"{lost.height} '{word}' row(s) of an epoch with no "
                                f"'{counter}' rows skipped (no step to put them at)",
                                line=int(lost.get_column("_line").min()),  # type: ignore[arg-type]
                                count=lost.height))
    return out


PARSERS = [GenericCSVParser()]
