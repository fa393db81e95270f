"""Merge the two independent reviews of the public logs into ``LABELS.tsv``.

    python benchmarks/publiclogs/resolve_labels.py        # reviews/a.tsv + reviews/b.tsv -> LABELS.tsv

Each reviewer labelled every log from its numbers alone (``reviews/GUIDE.md``), without seeing the other's
labels or lossdoc's findings. Resolution, per category:

- both reviewers require it -> required (``labels``);
- one requires it, or either marks it debatable -> ``optional`` (a detector may report it or not without
  counting as a false alarm or a miss: the disagreement is recorded, not decided in lossdoc's favour);
- a log either reviewer calls ``unusable`` (no judgeable curve) is left out of scoring;
- a log with no required category is healthy (``labels`` = ``healthy``).

Both reviewers' labels and notes are kept in the output, with an ``agreement`` column (``agree`` when the
required sets are equal).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cats(text: str) -> set[str]:
    return {t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip() and t.strip() != "healthy"}


def _read(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return {r["saved_path"]: r for r in csv.DictReader(fh, delimiter="\t")}


def main() -> int:
    a, b = _read(HERE / "reviews" / "a.tsv"), _read(HERE / "reviews" / "b.tsv")
    with open(HERE / "SOURCES.tsv", encoding="utf-8") as fh:
        paths = [r["saved_path"] for r in csv.DictReader(fh, delimiter="\t")]
    out, agree, both = [], 0, 0
    for p in paths:
        ra, rb = a.get(p), b.get(p)
        if ra is None or rb is None:
            continue
        both += 1
        la, lb = ra.get("labels", ""), rb.get("labels", "")
        if "unusable" in (la.strip(), lb.strip()):
            labels, optional = "unusable", ""
        else:
            ca, cb = _cats(la), _cats(lb)
            req = ca & cb
            opt = ((ca | cb) - req) | _cats(ra.get("optional", "")) | _cats(rb.get("optional", ""))
            opt -= req
            labels = ",".join(sorted(req)) or "healthy"
            optional = ",".join(sorted(opt))
        same = _cats(la) == _cats(lb) and ("unusable" in la) == ("unusable" in lb)
        agree += same
        out.append({"saved_path": p, "labels": labels, "optional": optional,
                    "agreement": "agree" if same else "disagree", "label_a": la, "optional_a": ra.get("optional", ""),
                    "label_b": lb, "optional_b": rb.get("optional", ""), "note_a": ra.get("note", ""),
                    "note_b": rb.get("note", "")})
    with open(HERE / "LABELS.tsv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    print(f"{both} logs reviewed twice, required sets equal on {agree} ({agree / max(both, 1):.0%}); "
          f"{len(paths) - both} not reviewed by both", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
