"""Writing a report's outputs (files or '-' for stdout) and the CI side channels."""

from __future__ import annotations

import os
import sys

from lossdoc.errors import OutputError
from lossdoc.outputs import append_text, neutralise_line, write_commands, write_text
from lossdoc.report.model import Report


def _write(path: str, text: str, kind: str = "text") -> None:
    """Atomic, symlink-refusing write (:mod:`lossdoc.outputs`); ``-`` is standard output."""
    write_text(path, text, kind=kind)


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
        _write(json, report.to_json(), "json")
        written.append(("JSON", json))
    if markdown:
        _write(markdown, report.to_markdown(), "markdown")
        written.append(("Markdown", markdown))
    if junit:
        from lossdoc.report.render_junit import render_junit

        _write(junit, render_junit(report), "xml")
        written.append(("JUnit", junit))
    if html:
        _write(html, report.to_html(), "html")
        written.append(("HTML", html))
    _github_side_channels(report)
    return [(k, p) for k, p in written if p != "-"]


def _github_side_channels(report: Report) -> None:
    """GitHub Actions: annotations on stdout and the job summary, when running there."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from lossdoc.report.render_github import annotations, job_summary

    write_commands(annotations(report))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_text(summary, job_summary(report))
        except OutputError as exc:  # the runner's file: a warning, the gate's result stands
            sys.stderr.write(f"lossdoc: warning: GITHUB_STEP_SUMMARY: {neutralise_line(str(exc))}; "
                             "the job summary was not written\n")
