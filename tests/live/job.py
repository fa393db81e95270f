"""A stand-in training job for the watch/run tests: prints nanoGPT-style lines.

    python job.py MODE [--steps N] [--sleep SEC] [--out FILE] [--rotate-at STEP] [--truncate-at STEP]
                       [--ignore-sigint] [--hang] [--kill-self-at STEP] [--exit CODE]

MODE: healthy (loss falls to a floor), diverge (falls, then rises exponentially), nan (NaN from
step N/2 on). Lines go to --out (appended, flushed per line, the last line written in two pieces
so readers meet a torn line) or to stdout.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import sys
import time


def loss_at(mode: str, step: int, steps: int) -> float:
    base = 2.0 + 8.0 * math.exp(-step / (steps / 8))
    noise = random.Random(step).gauss(0, 0.02)
    if mode == "diverge" and step > steps // 2:
        return base * math.exp((step - steps // 2) / (steps / 20)) + noise
    if mode == "nan" and step >= steps // 2:
        return float("nan")
    return base + noise


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["healthy", "diverge", "nan"])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--out")
    ap.add_argument("--rotate-at", type=int)
    ap.add_argument("--truncate-at", type=int)
    ap.add_argument("--ignore-sigint", action="store_true")
    ap.add_argument("--ignore-sigterm", action="store_true")
    ap.add_argument("--hang", action="store_true", help="after the last step, sleep until killed")
    ap.add_argument("--kill-self-at", type=int)
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--wait-for", help="before rotating/truncating, wait until this file exists")
    a = ap.parse_args()
    if a.ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if a.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fh = open(a.out, "a") if a.out else sys.stdout
    print("Initializing a new model from scratch", file=fh, flush=True)
    for step in range(a.steps):
        if a.wait_for and step in (a.rotate_at, a.truncate_at):
            while not os.path.exists(a.wait_for):
                time.sleep(0.01)
        if a.rotate_at is not None and step == a.rotate_at and a.out:
            fh.close()
            os.replace(a.out, a.out + ".1")
            fh = open(a.out, "a")
        if a.truncate_at is not None and step == a.truncate_at and a.out:
            fh.close()
            fh = open(a.out, "w")
        if a.kill_self_at is not None and step == a.kill_self_at:
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        line = f"iter {step}: loss {loss_at(a.mode, step, a.steps):.4f}, time 10.00ms, mfu 1.00%\n"
        fh.write(line[:7])
        fh.flush()
        fh.write(line[7:])
        fh.flush()
        if a.sleep:
            time.sleep(a.sleep)
    print("training done", file=fh, flush=True)
    if a.hang:
        while True:
            time.sleep(0.1)
    sys.exit(a.exit)


if __name__ == "__main__":
    main()
