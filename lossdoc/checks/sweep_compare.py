"""LR008 / LR009 / UF003 / DV003: the runs of a sweep compared with each other.

Whether a learning rate was too high or too low is, in the end, a comparison: the same model at another
LR ended clearly better. One log cannot show it; a sweep directory can. For the runs of a sweep this
groups the runs that differ only in their LR (and seed), finds the group's best LR (lowest mean final
loss over its seeds) and flags every run whose LR is above or below it and which ended **clearly worse**:

    final >= best + max(rel-margin x |best|, min(drop-margin x (start - best), max-margin x |best|))

where ``final`` is the last logged validation loss (else the training loss's final level), a run that
went non-finite counts as +inf, ``best`` the best LR's mean final and ``start`` the group's median first
logged loss. The drop term is capped at ``max-margin`` x |best|: when the best run took the loss close to
zero (0.0025 from a start of 2.3), ending at several times the best (0.05) is clearly worse although it is
a small share of the drop. The LR of each run comes from, in order: the stated configuration (``run.config``
``learning_rate``), the peak of the logged LR series, or the run's name (``lr0.01_seed0``, ``lr=3e-4``,
``eta0.3``) -- the evidence says which. A group needs at least ``min-lrs`` distinct LRs spanning at least
:data:`MIN_SPAN` (10x): ``lr10 ... lr35`` are run indices, not an LR sweep.

DV003 (divergence): a run whose training loss stayed, over its whole last 10%, at ``factor`` x or more the
level at which the sweep's runs that learned started (the highest first value among them) ended worse than
an untrained model: it blew up, often before its first logged value, where one log shows no rise.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from typing import Any

from lossdoc.checks.detectors._common import config_number
from lossdoc.checks.findings import Evidence, Finding, Severity
from lossdoc.numfmt import fmt_num

#: An LR in a run name: lr0.01, lr=3e-4, lr_1e-5, learning_rate-0.1, eta0.3 (XGBoost), lr1e-05
#: (a number with a leading zero and no point, lr00 / lr07, is a run index, not an LR)
_LR_NAME = re.compile(r"(?:^|[^a-z0-9])(?:lr|learning[_-]?rate|eta)[=_:-]?(?!0\d)(\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
                      r"(?![a-z0-9.])", re.IGNORECASE)
_SEED_NAME = re.compile(r"(?:^|[^a-z0-9])seed[=_:-]?\d+(?![0-9])", re.IGNORECASE)


#: The rules that compare the runs of a sweep (this module); their findings exist only across runs.
SWEEP_RULES = ("LR008", "LR009", "UF003", "DV003")
#: An LR sweep spans at least an order of magnitude between its smallest and largest LR.
MIN_SPAN = 10.0


def _num(v: Any) -> float | None:
    f = config_number(v)
    return f if f is not None and f > 0 else None



#: A file name's extensions (``.log``, ``.csv.gz``): letters only, so ``lr0.1`` keeps its ``.1``
_EXT = re.compile(r"(?:\.[a-z][a-z0-9]*)+$", re.IGNORECASE)


def _parts(name: str) -> list[str]:
    """The components of a run name or path, nearest first (``lr0.1_seed1/mlp`` -> ``mlp``, ``lr0.1_seed1``;
    a ``<source>:<run>`` name is split at the colon too); file extensions dropped."""
    return [_EXT.sub("", p) for p in reversed(re.split(r"[/\\:]+", name)) if p and p != "."]


def _source_parts(runs: Sequence[Any]) -> list[list[str]]:
    """For each run, the components of its source path below the directory all the runs share, nearest
    first: where a sweep keeps its LR (``lr0.1_seed1/mlp.log``) when the run's own name does not say it.
    Runs that all come from one source (a TensorBoard logdir of runs) get none."""
    import os

    srcs = [str(getattr(r, "source", "") or "") for r in runs]
    if len(set(srcs)) < 2 or not all(srcs):
        return [[] for _ in runs]
    try:
        root = os.path.commonpath([os.path.abspath(s) for s in srcs])
    except ValueError:  # mixed drives, or not paths at all
        return [[] for _ in runs]
    return [_parts(os.path.relpath(os.path.abspath(s), root)) for s in srcs]


def run_lr(run: Any, paths: Sequence[str] = ()) -> tuple[float | None, str]:
    """(LR, where it came from) for a :class:`~lossdoc.checks.results.RunReport`: its configuration, its
    logged LR, else the first component of its name that states one (nearest first: ``lr0.1_seed1/mlp``
    says 0.1), else of ``paths`` (its source path's components below the sweep's directory, nearest first)."""
    cfg = run.config
    lr = _num(cfg.get("learning_rate"))
    if lr is not None:
        return lr, f"the configured learning_rate {fmt_num(lr)}"
    peak = _num(run.summary.extra.get("lr_peak"))
    if peak is not None:
        return peak, f"the peak of the logged LR, {fmt_num(peak)}"
    path = "/".join(reversed(paths))
    for what, parts in ((f"the run's name {run.run!r}", _parts(run.run)), (f"the run's path {path!r}", paths)):
        for part in parts:
            m = _LR_NAME.search(part)
            if m and (lr := _num(m.group(1))) is not None:
                return lr, what
    return None, ""


def _group_keys(runs: Sequence[Any], idx: Sequence[int], paths: Sequence[Sequence[str]]) -> dict[int, str]:
    """The runs that differ only in LR and seed share a key: every component of the name (and of the
    source path below the sweep's directory) with the LR and seed taken out. A component that, so
    stripped, still differs between every one of three or more runs names the run, not a factor (a
    file named by a hash or a timestamp in each LR's directory) and is left out of the key."""
    def strip(part: str) -> str:
        part = _SEED_NAME.sub(" ", _LR_NAME.sub(" ", part))
        return " ".join(t for t in re.split(r"[\s_\-]+", part) if t)

    keys = {i: (tuple(strip(p) for p in _parts(runs[i].run)), tuple(strip(p) for p in paths[i])) for i in idx}
    for side in (0, 1):
        for pos in range(max((len(k[side]) for k in keys.values()), default=0)):
            vals = [k[side][pos] for k in keys.values() if pos < len(k[side])]
            if len(vals) >= 3 and len(vals) == len(keys) and len(set(vals)) == len(vals):
                keys = {i: (k[:side] + (k[side][:pos] + ("*",) + k[side][pos + 1:],) + k[side + 1:])
                        for i, k in keys.items()}
    return {i: "/".join(k[0]) + "|" + "/".join(k[1]) for i, k in keys.items()}


def _final(run: Any) -> tuple[float, str]:
    s = run.summary
    nonfinite = any(f.category == "non_finite" and f.severity >= Severity.ERROR and (f.split or "train") != "test"
                    for f in run.findings)
    if nonfinite:
        return math.inf, "went non-finite"
    if s.final_val_loss is not None and math.isfinite(s.final_val_loss):
        return float(s.final_val_loss), "final validation loss"
    for v in (s.final_train_loss_smoothed, s.final_train_loss):
        if v is not None and math.isfinite(v):
            return float(v), "final training loss"
    return math.nan, ""


def compare_lr_sweep(runs: Sequence[Any], config: Any) -> None:
    """Append LR008 / LR009 findings (as selected and parameterised by ``config``) to the runs of a sweep
    that ended clearly worse than their group's best LR, and drop that run's single-log LR findings that
    point the other way (the comparison is the stronger evidence); findings stay sorted by severity."""
    from lossdoc.checks.rulefile import load_rules
    from lossdoc.checks.runner import finding_order
    from lossdoc.checks.selection import bind_params, matches, rule_overrides, select_rules

    # A sweep unit that holds several runs (a TensorBoard logdir of runs) was already compared within
    # itself; the comparison over every run of the sweep replaces it, so no run gets two.
    for r in runs:
        r.findings[:] = [f for f in r.findings if f.rule not in SWEEP_RULES]
    rules = load_rules(list(config.rule_paths))
    chosen = {r.id: r for r in select_rules(rules, config) if r.id in SWEEP_RULES}
    paths = _source_parts(runs)
    if "DV003" in chosen:  # first: UF003 leaves out the runs that blew up
        _worse_than_untrained(runs, config, chosen.pop("DV003"), rules, paths)
    if "UF003" in chosen:
        _underfit(runs, config, chosen["UF003"], rules)
        chosen.pop("UF003")
    if not chosen:
        return
    overrides = rule_overrides(rules, config)
    bound = {rid: bind_params(spec, overrides.get(rid), config.path) for rid, spec in chosen.items()}
    p = next(iter(bound.values()))[0]
    for i, (high, msg, rec, ev) in _compare(runs, float(p.get("rel-margin", 0.1)), float(p.get("drop-margin", 0.05)),
                                            int(p.get("min-lrs", 3)), float(p.get("max-margin", 1.0)), paths).items():
        rid = "LR008" if high else "LR009"
        if rid not in chosen or any(matches(chosen[rid], x) for x in config.ignored_for_run(runs[i].run)):
            continue
        spec, (_, sev) = chosen[rid], bound[rid]
        # the comparison decides the direction: a single-log claim pointing the other way is dropped
        other = "lr_too_low" if high else "lr_too_high"
        runs[i].findings[:] = [f for f in runs[i].findings if f.category != other]
        runs[i].findings.append(Finding(
            rule=rid, name=spec.name, category=spec.category, severity=sev, run=runs[i].run, split=None,
            metric=None, start_step=None, end_step=None, message=msg, recommendation=rec, evidence=ev))
        runs[i].findings.sort(key=finding_order)


def _worse_than_untrained(runs: Sequence[Any], config: Any, spec: Any, rules: Any,
                          paths: Sequence[Sequence[str]]) -> None:
    """DV003: a run whose training loss stayed, over its last 10% of finite values, at ``factor`` x or more
    the highest first value among the runs of the sweep that learned (fell by ``min-fall`` of their first
    value): it ended worse than an untrained model, an explosion even when it came before the first logged
    value; or, while those runs learned, one whose loss never went below its own first value and whose last
    10% sits (median) ``min-rise`` or more above it. Only runs read in the same format with the same
    training-loss series are compared. Runs that already have a divergence finding of their own are left
    alone; the run's single-log plateau and underfitting findings are dropped (a model stuck far above
    where training starts does not need more steps or capacity)."""
    from lossdoc.checks.runner import finding_order
    from lossdoc.checks.selection import bind_params, matches, rule_overrides

    params, sev = bind_params(spec, rule_overrides(rules, config).get(spec.id), config.path)
    factor, fall = float(params.get("factor", 1.5)), float(params.get("min-fall", 0.1))
    min_runs = int(params.get("min-runs", 2))
    # compared only with runs read in the same format with the same training-loss series: one trainer's runs
    def kind(i: int) -> tuple[str, Any]:
        return (runs[i].format, runs[i].summary.extra.get("train_loss_series"))

    learned: dict[tuple[str, Any], list[int]] = {}
    for i, r in enumerate(runs):
        first, final = r.summary.extra.get("train_first"), r.summary.extra.get("train_final")
        if (first is not None and final is not None and math.isfinite(first) and math.isfinite(final)
                and first > 0 and final <= (1.0 - fall) * first):
            learned.setdefault(kind(i), []).append(i)
    rise = float(params.get("min-rise", 0.1))
    # per kind: the run that learned with the highest first loss (the reference), and the LRs of the runs that
    # learned (for the recommendation) -- once, not for every run compared (a sweep of thousands of runs)
    refs = {k: max(peers, key=lambda j: runs[j].summary.extra["train_first"]) for k, peers in learned.items()}
    lrs_learned: dict[tuple[str, Any], list[float]] = {}
    for i, r in enumerate(runs):
        peers = learned.get(kind(i), [])
        if len(peers) < min_runs or i in peers:
            continue
        ref_i = refs[kind(i)]
        ref = runs[ref_i].summary.extra["train_first"]
        ex = r.summary.extra
        tail, first = ex.get("train_tail_min"), ex.get("train_first")
        if tail is None or not math.isfinite(tail):
            continue
        # (a) worse than untrained: the whole last 10% at factor x the highest start of the runs that learned;
        # (b) never learned at all: never below its own first value, and the last 10% (median) well above it
        above = tail >= factor * ref
        tail_med, low = ex.get("train_tail_median"), ex.get("train_min")
        never = (not above and first is not None and first > 0 and low is not None and low >= first
                 and tail_med is not None and math.isfinite(tail_med) and tail_med >= (1.0 + rise) * first)
        if not (above or never):
            continue
        if any(f.category == "divergence" and f.severity >= Severity.WARNING for f in r.findings):
            continue  # its own log already shows the rise
        if any(matches(spec, x) for x in config.ignored_for_run(r.run)):
            continue
        went_nan = bool(ex.get("train_ends_nonfinite"))
        if above:
            msg = ((f"before going non-finite, the training loss reached {fmt_num(tail)}" if went_nan else
                    f"the training loss stayed at or above {fmt_num(tail)} over its last 10% of points")
                   + f", {tail / ref:.3g}x the {fmt_num(ref)} at which {runs[ref_i].run} started (the highest first "
                   f"training loss among the {len(peers)} runs of this sweep that learned): it ended worse than an "
                   "untrained model, a blow-up"
                   + (f" (first logged value {fmt_num(first)}: it had blown up by then)" if first is not None
                      and first >= factor * ref else ""))
            stat, thr = tail / ref, factor
        else:
            msg = (f"the training loss never went below its first logged value {fmt_num(first)} and its last 10% of "
                   f"points sit at {fmt_num(tail_med)} (median), {tail_med / first - 1:.0%} above it, while the "
                   f"{len(peers)} runs of this sweep that learned fell by {fall:.0%} or more: it rose from the start")
            stat, thr = tail_med / first - 1.0, rise
        lr, _ = run_lr(r, paths[i])
        if kind(i) not in lrs_learned:
            lrs_learned[kind(i)] = [x for j in peers if (x := run_lr(runs[j], paths[j])[0]) is not None]
        learned_lrs = lrs_learned[kind(i)]
        lrs = (f" The runs that learned used LR {fmt_num(min(learned_lrs))}"
               + (f" to {fmt_num(max(learned_lrs))}" if max(learned_lrs) > min(learned_lrs) else "")
               + (f"; this run's is {fmt_num(lr)}." if lr is not None else ".")) if learned_lrs else ""
        rec = ("This configuration blew up: lower the learning rate (by 10x or more), add a warm-up and clip the "
               "gradient norm at 1.0; check that its inputs and targets are scaled like the other runs'." + lrs)
        r.findings[:] = [f for f in r.findings if f.category not in ("plateau", "underfitting")]
        r.findings.append(Finding(
            rule=spec.id, name=spec.name, category=spec.category, severity=sev, run=r.run, split="train",
            metric="loss", start_step=None, end_step=None, message=msg, recommendation=rec,
            evidence=Evidence("sweep-comparison", stat, thr, None, None,
                              {"route": "worse-than-untrained" if above else "never-below-first",
                               "tail_min": tail, "tail_median": tail_med, "first": first, "reference_first": ref,
                               "reference_run": runs[ref_i].run, "runs_learned": len(peers),
                               "runs_compared": len(runs)})))
        r.findings.sort(key=finding_order)


def _underfit(runs: Sequence[Any], config: Any, spec: Any, rules: Any) -> None:
    """UF003: a run whose training loss covered less than ``min-covered`` of the drop another run of the sweep
    reached (from this run's own first value down to that run's final training level): the run with the
    lowest final training level among those of the same length (within 20%) whose validation loss, when
    both log one, ended no higher than this run's. Runs whose own findings explain them are left out."""
    from lossdoc.checks.runner import finding_order
    from lossdoc.checks.selection import bind_params, matches, rule_overrides

    params, sev = bind_params(spec, rule_overrides(rules, config).get(spec.id), config.path)
    need = float(params.get("min-covered", 0.5))
    min_runs = int(params.get("min-runs", 3))
    ok = []
    for i, r in enumerate(runs):
        first, final = r.summary.extra.get("train_first"), r.summary.extra.get("train_final")
        # left out: runs whose own findings already say what happened (they blew up). An LR named too high
        # is a cause, not another symptom: a run that overshot early and was left at a trivial level did
        # underfit (the likely-cause finding says why)
        explained = any(f.category in ("non_finite", "divergence") and f.severity >= Severity.WARNING
                        for f in r.findings)
        if first is not None and final is not None and math.isfinite(first) and math.isfinite(final) and not explained:
            if final >= first:
                continue  # ended above where it started: that is divergence, not underfitting
            ok.append(i)
    if len(ok) < min_runs:
        return

    def val(i: int) -> float | None:
        v = runs[i].summary.final_val_loss
        return float(v) if v is not None and math.isfinite(v) else None

    def steps(i: int) -> float | None:
        return runs[i].summary.last_step

    for i in ok:
        r = runs[i]
        first, final = r.summary.extra["train_first"], r.summary.extra["train_final"]
        # the reference: the run with the lowest final training level among those that fit better *and* whose
        # validation loss (when both log one) ended no higher -- a run that only memorised more (a smaller
        # training set, no dropout) is no proof that this one underfits -- and that ran as long (within 20%):
        # a shorter run or one with fewer, larger batches has not had the same chance to fit
        # ...and that started from where this one did, not from higher up: a run whose first value lies past half
        # of the other's drop began warm (a fine-tuning stage from the other's weights, the folds after a
        # pretraining run in one file: Skye412/CrackMorphFormer with --split-runs), and how far it "came" is not
        # comparable
        refs = [j for j in ok if j != i and runs[j].summary.extra["train_final"] < final
                and (val(i) is None or val(j) is None or val(j) <= val(i))
                and (not steps(j) or (steps(i) is not None and abs(steps(i) - steps(j)) <= 0.2 * steps(j)))
                and not _warm_start(first, runs[j].summary.extra["train_first"], runs[j].summary.extra["train_final"])]
        if not refs:
            continue
        best_i = min(refs, key=lambda j: runs[j].summary.extra["train_final"])
        best = runs[best_i].summary.extra["train_final"]
        if first <= best:
            continue
        covered = (first - final) / (first - best)
        if covered >= need or any(matches(spec, x) for x in config.ignored_for_run(r.run)):
            continue
        msg = (f"the training loss came only {max(covered, 0.0):.0%} of the way from its first value {fmt_num(first)} "
               f"to the {fmt_num(best)} that {runs[best_i].run} reached (final level {fmt_num(final)}, the mean of its last 5% "
               "of points, at least 3)" + (f"; that run's validation loss also ended lower ({fmt_num(val(best_i))} against "
                               f"{fmt_num(val(i))})" if val(i) is not None and val(best_i) is not None else ""))
        rec = (f"This configuration underfits next to {runs[best_i].run}: compare what differs (a larger model, a "
               "better learning rate, less regularisation, more steps) and move towards it.")
        r.findings.append(Finding(
            rule=spec.id, name=spec.name, category=spec.category, severity=sev, run=r.run, split="train",
            metric="loss", start_step=None, end_step=None, message=msg, recommendation=rec,
            evidence=Evidence("sweep-comparison", covered, need, None, None,
                              {"first": first, "final": final, "best_final": best, "best_run": runs[best_i].run,
                               "runs_compared": len(ok)})))
        r.findings.sort(key=finding_order)


def _warm_start(first: float, ref_first: float, ref_final: float) -> bool:
    """Whether a run that began at ``first`` began past half of the drop another run made from ``ref_first`` to
    ``ref_final``: where that run was well into its training, not where training starts."""
    return ref_first > ref_final and first < ref_first - 0.5 * (ref_first - ref_final)


def _compare(runs: Sequence[Any], rel_margin: float, drop_margin: float, min_lrs: int, max_margin: float,
             paths: Sequence[Sequence[str]]) -> dict[int, tuple[bool, str, str, Evidence]]:
    """{index into ``runs``: (LR above the best?, message, recommendation, evidence)}; ``paths`` as
    :func:`_source_parts` gives them."""
    groups: dict[str, list[int]] = {}
    info: dict[int, tuple[float, str, float, str]] = {}
    for i, r in enumerate(runs):
        lr, src = run_lr(r, paths[i])
        if lr is None:
            continue
        fin, what = _final(r)
        if fin != fin:  # nan: nothing to compare
            continue
        info[i] = (lr, src, fin, what)
    for i, key in _group_keys(runs, list(info), paths).items():
        groups.setdefault(key, []).append(i)
    out: dict[int, tuple[bool, str, str, Evidence]] = {}
    for idx in groups.values():
        by_lr: dict[float, list[float]] = {}
        for i in idx:
            by_lr.setdefault(info[i][0], []).append(info[i][2])
        if len(by_lr) < min_lrs or max(by_lr) / min(by_lr) < MIN_SPAN:
            continue  # too few LRs, or not an LR sweep (lr10 ... lr35 are run indices, not learning rates)
        means = {lr: (statistics.fmean(v) if all(math.isfinite(x) for x in v) else math.inf) for lr, v in by_lr.items()}
        best_lr = min(means, key=lambda k: means[k])
        best = means[best_lr]
        if not math.isfinite(best):
            continue
        starts = [x for i in idx if (x := runs[i].summary.extra.get("first_loss")) is not None and math.isfinite(x)]
        start = statistics.median(starts) if starts else best
        drop = drop_margin * max(start - best, 0.0)
        if best != 0:  # a best of exactly 0 gives no scale to cap by
            drop = min(drop, max_margin * abs(best))
        margin = max(rel_margin * abs(best), drop)
        for i in idx:
            lr, src, fin, what = info[i]
            if lr == best_lr or fin < best + margin:
                continue
            high = lr > best_lr
            ratio = lr / best_lr if high else best_lr / lr
            ended = "went non-finite" if not math.isfinite(fin) else f"ended at {fmt_num(fin)} ({what})"
            msg = (f"in this sweep the runs at LR {fmt_num(best_lr)} ended best ({fmt_num(best)}, mean over "
                   f"{len(by_lr[best_lr])} run(s)); this run's LR {fmt_num(lr)} ({ratio:.0f}x "
                   f"{'higher' if high else 'lower'}, from {src}) {ended}, clearly worse (margin {fmt_num(margin)})")
            rec = (f"Use an LR near {fmt_num(best_lr)} for this configuration: {fmt_num(lr)} is {ratio:.0f}x too "
                   + ("high (it ended worse and may blow up at larger scale)." if high else
                      "low (the same steps at the better LR went further)."))
            ev = Evidence("sweep-comparison", fin if math.isfinite(fin) else None, best + margin, None, None,
                          {"lr": lr, "lr_source": src, "best_lr": best_lr, "best_final": best, "margin": margin,
                           "group_runs": len(idx), "distinct_lrs": len(by_lr)})
            out[i] = (high, msg, rec, ev)
    return out


__all__ = ["SWEEP_RULES", "compare_lr_sweep", "run_lr"]
