"""MMEngine ``vis_data/scalars.json`` (OpenMMLab 2.x: MMDetection 3.x, MMSeg 1.x, MMPretrain...).

Checked against docs/formats-reference.md §10c (``open-mmlab/mmengine``
``mmengine/visualization/vis_backend.py`` ``LocalVisBackend.add_scalars``: one JSON object per
line, ``step`` added with ``setdefault``; ``mmengine/hooks/logger_hook.py``: train records at
``runner.iter + 1``, validation records at ``step=runner.epoch`` for epoch-based loops, else
``runner.iter``) and the real file ``mmengine/dieg0bri-maskrcnn/scalars.json`` of the real logs (``tests/ingest/test_real_logs.py``). Sample::

    {"lr": 0.02, "data_time": 0.0123, "loss": 1.2345, "loss_cls": 0.6789, "time": 0.5123, "epoch": 1, "iter": 50, "memory": 3456, "step": 50}
    {"lr": 0.02, "data_time": 0.0101, "loss": 1.1011, "loss_cls": 0.6011, "time": 0.5101, "epoch": 1, "iter": 100, "memory": 3456, "step": 100}
    {"coco/bbox_mAP": 0.374, "coco/bbox_mAP_50": 0.571, "data_time": 0.002, "time": 0.0456, "step": 1}

Train records (those with ``loss`` / ``lr`` / ``iter``) are split ``train``; every other record is a
validation record (split ``val``; ``coco/bbox_mAP`` -> metric ``coco_bbox_map``). In an
epoch-based run a validation record's ``step`` is an epoch number while train steps are
iterations; so that both sit on one axis the validation row gets ``epoch`` = its logged step and
``step`` = the iteration that epoch ended at (``epoch * iterations_per_epoch`` when the train
records show a constant epoch length, else the last train step logged before it), with a note.
JSON is read with vectorised regexes (``NaN`` / ``Infinity`` tokens kept as values).
"""

from __future__ import annotations

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
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

#: keys that are the axis, not metrics
_AXIS = {"step", "epoch", "iter"}
_TRAIN_MARKERS = ('"loss"', '"lr"', '"iter"', '"loss_')


def sniff_scalars(inp: InputFile) -> bool:
    head = inp.head_text(16384)
    lines = [ln for ln in head.splitlines() if ln.strip()][:5]
    if not lines or not all(ln.lstrip().startswith("{") for ln in lines[:-1] or lines):
        return False
    first = lines[0]
    return '"step"' in first and '"time"' in first and '"data_time"' in first and '"mode"' not in first


def classify_train(key: str) -> tuple[str, str] | None:
    if key in _AXIS:
        return None
    return "train", readable_metric(key)


def classify_val(key: str) -> tuple[str, str] | None:
    if key in _AXIS:
        return None
    return "val", readable_metric(key)


class MMEngineParser(Parser):
    name = "mmengine"
    title = "MMEngine vis_data/scalars.json"
    recognises = "JSON lines with 'step', 'data_time', 'time' (train: loss, lr; val: coco/bbox_mAP...)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        if not sniff_scalars(inp):
            return 0.0
        name = inp.inner_name.lower()
        if name.endswith("scalars.json") or "vis_data" in inp.name.replace("\\", "/"):
            return 0.95
        return 0.8

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = lines.filter(pl.col("line").str.strip_chars() != "")
        lines = drop_torn_tail(inp, lines, notes, "record")
        line = pl.col("line").str.strip_chars()
        bad = lines.filter(~(line.str.starts_with("{") & line.str.ends_with("}")))
        if bad.height:  # a corrupt line: skip it, keep the rest
            notes.append(IngestNote("skipped_lines", f"{bad.height} line(s) that are not a JSON object skipped",
                                    line=int(bad.get_column("lineno")[0]), count=bad.height))
            lines = lines.filter(line.str.starts_with("{") & line.str.ends_with("}"))
        lines = lines.with_columns(
            pl.any_horizontal(*[pl.col("line").str.contains(m, literal=True) for m in _TRAIN_MARKERS]).alias("_train")
        )
        pairs = json_pairs(lines)
        axis = pairs.filter(pl.col("key").is_in(["step", "epoch"])).pivot(
            on="key", index="lineno", values="raw", aggregate_function="first"
        )
        for k in ("step", "epoch"):
            if k not in axis.columns:
                axis = axis.with_columns(pl.lit(None, dtype=pl.String).alias(k))
        axis = axis.select(
            "lineno",
            to_float(pl.col("step")).cast(pl.Int64, strict=False).alias("_step"),
            to_float(pl.col("epoch")).alias("_epoch"),
        )
        recs = lines.select("lineno", "_train").join(axis, on="lineno", how="left").sort("lineno")
        train = recs.filter(pl.col("_train"))
        val = recs.filter(~pl.col("_train"))
        meta: dict[str, object] = {}
        val_axis = val.select("lineno", pl.col("_step").alias("step"), pl.lit(None, dtype=pl.Float64).alias("epoch"))
        epoch_based = train.height > 0 and train.get_column("_epoch").is_not_null().any()
        if val.height and epoch_based:
            val_axis, note, ipe = _place_val_rows(train, val)
            notes.append(note)
            if ipe is not None:
                meta["iterations_per_epoch"] = ipe
        train_axis = train.select("lineno", pl.col("_step").alias("step"), pl.col("_epoch").alias("epoch"))
        t_keys = pairs.filter(pl.col("_train")).get_column("key").unique(maintain_order=True).to_list()
        v_keys = pairs.filter(~pl.col("_train")).get_column("key").unique(maintain_order=True).to_list()
        t_map = map_keys(t_keys, classify_train)
        v_map = map_keys(v_keys, classify_val)
        frames = []
        for sub, keymap, ax in ((pairs.filter(pl.col("_train")), t_map, train_axis),
                                (pairs.filter(~pl.col("_train")), v_map, val_axis)):
            if not keymap:
                continue
            mapping = pl.DataFrame(
                {"key": list(keymap), "split": [v[0] for v in keymap.values()],
                 "metric": [v[1] for v in keymap.values()]}
            )
            frames.append(
                sub.join(mapping, on="key", how="inner")
                .join(ax, on="lineno", how="left")
                .select(
                    pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"),
                    "step", "epoch", pl.lit(None, dtype=pl.Float64).alias("wall_time"),
                    to_float(pl.col("raw")).alias("value"), "lineno",
                )
            )
        long = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
        return ParseResult(finish(long, notes, "record"), notes, meta)


def _place_val_rows(train: pl.DataFrame, val: pl.DataFrame) -> tuple[pl.DataFrame, IngestNote, int | None]:
    """Validation rows of an epoch-based run: epoch = logged step, step = iteration at that epoch's end."""
    firsts = (
        train.filter(pl.col("_epoch").is_not_null() & pl.col("_step").is_not_null())
        .group_by("_epoch").agg(pl.col("_step").min().alias("first")).sort("_epoch")
    )
    ipe: int | None = None
    if firsts.height >= 2:
        d = firsts.select((pl.col("first").diff() / pl.col("_epoch").diff()).alias("d")).get_column("d").drop_nulls()
        if d.n_unique() == 1 and d[0] > 0 and float(d[0]).is_integer():
            ipe = int(d[0])
    # The last train step logged before each validation record (file order).
    prev = (
        pl.concat([train.select("lineno", pl.col("_step").alias("_t")),
                   val.select("lineno", pl.lit(None, dtype=pl.Int64).alias("_t"))])
        .sort("lineno").with_columns(pl.col("_t").forward_fill().alias("_prev"))
    )
    out = val.join(prev.select("lineno", "_prev"), on="lineno", how="left")
    if ipe is not None:
        step = (pl.col("_step") * ipe).cast(pl.Int64)
        how = f"epoch x {ipe} iterations per epoch (the spacing of the train records)"
    else:
        step = pl.col("_prev")
        how = "the last train step logged before it"
    out = out.select("lineno", step.alias("step"), pl.col("_step").cast(pl.Float64).alias("epoch"))
    note = IngestNote(
        "inferred",
        f"validation records are logged at step = epoch; placed them on the iteration axis at {how}",
    )
    return out, note, ipe


PARSERS = [MMEngineParser()]
