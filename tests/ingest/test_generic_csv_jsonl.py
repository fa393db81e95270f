"""csv and jsonl: the generic fallbacks — axes, NaN/inf kept, broken files, and that they lose to specific formats."""

from __future__ import annotations

import math

import polars as pl
import pytest

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest import choose, from_bytes, read_input
from lossdoc.ingest.registry import get_parser, rank
from lossdoc.model import Source
from tests.ingest.golden import assert_golden

CSV = """\
step,train_loss,val_loss,lr,wall_time
100,2.4312,,0.0003,1700000000.5
200,2.1107,2.5120,0.0003,1700000060.0
300,nan,,0.0003,1700000120.25
400,inf,2.3001,0.00015,1700000180.0
"""

JSONL = """\
{"step": 100, "loss": 2.4312, "lr": 0.0003}
{"step": 200, "loss": 2.1107, "lr": 0.0003, "grad_norm": NaN}
{"step": 200, "split": "val", "loss": 2.5120, "acc": 0.41}
{"step": 300, "loss": Infinity, "lr": 0.0003, "grad_norm": -Infinity, "note": "a \\"quoted\\": 1 string"}
{"step": 400, "loss": 1.9, "lr": 1.5e-04, "timing": {"fwd_ms": 12.5}}
"""


def read(text: str | bytes, name: str, fmt: str | None = None) -> Source:
    data = text.encode() if isinstance(text, str) else text
    inp = from_bytes(data, name=name)
    inp.run_name = "sample"
    return read_input(inp, fmt)


def series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))


# ---------------------------------------------------------------- csv


def test_csv() -> None:
    src = read(CSV, "metrics_log.csv")
    assert src.format == "csv"
    assert_golden(src.frame, "csv/basic.csv")
    f = src.frame
    loss = series(f, "train", "loss")
    assert loss["step"].to_list() == [100, 200, 300, 400]
    assert math.isnan(loss["value"][2]) and math.isinf(loss["value"][3])
    assert series(f, "val", "loss")["step"].to_list() == [200, 400]
    assert loss["wall_time"].to_list() == [1700000000.5, 1700000060.0, 1700000120.25, 1700000180.0]
    assert "wall_time" not in f["name"].to_list()
    assert src.notes == []


def test_tsv_bom_crlf_and_iteration_axis() -> None:
    text = "iteration\tLoss\tValid Loss\r\n1\t0.9\t1.0\r\n2\t0.8\t\r\n"
    src = read(b"\xef\xbb\xbf" + text.encode(), "run.tsv")
    assert src.format == "csv"
    assert series(src.frame, "train", "loss")[["name", "step", "value"]].rows() == [("Loss", 1, 0.9), ("Loss", 2, 0.8)]
    assert series(src.frame, "val", "loss")[["name", "step"]].rows() == [("Valid Loss", 1)]


def test_no_axis_column_uses_row_index() -> None:
    src = read("loss,val_loss\n0.9,1.0\n0.8,0.95\n", "losses.csv", "csv")
    assert series(src.frame, "train", "loss")["step"].to_list() == [0, 1]
    assert [n.kind for n in src.notes] == ["inferred"]


def test_epoch_axis_and_fractional_epochs() -> None:
    src = read("epoch,loss\n0,0.9\n1,0.8\n", "e.csv", "csv")
    assert series(src.frame, "train", "loss")[["step", "epoch"]].rows() == [(0, 0.0), (1, 1.0)]
    src = read("epoch,loss\n0.5,0.9\n1.0,0.8\n1.5,0.7\n", "e.csv", "csv")
    assert series(src.frame, "train", "loss")[["step", "epoch"]].rows() == [(0, 0.5), (1, 1.0), (2, 1.5)]
    assert "fractional" in src.notes[0].message


def test_restart_in_generic_csv_goes_to_the_normaliser() -> None:
    src = read("step,loss\n1,0.9\n2,0.8\n3,0.7\n2,0.75\n3,0.65\n", "r.csv", "csv")
    assert series(src.frame, "train", "loss")[["step", "value"]].rows() == [(1, 0.9), (2, 0.75), (3, 0.65)]
    assert [n.kind for n in src.notes] == ["restart"]


def test_ragged_torn_and_bad_cells() -> None:
    text = "step,loss,acc\n1,0.9,0.1\n2,0.8\n3,oops,0.3\n4,0.6,0.4,extra\n5,0.5,0"
    src = read(text, "x.csv", "csv")
    # the torn last row '5,0.5,0': 0.5 is followed by a separator (complete, read), the last cell '0' may be cut
    assert series(src.frame, "train", "loss")["step"].to_list() == [1, 2, 4, 5]
    assert series(src.frame, "train", "accuracy")["step"].to_list() == [1, 3, 4]
    kinds = {n.kind: n for n in src.notes}
    assert set(kinds) == {"other", "torn_tail", "skipped_lines"}
    assert kinds["other"].line == 3 and kinds["other"].count == 2  # one short row, one long row
    assert kinds["torn_tail"].line == 6
    assert kinds["skipped_lines"].line == 4 and "oops" in kinds["skipped_lines"].message


@pytest.mark.parametrize(
    ("text", "error", "line"),
    [
        pytest.param("step,loss\n", EmptyInputError, 1, id="header-only"),
        pytest.param("step,loss\n1.5,0.5\n2.5,0.4\nthree,0.3\n4,0.2\n", ParseError, 2, id="not-a-step-column"),
    ],
)
def test_csv_errors(text: str, error: type[Exception], line: int) -> None:
    with pytest.raises(error) as err:
        get_parser("csv").parse(from_bytes(text.encode(), name="m.csv"))
    assert err.value.path == "m.csv" and err.value.line == line  # type: ignore[attr-defined]


def test_garbled_step_cell_skips_only_its_row() -> None:
    src = get_parser("csv").parse(from_bytes(b"step,loss\n1,0.5\n2,0.4\nthree,0.3\n4,0.2\n", name="m.csv"))
    assert src.frame.get_column("step").to_list() == [1, 2, 4]
    note = next(n for n in src.notes if n.kind == "skipped_lines")
    assert note.line == 4 and note.count == 1


def test_empty_file() -> None:
    with pytest.raises(EmptyInputError, match="m.csv"):
        read(b"", "m.csv", "csv")


# ---------------------------------------------------------------- jsonl


def test_jsonl() -> None:
    src = read(JSONL, "metrics.jsonl")
    assert src.format == "jsonl"
    assert_golden(src.frame, "jsonl/basic.csv")
    f = src.frame
    loss = series(f, "train", "loss")
    assert loss["step"].to_list() == [100, 200, 300, 400]
    assert math.isinf(loss["value"][2])
    g = series(f, "train", "grad_norm")["value"].to_list()
    assert math.isnan(g[0]) and g[1] == -math.inf
    # The "split" field puts un-prefixed keys in their split; one name, two series.
    assert series(f, "val", "loss")[["name", "step", "value"]].rows() == [("loss", 200, 2.512)]
    assert series(f, "val", "accuracy")["value"].to_list() == [0.41]
    assert series(f, "train", "fwd_ms")["value"].to_list() == [12.5]  # nested objects give their leaves
    assert series(f, "train", "lr")["value"].to_list() == [0.0003, 0.0003, 0.0003, 0.00015]
    assert src.notes == []


def test_jsonl_torn_tail_and_junk_lines() -> None:
    text = "Starting run\n" + JSONL + '{"step": 500, "loss": 1.8'
    src = read(text, "metrics.jsonl", "jsonl")
    assert series(src.frame, "train", "loss")["step"].to_list() == [100, 200, 300, 400]
    assert [(n.kind, n.line) for n in src.notes] == [("torn_tail", 7), ("skipped_lines", 1)]


def test_jsonl_broken_record_in_the_middle_is_a_parse_error() -> None:
    lines = JSONL.splitlines()
    lines[1] = lines[1][:-1]  # closing brace lost
    with pytest.raises(ParseError) as err:
        get_parser("jsonl").parse(from_bytes(("\n".join(lines) + "\n").encode(), name="m.jsonl"))
    assert err.value.line == 2 and err.value.path == "m.jsonl"


def test_jsonl_without_step_uses_record_order() -> None:
    src = read('{"loss": 0.9}\n{"loss": 0.8}\n', "l.jsonl", "jsonl")
    assert series(src.frame, "train", "loss")["step"].to_list() == [0, 1]
    assert [n.kind for n in src.notes] == ["inferred"]


def test_jsonl_without_numbers_is_empty() -> None:
    with pytest.raises(EmptyInputError, match="l.jsonl"):
        read('{"msg": "hello"}\n{"msg": "bye"}\n', "l.jsonl", "jsonl")


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        pytest.param("metrics_log.csv", CSV, "csv", id="csv"),
        pytest.param("run.tsv", CSV.replace(",", "\t"), "csv", id="tsv"),
        pytest.param("metrics.jsonl", JSONL, "jsonl", id="jsonl"),
        pytest.param("log.txt", JSONL, "jsonl", id="jsonl-any-name"),
    ],
)
def test_sniffing(name: str, text: str, fmt: str) -> None:
    assert choose(from_bytes(text.encode(), name=name)).name == fmt


@pytest.mark.parametrize(
    "text",
    [CSV, JSONL, "epoch,loss,val_loss\n0,0.5,0.6\n", "step,epoch,train_loss\n1,0,0.5\n"],
    ids=["csv", "jsonl", "keras-like", "lightning-like"],
)
def test_fallbacks_stay_at_or_below_045(text: str) -> None:
    conf = {c.parser.name: c.confidence for c in rank(from_bytes(text.encode(), name="x.csv"))}
    assert conf["csv"] <= 0.45 and conf["jsonl"] <= 0.45


def test_repeated_header_lines_are_skipped() -> None:
    src = read("step,loss\n1,0.9\n2,0.8\nstep,loss\n3,0.7\n", "appended.csv", "csv")
    assert series(src.frame, "train", "loss")["step"].to_list() == [1, 2, 3]
    assert [(n.kind, n.line, n.count) for n in src.notes] == [("other", 4, 1)]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_csv_keeps_its_last_row(encoding: str) -> None:
    data = "step,loss\n1,0.5\n2,0.4\n".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    src = read(data, "u16.csv", "csv")
    assert series(src.frame, "train", "loss")["value"].to_list() == [0.5, 0.4]
    assert [n.kind for n in src.notes] == ["decoding"]  # no torn tail: it ends with a (two-byte) newline


def test_quoted_separator_is_not_a_ragged_row() -> None:
    src = read('step,loss,note\n1,0.9,"warm, up"\n2,0.8,plain\n', "q.csv", "csv")
    assert series(src.frame, "train", "loss")["value"].to_list() == [0.9, 0.8]
    assert not [n for n in src.notes if n.kind == "other" and "fields" in n.message]


def test_a_column_whose_numbers_start_late_is_read() -> None:
    # validation logged only after 1,500 steps: its first 1,000 rows are empty
    rows = "".join(f"{i},{1 / (i + 1):.6f},{'' if i < 1500 else f'{2 / (i + 1):.6f}'}\n" for i in range(2000))
    src = read("step,loss,val_loss\n" + rows, "late.csv", "csv")
    val = series(src.frame, "val", "loss")
    assert val.height == 500 and val["step"].to_list()[0] == 1500


def test_cells_in_every_spelling_of_a_number() -> None:
    src = read("step,loss\n1,+1.5\n2, 2 \n3,++3\n4,nan\n5,-inf\n6,1e-3\n", "n.csv", "csv")
    values = series(src.frame, "train", "loss")["value"].to_list()
    assert values[:3] == [1.5, 2.0, 3.0] and values[4:] == [float("-inf"), 0.001] and values[3] != values[3]
    assert not [n for n in src.notes if n.kind == "skipped_lines"]


def test_camel_case_headers_name_their_split() -> None:
    # public log Faisasa12/plant_disease_classifier train_log.csv: 'ValLoss' was read as a training
    # series named val_loss, so the validation loss was never judged as one
    src = read_input(from_bytes(b"Epoch,TrainLoss,ValLoss,ValAcc\n1,3.745,1.3195,0.7944\n2,1.2,0.9,0.85\n",
                                name="train_log.csv", inner_name="train_log.csv"))
    got = {(s, m) for s, m in src.frame.select("split", "metric").unique().iter_rows()}
    assert got == {("train", "loss"), ("val", "loss"), ("val", "accuracy")}


def test_losses_csv_columns_named_by_split_are_each_splits_loss() -> None:
    # public dev log sayanmndl21/cnnlstm-oct losses.csv (",ep,train,valid,total"): the 'valid' column was
    # read as a training series named valid_loss, so the validation loss was never judged as one
    src = read_input(from_bytes(b",ep,train,valid,total\n0,1,33.97,11.62,45.59\n1,2,30.18,10.31,40.49\n"
                                b"2,3,29.77,13.10,42.87\n", name="losses.csv", inner_name="losses.csv"))
    got = {(s, m, n) for s, m, n in src.frame.select("split", "metric", "name").unique().iter_rows()}
    # 'total' is train + valid on every row: a sum over two splits, neither's loss (test_reader_mismatches)
    assert got == {("train", "loss", "train"), ("val", "loss", "valid"), ("other", "total_loss", "total")}
    val = src.frame.filter(pl.col("split") == "val").sort("step").get_column("value").to_list()
    assert val == [11.62, 10.31, 13.10]
    assert any("valid -> val loss" in n.message for n in src.notes if n.kind == "inferred")


def test_counter_reset_with_the_loss_carrying_on_is_laid_end_to_end() -> None:
    # public dev log YGGYatsso/Image-Colorization-Using-CGAN losses.csv: the index goes back to 0 after
    # 60,000 iterations while both losses carry on at the level reached; the normaliser kept only the
    # last 10,000 rows as a resume that "overwrote" the first 60,000
    rows = [(i, 3.0 - 0.2 * i) for i in range(6)] + [(i, 1.7 - 0.1 * i) for i in range(4)]
    text = "step,loss\n" + "".join(f"{s},{v:.2f}\n" for s, v in rows)
    src = read_input(from_bytes(text.encode(), name="losses.csv", inner_name="losses.csv"))
    got = src.frame.sort("step").select("step", "value").rows()
    assert [s for s, _ in got] == list(range(10)) and [v for _, v in got][5:7] == [2.0, 1.7]
    # a counter back to 0 with the loss back at its start is still a new run / overwritten segment
    rows = [(i, 3.0 - 0.2 * i) for i in range(6)] + [(i, 3.0 - 0.1 * i) for i in range(4)]
    text = "step,loss\n" + "".join(f"{s},{v:.2f}\n" for s, v in rows)
    src = read_input(from_bytes(text.encode(), name="losses.csv", inner_name="losses.csv"))
    assert src.frame.sort("step").get_column("value").to_list() == [3.0, 2.9, 2.8, 2.7]  # the last run, as before
