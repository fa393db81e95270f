"""Local minima: a plateau the run escaped with a sudden drop (LM001), and a run stuck at a trivial
solution (LM002).

LM001 works on the down-sampled loss (bin means) smoothed by a centred running median. A *drop* is a
fall of at least ``min-drop`` of the range the run covered (and ``min-level-drop`` of the plateau's level)
within ``drop-fraction`` of the run; the
*plateau* before it is the longest stretch ending at the drop whose smoothed values stay inside a band
of ``band`` x the drop (and at least the point noise), covering at least ``min-fraction`` of the run and
at least as long as the first half of the drop takes (so a steady fall is not a plateau). The flat stretch is then
confirmed on the logged points (their 5th-95th percentile spread within twice the band); the TOST of
the slope is reported as evidence (on a smooth, slightly curved plateau its HAC interval is too wide to
require it). Not counted: the flat
loss of an LR warm-up, and a drop that coincides with an LR cut (that is the LR's noise floor: LR005).
What it cost: the steps spent on the plateau, and their share of the run.

LM002 compares the level the loss sits at with the loss of a *trivial* predictor:

* ``ln(C)``: the uniform prediction over C classes (or a vocabulary of C tokens). C comes from the
  run's configuration (``num_labels``, ``num_classes``, ``vocab_size``...), or from a first logged loss
  that *is* ln(C) to within ``exact-tolerance`` for C in 2, 10, 100, 1000 (2.3026 is a 10-class model
  predicting uniformly). A first loss merely near ln(C) is not enough for LM002 -- a run that never
  left its first loss would "sit at ln(C)" by construction, which is UF001's finding -- but it does
  name the level of a plateau the run escaped (LM001). When the first logged
  loss is within ``prior-tolerance`` of ``ln(C)`` for a common C (2, 10, 100, 1000; vocabularies 65,
  256, 32000, 50257...), from that first loss: a freshly initialised classifier starts there. A token-level
  loss (:func:`token_model`: a language-model format, a vocabulary size in the config, a perplexity or token
  accuracy logged beside it) takes only the vocabulary priors (65 and up) from its first loss: an LM's or
  VLM's loss near 2.3 is not ln(10) classes.
* for a language model whose loss started at ``ln(V)``: the unigram level (a model that learned token
  frequencies only), which lies between ``unigram-low`` and ``unigram-high`` x ``ln(V)`` (about 0.8 for
  character-level English text, 0.7 for GPT-2 BPE tokens); named as "near the unigram level".

A run is *stuck* when a trailing plateau over at least ``stuck-fraction`` of the run sits within the
tolerance of such a level. Which level applies, and where C came from, is stated in the message.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from lossdoc.analysis.smoothing import rolling_median
from lossdoc.analysis.stats import equivalence_slope
from lossdoc.checks.detectors._common import (
    config_number,
    fmt_num,
    fmt_step,
    logged_step_from,
    lr_text,
    noise_sd,
    shown_lr,
)
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.series import is_component_sum
from lossdoc.checks.findings import Evidence, Severity

#: Class / vocabulary counts common enough to recognise from the first loss alone.
#: (Small counts other than 2 and 10 are only taken from the configuration: ln 3..ln 8 lie so close
#: together that almost any first loss in 1-2 would match one of them.)
COMMON_CLASSES = (2, 10, 100, 1000, 65, 256, 32000, 32768, 50257, 50304, 151936)
#: Configuration keys that state a number of classes or tokens.
CLASS_KEYS = ("num_labels", "num_classes", "n_classes", "nb_classes", "classes", "num_class", "vocab_size",
              "n_vocab", "vocab", "padded_vocab_size")
VOCAB_KEYS = ("vocab_size", "n_vocab", "vocab", "padded_vocab_size")
#: Formats whose loss is a language-model cross-entropy.
LM_FORMATS = ("nanogpt", "nanogpt-variants", "modded-nanogpt", "build-nanogpt", "llmc", "megatron", "deepspeed",
              "fairseq", "torchtune", "composer", "nemo", "word-language-model")


def run_config(ctx: RunContext) -> dict[str, Any]:
    """The hyper-parameters the log states (``ctx.hparams()``: ``run.config`` with the trainer's raw
    keys), nested blocks flattened to their last key part (``model.vocab_size`` -> ``vocab_size``)."""
    out: dict[str, Any] = {}

    def walk(d: Any, depth: int = 0) -> None:
        if not isinstance(d, dict) or depth > 4:
            return
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, depth + 1)
            else:
                out.setdefault(str(k).rsplit(".", 1)[-1].lower(), v)

    walk(ctx.hparams())
    return out




def token_model(ctx: RunContext, cfg: dict[str, Any] | None = None) -> bool:
    """Whether the run's loss is a token-level cross-entropy (a language model, a captioner, a vision-language
    model): a language-model trainer's format, a vocabulary size in the configuration, or a token-level metric
    logged beside the loss -- a perplexity (exp of the token loss) or a token accuracy. Its uniform level is
    ln(V) for a vocabulary of V tokens, never ln(2) or ln(10): a fine-tuned model's loss that happens to start
    near 2.3 is not a 10-class classifier predicting uniformly."""
    cfg = run_config(ctx) if cfg is None else cfg
    if ctx.format in LM_FORMATS or any(k in cfg for k in VOCAB_KEYS):
        return True
    return any(s.metric == "perplexity" or s.metric.endswith("_ppl") or "token_acc" in s.metric
               for s in ctx.all_series())


def uniform_level_near(ctx: RunContext, s: Series, level: float, near: float, prior_tolerance: float) -> float | None:
    """ln(C) when ``level`` is within ``near`` (a fraction) of it, C from the config or a first loss within
    ``prior_tolerance`` of ln(C) (:func:`trivial_levels`' uniform levels): the log itself shows the level is a
    trivial predictor's (every class equally likely); else None."""
    if not level > 0:
        return None
    q = SimpleNamespace(prior_tolerance=prior_tolerance, unigram_low=math.nan, unigram_high=math.nan)
    for t in trivial_levels(ctx, s, q):
        if t["kind"] == "uniform" and abs(float(t["level"]) - level) <= near * float(t["level"]):
            return float(t["level"])
    return None


def trivial_levels(ctx: RunContext, s: Series, p: SimpleNamespace) -> list[dict[str, Any]]:
    """Candidate trivial loss levels for ``s``: [{level, kind, classes, source}]."""
    st, v = s.finite()
    if v.size < 2 or not (np.all(v >= 0)):
        return []  # a trivial cross-entropy level needs a non-negative loss
    if is_component_sum(ctx.series_map(), s):
        # a sum of component losses (box + cls + dfl) is not one cross-entropy: ln(C) is no level of it, and a
        # first value near ln(1000) is where the terms happened to add up (a YOLO segmentation sum at 7.05)
        return []
    cfg = run_config(ctx)
    out: list[dict[str, Any]] = []
    first = float(v[0])
    lm = token_model(ctx, cfg)
    for k in CLASS_KEYS:
        c = config_number(cfg.get(k))
        if c is not None and c >= 2 and float(c).is_integer():
            out.append({"level": math.log(c), "kind": "uniform", "classes": int(c), "source": f"{k} = {int(c)}",
                        "from_config": True})
            break
    if not out:
        for c in COMMON_CLASSES:
            if lm and c < 50:
                continue  # a token model's uniform level is a vocabulary's (known priors: 65 characters and up)
            lc = math.log(c)
            if abs(first - lc) <= p.prior_tolerance * lc:
                off = abs(first - lc) / lc
                near = "is" if fmt_num(first) == fmt_num(lc) else f"is within {max(off, 0.001):.1%} of"
                out.append({"level": lc, "kind": "uniform", "classes": c, "from_config": False,
                            "source": f"the first logged loss {fmt_num(first)} {near} ln({c}) = {lc:.3f}"})
                break
    if out and lm:
        c = out[0]["classes"]
        lc = math.log(c)
        if c >= 50 and (abs(first - lc) <= p.prior_tolerance * lc or any(k in cfg for k in VOCAB_KEYS)):
            out.append({"level": None, "low": p.unigram_low * lc, "high": p.unigram_high * lc, "kind": "unigram",
                        "classes": c, "source": out[0]["source"], "from_config": out[0]["from_config"]})
    return out


#: Class counts whose ln(C) identifies a stuck classifier from its first loss alone (vocabularies go
#: through the unigram band instead)
FIRST_LOSS_CLASSES = (2, 10, 100, 1000)


def v_first(s: Series) -> float:
    _, v = s.finite()
    return float(v[0]) if v.size else float("nan")


def _plateau_before(sm: np.ndarray, i: int, band: float) -> int:
    """Earliest index a <= i with every smoothed value in [a, i] within ``band`` of their median."""
    a = i
    lo = hi = sm[i]
    while a > 0:
        lo2, hi2 = min(lo, sm[a - 1]), max(hi, sm[a - 1])
        if hi2 - lo2 > 2 * band:
            break
        lo, hi, a = lo2, hi2, a - 1
    return a


def find_escape(ctx: RunContext, s: Series, p: SimpleNamespace) -> dict[str, Any] | None:
    """The longest flat stretch that ends in a sudden drop (module docstring), TOST-confirmed; with the
    LR after a cut of >= 2x inside the drop (``lr_cut``) or None. Cached per series and parameters."""
    key = ("escape", s.key, s.name, p.min_drop, p.drop_fraction, p.band, p.min_fraction, p.alpha)
    if key not in ctx._cache:
        ctx._cache[key] = _find_escape(ctx, s, p)
    return ctx._cache[key]


def _find_escape(ctx: RunContext, s: Series, p: SimpleNamespace) -> dict[str, Any] | None:
    x, y, _ = ctx.downsampled(s)
    n = x.size
    if n < p.min_points:
        return None
    span = float(x[-1] - x[0])
    if span <= 0:
        return None
    # a positive loss that covered LOG_DECADES decades or more (a physics-informed fit from 3e5 to 5e-5) is judged in
    # decades: on the linear scale the first decades are the whole range, and a later stall at 0.62 that ended in a
    # fall to 1e-4 (3.8 decades) is 2e-6 of it
    logged = bool(np.all(y > 0) and float(np.max(y)) >= 10 ** LOG_DECADES * float(np.min(y)))
    if logged:
        y = np.log10(y)
    k = max(3, n // 40) | 1
    sm = rolling_median(y, k, trailing=False)
    rng = float(np.nanmax(sm) - np.nanmin(sm))
    if not math.isfinite(rng) or rng <= 0:
        return None
    noise = noise_sd(y)
    w = max(1, int(round(p.drop_fraction * n)))
    # fall over the next w points from each point (n <= 400 bin means: a plain loop is fine)
    ahead = np.array([sm[i] - np.min(sm[i:i + w + 1]) for i in range(n)])
    warm = ctx.warmup_end()
    best = None
    i = 0
    while i < n - 1:
        if ahead[i] < p.min_drop * rng:
            i += 1
            continue
        band = max(p.band * float(ahead[i]), 2 * noise)
        # the fall may begin a few points later: move to the last point still within the band
        j = i + int(np.argmin(sm[i:i + w + 1]))
        i = i + int(np.flatnonzero(sm[i:j + 1] >= sm[i] - band)[-1])
        j = i + int(np.argmin(sm[i:i + w + 1]))
        drop = float(sm[i] - sm[j])
        if drop < max(p.min_drop * rng, 6 * noise):  # and well clear of the point-to-point noise
            i += 1
            continue
        band = max(p.band * drop, 2 * noise)
        a = _plateau_before(sm, i, band)
        # sudden: the first half of the drop takes no longer than the time spent stuck
        half = i + int(np.argmax(sm[i:j + 1] <= sm[i] - drop / 2))
        dur = float(x[half] - x[i])
        length = float(x[i] - x[a])
        level_ok = (drop >= -math.log10(1 - getattr(p, "min_level_drop", 0.05)) if logged else
                    drop >= getattr(p, "min_level_drop", 0.05) * abs(float(np.median(sm[a:i + 1]))))
        if (level_ok and length >= p.min_fraction * span and length >= dur and i - a + 1 >= p.min_plateau_points
                and not (warm is not None and x[i] <= 1.2 * warm)):
            if best is None or length > best[3]:
                best = (a, i, j, length, drop, band)
        i = max(j, i + 1)
    if best is None:
        return None
    a, i, j, length, drop, band = best
    xw, yw = x[a:i + 1], y[a:i + 1]
    # stuck = the logged points themselves (not only the smoothed curve) stay inside the band (5th-95th
    # percentile, so one noisy point does not break it); the TOST of the slope is reported as evidence,
    # not required: on a smooth, slightly curved plateau its HAC interval is too wide to pass
    lo_q, hi_q = np.percentile(yw, [5, 95])
    if hi_q - lo_q > 2 * band or (logged and hi_q - lo_q > 2 * p.band * drop):
        # (in decades the point noise widens the band too far: a per-batch loss scattering over a decade is not
        # "stuck", however far it falls later -- its spread must be band x the drop)
        return None
    eq = equivalence_slope(xw, yw, band / max(float(xw[-1] - xw[0]), 1.0), alpha=p.alpha)
    # the escape is seen when the loss *stays* down: points from the drop's low on that lie below the drop's
    # midpoint (a drop into the last logged point is one point at the edge of a centred median, not a level)
    held = int(np.sum(y[j:] <= sm[i] - drop / 2))
    # the steps named are logged steps of the series: on a long series x holds bin-mean steps (a stretch
    # "from step 3" of a log written every 2 steps)
    level, after = float(np.median(sm[a:i + 1])), float(sm[j])
    return {"start": logged_step_from(s, float(x[a])), "end": logged_step_from(s, float(x[i])),
            "after_step": logged_step_from(s, float(x[j])), "held": held,
            "level": 10 ** level if logged else level,
            "after": 10 ** after if logged else after, "length": length, "fraction": length / span, "drop": drop,
            "range": rng, "band": band, "eq": eq, "lr_cut": _lr_cut(ctx, float(x[i]), float(x[j])), "decades": logged}


#: a positive loss whose largest value is 10^LOG_DECADES times its smallest or more is searched for an escape in decades
LOG_DECADES = 3


def _drop_share(e: dict[str, Any]) -> str:
    """'72% of the range the run covered', or on a loss judged in decades '3.8 decades, 39% of the decades the run
    covered'."""
    if e.get("decades"):
        return f"{e['drop']:.1f} decades, {e['drop'] / e['range']:.0%} of the decades the run covered"
    return f"{e['drop'] / e['range']:.0%} of the range the run covered"


def escaped_plateau(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None:
        return
    e = find_escape(ctx, s, p)
    if e is None or e["lr_cut"] is not None:
        return  # none, or an LR cut ended it: the plateau was the LR's noise floor (LR005)
    if _at_close_mosaic(ctx, s, e):
        return  # the trainer's augmentation schedule, not an escape
    level, start, end = e["level"], e["start"], e["end"]
    trivial = [t for t in trivial_levels(ctx, s, p) if t["level"] is not None
               and abs(level - t["level"]) <= p.level_tolerance * t["level"]]
    at = (f" -- the uniform-prediction level ln({trivial[0]['classes']}) = {trivial[0]['level']:.3f}"
          if trivial else "")
    # level and 'dropped to' are the smoothed curve's (a rolling median): derived, and said so; the spread is the
    # logged values' own over the stuck steps (the detector holds the 5th-95th percentiles of its points -- bin
    # means on a long log -- within 2x its band; a reader can check these against the file)
    st, v = s.finite()
    inside = v[(st >= start) & (st <= end)]
    lo_q, hi_q = (np.percentile(inside, [5, 95]) if inside.size else (float("nan"), float("nan")))
    msg = (f"{s.label} was stuck at {fmt_num(level)}{at} from step {start:,} to {end:,} ({end - start:,} steps, "
           f"{e['fraction']:.0%} of the run{lr_text(ctx, start)}), then dropped to {fmt_num(e['after'])} by step "
           f"{e['after_step']:,} ({_drop_share(e)}, within "
           f"{e['after_step'] - end:,} steps; both levels derived, from a rolling median of the loss); while stuck, "
           f"90% of the logged values lay between {fmt_num(float(lo_q))} and {fmt_num(float(hi_q))} (their 5th-95th "
           "percentiles)")
    # too few points after the drop to show the loss stays down: a possible escape, a note (inconclusive)
    held = e["held"] >= getattr(p, "min_held_points", 0)
    if not held:
        msg += (f"; only {e['held']} logged point(s) from the drop on lie below its midpoint, so the log does not "
                f"yet show the loss staying down (inconclusive: a possible escape)")
    yield Hit(
        message=msg,
        evidence=Evidence("plateau-then-drop", float(e["drop"] / e["range"]), float(p.min_drop),
                          None, (start, e["after_step"]),
                          {"level": level, "after": e["after"], "stuck_steps": end - start, "tost_p": float(e["eq"].pvalue),
                           "stuck_fraction": e["fraction"], "drop_steps": float(e["after_step"] - end),
                           "band": e["band"], "trivial_level": trivial[0]["level"] if trivial else None,
                           "held_points": e["held"]}),
        start_step=start, end_step=e["after_step"],
        severity=Severity.WARNING if e["fraction"] >= p.warn_fraction and held else Severity.INFO,
        values={"step": fmt_step(start), "end": fmt_step(end), "steps": f"{end - start:,}",
                "fraction": f"{e['fraction']:.0%}", "advice": _escape_advice(ctx, start)},
    )


#: Ultralytics YOLO (v8 and later) turns mosaic augmentation off for the last ``close_mosaic`` epochs (10 by default)
CLOSE_MOSAIC = 10


def _at_close_mosaic(ctx: RunContext, s: Series, e: dict[str, Any]) -> bool:
    """The drop of a training loss in an Ultralytics v8+ ``results.csv`` (a ``dfl_loss`` term says which version:
    YOLOv5 has none, and no close_mosaic) spans the epoch where mosaic augmentation is turned off, CLOSE_MOSAIC
    epochs before the last one logged: the training images got easier and the loss fell at once -- the trainer's
    schedule, not an escape from a plateau (a 25-epoch pose run stuck at 11.94 for epochs 9-14, then 9.34 by 18).
    A run cut short (its last epoch not the planned last) is not excused: the boundary is then elsewhere."""
    if s.split != "train" or ctx.format != "yolo" or ctx.last_step is None:
        return False
    if not any("dfl" in x.metric for x in ctx.all_series() if x.split == "train"):
        return False
    off = int(ctx.last_step) - CLOSE_MOSAIC + 1  # the first epoch without mosaic (epochs counted from 1)
    return bool(e["end"] - 1 <= off <= e["after_step"] + 1)


def plateau_until_lr_cut(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """LR005: flat during a constant-LR phase, then an immediate large drop at an LR cut: the LR before
    the cut was too high to make progress (the loss sat at the LR's noise floor)."""
    if s is None:
        return
    e = find_escape(ctx, s, p)
    if e is None or e["lr_cut"] is None:
        return
    start, end = e["start"], e["end"]
    lr_before = ctx.lr_at(end)
    if not lr_before:
        return
    lr_after = e["lr_cut"]
    band = f"{e['band']:.2f} decades" if e.get("decades") else fmt_num(e["band"])
    msg = (f"{s.label} was flat at {fmt_num(e['level'])} from step {start:,} to {end:,} ({e['fraction']:.0%} of the run) "
           f"at LR {shown_lr(lr_before)}, then fell to {fmt_num(e['after'])} by step {e['after_step']:,} right after "
           f"the LR was cut to {shown_lr(lr_after)} (both levels derived, from a rolling median of the loss; flat within "
           f"+-{band}): the higher LR had stopped making progress")
    yield Hit(
        message=msg,
        evidence=Evidence("plateau-then-drop-at-lr-cut", float(e["drop"] / e["range"]), float(p.min_drop),
                          None, (start, e["after_step"]),
                          {"level": e["level"], "after": e["after"], "lr_before": lr_before, "lr_after": lr_after,
                           "stuck_steps": end - start, "stuck_fraction": e["fraction"]}),
        start_step=start, end_step=e["after_step"],
        values={"step": fmt_step(start), "end": fmt_step(end), "lr": shown_lr(lr_before),
                "lr_after": shown_lr(lr_after), "fraction": f"{e['fraction']:.0%}"},
    )


def _lr_cut(ctx: RunContext, lo: float, hi: float) -> float | None:
    """The LR right after a cut of at least 2x between steps ``lo`` and ``hi`` (with a little slack), else None.

    A cut is a step change: the LR goes from the level in force at ``lo`` (>= 0.9 of it) to half of it or
    less within two LR logging intervals or 2% of the run, whichever is longer. A linear or cosine decay
    that halves the LR over many epochs is not a cut (a YOLO run's LR decaying linearly from 2.4e-4 to
    2.8e-5 over its last 15 epochs, while its loss fell when mosaic augmentation was turned off)."""
    s = ctx.lr()
    if s is None:
        return None
    st, v = s.finite()
    if st.size < 2:
        return None
    pad = 0.02 * float(st[-1] - st[0])
    before = np.flatnonzero(st <= lo)
    inside = np.flatnonzero((st >= lo - pad) & (st <= hi + pad))
    if not before.size or not inside.size:
        return None
    ref = float(v[before[-1]])
    low = inside[v[inside] <= 0.5 * ref]
    if not low.size:
        return None
    k = int(low[0])
    high = np.flatnonzero(v[:k] >= 0.9 * ref)
    if not high.size:
        return None
    gap = float(np.median(np.diff(st)))
    if float(st[k] - st[int(high[-1])]) > max(2 * gap, pad):
        return None  # a gradual decay, not a cut
    return float(v[k])


def _escape_advice(ctx: RunContext, step: int) -> str:
    lr = ctx.lr_at(step)
    w = ctx.warmup_end()
    tips = []
    if not w:
        tips.append("add a learning-rate warm-up (e.g. 5% of the steps)")
    if lr:
        tips.append(f"try a 2-3x different peak LR than {shown_lr(lr)} (an LR range test shows which way)")
    tips.append("check the initialisation (He/Xavier for the activation) and add normalisation layers "
                "(BatchNorm/LayerNorm) so signals do not saturate")
    tips.append("an adaptive optimizer (Adam/AdamW) or momentum escapes flat regions faster than plain SGD")
    return "; ".join(tips)


def trivial_solution(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None or (s.split != "train" and ctx.loss("train") is not None):
        return  # one finding per run: the training loss when there is one
    x, y, _ = ctx.downsampled(s)
    if x.size < p.min_points:
        return
    levels = trivial_levels(ctx, s, p)
    if not levels:
        return
    span = float(x[-1] - x[0])
    if span <= 0:
        return
    tail = x >= x[-1] - p.stuck_fraction * span
    if tail.sum() < max(3, p.min_points // 2):
        return
    level = float(np.median(y[tail]))
    for t in levels:
        if t["kind"] == "uniform" and not t["from_config"] and not (
                t["classes"] in FIRST_LOSS_CLASSES and abs(float(v_first(s)) - t["level"]) <= p.exact_tolerance * t["level"]):
            # C read off the first loss is evidence only when the first loss *is* ln(C) to within
            # exact-tolerance (2.3026 for 10 classes): a loss that merely starts near ln(C) and never
            # moves is UF001's "barely moved"
            continue
        if t["kind"] == "uniform":
            tol = p.level_tolerance * t["level"]
            near = abs(level - t["level"]) <= tol
            what = (f"the loss of predicting every one of {t['classes']:,} classes equally, "
                    f"ln({t['classes']:,}) = {t['level']:.3f}")
        else:
            tol = p.level_tolerance * t["low"]
            near = t["low"] <= level <= t["high"]
            # the unigram entropy of the training text is not in the log: the band is a prior over texts
            # (0.65-0.9 x ln V, 40% of ln V wide), and a small model that is learning context can converge
            # inside it too. One guessed level is not evidence enough for a warning: an info note that names
            # the check that would settle it (the text's unigram entropy)
            what = (f"possibly the unigram level of a {t['classes']:,}-token vocabulary (a model that learned token "
                    f"frequencies only sits at about {p.unigram_low:.2f}-{p.unigram_high:.2f} x ln({t['classes']:,}) = "
                    f"{t['low']:.2f}-{t['high']:.2f}, a prior band: the text's own unigram entropy is not in the log; "
                    f"inconclusive until compared with it)")
        if not near:
            continue
        xw, yw = x[tail], y[tail]
        margin = max(tol, 2 * noise_sd(y)) / max(float(xw[-1] - xw[0]), 1.0)
        eq = equivalence_slope(xw, yw, margin, alpha=p.alpha)
        if not eq.equivalent:
            continue
        # the message states the window as logged: its first and last logged steps and the median of the
        # logged values in it (on a long series xw/yw are bin means at their mean steps, no steps of the log)
        ls, lv = s.finite()
        inside = ls >= xw[0]  # the tail runs to the end of the series
        if inside.any():
            start, end, shown = int(ls[inside][0]), int(ls[inside][-1]), float(np.median(lv[inside]))
        else:
            start, end, shown = int(xw[0]), int(xw[-1]), level
        msg = (f"{s.label} sits at {fmt_num(shown)} (median) over the last {p.stuck_fraction:.0%} of the run (from "
               f"step {start:,}{lr_text(ctx, start)}): {what}; C from {t['source']} (TOST flat p={eq.pvalue:.2g})")
        yield Hit(
            message=msg,
            evidence=Evidence("trivial-level", level, float(t["level"] if t["level"] is not None else t["low"]),
                              float(eq.pvalue), (start, end),
                              {"kind": t["kind"], "classes": t["classes"], "level_source": t["source"],
                               "trivial_level": t["level"], "low": t.get("low"), "high": t.get("high")}),
            start_step=start, end_step=end,
            severity=Severity.INFO if t["kind"] == "unigram" else None,
            values={"step": fmt_step(start), "level": f"{fmt_num(shown)} (median)", "kind": t["kind"],
                    "advice": _trivial_advice(ctx, start, t)},
        )
        return


def _trivial_advice(ctx: RunContext, step: int, t: dict[str, Any]) -> str:
    lr = ctx.lr_at(step)
    base = ("the model predicts the class prior, not the input: check that inputs and labels are paired and the "
            "loss sees the logits (not probabilities)") if t["kind"] == "uniform" else (
            "compute the unigram entropy of the training text (the entropy of its token frequencies); if the loss "
            "sits at it, the model learned token frequencies but not context: check the attention mask / causal "
            "shift of the targets, and that the model has enough steps")
    if lr:
        base += (f"; then move the LR in force ({shown_lr(lr)}) by 3-10x in an LR range test -- far too high LR "
                 "kills units (dead ReLUs) and far too low never leaves the start")
    return base + "; add normalisation and a warm-up if the network is deep"


DETECTORS = {"escaped-plateau": escaped_plateau, "trivial-solution": trivial_solution,
             "plateau-until-lr-cut": plateau_until_lr_cut}
