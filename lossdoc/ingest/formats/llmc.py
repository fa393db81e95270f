"""llm.c (``karpathy/llm.c``): the ``main.log`` written with ``-o DIR`` and the trainers' stdout.

Checked against ``llmc/logger.h`` (``logger_log_train`` / ``_val`` / ``_eval``), ``train_gpt2.cu``,
``train_gpt2.py`` and ``train_gpt2.c`` (FORMATS.md section 6). Samples::

    s:0 tel:11.0065                                  <- main.log: s: is 0-based, tel = val loss
    s:0 trl:11.0092 lr:0.000006 norm:15.43           <- trl = train loss (forks add more key:value)
    step    1/18865 | loss 11.009171 (+nanz)| norm 15.4312 (+nanz)| lr 6.00e-06 | 612.34 ms | ...   <- stdout

Axis: the 0-based step of ``main.log``. The CUDA/Python stdout prints ``step+1`` (1-based), so its
train lines are shifted back by one to land on the same steps as ``main.log``; its ``val loss`` lines
carry no step and are placed at the loop index they were printed at (the 0-based step of the next
train line, i.e. the printed step of the previous one), as ``main.log`` records them (an ``inferred``
note says so). ``train_gpt2.c`` prints 0-based ``step N: train loss X (took Y ms)``. ``-nan`` / ``nan``
(glibc ``%f``) are kept as NaN values.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import clean_head, load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, canonical_metric, concat_frames

_SNIFF_MAIN = re.compile(r"^s:\d+ (?:trl|tel|eval):[-+\w.]+", re.M)
_SNIFF_CUDA = re.compile(r"^step\s+\d+/\d+ \| (?:train )?loss [-+\w.]+", re.M)
_SNIFF_C = re.compile(r"^step \d+: train loss [-+\w.]+ \(took [\d.]+ ms\)", re.M)
_SNIFF_VAL = re.compile(r"^val loss [-+\w.]+\s*$", re.M)

# main.log keys -> (split, metric)
_MAIN_KEYS: dict[str, tuple[str, str]] = {
    "trl": ("train", "loss"),
    "tel": ("val", "loss"),
    "eval": ("val", "hellaswag_accuracy"),
    "lr": ("train", "lr"),
    "norm": ("train", "grad_norm"),
}


class LlmcParser(Parser):
    name = "llmc"
    title = "llm.c main.log and stdout"
    recognises = "main.log 's:N trl:X' / 's:N tel:X' lines; stdout 'step N/T | loss X ...' and 'val loss X'"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        head = clean_head(inp.head_text())
        n_main = len(_SNIFF_MAIN.findall(head))
        if n_main >= 2:
            return 0.95
        n_out = len(_SNIFF_CUDA.findall(head)) + len(_SNIFF_C.findall(head))
        n_val = len(_SNIFF_VAL.findall(head))
        if n_out >= 2 or (n_out and n_val):
            return 0.95
        if n_main or n_out:
            return 0.7
        if n_val:
            return 0.3
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
        tail = torn_tail_note(inp, last_line)
        if tail is not None:
            lines = lines.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        line = pl.col("line")
        run = inp.run_name
        main = lines.filter(line.str.starts_with("s:"))
        frames: list[pl.DataFrame] = []
        meta: dict[str, object] = {}
        if main.height:
            frames.extend(self._main_log(main, run, notes))
        out = lines.filter(line.str.starts_with("step") | line.str.starts_with("val loss")
                           | line.str.starts_with("HellaSwag:"))
        if out.height:
            frames.extend(self._stdout(out, run, notes, meta))
        return ParseResult(concat_frames(frames), notes, meta)

    # ------------------------------------------------------------------ main.log
    def _main_log(self, main: pl.DataFrame, run: str, notes: list[IngestNote]) -> list[pl.DataFrame]:
        line = pl.col("line")
        main = main.with_columns(line.str.extract(r"^s:(\d+) ", 1).cast(pl.Int64, strict=False).alias("step"))
        bad = main.filter(pl.col("step").is_null())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} 's:' line(s) without a step",
                                    line=int(bad["lineno"][0]), count=bad.height))
            main = main.filter(pl.col("step").is_not_null())
        # The keys present: from each line's key list (lines are short; a handful of distinct lists).
        sigs = main.select(line.str.replace_all(r":\S*", "").unique(maintain_order=True)).to_series().to_list()
        keys: list[str] = []
        for sig in sigs:
            for k in sig.split()[1:]:
                if k not in keys:
                    keys.append(k)
        frames = []
        for k in keys:
            raw = line.str.extract(r"(?:^| )" + re.escape(k) + r":(\S+)", 1)
            unit = ""
            sample = main.select(raw.drop_nulls().first()).item()
            if sample is not None and sample.endswith("ms") and to_float_py(sample[:-2]) is not None:
                unit = "ms"
            val = to_float(raw.str.strip_suffix(unit)) if unit else to_float(raw)
            sel = main.select("lineno", "step", raw.alias("_raw"), val.alias("value")).filter(
                pl.col("_raw").is_not_null())
            unreadable = sel.filter(pl.col("value").is_null())
            if unreadable.height:
                notes.append(IngestNote("skipped_lines", f"{unreadable.height} unreadable '{k}:' value(s)",
                                        line=int(unreadable["lineno"][0]), count=unreadable.height))
                sel = sel.filter(pl.col("value").is_not_null())
            split, metric = _MAIN_KEYS.get(k, ("train", canonical_metric(k) + ("_ms" if unit else "")))
            frames.append(sel.select(pl.lit(run).alias("run"), pl.lit(split).alias("split"),
                                     pl.lit(metric).alias("metric"), pl.lit(k).alias("name"), "step", "value"))
        return frames

    # ------------------------------------------------------------------ stdout
    def _stdout(self, out: pl.DataFrame, run: str, notes: list[IngestNote],
                meta: dict[str, object]) -> list[pl.DataFrame]:
        line = pl.col("line")
        cuda = r"^step\s+(\d+)/(\d+) \|"
        cpu = r"^step (\d+): train loss ([^\s(]+)"
        df = out.select(
            "lineno",
            line.str.extract(cuda, 1).cast(pl.Int64, strict=False).alias("_cuda_step"),
            line.str.extract(cuda, 2).cast(pl.Int64, strict=False).alias("_total"),
            line.str.extract(cpu, 1).cast(pl.Int64, strict=False).alias("_c_step"),
            # CUDA: "| loss X (" ; train_gpt2.py: "| train loss X |" ; train_gpt2.c: "train loss X ("
            to_float(line.str.extract(r"(?:\| (?:train )?loss|: train loss) ([^\s(|]+)", 1)).alias("_loss"),
            to_float(line.str.extract(r"\| norm ([^\s(|]+)", 1)).alias("_norm"),
            to_float(line.str.extract(r"\| lr ([^\s|]+)", 1)).alias("_lr"),
            to_float(line.str.extract(r"([\d.]+) tok/s", 1)).alias("_tok"),
            to_float(line.str.extract(r"^val loss ([^\s]+)", 1)).alias("_val"),
            to_float(line.str.extract(r"^HellaSwag: \d+/\d+ = ([^\s]+)", 1)).alias("_hs"),
        )
        # 0-based step of every train line (CUDA/Python print step+1; train_gpt2.c prints step).
        df = df.with_columns(
            pl.coalesce(pl.col("_cuda_step") - 1, pl.col("_c_step")).alias("step"))
        train = df.filter(pl.col("step").is_not_null() & pl.col("_loss").is_not_null())
        if df.get_column("_total").drop_nulls().len():
            meta["total_steps"] = int(df.get_column("_total").max())  # type: ignore[arg-type]
        # val / HellaSwag lines: at the loop index they were printed at = previous train step + 1.
        df = df.with_columns(
            pl.when(pl.col("step").is_not_null() & pl.col("_loss").is_not_null()).then(pl.col("step") + 1)
            .otherwise(None).forward_fill().fill_null(0).alias("_at"))
        evals = df.filter(pl.col("_val").is_not_null() | pl.col("_hs").is_not_null())
        if evals.height:
            notes.append(IngestNote("inferred", f"{evals.height} 'val loss' / HellaSwag line(s) carry no step; "
                                    "placed at the step of the training line that follows them", run=run,
                                    count=evals.height))
        bad = df.filter(pl.col("step").is_not_null() & pl.col("_loss").is_null())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} step line(s) without a readable loss",
                                    line=int(bad["lineno"][0]), count=bad.height))

        def series(frame: pl.DataFrame, split: str, metric: str, name: str, col: str, step: str) -> pl.DataFrame:
            f = frame.filter(pl.col(col).is_not_null())
            return f.select(pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                            pl.lit(name).alias("name"), pl.col(step).alias("step"), pl.col(col).alias("value"))

        return [
            series(train, "train", "loss", "loss", "_loss", "step"),
            series(train, "train", "grad_norm", "norm", "_norm", "step"),
            series(train, "train", "lr", "lr", "_lr", "step"),
            series(train, "train", "throughput", "tok/s", "_tok", "step"),
            series(evals, "val", "loss", "val loss", "_val", "_at"),
            series(evals, "val", "hellaswag_accuracy", "HellaSwag", "_hs", "_at"),
        ]


def to_float_py(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


PARSERS = [LlmcParser()]
