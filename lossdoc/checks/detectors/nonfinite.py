"""Non-finite values: NaN/inf in a loss (NF001) and NaN/inf grad norm beside a finite loss (NF002).

Runs on the full-resolution series (one vectorised pass, O(n)).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from lossdoc.analysis._arrays import search
from lossdoc.checks.detectors._common import SPLIT_WORD, fmt_num, fmt_step, held_word, lr_advice, lr_text, noise_sd
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence, Severity


def _kinds(v: np.ndarray) -> str:
    parts = []
    for label, mask in (("NaN", np.isnan(v)), ("+inf", np.isposinf(v)), ("-inf", np.isneginf(v))):
        k = int(mask.sum())
        if k:
            parts.append(f"{k:,} {label}")
    return ", ".join(parts)


def non_finite(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    if s is None or not len(s):
        return
    bad = ~np.isfinite(s.values)
    n_bad = int(bad.sum())
    if n_bad <= p.max_count:
        return
    idx = np.flatnonzero(bad)
    first, last = int(idx[0]), int(idx[-1])
    step0 = int(s.steps[first])
    after = s.values[first:]
    persistent = (not np.isfinite(s.values[-1])) or (np.isfinite(after).mean() < 0.5)
    before = s.values[:first][np.isfinite(s.values[:first])]
    prior = ""
    if before.size >= 10:
        lo = float(np.min(before))
        tail = float(np.mean(before[-max(3, before.size // 50):]))
        if tail > 1.2 * lo:
            prior = f"; before it the loss had risen from its best {fmt_num(lo)} to {fmt_num(tail)}"
    kind = "NaN" if np.isnan(s.values[first]) else "inf"
    masked = ctx.placeholders.get((s.split, s.metric), 0) if hasattr(ctx, "placeholders") else 0
    mark = getattr(ctx, "sentinels", {}).get((s.split, s.metric))
    if mark is not None:
        hidden = (f" ({masked:,} of them logged as {fmt_num(mark[0])}, a value the {held_word(s) if s.split != 'train' else 'loss'} "
                  "takes nowhere else while above 0 at every other point: the script's sentinel for a loss it "
                  "could not compute, counted as NaN)")
    else:
        hidden = (f" ({masked:,} of them logged as 0.0 beside a non-finite grad norm: the trainer's placeholder "
                  "for a window of NaN losses, counted as NaN)") if masked else ""
    # a held-out loss non-finite at every evaluation while the training loss stayed finite at each: the
    # evaluation never produced a number (a 0/0 over a validation set without usable targets, a loss the
    # evaluation does not compute but the logger writes as NaN). The run itself trained; the validation is
    # broken and nothing on it can be judged -- a warning to fix the evaluation, not the error of a run whose
    # weights went non-finite (which takes the training loss with them)
    never = s.split != "train" and n_bad == len(s) and _train_finite_at(ctx, s, bad)
    if never:
        msg = (f"{s.label} is non-finite at every one of its {len(s):,} evaluations ({_kinds(s.values)}), from the "
               f"first at step {step0:,}, while the training loss stayed finite at each: the evaluation never "
               "produced a number, so nothing on that split could be judged")
    else:
        msg = (f"{s.label} is non-finite at {n_bad:,} of {len(s):,} points ({_kinds(s.values)}){hidden}, first at step "
               f"{step0:,}{lr_text(ctx, step0)}" + ("; it never recovers" if persistent else "; finite values resume")
               + prior)
    yield Hit(
        message=msg,
        evidence=Evidence("count-non-finite", float(n_bad), float(p.max_count), None,
                          (step0, int(s.steps[last])),
                          {"first_step": step0, "fraction": n_bad / len(s), "persistent": float(persistent),
                           "placeholders_masked": masked, "never_finite": float(never),
                           "lr": ctx.lr_at(step0)}),
        start_step=step0, end_step=int(s.steps[last]),
        severity=Severity.WARNING if never or not persistent else None,
        values={"what": "The loss" if s.split == "train" else f"The {held_word(s)}", "step": fmt_step(step0),
                "kind": kind, "count": f"{n_bad:,}", "lr_advice": lr_advice(ctx, step0),
                "restart": _restart(ctx, s, bad, first, persistent)},
    )


def _checkpoint_before(s: Series, first: int) -> int:
    """A step comfortably before the first non-finite value (PaLM rewinds ~100 steps), at a finite one."""
    k = max(first - max(first // 20, 1), 0)
    return int(s.steps[k])


def _train_finite_at(ctx: RunContext, s: Series, bad: np.ndarray) -> bool:
    """Whether the training loss is finite where the held-out series ``s`` is not: at each non-finite
    evaluation, its last value logged at or before that step (a training loss logged from the start)."""
    train = ctx.loss("train")
    if s.split == "train" or train is None or not len(train):
        return False
    steps_bad = s.steps[bad]
    pos = search(train.steps, steps_bad, side="right") - 1
    return bool(np.all(pos >= 0) and np.all(np.isfinite(train.values[np.maximum(pos, 0)])))


def _restart(ctx: RunContext, s: Series, bad: np.ndarray, first: int, persistent: bool) -> str:
    """How the recommendation opens, from what the log shows around the first non-finite value: where a
    rewind can go (never "before step 0": at the log's first point no finite value precedes it), no rewind at
    all when finite values resume, and the evaluation, not the weights, when the training loss stayed
    finite beside a held-out loss that did not."""
    # the first finite value after the first non-finite one (where finite values resume, when they do)
    again = int(s.steps[first + int(np.argmax(~bad[first:]))])
    if _train_finite_at(ctx, s, bad):
        return ("The training loss stayed finite at those steps, so the evaluation produced it: check the "
                f"{SPLIT_WORD.get(s.split, s.split)} data for empty or invalid targets and evaluate in fp32"
                + (f"; finite values resume by step {again:,}, and training needs no rewind" if not persistent else "")
                + ". If the weights are at fault, ")
    if not persistent:
        return (f"Finite values resume by step {again:,}, so the run recovered on its own ("
                "typically an update the loss scaler skipped after a mixed-precision overflow) and needs no rewind. "
                "If it happens again, ")
    # where to rewind is read on the training loss (a held-out loss is evaluated every few hundred steps: its
    # first evaluation being NaN says nothing of the training steps before it); its first non-finite value, or
    # its first point at the held-out loss's
    ref, at = s, first
    train = ctx.loss("train")
    if s.split != "train" and train is not None and len(train):
        ref = train
        tbad = np.flatnonzero(~np.isfinite(train.values) & (train.steps <= s.steps[first]))
        at = int(tbad[0]) if tbad.size else int(search(train.steps, s.steps[first]))
    if at == 0:
        return ("No logged value before it is finite, so no checkpoint of this log precedes it: restart the run "
                "and ")
    return f"Resume from a checkpoint at or before step {_checkpoint_before(ref, min(at, len(ref) - 1)):,} and "


def hidden_non_finite(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Grad norm NaN/inf where the loss is logged finite (HF ``logging_nan_inf_filter`` hides NaN losses)."""
    if s is None or not len(s):
        return
    loss = ctx.loss("train")
    bad = ~np.isfinite(s.values)
    if not bad.any():
        return
    steps_bad = s.steps[bad]
    if loss is not None and len(loss):
        # only where the loss at the same step (or the last one logged before it) is finite
        pos = search(loss.steps, steps_bad, side="right") - 1
        lv = np.where(pos >= 0, loss.values[np.maximum(pos, 0)], np.nan)
        hidden = np.isfinite(lv)
        zero = int(np.sum(lv[hidden] == 0.0))
    else:
        hidden = np.ones(steps_bad.size, dtype=bool)
        zero = 0
    k = int(hidden.sum())
    if k <= p.max_count:
        return
    hs = steps_bad[hidden]
    frac = k / len(s)
    tail_bad = bool(not np.isfinite(s.values[-1]))
    filt = any(n.kind == "hidden_nan" for n in ctx.notes) or ctx.meta.get("logging_nan_inf_filter")
    # more than max-fraction of the logged norms non-finite, but the norm was finite again after them and the
    # loss, logged as itself (no 0.0 placeholders), went on falling below where it stood at the first, or held
    # its level (_fell_after): the updates of those steps were skipped (a dynamic loss scaler's overflow), not applied --
    # on an epoch-level log one overflowing step makes the epoch's mean norm inf (Glaciation-G/mobilenetv3:
    # 3 of 35 epochs, the loss 4.607 -> 3.409 after them). Sporadic, as below the fraction: a warning
    # (a trainer that filters non-finite losses out of its log -- Hugging Face's logging_nan_inf_filter -- logs 0.0
    # placeholders once the weights are NaN: none here, and finite losses falling after the last bad norm, is a run
    # whose bad updates were skipped, as without the filter: dhawal0921's SegFormer, one inf norm at step 450 of an
    # fp16 run's warm-up, 0.919 then, 0.55 at the end)
    fell = None if (zero or loss is None) else _fell_after(loss, s, hs)
    persistent = tail_bad or (frac >= p.max_fraction and fell is None)
    scale = ctx.loss_scale()
    scale_note = ""
    if scale is not None and len(scale):
        sv = scale.values[np.isfinite(scale.values)]
        if sv.size:
            scale_note = f"; loss scale ranged {fmt_num(float(sv.min()))}-{fmt_num(float(sv.max()))}"
    msg = (f"grad norm is non-finite at {k:,} step(s) (first {int(hs[0]):,}, {frac:.1%} of logged) while the "
           f"logged loss there is finite" + (f" ({zero:,} of them exactly 0.0)" if zero else "")
           + ("; the trainer filters non-finite losses out of its log" if filt else "") + scale_note)
    if fell is not None:
        # the run learned on: nothing to rewind and nothing to lower -- a note of what happened, not a warning
        msg += (f"; the norm is finite again after step {int(hs[-1]):,} and the training loss {fell}: "
                "those steps' updates were skipped (a loss scaler's overflow), not applied, so a note")
        action = ("The norm was finite again after it and the training loss shows no harm from it, so those updates were "
                  "skipped (a dynamic loss scaler's overflow) and nothing needs a rewind. If it recurs often, prefer "
                  "bf16 over fp16 or start the loss scale lower; with Hugging Face's Trainer set "
                  "logging_nan_inf_filter=False so a NaN loss would show.")
    else:
        action = (f"Set logging_nan_inf_filter=False to see the real loss, resume from a checkpoint before step "
                  f"{fmt_step(int(hs[0]))}, {lr_advice(ctx, float(hs[0]))}, clip the gradient norm at 1.0 "
                  "(max_grad_norm=1.0), and prefer bf16 over fp16.")
    yield Hit(
        message=msg,
        evidence=Evidence("count-non-finite-grad-norm", float(k), float(p.max_count), None,
                          (int(hs[0]), int(hs[-1])),
                          {"fraction": frac, "zero_losses": zero, "persistent": float(persistent),
                           "recovered_falling": fell is not None}),
        start_step=int(hs[0]), end_step=int(hs[-1]),
        severity=None if persistent else Severity.INFO if fell is not None else Severity.WARNING,
        values={"step": fmt_step(int(hs[0])), "count": f"{k:,}", "action": action},
    )


def _fell_after(loss: Series, norm: Series, bad_steps: np.ndarray) -> str | None:
    """'went on falling (4.607 at step 5 -> 3.409 at step 34, as logged)' when, after the last non-finite grad norm (``bad_steps``),
    the norm was logged finite at least :data:`RECOVERED_POINTS` times and the training loss's last logged
    value lies below the one logged at (or last before) the first non-finite norm, every loss after that being
    finite; else None."""
    after = norm.steps > bad_steps[-1]
    if int(np.count_nonzero(np.isfinite(norm.values[after]))) < RECOVERED_POINTS:
        return None
    i0 = int(search(loss.steps, bad_steps[:1], side="right")[0]) - 1
    if i0 < 0 or not np.isfinite(loss.values[i0]):
        return None
    tail = loss.values[i0:]
    if not np.isfinite(tail).all() or tail.size < RECOVERED_POINTS:
        return None
    if loss.values[-1] < loss.values[i0]:
        return (f"went on falling ({fmt_num(float(loss.values[i0]))} at step {int(loss.steps[i0]):,} -> "
                f"{fmt_num(float(loss.values[-1]))} at step {int(loss.steps[-1]):,}, as logged)")
    # a per-step loss scatters: its last value can sit above the one logged at the bad norm (1.78 after 1.68, both
    # single batches) while its level went on as before. Not damaged: the median of the losses after the last bad
    # norm no higher than the median of the RECOVERY_WINDOW before the first, plus twice the point noise
    j = int(search(loss.steps, bad_steps[-1:], side="right")[0])
    before = loss.values[max(0, i0 + 1 - RECOVERY_WINDOW):i0 + 1]
    after = loss.values[j:]
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if before.size < RECOVERED_POINTS or after.size < RECOVERED_POINTS:
        return None
    b, a = float(np.median(before)), float(np.median(after))
    if not a <= b + 2.0 * noise_sd(loss.values[np.isfinite(loss.values)]):
        return None
    return (f"held its level (the median of its {before.size} values up to the first bad norm {fmt_num(b)}, of its "
            f"{after.size} after the last {fmt_num(a)}, derived: not above it by more than twice its point noise)")


#: Finite grad norms (and losses) logged after the last non-finite one for NF002 to call the run recovered.
RECOVERED_POINTS = 3
#: The losses logged up to the first non-finite grad norm whose median is the level the run held before it.
RECOVERY_WINDOW = 20

DETECTORS = {"non-finite": non_finite, "hidden-non-finite": hidden_non_finite}
