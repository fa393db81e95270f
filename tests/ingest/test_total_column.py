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
