"""Curves a script saved as one JSON document (batch 8 of benchmarks/publiclogs, found unreadable): a bare list of
numbers, a list of [step, train, val] rows, a list of records, and objects of lists keyed by split words (with a
``steps`` axis), by loss names that carry "loss" inside them, or per batch beside per round. Each sample is the
start of the real file (repository, path and commit cited), cut to a few entries."""

from __future__ import annotations

import polars as pl
import pytest

from lossdoc.errors import LossdocError
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(data: str, name: str) -> Source:
    inp = from_bytes(data.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, None)


def frame(src: Source, split: str, metric: str) -> pl.DataFrame:
    return src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")


def notes(src: Source) -> str:
    return " | ".join(n.message for n in src.notes)


# AleNarder/micronn losses.json (json.dump of a list of per-epoch losses; first 6 of 300)
MICRONN = ("[0.9524158731912934,0.7585970863207974,0.6632806780383255,0.5773120691643124,0.5031785012880607,"
           "0.4426428216383908]")


def test_bare_list_of_numbers_is_the_curve_the_file_names() -> None:
    src = read(MICRONN, "losses.json")
    assert src.format == "json-curves"
    f = frame(src, "train", "loss")
    assert f.get_column("value").to_list() == [0.9524158731912934, 0.7585970863207974, 0.6632806780383255,
                                               0.5773120691643124, 0.5031785012880607, 0.4426428216383908]
    assert f.get_column("step").to_list() == [0, 1, 2, 3, 4, 5]
    assert "no step written" in notes(src)
    assert "last line has no line ending" not in notes(src)  # json.dump writes none: not a torn file


def test_bare_list_named_for_its_split() -> None:
    # dhruvgarg78/CIFAR10 train_losses.json (first 4 of 70), and the same numbers as a validation file
    data = "[2.1234928467084684, 1.9503221365496934, 1.8594943719446813, 1.7732772211284589]"
    assert frame(read(data, "train_losses.json"), "train", "loss").height == 4
    assert frame(read(data, "val_losses.json"), "val", "loss").height == 4


def test_null_in_a_list_is_a_missing_value() -> None:
    src = read("[1.5, 1.2, null, 0.9, 0.8]", "losses.json")
    v = frame(src, "train", "loss").get_column("value").to_list()
    assert len(v) == 5 and v[2] != v[2] and v[3] == 0.9


# CollinPhipps/llm loss_history.json (indent=2 in the file; first 5 of 25 [step, train, val] rows)
COLLIN = """[
  [
    200,
    5.954643909931183,
    6.021238269805909
  ],
  [400, 5.426133804321289, 5.54714424610138],
  [600, 5.182122826576233, 5.366923785209655],
  [800, 4.969617533683777, 5.216690127849579],
  [1000, 4.804522514343262, 5.097702384948730]
]"""


def test_list_of_rows_is_a_table_with_its_step_column() -> None:
    src = read(COLLIN, "loss_history.json")
    assert src.format == "json-curves"
    train = frame(src, "train", "loss")
    assert train.get_column("step").to_list() == [200, 400, 600, 800, 1000]
    assert train.get_column("value").to_list()[0] == 5.954643909931183
    # the second loss column: 'val' only when its numbers show it, and a note says which (numeric_column's rule)
    other = src.frame.filter(pl.col("split") != "train").get_column("value").to_list()
    assert other[0] == 6.021238269805909
    assert "neither the file name nor a header names a split" in notes(src)
    assert "(row " not in notes(src) or "of the list" in notes(src)


# carloslfu/grokking-from-scratch training_log.json (first 3 of 401 records)
GROK = ('[{"step": 0, "train_loss": 4.7548394203186035, "train_acc": 0.008093995042145252, "val_loss": '
        '4.759665012359619, "val_acc": 0.008837677538394928}, {"step": 100, "train_loss": 1.1173464059829712, '
        '"train_acc": 0.8026109933853149, "val_loss": 9.003422737121582, "val_acc": 0.026401164010167122}, {"step": '
        '200, "train_loss": 0.017244866117835045, "train_acc": 1.0, "val_loss": 14.46601676940918, "val_acc": '
        '0.04866316169500351}]')


def test_list_of_records_is_read_as_json_lines() -> None:
    src = read(GROK, "training_log.json")
    assert src.format == "json-curves"
    assert frame(src, "train", "loss").get_column("step").to_list() == [0, 100, 200]
    assert frame(src, "val", "loss").get_column("value").to_list() == [4.759665012359619, 9.003422737121582,
                                                                      14.46601676940918]
    assert frame(src, "val", "accuracy").height == 3
    assert "a JSON list of 3 records" in notes(src)


# RaniaMostafa0/ddpm-mnist losses.json ({"train": [...], "val": [...]}, first 3 of 100 each)
RANIA = ('{"train": [0.08776233248909314, 0.03883520631492138, 0.03387613727649053], "val": [0.043948182122821505, '
         '0.03502400516671069, 0.03148932608359672]}')
# pranjalidatascience/MiniGPT loss_history.json ({"steps", "train", "val"}, first 3 of 500 each)
MINIGPT = ('{"steps": [0, 10, 20], "train": [10.835443496704102, 10.643260955810547, 10.440134048461914], '
           '"val": [10.850342750549316, 10.651474952697754, 10.443947792053223]}')


def test_object_keyed_by_split_words_in_a_file_named_after_the_loss() -> None:
    src = read(RANIA, "losses.json")
    assert frame(src, "train", "loss").get_column("value").to_list()[0] == 0.08776233248909314
    assert frame(src, "val", "loss").get_column("value").to_list() == [0.043948182122821505, 0.03502400516671069,
                                                                      0.03148932608359672]


def test_steps_key_is_the_axis() -> None:
    src = read(MINIGPT, "loss_history.json")
    assert frame(src, "val", "loss").get_column("step").to_list() == [0, 10, 20]
    assert frame(src, "train", "loss").get_column("value").to_list()[2] == 10.440134048461914
    assert not src.frame.filter(pl.col("name") == "steps").height  # the axis is not a series
    assert "'steps' is the step" in notes(src)


def test_split_words_are_not_claimed_without_a_curve_name() -> None:
    # the same object in a file whose name says nothing of a curve (a config, a dataset split index) is not read
    with pytest.raises(LossdocError):
        read(RANIA, "splits.json")


# Muhammad-Kazim/Digital-Holography-Phase-Unwrapping losses.json (first 3 of 11 each)
KAZIM = ('{"loss_total": [0.39351864574476353, 0.29497698184386106, 0.24068295213716828], "loss_amp": '
         '[0.18558191561252926, 0.18163265879291574, 0.17743272977002036], "loss_phase": [0.6014553758769978, '
         '0.4083213048948064, 0.3039331745043162]}')


def test_loss_word_inside_a_key() -> None:
    src = read(KAZIM, "losses.json")
    assert frame(src, "train", "loss").get_column("value").to_list()[0] == 0.39351864574476353
    assert {"loss_amp", "loss_phase"} <= set(src.frame.get_column("name").to_list())


def test_per_round_list_beside_a_per_batch_list_is_placed_at_block_ends() -> None:
    # gustavoguaragna/GeraFed losses.json holds g/d losses per chunk (5,500) and per round (55); here 6 and 2
    data = ('{"g_losses_chunk": [0.57, 0.59, 0.63, 0.70, 0.62, 0.61], "d_losses_chunk": [0.69, 0.68, 0.66, 0.65, '
            '0.67, 0.66], "g_losses_round": [0.60, 0.64], "d_losses_round": [0.68, 0.66]}')
    src = read(data, "losses.json")
    r = src.frame.filter(pl.col("name") == "g_losses_round").sort("step")
    assert r.get_column("step").to_list() == [2, 5]
    assert "value i placed at step (i+1) x 3 - 1" in notes(src)


def test_other_json_lists_are_not_curves() -> None:
    with pytest.raises(LossdocError):
        read('[{"id": 1, "text": "a"}, {"id": 2, "text": "b"}]', "dataset.json")
    with pytest.raises(LossdocError):
        read("[1, 2, 3, 4, 5]", "ids.json")


def test_a_list_with_a_non_number_names_the_element() -> None:
    with pytest.raises(LossdocError, match=r"element 2 of the list is not a number \('\"abc\"'\)"):
        read('[0.5, "abc", 0.4, 0.3, 0.2]', "losses.json")
    with pytest.raises(LossdocError, match="not closed"):
        read("[0.5, 0.4, 0.3", "losses.json")
