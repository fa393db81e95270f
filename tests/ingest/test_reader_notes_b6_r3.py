"""Reader fixes for batch 6 public dev logs' READER notes (helper r3): each shape as a small excerpt of the log
it came from (the source named above it), what lossdoc must read, and the note it gives where it decided."""

from __future__ import annotations

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp)


def values(src: Source, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return [round(v, 4) for v in f.sort("step").get_column("value").to_list()]


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


# ------------------------------------------------------- "Val acc is X%": the words before the verb name it
# Aruen24/mobilenetv2-pytorch-2dliveness train.log (public dev log), lines 1-25. The key was read as 'is' (the
# " is " pairs of the r2 reader changes read it; kept as this note's regression test).

VAL_ACC_IS = """total sample is 93858, postive sample is 39370, negative sample is 54488
total sample is 80808, postive sample is 24615, negative sample is 56193
Training...
Epoch: 1| train loss: 0.5644293498992919
Epoch: 1| train loss: 0.4747125118970871
Epoch: 1| train loss: 0.42371737778186797
Epoch: 1| train loss: 0.38766602404415607
Epoch: 1| train loss: 0.3623913567662239
Epoch: 1| train loss: 0.339395377188921
Epoch: 1| train loss: 0.3213425124968801
Epoch: 1| train loss: 0.3065370289236307
Epoch: 1| train loss: 0.2918502393364906
Epoch: 1| train loss: 0.2856118123740592
Epoch 1: Val acc is 86.0026235026235%
Epoch: 2| train loss: 0.15863010600209237
Epoch: 2| train loss: 0.1474593033641577
Epoch: 2| train loss: 0.14297520677248637
Epoch: 2| train loss: 0.13977740585803985
Epoch: 2| train loss: 0.13446001201868057
Epoch: 2| train loss: 0.13002986010164022
Epoch: 2| train loss: 0.12616515536393438
Epoch: 2| train loss: 0.1230226213298738
Epoch: 2| train loss: 0.11875113988916079
Epoch: 2| train loss: 0.11730777975568112
Epoch 2: Val acc is 90.94644094644094%
"""


def test_a_value_introduced_by_is_is_named_by_the_words_before_it() -> None:
    src = read(VAL_ACC_IS, "train.log")
    assert ("val", "is") not in series(src)
    assert values(src, "val", "accuracy") == [86.0026, 90.9464]
    assert len(values(src, "train", "loss")) == 20


# ------------------------------------------------------- a train and an evaluation line sharing their keys
# Kabir5296/CSTA-CustomImplementation train.log (public dev log), lines 13-20: 'Evaluation Epoch N - Average Loss'
# was read as the training 'Average Loss' of that epoch (and, the later line winning, replaced it).

TRAIN_AND_EVAL = """INFO:root:total_params : 53137925
INFO:root:--------------------------------------------------
INFO:root:Epoch 0 - Average Loss: 1.5552, Average Accuracy: 0.3203, Samples: 693
INFO:root:Evaluation Epoch 0 - Average Loss: 1.5558, Average Accuracy: 0.3043, Samples: 115
INFO:root:Epoch 1 - Average Loss: 1.5073, Average Accuracy: 0.3737, Samples: 693
INFO:root:Evaluation Epoch 1 - Average Loss: 1.5212, Average Accuracy: 0.3130, Samples: 115
INFO:root:Epoch 2 - Average Loss: 1.4546, Average Accuracy: 0.4646, Samples: 693
INFO:root:Evaluation Epoch 2 - Average Loss: 1.4532, Average Accuracy: 0.4609, Samples: 115
INFO:root:Epoch 3 - Average Loss: 1.4157, Average Accuracy: 0.4733, Samples: 693
INFO:root:Evaluation Epoch 3 - Average Loss: 1.4261, Average Accuracy: 0.4435, Samples: 115
"""


def test_an_evaluation_epoch_line_is_the_validation_split() -> None:
    src = read(TRAIN_AND_EVAL, "train.log")
    assert values(src, "train", "loss") == [1.5552, 1.5073, 1.4546, 1.4157]
    assert values(src, "val", "loss") == [1.5558, 1.5212, 1.4532, 1.4261]


# ------------------------------------------------------- comma-joined keys, then their values
# ISChenawei/DMNIL train_log.txt (public dev log), lines 56-66 (the long lines cut after 'Loss sat'):
# print('loss_dro_s,loss_sat_s', a, b) was read as one key 'loss_sat_s' holding the first value.

COMMA_KEYS = """Epoch: [0][10/400]\tTime 5.656 (6.701)\tData 0.000 (0.497)\tLoss 23.873 (23.973)\tLoss dro 6.354 (6.316)
loss_dro_s,loss_sat_s 7.1867451667785645 5.516346454620361
loss_shared_s,loss_shared 0.0 0.0
dro_sat_loss_s,sat_dro_loss_s 0.0 0.0
dro_dro_loss_s,sat_sat_loss_s 0.0 0.0
Epoch: [0][20/400]\tTime 5.615 (6.120)\tData 0.000 (0.249)\tLoss 22.837 (23.779)\tLoss dro 5.958 (6.294)
loss_dro_s,loss_sat_s 6.834849834442139 5.409538745880127
loss_shared_s,loss_shared 0.0 0.0
dro_sat_loss_s,sat_dro_loss_s 0.0 0.0
dro_dro_loss_s,sat_sat_loss_s 0.0 0.0
Epoch: [0][30/400]\tTime 5.532 (5.938)\tData 0.001 (0.166)\tLoss 19.479 (22.909)\tLoss dro 5.496 (6.130)
loss_dro_s,loss_sat_s 6.387956619262695 4.176161766052246
loss_shared_s,loss_shared 0.0 0.0
dro_sat_loss_s,sat_dro_loss_s 0.0 0.0
dro_dro_loss_s,sat_sat_loss_s 0.0 0.0
"""


def test_comma_joined_keys_take_their_values_in_order() -> None:
    src = read(COMMA_KEYS, "train_log.txt")
    assert values(src, "train", "loss_dro_s") == [7.1867, 6.8348, 6.388]
    assert values(src, "train", "loss_sat_s") == [5.5163, 5.4095, 4.1762]
    assert values(src, "train", "loss") == [23.873, 22.837, 19.479]


# ------------------------------------------------------- a run that finished, then the same script started again
# Bibhuprasadbehera/PPI-predictor training.log (public dev log), lines 1-46: 'Epoch 20/20' then 'Epoch 1/20' again.
# The loss hardly moved in either run, so neither its level nor a header told the runs apart and they were laid end
# to end as one 40-epoch curve; a run that reached its last announced epoch is not resumed from its first.

FINISHED_THEN_AGAIN = (
    '# Placeholder for training logs \n'
    '2024-11-19 19:13:18,018 - INFO - Epoch 1/20, Train Loss: 0.0982\n'
    '2024-11-19 19:13:18,755 - INFO - Epoch 1/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:13:24,099 - INFO - Epoch 2/20, Train Loss: 0.0971\n'
    '2024-11-19 19:13:24,503 - INFO - Epoch 2/20, Validation Loss: 0.0937\n'
    '2024-11-19 19:13:29,353 - INFO - Epoch 3/20, Train Loss: 0.0970\n'
    '2024-11-19 19:13:29,757 - INFO - Epoch 3/20, Validation Loss: 0.0944\n'
    '2024-11-19 19:13:34,401 - INFO - Epoch 4/20, Train Loss: 0.0965\n'
    '2024-11-19 19:13:34,821 - INFO - Epoch 4/20, Validation Loss: 0.0952\n'
    '2024-11-19 19:13:39,324 - INFO - Epoch 5/20, Train Loss: 0.0968\n'
    '2024-11-19 19:13:39,737 - INFO - Epoch 5/20, Validation Loss: 0.0953\n'
    '2024-11-19 19:13:45,220 - INFO - Epoch 6/20, Train Loss: 0.0966\n'
    '2024-11-19 19:13:45,720 - INFO - Epoch 6/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:13:51,702 - INFO - Epoch 7/20, Train Loss: 0.0966\n'
    '2024-11-19 19:13:52,311 - INFO - Epoch 7/20, Validation Loss: 0.0936\n'
    '2024-11-19 19:13:57,827 - INFO - Epoch 8/20, Train Loss: 0.0966\n'
    '2024-11-19 19:13:58,338 - INFO - Epoch 8/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:03,974 - INFO - Epoch 9/20, Train Loss: 0.0965\n'
    '2024-11-19 19:14:04,500 - INFO - Epoch 9/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:10,199 - INFO - Epoch 10/20, Train Loss: 0.0964\n'
    '2024-11-19 19:14:10,613 - INFO - Epoch 10/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:15,110 - INFO - Epoch 11/20, Train Loss: 0.0966\n'
    '2024-11-19 19:14:15,571 - INFO - Epoch 11/20, Validation Loss: 0.0942\n'
    '2024-11-19 19:14:20,140 - INFO - Epoch 12/20, Train Loss: 0.0964\n'
    '2024-11-19 19:14:20,576 - INFO - Epoch 12/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:25,122 - INFO - Epoch 13/20, Train Loss: 0.0964\n'
    '2024-11-19 19:14:25,537 - INFO - Epoch 13/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:30,054 - INFO - Epoch 14/20, Train Loss: 0.0968\n'
    '2024-11-19 19:14:30,460 - INFO - Epoch 14/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:35,658 - INFO - Epoch 15/20, Train Loss: 0.0963\n'
    '2024-11-19 19:14:36,133 - INFO - Epoch 15/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:40,688 - INFO - Epoch 16/20, Train Loss: 0.0965\n'
    '2024-11-19 19:14:41,100 - INFO - Epoch 16/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:45,614 - INFO - Epoch 17/20, Train Loss: 0.0965\n'
    '2024-11-19 19:14:46,020 - INFO - Epoch 17/20, Validation Loss: 0.0936\n'
    '2024-11-19 19:14:50,725 - INFO - Epoch 18/20, Train Loss: 0.0964\n'
    '2024-11-19 19:14:51,159 - INFO - Epoch 18/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:14:55,916 - INFO - Epoch 19/20, Train Loss: 0.0964\n'
    '2024-11-19 19:14:56,329 - INFO - Epoch 19/20, Validation Loss: 0.0934\n'
    '2024-11-19 19:15:01,797 - INFO - Epoch 20/20, Train Loss: 0.0965\n'
    '2024-11-19 19:15:02,295 - INFO - Epoch 20/20, Validation Loss: 0.0941\n'
    '2024-11-19 22:03:57,170 - INFO - Epoch 1/20, Train Loss: 0.0985\n'
    '2024-11-19 22:03:57,764 - INFO - Epoch 1/20, Validation Loss: 0.0935\n'
    '2024-11-19 22:04:02,336 - INFO - Epoch 2/20, Train Loss: 0.0972\n'
    '2024-11-19 22:04:02,773 - INFO - Epoch 2/20, Validation Loss: 0.0932\n'
    '2024-11-19 22:04:07,055 - INFO - Epoch 3/20, Train Loss: 0.0972\n'
)


def test_a_counter_back_at_its_start_after_the_last_announced_epoch_starts_a_new_run() -> None:
    src = read(FINISHED_THEN_AGAIN, "training.log")
    assert values(src, "train", "loss") == [0.0985, 0.0972, 0.0972]
    assert values(src, "val", "loss") == [0.0935, 0.0932]
    n = [m.message for m in src.notes if m.kind == "several_runs"]
    assert len(n) == 1 and "last announced epoch" in n[0] and "2 separate runs" in n[0]


def test_an_unfinished_run_restarted_with_the_same_loss_is_still_one_curve() -> None:
    # the same lines without the last epoch of the first run: nothing says it finished
    text = "".join(ln for ln in FINISHED_THEN_AGAIN.splitlines(True) if "Epoch 20/20" not in ln)
    src = read(text, "training.log")
    assert not [m for m in src.notes if m.kind == "several_runs"]
