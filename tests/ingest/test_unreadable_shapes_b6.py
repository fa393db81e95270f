"""Real training-log shapes of public-log batch 6 that lossdoc could not read (/work/b6/unreadable6.tsv), each
as a short excerpt of the real lines (repository and path cited): what lossdoc must read from them."""

from __future__ import annotations

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.ingest.formats.heuristic_text import NOISY_CONFIDENCE, HeuristicTextParser
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return [round(v, 4) for v in f.sort("step").get_column("value").to_list()]


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return f.sort("step").get_column("step").to_list()


# ---------------------------------------------------------- training lines only after a long preamble
# Kimun-Park/Neural-Spectral-Codec logs/training.log: 'nohup: ignoring input', a config banner, then a dataset
# scan printing "  Scan N/M..." for 1,700 lines (more than the 64 kB head) before "Epoch 1 | Batch 10/2911 | Loss".
CODEC_SCAN = "".join(f"  Scan {i}/4541...\n" for i in range(0, 4600 * 100, 100))
CODEC = (
    "nohup: ignoring input\nLoading configuration...\nUsing device: cuda\n\n"
    "[1/6] Creating spectral encoder...\n\n  Loading KITTI dataset from /workspace/data/kitti/dataset...\n"
    "    Sequence 00...\nProcessing 4541 scans...\n" + CODEC_SCAN +
    "Mining triplets for epoch 1...\n  Sequence 9: 17079 triplets (total: 22056)\nMined 93134 triplets\n"
    "Epoch 1 | Batch 10/2911 | Loss: 13.4109\n"
    "Epoch 1 | Batch 20/2911 | Loss: 9.8273\n"
    "Epoch 1 | Batch 30/2911 | Loss: 9.9468\n"
    "Epoch 1 | Batch 40/2911 | Loss: 8.1022\n"
    # the rest of the epoch's lines (values made up, of the logged shape): 10% of the tail's numbered lines
    + "".join(f"Epoch 1 | Batch {b}/2911 | Loss: {8 - b / 1000:.4f}\n" for b in range(50, 2911, 10))
)


def test_training_lines_after_a_preamble_longer_than_the_head_are_read() -> None:
    assert len(CODEC.encode()) > 64 * 1024
    inp = from_bytes(CODEC.encode(), name="training.log")
    # the tail decides, at no more than the noisy level (read when given alone, not taken by a directory walk)
    assert HeuristicTextParser().sniff(inp) == NOISY_CONFIDENCE
    src = read(CODEC, "training.log")
    assert src.format == "text"
    assert values(src, "train", "loss")[:5] == [13.4109, 9.8273, 9.9468, 8.1022, 7.95]
    assert steps(src, "train", "loss")[:5] == [10, 20, 30, 40, 50]


# 2812427914/wind_power_diffusion train.log: tqdm bars of tens of kB a line fill the head; the epoch lines are
# "[SeqAR-Diffusion] Epoch 1/400 Train Loss: 0.1628 | Val Loss: 0.0491".
WIND_BAR = "".join(f"Epoch 1/400 train:  {i // 26}%|          | {i}/2590 [00:0{i % 9}<00:20, 123.{i % 97}it/s]"
                   for i in range(0, 2590, 2))
WIND = (
    "nohup: ignoring input\nUsing device: cuda\n" + WIND_BAR + "\n"
    "[SeqAR-Diffusion] Epoch 1/400 Train Loss: 0.1628 | Val Loss: 0.0491\n"
    "Saved new best SeqAR-Diffusion model at epoch 1 with val loss 0.0491\n"
    "[SeqAR-Diffusion] Epoch 2/400 Train Loss: 0.0947 | Val Loss: 0.0551\n"
    "[SeqAR-Diffusion] Epoch 3/400 Train Loss: 0.0877 | Val Loss: 0.0451\n"
    "Saved new best SeqAR-Diffusion model at epoch 3 with val loss 0.0451\n"
    "[SeqAR-Diffusion] Epoch 4/400 Train Loss: 0.0845 | Val Loss: 0.0448\n"
    "[SeqAR-Diffusion] Epoch 5/400 Train Loss: 0.0804 | Val Loss: 0.0455\n"
)


def test_epoch_lines_after_head_filling_progress_bars_are_read() -> None:
    assert len(WIND.encode()) > 64 * 1024
    src = read(WIND, "train.log")
    assert src.format == "text"
    assert values(src, "train", "loss") == [0.1628, 0.0947, 0.0877, 0.0845, 0.0804]
    assert values(src, "val", "loss") == [0.0491, 0.0551, 0.0451, 0.0448, 0.0455]


def test_a_short_file_without_training_lines_is_still_not_claimed() -> None:
    inp = from_bytes(("  Scan 100/4541...\n" * 20).encode(), name="training.log")
    assert HeuristicTextParser().sniff(inp) == 0.0


# ------------------------------------------------------------------------- 'KEY is VALUE' phrasing
# evjeny/EAST log_train.txt (train.py's logger): "Epoch is [2/600], mini-batch is [1/1083], time consumption is
# 0.914, batch_loss is 1.157", each after a "classify loss is .., angle loss is .., iou loss is .." line.
EAST = """\
2020-08-25 10:02:48,569 [MainThread  ] [INFO ]  begin training
2020-08-25 10:04:21,019 [MainThread  ] [INFO ]  start from epoch model_epoch_1.pth
2020-08-25 10:04:52,803 [MainThread  ] [INFO ]  classify loss is 0.11343533, angle loss is 0.07668723, iou loss is 0.27696583
2020-08-25 10:04:53,214 [MainThread  ] [INFO ]  Epoch is [2/600], mini-batch is [1/1083], time consumption is 0.91418505, batch_loss is 1.15727353
2020-08-25 10:04:53,421 [MainThread  ] [INFO ]  classify loss is 0.10959846, angle loss is 0.04577038, iou loss is 0.35877547
2020-08-25 10:04:53,783 [MainThread  ] [INFO ]  Epoch is [2/600], mini-batch is [2/1083], time consumption is 0.56356812, batch_loss is 0.92607772
2020-08-25 10:04:53,987 [MainThread  ] [INFO ]  classify loss is 0.10256594, angle loss is 0.00526946, iou loss is 0.18666346
2020-08-25 10:04:54,350 [MainThread  ] [INFO ]  Epoch is [2/600], mini-batch is [3/1083], time consumption is 0.56212902, batch_loss is 0.34192398
2020-08-25 10:04:54,555 [MainThread  ] [INFO ]  classify loss is 0.10136431, angle loss is 0.02313342, iou loss is 0.25080413
2020-08-25 10:04:54,917 [MainThread  ] [INFO ]  Epoch is [2/600], mini-batch is [4/1083], time consumption is 0.56152987, batch_loss is 0.58350265
"""


def test_key_is_value_pairs_are_read() -> None:
    src = read(EAST, "log_train.txt")
    assert src.format == "text"
    assert values(src, "train", "loss") == [1.1573, 0.9261, 0.3419, 0.5835]
    assert ("train", "classify_loss") in set(src.frame.select("split", "metric").unique().iter_rows())
    text = " ".join(n.message for n in src.notes)
    assert "'mini-batch'" in text  # the batch counter, not a key "is"


# ------------------------------------------------------------------- clock cells in a metrics table
# antidianuj/toxity_ranker training_stats.csv, written by Chris McCormick's BERT fine-tuning tutorial
# (df_stats.to_csv): elapsed times as h:mm:ss strings beside the losses.
BERT_STATS = """\
epoch,Training Loss,Valid. Loss,Valid. Accur.,Training Time,Validation Time
1,0.2675370360177356,0.08111774318817926,0.9751932989690721,0:00:21,0:00:05
2,0.10188649389196724,0.03282511330716139,0.9896907216494846,0:00:21,0:00:05
3,0.04448464177590891,0.012409064438243243,0.9964561855670103,0:00:21,0:00:05
4,0.021335,0.0101,0.9971,0:00:21,0:00:05
"""


def test_bert_tutorial_training_stats_with_clock_columns_is_read() -> None:
    src = read(BERT_STATS, "training_stats.csv")
    assert values(src, "train", "loss") == [0.2675, 0.1019, 0.0445, 0.0213]
    assert values(src, "val", "loss") == [0.0811, 0.0328, 0.0124, 0.0101]
    assert steps(src, "train", "loss") == [1, 2, 3, 4]


# ------------------------------------------------ a step counter printed once, as a setting, before the epochs
# elenikaxiras/ECG2DIG models/training.log (Python logging): "training_steps=215.0" in a warning and an ARGS dump,
# then a "[TRAIN][Epoch E/30]" header and "[TRAIN] Total loss: .. (cls:.., hr:.., dig:..)" on a line of its own.
ECG = """\
2025-09-09 10:37:01,487 [INFO] GPU total memory: 31.73 GB.
2025-09-09 10:37:01,494 [WARNING] training_steps=215.0 < steps_per_epoch=418
ARGS:
  batch_size: 256
  epochs: 30
  training_steps: 215.0
  validation_steps: 66.0
2025-09-09 10:37:01,494 [INFO] Training started!
2025-09-09 10:37:01,495 [INFO] [TRAIN][Epoch 1/30]
2025-09-09 11:24:34,403 [INFO] 
[TRAIN] Total loss: 1.2147  (cls:0.7443, hr:0.3500, dig:0.8706)
[TRAIN] Metrics: Dig AUC: 0.7049, Macro F1: 0.4673  | class0 AUC: 0.7767 | class1 AUC: 0.7631 | class2 AUC: 0.5750, HR r: 0.8059, Dig r: 0.4146

2025-09-09 11:24:34,404 [INFO] [VAL][Epoch 1/30]
2025-09-09 11:39:15,547 [INFO] 
[VAL] Total loss: 1.0402  (cls:0.6614, hr:0.1564, dig:0.7264)

2025-09-09 11:39:15,547 [INFO] [TRAIN][Epoch 2/30]
2025-09-09 12:00:10,999 [INFO] 
[TRAIN] Total loss: 1.0237  (cls:0.6456, hr:0.1424, dig:0.7278)
[TRAIN] Metrics: Dig AUC: 0.8034, Macro F1: 0.5068  | class0 AUC: 0.8536 | class1 AUC: 0.8282 | class2 AUC: 0.7282, HR r: 0.9260, Dig r: 0.5379

2025-09-09 12:00:11,001 [INFO] [VAL][Epoch 2/30]
2025-09-09 12:13:00,683 [INFO] 
[VAL] Total loss: 1.0071  (cls:0.6471, hr:0.1165, dig:0.6968)

2025-09-09 12:13:00,683 [INFO] [TRAIN][Epoch 3/30]
2025-09-09 12:31:09,199 [INFO] 
[TRAIN] Total loss: 0.9512  (cls:0.6164, hr:0.1230, dig:0.6450)
[TRAIN] Metrics: Dig AUC: 0.8284, Macro F1: 0.5196  | class0 AUC: 0.8733 | class1 AUC: 0.8466 | class2 AUC: 0.7652, HR r: 0.9356, Dig r: 0.5881

2025-09-09 12:31:09,201 [INFO] [VAL][Epoch 3/30]
2025-09-09 12:34:40,971 [INFO] 
[VAL] Total loss: 0.9812  (cls:0.6344, hr:0.1084, dig:0.6720)

2025-09-09 12:34:40,971 [INFO] [TRAIN][Epoch 4/30]
2025-09-09 12:46:15,139 [INFO] 
[TRAIN] Total loss: 0.9061  (cls:0.5999, hr:0.1107, dig:0.5902)
"""


def test_a_step_counter_with_one_value_before_the_epochs_is_a_setting() -> None:
    src = read(ECG, "training.log")
    assert src.format == "text"
    assert values(src, "train", "loss") == [1.2147, 1.0237, 0.9512, 0.9061]
    assert steps(src, "train", "loss") == [1, 2, 3, 4]
    assert values(src, "val", "loss") == [1.0402, 1.0071, 0.9812]
    assert any("'training_steps' has one value" in n.message for n in src.notes)


# ------------------------------------------------------------------ lines without any counter: line order
# AmadeusloveIris/GraphNovo train.log: one "loss:.., accuracy:.., recall:.., precision:.." line a logging interval,
# no step or epoch anywhere; the existing line-order path reads them (noted), the sniff now claims such a file.
GRAPHNOVO = """\
loss:0.007478983821019938, accuracy:0.9972057342529297, recall:0.9870195388793945, precision:0.9871930480003357
loss:0.009102872848015977, accuracy:0.997334897518158, recall:0.9893903136253357, precision:0.9876238703727722
loss:0.005895241985126631, accuracy:0.9981057047843933, recall:0.9915513396263123, precision:0.9919787645339966
loss:0.00687205326901676, accuracy:0.9972428679466248, recall:0.988102912902832, precision:0.9874266386032104
loss:0.007164132823636465, accuracy:0.9977123737335205, recall:0.9912473559379578, precision:0.9891006350517273
loss:0.0075016820053497215, accuracy:0.9974196553230286, recall:0.9897425174713135, precision:0.9891471862792969
"""


def test_counterless_loss_lines_are_claimed_and_read_in_line_order() -> None:
    inp = from_bytes(GRAPHNOVO.encode(), name="train.log")
    assert HeuristicTextParser().sniff(inp) == NOISY_CONFIDENCE
    src = read(GRAPHNOVO, "train.log")
    assert values(src, "train", "loss") == [0.0075, 0.0091, 0.0059, 0.0069, 0.0072, 0.0075]
    assert steps(src, "train", "loss") == [0, 1, 2, 3, 4, 5]
    assert any("line order used as the step" in n.message for n in src.notes)


def test_a_few_counterless_lines_are_not_claimed() -> None:
    inp = from_bytes(GRAPHNOVO.split("\n", 3)[-1].encode(), name="notes.txt")  # 3 lines
    assert HeuristicTextParser().sniff(inp) == 0.0


# BAI-Yeqi/TI_SV train.log (TensorFlow 1): "current step: 1th step" then "batch loss:4.0292044", for 58,036 steps.
TISV = """\
start from 0
current step: 1th step
batch loss:4.0292044
current step: 2th step
batch loss:3.9197984
current step: 3th step
batch loss:3.800687
current step: 4th step
batch loss:3.6951177
current step: 5th step
batch loss:3.8654344
current step: 6th step
batch loss:3.605301
current step: 7th step
batch loss:3.8136983
current step: 8th step
batch loss:3.4240181
current step: 9th step
batch loss:3.9258313
"""


def test_current_step_is_a_step_counter() -> None:
    src = read(TISV, "train.log")
    assert src.format == "text"
    assert values(src, "train", "loss")[:3] == [4.0292, 3.9198, 3.8007]
    assert steps(src, "train", "loss") == list(range(1, 10))
