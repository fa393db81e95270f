"""OS001's validation-swing route on simulated validation losses: healthy ones that settle near zero, and
ones that really swing, at several levels against the range the run covered.

    python benchmarks/quality/sim_val_swings.py               # 4 lengths x 3 floors x 3 sizes, both kinds
    python benchmarks/quality/sim_val_swings.py --reps 20

Each simulated run is a Keras-style CSV (``epoch,loss,val_loss``) of ``n`` epochs whose validation loss
falls as ``floor + (start - floor) * exp(-5 t)`` from ``start`` (0.2-2.3, a classifier's first loss):

- ``near_zero`` (healthy): the floor is 1e-2, 1e-3 or 1e-4 of the start (an accurate classifier) and the
  validation loss carries multiplicative noise of 0.3, 0.7 or 1.2 in log space -- near zero the loss is
  the hardest few examples' and their logits move it by factors, while it moves a sliver of the range;
- ``swinging``: the floor is 0.5, 0.2 or 0.05 of the start and the loss is multiplied by ``exp(+-A)``,
  alternating every evaluation, A = 0.3, 0.5 or 0.8 (changes of 1.8x-5x), plus 5% noise. At a floor of
  0.05 the swings are a few percent of the range the loss came down: by the labelling guide's "large
  relative to the trend" a borderline case, counted separately.

The table gives, per cell, the share of runs with an OS001 warning on the validation loss. A benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

LENGTHS = (10, 20, 50, 100)
NEAR_FLOORS = (1e-2, 1e-3, 1e-4)
NEAR_NOISE = (0.3, 0.7, 1.2)
SWING_FLOORS = (0.5, 0.2, 0.05)
SWING_SIZE = (0.3, 0.5, 0.8)


def run_csv(n: int, kind: str, floor_ratio: float, size: float, rng: np.random.Generator) -> str:
    t = np.arange(n) / max(n - 1, 1)
    start = float(rng.uniform(0.2, 2.3))
    floor = floor_ratio * start
    trend = floor + (start - floor) * np.exp(-5.0 * t)
    if kind == "near_zero":
        val = trend * np.exp(size * rng.standard_normal(n))
        val[0] = start
    else:
        sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) * (1 if rng.random() < 0.5 else -1)
        val = trend * np.exp(size * sign + 0.05 * rng.standard_normal(n))
    train = (1.2 * floor + (start - floor) * np.exp(-4.0 * t)) * np.exp(0.1 * rng.standard_normal(n))
    return "epoch,loss,val_loss\n" + "".join(f"{i},{a:.6g},{b:.6g}\n" for i, (a, b) in enumerate(zip(train, val)))


def val_warned(path: Path) -> bool:
    from lossdoc.checks.findings import Severity
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config
    from lossdoc.ingest import read

    runs, _ = run_checks(read(str(path)), Config(select=("OS001",)), summaries=False)
    return any(f.split == "val" and f.severity >= Severity.WARNING for r in runs for f in r.findings)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=10, help="runs per cell")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "history.csv"
        for kind, floors, sizes in (("near_zero", NEAR_FLOORS, NEAR_NOISE), ("swinging", SWING_FLOORS, SWING_SIZE)):
            for fr in floors:
                for sz in sizes:
                    hits = []
                    for n in LENGTHS:
                        k = 0
                        for _ in range(args.reps):
                            path.write_text(run_csv(n, kind, fr, sz, rng))
                            k += val_warned(path)
                        hits.append(k)
                    rows.append((kind, fr, sz, hits))
    print(f"## OS001 on simulated validation losses ({len(rows) * len(LENGTHS) * args.reps} runs, "
          f"{time.perf_counter() - t0:.0f} s)\n")
    print("| kind | floor / start | size | " + " | ".join(f"n={n}" for n in LENGTHS) + " | all |")
    print("|---|---:|---:|" + "---:|" * (len(LENGTHS) + 1))
    for kind, fr, sz, hits in rows:
        print(f"| {kind} | {fr:g} | {sz:g} | " + " | ".join(f"{h}/{args.reps}" for h in hits)
              + f" | {sum(hits)}/{args.reps * len(hits)} |")
    for kind in ("near_zero", "swinging"):
        sel = [r for r in rows if r[0] == kind]
        tot = sum(sum(r[3]) for r in sel)
        print(f"\n{kind}: {tot}/{len(sel) * len(LENGTHS) * args.reps} warned")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
