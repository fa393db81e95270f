"""Reader fixes of round 13: each shape as an excerpt of the public log it came from (data/r13/, source named above
each test: repository, path, commit), what lossdoc must read."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source

DATA = Path(__file__).parent / "data" / "r13"


def read(text: str, name: str) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp)


def values(src: Source, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return [round(v, 4) for v in f.sort("step").get_column("value").to_list()]


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


# ------------------------------------------------------------------ pycocotools' COCOeval.summarize() lines
# h31263219/2026ImageClassification_HW3 output/train.log @ fa90706ef7db6ae6862c4421fcc179c2d25b30fb, lines 1-98
# (UTF-16 there): a Mask R-CNN loop evaluated with pycocotools after epochs 1 and 3. main read each summary line
# 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.121' as the series 'IoU' (0.5) and
# 'maxDets' (100), and 'DONE (t=3.33s).' as a series 't', at train and val, all 12 lines at one step.

def test_coco_summary_lines_are_named_metrics() -> None:
    src = read((DATA / "hw3_eval.log").read_text(), "train.log")
    got = series(src)
    assert not {m for _, m in got} & {"io_u", "max_dets", "t"}
    assert values(src, "val", "segm_ap") == [0.121, 0.192]
    assert values(src, "val", "segm_ap50") == [0.254, 0.379]
    assert values(src, "val", "segm_ar100") == [0.285, 0.366]
    assert values(src, "val", "segm_ap_small") == [0.105, 0.162]
    # 'area= large ... = -1.000' is pycocotools' "no objects of that size", not a value
    assert ("val", "segm_ap_large") not in got
    # the script's own summary line keeps its own names
    assert values(src, "val", "ap") == [0.1207, 0.1924]
    assert values(src, "train", "loss")[:3] == [6.8574, 5.1284, 3.0699]


# torchvision's references/detection/coco_eval.py (CocoEvaluator.summarize) prints 'IoU metric: bbox' (then 'segm')
# before each type's summary: the two types' metrics are told apart by it (here after a hand-rolled loop's lines).

def test_coco_summary_of_two_annotation_types() -> None:
    epoch = "Epoch {e} [{i:>3}/100] lr: 0.020000 loss: {v:.4f}\n"
    block = ("IoU metric: {t}\n"
             " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = {ap:.3f}\n"
             " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = {ap50:.3f}\n"
             " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.100\n")
    text = ""
    for e in range(3):
        text += "".join(epoch.format(e=e, i=i, v=2.0 - 0.1 * e - 0.01 * i / 20) for i in range(0, 100, 20))
        text += "Accumulating evaluation results...\nDONE (t=0.52s).\n"
        text += block.format(t="bbox", ap=0.30 + 0.01 * e, ap50=0.5 + 0.01 * e)
        text += block.format(t="segm", ap=0.20 + 0.01 * e, ap50=0.4 + 0.01 * e)
    src = read(text, "log.txt")
    assert values(src, "val", "bbox_ap") == [0.30, 0.31, 0.32]
    assert values(src, "val", "segm_ap") == [0.20, 0.21, 0.22]
    assert values(src, "val", "segm_ap50") == [0.40, 0.41, 0.42]
    assert values(src, "val", "bbox_ar1") == [0.1, 0.1, 0.1]
