"""One run is one run: files that log the same training run are merged into one source.

Trainers write the same run to several places: Hugging Face's ``trainer_state.json`` beside the
console output (and TensorBoard events) of the same ``Trainer``; a Keras ``CSVLogger`` file beside
the progress-bar stdout of ``fit``; a Lightning ``CSVLogger`` beside its ``TensorBoardLogger``.
Read as separate runs, every finding is reported twice and the charts draw one curve on another.

Two single-run sources are candidates when they sit in the same run directory (their paths' parent
without the directories trainers add, ``output/``, ``lightning_logs/version_0/``...) and start
alike; they are the same run when they log a common loss series (``train/loss`` or
``val/loss``) whose values agree at the steps both log (or entry by entry, when one file numbers
its entries where the other logs steps and both hold as many): at least :data:`MIN_SHARED` of them,
and :data:`AGREE` of those equal up to the rounding a text log applies (relative 1e-3, or 5e-5
absolute: the 4 decimals of an HF console line). Two seeds of one recipe, or one recipe at two
learning rates, part within a few steps and stay separate runs.

The merged source keeps the most precise file's series (:data:`PRECEDENCE`: the structured file
before the console text) and adds the series only the other file logs; no series is taken twice.
The merged files are listed in ``meta["merged_sources"]`` and in a ``merged_sources`` note.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import polars as pl

from lossdoc.model import IngestNote, Source

#: Formats in order of precedence when two files hold the same series (full-precision files first).
PRECEDENCE = ("hf-trainer", "lightning-csv", "keras-csv", "tensorboard", "mlflow", "wandb-run", "wandb-csv",
              "jsonl", "generic-csv", "hf-console", "keras-progbar")
#: Shared steps a common loss series needs before two files count as one run ...
MIN_SHARED = 3
#: ... and the share of them whose values must agree.
AGREE = 0.9
#: Sources of one run directory compared pair by pair; bigger folders only where the first values match.
SMALL_GROUP = 8
#: Candidate pairs verified at most (a folder of thousands of similar logs stays fast).
MAX_PAIRS = 2_000
#: Directory names trainers create inside a run's directory (left out of a source's run directory).
_GENERIC = frozenset({"output", "outputs", "out", "results", "logs", "log", "lightning_logs", "tb_logs", "tensorboard",
                      "tb", "runs", "train_logs", "training_logs", "metrics", "csv_logs", "checkpoints"})
#: Loss series compared, in this order.
_KEYS = (("train", "loss"), ("val", "loss"))


def _home(src: Source) -> str:
    """The run directory a source sits in: its parent without trailing trainer-made directories."""
    parts = src.path.replace("\\", "/").rstrip("/").split("/")[:-1]
    while parts and (parts[-1].lower() in _GENERIC or parts[-1].startswith("version_")):
        parts.pop()
    return "/".join(parts)


def _rank(fmt: str) -> int:
    return PRECEDENCE.index(fmt) if fmt in PRECEDENCE else len(PRECEDENCE)


def _loss_arrays(src: Source) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    keys = pl.DataFrame({"split": [k[0] for k in _KEYS], "metric": [k[1] for k in _KEYS]})
    for b in src.blocks:
        sub = b.lazy().join(keys.lazy(), on=["split", "metric"], how="semi").select("split", "metric", "step",
                                                                                   "value").collect()
        for (split, metric), g in sub.group_by(["split", "metric"], maintain_order=True):
            st = g.get_column("step").to_numpy().astype(np.int64)
            v = g.get_column("value").to_numpy().astype(float)
            if (split, metric) in out:
                st = np.concatenate([out[(split, metric)][0], st])
                v = np.concatenate([out[(split, metric)][1], v])
            out[(str(split), str(metric))] = (st, v)
    return out


def _close(x: np.ndarray, y: np.ndarray) -> bool:
    both = np.isfinite(x) & np.isfinite(y)
    same_nonfinite = ~np.isfinite(x) & ~np.isfinite(y)
    with np.errstate(invalid="ignore", over="ignore"):
        close = both & (np.abs(x - y) <= np.maximum(1e-3 * np.maximum(np.abs(x), np.abs(y)), 5e-5))
    return bool((close | same_nonfinite).mean() >= AGREE)


def _agree(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool | None:
    """True/False when the two series hold enough common entries to tell, None when they do not."""
    sa, va = a
    sb, vb = b
    ua, ia = np.unique(sa, return_index=True)
    ub, ib = np.unique(sb, return_index=True)
    shared, ja, jb = np.intersect1d(ua, ub, return_indices=True)
    verdict = None
    if shared.size >= MIN_SHARED:
        verdict = _close(va[ia][ja], vb[ib][jb])
    if not verdict and min(sa.size, sb.size) >= MIN_SHARED and abs(sa.size - sb.size) <= 1:
        # one file counts log entries where the other logs optimizer steps (an HF console without
        # trainer_state.json numbers entries 1, 2, 3...): the same entries in the same order
        n = min(sa.size, sb.size)
        verdict = _close(va[np.argsort(sa, kind="stable")][:n], vb[np.argsort(sb, kind="stable")][:n])
    return verdict


def same_run(a: Source, b: Source, cache: dict[int, Any] | None = None) -> bool:
    """True when ``a`` and ``b`` (one run each) log the same run (module docstring)."""
    cache = {} if cache is None else cache
    for s in (a, b):
        if id(s) not in cache:
            cache[id(s)] = _loss_arrays(s)
    la, lb = cache[id(a)], cache[id(b)]
    verdicts = [_agree(la[k], lb[k]) for k in _KEYS if k in la and k in lb]
    verdicts = [v for v in verdicts if v is not None]
    return bool(verdicts) and all(verdicts)


def _fingerprint(arrays: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> set[tuple[Any, ...]]:
    """Cheap keys for candidate pairs: the first finite values of each loss series at 2 significant
    digits (a console's 4 decimals and the file's full floats round alike)."""
    keys = set()
    for k, (st, v) in arrays.items():
        order = np.argsort(st, kind="stable")
        fin = v[order][np.isfinite(v[order])][:MIN_SHARED]
        if fin.size == MIN_SHARED:
            keys.add((k[0], k[1], tuple(float(f"{x:.2g}") for x in fin)))
    return keys


def merge_same_runs(sources: list[Source]) -> list[Source]:
    """``sources`` with the files of one run merged into one source (module docstring)."""
    single = [i for i, s in enumerate(sources) if len(s.runs) == 1]
    if len(single) < 2:
        return sources
    cache: dict[int, Any] = {}
    by_key: dict[Any, list[int]] = {}
    homes: dict[str, list[int]] = {}
    for i in single:
        homes.setdefault(_home(sources[i]), []).append(i)
    for home, members in homes.items():
        if len(members) < 2:
            continue
        if len(members) <= SMALL_GROUP:  # a run's own directory: every pair is checked
            by_key[(home, "all")] = members
            continue
        for i in members:
            cache[id(sources[i])] = _loss_arrays(sources[i])
            for k in _fingerprint(cache[id(sources[i])]):
                by_key.setdefault((_home(sources[i]), k), []).append(i)
    parent = {i: i for i in single}

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    checked: set[tuple[int, int]] = set()
    for i in single:
        if id(sources[i]) not in cache and any(i in g for g in by_key.values()):
            cache[id(sources[i])] = _loss_arrays(sources[i])
    for group in by_key.values():
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                i, j = group[x], group[y]
                if (i, j) in checked or find(i) == find(j) or len(checked) >= MAX_PAIRS:
                    continue
                checked.add((i, j))
                if same_run(sources[i], sources[j], cache):
                    parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in single:
        groups.setdefault(find(i), []).append(i)
    merged: dict[int, Source] = {}
    drop: set[int] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (_rank(sources[i].format), i))
        merged[members[0]] = _merge([sources[i] for i in members])
        drop.update(members[1:])
    return [merged.get(i, s) for i, s in enumerate(sources) if i not in drop]


def _merge(parts: list[Source]) -> Source:
    """The first (most precise) source with the series only the others log added, renamed to its run."""
    main = parts[0]
    run = main.runs[0]
    have = {(str(a), str(b)) for blk in main.blocks
            for a, b in blk.select("split", "metric").unique().iter_rows()}
    blocks = list(main.blocks)
    notes = list(main.notes)
    others = []
    for other in parts[1:]:
        old = other.runs[0]
        for blk in other.blocks:
            keep = blk.filter(~pl.struct("split", "metric").is_in(
                [{"split": a, "metric": b} for a, b in sorted(have)])) if have else blk
            if keep.height:
                keep = keep.with_columns(pl.lit(run).alias("run"))
                blocks.append(keep)
                have |= {(str(a), str(b)) for a, b in keep.select("split", "metric").unique().iter_rows()}
        notes.extend(dataclasses.replace(n, run=run) if n.run == old else n for n in other.notes)
        others.append({"path": other.path, "format": other.format})
    listed = ", ".join(f"{o['path']} ({o['format']})" for o in others)
    notes.append(IngestNote("merged_sources", f"the same run is also logged in {listed}: read as one run "
                            f"from {main.path} ({main.format}), series only those files log added", run=run))
    meta = dict(main.meta)
    meta["merged_sources"] = [{"path": main.path, "format": main.format}] + others
    return Source(path=main.path, format=main.format, blocks=blocks, notes=notes, meta=meta)


__all__ = ["AGREE", "MAX_PAIRS", "MIN_SHARED", "PRECEDENCE", "merge_same_runs", "same_run"]
