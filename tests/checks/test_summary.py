"""The run summary says "no reliable fit" instead of printing an extrapolation nobody should trust."""

from __future__ import annotations

import lossdoc
from tests.conftest import REAL_LOGS, SAMPLE_LOGS, real_logs_available


def _summary(path):
    report = lossdoc.analyze(path)
    assert len(report.runs) == 1
    return report.runs[0]


def test_diverged_run_gets_no_extrapolation_and_no_fit_curve():
    run = _summary(SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log")
    assert run.summary.extrapolated is None
    assert run.summary.extra["extrapolation"].startswith("no reliable fit: the run has a loss-divergence")
    assert "fit" not in run.curves
    assert '"extrapolation": "no reliable fit' in lossdoc.analyze(
        SAMPLE_LOGS / "runs" / "nanogpt" / "divergence" / "train.log").to_json()


def test_healthy_run_keeps_an_extrapolation_with_a_sane_interval():
    run = _summary(SAMPLE_LOGS / "runs" / "nanogpt" / "healthy" / "train.log")
    ex = run.summary.extrapolated
    assert ex is not None and ex.low <= ex.loss <= ex.high
    assert ex.step == 2000  # no planned total in a nanoGPT log: twice the last step
    assert "fit" in run.curves


def test_failed_backtest_is_reported_not_extrapolated():
    if not real_logs_available():
        import pytest

        pytest.skip("../shared/real_logs not present")
    # 30 points of a LoRA fine-tune: a fit on the first half misses the second by >100%.
    run = _summary(REAL_LOGS / "hf_trainer" / "nukumizu-qwen05-verifier" / "trainer_state.json")
    assert run.summary.extrapolated is None
    assert "missed the second half" in run.summary.extra["extrapolation"]
