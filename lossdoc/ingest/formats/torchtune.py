"""torchtune ``DiskLogger`` / ``StdoutLogger`` metric lines.

Checked against docs/formats-reference.md §10d (``pytorch/torchtune`` ``torchtune/training/metric_logging.py``
``DiskLogger.log`` / ``log_dict``: ``f"Step {step} | "`` then ``f"{name}:{data} "`` per item;
``recipes/full_finetune_single_device.py`` ``train``: ``loss``, ``lr``,
``tokens_per_second_per_gpu``, ``grad_norm`` (a tensor, printed as ``tensor(0.8123, device='cuda:0')``),
``peak_memory_*``). Sample::

    Step 1 | loss:1.9731 lr:2e-05 tokens_per_second_per_gpu:2301.4 grad_norm:tensor(1.2345, device='cuda:0')
    Step 2 | loss:1.8512 lr:2e-05 tokens_per_second_per_gpu:2345.67 grad_norm:tensor(0.8123, device='cuda:0')
    Step 3 | loss:nan lr:2e-05 tokens_per_second_per_gpu:2360.1 grad_norm:tensor(nan, device='cuda:0')

Axis: ``global_step`` (optimizer steps, 1-based). Every value is split ``train``;
``tokens_per_second_per_gpu`` is ``throughput``. A tensor's first argument is its value.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, map_keys, read_text_lines, split_pairs
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric

_LINE = r"^Step (\d+) \| (.*)$"
_TENSOR_ANY = r"tensor\(\s*([^,)\s]+)[^)]*\)"
_SNIFF = re.compile(r"^Step \d+ \| [A-Za-z_][\w./-]*:\S", re.M)
_NAME = re.compile(r"^log_\d+\.txt$")


def classify(key: str) -> tuple[str, str] | None:
    if key in ("tokens_per_second_per_gpu", "tokens_per_second"):
        return "train", "throughput"
    return "train", canonical_metric(key)


class TorchtuneParser(Parser):
    name = "torchtune"
    title = "torchtune DiskLogger / StdoutLogger"
    recognises = "'Step N | loss:X lr:Y tokens_per_second_per_gpu:Z grad_norm:tensor(...)' lines (log_<ts>.txt)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, _SNIFF, strong=0.9, weak=0.7,
                               named=lambda name: bool(_NAME.match(name.rsplit("/", 1)[-1])))

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        recs = (
            lines.filter(line.str.starts_with("Step "))
            .select("lineno", line.str.extract_groups(_LINE).alias("_g"))
            .unnest("_g")
            .select("lineno", pl.col("1").cast(pl.Int64, strict=False).alias("step"),
                    # tensor(0.81, device='cuda:0') -> 0.81, so that items split on spaces
                    pl.col("2").str.replace_all(_TENSOR_ANY, "${1}").alias("body"))
            .filter(pl.col("step").is_not_null())
        )
        kv = split_pairs(recs, "body", item_sep=" ", kv_sep=":")
        keymap = map_keys(kv.get_column("key").unique(maintain_order=True).to_list(), classify)
        mapping = pl.DataFrame({"key": list(keymap), "split": [v[0] for v in keymap.values()],
                                "metric": [v[1] for v in keymap.values()]}, schema={"key": pl.String,
                                "split": pl.String, "metric": pl.String})
        long = kv.join(mapping, on="key", how="inner").select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"), "step",
            pl.lit(None, dtype=pl.Float64).alias("epoch"), pl.lit(None, dtype=pl.Float64).alias("wall_time"),
            to_float(pl.col("raw")).alias("value"), "lineno",
        )
        return ParseResult(finish(long, notes), notes, {"x_axis": "global_step"})


PARSERS = [TorchtuneParser()]
