"""The run loop: for every run, build its :class:`~lossdoc.checks.context.RunContext`, call each bound
rule's detector on the series its ``applies-to`` names, keep the test-based hits that survive the
run's false-alarm control (Benjamini-Hochberg within each rule's decisions, see
:func:`control_false_alarms`), run the likely-cause rules on the symptom findings, turn hits into :class:`~lossdoc.checks.findings.Finding` objects and
attach the run's summary (:mod:`lossdoc.checks.summary`) to a :class:`~lossdoc.checks.results.RunReport`.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from lossdoc.checks.context import Detector, Hit, RunContext, Series
from lossdoc.checks.series import final_level
from lossdoc.checks.findings import Evidence, Finding, Severity
from lossdoc.checks.results import RunReport, RunSummary
from lossdoc.checks.rulefile import RuleSpec, load_rules
from lossdoc.checks.selection import bind_params, get_detectors, matches, render_template, rule_overrides, select_rules
from lossdoc.checks.summary import drop_unreliable_extrapolation, summarize
from lossdoc.errors import RuleError
from lossdoc.model import LogSet, wide_columns


def _snake(k: str) -> str:
    return k.replace("-", "_")


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
        if metric == "adversarial" and "*" not in split:  # each side of a GAN's game, one by one
            for s in ctx.adversarial(split):
                if (s.split, s.name) not in seen:
                    out.append(s)
                    seen.add((s.split, s.name))
            continue
        for s in ctx.all_series():
            if fnmatch.fnmatchcase(s.key, pat) and (s.split, s.name) not in seen:
                out.append(s)
                seen.add((s.split, s.name))
    return out


def control_false_alarms(ctx: RunContext, hits: list[tuple[RuleSpec, Series | None, Hit]]) -> list[
        tuple[RuleSpec, Series | None, Hit]]:
    """Benjamini-Hochberg within each rule's family of decisions (:meth:`RunContext.decide`): a
    test-based hit stays only if its p-value is significant after adjusting for every series and window
    that rule tested on this run. (A p-value a detector did not record joins its family here.)"""
    out = []
    for item in hits:
        spec, h = item[0], item[2]
        p = h.evidence.pvalue
        if h.alpha is None or p is None or not math.isfinite(p):
            out.append(item)
            continue
        fam = ctx.families.setdefault(spec.id, [])
        if not any(abs(q - p) <= 1e-15 * max(abs(p), 1e-300) for q in fam):
            fam.append(float(p))
        arr = np.sort(np.asarray(fam, dtype=float))
        m = arr.size
        rank = int(np.searchsorted(arr, p, side="right"))  # number of tests with p' <= p
        adj = float(np.min(np.minimum(1.0, arr[rank - 1:] * m / np.arange(rank, m + 1))))  # step-up
        if adj <= h.alpha:
            extra = dict(h.evidence.extra)
            extra["pvalue_bh"] = adj
            extra["tests_in_family"] = m
            h.evidence = Evidence(h.evidence.method, h.evidence.statistic, h.evidence.threshold,
                                  h.evidence.pvalue, h.evidence.window, extra)
            out.append(item)
    return out


#: Detectors whose name starts with this run after every other rule and see its findings
#: (``ctx.symptoms``): a likely cause is a finding that rests on the symptom findings.
CAUSE_PREFIX = "likely-"


def check_run(ctx: RunContext, rules: list[tuple[RuleSpec, dict[str, Any], Severity]],
              detectors: dict[str, Detector]) -> list[Finding]:
    """Run every bound rule on one run; findings sorted by severity then step.

    Symptom rules run first; their findings (after false-alarm control, and after contradictions
    between them are resolved) are handed to the likely-cause rules (:data:`CAUSE_PREFIX`). A run that
    blew up, or whose LR is named too high, gets no "LR too low" finding (never the wrong direction)."""
    sev_of: dict[str, Severity] = {}
    for spec, _params, severity in rules:
        if spec.detector not in detectors:
            raise RuleError(f"rule {spec.id} names unknown detector {spec.detector!r}", path=spec.path)
        sev_of[spec.id] = severity
    symptom = [r for r in rules if not r[0].detector.startswith(CAUSE_PREFIX)]
    cause = [r for r in rules if r[0].detector.startswith(CAUSE_PREFIX)]
    findings = resolve_contradictions(_run_rules(ctx, symptom, detectors, sev_of))
    if cause:
        ctx.symptoms = list(findings)
        findings += _run_rules(ctx, cause, detectors, sev_of)
    if any(f.severity >= Severity.WARNING and f.category in ("divergence", "non_finite", "lr_too_high")
           for f in findings):
        findings = [f for f in findings if f.category != "lr_too_low"]
    findings.sort(key=finding_order)
    return findings


def finding_order(f: Finding) -> tuple[int, int, str]:
    """How a run's findings are listed: most severe first, then by step, then by rule."""
    return (-int(f.severity), f.start_step if f.start_step is not None else -1, f.rule)


def _run_rules(ctx: RunContext, rules: list[tuple[RuleSpec, dict[str, Any], Severity]],
               detectors: dict[str, Detector], sev_of: dict[str, Severity]) -> list[Finding]:
    raw: list[tuple[RuleSpec, Series | None, Hit]] = []
    for spec, params, _severity in rules:
        fn = detectors[spec.detector]
        ns = SimpleNamespace(**{_snake(k): v for k, v in params.items()}, rule=spec.id)
        ctx.current_rule = spec.id
        for target in _targets(ctx, spec):
            # NOTE: values near the float limit (+-1.7e308) overflow sums and means; they become inf/nan,
            # which every detector's comparisons treat as "no finding", so the warning is noise here
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                raw.extend((spec, target, hit) for hit in fn(ctx, target, ns))
    ctx.current_rule = ""
    findings = []
    for spec, target, hit in control_false_alarms(ctx, raw):
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
    return findings


#: Pairs of categories that cannot both hold for one series: the first one wins. A series that
#: diverged or went non-finite (also downwards: a negative loss running away) is neither still
#: improving nor on a plateau, nor underfitting (a loss that ended above its start did not "barely
#: move": its updates undid it); one stuck at a trivial level is not "still improving"; a validation
#: loss that rose from its minimum by a clear margin (an overfitting warning) did not "stop improving
#: at step A" -- its best step is OF001's, and stopping at the plateau's start would keep a worse model.
_EXCLUDES = (("divergence", "still_improving"), ("non_finite", "still_improving"),
             ("divergence", "plateau"), ("divergence", "underfitting"), ("local_minimum", "still_improving"),
             ("overfitting", "plateau"))


#: Categories that describe how a model that learned generalises: dropped from a run whose training loss
#: diverged (a divergence finding, warning or error, on the training split).
_AFTER_DIVERGENCE = ("overfitting", "train_val_gap")


def _game(f: Finding) -> bool:
    """Whether ``f`` judges a GAN's two sides against each other (DV004's discriminator winning), not a training loss
    that blew up: the run's other losses and its validation loss are not that divergence's."""
    return f.evidence.method.startswith("adversarial-imbalance")


def _jumps_from(f: Finding, onset: int) -> bool:
    """Whether every jump of the spike finding ``f`` lies at or after ``onset`` (a blow-up's first step)."""
    at = f.evidence.extra.get("steps") or [f.start_step]
    return all(a is not None and a >= onset for a in at)


def resolve_contradictions(findings: list[Finding]) -> list[Finding]:
    """Drop findings that contradict a stronger one on the same series (:data:`_EXCLUDES`). A plateau
    and a still-improving finding on overlapping windows of one series never both stay: a "converged"
    plateau (PL002, info) gives way to the significant trailing decline; a stuck or wasted plateau (warning)
    wins, since its decline is a share of the tiny range a stuck run covered. A plateau warning also
    removes a plateau note on its series (PL001 stuck/wasted beside PL002 converged). A divergence of the
    training loss removes the run's overfitting and train-val-gap findings (:data:`_AFTER_DIVERGENCE`). From a
    divergence's onset on, jumps are not spikes and a stall-then-drop is not an escaped plateau (LM001); from the
    training loss's divergence onset on, neither are the jumps of a validation or test loss."""
    def key(f: Finding) -> tuple[Any, Any]:
        return (f.split or "train", f.metric or "loss")

    drop: set[int] = set()
    # a run whose training loss diverged has no generalisation gap to speak of: validation against a
    # training loss that blew up (val 1.7e7 "25,751,965x" a train loss back at ln 2 after an explosion)
    # is the divergence seen on held-out data, not overfitting or a train-val gap; the divergence
    # finding is the one to act on
    if any(f.category == "divergence" and f.severity >= Severity.WARNING and (f.split or "train") == "train"
           and not _game(f) for f in findings):
        drop.update(i for i, f in enumerate(findings) if f.category in _AFTER_DIVERGENCE)
    # a training loss stuck at a trivial solution (LM002: ln(C), the unigram entropy) explains why every loss of
    # the run moves so little: "falls steadily but slowly, raise the LR" on the training or validation loss is
    # the same stuck model read as an LR problem, a competing cause. The local-minimum finding is the one to
    # act on (its advice checks inputs and labels first, then moves the LR both ways).
    trivial = any(f.rule == "LM002" and f.severity >= Severity.WARNING and (f.split or "train") == "train"
                  for f in findings)
    if trivial:
        drop.update(i for i, f in enumerate(findings) if f.category == "lr_too_low")
    # a "converged early" note on the training loss (PL002: "those steps bought little; stop there, or spend them
    # on a bigger model") gives way to a run whose validation loss rose from its minimum (an overfitting warning:
    # its step to stop at is the validation minimum, and a bigger model points the wrong way for a model that
    # already fits its training set too well) and to one stuck at a trivial solution (it did not converge: it
    # sits at a trivial predictor's level, which LM002's advice addresses)
    if trivial or any(f.category == "overfitting" and f.severity >= Severity.WARNING for f in findings):
        drop.update(i for i, f in enumerate(findings) if f.category == "plateau" and f.severity < Severity.WARNING
                    and (f.split or "train") == "train")
    train_onsets = [f.start_step for f in findings if f.category in ("divergence", "non_finite") and not _game(f)
                    and f.severity >= Severity.WARNING and (f.split or "train") == "train" and f.start_step is not None]
    if train_onsets:
        # a validation loss that jumps at or after the training loss blew up shows that blow-up on held-out data
        # (a corrupted batch throws the run off at step 250; the next evaluation is 3x the one before): its
        # jumps from the training loss's onset on are that divergence's, not spikes of their own
        onset = min(train_onsets)
        for i, f in enumerate(findings):
            if f.category == "loss_spikes" and (f.split or "train") != "train":
                if _jumps_from(f, onset):
                    drop.add(i)
    by_key: dict[tuple[Any, Any], list[int]] = {}
    for i, f in enumerate(findings):
        by_key.setdefault(key(f), []).append(i)
    for idx in by_key.values():
        cats = {findings[i].category for i in idx if findings[i].severity >= Severity.WARNING
                or findings[i].category in ("still_improving", "local_minimum")}
        for strong, weak in _EXCLUDES:
            if strong in cats:
                drop.update(i for i in idx if findings[i].category == weak)
        onsets = [findings[i].start_step for i in idx if findings[i].category in ("divergence", "non_finite")
                  and findings[i].severity >= Severity.WARNING and findings[i].start_step is not None]
        if onsets:
            # jumps from the blow-up's onset on are its steps (a corrupted batch that throws an SGD run off for
            # good recovers a little and lands higher each time): not separate spikes. Jumps before the onset
            # are its precursors and stay (PaLM's spikes before a divergence).
            onset = min(onsets)
            for i in idx:
                f = findings[i]
                if f.category == "loss_spikes":
                    if _jumps_from(f, onset):
                        drop.add(i)
                elif f.rule == "LM001" and f.start_step is not None and f.start_step >= onset:
                    # likewise a "stuck, then a sudden drop" from the onset on is the runaway itself (a negative
                    # loss running away below zero pauses, then falls again): no plateau the run escaped
                    drop.add(i)
        if any(findings[i].category == "plateau" and findings[i].severity >= Severity.WARNING for i in idx):
            # stuck or wasted (PL001) and "converged" (PL002) on one series: the warning is the finding
            drop.update(i for i in idx if findings[i].category == "plateau" and findings[i].severity < Severity.WARNING)
        si = [i for i in idx if findings[i].category == "still_improving" and i not in drop]
        pl = [i for i in idx if findings[i].category == "plateau" and i not in drop]
        for i in pl:
            clash = [j for j in si if _overlaps(findings[i], findings[j])]
            if not clash:
                continue
            if findings[i].severity >= Severity.WARNING:
                # a run stuck near its start (or flat for most of it) "still falls" by a share of the tiny
                # range it covered: the plateau is the finding, the decline a detail of it
                drop.update(clash)
            elif all(_slower_than_plateau(findings[i], findings[j]) for j in clash):
                # a converged plateau (its window changed the loss by < max-change of its level) beside a
                # "still improving" whose trailing decline, on the level's scale, would change the loss by less
                # than that over min-share of the run: the decline is "clear" only against the small range the
                # series covered (a validation loss first evaluated after the fast fall: 0.7770, 0.7742, 0.7725).
                # By the labelling guide ("the last >= 30% changes the loss by < ~2% of its level") that is a
                # plateau, and more steps would not clearly help
                drop.update(clash)
            else:
                drop.add(i)  # a converged plateau beside a significant trailing decline: still moving
        if any(findings[i].category == "plateau" and i not in drop and findings[i].evidence.extra.get("decelerating")
               for i in idx):
            # a plateau note that rests on a short series falling by less each time (PL002's short validation
            # route) and "falls steadily but slowly, with no sign of slowing down" (LR004) on one series: the
            # fall measurably slowed, which is convergence, not an LR that starves the run
            drop.update(i for i in idx if findings[i].category == "lr_too_low")
        # a plateau note (PL002 "converged", PL001's "slow progress, not stuck") and LR004 ("falls steadily but
        # slowly, no sign of slowing down") on one series read the same slow fall two ways; the raw loss decides.
        # When it slowed down per step (LR004's second half under `linearity` x its first, whatever a decaying
        # LR did), it converged: the note stays ("raise the LR" on an HF LoRA run flat at 3.54 while its LR fell
        # to 0 was a false alarm). When it fell in a straight line, "converged early, stop at step 21" is wrong
        # (an sklearn MLP at Adam LR 1e-5 losing 0.16% in 80 iterations, labelled lr_too_low from its sweep)
        if any(i not in drop and (findings[i].category == "plateau" and findings[i].severity >= Severity.WARNING
                                  or findings[i].rule == "UF001" and _did_not_fall(findings[i]))
               for i in idx):
            # "falls steadily but slowly, with no sign of slowing down" (LR004) cannot stand beside a plateau warning
            # on the series (its TOST showed the loss flat over a long window) or "did not fall" (UF001, the end at
            # or above the start): the report would say both (a Lightning per-step loss flat at 323 for the last
            # 75% of the run, whose start and end means differ by 0.2% while their medians say it rose 0.9%)
            drop.update(i for i in idx if findings[i].rule == "LR004")
        notes = [i for i in idx if findings[i].category == "plateau" and i not in drop
                 and findings[i].severity < Severity.WARNING]
        for i in idx:
            slowed = findings[i].evidence.extra.get("raw_slowed") if findings[i].rule == "LR004" else None
            if slowed is None or i in drop or not notes:
                continue
            drop.update([i] if slowed else notes)
    # LG007 ("no trend the log can measure") says that no check could judge the series: any finding that judged
    # it (a plateau, still improving, a divergence...) makes the note wrong
    judged = {key(f) for i, f in enumerate(findings) if i not in drop and f.category in _JUDGED}
    drop.update(i for i, f in enumerate(findings) if f.rule == "LG007" and key(f) in judged)
    return [f for i, f in enumerate(findings) if i not in drop]


def _did_not_fall(f: Finding) -> bool:
    """Whether UF001's finding says the loss did not fall: its relative drop (the statistic) is known and <= 0."""
    drop = f.evidence.statistic
    return drop is not None and math.isfinite(float(drop)) and float(drop) <= 0


#: Categories whose findings judge a loss's trend (LG007's note is dropped beside one on its series).
_JUDGED = frozenset({"plateau", "still_improving", "divergence", "underfitting", "local_minimum", "oscillation",
                     "non_finite", "overfitting", "lr_too_low", "lr_too_high"})


def _slower_than_plateau(pl: Finding, si: Finding) -> bool:
    """Whether the still-improving finding ``si``'s trailing decline (its share of the end level per whole run,
    ``level_rate_per_run``), over the plateau note ``pl``'s ``min_share`` of the run, changes the loss by less
    than ``pl``'s ``max_change`` of its level; False when either lacks those figures."""
    rate = si.evidence.extra.get("level_rate_per_run")
    share, cap = pl.evidence.extra.get("min_share"), pl.evidence.extra.get("max_change")
    if rate is None or share is None or cap is None or not math.isfinite(float(rate)):
        return False
    return float(rate) * float(share) < float(cap)


def _overlaps(a: Finding, b: Finding) -> bool:
    if None in (a.start_step, a.end_step, b.start_step, b.end_step):
        return True
    return not (a.end_step < b.start_step or b.end_step < a.start_step)


def run_checks(logset: LogSet, config: Any, horizon: int | None = None,
               progress: Callable[[str], None] | None = None, *,
               summaries: bool = True) -> tuple[list[RunReport], list[dict[str, Any]]]:
    """Check every run of ``logset``; returns (RunReports, rules in force with their parameters).

    ``summaries=False`` skips the per-run summary's curve fits (rule-case tests, the detection
    benchmark); findings are the same."""
    rules = load_rules(list(config.rule_paths))
    chosen = select_rules(rules, config)
    overrides = rule_overrides(rules, config)
    bound = []
    for spec in chosen:
        params, sev = bind_params(spec, overrides.get(spec.id), config.path)
        bound.append((spec, params, sev))
    # likely-cause rules rest on the symptom rules: when one is selected, every symptom rule runs as
    # evidence (with the user's parameters) even if it is not selected; only selected rules are reported
    evidence_only: list[tuple[RuleSpec, dict[str, Any], Severity]] = []
    if any(s.detector.startswith(CAUSE_PREFIX) for s in chosen):
        ids = {s.id for s in chosen}
        for spec in rules.values():
            if spec.id in ids or spec.detector.startswith(CAUSE_PREFIX) or spec.status != "stable":
                continue
            params, sev = bind_params(spec, overrides.get(spec.id), config.path)
            evidence_only.append((spec, params, sev))
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
            run_rules = [b for b in bound if not any(matches(b[0], s) for s in ignored)]
            findings = check_run(ctx, run_rules + evidence_only, detectors)
            if evidence_only:
                shown = {b[0].id for b in run_rules}
                findings = [f for f in findings if f.rule in shown]
            if summaries:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    summary, curves = summarize(ctx)
                drop_unreliable_extrapolation(summary, curves, findings)
            else:
                summary, curves = RunSummary(), {}
            _comparison_inputs(ctx, summary)
            reports.append(RunReport(run=run, source=src.path, format=src.format, series=ctx.series_info(),
                                     summary=summary, findings=findings, notes=notes,
                                     frame=wide_columns(blocks[0]) if len(blocks) == 1 else None, data=ctx.series_map(),
                                     curves=curves, meta=dict(src.meta)))
    in_force = [{"id": s.id, "name": s.name, "category": s.category, "severity": str(sev), "params": p}
                for s, p, sev in bound]
    return reports, in_force


def _comparison_inputs(ctx: RunContext, summary: RunSummary) -> None:
    """What comparing the runs of a sweep needs and a summary does not already hold (LR008/LR009, UF003,
    DV003): the peak of the logged LR, the first logged loss (validation, else training), and the training
    loss's first value, final level (mean of its last 5%), lowest value, and the lowest and median of its last
    10% of finite values."""
    pk = ctx.lr_peak()
    if pk is not None and pk[0] > 0:
        summary.extra["lr_peak"] = float(pk[0])
    for split in ("val", "train"):
        s = ctx.own_loss(split)
        if s is not None:
            _, v = s.finite()
            if v.size:
                summary.extra["first_loss"] = float(v[0])
                break
    tr = ctx.loss("train")
    if tr is not None:  # UF003: how far the training loss came, against the sweep's best run
        _, v = tr.finite()
        if v.size:  # DV003: the lowest of the last 10% of finite values (the last one when it went NaN early)
            tail = v[-max(1, -(-v.size // 10)):]
            summary.extra["train_tail_min"] = float(tail.min())
            # halved first: the mean of the two middle values of +-1.7e308 must not overflow (exact for
            # normal floats)
            summary.extra["train_tail_median"] = float(np.median(tail * 0.5)) * 2.0
            summary.extra["train_min"] = float(v.min())
            summary.extra["train_ends_nonfinite"] = not math.isfinite(float(tr.values[-1]))
        fin = final_level(tr.values) if v.size >= 2 else None  # mean of the last 5%, overflow-safe at 1e308
        if fin is not None and math.isfinite(fin):
            summary.extra["train_first"] = float(v[0])
            summary.extra["train_final"] = float(fin)


__all__ = ["CAUSE_PREFIX", "check_run", "finding_order", "control_false_alarms", "resolve_contradictions", "run_checks"]
