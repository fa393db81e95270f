"""Real training-log shapes lossdoc could not read (benchmarks/publiclogs/UNREADABLE.tsv), each as a short
excerpt of the real lines (repository and path cited): what lossdoc must read from them, split by split,
values as logged."""

from __future__ import annotations

import polars as pl
import pytest

from lossdoc.errors import LossdocError
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return f.sort("step").get_column("value").to_list()


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return f.sort("step").get_column("step").to_list()


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


# ------------------------------------------------------- a trainer's lines after a preamble longer than the head
# Format sniffing looked at the first 64 KiB only; these logs open with more than that of other output.

# AkramjitS/gpt-lab-diffusion train.log: 1.4 MB of torch._dynamo warnings before modded-nanogpt's step lines.
DYNAMO = ("W0530 14:48:26.433000 2622492 site-packages/torch/_dynamo/convert_frame.py:1233]     "
          "result = self._inner_convert(\n")
MODDED = """\
Validating on 40960 tokens (10 steps with 4096 batch size)
step:0/20000 val_loss:1.0826e+01 train_time:0ms step_avg:0.01ms
step:1/20000 train_loss:1.082584e+01 train_time:6029ms step_avg:6028.64ms
step:2/20000 train_loss:8.461132e+00 train_time:10980ms step_avg:5489.86ms
step:3/20000 train_loss:5.837608e+00 train_time:15787ms step_avg:5262.28ms
step:7151/20000 train_loss:6.580660e-02 train_time:33748ms step_avg:4821.13ms
"""


def test_modded_nanogpt_lines_after_a_long_preamble_are_read() -> None:
    text = DYNAMO * (70_000 // len(DYNAMO) + 1) + MODDED
    src = read(text, "train.log")
    assert src.format == "modded-nanogpt"
    assert values(src, "train", "loss") == [10.82584, 8.461132, 5.837608, 0.0658066]
    assert steps(src, "train", "loss") == [1, 2, 3, 7151]
    assert values(src, "val", "loss") == [10.826]


# 2200xiaohu/LMSYS train.log: wandb banners and one 79 KB line of tqdm redraws before the Trainer's dicts.
BAR = "  0%|▎          | 10/8264 [01:09<16:10:15,  7.05s/it]"
HF = """\
{'loss': 12.4476, 'grad_norm': 35.838836669921875, 'learning_rate': 2.333333333333333e-05, 'epoch': 0.0}
{'loss': 4.7047, 'grad_norm': 11.237261772155762, 'learning_rate': 4.666666666666666e-05, 'epoch': 0.0}
{'loss': 0.6081, 'grad_norm': 3.3574726581573486, 'learning_rate': 7e-05, 'epoch': 0.01}
{'loss': 0.5237, 'grad_norm': 4.267791748046875, 'learning_rate': 6.999974524920855e-05, 'epoch': 0.01}
"""


def test_hf_console_dicts_after_a_long_line_of_progress_bars_are_read() -> None:
    text = ("wandb: Currently logged in as: someone. Use `wandb login --relogin` to force relogin\n"
            + BAR * (70_000 // len(BAR) + 1) + "\n" + HF)
    src = read(text, "train.log")
    assert src.format == "hf-console"
    assert values(src, "train", "loss") == [12.4476, 4.7047, 0.6081, 0.5237]


def test_a_long_file_of_other_text_stays_unrecognised() -> None:
    with pytest.raises(LossdocError, match="unrecognised log format"):
        read(DYNAMO * (140_000 // len(DYNAMO)), "train.log")
