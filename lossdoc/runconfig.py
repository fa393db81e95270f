"""``run.config``: the hyperparameters a log itself states (DESIGN.md, ``inspect-1`` / ``report-1``).

A config is a dict with the normalised keys that could be found (:data:`CONFIG_KEYS`:
``learning_rate``, ``batch_size``, ``optimizer``, ``weight_decay``, ``dropout``, ``warmup_steps``,
``max_steps``, ``scheduler``, ``seed``) and ``raw``: every key as the trainer spelled it (nested
dicts kept nested). ``{}`` when the log states nothing. Values are exactly as stated; a list of one
number (fairseq ``lr=[0.0005]``) counts as that number, strings such as ``"3e-4"`` as numbers.

Parsers and the ingest layer store it in ``ParseResult.meta`` / ``Source.meta``:

* ``meta["config"]``: the config of every run of the source (one log is one run, the usual case);
* ``meta["run_configs"]``: ``{run: config}`` for a source holding several runs (MLflow, W&B).

Everyone else reads it through :func:`run_config`::

    from lossdoc.runconfig import run_config
    cfg = run_config(logset, "run")            # or a Source, a RunReport, or a meta dict
    cfg.get("learning_rate"), cfg.get("optimizer"), cfg.get("raw", {})

This module is pure (no I/O): it sits in the ``model`` layer and ``checks`` may import it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

#: The normalised keys, in display order.
CONFIG_KEYS: tuple[str, ...] = ("learning_rate", "batch_size", "optimizer", "weight_decay", "dropout",
                                "warmup_steps", "max_steps", "scheduler", "seed")

#: Raw key spellings for each normalised key, first match wins. Matched against the snake_cased
#: dotted path of a key (``optimizer._name`` -> ``optimizer.name``) and, failing that, its last part.
ALIASES: dict[str, tuple[str, ...]] = {
    "learning_rate": ("learning_rate", "lr", "optimization.lr", "optimizer.lr", "optim.lr", "optimizer.learning_rate",
                      "optimizer.params.lr", "optim_wrapper.optimizer.lr", "base_lr", "peak_lr", "max_lr", "lr0",
                      "init_lr", "initial_lr", "learningrate"),
    "batch_size": ("total_train_batch_size_w_parallel_distributed_accumulation", "total_batch_size",
                   "global_batch_size", "effective_batch_size", "train_batch_size", "batch_size",
                   "dataset.batch_size", "data.batch_size", "per_device_train_batch_size",
                   "instantaneous_batch_size_per_device", "micro_batch_size", "device_batch_size", "batch",
                   "bs", "train_micro_batch_size_per_gpu"),
    "optimizer": ("optimizer", "optim", "optimizer_name", "optimizer_type", "optimizer.name", "optimizer.type",
                  "optimizer.class_path", "optim_wrapper.optimizer.type", "optimizer.target", "opt"),
    "weight_decay": ("weight_decay", "optimizer.weight_decay", "optim_wrapper.optimizer.weight_decay",
                     "weight_decay_rate", "wd", "l2_reg"),
    "dropout": ("dropout", "model.dropout", "hidden_dropout", "dropout_rate", "drop_rate", "dropout_prob",
                "hidden_dropout_prob", "p_dropout", "dropout_p", "drop_out"),
    "warmup_steps": ("warmup_steps", "warmup_iters", "lr_warmup_iters", "warmup_updates", "lr_scheduler.warmup_updates",
                     "num_warmup_steps", "lr_warmup_steps", "warmup_iterations", "warmup"),
    "max_steps": ("max_steps", "max_iters", "train_iters", "max_update", "optimization.max_update",
                  "total_optimization_steps", "num_training_steps", "total_steps", "max_iter", "num_iterations",
                  "num_steps", "train_steps", "training_steps", "iterations", "max_train_steps"),
    "scheduler": ("lr_scheduler_type", "lr_scheduler", "lr_scheduler.name", "lr_decay_style", "scheduler",
                  "scheduler.name", "scheduler.type", "lr_schedule", "lr_scheduler.class_path", "sched",
                  "schedule", "lr_policy", "param_scheduler.type"),
    "seed": ("seed", "common.seed", "random_seed", "manual_seed", "seed_everything"),
}
_NUMERIC_INT = {"batch_size", "warmup_steps", "max_steps", "seed"}
_NUMERIC_FLOAT = {"learning_rate", "weight_decay", "dropout"}
_TEXT = {"optimizer", "scheduler"}
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_NON_WORD = re.compile(r"[^0-9a-zA-Z.]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def _key(k: str) -> str:
    """Snake-cased dotted key: ``Optimizer._name`` -> ``optimizer.name``, ``lr-decay`` -> ``lr_decay``."""
    s = _CAMEL.sub(r"\1_\2", str(k).strip().replace(". ", " "))  # "(w. parallel": not a path
    s = _NON_WORD.sub("_", s).lower()
    return ".".join(p.strip("_") for p in s.split(".") if p.strip("_"))


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, Mapping):
            out.update(_flatten(v, key))
        else:
            out.setdefault(key, v)
    return out


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (list, tuple)) and v:
        return _number(v[0])  # fairseq lr=[0.0005]: the first (usually only) value
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str) and _NUMBER.fullmatch(v.strip().replace(",", "")):
        f = float(v.strip().replace(",", ""))
    else:
        return None
    return f if math.isfinite(f) else None


def _text(v: Any) -> str | None:
    if isinstance(v, Mapping):
        for k in ("_name", "name", "type", "class_path", "_target_"):
            if isinstance(v.get(k), str):
                return _text(v[k])
        return None
    if not isinstance(v, str):
        return None
    s = v.strip().strip("'\"")
    m = re.fullmatch(r"<class '([\w.]+)'>", s)  # str(torch.optim.AdamW) in a Lightning hparams.yaml
    if m:
        s = m.group(1)
    # HF enum reprs: OptimizerNames.ADAMW_TORCH, SchedulerType.LINEAR; class paths: torch.optim.AdamW
    s = s.rsplit(".", 1)[-1] if re.fullmatch(r"[\w.]+", s) else s
    s = s.strip()
    if not s or s.lower() in ("none", "null", "nil", ""):
        return None
    return s.lower()


def _coerce(key: str, v: Any) -> Any:
    if key in _TEXT:
        return _text(v)
    f = _number(v)
    if f is None:
        return None
    if key in _NUMERIC_INT:
        if f != int(f):
            return None
        i = int(f)
        if key in ("batch_size", "max_steps") and i <= 0:  # HF max_steps=-1: not set
            return None
        if key == "warmup_steps" and i < 0:
            return None
        return i
    if f < 0:
        return None
    return f


def json_safe(v: Any, depth: int = 0) -> Any:
    """``v`` as JSON the report may print: non-finite floats and unknown objects become strings."""
    if depth > 20:
        return str(v)
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, Mapping):
        return {str(k): json_safe(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [json_safe(x, depth + 1) for x in v]
    if hasattr(v, "item"):  # numpy scalar
        return json_safe(v.item(), depth + 1)
    return str(v)


def normalise_config(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config of ``raw`` (the trainer's own keys): normalised keys found, plus ``raw``; ``{}`` if empty."""
    if not raw:
        return {}
    flat = _flatten(raw)
    by_last: dict[str, list[Any]] = {}
    for k, v in flat.items():
        by_last.setdefault(k.rsplit(".", 1)[-1], []).append(v)
    out: dict[str, Any] = {}
    for key, names in ALIASES.items():
        for name in names:
            got = None
            if name in flat:
                got = _coerce(key, flat[name])
            elif "." not in name and name in by_last and len(by_last[name]) == 1:
                got = _coerce(key, by_last[name][0])
            if got is not None:
                out[key] = got
                break
    # HF: warmup_steps=0 beside warmup_ratio>0 means the ratio decides; 0 would be misread as "no warm-up"
    if out.get("warmup_steps") == 0 and (_number(flat.get("warmup_ratio")) or 0) > 0:
        del out["warmup_steps"]
    out["raw"] = json_safe(dict(raw))
    return out


def merge_raw(*raws: Mapping[str, Any] | None) -> dict[str, Any]:
    """Raw configs from several places (a sibling file, then the log's own printout): later wins."""
    out: dict[str, Any] = {}
    for r in raws:
        if r:
            out.update(r)
    return out


def set_config(meta: dict[str, Any], raw: Mapping[str, Any] | None, run: str | None = None) -> None:
    """Store the config of ``raw`` in a parser's ``meta`` (for every run, or for ``run`` only)."""
    cfg = normalise_config(raw)
    if not cfg:
        return
    if run is None:
        meta["config"] = cfg
    else:
        meta.setdefault("run_configs", {})[run] = cfg


def rename_runs(meta: dict[str, Any], mapping: Mapping[str, str]) -> None:
    """Follow a renaming of runs (directory walks, clashing names) in ``meta["run_configs"]``."""
    per = meta.get("run_configs")
    if isinstance(per, dict) and per:
        meta["run_configs"] = {mapping.get(r, r): c for r, c in per.items()}


def _meta_of(obj: Any, run: str | None) -> Mapping[str, Any] | None:
    if isinstance(obj, Mapping):
        return obj
    sources: Iterable[Any] | None = getattr(obj, "sources", None)
    if sources is not None:  # a LogSet
        sources = list(sources)
        for s in sources:
            if run is None or run in s.runs:
                return s.meta
        return None
    return getattr(obj, "meta", None)  # a Source or a RunReport


def run_config(obj: Any, run: str | None = None) -> dict[str, Any]:
    """The config of ``run``: ``obj`` is a :class:`~lossdoc.model.LogSet`, a
    :class:`~lossdoc.model.Source`, a report's ``RunReport`` (its own run when ``run`` is None), or a
    ``meta`` dict. Returns a copy; ``{}`` when the log states none."""
    if run is None and not isinstance(obj, Mapping):
        run = getattr(obj, "run", None) if isinstance(getattr(obj, "run", None), str) else None
    meta = _meta_of(obj, run)
    if not meta:
        return {}
    per = meta.get("run_configs")
    if isinstance(per, Mapping) and run is not None and run in per:
        return dict(per[run])
    cfg = meta.get("config")
    return dict(cfg) if isinstance(cfg, Mapping) else {}


def config_rows(cfg: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(key, value) of the normalised keys present, in :data:`CONFIG_KEYS` order (for reports)."""
    return [(k, cfg[k]) for k in CONFIG_KEYS if k in cfg]


__all__ = ["ALIASES", "CONFIG_KEYS", "config_rows", "json_safe", "merge_raw", "normalise_config", "rename_runs",
           "run_config", "set_config"]
