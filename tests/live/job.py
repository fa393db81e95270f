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


def write_events(a: argparse.Namespace) -> None:
    """The same curve as TensorBoard scalars (``train/loss``), one record per step, flushed."""
    import struct

    from lossdoc.ingest.formats.tfevents import masked_crc32c

    def record(payload: bytes) -> bytes:
        head = struct.pack("<Q", len(payload))
        return head + struct.pack("<I", masked_crc32c(head)) + payload + struct.pack("<I", masked_crc32c(payload))

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def scalar(step: int, tag: str, value: float) -> bytes:
        t = tag.encode()
        val = b"\x0a" + varint(len(t)) + t + b"\x15" + struct.pack("<f", value)
        summ = b"\x0a" + varint(len(val)) + val
        return b"\x09" + struct.pack("<d", time.time()) + b"\x10" + varint(step) + b"\x2a" + varint(len(summ)) + summ

    os.makedirs(a.tb, exist_ok=True)
    with open(os.path.join(a.tb, "events.out.tfevents.1.host.1.0"), "ab") as fh:
        fh.write(record(b"\x09" + struct.pack("<d", time.time()) + b"\x1a\x0dbrain.Event:2"))
        for step in range(a.steps):
            rec = record(scalar(step, "train/loss", loss_at(a.mode, step, a.steps)))
            fh.write(rec[:5])  # a torn record first: readers must wait for the rest
            fh.flush()
            fh.write(rec[5:])
            fh.flush()
            if a.sleep:
                time.sleep(a.sleep)
    while a.hang:
        time.sleep(0.1)


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
    ap.add_argument("--tb", help="write a TensorBoard event file in this directory instead of text")
    ap.add_argument("--lightning", help="write a Lightning CSVLogger run directory (metrics.csv, hparams.yaml)")
    a = ap.parse_args()
    if a.ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if a.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if a.tb:
        write_events(a)
        return
    if a.lightning:
        os.makedirs(a.lightning, exist_ok=True)
        with open(os.path.join(a.lightning, "hparams.yaml"), "w") as fh:
            fh.write("lr: 0.001\nbatch_size: 32\n")
        with open(os.path.join(a.lightning, "metrics.csv"), "w") as fh:
            fh.write("epoch,step,train_loss,val_loss\n")
            for step in range(a.steps):
                fh.write(f"{step // 50},{step},{loss_at(a.mode, step, a.steps)},\n")
                fh.flush()
                if a.sleep:
                    time.sleep(a.sleep)
        while a.hang:
            time.sleep(0.1)
        return
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
