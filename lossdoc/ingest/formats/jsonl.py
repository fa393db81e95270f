"""Generic JSON Lines of metrics: a fallback for hand-rolled loggers (``json.dumps(record)`` per line).

Not tied to a trainer (checked with Python ``json.dumps`` output, which writes ``NaN`` and
``Infinity`` tokens). Sample::

    {"step": 100, "loss": 2.4312, "lr": 0.0003}
    {"step": 200, "loss": 2.1107, "lr": 0.0003, "grad_norm": NaN}
    {"step": 200, "split": "val", "loss": 2.5120}

Numeric ``"key": value`` pairs are pulled out of every line with one vectorised regex (no JSON
parse per line; nested objects contribute their leaf keys). The axis is the first key named
like a step (``step``, ``global_step``, ``iter``, ``_step``...), else ``epoch``, else the line
order (with an ``inferred`` note). A ``"split"``/``"mode"``/``"phase"`` string field sets the split
of un-prefixed keys. Sniffing stays at or below 0.45 so that specific JSON Lines formats
(MMEngine ``scalars.json``, W&B history) win.
"""

from __future__ import annotations

import json

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.formats._epoch_counter import COUNTER_NAMES, combine_table_axis
from lossdoc.ingest.formats._loss_columns import main_loss
from lossdoc.ingest.formats._tabular import SeriesNamer, guess_split_metric
from lossdoc.ingest.formats.generic_csv import EPOCH_NAMES, STEP_NAMES, WALL_NAMES, loss_like
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames

_KEY = r'"((?:[^"\\]|\\.)*)"'
_NUM = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|-?Infinity"
_PAIR = _KEY + r"\s*:\s*(?:" + _NUM + r")\s*[,}\]]"
_PAIR_GROUPS = r'^"(?P<key>(?:[^"\\]|\\.)*)"\s*:\s*(?P<raw>' + _NUM + ")"
#: A non-numeric value (boolean, null-free string) under a key: noted when the key holds numbers elsewhere.
_OTHER_KEY = r'"((?:[^"\\]|\\.)*)"\s*:\s*(?:true|false|"(?:[^"\\]|\\.)*")\s*[,}\]]'
_SPLIT_FIELD = r'"(?:split|mode|phase|stage|subset)"\s*:\s*"([^"]*)"'
_SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "eval": "val",
    "evaluation": "val",
    "dev": "val",
    "test": "test",
    "testing": "test",
}


def _head_records(inp: InputFile, n: int = 30) -> list[dict[str, object]] | None:
    """JSON objects among the first lines, or None unless most of those lines are JSON objects."""
    lines = [ln.strip() for ln in inp.head_text(32 * 1024).splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("{"):
        return None
    if len(lines) > 1:
        lines = lines[:-1]  # the head (or the file) may cut the last line
    lines = lines[:n]
    out = []
    for ln in lines:
        if not ln.startswith("{"):
            continue
        try:
            rec = json.loads(ln)
        except json.JSONDecodeError:
            return None  # an object line that is not JSON: not this format
        if isinstance(rec, dict):
            out.append(rec)
    return out if len(out) * 2 >= len(lines) else None


class JSONLParser(Parser):
    name = "jsonl"
    title = "Generic metrics JSON Lines (fallback)"
    recognises = "one JSON object per line with loss-like numeric keys and a step/iter/epoch key (or none)"
    priority = 90
    heuristic = True

    def sniff(self, inp: InputFile) -> float:
        recs = _head_records(inp)
        if not recs:
            return 0.0
        keys = {k for r in recs for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if not keys:
            return 0.0
        has_axis = any(k.lower() in STEP_NAMES + EPOCH_NAMES for k in keys)
        if any(loss_like(k) for k in keys):
            return 0.45 if has_axis else 0.35
        return 0.2

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, clean=False).with_columns(pl.col("line").str.strip_chars())
        lines = lines.filter(pl.col("line") != "")
        if lines.height == 0:
            raise EmptyInputError("file is empty", path=inp.name)
        last_line = int(lines.get_column("lineno").max())  # type: ignore[arg-type]
        tail = torn_tail_note(inp, last_line, what="record")
        if tail is not None:
            lines = lines.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        line = pl.col("line")
        is_obj = line.str.starts_with("{")
        other = lines.filter(~is_obj)
        if other.height:
            notes.append(
                IngestNote("skipped_lines", f"{other.height} line(s) that are not JSON objects skipped",
                           line=int(other.get_column("lineno").first()), count=other.height)  # type: ignore[arg-type]
            )
        recs = lines.filter(is_obj)
        broken = recs.filter(~line.str.ends_with("}"))
        if broken.height:
            raise ParseError("JSON record is not closed (a '}' is missing)", path=inp.name,
                             line=int(broken.get_column("lineno").first()))  # type: ignore[arg-type]
        if recs.height == 0:
            raise EmptyInputError("no JSON records found", path=inp.name)
        recs = recs.with_row_index("_rec").with_columns(
            line.str.extract(_SPLIT_FIELD, 1).str.to_lowercase().replace_strict(
                _SPLIT_WORDS, default=None, return_dtype=pl.String).alias("_split"),
        )
        pairs = (
            recs.select("_rec", "lineno", "_split", line.str.extract_all(_PAIR).alias("p"))
            .explode("p")
            .drop_nulls("p")
            .select("_rec", "lineno", "_split", pl.col("p").str.extract_groups(_PAIR_GROUPS).alias("g"))
            .unnest("g")
            .with_columns(to_float(pl.col("raw")).alias("value"))
            .drop("raw")
            .drop_nulls(["key", "value"])
        )
        if pairs.height == 0:
            raise EmptyInputError("no numeric values in the JSON records", path=inp.name)
        keys = pairs.get_column("key").unique(maintain_order=True).to_list()
        odd = (recs.select("lineno", line.str.extract_all(_OTHER_KEY).alias("p")).explode("p").drop_nulls("p")
               .with_columns(pl.col("p").str.extract(r'^"((?:[^"\\]|\\.)*)"', 1).alias("key"))
               .filter(pl.col("key").is_in(keys)))
        if odd.height:  # a metric logged as a string or a boolean in some records: not read, but said
            shown = ", ".join(repr(k) for k in odd.get_column("key").unique(maintain_order=True).head(3).to_list())
            notes.append(IngestNote("skipped_lines", f"{odd.height} value(s) that are strings or booleans where "
                                    f"the key holds numbers elsewhere not read ({shown})",
                                    line=int(odd.get_column("lineno").min()), count=odd.height))  # type: ignore[arg-type]
        lower = {k.lower(): k for k in reversed(keys)}
        step_key = next((lower[n] for n in STEP_NAMES if n in lower), None)
        epoch_key = next((lower[n] for n in EPOCH_NAMES if n in lower), None)
        wall_key = next((lower[n] for n in WALL_NAMES if n in lower), None)
        per_rec = recs.select("_rec")
        for k, alias in ((step_key, "_stepv"), (epoch_key, "_epoch"), (wall_key, "_wall")):
            if k is None:
                per_rec = per_rec.with_columns(pl.lit(None, dtype=pl.Float64).alias(alias))
                continue
            vals = pairs.filter(pl.col("key") == k).group_by("_rec").agg(pl.col("value").first().alias(alias))
            per_rec = per_rec.join(vals, on="_rec", how="left", maintain_order="left")
        if step_key is None and epoch_key is not None:
            ep = per_rec.get_column("_epoch").drop_nulls()
            if ep.len() and (ep == ep.floor()).all():
                step_key = epoch_key
                per_rec = per_rec.with_columns(pl.col("_epoch").alias("_stepv"))
        if step_key is None:
            per_rec = per_rec.with_columns(pl.col("_rec").cast(pl.Float64).alias("_stepv"))
            notes.append(IngestNote("inferred", "no step/iteration/epoch key: the record order (0-based) is the step"))
        else:
            n_missing = per_rec.get_column("_stepv").null_count()
            if n_missing:
                notes.append(IngestNote("inferred", f"{n_missing} record(s) without {step_key!r}: took the step "
                                        "of the record before", count=n_missing))
            per_rec = per_rec.with_columns(pl.col("_stepv").is_null().alias("_inherited"),
                                           pl.col("_stepv").forward_fill())
        # A step that is NaN, infinite or beyond the integer range costs only its own record.
        unusable = pl.col("_stepv").is_not_null() & (~pl.col("_stepv").is_finite()
                                                      | (pl.col("_stepv").abs() >= 9.2e18))
        bad_step = per_rec.filter(unusable)
        if bad_step.height:
            line = None
            if "lineno" in pairs.columns:
                hit = pairs.join(bad_step.select("_rec"), on="_rec", how="semi").get_column("lineno")
                line = int(hit.min()) if hit.len() else None  # type: ignore[arg-type]
            notes.append(IngestNote("skipped_lines", f"{bad_step.height} record(s) whose {step_key!r} is not a "
                                    "finite integer-range number skipped", line=line, count=bad_step.height))
            per_rec = per_rec.filter(~unusable)
        if epoch_key and step_key not in (None, epoch_key) and step_key.lower() in COUNTER_NAMES:
            # {"epoch": 2, "batch": 100, ...} with the batch counted again every epoch: one step from the two
            per_rec, note = combine_table_axis(per_rec, "_stepv", "_epoch", step_key)
            if note:
                notes.append(note)
        axis = {k for k in (step_key, epoch_key, wall_key) if k}
        long = pairs.filter(~pl.col("key").is_in(list(axis))).join(per_rec, on="_rec", how="left")
        long = long.filter(pl.col("_stepv").is_not_null())
        if "_inherited" in long.columns:
            # A value whose step was inherited never replaces one logged with its own step (a damaged
            # record '{"step" 45, "loss": ...}' would otherwise overwrite step 44's loss).
            ident = [pl.col("_split").fill_null("").alias("_s"), "key", "_stepv"]
            own = long.filter(~pl.col("_inherited")).select(ident).unique()
            clash = long.filter(pl.col("_inherited")).with_columns(ident[0]).join(own, on=["_s", "key", "_stepv"],
                                                                                  how="semi")
            if clash.height:
                notes.append(IngestNote(
                    "skipped_lines", f"{clash.height} value(s) in record(s) without {step_key!r} skipped: the step "
                    "they would take from the record before already has that value",
                    line=int(clash.get_column("lineno").min()), count=clash.height))  # type: ignore[arg-type]
                long = long.join(clash.select("_rec", "key"), on=["_rec", "key"], how="anti")
            long = long.drop("_inherited")
        namer = SeriesNamer()
        combos = long.select("key", "_split").unique(maintain_order=True)
        ident_split: dict[str, str] = {}
        ident_metric: dict[str, str] = {}
        for key, sp in combos.iter_rows():
            ident = f"{sp or ''}\x00{key}"
            guess = guess_split_metric(key, sp or "train")
            split, metric = namer.assign(key, *guess, ident=ident)
            ident_split[ident] = split
            ident_metric[ident] = metric
        keys = {i: i.split("\x00", 1)[1] for i in ident_split}
        if len(set(keys.values())) == len(keys):  # each key one series: the loss among loss-named keys
            named = main_loss({keys[i]: (ident_split[i], ident_metric[i]) for i in keys}, notes)
            for i, k in keys.items():
                ident_split[i], ident_metric[i] = named[k]
        order = {k: i for i, k in enumerate(ident_split)}
        ident = pl.col("_split").fill_null("") + pl.lit("\x00") + pl.col("key")
        frame = (
            long.with_columns(ident.alias("_id"))
            .select(
                pl.lit(inp.run_name).alias("run"),
                pl.col("_id").replace_strict(ident_split, return_dtype=pl.String).alias("split"),
                pl.col("_id").replace_strict(ident_metric, return_dtype=pl.String).alias("metric"),
                pl.col("key").alias("name"),
                pl.col("_stepv").cast(pl.Int64).alias("step"),
                pl.col("_epoch").alias("epoch"),
                pl.col("_wall").alias("wall_time"),
                pl.col("value"),
                pl.col("_id").replace_strict(order, return_dtype=pl.Int64).alias("_o"),
            )
            .sort("_o", maintain_order=True)
            .drop("_o")
        )
        return ParseResult(concat_frames([frame]), notes)


PARSERS = [JSONLParser()]
