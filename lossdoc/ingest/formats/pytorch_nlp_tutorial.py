"""Progress lines of the PyTorch NLP tutorials (pytorch/tutorials) and their many copies.

Checked with the search tool against ``pytorch/tutorials`` and copies of it (docs/formats-reference.md §10l):

* ``intermediate_source/seq2seq_translation_tutorial.py`` and ``char_rnn_generation_tutorial.py``:
  ``print('%s (%d %d%%) %.4f' % (timeSince(start, iter / n_iters), iter, iter / n_iters * 100,
  print_loss_avg))`` with ``timeSince`` returning ``'%s (- %s)' % (asMinutes(s), asMinutes(rs))``
  (elapsed, then the estimated time left; copies often print the elapsed time only) and ``asMinutes``
  ``'%dm %ds'``; the later rewrite counts epochs instead of iterations in the same print;
* ``intermediate_source/char_rnn_classification_tutorial.py``: ``print('%d %d%% (%s) %.4f %s / %s %s' %
  (iter, iter / n_iters * 100, timeSince(start), loss, line, guess, correct))``.

Samples::

    0m 24s (- 5m 30s) (5000 6%) 3.5270
    INFO---->train--->2022-03-23 10:37:30,456--->0m 24s (5000 6%) 3.5270
    0m 27s (5000 50%) training loss = 3.5225
    5000 5% (0m 11s) 2.6531 Kim / Chinese ✗ (Korean)

The counter (iteration, or epoch in the rewrite) is the step and the number after it the training loss
(the seq2seq tutorial's average since the last print, the classifier's last example's), as logged; a
logging prefix before the line and a label before the loss (``training loss = 3.5225``) are allowed.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import last_run_result
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

_NUM = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))"
_T = r"-?\d+m -?\d+s"
#: "0m 24s (- 5m 30s) (5000 6%) 3.5270": elapsed [(- left)] (counter percent%) loss
_SEQ2SEQ = rf"(?:^|[^\w])({_T})(?: \(- {_T}\))? \((\d+) (\d+)%\) (?:[A-Za-z][\w ]*\s*[=:]\s*)?{_NUM}\s*$"
#: "5000 5% (0m 11s) 2.6531 Kim / Chinese ✗ (Korean)": counter percent% (elapsed) loss name / guess mark
_CLASSIFY = rf"^(\d+) (\d+)% \(({_T})\) {_NUM} .+ / "
_SNIFF = re.compile(rf"(?:{_T}(?: \(- {_T}\))? \(\d+ \d+%\) (?:[A-Za-z][\w ]*\s*[=:]\s*)?[-+\d.naif]+\s*$|^\d+ \d+% \({_T}\) [-+\d.naif]+ .+ / )",
                    re.M)


class PyTorchNLPTutorialParser(LineParser):
    name = "pytorch-nlp-tutorial"
    title = "PyTorch NLP tutorials' progress lines (seq2seq translation, char-RNN)"
    recognises = "'0m 24s (- 5m 30s) (5000 6%) 3.5270' (seq2seq, char-RNN generation) or '5000 5% (0m 11s) 2.6531 Kim / ...'"
    priority = 30
    sniff_pattern = _SNIFF
    weak = 0.5

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        line = pl.col("line")
        a = (lines.with_columns(line.str.extract_groups(_SEQ2SEQ).alias("_g")).unnest("_g")
             .filter(pl.col("2").is_not_null())
             .select("lineno", pl.col("2").alias("n"), pl.col("4").alias("v")))
        b = (lines.with_columns(line.str.extract_groups(_CLASSIFY).alias("_g")).unnest("_g")
             .filter(pl.col("1").is_not_null())
             .select("lineno", pl.col("1").alias("n"), pl.col("4").alias("v")))
        rows = pl.concat([a, b]).sort("lineno")
        long = rows.select(
            pl.lit(inp.run_name).alias("run"), pl.lit("train").alias("split"), pl.lit("loss").alias("metric"),
            pl.lit("loss").alias("name"), pl.col("n").cast(pl.Int64, strict=False).alias("step"),
            pl.lit(None, dtype=pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            to_float(pl.col("v")).alias("value"), "lineno")
        return last_run_result(long, lines, notes)


PARSERS = [PyTorchNLPTutorialParser()]
