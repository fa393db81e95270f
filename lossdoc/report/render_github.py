"""GitHub Actions: workflow-command annotations and the job summary.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (50 per job) and
drops the rest silently (actions/toolkit docs/problem-matchers.md), so lossdoc emits the most
severe ones first, at most 10 per level, and says how many it left out. Job summaries are
limited to 1 MiB per step. Workflow-command data is escaped as actions/toolkit does
(``%``, CR, LF; and ``:``/``,`` in properties), so log content cannot inject commands.
"""

from __future__ import annotations

from lossdoc.checks.findings import Severity
from lossdoc.numfmt import fmt_num
from lossdoc.report.model import Report

PER_LEVEL = 10
SUMMARY_LIMIT = 1024 * 1024 - 4096  # leave room for what other steps append

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _clean(s: str) -> str:
    # Terminal escapes, bidi controls and the old "##[" command syntax in a log's strings must not
    # reach the Actions log viewer either.
    s = "".join(ch if ch.isprintable() or ch in "\n" else "?" for ch in s)
    from lossdoc.outputs import _break_markers

    return _break_markers(s)


def annotations(report: Report) -> list[str]:
    items: list[tuple[str, str, str]] = []  # (level, title, message)
    for unit, err in report.unit_errors:
        items.append(("error", f"lossdoc: could not read {unit}", err))
    for why in report.uncompared:
        items.append(("error", "lossdoc: nothing compared with the baseline", why))
    for c in (report.comparison or {}).get("runs", []):
        for q in c.get("quantities", []):
            if q["regressed"] and q["gating"]:
                rel = q.get("relative")
                rel_s = f" ({rel:+.1%})" if isinstance(rel, (int, float)) else ""
                items.append(("error", f"lossdoc regression: {c['run']}",
                              f"{q['label']}: {fmt_num(q['candidate'])} vs baseline {fmt_num(q['baseline'])}{rel_s}; "
                              f"{q['test']}, p={q['pvalue']}"))
    for f in sorted(report.findings, key=lambda f: -int(f.severity)):
        items.append((_LEVEL[f.severity], f"lossdoc {f.rule} {f.name}: {f.run}",
                      f"{f.message} Recommendation: {f.recommendation}"))
    lines: list[str] = []
    dropped: dict[str, int] = {}
    used: dict[str, int] = {}
    for level, title, msg in items:
        if used.get(level, 0) >= PER_LEVEL:
            dropped[level] = dropped.get(level, 0) + 1
            continue
        used[level] = used.get(level, 0) + 1
        lines.append(f"::{level} title={escape_property(_clean(title))[:200]}::{escape_data(_clean(msg))[:4000]}")
    if dropped:
        more = ", ".join(f"{n} {lvl}" for lvl, n in dropped.items())
        lines.append(f"::notice title=lossdoc::{escape_data(f'{more} more annotation(s) not shown (GitHub shows 10 per level); see the report')}")
    return lines


def job_summary(report: Report) -> str:
    text = report.to_markdown()
    if len(text.encode("utf-8")) > SUMMARY_LIMIT:
        cut = text.encode("utf-8")[:SUMMARY_LIMIT].decode("utf-8", errors="ignore")
        text = cut + "\n\n_(summary cut at GitHub's 1 MiB limit; see the HTML report)_\n"
    return text + "\n"
