"""The run loop: for every run, build its :class:`~lossdoc.checks.context.RunContext`, call each bound
rule's detector on the series its ``applies-to`` names, keep the test-based hits that survive the
run's false-alarm control (Benjamini-Hochberg over every test run on the run, see
:func:`control_false_alarms`), turn hits into :class:`~lossdoc.checks.findings.Finding` objects and
attach the run's summary (:mod:`lossdoc.checks.summary`) to a :class:`~lossdoc.checks.results.RunReport`.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from lossdoc.checks.context import Detector, Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Finding, Severity
from lossdoc.checks.results import RunReport, RunSummary
from lossdoc.checks.rulefile import RuleSpec, load_rules
from lossdoc.checks.selection import bind_params, get_detectors, matches, render_template, rule_overrides, select_rules
from lossdoc.checks.summary import drop_unreliable_extrapolation, summarize
from lossdoc.errors import RuleError
from lossdoc.model import LogSet


def _snake(k: str) -> str:
    return k.replace("-", "_")


def _targets(ctx: RunContext, spec: RuleSpec) -> list[Series | None]:
    if not spec.applies_to:
        return [None]
    out: list[Series | None] = []
    seen: set[tuple[str, str]] = set()
    for pat in spec.applies_to:
        split, _, metric = pat.partition("/")
        if metric == "loss" and "*" not in split:
            s = ctx.loss(split)
            if s is not None and (s.split, s.name) not in seen:
                out.append(s)
                seen.add((s.split, s.name))
            continue
        for s in ctx.all_series():
            if fnmatch.fnmatchcase(s.key, pat) and (s.split, s.name) not in seen:
                out.append(s)
                seen.add((s.split, s.name))
    return out


def control_false_alarms(ctx: RunContext, hits: list[tuple[RuleSpec, Series | None, Hit]]) -> list[
        tuple[RuleSpec, Series | None, Hit]]:
    """Benjamini-Hochberg across every test run on this run: a test-based hit stays only if its
    p-value is significant after adjusting for all the run's tests (windows, series, rules)."""
    ps = ctx.pvalues
    if not ps:
        return hits
    arr = np.sort(np.asarray(ps, dtype=float))
    m = arr.size
    out = []
    for item in hits:
        h = item[2]
        p = h.evidence.pvalue
        if h.alpha is None or p is None or not math.isfinite(p):
            out.append(item)
            continue
        rank = int(np.searchsorted(arr, p, side="right"))  # number of tests with p' <= p
        adj = min(1.0, p * m / max(rank, 1))
        if adj <= h.alpha:
            extra = dict(h.evidence.extra)
            extra["pvalue_bh"] = adj
            extra["tests_in_run"] = m
            h.evidence = Evidence(h.evidence.method, h.evidence.statistic, h.evidence.threshold,
                                  h.evidence.pvalue, h.evidence.window, extra)
            out.append(item)
    return out


def check_run(ctx: RunContext, rules: list[tuple[RuleSpec, dict[str, Any], Severity]],
              detectors: dict[str, Detector]) -> list[Finding]:
    """Run every bound rule on one run; findings sorted by severity then step."""
    raw: list[tuple[RuleSpec, Series | None, Hit]] = []
    sev_of: dict[str, Severity] = {}
    for spec, params, severity in rules:
        fn = detectors.get(spec.detector)
        if fn is None:
            raise RuleError(f"rule {spec.id} names unknown detector {spec.detector!r}", path=spec.path)
        ns = SimpleNamespace(**{_snake(k): v for k, v in params.items()}, rule=spec.id)
        sev_of[spec.id] = severity
        for target in _targets(ctx, spec):
            # NOTE: values near the float limit (+-1.7e308) overflow sums and means; they become inf/nan,
            # which every detector's comparisons treat as "no finding", so the warning is noise here
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                raw.extend((spec, target, hit) for hit in fn(ctx, target, ns))
    findings = []
    for spec, target, hit in control_false_alarms(ctx, raw):
        sev = hit.severity if hit.severity is not None else sev_of[spec.id]
        # a user's re-grade of the rule caps/lifts the default; a detector's harm grade applies below it
        if hit.severity is not None and sev_of[spec.id] != spec.severity:
            sev = sev_of[spec.id]
        values = {"run": ctx.run, "step": hit.start_step, **hit.values}
        findings.append(Finding(
            rule=spec.id, name=spec.name, category=spec.category, severity=sev, run=ctx.run,
            split=hit.split or (target.split if target else None),
            metric=hit.metric or (target.metric if target else None),
            start_step=hit.start_step, end_step=hit.end_step,
            message=" ".join(hit.message.split()),
            recommendation=render_template(spec.recommendation, values),
            evidence=hit.evidence,
        ))
    findings.sort(key=lambda f: (-int(f.severity), f.start_step if f.start_step is not None else -1, f.rule))
    return findings


def run_checks(logset: LogSet, config: Any, horizon: int | None = None,
               progress: Callable[[str], None] | None = None, *,
               summaries: bool = True) -> tuple[list[RunReport], list[dict[str, Any]]]:
    """Check every run of ``logset``; returns (RunReports, rules in force with their parameters).

    ``summaries=False`` skips the per-run summary's curve fits (rule-case tests, the detection
    benchmark); findings are the same."""
    rules = load_rules(list(config.rule_paths))
    chosen = select_rules(rules, config)
    overrides = rule_overrides(rules, config)
    bound = []
    for spec in chosen:
        params, sev = bind_params(spec, overrides.get(spec.id), config.path)
        bound.append((spec, params, sev))
    detectors = get_detectors()
    reports = []
    for src in logset.sources:
        for run in src.runs:
            if progress:
                progress(f"checking {run}")
            blocks = src.run_blocks(run)
            notes = [n for n in src.notes if n.run in (None, run)]
            ctx = RunContext(run, blocks, notes=notes, meta=src.meta, source=src.path, format=src.format,
                             horizon=horizon)
            ignored = config.ignored_for_run(run)
            run_rules = [b for b in bound if not any(matches(b[0], s) for s in ignored)]
            findings = check_run(ctx, run_rules, detectors)
            if summaries:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    summary, curves = summarize(ctx)
                drop_unreliable_extrapolation(summary, curves, findings)
            else:
                summary, curves = RunSummary(), {}
            reports.append(RunReport(run=run, source=src.path, format=src.format, series=ctx.series_info(),
                                     summary=summary, findings=findings, notes=notes,
                                     frame=blocks[0] if len(blocks) == 1 else None, data=ctx.series_map(),
                                     curves=curves, meta=dict(src.meta)))
    in_force = [{"id": s.id, "name": s.name, "category": s.category, "severity": str(sev), "params": p}
                for s, p, sev in bound]
    return reports, in_force


__all__ = ["check_run", "control_false_alarms", "run_checks"]
