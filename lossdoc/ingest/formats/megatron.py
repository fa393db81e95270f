"""Megatron-LM and Megatron-DeepSpeed stdout (``training_log`` / ``evaluate_and_print_results``).

Checked against ``NVIDIA/Megatron-LM`` ``megatron/training/training.py`` (commit 86df799, and the
older ``megatron/training.py`` layout without the timestamp) and ``microsoft/Megatron-DeepSpeed``
``megatron/training.py`` (``consumed tokens``, ``{:.3E}`` learning rate, throughput segments).
Sample (FORMATS.md section 7)::

     [2024-06-01 10:15:42] iteration      100/  500000 | consumed samples:        51200 | ... | learning rate: 1.500000E-05 | global batch size:   512 | lm loss: 8.123456E+00 | loss scale: 1.0 | grad norm: 2.345 | number of skipped iterations:   0 | number of nan iterations:   0 |
     validation loss at iteration 200 | lm loss value: 6.812345E+00 | lm loss PPL: 9.089999E+02 |
     iteration      300/  500000 | consumed samples:       153600 | consumed tokens:    314572800 | ... | lm loss: 6.401234E+00 | ...

Every segment is `` {key}: {value} |``. The training line is matched with one simple, anchored
pattern per field (``\\| lm loss: ([^ |]+)``), never a lazy ``.*?`` across the ~300-byte line
(``research/perf.md``: 3.5x slower). Which loss keys a run logs (``lm loss``, ``mtp_1 loss``,
``load_balancing_loss`` ...) is found from the distinct key signatures of the lines.

NOTE on missing losses: Megatron prints a loss only ``if avg > 0.0``. A training line without a loss
key that other lines carry therefore means either that every iteration of the logging window was
skipped (fp16 overflow: ``number of skipped iterations`` > 0, no update happened, nothing to record)
or that the window's average was NaN (no skipped iteration). The second case is recorded as a NaN
loss at that iteration, with a ``hidden_nan`` note, so the non-finite checks see it. The counters
``number of skipped iterations`` / ``number of nan iterations`` are kept as their own metrics
(``skipped_iterations``, ``nan_iterations``). ``{:E}`` prints ``NAN`` / ``INF``: kept as values.
"""

from __future__ import annotations

import bisect
import re

import polars as pl

from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import clean_head, load_lines, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames, split_and_metric

_SNIFF_TRAIN = re.compile(r"iteration\s+\d+/\s*\d+ \| (?:consumed samples:|elapsed time per iteration)", re.M)
_SNIFF_VAL = re.compile(r"^\s*validation loss at .*\| .* value: ", re.M)

# Fixed (non-loss) segments: key as printed -> (metric, kept?). Not kept: configuration echoes and
# counters that carry no information about the curve, to keep the per-field extraction cheap.
_FIXED: dict[str, str | None] = {
    "consumed samples": "consumed_samples",
    "consumed tokens": "consumed_tokens",
    "skipped samples": None,
    "elapsed time per iteration (ms)": "step_time_ms",
    "throughput per GPU (TFLOP/s/GPU)": None,
    "learning rate": "lr",
    "decoupled learning rate": "decoupled_lr",
    "global batch size": None,
    "loss scale": "loss_scale",
    "grad norm": "grad_norm",
    "num zeros": None,
    "params norm": "params_norm",
    "number of skipped iterations": "skipped_iterations",
    "number of nan iterations": "nan_iterations",
    "curriculum seqlen": None,
    "random ltd reserved length": None,
    "actual seqlen": None,
    "samples per second": "throughput",
    "tokens per gpu per second (tgs)": None,
    "TFLOPs": None,
    "iteration": None,
}

def _field(line: pl.Expr, key: str) -> pl.Expr:
    """The number in segment ``| key: value |`` (null when absent or unreadable).

    A literal ``find`` plus a short slice is 2-3x faster than ``str.extract`` on ~300-byte lines. The
    values are ``{:E}`` / ``{:.Nf}`` / ``{:Nd}`` tokens followed by `` |``; a plain cast reads ``NAN`` / ``INF``.
    """
    lit = f"| {key}: "
    pos = line.str.find(lit, literal=True)
    return (
        line.str.slice(pos + len(lit), 20)
        .str.strip_chars_start(" ")
        .str.split_exact(" ", 1)
        .struct.field("field_0")
        .cast(pl.Float64, strict=False)
    )


class MegatronParser(Parser):
    name = "megatron"
    title = "Megatron-LM / Megatron-DeepSpeed stdout"
    recognises = "' iteration N/ T | consumed samples: ... | lm loss: X |' lines and 'validation loss at' blocks"
    priority = 20

    def sniff(self, inp: InputFile) -> float:
        head = clean_head(inp.head_text())
        n_train = len(_SNIFF_TRAIN.findall(head))
        n_val = len(_SNIFF_VAL.findall(head))
        if n_train >= 2 or (n_train and n_val):
            return 0.95
        if n_train or n_val:
            return 0.7
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        line = pl.col("line")
        last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
        tail = torn_tail_note(inp, last_line)
        if tail is not None:
            # A torn last line may hold a cut number: ignore it entirely.
            lines = lines.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        run = inp.run_name
        meta: dict[str, object] = {}

        # "iteration      100/  500000 |": a literal find, then split the short slice after it at "/".
        pos = line.str.find("iteration ", literal=True)
        tr = lines.filter(line.str.contains(" | ", literal=True) & pos.is_not_null())
        head = tr.select(line.str.slice(pos + 10, 32).str.split_exact("/", 1).alias("_h")).unnest("_h")
        tr = tr.with_columns(
            head.get_column("field_0").str.strip_chars(" ").cast(pl.Int64, strict=False).alias("_it"),
            head.get_column("field_1").str.split_exact(" |", 1).struct.field("field_0")
            .str.strip_chars(" ").cast(pl.Int64, strict=False).alias("_tot"),
        ).filter(pl.col("_it").is_not_null() & pl.col("_tot").is_not_null())
        frames: list[pl.DataFrame] = []
        if tr.height:
            meta["total_steps"] = int(tr.get_column("_tot").max())  # type: ignore[arg-type]
            frames.extend(self._training(tr, run, notes))
        frames.extend(self._validation(lines, tr, run, notes))
        return ParseResult(concat_frames(frames), notes, meta)

    # ------------------------------------------------------------------ training lines
    def _keys(self, tr: pl.DataFrame) -> dict[str, dict[str, int]]:
        """The segment keys the training lines carry (with how often each printed value occurs), from a
        sample of lines.

        The sample is the first and last 1,000 lines, 1,000 spread evenly, and up to 2,000 (spread)
        of the lines whose length differs from the median by more than a value's width can explain, so a loss
        key that appears mid-run (or a segment that comes and goes) is still seen, without a regex
        over every line.
        """
        n = tr.height
        # A segment that comes or goes changes a line's length by 20+ bytes; values change it by a few.
        size = tr.select(pl.col("line").str.len_bytes().cast(pl.Int64).alias("n"))["n"]
        med = size.median() if n else 0
        idx = set(range(min(n, 1000))) | set(range(max(0, n - 1000), n)) | set(range(0, n, max(1, n // 1000)))
        odd = size.to_frame().with_row_index("_i").filter((pl.col("n") - med).abs() > 12)
        idx |= set(odd.get_column("_i").gather_every(max(1, odd.height // 2000)).head(2000).to_list())
        sample = tr.get_column("line").gather(sorted(idx)).to_list()
        keys: dict[str, dict[str, int]] = {}
        for text in sample:
            for part in text.split(" | ")[1:]:
                k, sep, v = part.partition(": ")
                k = k.strip(" |")
                if k and sep:
                    seen = keys.setdefault(k, {})
                    v = v.rstrip(" |\n")
                    seen[v] = seen.get(v, 0) + 1
        return keys

    def _training(self, tr: pl.DataFrame, run: str, notes: list[IngestNote]) -> list[pl.DataFrame]:
        line = pl.col("line")
        seen = self._keys(tr)
        keys = list(seen)
        loss_keys = [k for k in keys if k not in _FIXED]
        kept = [(k, m) for k, m in _FIXED.items() if m and k in keys]
        cols = [pl.col("lineno"), pl.col("_it").alias("step")]
        for i, k in enumerate(loss_keys):
            cols.append(_field(line, k).alias(f"_l{i}"))
        common = []
        for i, (k, _) in enumerate(kept):
            text, count = max(seen[k].items(), key=lambda kv: kv[1])
            value = _num(text)
            if value is not None and count * 2 > sum(seen[k].values()):
                # A value printed the same way on most lines (counters "  0", "loss scale: 1.0" in bf16):
                # a literal test settles those rows and only the others are extracted (polars would
                # evaluate both branches of a when/then on every row).
                cols.append(line.str.contains(f"| {k}: {text} |", literal=True).alias(f"_z{i}"))
                common.append((i, k, value))
            else:
                cols.append(_field(line, k).alias(f"_f{i}"))
        wide = tr.select(cols)
        for i, k, value in common:
            other = tr.filter(~wide.get_column(f"_z{i}")).select("lineno", _field(line, k).alias(f"_f{i}"))
            wide = (wide.join(other, on="lineno", how="left", maintain_order="left")
                    .with_columns(pl.when(pl.col(f"_z{i}")).then(value).otherwise(pl.col(f"_f{i}")).alias(f"_f{i}"))
                    .drop(f"_z{i}"))
        skipped_col = next((f"_f{i}" for i, (k, _) in enumerate(kept) if k == "number of skipped iterations"), None)
        no_skip = (pl.col(skipped_col).fill_null(0) == 0) if skipped_col is not None else pl.lit(True)
        frames: list[pl.DataFrame] = []
        for i, k in enumerate(loss_keys):
            c = pl.col(f"_l{i}")
            split, metric = split_and_metric(k)
            if metric == "loss" and k != "lm loss" and "lm loss" in loss_keys:
                metric = "_".join(k.split())  # another loss beside lm loss keeps its own name
            # Lines after the key first appears that lack it: NaN average, unless the window was all skipped.
            present = c.is_not_null()
            missing = present.cum_max() & ~present
            nan_lines = wide.filter(missing & no_skip)
            n_skip = wide.filter(missing & ~no_skip).height
            if nan_lines.height:
                first = nan_lines.row(0, named=True)
                notes.append(IngestNote(
                    "hidden_nan",
                    f"'{k}' is missing on {nan_lines.height} training line(s) with no skipped iteration: Megatron "
                    f"prints a loss only when its average is > 0, so the average was NaN; recorded as NaN",
                    line=first["lineno"], run=run, count=nan_lines.height, step=first["step"]))
            if n_skip:
                notes.append(IngestNote(
                    "other",
                    f"'{k}' is missing on {n_skip} training line(s) whose logging window had skipped iterations "
                    f"(fp16 overflow) and no update; no loss recorded there", run=run, count=n_skip))
            frames.append(wide.filter(present | (missing & no_skip)).select(
                pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                pl.lit(k).alias("name"), "step", c.fill_null(float("nan")).alias("value")))
        for i, (k, metric) in enumerate(kept):
            c = pl.col(f"_f{i}")
            frames.append(wide.filter(c.is_not_null()).select(
                pl.lit(run).alias("run"), pl.lit("train").alias("split"), pl.lit(metric).alias("metric"),
                pl.lit(k).alias("name"), "step", c.alias("value")))
        return frames

    # ------------------------------------------------------------------ validation blocks
    def _validation(
        self, lines: pl.DataFrame, tr: pl.DataFrame, run: str, notes: list[IngestNote]
    ) -> list[pl.DataFrame]:
        line = pl.col("line")
        val = lines.filter(line.str.contains("validation loss at ", literal=True))
        if val.height == 0:
            return []
        # Few lines (one per eval interval): a Python loop over them is fine.
        it_lines = tr.get_column("lineno").to_list() if tr.height else []
        it_steps = tr.get_column("_it").to_list() if tr.height else []

        rows: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
        metrics: dict[str, str] = {}
        inferred = 0
        for lineno, text in val.iter_rows():
            head, _, rest = text.partition("validation loss at ")
            prefix, _, body = rest.partition(" | ")
            m = re.match(r"iteration (\d+)", prefix)
            split = "test" if ("test set" in prefix or "test data" in prefix) else "val"
            if m:
                step = int(m.group(1))
            else:
                j = bisect.bisect_left(it_lines, lineno)
                if j == 0:
                    continue
                step = it_steps[j - 1]
                inferred += 1
            for seg in body.split(" | "):
                seg = seg.strip(" |")
                if " value: " in seg:
                    key, _, v = seg.partition(" value: ")
                    metric = metrics.get(key)
                    if metric is None:
                        metric = split_and_metric(key)[1]
                        if metric == "loss" and key != "lm loss":
                            metric = "_".join(key.split())
                        metrics[key] = metric
                    val = _num(v)
                    if val is not None:
                        rows.setdefault((split, metric, key), []).append((step, val))
                elif " PPL: " in seg:
                    key, _, v = seg.partition(" PPL: ")
                    metric = "perplexity" if key == "lm loss" else "_".join(key.split()) + "_ppl"
                    val = _num(v)
                    if val is not None:
                        rows.setdefault((split, metric, f"{key} PPL"), []).append((step, val))
        if inferred:
            notes.append(IngestNote("inferred", f"{inferred} end-of-training evaluation(s) without an iteration "
                                    "number placed at the last logged iteration", run=run, count=inferred))
        frames = [
            pl.DataFrame({"run": run, "split": s, "metric": m, "name": k,
                          "step": [p[0] for p in pts], "value": [p[1] for p in pts]},
                         schema_overrides={"step": pl.Int64, "value": pl.Float64})
            for (s, m, k), pts in rows.items()
        ]
        return frames


def _num(s: str) -> float | None:
    """``6.812345E+00`` / ``NAN`` / ``INF`` -> float; None when unreadable (the value is then skipped)."""
    try:
        return float(s.strip().lstrip("+"))
    except ValueError:
        return None


PARSERS = [MegatronParser()]
