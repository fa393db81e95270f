"""MMCV 1.x ``<timestamp>.log.json`` (MMDetection 2.x, MMSeg 0.x, MMClassification 0.x...).

Checked against docs/formats-reference.md §10c (``open-mmlab/mmcv`` 1.x ``mmcv/runner/hooks/logger/text.py``
``TextLoggerHook.log`` / ``_dump_log``: JSON lines, floats rounded to 5 decimals, the first line
the run meta; ``mode`` is ``train`` or ``val``; ``epoch`` is 1-based and ``iter`` counts within
the epoch). Sample::

    {"env_info": "sys.platform: linux ...", "config": "...", "seed": 0, "exp_name": "faster_rcnn.py"}
    {"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02, "memory": 3456, "data_time": 0.01234, "loss_cls": 0.6789, "loss_bbox": 0.5556, "loss": 1.2345, "time": 0.5123}
    {"mode": "val", "epoch": 1, "iter": 7330, "lr": 0.02, "bbox_mAP": 0.374, "bbox_mAP_50": 0.571}

Global step: ``iter`` restarts every epoch, so ``step = (epoch - 1) * N + iter`` where ``N`` is
the largest ``iter`` logged in a train record (exact when the last logged iteration of an
epoch is the epoch's last one, otherwise the axis is compressed by less than one logging
interval per epoch, and always strictly increasing). Validation records are placed at the end of
their epoch (``epoch * N``); their ``lr`` (a repeat of the train value) is not kept. A note says
which ``N`` was used; ``meta["iterations_per_epoch"]`` holds it.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import (
    drop_torn_tail,
    finish,
    json_pairs,
    map_keys,
    read_text_lines,
    readable_metric,
)
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

_MODE = re.compile(r'^\{"mode": "(?:train|val)", "epoch": \d+, "iter": \d+', re.M)
_MODE_RE = r'"mode":\s*"(\w+)"'
_AXIS = {"mode", "epoch", "iter"}


def _classify(split: str):  # type: ignore[no-untyped-def]
    def f(key: str) -> tuple[str, str] | None:
        if key in _AXIS or (split == "val" and key in ("lr", "memory")):
            return None
        return split, readable_metric(key)

    return f


class MMCVParser(Parser):
    name = "mmcv"
    title = "MMCV 1.x *.log.json"
    recognises = "JSON lines {'mode': 'train'|'val', 'epoch': E, 'iter': I, ...} (name <timestamp>.log.json)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _MODE, strong=0.85, weak=0.7,
                               named=lambda name: name.lower().endswith(".log.json"))

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes).filter(pl.col("line").str.strip_chars() != "")
        lines = drop_torn_tail(inp, lines, notes, "record")
        line = pl.col("line").str.strip_chars()
        bad = lines.filter(~(line.str.starts_with("{") & line.str.ends_with("}")))
        if bad.height:  # a corrupt line: skip it, keep the rest
            notes.append(IngestNote("skipped_lines", f"{bad.height} line(s) that are not a JSON object skipped",
                                    line=int(bad.get_column("lineno")[0]), count=bad.height))
            lines = lines.filter(line.str.starts_with("{") & line.str.ends_with("}"))
        recs = lines.with_columns(pl.col("line").str.extract(_MODE_RE, 1).alias("mode")).filter(
            pl.col("mode").is_in(["train", "val"])
        )
        pairs = json_pairs(recs.select("lineno", "line"))
        axis = (
            pairs.filter(pl.col("key").is_in(["epoch", "iter"]))
            .pivot(on="key", index="lineno", values="raw", aggregate_function="first")
        )
        for k in ("epoch", "iter"):
            if k not in axis.columns:
                axis = axis.with_columns(pl.lit(None, dtype=pl.String).alias(k))
        axis = axis.select(
            "lineno",
            pl.col("epoch").cast(pl.Int64, strict=False).alias("_e"),
            pl.col("iter").cast(pl.Int64, strict=False).alias("_i"),
        )
        recs = recs.select("lineno", "mode").join(axis, on="lineno", how="left")
        n_iter = recs.filter(pl.col("mode") == "train").get_column("_i").max()
        meta: dict[str, object] = {}
        if n_iter is not None:
            ipe = int(n_iter)  # type: ignore[arg-type]
            meta["iterations_per_epoch"] = ipe
            notes.append(IngestNote(
                "inferred",
                f"MMCV logs the iteration within each epoch; step = (epoch - 1) x {ipe} + iter, with {ipe} the "
                "largest iteration logged in an epoch; validation records placed at epoch x "
                f"{ipe}",
            ))
        else:
            ipe = 0
        recs = recs.with_columns(
            pl.when(pl.col("mode") == "train")
            .then((pl.col("_e") - 1) * ipe + pl.col("_i"))
            .otherwise(pl.col("_e") * ipe if ipe else pl.col("_e"))
            .alias("step"),
            pl.col("_e").cast(pl.Float64).alias("epoch"),
        )
        frames = []
        for mode in ("train", "val"):
            sub = pairs.join(recs.filter(pl.col("mode") == mode).select("lineno", "step", "epoch"), on="lineno",
                             how="inner")
            keymap = map_keys(sub.get_column("key").unique(maintain_order=True).to_list(), _classify(mode))
            if not keymap:
                continue
            mapping = pl.DataFrame({"key": list(keymap), "split": [v[0] for v in keymap.values()],
                                    "metric": [v[1] for v in keymap.values()]})
            frames.append(
                sub.join(mapping, on="key", how="inner").select(
                    pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"), "step",
                    "epoch", pl.lit(None, dtype=pl.Float64).alias("wall_time"), to_float(pl.col("raw")).alias("value"),
                    "lineno",
                )
            )
        long = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
        return ParseResult(finish(long, notes, "record"), notes, meta)


PARSERS = [MMCVParser()]
