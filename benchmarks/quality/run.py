"""Diagnosis quality on real logs: per-category precision, recall and F1, the warning rate on healthy
runs and wrong-direction learning-rate advice, for each labelled corpus separately.

    python benchmarks/quality/run.py                      # every corpus found
    python benchmarks/quality/run.py --corpus realruns    # one corpus (realruns, public-dev, public-test,
                                                          #   shared, synthetic)
    python benchmarks/quality/run.py -v                   # also list misses and false alarms
    python benchmarks/quality/run.py --json out.json      # machine-readable rows and scores
    python benchmarks/quality/run.py --corpus public-dev --batch 2   # public logs of collection batch 2 only

Corpora (each read from its own manifest):

- ``realruns``: ``benchmarks/realruns/labels.tsv`` -- runs trained on this CPU by real trainers from
  factorial designs; truth from the design and each sweep's reference runs (protocol in
  ``benchmarks/realruns/README.md``).
- ``public-dev`` / ``public-test``: ``benchmarks/publiclogs/SOURCES.tsv`` + ``LABELS.tsv`` -- public
  logs labelled by two independent reviewers; ``test`` is never used for tuning.
- ``shared``: ``../shared/real_logs/SOURCES.tsv`` (the project's first public logs).
- ``synthetic``: ``benchmarks/detection/cases.py`` (seeded synthetic curves).

``--sweeps`` scores the real runs a second way, as ``realruns-sweeps``: each sweep directory analysed as
a user with the sweep would (``lossdoc analyze logs/<trainer>/<sweep>/``), so findings that compare the
runs of a sweep with each other (LR008/LR009) count too.

Scoring. A category counts as *detected* on a log when a finding of that category has severity warning
or error, or comes from a rule whose default severity is info (SI001, GP002, LR003, LG00x): an info grade
given by a warning rule (a converged plateau, a recovered blip) is a note, not a claim. A log's
``labels`` must be found (recall); a detected category that is neither a label nor ``optional`` is a
false alarm (precision). ``log_integrity`` is not scored. Healthy logs (no label) are counted as warned
when any finding is warning or error. Wrong-direction LR advice: a recommendation that says
to raise the learning rate on a log labelled ``lr_too_high``, ``divergence`` or ``non_finite``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: ../shared/real_logs beside the checkout; LOSSDOC_SHARED_DIR points elsewhere (a git worktree whose parent
#: holds no shared/ would otherwise score the shared corpus as empty, silently)
SHARED = Path(os.environ.get("LOSSDOC_SHARED_DIR") or ROOT.parent / "shared") / "real_logs"
sys.path.insert(0, str(ROOT / "benchmarks" / "detection"))

from lossdoc.checks.findings import CATEGORIES, Severity  # noqa: E402
from lossdoc.checks.rulefile import load_rules  # noqa: E402

#: label spellings used by the manifests -> categories
LABEL_MAP = {"nan_or_inf": "non_finite", "nan": "non_finite", "spikes": "loss_spikes", "loss_spike": "loss_spikes",
             "gap": "train_val_gap", "local_minima": "local_minimum", "oscillating": "oscillation"}
UNSCORED = {"log_integrity", "regression"}
#: GP002 (validation *below* training) is a note about augmentation/dropout, not the labelling guide's
#: train_val_gap (validation well above training): it is not scored as a detection.
INFO_RULES = {r.id for r in load_rules().values() if r.severity == Severity.INFO} - {"GP002"}
#: advice to raise the LR, in a recommendation (messages describe, recommendations advise). "a 3-10x higher LR" is
#: such advice; "the higher LR's noise floor" (LR005: cut the LR earlier) is not
RAISE_LR = re.compile(r"\b(raise|increase)\b[^.;]{0,40}\b(LR|learning rate|learning-rate|eta)\b|\braise it\b|"
                      r"\bhigher (LR|learning rate)\b(?!'s)|\bis \d+x too low\b", re.IGNORECASE)
BAD_FOR_RAISE = {"lr_too_high", "divergence", "non_finite"}


@dataclass
class Item:
    corpus: str
    path: Path
    name: str
    labels: set[str]
    optional: set[str] = field(default_factory=set)
    detected: set[str] = field(default_factory=set)
    warned: bool = False
    warned_categories: set[str] = field(default_factory=set)  # categories of its warning/error findings
    raise_lr: bool = False
    error: str | None = None
    findings: list[str] = field(default_factory=list)
    #: public logs: both reviewers' own required labels were empty (each called it healthy); None elsewhere. A log
    #: resolved to healthy because the reviewers named different problems (a: divergence, b: overfitting) is not
    agreed_healthy: bool | None = None


def cats(text: str) -> set[str]:
    out = set()
    for t in re.split(r"[,\s]+", text.split(";")[0].strip()):
        t = LABEL_MAP.get(t, t)
        if t in CATEGORIES and t not in UNSCORED:
            out.add(t)
    return out


def _tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def load_realruns(base: Path | None = None) -> list[Item]:
    base = base or ROOT / "benchmarks" / "realruns"
    man = base / "labels.tsv"
    if not man.is_file():
        return []
    return [Item("realruns", base / "logs" / r["path"], r["path"], cats(r.get("labels", "")),
                 cats(r.get("optional", ""))) for r in _tsv(man)]


def load_public(base: Path | None = None, labels: Path | None = None,
                batches: set[str] | None = None) -> list[Item]:
    """The labelled public logs; ``batches`` keeps only those collection batches (SOURCES.tsv ``batch``)."""
    base = base or ROOT / "benchmarks" / "publiclogs"
    src, lab = base / "SOURCES.tsv", labels or base / "LABELS.tsv"
    if not (src.is_file() and lab.is_file()):
        return []
    rows = _tsv(src)
    half = {r["saved_path"]: r.get("half", "dev") for r in rows}
    batch = {r["saved_path"]: (r.get("batch") or "1").strip() for r in rows}
    out = []
    for r in _tsv(lab):
        p = r["saved_path"]
        if p not in half or r.get("labels", "").strip() in ("", "unusable"):
            continue
        if batches and batch[p] not in batches:
            continue
        both = not cats(r.get("label_a", "")) and not cats(r.get("label_b", "")) if "label_a" in r else None
        out.append(Item(f"public-{half[p]}", base / "logs" / p, p, cats(r["labels"]), cats(r.get("optional", "")),
                        agreed_healthy=both))
    return out


def load_shared() -> list[Item]:
    man = SHARED / "SOURCES.tsv"
    if not man.is_file():
        return []
    out = []
    for r in _tsv(man):
        lab = r.get("label", "")
        if "unclear" in lab.split(";")[0]:
            continue
        # these labels were written for a first reading: "still_improving" and "plateau" were noted where
        # visible, never exhaustively, so they are optional everywhere
        out.append(Item("shared", SHARED / r["saved_path"], r["saved_path"], cats(lab),
                        {"still_improving", "plateau"}))
    return out


def detected(findings: Iterable[Any]) -> set[str]:
    return {f.category for f in findings if (f.severity >= Severity.WARNING or f.rule in INFO_RULES)
            and f.category not in UNSCORED}


def _fill(item: Item, fs: list[Any]) -> None:
    """What is scored for a log, from its findings."""
    item.detected = detected(fs)
    item.warned = any(f.severity >= Severity.WARNING for f in fs)
    item.warned_categories = {f.category for f in fs if f.severity >= Severity.WARNING}
    item.raise_lr = any(RAISE_LR.search(f.recommendation) for f in fs
                        if f.severity >= Severity.WARNING or f.rule in INFO_RULES)
    item.findings = [f"{f.rule} {f.severity} {f.split}/{f.metric}: {f.message[:140]}" for f in fs]


def analyse(item: Item) -> None:
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config
    from lossdoc.ingest import read

    try:
        runs, _ = run_checks(read(str(item.path)), Config(), summaries=False)
    except Exception as exc:  # noqa: BLE001 - a read failure is scored as "found nothing" and listed
        item.error = f"{type(exc).__name__}: {exc}"
        return
    _fill(item, [f for r in runs for f in r.findings])


def analyse_sweeps(items: list[Item]) -> None:
    """Real runs scored as a user with the sweep has them: ``lossdoc analyze logs/<trainer>/<sweep>/`` (one
    process), so findings that compare the runs of a sweep (LR008/LR009) are included."""
    from lossdoc.errors import InputError
    from lossdoc.sweep import analyze_sweep

    by_dir: dict[Path, list[Item]] = {}
    for it in items:
        by_dir.setdefault(it.path.parent.parent, []).append(it)
    for d, its in by_dir.items():
        try:
            try:
                rep = analyze_sweep(d, jobs=1)
            except InputError:  # not a directory of run directories (a TensorBoard logdir of runs): read whole
                from lossdoc.api import analyze

                rep = analyze(d)
        except Exception as exc:  # noqa: BLE001 - fall back to one log at a time
            print(f"sweep {d}: {type(exc).__name__}: {exc}", file=sys.stderr)
            for it in its:
                analyse(it)
            continue
        found = {str(Path(r.source).resolve()): r for r in rep.runs}
        by_name = {r.run: r for r in rep.runs}
        for it in its:
            r = found.get(str(it.path.resolve())) or by_name.get(it.path.parent.name)
            if r is None:
                analyse(it)
                continue
            _fill(it, r.findings)


def synthetic(quick: bool) -> list[Item]:
    from cases import make_cases

    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config
    from lossdoc.testing import synth_logset

    cases = make_cases()
    if quick:
        cases = cases[::4]
    out = []
    for name, kw, meta, labels, allowed in cases:
        it = Item("synthetic", Path(name), name, set(labels), set(allowed))
        runs, _ = run_checks(synth_logset(meta=meta, **kw), Config(), summaries=False)
        _fill(it, runs[0].findings)
        out.append(it)
    return out


def recall_interval(items: list[Item], confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """A confidence interval for recall over labelled problems, resampling *logs* (a log's labels are
    found or missed together: one reader fault or one odd curve costs several), by scipy's bootstrap
    (BCa, paired: each log's found and labelled counts stay together)."""
    from scipy.stats import bootstrap

    lab = [i for i in items if i.labels]
    if len(lab) < 2:
        return float("nan"), float("nan")
    found = np.array([len(i.labels & i.detected) for i in lab], float)
    total = np.array([len(i.labels) for i in lab], float)
    if found.sum() in (0, total.sum()):  # BCa is undefined on a degenerate sample
        return float("nan"), float("nan")
    kw = dict(paired=True, vectorized=True, confidence_level=confidence, n_resamples=4999, method="BCa")
    stat = lambda f, t, axis=-1: f.sum(axis=axis) / t.sum(axis=axis)  # noqa: E731
    try:
        res = bootstrap((found, total), stat, rng=np.random.default_rng(seed), **kw)
    except TypeError:  # scipy < 1.15 names it random_state
        res = bootstrap((found, total), stat, random_state=np.random.default_rng(seed), **kw)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def rate_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson interval for a share of logs (healthy logs warned), by scipy.stats.binomtest."""
    from scipy.stats import binomtest

    if not n:
        return float("nan"), float("nan")
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def score(items: list[Item]) -> dict[str, Any]:
    per: dict[str, dict[str, float]] = {}
    for c in CATEGORIES:
        if c in UNSCORED:
            continue
        tp = sum(1 for i in items if c in i.labels and c in i.detected)
        fn = sum(1 for i in items if c in i.labels and c not in i.detected)
        fp = sum(1 for i in items if c not in i.labels and c not in i.optional and c in i.detected)
        if tp + fn + fp == 0:
            continue
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * p * r / (p + r) if tp else 0.0
        per[c] = {"n": tp + fn, "tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1}
    pairs = sum(len(i.labels) for i in items)
    found = sum(len(i.labels & i.detected) for i in items)
    healthy = [i for i in items if not i.labels]
    wrong = [i for i in items if i.raise_lr and i.labels & BAD_FOR_RAISE]
    warned = sum(i.warned for i in healthy)
    # a warning only in a category one reviewer gave (optional) is debatable, not a false alarm
    warned_fa = sum(bool(i.warned_categories - i.optional - UNSCORED) for i in healthy)
    agreed = [i for i in healthy if i.agreed_healthy]
    return {"recall_ci": recall_interval(items), "healthy_warn_ci": rate_interval(warned, len(healthy)),
            "agreed_healthy": len(agreed), "agreed_healthy_warned": sum(i.warned for i in agreed),
            "agreed_healthy_ci": rate_interval(sum(i.warned for i in agreed), len(agreed)),
            "healthy_warned_false_alarm": warned_fa,
            "healthy_warned_false_alarm_ci": rate_interval(warned_fa, len(healthy)),
            "logs": len(items), "problems": pairs, "found": found, "recall": found / pairs if pairs else float("nan"),
            "healthy": len(healthy), "healthy_warned": sum(i.warned for i in healthy),
            "healthy_warn_rate": sum(i.warned for i in healthy) / len(healthy) if healthy else float("nan"),
            "false_alarms": sum(len(i.detected - i.labels - i.optional) for i in items),
            "wrong_direction_lr": len(wrong), "unread": sum(i.error is not None for i in items),
            "categories": per}


def _f(x: float) -> str:
    return "–" if x != x else f"{x:.2f}"


def _ci(lo_hi: tuple[float, float], pct: bool = False) -> str:
    lo, hi = lo_hi
    if lo != lo:
        return ""
    return f"{lo:.0%}-{hi:.0%}" if pct else f"{lo:.2f}-{hi:.2f}"


def render(name: str, sc: dict[str, Any]) -> str:
    rci, wci = _ci(sc["recall_ci"]), _ci(sc["healthy_warn_ci"], pct=True)
    lines = [f"### {name}: {sc['logs']} logs, {sc['problems']} labelled problems, {sc['healthy']} healthy",
             "",
             f"Recall over all labelled problems **{_f(sc['recall'])}** ({sc['found']}/{sc['problems']}"
             f"{'; 95% CI ' + rci + ', logs resampled' if rci else ''}); "
             f"healthy logs with a warning **{sc['healthy_warned']}/{sc['healthy']}** "
             f"({_f(sc['healthy_warn_rate'] * 100) if sc['healthy'] else '–'}%{'; 95% CI ' + wci if wci else ''}), "
             f"{sc['healthy_warned_false_alarm']} of them in a category neither reviewer gave"
             + (f", {sc['agreed_healthy_warned']}/{sc['agreed_healthy']} of the logs both reviewers called healthy "
                f"({_ci(sc['agreed_healthy_ci'], pct=True) or '–'} 95% CI)" if sc.get("agreed_healthy") else "")
             + "; "
             f"false alarms {sc['false_alarms']}; "
             f"wrong-direction LR advice **{sc['wrong_direction_lr']}**; unreadable {sc['unread']}.",
             "",
             "| category | logs with it | TP | FP | FN | precision | recall | F1 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c, d in sc["categories"].items():
        lines.append(f"| {c} | {d['n']} | {d['tp']} | {d['fp']} | {d['fn']} | {_f(d['precision'])} | "
                     f"{_f(d['recall'])} | {_f(d['f1'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", action="append", help="realruns, public-dev, public-test, shared, synthetic")
    ap.add_argument("--quick", action="store_true", help="a quarter of the synthetic set")
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    ap.add_argument("--json", help="write rows and scores here")
    ap.add_argument("--realruns-dir", type=Path, help="another checkout's benchmarks/realruns")
    ap.add_argument("--public-labels", type=Path, help="a labels file other than publiclogs/LABELS.tsv")
    ap.add_argument("--batch", action="append", metavar="N",
                    help="public logs of this collection batch only (SOURCES.tsv 'batch'; repeatable)")
    ap.add_argument("--sweeps", action="store_true",
                    help="score the real runs sweep by sweep (lossdoc analyze DIR), as 'realruns-sweeps'")
    args = ap.parse_args(argv)
    want = set(args.corpus or ["realruns", "public-dev", "public-test", "shared", "synthetic"])
    items = [i for i in load_realruns(args.realruns_dir) + load_public(labels=args.public_labels, batches=set(args.batch or ())) + load_shared()
             if i.corpus in want]
    if "shared" in want and not (SHARED / "SOURCES.tsv").is_file():
        print(f"warning: no shared corpus at {SHARED} (set LOSSDOC_SHARED_DIR to the shared/ folder)", file=sys.stderr)
    t0 = time.perf_counter()
    for it in items:
        if not (args.sweeps and it.corpus == "realruns"):
            analyse(it)
    if args.sweeps:
        sweep_items = [i for i in items if i.corpus == "realruns"]
        for i in sweep_items:
            i.corpus = "realruns-sweeps"
        analyse_sweeps(sweep_items)
    if "synthetic" in want:
        items += synthetic(args.quick)
    out: dict[str, Any] = {"seconds": time.perf_counter() - t0, "corpora": {}}
    for name in ("realruns", "realruns-sweeps", "public-dev", "public-test", "shared", "synthetic"):
        sel = [i for i in items if i.corpus == name]
        if not sel:
            continue
        sc = score(sel)
        out["corpora"][name] = sc
        print(render(name, sc) + "\n")
        if args.verbose:
            for i in sel:
                miss, extra = i.labels - i.detected, i.detected - i.labels - i.optional
                flag = (" WARNED-HEALTHY" if not i.labels and i.warned else "") + (
                    " RAISE-LR" if i.raise_lr and i.labels & BAD_FOR_RAISE else "")
                if miss or extra or flag or i.error:
                    print(f"  * {i.name}: labels {sorted(i.labels) or 'healthy'}"
                          f"{' opt ' + str(sorted(i.optional)) if i.optional else ''}; "
                          f"MISS {sorted(miss) or '-'} FP {sorted(extra) or '-'}{flag}"
                          + (f" ERROR {i.error}" if i.error else ""))
                    for f in i.findings:
                        print(f"      - {f}")
            print()
    if args.json:
        out["rows"] = [{"corpus": i.corpus, "name": i.name, "labels": sorted(i.labels), "optional": sorted(i.optional),
                        "detected": sorted(i.detected), "warned": i.warned,
                        "warned_categories": sorted(i.warned_categories), "raise_lr": i.raise_lr, "error": i.error,
                        "findings": i.findings}
                       for i in items]
        Path(args.json).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
