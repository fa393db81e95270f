"""OF001 with a per-batch training loss: healthy runs (validation falls to a floor and stays, with iid or AR(1)
0.5 noise; the training loss heavy-tailed, t(3) noise in log space, 3 points per evaluation, falling or flat)
and wandering runs (training and validation rise together and come back) that the "training rose with
validation" veto must keep quiet. Prints the % of runs with an OF001 warning (rule alone, defaults).

    python benchmarks/quality/sim_overfit_train_veto.py 40     # runs per cell

Result (40 runs a cell), mean over cells, before -> after the veto became a Mann-Whitney test (commit
"OF001: ... veto is a one-sided Mann-Whitney test"): iid validation noise 0.17% -> 0.25% (24 cells, max 2% ->
2%); AR(1) 0.5 validation noise 1.7% -> 3.8% (12 cells, max 5% -> 8%); wandering runs 0% -> 0%. The old veto
("mean of the per-batch losses after the minimum >= the median of the ~5% around it") held by the skew of
the training noise alone on runs whose training loss never rose, and so also hid some of the trend test's
false alarms on autocorrelated validation noise; those are the level/trend tests' to control, not the veto's.
A benchmark, not a test.
"""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_overfit_divergence import ar1  # noqa: E402

from lossdoc.checks.findings import Severity  # noqa: E402
from lossdoc.checks.runner import run_checks  # noqa: E402
from lossdoc.config import Config  # noqa: E402
from lossdoc.ingest import from_bytes, read_input  # noqa: E402
from lossdoc.model import LogSet  # noqa: E402

PER = 3  # training points per evaluation


def csv(train, val):
    rows = ["epoch,step,train_loss,val_loss"]
    for i, a in enumerate(train):
        rows.append(f"{i // PER},{(i + 1) * 50},{a:.6g},")
        if (i + 1) % PER == 0:
            rows.append(f"{i // PER},{(i + 1) * 50},,{val[i // PER]:.6g}")
    return "\n".join(rows) + "\n"

def warned(text):
    ls = LogSet([read_input(from_bytes(text.encode(), "metrics.csv"), "lightning-csv")])
    runs, _ = run_checks(ls, Config(select=("OF001",)), summaries=False)
    return any(f.severity >= Severity.WARNING for r in runs for f in r.findings)


def healthy(rng, n, tn, vn, phi, train_kind):
    m = n * PER
    t = np.arange(m) / (m - 1)
    start, low = 0.7, 0.3
    if train_kind == "falling":
        tr = low * 0.8 + (start - low * 0.8) * np.exp(-t / 0.15) - 0.05 * t
    else:  # flat after its descent
        tr = low + (start - low) * np.exp(-t / 0.15)
    tr = tr * np.exp(tn * rng.standard_t(3, m))
    tv = np.arange(n) / (n - 1)
    v = low + (start - low) * np.exp(-tv / 0.1)
    v = v * (1 + vn * ar1(rng, n, phi))
    return csv(tr, v)

def wander(rng, n, tn, vn):
    m = n * PER
    t = np.arange(m) / (m - 1)
    bump = lambda x: 0.15 * np.exp(-((x - 0.6) / 0.15) ** 2)
    tr = (0.3 + 0.4 * np.exp(-t / 0.1) + bump(t)) * np.exp(tn * rng.standard_t(3, m))
    tv = np.arange(n) / (n - 1)
    v = (0.33 + 0.4 * np.exp(-tv / 0.1) + bump(tv)) * (1 + vn * rng.normal(size=n))
    return csv(tr, v)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    reps = int(argv[0]) if argv else 40
    for kind in ("falling", "flat"):
        for n in (20, 50, 80):
            for tn in (0.2, 0.5):
                for vn, phi in ((0.01, 0.0), (0.03, 0.0), (0.03, 0.5)):
                    rng = np.random.default_rng(zlib.crc32(repr((kind, n, tn, vn, phi)).encode()))
                    r = sum(warned(healthy(rng, n, tn, vn, phi, kind)) for _ in range(reps)) / reps
                    print(f"healthy train={kind} n={n} train-noise={tn} val-noise={vn} phi={phi}: {r:.0%}", flush=True)
    for n in (20, 50, 80):
        for tn in (0.2, 0.5):
            rng = np.random.default_rng(zlib.crc32(repr(("w", n, tn)).encode()))
            r = sum(warned(wander(rng, n, tn, 0.01)) for _ in range(reps)) / reps
            print(f"wandering n={n} train-noise={tn}: {r:.0%}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
