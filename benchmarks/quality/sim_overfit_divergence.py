"""Power and false-alarm rate of the overfitting (OF001) and divergence (DV001/DV002) rules on simulated
curves of the labelling guide's sizes (benchmarks/publiclogs/reviews/GUIDE.md).

    python benchmarks/quality/sim_overfit_divergence.py            # every table, 30 seeded runs a cell
    python benchmarks/quality/sim_overfit_divergence.py --reps 100 --only of-power

The guide's definitions, which the simulated problems meet by construction:

- overfitting: "validation loss reaches its minimum well before the end (before ~80% of the run) and then
  rises by a clear margin (e.g. >= 5% of its own level or >= 10% of its range) while training loss keeps
  falling";
- divergence: "the TRAINING loss rises in a sustained way (ends clearly above its best, e.g. >= 10% of the
  range it covered, for a good part of the run), or explodes (>= ~10x its early level)".

Every simulated run is written as a log (keras-csv for epoch-level runs, a step/loss CSV for step-level ones),
read and checked with every rule at its defaults, as a user runs ``lossdoc analyze``. A category is
*detected* as the quality benchmark scores it (benchmarks/quality/run.py: a finding of the category at
warning or above, or from a rule whose default severity is info); a healthy run is *warned* when the rule
gives it a warning. Cells: number of points, the point noise (s.d. as a share of the loss level at the
minimum: 1%, 3%, 10%), the size of the problem, the loss's offset (a classifier falling 2.3 -> 0.5, a
language model at 3 nats, a near-zero loss ending at 0.05, a loss falling two orders of magnitude 5000 -> 50 like an
un-normalised regression MSE). The tables go to benchmarks/README.md
("Overfitting and divergence on simulated curves of the guide's sizes"). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lossdoc.checks.findings import Severity
from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet
from lossdoc.checks.rulefile import load_rules

#: rules whose info findings the quality benchmark counts as a detection (as benchmarks/quality/run.py)
INFO_RULES = {r.id for r in load_rules().values() if r.severity == Severity.INFO} - {"GP002"}

#: (start, level at the minimum) of the three loss scales
SCALES = {"classifier": (2.3, 0.5), "lm-offset": (10.0, 3.0), "near-zero": (2.3, 0.05), "decades": (5000.0, 50.0)}


#: rule parameter overrides (``--set DV001.min-points=5``), to try a threshold before changing it
OVERRIDES: dict[str, dict[str, float]] = {}


def findings(text: str, fmt: str) -> list:
    ls = LogSet([read_input(from_bytes(text.encode(), "sim.csv"), fmt)])
    runs, _ = run_checks(ls, Config(rules=OVERRIDES), summaries=False)
    return [f for r in runs for f in r.findings]


def detected(fs: list, category: str) -> bool:
    return any(f.category == category and (f.severity >= Severity.WARNING or f.rule in INFO_RULES) for f in fs)


def warned_by(fs: list, rules: tuple[str, ...]) -> bool:
    return any(f.rule in rules and f.severity >= Severity.WARNING for f in fs)


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.normal(size=n)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + np.sqrt(1 - phi * phi) * e[i]
    return e


def _descent(n: int, start: float, low: float, tau: float) -> np.ndarray:
    """start -> low, exponential with time constant tau (a share of the run)."""
    t = np.arange(n) / max(n - 1, 1)
    return low + (start - low) * np.exp(-t / tau)


def epoch_csv(train: np.ndarray, val: np.ndarray) -> str:
    return "epoch,loss,val_loss\n" + "".join(f"{i},{a:.6g},{b:.6g}\n" for i, (a, b) in enumerate(zip(train, val)))


def step_csv(train: np.ndarray, lr: np.ndarray | None = None) -> str:
    if lr is None:
        return "step,loss\n" + "".join(f"{(i + 1) * 10},{a:.6g}\n" for i, a in enumerate(train))
    return "step,loss,lr\n" + "".join(f"{(i + 1) * 10},{a:.6g},{b:.6g}\n" for i, (a, b) in enumerate(zip(train, lr)))


# -- overfitting ---------------------------------------------------------------------------------------------
def overfit_run(rng: np.random.Generator, n: int, noise: float, rise: float, scale: str, at: float = 0.4,
                phi: float = 0.0) -> str:
    """Train falls for the whole run; val falls to its minimum at ``at`` of the run, then rises linearly by
    ``rise`` of its level at the minimum to the end (``rise`` 0: it stays at the minimum: healthy).
    Point noise ``noise`` x the level at the minimum (val) and x the train level (train, a third as noisy)."""
    start, low = SCALES[scale]
    t = np.arange(n) / max(n - 1, 1)
    tlow = low * 0.3 if scale != "lm-offset" else low * 0.8
    train = _descent(n, start, tlow, 0.3)
    train = train * (1 + noise / 3 * rng.normal(size=n))
    m = max(1, int(round(at * (n - 1))))
    # fast enough to be within 1/15 of the level (the classifier's 6.6%) by the minimum on every scale: a
    # loss that falls by orders of magnitude (near-zero, decades) would otherwise still be far above its
    # level there and drop onto it in one step
    val = _descent(n, start, low, max(at, 1e-3) / max(4.0, np.log(15 * (start - low) / low)))
    post = t > t[m]
    val[post] = low * (1 + rise * (t[post] - t[m]) / (1 - t[m]))
    val[:m + 1] = np.maximum(val[:m + 1], low)
    val = val + noise * low * ar1(rng, n, phi)
    return epoch_csv(np.maximum(train, 1e-6) if scale != "lm-offset" else train, np.maximum(val, 1e-6))


# -- divergence ----------------------------------------------------------------------------------------------
def diverge_run(rng: np.random.Generator, n: int, noise: float, rise: float, scale: str, at: float = 0.5,
                heavy: bool = False) -> str:
    """Train falls to its best at ``at`` of the run, then rises linearly by ``rise`` of the range it covered
    (start - best) by the end and stays there (``rise`` 0: healthy, flat from the best on)."""
    start, low = SCALES[scale]
    t = np.arange(n) / max(n - 1, 1)
    y = _descent(n, start, low, at / 4)
    m = max(1, int(round(at * (n - 1))))
    y[:m + 1] = np.maximum(y[:m + 1], low)
    post = t > t[m]
    y[post] = low + rise * (start - low) * (t[post] - t[m]) / (1 - t[m])
    e = rng.standard_t(3, size=n) / np.sqrt(3) if heavy else rng.normal(size=n)
    y = y * (1 + noise * e) if scale != "lm-offset" else y + noise * low * e
    return step_csv(np.maximum(y, 1e-6))


def healthy_train(rng: np.random.Generator, n: int, noise: float, kind: str) -> str:
    """Healthy training losses that DV001 must not call divergence:
    ``noisy``: a falling loss with heavy-tailed (t3) noise of ``noise`` x its level;
    ``running-mean``: a per-batch loss logged as the running mean since the epoch began (10 epochs);
    ``gan``: a loss oscillating around a constant level (a GAN's generator: +-20%, 3 cycles) with noise;
    ``warmup``: the loss rises 20% of the range during an LR warm-up (first 10%), then falls (lr logged)."""
    start, low = SCALES["classifier"]
    t = np.arange(n) / max(n - 1, 1)
    base = _descent(n, start, low, 0.25)
    lr = None
    if kind == "noisy":
        y = base * (1 + noise * rng.standard_t(3, size=n) / np.sqrt(3))
    elif kind == "running-mean":
        raw = base * (1 + noise * 3 * rng.normal(size=n))
        ep = (np.arange(n) * 10) // n
        y = np.empty(n)
        for e in range(10):
            idx = np.flatnonzero(ep == e)
            y[idx] = np.cumsum(raw[idx]) / np.arange(1, idx.size + 1)
    elif kind == "gan":
        y = 1.0 * (1 + 0.2 * np.sin(2 * np.pi * 3 * t + rng.uniform(0, 2 * np.pi))) * (1 + noise * rng.normal(size=n))
    elif kind == "warmup":
        bump = 0.2 * (start - low) * np.sin(np.pi * np.clip(t / 0.1, 0, 1))
        y = (base + bump) * (1 + noise * rng.normal(size=n))
        lr = np.where(t < 0.1, 1e-3 * t / 0.1, 1e-3 * (0.5 + 0.5 * np.cos(np.pi * (t - 0.1) / 0.9)))
        lr = np.maximum(lr, 1e-6)
    else:
        raise ValueError(kind)
    return step_csv(np.maximum(y, 1e-6), lr)


def _seed(key: tuple) -> int:
    """A seed fixed by the cell (``hash`` of a string changes between processes)."""
    return zlib.crc32(repr(key).encode())


# -- tables --------------------------------------------------------------------------------------------------
def rate(make: Callable[[np.random.Generator], str], fmt: str, test: Callable[[list], bool], reps: int,
         seed: int) -> float:
    rng = np.random.default_rng(seed)
    return sum(test(findings(make(rng), fmt)) for _ in range(reps)) / reps


NS_EPOCH = (5, 8, 12, 20, 30, 60)
#: the rise after the minimum, as a share of the level there
RISES = (0.05, 0.1, 0.25, 0.5)
NOISES = (0.01, 0.03, 0.10)


def of_power(reps: int) -> None:
    print("\n### OF001 power: val minimum at 40% of the run, then a linear rise (share of its level at the minimum)\n")
    print("detected as overfitting (a warning, or OF002) in % of runs; columns: evaluations\n")
    print("| scale | rise | noise | " + " | ".join(str(n) for n in NS_EPOCH) + " |")
    print("|---|---:|---:|" + "---:|" * len(NS_EPOCH))
    for scale in _scales():
        for rise in RISES:
            for noise in NOISES:
                cells = [rate(lambda g, n=n: overfit_run(g, n, noise, rise, scale), "keras-csv",
                              lambda fs: detected(fs, "overfitting"), reps, _seed((scale, rise, noise, n)))
                         for n in NS_EPOCH]
                print(f"| {scale} | {rise:.0%} | {noise:.0%} | " + " | ".join(f"{c:.0%}" for c in cells) + " |")
                sys.stdout.flush()


def of_healthy(reps: int) -> None:
    print("\n### OF001 false alarms: val falls to its level at 40% of the run and stays there (iid and AR(1) "
          "0.5 noise)\n")
    print("% of healthy runs with an overfitting detection; columns: evaluations\n")
    print("| scale | noise | AR(1) | " + " | ".join(str(n) for n in NS_EPOCH) + " |")
    print("|---|---:|---:|" + "---:|" * len(NS_EPOCH))
    for scale in _scales():
        for noise in NOISES:
            for phi in (0.0, 0.5):
                cells = [rate(lambda g, n=n: overfit_run(g, n, noise, 0.0, scale, phi=phi), "keras-csv",
                              lambda fs: detected(fs, "overfitting"), reps, _seed((scale, noise, phi, n)))
                         for n in NS_EPOCH]
                print(f"| {scale} | {noise:.0%} | {phi:g} | " + " | ".join(f"{c:.0%}" for c in cells) + " |")
                sys.stdout.flush()


#: the scales the overfitting tables cover (``--scale``; default every one of :data:`SCALES`)
ONLY_SCALES: list[str] = []


def _scales() -> list[str]:
    return ONLY_SCALES or list(SCALES)


NS_STEP = (8, 12, 20, 60, 200, 1000)


def dv_power(reps: int) -> None:
    print("\n### DV001/DV002 power: training loss best at 50% of the run, then a linear rise (share of the range "
          "it covered)\n")
    print("detected as divergence in % of runs; columns: logged points\n")
    print("| scale | rise | noise | " + " | ".join(str(n) for n in NS_STEP) + " |")
    print("|---|---:|---:|" + "---:|" * len(NS_STEP))
    for scale in ("classifier", "lm-offset"):
        for rise in (0.1, 0.25, 0.5):
            for noise in NOISES:
                cells = [rate(lambda g, n=n: diverge_run(g, n, noise, rise, scale), "csv",
                              lambda fs: detected(fs, "divergence"), reps, _seed((scale, rise, noise, n)))
                         for n in NS_STEP]
                print(f"| {scale} | {rise:.0%} | {noise:.0%} | " + " | ".join(f"{c:.0%}" for c in cells) + " |")
                sys.stdout.flush()


def dv_healthy(reps: int) -> None:
    print("\n### DV001 false alarms on healthy training losses\n")
    print("% of runs with a divergence warning (DV001 / any divergence rule); columns: logged points\n")
    print("| kind | noise | " + " | ".join(str(n) for n in NS_STEP) + " |")
    print("|---|---:|" + "---:|" * len(NS_STEP))
    for kind in ("flat-after-best", "noisy", "running-mean", "gan", "warmup"):
        for noise in NOISES:
            if kind == "flat-after-best":
                make = lambda g, n, noise=noise: diverge_run(g, n, noise, 0.0, "classifier", heavy=True)  # noqa: E731
            else:
                make = lambda g, n, noise=noise, kind=kind: healthy_train(g, n, noise, kind)  # noqa: E731
            cells = []
            for n in NS_STEP:
                seed = _seed((kind, noise, n))
                a = rate(lambda g, n=n: make(g, n), "csv", lambda fs: warned_by(fs, ("DV001",)), reps, seed)
                b = rate(lambda g, n=n: make(g, n), "csv",
                         lambda fs: any(f.category == "divergence" and f.severity >= Severity.WARNING for f in fs),
                         reps, seed)
                cells.append(f"{a:.0%} / {b:.0%}")
            print(f"| {kind} | {noise:.0%} | " + " | ".join(cells) + " |")
            sys.stdout.flush()


TABLES = {"of-power": of_power, "of-healthy": of_healthy, "dv-power": dv_power, "dv-healthy": dv_healthy}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=30, help="seeded runs per cell (default 30)")
    ap.add_argument("--only", action="append", choices=sorted(TABLES), help="tables to print")
    ap.add_argument("--set", action="append", default=[], metavar="RULE.PARAM=VALUE",
                    help="override a rule parameter for this run (DV001.min-points=5)")
    ap.add_argument("--scale", action="append", choices=sorted(SCALES), help="loss scales of the overfitting tables")
    a = ap.parse_args(argv)
    ONLY_SCALES[:] = a.scale or []
    for kv in a.set:
        k, _, v = kv.partition("=")
        rule, _, param = k.partition(".")
        OVERRIDES.setdefault(rule, {})[param] = float(v) if "." in v or "e" in v else int(v)
    for name in a.only or TABLES:
        TABLES[name](a.reps)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    raise SystemExit(main())
