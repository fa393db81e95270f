"""A fixed-width table printed by a hand-rolled training loop (header of multi-word column names two or more blanks
apart, rows of numbers): DandaAkhilReddy/enzyme-gcn-classifier training_output.log (benchmarks/publiclogs batch 8,
unreadable then), excerpt: the banner and config cut, 5 of its 21 rows, the summary after the table."""

from __future__ import annotations

import polars as pl
import pytest

from lossdoc.errors import LossdocError
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source

ENZYME = """\
======================================================================
TRAINING START
======================================================================

Configuration:
  Epochs: 200
  Batch size: 32
  Learning rate: 0.01

Epoch    Train Loss   Train Acc    Test Loss    Test Acc     Time    
----------------------------------------------------------------------
1        2.4288       0.2771       1.7552       0.2771       0.55    s
10       1.7038       0.2646       1.7079       0.2458       0.44    s
20       1.6817       0.2562       1.7219       0.2292       0.37    s
30       1.6245       0.3042       1.6488       0.2750       0.46    s
40       1.6185       0.3375       1.6205       0.3125       0.39    s
----------------------------------------------------------------------

Training completed in 76.25 seconds (1.27 minutes)
Best test accuracy: 0.5271 (52.71%)
"""


def read(data: str, name: str = "training_output.log") -> Source:
    inp = from_bytes(data.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, None)


def col(src: Source, split: str, metric: str, what: str = "value") -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return f.get_column(what).to_list()


def test_columns_are_the_series_their_names_say() -> None:
    src = read(ENZYME)
    assert src.format == "text-table"
    assert col(src, "train", "loss") == [2.4288, 1.7038, 1.6817, 1.6245, 1.6185]
    assert col(src, "test", "loss") == [1.7552, 1.7079, 1.7219, 1.6488, 1.6205]
    assert col(src, "test", "accuracy") == [0.2771, 0.2458, 0.2292, 0.2750, 0.3125]
    assert col(src, "train", "loss", "step") == [1, 10, 20, 30, 40]
    assert "Time" not in src.frame.get_column("name").to_list()  # a column of seconds is no metric


def test_a_prose_line_with_wide_gaps_is_not_a_table() -> None:
    with pytest.raises(LossdocError):
        read("Epoch    summary    follows\nthe   run   ended   early\nnothing  else  here\n")


def test_a_header_without_a_loss_column_is_not_claimed() -> None:
    text = "Epoch    Train Acc    Test Acc\n1        0.27         0.25\n2        0.31         0.29\n3        0.35         0.30\n"
    src = None
    try:
        src = read(text)
    except LossdocError:
        return
    assert src.format != "text-table"


def test_a_header_printed_again_starts_a_new_run() -> None:
    head = "Epoch    Train Loss   Val Loss     Time\n"
    text = (head + "1        2.0          2.1          0.5 s\n2        1.9          2.0          0.5 s\n"
            "3        1.8          1.95         0.5 s\n" + head + "1        2.0          2.1          0.5 s\n"
            "2        1.7          1.9          0.5 s\n3        1.6          1.85         0.5 s\n"
            "4        1.5          1.8          0.5 s\n")
    src = read(text)
    assert col(src, "train", "loss") == [2.0, 1.7, 1.6, 1.5]  # the last run, as the runs normaliser keeps it
    assert col(src, "val", "loss", "step") == [1, 2, 3, 4]
    msgs = " | ".join(n.message for n in src.notes)
    assert "(printed 2 times)" in msgs and "2 separate runs" in msgs
