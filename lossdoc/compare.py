"""Comparing a candidate run with a baseline (one run, or several seeds of it): the CI gate.

What is compared, on the step range both runs cover (a shorter run is compared on the common
range, and the comparison says so):

``final_train_loss``
    10%-trimmed mean training loss over the trailing window (the last 20% of the common range;
    trimming keeps a transient spike in one run's window from deciding the comparison). One
    baseline: the two windows are paired by step on a shared grid and a circular block bootstrap
    of the per-step differences (blocks keep the autocorrelation of a loss curve; pairing
    cancels the trend both runs share) gives the difference's interval and a one-sided p-value
    against the non-inferiority margin ``tolerance x |baseline|``. Several baseline seeds: the
    candidate is compared with the seeds' spread (a t prediction interval for one more seed).
``best_val_loss``
    the lowest validation loss on the common range (when both runs log one).
``auc``
    mean training loss over the common range (area under the curve / range), from the
    per-bin difference curve on a shared grid, block-bootstrapped the same way. It gates only
    with several baseline seeds: seeds differ most in the early transient, which dominates the
    area, and one baseline cannot measure that.
``steps_to_baseline_final``
    first step at which the candidate's smoothed loss reaches the baseline's final level
    (reported, not gating).

A quantity *regresses* when the candidate is worse by more than the tolerance and the
difference is significant (p < alpha); a run regresses when any gating quantity does. With one
baseline only the within-run noise is measurable, not seed-to-seed variation, so the test is
against the tolerance margin itself (H0: difference <= tolerance x |baseline|). With several
baseline seeds the spread is measured: the candidate must lie above the seeds' one-sided 95%
prediction interval (H0: difference <= 0) *and* be worse than the tolerance.

Snapshots (``lossdoc snapshot``) store a compact, versioned summary of a run: bin means of
each loss curve (<= 400 bins), the raw trailing points (<= 2,000), and the noise level, so a
baseline small enough to commit can stand in for the full log.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lossdoc.errors import InputError
from lossdoc.model import LogSet
from lossdoc.numfmt import fmt_num

SNAPSHOT_SCHEMA = "lossdoc/snapshot-1"

#: Fraction of the common step range that forms the trailing "final" window.
WINDOW = 0.2
#: One-sided significance level of every gating test.
ALPHA = 0.05
#: Bootstrap resamples (seeded: the same inputs always give the same verdict).
N_BOOT = 2000
GRID_BINS = 200
#: Share trimmed from each end when averaging a trailing window: a transient spike that happens to
#: fall in the window of one run must not decide the comparison of levels.
TRIM = 0.1
SNAPSHOT_BINS = 400
SNAPSHOT_TAIL = 2000


# --------------------------------------------------------------------------- run curves
@dataclass
class Curve:
    """Finite points of one loss series, sorted by step."""

    steps: np.ndarray
    values: np.ndarray
    name: str = "loss"
    raw_from: float = -math.inf  #: steps >= raw_from are raw points; before it, bin means (snapshots)

    def window(self, lo: float, hi: float) -> np.ndarray:
        keep = (self.steps >= lo) & (self.steps <= hi)
        return self.values[keep]

    @property
    def first(self) -> int:
        return int(self.steps[0])

    @property
    def last(self) -> int:
        return int(self.steps[-1])


@dataclass
class RunCurves:
    run: str
    source: str
    format: str
    train: Curve | None
    val: Curve | None

    @property
    def main(self) -> Curve | None:
        return self.train if self.train is not None else self.val


def _curve(series: Any) -> Curve | None:
    if series is None:
        return None
    steps, values = series.steps, series.values
    ok = np.isfinite(values)
    if ok.sum() == 0:
        return None
    order = np.argsort(steps[ok], kind="stable")
    return Curve(steps[ok][order].astype(np.float64), values[ok][order].astype(np.float64), series.name)


def curves_from_logset(logset: LogSet) -> list[RunCurves]:
    """The train and validation loss of every run (the same series the checks call "the loss")."""
    return [_run_curves(run, src.run_blocks(run), src.meta, src.path, src.format)
            for src in logset.sources for run in src.runs]


def _run_curves(run: str, frame: Any, meta: dict[str, Any], source: str, fmt: str,
                data: dict[Any, Any] | None = None) -> RunCurves:
    from lossdoc.checks.context import RunContext

    ctx = RunContext(run, None if data is not None else frame, notes=[], meta=meta, source=source, format=fmt,
                     series=data)
    return RunCurves(run, source, fmt, _curve(ctx.loss("train")), _curve(ctx.own_loss("val")))


# --------------------------------------------------------------------------- snapshots
def _curve_to_dict(c: Curve) -> dict[str, Any]:
    # Values near the float limit (+-1e308) overflow differences and bin means to inf: written as
    # null (_json_num), so the warning says nothing the snapshot does not.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _curve_to_dict_inner(c)


def _curve_to_dict_inner(c: Curve) -> dict[str, Any]:
    from lossdoc.analysis.downsample import bin_series
    from lossdoc.analysis.stats import lag1_autocorr, robust_scale

    n = c.steps.size
    tail = min(n, SNAPSHOT_TAIL)
    head_steps, head_vals = c.steps[: n - tail], c.values[: n - tail]
    bins: dict[str, list[Any]] = {"step": [], "mean": [], "count": []}
    if head_steps.size:
        b = bin_series(head_steps, head_vals, min(SNAPSHOT_BINS, head_steps.size))
        keep = b.count > 0
        bins = {"step": [float(s) for s in b.step[keep]], "mean": [_json_num(v) for v in b.mean[keep]],
                "count": [int(k) for k in b.count[keep]]}
    resid = np.diff(c.values[-tail:]) if tail > 2 else np.array([])
    return {
        "name": c.name,
        "points": int(n),
        "first_step": int(c.steps[0]),
        "last_step": int(c.steps[-1]),
        "bins": bins,
        "tail": {"step": [int(s) for s in c.steps[n - tail:]], "value": [_json_num(v) for v in c.values[n - tail:]]},
        # A converged run's constant tail has no autocorrelation (0/0): null, not NaN (JSON has none).
        "noise": {"robust_sd_of_differences": _json_num(robust_scale(resid)) if resid.size > 2 else None,
                  "lag1_autocorr": _json_num(lag1_autocorr(c.values[-tail:])) if tail > 3 else None},
    }


def _json_num(v: Any) -> float | None:
    """A float for the snapshot JSON: NaN and +-inf (a NaN loss, a bin mean that overflowed) as null."""
    f = float(v)
    return f if math.isfinite(f) else None


#: Most bins + tail points one snapshot curve may hold (lossdoc writes at most 400 + 2,000).
MAX_SNAPSHOT_POINTS = 1_000_000


def _curve_from_dict(d: dict[str, Any], where: str) -> Curve | None:
    try:
        arrays = [d["bins"]["step"], d["bins"]["mean"], d["tail"]["step"], d["tail"]["value"]]
        if not all(isinstance(a, list) and all(x is None or type(x) in (int, float) for x in a) for a in arrays):
            raise TypeError("bins and tail must be lists of numbers")
        if sum(len(a) for a in arrays) > 2 * MAX_SNAPSHOT_POINTS:
            raise ValueError(f"more than {MAX_SNAPSHOT_POINTS:,} points")
        # An integer beyond the float range (10^400) is +-inf, as 1e400 is; null is NaN.
        bs, bv, ts, tv = (np.array([_to_float(x) for x in a], dtype=float) for a in arrays)
        name = str(d.get("name", "loss"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"not a valid lossdoc snapshot ({where}: {exc})") from None
    if bs.ndim != 1 or bs.shape != bv.shape or ts.ndim != 1 or ts.shape != tv.shape:
        raise InputError(f"not a valid lossdoc snapshot ({where}: steps and values differ in length)")
    raw_from = float(ts[0]) if ts.size else math.inf
    steps = np.concatenate([bs, ts])
    values = np.concatenate([bv, tv])
    ok = np.isfinite(values) & np.isfinite(steps) & (np.abs(steps) < 2.0**62)
    if not ok.any():  # an empty or all-null curve is no curve: "nothing compared", never a crash
        return None
    order = np.argsort(steps[ok], kind="stable")  # a hand-edited snapshot may list steps out of order
    return Curve(steps[ok][order], values[ok][order], name, raw_from)


def _to_float(x: Any) -> float:
    if x is None:
        return math.nan
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def snapshot(logset: LogSet) -> dict[str, Any]:
    """A compact, versioned summary of every run in ``logset`` (``lossdoc snapshot``)."""
    from lossdoc._version import __version__

    runs = []
    for rc in curves_from_logset(logset):
        runs.append({
            "run": rc.run, "source": rc.source, "format": rc.format,
            "train_loss": _curve_to_dict(rc.train) if rc.train is not None else None,
            "val_loss": _curve_to_dict(rc.val) if rc.val is not None else None,
        })
    if not any(r["train_loss"] or r["val_loss"] for r in runs):
        game = _adversarial_names(logset)
        raise InputError("no loss series to snapshot" + (
            f" ({game}: the two sides of a GAN's game, which are not a loss a baseline can hold; see "
            "`lossdoc rule LG005`)" if game else ""), path=", ".join(s.path for s in logset.sources))
    return {"schema": SNAPSHOT_SCHEMA, "version": __version__, "runs": runs}


def _adversarial_names(logset: LogSet) -> str:
    """The adversarial (GAN) losses of the first run that logs them, as names ("" if none)."""
    from lossdoc.checks.series import adversarial_losses, series_from_blocks

    for src in logset.sources:
        for run in src.runs:
            data = series_from_blocks(src.run_blocks(run))
            for split in ("train", "val"):
                adv = adversarial_losses(data, split)
                if adv:
                    return ", ".join(s.name for s in adv)
    return ""


def _is_snapshot(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    with open(path, "rb") as fh:
        head = fh.read(256)
    return b'"lossdoc/snapshot-' in head


def load_snapshot(path: str | os.PathLike[str]) -> list[RunCurves]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read snapshot: {exc}", path=str(path)) from None
    except RecursionError:  # [[[[...]]]] nested beyond Python's stack
        raise InputError("cannot read snapshot: JSON nested too deeply", path=str(path)) from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema != SNAPSHOT_SCHEMA:
        raise InputError(f"unsupported snapshot schema {schema!r} (this lossdoc reads {SNAPSHOT_SCHEMA})",
                         path=str(path))
    out = []
    runs = doc.get("runs") or []
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise InputError("not a valid lossdoc snapshot: 'runs' must be a list of objects", path=str(path))
    for i, r in enumerate(runs):
        where = f"{path} run {i}"
        tr = _curve_from_dict(r["train_loss"], where) if r.get("train_loss") else None
        va = _curve_from_dict(r["val_loss"], where) if r.get("val_loss") else None
        out.append(RunCurves(str(r.get("run", f"run{i}")), str(path), "snapshot", tr, va))
    if not out:
        raise InputError("snapshot holds no runs", path=str(path))
    return out


def load_baselines(paths: Sequence[str], format: str | None = None) -> list[RunCurves]:
    """Baselines from snapshot files and/or any supported logs; every run in them is one seed."""
    from lossdoc.ingest import read

    out: list[RunCurves] = []
    for p in paths:
        if _is_snapshot(Path(p)):
            out.extend(load_snapshot(p))
        else:
            out.extend(curves_from_logset(read([p], format=format)))
    usable = [b for b in out if b.main is not None]
    if not usable:
        raise InputError("baseline has no finite loss values", path=", ".join(paths))
    return usable


# --------------------------------------------------------------------------- statistics
def _boot_means(values: np.ndarray, rng: np.random.Generator, trim: float = 0.0) -> np.ndarray:
    """Block-bootstrap distribution of the (trimmed) mean of ``values``."""
    from lossdoc.analysis.stats import block_bootstrap

    if values.size < 2:
        return np.full(N_BOOT, float(values.mean()) if values.size else math.nan)
    if trim:
        from scipy.stats import trim_mean

        return block_bootstrap(values, lambda a, axis: trim_mean(a, trim, axis=axis), n_boot=N_BOOT, rng=rng,
                               vectorized=True)
    return block_bootstrap(values, np.mean, n_boot=N_BOOT, rng=rng, vectorized=True)


def _tmean(values: np.ndarray) -> float:
    from scipy.stats import trim_mean

    return float(trim_mean(values, TRIM)) if values.size >= 5 else float(np.mean(values))


def _quantity(name: str, label: str, cand: float, base: float, *, tol: float, gating: bool, test: str,
              diff_boot: np.ndarray | None = None, seeds: np.ndarray | None = None,
              note: str | None = None, higher_is_worse: bool = True) -> dict[str, Any]:
    """One compared quantity with its difference, 90% interval, p-value and verdict."""
    diff = cand - base
    margin = tol * abs(base)
    rel = diff / abs(base) if base != 0 else (math.inf if diff > 0 else 0.0)
    ci: list[float] | None = None
    p: float | None = None
    if seeds is not None and seeds.size >= 2:
        from scipy import stats as sps

        k = seeds.size
        sd = float(np.std(seeds, ddof=1))
        base = float(np.mean(seeds))
        diff = cand - base
        margin = tol * abs(base)
        rel = diff / abs(base) if base != 0 else 0.0
        scale = sd * math.sqrt(1 + 1 / k)
        if scale > 0:
            tq = float(sps.t.ppf(0.95, k - 1))
            ci = [diff - tq * scale, diff + tq * scale]
            # With seeds the spread is measured: significance (the candidate lies above the seeds'
            # prediction interval) plus the practical tolerance on the point difference.
            p = float(sps.t.sf(diff / scale, k - 1))
        else:
            p = 0.0 if diff > margin else 1.0
            ci = [diff, diff]
        test = f"seed spread (t prediction interval, {k} baseline seeds)"
    elif diff_boot is not None and diff_boot.size and np.isfinite(diff_boot).all():
        ci = [float(np.quantile(diff_boot, 0.05)), float(np.quantile(diff_boot, 0.95))]
        # one-sided: how often is the resampled difference within the margin (not worse)?
        p = float((np.sum(diff_boot <= margin) + 1) / (diff_boot.size + 1))
    worse = diff > margin if higher_is_worse else diff < -margin
    regressed = bool(worse and (p is None or p < ALPHA))
    if p is None and worse:
        test += " (no noise estimate: decided on the tolerance alone)"
    out = {
        "name": name, "label": label, "candidate": _f(cand), "baseline": _f(base), "difference": _f(diff),
        "relative": _f(rel), "ci": [_f(c) for c in ci] if ci else None, "level": 0.9, "test": test,
        "pvalue": _f(p), "margin": _f(margin), "regressed": regressed, "gating": gating,
    }
    if note:
        out["note"] = note
    return out


def _f(x: Any) -> Any:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _grid_means(c: Curve, edges: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(edges, c.steps, side="right") - 1
    idx[c.steps == edges[-1]] = edges.size - 2
    ok = (idx >= 0) & (idx < edges.size - 1)
    sums = np.bincount(idx[ok], weights=c.values[ok], minlength=edges.size - 1)
    cnt = np.bincount(idx[ok], minlength=edges.size - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)


def _chart_points(c: Curve, n: int = 400) -> tuple[list[float], list[float]]:
    if c.steps.size <= n:
        return [float(x) for x in c.steps], [float(x) for x in c.values]
    from lossdoc.analysis.downsample import bin_series

    b = bin_series(c.steps, c.values, n)
    keep = b.count > 0
    return [float(x) for x in b.step[keep]], [float(x) for x in b.mean[keep]]


def _first_reach(c: Curve, target: float, lo: float, hi: float) -> int | None:
    from lossdoc.analysis.smoothing import ema_debiased

    keep = (c.steps >= lo) & (c.steps <= hi)
    if keep.sum() < 2:
        return None
    sm = ema_debiased(c.values[keep], 0.6 if keep.sum() < 1000 else 0.9)
    hit = np.nonzero(sm <= target)[0]
    return int(c.steps[keep][hit[0]]) if hit.size else None


def compare_runs(cand: RunCurves, bases: list[RunCurves], tolerance: float, seed: int = 0) -> dict[str, Any]:
    """Compare one candidate run with one baseline run or several baseline seeds."""
    rng = np.random.default_rng(seed)
    c = cand.train if cand.train is not None else cand.val
    which = "train" if cand.train is not None else "val"
    bcurves = [(b.train if which == "train" else b.val) for b in bases]
    bcurves = [b for b in bcurves if b is not None]
    result: dict[str, Any] = {"run": cand.run, "source": cand.source, "regressed": False, "quantities": [],
                              "series": f"{which}/loss"}
    if c is None or not bcurves:
        result["note"] = f"no {which} loss in both the candidate and the baseline: nothing compared"
        return result
    lo = max([c.first] + [b.first for b in bcurves])
    hi = min([c.last] + [b.last for b in bcurves])
    result["common_range"] = [int(lo), int(hi)]
    notes = []
    blast = max(b.last for b in bcurves)
    if c.last < blast:
        notes.append(f"candidate stops at step {c.last:,}, before the baseline's {blast:,}: "
                     f"compared on the common range {int(lo):,}..{int(hi):,}")
    elif hi < c.last:
        notes.append(f"baseline stops at step {int(hi):,}: compared on the common range {int(lo):,}..{int(hi):,}")
    if hi <= lo:
        result["note"] = "; ".join(notes + ["the runs share no step range: nothing compared"])
        return result
    w_lo = hi - WINDOW * (hi - lo)
    qs = []
    # ---- final loss (trailing window)
    cw = c.window(w_lo, hi)
    bws = [b.window(w_lo, hi) for b in bcurves]
    if cw.size and all(bw.size for bw in bws):
        cval = _tmean(cw)
        bvals = np.array([_tmean(bw) for bw in bws])
        label = f"final {which} loss (10%-trimmed mean over steps {int(w_lo):,}..{int(hi):,})"
        if len(bws) == 1:
            # Paired by step: bin both windows on one grid and bootstrap the per-bin differences, so
            # the trend both runs share inside the window cancels instead of inflating the noise.
            nb = int(min(100, max(5, min(cw.size, bws[0].size))))
            wedges = np.linspace(w_lo, hi, nb + 1)
            cg, bg = _grid_means(c, wedges), _grid_means(bcurves[0], wedges)
            both = np.isfinite(cg) & np.isfinite(bg)
            if both.sum() >= 5:
                d = cg[both] - bg[both]
                bval = _tmean(bg[both])
                cval = bval + _tmean(d)  # the paired difference decides; candidate = baseline + it
                diff_boot = _boot_means(d, rng, trim=TRIM)
                test = ("circular block bootstrap of the trimmed mean of per-step differences in the trailing "
                        "window")
            else:
                bval = float(bvals[0])
                diff_boot = _boot_means(cw, rng, trim=TRIM) - _boot_means(bws[0], rng, trim=TRIM)
                test = "circular block bootstrap of the trailing windows (trimmed means)"
            qs.append(_quantity(f"final_{which}_loss", label, cval, bval, tol=tolerance, gating=True,
                                test=test, diff_boot=diff_boot))
        else:
            qs.append(_quantity(f"final_{which}_loss", label, cval, float(bvals.mean()), tol=tolerance,
                                gating=True, test="", seeds=bvals))
    # ---- best validation loss
    if which == "train" and cand.val is not None:
        bvs = [b.val for b in bases if b.val is not None]
        if bvs:
            cv = cand.val.window(lo, hi)
            bmins = [bv.window(lo, hi) for bv in bvs]
            if cv.size and all(m.size for m in bmins):
                vals = np.array([float(m.min()) for m in bmins])
                qs.append(_quantity("best_val_loss", f"best validation loss (steps {int(lo):,}..{int(hi):,})",
                                    float(cv.min()), float(vals.mean()), tol=tolerance, gating=True,
                                    test="tolerance on the best evaluation",
                                    seeds=vals if vals.size >= 2 else None))
    # ---- area under the curve on a shared grid
    edges = np.linspace(lo, hi, GRID_BINS + 1)
    cg = _grid_means(c, edges)
    bgs = [_grid_means(b, edges) for b in bcurves]
    both = np.isfinite(cg) & np.all([np.isfinite(g) for g in bgs], axis=0)
    if both.sum() >= 5:
        cauc = float(np.mean(cg[both]))
        baucs = np.array([float(np.mean(g[both])) for g in bgs])
        label = f"mean {which} loss over steps {int(lo):,}..{int(hi):,} (area under the curve)"
        if len(bgs) == 1:
            # NOTE: not gating with one baseline. Seeds differ most in the early transient, which
            # dominates the area; one baseline cannot show how much (a healthy second seed of a real
            # run differed by 2.5%). With several seeds the spread is measured and it gates.
            d = cg[both] - bgs[0][both]
            diff_boot = _boot_means(d, rng)
            qs.append(_quantity("auc", label, cauc, float(baucs[0]), tol=tolerance, gating=False,
                                test="circular block bootstrap of the per-bin difference curve "
                                     "(informational with one baseline: seed variation is not measurable)",
                                diff_boot=diff_boot))
        else:
            qs.append(_quantity("auc", label, cauc, float(baucs.mean()), tol=tolerance, gating=True, test="",
                                seeds=baucs))
    # ---- steps to reach the baseline's final level
    # (a baseline whose final level overflowed, all 1e308, has no level to reach: skipped)
    if qs and qs[0]["name"].startswith("final_") and isinstance(qs[0]["baseline"], (int, float)) \
            and math.isfinite(qs[0]["baseline"]):
        target = float(qs[0]["baseline"])
        cs = _first_reach(c, target, lo, hi)
        bss = [s for s in (_first_reach(b, target, lo, hi) for b in bcurves) if s is not None]
        if bss:
            bs = float(np.median(bss))
            q = {"name": "steps_to_baseline_final",
                 "label": f"steps to reach the baseline's final {which} loss {fmt_num(target)} (smoothed)",
                 "candidate": cs, "baseline": bs, "difference": None if cs is None else cs - bs,
                 "relative": None if cs is None or bs == 0 else (cs - bs) / bs, "ci": None, "level": None,
                 "test": "first crossing of the EMA-smoothed curve (informational)", "pvalue": None,
                 "margin": None, "regressed": cs is None or cs > bs * (1 + max(tolerance, 0.05)),
                 "gating": False}
            if cs is None:
                q["note"] = "the candidate never reaches it in the common range"
            qs.append(q)
    result["quantities"] = qs
    result["regressed"] = any(q["regressed"] for q in qs if q["gating"])
    if notes:
        result["note"] = "; ".join(notes)
    return result


def compare_report(report: Any, baselines: Sequence[str], config: Any, format: str | None = None) -> dict[str, Any]:
    """The ``comparison`` section of a report: every candidate run against the baseline set."""
    bases = load_baselines(list(baselines), format=format)
    tol = float(getattr(config, "tolerance", 0.01))
    cands = [_run_curves(r.run, r.frame, r.meta, r.source, r.format, r.data) for r in report.runs
             if r.frame is not None or r.data is not None]
    runs = [compare_runs(c, bases, tol) for c in cands]
    for r in runs:  # no quantity compared (no shared steps, no loss): the gate must not pass on it
        r["compared"] = bool(r["quantities"])
    # Baseline curves for the report's loss chart (bin means, at most 400 points each).
    for r in report.runs:
        if r.frame is None and r.data is None:
            continue
        drawn = []
        for b in bases:
            for split, curve in (("train", b.train), ("val", b.val)):
                if curve is None:
                    continue
                st, v = _chart_points(curve)
                drawn.append({"run": b.run, "split": split, "step": st, "loss": v})
        r.curves["baselines"] = drawn
    return {
        "regressed": any(r["regressed"] for r in runs),
        "compared": bool(runs) and all(r["compared"] for r in runs),
        "tolerance": tol,
        "alpha": ALPHA,
        "baselines": [{"run": b.run, "source": b.source, "format": b.format,
                       "last_step": b.main.last if b.main is not None else None} for b in bases],
        "method": ("one baseline: circular block bootstrap (Politis & Romano 1992) of trailing windows and of "
                   "the per-bin difference curve, one-sided against the tolerance margin" if len(bases) == 1 else
                   f"{len(bases)} baseline seeds: t prediction interval for one more seed, one-sided against "
                   "the tolerance margin"),
        "runs": runs,
    }
