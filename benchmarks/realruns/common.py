"""Shared helpers for the real-run training scripts (run with the training venv, not lossdoc's).

Every script defines a plan (a list of run dicts), writes it to design/<trainer>.jsonl, and trains the
runs whose gzip log is missing. A run dict holds:
  trainer, sweep, run_id, file (native file name), factors (dict), and design keys used by label.py:
  lr_group  -- runs sharing it differ only in lr (and seed); the sweep's best LR is found inside it
  ref_long  -- run_id (same trainer/sweep) of the 4x-longer reference run of the same config, or None
  size_group -- runs sharing it differ only in a capacity factor (width/depth/rounds); reference for underfitting
  n_classes -- number of classes for a classifier (trivial loss ln C), or None
  trivial   -- the trivial loss level (ln C, or the unigram entropy for a char LM), or None
"""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGS = HERE / "logs"
DESIGN = HERE / "design"


def run_dir(run: dict) -> Path:
    return LOGS / run["trainer"] / run["sweep"] / run["run_id"]


def run_path(run: dict) -> Path:
    return run_dir(run) / (run["file"] + ".gz")


def find_log(run: dict) -> Path | None:
    """The run's gzip log; a TensorBoard run's file name is only known after the run (a prefix is planned)."""
    hits = sorted(run_dir(run).glob(run["file"] + "*.gz")) if run_dir(run).is_dir() else []
    return hits[0] if hits else None


def write_design(trainer: str, plan: list[dict]) -> None:
    DESIGN.mkdir(parents=True, exist_ok=True)
    ids = set()
    with open(DESIGN / f"{trainer}.jsonl", "w") as fh:
        for r in plan:
            key = (r["sweep"], r["run_id"])
            assert key not in ids, key
            ids.add(key)
            fh.write(json.dumps(r, sort_keys=True) + "\n")


def gzip_into_place(src: Path, run: dict, name: str | None = None) -> None:
    dst = run_dir(run) / ((name or run["file"]) + ".gz")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".gz.tmp")
    with open(src, "rb") as fi, gzip.GzipFile(tmp, "wb", mtime=0) as fo:
        shutil.copyfileobj(fi, fo)
    os.replace(tmp, dst)


def gzip_text_into_place(text: str, run: dict) -> None:
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / run["file"]
        p.write_text(text)
        gzip_into_place(p, run)


def main_loop(trainer: str, plan: list[dict], train_one, only: str | None = None) -> None:
    """Write the design table, then train every planned run whose log is missing."""
    write_design(trainer, plan)
    todo = [r for r in plan if find_log(r) is None and (only is None or only in r["sweep"])]
    print(f"[{trainer}] {len(plan)} planned, {len(todo)} to train", flush=True)
    for i, r in enumerate(todo):
        t0 = time.time()
        train_one(r)
        print(f"[{trainer}] {i + 1}/{len(todo)} {r['sweep']}/{r['run_id']} {time.time() - t0:.1f}s", flush=True)


@contextlib.contextmanager
def capture_stdout():
    """Capture sys.stdout (Python-level prints) into a StringIO."""
    buf = io.StringIO()
    old = sys.stdout
    sys.stdout = buf
    try:
        yield buf
    finally:
        sys.stdout = old


def fmt(v) -> str:
    """Short factor value for run ids: 0.001 -> 1e-03."""
    if isinstance(v, float):
        return f"{v:.0e}" if (v != 0 and (abs(v) < 0.01 or abs(v) >= 1000)) else f"{v:g}"
    return str(v)


def make_run(trainer, sweep, file, factors, *, lr_group=None, ref_long=None, size_group=None,
             n_classes=None, trivial=None, run_id=None, extra=None) -> dict:
    rid = run_id or "_".join(f"{k}{fmt(v)}" for k, v in factors.items())
    if trivial is None and n_classes:
        trivial = math.log(n_classes)
    r = dict(trainer=trainer, sweep=sweep, run_id=rid, file=file, factors=factors, lr_group=lr_group,
             ref_long=ref_long, size_group=size_group, n_classes=n_classes, trivial=trivial)
    if extra:
        r.update(extra)
    return r


# ---------------------------------------------------------------- data (all ships with packages / on disk)

def classification_data(name: str, n_train: int | None = None, seed: int = 0, n_val: int | None = None):
    """Standardised float32 arrays (Xtr, ytr, Xva, yva, n_classes) from a sklearn dataset or generator."""
    import numpy as np
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
    elif name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    elif name == "wine":
        X, y = datasets.load_wine(return_X_y=True)
    elif name == "moons":
        X, y = datasets.make_moons(n_samples=3000, noise=0.3, random_state=0)
    elif name == "synth":
        X, y = datasets.make_classification(n_samples=6000, n_features=40, n_informative=12, n_redundant=8,
                                            n_classes=5, n_clusters_per_class=2, flip_y=0.05, class_sep=1.0,
                                            random_state=0)
    else:
        raise ValueError(name)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    if n_val is not None:
        Xva, yva = Xva[:n_val], yva[:n_val]
    if n_train is not None and n_train < len(Xtr):
        rng = np.random.RandomState(seed)
        idx = rng.permutation(len(Xtr))[:n_train]
        Xtr, ytr = Xtr[idx], ytr[idx]
    sc = StandardScaler().fit(Xtr)
    return (sc.transform(Xtr).astype("float32"), ytr.astype("int64"), sc.transform(Xva).astype("float32"),
            yva.astype("int64"), int(len(set(y.tolist()))))


def regression_data(name: str, n_train: int | None = None, seed: int = 0):
    import numpy as np
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
    elif name == "synth_reg":
        X, y = datasets.make_regression(n_samples=4000, n_features=30, n_informative=15, noise=20.0,
                                        random_state=0)
        y = y + 0.02 * (X[:, 0] * X[:, 1]) * 100
    else:
        raise ValueError(name)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0)
    if n_train is not None and n_train < len(Xtr):
        rng = np.random.RandomState(seed)
        idx = rng.permutation(len(Xtr))[:n_train]
        Xtr, ytr = Xtr[idx], ytr[idx]
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), ytr, sc.transform(Xva), yva


CHAR_FILES = ["argparse.py", "textwrap.py", "difflib.py", "inspect.py", "typing.py", "dataclasses.py",
              "pathlib.py", "subprocess.py", "tarfile.py", "zipfile.py", "logging/__init__.py", "ast.py",
              "enum.py", "functools.py", "collections/__init__.py", "configparser.py", "doctest.py",
              "pydoc.py", "threading.py", "shutil.py"]


def char_corpus(max_chars: int | None = None):
    """Character-level text from Python stdlib sources that are on disk: (ids uint8 array, vocab size).

    Characters outside printable ASCII map to '?'. The same files are read in the same order on every
    machine with CPython 3.11's stdlib.
    """
    import numpy as np
    libdir = Path(os.__file__).parent
    parts = []
    for f in CHAR_FILES:
        p = libdir / f
        if p.exists():
            parts.append(p.read_text(errors="replace"))
    text = "\n".join(parts)
    chars = [chr(c) for c in range(32, 127)] + ["\n"]
    table = {c: i for i, c in enumerate(chars)}
    q = table["?"]
    ids = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
    lut = np.full(256, q, dtype=np.uint8)
    for c, i in table.items():
        lut[ord(c)] = i
    ids = lut[ids]
    if max_chars:
        ids = ids[:max_chars]
    return ids, len(chars)


def unigram_entropy(ids, vocab: int) -> float:
    import numpy as np
    cnt = np.bincount(ids, minlength=vocab).astype(float)
    p = cnt[cnt > 0] / cnt.sum()
    return float(-(p * np.log(p)).sum())
