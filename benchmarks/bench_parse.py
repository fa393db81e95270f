"""Parse-speed benchmark: ``lossdoc.read`` against a plain Python ``re``-per-line loop (and tbparse).

For each kind (nanoGPT, Megatron-LM, llm.c main.log, TensorBoard) the file from ``gen_logs.py`` is read
several times, methods interleaved round by round in one process so machine noise hits them alike; the
median wall and CPU time of each and the ratio to lossdoc are printed (a markdown table) and saved to
``benchmarks/data/parse_results.json``. Not a test: nothing is asserted.

Baselines:

- ``re_loop``: iterate the file's lines, one compiled ``re.match``/``search`` per line pulling out
  (step, loss) only, i.e. *less* than lossdoc extracts (lossdoc returns every series of the log in
  its tidy table, after step normalisation);
- ``re_loop_same``: the same loop pulling out the fields lossdoc returns (one compiled search per
  field per line, Python lists; no table, no notes), i.e. what a hand-written script would do;
- TensorBoard: ``tbparse.SummaryReader(dir).scalars`` and tensorboard's ``EventFileLoader`` run in a
  separate interpreter that has them (``--tb-python``, a throwaway venv: lossdoc does not depend on
  them); their time is measured inside that process and excludes its imports.

Usage::

    python benchmarks/gen_logs.py --steps 1000000
    python benchmarks/bench_parse.py --steps 1000000 --runs 5 [--tb-python /tmp/tbvenv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_logs  # noqa: E402

import lossdoc  # noqa: E402


def _re_loop(path: Path, pattern: str, search: bool = False) -> int:
    rx = re.compile(pattern)
    find = rx.search if search else rx.match
    steps: list[int] = []
    losses: list[float] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = find(line)
            if m:
                steps.append(int(m.group(1)))
                losses.append(float(m.group(2)))
    return len(steps)


def re_nanogpt(path: Path) -> int:
    return _re_loop(path, r"iter (\d+): loss ([^,\s]+)")


def re_megatron(path: Path) -> int:
    return _re_loop(path, r" iteration +(\d+)/ *\d+ \|.*? lm loss: ([^ |]+) \|", search=True)


def re_llmc(path: Path) -> int:
    return _re_loop(path, r"s:(\d+) trl:(\S+)")


def _same_loop(path: Path, prefix: str, step_rx: str, fields: list[str]) -> int:
    """Every field lossdoc returns for the line kind, one compiled search per field per matching line."""
    srx = re.compile(step_rx)
    frx = [re.compile(f) for f in fields]
    rows: list[tuple[int, list[float | None]]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if prefix not in line:
                continue
            m = srx.search(line)
            if not m:
                continue
            vals = []
            for rx in frx:
                f = rx.search(line)
                vals.append(float(f.group(1)) if f else None)
            rows.append((int(m.group(1)), vals))
    return sum(sum(v is not None for v in vals) for _, vals in rows)


def same_nanogpt(path: Path) -> int:
    return (_same_loop(path, "iter ", r"^iter (\d+):", [r": loss ([^,\s]+)", r", time ([\d.]+)ms"])
            + _same_loop(path, "step ", r"^step (\d+):", [r"train loss ([^,\s]+)", r"val loss ([^,\s]+)"]))


def same_megatron(path: Path) -> int:
    keys = ["lm loss", "consumed samples", "elapsed time per iteration \\(ms\\)", "learning rate", "loss scale",
            "grad norm", "number of skipped iterations", "number of nan iterations"]
    return (_same_loop(path, "iteration", r" iteration +(\d+)/", [r"\| %s: +([^ |]+)" % k for k in keys])
            + _same_loop(path, "validation loss at", r"validation loss at iteration (\d+)",
                         [r"lm loss value: ([^ |]+)", r"lm loss PPL: ([^ |]+)"]))


def same_llmc(path: Path) -> int:
    return _same_loop(path, "s:", r"^s:(\d+) ", [r" trl:(\S+)", r" lr:(\S+)", r" norm:(\S+)", r" tel:(\S+)"])


TB_SCRIPT = r"""
import sys, time, glob, json
method, logdir = sys.argv[1], sys.argv[2]
import warnings; warnings.filterwarnings("ignore")
if method == "tbparse":
    from tbparse import SummaryReader
    t, c = time.perf_counter(), time.process_time()
    n = len(SummaryReader(logdir, pivot=False).scalars)
else:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    t, c = time.perf_counter(), time.process_time()
    n = 0
    for f in sorted(glob.glob(logdir + "/events.out.tfevents.*")):
        for ev in EventFileLoader(f).Load():
            n += len(ev.summary.value)
print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c, "n": n}))
"""


def _external(python: str, method: str) -> Callable[[Path], tuple[float, float, int]]:
    def run(path: Path) -> tuple[float, float, int]:
        out = subprocess.run([python, "-c", TB_SCRIPT, method, str(path)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        return r["wall"], r["cpu"], r["n"]

    return run


def _lossdoc(path: Path) -> int:
    return lossdoc.read(path).frame.height


def _timed(fn: Callable[[Path], int], path: Path) -> tuple[float, float, int]:
    t, c = time.perf_counter(), time.process_time()
    n = fn(path)
    return time.perf_counter() - t, time.process_time() - c, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kinds", default="nanogpt,megatron,llmc,tensorboard")
    ap.add_argument("--tb-python", default=None, help="python with tbparse + tensorboard installed")
    ap.add_argument("--data", type=Path, default=HERE / "data")
    args = ap.parse_args()

    results = []
    for kind in args.kinds.split(","):
        path = gen_logs.path_for(args.data, kind, args.steps)
        if not path.exists():
            print(f"generating {path} ...", flush=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            gen_logs.GENERATORS[kind][0](args.steps, path)
        target = path.parent if kind in ("tensorboard", "llmc") else path
        methods: dict[str, Callable[[Path], tuple[float, float, int]]] = {
            "lossdoc.read": lambda p: _timed(_lossdoc, p)}
        if kind == "nanogpt":
            methods["re_loop"] = lambda p: _timed(re_nanogpt, path)
            methods["re_loop_same"] = lambda p: _timed(same_nanogpt, path)
        elif kind == "megatron":
            methods["re_loop"] = lambda p: _timed(re_megatron, path)
            methods["re_loop_same"] = lambda p: _timed(same_megatron, path)
        elif kind == "llmc":
            methods["re_loop"] = lambda p: _timed(re_llmc, path)
            methods["re_loop_same"] = lambda p: _timed(same_llmc, path)
        elif args.tb_python:
            methods["tbparse"] = _external(args.tb_python, "tbparse")
            methods["EventFileLoader"] = _external(args.tb_python, "loader")
        runs = args.runs
        if kind == "tensorboard" and args.tb_python:
            runs = min(runs, 3)  # the tensorboard readers take 10+ s a run
        times: dict[str, list[tuple[float, float, int]]] = {m: [] for m in methods}
        for _ in range(runs):
            for name, fn in methods.items():
                times[name].append(fn(target))
        base = statistics.median(w for w, _, _ in times["lossdoc.read"])
        base_cpu = statistics.median(c for _, c, _ in times["lossdoc.read"])
        for name, ts in times.items():
            wall = statistics.median(w for w, _, _ in ts)
            cpu = statistics.median(c for _, c, _ in ts)
            results.append({"kind": kind, "method": name, "file_mb": round(path.stat().st_size / 1e6, 1),
                            "rows": ts[0][2], "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                            "x_lossdoc_wall": round(wall / base, 2), "x_lossdoc_cpu": round(cpu / base_cpu, 2),
                            "runs": len(ts)})
            print(f"{kind:12s} {name:16s} wall {wall:7.3f} s  cpu {cpu:7.3f} s  "
                  f"x{wall / base:6.2f} (cpu x{cpu / base_cpu:6.2f})  rows {ts[0][2]:,}", flush=True)
    (args.data / "parse_results.json").write_text(json.dumps(results, indent=1))
    print("\n| kind | file | method | rows | wall (median) | CPU (median) | × lossdoc wall | × lossdoc CPU |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['kind']} | {r['file_mb']} MB | {r['method']} | {r['rows']:,} | {r['wall_s']:.3f} s | "
              f"{r['cpu_s']:.3f} s | {r['x_lossdoc_wall']:.2f}× | {r['x_lossdoc_cpu']:.2f}× |")


if __name__ == "__main__":
    main()
