"""The report: the runs' results (:mod:`lossdoc.checks.results`), the comparison, the rules in force;
rendered by the ``render_*`` modules.

``Report.to_json()`` produces DESIGN.md's ``lossdoc/report-1`` document. Keys may be added;
none renamed or removed without bumping the schema number.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossdoc.checks.findings import Finding, Severity
from lossdoc.checks.results import Extrapolation, RunReport, RunSummary

REPORT_SCHEMA = "lossdoc/report-1"
INSPECT_SCHEMA = "lossdoc/inspect-1"

FAIL_ON_LEVELS = ("error", "warning", "info", "never")


@dataclass(slots=True, repr=False)
class Report:
    runs: list[RunReport]
    fail_on: str = "error"
    comparison: dict[str, Any] | None = None  #: filled by `compare` / --baseline
    rules: list[dict[str, Any]] = field(default_factory=list)  #: rules in force with their params
    version: str = ""

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.runs for f in r.findings]

    @property
    def regressed(self) -> bool:
        return bool(self.comparison and self.comparison.get("regressed"))

    @property
    def verdict(self) -> str:
        """``fail`` (an error finding or a regression), ``warn`` (a warning), else ``pass``.

        The verdict describes the run; whether it fails a CI job is :meth:`exit_code`'s business
        (``--fail-on``)."""
        worst = max((f.severity for f in self.findings), default=None)
        if self.regressed or worst == Severity.ERROR or self.uncompared or self.unit_errors:
            return "fail"
        if worst == Severity.WARNING:
            return "warn"
        return "pass"

    @property
    def unit_errors(self) -> list[tuple[str, str]]:
        """Sweep units that could not be analysed, as (unit, one-line error); a plain report has
        none. A unit that failed fails the report: it must never vanish into a PASS."""
        return list(getattr(self, "errors", None) or [])

    @property
    def uncompared(self) -> list[str]:
        """Why a requested baseline comparison compared nothing (no shared steps, no loss): one
        line per candidate run; empty when every run was compared or no baseline was given."""
        if self.comparison is None:
            return []
        runs = self.comparison.get("runs", [])
        if not runs:
            return ["no candidate run has a loss curve to compare with the baseline"]
        return [f"{r['run']}: {r.get('note') or 'nothing compared'}" for r in runs
                if not r.get("compared", bool(r.get("quantities")))]

    def failing(self) -> bool:
        """True when a finding is at or above ``fail_on``, the candidate regressed, or a baseline
        comparison compared nothing (no data never passes a gate)."""
        if self.regressed or self.uncompared or self.unit_errors:
            return True
        if self.fail_on == "never":
            return False
        level = Severity.parse(self.fail_on)
        return any(f.severity >= level for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "version": self.version,
            "verdict": self.verdict,
            "fail_on": self.fail_on,
            "runs": [r.to_dict() for r in self.runs],
            "comparison": self.comparison,
            "rules": self.rules,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_json_default)

    def to_markdown(self) -> str:
        from lossdoc.report.render_markdown import render_markdown

        return render_markdown(self)

    def to_html(self, path: str | Path | None = None) -> str:
        from lossdoc.report.render_html import render_html

        html = render_html(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def to_text(self, color: bool = False) -> str:
        from lossdoc.report.render_text import render_text

        return render_text(self, color=color)

    def __repr__(self) -> str:
        counts = {}
        for f in self.findings:
            counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
        found = ", ".join(f"{n} {sev}" for sev in ("error", "warning", "info") if (n := counts.get(sev)))
        names = ", ".join(r.run for r in self.runs[:2]) + (", ..." if len(self.runs) > 2 else "")
        if len(names) > 40:
            names = names[:39] + "…"
        return (f"<lossdoc.Report {self.verdict}: {len(self.runs)} run(s) [{names}], "
                f"{found or 'no findings'}>")

    def _repr_html_(self) -> str:
        """The report as a fragment for a notebook cell: its styles (scoped to ``.lossdoc-page``) and
        its page, without ``<html>``/``<head>``/``<body>``."""
        return html_fragment(self.to_html())


def html_fragment(doc: str) -> str:
    """The ``<style>`` and the ``<div class="lossdoc-page">`` of a whole report document."""
    start = doc.find('<div class="lossdoc-page">')
    end = doc.rfind("</body>")
    if start < 0 or end < start:
        return doc
    s0, s1 = doc.find("<style>"), doc.find("</style>")
    style = doc[s0:s1 + len("</style>")] if 0 <= s0 < s1 < start else ""
    return style + "\n" + doc[start:end].rstrip() + "\n"


def _json_default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):  # numpy scalars
        v = o.item()
        return None if isinstance(v, float) and not math.isfinite(v) else v
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def inspect_dict(logset: Any) -> dict[str, Any]:
    """DESIGN.md's ``lossdoc/inspect-1`` document for a :class:`lossdoc.model.LogSet`."""
    from lossdoc.model import series_info
    from lossdoc.runconfig import run_config

    sources = []
    for s in logset.sources:
        infos = [i for b in s.blocks for i in series_info(b)]
        runs: dict[str, list[dict[str, Any]]] = {}
        for i in infos:
            runs.setdefault(i.run, []).append(i.to_dict())
        sources.append({
            "path": s.path,
            "format": s.format,
            "runs": [{"run": r, "config": run_config(s.meta, r), "series": ser} for r, ser in runs.items()],
            "notes": [n.to_dict() for n in s.notes],
        })
    return {"schema": INSPECT_SCHEMA, "sources": sources}


__all__ = ["FAIL_ON_LEVELS", "INSPECT_SCHEMA", "REPORT_SCHEMA", "Extrapolation", "Report", "RunReport", "RunSummary",
           "html_fragment", "inspect_dict"]
