"""Every file in ../shared/real_logs parses, is detected as its own format, and its main loss
series has as many points as the file holds (counted here independently of lossdoc)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

import lossdoc
from tests.conftest import REAL_LOGS, real_logs_available

pytestmark = pytest.mark.skipif(not real_logs_available(), reason="../shared/real_logs not present")


def _csv_cells(path: Path, column: str) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    i = header.index(column)
    return sum(1 for r in rows[1:] if len(r) > i and r[i].strip() not in ("", "NA"))


def _hf_entries(path: Path, key: str) -> int:
    text = path.read_text(encoding="utf-8")
    return sum(1 for e in json.loads(text)["log_history"] if key in e)


def _jsonl_rows(path: Path, key: str) -> int:
    return sum(1 for ln in path.read_text().splitlines() if ln.strip() and key in json.loads(ln))


def _lines(path: Path, pattern: str) -> int:
    return len(re.findall(pattern, path.read_text(encoding="utf-8"), flags=re.M))


# saved_path -> (format, series name as the log writes it, independent count)
CASES = {
    "hf_trainer/aa-n-qwen3-lora/trainer_state.json": ("hf-trainer", "train_loss", lambda p: _hf_entries(p, "train_loss")),
    "hf_trainer/nukumizu-qwen05-verifier/trainer_state.json": ("hf-trainer", "loss", lambda p: _hf_entries(p, "loss")),
    "hf_trainer/rohitbind-falcon-lora/trainer_state.json": ("hf-trainer", "loss", lambda p: _hf_entries(p, "loss")),
    "keras_csv/ahmedimtiazprio-irfanet-training.log": ("keras-csv", "loss", lambda p: _csv_cells(p, "loss")),
    "keras_csv/lindenschrage-cs109b-history.csv": ("keras-csv", "loss", lambda p: _csv_cells(p, "loss")),
    "keras_csv/mdhach-digit-recognizer-history.csv": ("keras-csv", "loss", lambda p: _csv_cells(p, "loss")),
    "lightning/danyash-mlops/metrics.csv": ("lightning-csv", "train_loss", lambda p: _csv_cells(p, "train_loss")),
    "lightning/gajdamj-chemistry/metrics.csv": ("lightning-csv", "Train loss", lambda p: _csv_cells(p, "Train loss")),
    "lightning/km-hyun-autoencoder/metrics.csv": ("lightning-csv", "train_loss", lambda p: _csv_cells(p, "train_loss")),
    "mmengine/dieg0bri-maskrcnn/scalars.json": ("mmengine", "loss", lambda p: _jsonl_rows(p, "loss")),
    "nanogpt/chenzihua-nanogpt-kirin.log": ("nanogpt", "loss", lambda p: _lines(p, r"^iter \d+: loss ")),
    "pytorch_custom/barber0-llm-pretrain-train.log": ("text", "loss", lambda p: _lines(p, r"loss: [\d.]+")),
    "yolo/abishek-yolo26-nutrition/results.csv": ("yolo", "train/box_loss", lambda p: _csv_cells(p, "train/box_loss")),
    "yolo/abonia-fire-smoke/results.csv": ("yolo", "train/box_loss", lambda p: _csv_cells(p, "train/box_loss")),
}


def _listed() -> list[str]:
    if not real_logs_available():
        return sorted(CASES)
    rows = (REAL_LOGS / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [r.split("\t")[0] for r in rows if r.strip()]


@pytest.mark.parametrize("rel", _listed())
def test_real_log_parses_detects_and_counts(rel: str) -> None:
    assert rel in CASES, f"new real log {rel}: add its expectation to CASES"
    fmt, name, count = CASES[rel]
    path = REAL_LOGS / rel
    logs = lossdoc.read(path)
    assert [s.format for s in logs.sources] == [fmt]
    df = logs.frame
    series = df.filter(df["name"] == name)
    assert series.height == count(path), f"{rel}: {series.height} points of {name!r}, file has {count(path)}"
    assert set(series["split"].to_list()) == {"train"}
