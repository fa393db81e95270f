"""The grid the SP001 simulations print (``sim_early_transients.py``, ``sim_short_spikes.py``): for every
(kind, size) of a simulation and every series length, how many of ``reps`` simulated runs one rule warns on,
run by run through a CSV file as a user's log would be read. A benchmark helper, not a test."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np


def warned(path: Path, rule: str) -> bool:
    """Whether ``rule`` alone (default parameters) gives a warning or an error on the log at ``path``."""
    from lossdoc.checks.findings import Severity
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config
    from lossdoc.ingest import read

    runs, _ = run_checks(read(str(path)), Config(select=(rule,)), summaries=False)
    return any(f.severity >= Severity.WARNING for r in runs for f in r.findings)


def grid_main(argv: list[str] | None, *, description: str, title: str, rule: str, file_name: str,
              kinds: Mapping[str, Sequence[float]], lengths: Sequence[int],
              run_csv: Callable[[int, str, float, np.random.Generator], str], reps: int, seed: int) -> int:
    """Parse ``--reps`` / ``--seed`` (defaults ``reps`` / ``seed``), simulate every cell and print the table
    (``title`` heads it) and each kind's total."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--reps", type=int, default=reps, help="runs per cell")
    ap.add_argument("--seed", type=int, default=seed)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / file_name
        for kind, sizes in kinds.items():
            for sz in sizes:
                hits = []
                for n in lengths:
                    k = 0
                    for _ in range(args.reps):
                        path.write_text(run_csv(n, kind, sz, rng))
                        k += warned(path, rule)
                    hits.append(k)
                rows.append((kind, sz, hits))
    print(f"## {title} ({len(rows) * len(lengths) * args.reps} runs, {time.perf_counter() - t0:.0f} s)\n")
    print("| kind | size | " + " | ".join(f"n={n}" for n in lengths) + " | all |")
    print("|---|---:|" + "---:|" * (len(lengths) + 1))
    for kind, sz, hits in rows:
        print(f"| {kind} | {sz:g} | " + " | ".join(f"{h}/{args.reps}" for h in hits)
              + f" | {sum(hits)}/{args.reps * len(hits)} |")
    for kind in kinds:
        sel = [r for r in rows if r[0] == kind]
        print(f"\n{kind}: {sum(sum(r[2]) for r in sel)}/{len(sel) * len(lengths) * args.reps} warned")
    return 0
