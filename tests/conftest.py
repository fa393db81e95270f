"""Shared fixtures: paths to sample and real logs, a CLI runner, a headless browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.report.cdp import Browser

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = ROOT / "sample_logs"
#: ../shared/real_logs beside the project root (as CI lays it out); LOSSDOC_REAL_LOGS names another place
#: (a worktree that is not beside ``shared/``)
REAL_LOGS = Path(os.environ.get("LOSSDOC_REAL_LOGS") or ROOT.parent / "shared" / "real_logs")


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium over CDP (the browser tests); skipped with a reason when it is absent."""
    from tests.report.cdp import Browser, find_chromium

    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium not found (/usr/bin/chromium or chromium on PATH); .ci/run installs it")
    b = Browser(binary)
    try:
        yield b
    finally:
        b.close()


def real_logs_available() -> bool:
    return (REAL_LOGS / "SOURCES.tsv").is_file()
