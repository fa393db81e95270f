"""JUnit XML: each rule in force and each compared quantity is a test case.

A rule's test case fails when the rule found something at or above ``--fail-on``; findings
below it are listed in ``<system-out>`` of a passing case. Valid against the common JUnit
schema that GitLab, Jenkins and the usual JUnit reporters read (testsuites > testsuite >
testcase with failure/skipped/system-out). Text from logs is stripped of characters XML 1.0
cannot hold and escaped by ElementTree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from lossdoc.checks.findings import Finding, Severity
from lossdoc.numfmt import fmt_num
from lossdoc.report.model import Report

# Characters not allowed in XML 1.0 (control characters other than tab, newline, carriage return,
# lone surrogates), and those a CI viewer would act on: C1 controls (0x80-0x9f, terminal CSI/OSC in
# 8-bit form), DEL, and the bidi marks, overrides and isolates that reorder what a reader sees.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def xml_text(s: Any) -> str:
    return _XML_BAD.sub("?", str(s))


def _finding_text(f: Finding) -> str:
    e = f.evidence
    window = f" window={e.window[0]}..{e.window[1]}" if e.window else ""
    p = f" p={e.pvalue:.3g}" if e.pvalue is not None else ""
    where = f"steps {f.start_step}..{f.end_step}" if f.start_step is not None else "whole run"
    return (f"[{f.severity}] {f.rule} {f.name} ({f.split}/{f.metric}, {where}): {f.message}\n"
            f"  evidence: {e.method}{_num(' statistic', e.statistic)}{_num(' threshold', e.threshold)}{p}{window}\n"
            f"  recommendation: {f.recommendation}")


def render_junit(report: Report) -> str:
    fail_level = None if report.fail_on == "never" else Severity.parse(report.fail_on)
    root = ET.Element("testsuites", name="lossdoc")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    rules = report.rules or [{"id": f.rule, "name": f.name, "category": f.category} for f in report.findings]
    seen: set[str] = set()
    rule_list = []
    for r in rules:
        if r["id"] not in seen:
            seen.add(r["id"])
            rule_list.append(r)
    for run in report.runs:
        suite = ET.SubElement(root, "testsuite", name=xml_text(f"lossdoc.{run.run}"))
        props = ET.SubElement(suite, "properties")
        for k, v in (("source", run.source), ("format", run.format), ("fail-on", report.fail_on),
                     ("verdict", report.verdict)):
            ET.SubElement(props, "property", name=k, value=xml_text(v))
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        by_rule: dict[str, list[Finding]] = {}
        for f in run.findings:
            by_rule.setdefault(f.rule, []).append(f)
        for r in rule_list:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"lossdoc.{run.run}.rules"),
                                 name=xml_text(f"{r['id']} {r.get('name', '')}".strip()), time="0")
            found = by_rule.get(r["id"], [])
            failing = [f for f in found if fail_level is not None and f.severity >= fail_level]
            if failing:
                counts["failures"] += 1
                worst = max(f.severity for f in failing)
                fail = ET.SubElement(case, "failure", type=str(worst),
                                     message=xml_text(failing[0].message[:500]))
                fail.text = xml_text("\n\n".join(_finding_text(f) for f in failing))
            if found and not failing:
                out = ET.SubElement(case, "system-out")
                out.text = xml_text("\n\n".join(_finding_text(f) for f in found))
        comp = next((c for c in (report.comparison or {}).get("runs", []) if c.get("run") == run.run), None)
        if report.comparison is not None and (comp is None or not comp.get("compared", True)):
            counts["tests"] += 1  # a requested comparison that compared nothing fails, never passes
            counts["failures"] += 1
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"lossdoc.{run.run}.comparison"),
                                 name="baseline comparison", time="0")
            note = (comp or {}).get("note") or "no loss curve to compare with the baseline"
            fail = ET.SubElement(case, "failure", type="nothing-compared", message=xml_text(f"nothing compared: {note}"))
            fail.text = xml_text(note)
        if report.comparison is not None and comp is not None:
            for q in comp.get("quantities", []):
                counts["tests"] += 1
                case = ET.SubElement(suite, "testcase", classname=xml_text(f"lossdoc.{run.run}.comparison"),
                                     name=xml_text(q["name"]), time="0")
                text = (f"{q['label']}: candidate {q['candidate']}, baseline {q['baseline']}, "
                        f"difference {q['difference']} (relative {q['relative']}), interval {q['ci']}, "
                        f"test: {q['test']}, p={q['pvalue']}, margin {q['margin']}")
                if q["regressed"] and q["gating"]:
                    counts["failures"] += 1
                    fail = ET.SubElement(case, "failure", type="regression", message=xml_text(f"regressed: {q['label']}"))
                    fail.text = xml_text(text)
                else:
                    out = ET.SubElement(case, "system-out")
                    out.text = xml_text(text + (f"\nnote: {q['note']}" if q.get("note") else ""))
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("errors", "0")
        suite.set("time", "0")
    n_errors = 0
    for unit, err in report.unit_errors:  # a sweep unit that could not be read: an <error>, never absent
        n_errors += 1
        suite = ET.SubElement(root, "testsuite", name=xml_text(f"lossdoc.{unit}"), tests="1", failures="0",
                              skipped="0", errors="1", time="0")
        case = ET.SubElement(suite, "testcase", classname=xml_text(f"lossdoc.{unit}"), name="read", time="0")
        fail = ET.SubElement(case, "error", type="unreadable", message=xml_text(err[:500]))
        fail.text = xml_text(err)
        totals["tests"] += 1
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("errors", str(n_errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _num(label: str, v: float | None) -> str:
    return "" if v is None else f"{label}={fmt_num(v)}"
