"""Reader fixes for the public dev logs' READER notes (round 5): each shape as a small excerpt of the log it
came from (the source named above it), what lossdoc must read, and the note it gives where it decided."""

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


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return sorted(f.get_column("step").to_list())


def note(src: Source, kind: str, words: str = "") -> str:
    hits = [n.message for n in src.notes if n.kind == kind and words in n.message]
    assert len(hits) == 1, [n.message for n in src.notes]
    return hits[0]


# ------------------------------------------------------- a phase schedule run twice in one file
# woodentoken/ffhq_training training_loss.csv (public dev log), lines 1-11 and 27-46: a progressive GAN trained at
# resolution 8 then 16 (5 epochs each, counted from 1 in each phase), then the whole schedule started again
# (10 epochs a phase). Read as one curve with the row index as the epoch, the second run's start looked like a
# loss jump inside one run; it is a second run (back to the first phase, the loss back at its first level).

SCHEDULE_TWICE = (
    "resolution,epoch,loss\n"
    "8,1,23.94992309512401\n"
    "8,2,22.624216218563642\n"
    "8,3,22.051673377440736\n"
    "8,4,21.308539280837234\n"
    "8,5,21.678785638545047\n"
    "16,1,23.687046335332774\n"
    "16,2,20.82032061071897\n"
    "16,3,17.308870640414003\n"
    "16,4,16.007776331749152\n"
    "16,5,14.29908062991771\n"
    "8,1,23.545149346982893\n"
    "8,2,22.076209829273548\n"
    "8,3,21.071138186380267\n"
    "8,4,20.319273917004466\n"
    "8,5,18.853149331005458\n"
    "8,6,18.079631832851604\n"
    "8,7,18.20485326342962\n"
    "8,8,16.999124023555353\n"
    "8,9,16.75600153326311\n"
    "8,10,16.651187061924826\n"
    "16,1,23.61940687369894\n"
    "16,2,19.935465006411754\n"
    "16,3,16.498079493641853\n"
    "16,4,14.252654195678504\n"
    "16,5,13.492510047317905\n"
    "16,6,12.784940207631074\n"
    "16,7,12.379416269207882\n"
    "16,8,10.593197380912237\n"
    "16,9,9.619943186386742\n"
    "16,10,8.845037209632045\n"
)


def test_a_phase_schedule_that_starts_over_is_a_second_run() -> None:
    src = read(SCHEDULE_TWICE, "training_loss.csv")
    assert src.format == "keras-csv"
    loss = values(src, "train", "loss")
    assert len(loss) == 20 and loss[0] == 23.5451 and loss[-1] == 8.845
    assert steps(src, "train", "loss") == list(range(20))  # the kept run's own epochs, from 0
    msg = note(src, "several_runs")
    assert "holds 2 separate runs" in msg and "analysed the last, lines 12-31 (20 rows)" in msg
    assert "lines 2-11 (10 rows)" in msg


def test_one_run_of_a_phase_schedule_is_kept_whole() -> None:
    src = read("\n".join(SCHEDULE_TWICE.splitlines()[:11]) + "\n", "training_loss.csv")
    assert len(values(src, "train", "loss")) == 10
    assert not [n for n in src.notes if n.kind == "several_runs"]


# ------------------------------------------------------- an unnamed second loss column that is validation
# JulesBelveze/text-summarizer losses.txt (public dev log), every 10th line: train loss, val loss, epoch, no
# header. Both fall, they start at one level (after the first epoch's average), and the second ends above
# the first with the gap opening: the validation loss (it bottoms out and rises: overfitting).

TRAIN_VAL = (
    "706.3421666547796\t50.125271403712446\t0\n"
    "39.38424257889855\t44.19264716809166\t10\n"
    "37.6969657451396\t44.94982984183549\t20\n"
    "36.83163037025942\t45.65373059252983\t30\n"
    "36.26662134846455\t46.453879026696086\t40\n"
    "35.83362739832497\t47.131674369122706\t50\n"
    "35.51284957263578\t47.85185817243724\t60\n"
    "35.22012404076634\t48.620089084664684\t70\n"
    "34.97866816988389\t49.36249994175059\t80\n"
    "34.78432981217996\t50.13729257661657\t90\n"
)

# Eason-Sun/Unsupervised-Monocular-Depth-Estimation losses.csv (public dev log), every 4th line: the same
# shape written 'train ,val' (validation below training for the first epochs, above it from epoch 16 on).
TRAIN_VAL_COMMA = (
    "0.5833239185090606 ,0.5479436865750196\n"
    "0.4752719935157623 ,0.45323426293023283\n"
    "0.420018585449623 ,0.40914464883567875\n"
    "0.37550568086725333 ,0.36081880084739243\n"
    "0.3328861317844491 ,0.35917018586029614\n"
    "0.2974440427377684 ,0.3108719061380424\n"
    "0.2723226540038472 ,0.28790472232833153\n"
    "0.254003650780717 ,0.2799354952683664\n"
    "0.2380251001927033 ,0.2770234513494973\n"
    "0.233448024915593 ,0.27756644856452334\n"
    "0.22457494673821707 ,0.2728565654327213\n"
)


def test_an_unnamed_second_column_that_opens_a_gap_above_the_first_is_validation() -> None:
    for text, n in ((TRAIN_VAL, 10), (TRAIN_VAL_COMMA, 11)):
        src = read(text, "losses.txt")
        assert src.format == "numeric-column"
        assert len(values(src, "train", "loss")) == n and len(values(src, "val", "loss")) == n
        assert values(src, "other", "loss_col2") == []
        msg = note(src, "inferred", "names a split")
        assert "column 2 as val loss" in msg and "a validation loss beside the training loss" in msg
    assert values(read(TRAIN_VAL, "losses.txt"), "val", "loss")[:2] == [50.1253, 44.1926]


def test_the_header_the_note_gives_undoes_the_validation_reading() -> None:
    msg = note(read(TRAIN_VAL, "losses.txt"), "inferred", "names a split")
    header = msg.split("a first line naming the columns ('", 1)[1].split("')", 1)[0].replace("<TAB>", "\t")
    assert header == "loss\tloss_2\tstep"
    src = read(header + "\n" + TRAIN_VAL, "losses.txt")
    assert values(src, "val", "loss") == [] and len(values(src, "train", "loss_2")) == 10


def test_an_unnamed_second_column_without_the_signature_stays_other_with_the_header_to_add() -> None:
    # a GAN's generator beside its discriminator: not at one level, and the gap does not open from it
    gan = "".join(f"{0.7 - 0.02 * i:.4f},{2.0 + 0.1 * i:.4f}\n" for i in range(12))
    # validation below training all along (dropout): its numbers do not tell it from a second training loss
    below = "".join(f"{0.7 - 0.02 * i:.4f},{0.6 - 0.02 * i:.4f}\n" for i in range(12))
    for text in (gan, below):
        src = read(text, "losses.csv")
        assert values(src, "val", "loss") == [] and len(values(src, "other", "loss_col2")) == 12
        msg = note(src, "inferred", "names a split")
        assert ("to have it checked, add a first line naming the columns: 'train_loss,val_loss' if column 2 is "
                "the validation loss") in msg
    # the line it gives works
    src = read("train_loss,val_loss\n" + below, "losses.csv")
    assert len(values(src, "val", "loss")) == 12


# ------------------------------------------------------- runs appended to a log whose reader keeps no lines
# Tanveer81/transformed_detr out/log.txt (public dev log; DETR's JSON-lines log), lines 1-16 with three of
# their ~90 keys: three aborted starts (epochs 0-3, 0-5), then the run that went on (epochs 0-4 here). Each
# start logs the untrained loss level again (31.6 after 23.0): a new run, not a resume from a checkpoint.
# Read as a resume, the third start's epoch 5 (23.00) was kept after the last run's epoch 4, one curve from
# two runs; the note called it a resumed run.

DETR_STARTS = """\
{"train_loss": 28.8186, "test_loss": 39.4695, "epoch": 0}
{"train_loss": 31.8677, "test_loss": 31.8779, "epoch": 0}
{"train_loss": 26.2099, "test_loss": 29.042, "epoch": 1}
{"train_loss": 24.6694, "test_loss": 28.1938, "epoch": 2}
{"train_loss": 23.8115, "test_loss": 28.5893, "epoch": 3}
{"train_loss": 29.3159, "test_loss": 37.0547, "epoch": 0}
{"train_loss": 24.8965, "test_loss": 41.2391, "epoch": 1}
{"train_loss": 24.2162, "test_loss": 40.8189, "epoch": 2}
{"train_loss": 23.6824, "test_loss": 43.3327, "epoch": 3}
{"train_loss": 23.5959, "test_loss": 44.721, "epoch": 4}
{"train_loss": 23.0015, "test_loss": 44.6524, "epoch": 5}
{"train_loss": 31.6102, "test_loss": 33.842, "epoch": 0}
{"train_loss": 26.3406, "test_loss": 32.4703, "epoch": 1}
{"train_loss": 24.6726, "test_loss": 30.4678, "epoch": 2}
{"train_loss": 23.5955, "test_loss": 32.5386, "epoch": 3}
{"train_loss": 23.216, "test_loss": 30.2918, "epoch": 4}
"""


def test_a_new_run_appended_to_a_json_lines_log_is_kept_alone_and_named() -> None:
    src = read(DETR_STARTS, "log.txt")
    assert src.format == "jsonl"
    assert values(src, "train", "loss") == [31.6102, 26.3406, 24.6726, 23.5955, 23.216]
    assert steps(src, "train", "loss") == [0, 1, 2, 3, 4]  # not the earlier run's epoch 5 joined to it
    assert values(src, "test", "loss") == [33.842, 32.4703, 30.4678, 32.5386, 30.2918]
    msg = note(src, "several_runs")
    assert "holds 3 separate runs" in msg and "a new run rather than a resume" in msg
    assert "analysed the last, steps 0-4 (5 points)" in msg and "steps 0-5 (6 points)" in msg
    assert "(22 row(s) left out)" in msg
    assert not [n for n in src.notes if n.kind == "restart"]


def test_a_resume_from_a_checkpoint_is_still_a_resume() -> None:
    # the counter goes back a little (to the last checkpoint) and the loss carries on: the resumed rows
    # replace the ones they overwrote, the rows before the checkpoint stay
    lines = [(e, 3.0 - 0.2 * e) for e in range(8)] + [(e, 3.0 - 0.2 * e + 0.01) for e in range(5, 10)]
    src = read("".join(f'{{"train_loss": {v:.4f}, "epoch": {e}}}\n' for e, v in lines), "log.txt")
    assert steps(src, "train", "loss") == list(range(10))
    assert values(src, "train", "loss")[4:6] == [2.2, 2.01]
    assert note(src, "restart").startswith("steps go back at step 5 (resumed run)")
    assert not [n for n in src.notes if n.kind == "several_runs"]


# ------------------------------------------------------- a counter reset where the loss carries on
# YGGYatsso/Image-Colorization-Using-CGAN losses.csv (public dev log), lines 1-7 and 59996-60007: a cGAN's
# per-iteration losses whose index goes back to 0 after 59,999 while the generator carries on at its level
# (10.69 after a median 10.03; it started at 38.41). One run whose counter was reset: laid end to end, nothing
# dropped. The test is the one that tells a new run (tests above): the first loss after the reset against the
# median of the last 3 before it and the run's first value (runs.find_runs' measures).

GAN_RESET = """\
,discriminator,Generator
0,0.715539,38.414917
1,0.7319342,32.96393
2,0.89329934,29.698872
3,0.80310965,27.736954
4,0.75143266,23.007336
5,0.6936086,22.043045
59994,0.0336724556982517,11.530318
59995,0.2066193670034408,8.700804
59996,0.251008927822113,7.384366
59997,0.7326638102531433,15.157486
59998,0.9238601922988892,9.139227
59999,0.3200154304504394,10.033667
0,0.0693860575556755,10.689501
1,0.0787811428308487,10.802282
2,0.06611817330121994,10.269259
3,0.176649272441864,9.534407
4,0.22839799523353577,11.083679
5,0.13003599643707275,11.398632
"""


def test_a_counter_reset_with_the_loss_carrying_on_is_laid_end_to_end() -> None:
    src = read(GAN_RESET, "losses.csv")
    assert steps(src, "train", "generator_loss") == [*range(6), *range(59994, 60006)]
    assert len(values(src, "train", "discriminator_loss")) == 18
    msg = note(src, "restart")
    assert "(Generator: 10.03 before (median of the last 3 points), 10.69 after; it started at 38.41)" in msg
    assert not [n for n in src.notes if n.kind == "several_runs"]


def test_prose_around_numbers_is_not_read_as_series() -> None:
    # "Training complete in 7m 46s" read a one-point series 'in' (azmonreal/ChestX-Ray8), "Time taken for 1
    # epoch" a series 'for' of 1,410 ones (PanXiebit/transformer-tf2.0), "training on 73847 raw words" one named
    # 'training on': a key that is, or ends in, a function word names no value
    from lossdoc.ingest import from_bytes, read_input

    text = "".join(f"Epoch {e}/3 | Train Loss: {1.0 - e / 10:.3f} | Val Loss: {1.1 - e / 10:.3f}\n"
                   f"Time taken for 1 epoch: 14.{e} secs\n"
                   f"EPOCH {e}: training on 73847 raw words took 0.2s\n" for e in range(1, 4))
    text += "Training complete in 7m 46s\n"
    inp = from_bytes(text.encode(), name="train.log")
    inp.run_name = "run"
    src = read_input(inp)
    names = set(src.frame["name"].to_list())
    assert {"Train Loss", "Val Loss"} <= names
    assert not names & {"in", "for", "training on", "on"}, names
