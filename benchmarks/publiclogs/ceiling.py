"""How well does another careful human score on the public-log benchmark? (the "human ceiling")

    python benchmarks/publiclogs/ceiling.py                       # reviews/c.tsv, reviews/d.tsv
    python benchmarks/publiclogs/ceiling.py --lossdoc rows.json   # and lossdoc on the same logs

``LABELS.tsv`` is what lossdoc is scored against: a category is required when both independent reviewers
(``reviews/a.tsv``, ``reviews/b.tsv``) require it, optional when one of them does or either calls it
debatable. A *third* (and fourth) reviewer who saw neither of them nor lossdoc (``reviews/c.tsv``,
``reviews/d.tsv``, same guide) is scored here exactly as lossdoc is by ``benchmarks/quality/run.py``:

- a category the reviewer *requires* counts as detected (their ``optional`` column is not a claim, as
  lossdoc's notes from warning rules are not);
- recall over the required categories of ``LABELS.tsv``; a detected category that is neither required nor
  optional there is a false alarm;
- "healthy warned": on a log ``LABELS.tsv`` calls healthy, the reviewer requires a category other than
  ``still_improving`` and ``plateau`` (the two that lossdoc reports as notes; its PL001 warning is rarer).

Only logs the reviewer labelled are scored (coverage is printed). ``--lossdoc`` takes the ``--json`` output of
``benchmarks/quality/run.py`` and scores lossdoc on exactly the same logs, for a like-for-like comparison.
The pairwise line scores reviewer a against b's own labels and b against a's (the other's optional tags
allowed), which needs no resolution at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("quality_run", HERE.parent / "quality" / "run.py")
q = importlib.util.module_from_spec(_spec)
sys.modules["quality_run"] = q
_spec.loader.exec_module(q)  # type: ignore[union-attr]

NOT_A_WARNING = {"still_improving", "plateau"}


def reviewer(path: Path) -> dict[str, dict[str, str]]:
    rows = {}
    for r in q._tsv(path):
        if r.get("saved_path"):
            rows[r["saved_path"].strip()] = r
    return rows


def score_reviewer(items: list, rev: dict[str, dict[str, str]]) -> tuple[dict, int, int]:
    """Score the reviewer's required categories as detections on the items they labelled."""
    scored, unusable = [], 0
    for it in items:
        r = rev.get(it.name)
        if r is None:
            continue
        if "unusable" in (r.get("labels") or ""):
            unusable += 1
            scored.append(q.Item(it.corpus, it.path, it.name, set(it.labels), set(it.optional)))
            continue
        x = q.Item(it.corpus, it.path, it.name, set(it.labels), set(it.optional))
        x.detected = q.cats(r.get("labels") or "")
        x.warned = bool(x.detected - NOT_A_WARNING)
        scored.append(x)
    return q.score(scored), len(scored), unusable


def score_lossdoc(items: list, rows: list[dict], names: set[str]) -> dict:
    by = {r["name"]: r for r in rows}
    out = []
    for it in items:
        r = by.get(it.name)
        if it.name not in names or r is None:
            continue
        x = q.Item(it.corpus, it.path, it.name, set(it.labels), set(it.optional))
        x.detected, x.warned, x.error = set(r["detected"]), bool(r["warned"]), r.get("error")
        out.append(x)
    return q.score(out)


def pairwise(items: list, a: dict, b: dict) -> list[str]:
    lines = []
    for truth_name, truth, det_name, det in (("a", a, "b", b), ("b", b, "a", a)):
        tp = fn = fa = 0
        for it in items:
            rt, rd = truth.get(it.name), det.get(it.name)
            if rt is None or rd is None:
                continue
            req, got = q.cats(rt.get("labels") or ""), q.cats(rd.get("labels") or "")
            opt = q.cats(rt.get("optional") or "") | q.cats(rd.get("optional") or "")
            tp, fn, fa = tp + len(req & got), fn + len(req - got), fa + len(got - req - opt)
        if tp + fn:
            lines.append(f"  reviewer {det_name} against reviewer {truth_name}'s labels: recall {tp / (tp + fn):.2f} "
                         f"({tp}/{tp + fn}), false alarms {fa}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reviews", nargs="*", type=Path, help="reviewer files (default reviews/c.tsv reviews/d.tsv)")
    ap.add_argument("--lossdoc", type=Path, help="benchmarks/quality/run.py --json output to compare with")
    args = ap.parse_args(argv)
    files = args.reviews or [p for p in (HERE / "reviews" / "c.tsv", HERE / "reviews" / "d.tsv") if p.is_file()]
    if not files:
        print("no reviewer files (reviews/c.tsv, reviews/d.tsv)", file=sys.stderr)
        return 2
    items = q.load_public()
    rows = json.loads(args.lossdoc.read_text())["rows"] if args.lossdoc else None
    a, b = reviewer(HERE / "reviews" / "a.tsv"), reviewer(HERE / "reviews" / "b.tsv")
    for half in ("public-dev", "public-test"):
        sel = [i for i in items if i.corpus == half]
        print(f"## {half}: {len(sel)} scored logs\n")
        print("\n".join(pairwise(sel, a, b)) + "\n")
        for f in files:
            rev = reviewer(f)
            sc, n, unusable = score_reviewer(sel, rev)
            if not n:
                continue
            print(q.render(f"reviewer {f.stem} on {half} ({n} of {len(sel)} logs labelled, {unusable} called unusable)",
                           sc) + "\n")
            if rows is not None:
                names = {i.name for i in sel if i.name in rev}
                ld = score_lossdoc(sel, rows, names)
                if ld["logs"]:
                    print(q.render(f"lossdoc on the same {ld['logs']} logs", ld) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
