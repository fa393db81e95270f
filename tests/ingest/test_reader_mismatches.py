"""Log shapes the public-log reviewers found read wrongly (their "READER" notes), each as a minimal fixture:
what lossdoc must read, and the note it gives where it had to decide."""

from __future__ import annotations

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return [round(v, 4) for v in f.get_column("value").to_list()]


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return f.get_column("step").to_list()


# ------------------------------------------------------- epoch summary rows beside running sums
# A hand-rolled loop that prints its accumulated running_loss every 100 batches and, at the epoch's end, a
# row with the word 'summary' in the Batch column and the epoch's mean loss (plus accuracy and a count the
# header does not name). The batch rows grow within each epoch: read as the loss they rise every epoch.

RUNNING = """\
Epoch,Batch,Loss
1,1,0.2385
1,101,22.71
1,201,43.28
1,301,62.67
1,summary,1.989,0.30,6986
2,1,0.1543
2,101,16.50
2,201,32.00
2,301,46.34
2,summary,1.504,0.49,6986
3,1,0.1690
3,101,13.54
3,201,26.11
3,301,37.78
3,summary,1.212,0.60,6986
"""


def test_running_sum_rows_are_not_the_loss_and_summary_rows_are() -> None:
    src = read(RUNNING, "training_log.csv")
    assert src.format == "csv"
    assert values(src, "train", "loss") == [1.989, 1.504, 1.212]
    # at each epoch's last batch step (derived: (epoch - 1) x 301 + 301)
    assert steps(src, "train", "loss") == [301, 602, 903]
    assert values(src, "other", "loss_running_sum")[:4] == [0.2385, 22.71, 43.28, 62.67]
    text = " ".join(n.message for n in src.notes)
    assert "running sum" in text and "3 row(s) have 'summary' instead of a number in 'Batch'" in text
    # the note says how to have the per-batch loss checked, not only what it was read as
    assert "to have it checked, log it divided by the batches seen so far" in text


def test_summary_rows_beside_a_per_batch_loss_are_the_epoch_loss() -> None:
    # the batch rows are real per-batch losses (they fall): they stay the loss, the summaries sit beside them
    text = RUNNING.replace("22.71", "0.21").replace("43.28", "0.20").replace("62.67", "0.19") \
                  .replace("16.50", "0.15").replace("32.00", "0.14").replace("46.34", "0.13") \
                  .replace("13.54", "0.16").replace("26.11", "0.15").replace("37.78", "0.14")
    src = read(text, "training_log.csv")
    assert values(src, "train", "loss")[:4] == [0.2385, 0.21, 0.2, 0.19]
    assert values(src, "train", "loss_epoch") == [1.989, 1.504, 1.212]
    assert values(src, "other", "loss_running_sum") == []


def test_a_running_mean_is_not_a_running_sum() -> None:
    # tqdm-style running averages fall within an epoch: a loss, not a sum
    text = "epoch,batch,loss\n" + "".join(
        f"{e},{b},{2.0 / e + 1.0 / b:.4f}\n" for e in (1, 2, 3) for b in (1, 2, 3, 4))
    src = read(text, "log.csv")
    assert len(values(src, "train", "loss")) == 12
    assert "running sum" not in " ".join(n.message for n in src.notes)


# ------------------------------------------------------- a column that adds the train and val losses
# losses.csv with train, valid and total = train + valid: the total is neither split's loss (read as a
# training loss it carries every validation spike into the training curve).

def test_a_train_plus_val_total_is_not_a_training_series() -> None:
    rows = [(34.0, 11.6), (30.2, 10.3), (29.8, 108.6), (20.1, 5.2), (10.3, 4.9)]
    text = ",ep,train,valid,total\n" + "".join(f"{i},{i + 1},{t},{v},{t + v!r}\n" for i, (t, v) in enumerate(rows))
    src = read(text, "losses.csv")
    assert values(src, "train", "loss") == [34.0, 30.2, 29.8, 20.1, 10.3]
    assert values(src, "val", "loss") == [11.6, 10.3, 108.6, 5.2, 4.9]
    assert len(values(src, "other", "total_loss")) == 5
    assert sorted(src.frame.filter(pl.col("split") == "train").get_column("metric").unique()) == ["loss"]
    assert any("'total' is 'train' + 'valid'" in n.message for n in src.notes)


def test_a_total_of_training_components_stays_a_training_series() -> None:
    text = "ep,box,cls,total,valid\n" + "".join(
        f"{s},{b},{c},{b + c!r},{v}\n" for s, b, c, v in [(1, 0.5, 0.25, 0.9), (2, 0.4, 0.25, 0.8),
                                                           (3, 0.3, 0.125, 0.7), (4, 0.25, 0.125, 0.6)])
    src = read(text, "losses.csv")
    assert src.format == "csv"
    # the total of the loss-named training columns is the training loss (not added to its parts again)
    assert values(src, "train", "loss") == [0.75, 0.65, 0.425, 0.375]
    assert values(src, "other", "total_loss") == []


# ------------------------------------------------------- a numbers-only table whose columns name no split
# np.savetxt("losses.csv", np.column_stack([a, b])): two unlabelled columns. The file says they are losses,
# not which split: the second is as often a validation loss as a second training loss, so it is not
# claimed for training, and called validation only where its numbers show it (test_reader_notes_dev.py);
# here it keeps 0.4 of the first all along (a component of it), which says nothing of a split.

TWO_COLUMNS = "".join(f"{0.58 - 0.01 * i:.4f} ,{0.4 * (0.58 - 0.01 * i):.4f}\n" for i in range(12))


def test_an_unlabelled_second_column_gets_no_split() -> None:
    src = read(TWO_COLUMNS, "losses.csv")
    assert src.format == "numeric-column"
    assert len(values(src, "train", "loss")) == 12
    assert len(values(src, "other", "loss_col2")) == 12
    assert values(src, "train", "loss_col2") == [] and values(src, "val", "loss") == []
    note = next(n.message for n in src.notes if "names a split" in n.message)
    assert "column 2 -> other loss_col2" in note and "'train_loss,val_loss' if column 2 is the validation" in note


def test_a_file_that_names_its_split_keeps_it_for_every_column() -> None:
    src = read(TWO_COLUMNS, "train_losses.csv")
    assert len(values(src, "train", "loss_col2")) == 12
    assert not any("names a split" in n.message for n in src.notes)


def test_a_header_naming_the_columns_gives_their_splits() -> None:
    src = read("train,val\n" + TWO_COLUMNS, "losses.csv")
    assert len(values(src, "train", "loss")) == 12 and len(values(src, "val", "loss")) == 12


# ------------------------------------------------------- a row with its epoch and nothing else
# df.to_csv of a history whose epoch 3 was NaN writes '3,,': the row is not a point, and the reader says so.

def test_a_row_with_an_epoch_and_no_values_is_noted_not_dropped_in_silence() -> None:
    src = read("epoch,train_loss,val_loss\n1,0.37,0.56\n2,0.28,0.41\n3,,\n4,0.37,0.38\n", "loss_history.csv")
    assert steps(src, "train", "loss") == [1, 2, 4]
    gap = [n for n in src.notes if n.kind == "gap"]
    assert len(gap) == 1 and gap[0].line == 4 and gap[0].step == 3
    assert "NaN" in gap[0].message


# ------------------------------------------------------- an 'epoch' column that is not the first
# A history CSV written by hand ('resolution,epoch,loss' of a progressive GAN, 'loss,epoch,val_loss'): the
# epoch is a counter wherever it stands, never a training series called 'epoch'.

def test_an_epoch_column_in_second_place_is_the_axis_not_a_series() -> None:
    src = read("loss,epoch,val_loss\n1.0,1,1.2\n0.8,2,1.0\n0.7,3,0.9\n", "history.csv")
    assert src.format == "keras-csv"
    assert sorted(src.frame.get_column("metric").unique()) == ["loss"]
    assert steps(src, "train", "loss") == [1, 2, 3] and values(src, "val", "loss") == [1.2, 1.0, 0.9]


def test_an_epoch_column_counting_within_phases_is_not_a_series() -> None:
    rows = [(8, 1, 23.9), (8, 2, 22.6), (8, 3, 21.3), (16, 1, 23.7), (16, 2, 17.3), (16, 3, 14.3)]
    src = read("resolution,epoch,loss\n" + "".join(f"{r},{e},{v}\n" for r, e, v in rows), "training_loss.csv")
    assert "epoch" not in src.frame.get_column("metric").to_list()
    assert values(src, "train", "loss") == [23.9, 22.6, 21.3, 23.7, 17.3, 14.3]
    assert any("goes back to its start 1 time(s)" in n.message for n in src.notes)


# ------------------------------------------------------- a complete last line without a line ending
# A finished log whose writer never ended the last line: only what may be cut (the row's last cell, a number
# at the very end of a text line) is left out; values followed by a separator or by text are complete.

def test_a_csv_last_row_without_newline_keeps_every_cell_but_the_last() -> None:
    src = read("epoch,loss_a,loss_b\n0,0.5,0.6\n1,0.4,0.5\n2,0.3,0.4", "training_loss.csv")
    assert steps(src, "train", "loss_a") == [0, 1, 2]
    assert steps(src, "train", "loss_b") == [0, 1]
    torn = [n for n in src.notes if n.kind == "torn_tail"]
    assert len(torn) == 1 and "'loss_b'" in torn[0].message


def test_a_text_last_line_that_ends_after_its_numbers_is_read() -> None:
    body = "".join(f"Epoch {e}, Loss: {0.5 / e:.6f}, Test Loss: {0.6 / e:.6f}, Training time: 0.7{e}m\n"
                   for e in range(1, 8))
    src = read(body + "Epoch 8, Loss: 0.062500, Test Loss: 0.075000, Training time: 0.78m", "train_log.txt")
    assert steps(src, "train", "loss")[-1] == 8 and steps(src, "test", "loss")[-1] == 8
    assert not any(n.kind == "torn_tail" for n in src.notes)
    # a line that stops on a digit may have been cut inside the number: not read
    src = read(body + "Epoch 8, Loss: 0.062500, Test Loss: 0.07", "train_log.txt")
    assert steps(src, "train", "loss")[-1] == 7
    assert any(n.kind == "torn_tail" for n in src.notes)


# ------------------------------------------------------- a second counter printed beside the epoch
# 'index:   3,epoch:  3 train_loss:2.10 ...': 'index' repeats the epoch; it is not a training metric.

def test_a_key_that_repeats_the_counter_is_not_a_series() -> None:
    text = "".join(f"index: {e:3d},epoch: {e:2d} train_loss:{3.5 - 0.4 * e:.4f} val_loss:{3.4 - 0.3 * e:.4f}\n"
                   for e in range(6))
    src = read(text, "train_log.txt")
    assert sorted(set(src.frame.get_column("metric"))) == ["loss"]
    assert len(values(src, "train", "loss")) == 6 and len(values(src, "val", "loss")) == 6
    assert any("'index' equals the step" in n.message for n in src.notes)
