"""Checks: rules (``rules/*.toml``) bound to detectors (``lossdoc.checks.detectors``) -> findings.

``check(logset, config)`` runs every selected rule and returns the findings of all runs;
``lossdoc.checks.runner.run_checks`` also returns the per-run summaries used by reports.
"""

from __future__ import annotations

from typing import Any

from lossdoc.checks.findings import CATEGORIES, Evidence, Finding, Severity


def check(logset: Any, config: Any = None, horizon: int | None = None) -> list[Finding]:
    """Every finding of every run in ``logset`` (``config`` defaults to the built-in defaults)."""
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config

    runs, _ = run_checks(logset, config if config is not None else Config(), horizon=horizon)
    return [f for r in runs for f in r.findings]


__all__ = ["CATEGORIES", "Evidence", "Finding", "Severity", "check"]
