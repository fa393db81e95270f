"""A training loss's "converged" note gives way to an overfitting warning on the run.

Modelled on the real-run corpus's boosted trees without regularisation (benchmarks/realruns xgboost
reg_cancer regoff, size_depth_moons depth 8): the training logloss reaches its floor in the first third of
the rounds and stays there, while the validation loss bottoms out and rises. OF001 names the step to stop
at (the validation minimum); PL002's note on the training loss named another one, and its advice (spend the
steps on a bigger model or more data) points the wrong way for a model that fits its training set too well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import lossdoc


def _log(tmp_path: Path, val_rises: bool) -> Path:
    ep = np.arange(1, 61)
    train = 0.05 + 0.9 * np.exp(-ep / 5)
    val = 0.35 + 0.6 * np.exp(-ep / 5)
    if val_rises:
        val = val + np.where(ep > 20, 0.004 * (ep - 20), 0.0)  # +0.16 over the last 40 epochs
    p = tmp_path / "training.log"
    p.write_text("epoch,loss,val_loss\n" + "".join(f"{e},{a:.5f},{b:.5f}\n" for e, a, b in zip(ep, train, val)),
                 encoding="utf-8")
    return p


def _findings(path: Path) -> list:
    return [f for r in lossdoc.analyze(str(path)).runs for f in r.findings]


def test_converged_training_loss_beside_overfitting_is_overfittings_story(tmp_path: Path) -> None:
    fs = _findings(_log(tmp_path, val_rises=True))
    assert [f for f in fs if f.category == "overfitting" and f.severity >= lossdoc.Severity.WARNING], \
        [(f.rule, f.message) for f in fs]
    assert not [f for f in fs if f.category == "plateau" and f.split == "train"], \
        [(f.rule, f.message) for f in fs if f.category == "plateau"]


def test_converged_training_loss_without_overfitting_keeps_its_note(tmp_path: Path) -> None:
    fs = _findings(_log(tmp_path, val_rises=False))
    assert not [f for f in fs if f.category == "overfitting" and f.severity >= lossdoc.Severity.WARNING]
    assert [f for f in fs if f.rule == "PL002" and f.split == "train"], [(f.rule, f.message) for f in fs]
