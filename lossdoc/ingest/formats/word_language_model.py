"""pytorch/examples ``word_language_model/main.py`` stdout.

Checked with the search tool against ``pytorch/examples`` ``word_language_model/main.py``
(commit cd01f930): ``print('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | ms/batch {:5.2f} | '
'loss {:5.2f} | ppl {:8.2f}'.format(epoch, batch, len(train_data) // args.bptt, lr, ...))`` every
``log_interval`` batches, ``print('| end of epoch {:3d} | time: {:5.2f}s | valid loss {:5.2f} | '
'valid ppl {:8.2f}'.format(...))`` after each epoch (between rows of dashes) and
``print('| End of training | test loss {:5.2f} | test ppl {:8.2f}'.format(...))``. Sample::

    | epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch 45.12 | loss  7.63 | ppl  2065.55
    | end of epoch   1 | time: 140.23s | valid loss  5.85 | valid ppl   347.01
    | End of training | test loss  5.77 | test ppl   320.96

Step: the global batch ``(epoch - 1) * n + batch`` with ``n`` the batches per epoch printed on the
line; validation rows sit at the end of their epoch (``epoch * n``), the test row at the last step.
``epoch`` is fractional for training rows. Losses are natural-log cross entropy (``ppl = exp(loss)``),
printed with two decimals.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, finish, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote, ParseResult

_TRAIN = (r"^\| epoch\s+(\d+) \|\s*(\d+)/\s*(\d+) batches \| lr\s+(\S+) \| ms/batch\s+(\S+) \| "
          r"loss\s+(\S+) \| ppl\s+(\S+)")
_VALID = r"^\| end of epoch\s+(\d+) \| time:\s*(\S+)s \| valid loss\s+(\S+) \| valid ppl\s+(\S+)"
_TEST = r"^\| End of training \| test loss\s+(\S+) \| test ppl\s+(\S+)"
_SNIFF = re.compile(r"^\| epoch\s+\d+ \|\s*\d+/\s*\d+ batches \| lr ", re.M)
_SNIFF_VALID = re.compile(r"^\| end of epoch\s+\d+ \| time:", re.M)


class WordLanguageModelParser(Parser):
    name = "pytorch-wlm"
    title = "pytorch/examples word_language_model stdout"
    recognises = "'| epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch ... | loss ... | ppl ...' lines"
    priority = 30

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        n = len(_SNIFF.findall(head))
        v = len(_SNIFF_VALID.findall(head))
        if n >= 2 or (n and v):
            return 0.9
        return 0.75 if (n or v) else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = read_text_lines(inp, notes)
        lines = drop_torn_tail(inp, lines, notes)
        line = pl.col("line")
        tr = lines.filter(line.str.starts_with("| epoch")).select(
            "lineno", *[line.str.extract(_TRAIN, i).alias(f"g{i}") for i in range(1, 8)]
        ).filter(pl.col("g1").is_not_null()).with_columns(
            pl.col("g1").cast(pl.Int64).alias("E"), pl.col("g2").cast(pl.Int64).alias("b"),
            pl.col("g3").cast(pl.Int64).alias("n"),
        ).with_columns(
            ((pl.col("E") - 1) * pl.col("n") + pl.col("b")).alias("step"),
            (pl.col("E") - 1 + pl.col("b") / pl.col("n")).alias("epoch"),
        )
        n_batches = tr.get_column("n").max() if tr.height else None
        va = lines.filter(line.str.starts_with("| end of epoch")).select(
            "lineno", *[line.str.extract(_VALID, i).alias(f"g{i}") for i in range(1, 5)]
        ).filter(pl.col("g1").is_not_null()).with_columns(pl.col("g1").cast(pl.Int64).alias("E"))
        va = va.with_columns(
            (pl.col("E") * n_batches if n_batches is not None else pl.col("E")).cast(pl.Int64).alias("step"),
            pl.col("E").cast(pl.Float64).alias("epoch"),
        )
        te = lines.filter(line.str.starts_with("| End of training")).select(
            "lineno", line.str.extract(_TEST, 1).alias("g1"), line.str.extract(_TEST, 2).alias("g2")
        ).filter(pl.col("g1").is_not_null())
        last = max([int(x) for x in (tr.get_column("step").max(), va.get_column("step").max()) if x is not None],
                   default=0)
        run = inp.run_name

        def rows(df: pl.DataFrame, split: str, metric: str, name: str, col: str) -> pl.DataFrame:
            return df.select(
                pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                pl.lit(name).alias("name"), pl.col("step").cast(pl.Int64), pl.col("epoch").cast(pl.Float64),
                pl.lit(None, dtype=pl.Float64).alias("wall_time"), to_float(pl.col(col)).alias("value"), "lineno",
            )

        te = te.with_columns(pl.lit(last, dtype=pl.Int64).alias("step"), pl.lit(None, dtype=pl.Float64).alias("epoch"))
        frames = [
            rows(tr, "train", "loss", "loss", "g6"), rows(tr, "train", "perplexity", "ppl", "g7"),
            rows(tr, "train", "lr", "lr", "g4"), rows(tr, "train", "ms_per_batch", "ms/batch", "g5"),
            rows(va, "val", "loss", "valid loss", "g3"), rows(va, "val", "perplexity", "valid ppl", "g4"),
            rows(va, "other", "epoch_time_s", "time", "g2"),
            rows(te, "test", "loss", "test loss", "g1"), rows(te, "test", "perplexity", "test ppl", "g2"),
        ]
        long = pl.concat([f for f in frames if f.height], how="vertical_relaxed") if any(f.height for f in frames) \
            else pl.DataFrame()
        meta: dict[str, object] = {}
        if n_batches is not None:
            meta["batches_per_epoch"] = int(n_batches)  # type: ignore[arg-type]
        return ParseResult(finish(long, notes), notes, meta)


PARSERS = [WordLanguageModelParser()]
