"""Shared by the gradient-boosting parsers: which split an evaluation data set is.

XGBoost and LightGBM name each evaluation set as the user did (``train``, ``eval``,
``valid_1``) or by position (``validation_0``, ``valid_0``). lossdoc maps the training set to
``train``, the first other set to ``val``, a set literally named ``test`` (when it is not
the first) to ``test``, and any further set to ``other`` with the set's name in the metric,
so (run, split, metric) still addresses one series. The mapping is reported as an
``inferred`` note because a positional name (``validation_0``) may in fact be the training data.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lossdoc.model import IngestNote, snake_case

TRAIN_NAMES = {"train", "training", "dtrain", "learn", "train_set", "trainset"}


def split_map(names: list[str]) -> tuple[dict[str, str], dict[str, str], IngestNote | None]:
    """For data-set names in order of first appearance: (name -> split, name -> metric prefix, note)."""
    split: dict[str, str] = {}
    prefix: dict[str, str] = {}
    seen_val = False
    for n in names:
        low = n.lower()
        if low in TRAIN_NAMES:
            split[n], prefix[n] = "train", ""
        elif not seen_val:
            split[n], prefix[n] = "val", ""
            seen_val = True
        elif low == "test" and "test" not in split.values():
            split[n], prefix[n] = "test", ""
        else:
            split[n], prefix[n] = "other", snake_case(n) + "_"
    note = None
    if names:
        parts = [f"'{n}' -> {split[n]}" + (f" (metrics prefixed '{prefix[n]}')" if prefix[n] else "") for n in names]
        note = IngestNote("inferred", "evaluation sets read as splits: " + ", ".join(parts))
    return split, prefix, note


def apply_split_map(
    df: pl.DataFrame, data_col: str, metric_col: str, names: list[str]
) -> tuple[pl.DataFrame, IngestNote | None]:
    """Add ``split`` and prefix ``metric`` from the data-set column ``data_col``."""
    split, prefix, note = split_map(names)
    df = df.with_columns(
        pl.col(data_col).replace_strict(split, default="other").alias("split"),
        (pl.col(data_col).replace_strict(prefix, default="") + pl.col(metric_col)).alias("metric"),
    )
    return df, note


#: Evaluation metrics of XGBoost / LightGBM / CatBoost that are losses (lower is better, the
#: training objective or its usual report), snake_cased; ranking and accuracy-type scores are not.
LOSS_LIKE = {
    # XGBoost (doc "eval_metric")
    "logloss",
    "mlogloss",
    "rmse",
    "rmsle",
    "mae",
    "mape",
    "mphe",
    "poisson_nloglik",
    "gamma_nloglik",
    "cox_nloglik",
    "tweedie_nloglik",
    "aft_nloglik",
    "gamma_deviance",
    # LightGBM (doc "metric", names as printed)
    "l1",
    "l2",
    "l2_root",
    "huber",
    "fair",
    "poisson",
    "quantile",
    "binary_logloss",
    "multi_logloss",
    "cross_entropy",
    "cross_entropy_lambda",
    "kullback_leibler",
    "gamma",
    "tweedie",
    # CatBoost (loss functions, snake_cased: Logloss, RMSE, MultiClass, CrossEntropy, ...)
    "multi_class",
    "multi_class_one_vs_all",
    "log_linear_quantile",
    "lq",
    "expectile",
    "rmse_with_uncertainty",
}


def loss_metric(metrics: list[str]) -> str | None:
    """The first loss-like metric (snake_cased name, ``:params`` ignored) in ``metrics``, or None."""
    for m in metrics:
        if m.split(":")[0].strip("_") in LOSS_LIKE or m in LOSS_LIKE:
            return m
    return None


def loss_note(metric: str) -> IngestNote:
    return IngestNote("inferred", f"evaluation metric '{metric}' (the first loss-like one) read as metric loss")


def booster_items(
    inp: Any,
    *,
    line_re: str,
    item_re: str,
    best_re: str,
    best_word: str,
    item_form: str,
    best_pick: int,
) -> tuple[pl.DataFrame, list[IngestNote]]:
    """The per-round evaluation items of an XGBoost / LightGBM log, one row per item.

    Lines matching ``line_re`` (group 1: the round) are split at tabs; each item is matched with
    ``item_re`` (groups: data set, metric, value, optional cv std) into columns ``lineno, step,
    data, raw_metric, mean, std``. The round repeated after an early-stopping line matching
    ``best_re`` is a summary, not a new point (noted, naming the ``best_pick``-th repeat); a torn
    last line is dropped and noted; items not of ``item_form`` are skipped and noted.
    """
    from lossdoc.ingest.text import load_lines, to_float, torn_tail_note

    notes: list[IngestNote] = []
    lines = load_lines(inp, notes=notes)
    line = pl.col("line")
    after_best = line.shift(1).str.contains(best_re).fill_null(False)
    repeats = lines.filter(after_best & line.str.contains(line_re))
    if repeats.height:
        best = repeats.get_column("line").str.extract(line_re, 1).to_list()
        notes.append(IngestNote(
            "other", f"early stopping: best {best_word} {best[best_pick]} (its repeated line is not a new point)"))
    data = lines.filter(~after_best & line.str.contains(line_re))
    last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
    tail = torn_tail_note(inp, last_line)
    if tail is not None:
        data = data.filter(pl.col("lineno") != last_line)
        notes.append(tail)
    items = (
        data.select(
            "lineno",
            line.str.extract(line_re, 1).cast(pl.Int64).alias("step"),
            line.str.replace(line_re, "").str.split("\t").alias("item"),
        )
        .explode("item")
        .filter(pl.col("item").str.strip_chars() != "")
        .with_columns(pl.col("item").str.strip_chars().str.extract_groups(item_re).alias("g"))
        .unnest("g")
        .rename({"1": "data", "2": "raw_metric", "3": "mean", "4": "std"})
    )
    bad = items.filter(pl.col("data").is_null() | to_float(pl.col("mean")).is_null())
    if bad.height:
        first = bad.get_column("lineno").unique(maintain_order=True).head(3).to_list()
        notes.append(IngestNote("skipped_lines", f"{bad.height} item(s) not of the form {item_form} (lines {first})",
                                line=first[0], count=bad.height))
        items = items.filter(pl.col("data").is_not_null() & to_float(pl.col("mean")).is_not_null())
    return items, notes


def booster_frame(
    items: pl.DataFrame,
    notes: list[IngestNote],
    *,
    run: str,
    data_col: str,
    metric_col: str,
    name: pl.Expr,
    std_name: pl.Expr,
) -> pl.DataFrame:
    """The tidy rows of :func:`booster_items`' output: metric names snake_cased (the first loss-like
    one read as ``loss``, noted), data sets mapped to splits (:func:`split_map`, noted), and the
    cv standard deviation as its own ``<metric>_std`` series. ``name`` / ``std_name`` build the
    name as the log wrote it."""
    from lossdoc.ingest.text import to_float
    from lossdoc.model import concat_frames

    raw = items.get_column(metric_col).unique(maintain_order=True).to_list()
    metric_of = {m: snake_case(m) for m in raw}
    primary = loss_metric([metric_of[m] for m in raw])
    if primary is not None:
        metric_of = {m: ("loss" if v == primary else v) for m, v in metric_of.items()}
        notes.append(loss_note(primary))
    items = items.with_columns(pl.col(metric_col).replace_strict(metric_of).alias("metric"))
    names = items.get_column(data_col).unique(maintain_order=True).to_list()
    items, note = apply_split_map(items, data_col, "metric", names)
    if note is not None:
        notes.append(note)
    mean = items.select(pl.lit(run).alias("run"), "split", "metric", name.alias("name"), "step",
                        to_float(pl.col("mean")).alias("value"))
    std = items.filter(pl.col("std").is_not_null()).select(
        pl.lit(run).alias("run"), "split", (pl.col("metric") + "_std").alias("metric"), std_name.alias("name"),
        "step", to_float(pl.col("std")).alias("value"))
    return concat_frames([mean, std])
