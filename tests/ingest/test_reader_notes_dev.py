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
