"""Labelled synthetic training curves for the detection benchmark (seeded, reproducible).

Each case is ``(name, synth kwargs, meta, labels, allowed)``: ``labels`` are the finding
categories the curve was built to show (recall), ``allowed`` are categories that may also
be reported without counting as false alarms because the injected pathology plausibly
causes them (e.g. a divergence at peak LR is also ``lr_too_high``). Everything else found
on a curve is a false positive for that category.

Healthy curves vary everything a real run varies: length (30 epoch-level points to 5,000
steps), noise level (1-8% relative) and autocorrelation (AR(1) phi 0.2-0.9), warm-up with
and without a loss bump, cosine / linear / step / constant / SGDR schedules (kinks and
restart bumps), harmless one-step blips, with or without validation, lr and grad-norm series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HEALTHY_ALLOWED = {"still_improving", "plateau"}

Case = tuple[str, dict[str, Any], dict[str, Any], set[str], set[str]]


def _base(rng: np.random.Generator, *, short_ok: bool = True) -> dict[str, Any]:
    """A random healthy run configuration."""
    epoch_level = short_ok and rng.random() < 0.2
    if epoch_level:  # epochs only: 30-80 points, a val point per epoch, noisier, usually no lr series
        steps = int(rng.integers(30, 81))
        kw = dict(steps=steps, val_every=1, noise=float(rng.uniform(0.01, 0.04)), phi=float(rng.uniform(0.0, 0.5)),
                  schedule=str(rng.choice(["constant", "step", "cosine"])), warmup=0,
                  log_lr=bool(rng.random() < 0.3), tau=float(rng.uniform(2, 10)), val_noise=0.01)
    else:
        steps = int(rng.choice([300, 600, 1000, 2000, 3000, 5000]))
        sched = str(rng.choice(["cosine", "cosine", "linear", "step", "constant", "sgdr"]))
        warm = int(rng.choice([0, steps // 50, steps // 20]))
        kw = dict(steps=steps, noise=float(rng.uniform(0.01, 0.08)), phi=float(rng.uniform(0.2, 0.9)),
                  schedule=sched, warmup=warm, warmup_bump=float(rng.choice([0.0, 0.0, 0.05, 0.15])) if warm else 0.0,
                  cycles=int(rng.integers(2, 5)), min_ratio=float(rng.choice([0.0, 0.1])),
                  val_every=int(rng.choice([0, steps // 20, steps // 40])) or None,
                  fine_spikes=int(rng.choice([0, 0, 2, 5, 10])), fine_spike_size=float(rng.uniform(0.05, 0.2)),
                  log_lr=bool(rng.random() < 0.8), log_grad_norm=bool(rng.random() < 0.5),
                  anneal=float(rng.uniform(0.0, 0.1)))
    start = float(rng.uniform(2.0, 11.0))
    kw.update(start=start, floor=float(start * rng.uniform(0.15, 0.6)), alpha=float(rng.uniform(0.3, 1.2)),
              lr=float(rng.choice([1e-4, 3e-4, 6e-4, 1e-3])), val_gap=float(rng.uniform(0.0, 0.08)),
              seed=int(rng.integers(1 << 30)))
    return kw


def make_cases(n_healthy: int = 160, n_each: int = 26, seed: int = 2024) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    for i in range(n_healthy):
        cases.append((f"healthy-{i}", _base(rng), {}, set(), set(HEALTHY_ALLOWED)))

    def add(kind: str, labels: set[str], allowed: set[str], make: Any, short_ok: bool = False) -> None:
        for i in range(n_each):
            kw = _base(rng, short_ok=short_ok)
            make(kw, rng)
            cases.append((f"{kind}-{i}", kw, {}, labels, allowed | HEALTHY_ALLOWED))

    def nan(kw, r):
        kw["inject"] = [{"kind": "nan", "at": float(r.uniform(0.3, 0.95)), "value": str(r.choice(["nan", "inf"]))}]
    add("nan", {"non_finite"}, {"divergence", "lr_too_high", "loss_spikes"}, nan, short_ok=True)

    def hidden(kw, r):
        kw["steps"] = max(kw["steps"], 300)
        kw["log_grad_norm"] = True
        kw["inject"] = [{"kind": "hidden_nan", "at": float(r.uniform(0.3, 0.9)), "zero_loss": bool(r.random() < 0.5)}]
    add("hidden-nan", {"non_finite"}, {"lr_too_high"}, hidden)  # as "nan": a blow-up at peak LR is also LR evidence

    def diverge(kw, r):
        kw["inject"] = [{"kind": "diverge", "at": float(r.uniform(0.3, 0.75)), "rise": float(r.uniform(0.2, 2.0)),
                         "power": float(r.uniform(1.0, 2.0))}]
    add("diverge", {"divergence"}, {"lr_too_high", "loss_spikes", "oscillation", "plateau", "train_val_gap"}, diverge,
        short_ok=True)

    def explode(kw, r):
        kw["inject"] = [{"kind": "explode", "at": float(r.uniform(0.2, 0.9)), "factor": float(r.uniform(12, 200))}]
    add("explode", {"divergence"}, {"lr_too_high", "loss_spikes", "train_val_gap", "oscillation", "plateau"}, explode)

    def spikes(kw, r):
        kw["steps"] = max(kw["steps"], 600)
        k = int(r.integers(1, 6))
        kw["inject"] = [{"kind": "spike", "at": float(a), "factor": float(r.uniform(1.6, 5.0)),
                         "recover": float(r.uniform(3, 80))} for a in r.uniform(0.15, 0.95, size=k)]
    add("spikes", {"loss_spikes"}, {"lr_too_high"}, spikes)

    def plateau(kw, r):
        kw["steps"] = max(kw["steps"], 300)
        kw["inject"] = [{"kind": "plateau", "at": float(r.uniform(0.03, 0.15))}]
    add("plateau", {"plateau"}, {"underfitting", "lr_too_low"}, plateau)

    def oscillate(kw, r):
        kw["inject"] = [{"kind": "oscillate", "amplitude": float(r.uniform(0.08, 0.3)),
                         "period": float(kw["steps"] / r.uniform(5, 25))}]
    add("oscillate", {"oscillation"}, {"loss_spikes", "train_val_gap", "plateau", "overfitting", "divergence",
                                       "lr_too_high"}, oscillate, short_ok=True)

    def overfit(kw, r):
        kw["val_every"] = kw.get("val_every") or max(kw["steps"] // 30, 1)
        kw["inject"] = [{"kind": "overfit", "at": float(r.uniform(0.2, 0.6)), "rise": float(r.uniform(0.1, 0.5))}]
    add("overfit", {"overfitting"}, {"train_val_gap"}, overfit, short_ok=True)

    def gap(kw, r):
        kw["val_every"] = kw.get("val_every") or max(kw["steps"] // 30, 1)
        kw["inject"] = [{"kind": "gap", "size": float(r.uniform(0.4, 1.5))}]
    add("gap", {"train_val_gap"}, {"overfitting"}, gap, short_ok=True)

    def underfit(kw, r):
        kw["floor"] = kw["start"] * float(r.uniform(0.95, 0.99))
        kw["warmup_bump"] = 0.0
    add("underfit", {"underfitting"}, {"plateau", "lr_too_low"}, underfit, short_ok=True)

    def still(kw, r):
        kw["schedule"] = "constant"
        kw["tau"] = kw["steps"] / 20
        kw["inject"] = [{"kind": "truncate", "at": float(r.uniform(0.15, 0.4))}]
    add("still", {"still_improving"}, set(), still)

    def lr_high(kw, r):  # divergence while the LR is at its peak (constant LR after warm-up)
        kw["schedule"] = "constant"
        kw["log_lr"] = True
        kw["inject"] = [{"kind": "diverge", "at": float(r.uniform(0.3, 0.7)), "rise": float(r.uniform(0.3, 2.0))}]
    add("lr-high", {"divergence", "lr_too_high"}, {"loss_spikes", "oscillation", "plateau", "train_val_gap"}, lr_high)

    def lr_low(kw, r):  # straight, slow progress
        kw.update(floor=0.0, tau=kw["steps"] / float(r.uniform(0.03, 0.08)), alpha=1.0, noise=float(r.uniform(0.002, 0.01)), schedule="constant", warmup=0,
                  fine_spikes=0)
    add("lr-low", {"lr_too_low", "underfitting"}, {"plateau", "still_improving"}, lr_low)

    def integrity(kw, r):
        kw["steps"] = max(kw["steps"], 300)
        kind = str(r.choice(["restart", "step_gap"]))
        kw["inject"] = [{"kind": kind, "at": float(r.uniform(0.3, 0.8)),
                         **({"back": int(kw["steps"] * 0.1)} if kind == "restart" else {"length": kw["steps"] // 8})}]
    add("integrity", {"log_integrity"}, set(), integrity)
    return cases
