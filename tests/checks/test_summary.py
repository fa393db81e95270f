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


def test_a_fit_that_misses_the_end_is_refitted_to_the_last_half_and_says_so():
    # the loss flattens as the cosine schedule ends (0.657 over the last 6 logs); a fit to the whole run keeps
    # falling through 0.589 at the last step, 10% below where the loss ended, and would extrapolate from there
    path = SAMPLE_LOGS / "runs" / "nanogpt" / "healthy" / "train.log"
    run = _summary(path)
    ex = run.summary.extrapolated
    end = run.summary.final_train_loss_smoothed
    assert ex.extra["fitted_from_step"] == 500
    assert 0.9 * end <= ex.loss <= end and ex.high - ex.low <= 0.5 * end
    assert run.curves["fit"]["step"][0] == 500 and run.curves["fit"]["from_step"] == 500  # drawn where fitted
    assert "fitted (exponential, from step 500)" in lossdoc.analyze(path).to_html()
    text = lossdoc.analyze(path).to_text()
    assert "(fitted from step 500, the last half)" in text


def test_a_fit_that_misses_the_end_is_not_extrapolated(tmp_path):
    # an exponential fall, then a drop at an LR cut 10 points before the end: the whole run's curve ends 20%+
    # above where the loss ended, and the last half (flat, then the drop) fits no family either. The summary
    # used to quote the fit's own floor, a value above the loss's last ones, as the "extrapolated" loss.
    import numpy as np

    steps = np.arange(0, 2000, 20)
    loss = 1.0 + 2.0 * np.exp(-steps / 300.0)
    loss[-10:] -= 0.35
    run = _summary(_nanogpt_log(tmp_path, [f"{v:.4f}" for v in loss], steps))
    assert run.summary.extrapolated is None
    note = run.summary.extra["extrapolation"]
    assert note.startswith("no reliable fit: the fitted") and "does not describe the end of the run" in note
    assert "above where the loss ended" in note
    assert "fit" not in run.curves


def test_failed_backtest_is_reported_not_extrapolated():
    if not real_logs_available():
        import pytest

        pytest.skip("../shared/real_logs not present")
    # 30 points of a LoRA fine-tune: a fit on the first half misses the second by >100%.
    run = _summary(REAL_LOGS / "hf_trainer" / "nukumizu-qwen05-verifier" / "trainer_state.json")
    assert run.summary.extrapolated is None
    assert "missed the second half" in run.summary.extra["extrapolation"]


def _nanogpt_log(tmp_path, losses, steps=None):
    steps = steps if steps is not None else range(len(losses))
    lines = [f"iter {s}: loss {v}, time 10.00ms, mfu 1.00%" for s, v in zip(steps, losses)]
    p = tmp_path / "run.log"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_all_nan_loss_gets_advice_about_nan_not_about_logging_more(tmp_path):
    report = lossdoc.analyze(_nanogpt_log(tmp_path, ["nan"] * 20), horizon=None)
    lg = [f for f in report.findings if f.rule == "LG004"]
    assert lg and "NaN or infinite" in lg[0].recommendation
    assert any(f.rule == "NF001" for f in report.findings)


def test_still_improving_never_projects_a_positive_loss_below_zero(tmp_path):
    # a steep straight fall on irregular steps: any straight-line or curve projection overshoots zero
    steps = [0, 3, 7, 15, 22, 40, 41, 60, 75, 90, 100, 130, 131, 150, 170, 200]
    losses = [round(2.0 - 0.0095 * s, 4) for s in steps]
    report = lossdoc.analyze(_nanogpt_log(tmp_path, losses, steps), horizon=2000)
    for f in report.findings:
        if f.rule == "SI001":
            predicted = f.evidence.extra.get("predicted")
            assert predicted is None or predicted >= 0
            assert "-" not in f.message.split("predicts")[-1].split("(")[0]


def test_interval_far_wider_than_the_loss_itself_is_not_shown(tmp_path):
    # a healthy-looking curve with large recovering spikes: the fit's band spans below zero
    import gzip

    src = SAMPLE_LOGS / "runs" / "nanogpt" / "loss_spikes" / "train.log"
    gz = tmp_path / "spiky.log.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    run = _summary(gz)
    assert run.summary.extrapolated is None
    assert "wider than 2x the final loss" in run.summary.extra["extrapolation"]
    assert any(f.rule == "SP001" for f in run.findings)
