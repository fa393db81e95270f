"""Speed of all checks (every built-in rule + the run summary with its curve fit) on long series.

    python benchmarks/bench_checks.py            # 10^5, 10^6 and 10^7 points
    python benchmarks/bench_checks.py 1000000    # one size

Targets: 10^6 points < 2 s, 10^7 < 15 s (spike and non-finite checks run on the full-resolution
series in O(n log w); trends, plateau, oscillation and fits on <= 400 bin means).
Each size is a seeded synthetic run (power law + AR(1) noise + warm-up + cosine schedule + a few
spikes, with lr and grad-norm series, so three series of n points each).
"""

from __future__ import annotations

import sys
import time

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.testing import synth_logset

TARGETS = {10**6: 2.0, 10**7: 15.0}


def bench(n: int) -> float:
    logset = synth_logset(steps=n, seed=1, warmup=n // 100, log_grad_norm=True, val_every=n // 100,
                          inject=[{"kind": "spike", "at": 0.4, "factor": 3.0, "recover": 50},
                                  {"kind": "spike", "at": 0.7, "factor": 2.0, "recover": 20}])
    t = time.perf_counter()
    runs, _ = run_checks(logset, Config())
    dt = time.perf_counter() - t
    rules = sorted({f.rule for f in runs[0].findings})
    target = TARGETS.get(n)
    verdict = "" if target is None else f"  target < {target:g} s: {'ok' if dt < target else 'MISSED'} ({dt / target:.2f}x)"
    print(f"{n:>11,} points  {dt:6.2f} s  findings {', '.join(rules) or '-'}{verdict}")
    return dt


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [10**5, 10**6, 10**7]
    for n in sizes:
        bench(n)
