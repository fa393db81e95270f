"""PaddlePaddle high-level API stdout: ``paddle.Model.fit`` with its default ``ProgBarLogger``.

Checked against docs/formats-reference.md §10h (``python/paddle/hapi/callbacks.py`` ``ProgBarLogger``,
``python/paddle/hapi/progressbar.py`` ``ProgressBar.update``, Paddle 2.x). Sample (verbose=2, the
default; ``log_freq`` 10)::

    The loss value printed in the log is the current step, and the metric is the average value of previous steps.
    Epoch 1/10
    step  10/614 - loss: 0.1637 - acc: 0.5273 - 3s/step
    step 614/614 - loss: 0.1512 - acc: 0.7001 - 3s/step
    save checkpoint at /home/user/save/0
    Eval begin...
    step 88/88 - loss: 0.1339 - acc: 0.8175 - 3s/step
    Eval samples: 11219

The step counter restarts every epoch (``step k/S``: the k-th of the epoch's S batches); the step
lossdoc uses is the optimizer step counted over the run, ``(epochs before) * S + k``, with S read
from the epoch's own lines. The lines between ``Eval begin...`` and ``Eval samples: n`` are the
evaluation: its last line holds the final values, which become one ``val`` point per evaluation at
the step where training stood. As the trainer says in the line it prints first, the loss is the
current batch's (train and eval alike: the eval "loss" is its last batch's, not a mean) and every
other metric the running average since the epoch (or evaluation) began; a note says so.
verbose=1 redraws a bar (``step 10/614 [====>...] - loss: ... - ETA: 1:02 - 3s/step``), which
:func:`lossdoc.ingest.text.load_lines` splits into one row per redraw; the same rules apply.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.errors import EmptyInputError
from lossdoc.ingest.formats._tabular import SeriesNamer, guess_split_metric
from lossdoc.ingest.formats.keras_progbar import _EPOCH, _NUM, _PAIR, _SNIFF_EPOCH, dash_pairs
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import ANSI_RE, load_lines, torn_tail_note
from lossdoc.model import IngestNote, ParseResult, concat_frames

_STEP = r"^\s*step\s+(\d+)(?:/(\d+))?(?:\s|$)"
_EVAL_BEGIN = r"^\s*Eval begin\.\.\.\s*$"
_EVAL_END = r"^\s*Eval samples: \d+\s*$"
_SNIFF_STEP = re.compile(r"^\s*step\s+\d+/\d+(?: \[[=>.]*\])? - [A-Za-z_][\w./]*: " + _NUM + r".* - \d+(?:s|ms|us)/step\s*$",
                         re.M)
_SNIFF_PADDLE = re.compile(r"The loss value printed in the log is the current (?:step|batch)|^\s*Eval begin\.\.\.\s*$",
                           re.M)


class PaddleHapiParser(Parser):
    name = "paddle-hapi"
    title = "PaddlePaddle paddle.Model.fit() progress output"
    recognises = "'Epoch i/N' then 'step 10/614 - loss: x - acc: y - 3s/step', 'Eval begin...' (ProgBarLogger)"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = re.sub(ANSI_RE, "", inp.head_text()).replace("\b", "").replace("\r", "\n")
        steps = len(_SNIFF_STEP.findall(head))
        if not steps:
            return 0.0
        epochs = bool(_SNIFF_EPOCH.search(head))
        paddle = bool(_SNIFF_PADDLE.search(head))
        if epochs and paddle:
            return 0.95
        if epochs or paddle:
            return 0.85
        return 0.5 if steps >= 3 else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = load_lines(inp, notes=notes)
        if lines.height == 0:
            raise EmptyInputError("file is empty", path=inp.name)
        line = pl.col("line")
        is_begin = line.str.contains(_EVAL_BEGIN)
        is_end = line.str.contains(_EVAL_END)
        df = lines.with_columns(
            line.str.extract(_EPOCH, 1).cast(pl.Int64, strict=False).alias("ep"),
            line.str.extract(_STEP, 1).cast(pl.Int64, strict=False).alias("k"),
            line.str.extract(_STEP, 2).cast(pl.Int64, strict=False).alias("S"),
            line.str.contains(_PAIR).alias("has_m"),
            # inside an evaluation: after 'Eval begin...' and before its 'Eval samples: n' (or the next epoch)
            pl.when(is_begin).then(pl.lit(True))
            .when(is_end | line.str.contains(_EPOCH)).then(pl.lit(False))
            .otherwise(None).forward_fill().fill_null(False).alias("in_eval"),
            is_begin.cum_sum().alias("eval_no"),
        )
        df = df.with_columns(pl.col("ep").is_not_null().cum_sum().alias("block"))
        last_line = int(lines.get_column("lineno").max())  # type: ignore[arg-type]
        tail = torn_tail_note(inp, last_line)
        prog = df.filter(pl.col("k").is_not_null() & pl.col("has_m"))
        if tail is not None:
            prog = prog.filter(pl.col("lineno") != last_line)
            notes.append(tail)
        train = prog.filter(~pl.col("in_eval"))
        if train.height == 0:
            raise EmptyInputError("no 'step k/N - loss: x' training lines found", path=inp.name)
        # steps per epoch: the epoch's own 'k/S' target, else the largest k it printed
        per_block = (train.group_by("block", maintain_order=True)
                     .agg(pl.col("S").drop_nulls().first().alias("S"), pl.col("k").max().alias("kmax"))
                     .with_columns(pl.coalesce("S", "kmax").alias("n"))
                     .with_columns((pl.col("n").cum_sum() - pl.col("n")).alias("offset")))
        train = train.join(per_block.select("block", "offset"), on="block", how="left").with_columns(
            (pl.col("offset") + pl.col("k")).alias("_step"))
        # an evaluation's values are its last line (on_eval_end prints the final ones), at the step where
        # training stood when it ran (the last training step printed before it, else its epoch's end)
        ev = prog.filter(pl.col("in_eval")).group_by("eval_no", maintain_order=True).last()
        ev = ev.join(per_block.select("block", (pl.col("offset") + pl.col("n")).alias("_end")), on="block", how="left")
        ev = ev.with_columns(pl.col("_end").alias("_step"))
        if ev.height:
            ev = ev.join_asof(train.select(pl.col("lineno").alias("_tl"), pl.col("_step").alias("_ts")).sort("_tl"),
                              left_on="lineno", right_on="_tl", strategy="backward")
            ev = ev.with_columns(pl.max_horizontal(pl.col("_ts").fill_null(0), pl.col("_step")).alias("_step"))
        n_ep = int(per_block.height)
        notes.append(IngestNote(
            "inferred",
            "PaddlePaddle ProgBarLogger: the step counter restarts every epoch; steps are counted over the run "
            f"({n_ep} epoch(s)); as the trainer prints, 'loss' is the current batch's (an evaluation's 'loss' is its "
            "last batch's) and the other metrics are running averages"))
        epochs_seen = df.get_column("ep").drop_nulls()
        if epochs_seen.len() > 1 and (epochs_seen.diff().drop_nulls() <= 0).any():
            notes.append(IngestNote("restart", "'Epoch 1/N' again: another fit() call; its epochs are laid after the "
                                    "earlier ones"))
        namer = SeriesNamer()
        frames = []
        for split, part in (("train", train), ("val", ev)):
            if part.height == 0:
                continue
            pairs = dash_pairs(part, ["_step", "block"])
            names = pairs.get_column("name").unique(maintain_order=True).to_list()
            keys = {n: namer.assign(n, *(_split_metric(n, split)), ident=f"{split}:{n}") for n in names}
            name = pl.col("name")
            frames.append(pairs.select(
                pl.lit(inp.run_name).alias("run"),
                name.replace_strict({n: k[0] for n, k in keys.items()}, return_dtype=pl.String).alias("split"),
                name.replace_strict({n: k[1] for n, k in keys.items()}, return_dtype=pl.String).alias("metric"),
                name,
                pl.col("_step").alias("step"),
                pl.when(pl.col("block") > 0).then(pl.col("block") - 1).cast(pl.Float64).alias("epoch"),
                pl.col("value"),
            ))
        meta: dict[str, object] = {}
        totals = lines.select(line.str.extract(_EPOCH, 2).cast(pl.Int64, strict=False)).to_series().drop_nulls()
        if totals.len():
            meta["total_epochs"] = int(totals[-1])
            s_last = per_block.get_column("n")[-1]
            if s_last is not None and len(set(per_block.get_column("n").to_list())) == 1:
                meta["total_steps"] = int(totals[-1]) * int(s_last)
        return ParseResult(concat_frames(frames), notes, meta)


def _split_metric(name: str, split: str) -> tuple[str, str]:
    s, m = guess_split_metric(name, split)
    return (split if s == "train" else s), m


PARSERS = [PaddleHapiParser()]
