"""Calibrate SI001 (stopped while still improving) against runs whose future is known.

Not a test: an analysis. The real-run corpus (benchmarks/realruns/) labels a run ``still_improving`` when
the 4x-longer run of the same configuration and seed ends lower by >= STILL_GAIN (5%) of this run's range
(label.py; smoothed final values, range = max(first - min, 10% of |first|), on the primary series: the
validation loss when logged, else the training loss). This script measures, for runs whose 4x future is
known, what SI001's evidence said (``progress.si_evidence``: the trailing window's one-sided p-value, its
decline per fifth of the run in units of the range, the curve fit's predicted drop at the horizon in range
units and as a share of the level, the fit's backtest error and interval) against what the future gained.

Two sets of runs with a known 4x future:
  ref     the 14 short runs of the corpus with a 4x-longer reference run (design ``ref_long``);
  prefix  every run of the corpus cut at a quarter of its last step (the run's own remaining 3/4 is its
          future: the same configuration and seed trained 4x longer, with the schedule stretched over the
          longer run -- what SI001's advice says to do). The planned total is dropped from the log's
          metadata, as for a run that stopped there. --fraction 0.5 cuts at half (a 2x future).
  full    every whole run with the corpus's own label (the false-alarm side: runs without a reference are
          still_improving-optional when their primary fell >= 6% of its range over the last 20%, else not).

Result at 3eb849b (min-rate 0.05): the significant trailing rate has ROC AUC 0.83 on the cut runs (the
fit's predicted drop in range units 0.54, its gain as a share of the level lower); significant rate >= 5%
finds 83/124 with 9/127 false (6%: 82/8; 2%, the Youden optimum, 94/15 but 35 more false alarms on the
whole runs' labels); cut at half (2x future) 96/136 with 4/164 false (6%: 88/4).

It prints each candidate criterion's ROC AUC (Mann-Whitney), its best threshold (Youden), the current
rule's decision (TPR/FPR) and, with --rows, one row per run.

    python benchmarks/si_calibration.py [--rows] [--fraction 0.25] [--json out.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy.stats import mannwhitneyu

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "realruns"))

from label import STILL_GAIN, Curve  # noqa: E402

from lossdoc.checks.context import RunContext  # noqa: E402
from lossdoc.checks.detectors._common import RANGE_FLOOR, loss_range  # noqa: E402
from lossdoc.checks.detectors.progress import si_evidence, still_improving  # noqa: E402
from lossdoc.checks.rulefile import load_rules  # noqa: E402
from lossdoc.checks.series import Series, epoch_mean_loss  # noqa: E402
from lossdoc.config import Config  # noqa: E402
from lossdoc.ingest import read  # noqa: E402

RR = HERE / "realruns"


def params() -> SimpleNamespace:
    spec = load_rules(list(Config().rule_paths))["SI001"]
    return SimpleNamespace(**{k.replace("-", "_"): v for k, v in spec.params.items()})


def load(path: Path) -> tuple[dict, dict]:
    src = read(str(path)).sources[0]
    run = src.runs[0]
    ctx = RunContext(run, src.run_blocks(run), notes=[], meta=src.meta)
    return ctx.series_map(), dict(src.meta)


def cut(series: dict, upto: float) -> dict:
    out = {}
    for k, s in series.items():
        keep = s.steps <= upto
        if keep.sum():
            out[k] = Series(s.split, s.metric, s.name, s.steps[keep], s.values[keep])
    return out


def truth(short: Series | None, long: Series | None) -> float | None:
    """What the 4x future gained, in units of the short run's range (label.py's rule); -inf when the
    future went non-finite; None when the short series is too short to say."""
    if short is None or long is None:
        return None
    a = Curve(short.steps.astype(float), short.values)
    if a.n < 4:
        return None
    if not np.isfinite(long.values).all():
        return -math.inf
    b = Curve(long.steps.astype(float), long.values)
    return (a.final - b.final) / a.range


def primary(series: dict) -> Series | None:
    """label.py's primary series: the validation loss when logged, else the training loss."""
    ctx = RunContext("r", None, notes=[], meta={}, series=series)
    return ctx.loss("val") or ctx.loss("train")


def alt_rates(ctx: RunContext, target: Series, e, p: SimpleNamespace) -> dict:
    """Other ways to size the trailing decline SI001 tests, on the same window (``e.lo``: widened to
    min-points on a short log, never past half the points) and the same per-window-fraction scaling:

    - ``rate_notail``: the window's least-squares decline without SI001's last-fifth check (the decline must
      also hold across the nominal last fifth when three or more points lie in it);
    - ``log_rate``: the decline of ln(loss), last-fifth check included, in units of the log range the run
      covered (ln of the top over the bottom of :func:`loss_range`; a loss that falls geometrically, a
      classifier heading to zero, shows its late decline here); positive series only, else nan;
    - ``level_rate``: the decline, last-fifth check included, as a share of the end level.
    """
    x, y, lo, span = e.x, e.y, e.lo, e.span
    fifth = p.window_fraction * span
    win, nominal = x >= lo, x >= x[-1] - fifth
    check = x[-1] - lo > fifth and nominal.sum() >= 3

    def decline(v: np.ndarray, scale: float, tail: bool = True) -> float:
        r = -float(np.polyfit(x[win] - x[win][0], v[win], 1)[0]) * min(x[-1] - lo, fifth) / scale
        if tail and check:
            r = min(r, -float(np.polyfit(x[nominal] - x[nominal][0], v[nominal], 1)[0]) * fifth / scale)
        return r

    rng = loss_range(ctx, target)
    scale = max(rng, RANGE_FLOOR * abs(e.level), 1e-12)
    out = {"rate_notail": decline(y, scale, tail=False), "log_rate": float("nan"),
           "level_rate": decline(y, abs(e.level)) if e.level else float("nan")}
    if y.size and float(np.min(y)) > 0:
        bottom = float(np.percentile(y, 2))
        out["log_rate"] = decline(np.log(y), max(math.log((bottom + rng) / bottom), math.log1p(RANGE_FLOOR)))
    return out


def features(series: dict, meta: dict, p: SimpleNamespace) -> dict | None:
    """SI001's evidence on the series it judges (validation from min-val-points evaluations, else the
    training loss or its per-epoch mean), at the 2x horizon and at 4x; and the current rule's decision."""
    ctx = RunContext("r", None, notes=[], meta=meta, series=series)
    val, train = ctx.loss("val"), ctx.loss("train")
    if val is not None and np.isfinite(val.values).sum() >= p.min_val_points:
        target = val
    else:
        target = epoch_mean_loss(ctx.series_map(), "train", p.min_val_points) or train
    if target is None:
        return None
    e = si_evidence(ctx, target, p)
    if e is None or e.tr is None:
        return None
    ctx.current_rule = "SI001"
    fired = any(True for _ in still_improving(ctx, None, p))
    last = float(target.finite()[0][-1])
    ctx4 = RunContext("r", None, notes=[], meta=meta, series=series, horizon=int(4 * last))
    e4 = si_evidence(ctx4, ctx4.loss(target.split) if target.split == "val" else target, p)
    ex, ex4 = e.ex, (e4.ex if e4 is not None and e4.tr is not None else None)
    st, v = target.finite()
    best_at = float((st[int(np.argmin(v))] - st[0]) / max(st[-1] - st[0], 1))
    return {
        "split": target.split, "n": int(v.size), "p": float(e.tr.pvalue_decreasing),
        "rate": e.rate, "gain_level": e.gain if ex is not None else float("nan"),
        "fit_drop2": e.fit_drop if ex is not None else float("nan"),
        "fit_drop4": (e4.fit_drop if ex4 is not None else float("nan")),
        "backtest": float(ex.backtest_error) if ex is not None and ex.backtest_error is not None else float("nan"),
        "high_below": bool(ex is not None and np.isfinite(ex.high) and ex.high < e.level),
        "best_at": best_at, "fired": fired, **alt_rates(ctx, target, e, p),
    }


def cases(fraction: float, p: SimpleNamespace) -> list[dict]:
    rows = list(csv.DictReader(open(RR / "labels.tsv"), delimiter="\t"))
    design = {}
    for f in sorted((RR / "design").glob("*.jsonl")):
        for line in open(f):
            d = json.loads(line)
            design[(d["trainer"], d["sweep"], d["run_id"])] = d
    loaded: dict[str, tuple[dict, dict]] = {}

    def get(rel: str) -> tuple[dict, dict]:
        if rel not in loaded:
            loaded[rel] = load(RR / "logs" / rel)
        return loaded[rel]

    by_run = {(r["trainer"], r["sweep"], r["path"].split("/")[2]): r for r in rows}
    out = []
    for r in rows:
        key = (r["trainer"], r["sweep"], r["path"].split("/")[2])
        d = design.get(key, {})
        ser, meta = get(r["path"])
        # (1) the corpus's own 4x references
        if d.get("ref_long") and (r["trainer"], r["sweep"], d["ref_long"]) in by_run:
            lser, _ = get(by_run[(r["trainer"], r["sweep"], d["ref_long"])]["path"])
            f = features(ser, meta, p)
            g = truth(primary(ser), primary(lser))
            if f is not None and g is not None:
                out.append({"set": "ref", "run": r["path"], "gain": g, **f})
        # (0) the run itself, with its corpus label (required / optional / not labelled): the false-alarm side
        f = features(ser, meta, p)
        if f is not None:
            lab = 1.0 if "still_improving" in r["labels"].split(",") else (
                float("nan") if "still_improving" in r["optional"].split(",") else -1.0)
            out.append({"set": "full", "run": r["path"], "gain": lab, **f})
        # (2) the run's first quarter, its own rest as the future
        full = primary(ser)
        if full is None or full.steps.size < 2:
            continue
        upto = float(full.steps[0] + fraction * (full.steps[-1] - full.steps[0]))
        pre = cut(ser, upto)
        pm = {k: v for k, v in meta.items() if k not in ("total_steps", "max_steps", "num_train_epochs", "epochs")}
        f = features(pre, pm, p) if pre else None
        g = truth(primary(pre), full) if pre else None
        if f is not None and g is not None:
            out.append({"set": "prefix", "run": r["path"], "gain": g, **f})
    return out


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties half: the Mann-Whitney U of the positives over
    n1 n2 (``scipy.stats.mannwhitneyu``; -inf scores rank lowest)."""
    if not pos.size or not neg.size:
        return float("nan")
    return float(mannwhitneyu(pos, neg).statistic / (pos.size * neg.size))


def roc_line(name: str, score: np.ndarray, y: np.ndarray, grid: list[float]) -> str:
    s = np.where(np.isfinite(score), score, -np.inf)
    a = auc(s[y], s[~y])
    best = max(grid, key=lambda t: ((s[y] >= t).mean() - (s[~y] >= t).mean(), -t))
    pts = ", ".join(f"{t:g}: {(s[y] >= t).sum()}/{y.sum()} TP {(s[~y] >= t).sum()}/{(~y).sum()} FP" for t in grid)
    return (f"{name:<34} AUC {a:.3f}  best (Youden) >= {best:g}: TPR {(s[y] >= best).mean():.2f} "
            f"FPR {(s[~y] >= best).mean():.2f}\n    {pts}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.25, help="where the prefix set cuts each run (0.25 = a 4x future)")
    ap.add_argument("--rows", action="store_true", help="one row per run")
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args(argv)
    p = params()
    with np.errstate(all="ignore"):
        rows = cases(a.fraction, p)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1, default=float))
    if a.rows:
        print("set\trun\tsplit\tn\tactual\tp\trate\tfit2\tfit4\tgainlvl\tbacktest\tbest_at\tfired\tnotail\tlograte\tlvlrate")
        for r in rows:
            print(f"{r['set']}\t{r['run']}\t{r['split']}\t{r['n']}\t{r['gain']:.3f}\t{r['p']:.3g}\t{r['rate']:.3f}\t"
                  f"{r['fit_drop2']:.3f}\t{r['fit_drop4']:.3f}\t{r['gain_level']:.3f}\t{r['backtest']:.3g}\t"
                  f"{r['best_at']:.2f}\t{int(r['fired'])}\t{r['rate_notail']:.3f}\t{r['log_rate']:.3f}\t{r['level_rate']:.3f}")
    for which in ("ref", "prefix", "all"):
        sub = [r for r in rows if (which == "all" and r["set"] != "full") or r["set"] == which]
        if not sub:
            continue
        y = np.array([r["gain"] >= STILL_GAIN for r in sub])
        col = {k: np.array([float(r[k]) for r in sub]) for k in ("p", "rate", "fit_drop2", "fit_drop4", "gain_level", "best_at",
                                                                 "rate_notail", "log_rate", "level_rate")}
        sig = col["p"] < p.alpha
        fired = np.array([r["fired"] for r in sub])
        act = np.array([r["gain"] for r in sub])
        fut = "4x" if which == "ref" else f"{1 / a.fraction:g}x" if which == "prefix" else f"4x / {1 / a.fraction:g}x"
        print(f"\n== {which}: {len(sub)} runs, {y.sum()} still improving ({fut} future >= {STILL_GAIN:.0%} of the range lower)")
        print(f"current SI001 decision: TPR {fired[y].sum()}/{y.sum()}, FPR {fired[~y].sum()}/{(~y).sum()}")
        for k in ("rate", "fit_drop2", "fit_drop4"):
            ok = np.isfinite(col[k]) & np.isfinite(act)
            if ok.sum() > 2:
                from scipy.stats import spearmanr
                print(f"predicted vs actual: {k} Spearman rho {spearmanr(col[k][ok], act[ok])[0]:.2f} (n={ok.sum()}), "
                      f"median actual/predicted {np.nanmedian(act[ok] / np.where(col[k][ok] == 0, np.nan, col[k][ok])):.2f}")
        grid_r = [0.0, 0.01, 0.02, 0.03, 0.04, 0.045, 0.05, 0.055, 0.06, 0.08, 0.1, 0.15]
        grid_f = [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3]
        print(roc_line("trailing rate (range/fifth)", col["rate"], y, grid_r))
        print(roc_line("trailing rate, p < alpha", np.where(sig, col["rate"], -np.inf), y, grid_r))
        print(roc_line("... without the last-fifth check", np.where(sig, col["rate_notail"], -np.inf), y, grid_r))
        print(roc_line("... of ln(loss), log-range units", np.where(sig, col["log_rate"], -np.inf), y, grid_r))
        print(roc_line("... as a share of the end level", np.where(sig, col["level_rate"], -np.inf), y, grid_r))
        print(roc_line("fit drop at 2x (range units)", col["fit_drop2"], y, grid_f))
        print(roc_line("fit drop at 2x, p < alpha", np.where(sig, col["fit_drop2"], -np.inf), y, grid_f))
        print(roc_line("fit drop at 4x (range units)", col["fit_drop4"], y, grid_f))
        print(roc_line("fit gain at 2x (share of level)", col["gain_level"], y, grid_f))
        print(roc_line("1 - p (significance alone)", 1 - col["p"], y, [0.5, 0.8, 0.9, 0.95, 0.99]))
        print(roc_line("best at (share of run)", col["best_at"], y, [0.5, 0.7, 0.8, 0.9, 0.95, 1.0]))
    # the false-alarm side: the corpus's own labels on the whole runs (runs without a 4x reference are
    # still_improving-optional when their primary fell >= 6% of its range over the last 20%, else negative)
    full = [r for r in rows if r["set"] == "full"]
    if full:
        pos = [r for r in full if r["gain"] == 1.0]
        neg = [r for r in full if r["gain"] == -1.0]
        print(f"\n== full runs with the corpus labels: {len(pos)} still_improving, {len(neg)} without it "
              f"({len(full) - len(pos) - len(neg)} optional)")
        print(f"current SI001 decision: TP {sum(r['fired'] for r in pos)}/{len(pos)}, FA {sum(r['fired'] for r in neg)}")
        for k, what in (("rate", "trailing rate"), ("rate_notail", "... without the last-fifth check"),
                        ("log_rate", "... of ln(loss)"), ("level_rate", "... share of the level")):
            for t in grid_r:
                ok = lambda r: r["p"] < p.alpha and r[k] >= t  # noqa: E731
                print(f"  {what} >= {t:g}, p < alpha: TP {sum(map(ok, pos))}/{len(pos)}, FA {sum(map(ok, neg))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
