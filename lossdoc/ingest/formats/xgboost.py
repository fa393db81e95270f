"""XGBoost evaluation log (``dmlc/xgboost`` ``python-package/xgboost/callback.py``,
``EvaluationMonitor._fmt_metric`` / ``after_iteration``, checked against xgboost 2.x; the legacy
``print_evaluation`` callback of < 1.3 writes the same layout).

Sample::

    [0]\ttrain-logloss:0.61532\teval-logloss:0.62107
    [1]\ttrain-logloss:0.55101\teval-logloss:0.56233
    [0]\ttrain-rmse:17.59241+0.03362\ttest-rmse:17.63839+0.12125      (xgb.cv: mean+std)

The round index is 0-based and is the step. Each tab-separated item is
``{data}-{metric}:{score}``; data names are the user's (``train``, ``eval``) or positional
(``validation_0``, ``validation_1`` in the sklearn API); see :mod:`._evalsets` for how they
become splits. Metric names are XGBoost's (``logloss``, ``rmse``, ``auc``...), snake_cased; the
first loss-like one (``_evalsets.LOSS_LIKE``) is read as metric ``loss`` so the loss rules see
it (``name`` keeps ``eval-logloss``; noted as ``inferred``), scores such as ``auc`` keep theirs. The
cross-validation standard deviation becomes its own ``<metric>_std`` series. Old versions
repeat the best round after ``Stopping. Best iteration:``; that repeat is not a data point.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._evalsets import apply_split_map, booster_items, loss_metric, loss_note
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import ParseResult, concat_frames, snake_case

_LINE = r"^\[(\d+)\]\t"
_ITEM = r"^([^-:\s]+)-(.+):([^:+\s]+)(?:\+(\S+))?$"
_SNIFF = re.compile(r"^\[\d+\]\t[^\t'\s-]+-[^\t:\s]+:[-+\w.]+(?:\+[\w.]+)?(?:\t|$)", re.M)


class XGBoostParser(Parser):
    name = "xgboost"
    title = "XGBoost evaluation log"
    recognises = "'[i]\\tdata-metric:value' lines (xgb.train / xgb.cv / sklearn API verbose output)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        n = len(_SNIFF.findall(inp.head_text()))
        return 0.85 if n >= 2 else 0.6 if n == 1 else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        # A round repeated after "Stopping. Best iteration:" (xgboost < 1.3) is a summary, not a new point.
        items, notes = booster_items(inp, line_re=_LINE, item_re=_ITEM, best_re=r"(?i)best iteration",
                                     best_word="round", item_form="data-metric:value", best_pick=0)
        names = items.get_column("data").unique(maintain_order=True).to_list()
        raw_metrics = items.get_column("raw_metric").unique(maintain_order=True).to_list()
        metric_of = {m: snake_case(m) for m in raw_metrics}
        primary = loss_metric([metric_of[m] for m in raw_metrics])
        if primary is not None:
            metric_of = {m: ("loss" if v == primary else v) for m, v in metric_of.items()}
            notes.append(loss_note(primary))
        items = items.with_columns(pl.col("raw_metric").replace_strict(metric_of).alias("metric"))
        items, note = apply_split_map(items, "data", "metric", names)
        if note is not None:
            notes.append(note)
        run = inp.run_name
        mean = items.select(
            pl.lit(run).alias("run"),
            "split",
            "metric",
            (pl.col("data") + "-" + pl.col("raw_metric")).alias("name"),
            "step",
            to_float(pl.col("mean")).alias("value"),
        )
        std = items.filter(pl.col("std").is_not_null()).select(
            pl.lit(run).alias("run"),
            "split",
            (pl.col("metric") + "_std").alias("metric"),
            (pl.col("data") + "-" + pl.col("raw_metric") + "+std").alias("name"),
            "step",
            to_float(pl.col("std")).alias("value"),
        )
        return ParseResult(concat_frames([mean, std]), notes)


PARSERS = [XGBoostParser()]
