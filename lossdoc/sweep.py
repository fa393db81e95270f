"""Sweeps: ``lossdoc analyze runs/`` over a directory holding many runs, one process per core.

A directory is a *sweep* when no directory parser claims it whole (it is not one TensorBoard
logdir, one HF output directory, one ``mlruns/`` store...) and it holds at least two
subdirectories. Each subdirectory (and each recognised log file at the top level) is one
*unit*, analysed on its own exactly as ``lossdoc analyze <unit>`` would (same parsers, same
rules, same findings), in a :class:`concurrent.futures.ProcessPoolExecutor`: per-run analysis
is independent, so the work spreads over every core. A unit that cannot be read is reported
with its error and does not stop the sweep; a top-level file no parser recognises (a
``README``, a config) is skipped, as in a single directory read.

The result is a :class:`SweepReport`: a :class:`~lossdoc.report.model.Report` over every run
(so ``--json``, ``--markdown`` and ``--junit`` work as for any report; the JSON gains a
``sweep`` key with the ranking and the errors), whose terminal summary is a table of runs
ranked by final training loss with each run's worst finding, and whose HTML is an index page
(ranked table, one small curve per run) linking to a section per run.

Workers are forked from a ``forkserver`` that has imported numpy, scipy and the analysis
modules once (about 1 s of CPU per worker saved) on Linux, else started with ``spawn``; never
forked from this process, nor from anything that imported polars (its thread pool and allocator
threads do not survive a fork: the workers import polars themselves). They return each run
without its data frame, plus a ~60-bin min/mean/max summary of the loss for the index page's
sparkline, so little crosses the process boundary.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossdoc.checks.findings import Finding
from lossdoc.report.model import Report, RunReport

#: Sparkline resolution (bins of min/mean/max) kept per run for the HTML index.
SPARK_BINS = 60
#: Rows of the ranked table printed in the terminal (the HTML and JSON list every run).
MAX_TABLE_ROWS = 40

_SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "node_modules", ".venv", "wandb-media"}


# --------------------------------------------------------------------------- discovery
def sweep_units(path: str | os.PathLike[str]) -> list[str] | None:
    """The units of the sweep at ``path`` (display paths), or None when ``path`` is not a sweep.

    A sweep is a directory that no directory parser claims as one artefact and that holds at
    least two subdirectories; its units are the subdirectories and the non-empty top-level
    files, in name order. ``path`` may be a ``file://`` or an fsspec URL (``s3://bucket/runs/``):
    a remote prefix is listed, not downloaded (:func:`lossdoc.ingest.remote.list_sweep`)."""
    from lossdoc.ingest import remote

    if remote.is_remote(os.fspath(path)):
        return _remote_units(os.fspath(path))
    p = Path(remote.local_path(os.fspath(path)))
    if not p.is_dir():
        return None
    try:
        entries = sorted(p.iterdir(), key=lambda e: e.name)
    except OSError:
        return None
    dirs = [e for e in entries if e.is_dir() and not e.name.startswith(".") and e.name not in _SKIP_DIRS]
    if len(dirs) < 2:
        return None
    from lossdoc.ingest.registry import MIN_CONFIDENCE, rank_dir

    cands = rank_dir(p)
    if cands and cands[0].confidence >= MIN_CONFIDENCE:
        return None
    # Anything else at the top (a dangling link, a link loop, a pipe) is a unit too, so that it is
    # reported as unreadable instead of vanishing from the sweep.
    files = [e for e in entries if not e.is_dir() and not e.name.startswith(".")]
    base = os.fspath(path)
    return [os.path.join(base, e.name) for e in dirs + files]


#: Remote units listed by :func:`sweep_units`, with whether each is a prefix (a run directory).
_REMOTE_DIRS: dict[str, bool] = {}


def _remote_units(url: str) -> list[str] | None:
    import shutil

    from lossdoc.ingest import remote
    from lossdoc.ingest.registry import MIN_CONFIDENCE, rank_dir

    listed = remote.list_sweep(url)
    if listed is None:
        return None
    entries, skeleton = listed
    try:
        dirs = [(u, d) for u, d in entries if d and not u.rsplit("/", 1)[-1].startswith(".")
                and u.rsplit("/", 1)[-1] not in _SKIP_DIRS]
        if len(dirs) < 2:
            return None
        cands = rank_dir(skeleton)
        if cands and cands[0].confidence >= MIN_CONFIDENCE:
            return None
    finally:
        shutil.rmtree(skeleton.parent, ignore_errors=True)
    files = [(u, d) for u, d in entries if not d and not u.rsplit("/", 1)[-1].startswith(".")]
    _REMOTE_DIRS.clear()
    _REMOTE_DIRS.update(dirs + files)
    return [u for u, _ in dirs + files]


def unit_is_dir(unit: str) -> bool:
    """Whether a unit is a directory (a prefix, for a remote unit listed by :func:`sweep_units`)."""
    if unit in _REMOTE_DIRS:
        return _REMOTE_DIRS[unit]
    from lossdoc.ingest import remote

    if remote.is_remote(unit):
        fs, inner = remote.filesystem(unit)
        return bool(fs.isdir(inner))
    return os.path.isdir(remote.local_path(unit))


# --------------------------------------------------------------------------- one unit
@dataclass(slots=True)
class UnitResult:
    """What a worker sends back for one unit."""

    unit: str
    is_dir: bool
    runs: list[RunReport] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False
    seconds: float = 0.0
    rules: list[dict[str, Any]] = field(default_factory=list)  #: rules in force with their parameters


def _sparkline(run: RunReport) -> dict[str, list[float | None]] | None:
    """Min/mean/max of the run's main loss in up to :data:`SPARK_BINS` equal-width step bins."""
    import numpy as np

    from lossdoc.analysis.downsample import bin_series
    from lossdoc.report.present import run_series

    got = None
    for split in ("train", "val"):
        got = run_series(run, split, "loss")
        if got is not None and got[1].size:
            break
        got = None
    if got is None:
        return None
    _, st, v = got
    steps = st.astype(np.float64)
    values = v.astype(np.float64)

    b = bin_series(steps, values, min(SPARK_BINS, max(1, steps.size)))

    def lst(a: Any) -> list[float | None]:
        return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float)]

    return {"split": [split], "step": lst(b.step), "mean": lst(b.mean), "min": lst(b.min), "max": lst(b.max),
            "nonfinite": [float(x) for x in b.n_nonfinite]}


def analyze_unit(unit: str, is_dir: bool, options: dict[str, Any]) -> UnitResult:
    """Analyse one unit as ``lossdoc.api.analyze_logs([unit], **options)``; never raises for bad input.

    Format detection skips the parsers that cannot beat the best claim so far
    (:func:`lossdoc.ingest.registry.pruned_ranking`: the same parser is chosen, at a fifth of the
    sniffing cost, and like runs of a sweep ask the parser of the previous unit first)."""
    from lossdoc.errors import EmptyInputError, LossdocError, UnknownFormatError
    from lossdoc.ingest.registry import pruned_ranking

    t0 = time.perf_counter()
    out = UnitResult(unit=unit, is_dir=is_dir)
    try:
        from lossdoc.api import analyze_logs

        with pruned_ranking():
            report = analyze_logs([unit], **options)
        for r in report.runs:
            r.curves["sparkline"] = _sparkline(r)
            r.curves.pop("fit", None)  # the fitted curve is drawn only on a run's own report's chart
            r.frame = None  # the data stays in the worker
            r.data = None
        out.runs = report.runs
        out.rules = report.rules
    except (UnknownFormatError, EmptyInputError) as exc:
        if is_dir:
            out.error = _one_line(str(exc))
        else:  # a top-level README / config / empty file: not a run
            out.skipped = True
    except LossdocError as exc:
        out.error = _one_line(str(exc))
    except MemoryError:
        out.error = f"{unit}: out of memory"
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the sweep
        out.error = f"{unit}: internal error: {type(exc).__name__}: {_one_line(str(exc))}"
    out.seconds = time.perf_counter() - t0
    return out


def _one_line(s: str) -> str:
    return " ".join(s.split())


#: Imported once by the fork server and inherited by every worker forked from it (numpy, scipy.stats,
#: .signal, .ndimage: ~1 s of imports per worker otherwise). Nothing here may import polars
#: (tests/test_sweep.py checks): polars starts threads at import, which a fork does not carry over.
WORKER_PRELOAD = ("numpy", "scipy.stats", "scipy.signal", "scipy.ndimage", "lossdoc.analysis.downsample",
                  "lossdoc.analysis.smoothing", "lossdoc.analysis.stats", "lossdoc.analysis.fitting")


def _mp_context() -> Any:
    """``forkserver`` preloading :data:`WORKER_PRELOAD` on Linux, else ``spawn`` (macOS system
    libraries are not safe to use after a fork, which is why Python spawns there by default)."""
    import multiprocessing
    import sys

    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(WORKER_PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def stop_pool(pool: ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Stop a local pool now (Ctrl-C, an error): queued batches cancelled, running workers
    terminated (SIGTERM, then SIGKILL after ``grace`` seconds), so nothing of the sweep is left
    running after lossdoc exits."""
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    done: set[int] = set()
    # Twice: a worker the pool was starting when the interrupt came shows up a moment later.
    for _ in range(2):
        procs = [p for p in list((getattr(pool, "_processes", None) or {}).values()) if id(p) not in done]
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)
            done.add(id(p))
    # A worker the pool never registered (forked as the interrupt came) leaves by itself once
    # lossdoc has (_worker_init); the fork server follows when its last client is gone.


def _worker_init(parent: int) -> None:
    """A worker leaves as soon as the lossdoc process that started the sweep is gone.

    A worker forked while lossdoc was being interrupted may never be registered with the pool, so
    nothing terminates it; it would wait on its queue forever (it holds both ends of the queue's
    pipe), and keep the fork server alive with it (the server stays while any client holds its
    "alive" pipe), and with them lossdoc's stdout and stderr, so a CI runner reading those would
    wait forever. A daemon thread checks the parent twice a second (an exited parent that nobody
    has reaped yet counts as gone)."""
    import threading

    stat = f"/proc/{parent}/stat"

    def gone() -> bool:
        try:  # Linux: an exited parent not yet reaped is a zombie ("Z"), which os.kill still finds
            with open(stat, "rb") as fh:
                return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
        except FileNotFoundError:
            return True
        except OSError:
            pass
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return True
        except OSError:
            pass
        return False

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if gone():
                os._exit(1)

    threading.Thread(target=watch, name="lossdoc-parent-watch", daemon=True).start()


def _batches(todo: list[tuple[str, bool]], jobs: int) -> list[list[tuple[str, bool]]]:
    """Units in batches of shrinking size (guided scheduling): large batches first, so that few
    round trips are made, and ever smaller ones towards the end, so that the workers finish
    together (with equal batches one worker can be left alone with a whole batch at the end).
    Consecutive units go to different batches, so runs that sort together (a family of big runs)
    are spread out."""
    k = max(1, min(len(todo), jobs * 8))
    order = [u for i in range(k) for u in todo[i::k]]
    out: list[list[tuple[str, bool]]] = []
    i = 0
    while i < len(order):
        size = max(1, min(32, -(-(len(order) - i) // (4 * jobs))))  # ceil(remaining / (4 * jobs))
        out.append(order[i:i + size])
        i += size
    return out


def _analyze_units(units: list[tuple[str, bool]], options: dict[str, Any],
                   where: tuple[str, dict[str, str]] | None = None) -> list[UnitResult]:
    """Worker entry point: a batch of units (fewer round trips than one task per unit).

    ``where``: the caller's working directory and environment, taken on by a local worker first (a
    worker forked from the fork server would otherwise see the directory and environment the server
    started with: relative unit paths and ``LOSSDOC_*`` settings must mean what they mean to the caller).
    """
    if where is not None:
        cwd, env = where
        if os.getcwd() != cwd:
            os.chdir(cwd)
        if dict(os.environ) != env:
            os.environ.clear()
            os.environ.update(env)
    return rules_once([analyze_unit(u, d, options) for u, d in units])


def rules_once(results: list[UnitResult]) -> list[UnitResult]:
    """Keep the rules in force (the same for every unit, ~3 KB) on the first result that has them only."""
    seen = False
    for res in results:
        if res.rules:
            if seen:
                res.rules = []
            seen = True
    return results


# --------------------------------------------------------------------------- the report
@dataclass(slots=True)
class RankRow:
    """One row of the ranked table."""

    rank: int | None  #: 1-based; None for runs without any loss to rank by
    run: str
    index: int  #: position in ``SweepReport.runs`` (HTML section ``run-<index>``)
    final_train_loss: float | None  #: the last logged value
    best_val_loss: float | None
    last_step: int | None
    worst: Finding | None
    n_findings: int
    final_train_loss_smoothed: float | None = None  #: mean of the last 5% of points (what ranks the runs)

    def to_dict(self) -> dict[str, Any]:
        w = self.worst
        return {
            "rank": self.rank,
            "run": self.run,
            "final_train_loss": _finite(self.final_train_loss),
            "final_train_loss_smoothed": _finite(self.final_train_loss_smoothed),
            "best_val_loss": _finite(self.best_val_loss),
            "last_step": self.last_step,
            "findings": self.n_findings,
            "worst": None if w is None else {"rule": w.rule, "name": w.name, "severity": str(w.severity),
                                             "message": w.message},
        }


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def worst_finding(r: RunReport) -> Finding | None:
    """The run's most severe finding (the earliest of equally severe ones)."""
    if not r.findings:
        return None
    return min(r.findings, key=lambda f: (-int(f.severity), f.start_step if f.start_step is not None else -1,
                                          f.rule))


def rank_runs(runs: Sequence[RunReport]) -> list[RankRow]:
    """Runs ranked by final training loss, smoothed (the mean of the last 5% of points: one noisy
    last point does not decide a rank; lower first); runs without a training loss follow, ranked by
    best validation loss; runs with neither come last, unranked."""

    def key(i: int) -> tuple[int, float, str]:
        s = runs[i].summary
        tr, va = _finite(s.final_train_loss_smoothed), _finite(s.best_val_loss)
        if tr is not None:
            return (0, tr, runs[i].run)
        if va is not None:
            return (1, va, runs[i].run)
        return (2, 0.0, runs[i].run)

    order = sorted(range(len(runs)), key=key)
    rows = []
    rank = 0
    for i in order:
        r = runs[i]
        ranked = key(i)[0] < 2
        if ranked:
            rank += 1
        rows.append(RankRow(rank=rank if ranked else None, run=r.run, index=i,
                            final_train_loss=_finite(r.summary.final_train_loss),
                            final_train_loss_smoothed=_finite(r.summary.final_train_loss_smoothed),
                            best_val_loss=_finite(r.summary.best_val_loss), last_step=r.summary.last_step,
                            worst=worst_finding(r), n_findings=len(r.findings)))
    return rows


@dataclass(slots=True, repr=False)
class SweepReport(Report):
    """A :class:`Report` over every run of a sweep, plus the ranking and the units that failed."""

    path: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  #: (unit, one-line error)
    skipped: list[str] = field(default_factory=list)  #: top-level files that are not logs
    units: int = 0
    seconds: float = 0.0
    jobs: int = 1
    scheduler: str | None = None  #: the Dask scheduler whose workers analysed the units, if any

    @property
    def ranking(self) -> list[RankRow]:
        return rank_runs(self.runs)

    def to_dict(self) -> dict[str, Any]:
        d = Report.to_dict(self)
        d["sweep"] = {
            "path": self.path,
            "units": self.units,
            "runs": len(self.runs),
            "ranking": [row.to_dict() for row in self.ranking],
            "errors": [{"unit": u, "error": e} for u, e in self.errors],
            "skipped": list(self.skipped),
        }
        return d

    def to_text(self, color: bool = False) -> str:
        return render_sweep_text(self, color=color)

    def to_html(self, path: str | Path | None = None) -> str:
        html = render_sweep_html(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def _repr_html_(self) -> str:
        return self.to_html()


# --------------------------------------------------------------------------- running
def default_jobs() -> int:
    """Worker processes: ``LOSSDOC_JOBS`` if set, else the CPUs this process may use."""
    env = os.environ.get("LOSSDOC_JOBS")
    if env and env.strip().isdigit() and int(env) > 0:
        return min(int(env), 1024)  # as -j: a typo must not start a process per digit
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _bar(done: int, total: int, failed: int, t0: float) -> str:
    width = 20
    fill = int(width * done / total) if total else width
    rate = done / max(time.perf_counter() - t0, 1e-9)
    extra = f", {failed} failed" if failed else ""
    return f"[{'#' * fill}{'.' * (width - fill)}] {done}/{total} runs ({rate:.0f}/s{extra})"


def analyze_sweep(
    path: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    format: str | None = None,
    config: Any = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    fail_on: str | None = None,
    horizon: int | None = None,
    progress: Callable[[str], None] | None = None,
    units: list[str] | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
) -> SweepReport:
    """Analyse every unit of the sweep at ``path`` in ``jobs`` processes; return a :class:`SweepReport`.

    Options are those of :func:`lossdoc.api.analyze` (no baseline: compare runs of a sweep with
    ``lossdoc compare``). ``jobs=1`` runs in this process. ``progress(message)`` is called as
    units finish (the CLI draws it as a bar on a TTY). Workers start from a fresh interpreter
    (``forkserver`` or ``spawn``): a script calling this needs the usual
    ``if __name__ == "__main__":`` guard. ``executor``: any
    :class:`concurrent.futures.Executor` to run the batches on instead of a local process pool,
    e.g. ``distributed.Client(...).get_executor()`` for a cluster (units must be readable there).
    ``scheduler``: the address of a Dask distributed scheduler (``tcp://host:8786``) whose workers
    analyse the units (:mod:`lossdoc.cluster`; ``jobs`` is then their number of threads).
    """
    from pathlib import Path as _P

    from lossdoc._version import __version__
    from lossdoc.config import Config, load_config
    from lossdoc.errors import InputError

    if units is None:
        units = sweep_units(path)
        if units is None:
            raise InputError("not a sweep directory (needs at least two run subdirectories)", path=os.fspath(path))
    if not isinstance(config, Config):
        config = load_config(config, start=_P.cwd())
    config = config.override(select=select, ignore=ignore, fail_on=fail_on)
    options = {"format": format, "config": config, "horizon": horizon}
    todo = [(u, unit_is_dir(u)) for u in units]
    jobs = max(1, min(jobs or default_jobs(), len(todo)))
    t0 = time.perf_counter()
    results: dict[str, UnitResult] = {}
    failed = 0

    def record(res: UnitResult) -> None:
        nonlocal failed
        results[res.unit] = res
        failed += res.error is not None
        if progress:
            progress(_bar(len(results), len(todo), failed, t0))

    if progress:
        progress(_bar(0, len(todo), 0, t0))
    if scheduler is not None:
        from lossdoc.cluster import Cluster

        with Cluster(scheduler) as cluster:
            jobs = cluster.threads
            for res in cluster.map_units(todo, options):
                record(res)
    elif executor is not None:
        from concurrent.futures import as_completed

        n_batches = min(len(todo), max(jobs, 1) * 8)
        for fut in as_completed([executor.submit(_analyze_units, todo[i::n_batches], options)
                                 for i in range(n_batches)]):
            for res in fut.result():
                record(res)
    elif jobs == 1:
        for u, d in todo:
            record(analyze_unit(u, d, options))
    else:
        batches = _batches(todo, jobs)
        ctx = _mp_context()
        where = (os.getcwd(), dict(os.environ))
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        # Not `with`: its exit waits for every queued batch, so a Ctrl-C that lands while the workers
        # start (inside submit) would hang until the whole sweep finished.
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                   initargs=(os.getpid(),))
        try:
            futures: dict[Future[list[UnitResult]], list[tuple[str, bool]]] = {
                pool.submit(_analyze_units, b, options, where): b for b in batches}
            for fut in as_completed(futures):
                try:
                    batch = fut.result()
                except BrokenProcessPool:
                    # A worker died (killed for memory, a crash in a native library, or a calling
                    # script without an `if __name__ == "__main__":` guard, which spawn needs):
                    # its units are reported, the sweep goes on with what finished.
                    batch = [UnitResult(unit=u, is_dir=d, error=f"{u}: the worker process analysing it "
                                        "died (out of memory, killed, or started from a script "
                                        "without an `if __name__ == '__main__':` guard)") for u, d in futures[fut]
                             if u not in results]
                for res in batch:
                    record(res)
        except BaseException:  # Ctrl-C: do not wait for the queued batches, nor the running ones
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)
    ordered = [results[u] for u, _ in todo]
    runs: list[RunReport] = []
    errors: list[tuple[str, str]] = []
    skipped: list[str] = []
    units: list[str] = []
    for res in ordered:
        if res.error is not None:
            errors.append((res.unit, res.error))
        elif res.skipped:
            skipped.append(res.unit)
        else:
            runs.extend(res.runs)
            units.extend([res.unit] * len(res.runs))
    _dedupe(runs, units)
    # LR008/LR009: the runs of an LR sweep compared with each other (one log alone cannot show it)
    from lossdoc.checks.sweep_compare import compare_lr_sweep

    compare_lr_sweep(runs, config)
    # Every unit ran with the same configuration: the first report's rules are the sweep's.
    rules_in_force = next((res.rules for res in ordered if res.rules), [])
    return SweepReport(runs=runs, fail_on=config.fail_on, rules=rules_in_force, version=__version__,
                       path=os.fspath(path), errors=errors, skipped=skipped, units=len(todo),
                       seconds=time.perf_counter() - t0, jobs=jobs, scheduler=scheduler)


def _dedupe(runs: list[RunReport], units: list[str] | None = None) -> None:
    """Two units that produced the same run name (``nanogpt/healthy`` and ``keras/healthy`` both
    named ``healthy`` within their unit) get their unit's name in front (``nanogpt/healthy``), as a
    single directory read names them; ``<source>:<run>`` only when that still clashes."""
    def rename(r: RunReport, new: str) -> None:
        r.findings = [dataclasses.replace(f, run=new) for f in r.findings]
        r.run = new

    seen: dict[str, int] = {}
    for r in runs:
        seen[r.run] = seen.get(r.run, 0) + 1
    if units is not None and len(units) == len(runs):
        prefixed = {}
        for r, u in zip(runs, units, strict=True):
            if seen[r.run] > 1:
                base = u.rstrip("/").rsplit("/", 1)[-1]
                prefixed[id(r)] = r.run if r.run == base or r.run.startswith(base + "/") else f"{base}/{r.run}"
        if len(set(prefixed.values())) == len(prefixed) and not set(prefixed.values()) & set(seen):
            for r in runs:
                if id(r) in prefixed:
                    rename(r, prefixed[id(r)])
            return
    for r in runs:
        if seen[r.run] > 1:
            rename(r, f"{r.source}:{r.run}")


# --------------------------------------------------------------------------- terminal
def _where(report: SweepReport) -> str:
    if report.scheduler:
        return f"{report.jobs} Dask worker thread{'' if report.jobs == 1 else 's'} at {report.scheduler}"
    return f"{report.jobs} process{'' if report.jobs == 1 else 'es'}"


def render_sweep_text(report: SweepReport, color: bool = False) -> str:
    """The ranked table: rank, run, final train loss, best val loss, last step, worst finding."""
    from lossdoc.report.present import clean, counts_phrase, fmt_num, fmt_step

    styles = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m", "bold": "\x1b[1m",
              "fail": "\x1b[1;37;41m", "warn": "\x1b[1;30;43m", "pass": "\x1b[1;30;42m", "dim": "\x1b[2m"}

    def st(s: str, style: str) -> str:
        return f"{styles[style]}{s}\x1b[0m" if color else s

    rows = report.ranking
    n = len(report.runs)
    gate = ""
    if report.fail_on != "never":
        gate = f"  ({'fails' if report.failing() else 'passes'} --fail-on {report.fail_on})"
    verdict = report.verdict
    lines = [f"{st(f' {verdict.upper()} ', verdict)}  sweep {clean(report.path, 60)}: {n} run{'' if n == 1 else 's'} "
             f"from {report.units} unit{'' if report.units == 1 else 's'} in {report.seconds:.1f} s "
             f"({_where(report)}), {counts_phrase(report)}{gate}", ""]
    wn = min(max((len(clean(r.run, 40)) for r in rows), default=3), 40)
    lines.append(f"{'#':>4}  {'run':<{wn}}  {'final train*':>12}  {'best val':>9}  {'last step':>10}  worst finding")
    for row in rows[:MAX_TABLE_ROWS]:
        w = row.worst
        if w is None:
            worst = st("—", "dim")
        else:
            more = f" (+{row.n_findings - 1})" if row.n_findings > 1 else ""
            worst = f"{st(f'{w.severity!s:<7}', str(w.severity))} {w.rule} {clean(w.name, 40)}{more}"
        rank = str(row.rank) if row.rank is not None else "–"
        lines.append(f"{rank:>4}  {clean(row.run, 40):<{wn}}  {fmt_num(row.final_train_loss_smoothed):>12}  "
                     f"{fmt_num(row.best_val_loss):>9}  {fmt_step(row.last_step):>10}  {worst}")
    if len(rows) > MAX_TABLE_ROWS:
        lines.append(f"   … and {len(rows) - MAX_TABLE_ROWS} more runs (every run is in the HTML and JSON reports)")
    lines.append(st("   * final train: the mean of the last 5% of logged points, at least 3", "dim"))
    if report.errors:
        lines.append("")
        lines.append(st(f"{len(report.errors)} unit{'' if len(report.errors) == 1 else 's'} could not be read:",
                        "error"))
        for unit, err in report.errors[:MAX_TABLE_ROWS]:
            lines.append(f"  {clean(unit, 60)}: {clean(err, 200)}")
        if len(report.errors) > MAX_TABLE_ROWS:
            lines.append(f"  … and {len(report.errors) - MAX_TABLE_ROWS} more")
    if report.skipped:
        shown = ", ".join(clean(s, 40) for s in report.skipped[:3]) + (" …" if len(report.skipped) > 3 else "")
        lines.append(st(f"{len(report.skipped)} top-level file(s) not recognised as logs: {shown}", "dim"))
    lines.append("")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML
def _spark_svg(sp: dict[str, list[Any]] | None, width: int = 160, height: int = 36) -> str:
    """A small inline SVG: the bin-mean curve over a band of the bin min..max (numbers only)."""
    if not sp:
        return ""
    pts = [(s, m, lo, hi) for s, m, lo, hi in zip(sp["step"], sp["mean"], sp["min"], sp["max"], strict=True)
           if s is not None and m is not None and lo is not None and hi is not None]
    if len(pts) < 2:
        return ""
    xs = [p[0] for p in pts]
    lo_all = min(p[2] for p in pts)
    hi_all = max(p[3] for p in pts)
    # Keep the curve readable when a spike dwarfs it: clip the band at the 95th percentile of the means.
    means = sorted(p[1] for p in pts)
    cap = max(means[int(0.95 * (len(means) - 1))] * 1.5 if means[0] >= 0 else hi_all, means[-1])
    hi_all = min(hi_all, cap) if cap > lo_all else hi_all
    x0, x1 = xs[0], xs[-1]
    span_x = (x1 - x0) or 1.0
    span_y = (hi_all - lo_all) or 1.0

    def X(v: float) -> float:
        return round(1 + (v - x0) / span_x * (width - 2), 1)

    def Y(v: float) -> float:
        v = min(max(v, lo_all), hi_all)
        return round(height - 2 - (v - lo_all) / span_y * (height - 4), 1)

    band = " ".join(f"{X(p[0])},{Y(p[3])}" for p in pts) + " " + " ".join(
        f"{X(p[0])},{Y(p[2])}" for p in reversed(pts))
    line = " ".join(f"{X(p[0])},{Y(p[1])}" for p in pts)
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="loss curve"><polygon points="{band}" class="spark-band"/>'
            f'<polyline points="{line}" class="spark-line"/></svg>')


def render_sweep_html(report: SweepReport) -> str:
    """The sweep's HTML: an index (ranked table with a sparkline per run) linking to a section per run."""
    from markupsafe import Markup

    from lossdoc.report.present import VERDICT_TEXT, counts_phrase, fmt_num, fmt_step, fmt_steps, key_numbers
    from lossdoc.report.render_html import _env

    ranking = report.ranking
    detailed = detailed_runs(ranking)
    rows = []
    for row in ranking:
        r = report.runs[row.index]
        w = row.worst
        shown = row.index in detailed
        rows.append({
            "rank": row.rank, "run": r.run, "anchor": f"run-{row.index + 1}" if shown else None,
            "final": fmt_num(row.final_train_loss_smoothed), "best_val": fmt_num(row.best_val_loss),
            "last_step": fmt_step(row.last_step), "n_findings": row.n_findings,
            "worst": None if w is None else {"severity": str(w.severity), "rule": w.rule, "name": w.name,
                                             "message": w.message},
            "spark": Markup(_spark_svg(r.curves.get("sparkline"))) if shown else "",
        })
    sections = []
    for i, r in enumerate(report.runs):
        if i not in detailed:
            continue
        s = r.summary
        ex = s.extrapolated
        sections.append({
            "anchor": f"run-{i + 1}", "run": r.run, "source": r.source, "format": r.format,
            "worst": str(r.worst) if r.worst is not None else None,
            "numbers": [(label, value + (f" ({note.replace('at step', 'step')})" if note else ""))
                        for label, value, note in key_numbers(s) if not label.endswith("smoothed")]
                       + [("Steps", f"{fmt_step(s.first_step)}–{fmt_step(s.last_step)}"),
                        ("Extrapolated", "—" if ex is None else
                         f"{fmt_num(ex.loss)} [{fmt_num(ex.low)}, {fmt_num(ex.high)}] at step {fmt_step(ex.step)}")],
            "findings": [{"severity": str(f.severity), "rule": f.rule, "name": f.name, "steps": fmt_steps(f),
                          "series": "/".join(x for x in (f.split, f.metric) if x), "message": f.message,
                          "recommendation": f.recommendation}
                         for f in sorted(r.findings, key=lambda f: (-int(f.severity),
                                                                     f.start_step if f.start_step is not None
                                                                     else -1, f.rule))],
            "series": [{"key": f"{x.split}/{x.metric}", "name": x.name, "points": fmt_step(x.points),
                        "non_finite": x.non_finite} for x in r.series],
            "notes": [{"kind": n.kind, "message": n.message} for n in r.notes],
            "spark": Markup(_spark_svg(r.curves.get("sparkline"), width=480, height=90)),
        })
    n_err = len(report.errors)
    ctx = {
        "version": report.version, "verdict": report.verdict, "verdict_text": VERDICT_TEXT[report.verdict],
        "counts_phrase": counts_phrase(report), "fail_on": report.fail_on, "failing": report.failing(),
        "path": report.path, "n_runs": len(report.runs), "units": report.units, "jobs": report.jobs,
        "seconds": f"{report.seconds:.1f}", "rows": rows, "sections": sections,
        "errors": [{"unit": u, "error": e} for u, e in report.errors], "n_errors": n_err,
        "skipped": report.skipped,
        "summarised": len(detailed) < len(report.runs), "n_detailed": len(detailed),
        "index_top": INDEX_TOP, "rule_counts": rule_counts(report.runs) if len(detailed) < len(report.runs) else [],
    }
    from lossdoc.report.overlay import sweep_overlay

    ov = sweep_overlay(report, ranking, detailed)
    ctx["overlay"] = None if ov is None else {**ov, "svg": Markup(ov["svg"])}
    return _env().get_template("sweep.html.j2").render(**ctx)


#: Up to this many runs, the HTML index shows every run with its curve and section; above it, it is
#: summarised (:func:`detailed_runs`): a 10,000-run index would otherwise be ~40 MB.
INDEX_FULL_RUNS = 200
#: In a summarised index: the best runs shown in full, and at most as many runs with an error.
INDEX_TOP = 100


def detailed_runs(ranking: Sequence[RankRow]) -> set[int]:
    """Indices of the runs the HTML index shows with a curve and a section: every run up to
    :data:`INDEX_FULL_RUNS`; above, the :data:`INDEX_TOP` best ranked and the first
    :data:`INDEX_TOP` (in rank order) whose worst finding is an error. Every run keeps its row in
    the ranked table, and every run is in the JSON, Markdown and JUnit outputs."""
    if len(ranking) <= INDEX_FULL_RUNS:
        return {row.index for row in ranking}
    out = {row.index for row in ranking[:INDEX_TOP]}
    errors = [row.index for row in ranking if row.worst is not None and str(row.worst.severity) == "error"]
    out.update(errors[:INDEX_TOP])
    return out


def rule_counts(runs: Sequence[RunReport]) -> list[dict[str, Any]]:
    """Per rule: how many runs have a finding of it, its severity and name, most severe and most common first."""
    seen: dict[str, dict[str, Any]] = {}
    for r in runs:
        for f in {f.rule: f for f in r.findings}.values():
            e = seen.setdefault(f.rule, {"rule": f.rule, "name": f.name, "severity": str(f.severity),
                                         "level": int(f.severity), "runs": 0})
            e["runs"] += 1
            e["level"] = max(e["level"], int(f.severity))
    return sorted(seen.values(), key=lambda e: (-e["level"], -e["runs"], e["rule"]))


__all__ = [
    "RankRow",
    "SweepReport",
    "UnitResult",
    "analyze_sweep",
    "analyze_unit",
    "default_jobs",
    "rank_runs",
    "render_sweep_html",
    "render_sweep_text",
    "sweep_units",
    "worst_finding",
]
