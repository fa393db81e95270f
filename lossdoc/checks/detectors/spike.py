"""Loss spikes (SP001): points far above a trailing rolling median, in robust-z units.

Full resolution, O(n): an exact pre-filter (:func:`_screen`, a trailing minimum) finds the few
points that can qualify, and their robust z-score against the trailing ``window`` points (median
and MAD, the point itself excluded) is computed there. A spike needs ``z >= zscore`` *and* a relative rise of ``min-rise``
over the trailing median, so quantised or very quiet curves do not flag tiny blips. With
``zscore = 6`` a Gaussian point exceeds it with probability 1e-9, so even a 10^7-point run
expects no false spike from noise alone (the threshold is its own multiple-testing guard).
Steps inside LR warm-up and right after a scheduled LR restart are not counted. Each event
gets its size, recovery time and, where logged, the grad norm and loss scale at that step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from scipy.ndimage import minimum_filter1d, rank_filter

from lossdoc.analysis._arrays import search
from lossdoc.analysis.smoothing import MAD_TO_SD, robust_zscore
from lossdoc.checks.detectors._common import covered_scale, fmt_num, fmt_step, lr_advice, lr_text, range_scale
from lossdoc.checks.detectors.divergence import lr_restarts, resume_jumps
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Severity

_MAX_CANDIDATES = 20_000
#: points of history a training-loss jump above the first logged value needs before a full window exists
#: (SP001's ``early-history``; the log-space z of :func:`_log_z` needs as many)
_EARLY_HISTORY = 5
_MEANAD_TO_SD = 1.2533141373155  # sqrt(pi/2)


def find_spikes(ctx: RunContext, s: Series, window: int, zscore: float, min_rise: float,
                min_points: int, skip_before: int | None = None,
                early_history: int = _EARLY_HISTORY, transient_range: float | None = None) -> list[dict[str, Any]]:
    st, v = s.finite()
    n = v.size
    if n < min_points:
        return []
    w = int(min(window, max(5, n // 4)))
    # SP001 and LR's no-warm-up check ask for the same points: score them once per run
    key = ("spike-points", s.key, s.name, w, float(zscore), float(min_rise))
    if key not in ctx._cache:
        ctx._cache[key] = _spike_points(v, w, zscore, min_rise)
    cand, base, zc, scale = ctx._cache[key]
    # a validation/test loss is judged once a point has min(w, max(10, w // 5)) evaluations before it (its
    # window is the history it has): a 200-point validation loss from its 11th evaluation, not only after
    # its 50th. A training loss still waits for a full window: its first steps are the initial drop.
    # A training loss waits for a full window, or for ``early_history`` points when the jump rises above the
    # first logged value: its first steps are the initial drop, and the LR warm-up's bumps, which stay below
    # where the loss started; a jump above that start (4.5 -> 3.0 -> 8.1 -> 3.3 at step 8; 16 -> 14 -> 79 -> 14
    # in a OneCycle warm-up) is a spike however early it comes.
    above_start = v[cand] > v[0]
    if s.split == "train":
        sel = (cand >= min(w, n - 1)) | ((cand >= min(early_history, n - 1)) & above_start)
    else:
        sel = cand >= min(w, max(10, w // 5), n - 1)
    trans = np.zeros(cand.size, dtype=bool)
    if transient_range is not None and not sel.all():
        trans = _transients(v, cand, ~sel, transient_range, zscore)
        sel |= trans
    if skip_before is not None:
        sel &= (st[cand] > skip_before) | above_start
    restarts = lr_restarts(ctx)
    if restarts and cand.size:
        rs = np.asarray(restarts)
        pos = search(rs, st[cand], side="right") - 1
        sel &= ~((pos >= 0) & (st[cand] - rs[np.maximum(pos, 0)] <= (st[-1] - st[0]) * w / max(n, 1) * 2))
    cand, base, zc, scale, trans = cand[sel], base[sel], zc[sel], scale[sel], trans[sel]
    if not cand.size:
        return []
    merge = max(3, w // 5)
    breaks = np.flatnonzero(np.diff(cand) > merge) + 1
    events = []
    signed = bool(np.min(v, initial=0.0) < 0)
    gn = ctx.grad_norm()
    ls = ctx.loss_scale()
    for grp in np.split(np.arange(cand.size), breaks):
        a, b = int(cand[grp[0]]), int(cand[grp[-1]])
        pk = a + int(np.argmax(v[a:b + 1]))
        bl, sc = float(base[grp[0]]), float(scale[grp[0]])
        thr = bl + max(3 * sc, 0.5 * min_rise * abs(bl))
        back = _first_at_or_below(v, pk + 1, thr)
        rec = int(st[back] - st[a]) if back is not None else None
        # lasting: at least two consecutive logged points up (isolated hard batches that fall within the
        # merge distance of each other are single-point jumps, not a jump that lasted)
        lasting = bool(np.any(np.diff(cand[grp]) == 1))
        # ... and the level it held: the highest level two consecutive points both reached (a hard batch next to a
        # merely high one, 2.66 then 4.25 over a median of 1.94, held 2.66 -- the 4.25 is one batch)
        pairs = cand[grp][:-1][np.diff(cand[grp]) == 1]
        held, hi = None, None
        if pairs.size:
            j = int(pairs[int(np.argmax(np.minimum(v[pairs], v[pairs + 1])))])
            hi = j if v[j] <= v[j + 1] else j + 1  # the lower point of the best pair: the level held
            held = float(v[hi])
        ev = {"start": int(st[a]), "end": int(st[b]), "peak_step": int(st[pk]), "peak": float(v[pk]),
              "lasting": lasting, "held": held, "base": bl, **_jump_size(float(v[pk]), bl, signed),
              "z": float(np.max(zc[grp])),
              "recovery": rec, "at_end": bool(n - 1 - b < max(3, w // 5)), "z_log": _log_z(v, a, pk, w),
              "z_log_held": _log_z(v, a, hi, w) if hi is not None else None,
              "span": (a, int(back) if back is not None else b)}
        if trans[grp].any():
            # judged against the rest of the run, not a trailing window: its size above the highest other value
            rest = np.concatenate([v[:a], v[b + 1:]])
            ev.update(transient=True, history=a, rest_high=float(rest.max()),
                      over_rest=float((v[pk] - rest.max()) / (rest.max() - rest.min())))
        if gn is not None:
            ev["grad_norm_ratio"] = _ratio_at(gn, st[a], st[b], st[max(a - w, 0)])
        if ls is not None:
            lsv = _ratio_at(ls, st[a], st[b], st[max(a - w, 0)], use_min=True)
            if lsv is not None and lsv < 1:
                ev["loss_scale_ratio"] = lsv
        events.append(ev)
    return events


def _transients(v: np.ndarray, cand: np.ndarray, unjudged: np.ndarray, height: float, zscore: float) -> np.ndarray:
    """Which candidates a trailing window cannot judge yet (``unjudged``: too little history) form a
    transient far above everything logged before and after it: each run of consecutive such candidates whose
    peak rises above every other logged value by ``height`` x the range those other values cover. That needs
    no noise estimate from a history the point does not have: the rest of the run is the yardstick, and a
    jump that doubles the range the whole run covered and comes back below where it had been is a spike
    wherever it falls (a validation loss's 4th and 5th evaluations of 100 jumping 8x and back). A one-point
    jump of a positive loss must also stand out in log space, as one after a full window must: its log
    above the highest other value's, ``zscore`` noise units of the log-loss without it (MAD of second
    differences / sqrt(6)) -- per-batch noise is right-skewed, and a single batch 2x the loss's first
    value among its first few is one hard batch."""
    keep = np.zeros(cand.size, dtype=bool)
    idx = np.flatnonzero(unjudged)
    if not idx.size:
        return keep
    positive = bool(np.all(v > 0))
    for grp in np.split(idx, np.flatnonzero(np.diff(cand[idx]) > 1) + 1):
        a, b = int(cand[grp[0]]), int(cand[grp[-1]])
        rest = np.concatenate([v[:a], v[b + 1:]])
        if rest.size < 2 or b + 1 >= v.size:
            continue  # nothing after it: a jump into the last point is no transient
        hi, lo = float(np.max(rest)), float(np.min(rest))
        if not float(np.max(v[a:b + 1])) - hi >= height * (hi - lo) > 0:
            continue
        if a == b and positive:
            _, sc = _short_z(np.log(v), a)
            if sc > 0 and (math.log(v[a]) - math.log(hi)) / sc < zscore:
                continue
        keep[grp] = True
    return keep


#: Window values :func:`_spike_points` gathers at a time (candidates x window: 10^5 candidates of a
#: 10^7-point curve with 50-point windows made three 40 MB matrices at the run's peak memory).
_WINDOW_VALUES = 1 << 18


def _spike_points(v: np.ndarray, w: int, zscore: float, min_rise: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(index, trailing median, robust z, trailing MAD scale) of every point that meets the spike
    rule: z >= ``zscore`` against the ``w`` points before it (median and MAD, the point excluded)
    and a rise of ``min_rise`` over that median; exact, computed only at :func:`_screen`'s points."""
    n = v.size
    cand = _screen(v, w, zscore, min_rise)
    if not cand.size:
        e = np.zeros(0)
        return cand, e, e, e
    base, mad, sc = np.empty(cand.size), np.empty(cand.size), np.empty(cand.size)
    rows = max(1, _WINDOW_VALUES // w)  # candidates whose windows are gathered at a time
    for a in range(0, cand.size, rows):
        c = cand[a:a + rows]
        win = v[np.clip(c[:, None] - np.arange(1, w + 1)[None, :], 0, n - 1)]
        b = base[a:a + rows] = np.median(win, axis=1)
        dev = np.abs(win - b[:, None])
        m = mad[a:a + rows] = MAD_TO_SD * np.median(dev, axis=1)
        sc[a:a + rows] = np.where(m > 0, m, _MEANAD_TO_SD * dev.mean(axis=1))  # flat/quantised windows
    for j in np.flatnonzero((cand < w) & (cand > 0)):
        # fewer than w points before it: its window is the history it has (not v[0] repeated)
        hist = v[:cand[j]]
        b = float(np.median(hist))
        d = np.abs(hist - b)
        m = MAD_TO_SD * float(np.median(d))
        base[j], mad[j], sc[j] = b, m, m if m > 0 else _MEANAD_TO_SD * float(d.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        zc = np.where(sc > 0, (v[cand] - base) / np.where(sc > 0, sc, 1.0), np.inf)
    keep = (zc >= zscore) & (v[cand] >= base + min_rise * np.abs(base))
    return cand[keep], base[keep], zc[keep], mad[keep]


def _log_z(v: np.ndarray, a: int, pk: int, w: int) -> float | None:
    """Robust z of ``v[pk]`` in log space against the ``w`` points before ``a`` (median and MAD of their
    logs); None when a value there is not positive. Per-batch losses are right-skewed (a batch of 8
    examples at a median loss of 0.4 ranges 0.07-1.1): a batch 6x the median is a few log-space noise
    units, not the 11 robust z units the raw scale gives it."""
    win = v[max(0, a - w):a]
    if win.size < 5 or v[pk] <= 0 or not np.all(win > 0):
        return None
    lw = np.log(win)
    med = float(np.median(lw))
    dev = np.abs(lw - med)
    sc = MAD_TO_SD * float(np.median(dev)) or _MEANAD_TO_SD * float(dev.mean())
    return float((np.log(v[pk]) - med) / sc) if sc > 0 else None


#: Points whose log-space z :func:`tail_log_z` computes at most (evenly spaced): quantiles of 20,000 values
#: are as good as those of 10^7, at a bounded cost.
_TAIL_SAMPLE = 20_000
_LN5 = math.log(5.0)


def tail_log_z(ctx: RunContext, s: Series, w: int, alpha: float, min_points: int, run: int = 1,
               exclude: tuple[tuple[int, int], ...] = ()) -> float | None:
    """The log-space z (:func:`_log_z`'s measure) above which the series' own noise is expected to put fewer than
    ``alpha`` of its points: a peaks-over-threshold fit of the right tail of every point's log-space z against its
    trailing ``w`` points. The tail above the 99th percentile q99 is taken as exponential, with its scale from the
    95th-99th percentile spacing, beta = (q99 - q95) / ln 5 (quantiles, not the mean excess, so a few real spikes
    among the top 1% do not set it); n points then put n x 0.01 x exp(-(t - q99) / beta) above t, and the level
    returned is t = q99 + beta x ln(0.01 n / alpha). For Gaussian noise (q95 = 1.64, q99 = 2.33, beta = 0.42) at
    10^4 points and alpha 0.01 that is 6.2, about ``zscore``; for the per-batch cross-entropy of an image captioner
    (log-space q99 3.7-6.2, beta 1.0-1.8 at 10^4 points) 13-22: a single batch 9 log noise units above the median
    is what such a series throws a few times per run. With ``run`` = 2, the level two consecutive points both reach
    fewer than ``alpha`` times by chance (independent batches: (n - 1) x p(t)^2 pairs), t = q99 + beta/2 x
    ln(10^-4 n / alpha): 6.7 for that captioner, 3.3 for Gaussian noise (where both points of a lasting jump already
    reach ``zscore``, so it never binds there). None when the loss is not positive or has fewer than ``min_points``
    points (the 99th percentile needs 10 points above it). ``exclude``: (first, last) index spans of the jumps that
    lasted, left out of the fit -- they are what is judged, not the noise (five 20-point spikes of a 2,000-point
    run are the top 5% of its points and would set the tail themselves)."""
    fit = _tail_fit(ctx, s, w, min_points, exclude)
    if fit is None:
        return None
    q99, beta, m = fit
    return q99 + beta / run * math.log(max(m * 0.01 ** run / alpha, 1.0))


def _tail_fit(ctx: RunContext, s: Series, w: int, min_points: int,
              exclude: tuple[tuple[int, int], ...] = ()) -> tuple[float, float, int] | None:
    """(q99, beta, points judged) of :func:`tail_log_z`'s fit, cached per series."""
    key = ("spike-tail", s.key, s.name, int(w), int(min_points), exclude)
    if key in ctx._cache:
        return ctx._cache[key]
    _, v = s.finite()
    out = None
    if v.size >= max(min_points, w + 2) and np.all(v > 0):
        keep = np.ones(v.size, dtype=bool)
        keep[:w] = False
        for a, b in exclude:
            keep[max(a, 0):b + 1] = False
        idx = np.flatnonzero(keep)
        if idx.size > _TAIL_SAMPLE:
            idx = idx[np.linspace(0, idx.size - 1, _TAIL_SAMPLE).astype(np.intp)]
        z = np.empty(idx.size)
        rows = max(1, _WINDOW_VALUES // w)
        for a in range(0, idx.size, rows):
            c = idx[a:a + rows]
            # logs of the sampled points and their windows only (np.log of all 10^7 points cost 0.1 s a series)
            win = np.log(v[c[:, None] - np.arange(1, w + 1)[None, :]])
            med = np.median(win, axis=1)
            dev = np.abs(win - med[:, None])
            sc = MAD_TO_SD * np.median(dev, axis=1)
            sc = np.where(sc > 0, sc, _MEANAD_TO_SD * dev.mean(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                z[a:a + rows] = np.where(sc > 0, (np.log(v[c]) - med) / np.where(sc > 0, sc, 1.0), np.nan)
        z = z[np.isfinite(z)]
        if z.size >= min_points // 2:
            q95, q99 = (float(q) for q in np.percentile(z, [95, 99]))
            beta = (q99 - q95) / _LN5
            if beta > 0:
                out = (q99, beta, int(idx.size if idx.size < _TAIL_SAMPLE else keep.sum()))
    ctx._cache[key] = out
    return out


def sizeable_events(ctx: RunContext, s: Series, events: list[dict[str, Any]], scale: float, w: int,
                    zscore: float, warn_range: float, warn_range_single: float, tail_alpha: float | None,
                    tail_min_points: int) -> list[dict[str, Any]]:
    """The jumps big enough to count toward a warning (SP001's, and LR001's early spikes): a jump that lasted
    (>= 2 consecutive points up) when the level it *held* over two consecutive points rose ``warn_range`` x
    ``scale`` above the trailing median; any jump -- a lasting one whose held level is small judged by its
    peak -- when its peak rose ``warn_range_single`` x ``scale`` and, for a positive loss, stands out in log
    space: ``zscore`` log noise units (:func:`_log_z`), and more than the series' own right tail puts there by
    chance (:func:`tail_log_z`; per-batch losses are heavy-tailed even in log space, so z 6 is no longer a
    1e-9 event). The held level of a lasting jump must likewise be beyond what two consecutive points of that
    tail reach by chance. Sets each event's ``height`` and ``held_height`` (fractions of ``scale``) and
    ``log_need`` (the log-space z a one-point jump needs)."""
    need, need2 = float(zscore), None
    if tail_alpha is not None and any((e.get("z_log") or 0.0) >= zscore or e.get("held") is not None for e in events):
        spans = tuple(sorted(e["span"] for e in events if e["lasting"] and "span" in e))
        t = tail_log_z(ctx, s, w, tail_alpha, tail_min_points, exclude=spans)
        if t is not None and t > need:
            need = t
        need2 = tail_log_z(ctx, s, w, tail_alpha, tail_min_points, run=2, exclude=spans)
    out = []
    for e in events:
        e["height"] = (e["peak"] - e["base"]) / scale
        held = e.get("held")
        e["held_height"] = (held - e["base"]) / scale if held is not None else e["height"]
        e["log_need"] = need
        zh = e.get("z_log_held")
        held_up = e["lasting"] and e["held_height"] >= warn_range and (need2 is None or zh is None or zh >= need2)
        if held_up or (e["height"] >= warn_range_single and (e.get("z_log") is None or e["z_log"] >= need)):
            out.append(e)
    return out


def _first_at_or_below(v: np.ndarray, start: int, thr: float) -> int | None:
    """First index ``>= start`` with ``v <= thr``, looking ahead in growing chunks (a spike recovers
    within a few points; scanning the whole tail per spike made 100 spikes in 10^7 points cost 1 s)."""
    n = v.size
    lo, size = start, 256
    while lo < n:
        hi = min(n, lo + size)
        hit = np.flatnonzero(v[lo:hi] <= thr)
        if hit.size:
            return lo + int(hit[0])
        lo, size = hi, size * 4
    return None


#: Points whose trailing minimum :func:`_min_screen` computes at a time (a whole-curve filter is one
#: more 10^7-value array at the run's peak memory).
_SCREEN_PIECE = 1 << 20


def _min_screen(v: np.ndarray, w: int, min_rise: float) -> np.ndarray:
    """Indices ``i >= 1`` with ``v[i] >= (1 + min_rise) x`` the minimum of ``v[i-w:i]`` (the ``w`` points
    before it; fewer at the start), computed piece by piece: a piece's filter starts ``w`` points
    before it, so each of its minima sees the same points as a filter of the whole curve would."""
    n = v.size
    parts = []
    for a in range(1, n, _SCREEN_PIECE):
        b = min(n, a + _SCREEN_PIECE)
        lo = max(0, a - 1 - (w - 1))
        tmin = minimum_filter1d(v[lo:b - 1], w, mode="nearest", origin=(w - 1) // 2)  # min over [i-w+1, i]
        tmin = tmin[a - 1 - lo:]  # at a-1 .. b-2: the minimum before a .. b-1
        tmin *= 1 + min_rise
        parts.append(np.flatnonzero(v[a:b] >= tmin) + a)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def _rank_screen(v: np.ndarray, w: int, min_rise: float) -> np.ndarray:
    """Indices ``i >= 1`` with ``v[i] >= (1 + min_rise) x`` the lower middle value (rank ``(w-1)//2``)
    of ``v[i-w:i]``, piece by piece as :func:`_min_screen` (a whole-curve rank filter is one more
    10^7-value array at the run's peak memory); the same indices as one filter of the whole curve."""
    n = v.size
    parts = []
    for a in range(1, n, _SCREEN_PIECE):
        b = min(n, a + _SCREEN_PIECE)
        lo = max(0, a - 1 - (w - 1))
        low = rank_filter(v[lo:b - 1], (w - 1) // 2, size=w, mode="nearest", origin=(w - 1) // 2)
        low = low[a - 1 - lo:]  # at a-1 .. b-2: the lower middle value of the w points before a .. b-1
        low *= 1 + min_rise
        parts.append(np.flatnonzero(v[a:b] >= low) + a)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def _screen(v: np.ndarray, w: int, zscore: float, min_rise: float) -> np.ndarray:
    """Indices that can be spikes, in O(n).

    A spike must rise ``min_rise`` above the trailing median, and the median of a window is at
    least its minimum, so for a positive loss only points >= (1 + min_rise) x the trailing
    *minimum* (``scipy.ndimage.minimum_filter1d``, O(n)) can qualify: an exact pre-filter, after
    which the robust z is computed only at the candidates. Where that keeps more than 1% of the
    points (the exact z of a candidate costs ~4 us, a rank filter ~0.04 us per point: 1% is where
    they break even), the window's lower middle value (a rank filter) is the bound instead. Losses
    that are not all positive, or curves so noisy that the rank bound keeps more than 5%, use the
    full trailing robust z-score (``analysis.smoothing.robust_zscore``, O(n log w)).
    """
    n = v.size
    if n > 1 and np.all(v > 0):
        # The point itself is excluded: v[i] is compared with the statistic over [i-w, i-1].
        # A sample of the head predicts whether the minimum screen will be tight enough; skip it if not.
        head = v[: min(n, 100_000)]
        hmin = minimum_filter1d(head, w, mode="nearest", origin=(w - 1) // 2)
        if head.size < n and np.count_nonzero(head[1:] >= (1 + min_rise) * hmin[:-1]) > 0.01 * head.size:
            cand = None
        else:
            cand = _min_screen(v, w, min_rise)
        if cand is not None and cand.size <= max(0.01 * n, 1000):
            return cand
        # Noisy curves pass the minimum screen often (22% of a 10^6-step nanoGPT log). The lower
        # middle value of a window (rank (w-1)//2) is never above its median, so v >= (1 + min_rise)
        # x that is still an exact pre-filter, at the cost of one O(n log w) rank filter instead of
        # the four of the full robust z-score.
        cand = _rank_screen(v, w, min_rise)
        if cand.size <= max(0.05 * n, 1000):
            return cand
    z = robust_zscore(v, w, trailing=True)
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(z >= zscore)
    if cand.size > _MAX_CANDIDATES:
        cand = np.sort(cand[np.argsort(-z[cand])[:_MAX_CANDIDATES]])
    return cand


def _jump_size(peak: float, base: float, signed: bool) -> dict[str, float]:
    """How a jump from ``base`` to ``peak`` is sized: ``factor``, the peak over the trailing median, above a positive
    median of a loss that is never negative; on a signed loss (a critic's, near 0 on both sides) a ratio sizes
    nothing -- 5e-4 -> 0.034 is "67x" while moving 11% of the range -- so ``factor`` is NaN and ``over_level``
    compares the jump with the median's magnitude instead (-0.27 -> -0.20 is a jump of a quarter of it, as
    0.27 -> 0.34 would be 1.25x); so it is over a median of 0."""
    if not signed and base > 0:
        return {"factor": peak / base}
    return {"factor": math.nan, "over_level": 1 + (peak - base) / abs(base) if base != 0 else math.inf}


def _at_least(e: dict, factor: float) -> bool:
    """Whether spike ``e`` is ``factor`` x its trailing median or more; for a spike without a factor (a loss not above
    0 throughout), whether its jump is ``factor - 1`` of the median's magnitude or more (always, at a median of 0)."""
    if math.isfinite(e["factor"]):
        return e["factor"] >= factor
    return e.get("over_level", math.inf) >= factor


def size_key(e: dict) -> tuple[float, float]:
    """Order spikes by their factor over the trailing median, undefined (NaN) ones by the jump in loss units."""
    f = e["factor"]
    return (f if math.isfinite(f) else -math.inf, e["peak"] - e["base"])


def _ratio_at(s: Series, lo: int, hi: int, before: int, use_min: bool = False) -> float | None:
    """max (or min) of ``s`` on [lo, hi] over its median on [before, lo) (finite values only).

    The windows are found by binary search on the sorted steps: a spike's few points, not two
    masks over a 10^7-point grad-norm series per spike (2.7 s for 14 spikes)."""
    a, b = search(s.steps, [before, lo], side="left")
    c = search(s.steps, hi, side="right")
    pre, inw = s.values[a:b], s.values[b:c]
    pre, inw = pre[np.isfinite(pre)], inw[np.isfinite(inw)]
    if not inw.size or not pre.size:
        return None
    ref = float(np.median(pre))
    if ref == 0:
        return None
    return float((inw.min() if use_min else inw.max()) / ref)


def _short_z(v: np.ndarray, i: int) -> tuple[float | None, float]:
    """(z, noise unit) of ``v[i]`` over the median of the up to four points around it, in noise units of the
    series *without* that point (MAD of its second differences / sqrt(6)); (None, 0) when there is no noise
    unit (fewer than 5 other points, or a series with no variation)."""
    base = float(np.median(np.concatenate([v[max(0, i - 2):i], v[i + 1:i + 3]])))
    rest = np.delete(v, i)
    d2 = rest[:-2] - 2 * rest[1:-1] + rest[2:]
    if d2.size < 3:
        return None, 0.0
    dev = np.abs(d2 - np.median(d2))
    sc = MAD_TO_SD * float(np.median(dev)) / np.sqrt(6.0)
    if sc <= 0:
        sc = _MEANAD_TO_SD * float(dev.mean()) / np.sqrt(6.0)
    if sc <= 0:
        return None, 0.0
    return float((v[i] - base) / sc), sc


def short_spikes(ctx: RunContext, s: Series, zscore: float, min_rise: float, min_height: float,
                 skip_before: int | None = None) -> list[dict[str, Any]]:
    """Spikes in a short series (fewer points than a trailing window needs: 10 epoch-level values).

    A point is a spike when it stands above both its neighbours, its rise over the median of the up to
    four points around it (two each side, itself excluded) is ``zscore`` noise units and ``min_rise`` of
    that median, and the rise is ``min_height`` of the range the run covered. The noise unit is taken
    from the series *without* that point: the MAD of its second differences / sqrt(6) (the sd of a
    second difference of white noise is sqrt(6) sigma; a smooth decay hardly moves it). Two-sided
    because a short log has no trailing window; the first and last points are never judged (a rise at
    the end is DV001's), nor a point whose surroundings are above the first loss (divergence). Each
    point of so short a log is an epoch or an evaluation, so a one-point jump is sized as one that
    lasted (``warn-range``). In a simulation (a decaying curve, 3,000 runs each of 8, 10, 15 and 29
    points) Gaussian noise gave no spike (z >= 6 and a quarter of the range), Student-t(3) noise
    0.5-2% at a noise scale of 2.5% of the range, where such outliers are real.

    A positive loss must reach ``zscore`` in log space too (the same test on the log-loss): per-batch
    noise is multiplicative, large while the loss is high and small once it is low, so the raw noise unit
    of the whole series understates the noise of its early, fast-falling points -- a 29-point per-batch
    loss (0.07-3.0) made a 2.3x jump at its third point 6.4 raw noise units and 1.1 log noise units. A
    jump over a smooth epoch-level curve stands out on both scales (``benchmarks/quality/sim_short_spikes.py``)."""
    st, v = s.finite()
    n = v.size
    events: list[dict[str, Any]] = []
    scale_run = range_scale(ctx, s, float(np.median(v))) if n else 0.0
    positive = bool(np.all(v > 0))
    signed = bool(np.min(v, initial=0.0) < 0)
    for i in range(1, n - 1):
        if skip_before is not None and st[i] <= skip_before:
            continue
        if not (v[i] > v[i - 1] and v[i] > v[i + 1]):
            continue
        base = float(np.median(np.concatenate([v[max(0, i - 2):i], v[i + 1:i + 3]])))
        z, sc = _short_z(v, i)
        if z is None or z < zscore or v[i] < base + min_rise * abs(base) or (v[i] - base) < min_height * scale_run:
            continue
        thr = base + max(3 * sc, 0.5 * min_rise * abs(base))
        if base > v[0] and (v[i + 1] > thr or base > v[:i].max()):
            # a rise on a loss already above where it started that does not fall straight back, or whose
            # surroundings stand above every earlier value (a loss climbing to new highs): divergence's business
            # (DV001). One that falls straight back to a level the loss held before (a validation loss that never
            # went below its first value 2.34: 3.8, 3.0, 3.2, 2.8, 1.7, 7.7, 2.9) is a spike on that level
            continue
        # ... and in log space (a positive loss): per-batch noise is multiplicative, so a point 2.3x the points
        # around it while the loss is still in its first fast fall (1.8, 0.78, 3.0, 0.52, 1.9) is many raw
        # noise units of the run's later, lower stretch but one noise unit of the log-loss
        z_log = _short_z(np.log(v), i)[0] if positive else None
        if z_log is not None and z_log < zscore:
            continue
        back = _first_at_or_below(v, i + 1, thr)
        # each point of a log this short is an epoch or an evaluation, not one batch: a one-point jump is
        # judged as one that lasted (warn-range), not as a hard batch (warn-range-single)
        events.append({"start": int(st[i]), "end": int(st[i]), "peak_step": int(st[i]), "peak": float(v[i]),
                       "lasting": True, "base": base, **_jump_size(float(v[i]), base, signed),
                       "z": float(z), "recovery": int(st[back] - st[i]) if back is not None else None,
                       "at_end": False, "short": True, "z_log": z_log})
    return events


def spike(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    n_fin = int(np.isfinite(s.values).sum())
    short = getattr(p, "min_short_points", None)
    if short is not None and short <= n_fin < p.min_points:
        events = short_spikes(ctx, s, p.zscore, p.min_rise, getattr(p, "warn_range", 0.25),
                              skip_before=ctx.warmup_end())
    else:
        events = find_spikes(ctx, s, p.window, p.zscore, p.min_rise, p.min_points, skip_before=ctx.warmup_end(),
                             early_history=getattr(p, "early_history", _EARLY_HISTORY),
                             transient_range=getattr(p, "transient_range", None))
    # a jump that never comes back is not a spike: DV001/DV002 judge a persistent rise
    events = [e for e in events if e["recovery"] is not None or e["at_end"]]
    if not events:
        return
    big = max(events, key=size_key)
    # the size that matters is the jump against the range the run covered: near zero (a classifier at
    # 99%) one hard batch is a "46x" jump of 2% of the range, not a warning; judged in log space too
    # -- the smaller of the percentile range and the range the loss came down from its first value: an
    # explosion above the start (2.3 -> 5e4 -> 2.3) does not make later 10x jumps "1% of the range"
    scale, scale_name = covered_scale(ctx, s, big["base"])
    # a one-point jump in a per-batch loss (one hard batch) must reach the whole range the run covered
    # (warn-range-single) to count; one that lasts (>= 2 consecutive points up) warn-range, by the level it held
    # over two consecutive points (two hard batches in a row in a 10^4-batch log are not a jump that lasted)
    wr = getattr(p, "warn_range", 0.25)
    wr1 = getattr(p, "warn_range_single", 1.0)
    # ... and a one-point jump must stand out in log space too (``_log_z``): right-skewed per-batch noise
    # throws single batches far above the median on the raw scale -- and beyond the tail the series' own
    # scatter shows (``tail_log_z``): heavy-tailed per-batch noise puts points 6-12 log noise units up every run
    w = int(min(p.window, max(5, n_fin // 4)))
    sizeable = sizeable_events(ctx, s, events, scale, w, p.zscore, wr, wr1, getattr(p, "tail_alpha", None),
                               int(getattr(p, "tail_min_points", 1000)))
    unrecovered = [e for e in sizeable if e["recovery"] is None and not e["at_end"]]
    slow = [e for e in sizeable if e["recovery"] is not None and e["recovery"] > p.recovery_steps]
    # many small recovered blips are noise-level events; a count only matters once they are sizeable
    harmful = bool(sizeable) and (_at_least(big, p.warn_factor) or bool(unrecovered) or bool(slow)
                                  or (len(sizeable) >= p.warn_count and _at_least(big, 1 + 3 * p.min_rise)))
    # a jump into the last logged point(s) has nothing after it: a spike and the first step of a divergence look
    # the same there (DV001/DV002 judge a rise), so it earns no warning on its own -- the grade is what the
    # jumps with points after them earn
    seen = [e for e in events if not e["at_end"]]
    edge_only = False
    if harmful and len(seen) < len(events):
        s_seen = [e for e in sizeable if not e["at_end"]]
        big_seen = max(seen, key=size_key) if seen else None
        harmful_seen = bool(s_seen) and big_seen is not None and (
            _at_least(big_seen, p.warn_factor) or bool(unrecovered) or bool(slow)
            or (len(s_seen) >= p.warn_count and _at_least(big_seen, 1 + 3 * p.min_rise)))
        edge_only = not harmful_seen
        harmful = harmful_seen
    rec = big["recovery"]
    # the recovery is counted from the jump's first point (the detection's measure); the message counts it
    # from the peak it names, and a jump of several points is named by its window
    after = None if rec is None else big["start"] + rec - big["peak_step"]
    rec_txt = ("did not recover" if rec is None and not big["at_end"] else
               "at the end of the log" if rec is None else
               f"recovered in {after:,} step{'s' if after != 1 else ''}" if big["start"] == big["peak_step"] else
               f"recovered by step {big['start'] + rec:,}, {after:,} step{'s' if after != 1 else ''} after the peak")
    gn_txt, advice = "", []
    gnr = big.get("grad_norm_ratio")
    if gnr is not None and gnr >= 2:
        gn_txt = (f"; grad norm rose {gnr:.1f}x at the same step" if big["start"] == big["end"] else
                  f"; grad norm rose {gnr:.1f}x over steps {big['start']:,}-{big['end']:,} (this spike's window)")
        advice.append("clip the gradient norm at 1.0")
    lsr = big.get("loss_scale_ratio")
    if lsr is not None:
        gn_txt += f"; the fp16 loss scale fell to {lsr:.2g}x"
        advice.append("train in bf16 (or lengthen the loss-scale growth interval)")
    if len(events) >= p.warn_count or unrecovered:
        advice.append(lr_advice(ctx, big["peak_step"]))
        advice.append("rewind to a checkpoint ~100 steps before the spike and skip those batches")
    # a jump that begins where the log's steps go back, at an unchanged LR, is the resumed run starting worse
    # than the run it continues (LG001 names it): the LR or the data are not what changed there
    resumes = resume_jumps(ctx, s)
    at_resume = [e for e in events if any(e["start"] <= r <= e["end"] for r in resumes)]
    if at_resume and len(at_resume) == len(events):
        advice = ["each jump begins at a resume (LG001) at an unchanged LR: check that the model weights and "
                  "optimizer state were loaded from the checkpoint"]
    if not advice:
        advice.append("if spikes recur, clip the gradient norm at 1.0 and lower the peak LR")
    elif not harmful and not edge_only and not (at_resume and len(at_resume) == len(events)):
        # a note (the jumps are small and recovered, or single hard batches; not one inconclusive at the end): "lower the LR
        # 2-3x; rewind to a checkpoint" would be a remedy for a warning this is not -- say it is for if they grow
        advice = ["as they are, these need no change; if spikes grow or stop recovering: " + advice[0], *advice[1:]]
    more = f" (and {len(events) - 1} more)" if len(events) > 1 else ""
    if at_resume:
        more += (f"; {'each' if len(at_resume) == len(events) else f'{len(at_resume)} of them'} "
                 f"begin{'s' if len(at_resume) == len(events) or len(at_resume) == 1 else ''} at a resume where the log's steps go back "
                 f"(step{'s' if len(at_resume) > 1 else ''} "
                 + ", ".join(f"{r:,}" for r in resumes if any(e['start'] <= r <= e['end'] for e in at_resume))
                 + ") at an unchanged LR: the resumed run started worse than the run it continues (LG001)")
    # one-point jumps that were high enough on the raw scale but not in log space: say why they are a note
    # jumps high enough on the raw scale but not in log space (or not beyond the series' own tail there): say
    # why they are a note
    skewed = [e for e in events if e not in sizeable and e["height"] >= wr1 and e.get("z_log") is not None
              and e["z_log"] < e["log_need"]]
    if skewed and not harmful:
        zl = max(e["z_log"] for e in skewed)
        need = skewed[0]["log_need"]
        single = 'each a single batch' if len(skewed) > 1 else 'a single batch'
        if zl < p.zscore:
            more += (f"; {single} at most {zl:.1f} noise units above the median in log space (below {p.zscore:g}): "
                     "per-batch losses are right-skewed, so these are read as hard batches, not a warning")
        else:
            more += (f"; {single} at most {zl:.1f} noise units above the median in log space, within the heavy right "
                     f"tail this loss's own scatter shows (its points are expected to reach {need:.1f} by chance; "
                     f"above {p.zscore:g} is rare only for Gaussian noise): read as hard batches, not a warning")
    if edge_only:
        more += ("; the largest jump is at the end of the log with nothing logged after it, so it cannot be told "
                 "from the start of a rise (inconclusive: a note, not a warning)")
    around = "the median of the points around it" if big.get("short") else "the trailing median"
    how = f"robust z={big['z']:.1f}"
    if big.get("transient"):
        # too little history for a trailing window's z: the rest of the run is the yardstick
        around = f"the median of the {big['history']} point{'s' if big['history'] > 1 else ''} before it"
        over = f"{big['over_rest']:.1f}" if big["over_rest"] < 1e3 else fmt_num(big["over_rest"])
        how = (f"above the highest other logged value, {fmt_num(big['rest_high'])}, by {over}x the "
               f"range the other values cover")
    # (a blow-up that came back, 3.1 -> 6e28 -> 7: not a 29-digit factor)
    factor = f"{big['factor']:.2f}" if big["factor"] < 1e3 else fmt_num(big["factor"])
    height = f"{big['height']:.0%} of" if big["height"] < 1e3 else f"{fmt_num(big['height'])}x"
    size = (f"{factor}x {around}" if math.isfinite(big["factor"]) else
            f"a jump of {fmt_num(big['peak'] - big['base'])} over {around} "
            "(no ratio: the loss is not above 0 throughout)")
    msg = (f"{len(events)} loss spike(s) in {s.label}: largest {size} "
           f"({fmt_num(big['base'])} -> {fmt_num(big['peak'])}, {height} {scale_name}, "
           f"{how}) at step "
           f"{big['peak_step']:,}{lr_text(ctx, big['peak_step'])}, {rec_txt}{gn_txt}{more}")
    yield Hit(
        message=msg,
        evidence=Evidence("robust-zscore", big["z"], float(p.zscore), None, (events[0]["start"], events[-1]["end"]),
                          {"count": len(events), "largest_factor": big["factor"], "largest_step": big["peak_step"],
                           "largest_height_of_range": big["height"], "sizeable": len(sizeable),
                           "recovery_steps": rec, "grad_norm_ratio": gnr, "loss_scale_ratio": lsr,
                           "unrecovered": len(unrecovered), "steps": [e["peak_step"] for e in events[:50]],
                           "edge_only": edge_only, "at_resume": len(at_resume)}),
        start_step=events[0]["start"] if len(events) > 1 else big["start"],
        end_step=events[-1]["end"] if len(events) > 1 else big["end"],
        severity=None if harmful else Severity.INFO,
        values={"step": fmt_step(big["peak_step"]), "count": len(events), "size": size,
                "advice": "; ".join(advice)},
    )


DETECTORS = {"spike": spike}
