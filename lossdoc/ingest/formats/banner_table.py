"""A fixed-width table under a banner that names its column groups by split: the log of
spytensor/plants_disease_detection ``main.py`` and the many Kaggle-starter copies of it.

Checked with the search tool against copies of that ``main.py`` (the repository itself is not indexed;
docs/formats-reference.md §10m)::

    log.write('                           |------------ VALID -------------|----------- TRAIN -------------|------Accuracy------|------------|\\n')
    log.write('lr       iter     epoch    | loss   top-1  top-2            | loss   top-1  top-2           |    Current Best    | time       |\\n')
    ...
    log.write('%0.4f %5.1f %6.1f        | %0.3f  %0.3f  %0.3f          | %0.3f  %0.3f  %0.3f         |         %s         | %s' % (
              lr, 0 + epoch, epoch, valid_loss[0], valid_loss[1], valid_loss[2],
              train_losses.avg, train_top1.avg, train_top2.avg, str(best_precision_save), time_to_str(...)))

one row per epoch, after ``[START <time>]`` and the two header lines each time the script starts. Sample::

    0.0001   0.0    0.0        | 0.468  80.713  97.297          | 0.808  73.364  90.875         |         80.71336         |  0 hr 28 min

Read generally: the banner's ``|``-separated groups name a split (``VALID`` -> val, ``TRAIN`` -> train,
``TEST`` -> test); the header line under it names each group's columns (``loss``, ``top-1``); a row's
numbers in each group are those columns' values, as logged. The group before the first ``|`` holds the
axis (``epoch``, else ``iter``/``step``, as the step) and the learning rate (``lr``); groups whose banner
names no split (``Accuracy``: the best value so far, a running maximum) and text cells (the time) are not
read.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import ParseError
from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run, reference
from lossdoc.model import IngestNote, ParseResult, canonical_metric, snake_case

#: "   |------------ VALID -------------|----------- TRAIN -------------|---...": groups named between dashes
_BANNER = re.compile(r"^\s*\|(?:-+[ \w/]*-*\|){2,}\s*$")
_SPLIT = {"valid": "val", "validation": "val", "val": "val", "eval": "val", "train": "train", "training": "train",
          "test": "test"}
_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf)"
_AXES = ("epoch", "iter", "iteration", "step")


def _groups(banner: str) -> list[str | None]:
    """The split each ``|``-group of the banner names (None where it names none)."""
    cells = banner.strip().strip("|").split("|")
    out: list[str | None] = []
    for c in cells:
        word = re.sub(r"[-\s]+", " ", c).strip().lower()
        out.append(_SPLIT.get(word.split("/")[0].strip()) if word else None)
    return out


class BannerTableParser(Parser):
    name = "banner-table"
    title = "Fixed-width table under a |--- VALID ---|--- TRAIN ---| banner (plants_disease_detection and copies)"
    recognises = ("a banner '|---- VALID ----|---- TRAIN ----|...' over a header 'lr iter epoch | loss top-1 ... | "
                  "loss ...', rows of numbers in the same '|' groups")
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        for m in re.finditer(r"^.*\|.*$", head, re.M):
            if _BANNER.match(m.group(0)) and any(_groups(m.group(0))):
                return 0.9
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = drop_torn_tail(inp, read_text_lines(inp, notes), notes)
        line = pl.col("line")
        banners = lines.filter(line.str.contains(_BANNER.pattern)).get_column("line").to_list()
        heads = (lines.with_columns(line.shift(1).alias("_prev"))
                 .filter(pl.col("_prev").str.contains(_BANNER.pattern)).get_column("line").to_list())
        if not banners or not heads:
            raise ParseError("no banner with a header line under it", path=inp.name, line=1)
        groups = _groups(banners[0])
        names = [c.split() for c in heads[0].rstrip().rstrip("|").split("|")]
        if len(names) < 2 or len(groups) < len(names) - 1:
            raise ParseError("the header line under the banner does not split into its groups", path=inp.name)
        axis = names[0]
        # rows: lines of numbers in as many '|' groups as the header has
        rows = lines.filter(line.str.contains(rf"^\s*{_NUM}\s") & (line.str.count_matches(r"\|") >= len(names) - 1))
        cells = rows.with_columns(line.str.split("|").alias("_c"))
        frames: list[pl.DataFrame] = []
        step_col = next((a for a in _AXES if a in [n.lower() for n in axis]), None)
        if step_col is None:
            raise ParseError(f"no epoch/iter/step column in the header's first group ({' '.join(axis)!r})", path=inp.name)
        first = cells.with_columns(pl.col("_c").list.get(0).str.extract_all(_NUM).alias("_n"))
        low = [n.lower() for n in axis]
        step = (first.get_column("_n").list.get(low.index(step_col), null_on_oob=True)
                .cast(pl.Float64, strict=False))
        base = first.select("lineno", step.alias("_step"))
        if not bool((base.get_column("_step").drop_nulls() == base.get_column("_step").drop_nulls().round(0)).all()):
            notes.append(IngestNote("inferred", f"'{step_col}' is fractional: the row order is the step"))
            base = base.with_columns(pl.int_range(0, pl.len()).cast(pl.Float64).alias("_step"))
        if "lr" in low:
            frames.append(first.select("lineno", pl.lit("train").alias("split"), pl.lit("lr").alias("metric"),
                                       pl.lit(axis[low.index("lr")]).alias("name"),
                                       pl.col("_n").list.get(low.index("lr"), null_on_oob=True).alias("raw")))
        for gi, cols in enumerate(names[1:]):
            split = groups[gi] if gi < len(groups) else None
            if split is None or not cols:
                continue
            g = cells.with_columns(pl.col("_c").list.get(gi + 1, null_on_oob=True).str.extract_all(_NUM).alias("_n"))
            for ci, col in enumerate(cols):
                metric = canonical_metric(snake_case(col))
                frames.append(g.select("lineno", pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                                       pl.lit(col).alias("name"),
                                       pl.col("_n").list.get(ci, null_on_oob=True).alias("raw")))
        long = (pl.concat(frames).join(base, on="lineno", how="left").sort("lineno", maintain_order=True)
                .select(pl.lit(inp.run_name).alias("run"), "split", "metric", "name",
                        pl.col("_step").round(0).cast(pl.Int64).alias("step"),
                        pl.col("_step").alias("epoch") if step_col == "epoch" else pl.lit(None, dtype=pl.Float64).alias("epoch"),
                        pl.lit(None, dtype=pl.Float64).alias("wall_time"),
                        pl.col("raw").cast(pl.Float64, strict=False).alias("value"), "lineno"))
        skipped = [g for g, n in zip(["axis", *groups], names, strict=False) if g is None and n]
        if len(skipped) > 1:
            notes.append(IngestNote("inferred", "column groups whose banner names no split (a running best, the time) "
                                    "are not read"))
        meta: dict[str, object] = {"x_axis": "epoch"} if step_col == "epoch" else {}
        long = keep_last_run(long, reference(long), lines.select("lineno", "line"), notes, meta=meta)
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [BannerTableParser()]
