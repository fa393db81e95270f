"""An RL run's training "loss" that is a policy-gradient surrogate, read as ``other policy_loss`` (any format).

A REINFORCE / actor-critic loop logs ``-advantage x log-prob`` (plus value and entropy terms) as its loss. Its
value takes both signs and its level says nothing about learning: the advantages are centred, and a policy that
improves moves the surrogate wherever its baseline sits (a Lightning RL run's ``train/loss`` went from +31,920 to
-33,612 and then scattered between -5,000 and +1,000 while its reward rose from -6,574 to -2,134). Judged as a
loss, its rise toward 0 reads as a divergence that fails CI. A loss to descend (cross-entropy, NLL of a discrete
target, MSE, a value loss, DPO's loss) is never below 0; so when a run logs a reward or episode return beside a training
loss with at least :data:`MIN_NEGATIVE_SHARE` of its finite values below 0, the loss is read as ``other
policy_loss``, shown and not judged as the training loss, with a note; the run's signal is its reward,
which lossdoc does not judge. (HF TRL's GRPO/RLOO state files, whose surrogate sits near 0, are recognised by
their ``reward`` and ``kl`` keys in :func:`lossdoc.ingest.formats.hf_trainer.policy_objective`.) A loss that
never goes below 0 (a DPO loss beside ``rewards/chosen``, a critic's value loss) stays a loss.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.model import IngestNote, ParseResult

#: a reward or episode-return series of an RL run: reward, train/reward, ep_rew_mean (Stable-Baselines3),
#: episode_return, GRPO's rewards/<func>/mean -- not a bare "return" (a trading model's portfolio return beside a
#: loss of minus its Sharpe ratio is a loss to descend), nor a preference trainer's implicit rewards (DPO's
#: chosen_reward, rewards/rejected, rewards/margins), whose loss is one to descend
REWARD = re.compile(r"(?:^|[_/])(?:rewards?|ep_rew(?:_mean)?|(?:episode|episodic|ep)_returns?)(?:$|[_/])")
_PREFERENCE = re.compile(r"chosen|rejected|margin")
#: share of the training loss's finite values below 0 that makes it a surrogate beside a reward
MIN_NEGATIVE_SHARE = 0.1
#: finite training-loss values needed to judge its signs
MIN_POINTS = 10

_IS_LOSS = (pl.col("split") == "train") & (pl.col("metric") == "loss")


def policy_surrogate(res: ParseResult) -> ParseResult:
    """``res`` with a training loss that is an RL surrogate (module docstring) read as ``other policy_loss``."""
    rewards = sorted({str(m) for b in res.blocks if "metric" in b.columns
                      for m in b.get_column("metric").unique().to_list()
                      if m is not None and REWARD.search(str(m)) and not _PREFERENCE.search(str(m))})
    if not rewards:
        return res
    signs = [b.filter(_IS_LOSS & pl.col("value").is_finite()).select(
        (pl.col("value") > 0).sum().alias("pos"), (pl.col("value") < 0).sum().alias("neg"), pl.len().alias("n"))
        for b in res.blocks if {"split", "metric", "value"} <= set(b.columns)]
    pos = sum(int(s.item(0, "pos") or 0) for s in signs)
    neg = sum(int(s.item(0, "neg") or 0) for s in signs)
    n = sum(int(s.item(0, "n") or 0) for s in signs)
    if n < MIN_POINTS or neg < MIN_NEGATIVE_SHARE * n:
        return res
    return read_as_policy_loss(
        res, f"the run logs {min(rewards, key=len)!r} and its training loss goes below 0 ({neg:,} of its {n:,} values "
        f"below 0, {pos:,} above): the policy-gradient surrogate of an RL run, not a loss to descend")


def read_as_policy_loss(res: ParseResult, why: str) -> ParseResult:
    """``res`` with its training ``loss`` read as ``other policy_loss`` (shown, not judged as the training loss), and
    an inferred note saying ``why``."""
    res.blocks = [b.with_columns(pl.when(_IS_LOSS).then(pl.lit("other")).otherwise(pl.col("split")).alias("split"),
                                 pl.when(_IS_LOSS).then(pl.lit("policy_loss")).otherwise(pl.col("metric"))
                                 .alias("metric"))
                  if {"split", "metric"} <= set(b.columns) else b for b in res.blocks]
    res.notes.append(IngestNote("inferred", f"{why}: read as other policy_loss and not judged as the training loss; "
                                "the run's signal is its reward (not checked)"))
    return res
