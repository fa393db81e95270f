"""CatBoost ``catboost_info/`` training directory.

Layout follows what CatBoost writes into ``train_dir`` (default ``catboost_info``):
``learn_error.tsv`` / ``test_error.tsv`` with the header ``iter\\t<Metric>...`` and one
0-based row per iteration (seen in public repositories, e.g. 01ga-Shkrebta/mle-project-sprint-2
``catboost_info/test_error.tsv``: ``iter\\tLogloss`` / ``0\\t0.6537772619``), ``time_left.tsv``
beside them (not a metric).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import lossdoc
from lossdoc.ingest import rank
from lossdoc.ingest.inputs import open_file
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_path, series

INFO = SAMPLE_LOGS / "catboost" / "tabular" / "catboost_info"


def test_directory_golden_one_run_two_splits() -> None:
    logs = lossdoc.read(INFO)
    assert [s.format for s in logs.sources] == ["catboost"]
    src = logs.sources[0]
    assert src.runs == ["tabular"]  # catboost_info is named after its parent
    assert keys(src) == {("train", "loss", "Logloss"), ("val", "loss", "Logloss")}
    assert series(src, "val", "loss")[0] == (0, 0.6537772619)
    assert_golden(src.frame, "catboost/tabular.csv")


def test_parent_directory_finds_catboost_info() -> None:
    logs = lossdoc.read(INFO.parent)
    assert [s.format for s in logs.sources] == ["catboost"]
    assert logs.frame.height == 8


def test_single_tsv() -> None:
    src = read_path(INFO / "test_error.tsv")
    assert src.format == "catboost"
    assert keys(src) == {("val", "loss", "Logloss")}


def test_broken_variants(tmp_path: Path) -> None:
    info = tmp_path / "exp" / "catboost_info"
    info.mkdir(parents=True)
    # Being written: no newline after the last row; CRLF endings; a NaN; a ragged row; two metrics.
    (info / "learn_error.tsv").write_bytes(
        crlf(b"iter\tRMSE\tMAE\n0\t1.5\t1.1\n1\tnan\t1.0\n2\t1.2\n3\t1.1\t0.9\n") + b"4\t1.0"
    )
    (info / "test_error.tsv").write_bytes(b"iter\tRMSE\tMAE\n0\t1.6\t1.2\n")
    src = lossdoc.read(info).sources[0]
    assert "torn_tail" in note_kinds(src) and "skipped_lines" in note_kinds(src)
    rmse = series(src, "train", "loss")  # RMSE: the first loss-like metric
    assert [s for s, _ in rmse] == [0, 1, 2, 3] and math.isnan(rmse[1][1])
    assert [s for s, _ in series(src, "train", "mae")] == [0, 1, 3]  # row 2 has no MAE cell
    assert src.runs == ["exp"]


def test_time_left_is_not_claimed(tmp_path: Path) -> None:
    shutil.copy(INFO / "time_left.tsv", tmp_path / "time_left.tsv")
    cands = {c.parser.name: c.confidence for c in rank(open_file(tmp_path / "time_left.tsv"))}
    assert cands["catboost"] == 0.0


# CatBoost's console output (logging_level="Verbose"): Thalaivar/DDP training.out printed '0:\tlearn: 0.68\ttotal:
# 0.85s\tremaining: 21m 3s' lines, and the text reader took 'total' (the elapsed time) for the loss.
CONSOLE = (
    "Learning rate set to 0.08\n"
    "0:\tlearn: 0.6565711\ttest: 0.6567316\tbest: 0.6567316 (0)\ttotal: 59.8ms\tremaining: 59.7s\n"
    "1:\tlearn: 0.6212000\ttest: 0.6301000\tbest: 0.6301000 (1)\ttotal: 120ms\tremaining: 1m 2s\n"
    "2:\tlearn: 0.5931000\ttest: 0.6150000\tbest: 0.6150000 (2)\ttotal: 181ms\tremaining: 1m 1s\n"
    "3:\tlearn: 0.5702000\ttest: nan\tbest: 0.6150000 (2)\ttotal: 242ms\tremaining: 1m\n"
    "4:\tlearn: 0.5500000\ttotal: 1h 2m\tremaining: 3.5s\n"
)


def test_catboost_console_learn_and_test_are_the_losses() -> None:
    from lossdoc.ingest import read_input
    from lossdoc.ingest.inputs import from_bytes

    inp = from_bytes(CONSOLE.encode(), name="training.out")
    src = read_input(inp)
    assert src.format == "catboost-console"
    f = src.frame
    train = f.filter((f["split"] == "train") & (f["metric"] == "loss")).sort("step")
    val = f.filter((f["split"] == "val") & (f["metric"] == "loss")).sort("step")
    assert train["value"].to_list() == [0.6565711, 0.6212, 0.5931, 0.5702, 0.55]
    assert train["step"].to_list() == [0, 1, 2, 3, 4]
    assert val["value"].to_list()[:3] == [0.6567316, 0.6301, 0.615] and math.isnan(val["value"].to_list()[3])
    assert set(f["metric"].to_list()) == {"loss"}  # no 'total', 'remaining' or 'best' series
    assert any("CatBoost console lines" in n.message for n in src.notes)


def test_catboost_console_a_rising_eval_metric_is_no_loss() -> None:
    # eval_metric='Accuracy': the console prints the accuracy (Thalaivar/DDP: 0.48 -> 0.96)
    from lossdoc.ingest import read_input
    from lossdoc.ingest.inputs import from_bytes

    text = "".join(f"{i}:\tlearn: {0.48 + 0.04 * i:.7f}\ttotal: {i + 1}s\tremaining: 1m\n" for i in range(12))
    src = read_input(from_bytes(text.encode(), name="training.out"))
    assert set(src.frame["metric"].to_list()) == {"eval_metric"}
    assert any("here a score" in n.message for n in src.notes)


def test_old_catboost_log_likelihood_is_no_loss() -> None:
    # takashioya/plasticc catboost_info/learn_error.tsv (CatBoost <= 0.8, public dev): 'MultiClass' from -1.40 up to
    # -0.0015 -- the log-likelihood (catboost/catboost#401), i.e. a loss falling from 1.40. Read as a loss it rose
    # from "best -1.405 at step 0": a summary that named the worst model the best one.
    from lossdoc.ingest import read_input
    from lossdoc.ingest.inputs import from_bytes

    text = "iter\tMultiClass\n" + "".join(f"{i}\t{-1.4 / (1 + i):.9f}\n" for i in range(20))
    src = read_input(from_bytes(text.encode(), name="learn_error.tsv"))
    assert src.format == "catboost"
    assert set(src.frame["metric"].to_list()) == {"multi_class_log_likelihood"}
    assert any("catboost/catboost#401" in n.message for n in src.notes)


def test_a_catboost_loss_above_zero_is_still_the_loss() -> None:
    from lossdoc.ingest import read_input
    from lossdoc.ingest.inputs import from_bytes

    text = "iter\tMultiClass\n" + "".join(f"{i}\t{1.4 / (1 + i):.9f}\n" for i in range(20))
    src = read_input(from_bytes(text.encode(), name="learn_error.tsv"))
    assert set(src.frame["metric"].to_list()) == {"loss"}


def _training_json(iters: int, closed: bool = True, old_meta: bool = False) -> str:
    # the layout of CatBoost's catboost_info/catboost_training.json (TJsonLoggingBackend; 0nurB/BioPrediction-PPI,
    # 0STG0T/hse_finam_hack, batch 17's unreadable list): a meta object, then one line per iteration
    metrics = '[{"Logloss":"min"},{"AUC":"max"}]' if old_meta else \
        '[{"best_value":"Min","name":"Logloss"},{"best_value":"Max","name":"AUC"}]'
    head = ('{\n"meta":{"test_sets":["test"],"test_metrics":' + metrics + ',"learn_metrics":' + metrics
            + f',"launch_mode":"Train","parameters":"","iteration_count":{iters},"learn_sets":["learn"],'
            '"name":"experiment"},\n"iterations":[\n')
    rows = [f'{{"learn":[{0.69 - 0.001 * i:.6f},{0.5 + 0.001 * i:.6f}],"iteration":{i},"passed_time":0.01,'
            f'"remaining_time":1.0,"test":[{0.70 - 0.0008 * i:.6f},{0.5 + 0.0008 * i:.6f}]}}' for i in range(iters)]
    return head + ",\n".join(rows) + ("\n]}" if closed else ",\n" + rows[-1][:30])


def test_catboost_training_json_reads_learn_as_train_and_test_as_val(tmp_path: Path) -> None:
    for old in (False, True):
        p = tmp_path / "catboost_info" / "catboost_training.json"
        p.parent.mkdir(exist_ok=True)
        p.write_text(_training_json(50, old_meta=old))
        src = read_path(p)
        assert src.format == "catboost-json"
        assert series(src, "train", "loss")[:2] == [(0, 0.69), (1, 0.689)]
        assert series(src, "val", "loss")[-1] == (49, round(0.70 - 0.0008 * 49, 6))
        assert ("val", "auc") in {(k[0], k[1]) for k in keys(src)}
        assert "torn_tail" not in note_kinds(src)  # the closing brackets are no torn line


def test_catboost_training_json_still_being_written(tmp_path: Path) -> None:
    p = tmp_path / "catboost_training.json"
    p.write_text(_training_json(30, closed=False))
    src = read_path(p)
    assert len(series(src, "train", "loss")) == 30 and "torn_tail" in note_kinds(src)
