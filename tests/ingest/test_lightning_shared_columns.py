"""A Lightning metrics.csv where a metric is logged under one name in training_step and validation_step
(``self.log("mse", ...)`` in both): the CSVLogger writes both to one column, each on its own row. Excerpt of
DarkStarStrix/Auto_Api metrics.csv (benchmarks/publiclogs batch 8, dev half; both reviewers noted that its val
values were read as training ones), the first 6 of its 200 rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lossdoc.ingest import from_bytes, read_input
from lossdoc.ingest.inputs import open_file
from lossdoc.model import Source

AUTO_API = """\
step,mse,epoch,train_loss,r2_score,val_loss
9,36.28242111206055,0,36.28242111206055,-0.4677006006240845,
9,25.100818634033203,0,,0.1739373505115509,25.100818634033203
19,13.339048385620117,1,13.339048385620117,0.5933793187141418,
19,13.339070320129395,1,,0.560021698474884,13.339070320129395
29,4.428620338439941,2,4.428620338439941,0.8366199731826782,
29,7.7100324630737305,2,,0.7568809986114502,7.7100324630737305
"""


def values(src: Source, split: str, name: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("name") == name)).sort("step")
    return f.get_column("value").to_list()


@pytest.mark.parametrize("where", ["file", "bytes"])
def test_a_metric_logged_in_both_steps_is_two_series(where: str, tmp_path: Path) -> None:
    if where == "file":  # the typed path reads a plain file on disk
        p = tmp_path / "metrics.csv"
        p.write_text(AUTO_API)
        inp = open_file(p)
    else:  # the string path (stdin, a .gz)
        inp = from_bytes(AUTO_API.encode(), name="metrics.csv")
    inp.run_name = "r"
    src = read_input(inp, None)
    assert src.format == "lightning-csv"
    assert values(src, "train", "mse") == [36.28242111206055, 13.339048385620117, 4.428620338439941]
    assert values(src, "val", "mse") == [25.100818634033203, 13.339070320129395, 7.7100324630737305]
    assert values(src, "val", "r2_score") == [0.1739373505115509, 0.560021698474884, 0.7568809986114502]
    assert values(src, "val", "val_loss") == [25.100818634033203, 13.339070320129395, 7.7100324630737305]
    msgs = " | ".join(n.message for n in src.notes)
    assert "logged on training rows and on validation rows" in msgs
    assert "repeat the step" not in msgs  # no row of one series is dropped as a duplicate any more


def test_a_column_filled_on_training_rows_only_is_left_alone() -> None:
    text = "step,acc,train_loss,val_loss\n9,0.5,1.2,\n9,,,1.3\n19,0.6,1.0,\n19,,,1.1\n29,0.7,0.9,\n29,,,1.0\n"
    inp = from_bytes(text.encode(), name="metrics.csv")
    inp.run_name = "r"
    src = read_input(inp, None)
    assert values(src, "train", "acc") == [0.5, 0.6, 0.7]
    assert not values(src, "val", "acc")
