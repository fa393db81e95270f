"""The background import of the analysis and report modules while a big log parses (``lossdoc._prefetch``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossdoc import _prefetch
from lossdoc.api import analyze

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "runs" / "nanogpt" / "divergence" / "train.log"


def test_only_big_inputs_start_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOSSDOC_NO_PREFETCH", raising=False)
    small = tmp_path / "small.log"
    small.write_text("iter 0: loss 1.0, time 1.00ms, mfu 1.00%\n")
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:  # sparse: 32 MB of size without writing them
        fh.truncate(_prefetch.PREFETCH_BYTES)
    assert _prefetch.start([small]) is None
    assert _prefetch.start([tmp_path]) is None  # directories do not count (sweeps have their own workers)
    thread = _prefetch.start([small, big])
    assert thread is not None
    thread.join(timeout=120)
    assert not thread.is_alive()
    monkeypatch.setenv("LOSSDOC_NO_PREFETCH", "1")
    assert _prefetch.start([big]) is None


def test_a_prefetched_analysis_reports_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_prefetch, "PREFETCH_BYTES", 0)  # prefetch even for the small sample
    with_prefetch = analyze([SAMPLE]).to_json()
    monkeypatch.setenv("LOSSDOC_NO_PREFETCH", "1")
    assert analyze([SAMPLE]).to_json() == with_prefetch


def test_huge_inputs_leave_the_report_modules_for_later() -> None:
    # imported during the parse of a 10^7-row log they were resident while its freed pages still were
    # (a 319 MB Lightning metrics.csv peaked at 1.50x its size instead of 1.44-1.46x)
    every = _prefetch.modules(_prefetch.PREFETCH_BYTES)
    huge = _prefetch.modules(_prefetch.REPORT_PREFETCH_MAX_BYTES)
    assert "matplotlib.figure" in every and "lossdoc.report.charts" in every
    assert not any(m.startswith(("matplotlib", "lossdoc.report")) for m in huge)
    assert "lossdoc.analysis.stats" in huge and set(huge) < set(every)
