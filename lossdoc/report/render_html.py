"""The HTML report: one self-contained file (inline CSS and SVG, no script, no network request).

Rendered with one jinja2 ``Environment(PackageLoader("lossdoc", "report/templates"),
autoescape=select_autoescape())``: every string from a log (run names, metric names, paths, note
messages) is escaped by the template engine. The only markup passed through unescaped is the chart
SVG, built by :mod:`lossdoc.report.charts` from cleaned, XML-escaped text.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from markupsafe import Markup

from lossdoc.checks.findings import Finding
from lossdoc.report.model import Report, RunReport
from lossdoc.report.present import (
    VERDICT_TEXT,
    clean,
    comparison_view,
    summary_phrase,
    fmt_num,
    fmt_pvalue,
    fmt_step,
    fmt_steps,
    key_numbers,
    merged_sources,
    model_name,
    ordered_findings,
    severity_counts,
    strip_controls,
)


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` output: plain strings lose control characters (terminal escapes, bidi
    overrides) before autoescaping; the chart markup passes as is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value)
    return value


#: Findings listed in the HTML (the JSON report has them all) and numbered on the charts.
MAX_FINDINGS = 300
MAX_CHART_MARKS = 40


@functools.lru_cache(maxsize=1)
def _env() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("lossdoc", "report/templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "html.j2"), default_for_string=True,
                                     default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["num"] = fmt_num
    env.filters["step"] = fmt_step
    return env


def render_html(report: Report) -> str:
    """The whole report as one HTML document (a ``str``)."""
    return _env().get_template("report.html.j2").render(**context(report))


# --------------------------------------------------------------------------- context
def context(report: Report) -> dict[str, Any]:
    """Everything the template shows, as plain values (strings from logs are left raw: the
    template escapes them)."""
    from lossdoc.report import charts

    ordered = ordered_findings(report)
    # The most severe findings are numbered on the charts (more marks would bury the curves).
    numbers = {id(f): i for i, (_, f) in enumerate(ordered[:MAX_CHART_MARKS], start=1)}
    cache: dict[Any, Any] = {}  # each run's series is read from its frame once per rendering
    loss = charts.loss_charts(report, numbers, cache=cache)
    dyn = charts.dynamics_chart(report, cache=cache)
    anchors = {id(report.runs[i]): f"chart-{g.linear.key}" for g in loss for i in g.runs}
    multi = len(report.runs) > 1
    return {
        "version": report.version,
        "verdict": report.verdict,
        "verdict_text": VERDICT_TEXT[report.verdict],
        "counts": severity_counts(report),
        "summary_phrase": summary_phrase(report),
        "fail_on": report.fail_on,
        "failing": report.failing(),
        "multi": multi,
        "title": _title(report),
        "runs": [_run(r) for r in report.runs],
        "findings": [_finding(i, r, f, multi, anchors.get(id(r)) if id(f) in numbers else None)
                     for i, (r, f) in enumerate(ordered[:MAX_FINDINGS], start=1)],
        "n_findings": len(ordered),
        "loss_groups": [{"key": g.key, "linear": _chart(g.linear), "log": _chart(g.log) if g.log else None,
                         "csv": g.csv, "runs": g.runs} for g in loss],
        "any_log": any(g.log is not None for g in loss),
        "dynamics": ({"key": dyn.key, "title": dyn.title, "desc": dyn.desc, "svg": Markup(dyn.svg)}
                     if dyn is not None else None),
        "charted_runs": min(len(report.runs), charts.MAX_RUNS_DRAWN),
        "comparison": comparison_view(report.comparison),
        "rules": _rules(report.rules),
    }


def _chart(c: Any) -> dict[str, Any]:
    return {"key": c.key, "title": c.title, "desc": c.desc, "svg": Markup(c.svg)}


def _title(report: Report) -> str:
    if not report.runs:
        return "lossdoc report"
    if len(report.runs) == 1:
        return f"lossdoc · {clean(report.runs[0].run, 80)}"
    return f"lossdoc · {len(report.runs)} runs"


def _run(r: RunReport) -> dict[str, Any]:
    s = r.summary
    ex = s.extrapolated
    numbers = key_numbers(s)
    extrap = None
    if ex is not None:
        extrap = {
            "loss": fmt_num(ex.loss), "low": fmt_num(ex.low), "high": fmt_num(ex.high),
            "step": fmt_step(ex.step), "model": model_name(ex.model),
            "since": fmt_step(ex.extra["fitted_from_step"]) if ex.extra.get("fitted_from_step") is not None else None,
            "asymptote": fmt_num(ex.asymptote) if ex.asymptote is not None else None,
            "backtest": (f"{ex.backtest_error * 100:.1f}%" if isinstance(ex.backtest_error, float)
                         else None),
        }
    steps = "—"
    if s.first_step is not None and s.last_step is not None:
        steps = f"{fmt_step(s.first_step)}–{fmt_step(s.last_step)}"
    run_len = None
    if s.last_step is not None and s.first_step is not None:
        run_len = fmt_step(s.last_step - s.first_step)
    return {
        "name": r.run,
        "source": r.source,
        "also": merged_sources(r),
        "format": r.format,
        "numbers": numbers,
        "extrap": extrap,
        "extrap_note": clean(str(s.extra.get("extrapolation", "")), 300) or None,
        "steps": steps,
        "last_step": fmt_step(s.last_step),
        "run_len": run_len,
        "total_steps": fmt_step(s.total_steps) if s.total_steps is not None else None,
        "series": [{"split": x.split, "metric": x.metric, "name": x.name, "points": fmt_step(x.points),
                    "steps": f"{fmt_step(x.first_step)}–{fmt_step(x.last_step)}",
                    "non_finite": x.non_finite} for x in r.series],
        "notes": [{"kind": n.kind, "line": n.line, "message": n.message, "count": n.count, "step": n.step}
                  for n in r.notes],
        "worst": str(r.worst) if r.worst is not None else None,
        "n_findings": len(r.findings),
        "meta": [(str(k), _short(v)) for k, v in sorted(r.meta.items(), key=lambda kv: str(kv[0]))
                 if not isinstance(v, (bytes, bytearray)) and k not in _CONFIG_META],
        "config": _config_rows(r.config),
    }


#: meta keys shown in the run's configuration table, not in the details list
_CONFIG_META = frozenset({"config", "run_configs", "hparams"})


def _config_rows(cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The run's configuration table: the normalised keys, then the trainer's own keys (first 60)."""
    from lossdoc.runconfig import config_rows

    if not cfg:
        return None
    raw = cfg.get("raw") or {}
    items = sorted(raw.items(), key=lambda kv: str(kv[0])) if isinstance(raw, dict) else []
    return {"normalised": [(k, _short(v, 80)) for k, v in config_rows(cfg)],
            "raw": [(str(k), _short(v, 120)) for k, v in items[:60]], "raw_total": len(items)}


def _short(v: Any, limit: int = 200) -> str:
    if isinstance(v, (dict, list, tuple)):
        try:
            v = json.dumps(v, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            v = str(v)
    return clean(v, limit)


def _finding(num: int, r: RunReport, f: Finding, multi: bool, anchor: str | None) -> dict[str, Any]:
    ev = f.evidence
    rows = [
        ("Method", ev.method),
        ("Statistic", fmt_num(ev.statistic)),
        ("Threshold", fmt_num(ev.threshold)),
        ("p-value", fmt_pvalue(ev.pvalue)),
        ("Window", _window(ev.window)),
    ]
    extra = [(str(k).replace("_", " "), fmt_num(v) if not isinstance(v, str) else clean(v, 120))
             for k, v in (ev.extra or {}).items() if v is not None]
    series = "/".join(x for x in (f.split, f.metric) if x)
    return {
        "num": num,
        "severity": str(f.severity),
        "rule": f.rule,
        "name": f.name,
        "category": f.category.replace("_", " "),
        "run": r.run,
        "multi": multi,
        "series": series,
        "steps": fmt_steps(f),
        "message": f.message,
        "recommendation": f.recommendation,
        "evidence": rows,
        "extra": extra,
        "chart": anchor if anchor and (f.start_step is not None or f.end_step is not None) else None,
    }


def _window(w: tuple[int, int] | None) -> str:
    if not w:
        return "—"
    if w[0] == w[1]:
        return f"step {fmt_step(w[0])}"
    return f"steps {fmt_step(w[0])}–{fmt_step(w[1])}"


def _rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rules or []:
        if not isinstance(r, dict):
            continue
        params = r.get("params") or r.get("parameters") or {}
        out.append({
            "id": clean(r.get("id") or r.get("rule") or "", 40),
            "name": clean(r.get("name") or "", 60),
            "severity": clean(r.get("severity") or "", 10),
            "category": clean(str(r.get("category") or "").replace("_", " "), 30),
            "params": ", ".join(f"{k} = {_short(v, 60)}" for k, v in params.items()) if isinstance(params, dict)
            else _short(params),
        })
    return out
