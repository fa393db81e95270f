"""MMEngine ``vis_data/scalars.json``.

Sample follows ``mmengine/visualization/vis_backend.py`` ``LocalVisBackend.add_scalars``
(``scalar_dict.setdefault('step', step)``; ``f.write(json.dumps(scalar_dict) + '\\n')``, so Python's ``NaN`` /
``Infinity`` tokens appear as is) and ``mmengine/hooks/logger_hook.py`` (train records every ``interval``
iterations at ``step=runner.iter + 1``; validation ``add_scalars(tag, step=runner.epoch)`` for epoch-based loops).
FORMATS.md §10c. The real file is covered by ``test_real_logs.py``.
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.conftest import REAL_LOGS, real_logs_available
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("mmengine", "maskrcnn"))
    assert src.format == "mmengine"
    assert_golden(src.frame, "mmengine/maskrcnn.csv")


def test_train_and_val_records() -> None:
    src = read_path(sample("mmengine", "maskrcnn"))
    loss = series(src, "train", "loss")
    assert [s for s, _ in loss] == [50, 100, 170, 220] and math.isnan(loss[2][1])
    assert series(src, "train", "loss_bbox")[2][1] == math.inf
    assert ("val", "coco_bbox_map", "coco/bbox_mAP") in keys(src)
    assert ("val", "time", "time") in keys(src) and ("train", "time", "time") in keys(src)


def test_val_records_placed_at_epoch_end() -> None:
    # Epoch 2 starts at iteration 170 - 50 = 120 (first train record of each epoch is 50 in): 120 per epoch.
    src = read_path(sample("mmengine", "maskrcnn"))
    assert series(src, "val", "coco_bbox_map") == [(120, 0.374), (240, 0.401)]
    assert src.meta["iterations_per_epoch"] == 120
    ev = src.frame.filter(src.frame["split"] == "val")["epoch"].unique().sort().to_list()
    assert ev == [1.0, 2.0]
    assert "inferred" in note_kinds(src)


def test_irregular_epochs_fall_back_to_the_last_train_step() -> None:
    text = (
        '{"lr": 0.02, "loss": 1.5, "data_time": 0.01, "time": 0.5, "epoch": 1, "iter": 50, "step": 50}\n'
        '{"lr": 0.02, "loss": 1.4, "data_time": 0.01, "time": 0.5, "epoch": 2, "iter": 160, "step": 160}\n'
        '{"coco/bbox_mAP": 0.3, "data_time": 0.01, "time": 0.05, "step": 2}\n'
        '{"lr": 0.02, "loss": 1.3, "data_time": 0.01, "time": 0.5, "epoch": 3, "iter": 300, "step": 300}\n'
    )
    src = read_data(text.encode(), "run/scalars.json")
    assert src.format == "mmengine"
    assert series(src, "val", "coco_bbox_map") == [(160, 0.3)]


def test_iteration_based_run_keeps_val_steps() -> None:
    text = (
        '{"lr": 0.01, "loss": 2.0, "data_time": 0.01, "time": 0.5, "iter": 1000, "memory": 100, "step": 1000}\n'
        '{"mIoU": 40.1, "aAcc": 80.0, "data_time": 0.01, "time": 0.05, "step": 1000}\n'
    )
    src = read_data(text.encode(), "run/scalars.json")
    assert series(src, "val", "miou") == [(1000, 40.1)] and series(src, "val", "aacc") == [(1000, 80.0)]


def test_torn_tail_crlf_and_bad_middle_line() -> None:
    data = sample("mmengine", "maskrcnn").read_bytes()
    t = read_data(torn(data), "maskrcnn/scalars.json")
    assert "torn_tail" in note_kinds(t) and len(series(t, "val", "coco_bbox_map")) == 1
    assert read_data(crlf(data), "maskrcnn/scalars.json").frame.equals(read_path(sample("mmengine", "maskrcnn")).frame)
    lines = data.decode().splitlines(keepends=True)
    broken = "".join(lines[:2] + ['{"lr": 0.02, "loss": 1.0\n'] + lines[2:]).encode()
    b = read_data(broken, "maskrcnn/scalars.json")  # the corrupt line is skipped, every other row kept
    note = next(n for n in b.notes if n.kind == "skipped_lines")
    assert note.line == 3 and note.count == 1
    assert b.frame.equals(read_path(sample("mmengine", "maskrcnn")).frame)


def test_detected() -> None:
    path = sample("mmengine", "maskrcnn")
    assert choose(open_file(path)).name == "mmengine"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "mmengine"


@pytest.mark.skipif(not real_logs_available(), reason="../shared/real_logs not present")
def test_real_maskrcnn_val_on_iteration_axis() -> None:
    src = read_path(REAL_LOGS / "mmengine" / "dieg0bri-maskrcnn" / "scalars.json")
    # epoch 2 begins at iteration 318 = 268 + 50, so an epoch is 268 iterations; val after epochs 2 and 4.
    assert series(src, "val", "coco_bbox_map") == [(536, 0.286), (1072, 0.331)]
