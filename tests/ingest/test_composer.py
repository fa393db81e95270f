"""Composer / LLM Foundry ``ConsoleLogger``.

Sample follows ``composer/loggers/console_logger.py`` ``log_to_console`` (commit 02c872e4):
``log_str = f'{progress}' + (':' if len(data) > 0 else '')``; ``log_str += f'\\n\\t {prefix}{data_name}: {data_str}'``;
progress ``f'[epoch={cur_epoch + 1}]{curr_progress}'`` with ``f'[batch={cur_batch}/{total}]'`` (batch within the
epoch) or ``f'[{unit.name.lower()}={curr_duration}/{total}]'``; eval
``f'[Eval batch={eval_batch}/{total_eval_batches}] Eval on {eval_dataloader_label} data'``.
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


@pytest.mark.parametrize("case", ["mpt-batch", "epochs"])
def test_golden(case: str) -> None:
    src = read_path(sample("composer", case))
    assert src.format == "composer"
    assert_golden(src.frame, f"composer/{case}.csv")


def test_blocks_forward_fill_the_step() -> None:
    src = read_path(sample("composer", "mpt-batch"))
    loss = series(src, "train", "loss")
    assert loss[0] == (100, 4.1234) and loss[1][0] == 200 and math.isnan(loss[1][1])
    assert series(src, "train", "lr") == [(100, 0.0002), (200, 0.0002)]
    # Eval metrics take the step of the last training header
    assert series(src, "val", "language_cross_entropy") == [(100, 3.9876)]
    assert ("val", "language_perplexity", "metrics/eval/LanguagePerplexity") in keys(src)
    assert src.meta["total_steps"] == 4800


def test_epoch_headers_give_a_global_batch() -> None:
    src = read_path(sample("composer", "epochs"))
    assert series(src, "train", "loss") == [(10, 2.5), (30, 2.1)]  # [epoch=2][batch=10/20] -> 20 + 10


def test_token_unit_uses_time_batch() -> None:
    text = (
        "[token=1048576/10485760]:\n\t Train time/batch: 2\n\t Train loss/train/total: 5.5\n"
        "[token=2097152/10485760]:\n\t Train time/batch: 4\n\t Train loss/train/total: 5.1\n"
    )
    src = read_data(text.encode(), "run/train.log")
    assert src.format == "composer"
    assert series(src, "train", "loss") == [(2, 5.5), (4, 5.1)]


def test_torn_tail_and_crlf() -> None:
    data = sample("composer", "mpt-batch").read_bytes()
    t = read_data(torn(data, cut=8), "mpt-batch/train.log")
    assert "torn_tail" in note_kinds(t) and series(t, "train", "lr") == [(100, 0.0002)]
    c = read_data(crlf(data), "mpt-batch/train.log")
    assert c.frame.equals(read_path(sample("composer", "mpt-batch")).frame)


@pytest.mark.parametrize("case", ["mpt-batch", "epochs"])
def test_detected(case: str) -> None:
    path = sample("composer", case)
    assert choose(open_file(path)).name == "composer"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "composer"
