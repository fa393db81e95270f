"""Curves saved as bare numbers: ``np.savetxt("train_loss.csv", losses)``, ``f.write(str(losses))`` and
their kin (no single trainer owns them; the layouts below are what ``numpy.savetxt``,
``pandas.Series.to_csv``, ``print(loss, file=f)`` and ``str(list)`` write, as found in public repos).

Sample (``train_loss.csv``; ``val_loss.csv`` beside it)::

    2.302585092994045684e+00
    1.873412847518920898e+00
    1.624108791351318359e+00

Layouts read:

* one number per line (``savetxt`` of a 1-D array, ``print``);
* one list on one line: ``[0.55, 0.51, 0.32]`` (``str(list)``) or ``69.33, 69.32, 69.32`` (``join``);
* a table of numbers: ``step value`` / ``0,2.30`` / ``"1","1.84"`` / ``epoch, train, val``; a first column
  of whole numbers that never decrease is the step, every other column a series (the file's metric
  for the first, ``<metric>_col2``... for the rest, in the file's split; where neither the name nor a header
  states the split, the second of two loss columns is ``val`` when its numbers show a validation loss
  (:func:`validation_evidence`), else ``other``, and the note gives the header line that says which). Other
  columns of whole numbers counting up by a constant (or nearly constant) increment are axes too, not
  values (``epoch iteration loss``): the finest is the step, or an iteration counter that restarts every
  epoch combined with the epoch (``step = (epoch - e0) * per_epoch + iteration``, as
  :mod:`._epoch_counter`), noted as inferred;
* an optional first line naming the column (``loss``; ``# train loss`` from ``savetxt(header=)``;
  ``,0`` from pandas), ``#`` comment lines; a few stray lines (a merge conflict's ``<<<<<<<``) are
  skipped with a note;
* a table separated by blanks under a header naming every column the same way (``#epoch train_loss
  val_loss``, ``savetxt(header=...)`` of a 2-D array): each value column is the series its name says (no
  CSV reader splits on blanks; a header with commas is the CSV readers').

The file name names the series (``train_loss`` -> train loss, ``val_acc`` -> val accuracy,
``losses`` -> loss; :func:`lossdoc.model.split_and_metric`), the header when the name does not.
Without a step column the value's position is the step (0-based; an ``inferred`` note says so).
Files side by side in one folder are one run, named after the folder (``csv-dir`` reads the folder);
when a train series has k times as many values as a validation series (a value per batch against one
per epoch), each validation value is placed at the end of its k-value block, noted.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames, snake_case, split_and_metric
from lossdoc.numfmt import fmt_num as fmt

_NUM = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
_NUM_RE = re.compile(_NUM)
#: What may stand between numbers on a numbers-only line (separators, list brackets, tensor() wrappers).
_JUNK = r"[\s,;:_\[\]()\"]|tensor|device='?\w+:?\d*'?|dtype=\w+\.?\w*"
_JUNK_RE = re.compile(_JUNK)
#: A TensorFlow scalar printed eagerly (``print(loss, file=f)`` of an ``EagerTensor``, whose ``__repr__`` is
#: ``tf.Tensor(<value>, shape=(), dtype=float32)``): read as its value, so that the 32 of float32 is no number.
_TF_SCALAR = rf"tf\.Tensor\(\s*({_NUM}),\s*shape=\(\),\s*dtype=\w+\)"
_TF_SCALAR_RE = re.compile(_TF_SCALAR)
#: File extensions of numbers-only files (and none at all).
SUFFIXES = (".csv", ".txt", ".tsv", ".dat", ".log", "")
#: Words in a file name that say it holds a training curve.
METRIC_NAME = re.compile(
    r"(?i)(loss|acc|accuracy|lr|learning_rate|ppl|perplexity|err|error|bleu|f1|score|map|iou|dice|reward|return|"
    r"metric|history|nll|mse|mae|rmse|cost|objective)"
)
#: Share of data lines that may be something else (skipped, noted) in a numbers-only file.
_STRAY = 0.05
_MAX_COLS = 8


def _plural(stem: str) -> str:
    """``train_losses`` -> ``train_loss``, ``val_accs`` -> ``val_acc`` (lists are named in the plural)."""
    s = snake_case(stem)
    for pl_, sg in (("losses", "loss"), ("accs", "acc"), ("accuracies", "accuracy"), ("errors", "error"),
                    ("scores", "score"), ("rewards", "reward"), ("lrs", "lr")):
        if s.endswith(pl_):
            return s[: -len(pl_)] + sg
    return s


def names_split(stem: str, header: str | None) -> bool:
    """Whether the file's name or its header line names a split (``train_loss``, ``val_losses``, ``# valid``)."""
    for text in (stem, (header or "").strip("# \"',")):
        if text and split_and_metric(_plural(text), default_split="?")[0] != "?":
            return True
    return False


def curve_stem(stem: str) -> str:
    """A file stem without a trailing word that says it is a record, not what of (``loss_history`` -> ``loss``,
    ``val_acc_log`` -> ``val_acc``); the stem itself when nothing else is left (``history``)."""
    cut = re.sub(r"(?i)[_ -]?(?:history|log|curve|curves|values)$", "", stem)
    return cut if cut and METRIC_NAME.search(cut) else stem


def series_of(stem: str, header: str | None) -> tuple[str, str]:
    """(split, metric) of a file from its name, else from its header line."""
    split, metric = split_and_metric(_plural(stem))
    if header and split == "train" and not re.search(r"(?i)train", stem):
        hsplit, hmetric = split_and_metric(_plural(header.strip("# \"',")))
        if hsplit != "train" and snake_case(header) not in ("", "0", "value", "values"):
            return hsplit, hmetric
    return split, metric


def _numbers_only(line: str) -> list[str] | None:
    """The numbers of a line holding nothing else (None otherwise)."""
    if _JUNK_RE.sub("", _NUM_RE.sub("", line)):
        return None
    nums = _NUM_RE.findall(line)
    return nums or None


def head_shape(text: str) -> tuple[int, str | None] | None:
    """(numbers per line, or 0 for one list on a line; header) when ``text`` (a file's head) is
    numbers only; None otherwise."""
    lines = [_TF_SCALAR_RE.sub(r"\1", ln).strip() for ln in text.replace("\r\n", "\n").split("\n")]
    if len(text) >= 60_000 and lines:
        if len(lines) <= 2 and "," in lines[-1]:  # one long list: keep it up to its last whole number
            lines[-1] = lines[-1][: lines[-1].rfind(",")]
        else:
            lines = lines[:-1]  # the head may cut the last line
    header = None
    body: list[str] = []
    for ln in lines:
        if not ln:
            continue
        if ln.startswith("#"):
            if header is None and not body:
                header = ln.lstrip("# ").strip() or None
            continue
        body.append(ln)
    if not body:
        return None
    if _numbers_only(body[0]) is None:
        if header is not None or len(body[0]) > 80:
            return None
        header, body = body[0], body[1:]
    if header and len([h for h in re.split(r"[,;\t]+", header) if h.strip()]) >= 2 and \
            not _NUM_RE.fullmatch(header.split(",")[-1].strip() or "x"):
        return None  # a header naming several columns: a table for the CSV readers
    # stop at the first line past the stray allowance: a text log (train.log beside one-metric files)
    # is turned down after a few dozen lines instead of running the number pattern over its whole head
    allowed = max(1, _STRAY * len(body))
    rows: list[list[str] | None] = []
    bad = 0
    for b in body:
        r = _numbers_only(b)
        rows.append(r)
        if r is None:
            bad += 1
            if bad > allowed:
                return None
    good = [r for r in rows if r is not None]
    if not good:
        return None
    k = max(set(len(r) for r in good), key=[len(r) for r in good].count)
    table = k <= _MAX_COLS and sum(len(r) == k for r in good) >= (1 - _STRAY) * len(good)
    counts = sorted(len(r) for r in good)
    if (len(good) <= 3 or (not table and counts[len(counts) // 2] >= 5)) and counts[-1] >= 5:
        return 0, header  # lists of values, one or more to a line: read in order
    if len(good) < 3 or not table:
        return None
    return k, header


def _named_table(shape: tuple[int, str | None]) -> bool:
    """A headed table whose header names several columns ("epoch,loss"): the CSV readers' business; not one
    whose header names its k columns separated by blanks only (``np.savetxt(header="epoch train_loss
    val_loss")`` writes ``# epoch train_loss val_loss``), which no CSV reader splits: read here."""
    k, header = shape
    if k >= 2 and header and len(column_names(header)) == k:
        return False
    return bool(k >= 2 and header and len([h for h in re.split(r"[,;\t ]+", header) if h.strip()]) >= 2
                and not _NUM_RE.fullmatch(header.split(",")[-1].strip() or "x"))


def column_names(header: str) -> list[str]:
    """The names a header line separated by blanks only gives its columns (``#epoch train_loss val_loss``);
    [] for a header with a CSV separator, a single name, or a name that is a number."""
    text = header.strip().lstrip("#").strip()
    if re.search(r"[,;\t|]", text):
        return []
    names = text.split()
    if len(names) < 2 or any(_NUM_RE.fullmatch(n) or not re.match(r"[A-Za-z_]", n) for n in names):
        return []
    return names


def is_curve_file(stem: str, text: str) -> bool:
    """``text`` is a numbers-only file and the file (or its header) is named like a curve."""
    shape = head_shape(text)
    if shape is None or _named_table(shape):
        return False
    return bool(METRIC_NAME.search(stem) or (shape[1] and METRIC_NAME.search(shape[1])))


def read_numeric(inp: InputFile, notes: list[IngestNote],
                 shape: dict[str, object] | None = None) -> tuple[list[pl.DataFrame], str | None, bool]:
    """(one frame of ``step``, ``value`` per column; header; whether a step column was written). A table's
    number of columns and the separator its rows use go to ``shape`` (``columns``, ``sep``) when given."""
    lines = load_lines(inp, notes=notes)
    last = int(lines.get_column("lineno").max() or 0) if lines.height else None
    if torn_tail_note(inp, last, "value") is not None:
        # str(list) and "\n".join(...) write no final line ending: the last value is kept, and said so
        notes.append(IngestNote("other", "the last line has no line ending (written without one, or still being "
                                "written): its value was read as it stands", line=last))
    line = pl.col("line").str.strip_chars()
    if lines.height and lines.select(pl.col("line").str.contains("tf.Tensor(", literal=True).any()).item():
        line = pl.col("line").str.replace_all(_TF_SCALAR, "${1}").str.strip_chars()
    lines = lines.with_columns(line.alias("line")).filter(pl.col("line") != "")
    # a '#' line before the numbers that names their columns ("#epoch train_loss val_loss"): their header
    lead = lines.head(1).filter(pl.col("line").str.starts_with("#")).get_column("line")
    named = column_names(lead[0]) if lead.len() else []
    lines = lines.filter(~pl.col("line").str.starts_with("#"))
    # The common case, one number a line (np.savetxt of a 1-D array): a straight cast, no regex.
    one = lines.select(to_float(pl.col("line")).alias("value"))
    header = None
    if one.height and one.item(0, "value") is None:
        header, lines, one = lines.item(0, "line"), lines.slice(1), one.slice(1)
    if one.height > 3 and one.get_column("value").null_count() == 0:
        return [one.select(pl.int_range(0, pl.len(), dtype=pl.Int64).alias("step"), "value")], header, False
    if header is not None:  # put it back: the general path below decides what it is
        lines = pl.concat([pl.DataFrame({"lineno": [1], "line": [header]},
                                        schema={"lineno": pl.Int64, "line": pl.String}), lines.select("lineno", "line")])
    lines = lines.with_columns(
        (pl.col("line").str.replace_all(_NUM, "").str.replace_all(_JUNK, "") == "").alias("ok"),
        pl.col("line").str.extract_all(_NUM).alias("nums"),
    )
    header = None
    if lines.height and not lines.item(0, "ok"):
        header = lines.item(0, "line")
        lines = lines.slice(1)
    bad = lines.filter(~pl.col("ok") | (pl.col("nums").list.len() == 0))
    lines = lines.filter(pl.col("ok") & (pl.col("nums").list.len() > 0))
    if bad.height:
        first = bad.get_column("lineno").head(3).to_list()
        notes.append(IngestNote("skipped_lines", f"{bad.height} line(s) that are not numbers skipped (lines {first})",
                                line=first[0], count=bad.height))
    if lines.height == 0:
        return [], header, False
    counts = lines.get_column("nums").list.len()
    k = int(counts.mode().sort().item(-1))
    table = k <= _MAX_COLS and int((counts == k).sum()) >= (1 - _STRAY) * lines.height
    if (lines.height <= 3 or (not table and float(counts.median()) >= 5)) and int(counts.max()) >= 5:  # str(list)
        _separate_lists(inp, lines, counts)
        vals = lines.select(pl.col("nums").explode()).to_series()
        df = pl.DataFrame({"step": pl.int_range(0, vals.len(), dtype=pl.Int64, eager=True), "value": vals})
        return [df.with_columns(to_float(pl.col("value")).alias("value"))], header, False
    odd = lines.filter(pl.col("nums").list.len() != k)
    if odd.height:
        first = odd.get_column("lineno").head(3).to_list()
        notes.append(IngestNote("skipped_lines", f"{odd.height} line(s) with other than {k} number(s) skipped "
                                f"(lines {first})", line=first[0], count=odd.height))
        lines = lines.filter(pl.col("nums").list.len() == k)
    if header is None and len(named) == k:
        header = " ".join(named)
    cols = lines.select([to_float(pl.col("nums").list.get(j)).alias(f"c{j}") for j in range(k)])
    if shape is not None:
        row = lines.item(0, "line")
        shape.update(columns=k, sep=next((c for c in ("\t", ",", ";") if c in row), " "))
    stepped = False
    if k >= 2:
        s = cols.get_column("c0")
        # whole numbers that mostly count up from 0 or 1 (a run appended after another restarts them)
        ups = s.diff().drop_nulls()
        stepped = bool((s.is_finite() & (s == s.round(0))).all()) and s.len() >= 2 and float(s[0]) in (0.0, 1.0) \
            and int((ups > 0).sum()) >= 0.9 * ups.len()
        # or a counter logged every N steps from N (10, 20, 30...): whole numbers rising by a constant increment
        stepped = stepped or (_counts_up(s) and bool((ups > 0).all()))
    axes = _counter_axes(cols, k, stepped, notes) if k >= 2 else None
    if axes is not None:
        step, taken = axes
        return [cols.select(step.alias("step"), pl.col(f"c{j}").alias("value"), pl.lit(j + 1).alias("_col"))
                for j in range(k) if j not in taken], header, True
    step = pl.col("c0").cast(pl.Int64) if stepped else pl.int_range(0, pl.len(), dtype=pl.Int64)
    # _col: the column's number in the file (1-based), which names the series
    return [cols.select(step.alias("step"), pl.col(f"c{j}").alias("value"), pl.lit(j + 1).alias("_col"))
            for j in range(1 if stepped else 0, k)], header, stepped


def _separate_lists(inp: InputFile, lines: pl.DataFrame, counts: pl.Series) -> None:
    """Raise a :class:`ParseError` when the lines are whole lists (``[...]`` each, ``str(list)`` written once a
    line) that are not one curve: of different lengths (per-batch losses of several runs beside their accuracy
    lists, each its own ``f.write(str(x))``), or of one length with every list starting again where the first
    started (a curve per run, or the training and the validation curve); nothing in the file says which list is
    which. Lists of one length that carry on from each other (one list of per-batch losses per epoch; the last
    may be shorter) join up as before, and so does one list wrapped over several lines (``[`` on the first only)."""
    if lines.height < 2:
        return
    whole = lines.select((pl.col("line").str.starts_with("[") & pl.col("line").str.ends_with("]")).all()).item()
    if not whole:
        return
    body = counts.head(counts.len() - 1)
    first = int(lines.item(0, "lineno"))
    if body.n_unique() == 1 and int(counts[-1]) <= int(counts[0]):
        if not _each_starts_again(lines):
            return
        raise ParseError(f"{lines.height} lines each hold a whole list of {int(counts[0]):,} values, each starting "
                         "again where the first started: separate curves (runs, or training and validation), not "
                         "one, and nothing in the file says which is which; save each curve to its own file, "
                         "named like train_loss.txt", path=inp.name, line=first)
    lo, hi = int(counts.min()), int(counts.max())  # type: ignore[arg-type]
    raise ParseError(f"{lines.height} lines each hold a whole list, of {lo:,} to {hi:,} values: lists of different "
                     "lengths are not one curve, and nothing in the file says which list is which (a run, a "
                     "split, an accuracy?); save each curve to its own file, named like train_loss.txt",
                     path=inp.name, line=first)


def _each_starts_again(lines: pl.DataFrame) -> bool:
    """Whether each list after the first starts again: at every boundary, the median of the next list's first 3
    values is more than half the previous list's range away from the median of its last 3, and nearer the
    first list's start than that. Lists of per-batch losses one per epoch carry on across the boundary."""
    v = (pl.col("nums").list.eval(pl.element().cast(pl.Float64, strict=False))
         .list.eval(pl.element().filter(pl.element().is_finite())))
    ends = lines.select(v.list.head(3).list.median().alias("begin"), v.list.tail(3).list.median().alias("end"),
                        (v.list.max() - v.list.min()).alias("range"), v.list.len().alias("n"))
    if ends.height < 2 or int(ends.get_column("n").min()) < 3:  # type: ignore[arg-type]
        return False
    start = float(ends.item(0, "begin"))
    jumps = ends.select((pl.col("begin").shift(-1) - pl.col("end")).abs().alias("jump"), "range",
                        pl.col("begin").shift(-1).alias("next")).head(ends.height - 1)
    return bool(jumps.select(((pl.col("jump") > 0.5 * pl.col("range"))
                              & ((pl.col("next") - start).abs() < pl.col("jump"))).all()).item())


def _counts_up(s: pl.Series) -> bool:
    """Whole numbers that count up by a constant (or nearly constant) increment from a counter's start
    (0, 1 or the increment), going back only to restart (an iteration counter within an epoch)."""
    if s.len() < 3 or not bool((s.is_finite() & (s == s.round(0))).all()):
        return False
    d = s.diff().drop_nulls()
    pos = d.filter(d > 0)
    if pos.len() < 2:
        return False
    inc = float(pos.mode().sort().item(0))
    if int((pos == inc).sum()) < 0.8 * pos.len():
        return False
    return float(s[0]) in (0.0, 1.0, inc)


def _counter_axes(cols: pl.DataFrame, k: int, stepped: bool,
                  notes: list[IngestNote]) -> tuple[pl.Expr, set[int]] | None:
    """(the step, the axis columns) when columns other than the first count steps, epochs or iterations
    (``epoch iteration loss``): they are axes, not values. None when only the first column is (or none is)."""
    from lossdoc.ingest.formats._epoch_counter import EpochCounter, restarts

    up = [j for j in range(k) if _counts_up(cols.get_column(f"c{j}"))]
    axes = set(up) | ({0} if stepped else set())
    if not (axes - {0}) or len(axes) >= k:
        return None  # the first column alone (or nothing) is an axis: as before; nothing left as a value
    glob = [j for j in sorted(axes) if not cols.select((pl.col(f"c{j}").diff() < 0).any()).item()]
    pairs = []  # (counter, epoch) where the counter restarts every epoch
    for c in sorted(axes):
        if c in glob:
            continue
        for e in glob:
            if restarts(cols.with_columns(pl.col(f"c{e}").forward_fill()), f"c{c}", f"c{e}").per_epoch:
                pairs.append((c, e))
                break
    used = set(glob) | {c for c, _ in pairs}
    if used != axes:  # a column that goes back without an epoch moving on: not read as an axis
        axes = used
        if not (axes - {0}) or len(axes) >= k:
            return None
    names = ", ".join(f"column {j + 1}" for j in sorted(axes))
    # the finest counter: the most distinct values, then the largest (a step beside an epoch of as many rows)
    best = max(glob, key=lambda j: (cols.get_column(f"c{j}").n_unique(), cols.get_column(f"c{j}").max(), -j),
               default=None)
    if pairs:
        c, e = pairs[0]
        n_best = cols.get_column(f"c{best}").n_unique() if best is not None else 0
        if best is None or best == e or n_best < cols.height:
            ctr, ep = cols.get_column(f"c{c}"), cols.get_column(f"c{e}").forward_fill()
            d = ctr.diff().drop_nulls()
            inc = int(d.filter(d > 0).mode().sort().item(0))
            b0 = int(ctr.min())  # type: ignore[arg-type]
            per = int(ctr.max()) - b0 + inc  # type: ignore[arg-type]
            ec = EpochCounter(key=f"column {c + 1}", per=per, b0=b0, e0=float(ep.min()),  # type: ignore[arg-type]
                              how=f"its largest value plus its increment {inc}")
            notes.append(IngestNote("inferred", f"{names} count epochs/iterations (whole numbers counting up), "
                                    "not values: they make the step"))
            msg = ec.note(derived=True).message.replace("(epoch - ", f"(column {e + 1} - ")
            notes.append(IngestNote("inferred", msg))
            return ec.step(pl.col(f"c{c}"), pl.col(f"c{e}").forward_fill()).round(0).cast(pl.Int64), axes
    if best is None:
        return None
    notes.append(IngestNote("inferred", f"{names} count steps/epochs (whole numbers counting up), not values: "
                            f"column {best + 1} (the finest) is the step"))
    return pl.col(f"c{best}").cast(pl.Int64), axes


def frames_for(files: list[tuple[str, str, InputFile]], run: str,
               generic: bool = False) -> tuple[pl.DataFrame, list[IngestNote]]:
    """One run from numbers-only files ``(stem, display, input)``: a series per file (and column).
    ``generic``: a headerless CSV that may not be named like a curve (then its columns are ``col2``...)."""
    from lossdoc.ingest.formats._common import dedupe_metrics

    notes: list[IngestNote] = []
    read: list[tuple[str, str, pl.DataFrame, bool, tuple[str, str]]] = []  # (name, display, frame, stepped, series)
    unsplit: list[str] = []  # tables whose second and later columns have no split the file states
    examples: dict[str, str] = {}  # their first line naming the columns, as the note suggests it
    headed: set[str] = set()  # tables whose header line names their columns
    for stem, display, inp in files:
        nt: list[IngestNote] = []
        shape: dict[str, object] = {}
        frames, header, stepped = read_numeric(inp, nt, shape)
        notes.extend(IngestNote(n.kind, f"{display}: {n.message}", n.line, n.run, n.count, n.step) for n in nt)
        names = column_names(header) if header else []
        if len(frames) >= 2 and len(names) == int(shape.get("columns", 0)):  # type: ignore[call-overload]
            # a header names every column: each value column is the series its name says
            headed.add(display)
            for df in frames:
                if df.height:
                    name = names[int(df.item(0, "_col")) - 1]
                    read.append((name, display, df.drop("_col"), stepped, split_and_metric(_plural(name))))
            continue
        split, metric = series_of(stem, header)
        # two loss columns that name no split: the second is called validation only when its numbers say so
        val_why = None
        if len(frames) == 2 and split == "train" and metric.endswith("loss") and not names_split(stem, header):
            val_why = validation_evidence(frames[0], frames[1])
            if val_why is not None:
                notes.append(IngestNote("inferred", f"{display}: neither the file name nor a header names a split: "
                                        f"column 1 is read as train {metric} and column 2 as val {metric}: {val_why}; "
                                        "if column 2 is not a validation loss, a first line naming the columns "
                                        f"({header_example(shape, frames, metric, val=False)}) says which"))
        for j, df in enumerate(frames):
            if not df.height:
                continue
            col = int(df.item(0, "_col")) if "_col" in df.columns else j + 1
            df = df.drop("_col", strict=False)
            if generic and not METRIC_NAME.search(stem):
                read.append((f"{stem}:{col}", display, df, stepped, (split, f"col{col}")))
            elif len(frames) == 1:
                read.append((stem, display, df, stepped, (split, metric)))
            else:  # a table: the first value column is the file's metric, the others are numbered
                # where neither the file's name nor its header names a split, 'train' is only the default for
                # the file's own curve: a second column (a validation loss as often as another training
                # one) has no split the file states, and is not claimed for training
                unnamed = j > 0 and not names_split(stem, header) and val_why is None
                sm = ("other" if unnamed else split, metric if j == 0 else f"{metric}_col{col}")
                if j == 1 and val_why is not None:
                    sm = ("val", metric)
                read.append((f"{stem}:{col}", display, df, stepped, sm))
                if unnamed and display not in unsplit:
                    unsplit.append(display)
                    examples[display] = (f"{header_example(shape, frames, metric, val=True)} if column 2 is the "
                                         "validation loss" if len(frames) == 2 and metric.endswith("loss") else
                                         header_example(shape, frames, metric, val=False))
    keys = dedupe_metrics((name, *sm) for name, _, _, _, sm in read)
    for display in unsplit:
        cols = [(name.rsplit(":", 1)[-1], keys[name]) for name, d, _, _, _ in read if d == display and ":" in name]
        first = next(((sp, m) for c, (sp, m) in cols if sp != "other"), None)
        rest = [f"column {c} -> other {m}" for c, (sp, m) in cols if sp == "other"]
        notes.append(IngestNote(
            "inferred", f"{display}: neither the file name nor a header names a split: "
            + (f"the first value column is read as {first[0]} {first[1]} (the default for a curve file), " if first
               else "") + f"{', '.join(rest[:4])} (not checked as training or validation: a validation loss and "
            "a second training loss look alike, and its numbers do not show which); to have it checked, add a first "
            f"line naming the columns: {examples[display]}"))
    for display in dict.fromkeys(d for _, d, _, st, _ in read if st):  # tables with a step column: say how read
        if display in headed:
            how = ", ".join(f"{name} -> {' '.join(keys[name])}" for name, d, _, _, _ in read if d == display)
            notes.append(IngestNote("inferred", f"{display}: a table of numbers separated by blanks under a header "
                                    f"line naming its columns; the first column is the step: {how}"))
            continue
        cols = [(name.rsplit(":", 1)[-1] if ":" in name else "value", keys[name]) for name, d, _, _, _ in read
                if d == display]
        how = ", ".join(f"column {c} -> {sp} {m}" if c != "value" else f"the value column -> {sp} {m}"
                        for c, (sp, m) in cols[:6])
        notes.append(IngestNote("inferred", f"{display}: no header line: its columns read as (named after the file, "
                                f"else col<N>): {how}"))
    train_n = max((df.height for name, _, df, st, _ in read if keys[name][0] == "train" and not st), default=0)
    frames = []
    told: set[str] = set()
    for key, display, df, stepped, _ in read:
        split, metric = keys[key]
        if not stepped and metric.endswith("loss") and _placeholder_first(df):
            # 'losses = [0]' then one value per epoch: a loss of exactly 0 before a positive one was never computed
            df = df.slice(1)
            notes.append(IngestNote("skipped_lines", f"{display}: the first value is 0 and every later one above 0: "
                                    "an initial placeholder, not a loss; not read (the others keep their "
                                    "positions as steps)", count=1))
        if not stepped:
            k = train_n // df.height if split != "train" and df.height and train_n > df.height else 1
            if k > 1 and train_n % df.height == 0:
                df = df.with_columns(((pl.col("step") + 1) * k - 1).alias("step"))
                notes.append(IngestNote("inferred", f"{display}: {df.height} values against {train_n} training "
                                        f"values: value i placed at step (i+1) x {k} - 1 (the end of its block)"))
            elif display not in told:
                told.add(display)
                notes.append(IngestNote("inferred", f"{display}: no step written: the value's position (0-based) "
                                        "is the step"))
        frames.append(df.select(pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                                pl.lit(key).alias("name"), "step", "value"))
    return concat_frames(frames), notes


def _placeholder_first(df: pl.DataFrame) -> bool:
    """The first of 3+ values is exactly 0 and every later one is finite and above 0."""
    v = df.get_column("value")
    if v.len() < 3 or v[0] != 0:
        return False
    rest = v.slice(1)
    return bool(rest.is_finite().all() and (rest > 0).all())


#: Where the second of two unnamed loss columns starts against the first (median ratio over the first third of
#: the rows) for it to be a validation loss: the same level (a second training loss can sit at any scale)
SAME_LEVEL = (0.5, 2.0)


def validation_evidence(first: pl.DataFrame, second: pl.DataFrame) -> str | None:
    """Why the second of two unnamed loss columns (frames of ``step``, ``value``, read from the same rows) is the
    validation loss beside the training loss, or None when its numbers do not show it.

    The signature of a validation loss logged beside an epoch's training loss: both fall from where they
    started; they start at the same level (the median ratio over the first third of the rows within
    :data:`SAME_LEVEL`); the second ends above the first on every row of the last third; and the gap opens
    (its median over the last third above that over the first third). A second training loss (a component, a
    total, a generator beside a discriminator) does not open a gap over the first from the same level: a
    component or a total keeps its ratio, a GAN's losses start at different levels.
    """
    import numpy as np

    if first.height != second.height or not first.get_column("step").equals(second.get_column("step")):
        return None
    a, b = first.get_column("value").to_numpy(), second.get_column("value").to_numpy()
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = a.size
    if n < 6 or (a <= 0).any() or (b <= 0).any():
        return None
    third = n // 3
    head, tail = slice(0, third), slice(n - third, n)
    ratio = float(np.median(b[head] / a[head]))
    gap0, gap1 = float(np.median(b[head] - a[head])), float(np.median(b[tail] - a[tail]))
    low = float(b[: n // 2 + 1].min())
    if not (np.median(a[tail]) < np.median(a[head]) and low < b[0]):
        return None  # both fall
    if not (SAME_LEVEL[0] <= ratio <= SAME_LEVEL[1] and (b[tail] > a[tail]).all() and gap1 > max(gap0, 0.0)):
        return None
    return (f"logged on the same {n} rows, both fall (column 2 from {fmt(b[0])} to its lowest {fmt(b.min())}), "
            f"they start at "
            f"one level (column 2 / column 1: median {fmt(ratio)} over the first {third} rows) and column 2 ends "
            f"above column 1 on each of the last {third} rows, the gap opening from {fmt(gap0)} to {fmt(gap1)} "
            "(medians): a validation loss beside the training loss")


def header_example(shape: dict[str, object], frames: list[pl.DataFrame], metric: str, *, val: bool) -> str:
    """The first line that names a headerless table's columns (value columns from their ``_col``, the others
    counters), separated as its rows are: 'train_loss,val_loss,step' (``val``) or 'loss,loss_2,step'."""
    k = int(shape.get("columns", len(frames)))  # type: ignore[call-overload]
    sep = str(shape.get("sep", ","))
    value_cols = [int(f.item(0, "_col")) if "_col" in f.columns and f.height else j + 1 for j, f in enumerate(frames)]
    counters = [c for c in range(1, k + 1) if c not in value_cols]
    names: dict[int, str] = {}
    for j, c in enumerate(value_cols):
        if val:
            names[c] = f"train_{metric}" if j == 0 else (f"val_{metric}" if j == 1 else f"{metric}_{j + 1}")
        else:
            names[c] = metric if j == 0 else f"{metric}_{j + 1}"
    for i, c in enumerate(counters):
        names[c] = "step" if i == len(counters) - 1 else ("epoch" if i == 0 else f"counter_{i}")
    line = sep.join(names[c] for c in range(1, k + 1))
    return repr(line).replace("\\t", "<TAB>") if sep == "\t" else repr(line)


class NumericColumnParser(Parser):
    name = "numeric-column"
    title = "Numbers-only curve file (np.savetxt / a list of losses)"
    recognises = ("numbers only: one per line, one list on a line ('[0.55, 0.51, ...]'), or a headerless table "
                  "('step value', '1_1.84'); optional header/# comment line ('#epoch train_loss val_loss' names a "
                  "blank-separated table's columns); named like the curve: train_loss.txt, val_loss.csv, losses.dat")
    priority = 45

    def sniff(self, inp: InputFile) -> float:
        stem, _, ext = inp.inner_name.rpartition(".")
        if not stem:
            stem, ext = inp.inner_name, ""
        if f".{ext}".lower() not in SUFFIXES and ext:
            return 0.0
        # bare numbers in a file not named like a curve (notes.txt) are not claimed: --format numeric-column
        return 0.8 if is_curve_file(stem, inp.head_text()) else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        stem = inp.inner_name.rsplit(".", 1)[0] if "." in inp.inner_name else inp.inner_name
        frame, notes = frames_for([(stem, inp.name, inp)], inp.run_name)
        if frame.height == 0:
            raise EmptyInputError(f"no numbers found (read as {self.name})", path=inp.name)
        return ParseResult(frame, notes)


PARSERS = [NumericColumnParser()]
