"""Error rates of the CI regression gate (lossdoc.compare) on seeded synthetic run pairs.

False-regression rate: same configuration, different seeds (different noise AND a seed-to-seed
shift of the asymptote). Detection rate: the candidate's curve is 3% worse (multiplicative).
Runs: power law 2 + 3(1 + t/100)^-0.5 plus a per-seed early transient N(0, 0.3)·exp(-t/50) with AR(1) noise (phi 0.7, sd 0.03) and occasional
recovering spikes; lengths 1,000 / 3,000 / 10,000 steps; one baseline and three baseline seeds.

    python benchmarks/bench_compare.py [--pairs 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.signal import lfilter

from lossdoc.compare import Curve, RunCurves, compare_runs


def run(seed: int, n: int, worse: float = 0.0, seed_sd: float = 0.002, noise: float = 0.03) -> RunCurves:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    e = lfilter([1.0], [1.0, -0.7], rng.normal(0, noise, n))
    level = 2.0 * (1 + rng.normal(0, seed_sd))
    early = rng.normal(0, 0.3) * np.exp(-t / 50)  # seeds differ most in the early transient
    y = (level + 3 * (1 + t / 100) ** -0.5 + early) * (1 + worse) + e
    for at in rng.integers(n // 10, n, size=max(1, n // 2000)):  # spikes that recover
        k = np.arange(n - at)
        y[at:] += 1.5 * np.exp(-k / 5.0)
    return RunCurves(f"s{seed}", "synthetic", "synthetic", Curve(t, y), None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=200)
    args = ap.parse_args()
    rows = []
    # (label, AR(1) innovation sd, seed-to-seed sd of the asymptote, relative)
    scenarios = [("moderate", 0.03, 0.002), ("hard", 0.10, 0.005)]
    for label, noise, seed_sd in scenarios:
        for n in (1000, 3000, 10000):
            for k in (1, 3):
                t0 = time.perf_counter()
                fp = det = 0
                for s in range(args.pairs):
                    bases = [run(10_000 + 100 * s + j, n, seed_sd=seed_sd, noise=noise) for j in range(k)]
                    fp += compare_runs(run(s, n, seed_sd=seed_sd, noise=noise), bases, 0.01)["regressed"]
                    det += compare_runs(run(50_000 + s, n, worse=0.03, seed_sd=seed_sd, noise=noise), bases,
                                        0.01)["regressed"]
                dt = (time.perf_counter() - t0) / (2 * args.pairs)
                rows.append((label, n, k, fp / args.pairs, det / args.pairs, dt))
                print(f"{label:<9} steps {n:>6}  baselines {k}  false-regression {fp / args.pairs:6.1%}  "
                      f"detection(3% worse) {det / args.pairs:6.1%}  {dt * 1000:6.1f} ms/comparison", flush=True)
    print("\n| noise | steps | baseline runs | false-regression rate (same config) | detection rate (3% worse) "
          "| ms per comparison |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, k, fp, det, dt in rows:
        print(f"| {label} | {n:,} | {k} | {fp:.1%} | {det:.1%} | {dt * 1000:.0f} |")


if __name__ == "__main__":
    main()
