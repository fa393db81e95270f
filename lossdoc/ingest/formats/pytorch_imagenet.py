"""PyTorch's ImageNet example console output (``pytorch/examples`` ``imagenet/main.py``), which countless
classification, fine-grained and re-ID trainers copy with its ``AverageMeter``.

Checked with the search tool against ``pytorch/examples`` ``imagenet/main.py`` (stored version 0221496;
docs/formats-reference.md §10s). The first version prints every ``--print-freq`` batches::

    'Epoch: [{0}][{1}/{2}]\\tTime {batch_time.val:.3f} ({batch_time.avg:.3f})\\tData ...\\t'
    'Loss {loss.val:.4f} ({loss.avg:.4f})\\tPrec@1 {top1.val:.3f} ({top1.avg:.3f})\\tPrec@5 ...'

(``epoch, i, len(train_loader)``), in ``validate`` ``'Test: [{0}/{1}]\\tTime ...\\tLoss ...\\tPrec@1 ...'`` and
after the pass ``' * Prec@1 {top1.avg:.3f} Prec@5 {top5.avg:.3f}'``. The current version prints the same
through ``ProgressMeter`` (prefix ``"Epoch: [{}]".format(epoch)``, batch ``[{:Nd}/N]``, meters joined by a
tab, each ``AverageMeter.__str__`` = ``'{name} {val<fmt>} ({avg<fmt>})'``): ``Acc@1`` / ``Acc@5`` instead
of ``Prec@1`` / ``Prec@5``, and the summary ``' *   Acc@1 {top1.avg:.3f} Acc@5 {top5.avg:.3f}'``. Sample::

    Epoch: [0][0/250]	Time 3.923 (3.923)	Data 0.411 (0.411)	Loss 13.0603 (13.0603)
    Test: [0/242]	Time 0.604 (0.604)	Loss 3.5332 (3.5332)
     * Prec@1 52.365 Prec@5 80.394

Read: every ``Name val (avg)`` meter of an ``Epoch:`` line as a training series at step
``epoch x N + i`` (``N`` = the batches per epoch printed after ``/``; fractional epoch ``epoch + i/N``):
``val`` (the batch's own value) as the series, ``avg`` (the running mean since the epoch began) as
``<metric>_avg``, as lossdoc reads an AverageMeter's columns in CSVs. ``Time`` and ``Data`` (seconds per
batch and for loading it) are timings, not read. A validation pass (consecutive ``Test:`` lines) gives one
point per meter at the last training step before it: the ``avg`` of its last line (the mean over the batches
up to the last one printed); the ``*`` summary after it gives the pass's accuracies (``Prec@1``/``Acc@1`` ->
``accuracy``, ``@5`` -> ``top5_accuracy``).
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import last_run_result
from lossdoc.ingest.formats._lines import LineParser
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.text import LOG_NUMBER, to_float
from lossdoc.model import IngestNote, ParseResult, canonical_metric, snake_case

_NUM = LOG_NUMBER
_TRAIN = r"^\s*Epoch: \[(\d+)\]\[\s*(\d+)/(\d+)\]\s(.*)$"
_TEST = r"^\s*Test: \[\s*(\d+)/(\d+)\]\s(.*)$"
_SUMMARY = rf"^\s*\*\s+((?:Prec|Acc)@1)\s+({_NUM})(?:\s+((?:Prec|Acc)@5)\s+({_NUM}))?\s*$"
#: one meter: ``Loss 13.0603 (13.0603)``, ``Acc@1   0.00 (  0.00)``, ``Loss 6.9063e+00 (6.9063e+00)``
#: (a name may hold words: ``Loss dro 6.354 (6.316)``, the entries being tab-separated; every word starts with a
#: letter, so ``lr 0.1 Loss 2.0 (2.0)`` gives the meter ``Loss``)
_METER = rf"([A-Za-z][\w@./-]*(?: [A-Za-z][\w@./-]*)*)\s+({_NUM})\s+\(\s*({_NUM})\s*\)"
_TIMINGS = ("time", "data")
_SNIFF = re.compile(rf"^\s*(?:Epoch: \[\d+\]\[\s*\d+/\d+\]|Test: \[\s*\d+/\d+\])\s+\S.*?\s{_NUM}\s+\(\s*{_NUM}\s*\)",
                    re.M)


def _metric(name: str) -> str:
    low = name.lower()
    if re.fullmatch(r"(?:prec|acc)@1", low):
        return "accuracy"
    if re.fullmatch(r"(?:prec|acc)@5", low):
        return "top5_accuracy"
    return canonical_metric(snake_case(name))


#: a meter's two numbers, replaced by ``#`` to give a line's template (its meter names in order)
_PAIR = rf"\s+{_NUM}\s+\(\s*{_NUM}\s*\)"
#: the same with the two numbers as groups, for a template's own regex
_PAIR_GROUPS = rf"\s+({_NUM})\s+\(\s*({_NUM})\s*\)"
_NAME = r"[A-Za-z][\w@./-]*(?: [A-Za-z][\w@./-]*)*"
#: beyond this many distinct templates, one regex per template costs more than one per meter
_MAX_TEMPLATES = 50


def _meters(rows: pl.DataFrame, rest: str) -> pl.DataFrame:
    """One row per ``Name val (avg)`` meter of ``rows[rest]``, vectorised: lines of one template (their text with
    each meter's numbers replaced by ``#``: ``Time #\tData #\tLoss #``, a few per log) share one regex whose
    groups take every meter of the line in one pass."""
    rows = rows.with_columns(pl.col(rest).str.replace_all(_PAIR, " #").alias("_tpl"))
    templates = rows.get_column("_tpl").unique(maintain_order=True).to_list()
    keep = [c for c in rows.columns if c not in (rest, "_tpl")]
    if len(templates) > _MAX_TEMPLATES:
        g = (rows.with_columns(pl.col(rest).str.extract_all(_METER).alias("_m")).explode("_m")
             .filter(pl.col("_m").is_not_null())
             .with_columns(pl.col("_m").str.extract_groups(_METER).alias("_g")))
        out = g.select(*keep, pl.col("_g").struct.field("1").alias("name"),
                       to_float(pl.col("_g").struct.field("2")).alias("cur"),
                       to_float(pl.col("_g").struct.field("3")).alias("avg"))
    else:
        parts = []
        for tpl in templates:
            pieces = tpl.split(" #")
            names = [m.group(1) if (m := re.search(rf"({_NAME})$", p)) else None for p in pieces[:-1]]
            if not any(names):
                continue
            # the template's own regex: its text as written, each '#' the meter's two numbers
            pattern = "^" + _PAIR_GROUPS.join(re.escape(p) for p in pieces) + "$"
            hit = rows.filter(pl.col("_tpl") == tpl).with_columns(pl.col(rest).str.extract_groups(pattern).alias("_g"))
            for k, n in enumerate(names):
                if n is None:  # numbers not after a name (part of the fork's own text)
                    continue
                parts.append(hit.select(*keep, pl.lit(n).alias("name"),
                                        to_float(pl.col("_g").struct.field(str(2 * k + 1))).alias("cur"),
                                        to_float(pl.col("_g").struct.field(str(2 * k + 2))).alias("avg")))
        schema = {**{c: rows.schema[c] for c in keep}, "name": pl.String, "cur": pl.Float64, "avg": pl.Float64}
        out = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=schema)
    return out.filter(~pl.col("name").str.to_lowercase().is_in(_TIMINGS))


def _with_metric(df: pl.DataFrame, suffix: str = "") -> pl.DataFrame:
    names = df.get_column("name").unique(maintain_order=True).to_list()
    metric = {n: _metric(n) + suffix for n in names}
    return df.with_columns(pl.col("name").replace_strict(metric, return_dtype=pl.String).alias("metric"),
                           (pl.col("name") + ("" if not suffix else " (avg)")).alias("name"))


class PyTorchImageNetParser(LineParser):
    name = "pytorch-imagenet"
    title = "PyTorch ImageNet example (AverageMeter / ProgressMeter) console output"
    recognises = ("'Epoch: [0][10/250]\\tTime 1.154 (1.408)\\tLoss 12.6626 (12.3890)\\tAcc@1 ...' lines, "
                  "'Test: [0/242]\\t... Loss 3.5332 (3.5332)' and ' * Acc@1 X Acc@5 Y' (pytorch/examples imagenet/main.py)")
    priority = 30
    sniff_pattern = _SNIFF

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        line = pl.col("line")
        recs = lines.with_columns(line.str.extract_groups(_TRAIN).alias("_t"), line.str.extract_groups(_TEST).alias("_v"),
                                  line.str.extract_groups(_SUMMARY).alias("_s"))
        train = (recs.filter(pl.col("_t").struct.field("1").is_not_null())
                 .select("lineno", pl.col("_t").struct.field("1").cast(pl.Int64, strict=False).alias("_e"),
                         pl.col("_t").struct.field("2").cast(pl.Int64, strict=False).alias("_i"),
                         pl.col("_t").struct.field("3").cast(pl.Int64, strict=False).alias("_n"),
                         pl.col("_t").struct.field("4").alias("_rest"))
                 .with_columns((pl.col("_e") * pl.col("_n") + pl.col("_i")).alias("step"),
                               (pl.col("_e") + pl.col("_i") / pl.col("_n").clip(lower_bound=1)).alias("epoch")))
        tm = _meters(train, "_rest")
        cur = _with_metric(tm.select("lineno", "step", "epoch", "name", pl.col("cur").alias("value")))
        avg = _with_metric(tm.select("lineno", "step", "epoch", "name", pl.col("avg").alias("value")), "_avg")
        parts = [df.with_columns(pl.lit("train").alias("split")) for df in (cur, avg)]

        # validation passes: consecutive Test lines (a pass ends at any training or summary line)
        kinds = (recs.select("lineno", pl.when(pl.col("_t").struct.field("1").is_not_null()).then(pl.lit("t"))
                             .when(pl.col("_v").struct.field("1").is_not_null()).then(pl.lit("v"))
                             .when(pl.col("_s").struct.field("1").is_not_null()).then(pl.lit("s")).alias("kind"),
                             pl.col("_v").struct.field("1").cast(pl.Int64, strict=False).alias("_i"),
                             pl.col("_v").struct.field("3").alias("_rest"),
                             pl.col("_s").struct.field("1").alias("_n1"), pl.col("_s").struct.field("2").alias("_a1"),
                             pl.col("_s").struct.field("3").alias("_n5"), pl.col("_s").struct.field("4").alias("_a5"))
                 .filter(pl.col("kind").is_not_null()))
        kinds = kinds.with_columns(
            ((pl.col("kind") == "v") & ((pl.col("kind").shift(1) != "v").fill_null(True)
                                        | (pl.col("_i") <= pl.col("_i").shift(1)).fill_null(False))).cum_sum()
            .alias("_pass"))
        # the pass a summary belongs to: the pass just before it (none when training lines came between)
        kinds = kinds.with_columns(
            pl.when(pl.col("kind") == "t").then(None).otherwise(pl.col("_pass")).alias("_pass"))
        kinds = kinds.with_columns(pl.col("_pass").forward_fill().alias("_pass"))
        at = train.select("lineno", "step", "epoch").sort("lineno")
        last = (kinds.filter(pl.col("kind") == "v").group_by("_pass").agg(pl.all().sort_by("lineno").last())
                .sort("lineno"))
        vm = _meters(last, "_rest").select("lineno", "_pass", "name", pl.col("avg").alias("value"))
        summ = (kinds.filter((pl.col("kind") == "s") & pl.col("_pass").is_not_null())
                .group_by("_pass").agg(pl.all().sort_by("lineno").last()))
        if summ.height:
            acc = pl.concat([summ.select("lineno", "_pass", pl.col(n).alias("name"), to_float(pl.col(a)).alias("value"))
                             for n, a in (("_n1", "_a1"), ("_n5", "_a5"))]).filter(pl.col("name").is_not_null())
            # the summary's exact pass means replace the last printed line's running means of the same meters
            vm = vm.filter(~pl.col("_pass").is_in(summ.get_column("_pass").implode())
                           | ~pl.col("name").str.to_lowercase().str.contains("@"))
            vm = pl.concat([vm, acc])
        if vm.height:
            vm = (vm.sort("lineno").join_asof(at, on="lineno")
                  .with_columns(pl.col("step").fill_null(0), pl.lit("val").alias("split")).drop("_pass"))
            parts.append(_with_metric(vm))
        long = pl.concat([p.select("lineno", "split", "metric", "name", "step", "epoch", "value") for p in parts],
                         how="vertical_relaxed").sort("lineno", maintain_order=True).select(
            pl.lit(inp.run_name).alias("run"), "split", "metric", "name", "step", "epoch",
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), "value", "lineno")
        return last_run_result(long, lines, notes)


PARSERS = [PyTorchImageNetParser()]
