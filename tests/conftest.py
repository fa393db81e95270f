"""Shared fixtures: paths to sample and real logs, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = ROOT / "sample_logs"
#: ../shared/real_logs beside the project root (as CI lays it out)
REAL_LOGS = ROOT.parent / "shared" / "real_logs"


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


def real_logs_available() -> bool:
    return (REAL_LOGS / "SOURCES.tsv").is_file()
