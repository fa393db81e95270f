"""timm ``summary.csv``.

Sample follows ``timm/utils/summary.py`` ``update_summary`` (FORMATS.md §10a):
``rowd = OrderedDict(epoch=epoch)``; ``rowd.update([('train_' + k, v) for k, v in train_metrics.items()])``;
``rowd.update([('eval_' + k, v) for k, v in eval_metrics.items()])``; ``if lr is not None: rowd['lr'] = lr``;
written with ``csv.DictWriter`` (header on the first epoch).
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("timm", "resnet"))
    assert src.format == "timm"
    assert_golden(src.frame, "timm/resnet.csv")


def test_splits_and_values() -> None:
    src = read_path(sample("timm", "resnet"))
    assert ("val", "top1", "eval_top1") in keys(src)
    assert series(src, "train", "loss") == [(0, 6.8921), (1, 6.3107)]
    val = series(src, "val", "loss")
    assert val[0] == (0, 6.5412) and math.isnan(val[1][1])
    assert series(src, "train", "lr") == [(0, 0.0001), (1, 0.0002)]


def test_torn_tail_and_crlf() -> None:
    data = sample("timm", "resnet").read_bytes()
    t = read_data(torn(data), "resnet/summary.csv")
    assert [s for s, _ in series(t, "train", "loss")] == [0] and "torn_tail" in note_kinds(t)
    assert read_data(crlf(data), "resnet/summary.csv").frame.equals(read_path(sample("timm", "resnet")).frame)


def test_detected() -> None:
    path = sample("timm", "resnet")
    assert choose(open_file(path)).name == "timm"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "timm"
