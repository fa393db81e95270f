"""Findings and the evidence behind them (frozen dataclasses, statsmodels-style results)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

#: Finding categories (DESIGN.md). Every rule has exactly one.
CATEGORIES: tuple[str, ...] = (
    "non_finite",
    "divergence",
    "loss_spikes",
    "plateau",
    "oscillation",
    "overfitting",
    "train_val_gap",
    "underfitting",
    "local_minimum",
    "still_improving",
    "lr_too_high",
    "lr_too_low",
    "log_integrity",
    "regression",
)


class Severity(enum.IntEnum):
    """Ordered so that ``Severity.ERROR > Severity.WARNING > Severity.INFO``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, s: str | Severity) -> Severity:
        if isinstance(s, Severity):
            return s
        try:
            return cls[s.strip().upper()]
        except KeyError:
            raise ValueError(f"severity must be one of error, warning, info (got {s!r})") from None

    def __str__(self) -> str:
        return self.name.lower()


def _clean(x: Any) -> Any:
    """JSON-safe numbers: NaN/inf become None (JSON has no NaN)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@dataclass(frozen=True, slots=True)
class Evidence:
    """The numbers behind a finding.

    ``method`` names the test or estimator ("robust-zscore", "ols-hac-slope", "tost-equivalence");
    ``statistic`` is its value and ``threshold`` the bound it was compared with; ``pvalue``
    is None when the method is not a hypothesis test; ``window`` is the (first, last) step
    examined; ``extra`` holds further named numbers (effect size, counts, lr in force, ...).
    """

    method: str
    statistic: float | None  #: None for a likely-cause finding (its evidence is the symptom findings)
    threshold: float | None
    pvalue: float | None = None
    window: tuple[int, int] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "method": self.method,
            "statistic": _clean(float(self.statistic)) if self.statistic is not None else None,
            "threshold": _clean(float(self.threshold)) if self.threshold is not None else None,
            "pvalue": _clean(float(self.pvalue)) if self.pvalue is not None else None,
            "window": list(self.window) if self.window is not None else None,
        }
        if self.extra:
            d["extra"] = {k: _clean(v) for k, v in self.extra.items()}
        return d


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  #: "SP001"
    name: str  #: "loss-spike"
    category: str  #: one of CATEGORIES
    severity: Severity
    run: str
    split: str | None
    metric: str | None
    start_step: int | None
    end_step: int | None
    message: str  #: one line, rendered from the evidence
    recommendation: str  #: concrete, filled from the evidence
    evidence: Evidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "category": self.category,
            "severity": str(self.severity),
            "run": self.run,
            "split": self.split,
            "metric": self.metric,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "message": self.message,
            "recommendation": self.recommendation,
            "evidence": self.evidence.to_dict(),
        }
