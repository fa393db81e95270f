"""Rebuild this folder from CANDIDATES.tsv: copy each log (and the files beside it) byte for byte
from a local git snapshot of its public repository (``/work/.mirror/<owner>+<repo>/repo``, made with the
session's ``fetch`` tool), gzip files above 64 KB (lossdoc reads .gz as is), cut a file above 2 MB to its
first 2 MB of whole lines first (said in SOURCES.tsv), and write SOURCES.tsv.

Usage: python tests/ingest/data/public/collect.py [MIRRORS_DIR]

Repositories listed in ../shared/real_logs/RESERVED.txt are refused (they are kept for independent
evaluation), as are those of benchmarks/publiclogs (another corpus).
"""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
MAX_PLAIN = 64 * 1024
MAX_RAW = 2 * 1024 * 1024


def _names(path: Path, col: int | None = None) -> set[str]:
    if not path.is_file():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        out.add((line.split("\t")[col] if col is not None else line).strip().lower())
    return out


def refused() -> set[str]:
    shared = ROOT.parent / "shared" / "real_logs"
    if not shared.is_dir():
        shared = Path("/work/shared/real_logs")
    pub = ROOT / "benchmarks" / "publiclogs"
    return (_names(shared / "RESERVED.txt") | _names(shared / "SOURCES.tsv", 2) | _names(pub / "SOURCES.tsv", 2)
            | _names(pub / "candidates.tsv", 0))


def show(mirror: Path, commit: str, path: str) -> bytes:
    return subprocess.run(["git", "-C", str(mirror), "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout


def main() -> None:
    mirrors = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/.mirror")
    bad = refused()
    rows = []
    with open(HERE / "CANDIDATES.tsv", newline="") as fh:
        cands = [r for r in csv.DictReader(fh, delimiter="\t") if not r["style"].startswith("#")]
    for r in cands:
        repo = r["repository"]
        if repo.lower() in bad:
            raise SystemExit(f"{repo} is reserved or already in another corpus: not copied")
        mirror = mirrors / repo.replace("/", "+") / "repo"
        dest_dir = HERE / r["style"] / f"{repo.replace('/', '--')}--{r['slug']}"
        root = r["root"].strip("/")
        notes = []
        read = dest_dir / r["read"]
        for rel in r["files"].split(","):
            data = show(mirror, r["commit"], f"{root}/{rel}" if root else rel)
            if len(data) > MAX_RAW:
                data = data[: data.rfind(b"\n", 0, MAX_RAW) + 1]
                notes.append(f"{rel}: first {len(data)} bytes (whole lines)")
            out = dest_dir / rel
            if len(data) > MAX_PLAIN:
                data, out = gzip.compress(data, mtime=0), out.with_name(out.name + ".gz")
                if dest_dir / r["read"] == dest_dir / rel:
                    read = out
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        rows.append({"read": str(read.relative_to(HERE)), "style": r["style"], "repository": repo,
                     "commit": r["commit"], "root": root, "files": r["files"], "format": r["format"],
                     "expect": r["expect"], "config": r.get("config") or "", "note": "; ".join(notes)})
    with open(HERE / "SOURCES.tsv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} logs from {len({r['repository'] for r in rows})} repositories")


if __name__ == "__main__":
    main()
