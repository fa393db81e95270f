"""Static inline SVG charts for the HTML report, drawn with matplotlib (Agg, text kept as text).

Charts are drawn from series down-sampled by :mod:`lossdoc.report.present` (each bin keeps its min
and max, drawn as an envelope, so a one-step spike in a 10^7-step log still shows). The SVG is
post-processed to be embedded inline, several per page: the XML prolog and metadata go, element
ids get a per-chart prefix, coordinates are rounded, the neutral "ink" colour becomes
``currentColor`` so that axes and text follow the page's light or dark theme, and an accessible
``<title>``/``<desc>`` is added. Every string from a log is cleaned (control characters,
matplotlib's ``$...$`` mathtext) before matplotlib sees it; matplotlib escapes XML in text, and
:func:`_assert_inert` refuses any SVG with script or event-handler content as a last line of defence.

matplotlib is imported lazily (``import lossdoc`` and the terminal summary never pay for it) and
used through ``matplotlib.figure.Figure`` only: no pyplot, no global backend switch, so rendering a
report inside a notebook leaves the user's plotting state alone.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossdoc.checks.findings import Finding, Severity
from lossdoc.numfmt import fmt_num, fmt_step
from lossdoc.report.model import Report, RunReport
from lossdoc.report.present import (
    BASELINE_COLORS,
    PALETTE,
    SPLIT_COLOR,
    Binned,
    ChartSeries,
    clean,
    gap_chart_series,
    get_series,
    loss_series,
    model_name,
    run_data,
)

#: Sentinel colours replaced by ``currentColor`` after drawing (text, spines, ticks, grid).
_INK = "#010203"
#: Series colours: mid-luminance, readable on white and on near-black.
SEVERITY_COLOR = {Severity.ERROR: "#dc2626", Severity.WARNING: "#d97706", Severity.INFO: "#2563eb"}
FIT_COLOR = "#a855f7"

WIDTH_IN = 9.6
_LEFT, _RIGHT = 0.075, 0.985  # shared margins so stacked figures line up on the step axis
MAX_RUNS_DRAWN = 12
#: Panels added for series findings are about that no other chart draws.
MAX_EXTRA_PANELS = 3
#: Legends with more entries than this go below the plot instead of over it.
LEGEND_INSIDE = 5


@dataclass(slots=True)
class Chart:
    """One inline SVG with its accessible title and caption."""

    key: str
    title: str
    desc: str
    svg: str  #: safe markup (built from cleaned, XML-escaped text only)


def _mpl_text(s: Any, limit: int = 48) -> str:
    """A log string made inert for matplotlib: no control characters, no mathtext, no
    leading underscore (legend would hide it)."""
    t = clean(s, limit).replace("\\", "\\\\").replace("$", r"\$")
    if t.startswith("_"):
        t = "\u200b" + t
    return t


def _rc() -> dict[str, Any]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "lossdoc",
        "font.family": "DejaVu Sans",
        "font.size": 9.5,
        "axes.edgecolor": _INK,
        "axes.labelcolor": _INK,
        "axes.titlecolor": _INK,
        "xtick.color": _INK,
        "ytick.color": _INK,
        "text.color": _INK,
        "grid.color": _INK,
        "grid.alpha": 0.12,
        "grid.linewidth": 0.6,
        "axes.grid": True,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.linewidth": 0.6,
        "legend.frameon": False,
        "legend.fontsize": 8.5,
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.facecolor": "none",
        "savefig.transparent": True,
        "path.simplify": True,
        "text.usetex": False,
        "axes.formatter.useoffset": False,
        "axes.formatter.limits": (-4, 6),
    }


# --------------------------------------------------------------------------- SVG post-processing
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_DEFS_STYLE = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>\s*", re.S)
_FLOAT = re.compile(r"(-?\d+\.\d)\d+")
_FLOAT2 = re.compile(r"(-?\d+\.\d\d)\d+")
_TAG = re.compile(r"<[^<>]+>")
_PATH_D = re.compile(r'( d=")([^"]*)(")')
_FONT = re.compile(r"font-family: ?'?DejaVu Sans'?|'DejaVu Sans'")
_DANGER = re.compile(r"<\s*script|<\s*foreignObject|\son[a-z]+\s*=", re.I)
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')
_JS_URL = re.compile(r"""href\s*=\s*["']\s*javascript:""", re.I)


def _assert_inert(svg: str) -> str:
    # Only markup can be active: look at the tags, with attribute values blanked (a run named
    # "on_policy=ppo" or "online=1" is text, escaped by matplotlib, not an event handler).
    for tag in _TAG.findall(svg):
        if _DANGER.search(_QUOTED.sub('""', tag)) or _JS_URL.search(tag):
            raise ValueError("chart SVG contains active content")  # cannot happen with escaped text
    return svg


def _finish_svg(raw: str, key: str, title: str, desc: str) -> str:
    svg = _PROLOG.sub("", raw, count=1)
    svg = _METADATA.sub("", svg)
    svg = _COMMENT.sub("", svg)
    svg = _DEFS_STYLE.sub("", svg)  # matplotlib's `*{stroke-linejoin: round}` would leak page-wide
    svg = _PATH_D.sub(lambda m: m.group(1) + _FLOAT.sub(r"\1", m.group(2)) + m.group(3), svg)
    svg = _TAG.sub(lambda m: _FLOAT2.sub(r"\1", m.group()), svg)  # attributes only, never text
    svg = svg.replace(_INK, "currentColor")
    svg = _FONT.sub("font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', svg)
    svg = svg.replace("url(#", f"url(#{key}-")
    svg = re.sub(r'(href="#)(?!finding-)', rf"\g<1>{key}-", svg)  # marker <use>; not our finding links
    # Size: drop fixed pt width/height; the viewBox scales with CSS (width: 100%).
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r"<svg\1", svg, count=1)
    svg = re.sub(r"<svg\b", f'<svg role="img" aria-labelledby="{key}-title {key}-desc" class="chart-svg"', svg,
                 count=1)
    end = svg.index(">") + 1  # title and desc go first inside <svg>
    svg = (svg[:end] + f'<title id="{key}-title">{html.escape(title)}</title>'
           f'<desc id="{key}-desc">{html.escape(desc)}</desc>' + svg[end:])
    return _assert_inert(svg.strip())


def _save(fig: Any, key: str, title: str, desc: str, hover: list[_Hover] | None = None) -> str:
    layer = _hover_layer(fig, hover) if hover else ""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    raw = buf.getvalue()
    if layer:
        end = raw.rindex("</svg>")
        raw = raw[:end] + layer + raw[end:]
    return _finish_svg(raw, key, title, desc)


# --------------------------------------------------------------------------- hover titles, CSV
#: Logged points given a hover title, per chart (shared among its series).
HOVER_POINTS = 600


@dataclass(slots=True)
class _Hover:
    """Logged points of one drawn series to give an SVG ``<title>`` (step and value as logged)."""

    ax: Any
    label: str  #: "train loss", "run-a val loss" (cleaned log text; escaped when written)
    steps: np.ndarray
    values: np.ndarray


def hover_sample(steps: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Indices of at most ``n`` logged points to carry hover titles: every point of a short series;
    of a long one, the lowest and the highest point of each of n/2 equal runs of points (the
    envelope the chart draws, so a spike's peak is among them)."""
    size = int(steps.size)
    if size <= n:
        return np.arange(size)
    k = max(1, n // 2)
    edges = np.linspace(0, size, k + 1).astype(np.int64)
    out = np.empty(2 * k, dtype=np.int64)
    for i in range(k):
        a, b = int(edges[i]), int(edges[i + 1])
        seg = values[a:b]
        out[2 * i] = a + int(np.argmin(seg))
        out[2 * i + 1] = a + int(np.argmax(seg))
    return np.unique(out)


def _fmt_value(v: float) -> str:
    """A value exactly as parsed from the log (shortest round-trip form)."""
    return repr(float(v))


def _hover_layer(fig: Any, items: list[_Hover]) -> str:
    """Transparent circles over the drawn points, each with a ``<title>`` "label · step N: value",
    in SVG user units (points; matplotlib's SVG viewBox is the figure size at 72 per inch).
    Drawn last, so they are on top; a browser shows the title on hover, with no script."""
    fig.canvas.draw()  # final limits and layout
    w_pt, h_pt = fig.get_figwidth() * 72.0, fig.get_figheight() * 72.0
    fw, fh = fig.bbox.width, fig.bbox.height
    per = max(40, HOVER_POINTS // max(1, len(items)))
    out = ['<g class="hover">']
    for it in items:
        if it.steps.size == 0:
            continue
        idx = hover_sample(it.steps, it.values, per)
        st, va = it.steps[idx], it.values[idx]
        ok = np.isfinite(va)
        st, va = st[ok], va[ok]
        if not st.size:
            continue
        with np.errstate(all="ignore"):
            disp = it.ax.transData.transform(np.column_stack([st.astype(float), va]))
        box = it.ax.bbox
        label = html.escape(it.label)
        for (dx, dy), s, v in zip(disp, st, va):
            if not (np.isfinite(dx) and np.isfinite(dy)) or not (box.x0 - 1 <= dx <= box.x1 + 1
                                                                  and box.y0 - 1 <= dy <= box.y1 + 1):
                continue
            x, y = dx / fw * w_pt, (1.0 - dy / fh) * h_pt
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2"><title>{label} · step {int(s):,}: '
                       f"{_fmt_value(v)}</title></circle>")
    out.append("</g>")
    return "".join(out) if len(out) > 2 else ""


def csv_data_url(rows: list[tuple[str, str, Binned]]) -> str:
    """The plotted (down-sampled) data as a ``data:text/csv`` URL: one line per bin with its
    representative step, point count, mean, min and max (a bin of one point is that point as logged)."""
    from urllib.parse import quote

    lines = ["run,split,bin_step,bin_points,bin_mean,bin_min,bin_max"]
    for run, split, b in rows:
        name = '"' + clean(run, 200).replace('"', '""') + '"'
        for st, n, mean, lo, hi in zip(b.step, b.count, b.mean, b.min, b.max):
            vals = [_fmt_value(x) if np.isfinite(x) else "" for x in (mean, lo, hi)]
            lines.append(f"{name},{split},{int(st)},{int(n)},{','.join(vals)}")
    return "data:text/csv;charset=utf-8," + quote("\n".join(lines) + "\n", safe=",")


# --------------------------------------------------------------------------- drawing helpers
def _draw_binned(ax: Any, b: Binned, color: str, *, label: str | None, raw_alpha: float, lw: float) -> None:
    if b.step.size == 0:
        return
    if b.dense:
        # Each bin drawn from its min to its max (one zig-zag path): at this density it is what the
        # full-resolution line would look like, and a one-step spike keeps its full height.
        x = np.repeat(b.step, 2)
        y = np.empty(2 * b.step.size)
        y[0::2], y[1::2] = b.min, b.max
        ax.plot(x, y, color=color, alpha=raw_alpha, linewidth=lw * 0.8, label=label)
        return
    ax.plot(b.step, b.mean, color=color, alpha=raw_alpha, linewidth=lw, label=label)


def _nonfinite_marks(ax: Any, steps: np.ndarray, color: str) -> None:
    if steps.size == 0:
        return
    steps = np.unique(steps)
    if steps.size > 400:  # thin marks; they only need to show where
        steps = steps[np.linspace(0, steps.size - 1, 400).astype(int)]
    ax.plot(steps, np.full(steps.size, 0.985), transform=ax.get_xaxis_transform(), linestyle="none",
            marker="x", markersize=4.5, markeredgewidth=1.2, color=color, clip_on=False)


def _finding_marks(ax: Any, marks: list[tuple[int, Finding]], *, labels: bool) -> None:
    """Spans (or lines) for findings with a step range; numbered circles linking to their text."""
    placed: list[float] = []
    lanes: list[float] = []  # end step of the last strip in each lane along the top edge
    for num, f in sorted(marks, key=lambda m: (m[1].start_step if m[1].start_step is not None else 0, m[0])):
        if f.start_step is None and f.end_step is None:
            continue
        color = SEVERITY_COLOR.get(f.severity, "#6b7280")
        a = f.start_step if f.start_step is not None else f.end_step
        b = f.end_step if f.end_step is not None else f.start_step
        # The span is a strip along the top edge, never a shade over the curves (a finding from the
        # best step to the end once covered most of the plot); the start is a thin line behind the data.
        if b > a:  # above the plot area (never over a curve); overlapping spans take the next lane up
            lane = next((k for k, end in enumerate(lanes) if end < a), len(lanes))
            lanes[lane:lane + 1] = [b]
            bottom = 1.004 + 0.013 * min(lane, 2)
            ax.axvspan(a, b, ymin=bottom, ymax=bottom + 0.009, color=color, alpha=0.75, linewidth=0,
                       clip_on=False)
        ax.axvline(a, color=color, alpha=0.45, linewidth=0.8, linestyle=(0, (2, 2)), zorder=0.5)
        if labels:
            # Numbers of nearby findings would overlap: shift each right of its neighbour.
            lo, hi = ax.get_xlim()
            close = [x for x in placed if abs(x - a) < 0.012 * (hi - lo)]
            placed.append(a)
            t = ax.annotate(str(num), xy=(a, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(11 * len(close), 16), textcoords="offset points", ha="center", va="center",
                            fontsize=7.5, fontweight="bold", color="white", annotation_clip=False,
                            bbox={"boxstyle": "circle,pad=0.25", "fc": color, "ec": "none"})
            t.set_url(f"#finding-{num}")


def _fit(ax: Any, run: RunReport, color: str, last_step: float | None, *, label: str,
         band_label: bool) -> float | None:
    fit = run.curves.get("fit") if run.curves else None
    if not isinstance(fit, dict):
        return None
    try:
        st = np.asarray(fit["step"], dtype=float)
        y = np.asarray(fit["loss"], dtype=float)
    except (KeyError, TypeError, ValueError):
        return None
    if st.size < 2 or st.size != y.size:
        return None
    lo = np.asarray(fit.get("low", []), dtype=float)
    hi = np.asarray(fit.get("high", []), dtype=float)
    model = _mpl_text(model_name(fit.get("model") or "fit"), 24)
    if lo.size == st.size and hi.size == st.size:
        ax.fill_between(st, lo, hi, color=color, alpha=0.13, linewidth=0, zorder=0.8,
                        label="prediction interval" if band_label else None)
    # below the logged curves (zorder): inside the logged range the fit never hides a logged point
    since = fit.get("from_step")
    model += f", from step {fmt_step(int(since))}" if isinstance(since, (int, float)) else ""
    ax.plot(st, y, color=color, linewidth=1.3, linestyle=(0, (5, 3)), label=f"{label} ({model})", zorder=1.8)
    if last_step is not None and st[-1] > last_step:
        ax.axvline(last_step, color="#6b7280", linewidth=0.8, linestyle=":", alpha=0.9)
        ax.annotate("last logged step", xy=(last_step, 0.02), xycoords=("data", "axes fraction"),
                    xytext=(-4, 0), textcoords="offset points", ha="right", va="bottom", fontsize=7.5,
                    color="#6b7280")
    return float(st[-1])




def _baselines(ax: Any, run: RunReport) -> None:
    """Baseline curves attached by the comparison (``RunReport.curves["baselines"]``)."""
    items = run.curves.get("baselines") if run.curves else None
    if not isinstance(items, list):
        return
    runs_seen: list[str] = []
    for b in items[:12]:
        if not isinstance(b, dict):
            continue
        try:
            st = np.asarray(b.get("step", []), dtype=float)
            y = np.asarray(b.get("loss", []), dtype=float)
        except (TypeError, ValueError):
            continue
        if st.size < 2 or st.size != y.size:
            continue
        name = str(b.get("run") or len(runs_seen) + 1)
        if name not in runs_seen:
            runs_seen.append(name)
        k = runs_seen.index(name)  # one colour per baseline run; its train dashed, its val dotted
        is_train = b.get("split", "train") == "train"
        split = "" if is_train else f" {_mpl_text(b.get('split'), 8)}"
        ax.plot(st, y, color=BASELINE_COLORS[k % len(BASELINE_COLORS)], linewidth=1.2,
                linestyle=(0, (6, 2)) if is_train else (0, (1.5, 1.5)), alpha=0.9,
                label=f"baseline {_mpl_text(name, 32)}{split}")


def x_limits(runs: list[RunReport]) -> tuple[float, float] | None:
    """The step range charts of ``runs`` share: first to last logged step, or to the fit's horizon."""
    lo, hi = np.inf, -np.inf
    for run in runs[:MAX_RUNS_DRAWN]:
        for s in run.series:
            if s.first_step is not None and s.last_step is not None:
                lo, hi = min(lo, s.first_step), max(hi, s.last_step)
        fit = run.curves.get("fit") if run.curves else None
        if isinstance(fit, dict):
            try:
                st = np.asarray(fit.get("step", []), dtype=float)
            except (TypeError, ValueError):
                st = np.zeros(0)
            if st.size:
                hi = max(hi, float(np.nanmax(st)))
    if not np.isfinite(lo) or not np.isfinite(hi):
        return None
    pad = 0.015 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _plain_log_labels(ax: Any) -> None:
    """Label a log-scale y axis with plain numbers ("2", "3", "10", "0.5") instead of matplotlib's
    "2x10^0": easier to read for a loss, and no mathtext (0.08 s of pyparsing per report).
    matplotlib's own formatter still decides which ticks carry a label."""
    from matplotlib.ticker import LogFormatter

    class _Plain(LogFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return self.fix_minus(f"{x:.6g}") if super().__call__(x, pos) else ""

    ax.yaxis.set_major_formatter(_Plain())
    ax.yaxis.set_minor_formatter(_Plain(labelOnlyBase=False, minor_thresholds=(2, 0.4)))


def _colors(n_runs: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n_runs)]


def _positive(arrs: list[np.ndarray]) -> bool:
    """Whether some array is not empty and the finite values of every one are > 0 (no copy of them)."""
    sized = [a for a in arrs if a.size]
    return bool(sized) and all((np.min(a, where=np.isfinite(a), initial=np.inf) if a.dtype.kind == "f"
                                else a.min()) > 0 for a in sized)


def _wide_range(arrs: list[np.ndarray], ratio: float) -> bool:
    """Positive values whose 5th and 95th percentiles differ by more than ``ratio`` (log axis)."""
    if not _positive(arrs):
        return False
    fin = [np.isfinite(a) for a in arrs]
    # one array of finite values (the usual case) is used as it is: percentile copies it once anyway
    v = arrs[0] if len(arrs) == 1 and fin[0].all() else np.concatenate([a[f] for a, f in zip(arrs, fin)])
    del fin
    if v.size < 2:
        return False
    p5, p95 = _percentiles(v, (5, 95))
    return bool(p5 > 0 and p95 / p5 > ratio)


#: Above this many values :func:`_percentiles` selects among a bracket of them instead of a copy of all.
_PERCENTILE_COPY = 1 << 20


def _percentiles(v: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """``np.percentile(v, qs)`` (its default linear method, the same floats) of finite values, without
    the copy of ``v`` it partitions (10^7 points: 80 MB at the run's peak memory). Each order
    statistic is selected among the values between two of a strided sample's values that bracket its
    rank; when they do not (ties, an unlucky sample), from a copy of all, as numpy does."""
    n = v.size
    quantiles = np.true_divide(np.asarray(qs, dtype=np.float64), 100)
    virtual = (n - 1) * quantiles
    below_idx = np.floor(virtual)
    gammas = virtual - below_idx
    ranks = sorted({int(k) for k in below_idx} | {min(int(k) + 1, n - 1) for k in below_idx})
    stats = _order_stats(v, ranks)
    out = []
    for k, t in zip(below_idx, gammas):
        a, b = stats[int(k)], stats[min(int(k) + 1, n - 1)]
        d = b - a  # numpy's _lerp
        out.append(float(b - d * (1 - t) if t >= 0.5 else a + d * t))
    return out


def _order_stats(v: np.ndarray, ranks: list[int]) -> dict[int, np.float64]:
    n = v.size
    if n <= _PERCENTILE_COPY:
        part = np.partition(v, ranks)
        return {k: part[k] for k in ranks}
    sample = np.sort(v[:: max(1, n // 65536)])
    m = sample.size
    got = {}
    for k in ranks:
        at = int(k / (n - 1) * (m - 1))
        lo, hi = sample[max(0, at - 256)], sample[min(m - 1, at + 256)]
        below = int(np.count_nonzero(v < lo))
        inside = v[(v >= lo) & (v <= hi)]
        if not below <= k < below + inside.size:
            part = np.partition(v, ranks)
            return {k: part[k] for k in ranks}
        got[k] = np.partition(inside, k - below)[k - below]
    return got


# --------------------------------------------------------------------------- the charts
@dataclass(slots=True)
class _RunData:
    run: RunReport
    train: ChartSeries | None
    val: ChartSeries | None


def _collect(report: Report, n_bins: int, cache: dict[Any, Any] | None) -> list[_RunData]:
    out = []
    for run in report.runs[:MAX_RUNS_DRAWN]:
        out.append(_RunData(run, loss_series(run, "train", n_bins=n_bins, smooth=True, cache=cache),
                            loss_series(run, "val", n_bins=n_bins, smooth=False, cache=cache)))
    return out


@dataclass(slots=True)
class ChartGroup:
    """The loss chart of some runs: linear, and log-scaled when every loss is positive."""

    key: str
    runs: list[int]  #: indices into ``report.runs``
    linear: Chart
    log: Chart | None
    csv: str = ""  #: the plotted data as a data: URL (:func:`csv_data_url`)


#: Runs whose typical losses differ more than this factor get one chart each, not an overlay.
OVERLAY_MAX_RATIO = 8.0


def _level(d: _RunData) -> float | None:
    s = d.train if d.train is not None and d.train.values.size else d.val
    if s is None or not s.values.size:
        return None
    return float(np.median(s.values))


def loss_charts(report: Report, finding_numbers: dict[int, int], *, key: str = "loss",
                cache: dict[Any, Any] | None = None) -> list[ChartGroup]:
    """The loss chart(s): one overlay of every run when their losses share a scale, else one
    chart per run (small multiples). ``finding_numbers`` maps ``id(finding)`` to the number shown
    in the report's findings list.
    """
    n_runs = min(len(report.runs), MAX_RUNS_DRAWN)
    n_bins = max(150, 600 // max(1, n_runs))
    data = [(i, d) for i, d in enumerate(_collect(report, n_bins, cache)) if d.train is not None or d.val is not None]
    if not data:
        return []
    overlay = len(data) == 1
    if not overlay:  # (a run's level is a median over its points: only worth it when there are several)
        levels = [lv for _, d in data if (lv := _level(d)) is not None]
        overlay = bool(levels) and min(levels) > 0 and max(levels) / min(levels) <= OVERLAY_MAX_RATIO
    groups = [data] if overlay else [[item] for item in data]
    out = []
    for gi, group in enumerate(groups):
        gkey = key if overlay else f"{key}-{gi + 1}"
        runs_d = [d for _, d in group]
        idx = [i for i, _ in group]
        arrays = [s.values for d in runs_d for s in (d.train, d.val) if s is not None]
        many = len(runs_d) > 1
        names = ", ".join(clean(d.run.run, 40) for d in runs_d)
        colors = [PALETTE[i % len(PALETTE)] for i in idx]
        height = 4.2 if overlay else 3.3
        xl = x_limits([d.run for d in runs_d])
        lin = _loss_chart(runs_d, finding_numbers, "linear", f"{gkey}-linear", many, names, colors, height, xl,
                          None if overlay else clean(runs_d[0].run.run, 60))
        log = None
        if _positive(arrays):
            log = _loss_chart(runs_d, finding_numbers, "log", f"{gkey}-log", many, names, colors, height, xl,
                              None if overlay else clean(runs_d[0].run.run, 60))
        csv_rows = [(d.run.run, split, ser.binned) for d in runs_d
                    for split, ser in (("train", d.train), ("val", d.val)) if ser is not None]
        out.append(ChartGroup(gkey, idx, lin, log, csv_data_url(csv_rows)))
    return out


def _loss_chart(data: list[_RunData], numbers: dict[int, int], scale: str, key: str, many: bool, names: str,
                colors: list[str], height: float, xl: tuple[float, float] | None, heading: str | None) -> Chart:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(WIDTH_IN, height))
        ax = fig.subplots()
        fig.subplots_adjust(left=_LEFT, right=_RIGHT, top=1 - (0.62 if heading else 0.45) / height,
                            bottom=0.5 / height)
        x_max = None
        hover: list[_Hover] = []
        for i, d in enumerate(data):
            who_h = clean(d.run.run, 40) + " " if many else ""
            for split, ser in (("train", d.train), ("val", d.val)):
                if ser is not None:
                    hover.append(_Hover(ax, f"{who_h}{split} loss", ser.steps, ser.values))
            # one run: colours by split (as in every other chart); several: by run, val dashed
            c_train = colors[i] if many else SPLIT_COLOR["train"]
            c_val = colors[i] if many else SPLIT_COLOR["val"]
            who = _mpl_text(d.run.run, 32) + " " if many else ""
            if d.train is not None:
                if d.train.smooth is not None:
                    _draw_binned(ax, d.train.binned, c_train, label=f"{who}train (raw)" if not many else None,
                                 raw_alpha=0.55, lw=0.8)
                    sm = d.train.smooth
                    _draw_binned(ax, Binned(sm.step, sm.mean, sm.mean, sm.mean, np.ones_like(sm.count)),
                                 c_train, label=f"{who}train (smoothed)", raw_alpha=1.0, lw=1.7)
                else:  # short series: the raw points themselves, no smoothing to lag behind them
                    b = d.train.binned
                    ax.plot(b.step, b.mean, color=c_train, linewidth=1.6, label=f"{who}train",
                            marker="o" if b.step.size <= 60 else None, markersize=2.8)
                _nonfinite_marks(ax, d.train.nonfinite_steps, SEVERITY_COLOR[Severity.ERROR])
            if d.val is not None:
                b = d.val.binned
                ax.plot(b.step, b.mean, color=c_val, linewidth=1.5, marker="o" if b.step.size <= 60 else None,
                        markersize=3.2, linestyle="--" if many else "-", label=f"{who}val")
                if b.dense:
                    ax.fill_between(b.step, b.min, b.max, color=c_val, alpha=0.15, linewidth=0)
                _nonfinite_marks(ax, d.val.nonfinite_steps, SEVERITY_COLOR[Severity.ERROR])
            _baselines(ax, d.run)
            last = None
            if d.train is not None and d.train.steps.size:
                last = float(d.train.steps[-1])
            end = _fit(ax, d.run, FIT_COLOR if not many else colors[i], last,
                       label=f"{who}fit" if many else "fitted", band_label=not many)
            if end is not None:
                x_max = max(x_max or end, end)
        marks = [(numbers[id(f)], f) for d in data for f in d.run.findings if id(f) in numbers]
        if xl is not None:
            ax.set_xlim(*xl)
        _finding_marks(ax, marks, labels=True)
        ax.set_yscale(scale)
        if scale == "log":
            _plain_log_labels(ax)
        ax.set_xlabel("step")
        ax.set_ylabel("loss" + (" (log scale)" if scale == "log" else ""))
        if xl is not None:
            ax.set_xlim(*xl)
        elif x_max is not None:
            lo, hi = ax.get_xlim()
            ax.set_xlim(lo, max(hi, x_max))
        handles, _labels = ax.get_legend_handles_labels()
        if len(handles) <= LEGEND_INSIDE:
            ax.legend(loc="best")  # where it hides the fewest points
        else:  # a long legend (several runs, baselines) goes below the plot: inside it would hide curves
            cols = 3 if len(handles) > 6 else 2
            rows = -(-len(handles) // cols)
            fig.set_size_inches(WIDTH_IN, height + 0.2 * rows)
            h = height + 0.2 * rows
            fig.subplots_adjust(top=1 - (0.62 if heading else 0.45) / h, bottom=(0.5 + 0.2 * rows) / h)
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.5 / height * 0.9), ncols=cols)
        if heading:
            ax.set_title(_mpl_text(heading, 60), loc="left", fontsize=9.5, pad=28, fontweight="bold")
        title = f"Loss by step ({'log' if scale == 'log' else 'linear'} scale)"
        if heading:
            title = f"{heading}: loss by step ({'log' if scale == 'log' else 'linear'} scale)"
        desc = _loss_desc(data, marks, names)
        svg = _save(fig, key, title, desc, hover)
    return Chart(key, title, desc, svg)


def _loss_desc(data: list[_RunData], marks: list[tuple[int, Finding]], names: str) -> str:
    parts = [f"Runs: {names}."]
    for d in data:
        if d.train is not None and d.train.values.size:
            parts.append(f"{clean(d.run.run, 40)} train loss from {fmt_num(d.train.values[0])} at step "
                         f"{fmt_step(d.train.steps[0])} to {fmt_num(d.train.values[-1])} at step "
                         f"{fmt_step(d.train.steps[-1])} (minimum {fmt_num(d.train.values.min())}).")
        if d.train is not None and d.train.nonfinite_steps.size:
            parts.append(f"{d.train.nonfinite_steps.size} non-finite training losses, marked with crosses.")
        if d.val is not None and d.val.values.size:
            parts.append(f"Validation loss {fmt_num(d.val.values[0])} to {fmt_num(d.val.values[-1])}.")
    if marks:
        parts.append(f"{len(marks)} findings marked by number.")
    return " ".join(parts)


def dynamics_chart(report: Report, *, key: str = "dyn", cache: dict[Any, Any] | None = None) -> Chart | None:
    """Panels beneath the loss chart on the same step axis: train–val gap, learning rate, gradient
    norm (those that are logged)."""
    n_runs = min(len(report.runs), MAX_RUNS_DRAWN)
    n_bins = max(150, 600 // max(1, n_runs))
    runs = report.runs[:MAX_RUNS_DRAWN]
    colors = _colors(len(runs))
    gaps, lrs, gns = [], [], []
    x_range: list[float] = []
    for i, run in enumerate(runs):
        tr = loss_series(run, "train", n_bins=n_bins, smooth=True, cache=cache)
        va = loss_series(run, "val", n_bins=n_bins, cache=cache)
        for s in (tr, va):
            if s is not None and s.steps.size:
                x_range += [float(s.steps[0]), float(s.steps[-1])]
        g = gap_chart_series(tr, va, n_bins) if tr is not None and va is not None else None
        if g is not None:
            gaps.append((i, run, g))
        lr = get_series(run, "train", "lr", n_bins=n_bins, cache=cache)
        if lr is not None and lr.values.size:
            lrs.append((i, run, lr))
        gn = get_series(run, "train", "grad_norm", n_bins=n_bins, cache=cache)
        if gn is not None and gn.values.size:
            gns.append((i, run, gn))
    panels: list[tuple[str, list[Any]]] = [p for p in (("gap", gaps), ("lr", lrs), ("grad_norm", gns)) if p[1]]
    # every series a finding is about is drawn: the loss chart has the losses, these panels lr and grad
    # norm; any other (val/accuracy, train/loss_scale, a component loss...) gets a panel of its own
    drawn = {("train", "loss"), ("val", "loss"), ("test", "loss"), ("train", "lr"), ("train", "grad_norm")}
    extra: list[tuple[str, str]] = []
    for run in runs:
        for f in run.findings:
            key_f = (f.split or "", f.metric or "")
            if f.split and f.metric and key_f not in drawn and key_f not in extra:
                extra.append(key_f)
    # a GAN's discriminator and generator losses are no loss the loss chart draws (LG005): a panel each
    from lossdoc.checks.series import adversarial_losses

    game: set[str] = set()
    for run in runs:
        for split in ("train", "val"):
            for s in adversarial_losses(run_data(run), split):
                if (s.split, s.metric) not in drawn and (s.split, s.metric) not in extra:
                    extra.append((s.split, s.metric))
                    game.add(f"{s.split}/{s.metric}")
    for split, metric in extra[:MAX_EXTRA_PANELS]:
        items = []
        for i, run in enumerate(runs):
            s = get_series(run, split, metric, n_bins=n_bins, cache=cache)
            if s is not None and s.values.size:
                items.append((i, run, s))
        if items:
            panels.append((f"series:{split}/{metric}", items))
    if not panels:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    many = len(runs) > 1
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(WIDTH_IN, 1.0 + 1.75 * len(panels)))
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)
        fig.subplots_adjust(left=_LEFT, right=_RIGHT, top=1 - 0.25 / (1.0 + 1.75 * len(panels)),
                            bottom=0.55 / (1.0 + 1.75 * len(panels)), hspace=0.28)
        what = []
        hover: list[_Hover] = []
        names = {"gap": "val − train loss", "lr": "lr", "grad_norm": "grad norm"}
        # one run: colours by split (the gap belongs to validation); several: the runs table's colours
        split_of = {"gap": "val", "lr": "train", "grad_norm": "train"}
        for ax, (kind, items) in zip(axes[:, 0], panels):
            sk = kind.split(":", 1)[1].split("/")[0] if kind.startswith("series:") else split_of[kind]
            for i, run, obj in items:
                lab = _mpl_text(run.run, 32) if many else None
                color = colors[i] if many else SPLIT_COLOR.get(sk, PALETTE[4])
                if kind != "gap":  # (the gap is derived: its drawn values are in the CSV, not logged points)
                    hover.append(_Hover(ax, (clean(run.run, 40) + " " if many else "")
                                        + names.get(kind, kind.split(":", 1)[-1]), obj.steps, obj.values))
                if kind == "gap" and obj.smooth is not None:  # dense: each evaluation faint, the trend solid
                    _draw_binned(ax, obj.binned, color, label=None, raw_alpha=0.3, lw=0.9)
                    ax.plot(obj.smooth.step, obj.smooth.mean, color=color, linewidth=1.4, label=lab)
                elif kind == "gap" or (kind.startswith("series:") and obj.steps.size <= 60):
                    ax.plot(obj.steps, obj.values, color=color, linewidth=1.3,
                            marker="o" if obj.steps.size <= 60 else None, markersize=2.8, label=lab)
                    if kind != "gap":
                        _nonfinite_marks(ax, obj.nonfinite_steps, SEVERITY_COLOR[Severity.ERROR])
                else:
                    _draw_binned(ax, obj.binned, color, label=lab, raw_alpha=0.9, lw=1.1)
                    _nonfinite_marks(ax, obj.nonfinite_steps, SEVERITY_COLOR[Severity.ERROR])
            if kind.startswith("series:"):
                label = _mpl_text(kind.split(":", 1)[1], 40)
                ax.set_ylabel(_mpl_text(kind.split("/", 1)[1], 16))
                why = ("one side of a GAN's game, not judged as a loss" if kind.split(":", 1)[1] in game
                       else "a finding is about this series")
                ax.set_title(f"{label} ({why})", loc="left", fontsize=9)
                what.append(clean(kind.split(":", 1)[1], 40))
                continue
            if kind == "gap":
                ax.axhline(0, color=_INK, linewidth=0.7, alpha=0.5)
                ax.set_ylabel("val − train")
                ax.set_title("Generalisation gap (validation minus training loss, smoothed when dense)", loc="left",
                             fontsize=9)
                what.append("the gap between validation and training loss")
            elif kind == "lr":
                vals = [o.values for _, _, o in items]
                if _wide_range(vals, 1e3):  # e.g. an lr range test; a schedule decaying to 0 stays linear
                    ax.set_yscale("log")
                    _plain_log_labels(ax)
                ax.set_ylabel("lr")
                ax.set_title("Learning rate", loc="left", fontsize=9)
                what.append("the learning rate")
            else:
                vals = [o.values for _, _, o in items]
                if _wide_range(vals, 100):
                    ax.set_yscale("log")
                    _plain_log_labels(ax)
                ax.set_ylabel("grad norm")
                ax.set_title("Gradient norm", loc="left", fontsize=9)
                what.append("the gradient norm")
        from matplotlib.ticker import FuncFormatter

        for ax in axes[:, 0]:
            if ax.get_yscale() == "linear":  # no "1e-5" multiplier floating over the panel title
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: "0" if v == 0 else f"{v:.4g}"))
        axes[-1, 0].set_xlabel("step")
        xl = x_limits(report.runs)
        if xl is not None:
            axes[-1, 0].set_xlim(*xl)
        title = "Training dynamics by step"
        desc = "Panels on the loss chart's step axis showing " + ", ".join(what) + "."
        if many:
            desc += " Colours as in the runs table."
        svg = _save(fig, key, title, desc, hover)
    return Chart(key, title, desc, svg)
