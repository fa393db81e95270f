"""The terminal summary ``lossdoc analyze`` prints: verdict, key numbers, findings.

Concise by design (the HTML report has the charts and the evidence in full). Severities are
coloured when ``color=True`` (the CLI passes ``True`` only on a TTY without ``NO_COLOR``). Every
string from a log goes through :func:`lossdoc.report.present.clean`, so escape sequences in run
names, paths or messages never reach the terminal.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable

from lossdoc.report.model import Report, RunReport
from lossdoc.report.present import (
    clean,
    key_numbers,
    merged_sources,
    smoothed_how,
    comparison_view,
    summary_phrase,
    fmt_num,
    fmt_step,
    fmt_steps,
    ordered_findings,
)

WIDTH = 100
#: Findings listed in full; the rest are counted.
MAX_FINDINGS = 30

_RESET = "\x1b[0m"
_STYLE = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "info": "\x1b[1;36m",
    "fail": "\x1b[1;37;41m",
    "warn": "\x1b[1;30;43m",
    "pass": "\x1b[1;30;42m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
}


def render_text(report: Report, color: bool = False) -> str:
    """The summary as text, ending with a newline."""

    def st(s: str, style: str) -> str:
        return f"{_STYLE[style]}{s}{_RESET}" if color else s

    # On a terminal (color=True) wrap to its width; otherwise (files, CI logs) a fixed width.
    width = min(WIDTH, max(60, shutil.get_terminal_size((WIDTH, 24)).columns)) if color else WIDTH

    lines: list[str] = []
    verdict = report.verdict
    n = len(report.runs)
    gate = ""
    if report.fail_on != "never":
        gate = f"  ({'fails' if report.failing() else 'passes'} --fail-on {report.fail_on})"
    lines.append(f"{st(f' {verdict.upper()} ', verdict)}  {summary_phrase(report)}{gate}")
    lines.append("")
    for r in report.runs:
        lines += _run_lines(r, st, width)
    ordered = ordered_findings(report)
    multi = n > 1
    for i, (r, f) in enumerate(ordered[:MAX_FINDINGS], start=1):
        sev = str(f.severity)
        span = fmt_steps(f)
        where = "" if span == "—" else f"step{'s' if '–' in span else ''} {span}"
        if multi:
            where = f"{clean(r.run, 40)}  {where}".rstrip()
        head = f"{i:>2}. {st(f'{sev:<7}', sev)} {st(clean(f.rule, 20), 'bold')} {clean(f.name, 40)}"
        lines.append(f"{head}  {st(where, 'dim')}" if where else head)
        lines += _wrap(clean(f.message, 600), "             ", width)
        if f.recommendation:
            lines += _wrap("→ " + clean(f.recommendation, 800), "             ", width)
    if len(ordered) > MAX_FINDINGS:
        lines.append(f"    … and {len(ordered) - MAX_FINDINGS} more findings (see the HTML or JSON report)")
    if ordered:
        lines.append("")
    comp = comparison_view(report.comparison)
    if comp is not None:
        tol = f" (tolerance {comp['tolerance']})" if comp["tolerance"] else ""
        state = (st('REGRESSED', 'error') if comp['regressed'] else
                 st('NOTHING COMPARED', 'error') if report.uncompared else 'no regression')
        lines.append(f"baseline: {state}{tol}")
        for r in comp["runs"]:
            for q in r["rows"]:
                if not q["gating"]:
                    continue
                verdict = st("worse", "error") if q["regressed"] else "ok"
                lines += _wrap(f"{r['run']}: {q['label']}: {q['candidate']} vs {q['baseline']} ({q['relative']}, "
                               f"p {q['pvalue']}) {verdict}", "  ", width)
        lines.append("")
    return "\n".join(lines) + "\n"


def _run_lines(r: RunReport, st: Callable[[str, str], str], width: int) -> list[str]:
    s = r.summary
    parts = []
    if s.first_step is not None and s.last_step is not None:
        total = f" of {fmt_step(s.total_steps)}" if s.total_steps else ""
        parts.append(f"steps {fmt_step(s.first_step)}–{fmt_step(s.last_step)}{total}")
    for label, value, note in key_numbers(s):
        if value not in ("—", "n/a") and not label.endswith("smoothed"):
            parts.append(f"{label.lower().replace(' loss', '')} {value}{' @ ' + note[8:] if note else ''}")
    if s.final_train_loss_smoothed is not None:
        parts.append(f"smoothed final train {fmt_num(s.final_train_loss_smoothed)} ({smoothed_how(s)})")
    ex = s.extrapolated
    if ex is not None:
        since = ex.extra.get("fitted_from_step")
        parts.append(f"extrapolated {fmt_num(ex.loss)} [{fmt_num(ex.low)}, {fmt_num(ex.high)}] @ {fmt_step(ex.step)}"
                     + (f" (fitted from step {fmt_step(since)}, the last half)" if since is not None else ""))
    elif s.extra.get("extrapolation"):
        parts.append(clean(str(s.extra["extrapolation"]), 200))
    where = f"{clean(r.format, 30)} · {clean(r.source, 120)}"
    also = merged_sources(r)
    if also:
        where += " + " + ", ".join(also)
    head = f"{st(clean(r.run, 60), 'bold')}  {st(where, 'dim')}"
    out = [head]
    out += _wrap(" · ".join(parts), "  ", width) if parts else []
    out.append("")
    return out


def _wrap(text: str, indent: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent]
