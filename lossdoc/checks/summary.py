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

from lossdoc.checks.context import (
    MAX_BACKTEST_ERROR, MAX_INTERVAL_WIDTH, RunContext, never_negative, unreliable_fit,
)
from lossdoc.checks.findings import Finding, Severity
from lossdoc.checks.results import Extrapolation, RunSummary
from lossdoc.checks.series import Series, final_level, final_level_words, placeholder_mask
from lossdoc.numfmt import fmt_num, fmt_step


def drop_unreliable_extrapolation(summary: RunSummary, curves: dict[str, Any], findings: list[Finding]) -> None:
    """Say "no reliable fit" rather than print a number nobody should trust: a run that diverged or
    went non-finite is not a learning curve; a fit whose backtest failed, whose interval is wider
    than the run's own range, or that predicts a negative value for a loss that was never negative
    predicts nothing; an interval must be ordered and hold the point. A lower bound below 0 for
    such a loss is raised to 0 (said in ``extrapolation``)."""
    ex = summary.extrapolated
    broken = [f for f in findings if f.category in ("divergence", "non_finite") and f.severity == Severity.ERROR]
    if ex is None:
        # dropped already (the fit missed the end of the run, ...): a run that broke says so first
        if broken and str(summary.extra.get("extrapolation", "")).startswith("no reliable fit"):
            summary.extra["extrapolation"] = (f"no reliable fit: the run has a {broken[0].name} finding; a "
                                              "learning-curve fit does not describe it")
        return
    reason = None
    never_negative = summary.extra.get("observed_min", -1.0) >= 0
    values = (ex.loss, ex.low, ex.high)
    if broken:
        reason = f"the run has a {broken[0].name} finding; a learning-curve fit does not describe it"
    elif not all(math.isfinite(v) for v in values):
        reason = "the fitted curve gives no finite value or interval at that step"
    elif never_negative and ex.loss < 0:
        reason = (f"the fitted {ex.model} curve reaches {fmt_num(ex.loss)} at step {fmt_step(ex.step)}, "
                  "below 0, for a loss that was never negative")
    elif not ex.low <= ex.loss <= ex.high:
        reason = (f"its interval ({fmt_num(ex.low)} to {fmt_num(ex.high)}) does not contain the point "
                  f"{fmt_num(ex.loss)}")
    else:
        level = summary.final_train_loss_smoothed
        if level is None or not math.isfinite(level):
            level = summary.final_val_loss
        reason = unreliable_fit(ex, summary.extra.get("observed_range"), level)
    if reason is None and never_negative and ex.low < 0:
        # A loss that was never negative (cross-entropy, MSE) cannot become negative: truncate the band.
        ex.low = 0.0
        summary.extra["extrapolation"] = "interval truncated at 0 (the loss was never negative)"
    if reason is None and never_negative:
        fit = curves.get("fit")
        if fit:
            for k in ("loss", "low", "high"):
                if fit.get(k):
                    fit[k] = [None if v is None else max(0.0, v) for v in fit[k]]
    if reason:
        summary.extrapolated = None
        summary.extra["extrapolation"] = f"no reliable fit: {reason}"
        curves.pop("fit", None)


def _last_logged(s: Series, placeholder: np.ndarray | None = None) -> tuple[float, int] | None:
    """(value, step) of the last point of ``s`` as logged (NaN/inf kept; a placeholder as NaN)."""
    if not len(s):
        return None
    v = float(s.values[-1])
    if placeholder is not None and placeholder.size and placeholder[-1]:
        v = math.nan
    return v, int(s.steps[-1])


def _logged_min(s: Series, exclude: np.ndarray | None = None) -> tuple[float, int] | None:
    """(value, step) of the smallest finite logged value of ``s`` (first one on ties), ``exclude``d
    points left out."""
    ok = np.isfinite(s.values)
    if exclude is not None and exclude.size:
        ok &= ~exclude
    if not ok.any():
        return None
    # no copy of the values (at 10^7 points the index and the gathered values took 160 MB, and
    # np.argmin copies a read-only array such as one polars lends): the first point at the minimum
    low = np.min(s.values, where=ok, initial=np.inf)
    i = int(np.argmax((s.values == low) & ok))
    return float(s.values[i]), int(s.steps[i])


def summarize(ctx: RunContext) -> tuple[RunSummary, dict[str, Any]]:
    """:class:`RunSummary` and chart ``curves`` of one run.

    ``best_*``/``final_*`` are logged values with their steps (a training loss logged beside a
    non-finite gradient norm is a placeholder: never best, NaN when final); the smoothed figures
    (``*_smoothed``) and the extrapolation are labelled as derived."""
    summ = RunSummary()
    curves: dict[str, Any] = {"smoothing": {"method": "ema", "weight": 0.6}}
    tr, va = ctx.loss("train"), ctx.own_loss("val")
    if tr is not None:
        fake = placeholder_mask(ctx.series_map(), tr)
        if fake.any():
            summ.extra["train_loss_placeholders"] = int(fake.sum())
        last = _last_logged(tr, fake)
        mark = getattr(ctx, "sentinels", {}).get((tr.split, tr.metric))
        if last is not None:
            summ.final_train_loss, summ.final_train_step = last
            if mark is not None and mark[1][-1]:  # the last value logged was the script's sentinel
                summ.extra["final_train_loss_placeholder"] = mark[0]
                summ.extra["final_train_loss_placeholder_kind"] = "sentinel"
            elif fake.size and fake[-1]:
                raw = float(tr.values[-1])
                if math.isnan(raw) and getattr(ctx, "placeholders", {}).get((tr.split, tr.metric)):
                    raw = 0.0  # series.mask_placeholders masks exactly the 0.0 an HF Trainer logs for NaN
                summ.extra["final_train_loss_placeholder"] = raw
        best = _logged_min(tr, fake)
        if best is not None:
            summ.best_train_loss, summ.best_train_step = best
        real = tr if not fake.any() else Series(tr.split, tr.metric, tr.name, tr.steps[~fake], tr.values[~fake])
        summ.final_train_loss_smoothed = final_level(real.values)
        # how it is derived, in words ("the mean of its last 3 values" on a 10-point log, not "the last 5%")
        summ.extra["final_train_loss_smoothed_how"] = final_level_words(real.values)
        x, y, _ = ctx.downsampled(real, 20) if not fake.any() else _bins(real, 20)
        if y.size:  # best 5% window (bin means), robust to a single low point
            summ.best_train_loss_smoothed = float(np.min(y))
        summ.extra["train_loss_series"] = tr.name
    if va is not None:
        best = _logged_min(va)
        if best is not None:
            summ.best_val_loss, summ.best_val_step = best
        last = _last_logged(va)
        if last is not None:
            summ.final_val_loss, summ.final_val_step = last
            mark = getattr(ctx, "sentinels", {}).get((va.split, va.metric))
            if mark is not None and mark[1][-1]:
                summ.extra["final_val_loss_placeholder"] = mark[0]
    main = tr if tr is not None and len(tr) else va
    if main is not None and len(main):
        summ.first_step, summ.last_step = int(main.steps[0]), int(main.steps[-1])
    summ.total_steps = ctx.total_steps
    if main is not None and np.isfinite(main.values).sum() >= 2:
        _, yb, _ = ctx.downsampled(main, 200)
        if yb.size:
            summ.extra["observed_range"] = float(np.max(yb) - np.min(yb))
            summ.extra["observed_min"] = float(np.min(main.values, where=np.isfinite(main.values), initial=np.inf))
    if main is not None and np.isfinite(main.values).sum() >= 6:
        ex = ctx.extrapolation(main)
        issue = ctx.extrapolation_issue(main)
        if ex is None and issue:
            summ.extra["extrapolation"] = f"no reliable fit: {issue}"
        if ex is not None and ex.low == 0 and never_negative(main):
            summ.extra["extrapolation"] = "interval truncated at 0 (the loss was never negative)"
        used, since = ctx.extrapolation_fit(main)
        if ex is not None:
            extra: dict[str, Any] = {"series": f"{main.split}/{main.metric}"}
            if since is not None:
                extra["fitted_from_step"] = since  # the last half of the run alone (the whole run's fit missed its end)
            summ.extrapolated = Extrapolation(
                step=int(ex.step), loss=float(ex.loss), low=float(ex.low), high=float(ex.high),
                model=str(ex.model), asymptote=None if ex.asymptote is None else float(ex.asymptote),
                backtest_error=None if ex.backtest_error is None else float(ex.backtest_error),
                extra=extra)
        fit = used if used is not None else ctx.fit(main)
        first = since if since is not None else summ.first_step
        if fit is not None and not issue and first is not None and ctx.horizon:
            grid = np.unique(np.linspace(first, ctx.horizon, 200).round().astype(np.int64))
            try:
                pred = np.asarray(fit.predict(grid), dtype=float)
                lo, hi = fit.interval(grid)
                curves["fit"] = {"split": main.split, "metric": main.metric, "model": str(fit.model),
                                 **({"from_step": int(since)} if since is not None else {}),
                                 "step": grid.tolist(), "loss": _clean_list(pred),
                                 "low": _clean_list(lo), "high": _clean_list(hi)}
            except (ValueError, RuntimeError, ArithmeticError, TypeError):
                pass
    return summ, curves


def _bins(s: Series, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from lossdoc.analysis.downsample import downsample_for_fit

    return downsample_for_fit(s.steps, s.values, max_points=n)


def _clean_list(a: Any) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float)]


__all__ = ["MAX_BACKTEST_ERROR", "MAX_INTERVAL_WIDTH", "drop_unreliable_extrapolation", "final_level", "summarize"]
