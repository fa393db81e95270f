"""lightning-csv: CSVLogger metrics.csv (FORMATS.md §2) — column orders, sparse rows, pairs, dirs."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

import lossdoc
from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest import choose, from_bytes, read_input
from lossdoc.ingest.formats.lightning_csv import read_hparams
from lossdoc.ingest.inputs import open_file
from lossdoc.ingest.registry import get_parser, rank
from lossdoc.model import Source, float_epoch
from tests.ingest.golden import assert_golden

# Lightning >= 2.2: sorted header (FORMATS.md §2 example, plus an lr monitor and a NaN).
SORTED = """\
epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_acc,val_loss
0,0.001,49,,,,
0,,49,,0.6931,,
0,,99,,0.5127,,
0,,99,,,0.8125,0.4710
0,,99,0.5843,,,
1,0.0005,149,,,,
1,,149,,nan,,
1,,199,,0.4402,,
1,,199,,,0.8350,inf
1,,199,0.4771,,,
"""


def reorder(text: str, order: list[str]) -> str:
    """The same rows with another column order (PL 1.x first appearance / 2.1 set order)."""
    df = pl.read_csv(text.encode(), infer_schema=False)
    return df.select(order).write_csv(null_value="")


# PL 1.x: keys in order of first appearance (metrics first, then epoch, step last).
FIRST_APPEARANCE = reorder(
    SORTED, ["lr-AdamW", "epoch", "step", "train_loss_step", "val_acc", "val_loss", "train_loss_epoch"]
)
SET_ORDER = reorder(SORTED, ["val_loss", "step", "train_loss_step", "epoch", "val_acc", "train_loss_epoch", "lr-AdamW"])


def read(text: str, name: str = "metrics.csv") -> Source:
    inp = from_bytes(text.encode(), name=name, inner_name=name)
    inp.run_name = "sample"
    return read_input(inp)


def series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))


def test_sorted_header_sparse_rows() -> None:
    src = read(SORTED)
    assert src.format == "lightning-csv"
    assert_golden(src.frame, "lightning-csv/sorted.csv")
    f = src.frame
    loss = series(f, "train", "loss")
    assert loss["name"].unique().to_list() == ["train_loss_step"]
    assert loss["step"].to_list() == [49, 99, 149, 199]
    assert math.isnan(loss["value"][2])
    assert series(f, "train", "loss_epoch")[["name", "step", "value"]].rows() == [
        ("train_loss_epoch", 99, 0.5843),
        ("train_loss_epoch", 199, 0.4771),
    ]
    assert series(f, "train", "lr")[["name", "step", "epoch"]].rows() == [("lr-AdamW", 49, 0.0), ("lr-AdamW", 149, 1.0)]
    val = series(f, "val", "loss")
    assert val["step"].to_list() == [99, 199] and math.isinf(val["value"][1])
    assert series(f, "val", "accuracy")["value"].to_list() == [0.8125, 0.835]
    # Empty cells are "not logged in this row", never points.
    assert f.height == 2 + 4 + 2 + 2 + 2


@pytest.mark.parametrize("text", [FIRST_APPEARANCE, SET_ORDER], ids=["first-appearance", "set-order"])
def test_column_order_does_not_matter(text: str) -> None:
    key = ["split", "metric", "step"]
    want = read(SORTED).frame.sort(key)
    got = read(text).frame.sort(key)
    assert got.equals(want)


def test_spaced_user_names_and_several_lr_monitors() -> None:
    text = (
        "Test MSE,Train loss,Valid MSE,epoch,lr-SGD/pg1,lr-SGD/pg2,step\n"
        ",,300820.5,0,,,0\n,,,0,0.1,0.01,0\n,6293.6,,49,,,49\n2859.7,,,100,,,100\n"
    )
    f = read(text).frame
    assert series(f, "train", "loss")["name"].to_list() == ["Train loss"]
    assert series(f, "val", "mse")["name"].to_list() == ["Valid MSE"]
    assert series(f, "test", "mse")["name"].to_list() == ["Test MSE"]
    lr = f.filter(pl.col("name").str.starts_with("lr-")).select("split", "metric", "name").unique(maintain_order=True)
    # Two param groups: two series, the first keeps the canonical name.
    assert lr.rows() == [("train", "lr", "lr-SGD/pg1"), ("train", "lr_sgd_pg2", "lr-SGD/pg2")]


def test_crlf_bom_and_torn_last_row() -> None:
    text = SORTED.replace("\n", "\r\n")
    data = b"\xef\xbb\xbf" + text.encode() + b"2,,249,,0.4"  # still being written
    inp = from_bytes(data, name="metrics.csv")
    inp.run_name = "sample"
    src = read_input(inp)
    assert src.frame.sort(["split", "metric", "step"]).equals(read(SORTED).frame.sort(["split", "metric", "step"]))
    torn = [n for n in src.notes if n.kind == "torn_tail"]
    assert len(torn) == 1 and torn[0].line == 12


def test_ragged_rows_are_noted() -> None:
    text = "epoch,step,train_loss\n0,1,0.9\n0,2\n0,3,0.7,99\n"
    src = read(text)
    assert series(src.frame, "train", "loss")["step"].to_list() == [1, 3]
    note = next(n for n in src.notes if n.kind == "other")
    assert note.line == 3 and note.count == 2


@pytest.mark.parametrize(
    ("text", "error", "line"),
    [
        pytest.param("epoch,step,train_loss\n", EmptyInputError, 1, id="header-only"),
        pytest.param("epoch,step,train_loss\n0,1,0.5\n0,2.5,0.4\n", ParseError, 3, id="fractional-step"),
    ],
)
def test_errors_name_file_and_line(text: str, error: type[Exception], line: int) -> None:
    with pytest.raises(error) as err:
        get_parser("lightning-csv").parse(from_bytes(text.encode(), name="logs/metrics.csv"))
    assert err.value.path == "logs/metrics.csv"  # type: ignore[attr-defined]
    assert err.value.line == line  # type: ignore[attr-defined]


def test_garbled_step_cell_skips_only_its_row() -> None:
    src = read("epoch,step,train_loss\n0,1,0.5\n0,x,0.4\n0,3,0.3\n")
    assert series(src.frame, "train", "loss")["step"].to_list() == [1, 3]
    note = next(n for n in src.notes if n.kind == "skipped_lines")
    assert note.line == 3 and note.count == 1


def test_non_numeric_cells_are_skipped_and_noted() -> None:
    # (a printed scalar tensor, 'tensor(0.4)', is read as its number since the table reader unwraps them:
    # tests/ingest/test_unreadable_shapes.py)
    src = read("epoch,step,train_loss\n0,1,0.5\n0,2,tensor([0.4])\n0,3,0.3\n")
    assert series(src.frame, "train", "loss")["step"].to_list() == [1, 3]
    note = next(n for n in src.notes if n.kind == "skipped_lines")
    assert note.line == 3 and "tensor([0.4])" in note.message


HPARAMS = """\
batch_size: 64
hidden_dim: 128
lr: 0.001
use_amp: true
name: 'resnet 18'
scheduler: null
optimizer:
  name: adamw
  betas: [0.9, 0.999]
tags:
- a
weight_decay: 1.0e-05
"""


def test_hparams_flat_keys_only(tmp_path: Path) -> None:
    (tmp_path / "hparams.yaml").write_text(HPARAMS)
    assert read_hparams(tmp_path / "hparams.yaml") == {
        "batch_size": 64,
        "hidden_dim": 128,
        "lr": 0.001,
        "use_amp": True,
        "name": "resnet 18",
        "scheduler": None,
        "weight_decay": 1e-05,
    }


def _version(root: Path, n: int, text: str = SORTED) -> Path:
    d = root / "lightning_logs" / f"version_{n}"
    d.mkdir(parents=True)
    (d / "metrics.csv").write_text(text)
    (d / "hparams.yaml").write_text(HPARAMS)
    return d


def test_metrics_file_picks_up_hparams(tmp_path: Path) -> None:
    d = _version(tmp_path, 0)
    src = lossdoc.read(d / "metrics.csv").sources[0]
    assert src.meta["hparams"]["hidden_dim"] == 128
    assert src.runs == ["lightning_logs/version_0"]


def test_version_dir_as_path(tmp_path: Path) -> None:
    d = _version(tmp_path, 3)
    (d / "checkpoints").mkdir()
    (d / "checkpoints" / "epoch=1-step=199.ckpt").write_bytes(b"\x80\x02binary")
    logs = lossdoc.read(d)
    assert [s.format for s in logs.sources] == ["lightning-csv"]
    assert logs.sources[0].runs == ["lightning_logs/version_3"]
    assert logs.sources[0].meta["hparams"]["lr"] == 0.001


def test_lightning_logs_dir_gives_one_run_per_version(tmp_path: Path) -> None:
    _version(tmp_path, 0)
    _version(tmp_path, 1, SORTED.replace("0.6931", "0.7"))
    logs = lossdoc.read(tmp_path / "lightning_logs")
    assert sorted(r for s in logs.sources for r in s.runs) == ["lightning_logs/version_0", "lightning_logs/version_1"]
    assert {s.format for s in logs.sources} == {"lightning-csv"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param("metrics.csv", SORTED, id="sorted"),
        pytest.param("metrics.csv", FIRST_APPEARANCE, id="first-appearance"),
        pytest.param("renamed.csv", SET_ORDER, id="content-only"),
    ],
)
def test_sniffing(name: str, text: str) -> None:
    assert choose(from_bytes(text.encode(), name=name, inner_name=name)).name == "lightning-csv"


# Other trainers' CSVs that a Lightning or Keras sniffer must not claim with confidence.
OTHER_CSVS = {
    "results.csv": "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),val/box_loss,lr/pg0\n"
    "1,35.2105,1.2345,1.87651,1.12341,0.61234,1.34561,0.0033281\n",
    "padded_results.csv": "                  epoch,         train/box_loss,           val/box_loss\n"
    "                      1,                 1.2345,                 1.3456\n",
    "summary.csv": "epoch,train_loss,eval_loss,eval_top1,eval_top5,lr\n0,6.8921,6.5412,1.234,5.678,0.0001\n"
    "1,6.3107,5.9876,4.102,12.88,0.0002\n",
    "history.csv": "epoch,train_loss,valid_loss,accuracy,time\n0,0.6931471824645996,0.5123407244682312,0.8125,00:12\n",
}


@pytest.mark.parametrize("name", sorted(OTHER_CSVS))
def test_other_trainers_csvs_not_claimed(name: str) -> None:
    inner = "results.csv" if name == "padded_results.csv" else name
    conf = {c.parser.name: c.confidence for c in rank(from_bytes(OTHER_CSVS[name].encode(), name=inner))}
    assert conf["lightning-csv"] <= 0.5
    assert conf["keras-csv"] <= 0.5


def test_real_file_via_open_file(tmp_path: Path) -> None:
    # A metrics.csv outside a version_N directory and without hparams.yaml is still Lightning's.
    p = tmp_path / "metrics.csv"
    p.write_text(SORTED)
    assert choose(open_file(p)).name == "lightning-csv"


def _parsed(path: Path, *, typed: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    """Blocks and notes of the parser for ``path`` (as text: NaN == NaN; a compact epoch read back as
    Float64, as every table handed out gives it), by the typed streaming read when it takes the file,
    or by the string table with ``typed=False``."""
    import lossdoc.ingest.formats.lightning_csv as mod

    with monkeypatch.context() as m:
        if not typed:
            m.setattr(mod, "_parse_typed", lambda inp, run: None)
        try:
            res = get_parser("lightning-csv").parse(open_file(path))
        except (ParseError, EmptyInputError) as exc:
            return f"{type(exc).__name__}: {exc}"
    return repr(([float_epoch(b).to_dicts() for b in res.blocks], res.notes))


SAMPLES = Path(__file__).parents[2] / "sample_logs"


@pytest.mark.parametrize("piece", [1 << 24, 64])
def test_typed_read_equals_string_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    # A clean numeric metrics.csv is read in pieces straight into numbers; anything unusual goes the
    # string way. Either way the rows and notes are the string read's, for every case here.
    import lossdoc.ingest.formats.lightning_csv as mod

    monkeypatch.setattr(mod, "_PIECE", piece)
    clean = {"sorted": SORTED, "first_appearance": FIRST_APPEARANCE, "set_order": SET_ORDER,
             "crlf": SORTED.replace("\n", "\r\n"), "torn": SORTED + "2,,249,,0.4",
             "torn_crlf": SORTED.replace("\n", "\r\n") + "2,,249,,0.4",
             "torn_short": "epoch,step,train_loss\n0,1,0.9\n0,2,0.8\n0,3",
             "blank_lines": SORTED.replace("0,,99,,0.5127,,\n", "0,,99,,0.5127,,\n\n\n"),
             "no_epoch": "step,train_loss,val_loss\n" + "".join(f"{i},{1 / i:.6f},{'0.5' if i % 50 == 0 else ''}\n"
                                                             for i in range(1, 400)),
             "exp_nan_inf": "epoch,step,loss\n0,1,1e-3\n0,2,-inf\n0,3,NaN\n0,4,-1.5E+02\n"}
    unusual = {"ragged": "epoch,step,train_loss\n0,1,0.9\n0,2\n0,3,0.7,99\n",
               "quoted": 'epoch,step,"train_loss"\n0,1,"0.9"\n0,2,0.8\n',
               "na_token": "epoch,step,train_loss\n0,1,0.9\n0,2,NA\n0,3, 0.7\n0,4,+0.6\n",
               "text_cell": "epoch,step,train_loss,note\n0,1,0.9,ok\n0,2,0.8,\n",
               "repeated_header": "epoch,step,train_loss\n0,1,0.9\nepoch,step,train_loss\n0,2,0.8\n",
               "garbled_step": "epoch,step,train_loss\n0,1,0.9\n0,x2,0.8\n0,3,0.7\n",
               "no_step_cell": "epoch,step,train_loss\n0,1,0.9\n0,,0.8\n",
               "float_step": "epoch,step,train_loss\n0,1.0,0.9\n0,2.0,0.8\n",
               "fractional_step": "epoch,step,train_loss\n0,1,0.5\n0,2.5,0.4\n",
               "empty_column": "epoch,step,train_loss,val_loss\n0,1,0.9,\n0,2,0.8,\n",
               "bom": "\ufeff" + SORTED, "header_only": "epoch,step,train_loss\n",
               "lone_cr": SORTED.replace("0.6931", "0.69\r31")}
    files = {f"{name}.csv": body.encode() for name, body in {**clean, **unusual}.items()}
    files |= {f"sample_{p.parents[2].name}.csv": p.read_bytes()
              for p in sorted((SAMPLES / "runs" / "lightning").glob("*/lightning_logs/version_0/metrics.csv"))}
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        typed = _parsed(path, typed=True, monkeypatch=monkeypatch)
        assert typed == _parsed(path, typed=False, monkeypatch=monkeypatch), name
        took = mod._parse_typed(open_file(path), "x") is not None
        assert took == (name.removesuffix(".csv") in clean or name.startswith("sample_")), name
    assert "torn_tail" in _parsed(tmp_path / "torn.csv", typed=True, monkeypatch=monkeypatch)
    assert "'other'" in _parsed(tmp_path / "ragged.csv", typed=True, monkeypatch=monkeypatch)


@pytest.mark.parametrize("cut", [0, 4])
def test_a_metrics_file_growing_while_read_is_read_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             cut: int) -> None:
    # Rows appended after the read began are not read, and a row cut at that moment is the torn one.
    import lossdoc.ingest.formats.lightning_csv as mod

    monkeypatch.setattr(mod, "_PIECE", 64)
    full = SORTED.encode()
    was = full[:-cut] if cut else full
    before, now = tmp_path / "before" / "metrics.csv", tmp_path / "now" / "metrics.csv"
    for p in (before, now):
        p.parent.mkdir()
    before.write_bytes(was)
    expected = _parsed(before, typed=True, monkeypatch=monkeypatch)
    assert ("torn_tail" in expected) == bool(cut)
    now.write_bytes(full + b"2,,249,,0.4")
    monkeypatch.setattr(mod, "snapshot", lambda inp: (len(was), bool(cut)))
    assert mod._parse_typed(open_file(now), "x") is not None
    assert _parsed(now, typed=True, monkeypatch=monkeypatch) == expected.replace("'before'", "'now'")


# dustinaxman/ChaserNER (public dev): after fit, trainer.validate(ckpt_path="best") logged one more validation row at
# the step after the last training step, 'epoch 5', equal to epoch 2's in every value -- read as a sixth evaluation it
# turned a validation loss that rose 38% after epoch 2 into one that came back to its best at the end.
_REVALIDATED = (
    "val_f1,val_avg_loss,epoch,step,avg_train_loss,test_avg_loss\n"
    "0.8245760202407837,0.33031171560287476,0,497,,\n,,0,497,0.011715582571923733,\n"
    "0.8347138166427612,0.35915470123291016,1,995,,\n,,1,995,0.0041233,\n"
    "0.8519168496131897,0.2741891145706177,2,1493,,\n,,2,1493,0.0012,\n"
    "0.8440736532211304,0.37873759865760803,3,1991,,\n,,3,1991,0.0003,\n"
    "0.8440736532211304,0.37873759865760803,4,2489,,\n,,4,2489,9.150669939117506e-06,\n"
    "0.8519168496131897,0.2741891145706177,5,2490,,\n,,5,2490,,0.18629813194274902\n")


@pytest.mark.parametrize("typed", [True, False], ids=["typed-path", "string-path"])
def test_a_checkpoint_validated_again_after_training_is_not_a_point_of_the_curve(typed: bool) -> None:
    text = _REVALIDATED if typed else _REVALIDATED.replace("0,497,,\n", "0,497,,\n\"\",,0,497,,\n", 1)
    src = read_input(from_bytes(text.encode(), "metrics.csv"))
    val = src.frame.filter((pl.col("split") == "val") & (pl.col("name") == "val_avg_loss")).sort("step")
    assert val.get_column("step").to_list() == [497, 995, 1493, 1991, 2489]
    note = next(n for n in src.notes if "validated again after training" in n.message)
    assert "step 2,490" in note.message and "step 1,493" in note.message
    # the test metrics logged at that step stay
    assert src.frame.filter(pl.col("split") == "test").height == 1


def test_a_last_validation_equal_to_an_earlier_one_by_chance_is_kept() -> None:
    # one series, a value with few digits: equal to an earlier one by coincidence as easily as not
    text = ("val_loss,epoch,step,train_loss\n0.5,0,9,\n,0,9,0.7\n0.41,1,19,\n,1,19,0.5\n0.5,2,29,\n,2,29,0.4\n")
    src = read_input(from_bytes(text.encode(), "metrics.csv"))
    val = src.frame.filter(pl.col("split") == "val").sort("step")
    assert val.get_column("step").to_list() == [9, 19, 29]
    assert not any("validated again" in n.message for n in src.notes)
