"""Reports built by hand for the renderer tests (the checks engine is tested elsewhere).

``real_nanogpt_report`` reads a real nanoGPT log (SOURCES.tsv: stuck near 3.3-3.5, then NaN from
iter 425) and attaches findings that describe it; ``synthetic_report`` builds a seeded run with
train/val loss, lr and grad norm, a spike and an optional fitted curve.
"""

from __future__ import annotations

import numpy as np
import polars as pl

import lossdoc
from lossdoc.checks.findings import Evidence, Finding, Severity
from lossdoc.model import IngestNote, make_frame, series_info
from lossdoc.report.model import Extrapolation, Report, RunReport, RunSummary
from tests.conftest import REAL_LOGS

NANOGPT_LOG = REAL_LOGS / "nanogpt" / "chenzihua-nanogpt-kirin.log"

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'


def finding(rule: str, name: str, category: str, severity: str, run: str, start: int | None, end: int | None,
            message: str, recommendation: str, *, method: str = "robust-zscore", statistic: float = 9.1,
            threshold: float = 6.0, pvalue: float | None = None, split: str | None = "train",
            metric: str | None = "loss", extra: dict | None = None) -> Finding:
    window = (start, end) if start is not None and end is not None else None
    return Finding(rule=rule, name=name, category=category, severity=Severity.parse(severity), run=run,
                   split=split, metric=metric, start_step=start, end_step=end, message=message,
                   recommendation=recommendation,
                   evidence=Evidence(method=method, statistic=statistic, threshold=threshold, pvalue=pvalue,
                                     window=window, extra=extra or {}))


def _summary(frame: pl.DataFrame) -> RunSummary:
    def ser(split: str) -> pl.DataFrame:
        return frame.filter((pl.col("split") == split) & (pl.col("metric") == "loss")).sort("step")

    tr, va = ser("train"), ser("val")
    s = RunSummary(first_step=int(frame["step"].min()), last_step=int(frame["step"].max()))
    if tr.height:
        s.final_train_loss = float(tr["value"][-1])
        fin = tr.filter(pl.col("value").is_finite())
        s.best_train_loss = float(fin["value"].min()) if fin.height else None
    if va.height:
        fin = va.filter(pl.col("value").is_finite())
        if fin.height:
            best = fin.sort("value").row(0, named=True)
            s.best_val_loss, s.best_val_step = float(best["value"]), int(best["step"])
        s.final_val_loss = float(va["value"][-1])
    return s


def run_from_frame(frame: pl.DataFrame, *, source: str, fmt: str, findings: list[Finding] | None = None,
                   notes: list[IngestNote] | None = None, curves: dict | None = None,
                   extrapolated: Extrapolation | None = None) -> RunReport:
    run = frame["run"][0]
    summary = _summary(frame)
    summary.extrapolated = extrapolated
    return RunReport(run=run, source=source, format=fmt, series=series_info(frame), summary=summary,
                     findings=list(findings or []), notes=list(notes or []), frame=frame,
                     curves=dict(curves or {}))


def real_nanogpt_report() -> Report:
    logs = lossdoc.read(str(NANOGPT_LOG))
    src = logs.sources[0]
    run = src.runs[0]
    findings = [
        finding("NF001", "non-finite-loss", "non_finite", "error", run, 425, 495,
                "Training loss is NaN from step 425 to the end of the log (15 values).",
                "Lower the learning rate or enable gradient clipping; check the loss scale under fp16.",
                method="count-nonfinite", statistic=15, threshold=0),
        finding("PL001", "loss-plateau", "plateau", "warning", run, 100, 400,
                "Validation loss improved by only 3.7% over steps 100–400.",
                "The model is stuck near 3.4: check the learning rate schedule and the data pipeline.",
                method="ols-hac-slope", statistic=-0.00026, threshold=-0.001, pvalue=0.0312,
                split="val", extra={"relative_change": -0.037}),
        finding("LG001", "log-gap", "log_integrity", "info", run, None, None,
                "The log has no evaluation after step 400.", "Nothing to do.", method="note",
                statistic=0, threshold=0, split=None, metric=None),
    ]
    fit_steps = np.linspace(0, 1000, 200)
    fit_loss = 3.2 + 1.05 * np.exp(-fit_steps / 60)
    width = 0.03 + 0.0002 * fit_steps
    curves = {"fit": {"split": "train", "metric": "loss", "model": "exponential", "step": fit_steps.tolist(),
                      "loss": fit_loss.tolist(), "low": (fit_loss - width).tolist(),
                      "high": (fit_loss + width).tolist()},
              "smoothing": {"method": "ema", "weight": 0.6}}
    ex = Extrapolation(step=1000, loss=float(fit_loss[-1]), low=float(fit_loss[-1] - width[-1]),
                       high=float(fit_loss[-1] + width[-1]), model="exponential", asymptote=3.2,
                       backtest_error=0.021)
    rr = run_from_frame(src.frame, source=src.path, fmt=src.format, findings=findings, notes=src.notes,
                        curves=curves, extrapolated=ex)
    return Report(runs=[rr], fail_on="error", version=lossdoc.__version__,
                  rules=[{"id": "NF001", "name": "non-finite-loss", "severity": "error", "category": "non_finite",
                          "params": {}},
                         {"id": "SP001", "name": "loss-spike", "severity": "warning", "category": "loss_spikes",
                          "params": {"window": 50, "zscore": 6.0}}])


def synthetic_frame(run: str, n_steps: int, *, seed: int, spike_at: int | None = None, every: int = 1,
                    val_every: int | None = None, lr: bool = True, grad_norm: bool = True,
                    floor: float = 1.5) -> pl.DataFrame:
    """A noisy power-law decay from 4.0 towards ``floor`` logged every ``every`` steps, with
    optional spike (x4), val loss, cosine lr and grad norm."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, n_steps, every, dtype=np.int64)
    loss = floor + (4.0 - floor) * (1 + steps / max(1, n_steps / 50)) ** -0.7
    loss = loss * (1 + 0.03 * rng.standard_normal(steps.size))
    gn = 1.0 + 0.2 * rng.standard_normal(steps.size) ** 2
    if spike_at is not None:
        i = int(np.searchsorted(steps, spike_at))
        loss[i] *= 4.0
        gn[i] *= 30
    parts = [make_frame({"run": run, "split": "train", "metric": "loss", "name": "loss", "step": steps,
                         "value": loss})]
    if lr:
        parts.append(make_frame({"run": run, "split": "train", "metric": "lr", "name": "learning_rate",
                                 "step": steps, "value": 3e-4 * 0.5 * (1 + np.cos(np.pi * steps / n_steps))}))
    if grad_norm:
        parts.append(make_frame({"run": run, "split": "train", "metric": "grad_norm", "name": "grad_norm",
                                 "step": steps, "value": gn}))
    if val_every:
        vs = np.arange(0, n_steps, val_every, dtype=np.int64)
        vl = floor + 0.05 + (4.0 - floor) * (1 + vs / max(1, n_steps / 50)) ** -0.7
        vl = vl + np.linspace(0, 0.1, vs.size) ** 2
        parts.append(make_frame({"run": run, "split": "val", "metric": "loss", "name": "eval_loss", "step": vs,
                                 "value": vl}))
    return pl.concat(parts)


def synthetic_report(n_steps: int = 5000, *, runs: tuple[str, ...] = ("run-a",), seed: int = 7, every: int = 1,
                     val_every: int | None = 250, spike_at: int | None = 2000) -> Report:
    out = []
    for k, name in enumerate(runs):
        frame = synthetic_frame(name, n_steps, seed=seed + k, spike_at=spike_at, every=every,
                                val_every=val_every, floor=1.5 + 0.1 * k)
        fs = []
        if spike_at is not None:
            fs.append(finding("SP001", "loss-spike", "loss_spikes", "warning", name, spike_at, spike_at,
                              f"Loss jumped to 4.0x its rolling median at step {spike_at:,} and recovered.",
                              "Inspect the batch at that step; enable gradient clipping."))
        out.append(run_from_frame(frame, source=f"{name}/trainer_state.json", fmt="hf-trainer", findings=fs))
    return Report(runs=out, fail_on="error", version=lossdoc.__version__)


def hostile_report() -> Report:
    """Every log-derived string carries markup, terminal escapes, Markdown and mathtext."""
    name = XSS_SCRIPT + XSS_IMG
    frame = synthetic_frame(name, 400, seed=11, spike_at=200, val_every=50)
    frame = frame.with_columns(pl.lit("\x1b[31m<b>loss|`x`</b>$\\alpha$").alias("name"))
    f = finding("SP001", "loss-spike", "loss_spikes", "error", name, 200, 200,
                f"Spike in {XSS_SCRIPT} at step 200 \x1b[2J| `code` *bold*",
                f"Check {XSS_IMG} and [link](javascript:alert(1)) @everyone",
                extra={"note": XSS_SCRIPT})
    notes = [IngestNote("skipped_lines", f"could not parse {XSS_IMG}\x1b]0;pwned\x07", line=3, run=name)]
    rr = run_from_frame(frame, source=f"/tmp/{XSS_SCRIPT}.log", fmt="hf-trainer", findings=[f], notes=notes)
    rr.meta = {"hparams": {"model": XSS_SCRIPT}}
    return Report(runs=[rr], fail_on="error", version=lossdoc.__version__,
                  rules=[{"id": "SP001", "name": XSS_IMG, "severity": "error", "params": {"x": XSS_SCRIPT}}],
                  comparison={"regressed": True, "runs": [{"run": name, "regressed": True, "delta": 0.1}]})


def sample_comparison(run: str = "gamma") -> dict:
    """A comparison in the shape ``lossdoc.compare.compare_report`` returns."""
    return {
        "regressed": True, "tolerance": 0.01, "alpha": 0.05, "method": "circular block bootstrap",
        "baselines": [{"run": "main", "source": "main/trainer_state.json", "format": "hf-trainer",
                       "last_step": 2999}],
        "runs": [{"run": run, "source": "g", "series": "train/loss", "regressed": True,
                  "quantities": [
                      {"name": "final_train_loss", "label": "final train loss (mean over steps 2,400..2,999)",
                       "candidate": 1.82, "baseline": 1.70, "difference": 0.12, "relative": 0.0706,
                       "ci": [0.05, 0.19], "level": 0.9, "test": "circular block bootstrap", "pvalue": 0.002,
                       "margin": 0.017, "regressed": True, "gating": True}]}]}
