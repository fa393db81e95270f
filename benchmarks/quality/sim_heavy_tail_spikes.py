"""How often a single batch of a per-batch loss earns SP001's one-point log-space test by chance, with and without
the series' own tail (``spike.tail_log_z``), and whether a real one-point jump still does.

    python benchmarks/quality/sim_heavy_tail_spikes.py [--reps 200] [--points 5000]

Each run is a slowly decaying loss (2.3 -> 1.9) times exp(noise), the noise i.i.d. per batch: Gaussian (sd 0.1),
or right-skewed heavy-tailed (a Gumbel, the log of a per-batch cross-entropy that is a max-like statistic, and a
Student-t(3), both scaled to the same MAD). For each run: the largest log-space z of any point against its
trailing 50 (SP001's ``_log_z`` measure), whether it reaches 6 (the old one-point test) and whether it reaches
max(6, tail_log_z) (the new one); and, with a 3x jump injected at one batch of a Gaussian run, whether that jump
still passes. Printed: the share of runs with a chance "spike" under each test, and the injected jump's pass rate.

Result (--reps 40 --points 3000, seed 0): a chance one-point "spike" (log z >= 6) in 0% of Gaussian runs (0% with
the tail), 97.5% of Gumbel runs (7.5% with the tail), 100% of Student-t(3) runs (62.5% with the tail: an exponential
tail in log space under-reads a power-law one, so such noise still gives some notes-that-should-be -- the fit is a
floor, not a cure); a 3x one-batch jump in Gaussian noise passes in 100% (97.5% with the tail). The image-captioning
logs of the public dev half match the exponential fit (3ZadeSSG: 11 points above log z 6 observed, 12 predicted).
"""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import numpy as np

from lossdoc.checks.detectors.spike import _log_z, tail_log_z


class _S:
    def __init__(self, v: np.ndarray) -> None:
        self.v, self.key, self.name = v, ("r", "train", "loss"), "loss"

    def finite(self) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(self.v.size), self.v


def _max_log_z(v: np.ndarray, w: int = 50) -> float:
    return max(_log_z(v, i, i, w) or 0.0 for i in range(w, v.size))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--points", type=int, default=5000)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    n = a.points
    trend = np.linspace(np.log(2.3), np.log(1.9), n)
    noises = {
        "gaussian": lambda: rng.normal(0, 0.1, n),
        "gumbel": lambda: rng.gumbel(0, 0.1 / 0.767, n),   # MAD of a standard Gumbel ~0.767
        "student-t3": lambda: rng.standard_t(3, n) * 0.1 / 0.765,  # MAD of t(3) ~0.765
    }
    for name, draw in noises.items():
        old = new = 0
        for _ in range(a.reps):
            v = np.exp(trend + draw())
            z = _max_log_z(v)
            t = tail_log_z(SimpleNamespace(_cache={}), _S(v), 50, 0.01, 1000)
            old += z >= 6
            new += z >= max(6.0, t if t is not None else 6.0)
        print(f"{name:11s} runs with a chance one-point 'spike': z>=6 {old / a.reps:.1%}   z>=max(6, tail) {new / a.reps:.1%}")
    hit_old = hit_new = 0
    for _ in range(a.reps):
        v = np.exp(trend + noises["gaussian"]())
        i = int(rng.integers(n // 5, n - 10))
        v[i] *= 3.0
        z = _log_z(v, i, i, 50) or 0.0
        t = tail_log_z(SimpleNamespace(_cache={}), _S(v), 50, 0.01, 1000)
        hit_old += z >= 6
        hit_new += z >= max(6.0, t if t is not None else 6.0)
    print(f"a 3x one-batch jump in Gaussian noise passes: z>=6 {hit_old / a.reps:.1%}   z>=max(6, tail) {hit_new / a.reps:.1%}")


if __name__ == "__main__":
    main()
