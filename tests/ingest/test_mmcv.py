"""MMCV 1.x ``<timestamp>.log.json``.

Sample follows ``mmcv/runner/hooks/logger/text.py`` (FORMATS.md §10c): ``TextLoggerHook.before_run`` dumps
the run meta as the first line; ``log``: ``log_dict = OrderedDict(mode=self.get_mode(runner),
epoch=self.get_epoch(runner), iter=cur_iter)`` (``iter`` within the epoch, ``inner_iter + 1``), then ``lr``,
``memory`` and the log buffer's values; ``_dump_log``: ``mmcv.dump(json_log, f, file_format='json')`` + ``'\\n'``
with floats rounded to 5 decimals.
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("mmcv", "faster-rcnn"))
    assert src.format == "mmcv"
    assert_golden(src.frame, "mmcv/faster-rcnn.csv")


def test_global_step_from_epoch_and_inner_iter() -> None:
    src = read_path(sample("mmcv", "faster-rcnn"))
    loss = series(src, "train", "loss")
    # N = 100 (largest inner iter logged): epoch 2 iter 50 -> 150
    assert [s for s, _ in loss] == [50, 100, 150] and math.isnan(loss[1][1])
    assert src.meta["iterations_per_epoch"] == 100
    assert series(src, "val", "bbox_map") == [(100, 0.374)]
    assert ("val", "lr") not in {(s, m) for s, m, _ in keys(src)}  # val records repeat the train lr
    assert "inferred" in note_kinds(src)


def test_meta_line_is_ignored_and_torn_tail_noted() -> None:
    data = sample("mmcv", "faster-rcnn").read_bytes()
    src = read_path(sample("mmcv", "faster-rcnn"))
    assert "seed" not in src.frame["name"].to_list()
    t = read_data(torn(data), "x/20240301_100000.log.json")
    assert "torn_tail" in note_kinds(t) and [s for s, _ in series(t, "train", "loss")] == [50, 100]
    c = read_data(crlf(data), "faster-rcnn/20240301_100000.log.json")
    assert c.frame.drop("run").equals(src.frame.drop("run"))


def test_detected() -> None:
    path = sample("mmcv", "faster-rcnn")
    assert choose(open_file(path)).name == "mmcv"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "mmcv"
