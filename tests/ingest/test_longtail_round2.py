"""Long tail, round 2 (issue 16): numbers-only curve files, any results.csv with train/ val/ metrics/ lr/
columns, fairseq under hydra, ``Key: value`` logs, evaluation lines naming train and val."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lossdoc
from lossdoc.errors import UnknownFormatError
from lossdoc.ingest import choose, from_bytes, read_input
from lossdoc.runconfig import run_config


def _series(src, split: str, metric: str) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return list(zip(f.get_column("step").to_list(), f.get_column("value").to_list(), strict=True))


def _text(text: str, name: str = "train.log"):  # type: ignore[no-untyped-def]
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp)


# ---------------------------------------------------------------------------- numbers-only files
LOSS = 2.5 * np.exp(-np.arange(40) / 15) + 0.3


@pytest.mark.parametrize("style", ["savetxt", "header", "hash-header", "pandas-index", "space-pairs"])
def test_train_and_val_files_in_one_folder_are_one_run(tmp_path: Path, style: str) -> None:
    d = tmp_path / "exp1"
    d.mkdir()
    for name, vals in (("train_loss", LOSS), ("val_loss", LOSS + 0.1)):
        if style == "savetxt":
            np.savetxt(d / f"{name}.csv", vals)
        elif style == "header":
            (d / f"{name}.csv").write_text("loss\n" + "".join(f"{v}\n" for v in vals))
        elif style == "hash-header":
            np.savetxt(d / f"{name}.txt", vals, header=name.replace("_", " "))
        elif style == "pandas-index":
            (d / f"{name}.csv").write_text(",0\n" + "".join(f"{i},{v}\n" for i, v in enumerate(vals)))
        else:
            (d / f"{name}.txt").write_text("".join(f"{i * 10} {v}\n" for i, v in enumerate(vals)))
    logs = lossdoc.read(d)
    assert len(logs.sources) == 1 and logs.sources[0].format == "csv-dir"
    src = logs.sources[0]
    assert src.runs == ["exp1"]
    train, val = _series(src, "train", "loss"), _series(src, "val", "loss")
    assert len(train) == len(val) == 40
    assert train[0][1] == pytest.approx(LOSS[0]) and val[-1][1] == pytest.approx(LOSS[-1] + 0.1)
    step = 10 if style == "space-pairs" else 1
    assert [s for s, _ in train[:3]] == [0, step, 2 * step]


def test_per_batch_train_and_per_epoch_val_are_aligned(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "train_losses.txt", np.linspace(3, 1, 100))
    np.savetxt(tmp_path / "val_losses.txt", np.linspace(3.1, 1.2, 10))
    src = lossdoc.read(tmp_path).sources[0]
    val = _series(src, "val", "loss")
    assert [s for s, _ in val][:3] == [9, 19, 29] and val[-1][0] == 99
    assert any("end of its block" in n.message for n in src.notes)


def test_one_numbers_file_alone_and_non_finite_kept(tmp_path: Path) -> None:
    p = tmp_path / "loss_history.txt"
    p.write_text("2.5\n2.1\nnan\n1.7\ninf\n1.5\n")
    src = lossdoc.read(p).sources[0]
    assert src.format == "numeric-column"
    vals = [v for _, v in _series(src, "train", "loss_history")]
    assert len(vals) == 6 and math.isnan(vals[2]) and math.isinf(vals[4])


def test_numbers_not_named_like_a_curve_are_not_claimed() -> None:
    with pytest.raises(UnknownFormatError):
        choose(from_bytes(b"1\n2\n3\n4\n5\n", name="ids.txt"))
    # a named two-column table is a CSV, not a numbers-only file
    assert choose(from_bytes(b"epoch,loss\n0,2.3\n1,2.1\n2,1.9\n", name="loss.csv")).name != "numeric-column"


# ---------------------------------------------------------------------------- results.csv families
def _results(cols: list[str], rows: int = 8) -> str:
    lines = [",".join(f"{c:>20}" for c in cols)]
    for e in range(1, rows + 1):
        vals = [float(e)] + [2.0 - e / 10 + i / 100 for i in range(len(cols) - 1)]
        lines.append(",".join(f"{v:>20.5g}" for v in vals))
    return "\n".join(lines) + "\n"


def test_yolov10_one_to_many_and_one_to_one_heads(tmp_path: Path) -> None:
    heads = [f"train/{k}_{h}" for h in ("om", "oo") for k in ("box", "cls", "dfl")]
    cols = ["epoch", *heads, "metrics/precision(B)", "metrics/mAP50-95(B)",
            *[h.replace("train/", "val/") for h in heads], "lr/pg0", "lr/pg1"]
    p = tmp_path / "results.csv"
    p.write_text(_results(cols))
    src = lossdoc.read(p).sources[0]
    assert src.format == "yolo"
    metrics = set(src.frame.filter(pl.col("split") == "train").get_column("metric").unique().to_list())
    assert {"box_om_loss", "cls_oo_loss", "dfl_oo_loss", "lr", "lr_pg1"} <= metrics
    assert len(_series(src, "val", "box_om_loss")) == 8 and len(_series(src, "val", "map50_95_b")) == 8
    # the checks see the six components as one training loss (their sum)
    summary = lossdoc.analyze(str(p)).runs[0].summary
    first = sum(2.0 - 1 / 10 + i / 100 for i in range(6))
    last = sum(2.0 - 8 / 10 + i / 100 for i in range(6))
    assert last - 1e-9 <= summary.final_train_loss < first - 1  # a level of the summed curve, near its end


def test_results_csv_with_lr_but_no_val_columns() -> None:
    src = _text(_results(["epoch", "train/giou_loss", "train/cls_loss", "lr/pg0"]), name="results.csv")
    assert src.format == "yolo"
    assert len(_series(src, "train", "giou_loss")) == 8 and len(_series(src, "train", "lr")) == 8


# ---------------------------------------------------------------------------- fairseq under hydra
HYDRA = """\
[2021-03-04 11:17:01,232][fairseq_cli.train][INFO] - {'_name': None, 'common': {'_name': None, 'seed': 7, 'log_format': 'json'}, 'optimization': {'_name': None, 'max_update': 100000, 'lr': [0.0007]}, 'optimizer': {'_name': 'adam', 'weight_decay': 0.01}}
[2021-03-04 11:17:20,118][train_inner][INFO] - {"epoch": 1, "update": 0.05, "loss": "15.947", "ppl": "63202.1", "num_updates": "100", "lr": "1.25e-05", "gnorm": "3.2"}
[2021-03-04 11:17:40,118][train_inner][INFO] - {"epoch": 1, "update": 0.1, "loss": "13.1", "ppl": "8000", "num_updates": "200", "lr": "2.5e-05", "gnorm": "2.2"}
[2021-03-04 11:18:00,118][train_inner][INFO] - {"epoch": 1, "update": 0.15, "loss": "11.0", "ppl": "2000", "num_updates": "300", "lr": "3.75e-05", "gnorm": "1.2"}
[2021-03-04 11:20:01,300][valid][INFO] - {"epoch": 1, "valid_loss": "10.0", "valid_ppl": "1024", "valid_num_updates": "300"}
[2021-03-04 11:20:02,300][train][INFO] - {"epoch": 1, "train_loss": "13.3", "train_num_updates": "300"}
[2021-03-04 11:21:00,118][train_inner][INFO] - epoch 002:    100 / 2000 loss=9.5, ppl=724, num_updates=400, lr=5e-05, gnorm=1.1
"""


def test_fairseq_hydra_train_log(tmp_path: Path) -> None:
    d = tmp_path / "outputs" / "2021-03-04" / "11-17-00"
    d.mkdir(parents=True)
    (d / "hydra_train.log").write_text(HYDRA)
    src = lossdoc.read(d / "hydra_train.log").sources[0]
    assert src.format == "fairseq"
    assert _series(src, "train", "loss") == [(100, 15.947), (200, 13.1), (300, 11.0), (400, 9.5)]
    assert _series(src, "val", "loss") == [(300, 10.0)]
    assert _series(src, "train", "epoch_loss") == [(300, 13.3)]
    assert src.frame.get_column("wall_time").drop_nulls().len() == src.height
    assert src.runs == ["11-17-00"]  # hydra_train.log is a generic name: the run is its directory
    cfg = run_config(src, src.runs[0])
    assert (cfg["learning_rate"], cfg["optimizer"], cfg["max_steps"], cfg["seed"]) == (0.0007, "adam", 100000, 7)


# ---------------------------------------------------------------------------- Key: value logs
ANNOTATED = "".join(
    f"[GPU0] Epoch {ep} Training ====\n" + "".join(
        f"Epoch Step: {s:6d} | Accumulation Step: {s // 10 + 1:3d} | Loss: {7.6 - ep - s / 100:6.2f} "
        f"| Tokens / Sec: {115.4 + s:7.1f} | Learning Rate: {2.3e-5 * (s + 1):6.1e}\n" for s in range(1, 202, 40))
    + f"[GPU0] Epoch {ep} Validation ====\n" for ep in range(3))


def test_annotated_transformer_lines() -> None:
    src = _text(ANNOTATED)
    assert src.format == "text"
    loss = _series(src, "train", "loss")
    assert len(loss) == 18 and loss[0] == (1, 7.59)
    steps = [s for s, _ in loss]
    assert steps == sorted(steps) and len(set(steps)) == 18  # Epoch Step restarts each epoch: combined
    assert len(_series(src, "train", "lr")) == 18
    assert {"epoch_step", "accumulation_step"}.isdisjoint(set(src.frame.get_column("metric").to_list()))
    assert "tokens_sec" in set(src.frame.get_column("metric").to_list())


@pytest.mark.parametrize("sep", [" | ", ", ", "  ", "\t", " "])
def test_key_value_separators(sep: str) -> None:
    text = "".join(f"Step: {i * 10}{sep}Loss: {3 - i / 10:.3f}{sep}LR: {1e-4 * (i + 1):.1e}\n" for i in range(12))
    src = _text(text)
    loss = _series(src, "train", "loss")
    assert [s for s, _ in loss][:3] == [0, 10, 20] and loss[-1][1] == pytest.approx(1.9)
    assert len(_series(src, "train", "lr")) == 12


# ---------------------------------------------------------------------------- eval lines naming both splits
def test_eval_line_with_train_and_val() -> None:
    text = "".join(
        f"[train] step {s} loss {3 - s / 1000:.4f} lr 0.001\n"
        + (f"[eval] step {s} train {2.9 - s / 1000:.4f} val {3.2 - s / 1100:.4f}\n" if s % 200 == 0 else "")
        for s in range(0, 1000, 100))
    src = _text(text)
    assert len(_series(src, "train", "loss")) == 10  # the per-step training loss keeps its name
    assert _series(src, "val", "loss")[:2] == [(0, 3.2), (200, pytest.approx(3.2 - 200 / 1100, abs=1e-4))]
    assert _series(src, "train", "estimated_loss")[0] == (0, 2.9)
    assert "train" not in set(src.frame.get_column("metric").to_list())


def test_eval_lines_alone_and_named_metric() -> None:
    text = "".join(f"[eval] step {s} train {3 - s / 1000:.3f} val {3.1 - s / 1000:.3f}\n" for s in range(0, 500, 50))
    src = _text(text)
    assert _series(src, "train", "loss")[0] == (0, 3.0) and _series(src, "val", "loss")[0] == (0, 3.1)
    acc = "".join(f"epoch {e} acc train {0.5 + e / 100:.2f} val {0.45 + e / 100:.2f}\n" for e in range(10))
    src = _text(acc)
    assert _series(src, "train", "accuracy")[0] == (0, 0.5) and _series(src, "val", "accuracy")[0] == (0, 0.45)


@pytest.mark.parametrize(("text", "n"), [
    ("[0.55, 0.51, 0.32, 0.35, 0.54, 0.40]", 6),  # str(list), no final line ending
    ("69.33, 69.32, 69.32, 69.31, 69.30\n", 5),  # ", ".join(...)
    ("0.2,0.09,0.07,0.01,0.02,\n0.1,0.05,0.04,0.03,0.02,0.01,\n", 11),  # a list per epoch, appended
])
def test_lists_of_values(tmp_path: Path, text: str, n: int) -> None:
    p = tmp_path / "train_loss.txt"
    p.write_text(text)
    src = lossdoc.read(p).sources[0]
    assert src.format == "numeric-column"
    loss = _series(src, "train", "loss")
    assert len(loss) == n and [s for s, _ in loss] == list(range(n))


def test_tables_of_numbers(tmp_path: Path) -> None:
    (tmp_path / "val_loss.txt").write_text("".join(f"{i + 1}_{2 - i / 10}\n" for i in range(10)))
    src = lossdoc.read(tmp_path / "val_loss.txt").sources[0]
    assert _series(src, "val", "loss")[:2] == [(1, 2.0), (2, 1.9)]  # "epoch_value"
    (tmp_path / "train_loss.txt").write_text("".join(f"{3 - i / 10} {1 + i / 100}\n" for i in range(10)))
    src = lossdoc.read(tmp_path / "train_loss.txt").sources[0]
    assert len(_series(src, "train", "loss")) == 10 and len(_series(src, "train", "loss_col2")) == 10
    (tmp_path / "x").mkdir()
    vals = [f"{3 - i / 100}\n" for i in range(60)]
    (tmp_path / "x" / "train_loss.txt").write_text("".join(vals[:30]) + "=======\n" + "".join(vals[30:]))
    src = lossdoc.read(tmp_path / "x" / "train_loss.txt").sources[0]
    assert len(_series(src, "train", "loss")) == 60 and "skipped_lines" in {n.kind for n in src.notes}


def test_printed_tensors_read_as_their_values() -> None:
    text = "".join(f"epoch 1 step {i * 10} loss: tensor({3 - i / 10:.2f}, device='cuda:0', grad_fn=<NllLossBackward0>) "
                   f"acc 0.{i}\n" for i in range(1, 8))
    text += "(tensor(5.2451, device='cuda:0'), <__main__.TrainState object at 0x7f8b2c3d0e50>)\n"
    src = _text(text)
    assert _series(src, "train", "loss")[:2] == [(10, 2.9), (20, 2.8)]
    assert set(src.frame.get_column("metric").unique().to_list()) == {"loss", "accuracy"}


def test_llamafactory_eval_records_and_torn_tail() -> None:
    text = "".join(f'{{"current_steps": {i}, "total_steps": 10, "loss": {3 - i / 10}, "lr": 1e-05, "epoch": {i / 10}, '
                   f'"percentage": {i * 10}, "elapsed_time": "0:00:0{i}", "remaining_time": "0:01:00"}}\n'
                   for i in range(1, 6))
    text += '{"current_steps": 5, "total_steps": 10, "eval_loss": 2.6, "epoch": 0.5}\n{"current_steps": 6, "tot'
    src = _text(text, name="trainer_log.jsonl")
    assert src.format == "llamafactory" and src.meta["total_steps"] == 10
    assert _series(src, "train", "loss")[-1] == (5, 2.5) and _series(src, "val", "loss") == [(5, 2.6)]
    assert {"percentage", "elapsed_time"}.isdisjoint(set(src.frame.get_column("metric").to_list()))
    assert "torn_tail" in {n.kind for n in src.notes}


def test_cyclegan_iters_restart_each_epoch() -> None:
    text = "================ Training Loss (Wed Aug 23 13:29:28 2023) ================\n" + "".join(
        f"(epoch: {e}, iters: {i}, time: 0.092, data: 0.154) D_A: 0.5{i // 100} G_A: 0.{e}82 cycle_A: 1.943 \n"
        for e in (1, 2) for i in (100, 200, 300))
    src = _text(text, name="loss_log.txt")
    assert src.format == "cyclegan"
    assert [s for s, _ in _series(src, "train", "g_a_loss")] == [100, 200, 300, 400, 500, 600]
    assert {"d_a_loss", "g_a_loss", "cycle_a_loss", "time_per_image", "data_time"} <= set(
        src.frame.get_column("metric").to_list())


def test_yolo_results_txt() -> None:
    row = "{:>10}{:>10}" + "{:>10.4g}" * 13 + "\n"
    text = "".join(row.format(f"{e}/9", "1.9G", 0.09 - e / 1000, 0.1, 0, 0.19 - e / 500, 24, 416, 0.1, 0.2, 0.3, 0.1,
                              0.09, 0.05, 0) for e in range(10))
    src = _text(text, name="results.txt")
    assert src.format == "yolo-txt" and src.meta["total_steps"] == 10
    assert _series(src, "train", "loss")[0] == (0, 0.19) and len(_series(src, "val", "box_loss")) == 10


def test_training_lines_among_noise_are_read() -> None:
    """Warnings, model printouts and tqdm bars outnumber the training lines: still read (at a low
    confidence, so a directory walk does not take stray text for a log)."""
    noise = "".join(f"W0530 14:48:{i:02d}.433000 2622492 convert_frame.py:1233] WON'T CONVERT line {i}\n"
                    for i in range(40))
    data = "".join(f"Epoch {e} | Train Loss: {2 - e / 10:.4f} | Val Loss: {2.1 - e / 10:.4f}\n" for e in range(1, 8))
    src = _text(noise + data)
    assert src.format == "text"
    assert _series(src, "train", "loss")[:2] == [(1, 1.9), (2, 1.8)] and len(_series(src, "val", "loss")) == 7
    from lossdoc.ingest import rank

    assert rank(from_bytes((noise + data).encode(), name="x.log"))[0].confidence < 0.5


def test_imagenet_example_epoch_brackets() -> None:
    """pytorch/examples imagenet style: 'Epoch: [0][300/320]', printed once an epoch here."""
    text = "".join(f"2018-01-24 23:55:23,455 INFO    : Epoch: [{e}][300/320]\t Loss [ 0.{69 - e}] "
                   f"Avg Loss [ 0.{68 - e}] Accuracy 0.{58 + e}\n" for e in range(6))
    src = _text(text)
    loss = _series(src, "train", "loss")
    assert [s for s, _ in loss] == [300 + 320 * e for e in range(6)] and loss[0][1] == 0.69


def test_split_word_before_a_whole_number_counts_epochs() -> None:
    text = "".join(f"Train {e}, loss: {1 - e / 20:.3f}, train acc: 0.{50 + e}\n" for e in range(8))
    src = _text(text)
    assert [s for s, _ in _series(src, "train", "loss")] == list(range(8))


def test_tqdm_bars_do_not_become_the_step() -> None:
    bar = "Epoch {e}/5: 100%|" + "█" * 40 + "| 7543/7543 [00:10<00:00, 700.00it/s]\r"
    text = "".join(bar.format(e=e) + f"\nEpoch {e} | Train Loss: {1.3 - e / 20:.4f} | Val Loss: {1.2 - e / 40:.4f}\n"
                   for e in range(1, 6))
    src = _text(text)
    assert [s for s, _ in _series(src, "train", "loss")] == [1, 2, 3, 4, 5]
    assert len(_series(src, "val", "loss")) == 5


def test_gan_loss_csv_from_pandas() -> None:
    """loss.csv written by pandas (unnamed index column) with a GAN's G and D columns."""
    text = ",G,D\n" + "".join(f"{i},{0.5 + i / 100},{-5 + i / 10}\n" for i in range(20))
    src = _text(text, name="loss.csv")
    assert src.format == "csv"
    assert _series(src, "train", "g_loss")[:2] == [(0, 0.5), (1, 0.51)] and len(_series(src, "train", "d_loss")) == 20
    assert "value" not in set(src.frame.get_column("metric").to_list())
