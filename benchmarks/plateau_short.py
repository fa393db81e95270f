"""PL002 ("converged early") on short training logs (5-9 points, an epoch-level history): its power on a fall
then a flat tail, and its false-plateau rate on curves still falling, since the short-series route (rules/PL002.toml
``min-spread``; a 5-point log's last 75% tested; a short window demonstrably falling but whose values span < 2% of
its level is converged).

    python benchmarks/plateau_short.py [REPS]        # default 200 seeded series per cell; tables for benchmarks/README.md

Each series is one training loss of ``n`` points (steps 0..n-1) run through the whole rule set as a user runs it
(``benchmarks/plateau_power.py``'s ``has_note``: ``run_checks`` with the default config). Noise is additive iid
Gaussian with s.d. ``k`` x the level (0-2%: epoch means scatter little).

* **flat** (power): ``1 + 2 exp(-t / tau)`` with its remaining change at ``flat_from`` of the run 0.05% of the
  level, then flat (plateau_power.py's ``flat_curve``).
* **improving** (false plateaus): ``1 + A exp(-t / tau)`` whose last 30% of the run still falls by ``fall`` (5%, and
  10%) of the level, tau 0.15, 0.4, 1.0 of the run. The labelling guide's plateau is a last >= 30% that changes by
  < ~2%; a note on these is false, and must come in <= 5% of series in every cell.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from plateau_power import flat_curve, has_note, improving_curve, noise_table  # noqa: E402

LENGTHS = (5, 6, 7, 8, 9)
NOISE = (0.0, 0.0025, 0.005, 0.01, 0.02)


def cell(make, n: int, k: float, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    clean = make(t)
    reps = 1 if k == 0 else reps  # a noiseless series is the same every time
    hits = sum(has_note(clean + k * clean[-1] * rng.standard_normal(n), False) for _ in range(reps))
    return hits / reps


def table(title: str, make, reps: int, seed0: int) -> list[str]:
    return noise_table(title, LENGTHS, NOISE,
                       lambda i, n, k: f"{cell(make, n, k, reps, seed0 + 7919 * i + int(k * 10000)):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reps", nargs="?", type=int, default=200)
    ap.add_argument("--only", choices=("flat", "improving"), default=None)
    a = ap.parse_args()
    t0 = time.time()
    out = [f"PL002 notes per {a.reps} seeded series (training loss, 5-9 points; a noiseless cell is one series)", ""]
    if a.only in (None, "flat"):
        for ff in (0.3, 0.5):
            out += table(f"power: flat over the last {1 - ff:.0%} of the run", lambda t, ff=ff: flat_curve(t, ff),
                         a.reps, 11)
    if a.only in (None, "improving"):
        for fall in (0.05, 0.10):
            for tau in (0.15, 0.4, 1.0):
                out += table(f"false plateaus: last 30% still falls {fall:.0%} of its level (tau {tau} of the run)",
                             lambda t, tau=tau, fall=fall: improving_curve(t, tau, fall), a.reps, 23)
    print("\n".join(out))
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
