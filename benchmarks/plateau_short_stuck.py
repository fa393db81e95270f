"""PL001 ("stuck") on short training logs (5-19 points, an epoch-level history), since its short-series route
(rules/PL001.toml ``short-min-points``, ``min-share``, ``min-spread``): power on a loss flat from its first epoch,
and the false "stuck" rate on losses still falling steadily.

    python benchmarks/plateau_short_stuck.py [REPS]     # default 100 seeded series per cell; tables for benchmarks/README.md

Each series is one training loss of ``n`` points run through the whole rule set as a user runs it (``run_checks``
with the default config); a cell is the share of its series with a PL001 warning. Noise is additive iid Gaussian
with s.d. ``k`` x the level (0-2%: epoch means scatter little).

* **flat** (power): 1.0 throughout (a model that learns nothing: frozen weights, wrong targets, an LR of ~0).
* **falling** (false "stuck"): a straight fall by ``fall`` (3%, 5%, 10%) of the start over the run -- an LR too low
  or a run cut short; "stuck" says the model is not learning, which these are (LR004 / UF001 name them), so a
  warning here is false.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from plateau_power import noise_table, series_findings  # noqa: E402

LENGTHS = (5, 6, 8, 10, 14, 19)
NOISE = (0.0, 0.0025, 0.005, 0.01, 0.02)


def has_stuck(y: np.ndarray) -> bool:
    return any(f.rule == "PL001" and str(f.severity) == "warning" for f in series_findings(y))


def cell(fall: float, n: int, k: float, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    clean = 1.0 - fall * np.linspace(0.0, 1.0, n)
    reps = 1 if k == 0 else reps
    return sum(has_stuck(clean + k * rng.standard_normal(n)) for _ in range(reps)) / reps


def table(title: str, fall: float, reps: int, seed0: int) -> list[str]:
    return noise_table(title, LENGTHS, NOISE,
                       lambda i, n, k: f"{cell(fall, n, k, reps, seed0 + 7919 * i + int(k * 10000)):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reps", nargs="?", type=int, default=100)
    a = ap.parse_args()
    t0 = time.time()
    out = [f"PL001 warnings per {a.reps} seeded series (training loss, 5-19 points; a noiseless cell is one series)", ""]
    out += table("flat from the first point (power)", 0.0, a.reps, 1)
    for i, fall in enumerate((0.03, 0.05, 0.10)):
        out += table(f"falling steadily by {fall:.0%} of the start over the run (false 'stuck')", fall, a.reps, 100 + i)
    out.append(f"({time.time() - t0:.0f} s)")
    print("\n".join(out))


if __name__ == "__main__":
    main()
