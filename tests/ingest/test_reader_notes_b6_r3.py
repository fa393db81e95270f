"""Reader fixes for batch 6 public dev logs' READER notes (helper r3): each shape as a small excerpt of the log
it came from (the source named above it), what lossdoc must read, and the note it gives where it decided."""

from __future__ import annotations

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


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
    # the whole log is now claimed by the pytorch-imagenet reader (its 'Epoch: [0][10/400]' meter lines); the text
    # reader's rule for comma-joined keys is tested on it by name
    src = read(COMMA_KEYS, "train_log.txt", "text")
    assert values(src, "train", "loss_dro_s") == [7.1867, 6.8348, 6.388]
    assert values(src, "train", "loss_sat_s") == [5.5163, 5.4095, 4.1762]
    assert values(src, "train", "loss") == [23.873, 22.837, 19.479]


# ------------------------------------------------------- an AverageMeter's .val and .avg logged as columns
# robertguan0527/S3FD_RepVGG train_loss.csv (public dev log), lines 1-5: 'loss_val' (the current batch's loss)
# beside 'loss_avg' (its running mean) was read as the validation loss.

METER = """eporch,iteration,loss_val,loss_avg,loss_loc_val,loss_loc_avg,cls_loss_val,cls_loss_avg,lr
0,10,16.38427734375,19.58787899017334,5.1576690673828125,6.122845840454102,11.226609230041504,13.465032958984375,6.834420627524076e-08
0,20,12.871196746826172,19.964796686172484,5.774155139923096,6.406617379188537,7.097041130065918,13.558179235458374,1.3047530288909601e-07
0,30,17.737455368041992,19.947549438476564,6.3519816398620605,6.338745371500651,11.38547420501709,13.608804035186768,1.9260639950295124e-07
0,40,17.428924560546875,20.375487041473388,5.467473983764648,6.454688060283661,11.961450576782227,13.920798921585083,2.5473749611680646e-07
"""


def test_val_beside_avg_is_the_current_training_value() -> None:
    src = read(METER, "train_loss.csv")
    assert {sp for sp, _ in series(src)} == {"train"}
    assert values(src, "train", "loss") == [16.3843, 12.8712, 17.7375, 17.4289]
    assert values(src, "train", "loss_avg") == [19.5879, 19.9648, 19.9475, 20.3755]
    assert any("AverageMeter" in n.message for n in src.notes)


# ------------------------------------------------------- a task name before the split word
# pgx-ml-lab/ml-mr metrics.csv (Lightning CSVLogger, public dev log), lines 1-9: 'exposure_val_loss' was read as
# a training series.

TASK_SPLIT = """epoch,exposure_train_loss,exposure_val_loss,step
0,2.8091373443603516,,0
0,,2.517184019088745,0
1,2.7956628799438477,,1
1,,2.5236668586730957,1
2,2.7824020385742188,,2
2,,2.529954195022583,2
3,2.7693750858306885,,3
3,,2.535984992980957,3
"""


def test_a_split_word_after_a_task_name_gives_the_split() -> None:
    src = read(TASK_SPLIT, "metrics.csv")
    assert values(src, "train", "loss") == [2.8091, 2.7957, 2.7824, 2.7694]
    assert values(src, "val", "loss") == [2.5172, 2.5237, 2.53, 2.536]


def test_a_summary_word_before_the_split_is_not_a_task() -> None:
    src = read("epoch,step,val_loss,best_val_loss\n0,9,2.5,2.5\n1,19,2.6,2.5\n", "metrics.csv")
    assert values(src, "val", "loss") == [2.5, 2.6]


# ------------------------------------------------------- Lightning's per-evaluation-batch values
# peogradin/Project-AMLNN metrics.csv (Lightning CSVLogger, public dev log), lines 1-8, 33-36 and 65-71:
# 'val_loss_step' is logged per validation batch with the evaluation loop's own counter (0..599, no epoch) and was
# read as the validation loss on the training axis.

EVAL_BATCHES = """epoch,step,train_loss_epoch,train_loss_step,val_loss_epoch,val_loss_step
0,49,,0.0019356301054358482,,
0,99,,0.0017529632896184921,,
0,149,,0.001030024024657905,,
,0,,,,0.0014732363633811474
,1,,,,0.0008489174651913345
,2,,,,0.00031147710978984833
,3,,,,0.0002963176812045276
0,157,,,0.0003495996061246842,
0,157,0.003445229958742857,,,
1,199,,0.0007218084065243602,,
1,249,,0.0006828827317804098,,
1,299,,0.0010695159435272217,,
,4,,,,0.00011679391172947362
,5,,,,8.289206016343087e-05
,6,,,,9.579645120538771e-05
,7,,,,0.00014571152860298753
1,315,,,0.0003195813624188304,
1,315,0.0009192267316393554,,,
"""


def test_values_logged_per_evaluation_batch_are_not_put_on_the_training_axis() -> None:
    src = read(EVAL_BATCHES, "metrics.csv")
    assert src.format == "lightning-csv"
    assert values(src, "val", "loss") == [0.0003, 0.0003]
    assert sorted(src.frame.filter(pl.col("split") == "val").get_column("step").to_list()) == [157, 315]
    assert values(src, "train", "loss") == [0.0019, 0.0018, 0.001, 0.0007, 0.0007, 0.0011]
    assert any("per evaluation batch" in n.message for n in src.notes)


def test_per_evaluation_batch_values_through_the_string_path() -> None:
    # the same shape with a quoted cell, which the typed fast path leaves to the string reader
    src = read(EVAL_BATCHES.replace("0,49,,0.0019356301054358482", '0,49,,"0.0019356301054358482"'), "metrics.csv")
    assert sorted(src.frame.filter(pl.col("split") == "val").get_column("step").to_list()) == [157, 315]
    assert any("per evaluation batch" in n.message for n in src.notes)


def test_a_name_that_starts_with_a_split_keeps_it() -> None:
    src = read("epoch,train_loss,train_val_loss\n0,2.5,2.6\n1,2.4,2.55\n", "history.csv")
    assert values(src, "train", "val_loss") == [2.6, 2.55]


# ------------------------------------------------------- a 0 placeholder before a loss curve saved as numbers
# cute149q/BiLSTM_NER train_loss.csv (public dev log), lines 1-6: 'losses = [0]' then a value per epoch; the 0 was
# read as the first loss point.

PLACEHOLDER = "0\n1.663737416267395\n1.6018497943878174\n1.7901285886764526\n1.5841810703277588\n1.5645818710327148\n"


def test_a_leading_zero_before_positive_losses_is_a_placeholder() -> None:
    src = read(PLACEHOLDER, "train_loss.csv")
    assert src.format == "numeric-column"
    assert values(src, "train", "loss") == [1.6637, 1.6018, 1.7901, 1.5842, 1.5646]
    assert sorted(src.frame.get_column("step").to_list()) == [1, 2, 3, 4, 5]
    assert any("placeholder" in n.message for n in src.notes)


def test_a_zero_inside_a_curve_is_kept() -> None:
    src = read("1.2\n0\n0.9\n0.8\n", "train_loss.csv")
    assert values(src, "train", "loss") == [1.2, 0.0, 0.9, 0.8]


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
    # the second run is a stub of 3 epochs (no trend test answers on it): the finished run before it is read
    assert len(values(src, "train", "loss")) == 20 and values(src, "train", "loss")[-1] == 0.0965
    n = [m.message for m in src.notes if m.kind == "several_runs"]
    assert len(n) == 1 and "last announced epoch" in n[0] and "2 separate runs" in n[0]
    assert "the last run is too short to judge: 3 point(s)" in n[0]


def test_a_log_being_followed_reads_its_new_run_however_short() -> None:
    # lossdoc watch follows the run being written: its 3 epochs are what there is to judge so far
    from lossdoc.ingest.runs import following

    with following():
        src = read(FINISHED_THEN_AGAIN, "training.log")
    assert values(src, "train", "loss") == [0.0985, 0.0972, 0.0972]
    assert values(src, "val", "loss") == [0.0935, 0.0932]


def test_an_unfinished_run_restarted_with_the_same_loss_is_still_one_curve() -> None:
    # the same lines without the last epoch of the first run: nothing says it finished
    text = "".join(ln for ln in FINISHED_THEN_AGAIN.splitlines(True) if "Epoch 20/20" not in ln)
    src = read(text, "training.log")
    assert not [m for m in src.notes if m.kind == "several_runs"]


# ------------------------------------------------------- a validation block that was never computed
# JasonLai150/2.5DPoseEstimator losses.csv (public dev log), lines 1-8: every 'val_metrics/*' column is 0.0 on every
# row (no validation ran) and was read as a validation loss, lr and throughput; 'metrics/loss' was not the loss.

UNCOMPUTED_VAL = (
    'epoch,metrics/learning_rate,metrics/loss,metrics/main_loss,metrics/regul,metrics/step_per_sec,val_metrics/learning_rate,val_metrics/loss,val_metrics/main_loss,val_metrics/regul,val_metrics/step_per_sec\n'
    '0,0.03002105839550495,0.03981993347406387,3.1730320188216865e-05,0.06636305153369904,967.1678466796875,0.0,0.0,0.0,0.0,0.0\n'
    '1,0.03002105839550495,0.03980056568980217,1.2000231436104514e-05,0.06636680662631989,406.578125,0.0,0.0,0.0,0.0,0.0\n'
    '2,0.013256927952170372,0.039794921875,5.625333415082423e-06,0.06634946912527084,260.06201171875,0.0,0.0,0.0,0.0,0.0\n'
    '0,0.03002105839550495,0.03981185331940651,2.755017703748308e-05,0.06635843217372894,737.3013916015625,0.0,0.0,0.0,0.0,0.0\n'
    '1,0.03002105839550495,0.0397954136133194,1.2404066183080431e-05,0.06634677201509476,367.1841125488281,0.0,0.0,0.0,0.0,0.0\n'
    '2,0.013256927952170372,0.039794351905584335,4.880369488091674e-06,0.06634785979986191,321.6141357421875,0.0,0.0,0.0,0.0,0.0\n'
    '0,0.03002105839550495,0.03981316089630127,3.351342456880957e-05,0.06635534018278122,934.3362426757812,0.0,0.0,0.0,0.0,0.0\n'
)


def test_a_split_whose_every_column_is_zero_was_not_computed() -> None:
    src = read(UNCOMPUTED_VAL, "losses.csv")
    assert {sp for sp, _ in series(src)} == {"train"}
    assert ("train", "loss") in series(src) and ("train", "lr") in series(src)
    assert any("was not computed" in n.message for n in src.notes)


def test_a_zero_validation_accuracy_beside_a_real_validation_loss_is_kept() -> None:
    src = read("epoch,loss,val_loss,val_acc\n0,2.3,2.4,0\n1,2.1,2.2,0\n2,1.9,2.1,0\n", "log.csv")
    assert values(src, "val", "accuracy") == [0.0, 0.0, 0.0]


# ------------------------------------------------------- print(optimizer) and printed numpy arrays between the lines
# dimidagd/FCN-pytorch log_train.txt (public dev log, NUL bytes removed), lines 38-143: each 'Parameter Group 0' dump
# was read as series alpha/eps/initial_lr/lr/momentum (an 11-point 'lr' jumping between the file's runs), and the
# IoU array's 'nan' and '9.4e-01'-style exponents as keys 'nan', 'e-05'.

OPTIMIZER_DUMPS = (
    'Validating without train\n'
    'epoch0, pix_acc: 0.004633618551587302, meanIoU: 0.0001597799500547345, IoUs: [0.         0.         0.         0.         0.         0.\n'
    ' 0.         0.         0.         0.         0.         0.\n'
    ' 0.00463362        nan 0.         0.         0.         0.\n'
    ' 0.         0.         0.         0.         0.         0.\n'
    ' 0.                nan 0.         0.                nan 0.\n'
    ' 0.         0.        ]\n'
    'Starting train loop\n'
    'RMSprop (\n'
    'Parameter Group 0\n'
    '    alpha: 0.99\n'
    '    centered: False\n'
    '    eps: 1e-08\n'
    '    initial_lr: 0.01\n'
    '    lr: 0.01\n'
    '    momentum: 0\n'
    '    weight_decay: 1e-05\n'
    ')\n'
    'Loading FCN\n'
    'Please choose submodel\n'
    '1. FCN8s\n'
    '2. FCN16s\n'
    '3. FCN32s\n'
    '4. FCNs\n'
    'Configs: FCN8s-BCEWithLogits_batch5_epoch500_RMSprop_scheduler-step4-gamma0.9_lr0.0001_momentum0_w_decay1e-05\n'
    'Using CamVid dataset\n'
    'Running DataLoader from  CamVid/train.csv\n'
    'loading validation file from CamVid/val.csv\n'
    'Loading VGG\n'
    'VGG frozen on purpose\n'
    'Use GPU : True\n'
    'Using GPU, loading cuda shiat\n'
    'Loading vgg on cuda\n'
    'Loading FC on cuda\n'
    'Number of GPUs [0]\n'
    'Finish cuda loading, time elapsed 7.377825975418091\n'
    'Validating without train\n'
    '    initial_lr: 0.001\n'
    '    lr: 0.001\n'
    '    momentum: 0\n'
    '    weight_decay: 1e-05\n'
    ')\n'
    'epoch0, pix_acc: 0.024153046461640217, meanIoU: 0.00292848669139129, IoUs: [0.00000000e+00 0.00000000e+00 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00 1.42252301e-05 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00 0.00000000e+00 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00 0.00000000e+00 3.57073781e-03 0.00000000e+00\n'
    ' 1.97316496e-05 0.00000000e+00 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00 6.71987371e-02 3.54462745e-03 0.00000000e+00\n'
    ' 1.64371246e-03 0.00000000e+00 0.00000000e+00 2.37880235e-04\n'
    ' 0.00000000e+00 6.46752152e-04 1.68351700e-02 0.00000000e+00]\n'
    'Starting train loop\n'
    'RMSprop (\n'
    'epoch0, iter0, loss: 0.7337874174118042\n'
    'epoch0, iter10, loss: 0.6354644894599915\n'
    'epoch0, iter20, loss: 0.5662258863449097\n'
    'epoch0, iter30, loss: 0.4900457262992859\n'
    'epoch0, iter40, loss: 0.41834720969200134\n'
    'epoch0, iter50, loss: 0.363383024930954\n'
    'epoch0, iter60, loss: 0.30677467584609985\n'
    'epoch0, iter70, loss: 0.26339417695999146\n'
    'epoch0, iter80, loss: 0.23278218507766724\n'
    'epoch0, iter90, loss: 0.20476756989955902\n'
    'epoch0, iter100, loss: 0.18319359421730042\n'
    'epoch0, iter110, loss: 0.16465115547180176\n'
    'epoch0, iter120, loss: 0.15124239027500153\n'
    'Finish epoch 0, time elapsed 81.20016098022461\n'
    'epoch0, pix_acc: 0.2314810681216931, meanIoU: 0.009890119562021824, IoUs: [0.00000000e+00 0.00000000e+00 0.00000000e+00 0.00000000e+00\n'
    ' 2.66122184e-01 1.20343935e-02 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00 0.00000000e+00 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00            nan 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00 0.00000000e+00 0.00000000e+00 8.65034334e-03\n'
    ' 0.00000000e+00 6.54620905e-06 0.00000000e+00 0.00000000e+00\n'
    ' 0.00000000e+00            nan 0.00000000e+00 0.00000000e+00\n'
    '            nan 0.00000000e+00 0.00000000e+00 0.00000000e+00]\n'
    'RMSprop (\n'
    'Parameter Group 0\n'
    '    alpha: 0.99\n'
    '    centered: False\n'
    '    eps: 1e-08\n'
    '    initial_lr: 0.01\n'
    '    lr: 0.01\n'
    '    momentum: 0\n'
    '    weight_decay: 1e-05\n'
    ')\n'
    'epoch0, pix_acc: 0.6663743386243386, meanIoU: 0.08184327908740807, IoUs: [0.         0.         0.         0.         0.49257772 0.12924408\n'
    ' 0.         0.         0.         0.         0.         0.\n'
    ' 0.                nan 0.         0.         0.         0.74393745\n'
    ' 0.         0.01093148 0.         0.69875191 0.         0.\n'
    ' 0.                nan 0.29801245 0.                nan 0.\n'
    ' 0.         0.        ]\n'
    'RMSprop (\n'
    'Parameter Group 0\n'
    '    alpha: 0.99\n'
    '    centered: False\n'
    '    eps: 1e-08\n'
    '    initial_lr: 0.001\n'
    '    lr: 0.001\n'
    '    momentum: 0\n'
    '    weight_decay: 1e-05\n'
    ')\n'
    'epoch1, iter0, loss: 0.14672115445137024\n'
    'epoch1, iter10, loss: 0.09873199462890625\n'
    'epoch1, iter20, loss: 0.08888315409421921\n'
    'epoch1, iter30, loss: 0.09236885607242584\n'
    'epoch1, iter40, loss: 0.07419050484895706\n'
    'epoch1, iter50, loss: 0.08026088029146194\n'
)


def test_a_printed_optimizer_and_numpy_array_are_not_series() -> None:
    src = read(OPTIMIZER_DUMPS, "log_train.txt")
    names = {m for _, m in series(src)}
    assert not names & {"alpha", "eps", "initial_lr", "lr", "momentum", "weight_decay", "nan"}
    assert not any(m.startswith("e_") for m in names)
    assert values(src, "train", "loss")[:3] == [0.7338, 0.6355, 0.5662]
