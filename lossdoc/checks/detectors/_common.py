"""Helpers shared by the detectors (private: the detector discovery skips ``_`` modules)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from lossdoc.analysis._arrays import last_quarter_bounds, search
from lossdoc.analysis.smoothing import MAD_TO_SD, rolling_median
from lossdoc.checks.engine import RunContext, Series
from lossdoc.checks.series import SPLIT_WORD
from lossdoc.numfmt import fmt_num, fmt_step

#: Floor for relative-change denominators: tiny, so a 1e-30-scale loss is judged like a 1e0 one.
TINY = 1e-300

__all__ = ["MAD_TO_SD", "TINY", "aligned", "config_number", "framework_remedies", "head_text", "unlogged_head", "loss_range", "range_scale", "fmt_num", "fmt_step", "lr_advice", "lr_text", "noise_sd", "rel",
           "round_lr", "smooth_min", "window_mask"]


def noise_sd(y: np.ndarray) -> float:
    """Point-to-point noise s.d. from first differences (robust: MAD of diffs / sqrt 2)."""
    y = y[np.isfinite(y)]
    if y.size < 3:
        return 0.0
    d = np.diff(y)
    return float(MAD_TO_SD * np.median(np.abs(d - np.median(d))) / math.sqrt(2))


def rank_autocorr(y: np.ndarray) -> float:
    """Lag-1 autocorrelation of the ranks of ``y`` (Spearman's; one spike does not set it), 0 when undefined."""
    if y.size < 4:
        return 0.0
    # ordinal ranks, ties by position: the inverse of the stable sort order (a second stable argsort of that
    # order gives the same permutation at twice the cost: 0.3 s of a 10^7-step log's checks)
    order = np.argsort(y, kind="stable")
    r = np.empty(y.size)
    r[order] = np.arange(y.size, dtype=float)
    a, b = r[:-1] - r[:-1].mean(), r[1:] - r[1:].mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


class AboveFirst(NamedTuple):
    """:func:`above_first`'s figures."""

    first: float
    late: np.ndarray  # the last third of the values
    med: float  # its median
    rise: float  # med - first
    spread: float  # the last third's MAD-based spread
    shift: bool  # a rise of at least shift_mult x that spread
    k: int  # later values at or below the first
    later: int  # values after the first
    rho: float  # lag-1 rank autocorrelation of the last third (floored at 0)
    n_eff: float  # the later values' effective number
    pval: float  # the rank test's p-value


#: Values of the last third whose rank autocorrelation :func:`above_first` estimates at most (the last ones).
_RHO_POINTS = 200_000


def above_first(v: np.ndarray, shift_mult: float) -> AboveFirst:
    """Whether the values ``v`` (finite, in order) stayed above their first value: the median of the last
    third of them above it by ``shift_mult`` x the spread of that last third (a level shift; a dead network's
    constant loss has no spread), or the first value below nearly all of the later ones by a rank test.

    The rank test: if the first value were exchangeable with the later ones (no rise; a falling loss makes
    it only less likely to be the lowest), its rank among them would be uniform, so P(at most k of the n
    later values lie at or below it) = (k + 1) / (n + 1). Autocorrelated values carry less information:
    n and k are scaled by (1 - rho) / (1 + rho), rho the lag-1 rank autocorrelation of the last third (of its
    last 200,000 values on a longer log) (the AR(1) effective sample size, an approximation)."""
    n = v.size
    first = float(v[0])
    late = v[n - max(3, n // 3):]
    med = float(np.median(late))
    spread = float(MAD_TO_SD * np.median(np.abs(late - med)))
    rise = med - first
    later = v[1:]
    k = int((later <= first).sum())
    # lag-1 autocorrelation from the last _RHO_POINTS of the last third (a contiguous stretch, so lag 1 stays
    # lag 1): its sampling error there is ~1/sqrt(2e5), and ranking all 3.3 million of a 10^7-step log's last
    # third cost 0.4 s of its checks
    rho = max(0.0, rank_autocorr(late[-_RHO_POINTS:])) if spread > 0 else 1.0
    n_eff = later.size * (1 - rho) / (1 + rho)
    pval = min(1.0, (k * (1 - rho) / (1 + rho) + 1) / (n_eff + 1))
    return AboveFirst(first, late, med, rise, spread, bool(rise > 0 and rise >= shift_mult * spread), k,
                      int(later.size), rho, n_eff, pval)


#: Floor of :func:`range_scale`, as a fraction of the loss level (a run that covered no range at all).
RANGE_FLOOR = 0.01


def loss_range(ctx: RunContext, s: Series) -> float:
    """The range the run covered: from where it started (the first bin mean) or the
    98th percentile of the down-sampled curve's bin means, whichever is higher, down to their 2nd
    percentile, so a single spike does not set it. Cached per series."""
    key = ("range", s.key, s.name)
    if key not in ctx._cache:
        _, y, _ = ctx.downsampled(s)
        y = y[np.isfinite(y)]
        if y.size >= 2:
            # from where training started (the first bin mean, so the initial fast drop counts in
            # full) or the 98th percentile if higher, down to the 2nd percentile
            top = max(float(y[0]), float(np.percentile(y, 98)))
            ctx._cache[key] = top - float(np.percentile(y, 2))
        else:
            ctx._cache[key] = 0.0
    return ctx._cache[key]


def range_scale(ctx: RunContext, s: Series, level: float) -> float:
    """Denominator for "how big is this change": the range the run covered, floored at
    :data:`RANGE_FLOOR` x ``|level|``. A threshold relative to the *level* fails both ways: a language
    model at 3-10 nats hides a real rise, a classifier at 0.001 turns one hard batch into a "46x" jump.
    Relative to the range the run covered, 5% means the same on every loss."""
    return max(loss_range(ctx, s), RANGE_FLOOR * abs(level), TINY)


def descent_scale(ctx: RunContext, train: Series, level: float) -> float:
    """The range the training loss came *down*: from its first logged value (the initial model's loss)
    to the 2nd percentile of the down-sampled curve's bin means, floored like :func:`range_scale` at
    1% of ``|level|``. Unlike the range :func:`range_scale` uses, a loss that exploded above its start
    (from ln(10) to 10^4 at the second step, and back) does not inflate it: the gap between a training
    loss stuck at ln(10) and a validation loss 2.5x as high is not 0.03% of "the range"."""
    key = ("descent", train.key, train.name)
    if key not in ctx._cache:
        _, first = train.finite()
        _, y, _ = ctx.downsampled(train)
        y = y[np.isfinite(y)]
        ctx._cache[key] = float(first[0] - np.percentile(y, 2)) if y.size >= 2 and first.size else 0.0
    return max(ctx._cache[key], RANGE_FLOOR * abs(level), TINY)


def descent_ends(ctx: RunContext, train: Series) -> tuple[float, int, float] | None:
    """(first logged value, its step, low) behind :func:`descent_scale`, for a message: the low is the 2nd
    percentile of the down-sampled curve's bin means (derived). None when the series has too few points."""
    st, first = train.finite()
    _, y, _ = ctx.downsampled(train)
    y = y[np.isfinite(y)]
    if y.size < 2 or not first.size:
        return None
    return float(first[0]), int(st[0]), float(np.percentile(y, 2))


def covered_scale(ctx: RunContext, s: Series, level: float) -> tuple[float, str]:
    """(scale, what it is, for a message): the smaller of :func:`range_scale` and :func:`descent_scale`,
    so an explosion above the start (2.3 -> 5e4 -> 2.3) does not inflate "the range" later changes are
    sized against; the message names the one used."""
    rng, down = range_scale(ctx, s, level), descent_scale(ctx, s, level)
    if down < rng:
        return down, "the range the loss came down from its first logged value"
    return rng, "the range the run covered"


def rel(a: float, b: float) -> float:
    """(a - b) / |b| with a floor on the denominator."""
    return (a - b) / max(abs(b), TINY)


#: Above this many points :func:`smooth_min` runs on equal-width bin means (a fifth as many bins).
SMOOTH_MIN_MAX_POINTS = 20_000


def smooth_min(x: np.ndarray, y: np.ndarray, *, value: bool = False, centre_edges: bool = False) -> Any:
    """Index of the minimum of a centred running median over ~5% of the points (at least 3 or 5),
    so a low noisy stretch (autocorrelated noise dips for several points) does not set "the best
    step"; with ``value=True`` also that smoothed minimum level. Starting a rise test at a noise
    dip would bias it upwards.

    ``x`` is sorted. Beyond :data:`SMOOTH_MIN_MAX_POINTS` points (an XGBoost or per-step validation
    series) the same window, 5% of the run, slides over 4,000 bin means and the index is the point
    nearest the best bin's mean step: the exact running median's truncated edge windows cost
    O(n^2) (1 s at 2*10^5 points, hours at 10^7).

    ``centre_edges``: the running median is centred and its first windows are cut at the series start (the
    window at index 0 holds the first k//2 + 1 points). When the lowest one is such a truncated window, its
    median belongs to the centre of the points it was taken over, not to index 0: a validation loss that
    bottomed out within its first few evaluations (an LM's 11.07 -> 5.43 -> 4.87, then up to 8.5 over 20
    evaluations) would otherwise have the untrained model's evaluation stand in as "the minimum" (OF001
    measures its rise from there). The level returned is the window's median either way; interior windows,
    short series and the binned path are unchanged."""
    n = y.size
    if n > SMOOTH_MIN_MAX_POINTS:
        from lossdoc.analysis.downsample import bin_series

        b = bin_series(x, y, SMOOTH_MIN_MAX_POINTS // 5)
        keep = b.count > 0
        bx = b.step[keep]
        j, level = smooth_min(bx, b.mean[keep], value=True)
        i = int(np.clip(search(x, bx[j]), 1, n - 1))
        i = i - 1 if abs(x[i - 1] - bx[j]) <= abs(x[i] - bx[j]) else i
        return (i, level) if value else i
    if n < 5:
        i = int(np.argmin(y))
        return (i, float(y[i])) if value else i
    from lossdoc.analysis.smoothing import rolling_median

    k = max(5, n // 20) if n >= 15 else 3
    sm = rolling_median(y, k, trailing=False)
    i = int(np.nanargmin(sm))
    level = float(sm[i])
    half_lo = (k - 1) // 2
    if centre_edges and i < half_lo:
        i = (i + k - 1 - half_lo) // 2  # the truncated window is [0, i + half_hi]: its centre
    return (i, level) if value else i


def window_mask(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (x >= lo) & (x <= hi)


def round_lr(v: float, sig: int = 2) -> str:
    """A learning rate as people write it: 3e-4, 1.5e-5 (``sig`` significant digits; 2 for a target)."""
    if v <= 0 or not math.isfinite(v):
        return fmt_num(v)
    e = math.floor(math.log10(v))
    m = round(v / 10**e, sig - 1)
    if m >= 10:
        m, e = m / 10, e + 1
    ms = f"{m:g}"
    if e < -2 or e > 3:
        return f"{ms}e{e}"
    text = f"{m * 10**e:.{max(-e + sig - 1, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def shown_lr(v: float) -> str:
    """A logged or configured learning rate as the log has it (4 significant digits, like every logged
    number in a report, written as people write LRs: 0.0139, 2.98e-5); :func:`round_lr` is for targets."""
    return round_lr(v, 4)


def lr_text(ctx: RunContext, step: float | None) -> str:
    """', with LR 6e-4 in force' or '' when the log does not say."""
    if step is None:
        return ""
    lr = ctx.lr_at(step)
    if not lr:
        return ""
    s = ctx.lr()
    st = s.finite()[0] if s is not None else np.empty(0)
    if not st.size:
        # no LR logged: the value is the configured one (a hyper-parameter the log printed), not one the log shows
        # in force at the step (Dimas263's 'Namespace(lr=3e-05, ...)' read as "LR in force 3e-5" at step 27)
        return f" (configured LR {shown_lr(lr)})"
    if step < st[0]:
        # nothing logged at or before the step: the value is the lr series' first, logged later
        return f" (LR {shown_lr(lr)} as first logged, at step {int(st[0]):,})"
    return f" (LR in force {shown_lr(lr)})"


def lr_reference(ctx: RunContext, step: float | None) -> float:
    """The LR every piece of LR advice in one report starts from: the schedule's logged peak over
    the whole run (or the LR in force at ``step`` when that is higher, e.g. a configured LR with
    no lr series), so two findings never advise different target LRs; 0 when unknown."""
    lr = ctx.lr_at(step) if step is not None else None
    pk = ctx.lr_peak()
    return max(lr or 0.0, pk[0] if pk else 0.0)


def lr_advice(ctx: RunContext, step: float | None, factor_lo: float = 3.0, factor_hi: float = 2.0) -> str:
    """'lower the LR from 6e-4 to 2e-4-3e-4' from :func:`lr_reference`, or generic advice."""
    ref = lr_reference(ctx, step) if step is not None else 0.0
    if ref > 0:
        return f"lower the peak LR from {shown_lr(ref)} to {round_lr(ref / factor_lo)}-{round_lr(ref / factor_hi)}"
    return "lower the learning rate 2-3x"


#: What else raises a loss the logged LR does not explain (a rise that went on while the LR decayed)
RISE_CAUSES = ("the data the steps see (unshuffled or sorted data, a curriculum, a changing data mixture)",
               "a loss-scale or precision problem (fp16 loss scaling, overflow)",
               "the logged loss itself (what it averages over, e.g. a changing number of tokens per step)")


def rise_outlasts_lr(ctx: RunContext, s: Series, onset: float, end: float, *, decayed: float = 0.25,
                     late_share: float = 1 / 3) -> dict[str, Any] | None:
    """The logged LR does not explain a rise of ``s`` from ``onset`` (to ``end`` at the latest): the
    rise went on while the LR decayed to a small fraction of its value at the onset. None when it does,
    or when the log shows no lr series (nothing is inferred then).

    The rise's top is the highest point of a centred running median of the (down-sampled) finite points
    between ``onset`` and ``end``. The LR does not explain it when (a) the logged LR in force at the top
    is at most ``decayed`` x the LR in force at the onset, and (b) at least ``late_share`` of the rise
    came after the LR had fallen to half its onset value (the rise measured from the lowest level before
    that point). The update a step makes is about LR x gradient: a too-high step size stops driving the
    loss up once the LR is cut (the loss of a too-high LR rises while the LR is high and stops or comes
    back down as it decays; a quadratic bowl diverges only while LR > 2/curvature). A rise that keeps
    going, or steepens, while the LR falls to a quarter of its onset value comes from what the steps
    see or what is logged (:data:`RISE_CAUSES`), not from their size. Even a rise proportional to the
    LR in force (each step's damage ~ its size; a true instability does less: it stops below a
    threshold) gains at most 1/4 of itself after the LR halved under a linear decay to zero, under 1/5
    under a cosine one, and less when its top comes before the LR reaches zero; a rise steady in steps
    gains 1/2 of itself there under a linear decay, a steepening one more. ``late_share`` (1/3) lies
    between them.

    Returns {"onset", "lr_onset", "top", "lr_top", "half", "late_share", "level_onset", "level_top"}:
    steps, and the LRs as logged (the last logged value at or before the step)."""
    lr = ctx.lr()
    if lr is None:
        return None
    ls, lv = lr.finite()
    lr_on = ctx.lr_at(onset)
    if ls.size < 2 or not lr_on or lr_on <= 0:
        return None
    x, y, _ = ctx.downsampled(s)
    m = (x >= onset) & (x <= end)
    if m.sum() < 5:
        return None
    xs, ys = x[m], y[m]
    k = max(3, xs.size // 20) | 1
    level = rolling_median(ys, k, trailing=False)
    if not np.all(np.isfinite(level)):
        return None
    j = int(np.flatnonzero(level == np.max(level))[0])
    lr_top = ctx.lr_at(float(xs[j]))
    if lr_top is None or lr_top > decayed * lr_on:
        return None
    # the LR in force at each point up to the top: the last logged value at or before it
    idx = np.clip(search(ls, xs[:j + 1], side="right") - 1, 0, ls.size - 1)
    low = np.flatnonzero(lv[idx] <= 0.5 * lr_on)
    if not low.size:
        return None
    h = int(low[0])
    base = float(np.min(level[:h + 1]))
    rise = float(level[j]) - base
    if not rise > 0:
        return None
    share = (float(level[j]) - float(level[h])) / rise
    if share < late_share:
        return None
    return {"onset": int(onset), "lr_onset": float(lr_on), "top": int(xs[j]), "lr_top": float(lr_top),
            "half": int(xs[h]), "late_share": share, "level_onset": base, "level_top": float(level[j])}


def rise_outlasts_lr_text(r: dict[str, Any]) -> str:
    """The evidence of :func:`rise_outlasts_lr` for a message: the LRs as logged, the share derived."""
    return (f"the LR decayed while it rose: {shown_lr(r['lr_onset'])} at the onset (step {r['onset']:,}), "
            f"{shown_lr(r['lr_top'])} at the top (step {r['top']:,}), with {r['late_share']:.0%} of the rise "
            f"(derived) after the LR fell below half its onset value (step {r['half']:,})")


def aligned(ctx: RunContext, train: Series, val: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(val steps, train level, val value) at the validation steps: the train level is the mean of
    the finite train losses in the last quarter of the interval since the previous validation (up
    to and including its step). None when fewer than 3 aligned points. Cached per run (the gap and
    overfitting rules ask for the same pair; at 10^7 training points each pass is a 80 MB cumsum)."""
    key = ("aligned", train.key, train.name, val.key, val.name)
    if key not in ctx._cache:
        ctx._cache[key] = _aligned(train, val)
    return ctx._cache[key]


def _aligned(train: Series, val: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    ts, tv = train.finite()
    vs, vv = val.finite()
    if ts.size == 0 or vs.size < 3:
        return None
    lo, hi = last_quarter_bounds(ts, vs)
    cnt = hi - lo
    with np.errstate(all="ignore"):
        mean = np.where(cnt > 0, _interval_sums(tv, lo, hi, cnt) / np.maximum(cnt, 1), np.nan)
    last = np.where(hi > 0, tv[np.maximum(hi - 1, 0)], np.nan)
    # only evaluations with training losses logged since the previous one (never a stale value)
    tl = np.where(cnt > 0, mean, np.nan)
    if np.isfinite(tl).sum() < 3 and vs.size == ts.size and np.array_equal(vs, ts):
        tl = last
    ok = np.isfinite(tl)
    if ok.sum() < 3:
        return None
    return vs[ok], tl[ok], vv[ok]


def _interval_sums(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    """``sum(v[lo_k:hi_k])`` for every k with ``cnt_k = hi_k - lo_k > 0`` (0 elsewhere), for ordered,
    non-overlapping intervals: one ``np.add.reduceat`` over the interval bounds, reading only the
    points inside them (a cumulative sum would write a second copy of a 10^7-point series)."""
    out = np.zeros(lo.size)
    nz = np.flatnonzero(cnt > 0)
    if not nz.size:
        return out
    bounds = np.empty(2 * nz.size, dtype=np.int64)
    bounds[0::2], bounds[1::2] = lo[nz], hi[nz]
    if bounds[-1] >= v.size:  # reduceat takes start indices only: the last interval runs to the end
        bounds = bounds[:-1]
    out[nz] = np.add.reduceat(v, bounds)[0::2]
    return out


def tname(tr: Any) -> str:
    """'HAC trend t', 'Mann-Kendall z' or 'exact Mann-Kendall tau' (the statistic's label in messages)."""
    m = getattr(tr, "method", "")
    if m == "mann-kendall-exact":
        return "exact Mann-Kendall tau"
    if m == "mann-kendall":
        return "Mann-Kendall z"
    return "trend test (HAC/Mann-Kendall), HAC t" if "|" in m else "HAC trend t"


def tlabel(tr: Any) -> str:
    m = getattr(tr, "method", "")
    if m == "mann-kendall-exact":
        return "exact Mann-Kendall"
    return "Mann-Kendall" if m == "mann-kendall" else "trend test (HAC/Mann-Kendall)" if "|" in m else "HAC trend"


#: Gradient-boosted trees: the learning rate (eta, shrinkage) trades against the number of rounds, and
#: there is no gradient norm, optimizer or warm-up to advise on
GBT_FORMATS = ("xgboost", "lightgbm", "catboost", "catboost-console")


def framework_remedies(ctx: RunContext, step: int | None) -> tuple[str, str]:
    """(how to stop at the best step, how to overfit less) in the words of the run's framework."""
    fmt = ctx.format or ""
    s = fmt_step(step) if step is not None else "the best step"
    if fmt in GBT_FORMATS:
        return (f"set early_stopping_rounds (10-50) with the eval set and predict with best_iteration (round {s})",
                "lower eta/learning_rate 3-10x with more rounds, shallower trees (max_depth 3-6), more "
                "regularisation (min_child_weight, lambda/reg_lambda) and row/column subsampling (0.7-0.8)")
    nn = ("more data or augmentation, weight decay (0.01-0.1 with AdamW), dropout 0.1-0.3, or a smaller model")
    if fmt.startswith("keras"):
        return (f"use EarlyStopping(monitor='val_loss', patience=3-5, restore_best_weights=True) (best epoch {s})", nn)
    if fmt.startswith("lightning"):
        return (f"use ModelCheckpoint(monitor='val_loss', mode='min', save_top_k=1) with EarlyStopping("
                f"monitor='val_loss', patience=3-5) (best step {s})", nn)
    if fmt.startswith("hf"):
        return ("set load_best_model_at_end=True, metric_for_best_model='eval_loss' and "
                f"EarlyStoppingCallback(early_stopping_patience=3) (best step {s})", nn)
    if fmt == "sklearn-mlp":
        return ("set early_stopping=True with validation_fraction=0.1 and n_iter_no_change=10", 
                "a larger alpha (L2 penalty), fewer or smaller hidden layers, or more data")
    return (f"stop at the best validation step ({s}) and keep that checkpoint (early stopping)", nn)


def config_number(v: Any) -> float | None:
    """A configuration value as a finite number: ints, floats, numeric strings (``"3e-4"``) and one-item
    lists (fairseq ``lr=[0.0005]``); ``None`` for booleans, text and anything non-finite."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (list, tuple)) and len(v) == 1:
        v = v[0]
    if isinstance(v, str):
        v = v.strip()
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


#: A series whose first logged step lies more than this many of its logging intervals after step 0 starts
#: mid-training (a resumed run's own log, a history saved from a checkpoint on): its first value is not
#: where training started.
HEAD_INTERVALS = 3


def unlogged_head(s: Series) -> int | None:
    """The first logged step of ``s`` when the log starts mid-training -- more than
    :data:`HEAD_INTERVALS` of its median logging intervals after step 0 -- else None. "Fell only x% from
    its first value" says nothing about learning then: how far the loss fell before the log began is
    unknown (a GPT-2 log from step 70,250 falls 1.4% more by step 152,587 after the untrained 10.8 nats
    fell to 3.26 before it)."""
    st, _ = s.finite()
    if st.size < 3 or st[0] <= 0:
        return None
    d = np.diff(st)
    d = d[d > 0]
    if not d.size:
        return None
    return int(st[0]) if float(st[0]) > HEAD_INTERVALS * float(np.median(d)) else None


def logged_step_from(s: Series, step: float, default: int | None = None) -> int:
    """The first logged (finite) step of ``s`` at or after ``step``; ``default`` when none is (the last
    logged step when ``default`` is None). Detectors judge a long series on bin means at their mean steps,
    which are not steps of the log: the first logged step at or after a bin's mean step lies inside that
    bin, so a message or step range names it instead."""
    st = s.finite()[0]
    i = int(search(st, step))
    if i < st.size:
        return int(st[i])
    return int(st[-1]) if default is None else default


def head_text(first: int) -> str:
    """'; the log starts at step N, so ... (inconclusive)' for a finding that judges a fall from the first value."""
    return (f"; but the log starts at step {first:,}, after training began, so how far the loss fell before "
            f"its first logged value is unknown (inconclusive)")


def first_level(v: np.ndarray) -> float:
    """Where a loss started, from its first logged values: the lower of its first value and the median of its
    first three (one spike among them, first or later, does not raise it). Unlike a median over the first 5% of
    points, it is not taken after a fast initial fall: on a 1,600-step log that 5% holds 80 steps, and a loss
    that fell from 6.9 to 4.8 within them "started" at 4.8 by that median."""
    return float(min(v[0], np.median(v[:3])))


def early_fall(v: np.ndarray, end: float) -> float:
    """The share of :func:`first_level` (of the finite values ``v``) that the loss removed by ``end``, the
    caller's final level; 0 when it started at 0."""
    start = first_level(v)
    return (start - end) / abs(start) if start else 0.0


def held_word(s: Series) -> str:
    """How a message names the held-out loss ``s``: "validation loss", or "test loss" for the test loss of a log
    that evaluates on a test split only (:meth:`lossdoc.checks.context.RunContext.loss` gives it for "val")."""
    return f"{SPLIT_WORD.get(s.split, s.split)} loss"
