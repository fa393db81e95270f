"""Copy public training logs into benchmarks/publiclogs/logs/ and write SOURCES.tsv.

Input: ``candidates.tsv`` (columns ``repository, path_in_repo, commit, slug, line_shape, batch``), one row
per log that was found with the ``search`` tool (``line_shape``: for logs lossdoc cannot read, what their
loss lines look like; copied to UNREADABLE.tsv; ``batch``: the collection round that found it, 1, 2 or 3,
copied to SOURCES.tsv and UNREADABLE.tsv). Each repository must already be fetched to
``/work/.mirror/<owner>+<name>/repo`` (a bare git snapshot). For every row the script

1. refuses the repository if it is listed in ``/work/shared/real_logs/RESERVED.txt``
   (case-insensitive), before reading anything from it;
2. reads the file at the commit the search tool reported (``git show <commit>:<path>``), or, if the
   snapshot lacks that commit, at the newest commit that touched the path (recorded instead);
3. refuses byte-identical copies of a file already in /work/shared/real_logs, sample_logs/,
   tests/ingest/data/ or earlier in this corpus;
4. runs ``lossdoc inspect --json`` on it; a log is kept only if lossdoc reads a loss series with at
   least 5 points; otherwise it is listed in ``UNREADABLE.tsv`` with the reason;
5. saves it as ``logs/<lossdoc format>/<owner>--<repo>--<slug>/<original file name>`` (gzip above
   200 KB) and assigns the half: sha1(lower-case "owner/name" + SALT) even -> dev, odd -> test.

No labels are written: the curves are labelled later by two independent reviewers.

With ``--batch N`` only the candidates of batch N are (re)collected: the logs, SOURCES.tsv rows and
UNREADABLE.tsv rows of the other batches are kept exactly as they are, so a later batch never changes an
earlier one (lossdoc's readers keep changing; batch 1 stays as it was judged on 2026-12-06 at e590f21).
Batch 2 was added with ``--batch 2`` and batch 3 with ``--batch 3``. With ``--all`` instead, everything is
rebuilt from the mirrors with the current lossdoc (no argument, or ``--help``, rebuilds nothing).

Usage: python benchmarks/publiclogs/collect.py --batch N | --all
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LOGS = HERE / "logs"
MIRRORS = Path("/work/.mirror")
RESERVED = Path("/work/shared/real_logs/RESERVED.txt")
EXISTING = [Path("/work/shared/real_logs"), ROOT / "sample_logs", ROOT / "tests" / "ingest" / "data"]
SALT = "12"  # see README.md ("Development and test halves")
GZIP_ABOVE = 200_000
MIN_POINTS = 5


def reserved_repos() -> set[str]:
    lines = RESERVED.read_text().splitlines()
    return {ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#")}


def half(repo: str) -> str:
    digest = hashlib.sha1((repo.lower() + SALT).encode()).hexdigest()
    return "dev" if int(digest, 16) % 2 == 0 else "test"


def content_hashes(roots: list[Path]) -> set[str]:
    seen = set()
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                if p.suffix == ".gz":
                    try:
                        data = gzip.decompress(data)
                    except OSError:
                        pass
                seen.add(hashlib.sha256(data).hexdigest())
    return seen


def git(mirror: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(mirror), *args], capture_output=True)


def read_blob(repo: str, path: str, commit: str) -> tuple[bytes, str]:
    mirror = MIRRORS / repo.replace("/", "+") / "repo"
    if not mirror.is_dir():
        raise LookupError(f"{repo} is not fetched")
    if commit and git(mirror, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0:
        res = git(mirror, "show", f"{commit}:{path}")
        if res.returncode == 0:
            return res.stdout, commit
    last = git(mirror, "log", "--all", "-1", "--format=%H", "--", path).stdout.decode().strip()
    if not last:
        raise LookupError(f"{path} not in the snapshot of {repo}")
    res = git(mirror, "show", f"{last}:{path}")
    if res.returncode != 0:  # the newest commit touching it deleted it: take its parent
        last = git(mirror, "rev-parse", f"{last}^").stdout.decode().strip()
        res = git(mirror, "show", f"{last}:{path}")
    if res.returncode != 0:
        raise LookupError(f"{path} unreadable in {repo}: {res.stderr.decode().strip()}")
    return res.stdout, last


def inspect(path: Path) -> tuple[str | None, int, int, str]:
    """(format, points in all loss series, longest loss series, error text).

    Loss series: those lossdoc names ``loss``; if there are none, those whose name contains "loss"
    (component losses such as ``box_loss`` or ``mean_loss``).
    """
    res = subprocess.run(
        [sys.executable, "-m", "lossdoc", "inspect", "--json", str(path)], capture_output=True, text=True
    )
    if res.returncode != 0:
        return None, 0, 0, (res.stderr.strip().splitlines() or ["exit %d" % res.returncode])[-1]
    doc = json.loads(res.stdout)
    src = doc["sources"][0]
    series = [s for r in src["runs"] for s in r["series"]]
    losses = [s for s in series if s["metric"] == "loss"] or [s for s in series if "loss" in s["metric"]]
    counts = [s["points"] for s in losses]
    return src["format"], sum(counts), max(counts, default=0), "; ".join(n["message"] for n in src.get("notes", []))


def _tsv_rows(path: Path) -> list[tuple[str, ...]]:
    if not path.is_file():
        return []
    return [tuple(ln.split("\t")) for ln in path.read_text().splitlines()[1:] if ln.strip()]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="collect.py", description="Copy the candidates' logs from the mirrors into logs/ and write SOURCES.tsv.")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--batch", metavar="N", help="(re)collect only batch N; the other batches are kept as they are")
    group.add_argument("--all", action="store_true",
                       help="delete logs/ and rebuild every batch from /work/.mirror with the current lossdoc "
                            "(every repository must be fetched there first)")
    only = ap.parse_args(argv).batch
    if only is not None:
        known = {(ln.split("\t") + [""] * 6)[5] for ln in (HERE / "candidates.tsv").read_text().splitlines()[1:]}
        if only not in known:
            print(f"collect.py: error: no candidates of batch {only!r} in candidates.tsv", file=sys.stderr)
            return 2
    reserved = reserved_repos()
    rows, bad = [], []
    if only is None:
        shutil.rmtree(LOGS, ignore_errors=True)  # rebuilt from the mirrors
    else:  # keep the other batches as they are; drop what this batch saved before
        for r in _tsv_rows(HERE / "SOURCES.tsv"):
            if r[7] == only:
                shutil.rmtree((LOGS / r[0]).parent if not (LOGS / r[0]).is_dir() else LOGS / r[0],
                              ignore_errors=True)
            else:
                rows.append(r)
        bad = [r for r in _tsv_rows(HERE / "UNREADABLE.tsv") if r[5] != only]
    seen = content_hashes(EXISTING + ([LOGS] if LOGS.is_dir() else []))
    tmp = HERE / ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for line in (HERE / "candidates.tsv").read_text().splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        repo, path, commit, slug, shape, batch = (line.split("\t") + [""] * 6)[:6]
        if only is not None and batch != only:
            continue
        if repo.lower() in reserved:
            print(f"RESERVED, skipped: {repo}", file=sys.stderr)
            continue
        paths = path.split(",")  # several files of one run (catboost_info/*.tsv) -> one directory
        try:
            blobs = [read_blob(repo, p, commit) for p in paths]
        except LookupError as exc:
            bad.append((repo, path, commit, f"not copied: {exc}", shape, batch))
            continue
        used = blobs[0][1]
        digests = [hashlib.sha256(data).hexdigest() for data, _ in blobs]
        if any(d in seen for d in digests):
            print(f"duplicate, skipped: {repo} {path}", file=sys.stderr)
            continue
        owner, rname = repo.split("/")
        probe_dir = tmp / f"{owner}--{rname}--{slug}"
        probe_dir.mkdir(parents=True)
        for p, (data, _) in zip(paths, blobs):
            (probe_dir / Path(p).name).write_bytes(data)
        probe = probe_dir / Path(paths[0]).name if len(paths) == 1 else probe_dir
        fmt, n_points, longest, note = inspect(probe)
        if fmt is None or longest < MIN_POINTS:
            why = note.replace(str(probe), path) if fmt is None else (
                f"read as {fmt}: longest loss series {longest} points ({note})")
            bad.append((repo, path, used, why, shape, batch))
            continue
        seen.update(digests)
        dest_dir = LOGS / fmt / f"{owner}--{rname}--{slug}"
        dest_dir.mkdir(parents=True, exist_ok=True)
        for p, (data, _) in zip(paths, blobs):
            name = Path(p).name
            if len(data) > GZIP_ABOVE:
                dest = dest_dir / (name + ".gz")
                dest.write_bytes(gzip.compress(data, mtime=0))
            else:
                dest = dest_dir / name
                dest.write_bytes(data)
        saved = dest if len(paths) == 1 else dest_dir
        rows.append((str(saved.relative_to(LOGS)), fmt, repo, path, used, str(n_points), half(repo), batch))
    header = "saved_path\tformat\trepository\tpath_in_repo\tcommit\tn_points\thalf\tbatch\n"
    (HERE / "SOURCES.tsv").write_text(header + "".join("\t".join(r) + "\n" for r in sorted(rows)))
    (HERE / "UNREADABLE.tsv").write_text(
        "repository\tpath_in_repo\tcommit\twhy\tline_shape\tbatch\n" + "".join("\t".join(r) + "\n" for r in bad)
    )
    shutil.rmtree(tmp)
    halves = [r[6] for r in rows]
    print(f"{len(rows)} logs ({halves.count('dev')} dev, {halves.count('test')} test), "
          f"{len({r[2] for r in rows})} repositories, {len(bad)} not usable")
    for b in sorted({r[7] for r in rows} | {r[5] for r in bad}):
        mine = [r[6] for r in rows if r[7] == b]
        print(f"  batch {b}: {len(mine)} logs ({mine.count('dev')} dev, {mine.count('test')} test), "
              f"{sum(1 for r in bad if r[5] == b)} not usable")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
