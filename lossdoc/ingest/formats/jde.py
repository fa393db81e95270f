"""JDE (``Zhongdao/Towards-Realtime-MOT``, Joint Detection and Embedding) ``train.py`` log: a table of running
epoch means under an ``Epoch Batch ...`` header, through Python logging.

Checked with ``read_file`` against ``Zhongdao/Towards-Realtime-MOT`` ``train.py`` (stored version 06db3a2;
docs/formats-reference.md §10t): each epoch logs the header ``('%8s%12s' + '%10s' * 6) % ('Epoch', 'Batch', 'box',
'conf', 'id', 'total', 'nTargets', 'time')`` and every ``--print-interval`` batches the row
``('%8s%12s' + '%10.3g' * 6) % ('%g/%g' % (epoch, epochs - 1), '%g/%g' % (i, len(dataloader) - 1), rloss['box'],
rloss['conf'], rloss['id'], rloss['loss'], rloss['nT'], time.time() - t0)``, where ``rloss`` is the running mean
of the epoch so far (``(rloss * ui + components) / (ui + 1)``); ``total`` is the loss (the uncertainty-weighted
sum, which can be negative), ``box``/``conf``/``id`` its parts. The logger's format is
``'%(asctime)s [%(levelname)s]: %(message)s'``. Sample::

    2021-01-25 05:58:00 [INFO]:    Epoch       Batch       box      conf        id     total  nTargets      time
    2021-01-25 05:58:59 [INFO]:     0/29       0/165     0.227      2.06        19       158        83      59.6
    2021-01-25 07:41:19 [INFO]:     1/29     160/165    0.0311    0.0686        15        -6      82.1      6.91

Read as ``yolo-console`` reads YOLOv7's rows of running means: the last row of each epoch is the epoch's mean
training loss, one point per epoch (the epoch 0-based as written) and column, the columns named by the header
above the row (``total`` -> ``loss``; ``box``, ``conf``, ``id`` -> ``box_loss``, ``conf_loss``, ``id_loss``);
``nTargets`` (targets per batch) and ``time`` (seconds per batch) are not read.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, last_run_result, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.text import LOG_NUMBER, to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric, snake_case

_NUM = LOG_NUMBER
_HEADER = r"(?:^|\s)Epoch\s+Batch((?:\s+[A-Za-z][\w@./-]*)+)\s*$"
_ROW = rf"(?:^|\s)(\d+)/(\d+)\s+(\d+)/(\d+)((?:\s+{_NUM})+)\s*$"
_SNIFF_HEADER = re.compile(r"(?:^|\s)Epoch\s+Batch\s+box\s+conf\s+id\s+total\s+nTargets\s+time\s*$", re.M)
_SNIFF_ROW = re.compile(rf"\s\d+/\d+\s+\d+/\d+(?:\s+{_NUM}){{6}}\s*$", re.M)
_SKIP = ("ntargets", "time")
_PARTS = ("box", "conf", "id")


def _metric(name: str) -> str:
    low = name.lower()
    if low == "total":
        return "loss"
    return f"{low}_loss" if low in _PARTS else canonical_metric(snake_case(name))


class JDEParser(Parser):
    name = "jde"
    title = "JDE (Towards-Realtime-MOT) train.py log"
    recognises = ("'Epoch Batch box conf id total nTargets time' header and '0/29  40/165  0.227  2.06  19  158  83  "
                  "59.6' rows of running epoch means (Zhongdao/Towards-Realtime-MOT train.py)")
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        if _SNIFF_HEADER.search(inp.head_text()) is None and _SNIFF_HEADER.search(inp.tail_text() or "") is None:
            return 0.0
        return line_confidence(inp, _SNIFF_ROW, strong=0.9, weak=0.6)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = drop_torn_tail(inp, read_text_lines(inp, notes), notes)
        line = pl.col("line")
        # every row takes the column names of the header above it
        lines = lines.with_columns(line.str.extract(_HEADER, 1).str.strip_chars().forward_fill().alias("_names"))
        rows = (lines.filter(line.str.contains(_ROW) & pl.col("_names").is_not_null())
                .with_columns(line.str.extract_groups(_ROW).alias("_g")).unnest("_g")
                .with_columns(pl.col("1").cast(pl.Int64, strict=False).alias("step"),
                              pl.col("3").cast(pl.Int64, strict=False).alias("_b"),
                              pl.col("5").str.extract_all(_NUM).alias("_v"),
                              pl.col("_names").str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
                              .alias("_n")))
        bad = rows.filter(pl.col("_v").list.len() != pl.col("_n").list.len())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} row(s) whose number of values differs from the "
                                    "header's columns; skipped", line=int(bad.get_column("lineno")[0]), count=bad.height))
            rows = rows.filter(pl.col("_v").list.len() == pl.col("_n").list.len())
        # the epoch's last row holds its running mean over the whole epoch (a restarted epoch: its last stretch's)
        last = (rows.with_columns((pl.col("step") != pl.col("step").shift(1)).fill_null(True).cum_sum().alias("_run"))
                .group_by("_run").agg(pl.all().sort_by("lineno").last()).sort("lineno"))
        long = (last.select("lineno", "step", "_n", "_v").explode("_n", "_v")
                .filter(~pl.col("_n").str.to_lowercase().is_in(_SKIP))
                .rename({"_n": "name"}).with_columns(to_float(pl.col("_v")).alias("value")))
        names = long.get_column("name").unique(maintain_order=True).to_list()
        metric = {n: _metric(n) for n in names}
        long = long.select(
            pl.lit(inp.run_name).alias("run"), pl.lit("train").alias("split"),
            pl.col("name").replace_strict(metric, return_dtype=pl.String).alias("metric"), "name", "step",
            pl.col("step").cast(pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            "value", "lineno")
        return last_run_result(long, lines, notes)


PARSERS = [JDEParser()]
