"""Accuracy at a trivial level (UF004): a classifier's (or a token model's) accuracy that never rose
meaningfully above where it started, with evidence that where it started is what a trivial predictor
scores.

Which series: the run's accuracy (``accuracy``, ``acc``, ``top1``, ``token_acc``, ``accuracy_epoch``...;
never a top-k accuracy with k > 1, nor a sequence/exact-match accuracy, whose trivial level is 0),
validation first (test when there is no validation split), else training. Logged in percent (any value
above 1, none above 100) it is read as a fraction. One finding per run.

**No progress** (effect size, as UF001): with ``a0`` the first logged accuracy and ``1 - a0`` the
headroom above it, both the trailing level (median of the last third of the evaluations, at least 3)
and the upper quartile of the evaluations after the first rose less than ``max-gain`` of the headroom.
An accuracy that starts near chance and then rises is learning, whatever its first value. The exact
one-sided Mann-Kendall p of a rise is reported beside it (a slow rise can be significant and still
negligible: 0.066 -> 0.068).

**Trivial level** -- the run must also show that the level it sits at is a trivial predictor's; one of:

* ``chance``: at most ``chance-mult`` x 1/C, with C stated by the configuration (``num_labels``...) or
  read off a first loss that is ln(C) (as LM002 and UF001 read it);
* ``one-class``: at the evaluations where the accuracy sits at its most frequent value (at least
  ``min-one-class`` of them, the last third included) a logged precision, recall or F1 of the same split
  is exactly 0 (no positive prediction at all), or recall is 1 with precision equal to the accuracy
  (everything predicted positive): the classifier outputs one class, and its accuracy is that class's
  share of the data;
* ``frequencies-only``: the split's loss started at the uniform prediction (its first value within
  ``prior-tolerance`` of ln(C)) and has since fallen by at least ``min-loss-drop`` while the accuracy did
  not move: the model learned how often each class/token occurs (which lowers the cross-entropy), not
  which one the input calls for (which would raise the accuracy).

Not judged: a run whose training loss rose (that is DV001/DV002's finding, and an exploded network
predicts one class too), and an accuracy that is frozen *because the model is* (the loss at those
evaluations identical as well: nothing is training).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from lossdoc.analysis._arrays import search
from lossdoc.analysis.stats import MK_EXACT_MAX_POINTS, mann_kendall, mann_kendall_exact
from lossdoc.checks.detectors._common import SPLIT_WORD, fmt_num, fmt_step, lr_text, shown_lr, tlabel
from lossdoc.checks.engine import Hit, RunContext, Series, final_level
from lossdoc.checks.findings import Evidence, Severity
from lossdoc.checks.series import SPLIT_IN_NAME, final_level_words

#: metric names read as a plain (top-1) accuracy
_ACC = re.compile(
    r"^(?:(?:token|tok|word|char|pixel|categorical|sparse_categorical|binary|avg|average|mean|top_?1)_)?"
    r"acc(?:uracy)?(?:_?(?:top_?1|1|epoch|step))?$|^top_?1(?:_acc(?:uracy)?)?$|^acc@1$")
_PR = re.compile(r"^(precision|recall|f1|f1_score|f1_metric|fmeasure)(?:_\d+)?$")
#: splits in order of preference (held-out first)
_SPLITS = ("val", "test", "train")


def accuracy_series(ctx: RunContext) -> list[Series]:
    """The run's top-1 accuracy series, held-out splits first, the canonical ``accuracy`` before others."""
    out = [s for s in ctx.all_series() if s.split in _SPLITS and _ACC.match(s.metric)]
    return sorted(out, key=lambda s: (_SPLITS.index(s.split), s.metric != "accuracy", s.metric))


def _judgeable(ctx: RunContext, min_points: int) -> Iterator[tuple[Series, np.ndarray, np.ndarray, np.ndarray, bool]]:
    """Each accuracy series (preferred first) with ``min_points`` finite values on a scale read as an
    accuracy: (series, steps, values as logged, values as fractions, logged in percent)."""
    for acc in accuracy_series(ctx):
        st, raw = acc.finite()
        if raw.size < min_points:
            continue
        scaled = as_fraction(raw)
        if scaled is not None:
            yield acc, st, raw, scaled[0], scaled[1]


def _display_name(acc: Series) -> str:
    """The series' name, with its split in words when the name does not say it ("validation accuracy")."""
    return acc.name if SPLIT_IN_NAME.search(acc.name) else f"{SPLIT_WORD[acc.split]} {acc.name}"


def as_fraction(v: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """Accuracy values as fractions (``percent`` True when logged as 0-100); None when not an accuracy."""
    if not v.size or float(np.min(v)) < 0:
        return None
    top = float(np.max(v))
    if top <= 1.0 + 1e-9:
        return v, False
    if top <= 100.0 + 1e-9:
        return v / 100.0, True
    return None


def _same(a: np.ndarray, b: float) -> np.ndarray:
    return np.abs(a - b) <= 1e-6 * max(abs(b), 1e-12)


def _at(s: Series, steps: np.ndarray) -> np.ndarray:
    """Values of ``s`` at ``steps`` (NaN where it has none)."""
    st, v = s.finite()
    idx = search(st, steps)
    ok = (idx < st.size) & (st[np.minimum(idx, st.size - 1)] == steps)
    out = np.full(steps.size, np.nan)
    out[ok] = v[idx[ok]]
    return out


def _one_class(ctx: RunContext, acc: Series, st: np.ndarray, a: np.ndarray, level: float,
               p: SimpleNamespace) -> dict[str, Any] | None:
    """The evaluations at the accuracy's most frequent value, when a logged precision/recall/F1 shows one
    predicted class there."""
    vals, counts = np.unique(np.round(a, 9), return_counts=True)
    mode = float(vals[int(np.argmax(counts))])
    at = _same(a, mode)
    tail0 = a.size - max(3, math.ceil(a.size / 3))
    if at.sum() < p.min_one_class or not at[tail0:].any() or not _same(np.array([level]), mode)[0]:
        return None
    steps = st[at]
    others = {s.metric: s for s in ctx.all_series() if s.split == acc.split and _PR.match(s.metric)}
    for name, s in sorted(others.items()):
        v = _at(s, steps)
        if np.isfinite(v).all() and np.all(np.abs(v) <= 1e-12):
            return {"mode": mode, "count": int(at.sum()), "steps": steps, "metric": name,
                    "how": f"{s.name} is 0 at each of them: no input was predicted positive"}
    rec = next((s for m, s in others.items() if m.startswith("recall")), None)
    prec = next((s for m, s in others.items() if m.startswith("precision")), None)
    if rec is not None and prec is not None:
        r, pr = _at(rec, steps), _at(prec, steps)
        if np.isfinite(r).all() and np.isfinite(pr).all() and np.all(r >= 1 - 1e-9) and np.all(_same(pr, mode)):
            return {"mode": mode, "count": int(at.sum()), "steps": steps, "metric": rec.metric,
                    "how": f"{rec.name} is 1 and {prec.name} equals the accuracy at each of them: every input "
                           "was predicted positive"}
    return None


def accuracy_at_trivial_level(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    from lossdoc.checks.detectors.local_minimum import trivial_levels

    train = ctx.loss("train")
    if train is not None:
        _, tv = train.finite()
        end = final_level(tv) if tv.size >= 2 else None
        if end is not None and tv.size and end > float(tv[0]) * (1 + p.max_loss_rise):
            return  # the training loss rose: divergence (an exploded network predicts one class too)
    for acc, st, raw, a, percent in _judgeable(ctx, p.min_points):
        a0 = float(a[0])
        head = 1.0 - a0
        if head <= 1e-3:
            continue
        k = max(3, math.ceil(a.size / 3))
        level = float(np.median(a[-k:]))
        upper = float(np.percentile(a[1:], 75))
        gain = (level - a0) / head
        gain_upper = (upper - a0) / head
        if max(gain, gain_upper) > p.max_gain:
            return  # the preferred accuracy rose: learning (one finding per run, judged on the preferred series)
        loss = ctx.loss(acc.split) or train
        if loss is not None:
            lv = _at(loss, st)
            same = lv[np.isfinite(lv)]
            if same.size >= 3 and float(np.max(same) - np.min(same)) <= 1e-6 * max(abs(float(np.median(same))), 1e-12):
                return  # the loss is frozen too: nothing is training (dead network), not a trivial fit
        route = _route(ctx, acc, st, a, level, loss, p, trivial_levels)
        if route is None:
            return
        yield _hit(ctx, acc, st, a, raw, percent, a0, level, gain, route, p)
        return


def _route(ctx: RunContext, acc: Series, st: np.ndarray, a: np.ndarray, level: float, loss: Series | None,
           p: SimpleNamespace, trivial_levels: Any) -> dict[str, Any] | None:
    levels = []
    if loss is not None:
        levels = [t for t in trivial_levels(ctx, loss, p) if t["kind"] == "uniform"]
    for t in levels:
        chance = 1.0 / t["classes"]
        if level <= p.chance_mult * chance:
            return {"kind": "chance", "classes": t["classes"], "source": t["source"], "chance": chance,
                    "text": f"chance for {t['classes']:,} classes is {chance:.3g} (C from {t['source']})"}
    one = _one_class(ctx, acc, st, a, level, p)
    if one is not None:
        return {"kind": "one-class", **one,
                "text": f"it sits at exactly {one['mode']:.4g} at {one['count']} of {a.size} evaluations and "
                        f"{one['how']}; the classifier outputs one class, and {one['mode']:.4g} is that "
                        "class's share of the evaluated examples"}
    if loss is None:
        return None
    _, lv = loss.finite()
    if lv.size < p.min_points:
        return None
    first, end = float(lv[0]), final_level(lv)
    if end is None or first <= 0:
        return None
    drop = (first - end) / first
    for t in levels:
        lc = float(t["level"])
        if abs(first - lc) <= p.prior_tolerance * lc and drop >= p.min_loss_drop:
            return {"kind": "frequencies-only", "classes": t["classes"], "source": t["source"], "loss_first": first,
                    "loss_end": end, "loss_drop": drop, "loss_name": loss.name,
                    "text": f"meanwhile {loss.label} fell {drop:.0%} ({fmt_num(first)} -> {fmt_num(end)}, its first "
                            f"logged value -> {final_level_words(lv)}) from the "
                            f"loss of a uniform prediction ({t['source']}): the model learned how often each "
                            "class or token occurs, not which one the input calls for"}
    return None


def _hit(ctx: RunContext, acc: Series, st: np.ndarray, a: np.ndarray, raw: np.ndarray, percent: bool, a0: float,
         level: float, gain: float, route: dict[str, Any], p: SimpleNamespace) -> Hit:
    exact = a.size <= MK_EXACT_MAX_POINTS
    if exact:
        _, p_rise, _ = mann_kendall_exact(a)
    else:  # one-sided from the Hamed-Rao test's two-sided p
        p_rise = mann_kendall(a).pvalue_increasing
    unit = "%" if percent else ""
    shown = (f"{fmt_num(float(raw[0]))}{unit} -> {fmt_num(level * (100 if percent else 1))}{unit}")
    rise = (f"exact Mann-Kendall p={p_rise:.2g} for a rise" if exact else
            f"Mann-Kendall p={p_rise:.2g} for a rise")
    name = _display_name(acc)
    msg = (f"{name} never rose meaningfully above where it started: {shown} over {a.size} evaluations "
           f"(first value -> median of the last third; {max(gain, 0.0):.1%} of the headroom above the first value, "
           f"threshold {p.max_gain:.0%}; {rise}){lr_text(ctx, int(st[-1]))}; {route['text']}")
    lr = ctx.lr_peak()
    extra = {"first": a0, "level": level, "percent": percent, "route": route["kind"], "p_rise": p_rise,
             **{k: v for k, v in route.items() if k in ("classes", "chance", "mode", "count", "metric", "loss_first",
                                                          "loss_end", "loss_drop")}}
    return Hit(
        message=msg,
        evidence=Evidence(f"accuracy-gain-vs-headroom ({route['kind']})", float(gain), float(p.max_gain),
                          float(p_rise) if math.isfinite(p_rise) else None, (int(st[0]), int(st[-1])), extra),
        start_step=int(st[0]), end_step=int(st[-1]), split=acc.split, metric=acc.metric,
        values={"step": fmt_step(int(st[-1])), "level": f"{level:.3g}", "kind": route["kind"],
                "advice": _advice(route, shown_lr(lr[0]) if lr else None)},
    )


def _advice(route: dict[str, Any], lr: str | None) -> str:
    if route["kind"] == "one-class":
        tips = ["the model gives every input the same class; with imbalanced classes that is the majority one: "
                "weight the loss by class "
                "(Keras class_weight, PyTorch CrossEntropyLoss(weight=...) / BCEWithLogitsLoss(pos_weight=...)) or "
                "sample balanced batches, and judge it by recall/F1 or AUC, not accuracy"]
    elif route["kind"] == "frequencies-only":
        tips = ["check that the model sees its input (the encoder output reaches the decoder, the attention mask "
                "and the shift of the targets are right, padding is ignored by the loss) -- predicting the most "
                "frequent class or token is all a model that cannot use its input can do"]
    else:
        tips = ["the model scores what guessing scores: check that inputs and labels are paired (shuffled "
                "together), normalised, and that the loss gets logits, not probabilities"]
    tips.append("overfit a single batch first: a model that cannot reach 100% on it has a wiring bug")
    if lr:
        tips.append(f"then run an LR range test around {lr} (far too high kills units, far too low never leaves "
                    "the start)")
    return "; ".join(tips)


def accuracy_escaped_start(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """LM003: the accuracy did not rise over the first evaluations (a stretch of at least
    ``min-stuck-fraction`` of them), while the loss made under ``max-stuck-progress`` of its progress there;
    then the accuracy rose significantly and by at least ``min-rise`` of the headroom: the run sat at its
    untrained level and escaped it late."""
    for acc, st, _, a, percent in _judgeable(ctx, p.min_points):
        yield from _escaped(ctx, acc, st, a, percent, p)
        return  # judged on the preferred accuracy only


def _escaped(ctx: RunContext, acc: Series, st: np.ndarray, a: np.ndarray, percent: bool,
             p: SimpleNamespace) -> Iterator[Hit]:
    a0 = float(a[0])
    head = 1.0 - a0
    if head <= 1e-3:
        return
    # the stuck stretch: the longest prefix that stays below a0 + max-gain of the headroom and does not rise
    k = 1
    while k < a.size and a[k] <= a0 + p.max_gain * head:
        k += 1
    while k >= 3 and a[k - 1] > a0:
        k -= 1  # it ends where the accuracy is no higher than its first value (not on the way up)
    if k < 3 or k / a.size < p.min_stuck_fraction or a.size - k < 3:
        return
    span = float(st[-1] - st[0])
    end = int(st[k - 1])
    warm = ctx.warmup_end()
    if span <= 0 or (warm is not None and end <= 1.2 * warm):
        return  # an LR warm-up, not a local minimum
    level = float(np.median(a[-max(3, math.ceil(a.size / 3)):]))
    rise = (level - a0) / head
    if rise < p.min_rise:
        return
    # the loss confirms it: over the stuck stretch it made under max-stuck-progress of the progress it made
    loss = ctx.loss(acc.split) or ctx.loss("train")
    if loss is None:
        return
    lst, lv = loss.finite()
    if lv.size < 3:
        return
    first = float(lv[0])
    inside = lv[(lst >= st[0]) & (lst <= end)]
    at_end = float(inside[-1]) if inside.size else None  # the loss where the stuck stretch ends
    fin = final_level(lv)
    if at_end is None or fin is None or first - fin <= 0:
        return
    stuck_progress = (first - at_end) / (first - fin)
    if stuck_progress > p.max_stuck_progress:
        return
    # the escape is a significant rise of the accuracy after the stretch (one decision)
    tr = ctx.trend(acc, float(st[k - 1]), float(st[-1]))
    if tr is None or not np.isfinite(tr.pvalue_increasing):
        return
    ctx.decide(float(tr.pvalue_increasing))
    frac = (end - float(st[0])) / span
    name = _display_name(acc)
    def show(v: float) -> str:
        return f"{v * 100:.3g}%" if percent else f"{v:.3g}"

    lo = float(np.min(a[:k]))
    lvl = show(a0) if lo >= a0 else f"{show(lo)}-{show(a0)}"
    msg = (f"{name} stayed at its starting level ({lvl}, no rise) for the first {k} of {a.size} evaluations (to step "
           f"{end:,}, {frac:.0%} of the run{lr_text(ctx, end)}), while {loss.label} made only {stuck_progress:.0%} of its "
           f"progress there ({fmt_num(first)} -> {fmt_num(at_end)}, ending at {fmt_num(fin)}, {final_level_words(lv)}); then "
           f"it rose to {show(level)} (median of the last third of the evaluations; {rise:.0%} of the headroom; "
           f"{tlabel(tr)} p={tr.pvalue_increasing:.2g} for the rise): the run sat where it "
           "started before it found a way down")
    from lossdoc.checks.detectors.local_minimum import _escape_advice

    yield Hit(
        message=msg,
        evidence=Evidence("accuracy-stuck-then-rise", float(rise), float(p.min_rise), float(tr.pvalue_increasing),
                          (int(st[0]), int(st[-1])),
                          {"first": a0, "stuck_evaluations": k, "stuck_end": end, "stuck_fraction": frac,
                           "loss_progress_while_stuck": stuck_progress, "level": level, "method_rise": tr.method}),
        start_step=int(st[0]), end_step=end, alpha=p.alpha, split=acc.split, metric=acc.metric,
        severity=Severity.WARNING if frac >= p.warn_fraction else Severity.INFO,
        values={"step": fmt_step(int(st[0])), "end": fmt_step(end), "evaluations": str(k), "fraction": f"{frac:.0%}",
                "advice": _escape_advice(ctx, int(st[0]))},
    )


DETECTORS = {"accuracy-at-trivial-level": accuracy_at_trivial_level, "accuracy-escaped-start": accuracy_escaped_start}
