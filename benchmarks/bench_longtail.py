"""Parse-speed benchmark for the hand-rolled ``text`` reader and the boosting logs (XGBoost, LightGBM).

Each log is generated here (seeded), then read by ``lossdoc.read`` and by a plain Python loop with one
compiled ``re`` per line that pulls out (step, loss) only - *less* than lossdoc returns (every series,
split mapping, step normalisation, notes). Methods alternate round by round so machine noise hits them
alike; the medians and the ratio lossdoc / re-loop are printed. Not a test: nothing is asserted.

Usage::

    python benchmarks/bench_longtail.py --lines 500000 --runs 3
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import lossdoc


def _write(path: Path, lines: int, kind: str) -> None:
    rng = np.random.default_rng(20241126)
    loss = 3.0 + rng.standard_normal(lines) * 0.01
    with open(path, "w", encoding="utf-8") as fh:
        if kind == "text":  # the real barber0 log's layout, batch restarting every 5000
            for i in range(lines):
                fh.write(f"ep: {i // 5000}, batch: {i % 5000}, time: 9.17, ntokens: 485.20/513, loss: {loss[i]:.6f}\n")
        elif kind == "xgboost":
            for i in range(lines):
                fh.write(f"[{i}]\ttrain-logloss:{loss[i]:.5f}\teval-logloss:{loss[i] + 0.1:.5f}\n")
        else:
            for i in range(lines):
                fh.write(f"[{i + 1}]\ttraining's l2: {loss[i]:g}\tvalid_1's l2: {loss[i] + 0.1:g}\n")


_RE = {
    "text": re.compile(r"ep: (\d+), batch: (\d+),.*loss: ([-+\w.]+)"),
    "xgboost": re.compile(r"^\[(\d+)\]\ttrain-logloss:([^\t]+)"),
    "lightgbm": re.compile(r"^\[(\d+)\]\ttraining's l2: ([^\t]+)"),
}


def _re_loop(path: Path, kind: str) -> int:
    pat, n = _RE[kind], 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = pat.search(line)
            if m:
                float(m.group(m.lastindex or 1))
                n += 1
    return n


def _time(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print("| log | lines | lossdoc.read (s) | re loop (s) | ratio |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("text", "xgboost", "lightgbm"):
            path = Path(tmp) / f"{kind}.log"
            _write(path, args.lines, kind)
            ours, base = [], []
            for _ in range(args.runs):
                ours.append(_time(lambda p=path: lossdoc.read(p)))
                base.append(_time(lambda p=path, k=kind: _re_loop(p, k)))
            o, b = statistics.median(ours), statistics.median(base)
            print(f"| {kind} | {args.lines:,} | {o:.2f} | {b:.2f} | {o / b:.2f}x |")


if __name__ == "__main__":
    main()
