"""llm.c (``karpathy/llm.c``): the ``main.log`` written with ``-o DIR`` and the trainers' stdout.

Checked against ``llmc/logger.h`` (``logger_log_train`` / ``_val`` / ``_eval``), ``train_gpt2.cu``,
``train_gpt2.py`` and ``train_gpt2.c`` (docs/formats-reference.md §6). Samples::

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
from lossdoc.ingest.text import (
    clean_head,
    count_lines,
    last_line,
    load_lines,
    stream_queries,
    to_float,
    torn_tail_note,
)
from lossdoc.model import IngestNote, ParseResult, canonical_metric, concat_frames, conform_blocks

_SNIFF_MAIN = re.compile(r"^s:\d+ (?:trl|tel|eval):[-+\w.]+", re.M)
_SNIFF_CUDA = re.compile(r"^step\s+\d+/\d+(?: \| (?:train )?loss|: train loss) [-+\w.]+", re.M)
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
        fast = self._fast_main(inp)
        if fast is not None:
            return fast
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

    # ------------------------------------------------------------------ main.log, streamed
    def _fast_main(self, inp: InputFile) -> ParseResult | None:
        """A plain ``main.log`` read in 16 MB pieces (:func:`stream_queries`), each line cut at its
        spaces: bounded memory and ~6x faster than :meth:`_main_log` at 10^7 lines (2.4 s vs 13.7 s),
        the same rows.

        The line shapes (``s:N trl:X lr:Y norm:Z``, ``s:N tel:X``, ...) come from the head of the
        file. None (the line-numbered path decides, with its notes) when the head is not pure
        main.log, when a key's values carry a unit or a key appears in two shapes, or when any
        ``s:`` line of the file has another shape, an unreadable number or a signed step, or the
        file also holds stdout lines."""
        head_lines = clean_head(inp.head_text()).split("\n")[:-1]  # the last may be cut by the head's end
        body = [t for t in head_lines if t.strip()]
        if not body or not all(t.startswith("s:") for t in body):
            return None
        shapes: list[tuple[str, ...]] = []
        for t in body:
            toks = t[2:].split(" ")
            kv = [tok.partition(":") for tok in toks[1:]]
            if not toks[0].isdigit() or not kv or any(not k or not sep or to_float_py(v) is None for k, sep, v in kv):
                return None
            shape = tuple(k for k, _, _ in kv)
            if shape not in shapes:
                shapes.append(shape)
        keys = list(dict.fromkeys(k for sh in shapes for k in sh))  # first-seen order, as _sample_keys
        if any(sum(k in sh for sh in shapes) != 1 for k in keys):
            return None
        line = pl.col("line")
        p = pl.col("_p")

        def reads(shape: tuple[str, ...]) -> pl.Expr:
            ok = p.struct[len(shape) + 1].is_null()
            for j, k in enumerate(shape, start=1):
                ok = ok & p.struct[j].str.starts_with(k + ":")
            return ok

        def queries(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
            s_lines = lines.filter(line.str.starts_with("s:"))
            out = [
                s_lines.filter(line.str.contains(f" {shape[0]}:", literal=True))
                .select(line.str.slice(2).str.split_exact(" ", len(shape) + 1).alias("_p"))
                .filter(reads(shape))
                .select(
                    # a sign before the step is not llm.c's %d: null, so the file takes the other path
                    pl.when(~p.struct[0].str.starts_with("+") & ~p.struct[0].str.starts_with("-"))
                    .then(p.struct[0]).cast(pl.Int64, strict=False).alias("step"),
                    *[p.struct[j].str.slice(len(k) + 1).cast(pl.Float64, strict=False).alias(f"v{j}")
                      for j, k in enumerate(shape, start=1)])
                for shape in shapes
            ]
            out.append(lines.select(
                line.str.starts_with("s:").sum().cast(pl.Int64).alias("s_lines"),
                (line.str.starts_with("step") | line.str.starts_with("val loss")
                 | line.str.starts_with("HellaSwag:")).sum().cast(pl.Int64).alias("stdout_lines")))
            return out

        got = stream_queries(inp, queries)
        if got is None:
            return None
        *rows, counts = got
        if counts.get_column("stdout_lines").sum():
            return None
        unread = int(counts.get_column("s_lines").sum()) - sum(r.height for r in rows)
        notes: list[IngestNote] = []
        if inp.size and not inp.ends_with_newline():
            tail = last_line(inp)
            toks = tail[2:].split(" ") if tail.startswith("s:") else []
            hit = [i for i, sh in enumerate(shapes)
                   if len(toks) == len(sh) + 1 and all(t.startswith(k + ":") for t, k in zip(toks[1:], sh))]
            if hit:  # the torn line was read as a row: it is the last of its shape; drop it
                rows[hit[0]] = rows[hit[0]].head(-1)
            elif tail.startswith("s:"):
                unread -= 1
            note = torn_tail_note(inp, count_lines(inp))
            if note is not None:
                notes.append(note)
        if unread or any(r.null_count().sum_horizontal().item() for r in rows):
            return None
        run = inp.run_name
        blocks = []
        for k in keys:
            i = next(i for i, sh in enumerate(shapes) if k in sh)
            split, metric = _MAIN_KEYS.get(k, ("train", canonical_metric(k)))
            blocks.append(rows[i].select(pl.lit(run).alias("run"), pl.lit(split).alias("split"),
                                         pl.lit(metric).alias("metric"), pl.lit(k).alias("name"), "step",
                                         pl.col(f"v{shapes[i].index(k) + 1}").alias("value")))
        return ParseResult(blocks=conform_blocks(blocks), notes=notes)

    # ------------------------------------------------------------------ main.log
    def _main_log(self, main: pl.DataFrame, run: str, notes: list[IngestNote]) -> list[pl.DataFrame]:
        line = pl.col("line")
        keys, common = _sample_keys(main)
        names = [f"_k{i}" for i in range(len(keys))]
        index = {k: i for i, (k, _) in enumerate(keys)}
        # The most common line shape ("s:N trl:X lr:Y norm:Z") in one pass of one pattern; the other
        # lines (val, eval, odd ones: a small share) key by key.
        pattern = r"^s:(\d+)" + "".join(" " + re.escape(k) + r":([^ ]+)" for k in common) + r" *$"
        g = main.select("lineno", "line", line.str.extract_groups(pattern).alias("_g"))
        hit = g.filter(pl.col("_g").struct[0].is_not_null())
        fast = hit.select(
            "lineno", pl.col("_g").struct[0].cast(pl.Int64, strict=False).alias("step"),
            *[(pl.col("_g").struct[1 + common.index(k)] if k in common else pl.lit(None, dtype=pl.String)).alias(n)
              for (k, _), n in zip(keys, names)])
        rest = g.filter(pl.col("_g").struct[0].is_null())
        slow = rest.select(
            "lineno", line.str.extract(r"^s:(\d+) ", 1).cast(pl.Int64, strict=False).alias("step"),
            *[line.str.extract(" " + re.escape(k) + r":([^ ]+)", 1).alias(n) for (k, _), n in zip(keys, names)])
        wide = pl.concat([fast, slow]).sort("lineno") if slow.height else fast
        bad = wide.filter(pl.col("step").is_null())
        if bad.height:
            notes.append(IngestNote("skipped_lines", f"{bad.height} 's:' line(s) without a step",
                                    line=int(bad["lineno"][0]), count=bad.height))
            wide = wide.filter(pl.col("step").is_not_null())
        frames = []
        for k, unit in keys:
            raw = pl.col(names[index[k]])
            val = to_float(raw.str.strip_suffix(unit)) if unit else to_float(raw)
            sel = wide.filter(raw.is_not_null()).select("lineno", "step", val.alias("value"))
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
        cuda = r"^step\s+(\d+)/(\d+)(?: \||: train loss )"  # newer "| loss", older ": train loss X (..."
        cpu = r"^step (\d+): train loss ([^\s(]+)"
        df = out.select(
            "lineno",
            line.str.extract(cuda, 1).cast(pl.Int64, strict=False).alias("_cuda_step"),
            line.str.extract(cuda, 2).cast(pl.Int64, strict=False).alias("_total"),
            line.str.extract(cpu, 1).cast(pl.Int64, strict=False).alias("_c_step"),
            # CUDA: "| loss X (" ; train_gpt2.py: "| train loss X |" ; train_gpt2.c: "train loss X ("
            to_float(line.str.extract(r"(?:\| (?:train )?loss|: train loss) ([^\s(|]+)", 1)).alias("_loss"),
            to_float(line.str.extract(r"[| ] ?norm ([^\s(|]+)", 1)).alias("_norm"),
            to_float(line.str.extract(r"[| ] ?lr ([^\s|(]+)", 1)).alias("_lr"),
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


def _sample_keys(main: pl.DataFrame) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``key:value`` keys of main.log lines (with the unit "ms" when every value carries it), and
    the key sequence of the most common line shape.

    Read from a sample (first and last 2,000 lines, 2,000 spread evenly, and up to 10,000 lines whose
    number of ``:`` differs from the most common), not from a regex over every line.
    """
    n = main.height
    counts = main.select(pl.col("line").str.count_matches(":", literal=True).alias("n"))["n"]
    mode = counts.mode().sort()[0] if n else 0
    idx = set(range(min(n, 2000))) | set(range(max(0, n - 2000), n)) | set(range(0, n, max(1, n // 2000)))
    idx |= set(main.with_columns(counts.alias("_n")).with_row_index("_i").filter(pl.col("_n") != mode)
               .get_column("_i").head(10_000).to_list())
    ms: dict[str, bool] = {}
    shapes: dict[tuple[str, ...], int] = {}
    for text in main.get_column("line").gather(sorted(idx)).to_list():
        shape = []
        for tok in text.split()[1:]:
            k, sep, v = tok.partition(":")
            if not sep or not k:
                continue
            shape.append(k)
            ms[k] = ms.get(k, True) and v.endswith("ms") and to_float_py(v[:-2]) is not None
        shapes[tuple(shape)] = shapes.get(tuple(shape), 0) + 1
    common = max(shapes, key=lambda t: shapes[t]) if shapes else ()
    return [(k, "ms" if unit else "") for k, unit in ms.items()], list(common)


def to_float_py(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


PARSERS = [LlmcParser()]
