"""KAIR (cszn/KAIR: DnCNN, DRUNet, MSRResNet, SwinIR, BSRGAN...) ``train.log``.

Checked with the search tool against ``main_train_psnr.py`` (and its GAN twin ``main_train_gan.py``): every
``checkpoint_print`` steps the trainer logs::

    message = '<epoch:{:3d}, iter:{:8,d}, lr:{:.3e}> '.format(epoch, current_step, model.current_learning_rate())
    for k, v in logs.items():
        message += '{:s}: {:.3e} '.format(k, v)

and every ``checkpoint_test`` steps one ``'{:->4d}--> {:>10s} | {:<4.2f}dB'`` line per test image, then
``'<epoch:{:3d}, iter:{:8,d}, Average PSNR : {:<.2f}dB'``. ``iter`` is ``current_step``, a global counter
printed with a thousands separator (``iter:  20,200``); on a resume it carries on from the last checkpoint while
``epoch`` starts again at 0, so the step is ``iter`` and never a per-epoch counter. ``logs`` holds the losses
(``G_loss``; a GAN model also ``F_loss``, ``D_loss``, and ``D_real``/``D_fake``, the discriminator's mean outputs,
not losses): each is read under its own name on the training split, ``lr`` as the learning rate, the average
PSNR of the test images as the validation split's ``psnr``. The per-image lines are not read."""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import last_run_result
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import LOG_NUMBER, matching, to_float
from lossdoc.model import IngestNote, ParseResult, snake_case

_HEAD = r"<epoch:\s*(\d+), iter:\s*([\d,]+), "
_TRAIN = _HEAD + rf"lr:\s*({LOG_NUMBER})>(.*)$"
_TEST = _HEAD + r"(Average .*)$"
_PAIR = rf"([A-Za-z_][\w]*): ({LOG_NUMBER})"
_AVERAGE = rf"Average ([A-Za-z]+)\s*:\s*({LOG_NUMBER})"
_SNIFF = re.compile(r"<epoch:\s*\d+, iter:\s*[\d,]+, lr:\s*[-+.\deE]+>", re.MULTILINE)


def _step(col: str) -> pl.Expr:
    return pl.col(col).str.replace_all(",", "", literal=True).cast(pl.Int64, strict=False)


class KAIRParser(LineParser):
    name = "kair"
    title = "KAIR (DnCNN, SwinIR, BSRGAN...) train.log"
    recognises = "'<epoch:  3, iter:  20,200, lr:1.000e-04> G_loss: 3.467e-02' lines (KAIR's main_train_*.py)"
    priority = 30
    sniff_pattern = _SNIFF
    strong = 0.95

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        train = matching(lines, _TRAIN).select(
            "lineno", _step("2").alias("step"), pl.col("1").cast(pl.Float64).alias("epoch"),
            to_float(pl.col("3")).alias("lr"), pl.col("4").alias("body"))
        pairs = (train.select("lineno", "step", "epoch", pl.col("body").str.extract_all(_PAIR).alias("p"))
                 .explode("p").drop_nulls("p")
                 .select("lineno", "step", "epoch", pl.col("p").str.extract_groups(_PAIR).alias("g")).unnest("g")
                 .select("lineno", "step", "epoch", pl.lit("train").alias("split"), pl.col("1").alias("name"),
                         to_float(pl.col("2")).alias("value")))
        lr = train.select("lineno", "step", "epoch", pl.lit("train").alias("split"), pl.lit("lr").alias("name"),
                          pl.col("lr").alias("value"))
        test = (matching(lines, _TEST)
                .select("lineno", _step("2").alias("step"), pl.col("1").cast(pl.Float64).alias("epoch"),
                        pl.col("3").str.extract_all(_AVERAGE).alias("p"))
                .explode("p").drop_nulls("p")
                .select("lineno", "step", "epoch", pl.lit("val").alias("split"),
                        pl.col("p").str.extract_groups(_AVERAGE).alias("g")).unnest("g")
                .select("lineno", "step", "epoch", "split", pl.col("1").alias("name"),
                        to_float(pl.col("2")).alias("value")))
        long = pl.concat([pairs, lr, test], how="vertical_relaxed")
        names = long.get_column("name").unique(maintain_order=True).to_list()
        metric = pl.DataFrame({"name": names, "metric": [snake_case(n) for n in names]},
                              schema={"name": pl.String, "metric": pl.String})
        long = (long.join(metric, on="name", how="left").sort("lineno", maintain_order=True)
                .select(pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step", "epoch",
                        pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno"))
        if long.height:
            notes.append(IngestNote("inferred", "KAIR's 'iter' is the global step (it carries on across epochs "
                                    "and resumes): read as the step, thousands separators removed"))
        return last_run_result(long, lines, notes)


PARSERS = [KAIRParser()]
