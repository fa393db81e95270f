"""Keras progress-bar stdout of ``model.fit(verbose=1|2)`` (Keras 2 / tf.keras and Keras 3).

Checked against docs/formats-reference.md §4b (``keras/src/utils/progbar.py`` ``Progbar.update`` in Keras 3,
``keras/utils/generic_utils.py`` ``Progbar`` in Keras 2). Sample (Keras 2 verbose=1, Keras 3
verbose=2)::

    Epoch 1/3
    1875/1875 [==============================] - 4s 2ms/step - loss: 0.2912 - accuracy: 0.9155 - val_loss: 0.1480
    1875/1875 - 4s - 2ms/step - accuracy: 0.9155 - loss: 0.2912 - val_accuracy: 0.9565 - val_loss: 0.1480

verbose=1 redraws the bar with ``\\r`` and ``\\b`` (Keras 3 also with ANSI colour codes);
:func:`lossdoc.ingest.text.load_lines` turns every redraw into its own row. One value per
epoch and metric is kept: the epoch's final update (``N/N`` with the epoch's own target, so a
later ``model.evaluate()`` bar is not taken for the epoch), which is the only one holding the
``val_`` metrics. The step is Keras's own 0-based epoch index (``Epoch 1/N`` is step 0), as in
``CSVLogger`` files and ``History.epoch``, so the bar and the CSV of one run line up. Several
``fit()`` calls in one log (``Epoch 1/N`` again) are laid end to end, with a note.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._tabular import SeriesNamer
from lossdoc.ingest.formats.keras_csv import cumulative_epochs
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import keep_last_run
from lossdoc.ingest.text import ANSI_RE, load_lines, to_float, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames

_EPOCH = r"^\s*Epoch (\d+)/(\d+)\s*$"
_PROGRESS = r"^\s*(\d+)/(\d+|Unknown)\b"
_OLD_VERBOSE2 = r"^\s*(?:-\s+)?\d+s\s+-\s"
_NUM = r"[-+]?(?:nan|inf|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
_PAIR = r"-\s[A-Za-z_][\w./]*:\s" + _NUM + r"(?:\s|$)"
_PAIR_GROUPS = r"^-\s(?P<name>[A-Za-z_][\w./]*):\s(?P<raw>" + _NUM + r")"
_SNIFF_EPOCH = re.compile(r"^\s*Epoch \d+/\d+\s*$", re.M)
_SNIFF_BAR = re.compile(r"^\s*(?:\d+/(?:\d+|Unknown)\b|(?:-\s+)?\d+s\s+-\s).*?- [A-Za-z_][\w./]*: " + _NUM, re.M)
_SNIFF_KERAS = re.compile(r"\[[=.>]+\]|━|\d[mu]s/step|\ds/epoch|^\s*(?:-\s+)?\d+s\s+-\s")


def dash_pairs(frame: pl.DataFrame, keep: list[str]) -> pl.DataFrame:
    """The `` - name: value`` pairs of each row's ``line`` (Keras and PaddlePaddle progress lines), one row
    per pair: the ``keep`` columns, ``name``, ``raw`` and ``value`` (Float64; nan/inf kept as values)."""
    return (
        frame.select(*keep, pl.col("line").str.extract_all(_PAIR).alias("p"))
        .explode("p")
        .drop_nulls("p")
        .select(*keep, pl.col("p").str.extract_groups(_PAIR_GROUPS).alias("g"))
        .unnest("g")
        .with_columns(to_float(pl.col("raw")).alias("value"))
        .drop_nulls(["name", "value"])
    )


class KerasProgbarParser(Parser):
    name = "keras-progbar"
    title = "Keras fit() progress-bar output"
    recognises = "'Epoch i/N' then 'N/N [====] - 4s 2ms/step - loss: x - val_loss: y' (Keras 2/3, verbose 1/2)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = re.sub(ANSI_RE, "", inp.head_text()).replace("\b", "").replace("\r", "\n")
        n_epoch = len(_SNIFF_EPOCH.findall(head))
        bars = _SNIFF_BAR.findall(head)
        if bars and not any("loss" in ln.lower() for ln in head.splitlines()[:2000] if _SNIFF_BAR.search(ln)):
            # Keras' fit() and evaluate() bars always print the loss; bars without one (PaddleSeg's evaluation bar
            # '1/500 [....] - ETA: 2:05 - batch_cost: 0.25 - reader cost: 0.19' inside a '[TRAIN] ... loss: X' log)
            # are another tool's progress, and the file's loss is elsewhere
            return 0.0
        keras_like = any(_SNIFF_KERAS.search(b) for b in bars[:50])
        if n_epoch and bars and keras_like:
            return 0.9
        if n_epoch and bars:
            return 0.75
        if bars and keras_like:
            return 0.6
        if n_epoch < 2:
            return 0.0
        # 'Epoch N/M' headers and no bar in the head: a Keras log only if bars show further down (the PyTorch
        # tutorials' 'Epoch 0/24' then 'train Loss: 0.5843 Acc: 0.6926' is not one)
        tail = re.sub(ANSI_RE, "", inp.tail_text()).replace("\b", "").replace("\r", "\n")
        return 0.3 if _SNIFF_BAR.search(tail) else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        if lines.height == 0:
            raise EmptyInputError("file is empty", path=inp.name)
        line = pl.col("line")
        # Keras <= 2.2 verbose=2 printed no count: " - 5s - loss: 0.29 - acc: 0.91" once per epoch; Keras 1
        # without the leading dash: "224s - loss: 3.5508 - acc: 0.2966 - val_loss: 1.4529".
        old_v2 = line.str.contains(_OLD_VERBOSE2)
        df = lines.with_row_index("_r").with_columns(
            line.str.extract(_EPOCH, 1).cast(pl.Int64, strict=False).alias("ep"),
            pl.when(old_v2).then(pl.lit("1")).otherwise(line.str.extract(_PROGRESS, 1)).alias("cur"),
            pl.when(old_v2).then(pl.lit("1")).otherwise(line.str.extract(_PROGRESS, 2)).alias("tgt"),
            line.str.contains(_PAIR).alias("has_m"),
        )
        has_headers = df.get_column("ep").null_count() < df.height
        df = df.with_columns(
            pl.col("ep").is_not_null().cum_sum().alias("block"),
            pl.col("ep").forward_fill().alias("epoch_no"),
        )
        prog = df.filter(pl.col("cur").is_not_null() & pl.col("has_m"))
        if has_headers:
            prog = prog.filter(pl.col("block") > 0)  # bars before the first "Epoch" are not training
        last_line = int(lines.get_column("lineno").max())  # type: ignore[arg-type]
        tail = torn_tail_note(inp, last_line)
        blocks_with_bars = prog.select("block").unique()
        if tail is not None:
            prog = prog.filter(pl.col("lineno") != last_line)
        if prog.height == 0:
            raise EmptyInputError("no Keras progress-bar lines with metrics (' - loss: x') found", path=inp.name)
        # The epoch's own target is the first bar's; its final update is the last N/N with that target.
        # (An unknown target, "100/Unknown", becomes "100/100" when Keras finalizes the epoch.)
        known = pl.col("tgt").filter(pl.col("tgt") != "Unknown").first()
        prog = prog.with_columns(known.over("block").alias("T"))
        final = prog.filter((pl.col("cur") == pl.col("tgt")) & (pl.col("tgt") == pl.col("T")))
        if has_headers:
            final = final.group_by("block", maintain_order=True).last()
        else:
            notes.append(IngestNote("inferred", "no 'Epoch i/N' lines: each completed bar is taken as one epoch"))
            final = final.with_columns((pl.int_range(pl.len()) + 1).alias("epoch_no"))
        unfinished = blocks_with_bars.join(final.select("block"), on="block", how="anti")
        last_block = int(df.get_column("block").max())  # type: ignore[arg-type]
        last_open = has_headers and unfinished.filter(pl.col("block") == last_block).height > 0
        if last_open:
            msg = ("the last epoch has no final progress update (training interrupted or still running); "
                   "its partial values were not read")
            if tail is not None:
                msg = f"last line has no line ending (file still being written?) and {msg}"
            notes.append(IngestNote("torn_tail", msg, line=tail.line if tail is not None else None))
        elif tail is not None:
            notes.append(tail)
        if has_headers and unfinished.height:
            n_mid = unfinished.filter(pl.col("block") != last_block).height
            if n_mid:
                notes.append(IngestNote("skipped_lines", f"{n_mid} epoch(s) without a final progress update "
                                        "were not read", count=n_mid))
        if final.height == 0:
            raise EmptyInputError("no completed Keras epoch found", path=inp.name)
        final = final.rename({"lineno": "_line"}).with_columns(pl.col("epoch_no") - 1)
        run_meta: dict[str, int] = {}
        if has_headers:
            # several models trained into one log: the last one (another fit() of the same model is kept)
            vals = dash_pairs(final, ["_line"])
            ref_name = "loss" if (vals.get_column("name") == "loss").any() else vals.get_column("name").first()
            ref = final.select("_line", "epoch_no").join(
                vals.filter(pl.col("name") == ref_name).unique("_line", keep="first"), on="_line", how="inner",
                maintain_order="left").select(pl.col("_line").alias("lineno"), pl.col("epoch_no").alias("counter"),
                                              "value")
            final = keep_last_run(final, ref, lines.select("lineno", "line"), notes, line_col="_line",
                                  counter_col="epoch_no", what="epoch", meta=run_meta)
        final, note = cumulative_epochs(
            final,
            "epoch_no",
            why="'Epoch 1/N' again: another fit() call",
        )
        if note:
            notes.append(note)
        pairs = dash_pairs(final, ["_line", "_step"])
        namer = SeriesNamer()
        for n in pairs.get_column("name").unique(maintain_order=True).to_list():
            namer.auto(n)
        splits = {n: s for n, (s, _) in namer.assigned.items()}
        metrics = {n: m for n, (_, m) in namer.assigned.items()}
        order = {n: i for i, n in enumerate(namer.assigned)}
        name = pl.col("name")
        frame = (
            pairs.select(
                pl.lit(inp.run_name).alias("run"),
                name.replace_strict(splits, return_dtype=pl.String).alias("split"),
                name.replace_strict(metrics, return_dtype=pl.String).alias("metric"),
                name,
                pl.col("_step").alias("step"),
                pl.col("_step").cast(pl.Float64).alias("epoch"),
                pl.col("value"),
                name.replace_strict(order, return_dtype=pl.Int64).alias("_o"),
            )
            .sort("_o", maintain_order=True)
            .drop("_o")
        )
        meta: dict[str, int] = dict(run_meta)
        totals = df.get_column("ep").drop_nulls()
        if totals.len():
            total = lines.select(line.str.extract(_EPOCH, 2).cast(pl.Int64, strict=False)).to_series().drop_nulls()
            meta["total_epochs"] = int(total[-1])
        return ParseResult(concat_frames([frame]), notes, meta)


PARSERS = [KerasProgbarParser()]
