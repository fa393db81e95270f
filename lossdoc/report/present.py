"""Presentation helpers shared by the HTML, Markdown and terminal renderers.

Numbers are formatted by :mod:`lossdoc.numfmt` (re-exported here with the table placeholder); the order findings are shown in, and the chart series of a run (read from
``RunReport.frame``, down-sampled with :func:`lossdoc.analysis.downsample.bin_series` so that each
bin keeps its min and max, and smoothed with :func:`lossdoc.analysis.smoothing.ema_debiased`).
Nothing here renders; nothing here imports matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoc.analysis._arrays import last_quarter_bounds, search
from lossdoc.checks.findings import Finding, Severity
from lossdoc.checks.series import Series as DataSeries
from lossdoc.checks.series import held_out_loss, resolve_loss, series_from_blocks
from lossdoc.numfmt import DIGITS, clean, fmt_pvalue, strip_controls
from lossdoc.numfmt import fmt_num as _fmt_num
from lossdoc.numfmt import fmt_step as _fmt_step
from lossdoc.report.model import Report, RunReport

#: Series colours: mid-luminance, readable on white and on near-black (runs of a multi-run chart).
PALETTE = ("#3b82f6", "#f59e0b", "#10b981", "#ec4899", "#8b5cf6", "#06b6d4", "#84cc16", "#f43f5e")
#: Colours by split, the same in every chart of one run (loss chart, gap, lr, grad norm, Markdown).
SPLIT_COLOR = {"train": PALETTE[0], "val": PALETTE[1], "test": PALETTE[2], "other": PALETTE[4]}
#: Baselines: each its own colour and dash, none of them a split's colour.
BASELINE_COLORS = ("#6b7280", "#0d9488", "#db2777", "#65a30d", "#4338ca", "#a16207")

#: Shorter series are drawn as they are: an EMA over a few points only lags behind them.
SMOOTH_MIN_POINTS = 100
#: Bins per series in the HTML charts (each keeps min, max and mean: ~3 points per bin).
HTML_BINS = 600

#: Missing values in tables and cards (sentences say "n/a").
MISSING = "—"


def fmt_num(x: Any, digits: int = DIGITS) -> str:
    """:func:`lossdoc.numfmt.fmt_num` with the table placeholder for a missing value."""
    return _fmt_num(x, digits, missing=MISSING)


def fmt_step(x: Any) -> str:
    """:func:`lossdoc.numfmt.fmt_step` with the table placeholder for a missing value."""
    return _fmt_step(x, missing=MISSING)


def fmt_steps(f: Finding) -> str:
    """``1,200`` or ``1,200–1,260`` or ``—`` for a finding's step span."""
    if f.start_step is None and f.end_step is None:
        return "—"
    if f.end_step is None or f.end_step == f.start_step:
        return fmt_step(f.start_step)
    if f.start_step is None:
        return fmt_step(f.end_step)
    return f"{fmt_step(f.start_step)}–{fmt_step(f.end_step)}"


def ordered_findings(report: Report) -> list[tuple[RunReport, Finding]]:
    """All findings, most severe first, then in run order, then by step."""
    items = [(ri, r, f) for ri, r in enumerate(report.runs) for f in r.findings]
    items.sort(key=lambda t: (-int(t[2].severity), t[0], t[2].start_step if t[2].start_step is not None else -1,
                              t[2].rule))
    return [(r, f) for _, r, f in items]


def severity_counts(report: Report) -> dict[str, int]:
    counts = {str(s): 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    for f in report.findings:
        counts[str(f.severity)] += 1
    return counts


def counts_phrase(report: Report) -> str:
    """``2 errors, 1 warning`` / ``no findings``."""
    parts = []
    for sev, n in severity_counts(report).items():
        if n:
            parts.append(f"{n} {sev}{'' if n == 1 else 's'}" if sev != "info" else f"{n} info")
    return ", ".join(parts) if parts else "no findings"


def summary_phrase(report: Report) -> str:
    """``2 errors, 1 warning in 3 runs`` (+ ``; regressed against the baseline``)."""
    n = len(report.runs)
    text = f"{counts_phrase(report)} in {n} run{'' if n == 1 else 's'}"
    if report.regressed:
        text += "; regressed against the baseline"
    return text


#: Display names of the fitted-curve models (lossdoc.analysis.fitting.MODELS).
MODEL_NAMES = {"power-law": "power-law", "exponential": "exponential", "mmf": "Morgan-Mercer-Flodin"}


def model_name(model: Any) -> str:
    m = clean(model, 40)
    return MODEL_NAMES.get(m, m)


def merged_sources(r: RunReport) -> list[str]:
    """``path (format)`` of the other files read into this run (``lossdoc.ingest.merge``), cleaned."""
    got = r.meta.get("merged_sources") if isinstance(r.meta, dict) else None
    if not isinstance(got, list):
        return []
    return [f"{clean(m.get('path'), 160)} ({clean(m.get('format'), 30)})" for m in got[1:] if isinstance(m, dict)]


def smoothed_how(s: Any) -> str:
    """How the summary's smoothed final training loss is derived, in words ("the mean of its last 3 values"):
    the mean of the last 5% of points, at least 3 (a report written before the summary said so reads "the
    mean of the last 5% of points, at least 3")."""
    how = s.extra.get("final_train_loss_smoothed_how") if isinstance(getattr(s, "extra", None), dict) else None
    return str(how) if how else "the mean of the last 5% of points, at least 3"


def key_numbers(s: Any) -> list[tuple[str, str, str | None]]:
    """A run's key numbers as (label, value, note): logged values with their steps, then the
    derived ones under labels that say how they were derived (DESIGN.md's number contract)."""

    def at(step: Any) -> str | None:
        return f"at step {fmt_step(step)}" if step is not None else None

    final_note = at(s.final_train_step)
    extra = s.extra if isinstance(s.extra, dict) else {}
    placeholder = extra.get("final_train_loss_placeholder")
    if placeholder is not None and final_note:
        if extra.get("final_train_loss_placeholder_kind") == "sentinel":
            final_note += f"; logged as {fmt_num(placeholder)}, the script's sentinel for a loss it could not compute"
        else:
            final_note += f"; logged as {fmt_num(placeholder)} beside a non-finite grad norm (a placeholder)"
    val_note = at(s.final_val_step)
    if extra.get("final_val_loss_placeholder") is not None and val_note:
        val_note += (f"; logged as {fmt_num(extra['final_val_loss_placeholder'])}, the script's sentinel for a loss "
                     "it could not compute")
    out = [
        ("Final train loss", fmt_num(s.final_train_loss), final_note),
        ("Best train loss", fmt_num(s.best_train_loss), at(s.best_train_step)),
        ("Best val loss", fmt_num(s.best_val_loss), at(s.best_val_step)),
        ("Final val loss", fmt_num(s.final_val_loss), val_note),
    ]
    out.append(("Final train loss, smoothed", fmt_num(s.final_train_loss_smoothed),
                 smoothed_how(s) if s.final_train_loss_smoothed is not None else None))
    return out


VERDICT_TEXT = {
    "pass": "No problems found",
    "warn": "Warnings: worth a look",
    "fail": "Problems found",
}


# --------------------------------------------------------------------------- chart series
@dataclass(slots=True)
class Binned:
    """A down-sampled series: per bin the step, mean, min, max and point count."""

    step: np.ndarray
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray
    count: np.ndarray

    @property
    def dense(self) -> bool:
        """True when bins hold more than one point (draw a min–max envelope)."""
        return bool(self.count.size and self.count.max() > 1)


@dataclass(slots=True)
class ChartSeries:
    """One series of a run prepared for a chart."""

    label: str  #: cleaned display name (log text: escape before use)
    steps: np.ndarray  #: all finite points' steps (for smoothing/interpolation)
    values: np.ndarray
    binned: Binned
    smooth: Binned | None = None  #: the smoothed series, down-sampled
    nonfinite_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    points: int = 0


def _bin(steps: np.ndarray, values: np.ndarray, n_bins: int) -> Binned:
    if steps.size <= n_bins:
        ones = np.ones(steps.size, dtype=np.int64)
        return Binned(steps.astype(float), values, values, values, ones)
    from lossdoc.analysis.downsample import bin_series

    b = bin_series(steps, values, n_bins)
    count = np.asarray(b.count)
    keep = count > 0
    return Binned(np.asarray(b.step, dtype=float)[keep], np.asarray(b.mean, dtype=float)[keep],
                  np.asarray(b.min, dtype=float)[keep], np.asarray(b.max, dtype=float)[keep], count[keep])


def smoothing_weight(run: RunReport, n: int) -> float:
    """The EMA weight to draw: ``RunReport.curves["smoothing"]`` when the checks chose one, else one
    that spans about 1/200 of the series (TensorBoard's 0.6 for short series)."""
    sm = run.curves.get("smoothing") if run.curves else None
    if isinstance(sm, dict) and isinstance(sm.get("weight"), (int, float)) and 0 <= sm["weight"] < 1:
        return float(sm["weight"])
    return span_weight(n, 200)


def span_weight(n: int, parts: float) -> float:
    """EMA weight whose span is about ``n / parts`` points (at least TensorBoard's 0.6)."""
    span = max(1.0, n / parts)
    return float(min(0.9999, max(0.6, 1 - 2 / (span + 1))))


def run_data(run: RunReport) -> dict[tuple[str, str], DataSeries]:
    """The run's series by (split, metric): the checks' arrays (``run.data``), or, for a report built
    without them, split once from ``run.frame`` the same way the checks split it (kept on the run)."""
    if run.data is None:
        run.data = series_from_blocks([run.frame]) if run.frame is not None else {}
    return run.data


def _prepare(run: RunReport, data: DataSeries | None, *, n_bins: int, smooth: bool) -> ChartSeries | None:
    if data is None or not len(data):
        return None
    steps = _int_steps(data.steps)
    values = np.asarray(data.values, dtype=float)
    finite = np.isfinite(values)
    all_finite = bool(finite.all())
    fs, fv = (steps, values) if all_finite else (steps[finite], values[finite])
    s = ChartSeries(label=clean(data.name, 60), steps=fs, values=fv,
               binned=_bin(fs, fv, n_bins), nonfinite_steps=steps[~finite] if not all_finite else steps[:0],
               points=int(steps.size))
    if smooth and s.values.size >= SMOOTH_MIN_POINTS:
        from lossdoc.analysis.smoothing import ema_debiased

        weight = smoothing_weight(run, s.values.size)
        s.smooth = _smooth_in_pieces(s, weight, n_bins)
        if s.smooth is None:
            sm = np.asarray(ema_debiased(s.values, weight), dtype=float)
            s.smooth = _bin(s.steps, sm, n_bins)
    return s


#: Series longer than this are smoothed for their chart piece by piece (:func:`_smooth_in_pieces`),
#: about :data:`SMOOTH_PIECE` points at a time (each piece's temporaries: ~5 arrays of its size).
SMOOTH_WHOLE_MAX = 1 << 21
SMOOTH_PIECE = 1 << 18


def _smooth_in_pieces(s: ChartSeries, weight: float, n_bins: int) -> Binned | None:
    """The chart's smoothed series of ``s`` (its finite points), binned as :func:`_bin` bins it,
    smoothed a group of whole bins at a time (:func:`lossdoc.analysis.smoothing.ema_debiased_pieces`)
    instead of as one more array of the series' length (80 MB at 10^7 points, at the run's peak
    memory); None when the series is short or the smoothing is a special case (weight 0 or 1, all
    values equal, bin sums that need scaling): the caller smooths it whole."""
    n = s.values.size
    if n <= max(SMOOTH_WHOLE_MAX, 2 * SMOOTH_PIECE, n_bins) or not 0.0 < weight < 1.0:
        return None
    from lossdoc.analysis.downsample import bin_starts
    from lossdoc.analysis.smoothing import ema_debiased_pieces

    starts = bin_starts(s.steps, n_bins)
    if starts is None or starts.size != s.binned.count.size or np.all(s.values == s.values[0]):
        return None
    ends = np.append(starts[1:], n)
    # pieces of whole bins, about SMOOTH_PIECE points each
    cuts = np.unique(np.concatenate(([0], starts[search(starts, np.arange(SMOOTH_PIECE, n, SMOOTH_PIECE))
                                                 .clip(0, starts.size - 1)], [n])))
    means, mins, maxs = [], [], []
    first = 0
    with np.errstate(all="ignore"):
        for (a, b), sm in zip(zip(cuts[:-1], cuts[1:]), ema_debiased_pieces(s.values, weight, cuts)):
            last = int(search(starts, b, side="left"))
            local = starts[first:last] - a
            total = ends[first:last] - starts[first:last]
            means.append(np.add.reduceat(sm, local) / total)
            mins.append(np.minimum.reduceat(sm, local))
            maxs.append(np.maximum.reduceat(sm, local))
            first = last
    mean = np.concatenate(means)
    if mean.size != starts.size or not np.isfinite(mean).all():
        return None
    return Binned(s.binned.step, mean, np.concatenate(mins), np.concatenate(maxs), s.binned.count)


def get_series(run: RunReport, split: str, metric: str, *, n_bins: int = HTML_BINS,
               smooth: bool = False, cache: dict[Any, Any] | None = None) -> ChartSeries | None:
    """The (split, metric) series of ``run`` down-sampled to ``n_bins``; None when not logged.

    ``cache`` (a dict living as long as one rendering) saves preparing a big series for each chart.
    """
    if cache is not None:
        key = (id(run), split, metric, n_bins, smooth)
        if key not in cache:
            cache[key] = get_series(run, split, metric, n_bins=n_bins, smooth=smooth)
        return cache[key]
    return _prepare(run, run_data(run).get((split, metric)), n_bins=n_bins, smooth=smooth)


def run_series(run: RunReport, split: str, metric: str) -> tuple[str, np.ndarray, np.ndarray] | None:
    """(name, steps, values) of one series of ``run`` in step order (values as logged); ``metric``
    ``loss`` is the split's loss as :func:`lossdoc.checks.series.resolve_loss` decides it."""
    data = run_data(run)
    s = resolve_loss(data, split) if metric == "loss" else data.get((split, metric))
    if s is None or not len(s):
        return None
    return str(s.name), _int_steps(s.steps), np.asarray(s.values, dtype=float)


def _int_steps(steps: Any) -> np.ndarray:
    """Steps as an integer array: int64, or the checks' int32 steps as they are (a source holding its steps
    compactly, :data:`lossdoc.model.COMPACT_STEP`) rather than a copy twice their size."""
    arr = np.asarray(steps)
    return arr if arr.dtype == np.int32 else np.asarray(arr, dtype=np.int64)


def loss_series(run: RunReport, split: str, *, n_bins: int = HTML_BINS, smooth: bool = False,
                cache: dict[Any, Any] | None = None) -> ChartSeries | None:
    """The loss of ``split`` as :func:`lossdoc.checks.series.resolve_loss` decides it, prepared for a
    chart; ``val`` is :func:`lossdoc.checks.series.held_out_loss` (the test loss of a log without
    a validation split)."""
    if cache is not None:
        key = (id(run), "loss-of", split, n_bins, smooth)
        if key not in cache:
            cache[key] = loss_series(run, split, n_bins=n_bins, smooth=smooth)
        return cache[key]
    data = run_data(run)
    s = held_out_loss(data) if split == "val" else resolve_loss(data, split)
    return _prepare(run, s, n_bins=n_bins, smooth=smooth)


def gap_chart_series(train: ChartSeries, val: ChartSeries, n_bins: int = HTML_BINS) -> ChartSeries | None:
    """:func:`gap_series` for a chart: binned like the loss and, from :data:`SMOOTH_MIN_POINTS`
    evaluations on, smoothed too (an EMA spanning ~1/20 of them). Validation losses are noisy as
    well, and ten thousand raw evaluations minus the smoothed training loss draw a band in which
    no trend can be seen."""
    g = gap_series(train, val)
    if g is None:
        return None
    st, gap = g
    s = ChartSeries(label="val − train", steps=st, values=gap, binned=_bin(st, gap, n_bins), points=int(st.size))
    if st.size >= SMOOTH_MIN_POINTS:
        from lossdoc.analysis.smoothing import ema_debiased

        s.smooth = _bin(st, np.asarray(ema_debiased(gap, span_weight(st.size, 20)), dtype=float), n_bins)
    return s


def gap_series(train: ChartSeries, val: ChartSeries) -> tuple[np.ndarray, np.ndarray] | None:
    """Validation minus training loss at the validation steps inside the training range; the training
    level at an evaluation is the median of the logged training losses in the last quarter of the
    interval since the previous evaluation (GP001's alignment, with a median: a loss spike just
    before an evaluation does not draw a dip in the gap). Evaluations with no training loss logged
    since the previous one use the last training loss before them."""
    if val.values.size < 2 or train.values.size < 2:
        return None
    ts, tv = train.steps, train.values
    inside = (val.steps >= ts[0]) & (val.steps <= ts[-1])
    if inside.sum() < 2:
        return None
    vs = val.steps[inside]
    lo, hi = last_quarter_bounds(ts, vs)
    return vs.astype(float), val.values[inside] - segment_medians(tv, lo, hi)


def segment_medians(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``np.median(v[a:b])`` for each pair of ``lo``/``hi`` (disjoint, in order), ``v[max(b - 1, 0)]`` where
    ``b <= a`` -- vectorised: one sort of the segments' values by (segment, value), then the middle one or the
    mean of the middle two of each. A Python loop of np.median calls took 6 minutes on a validation loss
    logged at each of 10^7 steps."""
    lo, hi = np.asarray(lo, dtype=np.intp), np.asarray(hi, dtype=np.intp)
    n = np.maximum(hi - lo, 0)
    out = v[np.maximum(hi - 1, 0)].astype(float)
    has = n > 0
    if not has.any():
        return out
    out[has & (n == 1)] = v[lo[has & (n == 1)]]  # one value: itself (a validation loss logged at every step)
    many = n > 1
    if not many.any():
        return out
    ln, first = n[many], lo[many]
    seg = np.repeat(np.arange(ln.size), ln)
    start = np.cumsum(ln) - ln
    idx = np.repeat(first - start, ln) + np.arange(int(ln.sum()))
    vals = v[idx].astype(float)
    srt = vals[np.lexsort((vals, seg))]
    med = (srt[start + (ln - 1) // 2] + srt[start + ln // 2]) / 2
    nan = np.bincount(seg, weights=np.isnan(vals), minlength=ln.size) > 0
    med[nan] = np.nan  # as np.median: a NaN in the segment makes its median NaN
    out[many] = med
    return out


# --------------------------------------------------------------------------- baseline comparison
def comparison_view(comp: dict[str, Any] | None) -> dict[str, Any] | None:
    """``Report.comparison`` (``lossdoc.compare.compare_report``) as display rows.

    Returns ``{"regressed", "tolerance", "method", "baselines": [str], "runs": [{"run", "regressed",
    "series", "note", "rows": [{"label", "candidate", "baseline", "difference", "relative", "ci",
    "pvalue", "test", "regressed", "gating"}]}], "other": [(key, value)]}``; strings are cleaned but
    not escaped. Unknown keys are kept in ``other`` so nothing silently disappears.
    """
    if not comp:
        return None

    def num(v: Any) -> str:
        return fmt_num(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else ("—" if v is None
                                                                                             else clean(v, 80))

    known = {"regressed", "compared", "tolerance", "alpha", "method", "baselines", "runs"}
    baselines = []
    for b in comp.get("baselines") or []:
        if isinstance(b, dict):
            extra = f" ({clean(b.get('format'), 30)})" if b.get("format") else ""
            baselines.append(f"{clean(b.get('run'), 60)}{extra} · {clean(b.get('source'), 160)}")
        else:
            baselines.append(clean(b, 160))
    runs = []
    for r in comp.get("runs") or []:
        if not isinstance(r, dict):
            continue
        rows = []
        for q in r.get("quantities") or []:
            if not isinstance(q, dict):
                continue
            rel = q.get("relative")
            ci = q.get("ci")
            rows.append({
                "label": clean(q.get("label") or q.get("name") or "", 160),
                "candidate": num(q.get("candidate")),
                "baseline": num(q.get("baseline")),
                "difference": num(q.get("difference")),
                "relative": (f"{rel * 100:+.2f}%" if isinstance(rel, (int, float)) and not isinstance(rel, bool)
                             and math.isfinite(rel) else "—"),
                "ci": (f"[{num(ci[0])}, {num(ci[1])}]" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "—"),
                "pvalue": fmt_pvalue(q.get("pvalue")) if isinstance(q.get("pvalue"), (int, float)) else "—",
                "test": clean(q.get("test") or "", 160),
                "regressed": bool(q.get("regressed")),
                "gating": bool(q.get("gating", True)),
            })
        runs.append({"run": clean(r.get("run"), 80), "regressed": bool(r.get("regressed")),
                     "compared": bool(r.get("compared", bool(rows))),
                     "series": clean(r.get("series") or "", 40), "note": clean(r.get("note") or "", 400),
                     "rows": rows})
    tol = comp.get("tolerance")
    return {
        "regressed": bool(comp.get("regressed")),
        "compared": bool(comp.get("compared", True)) and all(r["compared"] for r in runs),
        "tolerance": (f"{tol * 100:g}%" if isinstance(tol, (int, float)) and not isinstance(tol, bool) else None),
        "alpha": num(comp.get("alpha")) if comp.get("alpha") is not None else None,
        "method": clean(comp.get("method") or "", 400),
        "baselines": baselines,
        "runs": runs,
        "other": [(clean(str(k).replace("_", " "), 60), clean(v, 200)) for k, v in comp.items() if k not in known],
    }
