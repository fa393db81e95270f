"""keras-csv and keras-progbar: CSVLogger files, saved History, fit() progress bars (FORMATS.md §4)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

import lossdoc

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest import choose, from_bytes, read_input
from lossdoc.ingest.registry import get_parser
from lossdoc.model import Source
from tests.ingest.golden import assert_golden

# FORMATS.md §4a example, plus a NaN loss and an NA cell (key missing after stop_training).
CSVLOGGER = """\
epoch,accuracy,loss,val_accuracy,val_loss
0,0.8812000155448914,0.41237473487854004,0.9502999782562256,0.16931302845478058
1,0.9593999981880188,0.13725081086158752,0.9668999910354614,0.11022870987653732
2,0.9711999893188477,nan,NA,NA
"""


def read(text: str | bytes, name: str = "training.log", fmt: str | None = None) -> Source:
    data = text.encode() if isinstance(text, str) else text
    inp = from_bytes(data, name=name)
    inp.run_name = "sample"
    return read_input(inp, fmt)


def series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))


# ---------------------------------------------------------------- CSVLogger and History CSV


def test_csvlogger() -> None:
    src = read(CSVLOGGER)
    assert src.format == "keras-csv"
    assert_golden(src.frame, "keras-csv/csvlogger.csv")
    f = src.frame
    loss = series(f, "train", "loss")
    assert loss["step"].to_list() == [0, 1, 2]
    assert math.isnan(loss["value"][2])
    assert series(f, "val", "loss")["step"].to_list() == [0, 1]  # NA is "not logged", not a value
    assert series(f, "val", "accuracy")["name"].unique().to_list() == ["val_accuracy"]
    assert src.notes == []


@pytest.mark.parametrize("sep", [";", "\t"], ids=["semicolon", "tab"])
def test_separator_variants(sep: str) -> None:
    src = read(CSVLOGGER.replace(",", sep))
    assert src.format == "keras-csv"
    assert src.frame.equals(read(CSVLOGGER).frame)


def test_crlf_and_bom() -> None:
    src = read(b"\xef\xbb\xbf" + CSVLOGGER.replace("\n", "\r\n").encode())
    assert src.frame.equals(read(CSVLOGGER).frame)


HISTORY_NO_INDEX = """\
loss,mse,val_loss,val_mse
113.90290069580078,1.409648060798645,113.13150787353516,1.1993045806884766
112.43333435058594,1.0903714895248413,111.78246307373047,1.0398802757263184
111.07811737060547,0.9477691650390625,110.467529296875,0.9591968655586243
"""
HISTORY_INDEX = ",loss,mse,val_loss,val_mse\n" + "".join(
    f"{i},{row}\n" for i, row in enumerate(HISTORY_NO_INDEX.splitlines()[1:])
)


@pytest.mark.parametrize(
    ("text", "case"), [(HISTORY_NO_INDEX, "history_no_index"), (HISTORY_INDEX, "history_index")]
)
def test_pandas_history_csv(text: str, case: str) -> None:
    src = read(text, name="history.csv")
    assert src.format == "keras-csv"
    assert_golden(src.frame, f"keras-csv/{case}.csv")
    assert series(src.frame, "val", "mse")["step"].to_list() == [0, 1, 2]
    assert [n.kind for n in src.notes] == ["inferred"]


def test_appended_fits_are_laid_end_to_end() -> None:
    # CSVLogger(append=True) over three fit(epochs=1) calls and one fit(epochs=2): epoch restarts at 0.
    text = (
        "epoch,loss,val_loss\n0,0.70,0.41\n0,0.25,0.21\n0,0.17,0.18\n0,0.13,0.12\n1,0.11,0.10\n"
    )
    src = read(text, name="history.csv")
    loss = series(src.frame, "train", "loss")
    assert loss["step"].to_list() == [0, 1, 2, 3, 4]  # every row kept, none taken for a resume
    assert loss["value"].to_list() == [0.70, 0.25, 0.17, 0.13, 0.11]
    note = next(n for n in src.notes if n.kind == "inferred")
    assert note.count == 3 and note.line == 3
    assert not [n for n in src.notes if n.kind == "restart"]


def test_resume_with_initial_epoch_is_left_to_the_restart_normaliser() -> None:
    # Crash after epoch 3, resumed from the epoch-2 checkpoint with initial_epoch=3: epoch 3 repeats.
    text = "epoch,loss\n0,0.9\n1,0.8\n2,0.7\n3,0.65\n3,0.6\n4,0.5\n"
    src = read(text)
    loss = series(src.frame, "train", "loss")
    assert loss["step"].to_list() == [0, 1, 2, 3, 4]
    assert loss["value"].to_list() == [0.9, 0.8, 0.7, 0.6, 0.5]
    assert [n.kind for n in src.notes] == ["duplicate_steps"]


def test_history_json_with_nan() -> None:
    text = '{"loss": [0.412, NaN, 0.094], "accuracy": [0.881, 0.959, 0.971], "val_loss": [0.169, 0.11, Infinity]}'
    src = read(text, name="history.json")
    assert src.format == "keras-csv"
    assert_golden(src.frame, "keras-csv/history_json.csv")
    assert math.isnan(series(src.frame, "train", "loss")["value"][1])
    assert math.isinf(series(src.frame, "val", "loss")["value"][2])


def test_pandas_to_json_history() -> None:
    text = json.dumps({"loss": {"0": 0.5, "1": 0.4, "10": 0.1}, "val_loss": {"0": 0.6, "1": 0.5, "10": 0.2}})
    src = read(text, name="history.json")
    assert series(src.frame, "val", "loss")["step"].to_list() == [0, 1, 10]


@pytest.mark.parametrize(
    ("text", "error", "line"),
    [
        pytest.param("epoch,accuracy,loss,val_loss\n", EmptyInputError, 1, id="header-only"),
        pytest.param("epoch,loss\n0,0.5\nbad,0.4\n", ParseError, 3, id="bad-epoch"),
    ],
)
def test_csv_errors(text: str, error: type[Exception], line: int) -> None:
    with pytest.raises(error) as err:
        get_parser("keras-csv").parse(from_bytes(text.encode(), name="training.log"))
    assert err.value.path == "training.log" and err.value.line == line  # type: ignore[attr-defined]


def test_torn_and_ragged_rows() -> None:
    src = read(CSVLOGGER + "3,0.98,0.0")
    assert series(src.frame, "train", "loss")["step"].to_list() == [0, 1, 2]
    assert [n.kind for n in src.notes] == ["torn_tail"]
    src = read("epoch,loss,val_loss\n0,0.5,0.6\n1,0.4\n")
    assert series(src.frame, "val", "loss")["step"].to_list() == [0]
    assert [(n.kind, n.line) for n in src.notes] == [("other", 3)]


# ---------------------------------------------------------------- progress bars

FINAL_1 = {"loss": "0.2912", "accuracy": "0.9155", "val_loss": "0.1480", "val_accuracy": "0.9565"}
FINAL_2 = {"loss": "0.1419", "accuracy": "0.9581", "val_loss": "nan", "val_accuracy": "0.9702"}
EPOCHS = [FINAL_1, FINAL_2]


def k2_metrics(m: dict[str, str]) -> str:  # Keras 2: insertion order
    return " - ".join(f"{k}: {m[k]}" for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in m)


def k3_metrics(m: dict[str, str]) -> str:  # Keras 3: sorted keys
    return " - ".join(f"{k}: {m[k]}" for k in sorted(m))


def keras2_verbose1() -> str:
    out = []
    for i, m in enumerate(EPOCHS, 1):
        out.append(f"Epoch {i}/2\n")
        part = {"loss": "0.9000", "accuracy": "0.5000"}
        out.append(f"  32/1875 [..............................] - ETA: 5s - {k2_metrics(part)}\x08" * 3)
        out.append(f"\r 960/1875 [==============>...............] - ETA: 1s - {k2_metrics(part)}")
        out.append(f"\r1875/1875 [==============================] - 4s 2ms/step - {k2_metrics(m)}\n")
    # model.evaluate() afterwards: another bar, not an epoch
    out.append("313/313 [==============================] - 1s 2ms/step - loss: 0.0700 - accuracy: 0.9800\n")
    return "".join(out)


def keras2_verbose2() -> str:
    return "".join(
        f"Epoch {i}/2\n1875/1875 - 4s - {k2_metrics(m)} - 4s/epoch - 2ms/step\n" for i, m in enumerate(EPOCHS, 1)
    )


def keras3_verbose1() -> str:
    e = "\x1b"
    out = []
    for i, m in enumerate(EPOCHS, 1):
        out.append(f"Epoch {i}/2\n")
        bar = f"{e}[1m{{c}}/1875{e}[0m {e}[32m━━━━━━━━━━{e}[0m{e}[37m━━━━━━━━━━{e}[0m {e}[1m{{t}}{e}[0m {{r}} - {{m}}"
        out.append(bar.format(c="   1", t="5:02", r="161ms/step", m=k3_metrics({"accuracy": "0.0625", "loss": "2.3"})))
        out.append("\x08" * 80 + "\r")
        out.append(bar.format(c=" 938", t="1s", r="1ms/step", m=k3_metrics({"accuracy": "0.85", "loss": "0.5"})))
        out.append("\x08" * 80 + "\r")
        out.append(bar.format(c="1875", t="4s", r="2ms/step", m=k3_metrics(m)) + "\n")
    return "".join(out)


def keras3_verbose2() -> str:
    return "".join(
        f"Epoch {i}/2\n1875/1875 - 4s - 2ms/step - {k3_metrics(m)}\n" for i, m in enumerate(EPOCHS, 1)
    )


PROGBARS = {
    "keras2_verbose1": keras2_verbose1,
    "keras2_verbose2": keras2_verbose2,
    "keras3_verbose1": keras3_verbose1,
    "keras3_verbose2": keras3_verbose2,
}


@pytest.mark.parametrize("case", sorted(PROGBARS))
def test_progbar_layouts(case: str) -> None:
    src = read(PROGBARS[case](), name="fit.log")
    assert src.format == "keras-progbar"
    assert_golden(src.frame, f"keras-progbar/{case}.csv")
    f = src.frame
    assert series(f, "train", "loss")[["step", "value"]].rows() == [(0, 0.2912), (1, 0.1419)]
    assert series(f, "train", "accuracy")["value"].to_list() == [0.9155, 0.9581]
    val = series(f, "val", "loss")
    assert val["step"].to_list() == [0, 1] and math.isnan(val["value"][1])
    assert series(f, "val", "accuracy")["name"].unique().to_list() == ["val_accuracy"]
    assert src.meta == {"total_epochs": 2}


def test_progbar_several_fits_are_laid_end_to_end() -> None:
    # fit() called again on the same model: its loss carries on from where the first call ended
    text = keras2_verbose2() + keras2_verbose2().replace("0.2912", "0.1388").replace("0.1419", "0.1301")
    src = read(text, name="fit.log")
    assert series(src.frame, "train", "loss")["step"].to_list() == [0, 1, 2, 3]
    assert [n.kind for n in src.notes] == ["inferred"]


def test_progbar_separate_models_in_one_log_the_last_is_read() -> None:
    # a fresh model fitted into the same log: 'Epoch 1/N' again and the loss back at its first level
    first = "".join(f"Epoch {i}/4\n1875/1875 - 4s - loss: {v} - val_loss: {v}\n"
                    for i, v in enumerate(("0.9", "0.5", "0.3", "0.2"), 1))
    second = "".join(f"Epoch {i}/4\n1875/1875 - 4s - loss: {v} - val_loss: {v}\n"
                     for i, v in enumerate(("0.95", "0.6", "0.4", "0.3"), 1))
    src = read("Building model\n" + first + "Building model\n" + second, name="fit.log")
    assert series(src.frame, "train", "loss")[["step", "value"]].rows() == [(0, 0.95), (1, 0.6), (2, 0.4), (3, 0.3)]
    note = next(n for n in src.notes if n.kind == "several_runs")
    assert note.count == 2 and note.line == 12 and "lines 3-9 (4 epochs)" in note.message
    # the old reading laid the second model after the first: steps 0..6 with a jump from 0.2 to 0.95
    assert not [n for n in src.notes if "laid" in n.message or "continuing run" in n.message]


def test_progbar_unfinished_last_epoch() -> None:
    text = keras2_verbose1().rsplit("313/313", 1)[0] + "Epoch 3/3\n  32/1875 [....] - ETA: 5s - loss: 0.1000"
    src = read(text, name="fit.log")
    assert series(src.frame, "train", "loss")["step"].to_list() == [0, 1]
    torn = [n for n in src.notes if n.kind == "torn_tail"]
    assert len(torn) == 1 and "last epoch has no final progress update" in torn[0].message
    assert len(src.notes) == 1


def test_progbar_without_bars_is_an_error() -> None:
    with pytest.raises(EmptyInputError, match="fit.log"):
        read("Epoch 1/2\nEpoch 2/2\n", name="fit.log", fmt="keras-progbar")


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        pytest.param("training.log", CSVLOGGER, "keras-csv", id="csvlogger"),
        pytest.param("log.csv", CSVLOGGER.replace(",", ";"), "keras-csv", id="csvlogger-semicolon"),
        pytest.param("history.csv", HISTORY_NO_INDEX, "keras-csv", id="history-no-index"),
        pytest.param("h.csv", HISTORY_INDEX, "keras-csv", id="history-index"),
        pytest.param("history.json", '{"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}', "keras-csv", id="history-json"),
        *[pytest.param("out.txt", fn(), "keras-progbar", id=case) for case, fn in sorted(PROGBARS.items())],
    ],
)
def test_sniffing(name: str, text: str, fmt: str) -> None:
    assert choose(from_bytes(text.encode(), name=name)).name == fmt


def test_progbar_keras_22_verbose2_without_counts() -> None:
    # Keras 2.2 / TF 1.x verbose=2: no "N/N" count, one " - 5s - k: v" line per epoch.
    text = "".join(f"Epoch {i}/2\n - 4s - {k2_metrics(m)}\n" for i, m in enumerate(EPOCHS, 1))
    src = read(text, name="fit.log")
    assert src.format == "keras-progbar"
    key = ["split", "metric", "step"]
    assert src.frame.sort(key).equals(read(keras2_verbose2(), name="fit.log").frame.sort(key))


def test_progbar_keras_1_verbose2_without_leading_dash() -> None:
    # Keras 1 verbose=2 wrote "224s - loss: ..." (no leading " - "): seen in a public kanji-CNN log
    # (KyotoSunshine/CNN-for-handwritten-kanji logs/training_log.txt), which lossdoc refused before.
    text = (
        "Train on 40000 samples, validate on 10000 samples\nEpoch 1/3\n"
        "224s - loss: 3.5508 - acc: 0.2966 - val_loss: 1.4529 - val_acc: 0.5808\nEpoch 2/3\n"
        "223s - loss: 1.0899 - acc: 0.6879 - val_loss: 0.7529 - val_acc: 0.7712\nEpoch 3/3\n"
        "Epoch 00002: early stopping\n225s - loss: 0.7034 - acc: 0.7956 - val_loss: 0.4508 - val_acc: 0.8717\n"
    )
    src = read(text, name="training_log.txt")
    assert src.format == "keras-progbar"
    assert series(src.frame, "train", "loss")[["step", "value"]].rows() == [(0, 3.5508), (1, 1.0899), (2, 0.7034)]
    assert series(src.frame, "val", "loss")["value"].to_list() == [1.4529, 0.7529, 0.4508]


def test_progbar_unknown_target_first_epoch() -> None:
    # Keras 3, dataset without cardinality: epoch 1 counts up to "N/Unknown", then finalizes as N/N.
    text = (
        "Epoch 1/2\n     10/Unknown 1s 5ms/step - loss: 0.9000\r    100/Unknown 2s 5ms/step - loss: 0.5000\r"
        "100/100 2s 5ms/step - loss: 0.4000 - val_loss: 0.4500\n"
        "Epoch 2/2\n100/100 1s 5ms/step - loss: 0.3000 - val_loss: 0.3500\n"
    )
    src = read(text, name="fit.log")
    assert series(src.frame, "train", "loss")[["step", "value"]].rows() == [(0, 0.4), (1, 0.3)]
    assert series(src.frame, "val", "loss")["value"].to_list() == [0.45, 0.35]


KERAS_RUN = Path(__file__).resolve().parents[2] / "sample_logs" / "runs" / "keras" / "healthy"


@pytest.mark.skipif(not (KERAS_RUN / "progbar.log").is_file(), reason="sample_logs/runs/keras not generated")
def test_real_progbar_matches_its_csvlogger() -> None:
    # One real Keras 3 fit (scripts/make_sample_logs.py) wrote both: same series, same 0-based steps.
    bar = lossdoc.read(KERAS_RUN / "progbar.log").sources[0].frame
    csv = lossdoc.read(KERAS_RUN / "training.log").sources[0].frame
    key = ["split", "metric", "step"]
    joined = bar.join(csv, on=key, how="full", suffix="_csv")
    assert joined.height == bar.height == csv.height  # every point matched, none left over
    # The bar prints {:.4f}: values agree to within half a unit of the fourth decimal.
    assert (joined["value"] - joined["value_csv"]).abs().max() <= 0.00005 + 1e-12


def test_csvlogger_row_without_an_epoch_is_skipped_with_its_line() -> None:
    src = read_input(from_bytes(b"epoch,loss,val_loss\n0,1.0,1.1\n,0.9,1.0\n2,0.8,0.9\n3,0.7,0.85\n",
                                name="training.log", inner_name="training.log"), "keras-csv")
    (note,) = [n for n in src.notes if n.kind == "skipped_lines"]
    assert (note.message, note.line, note.count) == ("1 row(s) without an epoch skipped", 3, 1)
    train = src.frame.filter(pl.col("split") == "train").sort("step")
    assert train.get_column("step").to_list() == [0, 2, 3] and train.get_column("value").to_list() == [1.0, 0.8, 0.7]
