"""LLaMA-Factory ``trainer_log.jsonl`` (``hiyouga/LLaMA-Factory`` ``src/llamafactory/train/callbacks.py``
``LogCallback.on_log``: one JSON object per log with ``current_steps``, ``total_steps``, the Trainer's
logs (``loss``, ``lr``, ``epoch``, ``eval_loss``, ``accuracy``, ``rewards/...``), ``percentage``,
``elapsed_time``, ``remaining_time``). Sample::

    {"current_steps": 10, "total_steps": 5100, "loss": 0.6491, "lr": 9.8e-06, "epoch": 0.02, "percentage": 0.2, "elapsed_time": "0:01:03", "remaining_time": "3 days, 17:51:32"}
    {"current_steps": 100, "total_steps": 5100, "eval_loss": 0.5912, "epoch": 0.2, "percentage": 1.96, "elapsed_time": "0:10:02", "remaining_time": "8:16:40"}

Axis: ``current_steps`` (optimizer steps); ``total_steps`` is the planned length (``meta``). Keys are
split like the Trainer's (``eval_`` -> val); progress fields are not metrics.
"""

from __future__ import annotations

import io
import re

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.formats._common import map_keys
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.model import IngestNote, ParseResult, concat_frames, split_and_metric

_SNIFF = re.compile(r'^\{"current_steps": \d+, "total_steps": \d+', re.M)
_PROGRESS = {"current_steps", "total_steps", "percentage", "elapsed_time", "remaining_time", "epoch",
             "throughput", "total_tokens"}


def classify(key: str) -> tuple[str, str] | None:
    if key in _PROGRESS:
        return None
    if key.startswith("predict_"):
        return "test", split_and_metric(key[len("predict_"):])[1]
    return split_and_metric(key)


def _drop_after_training(df: pl.DataFrame, notes: list[IngestNote]) -> pl.DataFrame:
    """The records of an evaluation (or prediction) run after training, left out of the curves, their values noted.

    Outside training, ``LogCallback.on_prediction_step`` counts the evaluation's own batches: ``max_steps =
    len(eval_dataloader)``, ``cur_steps += 1`` per batch (``callbacks.py``, ``not self.in_training``), so the
    ``eval_loss`` that ``do_eval`` logs after training sits at ``current_steps`` 8 of ``total_steps`` 8 below a
    run that ended at step 720 of 720. Read as a point it was the run's counter going back to its start, laid end
    to end at step 800 (CoderJzy/llm, a LLaMA-Factory LoRA run): an evaluation step that never happened. Such a
    record is one after the last training record (one with ``loss``) whose ``total_steps`` is not the run's."""
    if "loss" not in df.columns or "total_steps" not in df.columns:
        return df
    idx = df.with_row_index("_i")
    train = idx.filter(pl.col("loss").is_not_null())
    if train.height == 0:
        return df
    last = int(train.get_column("_i").max())  # type: ignore[arg-type]
    total = train.get_column("total_steps").drop_nulls()
    if total.len() == 0:
        return df
    planned = int(total.max())  # type: ignore[arg-type]
    later = (pl.col("_i") > last) & pl.col("total_steps").is_not_null() & (pl.col("total_steps") != planned)
    after = idx.filter(later)
    if after.height == 0:
        return df
    shown = []
    for c in after.columns:
        if c in _PROGRESS or c == "_i" or not after.schema[c].is_numeric():
            continue
        vals = after.get_column(c).drop_nulls()
        if vals.len():
            shown.append(f"{c} {float(vals[-1]):.4g}")
    first = int(after.get_column("_i").min()) + 1  # type: ignore[arg-type]
    notes.append(IngestNote(
        "other", f"{after.height} record(s) after training count an evaluation's own batches (total_steps "
        f"{int(after.get_column('total_steps')[0])}, not the run's {planned}): the evaluation run after training, "
        f"not a point of the curves" + (f" ({', '.join(shown[:4])} at its end)" if shown else ""), line=first))
    return idx.filter(~later).drop("_i")


class LlamaFactoryParser(Parser):
    name = "llamafactory"
    title = "LLaMA-Factory trainer_log.jsonl"
    recognises = "trainer_log.jsonl: '{\"current_steps\": N, \"total_steps\": M, \"loss\": ..., \"lr\": ...}' records"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _SNIFF, strong=0.95, weak=0.8, named=lambda name: name == "trainer_log.jsonl")

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        data = inp.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            notes.append(IngestNote("torn_tail", "last record has no line ending (still being written?); ignored",
                                    line=data.count(b"\n", 0, cut) + 1))
            data = data[:cut]
        if not data.strip():
            raise EmptyInputError("no JSON records", path=inp.name)
        try:
            df = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
        except pl.exceptions.PolarsError as exc:
            raise ParseError(f"not JSON Lines: {exc}".splitlines()[0], path=inp.name) from None
        if "current_steps" not in df.columns:
            raise ParseError("no 'current_steps' in the records", path=inp.name)
        df = _drop_after_training(df, notes)
        numeric = [c for c, t in df.schema.items() if t.is_numeric()]
        cols = map_keys([c for c in numeric if c not in _PROGRESS], classify)
        step = pl.col("current_steps").cast(pl.Int64)
        epoch = pl.col("epoch").cast(pl.Float64) if "epoch" in df.columns else pl.lit(None, dtype=pl.Float64)
        frames = [df.filter(pl.col(c).is_not_null()).select(
            pl.lit(inp.run_name).alias("run"), pl.lit(sp).alias("split"), pl.lit(m).alias("metric"),
            pl.lit(c).alias("name"), step.alias("step"), epoch.alias("epoch"),
            pl.col(c).cast(pl.Float64).alias("value")) for c, (sp, m) in cols.items()]
        frame = concat_frames(frames)
        meta: dict[str, object] = {"x_axis": "current_steps"}
        if "total_steps" in df.columns and df.get_column("total_steps").drop_nulls().len():
            meta["total_steps"] = int(df.get_column("total_steps").max())  # type: ignore[arg-type]
        return ParseResult(frame, notes, meta)


PARSERS = [LlamaFactoryParser()]
