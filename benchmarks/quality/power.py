"""Power of the trend test the rules use, by window length: what each rule's ``min-points`` buys.

    python benchmarks/quality/power.py            # table for rules/README.md ("Minimum lengths")

For n points (bin means) of a linear trend of total size ``delta`` plus AR(1) noise (phi 0.3, sd 1),
the share of 2,000 seeded series in which ``engine.robust_trend`` rejects "no trend" one-sided at
alpha. Below 12 points the rules use the exact Mann-Kendall test, whose smallest possible p-value is
1/n! (a perfectly monotone series): n = 4 is the first length that can reach 0.05, n = 5 the first
that can reach 0.01. Effect sizes are in noise standard deviations: ``delta = 3`` is a rise of three
point-noise s.d. across the window (a clear divergence on bin means), ``delta = 6`` a blatant one.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from lossdoc.checks.engine import robust_trend


def power(n: int, delta: float, alpha: float, reps: int, rng: np.random.Generator, phi: float = 0.3) -> float:
    hits = 0
    x = np.arange(n, dtype=float)
    for _ in range(reps):
        e = rng.normal(size=n)
        for i in range(1, n):
            e[i] += phi * e[i - 1]
        y = delta * x / max(n - 1, 1) + e * math.sqrt(1 - phi**2)
        r = robust_trend(x, y)
        hits += bool(r is not None and r.pvalue_increasing < alpha)
    return hits / reps


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rng = np.random.default_rng(2026)
    ns = (4, 5, 6, 8, 10, 12, 16, 24)
    print("| n | smallest exact p (1/n!) | " + " | ".join(
        f"power d={d:g} a={a:g}" for d in (3, 6) for a in (0.05, 0.01)) + " | size at d=0, a=0.05 |")
    print("|---:|---:|" + "---:|" * 5)
    for n in ns:
        pmin = 1 / math.factorial(n) if n < 12 else float("nan")
        cells = [power(n, d, a, reps, rng) for d in (3, 6) for a in (0.05, 0.01)]
        size = power(n, 0.0, 0.05, reps, rng)
        pm = f"{pmin:.2g}" if pmin == pmin else "(HAC + Hamed-Rao MK)"
        print(f"| {n} | {pm} | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {size:.3f} |")


if __name__ == "__main__":
    main()
