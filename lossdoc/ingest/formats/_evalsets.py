"""Shared by the gradient-boosting parsers: which split an evaluation data set is.

XGBoost and LightGBM name each evaluation set as the user did (``train``, ``eval``,
``valid_1``) or by position (``validation_0``, ``valid_0``). lossdoc maps the training set to
``train``, the first other set to ``val``, a set literally named ``test`` (when it is not
the first) to ``test``, and any further set to ``other`` with the set's name in the metric,
so (run, split, metric) still addresses one series. The mapping is reported as an
``inferred`` note because a positional name (``validation_0``) may in fact be the training data.
"""

from __future__ import annotations

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
