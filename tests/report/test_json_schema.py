"""The ``lossdoc/report-1`` JSON document keeps the keys DESIGN.md promises CI scripts."""

from __future__ import annotations

import json
import math

from tests.report.builders import hostile_report, synthetic_report

RUN_KEYS = {"run", "source", "format", "series", "summary", "findings"}
SUMMARY_KEYS = {"final_train_loss", "best_val_loss", "best_val_step", "extrapolated"}
FINDING_KEYS = {"rule", "name", "category", "severity", "split", "metric", "start_step", "end_step", "message",
                "recommendation", "evidence"}
EVIDENCE_KEYS = {"method", "statistic", "threshold", "pvalue", "window"}
SERIES_KEYS = {"split", "metric", "name", "points", "first_step", "last_step", "non_finite"}


def _check(doc: dict) -> None:
    assert doc["schema"] == "lossdoc/report-1"
    assert doc["verdict"] in ("pass", "warn", "fail")
    assert {"version", "runs", "comparison"} <= set(doc)
    for run in doc["runs"]:
        assert RUN_KEYS <= set(run)
        assert SUMMARY_KEYS <= set(run["summary"])
        for s in run["series"]:
            assert SERIES_KEYS <= set(s)
        for f in run["findings"]:
            assert FINDING_KEYS <= set(f)
            assert f["severity"] in ("error", "warning", "info")
            assert EVIDENCE_KEYS <= set(f["evidence"])


def test_document_shape_and_strict_json():
    r = synthetic_report(3000, runs=("a", "b"))
    text = r.to_json()
    doc = json.loads(text, parse_constant=lambda c: math.nan)  # would accept NaN: check it is absent
    assert "NaN" not in text and "Infinity" not in text
    _check(doc)
    assert doc["verdict"] == "warn" and [x["run"] for x in doc["runs"]] == ["a", "b"]
    assert doc["runs"][0]["findings"][0]["evidence"]["window"] == [2000, 2000]


def test_hostile_strings_survive_as_data():
    doc = json.loads(hostile_report().to_json())
    _check(doc)
    assert doc["runs"][0]["run"].startswith("<script>alert(1)</script>")
    assert doc["comparison"]["regressed"] is True and doc["verdict"] == "fail"
