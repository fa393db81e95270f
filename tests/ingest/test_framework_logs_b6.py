"""Framework log shapes of the batch-6 public logs lossdoc could not read (UNREADABLE.tsv), each as an excerpt
of the real file (repository and path cited): TensorFlow Estimator, maskrcnn-benchmark MetricLogger, Demucs
solver summaries, YOLOv7 console rows, Keras History nested under a fold key."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from lossdoc.errors import LossdocError
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source

DATA = Path(__file__).parent / "data" / "b6"


def read(data: str | bytes, name: str) -> Source:
    inp = from_bytes(data.encode() if isinstance(data, str) else data, name=name)
    inp.run_name = "r"
    return read_input(inp, None)


def values(src: Source, split: str, metric: str, run: str = "r") -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric) & (pl.col("run") == run))
    return f.sort("step").get_column("value").to_list()


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return f.sort("step").get_column("step").to_list()


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


# Brokenwind/BertSimilarity logs/train.log (lines 286-292 and 684; the config and variable dump cut)
TF = """\
INFO:tensorflow:  name = output_bias:0, shape = (2,)
INFO:tensorflow:Done running local_init_op.
INFO:tensorflow:loss = 1.0218862, step = 0
INFO:tensorflow:global_step/sec: 0.615146
INFO:tensorflow:loss = 0.5186956, step = 100 (162.563 sec)
INFO:tensorflow:global_step/sec: 0.693925
INFO:tensorflow:loss = 0.35847408, step = 200 (144.108 sec)
INFO:tensorflow:Saving dict for global step 5468: eval_accuracy = 0.8500477, eval_auc = 0.68875444, \
eval_loss = 0.7216634, global_step = 5468, loss = 0.7218847
INFO:tensorflow:***** Eval results *****
INFO:tensorflow:  eval_accuracy = 0.8500477
"""


def test_tf_estimator_logging_tensor_hook_lines() -> None:
    src = read(TF, "train.log")
    assert src.format == "tf-estimator"
    assert values(src, "train", "loss") == [1.0218862, 0.5186956, 0.35847408]
    assert steps(src, "train", "loss") == [0, 100, 200]
    # the Estimator's own evaluation 'loss' is the val loss; the model's eval_loss is kept beside it
    assert values(src, "val", "loss") == [0.7218847]
    assert steps(src, "val", "loss") == [5468]
    assert values(src, "val", "eval_loss") == [0.7216634]
    assert values(src, "val", "accuracy") == [0.8500477]
    assert ("val", "global_step") not in series(src)


# sak-18/scene-graph-generator checkpoints/log.txt (a config dump before, lines 627-631)
MRCNN = """\
  WEIGHT_DECAY_BIAS: 0.0
TEST:
  IMS_PER_BATCH: 8
2020-03-10 19:07:13,003 maskrcnn_benchmark INFO: eta: 21:05:51  iter: 200  loss: 1.6704 (2.5405)  auxiliary_ctx: 0.1934 (0.4641)  auxiliary_frq: 0.1978 (0.2121)  auxiliary_vis: 0.2077 (0.3304)  loss_refine_obj: 0.7216 (1.1279)  loss_rel: 0.3330 (0.4061)  time: 1.5153 (1.5251)  data: 0.0102 (0.0157)  lr: 0.054984  max mem: 6391
2020-03-10 19:12:18,863 maskrcnn_benchmark INFO: eta: 21:02:29  iter: 400  loss: 1.5960 (2.0872)  auxiliary_ctx: 0.1907 (0.3322)  auxiliary_frq: 0.2075 (0.2110)  auxiliary_vis: 0.2314 (0.2775)  loss_refine_obj: 0.6432 (0.8979)  loss_rel: 0.3387 (0.3687)  time: 1.5182 (1.5272)  data: 0.0108 (0.0134)  lr: 0.098184  max mem: 6391
2020-03-10 19:17:23,407 maskrcnn_benchmark INFO: eta: 20:56:10  iter: 600  loss: 1.4464 (1.9272)  auxiliary_ctx: 0.1729 (0.2888)  auxiliary_frq: 0.2027 (0.2119)  auxiliary_vis: 0.2012 (0.2617)  loss_refine_obj: 0.6031 (0.8059)  loss_rel: 0.2760 (0.3589)  time: 1.5041 (1.5257)  data: 0.0112 (0.0126)  lr: 0.120000  max mem: 6391
"""


def test_maskrcnn_benchmark_metric_logger_reads_the_windowed_median() -> None:
    src = read(MRCNN, "log.txt")
    assert src.format == "maskrcnn-benchmark"
    assert values(src, "train", "loss") == [1.6704, 1.5960, 1.4464]  # the median, not the (running average)
    assert steps(src, "train", "loss") == [200, 400, 600]
    assert values(src, "train", "loss_rel") == [0.3330, 0.3387, 0.2760]
    assert values(src, "train", "lr") == [0.054984, 0.098184, 0.12]
    assert not {("train", "time"), ("train", "data"), ("train", "eta")} & series(src)
    assert any("median" in n.message for n in src.notes)


# qiuyuchen14/maskrcnn-benchmark checkpoints/log.txt line 1 (logger name with '.trainer', 'days' in eta)
def test_maskrcnn_benchmark_trainer_logger_and_long_eta() -> None:
    text = ("2020-02-28 16:13:30,732 maskrcnn_benchmark.trainer INFO: eta: 1 day, 6:12:33  iter: 20  loss: 2.2403 (2.5577)  "
            "loss_classifier: 0.2882 (0.4062)  time: 0.5212 (0.5591)  data: 0.0220 (0.0574)  lr: 0.003587  max mem: 5048\n"
            "2020-02-28 16:13:41,257 maskrcnn_benchmark.trainer INFO: eta: 6:01:25  iter: 40  loss: 1.7668 (2.1496)  "
            "loss_classifier: 0.1828 (0.3113)  time: 0.5022 (0.5427)  data: 0.0222 (0.0521)  lr: 0.003853  max mem: 5124\n")
    src = read(text, "log.txt")
    assert src.format == "maskrcnn-benchmark"
    assert values(src, "train", "loss") == [2.2403, 1.7668]
    assert values(src, "train", "lr") == [0.003587, 0.003853]


# ApiaoSamaa/audio_sep train_log.txt lines 1-8, 17-29 and 40 (a torn redraw in the Valid Summary kept as is)
DEMUCS = """\
- Training...
- Train | Epoch 1 | 143/573 | 1.45 it/sec | Loss 0.2343 | Reco 0.2312 | Grad 0.1202 | Penalty 304.120
- Train | Epoch 1 | 572/573 | 1.48 it/sec | Loss 0.2019 | Reco 0.1994 | Grad 0.0963 | Penalty 247.226
- Train Summary | Epoch 1 | Loss=0.2019 | Reco=0.1994 | Grad=0.0963 | Penalty=247.2265
- ----------------------------------------------------------------------
- Cross validation...
- Valid | Epoch 1 | 1/3 | 0.32 it/sec | Loss 0.2212 | Reco 0.2212 | Nsdr 3.926
- Valid | Epoch 1 | 2/3 | 0.39 it/sec | Loss 0.2223 | Reco 0.2223 | Nsdr 3.727
- Valid Summary | Epoch 1 | Loss=0.2223 | Reco=0.2223 | Nsdr=2.727 | Best=0.2223 | Bname=ema_epoch_1 nalty=221.5717
- New best valid loss 0.2223
- ----------------------------------------------------------------------
- Training...
- Train | Epoch 2 | 572/573 | 1.48 it/sec | Loss 0.1751 | Reco 0.1728 | Grad 0.0860 | Penalty 231.298
- Train Summary | Epoch 2 | Loss=0.1751 | Reco=0.1728 | Grad=0.0860 | Penalty=231.2989
- Cross validation...
- Valid Summary | Epoch 2 | Loss=0.2016 | Reco=0.2016 | Nsdr=3.261 | Best=0.2016 | Bname=main | Penal69.4638\r
- New best valid loss 0.2016\r
"""


def test_demucs_epoch_summaries() -> None:
    src = read(DEMUCS, "train_log.txt")
    assert src.format == "demucs"
    assert values(src, "train", "loss") == [0.2019, 0.1751]
    assert steps(src, "train", "loss") == [1, 2]
    assert values(src, "val", "loss") == [0.2223, 0.2016]
    assert values(src, "val", "nsdr") == [2.727, 3.261]
    assert ("val", "best") not in series(src)


# WuG978/yolov7 nohup.out: its first line and lines 130-148, each tqdm line cut to its first 3 and last 2
# redraws (colour escapes and carriage returns as in the file)
def test_yolov7_console_rows_last_redraw_per_epoch() -> None:
    src = read((DATA / "yolov7_nohup.out").read_bytes(), "nohup.out")
    assert src.format == "yolo-console"
    assert values(src, "train", "loss")[:3] == [0.1013, 0.09485, 0.09286]
    assert values(src, "train", "box_loss")[:2] == [0.06979, 0.06628]
    assert steps(src, "train", "loss")[:3] == [0, 1, 2]
    assert values(src, "val", "precision")[:2] == [0.00464, 0.0044]
    assert values(src, "val", "map_0_5_0_95")[:2] == [0.000222, 0.000183]


# tariksetia/QuickDraw model_history.json: {"0": {"acc": [...], "val_loss": [...], "loss": [...], "val_acc": [...]}}
# (first 3 of 1000 values each)
QUICKDRAW = {"0": {"acc": [0.4791666666666667, 0.7916666666666666, 0.9010416666666666],
                   "val_loss": [21.128445307413738, 21.14114507039388, 21.15172831217448],
                   "loss": [21.230422973632812, 20.40194543202718, 20.073328653971355],
                   "val_acc": [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]}}


def test_keras_history_under_one_fold_key() -> None:
    src = read(json.dumps(QUICKDRAW, indent=4), "model_history.json")
    assert values(src, "train", "loss") == QUICKDRAW["0"]["loss"]
    assert values(src, "val", "loss") == QUICKDRAW["0"]["val_loss"]
    assert set(src.frame.get_column("run").unique()) == {"r"}


def test_keras_history_under_several_fold_keys_is_several_runs() -> None:
    doc = {"0": QUICKDRAW["0"], "1": {k: v[::-1] for k, v in QUICKDRAW["0"].items()}}
    src = read(json.dumps(doc), "model_history.json")
    assert set(src.frame.get_column("run").unique()) == {"r/0", "r/1"}
    assert values(src, "train", "loss", run="r/1") == QUICKDRAW["0"]["loss"][::-1]


def test_history_split_keys_are_not_folds() -> None:
    doc = {"train": {"loss": [1.0, 0.5]}, "val": {"loss": [1.2, 0.9]}}
    with pytest.raises(LossdocError):  # not read as two runs called train and val (as before: not read)
        read(json.dumps(doc), "history.json")
