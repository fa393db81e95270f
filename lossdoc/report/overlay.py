"""The sweep index's overlay chart: every run's loss on shared axes, with a legend table.

Drawn by hand as a small inline SVG from the per-run sparkline data the sweep workers already send
back (bin means of at most ``SPARK_BINS`` equal-width step bins), so the index needs no matplotlib
and no second pass over the logs. Runs are listed best first (the sweep's ranking); runs whose loss
went NaN/inf or diverged come last and are drawn dashed in red. Each line has an SVG ``<title>``
(run, final loss) shown on hover, and each hover point a ``<title>`` with the bin's step and mean
(labelled as a bin mean: derived, not logged). The legend table carries the hyperparameters the logs
state (``run.config``, normalised keys) as columns.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

#: Runs drawn at most (best first; the NaN/diverged ones after them count too).
MAX_LINES = 200
#: Runs whose bin points carry hover titles (the best ones; the NaN/diverged ones when few runs).
POINT_TITLES_RUNS = 8
PALETTE = ("#3b82f6", "#f59e0b", "#10b981", "#ec4899", "#8b5cf6", "#06b6d4", "#84cc16", "#f43f5e")
BAD_COLOR = "#dc2626"
#: Categories that put a run at the end of the overlay (it went NaN or diverged).
BAD_CATEGORIES = frozenset({"non_finite", "divergence"})

W, H = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 34


def _bad(run: Any) -> bool:
    return any(f.category in BAD_CATEGORIES and int(f.severity) >= 3 for f in run.findings)


def _points(sp: dict[str, list[Any]] | None) -> list[tuple[float, float]]:
    if not sp:
        return []
    return [(float(s), float(m)) for s, m in zip(sp.get("step", []), sp.get("mean", []))
            if s is not None and m is not None and math.isfinite(s) and math.isfinite(m)]


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def sweep_overlay(report: Any, ranking: Sequence[Any], detailed: set[int] | None = None) -> dict[str, Any] | None:
    """The overlay chart and its legend rows for the sweep index (None with fewer than two curves)."""
    from lossdoc.report.present import fmt_num, fmt_step
    from lossdoc.runconfig import CONFIG_KEYS, run_config

    good, bad = [], []
    for row in ranking:
        if detailed is not None and row.index not in detailed:
            continue  # a summarised index draws the runs it details (the best and those with an error)
        run = report.runs[row.index]
        (bad if _bad(run) else good).append((row, run))
    order = (good + bad)[:MAX_LINES]
    lines = [(row, run, _points(run.curves.get("sparkline")), _bad(run)) for row, run in order]
    drawn = [ln for ln in lines if len(ln[2]) >= 2]
    if len(drawn) < 2:
        return None
    xs = [p[0] for ln in drawn for p in ln[2]]
    x0, x1 = min(xs), max(xs)
    good_y = sorted(p[1] for ln in drawn if not ln[3] for p in ln[2]) or sorted(p[1] for ln in drawn for p in ln[2])
    y_lo = good_y[0]
    # A diverged run would flatten every other curve: the axis ends a little above the healthy runs'
    # highest bin means (their start), and lines above it are clipped at the top edge.
    y_hi = good_y[-1]
    pad = 0.04 * (y_hi - y_lo) if y_hi > y_lo else max(abs(y_hi) * 0.05, 0.01)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    log = y_lo > 0 and y_hi / y_lo > 20
    f = math.log10 if log else (lambda v: v)
    fy_lo, fy_hi = f(y_lo), f(y_hi)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def X(v: float) -> float:
        return LEFT + (v - x0) / ((x1 - x0) or 1.0) * pw

    def Y(v: float) -> float:
        v = min(max(v, y_lo), y_hi)
        return TOP + ph - (f(v) - fy_lo) / ((fy_hi - fy_lo) or 1.0) * ph

    out = [f'<svg class="overlay-svg" viewBox="0 0 {W} {H}" role="img" aria-labelledby="overlay-title">'
           f'<title id="overlay-title">Loss of {len(drawn)} runs by step, shared axes</title>']
    # Axes and ticks (currentColor: follows the page's light or dark theme).
    out.append(f'<g class="axes"><line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}"/>'
               f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}"/>')
    for t in _ticks(x0, x1):
        out.append(f'<text x="{X(t):.1f}" y="{TOP + ph + 14}" text-anchor="middle">{fmt_step(int(round(t)))}</text>')
    if log:
        yt = [10.0 ** e for e in range(math.ceil(fy_lo), math.floor(fy_hi) + 1)]
        for base in (2.0, 5.0):
            yt += [base * 10.0 ** e for e in range(math.floor(fy_lo), math.ceil(fy_hi) + 1)
                   if y_lo <= base * 10.0 ** e <= y_hi]
    else:
        yt = _ticks(y_lo, y_hi)
    for t in sorted(set(yt)):
        out.append(f'<line class="grid" x1="{LEFT}" y1="{Y(t):.1f}" x2="{LEFT + pw}" y2="{Y(t):.1f}"/>'
                   f'<text x="{LEFT - 5}" y="{Y(t) + 3.5:.1f}" text-anchor="end">{_fmt(t)}</text>')
    out.append(f'<text x="{LEFT + pw / 2:.1f}" y="{H - 4}" text-anchor="middle">step</text>'
               f'<text transform="translate(12 {TOP + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f'loss{" (log scale)" if log else ""}</text></g>')
    rows = []
    cfg_keys: list[str] = []
    configs = []
    for row, run, _pts, _b in lines:
        cfg = run_config(run)
        configs.append(cfg)
        for k in CONFIG_KEYS:
            if k in cfg and k not in cfg_keys:
                cfg_keys.append(k)
    cfg_keys = [k for k in CONFIG_KEYS if k in cfg_keys]
    # Draw the worst last-listed first, so the best run's line is on top.
    for pos in reversed(range(len(lines))):
        row, run, pts, is_bad = lines[pos]
        if len(pts) < 2:
            continue
        color = BAD_COLOR if is_bad else PALETTE[pos % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if is_bad else ""
        name = html.escape(_clean(run.run))
        final = fmt_num(row.final_train_loss_smoothed)
        path = " ".join(f"{X(s):.0f},{Y(m):.0f}" for s, m in pts)  # (1 unit = 1/720 of the width)
        out.append(f'<g class="run"><polyline points="{path}" stroke="{color}"{dash}>'
                   f"<title>#{pos + 1} {name}: final train loss, smoothed {html.escape(final)}</title></polyline>")
        if pos < POINT_TITLES_RUNS:  # (every line has its title; points only for the best runs: size)
            out.append("".join(f'<circle cx="{X(s):.0f}" cy="{Y(m):.0f}" r="3"><title>{name} · bin at step '
                               f"{fmt_step(int(s))}: mean loss {_fmt(m)}</title></circle>" for s, m in pts))
        out.append("</g>")
    out.append("</svg>")
    for pos, (row, run, pts, is_bad) in enumerate(lines):
        cfg = configs[pos]
        rows.append({
            "pos": pos + 1, "run": run.run, "color": BAD_COLOR if is_bad else PALETTE[pos % len(PALETTE)],
            "bad": is_bad, "drawn": len(pts) >= 2, "final": fmt_num(row.final_train_loss_smoothed),
            "best_val": fmt_num(row.best_val_loss),
            "anchor": f"run-{row.index + 1}" if detailed is None or row.index in detailed else None,
            "worst": None if row.worst is None else f"{row.worst.rule} {row.worst.name}",
            "config": [_cfg_value(cfg.get(k)) for k in cfg_keys],
        })
    return {"svg": "".join(out), "rows": rows, "config_keys": cfg_keys, "log": log,
            "clipped": any(p[1] > y_hi for ln in drawn for p in ln[2]),
            "more": max(0, len(ranking) - len(lines))}  # runs not drawn


def _clean(s: Any, limit: int = 60) -> str:
    from lossdoc.report.present import clean

    return clean(s, limit)


def _cfg_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return _clean(v, 40)
