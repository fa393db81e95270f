"""Keras ``CSVLogger`` files and saved ``History.history`` (CSV or JSON).

Checked against docs/formats-reference.md §4a/§4c (``keras/src/callbacks/csv_logger.py`` in Keras 3 and
``keras/callbacks.py`` in Keras 2 / tf.keras: header ``epoch`` + ``sorted(logs)``, one row per
epoch, 0-based, ``NA`` for keys missing in a later epoch) and three real files in
``keras_csv`` of the real logs (``tests/ingest/test_real_logs.py``). Sample::

    epoch,accuracy,loss,val_accuracy,val_loss
    0,0.8812000155448914,0.41237473487854004,0.9502999782562256,0.16931302845478058
    1,0.9593999981880188,0.13725081086158752,0.9668999910354614,0.11022870987653732

Also read: other separators (``CSVLogger(separator=";")``, TAB), ``pd.DataFrame(history.history)
.to_csv()`` with or without its unnamed index column (no ``epoch``: the row index is the epoch,
noted as inferred), and ``json.dump(history.history)`` (``{"loss": [...], "val_loss": [...]}``).
The step is the 0-based epoch. ``CSVLogger(append=True)`` across several ``fit()`` calls makes
the epoch column start again at 0 (one-epoch fits give a column of zeros): those segments are
laid end to end (steps continue) and a note says so, instead of being taken for a resumed run.
An epoch that goes back to a value above 0 is a resume (``initial_epoch``) and is left to the
restart normaliser. An epoch counted within phases (``resolution,epoch,loss`` of a progressive GAN) is
a counter beside the phase's label; a schedule of phases that starts over at its first phase with the
loss back at its first level is a second run (:mod:`lossdoc.ingest.runs`): the last is kept, noted.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.formats._epoch_counter import COUNTER_NAMES
from lossdoc.ingest.formats._loss_columns import main_loss
from lossdoc.ingest.formats._tabular import (
    CsvHead,
    SeriesNamer,
    bad_cells_note,
    bare_split,
    guess_split_metric,
    int_axis,
    int_column,
    melt,
    numeric_columns,
    read_table,
    sniff_csv,
)
from lossdoc.ingest.formats.numeric_column import METRIC_NAME, curve_stem, series_of
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run
from lossdoc.model import IngestNote, ParseResult, concat_frames, make_frame

_INDEX_NAMES = ("", "Unnamed: 0", "index")
#: File names Keras examples and users give CSVLogger / History CSVs.
_KERAS_NAMES = ("training.log", "log.csv", "history.csv", "training.csv", "training_log.csv")
#: Headers that belong to other trainers' CSVs (YOLO results.csv, timm summary.csv, fastai history.csv).
_OTHER_SIGNATURES = ("time", "train_loss", "valid_loss", "eval_loss", "eval_top1")


def _history_shape(cols: list[str]) -> bool:
    """Keras History keys: a plain ``loss`` column, or ``val_X`` columns whose ``X`` is there too."""
    present = set(cols)
    vals = [c for c in cols if c.startswith("val_")]
    return "loss" in present and (not vals or all(c[4:] in present for c in vals))


def keras_confidence(head: CsvHead, inner_name: str) -> float:
    header = head.header
    if not header or head.numeric_share() < 0.9:
        return 0.0
    if any("/" in h for h in header) or "step" in header:
        return 0.2  # YOLO (train/box_loss), Lightning (step), exports
    if any(h.strip().lower() in COUNTER_NAMES for h in header):
        return 0.2  # CSVLogger writes one row per epoch: a batch/iter column is a hand-rolled per-batch log
    rest = header[1:] if header[0].lower() in ("epoch", *(n.lower() for n in _INDEX_NAMES)) else header
    if header[0] == "epoch":
        score = 0.85 if rest == sorted(rest) and rest and _history_shape(rest) else 0.5
        if score > 0.5 and inner_name in _KERAS_NAMES:
            score = 0.92
    elif _history_shape(rest) and rest == sorted(rest):
        score = 0.85 if inner_name in _KERAS_NAMES else 0.8
    elif _history_shape(rest):
        score = 0.6
    else:
        return 0.0
    low = set(h.lower() for h in header)
    if any(s in low for s in _OTHER_SIGNATURES) or inner_name in ("results.csv", "summary.csv"):
        score = min(score, 0.3)
    return score


class KerasCSVParser(Parser):
    name = "keras-csv"
    title = "Keras CSVLogger / saved History"
    recognises = ("CSV with 'epoch' then sorted Keras metric names (loss, val_loss, ...); History dumps as CSV or JSON, "
                  "and any JSON of per-epoch lists ({'train_loss': [...], 'val_loss': [...]})")
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head_text = inp.head_text(4096).lstrip()
        if head_text.startswith("{"):
            if _json_history_head(head_text):
                return 0.8
            if _json_lists_head(inp.head_text()):
                return 0.7
            return 0.7 if _split_lists_head(head_text) and _stem_metric(inp.inner_name) else 0.0
        if head_text.startswith('"{') and _REPR_LOSS_LIST.search(head_text):
            return 0.7  # json.dump(str(history.history)): a JSON string holding the dict's Python repr
        head = sniff_csv(inp)
        if head is None:
            return 0.0
        return keras_confidence(head, inp.inner_name)

    def parse(self, inp: InputFile) -> ParseResult:
        if inp.head_text(4096).lstrip().startswith(("{", '"{')):
            return _parse_json(inp)
        table = read_table(inp, what="Keras CSV")
        df, header = table.df, table.header
        notes = list(table.notes)
        first = header[0]
        if first == "epoch" or first.lower() == "epoch":
            df = int_axis(df, first, alias="_epoch_raw", what="epoch", missing="an epoch", path=inp.name, notes=notes)
            axis = [first]
        elif first in _INDEX_NAMES:
            df = df.with_columns(int_column(df, first, path=inp.name, what="index").alias("_epoch_raw"))
            df = df.filter(pl.col("_epoch_raw").is_not_null())
            axis = [first]
            notes.append(IngestNote("inferred", "no epoch column: the unnamed index column (pandas) is the epoch"))
        else:
            df = df.with_row_index("_epoch_raw").with_columns(pl.col("_epoch_raw").cast(pl.Int64))
            axis = []
            inner = next((h for h in header if h.strip().lower() == "epoch"), None)
            if inner is not None:
                # an 'epoch' column that is not the first (resolution,epoch,loss of a progressive GAN: epochs
                # counted within each phase) is a counter, never a metric; the rows stay the axis
                axis = [inner]
                ep = int_column(df, inner, path=inp.name, what="epoch")
                back = int((ep.diff() < 0).sum() or 0)
                if back:
                    notes.append(IngestNote(
                        "inferred", f"the {inner!r} column goes back to its start {back} time(s) (epochs counted "
                        "within phases or runs): not read as a series; the row index is the epoch (0-based, derived)"))
                    labels = _phase_labels(df, header, inner, ep)
                    if labels:
                        axis += labels
                        df = df.with_columns(_schedule_position(df, labels, ep).alias("_sched"))
                        notes.append(IngestNote(
                            "inferred", f"{', '.join(repr(c) for c in labels)}: whole numbers that change only where "
                            f"{inner!r} goes back to its start (one value per phase, e.g. a progressive GAN's "
                            "resolution): the phase's label, not read as a series"))
                else:  # 'loss,epoch,val_loss': the epoch, wherever it stands
                    df = int_axis(df.drop("_epoch_raw"), inner, alias="_epoch_raw", what="epoch",
                                  missing="an epoch", path=inp.name, notes=notes)
            else:
                notes.append(IngestNote("inferred", "no epoch column: the row index is the epoch (0-based)"))
        run_meta: dict[str, int] = {}
        if "loss" in header and "_line" in df.columns:
            # CSVLogger(append=True) over separate models: the last one (another fit() of one model is kept)
            # with phase labels, the counter is the row's place in the phase schedule: a second run of the
            # schedule goes back to its start (the first phase's first epoch), a new phase does not
            counter = "_sched" if "_sched" in df.columns else "_epoch_raw"
            ref = df.select(pl.col("_line").alias("lineno"), pl.col(counter).alias("counter"),
                            pl.col("loss").cast(pl.Float64, strict=False).alias("value"))
            n = df.height
            df = keep_last_run(df, ref, None, notes, line_col="_line", counter_col=counter, what="row",
                               meta=run_meta)
            if counter == "_sched" and df.height < n:  # the row index of the run kept is its epoch
                df = df.with_columns(pl.col("_epoch_raw") - pl.col("_epoch_raw").min())
        df, note = cumulative_epochs(df, "_epoch_raw")
        if note:
            notes.append(note)
        candidates = [c for c in header if c not in axis]
        numeric, other = numeric_columns(df, candidates)
        if other:
            notes.append(IngestNote("other", f"column(s) without numbers ignored: {', '.join(other[:5])}"))
        namer = SeriesNamer()
        mapping = main_loss({c: namer.auto(c) for c in numeric}, notes)
        df = df.with_columns(pl.col("_step").cast(pl.Float64).alias("_ep"))
        blocks, bad = melt(df, mapping, run=inp.run_name, epoch="_ep")
        note = bad_cells_note(bad)
        if note:
            notes.append(note)
        return ParseResult(blocks=blocks, notes=notes, meta=run_meta)


def _phase_labels(df: pl.DataFrame, header: list[str], epoch: str, ep: pl.Series) -> list[str]:
    """Columns other than ``epoch`` that label the phases an epoch counter restarts in: whole numbers, more than
    one value, each change at a row where ``ep`` goes back to its start (never within a phase)."""
    restart = (ep.diff() < 0).fill_null(False)
    out = []
    for c in header:
        if c == epoch or c.startswith("_"):
            continue
        v = df.get_column(c).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        if v.null_count() or v.n_unique() < 2 or not bool((v == v.floor()).all()):
            continue
        changed = (v.diff() != 0).fill_null(False)
        if bool((changed & ~restart).any()):
            continue
        out.append(c)
    return out


def _schedule_position(df: pl.DataFrame, labels: list[str], ep: pl.Series) -> pl.Series:
    """A row's place in a schedule of phases (``labels``: the phase's label columns; ``ep``: the epoch counted
    within each phase): the phase's rank by first appearance, then the epoch. It rises through the phases of one
    run and goes back to its start only where the first phase comes round again (a second run of the schedule)."""
    lab = pl.struct(labels) if len(labels) > 1 else pl.col(labels[0])
    first = pl.col("_row").min().over(lab)
    rank = df.with_row_index("_row").select(first.rank("dense").cast(pl.Int64) - 1).to_series()
    return rank * (int(ep.max()) + 1) + ep.cast(pl.Int64)  # type: ignore[arg-type]


def cumulative_epochs(
    df: pl.DataFrame,
    col: str,
    *,
    start: int = 0,
    why: str = "fit() called again with CSVLogger(append=True)",
) -> tuple[pl.DataFrame, IngestNote | None]:
    """Add ``_step``: ``col`` with segments that restart at the first epoch laid end to end.

    A row starts a new segment when its epoch is ``start`` (0 for CSVLogger, 1 for the progress
    bar's ``Epoch 1/N``) and it is not the first row (a new ``fit()`` appended to the same log);
    each segment continues after the last epoch of the one before.
    """
    e = pl.col(col)
    starts = (e == start) & (pl.int_range(pl.len()) > 0)
    n_restarts = int(df.select(starts.sum()).item())
    if n_restarts == 0:
        return df.with_columns(e.alias("_step")), None
    df = df.with_columns(starts.cast(pl.Int64).cum_sum().alias("_seg"))
    seg = (
        df.group_by("_seg", maintain_order=True)
        .agg(e.min().alias("_lo"), e.max().alias("_hi"))
        .with_columns((pl.col("_hi") - pl.col("_lo") + 1).alias("_len"))
        .with_columns(
            (pl.col("_len").cum_sum().shift(1, fill_value=0) + pl.col("_lo").first()).alias("_base")
        )
    )
    df = df.join(seg.select("_seg", "_lo", "_base"), on="_seg", how="left", maintain_order="left")
    df = df.with_columns((e - pl.col("_lo") + pl.col("_base")).alias("_step")).drop("_seg", "_lo", "_base")
    first_line = None
    if "_line" in df.columns:
        first_line = int(df.filter(starts).get_column("_line").first())  # type: ignore[arg-type]
    note = IngestNote(
        "inferred",
        f"the epoch goes back to {start} at {n_restarts} point(s) ({why}): the segments are read as one "
        "continuing run, steps counted on from the previous segment; if they were separate models, "
        "split the log",
        line=first_line,
        count=n_restarts,
    )
    return df, note


def _json_history_head(head: str) -> bool:
    return re.search(r'^\{\s*"[^"]+"\s*:\s*[\[{]', head) is not None and '"loss"' in head


#: a loss-named key holding a list: ``{"train_loss": [1.74, 0.58, ...], "val_loss": [...]}`` (a hand-rolled
#: loop's ``json.dump(history, f)``), possibly after run metadata (``"backbone": "EfficientNet-B0"``); "loss" is a
#: word of the key anywhere in it (``loss_total``, ``loss_G``, ``g_losses_chunk``)
_LOSS_LIST = re.compile(r'"(?:[A-Za-z0-9]*[_ ])*(?:loss|losses)(?:[_ ][A-Za-z0-9]*)*"\s*:\s*\[\s*[-\d.NI]')

#: keys that are the lists' x axis (``{"steps": [0, 10, ...], "train": [...], "val": [...]}``), not a series
_AXIS_KEYS = ("step", "steps", "global_step", "iteration", "iterations", "iter", "iters", "epoch", "epochs")

#: a JSON object whose keys name splits (and an axis) and hold lists of numbers: ``{"train": [...], "val": [...]}``
#: (``json.dump`` of a loop's per-split losses, in a file named after them: ``losses.json``, ``loss_history.json``)
_SPLIT_KEYS = frozenset({"train", "training", "val", "valid", "validation", "eval", "test", "dev"})
_KEY_LIST = re.compile(r'"([^"]+)"\s*:\s*\[\s*([-\d.NI\]])?')


#: the same in a Python dict repr (``{'val_loss': [0.22, ...], 'loss': [...]}``), as ``json.dump(str(history.history))``
#: writes it inside a JSON string
_REPR_LOSS_LIST = re.compile(r"'(?:[A-Za-z_]*[_ ])?(?:loss|losses)'\s*:\s*\[\s*[-\d.]")


def _json_lists_head(head: str) -> bool:
    return re.match(r"\s*\{\s*\"", head) is not None and _LOSS_LIST.search(head) is not None


def _split_lists_head(head: str) -> bool:
    """The head of a JSON object whose first keys are split words (and axis keys), a split word holding a list
    of numbers."""
    if re.match(r"\s*\{\s*\"", head) is None:
        return False
    keys = _KEY_LIST.findall(head)
    if not keys or any(k.lower() not in _SPLIT_KEYS and k.lower() not in _AXIS_KEYS for k, _ in keys):
        return False
    return any(k.lower() in _SPLIT_KEYS and num for k, num in keys)


def _stem_metric(inner_name: str) -> str | None:
    """The metric a .json file's name states (``losses.json`` -> ``loss``, ``val_acc_history.json`` -> its
    metric), or None when the name states none: a split word's list is that metric's curve only then."""
    stem = inner_name.rsplit(".", 1)[0]
    if not METRIC_NAME.search(stem):
        return None
    return series_of(curve_stem(stem), None)[1] or None


def _parse_json(inp: InputFile) -> ParseResult:
    text = inp.read_text()
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc.msg}", path=inp.name, line=exc.lineno) from None
    notes: list[IngestNote] = []
    if isinstance(doc, str) and doc.lstrip().startswith("{"):
        # json.dump(str(history.history), f): the History's Python repr inside a JSON string; read back as the
        # literal it is (ast.literal_eval evaluates literals only, never code)
        doc = _python_literal(doc.strip(), inp.name)
        notes.append(IngestNote("inferred", "the JSON document is a string holding a Python dict repr "
                                "(json.dump(str(history.history))): read as that dict"))
    if not isinstance(doc, dict) or not doc:
        raise ParseError("not a Keras History dump ({metric: [values per epoch]})", path=inp.name, line=1)
    folds = _folds(doc)
    if folds:
        runs = {k: (inp.run_name if len(folds) == 1 else f"{inp.run_name}/{k}") for k in folds}
        notes.append(IngestNote("inferred", f"Keras History nested under {len(folds)} fold/run/model key(s) "
                                f"({', '.join(list(folds)[:5])}{' ...' if len(folds) > 5 else ''}): "
                                + ("read as the run" if len(folds) == 1 else "each read as a run")))
        frames = [f for k, sub in folds.items() for f in _history_frames(sub, runs[k], notes)]
    else:
        frames = _history_frames(doc, inp.run_name, notes, stem_metric=_stem_metric(inp.inner_name))
    frame = concat_frames(frames)
    if frame.height == 0:
        raise EmptyInputError("no numeric History lists found", path=inp.name)
    return ParseResult(frame, notes)


def _python_literal(text: str, name: str) -> Any:
    """A Python dict repr read back; ``nan`` / ``inf`` (a History whose loss went non-finite: ``repr(float('nan'))``),
    which are no literals, through JSON's ``NaN`` / ``Infinity``."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    js = re.sub(r"(?<![\w.])inf\b", "Infinity", re.sub(r"(?<![\w.])nan\b", "NaN", text)).replace("'", '"')
    try:
        return json.loads(js)
    except (ValueError, RecursionError):
        raise ParseError("a JSON string that is not a Python dict literal", path=name, line=1) from None


_FOLD_KEY = re.compile(r"(?i)^(?:fold|run|cv|split|seed|trial)?[ _-]?\d+$")


def _folds(doc: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """``{"0": {"loss": [...], "val_loss": [...]}, "1": {...}}`` (a History dumped per cross-validation fold
    or per run): the inner Histories by key, when every key is a fold or run number (``0``, ``fold_1``,
    ``run2``) and every value such a dict; else None (``{"train": {...}, "val": {...}}`` is not folds).

    Two or more keys that name no split hold one History per model compared (``{"Softmax": {"train_loss":
    [...], "val_loss": [...]}, "Linear": {...}}``, a script training several variants in turn) and are read
    the same way; a key naming a split (``train``, ``val_metrics``) keeps the dict from being read so."""
    def history(v: Any) -> bool:
        return isinstance(v, dict) and any(isinstance(x, list) for x in v.values()) and any(
            re.search(r"(?i)loss", str(k)) and isinstance(x, list) for k, x in v.items())
    if not doc or not all(history(v) for v in doc.values()):
        return None
    if all(_FOLD_KEY.match(k) for k in doc):
        return doc
    if len(doc) >= 2 and all(bare_split(k) is None and guess_split_metric(k, "?")[0] == "?" for k in doc):
        return doc
    return None


def _history_frames(doc: dict[str, Any], run: str, notes: list[IngestNote],
                    stem_metric: str | None = None) -> list[pl.DataFrame]:
    """One frame per numeric series of a History dict (``{metric: [values per epoch]}``).

    ``stem_metric``: the metric the file's name states; a key that is a split word alone (``train``, ``val``) is
    that split's curve of it (``losses.json``: ``{"train": [...], "val": [...]}``). A key naming the axis
    (``steps``, ``epoch``) whose list of whole numbers never decreases is the step of the lists as long as it."""
    namer = SeriesNamer()
    frames: list[pl.DataFrame] = []
    axis_key, axis = _axis(doc)
    if axis_key is not None:
        doc = {k: v for k, v in doc.items() if k != axis_key}
        notes.append(IngestNote("inferred", f"{axis_key!r} is the step of the lists as long as it ({len(axis):,})"))
    # per-epoch lists are as long as the loss's: a shorter list beside it is run metadata ("phase_starts":
    # [0, 15, 40]), lists of dicts are one series per key ("train_metrics": [{"mse": .., "mae": ..}, ...])
    doc, other = _flatten_history(doc)
    loss_len = {len(v) for k, v in doc.items() if isinstance(v, list) and re.search(r"(?i)loss", k)}
    if loss_len and "loss" not in doc:
        n = max(loss_len)
        short = [k for k, v in doc.items() if isinstance(v, list) and len(v) != n and not re.search(r"(?i)loss", k)]
        other += short
        doc = {k: v for k, v in doc.items() if k not in short}
    if other:
        shown = ", ".join(other[:8]) + (" ..." if len(other) > 8 else "")
        notes.append(IngestNote("inferred", f"not read (no list of values per epoch): {shown}"))
    longest = max((len(v) for k, v in doc.items() if isinstance(v, list) and re.search(r"(?i)loss", k)), default=0)
    for key, vals in doc.items():
        if isinstance(vals, dict):  # pandas .to_json(): {"0": v0, "1": v1, ...}
            try:
                items = sorted((int(k), v) for k, v in vals.items())
            except ValueError:
                continue
            steps = [k for k, _ in items]
            vals = [v for _, v in items]
        elif isinstance(vals, list):
            k = longest // len(vals) if vals and longest > len(vals) and longest % len(vals) == 0 else 1
            if axis is not None and len(vals) == len(axis):
                steps = axis
            elif k > 1 and axis is None:
                # a list per round beside one per batch ({"g_losses_chunk": [5,500], "g_losses_round": [55]}): value
                # i summarises the i-th block of k, and is placed at its end
                steps = [(i + 1) * k - 1 for i in range(len(vals))]
                notes.append(IngestNote("inferred", f"{key}: {len(vals):,} values against {longest:,} in the longest "
                                        f"loss list: value i placed at step (i+1) x {k} - 1 (the end of its block)"))
            else:
                steps = list(range(len(vals)))
        else:
            continue
        keep = [(s, float(v)) for s, v in zip(steps, vals) if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not keep:
            continue
        split = bare_split(key) if stem_metric else None
        split, metric = namer.assign(key, split, stem_metric) if split and stem_metric else namer.auto(key)
        frames.append(
            make_frame(
                {
                    "run": run,
                    "split": split,
                    "metric": metric,
                    "name": key,
                    "step": [s for s, _ in keep],
                    "epoch": [float(s) for s, _ in keep],
                    "value": [v for _, v in keep],
                }
            )
        )
    return frames


def _axis(doc: dict[str, Any]) -> tuple[str | None, list[int] | None]:
    """(the key, its values) of an axis list: a key of :data:`_AXIS_KEYS` holding 2+ whole numbers that never
    decrease; (None, None) without one."""
    for key, vals in doc.items():
        if key.lower() not in _AXIS_KEYS or not isinstance(vals, list) or len(vals) < 2:
            continue
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in vals):
            continue
        ints = [int(v) for v in vals]
        if all(b >= a for a, b in zip(ints, ints[1:])):
            return key, ints
    return None, None


def _flatten_history(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(``doc`` with each list of dicts of numbers split into one list per inner key, ``key/inner``; the keys
    whose value is neither a list nor a dict, or a list of no numbers)."""
    out: dict[str, Any] = {}
    other: list[str] = []
    for key, vals in doc.items():
        if isinstance(vals, list) and vals and all(isinstance(v, dict) for v in vals):
            inner = list(dict.fromkeys(k for v in vals for k in v))
            for k in inner:
                out[f"{key}/{k}"] = [v.get(k) for v in vals]
        elif isinstance(vals, dict) or (isinstance(vals, list) and any(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)):
            out[key] = vals
        else:
            other.append(key)
    return out, other


PARSERS = [KerasCSVParser()]
