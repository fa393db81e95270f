"""End-to-end and scale benchmarks: lossdoc against the baselines of issue #7, in the same run.

Every comparison is made in one invocation of this script, methods interleaved round by round
(A B, A B, ...) so that machine noise hits them alike; the median of ``--runs`` rounds is
reported with the ratio, which is the durable result (absolute seconds are this machine, that
moment). Not a test: nothing is asserted; results go to ``<data>/e2e_results.json`` and are
printed as markdown tables (``benchmarks/README.md`` quotes them).

Sections (``--only a,b``):

- ``e2e``: the whole ``lossdoc analyze LOG --json F --html F -q`` as a process, against a plain
  Python ``re``-per-line loop that only *parses* the same nanoGPT log (also a whole process);
  wall time, peak RSS (``/usr/bin/time -v``) and peak RSS / file size. Target: ratio <= 0.5,
  RSS <= ~1.5x the file.
- ``megatron``: ``lossdoc.read`` of a Megatron-LM log against ``open(p).read()`` of it (in
  process, after imports). Target: <= 4x.
- ``tb``: ``lossdoc.read`` of a TensorBoard logdir against ``tbparse.SummaryReader(dir).scalars``
  (run by ``--tb-python``, an interpreter that has tbparse; its time excludes its imports).
  Target: >= 10x faster.
- ``hf``: ``lossdoc.read`` of ``trainer_state.json`` against ``orjson.loads`` + building the table
  (``polars.DataFrame(log_history)``). Target: <= 2x.
- ``startup``: ``lossdoc --help`` and ``lossdoc formats`` as processes (and ``python -c pass``).
  Target: < ~0.3 s.
- ``sweep``: ``lossdoc analyze runs/ -q --json F --html F`` over a generated directory of small
  runs (mixed nanoGPT / llm.c / HF trainer_state.json), with all cores and with ``-j 1``;
  runs/s and CPU use. Target: >= 50 runs/s.
- ``dense``: ``lossdoc analyze`` of CSVs with the validation loss at every step (10^5 .. 10^7), against
  ``polars.read_csv`` of the same file as a process: per-evaluation work at one evaluation per step.
- ``scaling``: stage times (read, checks, JSON, HTML) of one fresh process per size, nanoGPT logs of
  10^4 .. 10^7 steps: the cost curve.

Usage::

    python benchmarks/bench_e2e.py                      # everything at full size (~7 min here, logs generated)
    python benchmarks/bench_e2e.py --smoke              # small sizes, 1 round (CI smoke, ~1 min)
    python benchmarks/bench_e2e.py --only e2e,sweep --runs 3 --tb-python /tmp/tbvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_logs  # noqa: E402

PY = sys.executable
LOSSDOC = [PY, "-m", "lossdoc"]

RE_LOOP = r"""
import re, sys
rx = re.compile(r"iter (\d+): loss ([^,\s]+)")
steps, losses = [], []
with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
    for line in fh:
        m = rx.match(line)
        if m:
            steps.append(int(m.group(1)))
            losses.append(float(m.group(2)))
print(len(steps))
"""

STAGES = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from lossdoc.ingest import read
from lossdoc.checks.runner import run_checks
from lossdoc.config import load_config
from lossdoc.report.model import Report
# Warm-up on a tiny log: every lazy import (scipy, matplotlib, jinja2) happens here, so the
# stage times below are the cost of the size, not of the first call.
warm = read(sys.argv[2])
w_runs, w_rules = run_checks(warm, load_config(None, start=Path.cwd()))
Report(runs=w_runs, fail_on="error", rules=w_rules, version="bench").to_html()
t1 = time.perf_counter()
logs = read(sys.argv[1])
t2 = time.perf_counter()
cfg = load_config(None, start=Path.cwd())
runs, rules = run_checks(logs, cfg)
t3 = time.perf_counter()
rep = Report(runs=runs, fail_on=cfg.fail_on, rules=rules, version="bench")
rep.to_json()
t4 = time.perf_counter()
rep.to_html()
t5 = time.perf_counter()
print(json.dumps({"imports_and_warmup": t1 - t0, "read": t2 - t1, "checks": t3 - t2, "json": t4 - t3, "html": t5 - t4,
                  "rows": sum(s.frame.height for s in logs.sources)}))
"""

TBPARSE = r"""
import sys, time, json, warnings
warnings.filterwarnings("ignore")
from tbparse import SummaryReader
t = time.perf_counter()
n = len(SummaryReader(sys.argv[1], pivot=False).scalars)
print(json.dumps({"wall": time.perf_counter() - t, "n": n}))
"""


# --------------------------------------------------------------------------- helpers
def timed_process(cmd: list[str], cwd: Path | None = None) -> dict[str, Any]:
    """Run ``cmd`` under ``/usr/bin/time -v`` (when present): wall, CPU, peak RSS, exit code."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        tfile = tf.name
    full = (["/usr/bin/time", "-v", "-o", tfile] if Path("/usr/bin/time").exists() else []) + cmd
    t = time.perf_counter()
    p = subprocess.run(full, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    out: dict[str, Any] = {"wall": wall, "rc": p.returncode, "stdout": p.stdout[-2000:], "stderr": p.stderr[-2000:]}
    try:
        txt = Path(tfile).read_text()
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
        out["rss_mb"] = int(m.group(1)) / 1024 if m else None
        u = re.search(r"User time \(seconds\): ([\d.]+)", txt)
        s = re.search(r"System time \(seconds\): ([\d.]+)", txt)
        out["cpu"] = float(u.group(1)) + float(s.group(1)) if u and s else None
        c = re.search(r"Percent of CPU this job got: (\d+)%", txt)
        out["cpu_pct"] = int(c.group(1)) if c else None
    finally:
        os.unlink(tfile)
    return out


def med(xs: list[float | None]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def ensure(kind: str, steps: int, data: Path) -> Path:
    p = gen_logs.path_for(data, kind, steps)
    if not p.exists():
        print(f"  generating {p} ...", flush=True)
        p.parent.mkdir(parents=True, exist_ok=True)
        gen_logs.GENERATORS[kind][0](steps, p)
    return p


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------- sections
def bench_e2e(args: argparse.Namespace, out: dict[str, Any]) -> None:
    log = ensure("nanogpt", args.e2e_steps, args.data)
    size_mb = log.stat().st_size / 1e6
    work = Path(tempfile.mkdtemp(prefix="lossdoc-e2e-"))
    rows: dict[str, list[dict[str, Any]]] = {"lossdoc analyze": [], "python re loop (parse only)": []}
    try:
        for _ in range(args.runs):
            rows["lossdoc analyze"].append(timed_process(
                [*LOSSDOC, "analyze", str(log), "--json", str(work / "r.json"), "--html", str(work / "r.html"),
                 "-q"]))
            rows["python re loop (parse only)"].append(timed_process([PY, "-c", RE_LOOP, str(log)]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bad = [r for r in rows["lossdoc analyze"] if r["rc"] not in (0, 1)]
    if bad:
        print("  lossdoc analyze failed:", bad[0]["stderr"][-500:])
    base = med([r["wall"] for r in rows["python re loop (parse only)"]])
    res = []
    for name, rs in rows.items():
        wall, rss = med([r["wall"] for r in rs]), med([r.get("rss_mb") for r in rs])
        res.append({"method": name, "wall": wall, "cpu": med([r.get("cpu") for r in rs]), "rss_mb": rss,
                    "x_re_loop": wall / base if base and wall else None,
                    "rss_x_file": rss / size_mb if rss else None, "runs": len(rs)})
    out["e2e"] = {"file": log.name, "file_mb": round(size_mb, 1), "steps": args.e2e_steps, "rows": res}
    print(f"\n### End to end: nanoGPT log, {args.e2e_steps:,} steps ({size_mb:.0f} MB), median of {args.runs}\n")
    print("| process | wall | CPU | peak RSS | × re loop (wall) | RSS / file size |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in res:
        print(f"| {r['method']} | {fmt_s(r['wall'])} | {fmt_s(r['cpu'])} | {r['rss_mb']:.0f} MB | "
              f"{r['x_re_loop']:.2f}× | {r['rss_x_file']:.2f}× |")


def _interleave(methods: dict[str, Any], path: Path, runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {m: [] for m in methods}
    for _ in range(runs):
        for name, fn in methods.items():
            t = time.perf_counter()
            fn(path)
            times[name].append(time.perf_counter() - t)
    return times


def _ratio_table(title: str, times: dict[str, list[float]], ref: str, out_key: str, out: dict[str, Any],
                 extra: dict[str, Any]) -> None:
    base = med(times[ref])
    res = [{"method": m, "wall": med(ts), "x_ref": med(ts) / base if base else None, "runs": len(ts)}
           for m, ts in times.items()]
    out[out_key] = {**extra, "reference": ref, "rows": res}
    print(f"\n### {title}\n")
    print(f"| method | wall (median) | × {ref} |")
    print("|---|---:|---:|")
    for r in res:
        print(f"| {r['method']} | {fmt_s(r['wall'])} | {r['x_ref']:.2f}× |")


def bench_megatron(args: argparse.Namespace, out: dict[str, Any]) -> None:
    import lossdoc

    log = ensure("megatron", args.steps, args.data)

    def plain_read(p: Path) -> int:
        with open(p, encoding="utf-8") as fh:
            return len(fh.read())

    # Rows counted over the sources' blocks: what the checks use. ``.frame`` (the whole long table,
    # literal string columns materialised) is a convenience view the pipeline never builds.
    methods = {"open().read()": plain_read, "lossdoc.read": lambda p: sum(s.height for s in lossdoc.read(p).sources)}
    lossdoc.read(log)  # imports and parser registry outside the timings
    times = _interleave(methods, log, args.runs)
    _ratio_table(f"Megatron-LM log, {args.steps:,} steps ({log.stat().st_size / 1e6:.0f} MB), "
                 f"median of {args.runs}", times, "open().read()", "megatron", out,
                 {"file_mb": round(log.stat().st_size / 1e6, 1), "steps": args.steps})


def bench_hf(args: argparse.Namespace, out: dict[str, Any]) -> None:
    import orjson
    import polars as pl

    import lossdoc

    p = ensure("hf", args.steps, args.data)

    def baseline(path: Path) -> int:
        doc = orjson.loads(path.read_bytes())
        return pl.DataFrame(doc["log_history"], infer_schema_length=None).height

    methods = {"orjson.loads + DataFrame": baseline, "lossdoc.read": lambda q: lossdoc.read(q).frame.height}
    lossdoc.read(p)
    times = _interleave(methods, p, args.runs)
    _ratio_table(f"HF trainer_state.json, {args.steps:,} log entries ({p.stat().st_size / 1e6:.0f} MB), "
                 f"median of {args.runs}", times, "orjson.loads + DataFrame", "hf", out,
                 {"file_mb": round(p.stat().st_size / 1e6, 1), "steps": args.steps})


def bench_tb(args: argparse.Namespace, out: dict[str, Any]) -> None:
    import lossdoc

    p = ensure("tensorboard", args.steps, args.data).parent
    methods: dict[str, Any] = {"lossdoc.read": lambda q: lossdoc.read(q).frame.height}
    lossdoc.read(p)
    if args.tb_python:
        def tbparse(q: Path) -> None:
            r = subprocess.run([args.tb_python, "-c", TBPARSE, str(q)], capture_output=True, text=True, check=True)
            tb_inner.append(json.loads(r.stdout.strip().splitlines()[-1])["wall"])

        tb_inner: list[float] = []
        methods["tbparse (its own time, imports excluded)"] = tbparse
    times = _interleave(methods, p, args.runs)
    if args.tb_python:
        times["tbparse (its own time, imports excluded)"] = tb_inner
    else:
        print("  (no --tb-python: tbparse not measured)")
    _ratio_table(f"TensorBoard event file, {args.steps:,} scalars, median of {args.runs}", times, "lossdoc.read",
                 "tb", out, {"steps": args.steps})


def bench_startup(args: argparse.Namespace, out: dict[str, Any]) -> None:
    cmds = {"python -c pass": [PY, "-c", "pass"], "lossdoc --help": [*LOSSDOC, "--help"],
            "lossdoc formats": [*LOSSDOC, "formats"]}
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for k, c in cmds.items():  # warm the page cache and any cache lossdoc keeps
        subprocess.run(c, capture_output=True)
    for _ in range(max(args.runs, 5)):
        for k, c in cmds.items():
            times[k].append(timed_process(c)["wall"])
    res = [{"command": k, "wall": med(v), "runs": len(v)} for k, v in times.items()]
    out["startup"] = {"rows": res}
    print(f"\n### Start-up, median of {max(args.runs, 5)}\n")
    print("| command | wall |")
    print("|---|---:|")
    for r in res:
        print(f"| `{r['command']}` | {fmt_s(r['wall'])} |")


def make_sweep(root: Path, n: int, steps: int) -> None:
    """``n`` small runs, a third each nanoGPT ``train.log``, llm.c ``main.log`` and HF ``trainer_state.json``,
    each with its own seed and loss level."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        d = root / f"run{i:04d}"
        d.mkdir(exist_ok=True)
        scale = 1.0 + 0.002 * ((i * 7919) % 101)
        loss = gen_logs.loss_curve(steps, seed=1000 + i) * scale
        kind = i % 3
        if kind == 0:
            (d / "train.log").write_text("".join(
                f"iter {s}: loss {loss[s]:.4f}, time 98.{s % 100:02d}ms, mfu 38.00%\n" for s in range(steps)))
        elif kind == 1:
            lr = gen_logs.lr_curve(steps)
            (d / "main.log").write_text("".join(
                f"s:{s} trl:{loss[s]:.4f} lr:{lr[s]:.6f} norm:1.{s % 97:02d}\n" for s in range(steps)))
        else:
            hist = [{"epoch": round(s / steps, 4), "learning_rate": 3e-4, "loss": round(float(loss[s - 1]), 4),
                     "step": s} for s in range(1, steps + 1, 10)]
            (d / "trainer_state.json").write_text(json.dumps(
                {"global_step": steps, "log_history": hist, "max_steps": steps}, indent=2, sort_keys=True))


def bench_sweep(args: argparse.Namespace, out: dict[str, Any]) -> None:
    root = args.data / f"sweep_{args.sweep_runs}x{args.sweep_steps}"
    marker = root / ".complete"
    if not marker.exists():
        print(f"  generating {root} ...", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        make_sweep(root, args.sweep_runs, args.sweep_steps)
        marker.write_text("ok\n")
    work = Path(tempfile.mkdtemp(prefix="lossdoc-sweep-"))
    variants = {"all cores": [], "-j 1": ["-j", "1"]}
    res = []
    try:
        for name, extra in variants.items():
            rs = [timed_process([*LOSSDOC, "analyze", str(root), "-q", "--json", str(work / "s.json"),
                                 "--html", str(work / "s.html"), *extra])
                  for _ in range(1 if name == "-j 1" else max(1, min(args.runs, 3)))]
            if any(r["rc"] not in (0, 1) for r in rs):
                print("  sweep failed:", rs[0]["stderr"][-800:])
            doc = json.loads((work / "s.json").read_text())
            wall = med([r["wall"] for r in rs])
            res.append({"variant": name, "wall": wall, "runs_per_s": args.sweep_runs / wall if wall else None,
                        "cpu_pct": med([r.get("cpu_pct") for r in rs]), "rss_mb": med([r.get("rss_mb") for r in rs]),
                        "runs_analysed": len(doc["runs"]), "errors": len(doc["sweep"]["errors"]),
                        "html_kb": (work / "s.html").stat().st_size / 1024, "n": len(rs)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["sweep"] = {"runs": args.sweep_runs, "steps": args.sweep_steps, "rows": res}
    print(f"\n### Sweep: {args.sweep_runs:,} runs of {args.sweep_steps:,} steps (nanoGPT / llm.c / HF), "
          f"whole process\n")
    print("| variant | wall | runs/s | CPU use | peak RSS (parent) | runs analysed | errors | HTML |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in res:
        print(f"| {r['variant']} | {fmt_s(r['wall'])} | {r['runs_per_s']:.1f} | {r['cpu_pct']}% | "
              f"{r['rss_mb']:.0f} MB | {r['runs_analysed']} | {r['errors']} | {r['html_kb']:.0f} KB |")


def bench_scaling(args: argparse.Namespace, out: dict[str, Any]) -> None:
    res = []
    warm = ensure("nanogpt", 1000, args.data)
    for n in args.scaling:
        log = ensure("nanogpt", n, args.data)
        p = subprocess.run([PY, "-c", STAGES, str(log), str(warm)], capture_output=True, text=True)
        if p.returncode:
            print(f"  scaling {n} failed: {p.stderr[-500:]}")
            continue
        st = json.loads(p.stdout.strip().splitlines()[-1])
        st["steps"] = n
        res.append(st)
        print(f"  {n:>10,}: " + ", ".join(f"{k} {v:.2f}" for k, v in st.items() if isinstance(v, float)), flush=True)
    out["scaling"] = {"rows": res}
    print("\n### Cost by size (nanoGPT log, one fresh process each, after a warm-up on a 1,000-step log)\n")
    print("| steps | rows | read | checks | JSON | HTML | total after imports | µs / step |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res:
        tot = r["read"] + r["checks"] + r["json"] + r["html"]
        print(f"| {r['steps']:,} | {r['rows']:,} | {fmt_s(r['read'])} | {fmt_s(r['checks'])} | {fmt_s(r['json'])} | "
              f"{fmt_s(r['html'])} | {fmt_s(tot)} | {tot / r['steps'] * 1e6:.2f} |")


POLARS_PARSE = r"""
import sys, polars as pl
pl.read_csv(sys.argv[1])
"""


def bench_dense(args: argparse.Namespace, out: dict[str, Any]) -> None:
    """The whole ``lossdoc analyze`` of CSVs with train and validation loss at *every* step (every per-evaluation
    computation sees one evaluation per step), against ``polars.read_csv`` of the same file in a process of its
    own (parse only), interleaved."""
    res = []
    work = Path(tempfile.mkdtemp(prefix="lossdoc-dense-"))
    try:
        for n in args.dense:
            log = ensure("dense-csv", n, args.data)
            rows: dict[str, list[dict[str, Any]]] = {"analyze": [], "polars": []}
            for _ in range(args.runs):
                rows["analyze"].append(timed_process(
                    [*LOSSDOC, "analyze", str(log), "--json", str(work / "r.json"), "--html", str(work / "r.html"),
                     "-q"]))
                rows["polars"].append(timed_process([PY, "-c", POLARS_PARSE, str(log)]))
            bad = [r for r in rows["analyze"] if r["rc"] not in (0, 1)]
            if bad:
                print(f"  dense {n}: lossdoc analyze failed: {bad[0]['stderr'][-500:]}")
            wall, base = med([r["wall"] for r in rows["analyze"]]), med([r["wall"] for r in rows["polars"]])
            res.append({"steps": n, "file_mb": round(log.stat().st_size / 1e6, 1), "wall": wall, "polars": base,
                        "rss_mb": med([r.get("rss_mb") for r in rows["analyze"]]),
                        "x_polars": wall / base if wall and base else None})
            print(f"  {n:>10,}: analyze {fmt_s(wall)}, polars.read_csv {fmt_s(base)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["dense"] = {"rows": res}
    print(f"\n### Validation at every step (CSV step,train_loss,val_loss,val_acc), median of {args.runs}\n")
    print("| steps | file | `lossdoc analyze` (JSON + HTML) | peak RSS | `polars.read_csv` (parse only) | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in res:
        print(f"| {r['steps']:,} | {r['file_mb']:.0f} MB | {fmt_s(r['wall'])} | {r['rss_mb']:.0f} MB | "
              f"{fmt_s(r['polars'])} | {r['x_polars']:.1f}× |")


SECTIONS = {"startup": bench_startup, "megatron": bench_megatron, "hf": bench_hf, "tb": bench_tb,
            "sweep": bench_sweep, "scaling": bench_scaling, "e2e": bench_e2e, "dense": bench_dense}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    ap.add_argument("--runs", type=int, default=3, help="rounds per comparison (median reported)")
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--steps", type=int, default=1_000_000, help="size for megatron / hf / tb")
    ap.add_argument("--e2e-steps", type=int, default=10_000_000)
    ap.add_argument("--sweep-runs", type=int, default=1000)
    ap.add_argument("--sweep-steps", type=int, default=2000)
    ap.add_argument("--scaling", default="10000,100000,1000000,10000000")
    ap.add_argument("--dense", default="100000,1000000,10000000", help="sizes of the every-step CSVs")
    ap.add_argument("--tb-python", default=None, help="python with tbparse installed (a throwaway venv)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one round (CI)")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.steps, args.e2e_steps = 1, 10_000, 10_000
        args.sweep_runs, args.sweep_steps, args.scaling, args.dense = 12, 300, "10000", "10000"
    args.scaling = [int(x) for x in str(args.scaling).split(",") if x]
    args.dense = [int(x) for x in str(args.dense).split(",") if x]
    args.data.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                       "load_before": load_avg(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                          time.gmtime())}}
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load_avg()}")
    for name in args.only.split(","):
        SECTIONS[name.strip()](args, out)
        out.setdefault("load_after", {})[name] = load_avg()
        (args.data / ("e2e_results_smoke.json" if args.smoke else "e2e_results.json")).write_text(
            json.dumps(out, indent=1, default=str))
    print(f"\nload average at the end: {load_avg()}")


if __name__ == "__main__":
    main()
