"""The data model every parser produces: one long polars table plus notes.

The schema is a contract (``DESIGN.md``): (run, split, metric) addresses a series, ``step``
orders it, ``value`` is exactly as logged (NaN and +-inf kept). Parsers never smooth,
judge or silently drop rows; whatever they normalised is returned as :class:`IngestNote`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import polars as pl

SCHEMA: dict[str, pl.DataType] = {
    "run": pl.String(),
    "split": pl.String(),
    "metric": pl.String(),
    "name": pl.String(),
    "step": pl.Int64(),
    "epoch": pl.Float64(),
    "wall_time": pl.Float64(),
    "value": pl.Float64(),
}
COLUMNS: tuple[str, ...] = tuple(SCHEMA)

#: Storage a parser may give ``epoch`` inside its blocks instead of Float64 when every epoch of the
#: column is a whole number that fits (:func:`compact_epoch`): a Lightning metrics.csv of 10^7 rows
#: holds its epochs in 10 MB instead of 80 MB. Only ``blocks`` hold it: every table handed out
#: (``frame``, :func:`join_blocks`, :func:`conform`) has the Float64 epoch of :data:`SCHEMA`, and the
#: values are the same numbers (an integer below 2**32 is exact in Float64).
COMPACT_EPOCH: tuple[pl.DataType, ...] = (pl.UInt8(), pl.UInt16(), pl.UInt32())
#: Storage a parser may give ``step`` inside its blocks instead of Int64 when every step of the column
#: is from 0 to :data:`COMPACT_STEP_MAX` (:func:`compact_step`): a Lightning metrics.csv of 10^7 rows
#: holds its steps in 40 MB instead of 80 MB. As with :data:`COMPACT_EPOCH`, only ``blocks`` hold it
#: (every table handed out has the Int64 step of :data:`SCHEMA`, the same numbers); the checks take the
#: blocks' steps as they are (:class:`lossdoc.checks.series.Series` ``steps`` is int32 or int64), so a log
#: whose steps pass 2**31 - 1 (token counts) keeps Int64 steps.
COMPACT_STEP: tuple[pl.DataType, ...] = (pl.Int32(),)
COMPACT_STEP_MAX = 2**31 - 1
SPLITS: tuple[str, ...] = ("train", "val", "test", "other")

#: Note kinds a parser may emit (free text goes in ``message``).
NOTE_KINDS: tuple[str, ...] = (
    "torn_tail",  # last line/record cut short (file still being written)
    "restart",  # steps went back: a resumed run; the resumed segment is kept
    "several_runs",  # the file holds several independent runs (counter back to its start); the last is kept
    "duplicate_steps",  # the same (series, step) logged more than once
    "skipped_lines",  # lines/records that could not be parsed and were skipped
    "gap",  # steps missing in an otherwise regular series
    "decoding",  # text decoding fallback (UTF-16, Latin-1, NUL bytes, BOM)
    "hidden_nan",  # trainer hides non-finite losses (HF logging_nan_inf_filter)
    "inferred",  # something was inferred (e.g. step from line order)
    "format_guessed",  # no reader recognised the file; read whole by the hand-rolled text reader as a last resort
    "truncated_input",  # input cut at a size limit
    "other",
)


@dataclass(frozen=True, slots=True)
class IngestNote:
    """Something a parser had to normalise or skip; becomes a ``log_integrity`` finding."""

    kind: str
    message: str
    line: int | None = None
    run: str | None = None
    count: int | None = None
    step: int | None = None
    #: every step the note is about when there are several (a restart note: each step the log goes back
    #: to); ``step`` is the first. Not written to JSON (the message lists them)
    steps: tuple[int, ...] | None = None
    #: a ``several_runs`` note: the first and last data line of every run the file holds, the kept (last) one
    #: included (what ``read(..., split_runs=True)`` cuts the file at). Not written to JSON (the message lists them)
    spans: tuple[tuple[int, int], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "line": self.line, "message": self.message}
        if self.run is not None:
            d["run"] = self.run
        if self.count is not None:
            d["count"] = self.count
        if self.step is not None:
            d["step"] = self.step
        return d


class _BlockRows:
    """The ``frame`` view shared by :class:`ParseResult` and :class:`Source` over their ``blocks``."""

    __slots__ = ()
    blocks: list[pl.DataFrame]

    @property
    def frame(self) -> pl.DataFrame:
        """All rows as one table (materialises the string columns of a multi-block result)."""
        return join_blocks(self.blocks)

    @frame.setter
    def frame(self, value: pl.DataFrame) -> None:
        self.blocks = [value]


class ParseResult(_BlockRows):
    """What one parser returns for one input.

    The rows are held as ``blocks``: one frame in :data:`SCHEMA`, or (for big logs) one frame per
    series whose ``run/split/metric/name`` columns are literals (``pl.lit``), which polars keeps as
    one value per column instead of 2*10^7 strings. ``frame`` is all blocks as one table (the
    contract of ``DESIGN.md``); internal consumers read ``blocks`` so that a 10^7-step log is never
    materialised as one long table with four string columns (~0.6 GB).

    ``meta`` carries facts from the log that analysis and recommendations use, e.g.
    ``{"total_steps": 500000}`` (Megatron ``N/ M``, HF ``max_steps``), ``{"hparams": {...}}``
    (Lightning ``hparams.yaml``), ``{"logging_nan_inf_filter": True}``.
    """

    __slots__ = ("blocks", "notes", "meta")

    def __init__(self, frame: pl.DataFrame | None = None, notes: list[IngestNote] | None = None,
                 meta: dict[str, Any] | None = None, *, blocks: list[pl.DataFrame] | None = None) -> None:
        self.blocks: list[pl.DataFrame] = _initial_blocks(frame, blocks)
        self.notes: list[IngestNote] = list(notes) if notes is not None else []
        self.meta: dict[str, Any] = dict(meta) if meta is not None else {}


class Source(_BlockRows):
    """One input (file, directory, stdin) after parsing; rows held as blocks (see :class:`ParseResult`)."""

    __slots__ = ("path", "format", "blocks", "notes", "meta")

    def __init__(self, path: str, format: str, frame: pl.DataFrame | None = None,
                 notes: list[IngestNote] | None = None, meta: dict[str, Any] | None = None, *,
                 blocks: list[pl.DataFrame] | None = None) -> None:
        self.path = path
        self.format = format
        blocks = _initial_blocks(frame, blocks)
        self.blocks: list[pl.DataFrame] = [b for b in blocks if b.height] or blocks[:1]
        self.notes: list[IngestNote] = list(notes) if notes is not None else []
        self.meta: dict[str, Any] = dict(meta) if meta is not None else {}

    def __repr__(self) -> str:
        return f"Source(path={self.path!r}, format={self.format!r}, rows={self.height}, notes={len(self.notes)})"

    @property
    def height(self) -> int:
        return sum(b.height for b in self.blocks)

    @property
    def runs(self) -> list[str]:
        out: dict[str, None] = {}
        for b in self.blocks:
            # select, not get_column: a literal column stays one value (get_column materialises it)
            for r in b.select(pl.col("run").unique(maintain_order=True)).to_series().to_list():
                out[r] = None
        return list(out)

    def run_blocks(self, run: str) -> list[pl.DataFrame]:
        """The blocks holding ``run``'s rows (each filtered to it when the source has several runs)."""
        if len(self.runs) == 1:
            return [b for b in self.blocks if b.height]
        out = []
        for b in self.blocks:
            f = b.filter(pl.col("run") == run)
            if f.height:
                out.append(f)
        return out

    def map_blocks(self, fn: Any) -> None:
        """Apply ``fn(frame) -> frame`` to every block (e.g. renaming the run)."""
        self.blocks = [fn(b) for b in self.blocks]


def _initial_blocks(frame: pl.DataFrame | None, blocks: list[pl.DataFrame] | None) -> list[pl.DataFrame]:
    """The ``blocks`` of a :class:`ParseResult` / :class:`Source` built from ``frame`` or ``blocks``."""
    if blocks is None:
        return [frame if frame is not None else empty_frame()]
    if frame is not None:
        raise TypeError("give frame or blocks, not both")
    return blocks


def join_blocks(blocks: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Blocks as one table in :data:`SCHEMA` (a compact epoch as Float64 and a compact step as Int64 again)."""
    blocks = [b for b in blocks if b.height] or list(blocks[:1])
    if not blocks:
        return empty_frame()
    if len(blocks) == 1:
        return wide_columns(blocks[0])
    if any(_is_compact(b) for b in blocks):
        blocks = [wide_columns(b) for b in blocks]
    return pl.concat(blocks, how="vertical")


def _is_compact(df: pl.DataFrame) -> bool:
    return df.schema.get("epoch") in COMPACT_EPOCH or df.schema.get("step") in COMPACT_STEP


def wide_columns(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with a compact ``epoch`` column (:data:`COMPACT_EPOCH`) as Float64 and a compact ``step``
    column (:data:`COMPACT_STEP`) as Int64: the types of :data:`SCHEMA`, the same numbers."""
    wide = []
    if df.schema.get("epoch") in COMPACT_EPOCH:
        wide.append(pl.col("epoch").cast(pl.Float64))
    if df.schema.get("step") in COMPACT_STEP:
        wide.append(pl.col("step").cast(pl.Int64))
    return df.with_columns(wide) if wide else df


#: The earlier name of :func:`wide_columns` (when only the epoch was held compactly).
float_epoch = wide_columns


def compact_step(step: pl.Series) -> pl.Series:
    """``step`` as Int32 (:data:`COMPACT_STEP`) when every value is from 0 to :data:`COMPACT_STEP_MAX`
    (no nulls), else unchanged: read back as Int64 it gives the same numbers."""
    if step.dtype in COMPACT_STEP or not step.dtype.is_integer() or not step.len() or step.null_count():
        return step
    lo, hi = step.min(), step.max()
    if lo is None or hi is None or int(lo) < 0 or int(hi) > COMPACT_STEP_MAX:  # type: ignore[arg-type]
        return step
    return step.cast(pl.Int32)


def compact_epoch(epoch: pl.Series) -> pl.Series:
    """``epoch`` in the smallest of :data:`COMPACT_EPOCH` when every value is a whole number from 0 to
    2**32 - 1 (nulls allowed; no -0.0, no NaN), else unchanged: read back as Float64 it gives the
    same numbers."""
    if not epoch.dtype.is_numeric() or epoch.len() == epoch.null_count():
        return epoch
    if epoch.dtype in COMPACT_EPOCH:
        top = int(epoch.max())  # type: ignore[arg-type]
    else:
        ok, top = epoch.to_frame("e").select(whole_epoch(pl.col("e")).all(ignore_nulls=True).alias("ok"),
                                             pl.col("e").max().alias("top")).row(0)
        if not ok:
            return epoch
    dt = pl.UInt8() if top < 2**8 else pl.UInt16() if top < 2**16 else pl.UInt32()
    return epoch if epoch.dtype == dt else epoch.cast(dt)


def whole_epoch(e: pl.Expr) -> pl.Expr:
    """Whether a number ``e`` can be held in :data:`COMPACT_EPOCH` and read back as the same Float64: a
    whole number from 0 to 2**32 - 1 that is not -0.0 (null where ``e`` is null)."""
    return ((e >= 0) & (e <= 2**32 - 1) & (e.round(0) == e)
            & ~((e == 0) & (1.0 / e.cast(pl.Float64) < 0)))


@dataclass(slots=True)
class LogSet:
    """Everything read from the paths given: a list of sources."""

    sources: list[Source] = field(default_factory=list)

    @property
    def frame(self) -> pl.DataFrame:
        """All sources' rows in one table (run names are as the parsers set them)."""
        return join_blocks([b for s in self.sources for b in s.blocks])

    @property
    def notes(self) -> list[IngestNote]:
        return [n for s in self.sources for n in s.notes]

    def to_pandas(self) -> Any:
        """:attr:`frame` as a pandas DataFrame (``pip install 'lossdoc[pandas]'``; no pyarrow needed)."""
        return to_pandas(self.frame)

    def __repr__(self) -> str:
        rows = sum(s.height for s in self.sources)
        return f"<LogSet {len(self.sources)} source(s), {rows:,} rows>"


def to_pandas(frame: pl.DataFrame) -> Any:
    """A polars frame as a pandas DataFrame, column by column through numpy (polars' own
    ``to_pandas`` needs pyarrow, which lossdoc does not depend on). Needs pandas:
    ``pip install 'lossdoc[pandas]'``."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas() needs pandas: pip install 'lossdoc[pandas]' (or pip install pandas)") from None
    cols = {}
    for name in frame.columns:
        s = frame.get_column(name)
        if s.dtype == pl.String:
            cols[name] = pd.Series(s.to_list(), dtype=object)
        elif s.dtype.is_integer() and s.null_count():
            cols[name] = pd.array(s.to_list(), dtype="Int64")
        else:
            cols[name] = s.to_numpy()
    return pd.DataFrame(cols, columns=list(frame.columns))


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


_CAMEL1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake_case(name: str) -> str:
    """``'lm loss'`` -> ``'lm_loss'``, ``'trainLoss'`` -> ``'train_loss'``, ``'lr-AdamW'`` -> ``'lr_adamw'``."""
    s = _CAMEL2.sub(r"\1_\2", _CAMEL1.sub(r"\1_\2", name.strip()))
    s = _NON_WORD.sub("_", s).strip("_").lower()
    return s or "value"


# Canonical metric names (DESIGN.md): loss, lr, grad_norm, loss_scale, accuracy, perplexity,
# throughput; a component loss keeps its own name; otherwise the original in snake_case.
_CANONICAL: dict[str, str] = {
    "loss": "loss",
    "lm_loss": "loss",
    "total_loss": "loss",
    "tot_loss": "loss",
    "loss_total": "loss",
    "train_loss": "loss",
    "training_loss": "loss",
    "objective": "loss",
    "lr": "lr",
    "learning_rate": "lr",
    "learningrate": "lr",
    "grad_norm": "grad_norm",
    "gradient_norm": "grad_norm",
    "gnorm": "grad_norm",
    "grad_norm_total": "grad_norm",
    "norm": "grad_norm",
    "loss_scale": "loss_scale",
    "acc": "accuracy",
    "accuracy": "accuracy",
    "ppl": "perplexity",
    "perplexity": "perplexity",
    "throughput": "throughput",
    "tokens_per_second": "throughput",
    "tok_s": "throughput",
    "samples_per_second": "throughput",
}


def canonical_metric(name: str) -> str:
    """Map a metric name (without its split prefix) to lossdoc's canonical name."""
    s = snake_case(name)
    if s in _CANONICAL:
        return _CANONICAL[s]
    if s.startswith("lr_") and "loss" not in s:  # Lightning LearningRateMonitor: lr-AdamW, lr-SGD/pg1
        return "lr"  # (not a loss term named after its own part: Lr_loss, the low-rank term of a sum)
    return s


_SPLIT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("train/", "train"),
    # Lightning's name for the training stage (TrainerFn.FITTING == "fit"): stable-pretraining's Module calls
    # forward(batch, stage="fit") in training_step (rbalestr-lab/stable-pretraining stable_pretraining/module.py)
    # and forwards that log under the stage's name ('fit/loss_step' in NLPQuy/lejepa-MLProject's metrics.csv)
    ("fit/", "train"),
    ("training/", "train"),
    ("train_", "train"),
    ("training_", "train"),
    ("trn_", "train"),
    ("eval/", "val"),
    ("eval_", "val"),
    ("val/", "val"),
    ("val_", "val"),
    ("valid/", "val"),
    ("valid_", "val"),
    ("validation/", "val"),
    ("validation_", "val"),
    ("validate_", "val"),  # 'Epoch: 3, Train Loss: 0.41, Validate Loss: 0.52' (tuero/UPSA)
    ("evaluation/", "val"),
    ("evaluation_", "val"),
    ("dev_", "val"),
    ("test/", "test"),
    ("test_", "test"),
)
_SPLIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_train", "train"),
    ("_val", "val"),
    ("_valid", "val"),
    ("_validation", "val"),
    ("_eval", "val"),
    ("_test", "test"),
)


#: a split's name as written (a key, a header word) -> lossdoc's split
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "eval": "val",
               "evaluation": "val", "dev": "val", "test": "test"}
_SPLIT_ALT = "|".join(sorted(SPLIT_NAMES, key=len, reverse=True))
#: a metric named with its split after it in words: "Accuracy on Test-Set", "loss on the validation set", "acc of
#: val data", "loss_test_set" (snake case)
_NAMED_SPLIT = re.compile(
    rf"^(?P<metric>.+?)_(?:(?:on|of)_(?:the_)?(?P<a>{_SPLIT_ALT})(?:_(?:set|data|dataset|split))?"
    rf"|(?P<b>{_SPLIT_ALT})_(?:set|data|dataset|split))$")

#: a split glued to its metric without a separator, as hand-rolled loops print them ("trloss: 1.49, tracc: 0.54,
#: valloss: 0.76, valacc: 0.17, testloss_1: 0.76"): the split abbreviation, then a loss or score word
_GLUED_SPLITS = {**SPLIT_NAMES, "tr": "train", "trn": "train", "tst": "test", "te": "test"}
_GLUED_SPLIT = re.compile(
    r"^(?P<split>" + "|".join(sorted(_GLUED_SPLITS, key=len, reverse=True)) + r")"
    r"(?:loss(?:es)?|acc|accuracy|ppl|perplexity|auc|roc|f1|mse|mae|rmse|nll|error|err)(?:_\w+)?$")


def split_and_metric(name: str, default_split: str = "train") -> tuple[str, str]:
    """Guess (split, canonical metric) from a column/key name such as ``eval_loss`` or ``train/box_loss``.

    ``train_loss`` -> ("train", "loss"); ``val_acc`` -> ("val", "accuracy");
    ``loss`` -> (default_split, "loss"); ``lr-AdamW`` -> ("train", "lr").
    Lightning's ``_step``/``_epoch`` suffixes are kept in the metric name only when both exist;
    callers handle that case.
    """
    raw = name.strip()
    low = raw.lower()
    for prefix, split in _SPLIT_PREFIXES:
        if low.startswith(prefix) and len(low) > len(prefix):
            return split, canonical_metric(raw[len(prefix) :])
    s = snake_case(raw)
    for suffix, split in _SPLIT_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return split, canonical_metric(s[: -len(suffix)])
    glued = _GLUED_SPLIT.match(s)
    if glued:
        return _GLUED_SPLITS[glued.group("split")], canonical_metric(s[glued.end("split"):])
    named = _NAMED_SPLIT.match(s)
    if named:
        return SPLIT_NAMES[named.group("a") or named.group("b")], canonical_metric(named.group("metric"))
    metric = canonical_metric(raw)
    if metric in ("lr", "grad_norm", "loss_scale", "throughput"):
        return "train", metric
    return default_split, metric


def make_frame(
    data: Mapping[str, Sequence[Any] | pl.Series | Any],
) -> pl.DataFrame:
    """Build a frame in :data:`SCHEMA` from columns; missing optional columns become null.

    Scalars (e.g. ``run="r1"``) are broadcast. Columns are cast to the schema types, so
    parsers may pass Python lists, numpy arrays or polars Series.
    """
    n = None
    for v in data.values():
        if isinstance(v, (pl.Series, list, tuple)) or hasattr(v, "__len__") and not isinstance(v, str):
            n = len(v)  # type: ignore[arg-type]
            break
    if n is None:
        n = 1 if data else 0
    cols = []
    for c, dt in SCHEMA.items():
        v = data.get(c)
        if v is None:
            s = pl.Series(c, [None] * n, dtype=dt)
        elif isinstance(v, pl.Series):
            s = v.alias(c).cast(dt, strict=False)
        elif isinstance(v, (str, int, float)):
            s = pl.Series(c, [v] * n).cast(dt, strict=False)
        else:
            s = pl.Series(c, v).cast(dt, strict=False)
        cols.append(s)
    return pl.DataFrame(cols)


def conform(df: pl.DataFrame, *, keep_compact: bool = False) -> pl.DataFrame:
    """Select and cast a parser's frame to exactly :data:`SCHEMA` (adding null columns); with
    ``keep_compact``, an epoch stored as one of :data:`COMPACT_EPOCH` and a step stored as one of
    :data:`COMPACT_STEP` stay so (for a :class:`Source`'s blocks)."""
    if keep_compact and df.height and _is_compact(df):
        target = dict(SCHEMA)
        if df.schema.get("epoch") in COMPACT_EPOCH:
            target["epoch"] = df.schema["epoch"]
        if df.schema.get("step") in COMPACT_STEP:
            target["step"] = df.schema["step"]
        if df.schema == target:
            return df
        return df.select([pl.col(c).cast(dt, strict=False) if c in df.columns else pl.lit(None, dtype=dt).alias(c)
                          for c, dt in target.items()])
    if df.width == 0 or df.height == 0:
        # NOTE: selecting literals from a frame without columns yields one all-null row, not none.
        return empty_frame() if df.width == 0 else df.select(
            [pl.col(c).cast(dt, strict=False) if c in df.columns else pl.lit(None, dtype=dt).alias(c)
             for c, dt in SCHEMA.items()]).clear()
    if df.schema == SCHEMA:
        # Already conforming (e.g. concat_frames' output conformed again by read()): a select would
        # materialise the literal run/split/metric/name columns, ~1 GB at 2*10^7 rows.
        return df
    exprs = []
    for c, dt in SCHEMA.items():
        if c in df.columns:
            exprs.append(pl.col(c).cast(dt, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dt).alias(c))
    return df.select(exprs)


def validate(df: pl.DataFrame) -> None:
    """Raise ``AssertionError`` if ``df`` is not exactly in :data:`SCHEMA` (used by tests)."""
    assert tuple(df.columns) == COLUMNS, f"columns {df.columns} != {COLUMNS}"
    for c, dt in SCHEMA.items():
        assert df.schema[c] == dt, f"column {c} has {df.schema[c]}, expected {dt}"
    bad = set(df.get_column("split").unique().to_list()) - set(SPLITS)
    assert not bad, f"unknown split values {bad}"
    for c in ("run", "split", "metric", "name", "step"):
        assert df.get_column(c).null_count() == 0, f"nulls in {c}"
    # (run, split, metric) addresses one series: it may not come from two differently named keys.
    multi = df.group_by("run", "split", "metric").agg(pl.col("name").n_unique().alias("n")).filter(pl.col("n") > 1)
    assert multi.height == 0, f"several names for one (run, split, metric): {multi.rows()[:5]}"


def concat_frames(frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    frames = [conform(f) for f in frames if f.height]
    return pl.concat(frames, how="vertical") if frames else empty_frame()


def conform_blocks(frames: Iterable[pl.DataFrame], *, keep_compact: bool = False) -> list[pl.DataFrame]:
    """:func:`concat_frames` without the concatenation: the non-empty frames, each in :data:`SCHEMA`
    (for :class:`ParseResult` ``blocks``; literal string columns stay one value each; a compact
    epoch or step stays so with ``keep_compact``)."""
    return [conform(f, keep_compact=keep_compact) for f in frames if f.height] or [empty_frame()]


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One series as ``lossdoc inspect`` shows it."""

    run: str
    split: str
    metric: str
    name: str
    points: int
    first_step: int | None
    last_step: int | None
    non_finite: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "metric": self.metric,
            "name": self.name,
            "points": self.points,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "non_finite": self.non_finite,
        }


def series_info(df: pl.DataFrame) -> list[SeriesInfo]:
    """Per-series counts, step range and non-finite count, in order of first appearance."""
    if df.height == 0:
        return []
    stats = [pl.len().alias("points"), pl.col("step").min().alias("first_step"),
             pl.col("step").max().alias("last_step"), (~pl.col("value").is_finite()).sum().alias("non_finite")]
    keys = ("run", "split", "metric", "name")
    if df.select([pl.col(k).n_unique() for k in keys]).row(0) == (1, 1, 1, 1):
        # one series (a parser's block): no group-by, which would materialise literal key columns
        first = df.row(0, named=True)
        return [SeriesInfo(*(first[k] for k in keys), *df.select(stats).row(0))]
    agg = df.group_by("run", "split", "metric", "name", maintain_order=True).agg(
        pl.len().alias("points"),
        pl.col("step").min().alias("first_step"),
        pl.col("step").max().alias("last_step"),
        (~pl.col("value").is_finite()).sum().alias("non_finite"),
    )
    return [SeriesInfo(*row) for row in agg.iter_rows()]
