"""The summary and extrapolation policy: the per-run key numbers (:class:`RunSummary`), the chart's
fitted curve, and when an extrapolation is shown at all.

DESIGN.md's number contract: ``best_*`` and ``final_*`` are values as logged, with their steps;
derived figures (smoothed, fitted, extrapolated) live under keys that say so. An extrapolation is
dropped with a reason ("no reliable fit: ...") rather than shown when it cannot be trusted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lossdoc.checks.context import RunContext
from lossdoc.checks.findings import Finding, Severity
from lossdoc.checks.results import Extrapolation, RunSummary
from lossdoc.checks.series import final_level
from lossdoc.numfmt import fmt_num


#: An extrapolation is not shown when its backtest missed by more than this (relative error) ...
MAX_BACKTEST_ERROR = 0.5
#: ... or its interval is wider than this many times the loss range the run itself covered.
MAX_INTERVAL_WIDTH = 2.0


def drop_unreliable_extrapolation(summary: RunSummary, curves: dict[str, Any], findings: list[Finding]) -> None:
    """Say "no reliable fit" rather than print a number nobody should trust: a run that diverged or
    went non-finite is not a learning curve, and a fit whose backtest failed or whose interval is
    wider than the run's own range predicts nothing."""
    ex = summary.extrapolated
    if ex is None:
        return
    reason = None
    broken = [f for f in findings if f.category in ("divergence", "non_finite") and f.severity == Severity.ERROR]
    if broken:
        reason = f"the run has a {broken[0].name} finding; a learning-curve fit does not describe it"
    elif ex.backtest_error is not None and ex.backtest_error > MAX_BACKTEST_ERROR:
        reason = (f"a fit on the first half missed the second half by {ex.backtest_error:.0%} "
                  f"(more than {MAX_BACKTEST_ERROR:.0%})")
    else:
        observed = summary.extra.get("observed_range")
        width = ex.high - ex.low
        level = summary.final_train_loss if summary.final_train_loss is not None else summary.final_val_loss
        if observed and observed > 0 and width > MAX_INTERVAL_WIDTH * observed:
            reason = (f"its 90% interval ({fmt_num(ex.low)} to {fmt_num(ex.high)}) is wider than "
                      f"{MAX_INTERVAL_WIDTH:g}x the range the loss covered in the run")
        elif level is not None and level != 0 and width > MAX_INTERVAL_WIDTH * abs(level):
            reason = (f"its 90% interval ({fmt_num(ex.low)} to {fmt_num(ex.high)}) is wider than "
                      f"{MAX_INTERVAL_WIDTH:g}x the final loss {fmt_num(level)}")
    if reason is None and ex.low < 0 <= summary.extra.get("observed_min", -1.0):
        # A loss that was never negative (cross-entropy, MSE) cannot become negative: truncate the band.
        ex.low = 0.0
        summary.extra["extrapolation"] = "interval truncated at 0 (the loss was never negative)"
        fit = curves.get("fit")
        if fit and fit.get("low"):
            fit["low"] = [None if v is None else max(0.0, v) for v in fit["low"]]
    if reason:
        summary.extrapolated = None
        summary.extra["extrapolation"] = f"no reliable fit: {reason}"
        curves.pop("fit", None)


def summarize(ctx: RunContext) -> tuple[RunSummary, dict[str, Any]]:
    """:class:`RunSummary` and chart ``curves`` of one run."""
    summ = RunSummary()
    curves: dict[str, Any] = {"smoothing": {"method": "ema", "weight": 0.6}}
    tr, va = ctx.loss("train"), ctx.loss("val")
    if tr is not None:
        summ.final_train_loss = final_level(tr.values)
        x, y, _ = ctx.downsampled(tr, 20)  # best 5% window (bin means), robust to a single low point
        if y.size:
            summ.best_train_loss = float(np.min(y))
        summ.extra["train_loss_series"] = tr.name
    if va is not None:
        st, v = va.finite()
        if v.size:
            i = int(np.argmin(v))
            summ.best_val_loss, summ.best_val_step = float(v[i]), int(st[i])
            summ.final_val_loss = float(v[-1])
    main = tr if tr is not None and len(tr) else va
    if main is not None and len(main):
        summ.first_step, summ.last_step = int(main.steps[0]), int(main.steps[-1])
    summ.total_steps = ctx.total_steps
    if main is not None and np.isfinite(main.values).sum() >= 2:
        _, yb, _ = ctx.downsampled(main, 200)
        if yb.size:
            summ.extra["observed_range"] = float(np.max(yb) - np.min(yb))
            summ.extra["observed_min"] = float(np.nanmin(main.values[np.isfinite(main.values)]))
    if main is not None and np.isfinite(main.values).sum() >= 6:
        ex = ctx.extrapolation(main)
        if ex is not None:
            summ.extrapolated = Extrapolation(
                step=int(ex.step), loss=float(ex.loss), low=float(ex.low), high=float(ex.high),
                model=str(ex.model), asymptote=None if ex.asymptote is None else float(ex.asymptote),
                backtest_error=None if ex.backtest_error is None else float(ex.backtest_error),
                extra={"series": f"{main.split}/{main.metric}"})
        fit = ctx.fit(main)
        if fit is not None and summ.first_step is not None and ctx.horizon:
            grid = np.unique(np.linspace(summ.first_step, ctx.horizon, 200).round().astype(np.int64))
            try:
                pred = np.asarray(fit.predict(grid), dtype=float)
                lo, hi = fit.interval(grid)
                curves["fit"] = {"split": main.split, "metric": main.metric, "model": str(fit.model),
                                 "step": grid.tolist(), "loss": _clean_list(pred),
                                 "low": _clean_list(lo), "high": _clean_list(hi)}
            except (ValueError, RuntimeError, ArithmeticError, TypeError):
                pass
    return summ, curves


def _clean_list(a: Any) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float)]


__all__ = ["MAX_BACKTEST_ERROR", "MAX_INTERVAL_WIDTH", "drop_unreliable_extrapolation", "final_level", "summarize"]
