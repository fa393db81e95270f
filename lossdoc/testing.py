"""Test helpers for lossdoc and its plugins: a seeded synthetic training-curve generator and the
rule-case runner (sqlfluff's ``utils/testing/rules.py`` idea, with curves in place of SQL).

The generator models a training run the way real ones look:

* the loss follows a schedule-aware power law (Tissue et al. 2024, "Scaling law with LR
  annealing"): ``L = floor + (start-floor)·(1 + S1/tau)^-alpha - C·S2`` where ``S1`` is the
  area under the LR curve (in peak-LR steps) and ``S2`` the momentum-smoothed annealing area,
  so LR step decays give kinks, warm-up gives a slow start and SGDR restarts give bumps;
* multiplicative AR(1) noise (``noise`` is the marginal relative s.d., ``phi`` the lag-1
  autocorrelation), as minibatch losses are autocorrelated through the optimizer state;
* optional harmless one-step blips (``fine_spikes``) and a warm-up bump (``warmup_bump``);
* validation loss every ``val_every`` steps = the noiseless train curve × (1 + ``val_gap``)
  with its own small noise; grad norm and lr series when asked for.

Each pathology is an ``inject`` entry (see :func:`_inject`): spike, nan, hidden_nan, diverge,
explode, plateau, oscillate, overfit, gap, val_below, restart, step_gap.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.signal import lfilter

from lossdoc.model import LogSet, Source, conform, make_frame


def lr_schedule(n: int, *, lr: float, warmup: int, schedule: str, min_ratio: float = 0.1,
                decay_at: tuple[float, ...] = (0.5, 0.75), cycles: int = 3) -> np.ndarray:
    t = np.arange(n, dtype=float)
    if schedule == "constant":
        base = np.ones(n)
    elif schedule == "cosine":
        prog = np.clip((t - warmup) / max(n - warmup, 1), 0, 1)
        base = min_ratio + (1 - min_ratio) * 0.5 * (1 + np.cos(math.pi * prog))
    elif schedule == "linear":
        prog = np.clip((t - warmup) / max(n - warmup, 1), 0, 1)
        base = 1 - (1 - min_ratio) * prog
    elif schedule == "step":
        base = np.ones(n)
        for f in decay_at:
            base[t >= f * n] *= 0.1
    elif schedule == "sgdr":
        period = max((n - warmup) // cycles, 1)
        prog = ((t - warmup) % period) / period
        base = min_ratio + (1 - min_ratio) * 0.5 * (1 + np.cos(math.pi * prog))
    else:
        raise ValueError(f"unknown schedule {schedule!r}")
    if warmup > 0:
        base = np.where(t < warmup, (t + 1) / warmup * base[min(warmup, n - 1)], base)
    return lr * base


def synth_frame(
    *,
    steps: int = 2000,
    every: int = 1,
    start: float = 4.0,
    floor: float = 1.5,
    alpha: float = 0.6,
    tau: float | None = None,
    anneal: float = 0.05,
    noise: float = 0.02,
    phi: float = 0.5,
    lr: float = 3e-4,
    warmup: int = 0,
    warmup_bump: float = 0.0,
    schedule: str = "cosine",
    min_ratio: float = 0.1,
    cycles: int = 3,
    decay_at: tuple[float, ...] | list[float] = (0.5, 0.75),
    fine_spikes: int = 0,
    fine_spike_size: float = 0.15,
    val_every: int | None = None,
    val_gap: float = 0.03,
    val_noise: float = 0.005,
    log_lr: bool = True,
    log_grad_norm: bool = False,
    run: str = "synth",
    seed: int = 0,
    inject: list[dict[str, Any]] | None = None,
    kind: str = "power_law",
) -> pl.DataFrame:
    """A seeded synthetic run in :data:`lossdoc.model.SCHEMA` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(steps)
    step = np.arange(n, dtype=np.int64) * int(every)
    lrs = lr_schedule(n, lr=lr, warmup=warmup, schedule=schedule, min_ratio=min_ratio, cycles=cycles,
                      decay_at=tuple(decay_at))
    s1 = np.cumsum(lrs) / lr
    # annealing area with momentum (Tissue et al.: lambda ~ 0.999 per step)
    dl = np.concatenate(([0.0], -np.diff(lrs))) / lr
    m = lfilter([1.0], [1.0, -0.99], dl)
    s2 = np.cumsum(m) / max(n, 1) * 10
    tau_ = tau if tau is not None else max(n / 50, 1.0)
    clean = floor + (start - floor) * (1 + s1 / tau_) ** (-alpha)
    clean = clean - anneal * floor * np.clip(s2, -5, 5)
    if warmup_bump and warmup:
        t = np.arange(n)
        clean = clean * (1 + warmup_bump * np.exp(-0.5 * ((t - warmup * 0.6) / max(warmup * 0.2, 1)) ** 2))
    # AR(1) multiplicative noise with marginal sd = noise
    e = rng.standard_normal(n) * noise * math.sqrt(max(1 - phi**2, 1e-12))
    ar = lfilter([1.0], [1.0, -phi], e)
    loss = clean * (1 + ar)
    gn = 1.0 + 0.5 * (clean - floor) / max(start - floor, 1e-9) + rng.standard_normal(n) * 0.05
    if fine_spikes:
        at = rng.choice(np.arange(n // 20 + 1, n), size=min(fine_spikes, n // 2), replace=False)
        loss[at] *= 1 + fine_spike_size * rng.uniform(0.5, 1.0, size=at.size)
    val_idx = np.arange(val_every - 1, n, val_every) if val_every else np.empty(0, dtype=np.int64)
    val = clean[val_idx] * (1 + val_gap) * (1 + val_noise * rng.standard_normal(val_idx.size))
    state = {"step": step, "loss": loss, "clean": clean, "lr": lrs, "gn": gn, "val_idx": val_idx, "val": val,
             "n": n, "rng": rng, "extra_rows": [], "run": run}
    for inj in inject or []:
        _inject(state, dict(inj))
    frames = [make_frame({"run": run, "split": "train", "metric": "loss", "name": "loss",
                          "step": state["step"], "value": state["loss"]})]
    if log_lr:
        frames.append(make_frame({"run": run, "split": "train", "metric": "lr", "name": "learning_rate",
                                  "step": state["step"], "value": state["lr"]}))
    if log_grad_norm:
        frames.append(make_frame({"run": run, "split": "train", "metric": "grad_norm", "name": "grad_norm",
                                  "step": state["step"], "value": state["gn"]}))
    if state["val_idx"].size:
        frames.append(make_frame({"run": run, "split": "val", "metric": "loss", "name": "val_loss",
                                  "step": state["step"][state["val_idx"]], "value": state["val"]}))
    frames += state["extra_rows"]
    return pl.concat([conform(f) for f in frames], how="vertical")


def _inject(st: dict[str, Any], inj: dict[str, Any]) -> None:
    """Apply one pathology. ``at`` is a step index (fraction if < 1)."""
    n = st["n"]
    kind = inj.pop("kind")
    at = inj.get("at", 0 if kind in ("oscillate", "gap", "val_below") else 0.5)
    i0 = int(at * n) if isinstance(at, float) and at < 1 else int(at)
    i0 = min(max(i0, 0), n - 1)
    t = np.arange(n)
    loss, clean, gn, rng = st["loss"], st["clean"], st["gn"], st["rng"]
    vi = st["val_idx"]
    if kind == "spike":
        factor = float(inj.get("factor", 3.0))
        recover = float(inj.get("recover", 10))
        shape = np.exp(-np.clip(t - i0, 0, None) / max(recover / 3, 0.5)) * (t >= i0)
        loss *= 1 + (factor - 1) * shape
        gn *= 1 + (inj.get("grad_factor", factor * 2) - 1) * shape
    elif kind == "nan":
        loss[i0:] = np.nan if inj.get("value", "nan") == "nan" else np.inf
        if inj.get("val", True) and vi.size:
            st["val"][st["step"][vi] >= st["step"][i0]] = np.nan
        gn[i0:] = np.nan
    elif kind == "hidden_nan":
        gn[i0:] = np.nan
        if inj.get("zero_loss", False):
            loss[i0:] = 0.0
    elif kind == "diverge":
        rise = float(inj.get("rise", 1.0))  # final loss = level * (1 + rise)
        power = float(inj.get("power", 1.5))
        frac = np.clip((t - i0) / max(n - 1 - i0, 1), 0, None)
        mult = 1 + rise * frac**power
        loss *= mult
        if vi.size:
            st["val"] *= mult[vi]
        gn *= 1 + 3 * rise * frac**power
    elif kind == "explode":
        factor = float(inj.get("factor", 50.0))
        loss[i0:] *= factor * (1 + 0.1 * rng.standard_normal(n - i0))
        if vi.size:
            st["val"][vi >= i0] *= factor
    elif kind == "plateau":
        lvl = clean[i0]
        noise_rel = (loss / clean - 1)[i0:]
        loss[i0:] = lvl * (1 + noise_rel)
        if vi.size:
            st["val"][vi >= i0] = lvl * (1 + st["val"][vi >= i0] / clean[vi[vi >= i0]] - 1)
    elif kind == "oscillate":
        amp = float(inj.get("amplitude", 0.1))
        period = float(inj.get("period", n / 10))
        wave = amp * np.sin(2 * math.pi * t / period) * np.where(t >= i0, 1.0, 0.0)
        loss *= 1 + wave
        if vi.size and inj.get("val", True):
            st["val"] *= 1 + wave[vi]
    elif kind == "overfit":
        rise = float(inj.get("rise", 0.3))
        frac = np.clip((t - i0) / max(n - 1 - i0, 1), 0, None)
        if vi.size:
            base = clean[i0]
            # val follows the curve until i0, then rises linearly by `rise` of its level
            vv = np.where(vi < i0, clean[vi], base * (1 + rise * frac[vi]))
            st["val"] = vv * (1 + 0.004 * rng.standard_normal(vi.size))
    elif kind == "gap":
        size = float(inj.get("size", 0.5))  # final relative gap
        if vi.size:
            st["val"] = st["val"] * (1 + size * (vi / max(n - 1, 1)) ** 1.5)
    elif kind == "val_below":
        size = float(inj.get("size", 0.15))
        if vi.size:
            st["val"] = clean[vi] * (1 - size) * (1 + 0.004 * rng.standard_normal(vi.size))
    elif kind == "restart":
        # the run resumed from an earlier checkpoint: the log re-covers `back` steps
        back = int(inj.get("back", 100))
        j0 = max(i0 - back, 0)
        rows = make_frame({"run": st["run"], "split": "train", "metric": "loss", "name": "loss",
                           "step": st["step"][j0:i0], "value": loss[j0:i0] * 1.01})
        st["extra_rows"].append(rows)
    elif kind == "step_gap":
        length = int(inj.get("length", n // 10))
        keep = np.ones(n, dtype=bool)
        keep[i0:i0 + length] = False
        _keep(st, keep)
    elif kind == "truncate":
        _keep(st, t < i0)
    else:
        raise ValueError(f"unknown injection kind {kind!r}")


def _keep(st: dict[str, Any], keep: np.ndarray) -> None:
    old = st["step"]
    for k in ("step", "loss", "clean", "lr", "gn"):
        st[k] = st[k][keep]
    vsteps = old[st["val_idx"]]
    vk = np.isin(vsteps, st["step"])
    new_index = np.searchsorted(st["step"], vsteps[vk])
    st["val_idx"], st["val"] = new_index, st["val"][vk]
    st["n"] = int(st["step"].size)


def synth_logset(frame: pl.DataFrame | None = None, *, meta: dict[str, Any] | None = None,
                 path: str = "synth", **kw: Any) -> LogSet:
    """A :class:`LogSet` holding one synthetic run (``frame`` or ``synth_frame(**kw)``), with the
    same step normalisation (restart/duplicate notes) a parsed log gets."""
    from lossdoc.ingest.normalise import normalise_steps

    df = frame if frame is not None else synth_frame(**kw)
    df, notes = normalise_steps(conform(df))
    return LogSet([Source(path=path, format="synthetic", frame=df, notes=notes, meta=dict(meta or {}))])


# --------------------------------------------------------------------------- rule cases
def load_rule_cases(directory: str | Path) -> list[tuple[str, str, dict[str, Any]]]:
    """[(rule id, case name, case)] from ``<ID>.yaml`` files (needs PyYAML, a test dependency)."""
    import yaml

    out = []
    for f in sorted(Path(directory).glob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        rule = doc.pop("rule")
        for name, case in doc.items():
            out.append((rule, name, case or {}))
    return out


def run_rule_case(rule: str, case: dict[str, Any], *, root: str | Path = ".") -> list[Any]:
    """Run one rule case and assert its expectations; returns the rule's findings.

    A case has exactly one input: ``synth`` (keyword arguments of :func:`synth_frame`, with
    ``inject``), ``log`` (a path relative to ``root``), ``log_text`` (+ ``format``) or ``sweep`` (a
    directory of runs relative to ``root``, analysed as a sweep), and
    optionally ``meta``, ``params`` (rule parameter overrides, kebab-case) and ``expect``
    (a list of ``{step, severity, ...}`` every one of which must match a finding) or
    ``expect_count``. Cases named ``pass_*`` expect no finding unless they say otherwise.
    """
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config

    inputs = [k for k in ("synth", "log", "log_text", "sweep") if k in case]
    assert len(inputs) == 1, f"a rule case needs exactly one of synth/log/log_text/sweep, got {inputs}"
    if "sweep" in case:  # a directory of runs analysed as a sweep (rules that compare runs: LR008/LR009)
        from lossdoc.sweep import analyze_sweep

        cfg = Config(select=(rule,), rules={rule: dict(case["params"])} if case.get("params") else {})
        rep = analyze_sweep(Path(root) / case["sweep"], jobs=1, config=cfg)
        findings = [f for r in rep.runs for f in r.findings if f.rule == rule]
        return _expectations(rule, case, findings)
    if "synth" in case:
        logset = synth_logset(meta=case.get("meta"), **case["synth"])
    elif "log" in case:
        from lossdoc.ingest import read

        logset = read(str(Path(root) / case["log"]), format=case.get("format"))
    else:
        from lossdoc.ingest import from_bytes, read_input

        logset = LogSet([read_input(from_bytes(case["log_text"].encode(), "case.log"), case.get("format"))])
    cfg = Config(select=(rule,), rules={rule: dict(case["params"])} if case.get("params") else {})
    runs, _ = run_checks(logset, cfg, horizon=case.get("horizon"), summaries=False)
    findings = [f for r in runs for f in r.findings if f.rule == rule]
    return _expectations(rule, case, findings)


def _expectations(rule: str, case: dict[str, Any], findings: list[Any]) -> list[Any]:
    expect = case.get("expect")
    if "expect_count" in case:
        assert len(findings) == case["expect_count"], _show(findings)
    if expect is None and "expect_count" not in case:
        assert not findings, f"expected no {rule} finding, got: " + _show(findings)
    for e in expect or []:
        assert any(_match(f, e) for f in findings), f"no finding matches {e}; got: " + _show(findings)
    return findings


def _match(f: Any, e: dict[str, Any]) -> bool:
    for k, v in e.items():
        if k == "step":
            lo = f.start_step if f.start_step is not None else f.end_step
            hi = f.end_step if f.end_step is not None else lo
            tol = e.get("tolerance", 0)
            if lo is None or not (lo - tol <= v <= hi + tol):
                return False
        elif k == "tolerance":
            continue
        elif k == "severity":
            if str(f.severity) != v:
                return False
        elif k == "message_contains":
            if v not in f.message:
                return False
        elif k == "recommendation_contains":
            if v not in f.recommendation:
                return False
        elif k == "recommendation_excludes":
            if v in f.recommendation:
                return False
        elif getattr(f, k, None) != v:
            return False
    return True


def _show(findings: list[Any]) -> str:
    return "; ".join(f"{f.rule}@{f.start_step}-{f.end_step} {f.severity}: {f.message}" for f in findings) or "none"
