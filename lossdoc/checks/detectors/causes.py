"""Likely causes (DESIGN.md "Finding categories"): a finding in the cause's category that names the
likely cause of the symptom findings, with the evidence it rests on and a confidence.

These detectors run after every symptom rule (their names start with ``likely-``) and read the symptom
findings from ``ctx.symptoms``, the learning rate the log shows (the lr series) and the hyper-parameters
it states (``ctx.hparams()``: ``run.config`` plus the trainer's raw keys).

* LR006 ``likely-lr-too-high``: a loss that went non-finite, diverged or exploded while the LR was at
  its peak (or constant); heavy oscillation at a constant LR; or a stated LR far above the usual range
  for its optimizer next to a symptom. Confidence ``high`` when the LR in force is shown to be at its
  peak (or far above the usual range), ``medium`` when an LR is shown but not at its peak, ``low`` (a
  note, not a warning) when the log shows no LR at all: a blow-up is most often the LR, but a bad batch
  or an fp16 overflow do it too, and the log cannot tell them apart. A DV001 rise that went on while the
  logged LR decayed to a small fraction of its onset value (``rise_outlasts_lr``) is not LR evidence at
  all: a too-high step size stops driving a loss up once the LR is cut (DV001 names the likelier causes).
  For gradient-boosted trees, an overfitting finding whose best round lies in the first ``gbt-early``
  of the rounds names the learning rate (eta) as a possible cause (low: a note; the log alone cannot tell
  eta from tree depth or data size): shrinkage that high fits the training set
  in a few rounds, the standard remedy being a lower eta with more rounds and early stopping.
  An early overshoot -- the training loss (3-point running median, so one bad batch does not count)
  climbing to ``overshoot`` x its first logged value within the first ``overshoot-window`` of the run, by
  more than ``overshoot-noise`` s.d. of the point noise of the log or never back below that value (a noisy
  first value is not an overshoot) -- is LR evidence too (medium; high when the LR in force is at its peak). So is a blow-up that left the
  first logged loss upwards in that window and never came back below it (DV001's "ended above where it
  started", a DV002 explosion): medium even when the log shows no LR, instead of the low of a blow-up
  after the run had learned; so is any blow-up that follows such an early overshoot.
* LR007 ``likely-lr-too-low``: slow, steady, non-decelerating progress (LR004) or a loss that barely
  moved, at a stated LR far below the usual range for its optimizer. Never on a run that blew up,
  spiked or oscillated, nor on one that stalled right after a fast early drop (that is not a slow LR).
* OF002 ``likely-overfitting-cause``: an overfitting finding, with the regularisation the config shows
  (no dropout, no weight decay, many epochs on a small set) and the framework's own early-stopping
  mechanism (XGBoost ``early_stopping_rounds``, Keras ``EarlyStopping(restore_best_weights=True)``,
  Lightning ``ModelCheckpoint(monitor=...)``, HF ``load_best_model_at_end``).
* UF002 ``likely-underfitting-cause``: an underfitting finding with heavy regularisation stated in the
  config (dropout >= 0.5, weight decay >= 0.1) as the likely cause.

Usual LR ranges (peak LR, from common practice and the trainers' defaults): Adam / AdamW / Adafactor /
Lion 1e-6 to 3e-3 (Lion 3-10x lower), SGD / momentum 1e-4 to 0.5, RMSprop 1e-5 to 1e-2; unknown
optimizer 1e-6 to 1.0. "Far" means ``far-factor`` (10x) beyond the range.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
from statsmodels.robust.scale import qn_scale

from lossdoc.analysis.smoothing import rolling_median
from lossdoc.checks.detectors._common import (
    GBT_FORMATS, above_first, config_number, fmt_num, fmt_step, framework_remedies, lr_advice, lr_reference, noise_sd,
    rise_outlasts_lr, round_lr, shown_lr,
)
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Finding, Severity

#: (name fragment, low, high) usual peak-LR range per optimizer family; first match wins
USUAL_LR = (("lion", 1e-6, 3e-4), ("adafactor", 1e-6, 1e-2), ("adam", 1e-6, 3e-3), ("lamb", 1e-5, 1e-2),
            ("rmsprop", 1e-5, 1e-2), ("adagrad", 1e-4, 0.5), ("sgd", 1e-4, 0.5), ("momentum", 1e-4, 0.5))
UNKNOWN_LR = (1e-6, 1.0)
#: Formats whose trainers default to Adam-family optimizers when the config does not say
ADAM_DEFAULT_FORMATS = ("hf-trainer", "hf-console", "nanogpt", "nanogpt-variants", "llmc", "megatron",
                        "torchtune", "composer", "nemo", "deepspeed")

BLOWUP_RULES = ("NF001", "NF002", "DV001", "DV002")




def optimizer_name(ctx: RunContext) -> str | None:
    h = ctx.hparams()
    for k in ("optimizer", "optim", "optimizer_name", "optimizer_type", "solver"):
        v = h.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
        if isinstance(v, dict):
            for kk in ("name", "type", "_name", "class_path"):
                if isinstance(v.get(kk), str):
                    return str(v[kk])
    if ctx.format in ADAM_DEFAULT_FORMATS:
        return "adamw (the trainer's default)"
    return None


def usual_range(opt: str | None) -> tuple[float, float, str]:
    if opt:
        o = opt.lower()
        for frag, lo, hi in USUAL_LR:
            if frag in o:
                return lo, hi, opt
    return UNKNOWN_LR[0], UNKNOWN_LR[1], opt or "an unstated optimizer"


def stated_lr(ctx: RunContext) -> tuple[float | None, str]:
    """(peak LR, where it comes from): the lr series' peak, else the configured LR."""
    pk = ctx.lr_peak()
    if pk is not None and pk[0] > 0:
        return pk[0], f"the logged LR peaks at {shown_lr(pk[0])} (step {pk[1]:,})"
    h = ctx.hparams()
    for k in ("learning_rate", "lr", "max_lr", "base_lr", "peak_lr", "learning_rate_init", "eta"):
        v = config_number(h.get(k))
        if v is not None and v > 0:
            return v, f"the configured {k} = {shown_lr(v)}"
    return None, ""


def _sym(ctx: RunContext, *rules: str, min_sev: Severity = Severity.WARNING) -> list[Finding]:
    return [f for f in ctx.symptoms if f.rule in rules and f.severity >= min_sev]


def _ids(fs: list[Finding]) -> list[str]:
    return [f"{f.rule}@{f.start_step}" for f in fs]


def likely_lr_too_high(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    blow = [f for f in _sym(ctx, *BLOWUP_RULES) if (f.split or "train") == "train" and _trained_before(ctx, f)
            and not _outlasts_lr(ctx, f, p) and not _skipped_steps(f)]
    osc = _sym(ctx, "OS001")
    lr, lr_src = stated_lr(ctx)
    opt = optimizer_name(ctx)
    lo, hi, opt_txt = usual_range(opt)
    far_above = lr is not None and lr > p.far_factor * hi
    evidence: list[str] = []
    conf = None
    step = None
    swinging = False
    if blow:
        first = min(blow, key=lambda f: f.start_step if f.start_step is not None else 1 << 62)
        step = first.start_step
        on = ctx.lr_at(step) if step is not None else None
        pk = ctx.lr_peak(until=step) if step is not None else None
        if ctx.lr() is not None and on and pk and on >= p.near_peak * pk[0]:
            conf = "high"
            evidence.append(f"{first.rule} ({first.name}) from step {step:,} while the LR was {fmt_num(on)}, "
                            f"{on / pk[0]:.0%} of its peak up to then ({fmt_num(pk[0])} at step {pk[1]:,})")
        elif ctx.lr() is not None and on and pk:
            conf = "low"  # the LR had already decayed: less likely the LR alone
            evidence.append(f"{first.rule} ({first.name}) from step {step:,}, after the LR had decayed to "
                            f"{fmt_num(on)} ({on / pk[0]:.0%} of its peak up to then, {fmt_num(pk[0])} at step {pk[1]:,})")
        elif lr is not None:
            conf = "medium"
            evidence.append(f"{first.rule} ({first.name}) from step {step:,}; {lr_src}")
        elif step is not None and _overshot_from_start(ctx, first, p):
            # no LR in the log, but the blow-up is an overshoot from the untrained model's loss: the loss
            # left its first logged value upwards within the first updates and never came back below it
            # (the early-overshoot evidence below, taken to its end)
            conf = "medium"
            evidence.append(f"{first.rule} ({first.name}): the loss rose from its first logged value by step "
                            f"{step:,}, early in the run, and never came back below it (updates too large from "
                            "the start; the log shows no LR)")
        elif step is not None and (ov := _early_overshoot(ctx, p)) is not None:
            # no LR in the log, but the loss had already overshot its first value early in the run (the
            # early-overshoot evidence below): the blow-up came from updates too large from the start
            conf = "medium"
            if ov[1] < step:
                evidence.append(f"{first.rule} ({first.name}) from step {step:,}, after the loss had risen to "
                                f"{_times(ov[0])} its first logged value {fmt_num(ov[2])} by step {ov[1]:,} ({ov[3]}), "
                                "early in the run (overshooting; the log shows no LR)")
            else:  # the overshoot is measured at or after the blow-up's start: not 'after' it
                evidence.append(f"{first.rule} ({first.name}) from step {step:,}; by step {ov[1]:,}, early in the run, "
                                f"the loss had risen to {_times(ov[0])} its first logged value {fmt_num(ov[2])} "
                                f"({ov[3]}; overshooting; the log shows no LR)")
        else:
            # no LR in the log: the most common cause, but only a possibility (a note, not a warning)
            conf = "low"
            evidence.append(f"{first.rule} ({first.name}) from step {step:,}; the log shows no LR, so this is "
                            "the usual cause rather than a shown one")
    elif (ov := _early_overshoot(ctx, p)) is not None:
        ratio, ostep, first, how = ov
        step = ostep
        on = ctx.lr_at(step)
        pk = ctx.lr_peak(until=step)
        conf = "high" if (ctx.lr() is not None and on and pk and on >= p.near_peak * pk[0]) else "medium"
        evidence.append(f"the loss rose to {_times(ratio)} its first logged value {fmt_num(first)} by step {step:,} "
                        f"({how}), early in the run (a training loss that climbs above where it started is overshooting)"
                        + (f"; the LR there was {shown_lr(on)}" if on else ""))
    elif ctx.format in GBT_FORMATS and _early_overfit(ctx, p) is not None:
        f, frac = _early_overfit(ctx, p)
        step = f.start_step
        conf = "low"  # plausible, but the log alone cannot tell eta from depth or data size: a note
        evidence.append(f"{f.rule}: the eval metric was best at round {step:,} ({frac:.0%} of the rounds) and rose "
                        "after it -- with a learning rate (eta) this high the ensemble fits the training set within "
                        "a few rounds")
    elif osc and (ctx.lr() is None or _constant_lr(ctx)):
        swinging = True  # nothing is corrupted: lowering the LR from here on is enough
        step = osc[0].start_step
        conf = "medium"
        evidence.append(f"OS001 oscillation from step {step:,}" + (" at a constant LR" if ctx.lr() is not None else ""))
    if far_above:
        # any symptom next to a stated LR far above its optimizer's range -- slow progress (LR004) too: at
        # 30x the usual LR a slow, steady fall is the LR's noise floor, never a reason to raise it; LR004's note
        # (a slow fall after the loss, or the training loss, fell by max-drop: nothing shows the LR too low) is
        # that slow progress as well
        conf = "high" if conf is not None else ("medium" if _sym(ctx, "SP001", "PL001", "UF001", "LM001", "LM002",
                                                                  "OS001", "LR004")
                                                or _sym(ctx, "LR004", min_sev=Severity.INFO) else None)
        evidence.append(f"{lr_src}, {lr / hi:.0f}x the top of the usual range for {opt_txt} "
                        f"({round_lr(lo)}-{round_lr(hi)})")
    if conf is None:
        return
    if ctx.format in GBT_FORMATS:
        advice = ((f"lower eta from {shown_lr(lr)} to {round_lr(lr / 10)}-{round_lr(lr / 3)}" if lr else
                   "lower eta/learning_rate 3-10x") + " with proportionally more rounds, and set early_stopping_rounds")
    else:
        # the same LR and factors as the symptoms' advice (DV00x, NF00x, OS001, SP001: lr_advice), so one
        # report never gives two targets; only a stated LR far above its optimizer's range gets another
        # one, the top of that range, which the evidence names
        ref = lr_reference(ctx, step) if step is not None else 0.0
        if far_above and lr:
            advice = f"lower the peak LR from {shown_lr(lr)} to about {round_lr(hi)}, the top of the usual range"
        elif ref > 0:
            advice = lr_advice(ctx, step)
        elif lr:
            advice = f"lower the peak LR from {shown_lr(lr)} to {round_lr(lr / 3)}-{round_lr(lr / 2)}"
        else:
            advice = lr_advice(ctx, None)
        # a blow-up symptom names its own restart step (NF001: a few percent of the run before the first
        # NaN; DV00x: before the rise); a second, different step here would contradict it
        # (none when NF001 saw finite values resume: it says the run recovered and needs no rewind)
        recovered = blow and first.rule == "NF001" and not (first.evidence and first.evidence.extra.get("persistent"))
        # (a restart when the symptom found the loss never better than at its first logged value)
        anew = blow and bool(first.evidence and first.evidence.extra.get("from_start"))
        restart = ("" if recovered else ", then restart the run" if anew else
                   f", then resume from the checkpoint {first.rule} names" if blow else
                   f", then resume from a checkpoint before step {step:,}" if step is not None and not swinging else "")
        advice += "; add or lengthen the warm-up and clip the gradient norm at 1.0" + restart
    msg = (f"likely cause: the learning rate is too high (confidence {conf}): " + "; ".join(evidence))
    yield Hit(
        message=msg,
        evidence=Evidence("likely-cause", None, None, None, (step, step) if step is not None else None,
                          {"cause": "lr_too_high", "confidence": conf, "symptoms": _ids(blow or osc),
                           "lr": lr, "lr_source": lr_src, "optimizer": opt, "usual_range": [lo, hi]}),
        start_step=step, end_step=step,
        severity=Severity.WARNING if conf in ("high", "medium") else Severity.INFO,
        split="train", metric="loss",
        values={"step": fmt_step(step) if step is not None else "the start", "advice": advice,
                "confidence": conf},
    )


def _overshot_from_start(ctx: RunContext, f: Finding, p: SimpleNamespace) -> bool:
    """A divergence finding that rose from the first logged value itself -- DV001's "ended above where it
    started", or a DV002 explosion -- with its onset in the first ``overshoot-window`` of the run and the
    finite training loss never back below that first value after it."""
    if f.rule not in ("DV001", "DV002") or f.start_step is None or f.evidence is None:
        return False
    if f.rule == "DV001" and f.evidence.method not in ("rise-above-start", "rank-test-vs-start"):
        return False
    s = ctx.loss("train")
    if s is None:
        return False
    st, v = s.finite()
    if st.size < 2 or not st[0] < f.start_step:
        return False
    span = float(ctx.last_step - st[0]) if ctx.last_step else float(st[-1] - st[0])
    if span <= 0 or f.start_step - st[0] > getattr(p, "overshoot_window", 0.3) * span:
        return False
    return bool(np.all(v[st >= f.start_step] > v[0]))


#: Below this many logged values the overshoot's noise floor also takes Qn of the changes (_early_overshoot).
SMALL_NOISE_N = 50


def _early_overshoot(ctx: RunContext, p: SimpleNamespace) -> tuple[float, int, float, str] | None:
    """(ratio, step, first value) when the training loss, smoothed by a 3-point running median (so one
    bad batch does not count), climbs to ``overshoot`` x its first logged value within the first
    ``overshoot-window`` of the run: updates too large for the loss surface."""
    s = ctx.loss("train")
    if s is None:
        return None
    x, y, _ = ctx.downsampled(s, 200)
    # the first *logged* value, not the first bin's mean: on a per-step log whose loss went 2.3 -> 4e4 in
    # its second step the first bin already holds the explosion (and the message quotes the value)
    _, v = s.finite()
    if y.size < 6 or not v.size or not (v[0] > 0) or not np.all(np.isfinite(y)):
        return None
    if not np.all(v > 0):
        # a ratio to the first value is a size only on a loss that stays above 0: a signed objective near 0
        # (0.0087, then -0.05, then 0.016: an energy model's contrastive divergence) "rose 1.9x" by nothing
        return None
    first = float(v[0])
    sm = rolling_median(y, 3, trailing=False)
    end = max(2, int(getattr(p, "overshoot_window", 0.3) * y.size))
    i = 1 + int(np.argmax(sm[1:end]))
    ratio = float(sm[i] / first)
    if ratio < getattr(p, "overshoot", 1.3):
        return None
    # the first value is one logged value, with all of its point noise: a per-batch loss logged 30% below its
    # mean at step 1 "rises" 1.3x without any overshoot, and then falls far below it. The rise must exceed
    # ``overshoot-noise`` x the point noise of the logged values (robust s.d. of the changes between
    # consecutive logged values in log space, / sqrt 2, over the whole run: within the window a smooth
    # overshoot's own rise and fall would count as noise), or the loss must have stayed above its first
    # value (a loss that climbed and never came back below where it started overshot, however much it
    # bounces -- the bouncing is then the LR's doing too); a log of fewer than 6 logged values is judged by the
    # ratio alone. "Stayed above" is DV001's test of it (_stayed_above_first), not the median of the last third
    # at or above the first value: on a loss that never learned (a flat, noisy run) or a heavy-tailed per-batch
    # loss near zero, the first value is one draw among the rest, and half of the time a low one
    k = getattr(p, "overshoot_noise", None)
    if k:
        w = v
        if w.size >= 6 and np.all(w > 0):
            sigma = noise_sd(np.log(w))
            if w.size < SMALL_NOISE_N:
                # on a few dozen values the MAD of the changes is itself noisy (37% efficiency): four of a
                # 10-value per-batch loss's 9 changes happened to be within 0.03 of their median and set its
                # noise to 0.17 where the changes' s.d. says 0.47 (Markm536/mbtsr, 5 epochs x 2 batches: a 2x
                # "overshoot" at the second batch that was one noisy batch). Rousseeuw-Croux Qn (82% efficient,
                # as robust) is the floor: the larger of the two, so only a clear rise counts
                sigma = max(sigma, float(qn_scale(np.diff(np.log(w)))) / np.sqrt(2))
            if np.log(ratio) < k * sigma and not _stayed_above_first(v, p):
                return None
    # what the ratio is of: a running median of logged values (or of bin means on a long log), derived
    what = "3-point running median" if y.size >= v.size else "3-point running median of bin means"
    return ratio, int(x[i]), first, f"{what} {fmt_num(float(sm[i]))}"


def _stayed_above_first(v: np.ndarray, p: SimpleNamespace) -> bool:
    """The logged training loss ``v`` stayed above its first value: the median of its last third lies above
    it, and the loss never again logged a value at or below it (as :func:`_overshot_from_start` reads "never
    came back below"; on a flat, noisy run the first value is the lowest of n + 1 exchangeable values with
    probability 1 / (n + 1)), or, as DV001 judges "ended above where it started" (:func:`above_first`), the
    median of its last third lies above the first value by ``overshoot-shift`` x the spread of that last third,
    or the first value lies below nearly all of the later ones (rank test at ``overshoot-alpha``; on a long
    per-batch log one low batch later on does not undo a rise). A guard, not a finding: no p-value enters
    the false-discovery family."""
    a = above_first(v, getattr(p, "overshoot_shift", 10.0))
    return bool(a.rise > 0 and (a.k == 0 or a.shift or a.pval < getattr(p, "overshoot_alpha", 0.01)))


def _times(ratio: float) -> str:
    """``3.3x``; ``4.97e+20x`` rather than 21 digits."""
    return f"{ratio:.1f}x" if ratio < 100 else f"{ratio:.3g}x"


def _early_overfit(ctx: RunContext, p: SimpleNamespace) -> tuple[Finding, float] | None:
    """An overfitting finding whose best validation step lies in the first ``gbt-early`` of the run."""
    for f in _sym(ctx, "OF001"):
        span = ctx.last_step
        best = f.start_step
        if span and best is not None and span > 0:
            frac = best / span
            if frac <= getattr(p, "gbt_early", 0.2):
                return f, frac
    return None


def _trained_before(ctx: RunContext, f: Finding) -> bool:
    """The loss was finite (and learning) for a while before the blow-up: NaN from the first logged
    point is a wiring or data problem far more often than a learning rate. A divergence finding (DV001,
    DV002) measures a finite loss rising from the values before it, so one finite value before its onset
    is enough: a loss that went 1.6 -> 10^24 at its second step, or ended above its first value, blew up
    under its updates."""
    s = ctx.loss("train")
    if s is None or f.start_step is None:
        return False
    st, v = s.finite()
    return int((st < f.start_step).sum()) >= (1 if f.rule in ("DV001", "DV002") else 3)


def _outlasts_lr(ctx: RunContext, f: Finding, p: SimpleNamespace) -> bool:
    """A DV001 rise that went on while the logged LR decayed to a small fraction of its value at the onset
    (:func:`rise_outlasts_lr`): the step size does not explain it, so it is no evidence for the LR (DV001
    names the likelier causes)."""
    s = ctx.loss("train")
    if f.rule != "DV001" or s is None or f.start_step is None or f.end_step is None:
        return False
    return rise_outlasts_lr(ctx, s, f.start_step, f.end_step, decayed=p.lr_decayed,
                            late_share=p.late_share) is not None


def _skipped_steps(f: Finding) -> bool:
    """An NF002 whose grad norm was finite again after its non-finite values while the loss went on falling: the
    updates of those steps were skipped (a loss scaler's overflow) and the run learned on. Nothing blew up, so it
    is no evidence that the LR is too high."""
    return f.rule == "NF002" and bool(f.evidence is not None and f.evidence.extra.get("recovered_falling"))


def _constant_lr(ctx: RunContext) -> bool:
    s = ctx.lr()
    if s is None:
        return False
    _, v = s.finite()
    return bool(v.size >= 2 and v.max() > 0 and v.min() >= 0.9 * v.max())


def likely_lr_too_low(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if _sym(ctx, *BLOWUP_RULES, "SP001", "OS001", "LR001", "LR002", "LR005", "LR006"):
        return  # never "raise the LR" on a run that blew up, spiked or oscillated
    slow = _sym(ctx, "LR004", "UF001")
    stuck = _sym(ctx, "PL001")
    if not (slow or stuck):
        return
    tr = ctx.loss("train") or ctx.loss("val")
    if tr is not None and _fast_then_flat(ctx, tr):
        return  # stalled right after a fast drop: not a slow LR
    lr, lr_src = stated_lr(ctx)
    opt = optimizer_name(ctx)
    lo, hi, opt_txt = usual_range(opt)
    if lr is None or lr >= lo:
        return  # a stated LR below the usual range is the evidence; without one, LR004 speaks for itself
    conf = "high" if lr < lo / p.far_factor else "medium"
    sym = slow or stuck
    step = sym[0].start_step
    msg = (f"likely cause: the learning rate is too low (confidence {conf}): {lr_src} is below the usual range "
           f"for {opt_txt} ({round_lr(lo)}-{round_lr(hi)}), and " + "; ".join(
               f"{f.rule} ({f.name})" for f in sym[:3]) + " shows slow progress")
    yield Hit(
        message=msg,
        evidence=Evidence("likely-cause", None, None, None, (sym[0].start_step, sym[0].end_step),
                          {"cause": "lr_too_low", "confidence": conf, "symptoms": _ids(sym), "lr": lr,
                           "lr_source": lr_src, "optimizer": opt, "usual_range": [lo, hi]}),
        start_step=step, end_step=sym[0].end_step, split="train", metric="loss",
        values={"step": fmt_step(step) if step is not None else "the start",
                "advice": f"raise the LR from {shown_lr(lr)} to {round_lr(min(lo * 10, hi))}-{round_lr(min(lo * 100, hi))} "
                          "(or run an LR range test)", "confidence": conf},
    )


def _fast_then_flat(ctx: RunContext, s: Series) -> bool:
    """Most of the run's drop happened in its first 20%, and the rest is nearly flat."""
    x, y, _ = ctx.downsampled(s)
    if x.size < 6:
        return False
    span = float(x[-1] - x[0]) or 1.0
    early = y[x <= x[0] + 0.2 * span]
    late = y[x >= x[0] + 0.5 * span]
    total = float(y[0] - y.min())
    if total <= 0 or not early.size or not late.size:
        return False
    return bool((y[0] - early.min()) >= 0.8 * total and (late.max() - late.min()) <= 0.2 * total)


def _framework_early_stopping(ctx: RunContext, step: int | None) -> str:
    text = framework_remedies(ctx, step)[0]
    if ctx.format.startswith("hf") and step is not None:
        val = ctx.loss("val")
        keep = ctx.checkpoint_for(val, int(step)) if val is not None else None
        if keep is not None and keep[0] != step:  # a checkpoint that exists (checkpoint-N dirs, save_steps)
            text += f"; no checkpoint was saved at it ({keep[2]}): the saved one to keep is checkpoint-{keep[0]:d}"
        elif keep is not None:
            text += f"; checkpoint-{keep[0]:d} was saved there"
    return text


def likely_overfitting_cause(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    of = _sym(ctx, "OF001")
    if not of:
        return
    h = ctx.hparams()
    causes, fixes = [], []
    dropout = config_number(h.get("dropout"))
    wd = config_number(h.get("weight_decay"))
    if dropout is not None and dropout == 0:
        causes.append("no dropout (dropout = 0)")
        fixes.append("add dropout 0.1-0.3")
    if wd is not None and wd == 0:
        causes.append("no weight decay (weight_decay = 0)")
        fixes.append("add weight decay (0.01-0.1 with AdamW, 1e-4-5e-4 with SGD)")
    if not causes:
        causes.append("more capacity or more passes over the data than the data supports")
    f = of[0]
    best = f.evidence.extra.get("best_step") if f.evidence and f.evidence.extra else f.start_step
    if not fixes:
        fixes.append(framework_remedies(ctx, best)[1])  # in the run's framework's words (no dropout for trees)
    stop = _framework_early_stopping(ctx, best)
    msg = (f"likely cause of the overfitting from step {fmt_step(best)}: " + "; ".join(causes)
           + (" (stated in the run's configuration)" if dropout is not None or wd is not None else ""))
    yield Hit(
        message=msg,
        evidence=Evidence("likely-cause", None, None, None, (f.start_step, f.end_step),
                          {"cause": "overfitting", "confidence": "medium" if dropout is not None or wd is not None
                           else "low", "symptoms": _ids(of), "dropout": dropout, "weight_decay": wd}),
        start_step=f.start_step, end_step=f.end_step, split=f.split, metric=f.metric,
        values={"step": fmt_step(best), "advice": "; ".join(fixes), "early_stopping": stop},
    )


def likely_underfitting_cause(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    uf = _sym(ctx, "UF001", "UF004", "LM002", "PL001")
    if not uf:
        return
    h = ctx.hparams()
    dropout, wd = config_number(h.get("dropout")), config_number(h.get("weight_decay"))
    causes = []
    if dropout is not None and dropout >= p.heavy_dropout:
        causes.append(f"dropout = {dropout:g}")
    if wd is not None and wd >= p.heavy_weight_decay:
        causes.append(f"weight_decay = {wd:g}")
    if not causes:
        return
    f = uf[0]
    msg = (f"likely cause of the lack of progress ({f.rule}): heavy regularisation stated in the configuration: "
           + ", ".join(causes))
    yield Hit(
        message=msg,
        evidence=Evidence("likely-cause", None, None, None, (f.start_step, f.end_step),
                          {"cause": "underfitting", "confidence": "medium", "symptoms": _ids(uf),
                           "dropout": dropout, "weight_decay": wd}),
        start_step=f.start_step, end_step=f.end_step, split=f.split, metric=f.metric,
        values={"step": fmt_step(f.start_step), "causes": ", ".join(causes)},
    )


def sweep_comparison(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """LR008 compares the runs of a sweep with each other (:mod:`lossdoc.checks.sweep_compare`, called by
    :func:`lossdoc.sweep.analyze_sweep` once every run is analysed): one run alone has nothing to compare."""
    return iter(())


DETECTORS = {"sweep-comparison": sweep_comparison, "likely-lr-too-high": likely_lr_too_high, "likely-lr-too-low": likely_lr_too_low,
             "likely-overfitting-cause": likely_overfitting_cause,
             "likely-underfitting-cause": likely_underfitting_cause}
