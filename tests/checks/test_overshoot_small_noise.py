"""LR006's early-overshoot evidence on a short per-batch log: the rise must clear the point noise, and on a few dozen
values the noise floor also takes Rousseeuw-Croux Qn of the changes, not only their MAD (Markm536/mbtsr, 5 epochs x 2
batches: one noisy second batch, 2.0x the first, read as "the learning rate is too high" on a run both reviewers
called healthy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from statsmodels.robust.scale import qn_scale

import lossdoc
from lossdoc.checks.detectors._common import noise_sd

MARKM536 = [0.2915, 0.7948, 0.5881, 0.4452, 0.3969, 0.7227, 0.2220, 0.4030, 0.2730, 0.1922]


def _log(tmp_path: Path, losses: list[float]) -> Path:
    rows = ["epoch,step,train_loss_step"] + [f"{i // 2},{i},{v}" for i, v in enumerate(losses)]
    p = tmp_path / "metrics.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


def test_the_mad_alone_understates_this_noise() -> None:
    d = np.diff(np.log(MARKM536))
    assert noise_sd(np.log(MARKM536)) < 0.2 < 0.3 < float(qn_scale(d)) / np.sqrt(2)


def test_one_noisy_batch_in_a_ten_batch_log_is_no_lr_evidence(tmp_path: Path) -> None:
    res = lossdoc.analyze(str(_log(tmp_path, MARKM536)))
    assert not any(f.rule == "LR006" for f in res.findings), [(f.rule, f.message[:90]) for f in res.findings]


def test_a_clear_early_overshoot_in_a_short_log_still_counts(tmp_path: Path) -> None:
    # rose 3x, then fell back below where it started: the rise, not the staying above, is the evidence
    losses = [0.30, 0.95, 0.90, 0.80, 0.60, 0.45, 0.35, 0.28, 0.24, 0.21, 0.19, 0.17]
    res = lossdoc.analyze(str(_log(tmp_path, losses)))
    lr = [f for f in res.findings if f.rule == "LR006"]
    assert lr and "its first logged value 0.3" in lr[0].message, [(f.rule, f.message[:90]) for f in res.findings]
