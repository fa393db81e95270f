"""Public logs of styles and trainers met in the wild (tests/ingest/data/public, SOURCES.tsv gives each
one's repository, commit and paths): every one reads, with the series it should have."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

import lossdoc
from lossdoc.runconfig import run_config

PUBLIC = Path(__file__).parent / "data" / "public"
with open(PUBLIC / "SOURCES.tsv", newline="") as _fh:
    ROWS = list(csv.DictReader(_fh, delimiter="\t"))
RESERVED = Path(__file__).resolve().parents[3] / "shared" / "real_logs" / "RESERVED.txt"
if not RESERVED.is_file():
    RESERVED = Path("/work/shared/real_logs/RESERVED.txt")


def test_enough_public_logs_from_enough_repositories() -> None:
    assert len(ROWS) >= 40
    assert len({r["repository"] for r in ROWS}) >= 35
    assert sum(f.stat().st_size for f in PUBLIC.rglob("*") if f.is_file()) < 5 * 1024 * 1024


@pytest.mark.skipif(not RESERVED.is_file(), reason="RESERVED.txt not present")
def test_no_fixture_comes_from_a_reserved_repository() -> None:
    reserved = {ln.strip().lower() for ln in RESERVED.read_text().splitlines() if ln.strip() and ln[0] != "#"}
    assert not [r["repository"] for r in ROWS if r["repository"].lower() in reserved]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['style']}:{r['repository']}" for r in ROWS])
def test_public_log_reads_with_a_plausible_loss_series(row: dict[str, str]) -> None:
    logs = lossdoc.read(PUBLIC / row["read"])
    assert {s.format for s in logs.sources} == {row["format"]}
    frame = logs.frame
    for want in row["expect"].split(","):
        split, metric = want.split("/")
        s = frame.filter((frame["split"] == split) & (frame["metric"] == metric))
        assert s.height > 3, f"{want}: {s.height} points"
        vals = s.get_column("value").to_list()
        finite = [v for v in vals if math.isfinite(v)]
        assert len(finite) >= 0.9 * len(vals) and len(finite) > 3, want
        assert s.get_column("step").n_unique() > 3, f"{want}: steps do not advance"
    if row["config"]:
        cfg = run_config(logs, logs.sources[0].runs[0])
        for kv in row["config"].split(","):
            key, value = kv.split("=")
            assert str(cfg.get(key)) == value, (key, cfg.get(key))
