"""Stress test on healthy logs: does a warning survive transformations that keep a healthy run healthy?

    python benchmarks/quality/stress_healthy.py            # every healthy log we may use, every transform
    python benchmarks/quality/stress_healthy.py --only trunc50 --only every3 --worst 10
    python benchmarks/quality/stress_healthy.py --json out.json

The healthy logs are those whose labels hold no scored category: the development half of the public logs
(``benchmarks/publiclogs``, SOURCES.tsv ``half == dev``; the test half is never read), the real runs
(``benchmarks/realruns/labels.tsv``), the project's first public logs (``../shared/real_logs``, set
LOSSDOC_SHARED_DIR from a worktree) and ``sample_logs`` marked ``healthy``.

Each log is read once, then each transformation is applied to its table (every run, every series) as a user
could have the same healthy run, and the run is checked again:

- ``truncNN``: the run cut at NN% of its steps (a run still in progress: a note that it is still improving
  is fine, a warning is not);
- ``every3``: every 3rd logged point of each series (a coarser ``logging_steps``);
- ``chunk10``: means of 10 consecutive points of every series with 50+ points (per-epoch means instead of
  per-batch values);
- ``offset``: the loss series plus 2x the range the training loss covered (a loss with a constant term);
- ``scale100`` / ``scale001``: the loss series times 100 and times 0.01 (a summed instead of averaged loss,
  another unit);
- ``val_every2``: every 2nd evaluation of the held-out series (a longer evaluation cadence);
- ``resume``: the points between 60% and 70% of the run logged twice (a run resumed from a checkpoint at 60%
  that re-logged the overlap, the same values);
- ``running_mean``: training losses of 50+ points logged as the running mean since their "epoch" began (the
  series cut in 10 equal parts; an AverageMeter or tqdm postfix reset every epoch).

The report prints, per rule, how many transformed healthy runs it warns on (and on how many of the
untransformed logs), per transformation the warned share, and the worst examples (the logs that most
transformations make a rule warn on). A benchmark, not a test: it states how fragile the warning rules are,
it does not gate anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Item, _tsv, cats, load_realruns, load_shared  # noqa: E402

from lossdoc.checks.findings import Severity  # noqa: E402
from lossdoc.checks.series import LOSS_LIKE  # noqa: E402
from lossdoc.model import LogSet, Source, wide_columns  # noqa: E402

ROOT = HERE.parents[1]


def healthy_items() -> list[Item]:
    """Every healthy log we may use (never a public test-half log)."""
    out = [i for i in load_realruns() + load_shared() if not i.labels]
    base = ROOT / "benchmarks" / "publiclogs"
    half = {r["saved_path"]: r.get("half", "dev") for r in _tsv(base / "SOURCES.tsv")}
    for r in _tsv(base / "LABELS.tsv"):
        p = r["saved_path"]
        if half.get(p) != "dev" or r.get("labels", "").strip() in ("", "unusable"):
            continue
        if not cats(r["labels"]):
            out.append(Item("public-dev", base / "logs" / p, p, set(), cats(r.get("optional", ""))))
    man = ROOT / "sample_logs" / "MANIFEST.tsv"
    if man.is_file():
        for r in _tsv(man):
            lab = {t.strip() for t in r.get("label", "").split(",")}
            if "healthy" in lab and not cats(r["label"]):
                out.append(Item("sample_logs", ROOT / "sample_logs" / r["path"], r["path"], set()))
    return out


# -- transformations: frame (one run's rows, SCHEMA) -> frame -------------------------------------------------


def _is_loss(metric: str) -> bool:
    return any(t in metric for t in LOSS_LIKE)


def _frac_step(df: pl.DataFrame, frac: float) -> float:
    lo, hi = df.select(pl.col("step").min().alias("lo"), pl.col("step").max().alias("hi")).row(0)
    return lo + frac * (hi - lo)


def truncate(frac: float) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fn(df: pl.DataFrame) -> pl.DataFrame:
        return df.filter(pl.col("step") <= _frac_step(df, frac))
    return fn


def every(k: int, splits: tuple[str, ...] | None = None) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fn(df: pl.DataFrame) -> pl.DataFrame:
        df = df.sort("run", "split", "metric", "step").with_columns(
            pl.int_range(pl.len()).over("run", "split", "metric").alias("_i"),
            pl.len().over("run", "split", "metric").alias("_n"))
        keep = ((pl.col("_i") % k) == (pl.col("_n") - 1) % k)  # keep the last point
        if splits is not None:
            keep = keep | ~pl.col("split").is_in(list(splits))
        return df.filter(keep).drop("_i", "_n")
    return fn


def chunk_means(m: int, min_points: int = 50) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fn(df: pl.DataFrame) -> pl.DataFrame:
        df = df.sort("run", "split", "metric", "step").with_columns(
            (pl.int_range(pl.len()).over("run", "split", "metric") // m).alias("_c"),
            pl.len().over("run", "split", "metric").alias("_n"))
        small = df.filter(pl.col("_n") < min_points).drop("_c", "_n")
        big = (df.filter(pl.col("_n") >= min_points)
               .group_by("run", "split", "metric", "name", "_c", maintain_order=True)
               .agg(pl.col("step").last(), pl.col("epoch").last(), pl.col("wall_time").last(),
                    pl.col("value").mean()))
        return pl.concat([small, big.select(small.columns)], how="vertical")
    return fn


def running_mean(epochs: int = 10, min_points: int = 50) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Training losses of 50+ points logged as the running mean since the start of their "epoch" (the run's
    points cut in ``epochs`` equal parts): an AverageMeter / tqdm postfix reset every epoch."""
    def fn(df: pl.DataFrame) -> pl.DataFrame:
        keys = ("run", "split", "metric")
        df = df.sort(*keys, "step").with_columns(
            (pl.int_range(pl.len()).over(*keys) * epochs // pl.len().over(*keys)).alias("_e"),
            pl.len().over(*keys).alias("_n"))
        lossy = pl.col("metric").map_elements(_is_loss, return_dtype=pl.Boolean)
        cum = pl.col("value").cum_sum().over(*keys, "_e") / pl.int_range(1, pl.len() + 1).over(*keys, "_e")
        pick = lossy & (pl.col("split") == "train") & (pl.col("_n") >= min_points)
        return df.with_columns(pl.when(pick).then(cum).otherwise(pl.col("value")).alias("value")).drop("_e", "_n")
    return fn


def _train_range(df: pl.DataFrame) -> float:
    v = df.filter((pl.col("split") == "train") & pl.col("metric").map_elements(_is_loss, return_dtype=pl.Boolean)
                  & pl.col("value").is_finite())["value"]
    if v.len() < 2:
        v = df.filter(pl.col("metric").map_elements(_is_loss, return_dtype=pl.Boolean)
                      & pl.col("value").is_finite())["value"]
    return float(v.max() - v.min()) if v.len() >= 2 else 1.0


def loss_map(fn_value: Callable[[pl.Expr, pl.DataFrame], pl.Expr]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fn(df: pl.DataFrame) -> pl.DataFrame:
        lossy = pl.col("metric").map_elements(_is_loss, return_dtype=pl.Boolean)
        return df.with_columns(pl.when(lossy).then(fn_value(pl.col("value"), df)).otherwise(pl.col("value"))
                               .alias("value"))
    return fn


def resume(a: float = 0.6, b: float = 0.7) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fn(df: pl.DataFrame) -> pl.DataFrame:
        lo, hi = _frac_step(df, a), _frac_step(df, b)
        first = df.filter(pl.col("step") <= hi).with_columns(pl.lit(0).alias("_seg"))
        again = df.filter(pl.col("step") > lo).with_columns(pl.lit(1).alias("_seg"))
        return pl.concat([first, again]).drop("_seg")
    return fn


TRANSFORMS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "trunc30": truncate(0.3), "trunc50": truncate(0.5), "trunc70": truncate(0.7), "trunc90": truncate(0.9),
    "every3": every(3), "chunk10": chunk_means(10),
    "offset": loss_map(lambda v, df: v + 2.0 * _train_range(df)),
    "scale100": loss_map(lambda v, df: v * 100.0), "scale001": loss_map(lambda v, df: v * 0.01),
    "val_every2": every(2, ("val", "test")),
    "resume": resume(),
    "running_mean": running_mean(),
}


def transformed(ls: LogSet, fn: Callable[[pl.DataFrame], pl.DataFrame]) -> LogSet:
    out = []
    for src in ls.sources:
        blocks = []
        for run in src.runs:
            df = pl.concat([wide_columns(b) for b in src.run_blocks(run)], how="vertical")
            if df.height:
                blocks.append(fn(df))
        out.append(Source(src.path, src.format, notes=list(src.notes), meta=dict(src.meta),
                          blocks=blocks or [src.blocks[0].clear()]))
    return LogSet(out)


def warnings_of(ls: LogSet) -> list[tuple[str, str]]:
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config

    runs, _ = run_checks(ls, Config(), summaries=False)
    return [(f.rule, f"{f.split}/{f.metric}: {f.message[:150]}") for r in runs for f in r.findings
            if f.severity >= Severity.WARNING]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", help=f"transformations to run ({', '.join(TRANSFORMS)})")
    ap.add_argument("--corpus", action="append", help="realruns, public-dev, shared, sample_logs")
    ap.add_argument("--worst", type=int, default=6, help="examples to print per rule")
    ap.add_argument("--json", help="write every warning here")
    args = ap.parse_args(argv)
    from lossdoc.ingest import read

    names = args.only or ["none", *TRANSFORMS]
    items = [i for i in healthy_items() if not args.corpus or i.corpus in args.corpus]
    t0 = time.perf_counter()
    # (transform, corpus:name) -> [(rule, message)]
    rows: dict[tuple[str, str], list[tuple[str, str]]] = {}
    done: Counter[str] = Counter()
    for it in items:
        key = f"{it.corpus}:{it.name}"
        try:
            ls = read(str(it.path))
        except Exception as exc:  # noqa: BLE001 - a log we cannot read is listed, not scored
            print(f"unreadable {key}: {exc}", file=sys.stderr)
            continue
        for t in names:
            try:
                x = ls if t == "none" else transformed(ls, TRANSFORMS[t])
                rows[(t, key)] = warnings_of(x)
            except Exception as exc:  # noqa: BLE001 - a transform that breaks the checks is a finding
                rows[(t, key)] = [("CRASH", f"{type(exc).__name__}: {exc}")]
            done[t] += 1
    secs = time.perf_counter() - t0

    by_rule: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    msgs: dict[tuple[str, str, str], str] = {}
    for (t, key), ws in rows.items():
        for rule, msg in ws:
            by_rule[rule][t].add(key)
            msgs.setdefault((rule, key, t), msg)
    print(f"## Healthy-log stress test: {len(items)} healthy logs x {len(names)} versions, {secs:.0f} s\n")
    per_corpus = Counter(i.corpus for i in items)
    print("healthy logs: " + ", ".join(f"{c} {n}" for c, n in sorted(per_corpus.items())) + "\n")
    print("| version | runs | warned | share |")
    print("|---|---:|---:|---:|")
    total_w = total_n = 0
    for t in names:
        keys = [k for (tt, k) in rows if tt == t]
        w = sum(1 for k in keys if rows[(t, k)])
        if t != "none":
            total_w, total_n = total_w + w, total_n + len(keys)
        print(f"| {t} | {len(keys)} | {w} | {100 * w / max(1, len(keys)):.1f}% |")
    print(f"| all transformed | {total_n} | {total_w} | {100 * total_w / max(1, total_n):.1f}% |\n")
    print("| rule | untransformed | transformed runs warned | by version |")
    print("|---|---:|---:|---|")
    order = sorted(by_rule, key=lambda r: -sum(len(v) for t, v in by_rule[r].items() if t != "none"))
    for rule in order:
        v = by_rule[rule]
        tr = sum(len(s) for t, s in v.items() if t != "none")
        per = ", ".join(f"{t} {len(v[t])}" for t in names if t != "none" and v.get(t))
        print(f"| {rule} | {len(v.get('none', ()))} | {tr} | {per} |")
    print()
    for rule in order:
        cnt: Counter[str] = Counter()
        for t, s in by_rule[rule].items():
            for k in s:
                cnt[k] += 1
        print(f"### {rule}")
        for k, n in cnt.most_common(args.worst):
            ts = [t for t in names if k in by_rule[rule].get(t, ())]
            print(f"  - {k} ({n}: {' '.join(ts)})\n      {msgs[(rule, k, ts[0])]}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"seconds": secs, "versions": names, "rows": [{"version": t, "log": k, "warnings": ws}
                                                          for (t, k), ws in rows.items()]}, indent=1),
            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
