"""What the checks produce for one run: its findings, key numbers (:class:`RunSummary`), the
extrapolation, chart data, and the series as the checks split them (:class:`RunReport`).

Built by :mod:`lossdoc.checks.runner`; :class:`lossdoc.report.model.Report` collects them and the
renderers show them. They sit below the report layer so that the checks never import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from lossdoc.checks.findings import Finding, Severity
from lossdoc.model import IngestNote, SeriesInfo


def _num(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@dataclass(slots=True)
class Extrapolation:
    """Fitted-curve prediction of the loss at ``step`` with a prediction interval."""

    step: int
    loss: float
    low: float
    high: float
    model: str = ""  #: "power-law", "exponential", ...
    asymptote: float | None = None
    backtest_error: float | None = None  #: relative error of a fit on the first half predicting the second
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {"step": self.step, "loss": _num(self.loss), "low": _num(self.low), "high": _num(self.high),
             "model": self.model, "asymptote": _num(self.asymptote), "backtest_error": _num(self.backtest_error)}
        d.update({k: _num(v) for k, v in self.extra.items()})
        return d


@dataclass(slots=True)
class RunSummary:
    """A run's key numbers. ``best_*``/``final_*`` are values exactly as logged, with their steps;
    ``*_smoothed`` are derived (``final_train_loss_smoothed``: the mean of the last 5% of the
    training losses; ``best_train_loss_smoothed``: the lowest mean over a 5% window)."""

    final_train_loss: float | None = None
    best_train_loss: float | None = None
    best_val_loss: float | None = None
    best_val_step: int | None = None
    final_val_loss: float | None = None
    final_train_step: int | None = None
    best_train_step: int | None = None
    final_val_step: int | None = None
    final_train_loss_smoothed: float | None = None
    best_train_loss_smoothed: float | None = None
    first_step: int | None = None
    last_step: int | None = None
    total_steps: int | None = None  #: planned length when the log states it
    extrapolated: Extrapolation | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "final_train_loss": _num(self.final_train_loss),
            "best_train_loss": _num(self.best_train_loss),
            "best_val_loss": _num(self.best_val_loss),
            "best_val_step": self.best_val_step,
            "final_val_loss": _num(self.final_val_loss),
            "final_train_step": self.final_train_step,
            "best_train_step": self.best_train_step,
            "final_val_step": self.final_val_step,
            "final_train_loss_smoothed": _num(self.final_train_loss_smoothed),
            "best_train_loss_smoothed": _num(self.best_train_loss_smoothed),
            "first_step": self.first_step,
            "last_step": self.last_step,
            "total_steps": self.total_steps,
            "extrapolated": self.extrapolated.to_dict() if self.extrapolated else None,
        }
        d.update({k: _num(v) for k, v in self.extra.items()})
        return d


@dataclass(slots=True)
class RunReport:
    run: str
    source: str
    format: str
    series: list[SeriesInfo]
    summary: RunSummary
    findings: list[Finding] = field(default_factory=list)
    notes: list[IngestNote] = field(default_factory=list)
    frame: pl.DataFrame | None = None  #: the run's rows (for charts) when ``data`` is not given; not serialised
    #: Chart data computed by the checks, for the renderers. Keys (all optional):
    #:   "fit": {"split": "train", "metric": "loss", "model": "power-law",
    #:           "step": [...], "loss": [...], "low": [...], "high": [...]}
    #:       the fitted curve sampled at ~200 steps from the first step to the horizon, with its
    #:       prediction band (the part beyond the last logged step is the extrapolation);
    #:   "smoothing": {"method": "ema", "weight": 0.6}  the smoothing the report should draw.
    #:   "baselines": [{"run": "main", "split": "train", "step": [...], "loss": [...]}, ...]
    #:       baseline curves (down-sampled, a few hundred points) drawn over this run's loss.
    #: Renderers compute their own down-sampling and smoothing from ``frame`` with
    #: ``lossdoc.analysis`` (down-sampling keeps each bin's min and max so spikes never vanish).
    curves: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    #: The run's series as the checks split them: {(split, metric): lossdoc.checks.series.Series}
    #: (numpy steps/values, NaN/inf kept). Renderers read it before ``frame``: no second pass
    #: over a 10^7-row table. Not serialised.
    data: dict[tuple[str, str], Any] | None = None

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def __repr__(self) -> str:
        return (f"<lossdoc.RunReport {self.run!r} ({self.format}): steps {self.summary.first_step}.."
                f"{self.summary.last_step}, {len(self.findings)} finding(s)>")

    @property
    def config(self) -> dict[str, Any]:
        """The hyperparameters the log states for this run (:func:`lossdoc.runconfig.run_config`)."""
        from lossdoc.runconfig import run_config

        return run_config(self.meta, self.run)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "source": self.source,
            "format": self.format,
            "config": self.config,
            "series": [s.to_dict() for s in self.series],
            "summary": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "notes": [n.to_dict() for n in self.notes],
        }


__all__ = ["Extrapolation", "RunReport", "RunSummary"]
