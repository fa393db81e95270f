"""Jumps from a blow-up's onset on are that blow-up's steps, not separate spikes (SP001 beside DV001/DV002/NF001).

Modelled on the real-run corpus's SGD runs with corrupted batches (benchmarks/realruns bad_batches_synth,
optsgd_glitch1): each corrupted batch throws the loss to ~90, it comes back within ~20 steps, then drifts higher, and the run ends twice as high as its best: one divergence, which SP001 also reported as 4 spikes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import lossdoc


def _log(tmp_path: Path, early_spike: bool) -> Path:
    rng = np.random.default_rng(3)
    t = np.arange(1000)
    y = 0.8 + 0.8 * np.exp(-t / 60) + rng.normal(0, 0.02, t.size)
    if early_spike:
        y[120:123] = [4.0, 3.2, 2.0]  # a jump that recovers, long before the blow-up
    for at in (400, 550, 700, 850):  # each jump recovers, then the loss drifts 0.25 higher: a divergence in steps
        y[at] = 60.0
        y[at + 1:at + 4] = [20.0, 5.0, 1.2]
        y[at + 4:] += np.minimum(np.arange(t.size - at - 4) / 100, 1.0) * 0.25
    p = tmp_path / "metrics.csv"
    p.write_text("step,loss\n" + "".join(f"{i},{v:.5f}\n" for i, v in enumerate(y)), encoding="utf-8")
    return p


def _findings(path: Path) -> list:
    return [f for r in lossdoc.analyze(str(path)).runs for f in r.findings]


def test_jumps_after_the_divergence_onset_are_the_divergence(tmp_path: Path) -> None:
    fs = _findings(_log(tmp_path, early_spike=False))
    div = [f for f in fs if f.category == "divergence" and f.severity >= lossdoc.Severity.WARNING]
    assert div, [f.rule for f in fs]
    assert min(f.start_step for f in div) <= 400
    assert not [f for f in fs if f.category == "loss_spikes"], [f.message for f in fs if f.rule == "SP001"]


def test_a_jump_before_the_onset_is_still_a_spike(tmp_path: Path) -> None:
    fs = _findings(_log(tmp_path, early_spike=True))
    assert [f for f in fs if f.category == "divergence" and f.severity >= lossdoc.Severity.WARNING]
    sp = [f for f in fs if f.category == "loss_spikes"]
    assert sp and 120 in sp[0].evidence.extra["steps"], [f.message for f in fs]


def _log_with_val(tmp_path: Path, val_jump_at: int) -> Path:
    """The same blown-up training loss, with a validation loss evaluated every 100 steps that jumps 3x at one
    evaluation and falls straight back (the real run optsgd_glitch1_seed1: 1.5, 4.4, 1.5 at its second)."""
    src = _log(tmp_path, early_spike=False).read_text(encoding="utf-8").splitlines()[1:]
    val = {s: 1.6 - 0.05 * k for k, s in enumerate(range(0, 1000, 100))}
    val[val_jump_at] *= 3.0
    rows = ["step,loss,val_loss"]
    for line in src:
        step, loss = line.split(",")
        v = val.get(int(step))
        rows.append(f"{step},{loss},{'' if v is None else f'{v:.4f}'}")
    p = tmp_path / "with_val.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def test_a_validation_jump_after_the_training_onset_is_the_divergence(tmp_path: Path) -> None:
    fs = _findings(_log_with_val(tmp_path, val_jump_at=500))
    assert [f for f in fs if f.category == "divergence" and f.split == "train"
            and f.severity >= lossdoc.Severity.WARNING]
    assert not [f for f in fs if f.category == "loss_spikes"], [f.message for f in fs if f.rule == "SP001"]


def test_a_validation_jump_before_the_training_onset_is_a_spike(tmp_path: Path) -> None:
    fs = _findings(_log_with_val(tmp_path, val_jump_at=200))
    sp = [f for f in fs if f.category == "loss_spikes" and f.split == "val"]
    assert sp and sp[0].start_step == 200, [f.message for f in fs]
