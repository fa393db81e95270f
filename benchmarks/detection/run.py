"""Detection benchmark: per-category precision and recall of lossdoc's checks.

    python benchmarks/detection/run.py                # synthetic (520 curves) + real logs
    python benchmarks/detection/run.py --quick        # 1/4 of the synthetic set

(a) Seeded synthetic curves (``cases.py``) with known pathologies plus healthy runs.
(b) Real logs in ``../shared/real_logs`` scored against the labels in ``SOURCES.tsv``, and
    ``sample_logs/MANIFEST.tsv`` when present (columns ``path`` and ``labels`` / ``label``).

A category counts as *detected* on a curve when a finding of that category has severity
warning or error, or comes from a rule whose default severity is info (SI001, GP002, LR003,
LG00x): an info-level finding of a warning rule (a harmless recovered blip, a converged
plateau) is a note, not a detection claim. Healthy curves must have no error finding and at
most 5% of them any warning.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from cases import make_cases  # noqa: E402

from lossdoc.checks.runner import run_checks  # noqa: E402
from lossdoc.checks.findings import CATEGORIES, Severity  # noqa: E402
from lossdoc.checks.rulefile import load_rules  # noqa: E402
from lossdoc.config import Config  # noqa: E402
from lossdoc.testing import synth_logset  # noqa: E402

REAL = ROOT.parent / "shared" / "real_logs"
#: SOURCES.tsv label -> category (labels that are not categories are ignored)
LABEL_MAP = {"nan_or_inf": "non_finite", "nan": "non_finite", "spikes": "loss_spikes", "loss_spike": "loss_spikes",
             "gap": "train_val_gap"}
INFO_RULES = {r.id for r in load_rules().values() if r.severity == Severity.INFO}


def detected(findings: list[Any]) -> set[str]:
    return {f.category for f in findings if f.severity >= Severity.WARNING or f.rule in INFO_RULES}


def score(rows: list[tuple[str, set[str], set[str], set[str]]]) -> dict[str, dict[str, float]]:
    """rows: (name, labels, allowed, detected) -> {category: tp, fp, fn, precision, recall}."""
    out: dict[str, dict[str, float]] = {}
    for c in CATEGORIES:
        tp = sum(1 for _, lab, _, det in rows if c in lab and c in det)
        fn = sum(1 for _, lab, _, det in rows if c in lab and c not in det)
        fp = sum(1 for _, lab, allow, det in rows if c not in lab and c not in allow and c in det)
        if tp + fn + fp == 0:
            continue
        out[c] = {"tp": tp, "fp": fp, "fn": fn, "n": tp + fn,
                  "precision": tp / (tp + fp) if tp + fp else float("nan"),
                  "recall": tp / (tp + fn) if tp + fn else float("nan")}
    return out


def table(sc: dict[str, dict[str, float]]) -> str:
    lines = ["| category | curves with it | TP | FP | FN | precision | recall |", "|---|---:|---:|---:|---:|---:|---:|"]
    for c, d in sc.items():
        p = "–" if d["precision"] != d["precision"] else f"{d['precision']:.2f}"
        r = "–" if d["recall"] != d["recall"] else f"{d['recall']:.2f}"
        lines.append(f"| {c} | {int(d['n'])} | {int(d['tp'])} | {int(d['fp'])} | {int(d['fn'])} | {p} | {r} |")
    return "\n".join(lines)


def run_synthetic(quick: bool) -> tuple[list[Any], dict[str, Any]]:
    cases = make_cases()
    if quick:
        cases = cases[::4]
    rows, healthy = [], {"n": 0, "error": 0, "warning": 0, "examples": []}
    t0 = time.perf_counter()
    for name, kw, meta, labels, allowed in cases:
        runs, _ = run_checks(synth_logset(meta=meta, **kw), Config(), summaries=False)
        fs = runs[0].findings
        det = detected(fs)
        rows.append((name, labels, allowed, det))
        if name.startswith("healthy"):
            healthy["n"] += 1
            worst = max((f.severity for f in fs), default=None)
            if worst == Severity.ERROR:
                healthy["error"] += 1
            if worst is not None and worst >= Severity.WARNING:
                healthy["warning"] += 1
                healthy["examples"].append(f"{name}: " + "; ".join(f"{f.rule} {f.severity}" for f in fs
                                                                      if f.severity >= Severity.WARNING))
        missed = labels - det
        if missed and "-v" in sys.argv:
            print(f"MISS {name} {sorted(missed)} found {sorted(det)}", file=sys.stderr)
        extra = det - labels - allowed
        if extra and "-v" in sys.argv:
            print(f"FP   {name} {sorted(extra)}: " + "; ".join(f"{f.rule} {f.message[:100]}" for f in fs
                                                         if f.category in extra), file=sys.stderr)
    healthy["seconds"] = time.perf_counter() - t0
    healthy["curves"] = len(cases)
    return rows, healthy


def _labels(text: str) -> set[str]:
    head = text.split(";")[0]
    out = set()
    for t in head.replace(" ", "").split(","):
        t = LABEL_MAP.get(t, t)
        if t in CATEGORIES:
            out.add(t)
    return out


def run_real() -> list[tuple[str, set[str], set[str], set[str]]]:
    from lossdoc.ingest import read

    rows = []
    manifests: list[tuple[Path, Path, str, str]] = []
    if (REAL / "SOURCES.tsv").is_file():
        manifests.append((REAL / "SOURCES.tsv", REAL, "saved_path", "label"))
    man = ROOT / "sample_logs" / "MANIFEST.tsv"
    if man.is_file():
        manifests.append((man, ROOT / "sample_logs", "path", "labels"))
    for tsv, base, pcol, lcol in manifests:
        with open(tsv, encoding="utf-8") as fh:
            for rec in csv.DictReader(fh, delimiter="\t"):
                path = rec.get(pcol) or rec.get("saved_path") or rec.get("path")
                lab = rec.get(lcol) or rec.get("label") or rec.get("labels") or ""
                if not path:
                    continue
                try:
                    runs, _ = run_checks(read(str(base / path)), Config(), summaries=False)
                except Exception as exc:  # noqa: BLE001 - report, keep scoring the rest
                    print(f"skip {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                det = set().union(*(detected(r.findings) for r in runs)) if runs else set()
                rows.append((path, _labels(lab), {"still_improving", "plateau", "log_integrity"}, det))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-v", action="store_true", help="print misses and false positives")
    args = ap.parse_args()
    rows, healthy = run_synthetic(args.quick)
    print(f"## Synthetic: {healthy['curves']} curves ({healthy['n']} healthy), {healthy['seconds']:.0f} s\n")
    print(table(score(rows)))
    print(f"\nHealthy runs: {healthy['error']} with an error finding, {healthy['warning']} "
          f"({healthy['warning'] / max(healthy['n'], 1):.1%}) with any warning")
    for e in healthy["examples"][:10]:
        print(f"  - {e}")
    real = run_real()
    if real:
        print(f"\n## Real logs: {len(real)} logs\n")
        print(table(score(real)))
        for name, lab, _, det in real:
            print(f"  - {name}: labels {sorted(lab) or '-'}; detected {sorted(det) or '-'}")


if __name__ == "__main__":
    main()
