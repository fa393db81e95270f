"""Properties every report must have, over every sample log and every real log (../shared/real_logs).

A practitioner trusts a report until one number contradicts their own log (issue #14). For each
input, analysed as a user would (a run directory as a directory, so the files of one run merge):

1. every number the report gives for a logged quantity equals the logged value: the summary's
   ``best_*``/``final_*`` with their steps, and a message's "<value> at step N" / "at step N
   (<value>)" (a value labelled derived -- mean, smoothed, fitted -- is not a logged quantity);
2. no two findings on one series contradict each other (a plateau or a divergence while "still
   improving"; a loss that "fell" by a percentage that is not a fall; two target LRs in one run);
3. no negative prediction for a loss that was never negative;
4. every interval is ordered and holds its point.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossdoc
from lossdoc.checks.series import resolve_loss
from lossdoc.errors import LossdocError
from tests.conftest import REAL_LOGS, SAMPLE_LOGS

NUM = r"(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?|NaN|-?inf)"
STEP = r"(\d{1,3}(?:,\d{3})+|\d+)"
#: "<value> at step N" and "at step N (<value>" (the value a message gives for a logged point)
VALUE_AT_STEP = [re.compile(NUM + r"(?: as logged)? at step " + STEP + r"\b"),
                 re.compile(r"at step " + STEP + r" \(" + NUM + r"[ ,)]")]
#: Words that make a nearby number derived (not a logged value).
DERIVED = re.compile(r"mean|median|smoothed|average|fit|predict|extrapolat|expected|about|~|level|trend|window",
                     re.I)
#: "X [a, b]": a point with its interval; "[a, b]" alone is an interval.
INTERVAL = re.compile(r"(?:" + NUM + r" )?\[" + NUM + r", " + NUM + r"\]")
#: Pairs of categories that cannot both hold on one series over overlapping steps.
CONTRADICTORY = [({"plateau"}, {"still_improving"}), ({"divergence"}, {"still_improving"}),
                 ({"overfitting"}, {"still_improving"})]

_SKIP_NAMES = {"README.md", "MANIFEST.tsv", "SOURCES.tsv", "RESERVED.txt", "config.json",
               "generation_config.json", "hparams.yaml"}


def _inputs() -> Iterator[Any]:
    runs = SAMPLE_LOGS / "runs"
    for d in sorted(p for p in runs.glob("*/*") if p.is_dir()):
        yield pytest.param(d, id=f"sample-dir:{d.relative_to(SAMPLE_LOGS)}")
    for f in sorted(SAMPLE_LOGS.rglob("*")):
        if f.is_file() and f.name not in _SKIP_NAMES and "checkpoint-" not in str(f):
            yield pytest.param(f, id=f"sample:{f.relative_to(SAMPLE_LOGS)}")
    if not (REAL_LOGS / "SOURCES.tsv").is_file():
        yield pytest.param(None, id="real_logs",
                           marks=pytest.mark.skip(reason=f"{REAL_LOGS} not present (CI lays out ../shared "
                                                  "beside the repository; LOSSDOC_REAL_LOGS names another place)"))
        return
    for f in sorted(REAL_LOGS.rglob("*")):
        if f.is_file() and f.name not in _SKIP_NAMES:
            yield pytest.param(f, id=f"real:{f.relative_to(REAL_LOGS)}")


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def _same(shown: float, logged: float) -> bool:
    """``shown`` is ``logged`` as the report displays it (4 significant digits)."""
    if math.isnan(shown) or math.isnan(logged):
        return math.isnan(shown) and math.isnan(logged)
    if math.isinf(shown) or math.isinf(logged):
        return shown == logged
    return abs(shown - logged) <= 5.01e-4 * max(abs(logged), 1e-300) + 1e-12 or float(f"{logged:.4g}") == shown


def _report(path: Path) -> Any:
    try:
        return lossdoc.analyze(path, config=lossdoc_config())
    except LossdocError as exc:  # not a training log (a config file beside one): nothing to check
        pytest.skip(f"not read as a log: {exc}")


def lossdoc_config() -> Any:
    from lossdoc.config import Config

    return Config()


@pytest.fixture(scope="module")
def reports() -> dict[Path, Any]:
    return {}


def _get(reports: dict[Path, Any], path: Path) -> Any:
    if path not in reports:
        reports[path] = _report(path)
    return reports[path]


def _values_at(run: Any, step: int) -> list[float]:
    out = []
    for s in (run.data or {}).values():
        i = np.searchsorted(s.steps, step)
        while i < s.steps.size and s.steps[i] == step:
            out.append(float(s.values[i]))
            i += 1
    for split in ("train", "val", "test"):
        s = resolve_loss(run.data or {}, split)
        if s is not None:
            out += [float(v) for v in s.values[s.steps == step]]
    return out


@pytest.mark.parametrize("path", list(_inputs()))
def test_summary_numbers_are_logged_values(path: Path, reports: dict[Path, Any]) -> None:
    report = _get(reports, path)
    for run in report.runs:
        s = run.summary
        data = run.data or {}
        for split, best, best_step, final, final_step in (
                ("train", s.best_train_loss, s.best_train_step, s.final_train_loss, s.final_train_step),
                ("val", s.best_val_loss, s.best_val_step, s.final_val_loss, s.final_val_step)):
            ser = resolve_loss(data, split)
            if ser is None:
                assert best is None and final is None
                continue
            if best is not None:
                at = ser.values[ser.steps == best_step]
                assert at.size and any(_same(best, float(v)) for v in at), (run.run, split, best, best_step)
                assert best <= np.nanmin(np.where(np.isfinite(ser.values), ser.values, np.inf)) or split == "train"
            if final is not None and math.isfinite(final):
                assert final_step == int(ser.steps[-1]) and _same(final, float(ser.values[-1])), (run.run, split)


@pytest.mark.parametrize("path", list(_inputs()))
def test_message_numbers_at_a_step_are_the_logged_values(path: Path, reports: dict[Path, Any]) -> None:
    report = _get(reports, path)
    bad = []
    for run in report.runs:
        for f in run.findings:
            for text in (f.message, f.recommendation):
                for pat in VALUE_AT_STEP:
                    for m in pat.finditer(text):
                        a, b = m.group(1), m.group(2)
                        value, step = (_num(a), int(_num(b))) if pat is VALUE_AT_STEP[0] else (_num(b),
                                                                                              int(_num(a)))
                        before = text[max(0, m.start() - 60):m.start()]
                        after = text[m.end():m.end() + 24].split(")")[0]
                        if DERIVED.search(before.split(";")[-1].split(":")[-1]) or DERIVED.search(m.group(0)) \
                                or DERIVED.search(after):
                            continue
                        logged = _values_at(run, step)
                        if not any(_same(value, v) for v in logged):
                            bad.append((f.rule, m.group(0), logged[:4], text[:160]))
    assert not bad, bad


@pytest.mark.parametrize("path", list(_inputs()))
def test_no_contradictory_findings_on_one_series(path: Path, reports: dict[Path, Any]) -> None:
    report = _get(reports, path)
    bad = []
    for run in report.runs:
        fs = run.findings
        for a in fs:
            for b in fs:
                if a is b or (a.split, a.metric) != (b.split, b.metric):
                    continue
                for ca, cb in CONTRADICTORY:
                    if a.category in ca and b.category in cb:
                        lo = max(a.start_step or 0, b.start_step or 0)
                        hi = min(a.end_step if a.end_step is not None else math.inf,
                                 b.end_step if b.end_step is not None else math.inf)
                        if lo <= hi:
                            bad.append((a.rule, b.rule, a.split, a.metric, a.message[:100], b.message[:100]))
            for m in re.finditer(r"(fell|rose|dropped|improved)(?: only| by)? " + NUM + "%", a.message):
                if _num(m.group(2)) <= 0:
                    bad.append((a.rule, m.group(0), a.message[:160]))
        # one report advises one target LR (DV001 and DV002 once advised different ones)
        targets = {m.group(0) for f in fs for text in (f.message, f.recommendation)
                   for m in re.finditer(r"(?:lower the peak LR from \S+ to|try) [\d.e-]+-[\d.e-]+", text)}
        if len({t.split(" to ")[-1].split("try ")[-1] for t in targets}) > 1:
            bad.append(("different target LRs", sorted(targets)))
    assert not bad, bad


@pytest.mark.parametrize("path", list(_inputs()))
def test_predictions_respect_the_domain_and_intervals_are_ordered(path: Path, reports: dict[Path, Any]) -> None:
    report = _get(reports, path)
    bad = []
    for run in report.runs:
        s = run.summary
        never_negative = all(np.all(~np.isfinite(x.values) | (x.values >= 0))
                             for x in (resolve_loss(run.data or {}, sp) for sp in ("train", "val")) if x is not None)
        ex = s.extrapolated
        if ex is not None:
            if not (ex.low <= ex.loss <= ex.high):
                bad.append(("summary interval", ex.low, ex.loss, ex.high))
            if never_negative and min(ex.loss, ex.low) < 0:
                bad.append(("summary negative", ex.low, ex.loss))
        fit = (run.curves or {}).get("fit")
        if fit and never_negative:
            neg = [v for k in ("loss", "low", "high") for v in fit.get(k) or [] if v is not None and v < 0]
            if neg:
                bad.append(("fit curve below 0", min(neg)))
        for f in run.findings:
            for text in (f.message, f.recommendation):
                for m in INTERVAL.finditer(text):
                    lo, hi = _num(m.group(2)), _num(m.group(3))
                    if lo > hi:
                        bad.append((f.rule, "interval inverted", m.group(0)))
                    if m.group(1) is not None and not lo <= _num(m.group(1)) <= hi:
                        bad.append((f.rule, "point outside its interval", m.group(0)))
                    if never_negative and f.category != "regression" and min(lo, _num(m.group(1) or lo)) < 0 and \
                            f.metric and "loss" in (f.metric or ""):
                        bad.append((f.rule, "negative prediction", m.group(0)))
    assert not bad, bad
