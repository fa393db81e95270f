"""OS001 / LR006 on simulated healthy curves: how often does a noisy, steadily falling loss get an
oscillation warning (and with it LR006 "LR too high")?

    python benchmarks/quality/sim_os001.py               # 6 lengths x 3 noises x 3 schedules x 2 loggings
    python benchmarks/quality/sim_os001.py --reps 20 --json out.json

Each simulated run is a healthy training loss: ``floor + a * decay(progress)`` (decay exponential, with the
LR schedule's shape folded in: a step schedule drops the loss at each LR step, a cosine one slows the fall
as the LR decays) plus noise of 3-40% of the level, logged at 20-2000 points with the LR as a column:

- noise ``iid`` (normal), ``t3`` (Student t with 3 degrees of freedom: heavy-tailed per-batch losses) and
  ``ar1`` (AR(1), coefficient 0.5: a loss that wanders, as with a slowly varying data order);
- schedule ``constant``, ``cosine`` (one cosine decay to 0) and ``step`` (LR / 10 at 50% and 75%);
- logging ``raw`` (the per-step values) and ``running_mean`` (the running mean since each of 10 "epochs"
  began, an AverageMeter reset every epoch; on runs of 50+ points).

Every run is read with :func:`lossdoc.ingest.read` from a CSV and checked with the default configuration;
the table gives the share of runs with an OS001 warning and with an LR006 warning. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

LENGTHS = (20, 50, 100, 300, 1000, 2000)
NOISES = ("iid", "t3", "ar1")
SCHEDULES = ("constant", "cosine", "step")
LOGGINGS = ("raw", "running_mean")


def lr_schedule(kind: str, n: int, peak: float) -> np.ndarray:
    t = np.arange(n) / max(n - 1, 1)
    if kind == "constant":
        return np.full(n, peak)
    if kind == "cosine":
        return peak * 0.5 * (1 + np.cos(np.pi * t))
    return peak * np.where(t < 0.5, 1.0, np.where(t < 0.75, 0.1, 0.01))


def noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "iid":
        return rng.standard_normal(n)
    if kind == "t3":
        return rng.standard_t(3, n) / np.sqrt(3.0)  # unit variance
    e = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0] / np.sqrt(1 - 0.25)
    for i in range(1, n):
        out[i] = 0.5 * out[i - 1] + e[i]
    return out * np.sqrt(1 - 0.25)


def curve(n: int, noise_kind: str, sched: str, logging: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    lr = lr_schedule(sched, n, float(10 ** rng.uniform(-4, -3)))
    # progress made so far: the integral of the LR (a step schedule's drops slow the fall, a cosine one fades)
    prog = np.cumsum(lr) / lr.sum()
    floor = float(rng.uniform(0.05, 2.0))
    a = float(rng.uniform(1.0, 4.0)) * floor
    rate = float(rng.uniform(3.0, 8.0))
    mean = floor + a * np.exp(-rate * prog)
    sd = float(rng.uniform(0.03, 0.40))
    y = mean * (1 + sd * noise(noise_kind, n, rng))
    y = np.maximum(y, 1e-3 * floor)
    if logging == "running_mean":
        out = np.empty(n)
        for ep in np.array_split(np.arange(n), 10):
            out[ep] = np.cumsum(y[ep]) / np.arange(1, ep.size + 1)
        y = out
    return y, lr


def check(path: Path) -> set[str]:
    from lossdoc.checks.findings import Severity
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config
    from lossdoc.ingest import read

    runs, _ = run_checks(read(str(path)), Config(), summaries=False)
    return {f.rule for r in runs for f in r.findings if f.severity >= Severity.WARNING}


def structure_rejects(y: np.ndarray, alpha: float = 0.01) -> tuple[bool, bool]:
    """(runs test rejects, either structure test rejects) at OS001's ``alpha`` (Sidak x2 for the choice), on the
    window OS001 judges: bin means to 200 points, the first 20% skipped, log scale."""
    from lossdoc.analysis.downsample import downsample_for_fit
    from lossdoc.checks.detectors.oscillation import structure

    _, v, _ = downsample_for_fit(np.arange(1, y.size + 1), y, max_points=200)
    z = np.log(v[int(0.2 * v.size):])
    if z.size < 12:
        return False, False
    *_, pr, _, cyc = structure(z, 4)
    sidak = lambda q: -np.expm1(2.0 * np.log1p(-min(q, 1 - 1e-16)))  # noqa: E731
    return bool(sidak(pr) < alpha), bool(sidak(min(pr, cyc.p if cyc else 1.0)) < alpha)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=10, help="runs per cell")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--structure-only", action="store_true", help="only the structure tests, not the checks")
    ap.add_argument("--json", help="write the per-cell counts here")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    cells: dict[tuple, dict[str, int]] = {}
    rules: dict[str, int] = defaultdict(int)
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "run.csv"
        for n in LENGTHS:
            for nk in NOISES:
                for sc in SCHEDULES:
                    for lg in LOGGINGS:
                        if lg == "running_mean" and n < 50:
                            continue
                        c = {"runs": 0, "OS001": 0, "LR006": 0, "runs_test": 0, "structure": 0}
                        for _ in range(args.reps):
                            y, lr = curve(n, nk, sc, lg, rng)
                            path.write_text("step,train_loss,lr\n" + "".join(
                                f"{i + 1},{v:.6g},{w:.6g}\n" for i, (v, w) in enumerate(zip(y, lr))))
                            rt, st = structure_rejects(y)
                            c["runs_test"] += rt
                            c["structure"] += st
                            got = check(path) if not args.structure_only else set()
                            c["runs"] += 1
                            for r in got:
                                rules[r] += 1
                            c["OS001"] += "OS001" in got
                            c["LR006"] += "LR006" in got
                        cells[(n, nk, sc, lg)] = c
    secs = time.perf_counter() - t0
    keys = ("runs", "OS001", "LR006", "runs_test", "structure")
    tot = {k: sum(c[k] for c in cells.values()) for k in keys}
    print(f"## OS001 / LR006 on simulated healthy curves ({tot['runs']} runs, {secs:.0f} s)\n")
    print(f"all: OS001 {tot['OS001']}/{tot['runs']} ({tot['OS001'] / tot['runs']:.1%}), "
          f"LR006 {tot['LR006']}/{tot['runs']} ({tot['LR006'] / tot['runs']:.1%}); the structure tests alone "
          f"(the null OS001's p-value rests on): runs test rejects {tot['runs_test']}/{tot['runs']} "
          f"({tot['runs_test'] / tot['runs']:.1%}), runs or autocorrelation test {tot['structure']}/{tot['runs']} "
          f"({tot['structure'] / tot['runs']:.1%})\n")
    for dim, idx, vals in (("length", 0, LENGTHS), ("noise", 1, NOISES), ("schedule", 2, SCHEDULES),
                           ("logging", 3, LOGGINGS)):
        parts = []
        for v in vals:
            sel = [c for k, c in cells.items() if k[idx] == v]
            nr = sum(c["runs"] for c in sel)
            parts.append(f"{v} {sum(c['OS001'] for c in sel)}/{nr} OS001, {sum(c['LR006'] for c in sel)} LR006, "
                         f"runs test {sum(c['runs_test'] for c in sel)}, either {sum(c['structure'] for c in sel)}")
        print(f"- by {dim}: " + "; ".join(parts))
    print("\nevery warning rule on these runs: " + ", ".join(f"{r} {k}" for r, k in sorted(rules.items())))
    if args.json:
        Path(args.json).write_text(json.dumps({"|".join(map(str, k)): v for k, v in cells.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
