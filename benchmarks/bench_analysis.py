"""Time every analysis primitive at 10^4 .. 10^7 points and print how the time grows.

Usage::

    python benchmarks/bench_analysis.py            # 10^4 .. 10^7
    python benchmarks/bench_analysis.py --max-exp 6 --only ema_debiased,bin_series

Each primitive runs on a synthetic loss curve (power law + AR(1) noise + a few spikes + a
NaN). The ratio column is time(10 n) / time(n): ~10 means linear, below 10 means the cost is
dominated by fixed work or by a bounded down-sample (fits, LOWESS, Mann-Kendall), above 10
means super-linear. Times are CPU seconds of this process (``time.process_time``, best of
``--repeat``), which a busy shared machine disturbs far less than wall time. No assertion:
these are numbers for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from scipy import signal


def make_curve(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1, dtype=np.float64)
    noise = signal.lfilter([1.0], [1.0, -0.7], rng.normal(scale=0.02, size=n))
    y = 2.0 + 5.0 * (t / n * 10_000 + 10.0) ** -0.5 + noise
    y[rng.choice(n, 5, replace=False)] += 3.0
    y[n // 3] = np.nan
    return t, y


def primitives() -> dict[str, Callable[[np.ndarray, np.ndarray], object]]:
    from lossdoc.analysis import downsample, fitting, smoothing, stats

    return {
        "ema_debiased": lambda t, y: smoothing.ema_debiased(y, 0.9),
        "time_weighted_ema": lambda t, y: smoothing.time_weighted_ema(t, y, t.size / 100),
        "lowess": lambda t, y: smoothing.lowess(t, y, frac=0.1),
        "savgol": lambda t, y: smoothing.savgol(y, 101),
        "rolling_median(101)": lambda t, y: smoothing.rolling_median(y, 101),
        "rolling_mad(101)": lambda t, y: smoothing.rolling_mad(y, 101),
        "robust_zscore(101)": lambda t, y: smoothing.robust_zscore(y, 101),
        "bin_series(2000)": lambda t, y: downsample.bin_series(t, y, 2000),
        "downsample_for_fit": lambda t, y: downsample.downsample_for_fit(t, y),
        "fit_curve": lambda t, y: fitting.fit_curve(t, y),
        "extrapolate(+backtest)": lambda t, y: fitting.extrapolate(t, y, 2 * t.size),
        "trend_test": lambda t, y: stats.trend_test(t, y),
        "equivalence_slope": lambda t, y: stats.equivalence_slope(t, y, 1e-6),
        "mann_kendall": lambda t, y: stats.mann_kendall(y),
        "change_point": lambda t, y: stats.change_point(y),
        "effective_sample_size": lambda t, y: stats.effective_sample_size(y),
        "block_bootstrap(mean,100)": lambda t, y: stats.block_bootstrap(
            y, np.mean, n_boot=100, rng=0, vectorized=True
        ),
        "adjust_pvalues(bh)": lambda t, y: stats.adjust_pvalues(np.abs(y) % 1.0, "bh"),
    }


def timeit(fn: Callable[[], object], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-exp", type=int, default=4)
    ap.add_argument("--max-exp", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=2, help="best of N runs (default 2)")
    ap.add_argument("--only", default="", help="comma-separated primitive names")
    args = ap.parse_args()
    sizes = [10**e for e in range(args.min_exp, args.max_exp + 1)]
    prims = primitives()
    if args.only:
        wanted = set(args.only.split(","))
        prims = {k: v for k, v in prims.items() if k in wanted}
    curves = {n: make_curve(n) for n in sizes}
    for fn in prims.values():  # warm-up: imports (statsmodels ~1.5 s), caches
        fn(*curves[sizes[0]])
    head = f"{'primitive':<26}" + "".join(f"{'n=1e%d' % round(math.log10(n)):>11}" for n in sizes)
    head += "  ratios t(10n)/t(n)"
    print(head)
    print("-" * len(head))
    for name, fn in prims.items():
        times = []
        for n in sizes:
            t, y = curves[n]
            times.append(timeit(lambda: fn(t, y), args.repeat if n < 10**7 else 1))
        ratios = " ".join(f"{b / a:5.1f}" for a, b in zip(times, times[1:]))
        print(f"{name:<26}" + "".join(f"{x:10.4f}s" for x in times) + f"  {ratios}", flush=True)


if __name__ == "__main__":
    main()
