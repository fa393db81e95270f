"""fastai ``CSVLogger`` ``history.csv``.

Sample follows ``fastai/callback/progress.py`` ``CSVLogger`` (FORMATS.md §10b): ``before_fit``:
``self.file.write(','.join(self.recorder.metric_names) + '\\n')``; ``_write_line``:
``self.file.write(','.join([str(t) for t in log]) + '\\n')``; ``time`` is ``format_time`` (``mm:ss`` or
``h:mm:ss``).
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("fastai", "pets"))
    assert src.format == "fastai"
    assert_golden(src.frame, "fastai/pets.csv")


def test_splits_metrics_and_time() -> None:
    src = read_path(sample("fastai", "pets"))
    assert ("val", "accuracy", "accuracy") in keys(src) and ("val", "error_rate", "error_rate") in keys(src)
    assert series(src, "train", "loss")[1] == (1, 0.4512)
    assert math.isnan(series(src, "val", "loss")[2][1])
    # wall_time: running sum of the per-epoch times 00:12, 01:11, 1:00:05
    walls = src.frame.filter(src.frame["metric"] == "accuracy").sort("step")["wall_time"].to_list()
    assert walls == [12.0, 12.0 + 71.0, 12.0 + 71.0 + 3605.0]


def test_torn_tail_and_crlf() -> None:
    data = sample("fastai", "pets").read_bytes()
    t = read_data(torn(data), "pets/history.csv")
    assert [s for s, _ in series(t, "train", "loss")] == [0, 1] and "torn_tail" in note_kinds(t)
    assert read_data(crlf(data), "pets/history.csv").frame.equals(read_path(sample("fastai", "pets")).frame)


def test_detected() -> None:
    path = sample("fastai", "pets")
    assert choose(open_file(path)).name == "fastai"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "fastai"
