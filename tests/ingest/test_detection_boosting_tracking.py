"""Detection for the second half of the long-tail formats (issue #3): every sample is read as its
own format by ``lossdoc.read`` (files via ``choose``, directories via ``sniff_dir``), and none of
these parsers outbids the format of any other sample in ``sample_logs/``."""

from __future__ import annotations

from pathlib import Path

import pytest

import lossdoc
from lossdoc.ingest.inputs import open_file
from lossdoc.ingest.registry import rank
from tests.conftest import SAMPLE_LOGS

MINE = (
    "xgboost",
    "lightgbm",
    "sklearn-mlp",
    "catboost",
    "mlflow",
    "tensorboard-csv",
    "csv-dir",
    "wandb-csv",
    "wandb-run",
    "text",
)

# path under sample_logs -> the format it must be read as
CASES = {
    "xgboost/train_eval.log": "xgboost",
    "xgboost/cv.log": "xgboost",
    "xgboost/sklearn_two_sets.log": "xgboost",
    "lightgbm/early_stopping.log": "lightgbm",
    "lightgbm/cv.log": "lightgbm",
    "sklearn_mlp/early_stopping.log": "sklearn-mlp",
    "catboost/tabular/catboost_info": "catboost",
    "catboost/tabular/catboost_info/learn_error.tsv": "catboost",
    "mlflow/mlruns": "mlflow",
    "mlflow/mlruns/1/4f2a9c1e8b7d4e6fa0c3b5d7e9f1a2b3/metrics/val_loss": "mlflow",
    "tensorboard_csv/keras_fit": "tensorboard-csv",
    "tensorboard_csv/run_version_0-tag-train_loss.csv": "tensorboard-csv",
    "csv_dir/mnist_mlp": "csv-dir",
    "wandb_csv/wandb_export_2024-05-05T10_07_23.233-04_00.csv": "wandb-csv",
    "wandb_csv/wandb_export_2024-05-06T09_00_00.000-04_00.csv": "wandb-csv",
    "wandb_run/new_sdk/wandb": "wandb-run",
    "wandb_run/old_sdk/wandb": "wandb-run",
    "wandb_run/new_sdk/wandb/offline-run-20261126_090014-pfgpz4tm/run-pfgpz4tm.wandb": "wandb-run",
    "text/epoch_summary.log": "text",
    "text/kv_logging.log": "text",
    "text/tutorial_epoch_step.log": "text",
}


@pytest.mark.parametrize("rel", sorted(CASES))
def test_sample_read_as_its_own_format(rel: str) -> None:
    logs = lossdoc.read(SAMPLE_LOGS / rel)
    assert {s.format for s in logs.sources} == {CASES[rel]}
    assert logs.frame.height > 0


#: sample directory name (``sample_logs/<dir>/`` or ``sample_logs/runs/<dir>/``) -> one of these formats
MY_DIRS = {
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "sklearn_mlp": "sklearn-mlp",
    "catboost": "catboost",
    "mlflow": "mlflow",
    "tensorboard_csv": "tensorboard-csv",
    "csv_dir": "csv-dir",
    "wandb_csv": "wandb-csv",
    "wandb_run": "wandb-run",
    "text": "text",
}


def _format_dir(p: Path) -> str:
    parts = p.relative_to(SAMPLE_LOGS).parts
    return parts[1] if parts[0] == "runs" and len(parts) > 1 else parts[0]


def _others() -> list[Path]:
    return [
        p for p in sorted(SAMPLE_LOGS.rglob("*")) if p.is_file() and p.suffix != ".md" and _format_dir(p) not in MY_DIRS
    ]


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((SAMPLE_LOGS / "runs").rglob("*")) if p.is_file() and _format_dir(p) in MY_DIRS],
    ids=lambda p: str(p.relative_to(SAMPLE_LOGS)),
)
def test_real_runs_of_these_formats(path: Path) -> None:
    logs = lossdoc.read(path)
    assert {s.format for s in logs.sources} == {MY_DIRS[_format_dir(path)]}
    assert logs.frame.filter(logs.frame["metric"] == "loss").height > 0


@pytest.mark.parametrize("path", _others(), ids=lambda p: str(p.relative_to(SAMPLE_LOGS)))
def test_other_formats_samples_not_taken(path: Path) -> None:
    cands = rank(open_file(path))
    best = cands[0]
    if best.parser.name in MINE:
        pytest.fail(f"{path.relative_to(SAMPLE_LOGS)} taken by {best.parser.name} ({best.confidence:.2f})")
    for c in cands:
        if c.parser.name in MINE and c.parser.name != "text":
            assert c.confidence == 0.0, (c.parser.name, c.confidence)


def _other_dirs() -> list[Path]:
    files = _others()
    return sorted({p for f in files for p in f.parents if SAMPLE_LOGS in p.parents and _format_dir(p) not in MY_DIRS})


@pytest.mark.parametrize("path", _other_dirs(), ids=lambda p: str(p.relative_to(SAMPLE_LOGS)))
def test_other_formats_directories_not_claimed(path: Path) -> None:
    from lossdoc.ingest.registry import rank_dir

    claims = {c.parser.name: c.confidence for c in rank_dir(path) if c.parser.name in MINE}
    assert all(v == 0.0 for v in claims.values()), claims
