"""DeepSpeed stdout: engine progress, pipeline-engine loss lines and fp16 overflow messages.

Checked against docs/formats-reference.md §14 (``microsoft/DeepSpeed`` ``deepspeed/runtime/engine.py``
``_report_progress``: ``step={step}, skipped={skipped_steps}, lr={lr}, mom={mom}`` with Python lists
per param group, via ``log_dist(..., ranks=[0])`` which prefixes ``[Rank 0]``;
``deepspeed/runtime/pipe/engine.py`` ``train_batch``: ``steps: {global_steps} loss:
{agg_train_loss:0.4f} iter time (s): {iter_time:0.3f} samples/sec: {tput:0.3f}``;
``deepspeed/runtime/fp16/loss_scaler.py`` / ZeRO: ``[deepspeed] OVERFLOW! Rank 0 Skipping step.
Attempted loss scale: 65536, reducing to 32768``). Sample::

    [2024-05-01 10:00:00,123] [INFO] [logging.py:96:log_dist] [Rank 0] step=10, skipped=1, lr=[4.9e-05], mom=[(0.9, 0.999)]
    steps: 10 loss: 2.3456 iter time (s): 0.812 samples/sec: 78.818
    [2024-05-01 10:00:05,456] [INFO] [loss_scaler.py:183:update_scale] [deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768

Series (all ``train``): ``loss`` and ``iter_time_s`` / ``throughput`` (samples/sec) from
``steps:`` lines, plus any extra losses newer versions print between them (``moe_loss: 0.0123``); ``lr`` (first param group; ``lr_pg1``... for the others) and ``skipped_steps``
(the running count of skipped steps) from ``step=`` lines; ``loss_scale`` from OVERFLOW lines
(the reduced scale, at the last step logged before the overflow; one value per step, the last).
The overflow count is in a note and ``meta["overflow_count"]``. ``wall_time`` comes from the
logger timestamp where the line has one.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines, readable_metric
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

_TS = r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d+)\]"
_PROGRESS = r"step=(\d+), skipped=(\d+), lr=\[([^\]]*)\]"
# not anchored: multi-node launchers prefix each line with the host ("worker-0: steps: ...")
#: newer versions print extra losses between: "loss: 2.3 moe_loss: 0.01 iter time (s): ..."
_STEPS = r"(?:^|\s)steps: (\d+) loss: (\S+) (.*?)iter time \(s\): (\S+) samples/sec: (\S+)"
_EXTRA = r"([^\s:]+): (\S+)"
_OVERFLOW = r"OVERFLOW! .*?Attempted loss scale: ([^,\s]+), reducing to ([^,\s]+)"
_SNIFF_PROGRESS = re.compile(r"\[Rank \d+\] step=\d+, skipped=\d+, lr=\[", re.M)
_SNIFF_STEPS = re.compile(r"(?:^|\s)steps: \d+ loss: \S+ (?:[^\s:]+: \S+ )*iter time \(s\): ", re.M)


def _row(run: str, split: str, metric: str, name: str, step: pl.Expr, value: pl.Expr,
         wall: pl.Expr | None = None) -> list[pl.Expr]:
    return [
        pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
        pl.lit(name).alias("name"), step.alias("step"), pl.lit(None, dtype=pl.Float64).alias("epoch"),
        (wall if wall is not None else pl.lit(None, dtype=pl.Float64)).alias("wall_time"), value.alias("value"),
        pl.col("lineno"),
    ]


class DeepSpeedParser(Parser):
    name = "deepspeed"
    title = "DeepSpeed stdout"
    recognises = "'[Rank 0] step=N, skipped=K, lr=[...]' and 'steps: N loss: X iter time (s): ...' lines"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        n = len(_SNIFF_PROGRESS.findall(head)) + len(_SNIFF_STEPS.findall(head))
        if n >= 2:
            return 0.9
        return 0.75 if n else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        run = inp.run_name
        lines = lines.with_columns(
            (line.str.extract(_TS, 1).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.epoch("ms")
             .cast(pl.Float64) / 1000.0 + line.str.extract(_TS, 2).cast(pl.Float64, strict=False) / 1000.0)
            .alias("_wall")
        )
        prog = lines.filter(line.str.contains("skipped=", literal=True))
        g = prog.select(line.str.extract_groups(_PROGRESS).alias("_g")).unnest("_g")
        prog = prog.with_columns(
            g.get_column("1").cast(pl.Int64, strict=False).alias("_step"),
            g.get_column("2").alias("_skipped"),
            g.get_column("3").str.split(",").alias("_lrs"),
        ).filter(pl.col("_step").is_not_null())
        steps = lines.filter(line.str.contains("steps: ", literal=True))
        steps = pl.concat(
            [steps, steps.select(line.str.extract_groups(_STEPS).alias("_g")).unnest("_g")
             .rename({"1": "_g1", "2": "_g2", "3": "_extra", "4": "_g3", "5": "_g4"})],
            how="horizontal",
        ).filter(pl.col("_g1").is_not_null())
        over = lines.filter(line.str.contains("OVERFLOW!", literal=True)).with_columns(
            line.str.extract(_OVERFLOW, 2).alias("_scale"))
        frames = []
        s1 = pl.col("_g1").cast(pl.Int64, strict=False)
        frames.append(steps.select(_row(run, "train", "loss", "loss", s1, to_float(pl.col("_g2")))))
        frames.append(steps.select(_row(run, "train", "iter_time_s", "iter time (s)", s1, to_float(pl.col("_g3")))))
        frames.append(steps.select(_row(run, "train", "throughput", "samples/sec", s1, to_float(pl.col("_g4")))))
        extra = (
            steps.filter(pl.col("_extra").str.contains(":", literal=True))
            .select("lineno", s1.alias("_s"), pl.col("_extra").str.extract_all(_EXTRA).alias("_p"))
            .explode("_p")
            .select("lineno", "_s", pl.col("_p").str.extract_groups(_EXTRA).alias("_kv")).unnest("_kv")
        )
        for name in extra.get_column("1").unique(maintain_order=True).to_list():
            frames.append(extra.filter(pl.col("1") == name).select(
                _row(run, "train", readable_metric(name), name, pl.col("_s"), to_float(pl.col("2")))))
        st = pl.col("_step")
        frames.append(prog.select(_row(run, "train", "skipped_steps", "skipped", st, to_float(pl.col("_skipped")),
                                       pl.col("_wall"))))
        n_groups = int(prog.select(pl.col("_lrs").list.len().max()).item() or 0)
        for g in range(n_groups):
            frames.append(
                prog.filter(pl.col("_lrs").list.len() > g).select(
                    _row(run, "train", "lr" if g == 0 else f"lr_pg{g}", "lr" if g == 0 else f"lr[{g}]", st,
                         to_float(pl.col("_lrs").list.get(g)), pl.col("_wall")))
            )
        meta: dict[str, object] = {}
        if over.height:
            # Place each overflow at the last step logged before it (file order), one value per step.
            known = pl.concat([prog.select("lineno", pl.col("_step").alias("_k")),
                               steps.select("lineno", s1.alias("_k"))]).sort("lineno")
            placed = (
                pl.concat([known, over.select("lineno", pl.lit(None, dtype=pl.Int64).alias("_k"))])
                .sort("lineno").with_columns(pl.col("_k").forward_fill().fill_null(0).alias("_at"))
            )
            over = over.join(placed.select("lineno", "_at"), on="lineno", how="left")
            frames.append(
                over.group_by("_at", maintain_order=True).agg(pl.col("lineno").last(), pl.col("_scale").last(),
                                                              pl.col("_wall").last())
                .select(_row(run, "train", "loss_scale", "loss scale", pl.col("_at"), to_float(pl.col("_scale")),
                             pl.col("_wall")))
            )
            meta["overflow_count"] = over.height
            notes.append(IngestNote("other", f"{over.height} fp16 overflow(s): steps skipped and the loss scale "
                                             "reduced", line=int(over.get_column("lineno")[0]), count=over.height))
        long = pl.concat([f for f in frames if f.height], how="vertical_relaxed") if any(f.height for f in frames) \
            else pl.DataFrame()
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [DeepSpeedParser()]
