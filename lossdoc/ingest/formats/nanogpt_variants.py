"""Logs of two nanoGPT descendants: KellerJordan/modded-nanogpt and karpathy/build-nanogpt.

**modded-nanogpt** (checked with the search tool against ``KellerJordan/modded-nanogpt``
``train_gpt.py`` at commit 93f0e6b9: ``print0(f"step:{step}/{train_steps} val_loss:{val_loss:.4f}
train_time:{training_time_ms:.0f}ms step_avg:{training_time_ms/max(step, 1):.2f}ms")`` and
``print0(f"step:{step+1}/{train_steps} train_time:{approx_training_time_ms:.0f}ms
step_avg:{approx_training_time_ms/(step + 1):.2f}ms")``; earlier records also print
``train_loss:{:.4f}`` and some forks ``train_time:{:.3f}s`` or ``val_bpb``). The log file starts with
the script's own source code, which is ignored. Sample::

    step:0/1750 val_loss:10.8258 train_time:0ms step_avg:0.03ms
    step:1/1750 train_time:25ms step_avg:25.41ms
    step:125/1750 val_loss:4.2918 train_time:10744ms step_avg:85.95ms

Every ``key:value`` after ``step:N/M`` is read: ``val_*`` keys are split ``val``, ``train_loss``
``train``/``loss``; ``train_time`` becomes ``wall_time`` (seconds); ``step_avg`` is ``step_avg_ms``
(taken from training lines only); ``meta["total_steps"]`` is ``M``.

**build-nanogpt** (checked against ``karpathy/build-nanogpt`` ``train_gpt2.py``, the final
version found by the search tool: ``print(f"step {step:5d} | loss: {loss_accum.item():.6f} | lr
{lr:.4e} | norm: {norm:.4f} | dt: {dt*1000:.2f}ms | tok/sec: {tokens_per_sec:.2f}")``,
``print(f"validation loss: {val_loss_accum.item():.4f}")``,
``print(f"HellaSwag accuracy: {num_correct_norm}/{num_total}={acc_norm:.4f}")`` and the ``log.txt``
lines ``f"{step} train {loss:.6f}"``, ``f"{step} val {loss:.4f}"``, ``f"{step} hella {acc:.4f}"``).
Samples::

    step     0 | loss: 10.955042 | lr 8.3916e-07 | norm: 15.4079 | dt: 14342.57ms | tok/sec: 36554.48
    validation loss: 3.4207
    250 val 6.3913

In stdout, validation and HellaSwag values are printed at the top of a step before that step's
training line, so they take the step of the next ``step N |`` line.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, last_run_result, read_text_lines, readable_metric, split_pairs
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

# ---------------------------------------------------------------- modded-nanogpt
_M_LINE = r"^step:(\d+)/(\d+) (.*)$"
_M_SNIFF = re.compile(r"^step:\d+/\d+ (?:val_loss|train_loss|train_time|val_bpb):", re.M)
_M_SOURCE = re.compile(r'step:\{step(?:\+1)?\}/\{[\w.]+\} (?:val_loss|train_loss|train_time):')


def _m_classify(key: str) -> tuple[str, str] | None:
    if key == "train_time":
        return None
    if key == "step_avg":
        return "train", "step_avg_ms"
    if key in ("tok_s", "tokens_per_second"):
        return "train", "throughput"
    if key.startswith("val_"):
        return "val", readable_metric(key[4:])
    if key.startswith("train_"):
        return "train", readable_metric(key[6:])
    return "train", readable_metric(key)


class ModdedNanoGPTParser(Parser):
    name = "modded-nanogpt"
    title = "KellerJordan/modded-nanogpt log"
    recognises = "'step:N/M val_loss:X train_time:Yms step_avg:Zms' lines (after the script's source)"
    priority = 25

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        n = len(_M_SNIFF.findall(head))
        if n:
            return 0.95
        if _M_SOURCE.search(head):
            return 0.8  # the log opens with train_gpt.py's own source
        if len(_M_SNIFF.findall(inp.tail_text())) >= 2:
            return 0.9  # the step lines begin after a preamble longer than the head (torch._dynamo warnings)
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        recs = (
            lines.filter(line.str.starts_with("step:"))
            .select("lineno", line.str.extract_groups(_M_LINE).alias("_g"))
            .unnest("_g")
            .select("lineno", pl.col("1").cast(pl.Int64, strict=False).alias("step"),
                    pl.col("2").cast(pl.Int64, strict=False).alias("_total"), pl.col("3").alias("body"))
            .filter(pl.col("step").is_not_null())
        )
        recs = recs.with_columns(pl.col("body").str.contains(r"(?:^| )val_").alias("_is_val"))
        tok = pl.col("raw")
        kv = split_pairs(recs.select("lineno", "step", "_is_val", "body"), "body", item_sep=" ", kv_sep=":")
        kv = kv.with_columns(
            pl.when(tok.str.ends_with("ms")).then(pl.lit("ms")).when(tok.str.ends_with("s")).then(pl.lit("s"))
            .otherwise(None).alias("unit"),
            tok.str.strip_chars_end("ms%").alias("raw"),
        )
        seconds = (
            pl.when(pl.col("unit") == "ms").then(to_float(pl.col("raw")) / 1000.0).otherwise(to_float(pl.col("raw")))
        )
        wall = kv.filter(pl.col("key") == "train_time").select("lineno", seconds.alias("wall_time"))
        kv = kv.join(wall, on="lineno", how="left")
        # step_avg on validation lines repeats the training timing: keep the training lines' only.
        kv = kv.filter(~((pl.col("key") == "step_avg") & pl.col("_is_val")))
        keys = kv.get_column("key").unique(maintain_order=True).to_list()
        mapping = {k: _m_classify(k) for k in keys}
        mp = pl.DataFrame({"key": [k for k, v in mapping.items() if v], "split": [v[0] for v in mapping.values() if v],
                           "metric": [v[1] for v in mapping.values() if v]},
                          schema={"key": pl.String, "split": pl.String, "metric": pl.String})
        value = pl.when((pl.col("key") == "step_avg") & (pl.col("unit") == "s")).then(
            to_float(pl.col("raw")) * 1000.0).otherwise(to_float(pl.col("raw")))
        long = kv.join(mp, on="key", how="inner").select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", pl.col("key").alias("name"), "step",
            pl.lit(None, dtype=pl.Float64).alias("epoch"), "wall_time", value.alias("value"), "lineno",
        ).sort("lineno", maintain_order=True)
        meta: dict[str, object] = {}
        total = recs.get_column("_total").max()
        if total is not None:
            meta["total_steps"] = int(total)  # type: ignore[arg-type]
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


# ---------------------------------------------------------------- build-nanogpt
_B_LINE = r"^step\s+(\d+) \| (.*)$"
_B_VAL = r"^validation loss: (\S+)$"
_B_HELLA = r"^HellaSwag accuracy: \d+/\d+=(\S+)$"
_B_FILE = r"^(\d+) (train|val|hella) (\S+)$"
_B_SNIFF_STDOUT = re.compile(r"^step\s+\d+ \| loss: \S+ \| lr \S+ \| norm: ", re.M)
_B_SNIFF_FILE = re.compile(r"^\d+ (?:train|val|hella) [-+\w.]+$", re.M)

_B_KEYS = {
    "loss": ("train", "loss"),
    "lr": ("train", "lr"),
    "norm": ("train", "grad_norm"),
    "dt": ("train", "step_time_ms"),
    "tok/sec": ("train", "throughput"),
    "mfu": ("train", "mfu"),
}


class BuildNanoGPTParser(Parser):
    name = "build-nanogpt"
    title = "karpathy/build-nanogpt stdout and log.txt"
    recognises = "'step N | loss: X | lr Y | norm: Z | dt: Tms | tok/sec: S' lines, or log.txt 'N train X' / 'N val X'"
    priority = 25

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text().replace("\r\n", "\n")
        n = len(_B_SNIFF_STDOUT.findall(head))
        if n:
            return 0.9 if n >= 2 else 0.8
        lines = [ln for ln in head.splitlines()[:50] if ln.strip()]
        n_file = len(_B_SNIFF_FILE.findall(head))
        if lines and n_file >= max(2, int(0.9 * len(lines))):
            return 0.95 if inp.inner_name.lower().endswith("log.txt") else 0.85
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        run = inp.run_name
        # log.txt records
        rec = (
            lines.select("lineno", line.str.extract_groups(_B_FILE).alias("_g"))
            .unnest("_g")
            .select("lineno", pl.col("1").cast(pl.Int64, strict=False).alias("step"), pl.col("2").alias("kind"),
                    pl.col("3").alias("raw"))
            .filter(pl.col("kind").is_not_null())
        )
        file_rows = rec.with_columns(
            pl.col("kind").replace_strict({"train": "train", "val": "val", "hella": "val"}).alias("split"),
            pl.col("kind").replace_strict({"train": "loss", "val": "loss", "hella": "hellaswag_accuracy"})
            .alias("metric"),
            pl.col("kind").alias("name"),
        )
        # stdout
        steps = (
            lines.select("lineno", line.str.extract_groups(_B_LINE).alias("_g"))
            .unnest("_g")
            .select("lineno", pl.col("1").cast(pl.Int64, strict=False).alias("_s"), pl.col("2").alias("body"))
        )
        train_lines = steps.filter(pl.col("_s").is_not_null())
        # 'loss: X | lr Y | norm: Z | dt: Tms' -> items 'key value' (the colon is optional in the source)
        pairs = split_pairs(
            train_lines.select("lineno", pl.col("_s").alias("step"),
                               pl.col("body").str.replace_all(": ", " ", literal=True)),
            "body", item_sep=" | ", kv_sep=" ",
        ).select("lineno", "step", pl.col("key").alias("name"), pl.col("raw").str.strip_chars_end("ms%"))
        known = pl.DataFrame({"name": list(_B_KEYS), "split": [v[0] for v in _B_KEYS.values()],
                              "metric": [v[1] for v in _B_KEYS.values()]})
        pairs = pairs.join(known, on="name", how="inner")
        # validation / HellaSwag prints take the step of the next training line (else the previous one).
        evals = lines.select(
            "lineno",
            line.str.extract(_B_VAL, 1).alias("_v"),
            line.str.extract(_B_HELLA, 1).alias("_h"),
        ).join(steps.select("lineno", "_s"), on="lineno").with_columns(
            pl.coalesce(pl.col("_s").backward_fill(), pl.col("_s").forward_fill()).alias("step"))
        ev_rows = pl.concat([
            evals.filter(pl.col("_v").is_not_null()).select(
                "lineno", "step", pl.lit("val").alias("split"), pl.lit("loss").alias("metric"),
                pl.lit("validation loss").alias("name"), pl.col("_v").alias("raw")),
            evals.filter(pl.col("_h").is_not_null()).select(
                "lineno", "step", pl.lit("val").alias("split"), pl.lit("hellaswag_accuracy").alias("metric"),
                pl.lit("HellaSwag accuracy").alias("name"), pl.col("_h").alias("raw")),
        ])
        cols = ["lineno", "step", "split", "metric", "name", "raw"]
        allrows = pl.concat([file_rows.select(cols), pairs.select(cols), ev_rows.select(cols)], how="vertical_relaxed")
        long = allrows.select(
            pl.lit(run).alias("run"), "split", "metric", "name", "step", pl.lit(None, dtype=pl.Float64).alias("epoch"),
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), to_float(pl.col("raw")).alias("value"), "lineno",
        ).sort("lineno", maintain_order=True)
        return last_run_result(long, lines, notes)


PARSERS = [ModdedNanoGPTParser(), BuildNanoGPTParser()]
