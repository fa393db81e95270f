"""Sweep throughput on a local Dask cluster against the number of workers (not a test).

Starts a ``dask scheduler`` on 127.0.0.1, then for each worker count N a ``dask worker --nworkers N
--nthreads 1``, waits for the workers, runs one warm-up sweep (worker imports), then ``--rounds``
timed ``lossdoc analyze DIR --scheduler ADDR -q --no-html --json F`` as whole processes, and the
local process pool (``-j N``) in the same rounds, interleaved (cluster, local, cluster, local...).
For every timed run it records wall time, runs/s, and the CPU the rest of the machine used meanwhile
(``/proc/stat`` total busy minus this benchmark's process tree is not separable for Dask workers, so
the figure reported is the machine's whole busy CPU and the 1-minute load average).

    python benchmarks/bench_cluster.py --runs 200 --workers 1,2,3,4 --rounds 2

The sweep is ``bench_e2e.make_sweep`` (a third each nanoGPT, llm.c and HF ``trainer_state.json``,
2,000 steps), generated into ``--data`` on first use. Results go to ``--data/cluster_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_e2e  # noqa: E402


def busy_jiffies() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


def run(cmd: list[str]) -> dict[str, float]:
    b0, t0 = busy_jiffies()
    w0 = time.perf_counter()
    res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - w0
    b1, t1 = busy_jiffies()
    tick = os.sysconf("SC_CLK_TCK")
    if res.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr[-2000:]}")
    return {"wall": wall, "busy_cpu_s": (b1 - b0) / tick, "load1": os.getloadavg()[0]}


def stop(p: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if p.poll() is not None:
            return
        try:
            os.killpg(p.pid, sig)
            p.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--workers", default="1,2,3,4")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    args = ap.parse_args()
    root = args.data / f"sweep_{args.runs}x{args.steps}"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        bench_e2e.make_sweep(root, args.runs, args.steps)
        (root / ".complete").write_text("")
    lossdoc = [sys.executable, "-m", "lossdoc"]
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    work = args.data / "dask-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sfile = work / "scheduler.json"
    out_json = work / "r.json"
    results: list[dict[str, object]] = []
    sched = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                              "--scheduler-file", str(sfile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        while not sfile.exists() or not sfile.read_text().strip():
            time.sleep(0.2)
        time.sleep(0.5)
        address = json.loads(sfile.read_text())["address"]
        for n in [int(x) for x in args.workers.split(",")]:
            worker = subprocess.Popen([dask, "worker", address, "--nworkers", str(n), "--nthreads", "1",
                                       "--no-dashboard", "--host", "127.0.0.1", "--local-directory", str(work / "w")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                from distributed import Client

                with Client(address, timeout=120) as c:
                    c.wait_for_workers(n, timeout=120)
                dask_cmd = lossdoc + ["analyze", str(root), "--scheduler", address, "-q", "--no-html",
                                      "--json", str(out_json)]
                local_cmd = lossdoc + ["analyze", str(root), "-j", str(n), "-q", "--no-html", "--json", str(out_json)]
                run(dask_cmd)  # warm-up: the workers import numpy, scipy, polars, lossdoc once
                for r in range(args.rounds):
                    for kind, cmd in (("dask", dask_cmd), ("local", local_cmd)):
                        m = run(cmd)
                        m.update(kind=kind, workers=n, round=r, runs_per_s=args.runs / m["wall"])
                        results.append(m)
                        print(f"{kind:5s} workers={n} round={r}: {m['wall']:6.2f} s  {m['runs_per_s']:5.1f} runs/s  "
                              f"machine busy {m['busy_cpu_s']:5.1f} CPU-s  load {m['load1']:.1f}", flush=True)
            finally:
                stop(worker)
    finally:
        stop(sched)
    print("\nworkers | Dask runs/s (median) | local -j N runs/s (median)")
    for n in sorted({int(r["workers"]) for r in results}):
        d = [r["runs_per_s"] for r in results if r["workers"] == n and r["kind"] == "dask"]
        loc = [r["runs_per_s"] for r in results if r["workers"] == n and r["kind"] == "local"]
        print(f"{n:7d} | {statistics.median(d):20.1f} | {statistics.median(loc):26.1f}")
    (args.data / "cluster_results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
