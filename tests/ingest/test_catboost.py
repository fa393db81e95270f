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
