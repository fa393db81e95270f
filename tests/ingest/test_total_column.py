"""A table with no column named as a loss whose per-split ``total`` column is the loss summed over its parts.

Source of the shape: ruhalis/upscale-models ``loss_log.csv`` (commit a75d410b7bf4dfd33b355e228230903a703b2e5b),
listed in benchmarks/publiclogs/UNREADABLE.tsv: ``epoch,train_l1,train_perc,val_l1,val_perc,train_total,
val_total,learning_rate``, 450 epochs; lossdoc read no loss from it. The first rows, verbatim:
"""

from __future__ import annotations

from tests.ingest.test_reader_mismatches_b4 import read, series, values

UPSCALE = """\
epoch,train_l1,train_perc,val_l1,val_perc,train_total,val_total,learning_rate
1,0.374263,6.338522,0.214927,6.821635,1.641968,1.579254,0.00080000
2,0.181115,6.330164,0.142106,6.317796,1.447148,1.405665,0.00080000
3,0.133208,5.927538,0.120071,5.631866,1.318716,1.246444,0.00080000
4,0.116290,5.364950,0.110012,5.152398,1.189280,1.140492,0.00080000
5,0.108300,4.989021,0.101010,4.840122,1.106104,1.069034,0.00080000
"""


def test_total_columns_are_the_train_and_val_loss_when_nothing_is_named_as_a_loss() -> None:
    src = read(UPSCALE, "loss_log.csv")
    assert values(src, "train", "loss") == [1.642, 1.4471, 1.3187, 1.1893, 1.1061]
    assert values(src, "val", "loss") == [1.5793, 1.4057, 1.2464, 1.1405, 1.069]
    # the parts stay series of their own, not added into the loss
    assert {("train", "l1"), ("train", "perc"), ("val", "l1"), ("val", "perc")} <= series(src)
    text = " ".join(n.message for n in src.notes)
    assert "'train_total' (the loss in total, by its name) is read as the train loss" in text


def test_a_total_beside_a_loss_named_column_is_not_the_loss() -> None:
    src = read("epoch,train_loss,train_total\n1,0.9,3.0\n2,0.8,2.9\n3,0.7,2.8\n", "log.csv")
    assert values(src, "train", "loss") == [0.9, 0.8, 0.7]


def test_a_sample_count_called_total_is_not_a_loss() -> None:
    src = read("epoch,correct,total,acc\n1,50,100,0.5\n2,60,100,0.6\n3,70,100,0.7\n", "acc.csv")
    assert ("train", "loss") not in series(src)


# Lightning's documented idiom once validation_epoch_end was removed (2.0): the losses of validation_step are
# kept in a list and their mean logged as "validation_epoch_average" in on_validation_epoch_end. Shape of
# HoseinNasiriShahraki/DeepLearning lightning_logs/version_8/metrics.csv (commit 1252eb7546e26f8d20dbeb2052281c6ae86cddba,
# UNREADABLE.tsv: no column called loss), first rows verbatim:
LIGHTNING_EPOCH_AVERAGE = """\
epoch,step,validation_epoch_average
0,599,0.22294670343399048
1,1199,0.1471710503101349
2,1799,0.11898364871740341
3,2399,0.10374149680137634
4,2999,0.09440658986568451
"""


def test_lightnings_validation_epoch_average_is_the_validation_loss() -> None:
    src = read(LIGHTNING_EPOCH_AVERAGE, "metrics.csv")
    assert src.format == "lightning-csv"
    assert values(src, "val", "loss") == [0.2229, 0.1472, 0.119, 0.1037, 0.0944]
    text = " ".join(n.message for n in src.notes)
    assert "'validation_epoch_average' (the loss averaged over the epoch, by its name) is read as the val loss" in text


def test_a_lightning_mean_loss_beside_its_parts_is_the_loss_not_their_sum() -> None:
    # 0729max0729/PINNforEM version_0: the parts of a PINN's loss and their mean, none named plainly 'loss'
    src = read("a_loss,b_loss,epoch,mean_loss,step\n0.2,0.6,0,0.4,0\n0.1,0.5,0,0.3,1\n0.1,0.3,0,0.2,2\n",
               "metrics.csv")
    assert src.format == "lightning-csv"
    assert values(src, "train", "loss") == [0.4, 0.3, 0.2]
    assert values(src, "train", "a_loss") == [0.2, 0.1, 0.1]
