"""Darknet's training output (YOLOv2-v4), the line shapes of its C source (lossdoc/ingest/formats/darknet.py
cites them): pjreddie's ``detector.c``, AlexeyAB's fork (``avg loss``, ``hours left``, a blank line before each
iteration), ``classifier.c`` (batch, epoch) and ``rnn.c`` (``epochs``). Batch 16's collectors found two real logs
lossdoc read 1-2 points of (the ``Region Avg IOU`` lines only)."""

from __future__ import annotations

import math

import polars as pl

import lossdoc
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str = "train.log") -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, None)


def col(src: Source, metric: str, field: str = "value") -> list[float]:
    f = src.frame.filter((pl.col("split") == "train") & (pl.col("metric") == metric))
    return f.sort("step").get_column(field).to_list()


ALEXEY = """\
 CUDA-version: 10000 (10010), cuDNN: 7.6.5, GPU count: 1
 Region Avg IOU: 0.312000, Class: 0.501000, Obj: 0.401000, No Obj: 0.010000, Avg Recall: 0.250000,  count: 8

 1: 812.414551, 812.414551 avg loss, 0.000000 rate, 3.201000 seconds, 64 images, -1.000000 hours left
 Region Avg IOU: 0.322000, Class: 0.511000, Obj: 0.411000, No Obj: 0.011000, Avg Recall: 0.250000,  count: 8

 2: 640.125000, 795.185608 avg loss, 0.000000 rate, 3.100000 seconds, 128 images, 21.300000 hours left

 3: 401.500000, 755.817041 avg loss, 0.000001 rate, 3.050000 seconds, 192 images, 21.100000 hours left

 4: -nan, -nan avg loss, 0.000002 rate, 3.000000 seconds, 256 images, 21.000000 hours left
"""


def test_alexeyab_lines_read_loss_running_average_and_rate() -> None:
    src = read(ALEXEY)
    assert src.format == "darknet"
    assert col(src, "loss")[:3] == [812.414551, 640.125, 401.5] and math.isnan(col(src, "loss")[3])
    assert col(src, "loss", "step") == [1, 2, 3, 4]
    assert col(src, "avg_loss")[:2] == [812.414551, 795.185608]
    assert col(src, "lr") == [0.0, 0.0, 0.000001, 0.000002]
    assert any("running average" in n.message for n in src.notes)


def test_pjreddie_detector_and_classifier_lines() -> None:
    det = read("Loaded: 0.000033 seconds\n"
               "Region Avg IOU: 0.287, Class: 0.0307, Obj: 0.0121, No Obj: 0.0111, Avg Recall: 0.125,  count: 8\n"
               "1: 468.110321, 468.110321 avg, 0.000000 rate, 2.713522 seconds, 64 images\n"
               "2: 466.220154, 467.921301 avg, 0.000000 rate, 2.617004 seconds, 128 images\n"
               "3: 459.937012, 467.122872 avg, 0.000000 rate, 2.629130 seconds, 192 images\n")
    assert det.format == "darknet" and col(det, "loss") == [468.110321, 466.220154, 459.937012]
    cls = read("1, 0.003: 6.907756, 6.907756 avg, 0.100000 rate, 0.902 seconds, 128 images\n"
               "2, 0.005: 6.904999, 6.907480 avg, 0.100000 rate, 0.887 seconds, 256 images\n"
               "3, 0.008: 6.889120, 6.905644 avg, 0.100000 rate, 0.891 seconds, 384 images\n")
    assert cls.format == "darknet" and col(cls, "loss", "step") == [1, 2, 3]
    assert col(cls, "loss", "epoch") == [0.003, 0.005, 0.008]


def test_a_darknet_run_is_diagnosed_from_its_iteration_losses(tmp_path) -> None:
    # 80 iterations falling from ~800 then going NaN: the NaN onset is reported at its iteration
    lines, avg = [], -1.0
    for i in range(1, 81):
        loss = 800 * math.exp(-i / 6) + 1.0 + 0.1 * (i % 3)
        avg = loss if avg < 0 else avg * .9 + loss * .1
        lines.append(f" {i}: {loss:f}, {avg:f} avg loss, 0.001000 rate, 3.2 seconds, {64 * i} images, 1.0 hours left")
    lines += [f" {i}: -nan, -nan avg loss, 0.001000 rate, 3.2 seconds, {64 * i} images, 1.0 hours left"
              for i in range(81, 91)]
    p = tmp_path / "train.log"
    p.write_text("\n\n".join(lines) + "\n")
    res = lossdoc.analyze(str(p))
    nf = [f for f in res.findings if f.rule == "NF001"]
    assert nf and nf[0].start_step == 81 and "LR in force 1e-3" in nf[0].message, [(f.rule, f.message[:80]) for f in res.findings]
    assert res.runs[0].summary.best_train_step is not None and res.runs[0].summary.best_train_step <= 80
