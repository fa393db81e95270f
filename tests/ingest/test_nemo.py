"""NeMo 2 ``ProgressPrinter``.

Sample follows ``nemo/lightning/pytorch/callbacks/progress_printer.py`` (commit 8e2ee3d4):
``prefix = self.train_description + f" epoch {trainer.current_epoch}, iteration {n-1}/{self.total-1}"``;
``format_string``: ``log_string += f' | {metric}: {val}'`` (integer-valued floats as int) else ``f' | {metric}: {val:.4}'``;
validation ``print(self.validation_description + f": iteration {int(n)}/{self.total_validation_steps}")``.
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("nemo", "llama"))
    assert src.format == "nemo"
    assert_golden(src.frame, "nemo/llama.csv")


def test_keys_and_axis() -> None:
    src = read_path(sample("nemo", "llama"))
    loss = series(src, "train", "loss")
    assert loss[:2] == [(0, 11.03), (1, 10.98)] and math.isnan(loss[2][1])
    assert ("train", "step_time_s", "train_step_timing in s") in keys(src)
    assert series(src, "val", "loss") == [(2, 10.5)]
    assert "global_step" not in src.frame["name"].to_list()
    assert src.meta["total_steps"] == 1000


def test_torn_tail_and_crlf() -> None:
    data = sample("nemo", "llama").read_bytes()
    t = read_data(torn(data, cut=40), "llama/nemo_log.txt")
    assert "torn_tail" in note_kinds(t) and [s for s, _ in series(t, "train", "loss")] == [0, 1]
    c = read_data(crlf(data), "llama/nemo_log_globalrank-0_localrank-0.txt")
    assert c.frame.equals(read_path(sample("nemo", "llama")).frame)


def test_detected() -> None:
    path = sample("nemo", "llama")
    assert choose(open_file(path)).name == "nemo"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "nemo"
