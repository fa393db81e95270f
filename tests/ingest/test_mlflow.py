"""MLflow file store.

Sample files follow ``mlflow/mlflow`` ``mlflow/store/tracking/file_store.py``: ``log_metric``
appends ``"%s %s %s\\n" % (metric.timestamp, metric.value, metric.step)`` to
``<run>/metrics/<key>`` (``/`` in a key makes directories), ``_get_metric_from_line`` also
accepts the old two-field ``timestamp value`` lines; ``tags/mlflow.runName`` holds the run
name (FORMATS.md 12a).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

import lossdoc
from tests.conftest import SAMPLE_LOGS
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import keys, note_kinds, read_path, series

MLRUNS = SAMPLE_LOGS / "mlflow" / "mlruns"
RUN = MLRUNS / "1" / "4f2a9c1e8b7d4e6fa0c3b5d7e9f1a2b3"


@pytest.mark.parametrize("path", [MLRUNS, MLRUNS / "1", RUN], ids=["mlruns", "experiment", "run"])
def test_any_level_of_the_store(path: Path) -> None:
    logs = lossdoc.read(path)
    assert [s.format for s in logs.sources] == ["mlflow"]
    src = logs.sources[0]
    assert src.runs == ["bright-owl-42"]
    assert_golden(src.frame, "mlflow/bright-owl-42.csv")


def test_values_steps_and_wall_time() -> None:
    src = lossdoc.read(MLRUNS).sources[0]
    assert keys(src) == {("train", "loss", "train/loss"), ("val", "loss", "val_loss"), ("train", "lr", "lr")}
    val = series(src, "val", "loss")
    assert [s for s, _ in val] == [0, 2, 3] and math.isnan(val[2][1])
    assert src.frame.get_column("wall_time").min() == pytest.approx(1717236942.123)
    # lr was logged without step= in the old two-field layout: line order is the step, and said so.
    assert series(src, "train", "lr") == [(0, 0.001), (1, 0.0008)]
    assert "inferred" in note_kinds(src)


def test_single_metric_file() -> None:
    src = read_path(RUN / "metrics" / "train" / "loss")
    assert src.format == "mlflow"
    assert src.runs == ["bright-owl-42"]
    assert keys(src) == {("train", "loss", "train/loss")}


def test_two_runs_and_broken_files(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, store)
    other = store / "1" / "0a0a0a0a0a0a"
    (other / "metrics").mkdir(parents=True)
    (other / "meta.yaml").write_text("run_id: 0a0a0a0a0a0a\nrun_name: second\n")
    # run name from meta.yaml when no tag; a torn last line; a garbage line; CRLF endings
    (other / "metrics" / "loss").write_bytes(
        b"1717236942123 1.5 0\r\nbroken line\r\n1717236943123 1.25 1\r\n1717236944123 1.1"
    )
    logs = lossdoc.read(store)
    assert sorted(logs.frame.get_column("run").unique().to_list()) == ["bright-owl-42", "second"]
    f = logs.frame.filter(logs.frame["run"] == "second")
    assert f.get_column("step").to_list() == [0, 1] and f.get_column("value").to_list() == [1.5, 1.25]
    kinds = note_kinds(logs.sources[0])
    assert "torn_tail" in kinds and "skipped_lines" in kinds


def test_a_metric_file_copied_out_of_its_store_is_still_mlflow(tmp_path: Path) -> None:
    # BozzoloLu/GAN's mlruns/1/<run>/metrics/'Generator loss' and aarontwang/CovidTraffic's metrics/loss, saved on
    # their own (a corpus copy, an attachment): the numeric-column reader took the 13-digit timestamp for the loss
    p = tmp_path / "Generator loss"
    p.write_text("".join(f"{1612345678901 + 1000 * i} {2.0 / (i + 1):.6f} {i}\n" for i in range(20)))
    src = lossdoc.read(p).sources[0]
    assert src.format == "mlflow"
    vals = src.frame.sort("step").get_column("value").to_list()
    assert vals[:3] == [2.0, 1.0, 0.666667] and src.frame.get_column("step").max() == 19
