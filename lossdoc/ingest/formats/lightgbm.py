"""LightGBM evaluation log (``microsoft/LightGBM`` ``python-package/lightgbm/callback.py``,
``_format_eval_result`` / ``_LogEvaluationCallback`` / ``early_stopping``, checked against 4.x;
3.x ``verbose_eval`` prints the same layout).

Sample::

    [LightGBM] [Info] Total Bins 1530
    Training until validation scores don't improve for 10 rounds
    [1]\ttraining's l2: 0.812345\tvalid_1's l2: 0.845678

The iteration is 1-based and is the step. Each tab-separated item is
``{dataset}'s {metric}: {value:g}`` (cv: ``cv_agg's valid l2: 0.8 + 0.01``, where the
``valid``/``train`` word names the split and `` + std`` becomes a ``<metric>_std`` series).
``[LightGBM] [...]`` messages are ignored. After ``Early stopping, best iteration is:`` (or
``Did not meet early stopping. Best iteration is:``) the best line is printed again: that
repeat is not a data point. Data-set names become splits as in :mod:`._evalsets`; the first
loss-like metric (``l2``, ``binary_logloss``...) is read as metric ``loss`` (noted).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._evalsets import booster_frame, booster_items
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.model import ParseResult

_LINE = r"^\[(\d+)\]\t"
_ITEM = r"^(\S+)'s (.+?): (\S+)(?: \+ (\S+))?$"
_SNIFF = re.compile(r"^\[\d+\]\t\S+'s [^\t:]+: [-+\w.]+", re.M)


class LightGBMParser(Parser):
    name = "lightgbm"
    title = "LightGBM evaluation log"
    recognises = '"[i]\\tdataset\'s metric: value" lines (log_evaluation / verbose_eval), early-stopping lines'
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        n = len(_SNIFF.findall(head))
        if n >= 2 or (n and "[LightGBM]" in head):
            return 0.85
        return 0.6 if n == 1 else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        items, notes = booster_items(inp, line_re=_LINE, item_re=_ITEM, best_re=r"(?i)best iteration is",
                                     best_word="iteration", item_form="\"name's metric: value\"", best_pick=-1)
        # cv (LightGBM 4.x): "cv_agg's valid l2" / "cv_agg's train l2": the first word is the split.
        cv_word = pl.col("raw_metric").str.extract(r"^(train|valid) ", 1)
        items = items.with_columns(
            pl.when((pl.col("data") == "cv_agg") & cv_word.is_not_null())
            .then(pl.when(cv_word == "train").then(pl.lit("training")).otherwise(pl.lit("cv_agg")))
            .otherwise(pl.col("data"))
            .alias("dataset"),
            pl.when(pl.col("data") == "cv_agg")
            .then(pl.col("raw_metric").str.replace(r"^(train|valid) ", ""))
            .otherwise(pl.col("raw_metric"))
            .alias("bare"),
        )
        name = pl.col("data") + "'s " + pl.col("raw_metric")
        frame = booster_frame(items, notes, run=inp.run_name, data_col="dataset", metric_col="bare",
                              name=name, std_name=name + " + std")
        return ParseResult(frame, notes)

PARSERS = [LightGBMParser()]
