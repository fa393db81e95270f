#!/usr/bin/env python
"""Regenerate ``sample_logs/runs/``: real training runs with known, deliberate pathologies.

Every log under ``sample_logs/runs/`` is produced by actually running the trainer named in
``sample_logs/MANIFEST.tsv`` (Hugging Face Trainer, PyTorch Lightning, Keras 3, a nanoGPT
style loop, XGBoost) on tiny models and seeded synthetic data, on CPU, with no downloads.
Run it in the trainer venv, never in lossdoc's own environment and never in CI::

    python -m venv /work/venv-train
    /work/venv-train/bin/pip install torch==2.13.0          # CPU build first
    /work/venv-train/bin/pip install -r scripts/requirements-samples.txt
    /work/venv-train/bin/python scripts/make_sample_logs.py [--only nanogpt/healthy,...] [--jobs 2]

Each run is its own process (``python -m sample_runs.<module> <run> <dir>``) with fixed
seeds, so losses are reproducible on the same package versions; timings, dates and
TensorBoard file names (which embed time, host and pid) are not. The curated labels in
:data:`RUNS` were set by reading the resulting curves; re-check them after a version bump.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"  # --out replaces it (e.g. to check reproducibility elsewhere)
HERE = Path(__file__).resolve().parent

TRAINERS = {
    "hf": ("Hugging Face transformers Trainer", ("transformers", "torch")),
    "lightning": ("PyTorch Lightning", ("lightning", "torch")),
    "keras": ("Keras 3 (torch backend)", ("keras", "torch")),
    "nanogpt": ("nanoGPT-style train.py loop", ("torch",)),
    "xgboost": ("XGBoost xgb.train", ("xgboost",)),
}
MODULES = {"hf": "hf_runs", "lightning": "lightning_runs", "keras": "keras_runs", "nanogpt": "nanogpt_runs",
           "xgboost": "xgb_runs"}


@dataclass(frozen=True)
class Log:
    """One file of a run as listed in the manifest (``path`` relative to the run dir; may be a glob)."""

    path: str
    format: str
    label: str
    note: str = ""  # what this file holds, if not the whole run


@dataclass(frozen=True)
class Run:
    trainer: str  # key of TRAINERS
    name: str  # key of the module's RUNS
    how: str  # model, data, hyperparameters, and what was done to cause the pathology
    logs: tuple[Log, ...]
    capture: str | None = None  # file name for the process output, or None
    stderr_too: bool = False  # capture stderr into the same file (``> log 2>&1``)
    drop: tuple[str, ...] = field(default=())  # files to delete after the run (duplicates)

    @property
    def dir(self) -> str:
        return f"runs/{self.trainer}/{self.name}"


GPT_TINY = "tiny GPT-2 (2 layers, 64 wide, 4 heads, random init) on a generated 3,000-sentence char-level corpus"
NANO = "nanoGPT-style GPT (2 layers, 64 wide, 4 heads) on the generated char-level corpus, batch 16 x 64"
MLP = "MLP 10-64-64-3 on a seeded nonlinear 3-class problem (2,000 train / 600 val, 5% flipped labels), batch 32"
KMLP = "Dense 2x64 ReLU on a seeded nonlinear 3-class problem (3,000 train / 1,000 val, 5% flipped labels), batch 32"

RUNS: tuple[Run, ...] = (
    # ---- Hugging Face Trainer -------------------------------------------------------------
    Run("hf", "healthy",
        f"{GPT_TINY}; AdamW lr 1e-3, 10 warmup steps, linear decay, 300 steps, log every 5, eval every 25; "
        "checkpoint every 100; report_to tensorboard; stdout+stderr captured (tqdm bars included)",
        (Log("output/trainer_state.json", "hf-trainer", "healthy"),
         Log("output/checkpoint-100/trainer_state.json", "hf-trainer", "healthy,still_improving",
             "state saved at the step-100 checkpoint: the first third of the same run"),
         Log("console.log", "hf-console", "healthy"),
         Log("output/runs/tb/events.out.tfevents.*", "tensorboard", "healthy",
             "HF TensorBoardCallback: train/loss, eval/loss, train/learning_rate, train/grad_norm")),
        capture="console.log", stderr_too=True),
    Run("hf", "divergence",
        f"{GPT_TINY}; AdamW lr 0.5 (500x healthy), constant after 60 warmup steps, gradient clipping off "
        "(max_grad_norm 0), 200 steps; stdout only",
        (Log("output/trainer_state.json", "hf-trainer", "divergence,lr_too_high"),
         Log("stdout.log", "hf-console", "divergence,lr_too_high")),
        capture="stdout.log"),
    Run("hf", "overfitting",
        "tiny GPT-2 (3 layers, 128 wide) on only 16 blocks of 64 chars (1,024 chars) of the generated corpus; "
        "AdamW lr 3e-3 constant, 40 epochs (80 steps), log every 2 steps, eval every epoch, checkpoint every 40 "
        "steps; stdout+stderr captured",
        (Log("output/trainer_state.json", "hf-trainer", "overfitting,train_val_gap"),
         Log("console.log", "hf-console", "overfitting,train_val_gap")),
        capture="console.log", stderr_too=True),
    Run("hf", "nan",
        f"{GPT_TINY}; the healthy recipe for 200 steps (eval every 20), but the lr schedule multiplies the lr "
        "by 1e30 at step 120 (a scheduler bug): the weights overflow and every later loss is NaN. The Trainer's "
        "default logging_nan_inf_filter=True hides it in the logged train loss (one finite average, then 0.0); "
        "grad_norm and eval_loss are NaN; stdout+stderr captured",
        (Log("output/trainer_state.json", "hf-trainer", "nan_or_inf"),
         Log("console.log", "hf-console", "nan_or_inf")),
        capture="console.log", stderr_too=True),
    # ---- Lightning ----------------------------------------------------------------------
    Run("lightning", "healthy",
        f"{MLP}; Adam lr 1e-3, 15 epochs, log_every_n_steps 5, LearningRateMonitor; "
        "CSVLogger and TensorBoardLogger side by side",
        (Log("lightning_logs/version_0/metrics.csv", "lightning-csv", "healthy,still_improving"),
         Log("tb_logs/version_0/events.out.tfevents.*", "tensorboard", "healthy,still_improving",
             "TensorBoardLogger of the same run")),
        drop=()),
    Run("lightning", "lr_too_low",
        f"{MLP}; plain SGD lr 1e-4 (no momentum), 15 epochs: loss stays at chance level (ln 3); "
        "train_loss logged on_step and on_epoch "
        "(train_loss_step / train_loss_epoch columns)",
        (Log("lightning_logs/version_0/metrics.csv", "lightning-csv", "lr_too_low,plateau,underfitting"),)),
    Run("lightning", "nan",
        f"{MLP}; healthy recipe (Adam lr 1e-3), 10 epochs; at global step 300 one input feature of the batch "
        "is set to NaN (an un-imputed missing value): NaN gradients, NaN weights, every later loss NaN",
        (Log("lightning_logs/version_0/metrics.csv", "lightning-csv", "nan_or_inf"),)),
    # ---- Keras ----------------------------------------------------------------------------
    Run("keras", "healthy",
        f"{KMLP}; Adam lr 1e-3, 20 epochs; CSVLogger + fit(verbose=1) progress bar captured from stdout",
        (Log("training.log", "keras-csv", "healthy"),
         Log("progbar.log", "keras-progbar", "healthy")),
        capture="progbar.log"),
    Run("keras", "healthy_verbose2",
        f"{KMLP}; the healthy run again (same seed) with fit(verbose=2), stdout captured",
        (Log("progbar.log", "keras-progbar", "healthy"),),
        capture="progbar.log", drop=("training.log",)),
    Run("keras", "overfitting",
        "Dense 3x256 ReLU on only 150 samples of the nonlinear 3-class problem (1,000 val), Adam lr 3e-3, "
        "batch 16, 80 epochs; CSVLogger + fit(verbose=2)",
        (Log("training.log", "keras-csv", "overfitting,train_val_gap"),
         Log("progbar.log", "keras-progbar", "overfitting,train_val_gap")),
        capture="progbar.log"),
    Run("keras", "lr_too_low",
        f"{KMLP}; plain SGD lr 1e-4, 20 epochs; CSVLogger + fit(verbose=1)",
        (Log("training.log", "keras-csv", "lr_too_low,underfitting,still_improving"),
         Log("progbar.log", "keras-progbar", "lr_too_low,underfitting,still_improving")),
        capture="progbar.log"),
    # ---- nanoGPT ----------------------------------------------------------------------------
    Run("nanogpt", "healthy",
        f"{NANO}; AdamW lr 1e-3, warmup 50, cosine to 1e-4, grad clip 1.0, 1,000 iters, eval every 100 "
        "(20 batches), log every 10",
        (Log("train.log", "nanogpt", "healthy"),), capture="train.log"),
    Run("nanogpt", "healthy_seed2",
        f"{NANO}; the healthy recipe with seed 2024 instead of 1337 (other init and batch order): "
        "a second healthy run for seed-to-seed baselines",
        (Log("train.log", "nanogpt", "healthy"),), capture="train.log"),
    Run("nanogpt", "plateau",
        f"{NANO}; the healthy recipe at lr 1e-5 (100x too low; warmup 50, cosine to 1e-6), 1,000 iters: "
        "loss flattens near 2.85 where the healthy run reaches 0.65",
        (Log("train.log", "nanogpt", "lr_too_low,plateau,underfitting"),), capture="train.log"),
    Run("nanogpt", "divergence",
        f"{NANO}; lr warmed up over 200 iters to 0.3 (300x healthy) and held, gradient clipping off, "
        "500 iters, eval every 25",
        (Log("train.log", "nanogpt", "divergence,lr_too_high"),), capture="train.log"),
    Run("nanogpt", "loss_spikes",
        f"{NANO}; healthy recipe, log every 5; at iters 150, 250, 400, 405, 550, 700, 850, 900 the batch is "
        "replaced by uniformly random tokens (corrupt data)",
        (Log("train.log", "nanogpt", "loss_spikes"),), capture="train.log"),
    Run("nanogpt", "nan",
        f"{NANO}; healthy recipe, 600 iters; at iter 400 the lr is multiplied by 1e30 for one step: "
        "the weights overflow and every later loss is NaN",
        (Log("train.log", "nanogpt", "nan_or_inf"),), capture="train.log"),
    # ---- XGBoost ------------------------------------------------------------------------------
    Run("xgboost", "healthy",
        "multi:softprob on the nonlinear 3-class problem (3,000 train / 1,000 eval), eta 0.1, max_depth 4, "
        "120 rounds, eval_metric [mlogloss, merror], verbose_eval=True; eval still improving at the end, "
        "train falling faster (mlogloss 0.44 vs 0.63)",
        (Log("train.log", "xgboost", "healthy,still_improving,train_val_gap"),), capture="train.log"),
    Run("xgboost", "overfitting",
        "binary:logistic on only 200 rows with 30% flipped labels (1,000 eval), max_depth 10, eta 0.3, "
        "300 rounds, eval_metric logloss, verbose_eval=5",
        (Log("train.log", "xgboost", "overfitting,train_val_gap"),), capture="train.log"),
    Run("xgboost", "lr_too_low",
        "reg:squarederror on the nonlinear score (3,000 / 1,000 rows), eta 0.002, max_depth 4, 150 rounds, "
        "eval_metric rmse: rmse falls in a straight line and far from converged",
        (Log("train.log", "xgboost", "lr_too_low,underfitting,still_improving"),), capture="train.log"),
)


def run_one(run: Run) -> str:
    """Run ``run`` in a fresh process and place its files under ``sample_logs/<run.dir>``."""
    dest = SAMPLES / run.dir
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=str(HERE), PYTHONHASHSEED="0", KERAS_BACKEND="torch",
               CUBLAS_WORKSPACE_CONFIG=":4096:8", OMP_NUM_THREADS="1")
    env.pop("TENSORBOARD_LOGGING_DIR", None)
    cmd = [sys.executable, "-m", f"sample_runs.{MODULES[run.trainer]}", run.name, str(dest)]
    with tempfile.TemporaryFile() as err, contextlib.ExitStack() as stack:
        out = stack.enter_context(open(dest / run.capture, "wb")) if run.capture else subprocess.DEVNULL
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT if run.stderr_too else err,
                              cwd=HERE, env=env, check=False)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{run.dir} failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
    for name in run.drop:
        (dest / name).unlink(missing_ok=True)
    return run.dir


def resolve(run: Run, log: Log) -> str:
    """The manifest path of ``log`` (globs resolved to the one file the run wrote)."""
    hits = sorted((SAMPLES / run.dir).glob(log.path))
    if len(hits) != 1:
        raise RuntimeError(f"{run.dir}/{log.path}: expected one file, found {len(hits)}")
    return hits[0].relative_to(SAMPLES).as_posix()


def versions(trainer: str) -> str:
    return "; ".join(f"{p}=={version(p)}" for p in TRAINERS[trainer][1])


def write_manifest() -> list[dict[str, str]]:
    rows = []
    for run in RUNS:
        for log in run.logs:
            how = run.how + (f" [this file: {log.note}]" if log.note else "")
            rows.append({"path": resolve(run, log), "format": log.format, "trainer": TRAINERS[run.trainer][0],
                         "version": versions(run.trainer), "how": how, "label": log.label})
    cols = ["path", "format", "trainer", "version", "how", "label"]
    with open(SAMPLES / "MANIFEST.tsv", "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(cols) + "\n")
        for r in rows:
            assert not any("\t" in r[c] or "\n" in r[c] for c in cols), r
            fh.write("\t".join(r[c] for c in cols) + "\n")
    return rows


README_HEAD = """# sample_logs

Logs for lossdoc's tests, docs and demos. Two kinds live here:

* **`runs/`** — logs made by **actually running the real trainers** (Hugging Face `Trainer`,
  PyTorch Lightning, Keras 3, a nanoGPT-style loop, XGBoost) on tiny models and seeded synthetic
  data on CPU, each with a pathology caused on purpose and recorded below. They are listed in
  [`MANIFEST.tsv`](MANIFEST.tsv) (columns `path`, `format`, `trainer`, `version`, `how`, `label`)
  and checked by `tests/ingest/test_sample_logs.py` against golden tables.
* the other folders (`xgboost/`, `yolo/`, `fairseq/`, ...) — small hand-made format samples
  owned by the individual parsers' tests; they are not listed in the manifest.

Labels use the fixed vocabulary `healthy, still_improving, plateau, divergence, nan_or_inf,
loss_spikes, oscillation, overfitting, train_val_gap, underfitting, lr_too_high, lr_too_low,
too_short` and say what a careful ML engineer would say looking at the curves (they were set by
reading the curves the runs produced, not only from the intent).

## Files in `runs/`

| path | format | trainer | version | how it was made | label |
|---|---|---|---|---|---|
"""

README_TAIL = """
## Regenerating

```sh
python -m venv /work/venv-train
/work/venv-train/bin/pip install torch==2.13.0      # the CPU build, before anything else
/work/venv-train/bin/pip install -r scripts/requirements-samples.txt
/work/venv-train/bin/python scripts/make_sample_logs.py            # all 20 runs, ~10 min on 2 cores
/work/venv-train/bin/python scripts/make_sample_logs.py --only nanogpt/nan,keras/healthy
LOSSDOC_REGEN=1 /work/venv/bin/pytest -q tests/ingest/test_sample_logs.py   # then review the golden diff
```

The script is **not run by CI** and needs no network beyond PyPI for the install: models are
built from configs with random initialisation (no hub downloads, no tokenizer: a character
vocabulary), data are generated with fixed seeds (`scripts/sample_runs/common.py`). The
trainer code lives in `scripts/sample_runs/` (one module per trainer, one process per run).
Losses are reproducible for the same package versions (seeds everywhere, one thread,
deterministic algorithms; a full regeneration with `--out /tmp/x` gave identical values for
every non-timing series of all 30 files); wall-clock figures (`time ...ms`, `train_runtime`, `ms/step`,
TensorBoard `wall_time`) and TensorBoard file names (time, host, pid) change on every run.
To keep the folder small, the Hugging Face checkpoints keep only `trainer_state.json`,
`config.json` and `generation_config.json` (weights and optimizer state deleted), and the
nanoGPT checkpoint file is deleted after the run.

## Licence

Everything in `runs/` was produced by this project's script from synthetic data made up by
the script itself (a tiny generated "English" grammar and seeded numpy draws), so the logs
are the project's own and fall under its MIT licence. The nanoGPT-style loop
(`scripts/sample_runs/nanogpt_runs.py`) is an independent minimal re-implementation that
reproduces the print format strings of `karpathy/nanoGPT` `train.py` (MIT licence,
Copyright (c) 2022 Andrej Karpathy); no nanoGPT code or data is copied. The trainers' own
output (Hugging Face, Lightning, Keras, XGBoost, all Apache-2.0) is printed by those packages
at run time.
"""


def write_readme(rows: list[dict[str, str]]) -> None:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = [README_HEAD]
    for r in rows:
        lines.append(f"| `{r['path']}` | `{r['format']}` | {cell(r['trainer'])} | {cell(r['version'])} | "
                     f"{cell(r['how'])} | {r['label']} |\n")
    lines.append("\n## Coverage: pathology x trainer (runs)\n\n")
    names = [TRAINERS[t][0] for t in TRAINERS]
    lines.append("| label | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n")
    for label in ("healthy", "divergence", "loss_spikes", "overfitting", "nan_or_inf", "lr_too_low", "plateau"):
        cells = []
        for t in TRAINERS:
            hits = sorted({run.name for run in RUNS if run.trainer == t
                           for log in run.logs if label in log.label.split(",")})
            cells.append(", ".join(f"`{h}`" for h in hits))
        lines.append(f"| {label} | " + " | ".join(cells) + " |\n")
    lines.append(README_TAIL)
    (SAMPLES / "README.md").write_text("".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated run dirs below runs/, e.g. nanogpt/healthy,hf/divergence")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    ap.add_argument("--manifest-only", action="store_true", help="rewrite MANIFEST.tsv and README.md only")
    ap.add_argument("--out", type=Path, help="write runs, MANIFEST.tsv and README.md under this folder instead")
    args = ap.parse_args()
    if args.out:
        global SAMPLES
        SAMPLES = args.out.resolve()
    todo = list(RUNS)
    if args.only:
        want = {w.strip().strip("/") for w in args.only.split(",")}
        todo = [r for r in RUNS if f"{r.trainer}/{r.name}" in want]
        missing = want - {f"{r.trainer}/{r.name}" for r in todo}
        if missing:
            sys.exit(f"unknown runs: {sorted(missing)}")
    if not args.manifest_only:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for done in pool.map(run_one, todo):
                print(f"done {done}", flush=True)
    rows = write_manifest()
    write_readme(rows)
    print(f"wrote {len(rows)} manifest rows to {SAMPLES / 'MANIFEST.tsv'}")


if __name__ == "__main__":
    main()
