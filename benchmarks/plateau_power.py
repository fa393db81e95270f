"""PL002 ("converged early") on simulated curves: its power on flat tails and its false-plateau rate on curves
still clearly improving, against the labelling guide's definition of a plateau.

    python benchmarks/plateau_power.py [REPS]        # default 100 seeded series per cell; table for benchmarks/README.md
    python benchmarks/plateau_power.py 40 --val      # the same curves as a validation loss (train falling beside it)

The guide (benchmarks/publiclogs/reviews/GUIDE.md): "plateau: no meaningful improvement over a long trailing
window (e.g. last >= 30% of the run changes the loss by < ~2% of its level), in train or val".

Each series is one loss of ``n`` points (steps 0..n-1, as logged; lossdoc bins more than 400 points), run
through the whole rule set as a user runs it (``run_checks`` with the default config, so false-alarm control
and the contradiction rules apply); a cell's figure is the share of its series with a PL002 note on that loss.

* **flat**: an exponential fall from 3x its level to the level that ends at ``flat_from`` of the run
  (``1 + 2 exp(-t / tau)``, its remaining change there 0.05% of the level), then flat: the last
  ``1 - flat_from`` of the run changes the loss by nothing but noise. Power.
* **improving**: ``L + A exp(-t / tau)`` whose last 30% of the run still falls by exactly 5% of the level
  over it (the window's mean), for three curvatures (tau 0.15, 0.4, 1.0 of the run; A solved for the 5%):
  a plateau claim on it is false. The false-plateau rate must stay <= 5% in every cell.

Noise: additive, standard deviation ``k`` x the level (5-40%), iid Gaussian or AR(1) with phi 0.5 (the same
marginal s.d.), or heavy-tailed ("t3": Student t with 3 df scaled to s.d. ``k``, iid), standing for per-step
losses whose batches scatter. Lengths 8-5000 points.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from scipy.optimize import brentq

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.model import make_frame
from lossdoc.testing import synth_logset

LENGTHS = (8, 12, 20, 40, 100, 400, 1000, 5000)
NOISE = (0.05, 0.1, 0.2, 0.4)
KINDS = ("iid", "ar0.5", "t3")


def noise(rng: np.random.Generator, n: int, k: float, kind: str) -> np.ndarray:
    if kind == "t3":
        return k * rng.standard_t(3, size=n) / math.sqrt(3.0)  # t3 has variance 3
    phi = 0.5 if kind == "ar0.5" else 0.0
    e = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + math.sqrt(1 - phi * phi) * e[i]
    return k * out


def flat_curve(t: np.ndarray, flat_from: float) -> np.ndarray:
    tau = flat_from / math.log(2 / 5e-4)  # 2 exp(-flat_from / tau) = 0.05% of the level
    return 1.0 + 2.0 * np.exp(-t / tau)


def improving_curve(t: np.ndarray, tau: float, fall: float = 0.05) -> np.ndarray:
    """1 + A exp(-t/tau) whose last 30% falls by ``fall`` of its mean over that window (continuous time)."""
    def gap(a: float) -> float:
        drop = a * (math.exp(-0.7 / tau) - math.exp(-1.0 / tau))
        mean = 1.0 + a * tau * (math.exp(-0.7 / tau) - math.exp(-1.0 / tau)) / 0.3
        return drop / mean - fall
    a = brentq(gap, 1e-6, 1e6)
    return 1.0 + a * np.exp(-t / tau)


def series_findings(y: np.ndarray, val: bool = False) -> list:
    """Every finding of the whole rule set (default config, as a user runs it) on ``y`` logged at steps 0..n-1 as
    the training loss, or with ``val`` as the validation loss beside a training loss that keeps falling."""
    n = y.size
    st = np.arange(n)
    cols = {"run": "sim", "step": st}
    if val:
        # the training loss keeps falling (the validation loss stopped improving while it did)
        tr = 0.5 + 1.5 * np.exp(-np.linspace(0, 1, n) / 0.5)
        frame = make_frame({**cols, "split": "train", "metric": "loss", "name": "loss", "value": tr})
        import polars as pl
        frame = pl.concat([frame, make_frame({**cols, "split": "val", "metric": "loss", "name": "val_loss",
                                              "value": y})])
    else:
        frame = make_frame({**cols, "split": "train", "metric": "loss", "name": "loss", "value": y})
    runs, _ = run_checks(synth_logset(frame), Config(), summaries=False)
    return [f for r in runs for f in r.findings]


def has_note(y: np.ndarray, val: bool) -> bool:
    split = "val" if val else "train"
    return any(f.rule == "PL002" and (f.split or "train") == split for f in series_findings(y, val))


def noise_table(title: str, lengths, noises, cell_text, after: str = "") -> list[str]:
    """A Markdown table under ``**title**`` (then ``after``): one row per iid noise level, one column per series
    length, each cell ``cell_text(i, n, k)`` (``i`` the length's position); every row echoed to stderr when done."""
    lines = [f"**{title}**{after}", "", "| noise | " + " | ".join(f"n={n}" for n in lengths) + " |",
             "|---|" + "---:|" * len(lengths)]
    for k in noises:
        lines.append(f"| iid {k:.2%} | " + " | ".join(cell_text(i, n, k) for i, n in enumerate(lengths)) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines + [""]


def cell(curve: np.ndarray | None, make, n: int, k: float, kind: str, reps: int, seed: int, val: bool) -> float:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    hits = 0
    for _ in range(reps):
        clean = make(t)
        hits += has_note(clean + noise(rng, n, k, kind), val)
    return hits / reps


def table(title: str, make, reps: int, val: bool, seed0: int) -> list[str]:
    lines = [f"**{title}**", "", "| noise | " + " | ".join(f"n={n}" for n in LENGTHS) + " |",
             "|---|" + "---:|" * len(LENGTHS)]
    for kind in KINDS:
        for k in NOISE:
            row = [f"{cell(None, make, n, k, kind, reps, seed0 + 7919 * i + int(k * 1000), val):.2f}"
                   for i, n in enumerate(LENGTHS)]
            lines.append(f"| {kind} {k:.0%} | " + " | ".join(row) + " |")
            print(lines[-1], file=sys.stderr, flush=True)
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reps", nargs="?", type=int, default=100)
    ap.add_argument("--val", action="store_true", help="test the curves as a validation loss")
    ap.add_argument("--only", choices=("flat", "improving"), default=None)
    ap.add_argument("--flat-from", type=float, nargs="*", default=[0.5, 0.65], help="where the flat tail starts")
    ap.add_argument("--tau", type=float, nargs="*", default=[0.15, 0.4, 1.0], help="improving curves' time constants")
    a = ap.parse_args()
    t0 = time.time()
    out = [f"PL002 notes per {a.reps} seeded series ({'validation' if a.val else 'training'} loss)", ""]
    if a.only in (None, "flat"):
        for ff in a.flat_from:
            out += table(f"power: flat over the last {1 - ff:.0%} of the run (share of series with a note)",
                         lambda t, ff=ff: flat_curve(t, ff), a.reps, a.val, 11)
    if a.only in (None, "improving"):
        for tau in a.tau:
            out += table(f"false plateaus: last 30% still falls 5% of its level (tau {tau} of the run)",
                         lambda t, tau=tau: improving_curve(t, tau), a.reps, a.val, 23)
    print("\n".join(out))
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
