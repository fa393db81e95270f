"""The detector API: what a detector is given (a :class:`RunContext` and a :class:`Series`) and what
it returns (:class:`Hit` objects).

A detector is ``fn(ctx, series, params) -> Iterable[Hit]`` (:data:`Detector`), registered by name
through the plugin door (``lossdoc_detectors``); a rule file binds it to parameters. The context
gives lazy, cached access to the run's series, their down-sampled copies, trend tests (whose
p-values enter the run's false-alarm control), curve fits and the learning rate in force.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl

from lossdoc.analysis._arrays import search
from lossdoc.checks.findings import Evidence, Severity
from lossdoc.checks.series import (
    Series, adversarial_losses, drop_unevaluated, final_level, final_level_words, final_tail, mask_placeholders,
    resolve_loss, series_from_blocks, sum_on_shared_steps,
)
from lossdoc.model import IngestNote, SeriesInfo

#: Points a down-sampled series keeps for trend tests and fits (bin means).
FIT_POINTS = 400
#: Windows with fewer points than this use the Mann-Kendall test instead of the HAC trend test.
SHORT_TREND = 12


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
        self._series.update(series_from_blocks(blocks))
        #: {(split, metric): count} of trainer placeholders masked as NaN (``series.mask_placeholders``)
        #: {(split, metric): (count, first step, last step)} of leading zeros left out (``series.drop_unevaluated``)
        self.unevaluated = drop_unevaluated(self._series)
        #: {(split, metric): (value, points)} of those that were a script's sentinel (``-1000``), not HF's 0.0
        self.sentinels: dict[tuple[str, str], tuple[float, np.ndarray]] = {}
        self.placeholders = mask_placeholders(self._series, self.sentinels)
        self._cache: dict[Any, Any] = {}
        #: one directional p-value per decision a rule took, by rule id (false-alarm control: each rule's
        #: decisions over series and windows are one Benjamini-Hochberg family)
        self.families: dict[str, list[float]] = {}
        #: the rule whose detector is running (set by the run loop)
        self.current_rule: str = ""
        #: the findings of the symptom rules, for the likely-cause rules that run after them
        self.symptoms: list[Any] = []

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
        """The split's loss, as :func:`lossdoc.checks.series.resolve_loss` decides it (cached). The held-out
        loss stands in for ``"val"``: the validation loss, or the test loss of a log that evaluates on a test
        split only (``Train Loss: ... | Test Loss: ...`` every epoch of a hand-rolled loop: its test set is the
        one held out during training), as :func:`lossdoc.checks.series.held_out_loss` and the report's chart
        take it -- so every check of a validation loss (spikes, plateaus, swings, the train-validation gap)
        judges it too."""
        key = ("loss", split)
        if key not in self._cache:
            s = self.own_loss(split)
            if s is None and split == "val":
                s = self.own_loss("test")
            self._cache[key] = s
        return self._cache[key]

    def own_loss(self, split: str) -> Series | None:
        """The split's own loss, with no stand-in (:meth:`loss` gives the test loss for "val" when the log has no
        validation loss): what the run summary's ``*_val_loss`` fields and the baseline comparison report."""
        key = ("own_loss", split)
        if key not in self._cache:
            self._cache[key] = self._resolve_loss(split)
        return self._cache[key]

    def _resolve_loss(self, split: str) -> Series | None:
        return resolve_loss(self._series, split)

    def adversarial(self, split: str = "train") -> list[Series]:
        """The split's adversarial losses (GAN discriminator/critic and generator sides), never part of
        :meth:`loss`; [] when the split does not name both sides (:func:`lossdoc.checks.series.adversarial_losses`)."""
        key = ("adversarial", split)
        if key not in self._cache:
            self._cache[key] = adversarial_losses(self._series, split)
        return self._cache[key]

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

    def checkpoints(self) -> tuple[list[int], str] | None:
        """(steps where a checkpoint was saved, where that is known from) when the log says:
        ``checkpoint-N/`` directories beside it, else every ``save_steps`` up to the last step;
        None when it does not say."""
        got = self.meta.get("checkpoint_steps")
        if isinstance(got, list) and got:
            return sorted(int(x) for x in got), "checkpoint-N directories"
        every = self.meta.get("save_steps")
        last = self.last_step
        if isinstance(every, (int, float)) and not isinstance(every, bool) and every >= 1 and last:
            k = int(every)
            return list(range(k, last + 1, k)), f"save_steps = {k}"
        return None

    def checkpoint_for(self, s: Series, step: int) -> tuple[int, float | None, str, int | None] | None:
        """The saved checkpoint to keep for the best ``step`` of the evaluated series ``s``: ``step``
        itself when one was saved there, else the saved one whose logged value of ``s`` (at the
        checkpoint's step or the last evaluation before it) is lowest; (step, that value, where the
        checkpoints are known from, the step that value was logged at). None when the log does not
        say where checkpoints are."""
        ck = self.checkpoints()
        if ck is None:
            return None
        steps, how = ck
        st, v = s.finite()
        if step in steps:
            i = int(search(st, step, side="right")) - 1
            return step, float(v[i]) if i >= 0 else None, how, int(st[i]) if i >= 0 else None
        best: tuple[float, int, float | None, int | None] | None = None
        for c in steps:
            i = int(search(st, c, side="right")) - 1
            val = float(v[i]) if i >= 0 else None
            key = (math.inf if val is None else val, abs(c - step))
            if best is None or key < (best[0], abs(best[1] - step)):
                best = (key[0], c, val, int(st[i]) if i >= 0 else None)
        return (best[1], best[2], how, best[3]) if best is not None else None

    def lr_at(self, step: float) -> float | None:
        """Learning rate in force at ``step``: the lr series (last logged value at or before it)
        or the configured LR from the log's hyper-parameters."""
        s = self.lr()
        if s is not None:
            st, v = s.finite()
            if st.size:
                i = int(search(st, step, side="right")) - 1
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
        if until is not None:  # steps are sorted: the points up to it are a prefix (no copy of them)
            end = int(search(st, until, side="right")) if until == until else 0
            st, v = st[:end], v[:end]
        if not st.size:
            return None
        # the first maximum, as np.argmax, which copies a read-only array such as one polars lends
        i = int(np.flatnonzero(v == np.max(v))[0])
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
        """Cached trend test (:func:`robust_trend`) of ``s`` on steps ``[lo, hi]`` (down-sampled); None
        if < 3 points. Computing it records nothing: the detector records the one directional p-value
        its decision rests on with :meth:`decide`."""
        key = ("trend", s.key, s.name, float(lo), float(hi), max_points)
        if key in self._cache:
            return self._cache[key]
        x, y, _ = self.downsampled(s, max_points)
        keep = (x >= lo) & (x <= hi)
        res = robust_trend(x[keep], y[keep])
        self._cache[key] = res
        return res

    def decide(self, p: float | None) -> None:
        """Record the one directional p-value a decision of the running rule rests on (whether or not
        it ends in a finding). Each rule's decisions form one false-discovery family: a test that only
        feeds a message is never recorded, and unrelated rules do not dilute each other."""
        if p is not None and math.isfinite(p):
            self.families.setdefault(self.current_rule, []).append(float(p))

    test_pvalue = decide  # the name detectors written before 0.2 use

    @property
    def pvalues(self) -> list[float]:
        """Every recorded decision p-value of this run (all families)."""
        return [p for ps in self.families.values() for p in ps]

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
        """Cached ``analysis.fitting.extrapolate`` of ``s`` to :attr:`horizon` (90% interval), within
        the series' domain: for a series that was never negative (a loss) a lower bound below 0 is
        raised to 0, and a prediction below 0, or an interval that is not ordered around its
        point, gives None (:meth:`extrapolation_issue` says why)."""
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
            issue = None
            used, since = self.fit(s), None
            if res is not None:
                res, issue = _in_domain(res, s)
            if res is not None and (res.backtest_error is None or res.backtest_error <= MAX_BACKTEST_ERROR):
                issue = misses_end(used, s)
                if issue is not None:
                    res = None
                    # the families only flatten, so a fit to the whole run misses an end it did not expect (a
                    # cosine schedule's flattening, a drop at an LR cut): the last half of the run alone, when a
                    # fit to it meets the end, its backtest holds and its interval is sane, is extrapolated instead
                    tail = self._tail_extrapolation(s, h)
                    if tail is not None:
                        res, used, since = tail
                        issue = None
            self._cache[key] = res
            self._cache[("extrap-issue", s.key, s.name)] = issue
            self._cache[("extrap-fit", s.key, s.name)] = (used if res is not None else None, since)
        return self._cache[key]

    def _tail_extrapolation(self, s: Series, horizon: int | None) -> tuple[Any, Any, int] | None:
        """(extrapolation, fit, first step fitted) from a fit to the last half of ``s``'s steps alone, or None
        when that fit also misses the end, its backtest fails, or its interval is wider than the rules allow."""
        x, y, _ = self.downsampled(s)
        if not horizon or x.size < 2:
            return None
        keep = x >= x[0] + 0.5 * (x[-1] - x[0])
        xt, yt = x[keep], y[keep]
        if xt.size < 8:
            return None
        try:
            from lossdoc.analysis.fitting import extrapolate, fit_curve

            fit = fit_curve(xt, yt)
            if fit is None:
                return None
            res = extrapolate(xt, yt, horizon, level=0.9, fit=fit)
        except (ValueError, RuntimeError, ArithmeticError):
            return None
        if res is None:
            return None
        res, issue = _in_domain(res, s)
        if res is None or issue is not None or misses_end(fit, s) is not None:
            return None
        # a fit to half the points is held to a tighter band than the whole run's: its 90% interval at most
        # TAIL_MAX_WIDTH of the end level, and clear of 0 for a loss that was never negative (a band truncated
        # at 0 is a fit that does not know where the loss is going: a YOLO run's drop when mosaic augmentation
        # is switched off for its last epochs, fitted as if it went on)
        end = final_level(s.values)
        if end is None or end == 0 or float(res.high) - float(res.low) > TAIL_MAX_WIDTH * abs(end):
            return None
        if never_negative(s) and not float(res.low) > 0:
            return None
        return res, fit, int(xt[0])

    def extrapolation_fit(self, s: Series) -> tuple[Any, int | None]:
        """(the fit :meth:`extrapolation` of ``s`` extrapolated, the first step it was fitted from when only the
        last half of the run was) -- (None, None) when nothing was extrapolated."""
        self.extrapolation(s)
        return self._cache.get(("extrap-fit", s.key, s.name), (None, None))

    def extrapolation_issue(self, s: Series) -> str | None:
        """Why :meth:`extrapolation` of ``s`` gave None although a curve was fitted (or None)."""
        self.extrapolation(s)
        return self._cache.get(("extrap-issue", s.key, s.name))


#: An extrapolation is not shown when its backtest missed by more than this (relative error) ...
MAX_BACKTEST_ERROR = 0.5
#: ... or its interval is wider than this many times the loss range the run itself covered (or its level).
MAX_INTERVAL_WIDTH = 2.0


def unreliable_fit(ex: Any, observed_range: float | None, level: float | None) -> str | None:
    """Why the extrapolation ``ex`` (in its series' domain, :meth:`RunContext.extrapolation`) predicts
    nothing anyone should quote, or None: a backtest (the fit on the first half predicting the second)
    that missed by more than :data:`MAX_BACKTEST_ERROR`, or a 90% interval wider than
    :data:`MAX_INTERVAL_WIDTH` x the range the series covered (``observed_range``), or x its end
    ``level``. The run summary drops such an extrapolation ("no reliable fit: ..."); SI001 does not
    quote it either, so a report never predicts a level its own summary calls unreliable."""
    from lossdoc.numfmt import fmt_num

    if ex.backtest_error is not None and ex.backtest_error > MAX_BACKTEST_ERROR:
        return (f"a fit on the first half missed the second half by {ex.backtest_error:.0%} "
                f"(more than {MAX_BACKTEST_ERROR:.0%})")
    width = float(ex.high) - float(ex.low)
    if observed_range and observed_range > 0 and width > MAX_INTERVAL_WIDTH * observed_range:
        return (f"its 90% interval ({fmt_num(ex.low)} to {fmt_num(ex.high)}) is wider than "
                f"{MAX_INTERVAL_WIDTH:g}x the range the loss covered in the run")
    if level is not None and math.isfinite(level) and level != 0 and width > MAX_INTERVAL_WIDTH * abs(level):
        return (f"its 90% interval ({fmt_num(ex.low)} to {fmt_num(ex.high)}) is wider than "
                f"{MAX_INTERVAL_WIDTH:g}x the final loss {fmt_num(level)}")
    return None


#: A fitted curve that misses where the loss ended by more than this share of that level (and by more than
#: :data:`MAX_END_MISS_SE` standard errors of it) describes some other run's end: nothing is extrapolated
MAX_END_MISS = 0.03
MAX_END_MISS_SE = 3.0
#: the widest 90% interval, as a share of the end level, of an extrapolation fitted to the last half of a run
TAIL_MAX_WIDTH = 0.5


def misses_end(fit: Any, s: Series) -> str | None:
    """Why the fitted curve ``fit`` of ``s`` cannot be extrapolated from the end of the run, or None: at the last
    logged step it misses the end level (:func:`~lossdoc.checks.series.final_level`, the mean of the last 5% of
    values) by more than :data:`MAX_END_MISS` of that level and :data:`MAX_END_MISS_SE` standard errors of it.
    The three families only ever flatten, so a curve that ends above a loss still falling (a drop at an LR
    cut, at an epoch boundary, when augmentation is switched off for the last epochs) projects its own level --
    a value above where the loss already is -- and one that ends below projects a fall the run never showed."""
    from lossdoc.numfmt import fmt_num, fmt_step

    if fit is None or not len(s):
        return None
    tail = final_tail(s.values)  # the values the end level is the mean of
    end = final_level(s.values)
    if end is None or end == 0 or tail.size < 3:
        return None
    se = float(np.std(tail, ddof=1) / math.sqrt(tail.size))
    step = int(s.steps[-1])
    try:
        at_end = float(np.asarray(fit.predict(np.array([step], dtype=float)), dtype=float).ravel()[0])
    except (ValueError, RuntimeError, ArithmeticError, TypeError, IndexError):
        return None
    miss = at_end - end
    if not math.isfinite(at_end) or abs(miss) <= MAX_END_MISS * abs(end) or abs(miss) <= MAX_END_MISS_SE * se:
        return None
    return (f"the fitted {fit.model} curve gives {fmt_num(at_end)} at the last logged step {fmt_step(step)}, "
            f"{abs(miss) / abs(end):.0%} {'above' if miss > 0 else 'below'} where the loss ended "
            f"({fmt_num(end)}, {final_level_words(s.values)}): it does not describe the end of the run")


def never_negative(s: Series) -> bool:
    """True when every finite logged value of ``s`` is >= 0 (a loss: cross-entropy, MSE, ...)."""
    fin = np.isfinite(s.values)  # the smallest finite value, without a copy of them (10^7 points: 80 MB)
    return bool(fin.any()) and bool(np.min(s.values, where=fin, initial=np.inf) >= 0)


def _in_domain(res: Any, s: Series) -> tuple[Any, str | None]:
    """(the extrapolation with its lower bound raised to 0 for a never-negative series, None) or
    (None, why it predicts nothing): a negative point for such a series, a non-finite or unordered
    interval."""
    from lossdoc.numfmt import fmt_num, fmt_step

    vals = (float(res.loss), float(res.low), float(res.high))
    if not all(math.isfinite(v) for v in vals):
        return None, "the fitted curve gives no finite value or interval at that step"
    nonneg = never_negative(s)
    if nonneg and res.loss < 0:
        return None, (f"the fitted {res.model} curve reaches {fmt_num(res.loss)} at step {fmt_step(res.step)}, "
                      "below 0, for a loss that was never negative")
    if not res.low <= res.loss <= res.high:
        return None, f"its interval ({fmt_num(res.low)} to {fmt_num(res.high)}) does not contain the point {fmt_num(res.loss)}"
    if nonneg and res.low < 0:
        res = dataclasses.replace(res, low=0.0)
    return res, None


def robust_trend(x: np.ndarray, y: np.ndarray) -> Any:
    """Trend test used by every rule: ``analysis.stats.trend_test`` (OLS slope, HAC s.e. with AR(1)
    prewhitening), combined with the Hamed-Rao Mann-Kendall test; None below 3 points.

    The AR(1)-prewhitened HAC test is conservative when the trend is monotone but curved (an
    accelerating divergence, a widening gap): the curvature looks like autocorrelation. The
    Hamed-Rao Mann-Kendall test only assumes monotonicity. Both keep their size under
    autocorrelated noise; the smaller one-sided p-value is used with a Bonferroni factor of 2
    (``method = "ols-hac|mann-kendall"``). Below :data:`SHORT_TREND` points the prewhitened test
    has about one degree of freedom and can never reject, so the exact Mann-Kendall p-values are used
    instead (``analysis.stats.mann_kendall_exact``, ``method = "mann-kendall-exact"``); the OLS slope
    is kept as the effect size either way.
    """
    from lossdoc.analysis.stats import mann_kendall, mann_kendall_exact, trend_test

    n = int(np.isfinite(y).sum())
    if n < 3:
        return None
    res = trend_test(x, y)
    if n < SHORT_TREND:
        # exact small-sample Mann-Kendall (kendalltau exact / permutation): a monotone 5-point rise
        # reaches p = 1/120; the OLS slope stays the effect size
        s_, up, down = mann_kendall_exact(y)
        if not np.isfinite(up):
            return res
        n0 = n * (n - 1) / 2.0
        return dataclasses.replace(res, pvalue=float(min(1.0, 2 * min(up, down))), pvalue_increasing=float(up),
                                   pvalue_decreasing=float(down), tstat=float(s_ / n0), method="mann-kendall-exact")
    if not np.isfinite(res.pvalue_increasing):
        return res
    mk = mann_kendall(y, correction="hamed-rao")
    if not np.isfinite(mk.pvalue):
        return res
    mk_inc, mk_dec = mk.pvalue_increasing, mk.pvalue_decreasing
    p_inc = min(1.0, 2 * min(res.pvalue_increasing, mk_inc))
    p_dec = min(1.0, 2 * min(res.pvalue_decreasing, mk_dec))
    return dataclasses.replace(res, pvalue_increasing=p_inc, pvalue_decreasing=p_dec,
                               pvalue=min(1.0, 2 * min(p_inc, p_dec)), method="ols-hac|mann-kendall")


__all__ = ["FIT_POINTS", "SHORT_TREND", "Detector", "Hit", "RunContext", "Series", "final_level", "never_negative",
           "robust_trend",
           "sum_on_shared_steps"]
