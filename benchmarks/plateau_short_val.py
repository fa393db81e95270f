"""PL002 ("converged early" / "stopped improving") on short VALIDATION losses (4-10 evaluations): power on a
validation loss that levelled off, false plateaus on one still falling, and what the other progress rules (SI001
still improving, LR004 falls steadily but slowly) say on the same series.

    python benchmarks/plateau_short_val.py [REPS]        # default 100 seeded series per cell

Each run: a training loss logged every 10 steps over 200 steps (21 points, ``0.5 + 1.5 exp(-t / 0.5)``, 1% iid
noise: still falling, so a validation loss that stopped is "stopped while the training loss kept falling") and a
validation loss evaluated ``n`` times, at steps 200 k / n (k = 1..n: the first evaluation after the first
interval, as HF Trainer's eval_steps and a per-epoch Keras history do), run through the whole rule set as a user
runs it (``run_checks``, default config, contradiction rules applied). Noise on the validation loss: iid Gaussian,
s.d. ``k`` x the level (0-2%: a fixed held-out set scatters little from one evaluation to the next).

Curves (``t`` = step / 200):

* **flat**: ``1 + 2 exp(-t / tau)`` whose remaining change at ``flat_from`` of the run is 0.05% of the level
  (``plateau_power.flat_curve``), flat over the last 30% / 50% of the run. Power.
* **slow tail**: ``1 + A exp(-t / tau)`` whose last 30% falls ``fall`` of its level, ``fall`` = 1% (a plateau by the
  labelling guide, "< ~2%"), 3% (borderline), 5% and 10% (still improving: a note is a false plateau; it must stay
  <= 5% per cell), tau 0.15, 0.4 and 1.0 of the run (1.0: nearly linear, little deceleration to see).

A cell prints PL002 / SI001 / LR004 shares on the validation loss as reported, and in brackets PL002's share before
the contradiction step (``resolve_contradictions``, wrapped here to record what it removed). Figures:
benchmarks/README.md, "Short validation losses".
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import polars as pl

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from plateau_power import flat_curve, improving_curve, noise_table  # noqa: E402

from lossdoc.checks.runner import run_checks  # noqa: E402
from lossdoc.config import Config  # noqa: E402
from lossdoc.model import make_frame  # noqa: E402
from lossdoc.testing import synth_logset  # noqa: E402

LENGTHS = (4, 5, 6, 8, 10)
NOISE = (0.0, 0.0025, 0.005, 0.01, 0.02)
RUN = 200
TRAIN_STEPS = np.arange(0, RUN + 1, 10)


import lossdoc.checks.runner as _runner  # noqa: E402

_RAW: list = []
_orig_resolve = _runner.resolve_contradictions


def _recording(fs):
    _RAW.extend(fs)
    return _orig_resolve(fs)


_runner.resolve_contradictions = _recording


def findings(val: np.ndarray, rng: np.random.Generator) -> set[str]:
    n = val.size
    vs = np.round(RUN * np.arange(1, n + 1) / n).astype(int)
    t = TRAIN_STEPS / RUN
    tr = (0.5 + 1.5 * np.exp(-t / 0.5)) * (1 + 0.01 * rng.standard_normal(t.size))
    frame = pl.concat([
        make_frame({"run": "sim", "step": TRAIN_STEPS, "split": "train", "metric": "loss", "name": "loss",
                    "value": tr}),
        make_frame({"run": "sim", "step": vs, "split": "val", "metric": "loss", "name": "val_loss", "value": val})])
    _RAW.clear()
    runs, _ = run_checks(synth_logset(frame), Config(), summaries=False)
    raw = {f.rule + "*" for f in _RAW if f.split == "val"}
    return {f.rule for r in runs for f in r.findings if f.split == "val"} | raw


def cell(make, n: int, k: float, reps: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1) / n
    clean = make(t)
    reps = 1 if k == 0 else reps
    counts = {"PL002": 0, "PL002*": 0, "SI001": 0, "LR004": 0}
    for _ in range(reps):
        got = findings(clean + k * clean[-1] * rng.standard_normal(n), rng)
        for r in counts:
            counts[r] += r in got
    return {r: c / reps for r, c in counts.items()}


def table(title: str, make, reps: int, seed0: int, lengths=LENGTHS, noises=NOISE) -> list[str]:
    def text(_: int, n: int, k: float) -> str:
        i = LENGTHS.index(n) if n in LENGTHS else n  # the seed of a length as in the default grid
        c = cell(make, n, k, reps, seed0 + 7919 * i + int(k * 10000))
        return f"{c['PL002']:.2f} ({c['PL002*']:.2f}) / {c['SI001']:.2f} / {c['LR004']:.2f}"

    return noise_table(title, lengths, noises, text,
                       after=" (PL002 (PL002 before the contradiction step) / SI001 / LR004 on the validation loss)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reps", nargs="?", type=int, default=100)
    ap.add_argument("--only", choices=("flat", "slow"), default=None)
    ap.add_argument("--fall", type=float, nargs="*", default=[0.01, 0.03, 0.05, 0.10])
    ap.add_argument("--tau", type=float, nargs="*", default=[0.15, 0.4, 1.0])
    ap.add_argument("--lengths", type=int, nargs="*", default=list(LENGTHS))
    ap.add_argument("--noise", type=float, nargs="*", default=list(NOISE))
    a = ap.parse_args()
    t0 = time.time()
    out = [f"Validation loss of n evaluations: share of {a.reps} seeded series with each finding "
           "(a noiseless cell is one series)", ""]
    if a.only in (None, "flat"):
        for ff in (0.5, 0.7):
            out += table(f"power: flat over the last {1 - ff:.0%} of the run", lambda t, ff=ff: flat_curve(t, ff),
                         a.reps, 11, a.lengths, a.noise)
    if a.only in (None, "slow"):
        for fall in a.fall:
            for tau in a.tau:
                out += table(f"last 30% falls {fall:.0%} of its level (tau {tau} of the run)",
                             lambda t, tau=tau, fall=fall: improving_curve(t, tau, fall), a.reps, 23,
                             a.lengths, a.noise)
    print("\n".join(out))
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
