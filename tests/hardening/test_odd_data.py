"""Odd but valid data (issue #8): sensible findings or a clear "not enough data", never an
exception, a warning (pytest runs with warnings as errors) or a false alarm.

Each case is a CSV written by the test and analysed through the public API, so ingest,
normalisation, every rule and the summary fits all see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lossdoc.api import analyze as run_analyze
from lossdoc.config import Config
from lossdoc.report.model import Report

ALARMS = {"error", "warning"}


def healthy(n: int = 600, seed: int = 5) -> np.ndarray:
    """A healthy run: 1 + 3 e^{-i/120} with 1% multiplicative noise (seeded)."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    return (1.0 + 3.0 * np.exp(-i / 120.0)) * (1.0 + 0.01 * rng.standard_normal(n))


def write_csv(path: Path, columns: dict[str, list[object]]) -> Path:
    names = list(columns)
    rows = zip(*(columns[c] for c in names))
    path.write_text(",".join(names) + "\n" + "".join(",".join("" if v is None else repr(v) if isinstance(v, float)
                                                              else str(v) for v in r) + "\n" for r in rows))
    return path


def analyze(tmp_path: Path, columns: dict[str, list[object]], name: str = "run.csv") -> Report:
    return run_analyze(write_csv(tmp_path / name, columns), config=Config())


def rules(report: Report, severities: set[str] | None = None) -> set[str]:
    return {f.rule for f in report.findings if severities is None or str(f.severity) in severities}


def finite_numbers(report: Report) -> None:
    """No NaN or inf leaks into the numbers a user reads (summary and evidence)."""
    doc = report.to_json()
    assert "NaN" not in doc and "Infinity" not in doc


# --------------------------------------------------------------------------- too little data
@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_few_points_say_not_enough_data(tmp_path: Path, n: int) -> None:
    report = analyze(tmp_path, {"step": list(range(n)), "loss": [4.0, 3.0, 2.5][:n]})
    assert rules(report) == {"LG004"}  # too-few-points, and nothing judged on it
    assert report.verdict == "pass"
    finite_numbers(report)


def test_epochs_only(tmp_path: Path) -> None:
    loss = [2.3 * 0.8**e for e in range(8)]
    report = analyze(tmp_path, {"epoch": list(range(8)), "loss": loss, "val_loss": [v + 0.05 for v in loss]})
    assert not rules(report, ALARMS)
    assert report.runs[0].summary.last_step == 7


def test_validation_loss_only(tmp_path: Path) -> None:
    val = healthy(40, seed=2)
    report = analyze(tmp_path, {"step": [100 * i for i in range(40)], "val_loss": val.tolist()})
    assert not rules(report, ALARMS)
    assert report.runs[0].summary.final_train_loss is None
    assert report.runs[0].summary.best_val_loss == pytest.approx(float(val.min()))


def test_no_loss_at_all(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(50)), "lr": [1e-3] * 50})
    assert not rules(report, ALARMS) and report.verdict == "pass"


# --------------------------------------------------------------------------- odd values
def test_all_nan_is_the_non_finite_finding_and_nothing_else_alarming(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(100)), "loss": [math.nan] * 100})
    assert rules(report, ALARMS) == {"NF001"} and report.verdict == "fail"


def test_constant_loss_is_not_learning_not_divergence(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(300)), "loss": [2.0] * 300})
    assert "UF001" in rules(report)
    assert not {r for r in rules(report) if r.startswith(("DV", "SP", "OS", "NF"))}


def test_zero_loss(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(300)), "loss": [0.0] * 300})
    assert not {r for r in rules(report) if r.startswith(("DV", "SP", "OS", "NF"))}


def test_negative_log_likelihood_objective(tmp_path: Path) -> None:
    """A loss that falls from -1 to -4 (a negative log-likelihood) is healthy, not divergent."""
    report = analyze(tmp_path, {"step": list(range(600)), "loss": (healthy() - 5.0).tolist()})
    assert not rules(report, ALARMS), [f.message for f in report.findings]
    finite_numbers(report)


def test_loss_crossing_zero(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(600)), "loss": (healthy() - 2.0).tolist()})
    assert not rules(report, ALARMS), [f.message for f in report.findings]


SCALES = [
    1e30,
    1e6,
    1e-6,
    1e-30,
]


@pytest.mark.parametrize("scale", SCALES)
def test_findings_do_not_depend_on_the_loss_scale(tmp_path: Path, scale: float) -> None:
    base = healthy()
    spiky = base.copy()
    spiky[300] *= 8  # one clear spike, so there is a finding to keep
    ref = analyze(tmp_path, {"step": list(range(600)), "loss": spiky.tolist()}, "ref.csv")
    scaled = analyze(tmp_path, {"step": list(range(600)), "loss": (spiky * scale).tolist()}, "scaled.csv")
    assert "SP001" in rules(ref)
    assert rules(scaled) == rules(ref)
    finite_numbers(scaled)


def test_values_near_the_float_limit(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(300)), "loss": (healthy(300) * 1e300).tolist()})
    assert not {r for r in rules(report) if r.startswith(("DV", "NF"))}


# --------------------------------------------------------------------------- odd steps
def test_resumed_run_steps_go_back(tmp_path: Path) -> None:
    loss = healthy()
    steps = list(range(400)) + list(range(300, 600))
    values = loss[:400].tolist() + loss[300:].tolist()
    report = analyze(tmp_path, {"step": steps, "loss": values})
    run = report.runs[0]
    assert any(n.kind == "restart" for n in run.notes)
    assert not {r for r in rules(report) if r.startswith(("DV", "SP"))}
    assert [s.points for s in run.series if s.metric == "loss"] == [600]


def test_duplicate_steps(tmp_path: Path) -> None:
    loss = healthy(300)
    report = analyze(tmp_path, {"step": [i // 2 for i in range(600)], "loss": np.repeat(loss, 2).tolist()})
    assert any(n.kind == "duplicate_steps" for n in report.runs[0].notes)
    assert not {r for r in rules(report) if r.startswith(("DV", "SP", "OS"))}


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(lambda n: [i * i for i in range(n)], id="quadratic"),
        pytest.param(lambda n: sorted(set(np.random.default_rng(9).integers(0, 50_000, n).tolist())), id="random"),
        pytest.param(lambda n: [i - n // 2 for i in range(n)], id="negative"),
        pytest.param(lambda n: [10**12 + 1000 * i for i in range(n)], id="huge"),
    ],
)
def test_irregular_logging_intervals(tmp_path: Path, steps: Callable[[int], list[int]]) -> None:
    st = steps(400)
    report = analyze(tmp_path, {"step": st, "loss": healthy(len(st)).tolist()})
    assert not rules(report, {"error"}), [f.message for f in report.findings]
    finite_numbers(report)


def test_alternating_values_at_the_float_limit(tmp_path: Path) -> None:
    report = analyze(tmp_path, {"step": list(range(300)), "loss": [1.7e308 if i % 3 else -1.7e308 for i in range(300)]})
    assert report.runs[0].summary.final_train_loss is not None
