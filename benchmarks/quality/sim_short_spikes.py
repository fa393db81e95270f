"""SP001's short-series route (8-29 points, no trailing window) on simulated short training logs: healthy
ones with per-batch (multiplicative) noise, healthy ones with epoch-level (additive) noise, and epoch-level
ones with one spike.

    python benchmarks/quality/sim_short_spikes.py            # 4 lengths x 3 noise sizes x 3 kinds
    python benchmarks/quality/sim_short_spikes.py --reps 100

Each simulated run is a CSV (``step,loss``) of ``n`` points of a loss falling as
``floor + (start - floor) * exp(-rate t)`` (start 1-5, floor 2-30% of it, rate 3-8), with:

- ``per_batch`` (healthy): multiplicative noise, log-normal with s.d. 0.2, 0.5 or 0.9 in log space (one
  batch's loss: right-skewed, large while the loss is high) -- a loss logged once per 50 steps;
- ``epoch`` (healthy): additive Student-t(3) noise of 1%, 2.5% or 5% of the range (an epoch mean, heavy
  tails included);
- ``spiked``: the ``epoch`` curve with 1% noise and one point between 25% and 75% of the run multiplied by
  1.5, 2 or 3 (the step a labeller calls a spike).

The table gives, per cell, the share of runs with an SP001 warning. A benchmark, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simgrid import grid_main  # noqa: E402

LENGTHS = (8, 10, 15, 29)
KINDS = {"per_batch": (0.2, 0.5, 0.9), "epoch": (0.01, 0.025, 0.05), "spiked": (1.5, 2.0, 3.0)}


def run_csv(n: int, kind: str, size: float, rng: np.random.Generator) -> str:
    t = np.arange(n) / max(n - 1, 1)
    start = float(rng.uniform(1.0, 5.0))
    floor = float(rng.uniform(0.02, 0.3)) * start
    y = floor + (start - floor) * np.exp(-float(rng.uniform(3.0, 8.0)) * t)
    if kind == "per_batch":
        y = y * np.exp(size * rng.standard_normal(n))
    else:
        noise = size if kind == "epoch" else 0.01
        y = np.maximum(y + noise * (start - floor) * rng.standard_t(3, n) / np.sqrt(3.0), 0.01 * floor)
        if kind == "spiked":
            i = int(rng.integers(max(1, n // 4), max(2, 3 * n // 4)))
            y[i] *= size
    return "step,loss\n" + "".join(f"{(i + 1) * 50},{v:.6g}\n" for i, v in enumerate(y))


def main(argv: list[str] | None = None) -> int:
    return grid_main(argv, description=__doc__.split("\n\n")[0], title="SP001 on simulated short logs", rule="SP001",
                     file_name="loss.csv", kinds=KINDS, lengths=LENGTHS, run_csv=run_csv, reps=50, seed=11)


if __name__ == "__main__":
    raise SystemExit(main())
