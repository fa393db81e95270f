"""Every prefix of every sample (a file cut anywhere while being written) parses to a valid table
or fails with a lossdoc error - never a traceback, never a row that breaks the schema."""

from __future__ import annotations

import pytest

from lossdoc.errors import LossdocError
from lossdoc.ingest import read_input
from lossdoc.ingest.inputs import from_bytes
from lossdoc.model import validate
from tests.conftest import SAMPLE_LOGS

FILES = {
    "xgboost/cv.log": "xgboost",
    "lightgbm/early_stopping.log": "lightgbm",
    "sklearn_mlp/early_stopping.log": "sklearn-mlp",
    "catboost/tabular/catboost_info/learn_error.tsv": "catboost",
    "mlflow/mlruns/1/4f2a9c1e8b7d4e6fa0c3b5d7e9f1a2b3/metrics/val_loss": "mlflow",
    "tensorboard_csv/run_version_0-tag-train_loss.csv": "tensorboard-csv",
    "wandb_csv/wandb_export_2024-05-05T10_07_23.233-04_00.csv": "wandb-csv",
    "wandb_run/old_sdk/wandb/run-20200315_101500-1a2b3c4d/wandb-history.jsonl": "wandb-run",
    "wandb_run/new_sdk/wandb/offline-run-20261126_090014-pfgpz4tm/run-pfgpz4tm.wandb": "wandb-run",
    "text/tutorial_epoch_step.log": "text",
}


@pytest.mark.parametrize("rel", sorted(FILES))
def test_every_prefix(rel: str) -> None:
    path = SAMPLE_LOGS / rel
    data = path.read_bytes()
    # ~40 cut points per file (every byte for small files would be slow for the 60 KB .wandb)
    cuts = sorted(set(range(1, len(data), max(1, len(data) // 40))) | {len(data) - 1})
    for cut in cuts:
        inp = from_bytes(data[:cut], name=path.name, inner_name=path.name)
        try:
            src = read_input(inp, FILES[rel])
        except LossdocError:
            continue
        validate(src.frame)
