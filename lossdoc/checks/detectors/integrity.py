"""Log integrity from the parsers' notes and the step axis: restarts (LG001), torn or skipped
lines and decoding fallbacks (LG002), step gaps and duplicated steps (LG003), and series too
short to judge (LG004), and the adversarial (GAN) losses that are not judged as a loss (LG005)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from lossdoc.checks.detectors._common import SPLIT_WORD, fmt_num, fmt_step
from lossdoc.checks.engine import Hit, RunContext, Series
from lossdoc.checks.findings import Evidence
from lossdoc.ingest.normalise import COUNTER_RESET


def _note_hits(ctx: RunContext, kinds: tuple[str, ...]) -> Iterator[Hit]:
    for n in ctx.notes:
        if n.kind not in kinds:
            continue
        count = float(n.count) if n.count is not None else 1.0
        where = f" (line {n.line:,})" if n.line else ""
        yield Hit(
            message=f"{n.kind.replace('_', ' ')}{where}: {n.message}",
            evidence=Evidence(f"parser-note:{n.kind}", count, 0.0, None,
                              (n.step, n.step) if n.step is not None else None,
                              {"line": n.line}),
            start_step=n.step, end_step=n.step, split=None, metric=None,
            values=_where(n.kind, n.step, n.line),
        )


#: what a note's kind reads as in a sentence ("The log has duplicate steps near step 100")
_KIND_PHRASE = {"gap": "a gap", "duplicate_steps": "duplicate steps", "torn_tail": "a torn last line",
                "skipped_lines": "skipped lines", "decoding": "undecodable bytes", "truncated_input": "a truncated input",
                "restart": "a restart", "several_runs": "several runs"}


def _where(kind: str, step: int | None, line: int | None) -> dict[str, str]:
    """Template values; a step or line the note does not know is left out, never printed as 'n/a'."""
    what = _KIND_PHRASE.get(kind, kind.replace("_", " "))
    return {"what": what, "What": what[:1].upper() + what[1:],
            "at_step": f" at step {fmt_step(step)}" if step is not None else "",
            "near_step": f" near step {fmt_step(step)}" if step is not None else "",
            "at_line": f" at line {line:,}" if line else ""}


def restarts(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """The parser's restart notes; a resume at which the training loss jumped up (the resumed run started
    worse than the run it continues, :func:`divergence.resume_jumps`) is named in the message with its numbers."""
    from lossdoc.checks.detectors.divergence import resume_jump_details

    train = ctx.loss("train")
    jumps = resume_jump_details(ctx, train) if train is not None else []
    for h in _note_hits(ctx, ("restart", "several_runs")):
        if h.evidence.method == "parser-note:several_runs":
            line = h.evidence.extra.get("line")
            # a reader that knows lines names them; the step normaliser knows steps only
            start, at = (f"line {line:,}", "lines") if line else (f"step {fmt_step(h.start_step)}", "steps")
            which = ("the latest run long enough to judge" if "too short to judge" in h.message else "the last run")
            yield dataclasses.replace(h, values={**h.values, "advice": (
                f"Only {which} in this file was analysed (from {start}). To have each run judged, analyse it "
                f"with --split-runs (split_runs=True in Python), or split the file at the {at} the note names, or "
                "have the script write each run to a log of its own (a new file name per run, or open it in 'w' "
                "mode).")})
            continue
        if COUNTER_RESET in h.message:
            # runs.py's counter reset: the note's step is the last one before the counter went back to its
            # start, and the steps after it are derived (laid end to end), not a resume at that step
            after = h.values["at_step"].replace(" at step ", " after step ", 1)
            advice = (f"The step counter went back to its start{after} while the loss carried on: the later steps "
                      "are derived (offset by the steps before them). If the script was restarted from a checkpoint "
                      "there, check that the LR schedule, data-loader position and loss scale were restored with it; "
                      "logging a global step avoids the reset.")
        else:
            advice = (f"The run resumed{h.values['at_step']}. Check that the LR schedule, data-loader position and "
                      "loss scale were restored with the checkpoint; if not, the steps after the resume differ from "
                      "the original run.")
        h = dataclasses.replace(h, values={**h.values, "advice": advice})
        if jumps:
            first = float(train.finite()[1][0])
            said = "; ".join(f"{fmt_num(v)} at step {r:,} after a median {fmt_num(base)} over steps {a:,}-{b:,}"
                             for r, v, base, a, b in jumps)
            above = all(v > first for _, v, _, _, _ in jumps)
            h = dataclasses.replace(h, message=(
                f"{h.message}; {train.label} jumped up at the resume ({said}"
                + (f"; above its first logged value {fmt_num(first)}" if above else "")
                + "): the resumed run started worse than the run it continues -- check that the weights and "
                "optimizer state were loaded (the loss checks judge the curve after the last such resume)"),
                evidence=dataclasses.replace(h.evidence, extra={**h.evidence.extra, "resume_jumps": [
                    {"step": r, "value": v, "median_before": base, "before_steps": [a, b]}
                    for r, v, base, a, b in jumps]}))
        yield h


#: What to do about each kind of damage: "if the job was killed" fits a log cut off, not lines a reader skipped
#: (a run's preamble, strings where numbers were expected) nor bytes that were not UTF-8.
_DAMAGE_ADVICE = {
    "torn_tail": "the log was still being written, or the job was killed: if it was killed, check its exit status "
                 "and the last checkpoint; re-run lossdoc when the log is complete",
    "truncated_input": "the input ended early: if the job was killed, check its exit status and the last "
                       "checkpoint; re-run lossdoc on the complete log",
    "skipped_lines": "the message says which and why; the diagnosis covers only what was read. If they hold values "
                     "that should be judged, force a reader with --format NAME (see lossdoc formats)",
    "decoding": "some bytes were not valid in the file's encoding and were replaced; check that the log was written "
                "as text (UTF-8) and not interleaved with binary output",
}


def damaged_lines(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    for h in _note_hits(ctx, ("torn_tail", "skipped_lines", "decoding", "truncated_input")):
        kind = h.evidence.method.removeprefix("parser-note:")
        yield dataclasses.replace(h, values={**h.values, "advice": _DAMAGE_ADVICE.get(kind, _DAMAGE_ADVICE["torn_tail"])})


def format_guessed(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """The file was read by the last-resort whole-file text read (no reader recognised it): said as a finding, so
    the terminal, Markdown and JUnit outputs carry the caveat the HTML and JSON notes carry."""
    for h in _note_hits(ctx, ("format_guessed",)):
        yield dataclasses.replace(h, message=h.message.removeprefix("format guessed: "))


def step_gaps(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Notes about gaps/duplicates, plus gaps found on the training loss's step axis: a step
    difference more than ``gap-factor`` x the median difference."""
    yield from _note_hits(ctx, ("gap", "duplicate_steps"))
    if any(n.kind == "gap" for n in ctx.notes):
        return
    tr = ctx.loss("train")
    if tr is None or len(tr) < p.min_points:
        return
    if len(tr) < 2 or _evenly_spaced(tr.steps):  # the usual case: nothing can be a gap
        return
    d = np.diff(tr.steps)
    med = float(np.median(d))
    if med <= 0:
        return
    big = np.flatnonzero(d > p.gap_factor * med)
    if not big.size:
        return
    i = int(big[np.argmax(d[big])])
    missing = int(np.sum(d[big] / med - 1))
    yield Hit(
        message=(f"{big.size} gap(s) in the {tr.label} steps: the largest jumps from step {int(tr.steps[i]):,} to "
                 f"{int(tr.steps[i + 1]):,} ({int(d[i]):,} steps; the usual interval is {med:g}); about "
                 f"{missing:,} logging points are missing"),
        evidence=Evidence("step-gap-ratio", float(d[i] / med), float(p.gap_factor), None,
                          (int(tr.steps[i]), int(tr.steps[i + 1])), {"gaps": int(big.size), "missing": missing}),
        start_step=int(tr.steps[i]), end_step=int(tr.steps[i + 1]), split=tr.split, metric=tr.metric,
        values=_where("gap", int(tr.steps[i]), None),
    )


def _evenly_spaced(steps: np.ndarray, block: int = 1 << 18) -> bool:
    """True when every step difference is the same, checked block by block: a 10^7-step series
    then never needs its 80 MB array of differences (whose fresh pages cost up to 0.17 s here)."""
    first = steps[1] - steps[0]
    for a in range(0, steps.size - 1, block):
        d = np.diff(steps[a : a + block + 1])
        if d.min() != first or d.max() != first:
            return False
    return True


def too_short(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Run-level: the main loss has too few points for the trend tests (not enough data to judge)."""
    main = ctx.loss("train") or ctx.loss("val")
    if main is None:
        other = [x for x in ctx.all_series()]
        if other and not any(ctx.adversarial(sp) for sp in ("train", "val", "test")):  # LG005 says why
            names = ", ".join(sorted(x.key for x in other)[:8])
            policy = any(x.split == "other" and x.metric == "policy_loss" for x in other)
            yield Hit(
                message=(f"no loss to descend: the training loss is an RL policy-gradient surrogate, logged beside a "
                         f"reward, whose level does not measure learning (read as other/policy_loss; series: {names}); "
                         "the reward is not checked" if policy else
                         f"no loss series found (series: {names}): nothing to diagnose"),
                evidence=Evidence("points", 0.0, float(p.min_points), None, None, {}),
                split=None, metric=None,
                values={"n": 0, "min_points": p.min_points,
                        "advice": ("Follow the run's reward (and a validation loss, if the model has one); "
                                   "`lossdoc inspect` says why the loss was read as a surrogate." if policy else
                                   "Log the loss itself (train and, if you can, validation) so it can be diagnosed; "
                                   "check `lossdoc inspect` for how the log was read.")},
            )
        return
    n = int(np.isfinite(main.values).sum())
    trend_min = int(getattr(p, "trend_min_points", 4))
    yield from _short_val(ctx, main, trend_min)
    if n >= p.min_points:
        return
    if n >= trend_min:
        short = (f"not enough data for most trend tests (a gradual divergence needs at least {p.min_points}); a "
                 "blow-up or a non-finite value is still reported, a stretch flat well inside its margin, and a loss "
                 f"still falling at the end (an exact Mann-Kendall test judges that from {trend_min} points)")
    else:
        # PL002's short windows and SI001's exact test need trend-min-points: on 3 points the exact one-sided
        # Mann-Kendall p-value is 1/6 at best, so neither a flat stretch nor a loss still falling can be shown
        short = (f"not enough data for any trend test (the fewest one uses is {trend_min}: on {max(n, 1)} point(s) an exact "
                 f"Mann-Kendall test cannot reach p < 0.05), so no plateau or still-improving answer is given; a "
                 "blow-up or a non-finite value is still reported")
    yield Hit(
        message=f"{main.label} has only {n} finite point(s): {short}",
        evidence=Evidence("points", float(n), float(p.min_points), None,
                          (int(main.steps[0]), int(main.steps[-1])) if len(main) else None, {}),
        start_step=int(main.steps[0]) if len(main) else None, end_step=int(main.steps[-1]) if len(main) else None,
        split=main.split, metric=main.metric,
        values={"n": n, "min_points": p.min_points,
                "advice": (f"Every logged value of {main.label} is NaN or infinite: see the non-finite finding."
                           if n == 0 and len(main) else
                           f"Only {n} point{'s' if n != 1 else ''}: log more often (every N steps rather than every epoch) "
                           "to get a diagnosis.")},
    )


def _short_val(ctx: RunContext, main: Series, trend_min: int) -> Iterator[Hit]:
    """A validation loss beside the training loss evaluated fewer than ``trend_min`` times (1-3): no window of it
    can show that it stopped improving or is still falling (PL002's short windows and SI001's exact test need
    ``trend_min`` evaluations), so say that the answer for it is inconclusive instead of saying nothing."""
    val = ctx.loss("val")
    if val is None or val is main:
        return
    st, v = val.finite()
    k = int(v.size)
    if not 1 <= k < trend_min:
        return
    vals = ", ".join(fmt_num(float(a)) for a in v)
    yield Hit(
        message=(f"{val.label} has only {k} finite evaluation(s) ({vals}): too few to tell whether it stopped "
                 f"improving or is still falling (the fewest the plateau and still-improving tests use is {trend_min}: "
                 "an exact one-sided Mann-Kendall p on 3 points is 1/6 at best) -- inconclusive; the training loss "
                 "is judged on its own"),
        evidence=Evidence("points", float(k), float(trend_min), None, (int(st[0]), int(st[-1])), {}),
        start_step=int(st[0]), end_step=int(st[-1]), split=val.split, metric=val.metric,
        values={"n": k, "min_points": trend_min,
                "advice": f"Evaluate more often (every N steps rather than once per epoch) to judge {val.label}."},
    )


def adversarial_note(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Run-level: a split whose losses are the two sides of an adversarial game (a GAN's discriminator or
    critic and its generator, ``series.adversarial_losses``): say that they were not added into one loss
    and which checks were not run on them, and what the split's loss is instead."""
    for split in ("train", "val", "test"):
        adv = ctx.adversarial(split)
        if not adv:
            continue
        names = ", ".join(x.name for x in adv)
        rest = ctx.loss(split)
        steps = [int(x.steps[0]) for x in adv if len(x)] + [int(x.steps[-1]) for x in adv if len(x)]
        judged = (f"the {split} loss checked is {rest.name}, the reconstruction term(s) beside them"
                  if rest is not None else
                  f"no reconstruction term (L1, cycle, identity, content) is logged beside them, so nothing on "
                  f"the {split} split is judged as a loss")
        yield Hit(
            message=(f"{names}: the two sides of an adversarial game (discriminator or critic against "
                     f"generator), not added into one {split} loss and not judged by the checks that expect a "
                     "loss to keep falling (divergence, plateau, still improving, underfitting, spikes, oscillation, "
                     "overfitting, local minima, learning-rate evidence): one side rising while the other falls is how the "
                     "game moves, not a failure of its own. Non-finite values in them are still checked (NF001), and "
                     f"so is a discriminator that wins outright (DV004); {judged}"),
            evidence=Evidence("adversarial-pair", float(len(adv)), 2.0, None,
                              (min(steps), max(steps)) if steps else None, {}),
            start_step=min(steps) if steps else None, end_step=max(steps) if steps else None,
            split=split, metric=None,
            values={"names": names, "split": split},
        )


#: A classification loss term: 0 throughout on a single-class dataset, as it should be.
_CLS = re.compile(r"(?i)(?:^|[/_.])cls(?:_|$)|classification")


def zero_losses_note(ctx: RunContext, s: Series | None, p: SimpleNamespace) -> Iterator[Hit]:
    """Run-level: component losses of a split that are exactly 0 at every point (``series.zero_losses``), left
    out of the split's loss as not computed; says what the split's loss is instead, or that none is left."""
    from lossdoc.checks.series import loss_components, zero_losses

    sm = ctx.series_map()
    for split in ("train", "val", "test"):
        lead = [(k, v) for k, v in getattr(ctx, "unevaluated", {}).items() if k[0] == split and k in sm]
        if lead:
            names = ", ".join(sm[k].name for k, _ in lead)
            n, first, last = max(v for _, v in lead)
            begin = min(int(sm[k].steps[0]) for k, _ in lead)
            what = ("evaluation" if split != "train" else "point")
            yield Hit(
                message=(f"{names}: exactly 0 at the first {n:,} {what}(s) (steps {first:,}-{last:,}) and above 0 at "
                         f"every one from step {begin:,}: zeros written before the {SPLIT_WORD.get(split, split)} loss "
                         "was computed (a validation that ran only at the end, a list initialised with 0), not a "
                         "loss the model reached; left out, so no best, trend or gap is taken from them"),
                evidence=Evidence("leading-zero-loss", float(n), 0.0, None, (first, last),
                                  {"terms": [sm[k].name for k, _ in lead], "from_step": begin}),
                start_step=first, end_step=last, split=split, metric=None,
                values={"advice": (f"{names} {'was' if len(lead) == 1 else 'were'} 0 until step {begin:,}. Nothing "
                                   "is judged on those steps; to see the validation curve while training, let it run "
                                   "every epoch (Ultralytics val=True)." if split != "train" else
                                   f"{names} {'was' if len(lead) == 1 else 'were'} 0 until step {begin:,}: start "
                                   "the logged list empty rather than with 0.")},
            )
        zero = zero_losses(loss_components(sm, split))
        rest = ctx.own_loss(split)
        if not zero or (rest is not None and all(_CLS.search(c.name) for c in zero)):
            continue  # only a classification term, and the split has a loss: one class, nothing to say
        names = ", ".join(c.name for c in zero)
        judged = (f"the {split} loss judged is {rest.name}" if rest is not None else
                  f"no other {split} loss term is logged, so nothing on the {split} split is judged as a loss")
        steps = [int(c.steps[0]) for c in zero if len(c)] + [int(c.steps[-1]) for c in zero if len(c)]
        npts = max(int(np.isfinite(c.values).sum()) for c in zero)
        yield Hit(
            message=(f"{names}: exactly 0 at every one of {npts:,} point(s), so no loss the run computed ("
                     + ("a validation without labelled objects, or one that did not run, writes 0; so does a term "
                        "that does not apply to the data" if split != "train" else
                        "a term that does not apply to the data, or a logger that did not capture it")
                     + f"): left out of the {split} loss; {judged}"),
            evidence=Evidence("all-zero-loss-terms", float(len(zero)), 0.0, None,
                              (min(steps), max(steps)) if steps else None, {"terms": [c.name for c in zero]}),
            start_step=min(steps) if steps else None, end_step=max(steps) if steps else None,
            split=split, metric=None,
            values={"advice": (f"{names} {'was' if len(zero) == 1 else 'were'} 0 at every point. If the "
                               f"{'validation' if split == 'val' else split} set should have labelled objects there, "
                               "check its labels (the path in the data YAML, class ids within the dataset's names) "
                               "and that validation runs (val=True); if the term does not apply (one class: no "
                               "classification loss), nothing needs to change.")},
        )


DETECTORS = {"zero-losses": zero_losses_note, "adversarial-losses": adversarial_note, "restarts": restarts, "damaged-lines": damaged_lines, "format-guessed": format_guessed, "step-gaps": step_gaps, "too-short": too_short}
