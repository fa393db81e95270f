"""MMEngine's text log (OpenMMLab 2.x ``<timestamp>.log``): the format ``mmengine/runner/log_processor.py`` writes
(``Epoch(train) [e][i/N]``, ``Epoch(val) [e][N/N]`` with the metrics, ``Iter(train) [i/max_iters]``). An
MMYOLO-style log (StevenFlyGit/UnderwaterGarbageClassification train_log.log, found by a batch-13 collector) was
"unrecognised": its head is the config dump, and the heuristic reader, reading it whole, numbered the loss lines by
line order and read config values as series."""

from __future__ import annotations

from lossdoc.ingest import read_input
from lossdoc.ingest.inputs import from_bytes

CONFIG = "".join(f"    param_{i} = dict(type='X', num_classes={i}, momentum=0.9{i})\n" for i in range(40))


def _epoch_log() -> str:
    out = ["05/01 11:59:00 - mmengine - INFO - Config:\n", CONFIG]
    for e in range(1, 5):
        for it in (50, 100, 150):
            loss = 2.0 / e - it / 1000
            out.append(f"05/01 12:00:00 - mmengine - INFO - Epoch(train)  [{e}][{it:>3}/150]  base_lr: 1.0000e-02 "
                       f"lr: 1.0000e-02  eta: 0:33:18  time: 0.2121  data_time: 0.0110  memory: 3364  grad_norm: 4.2"
                       f"  loss: {loss:.4f}  loss_cls: {loss / 2:.4f}  loss_bbox: {loss / 2:.4f}\n")
        out.append(f"05/01 12:05:00 - mmengine - INFO - Epoch(val) [{e}][10/50]    eta: 0:00:05  time: 0.04  "
                   "data_time: 0.002  memory: 800\n")
        out.append(f"05/01 12:06:00 - mmengine - INFO - Epoch(val) [{e}][50/50]    coco/bbox_mAP: {0.1 * e:.4f}  "
                   "coco/bbox_mAP_50: 0.2040  data_time: 0.0021  time: 0.0456\n")
    return "".join(out)


def _series(src, split: str, metric: str) -> list[tuple[int, float]]:
    f = src.frame
    return [(int(s), round(v, 4)) for s, v in
            f.filter((f["split"] == split) & (f["metric"] == metric)).sort("step").select("step", "value").rows()]


def test_by_epoch_log_steps_and_validation_results() -> None:
    src = read_input(from_bytes(_epoch_log().encode(), name="20240501_115900.log"))
    assert src.format == "mmengine-text"
    loss = _series(src, "train", "loss")
    assert [s for s, _ in loss] == [50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 600]
    assert loss[0][1] == 1.95
    # validation results at their epoch's end; progress lines (timing only) add nothing
    assert _series(src, "val", "coco_bbox_m_ap") == [(150, 0.1), (300, 0.2), (450, 0.3), (600, 0.4)]
    metrics = set(src.frame["metric"].to_list())
    assert {"lr", "grad_norm", "loss_cls", "loss_bbox"} <= metrics
    assert not metrics & {"time", "data_time", "memory", "eta", "param_0", "momentum", "num_classes"}


def test_iteration_based_log() -> None:
    out = [CONFIG]
    for it in range(50, 501, 50):
        out.append(f"2024/05/01 12:00:00 - mmengine - INFO - Iter(train) [{it:>4}/1000]  lr: 1.0000e-02  "
                   f"eta: 1:00:00  time: 0.3  data_time: 0.01  memory: 4000  loss: {1.0 - it / 1000:.4f}  "
                   f"decode.loss_ce: {0.5 - it / 2000:.4f}\n")
        if it % 250 == 0:
            out.append(f"2024/05/01 12:10:00 - mmengine - INFO - Iter(val) [100/100]    aAcc: 90.0  mIoU: {it / 10:.2f}"
                       "  mAcc: 60.0  data_time: 0.002  time: 0.05\n")
    src = read_input(from_bytes("".join(out).encode(), name="20240501_120000.log"))
    assert src.format == "mmengine-text"
    assert [s for s, _ in _series(src, "train", "loss")] == list(range(50, 501, 50))
    assert _series(src, "val", "m_io_u") == [(250, 25.0), (500, 50.0)]
