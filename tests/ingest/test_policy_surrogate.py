"""An RL run's training loss that goes below 0 beside a reward is a policy-gradient surrogate: read as
``other policy_loss`` and not judged (a Lightning REINFORCE run's ``train/loss`` rising from -33,612 toward 0 was a
"loss divergence" error that failed CI while its reward improved); a loss that stays above 0, or a negative loss
with no reward beside it, stays a loss."""

from __future__ import annotations

import numpy as np

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.model import LogSet
from tests.ingest.test_reader_notes_dev import read


def _lightning(loss: np.ndarray, reward: str | None = "train/reward") -> str:
    head = "epoch,step,train/loss" + (f",{reward}" if reward else "")
    rows = [f"{i // 20},{50 * i + 49},{v:.4f}" + (f",{-6000 + 40 * i:.1f}" if reward else "")
            for i, v in enumerate(loss)]
    return "\n".join([head, *rows]) + "\n"


def _surrogate() -> np.ndarray:
    """Mostly negative and rising toward 0 (the advantages' baseline catching up), a few positive values."""
    rng = np.random.default_rng(5)
    v = -30000 * np.exp(-np.arange(100) / 15) - 1500 + rng.normal(0, 900, 100)
    v[0] = 31919.9
    return v


def _findings(text: str) -> list:
    src = read(text, "metrics.csv")
    runs, _ = run_checks(LogSet([src]), Config(), summaries=False)
    return [f for r in runs for f in r.findings]


def test_a_negative_loss_beside_a_reward_is_a_surrogate_and_not_judged() -> None:
    src = read(_lightning(_surrogate()), "metrics.csv")
    keys = set(src.frame.select("split", "metric").unique().iter_rows())
    assert ("other", "policy_loss") in keys and ("train", "loss") not in keys
    assert any("policy-gradient surrogate" in n.message and "'reward'" in n.message for n in src.notes)
    found = _findings(_lightning(_surrogate()))
    assert not [f for f in found if f.category == "divergence"]
    assert [f.rule for f in found] == ["LG004"] and found[0].message.startswith("no loss to descend")


def test_without_a_reward_a_negative_loss_is_still_judged() -> None:
    found = _findings(_lightning(_surrogate(), reward=None))
    assert any(f.category == "divergence" for f in found)


def test_a_loss_above_zero_beside_a_reward_stays_a_loss() -> None:
    """A critic's value loss or a DPO loss beside its implicit rewards: never below 0, a loss to descend."""
    loss = 2.0 * np.exp(-np.arange(100) / 30) + 0.1
    src = read(_lightning(loss), "metrics.csv")
    assert ("train", "loss") in set(src.frame.select("split", "metric").unique().iter_rows())


def test_preference_rewards_do_not_make_a_surrogate() -> None:
    """DPO's chosen/rejected rewards are not an RL reward: a summed loss below 0 beside them stays the loss."""
    text = _lightning(_surrogate(), reward="chosen_reward")
    src = read(text, "metrics.csv")
    assert ("train", "loss") in set(src.frame.select("split", "metric").unique().iter_rows())


def test_a_portfolio_return_does_not_make_a_surrogate() -> None:
    """A trading model's loss of minus its Sharpe ratio (below 0, a loss to descend) beside its 'return': judged."""
    text = _lightning(_surrogate(), reward="train/return")
    src = read(text, "metrics.csv")
    assert ("train", "loss") in set(src.frame.select("split", "metric").unique().iter_rows())
