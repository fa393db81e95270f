"""pytorch-CycleGAN-and-pix2pix ``loss_log.txt`` (``junyanz/pytorch-CycleGAN-and-pix2pix``
``util/visualizer.py`` ``Visualizer.print_current_losses``: ``'(epoch: %d, iters: %d, time: %.3f, data:
%.3f) '`` then ``'%s: %.3f '`` per loss; ``Visualizer.__init__`` writes ``'================ Training Loss
(%s) ================'`` at every start). Used as is by its many forks (CUT, pix2pixHD-style repos).
Sample::

    ================ Training Loss (Wed Aug 23 13:29:28 2023) ================
    (epoch: 1, iters: 100, time: 0.092, data: 0.154) D_A: 0.508 G_A: 0.182 cycle_A: 1.943 idt_A: 0.142
    (epoch: 1, iters: 200, time: 0.092, data: 0.002) D_A: 0.212 G_A: 0.270 cycle_A: 1.712 idt_A: 0.518

``iters`` counts images within the epoch (``epoch_iter``): the step is ``(epoch - first epoch) x
images per epoch + iters``, the images per epoch being the largest ``iters`` printed in an epoch (an
estimate, noted). Every printed loss is a component loss of the training split, named ``<name>_loss``
(``D_A`` -> ``d_a_loss``, pix2pix ``G_GAN`` -> ``g_gan_loss``); ``time`` (s per image) and ``data``
(loading time) are kept as ``time_per_image`` and ``data_time``. A new header is a new training
session: a restarted run shows as steps going back (noted by the normaliser).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, snake_case

#: ``data:`` came later (pix2pix before it, and DeblurGAN built on that version, print epoch, iters and time only)
_LINE = r"^\(epoch: (\d+), iters: (\d+), time: ([^,)]+)(?:, data: ([^)]+))?\) (.*)$"
#: a loss name may join two terms with '+' (DeblurGAN's ``D_real+fake``)
_PAIR = r"([A-Za-z_][\w.+]*): (\S+)"
_SNIFF = re.compile(r"^\(epoch: \d+, iters: \d+, time: [-\d.]+(?:, data: [-\d.]+)?\) \w+: ", re.M)
_HEADER = re.compile(r"^=+ Training Loss \(", re.M)


class CycleGANParser(Parser):
    name = "cyclegan"
    title = "pytorch-CycleGAN-and-pix2pix loss_log.txt"
    recognises = "'(epoch: 1, iters: 100, time: 0.092, data: 0.154) D_A: 0.508 G_A: 0.182 ...' lines (loss_log.txt)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        n = len(_SNIFF.findall(head))
        if n >= 2 or (n and _HEADER.search(head)):
            return 0.95
        return 0.7 if n else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        recs = (
            lines.filter(line.str.starts_with("(epoch: "))
            .select("lineno", line.str.extract_groups(_LINE).alias("_g")).unnest("_g")
            .select("lineno", pl.col("1").cast(pl.Int64, strict=False).alias("ep"),
                    pl.col("2").cast(pl.Int64, strict=False).alias("it"),
                    to_float(pl.col("3")).alias("time_per_image"), to_float(pl.col("4")).alias("data_time"),
                    pl.col("5").alias("body"))
            .filter(pl.col("ep").is_not_null() & pl.col("it").is_not_null())
        )
        per = int(recs.select(pl.col("it").max()).item() or 0) if recs.height else 0
        e0 = int(recs.select(pl.col("ep").min()).item() or 0) if recs.height else 0
        recs = recs.with_columns(((pl.col("ep") - e0) * per + pl.col("it")).alias("step"),
                                 pl.col("ep").cast(pl.Float64).alias("epoch"))
        if recs.height:
            notes.append(IngestNote("inferred", f"'iters' restarts every epoch: step = (epoch - {e0}) x {per} + iters "
                                    f"({per} images per epoch, the largest 'iters' printed)"))
        kv = (recs.select("lineno", "step", "epoch", pl.col("body").str.extract_all(_PAIR).alias("p"))
              .explode("p").drop_nulls("p")
              .select("lineno", "step", "epoch", pl.col("p").str.extract_groups(_PAIR).alias("g")).unnest("g")
              .rename({"1": "key", "2": "raw"}))
        keys = kv.get_column("key").unique(maintain_order=True).to_list()
        mapping = pl.DataFrame({"key": keys, "metric": [f"{snake_case(k)}_loss" for k in keys]},
                               schema={"key": pl.String, "metric": pl.String})
        losses = kv.join(mapping, on="key", how="left").select(
            "lineno", "step", "epoch", pl.col("key").alias("name"), "metric", to_float(pl.col("raw")).alias("value"))
        timing = [recs.filter(pl.col(n).is_not_null()).select(
            "lineno", "step", "epoch", pl.lit(n).alias("name"), pl.lit(n).alias("metric"), pl.col(n).alias("value"))
            for n in ("time_per_image", "data_time")]
        long = pl.concat([losses, *timing], how="vertical_relaxed").select(
            pl.lit(inp.run_name).alias("run"), pl.lit("train").alias("split"), "metric", "name", "step", "epoch",
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno",
        ).sort("lineno", maintain_order=True)
        return ParseResult(finish(long, notes), notes, {"x_axis": "images"})


PARSERS = [CycleGANParser()]
