"""Hand-rolled text logs: the fallback for ``print(f"epoch {e}, loss: {l}")`` style logging that
no specific trainer parser claims (no single source: the styles below were collected from
PyTorch examples (``word_language_model/main.py``), tutorials and the real log
``pytorch_custom/barber0-llm-pretrain-train.log``).

Sample::

    ep: 0, batch: 20, time: 9.17, ntokens: 485.20/513, loss: 10.984375
    Epoch [1/10], Step [20/100], Loss: 0.5231
    | epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch 45.21 | loss  7.59 | ppl  1986.47

Every ``name: value``, ``name=value``, ``name value`` or ``| name value |`` pair on a line is
read (vectorised: one ``str.extract_all`` over the file, then exploded), plus
``N/M batches``-style counters. Counters (step, global_step, iter, iteration, update, batch,
epoch, ep) are the axis: the finest one that increases; a batch/step counter that restarts
each epoch is combined with the epoch into one monotonic step (batches per epoch from ``/M``
when printed, else from the largest batch seen - an estimate, noted). A line with only an
epoch counter (an end-of-epoch summary) is placed at the end of its epoch; a line without any
counter takes the step of the line before it. Names are split by prefix (``train``/``val``/
``valid``/``test``/``eval``, default ``train``). The parser claims a file (confidence <= 0.4)
only when a clear majority of the lines holding pairs share one structure with a counter and
a metric; ``lossdoc inspect`` shows what it found in an ``inferred`` note.
"""

from __future__ import annotations

import polars as pl

from lossdoc.ingest.formats._common import dedupe_metrics
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames, snake_case, split_and_metric

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)\b"
_KEY = r"[a-z_][\w.\-/@]*"
_SPLITW = r"(?:train(?:ing)?|val(?:id(?:ation)?)?|eval(?:uation)?|test|dev)"
#: ``Train Loss: 0.5`` / ``loss=0.5`` / ``'loss': 0.5`` (up to 4 words before : or =), or
#: ``loss 0.5`` / ``valid loss 0.5`` / ``Epoch [1/10]`` (one word, or a split word and a word).
_PAIR = (
    rf"(?i)(?:({_KEY}(?:[ ]{_KEY}){{0,3}})['\"]?\s*[:=]\s*|((?:{_SPLITW}[ _])?{_KEY})(?:\s+|\s*[\[(]\s*))"
    rf"({_NUM})(?:\s*/\s*(\d+))?"
)
#: ``200/ 2983 batches`` (PyTorch word_language_model): the counter's name comes after.
_FRAC = r"(?i)(\d+)\s*/\s*(\d+)\s+(batch(?:es)?|steps?|iter(?:ation)?s?)\b"

_LEVEL = r"^(?i)(?:INFO|DEBUG|WARN(?:ING)?|ERROR|CRITICAL|TRACE|NOTICE)[ _]+"
_SOURCE = r"(?i)\.(?:py|pyx|cc|cpp|cxx|c|h|hpp|cu|js|ts|rs|go|java|lua|sh)$"

_COUNTERS: dict[str, tuple[str, int]] = {
    "global_step": ("inner", 0), "globalstep": ("inner", 0), "step": ("inner", 1), "steps": ("inner", 1),
    "iteration": ("inner", 2), "iterations": ("inner", 2), "iter": ("inner", 2), "iters": ("inner", 2),
    "it": ("inner", 3), "update": ("inner", 3), "updates": ("inner", 3), "num_updates": ("inner", 3),
    "batch": ("inner", 4), "batches": ("inner", 4), "batch_idx": ("inner", 4), "batch_id": ("inner", 4),
    "epoch": ("epoch", 0), "epochs": ("epoch", 0), "ep": ("epoch", 0),
}


def _norm(key: str) -> str:
    return snake_case(key)


def extract_pairs(lines: pl.DataFrame) -> pl.DataFrame:
    """All (lineno, key, num, total) pairs of ``lines`` (columns lineno, line), in line order."""
    kv = (
        lines.select("lineno", pl.col("line").str.extract_all(_PAIR).alias("_p"))
        .explode("_p")
        .filter(pl.col("_p").is_not_null())
        .with_row_index("_pos")
        .with_columns(pl.col("_p").str.extract_groups(_PAIR).alias("_g"))
        .unnest("_g")
        .select("lineno", pl.col("_pos").cast(pl.Int64), pl.coalesce("1", "2").str.strip_chars().alias("key"), pl.col("3").alias("num"),
                pl.col("4").alias("total"))
    )
    frac = (
        lines.filter(pl.col("line").str.contains(_FRAC))
        .select("lineno", pl.col("line").str.extract_groups(_FRAC).alias("_g"))
        .unnest("_g")
        .select("lineno", pl.lit(-1, dtype=pl.Int64).alias("_pos"), pl.col("3").alias("key"), pl.col("1").alias("num"),
                pl.col("2").alias("total"))
    )
    out = pl.concat([kv, frac], how="vertical_relaxed").sort("lineno", "_pos")
    # Logging prefixes are not metric names: "INFO train.py:88" is a source location.
    out = out.with_columns(pl.col("key").str.replace(_LEVEL, ""))
    return out.filter(pl.col("key").is_not_null() & ~pl.col("key").str.contains(_SOURCE)).drop("_pos")


def _annotate(pairs: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """Add knorm / kind / prio columns; returns the frame and raw key -> normalised key."""
    raw = pairs.get_column("key").unique(maintain_order=True).to_list()
    knorm = {k: _norm(k) for k in raw}
    kind = {k: _COUNTERS.get(knorm[k], ("", 0))[0] for k in raw}
    prio = {k: _COUNTERS.get(knorm[k], ("", 9))[1] for k in raw}
    pairs = pairs.with_columns(
        pl.col("key").replace_strict(knorm, return_dtype=pl.String).alias("knorm"),
        pl.col("key").replace_strict(kind, return_dtype=pl.String).alias("kind"),
        pl.col("key").replace_strict(prio, return_dtype=pl.Int64).alias("prio"),
    )
    return pairs, knorm


def _structures(pairs: pl.DataFrame) -> pl.DataFrame:
    """Per line: its structure (sorted normalised keys), whether it has a counter / a metric."""
    return (
        pairs.group_by("lineno", maintain_order=True)
        .agg(
            pl.col("knorm").unique().sort().str.join(",").alias("structure"),
            (pl.col("kind") != "").any().alias("has_counter"),
            (pl.col("kind") == "").any().alias("has_metric"),
        )
        .with_columns(pl.len().over("structure").alias("n_struct"))
    )


def _confidence(lines: pl.DataFrame) -> float:
    if lines.height == 0:
        return 0.0
    pairs, _ = _annotate(extract_pairs(lines))
    if pairs.height == 0:
        return 0.0
    st = _structures(pairs)
    counts = st.group_by("structure").agg(pl.len().alias("n"), pl.col("has_counter").first(), pl.col("has_metric").first())
    counts = counts.sort("n", descending=True)
    top = counts.row(0, named=True)
    total = st.height
    share = top["n"] / total
    if len(counts) > 1:
        # Epoch-level logs often alternate two structures (a train line and a val line).
        second = counts.row(1, named=True)
        if second["has_counter"] and second["has_metric"] and (top["n"] + second["n"]) / total >= 0.8:
            share = max(share, 0.5)
    if not (top["has_counter"] and top["has_metric"]) or top["n"] < 2 or share < 0.5:
        return 0.0
    return round(0.3 + 0.1 * min(1.0, (share - 0.5) / 0.4), 3)


class HeuristicTextParser(Parser):
    name = "text"
    title = "Hand-rolled text log (heuristic)"
    recognises = "lines with a step/iter/epoch/batch counter and 'name: value' / 'name=value' / 'name value' pairs"
    priority = 90
    heuristic = True

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        if "\x00" in head[:1024]:
            return 0.0
        text = head.replace("\r\n", "\n").replace("\r", "\n")
        rows = text.split("\n")
        if len(head.encode("utf-8", "ignore")) >= 64 * 1024 and len(rows) > 1:
            rows = rows[:-1]  # the head may cut the last line
        rows = rows[:2000]
        lines = pl.DataFrame({"line": rows}).with_row_index("lineno", offset=1).with_columns(pl.col("lineno").cast(pl.Int64))
        return _confidence(lines)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        n_lines = lines.height
        last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
        tail = torn_tail_note(inp, last_line)
        if tail is not None:
            lines = lines.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        pairs = extract_pairs(lines)
        if pairs.height == 0:
            return ParseResult(concat_frames([]), notes)
        pairs, knorm = _annotate(pairs)
        # One value per (line, key): the first.
        pairs = pairs.unique(subset=["lineno", "key"], keep="first", maintain_order=True)
        st = _structures(pairs)
        data_lines = st.filter(pl.col("has_metric") & (pl.col("has_counter") | (pl.col("n_struct") >= 2)))
        keep = set(data_lines.get_column("lineno").to_list())
        ctr_lines = st.filter(pl.col("has_counter")).get_column("lineno")
        metrics = pairs.filter((pl.col("kind") == "") & pl.col("lineno").is_in(list(keep)))
        skipped_lines = st.filter(pl.col("has_metric") & ~pl.col("lineno").is_in(list(keep))).height

        axis, how = self._axis(pairs, ctr_lines, data_lines.get_column("lineno"), notes)
        rows = metrics.join(axis, on="lineno", how="left")
        no_step = rows.filter(pl.col("step").is_null())
        if no_step.height:
            lns = no_step.get_column("lineno").unique(maintain_order=True)
            notes.append(IngestNote("skipped_lines", f"{lns.len()} line(s) with values before any counter (no step); skipped",
                                    line=int(lns[0]), count=lns.len()))
            rows = rows.filter(pl.col("step").is_not_null())
        rows = rows.with_columns(to_float(pl.col("num")).alias("value"))

        raw_keys = rows.get_column("key").unique(maintain_order=True).to_list()
        # A key without a split prefix takes the split of its line when the line names exactly one
        # non-train split ("Validation Loss: 0.55, Accuracy: 81.2" -> val accuracy).
        own = {k: split_and_metric(knorm[k], default_split="?") for k in raw_keys}
        rows = rows.with_columns(pl.col("key").replace_strict({k: v[0] for k, v in own.items()}, return_dtype=pl.String)
                                 .alias("_ks"))
        explicit = pl.col("_ks").filter(pl.col("_ks") != "?")
        ctx = rows.group_by("lineno").agg(
            pl.when((explicit.n_unique() == 1) & (explicit.first() != "train")).then(explicit.first())
            .otherwise(pl.lit("train")).alias("_ctx"))
        rows = rows.join(ctx, on="lineno", how="left").with_columns(
            pl.when(pl.col("_ks") == "?").then(pl.col("_ctx")).otherwise(pl.col("_ks")).alias("_split"))
        rows = rows.with_columns((pl.col("key") + "\x1f" + pl.col("_split")).alias("_sid"))
        sids = rows.select("_sid", "key", "_split").unique(maintain_order=True).rows()
        series = dedupe_metrics((sid, sp, own[k][1]) for sid, k, sp in sids)
        frame = rows.select(
            pl.lit(inp.run_name).alias("run"),
            pl.col("_sid").replace_strict({k: v[0] for k, v in series.items()}, return_dtype=pl.String).alias("split"),
            pl.col("_sid").replace_strict({k: v[1] for k, v in series.items()}, return_dtype=pl.String).alias("metric"),
            pl.col("key").alias("name"), "step", "epoch", "value",
        )
        counters = pairs.filter(pl.col("kind") != "").get_column("key").unique(maintain_order=True).to_list()
        matched = rows.get_column("lineno").n_unique()
        shown = ", ".join(raw_keys[:12]) + (" ..." if len(raw_keys) > 12 else "")
        notes.insert(0, IngestNote(
            "inferred",
            f"read as a hand-rolled text log: step = {how}; counters seen: {', '.join(counters) or 'none'}; keys read: {shown}; "
            f"{matched} of {n_lines} line(s) matched, {n_lines - matched} skipped"
            + (f" ({skipped_lines} with numbers but no counter or repeated structure)" if skipped_lines else ""),
            count=matched,
        ))
        return ParseResult(concat_frames([frame]), notes)

    @staticmethod
    def _axis(
        pairs: pl.DataFrame, ctr_lines: pl.Series, data_lines: pl.Series, notes: list[IngestNote]
    ) -> tuple[pl.DataFrame, str]:
        """(lineno, step, epoch) for every line that has a counter or data, in line order."""
        inner = (
            pairs.filter(pl.col("kind") == "inner").sort("prio", "lineno", maintain_order=True)
            .group_by("lineno").agg(pl.col("key").first().alias("inner_key"), to_float(pl.col("num").first()).alias("inner"),
                                    pl.col("total").first().cast(pl.Int64, strict=False).alias("inner_total"))
        )
        epoch = (
            pairs.filter(pl.col("kind") == "epoch").group_by("lineno")
            .agg(to_float(pl.col("num").first()).alias("ep"), pl.col("key").first().alias("epoch_key"))
        )
        all_lines = pl.concat([ctr_lines, data_lines]).unique().sort().to_frame("lineno")
        df = all_lines.join(inner, on="lineno", how="left").join(epoch, on="lineno", how="left").sort("lineno")
        has_inner = df.get_column("inner").drop_nulls().len() > 0
        has_epoch = df.get_column("ep").drop_nulls().len() > 0
        df = df.with_columns(pl.col("ep").forward_fill().alias("epoch"))
        if has_inner:
            # Choose the finest counter: the best-priority key present; lines naming another inner key keep theirs.
            key = df.get_column("inner_key").drop_nulls()[0]
            inn = df.filter(pl.col("inner").is_not_null())
            resets = inn.filter(pl.col("inner").diff() < 0)
            ep_up = inn.filter((pl.col("inner").diff() < 0) & (pl.col("epoch").diff() > 0)).height
            is_batch = _norm(key) in ("batch", "batches", "batch_idx", "batch_id")
            if resets.height and (ep_up == resets.height or (is_batch and not has_epoch)):
                if not has_epoch:
                    df = df.with_columns((pl.col("inner").is_not_null() & (pl.col("inner").diff() < 0)).cast(pl.Int64)
                                         .fill_null(0).cum_sum().cast(pl.Float64).alias("epoch"))
                    notes.append(IngestNote("inferred", f"'{key}' restarts {resets.height} time(s) with no epoch printed: "
                                            "each restart read as a new epoch"))
                totals = inn.get_column("inner_total").drop_nulls()
                b_min = inn.get_column("inner").min()
                b0 = 0 if (b_min is not None and b_min <= 0) else 1
                if totals.len():
                    per, how = int(totals.max()), "as printed"  # type: ignore[arg-type]
                else:
                    per, how = int(inn.get_column("inner").max() - b0 + 1), "estimated from the largest value seen"  # type: ignore[operator]
                e0 = df.get_column("epoch").min()
                step = (
                    pl.when(pl.col("inner").is_not_null())
                    .then((pl.col("epoch") - e0) * per + pl.col("inner"))
                    .when(pl.col("ep").is_not_null())
                    .then((pl.col("epoch") - e0 + 1) * per + b0 - 1)  # an epoch summary: end of its epoch
                )
                df = df.with_columns(step.alias("_s"))
                notes.append(IngestNote("inferred", f"'{key}' restarts every epoch: step = (epoch - {e0:g}) x {per} + {key} "
                                        f"({per} per epoch, {how})"))
                desc = f"epoch and '{key}' combined"
            else:
                df = df.with_columns(pl.col("inner").alias("_s"))
                desc = f"'{key}'"
        elif has_epoch:
            eps = df.get_column("ep").drop_nulls()
            if bool(((eps - eps.round(0)).abs() == 0).all()):
                df = df.with_columns(pl.col("ep").alias("_s"))
                desc = f"'{df.get_column('epoch_key').drop_nulls()[0]}' (epochs only)"
            else:
                df = df.with_columns(pl.int_range(0, pl.len()).cast(pl.Float64).alias("_s"))
                notes.append(IngestNote("inferred", "fractional epochs and no step counter: line order used as the step"))
                desc = "line order"
        else:
            df = df.with_columns(pl.int_range(0, pl.len()).cast(pl.Float64).alias("_s"))
            notes.append(IngestNote("inferred", "no step/epoch counter: line order used as the step"))
            desc = "line order"
        df = df.with_columns(pl.col("_s").forward_fill().round(0).cast(pl.Int64, strict=False).alias("step"))
        return df.select("lineno", "step", pl.col("epoch").cast(pl.Float64)), desc


PARSERS = [HeuristicTextParser()]
