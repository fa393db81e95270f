"""The check engine: select rules, bind parameters, run detectors, build findings and summaries.

For every run in a :class:`lossdoc.model.LogSet` the engine builds a :class:`RunContext`
(lazy, cached access to the run's series, its down-sampled copies, the curve fit and the
learning rate in force), calls each selected rule's detector on the series its
``applies-to`` names, turns the detector's :class:`Hit` objects into :class:`Finding` objects
(message from the evidence, recommendation template filled from the detector's values),
and controls false alarms across the run's hypothesis tests (Benjamini-Hochberg, see
:func:`_control_false_alarms`).

Which series is "the loss" of a split (:meth:`RunContext.loss`): ``<split>/loss`` when the log
has it; otherwise the sum of the split's component losses at the steps they share (YOLO
``box_loss + cls_loss + dfl_loss``, MMEngine ``loss_cls + loss_bbox ...``); otherwise the only
loss-like series of the split.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl

from lossdoc.checks.findings import Evidence, Finding, Severity
from lossdoc.checks.rulefile import RuleSpec, load_rules
from lossdoc.config import check_param
from lossdoc.errors import ConfigError
from lossdoc.model import IngestNote, LogSet, SeriesInfo

#: Points a down-sampled series keeps for trend tests and fits (bin means).
FIT_POINTS = 400
#: Windows with fewer points than this use the Mann-Kendall test instead of the HAC trend test.
SHORT_TREND = 12
#: Names that mark a series as loss-like when no ``loss`` series exists.
_LOSS_LIKE = ("loss", "mse", "nll", "cross_entropy", "bce")


# --------------------------------------------------------------------------- series
@dataclass(frozen=True)
class Series:
    """One series of a run, sorted by step; ``values`` exactly as logged (NaN/inf kept)."""

    split: str
    metric: str
    name: str
    steps: np.ndarray  #: int64
    values: np.ndarray  #: float64

    @property
    def key(self) -> str:
        return f"{self.split}/{self.metric}"

    def __len__(self) -> int:
        return int(self.steps.size)

    def finite(self) -> tuple[np.ndarray, np.ndarray]:
        ok = np.isfinite(self.values)
        if ok.all():
            return self.steps, self.values
        return self.steps[ok], self.values[ok]


@dataclass
class Hit:
    """What a detector reports; the engine turns it into a :class:`Finding`.

    ``values`` fill the rule's recommendation template (``{lr}``, ``{step}``...); ``severity``
    overrides the rule's default when the detector grades harm (a plateau at convergence is
    info, an early one warning). ``alpha`` marks a hypothesis-test hit: the engine keeps it only
    if its p-value survives the run's false-discovery control at that level.
    """

    message: str
    evidence: Evidence
    start_step: int | None = None
    end_step: int | None = None
    severity: Severity | None = None
    values: dict[str, Any] = field(default_factory=dict)
    alpha: float | None = None
    split: str | None = None  #: default: the series the detector was called with
    metric: str | None = None


Detector = Callable[["RunContext", "Series | None", SimpleNamespace], Iterable[Hit]]


def fmt_num(x: float | None, sig: int = 4) -> str:
    """Human number: 2.31, 6e-04, 1,200 (integers), 'n/a'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)) or (float(x).is_integer() and abs(x) >= 1000):
        return f"{int(x):,}"
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
        return f"{x:.{max(sig - 3, 1)}e}"
    return f"{x:.{sig}g}"


def fmt_step(s: int | float | None) -> str:
    return "n/a" if s is None else f"{int(s):,}"


def _split_series(frame: pl.DataFrame) -> list[tuple[tuple[str, str], str, np.ndarray, np.ndarray]]:
    """[((split, metric), name, steps, values)] in order of first appearance."""
    step, value = frame.get_column("step"), frame.get_column("value")
    if frame.height > 1000:  # a parser's per-series block: literal key columns, one value each
        first = frame.row(0, named=True)
        last = frame.row(frame.height - 1, named=True)
        if all(first[k] == last[k] for k in ("split", "metric", "name")) and \
                frame.select([pl.col(k).n_unique() for k in ("split", "metric", "name")]).row(0) == (1, 1, 1):
            return [((str(first["split"]), str(first["metric"])), str(first["name"]),
                     _contiguous(step, np.int64), _contiguous(value, np.float64))]
    rle = frame.select(pl.struct("split", "metric").rle_id().alias("r")).get_column("r").to_numpy()
    starts = np.concatenate(([0], np.flatnonzero(rle[1:] != rle[:-1]) + 1))
    # Each series in one stretch (the usual layout): slice. Series interleaved row by row (a text log
    # printing loss, time and tokens per line) make a run per row: they are grouped below instead
    # of first turning 10^6 run heads into Python tuples (0.9 s for 1.5*10^6 rows).
    heads = frame.select("split", "metric", "name")[starts.tolist()].rows() if starts.size <= 10_000 else []
    keys = [(str(a), str(b)) for a, b, _ in heads]
    if heads and len(set(keys)) == len(keys):
        ends = np.append(starts[1:], frame.height)
        return [(k, str(h[2]), step.slice(int(a), int(b - a)).to_numpy().astype(np.int64, copy=False),
                 value.slice(int(a), int(b - a)).to_numpy().astype(np.float64, copy=False))
                for k, h, a, b in zip(keys, heads, starts, ends)]
    # polars gathers each (split, metric) group, in order of first appearance, rows in log order
    # (0.6 s for 1.5*10^7 interleaved rows; a numpy stable argsort of key codes took 1.5-2.6 s)
    parts = frame.select("split", "metric", "name", "step", "value").partition_by(["split", "metric"],
                                                                                   maintain_order=True)
    return [((str(g.item(0, "split")), str(g.item(0, "metric"))), str(g.item(0, "name")),
             g.get_column("step").to_numpy().astype(np.int64, copy=False),
             g.get_column("value").to_numpy().astype(np.float64, copy=False)) for g in parts]


def _contiguous(s: pl.Series, dtype: Any) -> np.ndarray:
    """``s`` as a numpy array: zero-copy when it is one chunk without nulls."""
    return s.to_numpy().astype(dtype, copy=False)


def sum_on_shared_steps(parts: list[Series]) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, sum) of several series at the steps they all log (each one's first value at a step),
    or None when they share no step: the loss of a split logged as components (YOLO box + cls + dfl)."""
    steps = parts[0].steps
    for c in parts[1:]:
        steps = np.intersect1d(steps, c.steps)
    if not steps.size:
        return None
    total = np.zeros(steps.size)
    for c in parts:
        _, idx = np.unique(c.steps, return_index=True)
        pos = np.searchsorted(c.steps[idx], steps)
        total = total + np.asarray(c.values, dtype=float)[idx][pos]
    return steps, total


# --------------------------------------------------------------------------- context
class RunContext:
    """One run's data with cached derived views, shared by every detector."""

    def __init__(self, run: str, frame: pl.DataFrame | list[pl.DataFrame] | None, *, notes: list[IngestNote],
                 meta: dict[str, Any], source: str = "", format: str = "", horizon: int | None = None,
                 series: dict[tuple[str, str], Series] | None = None) -> None:
        """``frame``: the run's rows, as one frame or as a source's blocks (``Source.run_blocks``);
        or ``series``: already split series (a :class:`RunReport`'s ``data``)."""
        self.run = run
        self.notes = notes
        self.meta = meta
        self.source = source
        self.format = format
        self._horizon = horizon
        self._series: dict[tuple[str, str], Series] = dict(series) if series is not None else {}
        blocks = [] if frame is None else [frame] if isinstance(frame, pl.DataFrame) else list(frame)
        # NOTE: a polars group_by/partition_by on the string keys costs seconds at 10^7 rows. Parsers
        # emit each series as one contiguous block, so run-length ids plus zero-copy slices do;
        # interleaved rows fall back to integer codes (categorical casts) and a numpy sort.
        parts: dict[tuple[str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
        for b in blocks:
            if not b.height:
                continue
            for key, name, st, v in _split_series(b):
                parts.setdefault(key, []).append((name, st, v))
        for (split, metric), got in parts.items():
            name = got[0][0]
            if len(got) == 1:
                st, v = got[0][1], got[0][2]
            else:  # one series spread over several blocks
                st = np.concatenate([g[1] for g in got])
                v = np.concatenate([g[2] for g in got])
            if st.size > 1 and np.any(st[1:] < st[:-1]):
                o = np.argsort(st, kind="stable")
                st, v = st[o], v[o]
            self._series[(split, metric)] = Series(split, metric, name, st, v)
        self._cache: dict[Any, Any] = {}
        #: p-values of every hypothesis test run on this run (for false-alarm control)
        self.pvalues: list[float] = []

    # ---- series access
    def series_info(self) -> list[SeriesInfo]:
        """What ``lossdoc.model.series_info`` gives for this run, from the arrays already built (no
        second group-by over a 10^7-row frame)."""
        return [SeriesInfo(self.run, s.split, s.metric, s.name, len(s),
                           int(s.steps[0]) if len(s) else None, int(s.steps[-1]) if len(s) else None,
                           int((~np.isfinite(s.values)).sum())) for s in self._series.values()]

    def series_map(self) -> dict[tuple[str, str], Series]:
        """The run's series by (split, metric) (numpy arrays; what :class:`RunReport` ``data`` holds)."""
        return dict(self._series)

    def all_series(self) -> list[Series]:
        return list(self._series.values())

    def series(self, split: str, metric: str) -> Series | None:
        return self._series.get((split, metric))

    def loss(self, split: str = "train") -> Series | None:
        """The split's loss (module docstring: direct, summed components, or the only loss-like series)."""
        key = ("loss", split)
        if key not in self._cache:
            self._cache[key] = self._resolve_loss(split)
        return self._cache[key]

    def _resolve_loss(self, split: str) -> Series | None:
        direct = self._series.get((split, "loss"))
        if direct is not None:
            return direct
        comps = [s for (sp, m), s in self._series.items() if sp == split and m.endswith("_loss")]
        comps += [s for (sp, m), s in self._series.items()
                  if sp == split and m.startswith("loss_") and s not in comps]
        if len(comps) >= 2:
            summed = sum_on_shared_steps(comps)
            if summed is not None:
                name = " + ".join(c.name for c in comps)
                return Series(split, "loss", name, *summed)
        if len(comps) == 1:
            return comps[0]
        like = [s for (sp, m), s in self._series.items() if sp == split and any(t in m for t in _LOSS_LIKE)]
        return like[0] if len(like) == 1 else None

    def lr(self) -> Series | None:
        return self._series.get(("train", "lr")) or next(
            (s for (sp, m), s in self._series.items() if m == "lr"), None)

    def grad_norm(self) -> Series | None:
        return self._series.get(("train", "grad_norm"))

    def loss_scale(self) -> Series | None:
        return self._series.get(("train", "loss_scale"))

    def hparams(self) -> dict[str, Any]:
        """The run's stated hyperparameters: the trainer's own keys with the normalised ones
        (``lossdoc.runconfig.run_config``) over them."""
        from lossdoc.runconfig import run_config

        h = self.meta.get("hparams") or {}
        cfg = run_config(self.meta, self.run)
        raw = cfg.pop("raw", None)
        return {**(raw if isinstance(raw, dict) else {}), **(h if isinstance(h, dict) else {}), **cfg}

    def lr_at(self, step: float) -> float | None:
        """Learning rate in force at ``step``: the lr series (last logged value at or before it)
        or the configured LR from the log's hyper-parameters."""
        s = self.lr()
        if s is not None:
            st, v = s.finite()
            if st.size:
                i = int(np.searchsorted(st, step, side="right")) - 1
                return float(v[max(i, 0)])
        for k in ("learning_rate", "lr", "max_lr", "base_lr"):
            v = self.hparams().get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
        return None

    def lr_peak(self, until: float | None = None) -> tuple[float, int] | None:
        """(peak LR, its step) of the lr series up to ``until``."""
        s = self.lr()
        if s is None:
            return None
        st, v = s.finite()
        if until is not None:
            keep = st <= until
            st, v = st[keep], v[keep]
        if not st.size:
            return None
        i = int(np.argmax(v))
        return float(v[i]), int(st[i])

    def warmup_end(self) -> int | None:
        """Step where LR warm-up ends: the lr series first reaching 95% of its peak after rising
        from below half of it; or ``warmup_steps`` from the hyper-parameters; None if no warm-up."""
        key = "warmup_end"
        if key in self._cache:
            return self._cache[key]
        out: int | None = None
        s = self.lr()
        if s is not None:
            st, v = s.finite()
            if st.size >= 3 and v.max() > 0:
                peak = v.max()
                i = int(np.argmax(v >= 0.95 * peak))
                if i > 0 and v[0] < 0.5 * peak:
                    out = int(st[i])
        if out is None:
            w = self.hparams().get("warmup_steps") or self.meta.get("warmup_steps")
            if isinstance(w, (int, float)) and w > 0:
                out = int(w)
        self._cache[key] = out
        return out

    # ---- derived views
    def downsampled(self, s: Series, max_points: int = FIT_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, values, weights): finite points, or count-weighted bin means beyond ``max_points``."""
        key = ("ds", s.key, s.name, max_points)
        if key not in self._cache:
            from lossdoc.analysis.downsample import downsample_for_fit

            # (not caching the float steps: at 10^7 points that would hold 80 MB for the whole run)
            self._cache[key] = downsample_for_fit(s.steps, s.values, max_points=max_points)
        return self._cache[key]

    def trend(self, s: Series, lo: float, hi: float, *, max_points: int = FIT_POINTS) -> Any:
        """Cached HAC trend test (``analysis.stats.trend_test``) of ``s`` on steps ``[lo, hi]``
        (down-sampled); records its p-values for false-alarm control. None if < 3 points."""
        key = ("trend", s.key, s.name, float(lo), float(hi), max_points)
        if key in self._cache:
            return self._cache[key]
        x, y, _ = self.downsampled(s, max_points)
        keep = (x >= lo) & (x <= hi)
        res = robust_trend(x[keep], y[keep])
        if res is not None:
            self.pvalues.extend([res.pvalue_increasing, res.pvalue_decreasing])
        self._cache[key] = res
        return res

    def test_pvalue(self, p: float | None) -> None:
        """Record a p-value of a test a detector ran itself (enters false-alarm control)."""
        if p is not None and math.isfinite(p):
            self.pvalues.append(float(p))

    @property
    def last_step(self) -> int | None:
        s = self.loss("train") or self.loss("val")
        if s is None or not len(s):
            return None
        return int(s.steps[-1])

    @property
    def total_steps(self) -> int | None:
        t = self.meta.get("total_steps") or self.meta.get("max_steps")
        return int(t) if isinstance(t, (int, float)) and t > 0 else None

    @property
    def horizon(self) -> int | None:
        """--horizon, else the planned total when the log states it (and it lies ahead), else 2x the last step."""
        if self._horizon:
            return int(self._horizon)
        last = self.last_step
        if last is None:
            return None
        tot = self.total_steps
        if tot and tot > last:
            return tot
        return max(2 * last, last + 1)

    def fit(self, s: Series) -> Any:
        """Cached ``analysis.fitting.fit_curve`` of ``s`` (down-sampled); None if it fails or is too short."""
        key = ("fit", s.key, s.name)
        if key not in self._cache:
            res = None
            x, y, _ = self.downsampled(s)
            if x.size >= 6:
                try:
                    from lossdoc.analysis.fitting import fit_curve

                    res = fit_curve(x, y)
                except (ValueError, RuntimeError, ArithmeticError):
                    res = None
            self._cache[key] = res
        return self._cache[key]

    def extrapolation(self, s: Series) -> Any:
        """Cached ``analysis.fitting.extrapolate`` of ``s`` to :attr:`horizon` (90% interval)."""
        key = ("extrap", s.key, s.name)
        if key not in self._cache:
            res = None
            x, y, _ = self.downsampled(s)
            h = self.horizon
            if x.size >= 6 and h:
                try:
                    from lossdoc.analysis.fitting import extrapolate

                    res = extrapolate(x, y, h, level=0.9, fit=self.fit(s))  # the same fit, not refitted
                except (ValueError, RuntimeError, ArithmeticError):
                    res = None
            self._cache[key] = res
        return self._cache[key]


def robust_trend(x: np.ndarray, y: np.ndarray) -> Any:
    """Trend test used by every rule: ``analysis.stats.trend_test`` (OLS slope, HAC s.e. with AR(1)
    prewhitening), combined with the Hamed-Rao Mann-Kendall test; None below 3 points.

    The AR(1)-prewhitened HAC test is conservative when the trend is monotone but curved (an
    accelerating divergence, a widening gap): the curvature looks like autocorrelation. The
    Hamed-Rao Mann-Kendall test only assumes monotonicity. Both keep their size under
    autocorrelated noise; the smaller one-sided p-value is used with a Bonferroni factor of 2
    (``method = "ols-hac|mann-kendall"``). Below :data:`SHORT_TREND` points the prewhitened test
    has about one degree of freedom and can never reject, so the classic (exact-size, rank-based)
    Mann-Kendall p-values are used instead (``method = "mann-kendall"``); the OLS slope is kept
    as the effect size either way.
    """
    from lossdoc.analysis.stats import mann_kendall, trend_test

    n = int(np.isfinite(y).sum())
    if n < 3:
        return None
    res = trend_test(x, y)
    if not np.isfinite(res.pvalue_increasing):
        return res
    short = n < SHORT_TREND
    mk = mann_kendall(y, correction=None if short else "hamed-rao")
    if not np.isfinite(mk.pvalue):
        return res
    half = mk.pvalue / 2.0
    mk_inc = half if mk.s > 0 else 1.0 - half
    mk_dec = half if mk.s < 0 else 1.0 - half
    if short:
        return dataclasses.replace(res, pvalue=float(mk.pvalue), pvalue_increasing=float(mk_inc),
                                   pvalue_decreasing=float(mk_dec), tstat=float(mk.z), method="mann-kendall")
    p_inc = min(1.0, 2 * min(res.pvalue_increasing, mk_inc))
    p_dec = min(1.0, 2 * min(res.pvalue_decreasing, mk_dec))
    return dataclasses.replace(res, pvalue_increasing=p_inc, pvalue_decreasing=p_dec,
                               pvalue=min(1.0, 2 * min(p_inc, p_dec)), method="ols-hac|mann-kendall")


# --------------------------------------------------------------------------- rules & config
def _snake(k: str) -> str:
    return k.replace("-", "_")


def bind_params(spec: RuleSpec, override: dict[str, Any] | None, cfg_path: str = "") -> tuple[dict[str, Any], Severity]:
    """Rule defaults updated by a ``[tool.lossdoc.rules.<rule>]`` table; type-checked against the defaults."""
    params = dict(spec.params)
    severity = spec.severity
    for k, v in (override or {}).items():
        where = f"tool.lossdoc.rules.{spec.name}.{k}" if cfg_path.endswith("pyproject.toml") else f"rules.{spec.name}.{k}"
        if k == "severity":
            try:
                severity = Severity.parse(v)
            except (ValueError, AttributeError):
                raise ConfigError(f"{where}: severity must be error, warning or info (got {v!r})", path=cfg_path or None) from None
            continue
        if k not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ConfigError(f"unknown key {where!r} (parameters of {spec.id}: {known}; or severity)",
                              path=cfg_path or None)
        params[k] = check_param(where, v, params[k], cfg_path or None)  # types, ranges, finite numbers
    return params, severity


def _matches(spec: RuleSpec, selector: str) -> bool:
    s = selector.strip()
    if not s:
        return False
    if s.upper() == "ALL":
        return True
    if s.upper() == spec.id or s == spec.name or s in spec.aliases:
        return True
    if s == spec.category or s in spec.groups:
        return True
    # prefix: "SP" or "SP0" (ruff style)
    return s.upper() == s and spec.id.startswith(s)


def select_rules(rules: dict[str, RuleSpec], config: Any) -> list[RuleSpec]:
    """Rules in force: (select + extend-select) - ignore; preview rules only with ``preview``."""
    chosen = []
    sel = tuple(config.select) + tuple(config.extend_select)
    known = [s for s in sel + tuple(config.ignore) if s.strip()]
    for s in known:
        if not any(_matches(r, s) for r in rules.values()):
            raise ConfigError(f"no rule matches {s!r} (see `lossdoc rules`)", path=config.path or None)
    for r in rules.values():
        if r.status == "removed" or (r.status == "preview" and not config.preview):
            continue
        if any(_matches(r, s) for s in sel) and not any(_matches(r, s) for s in config.ignore):
            chosen.append(r)
    if not chosen:  # no rule, no finding: every log would pass the gate
        raise ConfigError("the selection leaves no rule to run (select/ignore), so any log would pass; "
                          "select at least one rule", path=config.path or None)
    return chosen


def _rule_overrides(rules: dict[str, RuleSpec], config: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, table in config.rules.items():
        spec = next((r for r in rules.values() if _matches(r, key) and (key.upper() == r.id or key == r.name
                                                                          or key in r.aliases)), None)
        if spec is None:
            raise ConfigError(f"unknown rule {key!r} in rules table (see `lossdoc rules`)", path=config.path or None)
        out.setdefault(spec.id, {}).update(table)
    return out


def get_detectors() -> dict[str, Detector]:
    from lossdoc.plugins import get_plugin_manager

    out: dict[str, Detector] = {}
    for d in get_plugin_manager().hook.lossdoc_detectors():
        out.update(d)
    return out


# --------------------------------------------------------------------------- running
class _SafeDict(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _NamesOnly(string.Formatter):
    """Plain ``{name}`` fields only: a rule file is data, so ``{run.__class__}`` or ``{run[0]}``
    (attribute or index access into Python objects) is left as written."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            return "{" + field_name + "}", field_name
        return super().get_field(field_name, args, kwargs)


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill ``{name}`` fields; unknown fields are left as written (never an exception)."""
    vals = _SafeDict({k: (fmt_num(v) if isinstance(v, float) else v) for k, v in values.items()})
    try:
        text = _NamesOnly().vformat(template, (), vals)
    except (ValueError, IndexError, AttributeError):
        text = template
    return " ".join(text.split())


def _targets(ctx: RunContext, spec: RuleSpec) -> list[Series | None]:
    if not spec.applies_to:
        return [None]
    out: list[Series | None] = []
    seen: set[tuple[str, str]] = set()
    for pat in spec.applies_to:
        split, _, metric = pat.partition("/")
        if metric == "loss" and "*" not in split:
            s = ctx.loss(split)
            if s is not None and (s.split, s.name) not in seen:
                out.append(s)
                seen.add((s.split, s.name))
            continue
        for s in ctx.all_series():
            if fnmatch.fnmatchcase(s.key, pat) and (s.split, s.name) not in seen:
                out.append(s)
                seen.add((s.split, s.name))
    return out


def _control_false_alarms(ctx: RunContext, hits: list[tuple[RuleSpec, Series | None, Hit]]) -> list[
        tuple[RuleSpec, Series | None, Hit]]:
    """Benjamini-Hochberg across every test run on this run: a test-based hit stays only if its
    p-value is significant after adjusting for all the run's tests (windows, series, rules)."""
    ps = ctx.pvalues
    if not ps:
        return hits
    arr = np.sort(np.asarray(ps, dtype=float))
    m = arr.size
    out = []
    for item in hits:
        h = item[2]
        p = h.evidence.pvalue
        if h.alpha is None or p is None or not math.isfinite(p):
            out.append(item)
            continue
        rank = int(np.searchsorted(arr, p, side="right"))  # number of tests with p' <= p
        adj = min(1.0, p * m / max(rank, 1))
        if adj <= h.alpha:
            extra = dict(h.evidence.extra)
            extra["pvalue_bh"] = adj
            extra["tests_in_run"] = m
            h.evidence = Evidence(h.evidence.method, h.evidence.statistic, h.evidence.threshold,
                                  h.evidence.pvalue, h.evidence.window, extra)
            out.append(item)
    return out


def check_run(ctx: RunContext, rules: list[tuple[RuleSpec, dict[str, Any], Severity]],
              detectors: dict[str, Detector]) -> list[Finding]:
    """Run every bound rule on one run; findings sorted by severity then step."""
    raw: list[tuple[RuleSpec, Series | None, Hit]] = []
    sev_of: dict[str, Severity] = {}
    for spec, params, severity in rules:
        fn = detectors.get(spec.detector)
        if fn is None:
            from lossdoc.errors import RuleError

            raise RuleError(f"rule {spec.id} names unknown detector {spec.detector!r}", path=spec.path)
        ns = SimpleNamespace(**{_snake(k): v for k, v in params.items()}, rule=spec.id)
        sev_of[spec.id] = severity
        for target in _targets(ctx, spec):
            # NOTE: values near the float limit (+-1.7e308) overflow sums and means; they become inf/nan,
            # which every detector's comparisons treat as "no finding", so the warning is noise here
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                raw.extend((spec, target, hit) for hit in fn(ctx, target, ns))
    findings = []
    for spec, target, hit in _control_false_alarms(ctx, raw):
        sev = hit.severity if hit.severity is not None else sev_of[spec.id]
        # a user's re-grade of the rule caps/lifts the default; a detector's harm grade applies below it
        if hit.severity is not None and sev_of[spec.id] != spec.severity:
            sev = sev_of[spec.id]
        values = {"run": ctx.run, "step": hit.start_step, **hit.values}
        findings.append(Finding(
            rule=spec.id, name=spec.name, category=spec.category, severity=sev, run=ctx.run,
            split=hit.split or (target.split if target else None),
            metric=hit.metric or (target.metric if target else None),
            start_step=hit.start_step, end_step=hit.end_step,
            message=" ".join(hit.message.split()),
            recommendation=render_template(spec.recommendation, values),
            evidence=hit.evidence,
        ))
    findings.sort(key=lambda f: (-int(f.severity), f.start_step if f.start_step is not None else -1, f.rule))
    return findings


def run_checks(logset: LogSet, config: Any, horizon: int | None = None,
               progress: Callable[[str], None] | None = None, *,
               summaries: bool = True) -> tuple[list[Any], list[dict[str, Any]]]:
    """Check every run of ``logset``; returns (RunReports, rules in force with their parameters).

    ``summaries=False`` skips the per-run summary's curve fits (rule-case tests, the detection
    benchmark); findings are the same."""
    from lossdoc.report.model import RunReport

    rules = load_rules(list(config.rule_paths))
    chosen = select_rules(rules, config)
    overrides = _rule_overrides(rules, config)
    bound = []
    for spec in chosen:
        params, sev = bind_params(spec, overrides.get(spec.id), config.path)
        bound.append((spec, params, sev))
    detectors = get_detectors()
    reports = []
    for src in logset.sources:
        for run in src.runs:
            if progress:
                progress(f"checking {run}")
            blocks = src.run_blocks(run)
            notes = [n for n in src.notes if n.run in (None, run)]
            ctx = RunContext(run, blocks, notes=notes, meta=src.meta, source=src.path, format=src.format,
                             horizon=horizon)
            ignored = config.ignored_for_run(run)
            run_rules = [b for b in bound if not any(_matches(b[0], s) for s in ignored)]
            findings = check_run(ctx, run_rules, detectors)
            if summaries:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    summary, curves = summarize(ctx)
                _drop_unreliable_extrapolation(summary, curves, findings)
            else:
                from lossdoc.report.model import RunSummary

                summary, curves = RunSummary(), {}
            reports.append(RunReport(run=run, source=src.path, format=src.format, series=ctx.series_info(),
                                     summary=summary, findings=findings, notes=notes,
                                     frame=blocks[0] if len(blocks) == 1 else None, data=ctx.series_map(),
                                     curves=curves, meta=dict(src.meta)))
    in_force = [{"id": s.id, "name": s.name, "category": s.category, "severity": str(sev), "params": p}
                for s, p, sev in bound]
    return reports, in_force


# --------------------------------------------------------------------------- summary
#: An extrapolation is not shown when its backtest missed by more than this (relative error) ...
MAX_BACKTEST_ERROR = 0.5
#: ... or its interval is wider than this many times the loss range the run itself covered.
MAX_INTERVAL_WIDTH = 2.0


def _drop_unreliable_extrapolation(summary: Any, curves: dict[str, Any], findings: list[Finding]) -> None:
    """Say "no reliable fit" rather than print a number nobody should trust: a run that diverged or
    went non-finite is not a learning curve, and a fit whose backtest failed or whose interval is
    wider than the run's own range predicts nothing."""
    ex = summary.extrapolated
    if ex is None:
        return
    reason = None
    broken = [f for f in findings if f.category in ("divergence", "non_finite") and f.severity == Severity.ERROR]
    if broken:
        reason = f"the run has a {broken[0].name} finding; a learning-curve fit does not describe it"
    elif ex.backtest_error is not None and ex.backtest_error > MAX_BACKTEST_ERROR:
        reason = (f"a fit on the first half missed the second half by {ex.backtest_error:.0%} "
                  f"(more than {MAX_BACKTEST_ERROR:.0%})")
    else:
        observed = summary.extra.get("observed_range")
        width = ex.high - ex.low
        level = summary.final_train_loss if summary.final_train_loss is not None else summary.final_val_loss
        if observed and observed > 0 and width > MAX_INTERVAL_WIDTH * observed:
            reason = (f"its 90% interval ({ex.low:.4g} to {ex.high:.4g}) is wider than "
                      f"{MAX_INTERVAL_WIDTH:g}x the range the loss covered in the run")
        elif level is not None and level != 0 and width > MAX_INTERVAL_WIDTH * abs(level):
            reason = (f"its 90% interval ({ex.low:.4g} to {ex.high:.4g}) is wider than "
                      f"{MAX_INTERVAL_WIDTH:g}x the final loss {level:.4g}")
    if reason is None and ex.low < 0 <= summary.extra.get("observed_min", -1.0):
        # A loss that was never negative (cross-entropy, MSE) cannot become negative: truncate the band.
        ex.low = 0.0
        summary.extra["extrapolation"] = "interval truncated at 0 (the loss was never negative)"
        fit = curves.get("fit")
        if fit and fit.get("low"):
            fit["low"] = [None if v is None else max(0.0, v) for v in fit["low"]]
    if reason:
        summary.extrapolated = None
        summary.extra["extrapolation"] = f"no reliable fit: {reason}"
        curves.pop("fit", None)


def final_level(values: np.ndarray) -> float | None:
    """Final loss level: the mean of the last 5% of finite points (at least 3, at most 1,000), so one
    noisy last point does not decide it; the last point itself when fewer than 3 are logged."""
    fin = np.isfinite(values)
    n = int(np.count_nonzero(fin))
    if not n:
        return None
    if n < 3:
        return float(values[fin][-1])
    k = int(min(max(3, math.ceil(0.05 * n)), 1000))
    # the last k finite values, from a tail window grown until it holds k of them (no full-length copy)
    size = k
    while int(np.count_nonzero(fin[-size:])) < k:
        size = min(values.size, size * 4)
    tail = values[-size:][fin[-size:]][-k:]
    big = float(np.max(np.abs(tail)))
    return float(np.mean(tail / big) * big) if big > 1e300 else float(np.mean(tail))  # no overflow at 1e308


def summarize(ctx: RunContext) -> tuple[Any, dict[str, Any]]:
    """:class:`RunSummary` and chart ``curves`` of one run."""
    from lossdoc.report.model import Extrapolation, RunSummary

    summ = RunSummary()
    curves: dict[str, Any] = {"smoothing": {"method": "ema", "weight": 0.6}}
    tr, va = ctx.loss("train"), ctx.loss("val")
    if tr is not None:
        summ.final_train_loss = final_level(tr.values)
        x, y, _ = ctx.downsampled(tr, 20)  # best 5% window (bin means), robust to a single low point
        if y.size:
            summ.best_train_loss = float(np.min(y))
        summ.extra["train_loss_series"] = tr.name
    if va is not None:
        st, v = va.finite()
        if v.size:
            i = int(np.argmin(v))
            summ.best_val_loss, summ.best_val_step = float(v[i]), int(st[i])
            summ.final_val_loss = float(v[-1])
    main = tr if tr is not None and len(tr) else va
    if main is not None and len(main):
        summ.first_step, summ.last_step = int(main.steps[0]), int(main.steps[-1])
    summ.total_steps = ctx.total_steps
    if main is not None and np.isfinite(main.values).sum() >= 2:
        _, yb, _ = ctx.downsampled(main, 200)
        if yb.size:
            summ.extra["observed_range"] = float(np.max(yb) - np.min(yb))
            summ.extra["observed_min"] = float(np.nanmin(main.values[np.isfinite(main.values)]))
    if main is not None and np.isfinite(main.values).sum() >= 6:
        ex = ctx.extrapolation(main)
        if ex is not None:
            summ.extrapolated = Extrapolation(
                step=int(ex.step), loss=float(ex.loss), low=float(ex.low), high=float(ex.high),
                model=str(ex.model), asymptote=None if ex.asymptote is None else float(ex.asymptote),
                backtest_error=None if ex.backtest_error is None else float(ex.backtest_error),
                extra={"series": f"{main.split}/{main.metric}"})
        fit = ctx.fit(main)
        if fit is not None and summ.first_step is not None and ctx.horizon:
            grid = np.unique(np.linspace(summ.first_step, ctx.horizon, 200).round().astype(np.int64))
            try:
                pred = np.asarray(fit.predict(grid), dtype=float)
                lo, hi = fit.interval(grid)
                curves["fit"] = {"split": main.split, "metric": main.metric, "model": str(fit.model),
                                 "step": grid.tolist(), "loss": _clean_list(pred),
                                 "low": _clean_list(lo), "high": _clean_list(hi)}
            except (ValueError, RuntimeError, ArithmeticError, TypeError):
                pass
    return summ, curves


def _clean_list(a: Any) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float)]
