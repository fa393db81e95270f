"""DeepXDE ``loss.dat`` (physics-informed neural networks: ``dde.saveplot(losshistory, train_state)``).

Checked with the search tool against ``lululxvi/deepxde`` ``deepxde/utils/external.py``::

    def save_loss_history(loss_history, fname):
        loss = np.hstack((np.array(loss_history.steps)[:, None], np.array(loss_history.loss_train),
                          np.array(loss_history.loss_test), np.array(loss_history.metrics_test)))
        np.savetxt(fname, loss, header="step, loss_train, loss_test, metrics_test")

so the file is the header ``# step, loss_train, loss_test, metrics_test`` and one row of space-separated numbers
per ``display_every`` steps: the step, then one column per loss term on the training points (the PDE residuals,
then each boundary/initial condition, already multiplied by ``loss_weights``), the same terms on the test points,
then the test metrics (``metrics=["l2 relative error"]``: one column; none without ``metrics``). The header does
not say how many terms there are: the training and test terms come in equal numbers, so ``k`` terms and ``m``
metrics fill ``1 + 2k + m`` columns; an odd count of columns after the step is read as one metric (the usual
case), an even one as none, and a note says how the columns were split. DeepXDE's loss is the sum of its
terms (``Model._compile_*``: ``total_loss = sum(losses)``): read as ``train`` and ``test`` loss, each term
beside it (``loss_term_1``...), the metric as ``test`` ``metric_1``."""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import LOG_NUMBER
from lossdoc.model import IngestNote, ParseResult

_HEADER = re.compile(r"^#\s*step,\s*loss_train,\s*loss_test,\s*metrics_test\s*$", re.M)
_ROW = rf"^\s*{LOG_NUMBER}(?:\s+{LOG_NUMBER})+\s*$"


class DeepXDEParser(Parser):
    name = "deepxde"
    title = "DeepXDE loss.dat (PINN loss history)"
    recognises = "'# step, loss_train, loss_test, metrics_test' header over rows of numbers (dde.saveplot)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        return 0.95 if _HEADER.search(head[:400]) else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = drop_torn_tail(inp, read_text_lines(inp, notes), notes)
        rows = lines.filter(pl.col("line").str.contains(_ROW))
        cells = rows.select("lineno", pl.col("line").str.strip_chars().str.split(by=" ").list.eval(
            pl.element().filter(pl.element() != "")).alias("c"))
        width = int(cells.get_column("c").list.len().mode().min() or 0) if cells.height else 0
        cells = cells.filter(pl.col("c").list.len() == width)
        n_terms, n_metrics = (width - 1) // 2, (width - 1) % 2
        if width < 3 or not n_terms:
            return ParseResult(finish(pl.DataFrame(), notes), notes, {})
        num = cells.select("lineno", *[pl.col("c").list.get(i).cast(pl.Float64, strict=False).alias(f"v{i}")
                                        for i in range(width)])
        num = num.with_columns(pl.col("v0").cast(pl.Int64).alias("step"))
        train = [f"v{1 + i}" for i in range(n_terms)]
        test = [f"v{1 + n_terms + i}" for i in range(n_terms)]
        parts = [("train", "loss", "loss_train", pl.sum_horizontal(*train) if n_terms > 1 else pl.col(train[0])),
                 ("test", "loss", "loss_test", pl.sum_horizontal(*test) if n_terms > 1 else pl.col(test[0]))]
        if n_terms > 1:
            parts += [("train", f"loss_term_{i + 1}", f"loss_train[{i}]", pl.col(c)) for i, c in enumerate(train)]
            parts += [("test", f"loss_term_{i + 1}", f"loss_test[{i}]", pl.col(c)) for i, c in enumerate(test)]
        if n_metrics:
            parts.append(("test", "metric_1", "metrics_test[0]", pl.col(f"v{width - 1}")))
        long = pl.concat([num.select(pl.lit(inp.run_name).alias("run"), pl.lit(split).alias("split"),
                                     pl.lit(metric).alias("metric"), pl.lit(name).alias("name"), "step",
                                     pl.lit(None, dtype=pl.Float64).alias("epoch"),
                                     pl.lit(None, dtype=pl.Float64).alias("wall_time"),
                                     expr.alias("value"), "lineno")
                          for split, metric, name, expr in parts]).sort("lineno", maintain_order=True)
        notes.append(IngestNote("inferred", f"DeepXDE loss.dat: {width} columns read as the step, {n_terms} loss "
                                f"term(s) on the training points, the same {n_terms} on the test points"
                                + (" and 1 test metric" if n_metrics else " and no metric")
                                + "; the train and test losses are the sums of their terms, as DeepXDE's total loss"))
        return ParseResult(finish(long, notes), notes, {})


PARSERS = [DeepXDEParser()]
