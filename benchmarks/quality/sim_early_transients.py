"""SP001 on jumps before a trailing window has its history: simulated runs of 30-120 points, healthy or with one
transient (1-2 points several times the level, then back) among the first points.

    python benchmarks/quality/sim_early_transients.py            # 3 lengths x 3 sizes x 6 kinds
    python benchmarks/quality/sim_early_transients.py --reps 50

Each run is a CSV (``step,train_loss,val_loss``) of ``n`` points of a training loss falling as
``floor + (start - floor) * exp(-rate t)`` (start 1-5, floor 5-40% of it, rate 3-8) with a validation loss
falling the same way 5-20% above it. The kinds:

- ``healthy``: multiplicative noise of s.d. 0.02, 0.1 or 0.3 in log space on the validation loss (log
  Student-t(3): heavy tails) and 0.3 on the training loss (one batch's loss);
- ``val_rises_first``: healthy (0.05 noise), with the validation loss rising 1.1x, 1.3x or 1.6x over its first
  value at its 2nd-3rd evaluations before it falls (a fresh head, BatchNorm statistics settling): a bump, not
  a labeller's spike (which is >= 2x the local level);
- ``val_transient``: healthy (0.05 noise), with 1 or 2 consecutive evaluations among the 2nd-9th multiplied by
  2, 4 or 8 (a validation loss jumping and coming straight back, as a YOLO run's did at epochs 4-5 of 100);
- ``train_transient``: the same on the training loss among its 2nd-5th points (before SP001's early-history
  route has 5 points), the training loss with 0.05 noise;
- ``per_batch``: healthy with the training loss's noise 0.5, 0.9 or 1.3 in log space (a small batch: single
  batches land far above the median).

The table gives, per cell, the share of runs with an SP001 warning. A benchmark, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simgrid import grid_main  # noqa: E402

LENGTHS = (30, 60, 120)
KINDS = {"healthy": (0.02, 0.1, 0.3), "val_rises_first": (1.1, 1.3, 1.6), "val_transient": (2.0, 4.0, 8.0),
         "train_transient": (2.0, 4.0, 8.0), "per_batch": (0.5, 0.9, 1.3)}


def run_csv(n: int, kind: str, size: float, rng: np.random.Generator) -> str:
    t = np.arange(n) / max(n - 1, 1)
    start = float(rng.uniform(1.0, 5.0))
    floor = float(rng.uniform(0.05, 0.4)) * start
    trend = floor + (start - floor) * np.exp(-float(rng.uniform(3.0, 8.0)) * t)
    val_sd = size if kind == "healthy" else 0.05
    train_sd = size if kind == "per_batch" else 0.3 if kind == "healthy" else 0.05
    train = trend * np.exp(train_sd * rng.standard_normal(n))
    val = trend * float(rng.uniform(1.05, 1.2)) * np.exp(val_sd * rng.standard_t(3, n) / np.sqrt(3.0))
    if kind == "val_rises_first":
        val[1:3] = val[0] * size * np.exp(0.05 * rng.standard_normal(2))
    elif kind in ("val_transient", "train_transient"):
        y = val if kind == "val_transient" else train
        i = int(rng.integers(1, 9 if kind == "val_transient" else 5))
        y[i:i + int(rng.integers(1, 3))] *= size
    return "step,train_loss,val_loss\n" + "".join(f"{i + 1},{a:.6g},{b:.6g}\n" for i, (a, b) in enumerate(zip(train, val)))


def main(argv: list[str] | None = None) -> int:
    return grid_main(argv, description=__doc__.split("\n\n")[0], title="SP001 on simulated runs with early transients", rule="SP001",
                     file_name="run.csv", kinds=KINDS, lengths=LENGTHS, run_csv=run_csv, reps=30, seed=17)


if __name__ == "__main__":
    raise SystemExit(main())
