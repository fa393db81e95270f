"""Alert latency of ``lossdoc watch``: seconds from the write of the first NaN line to lossdoc
printing the NF001 finding.

    python benchmarks/bench_live.py [--sizes 1e4,1e5,1e6] [--intervals 2,0.5] [--repeats 3]

For each size a nanoGPT log of that many lines is written first; ``lossdoc watch`` is started on
it and reads it whole; then a writer appends 100 lines a second (a fast trainer's log rate) and,
after 3 s, the first NaN line. The writer records the wall time of that write (after its flush);
the benchmark reads lossdoc's stdout and records when the NF001 line arrives. Also reported: how
long the first read and analysis took (until "watching" appears), and lossdoc's CPU time per
second of watching a log growing at 100 lines/s (from /proc, on Linux).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LINE = "iter {i}: loss {v:.4f}, time 95.00ms, mfu 31.00%\n"


def prefill(path: Path, n: int) -> None:
    with open(path, "w") as fh:
        chunk = []
        for i in range(n):
            chunk.append(LINE.format(i=i, v=2.0 + 8.0 / (1 + i / 1000)))
            if len(chunk) == 100_000:
                fh.write("".join(chunk))
                chunk = []
        fh.write("".join(chunk))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one(n: int, interval: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "train.log"
        prefill(log, n)
        t0 = time.time()
        p = subprocess.Popen([sys.executable, "-m", "lossdoc", "watch", str(log), "--interval", str(interval),
                              "--exit-on", "error", "--no-html"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        alert: list[float] = []

        def read_err() -> None:
            for line in p.stderr:  # type: ignore[union-attr]
                if "watching" in line:
                    ready.set()

        def read_out() -> None:
            for line in p.stdout:  # type: ignore[union-attr]
                if "NF001" in line and not alert:
                    alert.append(time.time())

        threading.Thread(target=read_err, daemon=True).start()
        threading.Thread(target=read_out, daemon=True).start()
        ready.wait(600)
        t_ready = time.time() - t0
        c0, w0 = cpu_seconds(p.pid), time.time()
        i = n
        nan_at = None
        with open(log, "a") as fh:
            while p.poll() is None and time.time() - w0 < 60:
                if nan_at is None and time.time() - w0 >= 3.0:
                    fh.write(LINE.format(i=i, v=float("nan")))
                    fh.flush()
                    nan_at = time.time()
                    c1 = cpu_seconds(p.pid)
                else:
                    fh.write(LINE.format(i=i, v=2.0 + 8.0 / (1 + i / 1000) if nan_at is None else float("nan")))
                    fh.flush()
                i += 1
                time.sleep(0.01)
        p.wait(60)
        time.sleep(0.1)
        return {"ready": t_ready, "latency": alert[0] - nan_at if alert and nan_at else float("nan"),
                "cpu_per_s": (c1 - c0) / 3.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e4,1e5,1e6")
    ap.add_argument("--intervals", default="2,0.5")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print("| lines before | --interval | first read + analysis (s) | alert latency (s), each run | "
          "CPU s per s while growing |")
    print("|---:|---:|---:|---|---:|")
    for n in (int(float(x)) for x in a.sizes.split(",")):
        for iv in (float(x) for x in a.intervals.split(",")):
            rs = [one(n, iv) for _ in range(a.repeats)]
            lat = " ".join(f"{r['latency']:.2f}" for r in rs)
            print(f"| {n:,} | {iv:g} | {min(r['ready'] for r in rs):.1f} | {lat} | "
                  f"{sum(r['cpu_per_s'] for r in rs) / len(rs):.2f} |", flush=True)


if __name__ == "__main__":
    main()
