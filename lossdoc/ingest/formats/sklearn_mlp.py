"""scikit-learn ``MLPClassifier`` / ``MLPRegressor`` with ``verbose=True``
(``scikit-learn/scikit-learn`` ``sklearn/neural_network/_multilayer_perceptron.py``,
``_fit_stochastic`` and ``_update_no_improvement_count``, checked against 1.5).

Sample::

    Iteration 1, loss = 0.69314718
    Validation score: 0.812500
    Iteration 2, loss = 0.52104312

``Iteration %d, loss = %.8f`` is the training loss after epoch ``n_iter_`` (1-based; the step).
With ``early_stopping=True`` each is followed by ``Validation score: %f``: a **score** on the
held-out fraction (accuracy or R^2, higher is better), read as split ``val`` metric
``validation_score`` at the step of the iteration line before it, never as a loss.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames

_ITER = r"^Iteration (\d+), loss = (\S+)\s*$"
_VAL = r"^Validation score: (\S+)\s*$"
_SNIFF = re.compile(r"^Iteration \d+, loss = [-+\w.]+\s*$", re.M)


class SklearnMLPParser(Parser):
    name = "sklearn-mlp"
    title = "scikit-learn MLP verbose output"
    recognises = "'Iteration N, loss = X' and 'Validation score: X' lines (MLPClassifier/MLPRegressor verbose=True)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _SNIFF, strong=0.85, weak=0.6)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        line = pl.col("line")
        df = lines.with_columns(
            line.str.extract(_ITER, 1).cast(pl.Int64, strict=False).alias("it"),
            line.str.extract(_ITER, 2).alias("loss"),
            line.str.extract(_VAL, 1).alias("score"),
        ).filter(pl.col("it").is_not_null() | pl.col("score").is_not_null())
        # The score line belongs to the iteration printed just before it.
        df = df.with_columns(pl.col("it").forward_fill().alias("step"))
        last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
        tail = torn_tail_note(inp, last_line)
        if tail is not None:
            df = df.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        orphan = df.filter(pl.col("step").is_null())
        if orphan.height:
            notes.append(
                IngestNote(
                    "skipped_lines",
                    f"{orphan.height} 'Validation score' line(s) before any iteration line",
                    line=int(orphan.get_column("lineno")[0]),
                    count=orphan.height,
                )
            )
            df = df.filter(pl.col("step").is_not_null())
        run = inp.run_name
        loss = df.filter(pl.col("loss").is_not_null()).select(
            pl.lit(run).alias("run"),
            pl.lit("train").alias("split"),
            pl.lit("loss").alias("metric"),
            pl.lit("loss").alias("name"),
            "step",
            to_float(pl.col("loss")).alias("value"),
        )
        score = df.filter(pl.col("score").is_not_null()).select(
            pl.lit(run).alias("run"),
            pl.lit("val").alias("split"),
            pl.lit("validation_score").alias("metric"),
            pl.lit("Validation score").alias("name"),
            "step",
            to_float(pl.col("score")).alias("value"),
        )
        return ParseResult(concat_frames([loss, score]), notes)


PARSERS = [SklearnMLPParser()]
