"""PyTorch Lightning ``CSVLogger``: ``<save_dir>/<name>/version_N/metrics.csv`` (+ ``hparams.yaml``).

Checked against docs/formats-reference.md §2 (``lightning/fabric/loggers/csv_logs.py``: keys in order of first
appearance in PL 1.x / Lightning 2.0, set order in 2.1, sorted since 2.2) and three real files in
``lightning`` of the real logs (``tests/ingest/test_real_logs.py``). Sample (Lightning >= 2.2, sorted header, sparse rows)::

    epoch,step,train_loss_epoch,train_loss_step,val_acc,val_loss
    0,49,,0.6931,,
    0,99,,,0.8125,0.4710

Columns are matched by name, so any column order works. Empty cells are "not logged here" (a
row holds only the keys of one ``log_metrics`` call), not missing values. Train vs val comes
from the user's metric names (``train_loss``, ``val_loss``, ``Valid MSE``, ``Test MSE``).
``self.log(on_step=True, on_epoch=True)`` writes ``<name>_step`` and ``<name>_epoch``: the
``_step`` column is the series (``train_loss_step`` -> train loss), the ``_epoch`` one its own
metric (``loss_epoch``). ``LearningRateMonitor`` columns (``lr-AdamW``, ``lr-SGD/pg1``) are lr;
several of them keep their own names. ``hparams.yaml`` beside the file goes to
``meta["hparams"]`` (flat ``key: value`` lines; nested blocks are skipped, no YAML library).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from lossdoc.errors import InputError
from lossdoc.ingest.formats._epoch_counter import combine_table_axis
from lossdoc.ingest.formats._loss_columns import main_loss
from lossdoc.ingest.formats._tabular import (
    MAX_COLUMNS,
    SeriesNamer,
    bad_cells_note,
    guess_split_metric,
    int_column,
    melt,
    numeric_columns,
    read_table,
    sniff_csv,
    torn_row_note,
)
from lossdoc.ingest.inputs import InputFile, open_file
from lossdoc.ingest.remote import join_display
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import count_lines, snapshot, stream_queries
from lossdoc.model import IngestNote, ParseResult, compact_epoch, conform_blocks, whole_epoch
from lossdoc.numfmt import fmt_num

METRICS_NAME = "metrics.csv"
HPARAMS_NAME = "hparams.yaml"
_VERSION_DIR = re.compile(r"^version_\w+$")
_YAML_LINE = re.compile(r"^([A-Za-z_][\w.\-]*)\s*:\s*(.*?)\s*$")


def _yaml_scalar(raw: str) -> Any:
    """A flat YAML scalar: int, float, bool, null or (quoted) string; ``...`` for 'not flat'."""
    if raw == "" or raw.startswith(("!", "&", "*", "|", ">", "[", "{")):
        return ...
    if raw[0] in "'\"" and raw[-1] == raw[0] and len(raw) >= 2:
        return raw[1:-1]
    if " #" in raw:
        raw = raw.split(" #", 1)[0].rstrip()
    low = raw.lower()
    if low in ("null", "~", "none"):
        return None
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if re.fullmatch(r"[-+]?\d+", raw):
        return int(raw)
    if re.fullmatch(r"[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|\.inf|\.nan)", raw, re.I):
        return float(raw.replace(".inf", "inf").replace(".nan", "nan").replace(".INF", "inf"))
    return raw


def read_hparams(path: Path) -> dict[str, Any]:
    """Top-level ``key: scalar`` pairs of a Lightning ``hparams.yaml`` (nested blocks skipped)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    out: dict[str, Any] = {}
    for ln in text.splitlines():
        if not ln or ln[0] in " \t#-":
            continue
        m = _YAML_LINE.match(ln)
        if not m:
            continue
        v = _yaml_scalar(m.group(2))
        if v is not ...:
            out[m.group(1)] = v
    return out


def _has_step(header: list[str]) -> bool:
    return "step" in header


def _step_restarts_with_epoch(header: list[str], rows: list[list[str]]) -> bool:
    """The first rows of a table show its ``step`` going back where its ``epoch`` moves on."""
    i, j = header.index("step"), header.index("epoch")
    pairs = []
    for r in rows:
        try:
            pairs.append((float(r[i]), float(r[j])))
        except (IndexError, ValueError):
            continue
    return any(s1 < s0 and e1 > e0 for (s0, e0), (s1, e1) in zip(pairs, pairs[1:]))


def _is_logged_on_step(column: str) -> bool:
    """``column`` ends in Lightning's ``_step`` suffix, not in a word that ends so (``global_step``, ``lr_step``:
    the stripped name must still name a metric)."""
    stem = column[: -len("_step")].rstrip("/_ ")
    return bool(stem) and not stem.lower().endswith(("global", "lr", "optimizer", "time", "num", "epoch"))


def column_series(header: list[str], axes: set[str], dropped: frozenset[str] = frozenset(),
                  notes: list[IngestNote] | None = None,
                  sparse: frozenset[str] = frozenset()) -> dict[str, tuple[str, str]]:
    """(split, metric) for each value column, handling ``_step``/``_epoch`` pairs and lr monitors. An ``_epoch``
    column whose ``_step`` twin is in ``dropped`` (:func:`eval_batch_columns`) is the series itself, and so is
    one whose ``_step`` twin is in ``sparse`` (:func:`sparse_step_columns`; the twin is then ``<metric>_step``).
    With ``notes``, a split's loss is named where the header leaves it to be guessed (:func:`main_loss`, noted)."""
    cols = [c for c in header if c not in axes]
    present = set(cols) | set(dropped)
    namer = SeriesNamer()
    # Pass 1: the _step of a pair and plain columns; pass 2: the _epoch of a pair (so the
    # step-level series claims the canonical name first, whatever the column order).
    paired_epoch = {c for c in cols if c.endswith("_epoch") and c[: -len("_epoch")] + "_step" in present}
    for c in cols:
        if c in paired_epoch or c in sparse:
            continue
        if c.endswith("_step") and c[: -len("_step")] + "_epoch" in present:
            namer.assign(c, *guess_split_metric(c[: -len("_step")]))
        elif c.endswith("_step") and c[: -len("_step")] not in present and _is_logged_on_step(c):
            # a '_step' column without its '_epoch' twin: self.log(on_step=True, on_epoch=True) in a run stopped
            # before its first epoch ended (NLPQuy/lejepa-MLProject: 800 steps of epoch 0, 'fit/loss_step' alone)
            namer.assign(c, *guess_split_metric(c[: -len("_step")]))
        else:
            namer.auto(c)
    for c in cols:
        if c in paired_epoch:
            split, metric = guess_split_metric(c[: -len("_epoch")])
            twin = c[: -len("_epoch")] + "_step"
            namer.assign(c, split, metric if twin in dropped or twin in sparse else f"{metric}_epoch")
            if twin in sparse:
                namer.assign(twin, split, f"{metric}_step")
    mapping = {c: namer.assigned[c] for c in cols}
    return mapping if notes is None else main_loss(mapping, notes)


def eval_batch_columns(df: pl.DataFrame, values: list[str], epoch: str) -> tuple[pl.DataFrame, IngestNote | None]:
    """``df`` without the validation/test columns logged per evaluation batch, and the note saying so.

    Lightning logs an evaluation step's ``self.log(..., on_step=True)`` values with an explicit step, the count of
    evaluation batches seen (``evaluation_loop.py``: ``update_eval_step_metrics(self._seen_batches_per_dataloader
    [dataloader_idx])``), and adds ``epoch`` only to rows logged without one (``logger_connector.py``,
    ``log_metrics``: ``if step is None: scalar_metrics.setdefault("epoch", ...)``). So a val/test column whose
    every value sits on a row without an epoch, in a file whose other rows have one, counts evaluation batches
    (``val_loss_step`` at 0..599 for 30 batches x 20 epochs), not training steps: put on the training axis it
    would be misaligned. Such columns and their rows are left out; the epoch-level column, if logged, is read."""
    if epoch not in df.columns or df.get_column(epoch).null_count() == df.height:
        return df, None
    no_epoch = pl.col(epoch).is_null()
    cols = []
    for c, (split, _) in column_series(values, set()).items():
        if split == "train":
            continue
        n_all, n_bare = df.select(pl.col(c).is_not_null().sum().alias("a"),
                                   (pl.col(c).is_not_null() & no_epoch).sum().alias("b")).row(0)
        if n_all and n_all == n_bare:
            cols.append((c, n_all))
    if not cols:
        return df, None
    rest = [c for c in values if c not in {c for c, _ in cols}]
    keep = ~no_epoch | pl.any_horizontal([pl.col(c).is_not_null() for c in rest]) if rest else ~no_epoch
    shown = ", ".join(f"{c!r} ({n} values)" for c, n in cols[:4]) + (" ..." if len(cols) > 4 else "")
    note = IngestNote(
        "skipped_lines", f"{shown}: logged per evaluation batch on rows without an epoch, so its step counts "
        "evaluation batches (Lightning's own counter for them), not training steps: not read on the training "
        "axis", count=sum(n for _, n in cols))
    return df.filter(keep).drop([c for c, _ in cols]), note


#: :func:`sparse_step_columns` reads an ``_epoch`` column instead of its ``_step`` twin when it has more points than
#: the twin and more than this
_SPARSE_STEP = 4


def sparse_step_columns(df: pl.DataFrame, values: list[str]) -> tuple[frozenset[str], IngestNote | None]:
    """The ``_step`` columns of ``_step``/``_epoch`` pairs too short to be the series, and the note saying so.

    ``self.log(on_step=True, on_epoch=True)`` writes the ``_step`` value only every ``log_every_n_steps`` (50 by
    default) training steps (``Trainer(log_every_n_steps=50)``; ``_LoggerConnector.should_update_logs``), so on
    epochs shorter than that it holds a point or a few while ``_epoch`` holds one per epoch (``train_loss_step``
    once at step 49 beside ``train_loss_epoch`` over 20 epochs). The per-epoch column is then the series. ``df``
    holds the value columns typed as numbers."""
    present = set(values)
    sparse = []
    for c in values:
        twin = c[: -len("_step")] + "_epoch"
        if not c.endswith("_step") or twin not in present:
            continue
        n_step, n_epoch = df.select(pl.col(c).is_not_null().sum(), pl.col(twin).is_not_null().sum()).row(0)
        # fewer per-step points than epochs: every epoch is shorter than log_every_n_steps (6 values of
        # train_loss_step beside 15 of train_loss_epoch, Palindrome-del/IronDiscipline), so the per-epoch column
        # is the finer series as well as the less noisy one
        if n_epoch > n_step and n_epoch > _SPARSE_STEP:
            sparse.append((c, twin, n_step, n_epoch))
    if not sparse:
        return frozenset(), None
    shown = "; ".join(f"{c!r} has {n} point(s) against {m} in {t!r}" for c, t, n, m in sparse[:3])
    note = IngestNote(
        "other", f"{shown}{' ...' if len(sparse) > 3 else ''}: a per-step value logged every log_every_n_steps, "
        "more steps than an epoch holds, so the per-epoch column is read as the series (the per-step one as "
        "'<metric>_step')")
    return frozenset(c for c, _, _, _ in sparse), note


#: Bytes of metrics.csv read at a time by :func:`_parse_typed`: at 10^7 rows, 2 MB pieces peak ~110 MB
#: lower than 16 MB ones (a piece's k string columns of views are 3x its size) and 1 MB ones another
#: ~15 MB lower (509-514 against 522-529 MB, 3 runs each), all in the same time.
_PIECE = 1 << 20


#: Largest epoch :func:`_parse_typed` reads as UInt16 (a file with a larger one is read into Float64).
_MAX_PIECE_EPOCH = 2**16 - 1


def _parse_typed(inp: InputFile, run: str, compact: bool = True) -> ParseResult | None:
    """A clean numeric ``metrics.csv`` read in pieces straight into numbers (:func:`stream_queries`),
    never as a table of strings: the rows and notes :func:`read_table` and the rest of
    :meth:`LightningCSVParser._parse` give it, or None when the file has anything they would handle
    or note (quotes, CR, a BOM, repeated or ragged rows, a cell that is not a plain number, a row
    without a step, a column without numbers...): it is then read that way.

    A 10^7-row file of four columns: ~0.3 GB of Int64/Float64 columns instead of every cell as a
    string, its line numbers and the file again as lines.

    An ``epoch`` column of whole numbers (what the logger writes) is held compactly
    (:func:`lossdoc.model.compact_epoch`: 10 MB instead of 80 MB at 10^7 rows), read piece by
    piece as UInt16 and narrowed at the end; a file with any other epoch (a fraction, above
    :data:`_MAX_PIECE_EPOCH`...) is read again (``compact=False``) into Float64. The steps are held as
    Int32 when every one is from 0 to 2**31 - 1 (:data:`lossdoc.model.COMPACT_STEP`: 40 MB instead of
    80 MB at 10^7 rows), else as Int64 (token counts), without reading the file again."""
    if inp.path is None or not inp.is_utf8_file() or inp.head_bytes(3) == b"\xef\xbb\xbf":
        return None
    head = inp.head_text(64 * 1024)
    if "\n" not in head:
        return None
    header = head.split("\n", 1)[0].removesuffix("\r")  # csv.writer ends its lines with CR LF
    if '"' in header or "\r" in header:
        return None
    names = [c.strip() for c in header.split(",")]
    if "step" not in names or len(set(names)) != len(names) or "" in names or len(names) > MAX_COLUMNS:
        return None
    k = len(names)
    size, torn = snapshot(inp)  # a file still being written is read as it is now
    last = count_lines(inp, size) if torn else 0
    line = pl.col("line").str.strip_suffix("\r")
    cells = line.str.split_exact(",", k - 1) if k > 1 else pl.struct(line.alias("field_0"))
    kinds = {c: pl.Int64 if c == "step" else pl.Float64 for c in names}
    typed = [pl.col("_c").struct.field(f"field_{j}").cast(kinds[c], strict=False).alias(c)
             for j, c in enumerate(names)]

    def queries(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
        body = lines.filter((pl.col("lineno") > 1) & (pl.col("lineno") != last) & (line != ""))
        body = body.select(line, cells.alias("_c")).with_columns(typed)
        fits = whole_epoch(pl.col("epoch")) & (pl.col("epoch") <= _MAX_PIECE_EPOCH)
        kept = [pl.when(fits).then(pl.col(c).cast(pl.UInt16)).alias(c) if c == "epoch" and compact else c
                for c in names]
        # a row read as is: the header's number of fields, no quote, a step, every cell empty or a number
        ok = [line.str.count_matches(",", literal=True) == k - 1, ~line.str.contains(r'["\r]'),
              pl.col("step").is_not_null()]
        ok += [pl.col(c).is_not_null() | (pl.col("_c").struct.field(f"field_{j}") == "")
               for j, c in enumerate(names) if c != "step"]
        # an epoch that is not a whole number: counted, and the file is read again with Float64 epochs
        odd = (pl.col("epoch").is_not_null() & ~fits) if compact and "epoch" in names else pl.lit(False)
        return [body.select(kept), body.select((~pl.all_horizontal(ok)).sum().cast(pl.Int64).alias("bad"),
                                               odd.sum().cast(pl.Int64).alias("odd"))]

    got = stream_queries(inp, queries, no_ranks=False, lineno=True, keep_cr=True, chunk_bytes=_PIECE,
                         limit=size, compact=("step",))
    if got is None:
        return None
    df, bad = got
    del got
    if df.height == 0 or bad.get_column("bad").sum():
        return None
    if bad.get_column("odd").sum():
        del df
        return _parse_typed(inp, run, compact=False)
    if compact and "epoch" in names:
        df = df.with_columns(compact_epoch(df.get_column("epoch")))  # UInt16 -> UInt8 where it fits
    notes: list[IngestNote] = []
    values = [c for c in names if c not in ("step", "epoch")]
    dropped: frozenset[str] = frozenset()
    if "epoch" in names:
        df, note = eval_batch_columns(df, values, "epoch")
        if note:
            notes.append(note)
            dropped = frozenset(c for c in values if c not in df.columns)
            values = [c for c in values if c in df.columns]
        df, note = combine_table_axis(df, "step", "epoch", "step")
        if note:
            notes.append(note)
    if any(df.get_column(c).null_count() == df.height for c in values):
        return None  # a column without numbers: noted by the string path
    if torn:
        notes.append(torn_row_note(last))
    sparse, note = sparse_step_columns(df, values)
    if note:
        notes.append(note)
    epoch = pl.col("epoch") if "epoch" in names else pl.lit(None, pl.Float64)
    blocks = []
    mapping = column_series(values, set(), dropped, notes, sparse)
    shared, on_val = shared_columns(df, mapping, notes)
    for name, (split, metric) in mapping.items():
        parts = [(split, pl.col(name).is_not_null())]
        if name in shared:
            parts = [("train", pl.col(name).is_not_null() & ~on_val), ("val", pl.col(name).is_not_null() & on_val)]
        for sp, keep in parts:
            rows = df if name not in shared and df.get_column(name).null_count() == 0 else df.filter(keep)
            blocks.append(rows.select(
                pl.lit(run).alias("run"), pl.lit(sp).alias("split"), pl.lit(metric).alias("metric"),
                pl.lit(name).alias("name"), "step", epoch.alias("epoch"), pl.lit(None, pl.Float64).alias("wall_time"),
                pl.col(name).alias("value")))
    return ParseResult(blocks=conform_blocks(blocks, keep_compact=True), notes=notes)


#: the suffix of a shared column's validation-row copy while the string path melts it (removed from the name after)
_VAL_ROWS = "\x00val-rows"


def shared_columns(df: pl.DataFrame, mapping: dict[str, tuple[str, str]],
                   notes: list[IngestNote]) -> tuple[set[str], pl.Expr]:
    """Columns whose name states no split that hold values on training rows and on validation rows: a metric
    logged under one name in ``training_step`` and ``validation_step`` (``self.log("mse", ...)`` in both), which
    the CSVLogger writes to one column, on the row of each. A validation row is one where a validation column
    (``val_loss``) holds a value and no column named for training (``train_loss``) does; a training row the reverse.
    A column holding values on 2+ rows of each kind is read as two series, its values on validation rows as the
    validation split's (noted); without both kinds of rows, or when the validation split already has that metric,
    nothing changes. Returns the columns and the validation-row condition."""
    train = [c for c, (sp, _) in mapping.items() if sp == "train" and "train" in c.lower()]
    val = [c for c, (sp, _) in mapping.items() if sp == "val"]
    none = pl.lit(False)
    if val and not train:
        return _validation_only(df, mapping, val, notes)
    if not train or not val:
        return set(), none
    has_val = pl.any_horizontal([pl.col(c).is_not_null() for c in val])
    has_train = pl.any_horizontal([pl.col(c).is_not_null() for c in train])
    on_val, on_train = has_val & ~has_train, has_train & ~has_val
    cands = _unnamed_columns(mapping, train)
    if not cands:
        return set(), none
    counts = df.select([pl.struct((pl.col(c).is_not_null() & on_val).sum().alias("v"),
                                  (pl.col(c).is_not_null() & on_train).sum().alias("t"),
                                  pl.col(c).is_not_null().sum().alias("n")).alias(c) for c in cands]).row(0)
    shared = {c for c, n in zip(cands, counts) if n["v"] >= 2 and n["t"] >= 2}
    # ...and a column whose every value (2 or more) sits on a validation row, none on a training row: logged in
    # validation_step only (``self.log("bce_loss", ...)`` beside ``val_loss``), so validation's, as in a file with no
    # training column (_validation_only)
    held = {c for c, n in zip(cands, counts) if n["v"] >= 2 and n["v"] == n["n"]}
    if shared:
        notes.append(IngestNote("inferred", f"{', '.join(sorted(shared))}: logged on training rows and on validation "
                                f"rows under one name (self.log of it in training_step and validation_step): the "
                                f"values on rows holding {val[0]} are read as validation, the others as training"))
    if held:
        notes.append(IngestNote("inferred", f"{', '.join(sorted(held))}: every value sits on a row holding {val[0]} "
                                "and none on a training row (logged in validation_step): read as validation"))
    return shared | held, on_val


def _unnamed_columns(mapping: dict[str, tuple[str, str]], train: list[str]) -> list[str]:
    """The columns read as training series whose name states no split (``acc``, ``mse``), other than ``train`` (the
    columns named for training), the optimizer's (lr, grad norm, loss scale) and metrics validation already has."""
    taken = {m for sp, m in mapping.values() if sp == "val"}
    return [c for c, (sp, m) in mapping.items()
            if sp == "train" and c not in train and m not in taken and m not in ("lr", "grad_norm", "loss_scale")
            and guess_split_metric(c, "?")[0] == "?"]


def _validation_only(df: pl.DataFrame, mapping: dict[str, tuple[str, str]], val: list[str],
                     notes: list[IngestNote]) -> tuple[set[str], pl.Expr]:
    """In a file with no column named for training, the columns whose name states no split and whose every value
    (2 or more) sits on a row holding a validation column: logged in ``validation_step`` beside ``val_loss``
    (``self.log("acc", acc)`` there, nothing logged in ``training_step``), so validation's (noted)."""
    has_val = pl.any_horizontal([pl.col(c).is_not_null() for c in val])
    cands = _unnamed_columns(mapping, [])
    if not cands:
        return set(), pl.lit(False)
    counts = df.select([pl.struct(pl.col(c).is_not_null().sum().alias("n"),
                                  (pl.col(c).is_not_null() & has_val).sum().alias("v")).alias(c) for c in cands]).row(0)
    held = {c for c, n in zip(cands, counts) if n["n"] >= 2 and n["v"] == n["n"]}
    if held:
        notes.append(IngestNote("inferred", f"{', '.join(sorted(held))}: no column is named for training and every "
                                f"value sits on a row holding {val[0]} (logged in validation_step): read as validation"))
    return held, has_val


def _drop_revalidation(res: ParseResult) -> ParseResult:
    """The validation logged after training by ``trainer.validate(ckpt_path="best")`` (before a ``trainer.test``),
    left out of the curves with a note: it evaluates a saved checkpoint again, at the step after the last
    training step, and is no point of the run.

    dustinaxman/ChaserNER's metrics.csv: validation at epochs 0-4 (steps 497..2,489), then one more validation row
    at step 2,490, 'epoch 5', beside the test metrics: every one of its five validation values equal to epoch 2's
    to the last of 17 digits (the best checkpoint). Read as a sixth evaluation, the validation loss that rose 38%
    after epoch 2 seemed to come back to its best at the end. The rule: the last validation step is at or after
    the last training step, and every validation value logged there equals the value of the same series at one
    earlier validation step -- two series at least, or one whose value has more than 6 significant digits (a
    coincidence of a rounded number is possible; of a full-precision float across metrics it is not)."""
    # the validation rows only (a handful), and the training steps' maximum per block: a 10^7-row log is never
    # copied into one frame for this
    parts = [b.filter(pl.col("split") == "val").select("metric", "step", "value") for b in res.blocks]
    parts = [v for v in parts if v.height]
    train_last = [b.select(pl.col("step").filter(pl.col("split") == "train").max()).item() for b in res.blocks]
    train_last = [t for t in train_last if t is not None]
    if not parts or not train_last:
        return res
    val = pl.concat(parts, how="vertical_relaxed")
    last = int(val.get_column("step").max())  # type: ignore[arg-type]
    if last < max(train_last):
        return res
    at = val.filter(pl.col("step") == last)
    before = val.filter(pl.col("step") < last)
    if at.height == 0 or before.height == 0 or at.get_column("metric").n_unique() != at.height:
        return res
    same = at.join(before, on=["metric", "value"], how="inner", suffix="_then")
    # steps at which every series logged at the last step had exactly its value then
    steps = same.group_by("step_then").agg(pl.col("metric").n_unique().alias("n")).filter(pl.col("n") == at.height)
    if steps.height != 1:
        return res
    v = float(at.get_column("value")[0])
    if at.height < 2 and (v == 0 or len(f"{abs(v):.17g}".replace(".", "").lstrip("0").rstrip("0")) <= 6):
        return res
    then = int(steps.get_column("step_then")[0])
    shown = ", ".join(f"{m} {fmt_num(float(x))}" for m, x in at.select("metric", "value").sort("metric").iter_rows())
    res.notes.append(IngestNote(
        "other", f"the validation at step {last:,}, after the last training step, repeats every value of step "
                 f"{then:,} exactly ({shown}): the model validated again after training (trainer.validate, of the last "
                 f"weights or of a saved checkpoint), not a point of the curves; left out", step=last))
    res.blocks = [b.filter(~((pl.col("split") == "val") & (pl.col("step") == last))) for b in res.blocks]
    res.blocks = [b for b in res.blocks if b.height]
    return res


class LightningCSVParser(Parser):
    name = "lightning-csv"
    title = "PyTorch Lightning CSVLogger metrics.csv"
    recognises = "metrics.csv with a 'step' column (sparse rows, train_/val_ names, _step/_epoch pairs); version_N/ dirs"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        head = sniff_csv(inp)
        if head is None or not _has_step(head.header):
            if head is not None and inp.inner_name == METRICS_NAME and "epoch" in head.header:
                return 0.4
            return 0.0
        header = head.header
        in_version_dir = inp.path is not None and _VERSION_DIR.match(inp.path.parent.name) is not None
        if inp.inner_name == METRICS_NAME or in_version_dir:
            return 0.95
        if "epoch" not in header or head.sep != ",":
            return 0.3  # the logger connector adds 'epoch' to every Trainer row; csv.DictWriter uses ','
        if _step_restarts_with_epoch(head.header, head.rows):
            return 0.3  # Lightning's step is global: one that starts again as the epoch moves on is a hand-rolled log
        score = 0.7
        lightning_names = any(c.endswith(("_step", "_epoch")) for c in header) or any(
            c.startswith("lr-") for c in header
        )
        if lightning_names or head.has_empty_cells():
            score += 0.1
        return score

    def parse(self, inp: InputFile) -> ParseResult:
        res = _drop_revalidation(self._parse(inp, inp.run_name))
        if inp.path is not None:
            hp = inp.path.parent / HPARAMS_NAME
            if hp.is_file():
                res.meta["hparams"] = read_hparams(hp)
        return res

    def _parse(self, inp: InputFile, run: str) -> ParseResult:
        typed = _parse_typed(inp, run)
        if typed is not None:
            return typed
        table = read_table(inp, what="metrics.csv", torn_cells=False)
        df, header = table.df, table.header
        notes = list(table.notes)
        if "step" not in header:
            raise InputError("no 'step' column: not a Lightning CSVLogger metrics.csv", path=inp.name)
        df = df.with_columns(int_column(df, "step", path=inp.name, what="the").alias("_step"))
        no_step = df.filter(pl.col("_step").is_null())
        if no_step.height:
            notes.append(
                IngestNote("skipped_lines", f"{no_step.height} row(s) without a step skipped",
                           line=int(no_step.get_column("_line").first()), count=no_step.height)  # type: ignore[arg-type]
            )
            df = df.filter(pl.col("_step").is_not_null())
        epoch = None
        dropped: frozenset[str] = frozenset()
        candidates = [c for c in header if c not in ("step", "epoch")]
        if "epoch" in header:
            df = df.with_columns(pl.col("epoch").str.strip_chars().cast(pl.Float64, strict=False).alias("_epoch"))
            epoch = "_epoch"
            numeric, _ = numeric_columns(df, candidates)
            typed = df.with_columns([pl.col(c).cast(pl.Float64, strict=False) for c in numeric])
            kept, note = eval_batch_columns(typed, numeric, "_epoch")
            if note:
                notes.append(note)
                dropped = frozenset(set(typed.columns) - set(kept.columns))
                candidates = [c for c in candidates if c not in dropped]
                df = df.filter(pl.col("_line").is_in(kept.get_column("_line").implode())).drop(sorted(dropped))
            df, note = combine_table_axis(df, "_step", "_epoch", "step")
            if note:
                notes.append(note)
        numeric, other = numeric_columns(df, candidates)
        if other:
            notes.append(IngestNote("other", f"column(s) without numbers ignored: {', '.join(other[:5])}"))
        typed = df.select([pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in numeric])
        sparse, note = sparse_step_columns(typed, numeric)
        if note:
            notes.append(note)
        mapping = column_series(numeric, set(), dropped, notes, sparse)
        shared, on_val = shared_columns(typed, mapping, notes)
        if shared:  # each shared column as two: its cells on validation rows, and the others
            mask = typed.select(on_val.alias("_v")).to_series()
            df = df.with_columns([pl.when(mask).then(pl.col(c)).alias(f"{c}{_VAL_ROWS}") for c in shared]
                                 + [pl.when(~mask).then(pl.col(c)).alias(c) for c in shared])
            mapping = {**mapping, **{f"{c}{_VAL_ROWS}": ("val", mapping[c][1]) for c in shared}}
        blocks, bad = melt(df, mapping, run=run, epoch=epoch)
        if shared:
            blocks = [b.with_columns(pl.col("name").str.replace(_VAL_ROWS, "", literal=True)) for b in blocks]
        note = bad_cells_note(bad)
        if note:
            notes.append(note)
        return ParseResult(blocks=blocks, notes=notes)

    def sniff_dir(self, path: Path) -> float:
        f = path / METRICS_NAME
        if not f.is_file():
            return 0.0
        if not (_VERSION_DIR.match(path.name) or (path / HPARAMS_NAME).is_file()):
            return 0.0
        try:
            head = sniff_csv(open_file(f))
        except InputError:
            return 0.0
        return 0.95 if head is not None and _has_step(head.header) else 0.0

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        inp = open_file(path / METRICS_NAME, join_display(display, METRICS_NAME))
        res = self.parse(inp)
        res.notes[:0] = inp.notes
        return res


PARSERS = [LightningCSVParser()]
