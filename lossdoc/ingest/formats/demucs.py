"""Demucs (``facebookresearch/demucs``, and the denoiser solvers derived from it) training log.

Checked with the search tool against Demucs forks' ``demucs/solver.py``: after each epoch ``Solver.train``
logs ``f'Train Summary | Epoch {epoch + 1} | {_summary(formatted)}'`` and
``f'Valid Summary | Epoch {epoch + 1} | {_summary(formatted)}'`` (``_summary`` joins
``f"{key.capitalize()}={val}"`` with ``" | "``), and ``Test Summary`` the same way; in the epoch
``demucs/utils.py`` ``LogProgress`` prints ``Train | Epoch 1 | 143/573 | 1.45 it/sec | Loss 0.2343 | ...``
with the running average of the epoch so far, whose last line is the summary. The summaries are read
(one point per epoch, 1-based as printed); ``Best`` (the best validation loss so far) and ``Bname`` (which
model it was) are not metrics of the epoch and are skipped. Sample::

    - Train | Epoch 1 | 572/573 | 1.48 it/sec | Loss 0.2019 | Reco 0.1994 | Grad 0.0963 | Penalty 247.226
    - Train Summary | Epoch 1 | Loss=0.2019 | Reco=0.1994 | Grad=0.0963 | Penalty=247.2265
    - Valid Summary | Epoch 1 | Loss=0.2223 | Reco=0.2223 | Nsdr=2.727 | Best=0.2223 | Bname=main
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import finish, regex_pairs
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.ingest.text import LOG_NUMBER, matching
from lossdoc.model import IngestNote, ParseResult, canonical_metric, snake_case

_NUM = LOG_NUMBER
_SUMMARY = r"\b(Train|Valid|Test) Summary \| Epoch (\d+) \| (.*)$"
_PAIR = rf"(?:^|\| )([A-Za-z_][\w ]*?)=({_NUM})(?: |$)"
_SNIFF = re.compile(rf"\b(?:Train|Valid) Summary \| Epoch \d+ \| [A-Z][\w ]*={_NUM}")
_SPLIT = {"Train": "train", "Valid": "val", "Test": "test"}
_SKIP = ("best", "bname")


class DemucsParser(LineParser):
    name = "demucs"
    title = "Demucs solver training log"
    recognises = "'Train Summary | Epoch 1 | Loss=0.2019 | Reco=0.1994' and 'Valid Summary | Epoch 1 | Loss=...' lines"
    priority = 30
    sniff_pattern = _SNIFF

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        rows = (regex_pairs(matching(lines, _SUMMARY).with_columns(
                    pl.col("1").replace_strict(_SPLIT, return_dtype=pl.String).alias("split"),
                    pl.col("2").cast(pl.Int64).alias("step")), "3", _PAIR, ["lineno", "split", "step"])
                .with_columns(pl.col("name").str.strip_chars())
                .filter(~pl.col("name").str.to_lowercase().is_in(_SKIP)))
        names = rows.get_column("name").unique(maintain_order=True).to_list()
        metric = {n: canonical_metric(snake_case(n)) for n in names}
        long = rows.sort("lineno", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), "split",
            pl.col("name").replace_strict(metric, return_dtype=pl.String).alias("metric"), "name", "step",
            pl.col("step").cast(pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            "value", "lineno")
        meta: dict[str, object] = {"x_axis": "epoch", "epoch_base": 1}
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [DemucsParser()]
