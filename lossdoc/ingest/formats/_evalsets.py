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


def apply_split_map(df: pl.DataFrame, data_col: str, metric_col: str, names: list[str]) -> tuple[pl.DataFrame, IngestNote | None]:
    """Add ``split`` and prefix ``metric`` from the data-set column ``data_col``."""
    split, prefix, note = split_map(names)
    df = df.with_columns(
        pl.col(data_col).replace_strict(split, default="other").alias("split"),
        (pl.col(data_col).replace_strict(prefix, default="") + pl.col(metric_col)).alias("metric"),
    )
    return df, note
