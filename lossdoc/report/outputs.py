"""Writing a report's outputs (files or '-' for stdout) and the CI side channels."""

from __future__ import annotations

import os
import sys

from lossdoc.outputs import write_text
from lossdoc.report.model import Report


def _write(path: str, text: str) -> None:
    """Atomic, symlink-refusing write (:mod:`lossdoc.outputs`); ``-`` is standard output."""
    write_text(path, text)


def write_outputs(
    report: Report,
    *,
    html: str | None = None,
    markdown: str | None = None,
    json: str | None = None,
    junit: str | None = None,
) -> list[tuple[str, str]]:
    """Write each requested output; returns [(kind, path)] of the files written (not stdout)."""
    written: list[tuple[str, str]] = []
    if json:
        _write(json, report.to_json())
        written.append(("JSON", json))
    if markdown:
        _write(markdown, report.to_markdown())
        written.append(("Markdown", markdown))
    if junit:
        from lossdoc.report.render_junit import render_junit

        _write(junit, render_junit(report))
        written.append(("JUnit", junit))
    if html:
        _write(html, report.to_html())
        written.append(("HTML", html))
    _github_side_channels(report)
    return [(k, p) for k, p in written if p != "-"]


def _github_side_channels(report: Report) -> None:
    """GitHub Actions: annotations on stdout and the job summary, when running there."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    try:
        from lossdoc.report.render_github import annotations, job_summary
    except ImportError:  # CI renderers not built yet
        return
    for line in annotations(report):
        sys.stdout.write(line + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(job_summary(report))
