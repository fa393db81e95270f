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

from lossdoc.ingest.formats._evalsets import booster_frame, booster_items
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.model import ParseResult

_LINE = r"^\[(\d+)\]\t"
_ITEM = r"^([^-:\s]+)-(.+):([^:+\s]+)(?:\+(\S+))?$"
_SNIFF = re.compile(r"^\[\d+\]\t[^\t'\s-]+-[^\t:\s]+:[-+\w.]+(?:\+[\w.]+)?(?:\t|$)", re.M)


class XGBoostParser(Parser):
    name = "xgboost"
    title = "XGBoost evaluation log"
    recognises = "'[i]\\tdata-metric:value' lines (xgb.train / xgb.cv / sklearn API verbose output)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _SNIFF, strong=0.85, weak=0.6)

    def parse(self, inp: InputFile) -> ParseResult:
        # A round repeated after "Stopping. Best iteration:" (xgboost < 1.3) is a summary, not a new point.
        items, notes = booster_items(inp, line_re=_LINE, item_re=_ITEM, best_re=r"(?i)best iteration",
                                     best_word="round", item_form="data-metric:value", best_pick=0)
        name = pl.col("data") + "-" + pl.col("raw_metric")
        frame = booster_frame(items, notes, run=inp.run_name, data_col="data", metric_col="raw_metric",
                              name=name, std_name=name + "+std")
        return ParseResult(frame, notes)

PARSERS = [XGBoostParser()]
