"""Reader fixes of round 15: each shape as a few lines in the layout of the public log it came from (source named
above each test: repository, path, commit; the values here are made up), what lossdoc must read."""

from __future__ import annotations

import pytest

from lossdoc.model import canonical_metric, split_and_metric
from tests.ingest.test_reader_notes_dev import read, values


# ------------------------------------------------------------------ a loss term whose name begins with "Lr"
# Abdelrahman350/Synergy training.csv (Keras CSVLogger): columns 'Lc_loss, Lr_loss, Pm_loss, loss, lr' and their
# val_ twins. main read 'Lr_loss' as the learning rate (Lightning's 'lr-AdamW' rule: any name starting 'lr_'), so
# the real 'lr' column became 'lr_2' and the low-rank loss term was plotted and judged as the LR.

@pytest.mark.parametrize(("name", "metric"), [
    ("Lr_loss", "lr_loss"),
    ("lr-AdamW", "lr"),
    ("lr-SGD/pg1", "lr"),
    ("lr", "lr"),
])
def test_a_name_starting_lr_is_the_lr_unless_it_is_a_loss(name: str, metric: str) -> None:
    assert canonical_metric(name) == metric


def test_lr_loss_column_is_a_loss_term_and_lr_stays_the_lr() -> None:
    rows = ["epoch,Lc_loss,Lr_loss,loss,lr,val_Lc_loss,val_Lr_loss,val_loss"]
    for e in range(6):
        rows.append(f"{e},{11.9 - e},{11.7 - e},{1.3 - 0.1 * e:.2f},0.01,{41.0 - e},{34.0 - e},{3.9 - 0.2 * e:.2f}")
    src = read("\n".join(rows) + "\n", "training.csv")
    assert values(src, "train", "lr") == [0.01] * 6
    assert values(src, "train", "lr_loss") == [11.7, 10.7, 9.7, 8.7, 7.7, 6.7]
    assert values(src, "val", "lr_loss") == [34.0, 33.0, 32.0, 31.0, 30.0, 29.0]
    assert split_and_metric("val_Lr_loss") == ("val", "lr_loss")
