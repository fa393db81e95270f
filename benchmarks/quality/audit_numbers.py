"""Every number a report states is exactly as logged or labelled derived: an audit over real logs.

    python benchmarks/quality/audit_numbers.py                 # all four corpora, counts + each violation
    python benchmarks/quality/audit_numbers.py -v              # also each claim checked and unmatched numbers
    python benchmarks/quality/audit_numbers.py --json out.json # machine-readable counts and violations
    python benchmarks/quality/audit_numbers.py --cache c.pkl   # keep the analysed reports (re-audit quickly)

Logs: ``benchmarks/realruns/labels.tsv``, the dev half of ``benchmarks/publiclogs/SOURCES.tsv`` (never the
test half), ``../shared/real_logs/SOURCES.tsv`` (``LOSSDOC_SHARED_DIR``) and ``sample_logs/MANIFEST.tsv``.
Each is analysed as ``lossdoc.analyze(path)`` with the default configuration, and the numbers of every
finding's message and recommendation, and of each run's summary, are checked against the series lossdoc
read (the run's series as the checks split them; a split's loss as ``resolve_loss`` makes it).

Claims checked (a regex each; the counts per pattern are printed):

- value at a step: ``V at step S``, ``V as logged at step S``, ``at step S (V as logged)``, ``at step S
  (val loss V)``, ``step S (V)``, ``V vs W at step S``, ``(LR V as first logged, at step S)``, ``the LR had
  reached V at step S``: V is a logged value at S of the series the words before it name (LR, training /
  validation loss, grad norm) or else of the finding's own series, to the precision shown (a shown ``0.5909``
  holds a logged value within 0.00005 of it);
- a spike's ``(M -> V, ...) at step S``: V is the finding's series at S (M is labelled: the trailing median);
- ``LR in force V`` after ``at step S``, ``V (in force at step S)``, ``(LR in force V)`` after a clause that
  names a step S: the LR logged last at or before S (or the first logged LR);
- ``first logged value V at step S`` / ``first logged value V``: the named series' first finite value (and
  its step);
- ``peak LR V`` / ``peak LR from V``: the LR series' logged maximum to 4 significant digits (a configured LR,
  when the log has no LR series, is not checked); ``LR V, reached at step S``: the LR logged at S;
- ``rose/fell/dropped/exploded to V`` with no step: a value the named series logged, unless labelled derived;
- a level (``flat at V``, ``sits at V``, ``stuck at V``): labelled derived in its clause (``flat at 3.5
  (mean)``; a plural label in its sentence, ``both levels derived``, covers it), or else a logged value at the
  step it is said to start from;
- a step named in a message (``at/from/by/since/after/until step S``, ``steps A-B``, ``best step S``): a
  logged step of the finding's series or, failing that, of any series of the run;
- the summary: ``best_*``/``final_*`` with their steps against the split's loss.

A value is exempt when the clause says it is derived: a word of ``DERIVED`` between the previous clause
boundary (``;``, ``(``, ``:`` or the previous number) and the value, or between the claim and the next
number or boundary (``level 0.06 (mean over the window)``). A label covers only its own clause. A step is
exempt when it is a projection's target (``predicts ... at step S``, ``training to step S``) or a planned
length. Numbers no pattern covers (and that are not percentages, multiples, test statistics or counts) are
counted as unmatched so the coverage is visible.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pickle
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = Path(os.environ.get("LOSSDOC_SHARED_DIR") or ROOT.parent / "shared") / "real_logs"


def _tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def corpus_logs() -> list[tuple[str, Path]]:
    """(corpus, path) of every log audited: real runs, the public dev half, the shared real logs, the samples."""
    out: list[tuple[str, Path]] = []
    rr = ROOT / "benchmarks" / "realruns"
    if (rr / "labels.tsv").is_file():
        out += [("realruns", rr / "logs" / r["path"]) for r in _tsv(rr / "labels.tsv")]
    pub = ROOT / "benchmarks" / "publiclogs"
    if (pub / "SOURCES.tsv").is_file():
        # the dev half only: the test half is never read for tuning (benchmarks/publiclogs/README.md)
        out += [("public-dev", pub / "logs" / r["saved_path"]) for r in _tsv(pub / "SOURCES.tsv")
                if r.get("half", "").strip() == "dev"]
    if (SHARED / "SOURCES.tsv").is_file():
        out += [("shared", SHARED / r["saved_path"]) for r in _tsv(SHARED / "SOURCES.tsv")]
    sam = ROOT / "sample_logs"
    if (sam / "MANIFEST.tsv").is_file():
        out += [("samples", sam / r["path"]) for r in _tsv(sam / "MANIFEST.tsv")]
    return out


def collect(path: Path) -> dict[str, Any]:
    """What the audit needs from one log: each run's series (as the checks split them, plus the loss of each
    split as resolve_loss makes it), findings and summary."""
    import lossdoc
    from lossdoc.checks.series import resolve_loss
    from lossdoc.config import Config

    try:
        report = lossdoc.analyze(str(path), config=Config())
    except Exception as exc:  # noqa: BLE001 - an unreadable log has no numbers to audit; listed
        return {"path": str(path), "error": f"{type(exc).__name__}: {exc}", "runs": []}
    runs = []
    for r in report.runs:
        data = r.data or {}
        series = {k: (s.name, np.asarray(s.steps, dtype=np.int64), np.asarray(s.values, dtype=float))
                  for k, s in data.items()}
        losses = {}
        for split in ("train", "val", "test"):
            s = resolve_loss(data, split)
            if s is not None:
                losses[split] = (s.name, np.asarray(s.steps, dtype=np.int64), np.asarray(s.values, dtype=float))
        runs.append({"run": r.run, "series": series, "losses": losses, "summary": r.summary.to_dict(),
                     "findings": [f.to_dict() for f in r.findings]})
    # a file of several runs: LG001 names the step ranges of the runs it did not analyse, logged in the file but
    # not in the run analysed; they are looked up in every run of the file (read with split_runs)
    file_steps: list[int] = []
    if any(f["rule"] == "LG001" for r in runs for f in r["findings"]):
        file_steps = sorted(set(lossdoc.read(str(path), split_runs=True).frame.get_column("step").to_list()))
    return {"path": str(path), "error": None, "runs": runs, "file_steps": file_steps}


def collect_all(logs: list[tuple[str, Path]], jobs: int = 1, progress: bool = False) -> list[dict[str, Any]]:
    out = []
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as ex:
            for (corpus, p), d in zip(logs, ex.map(collect, [p for _, p in logs], chunksize=4)):
                d["corpus"] = corpus
                out.append(d)
                if progress:
                    print(len(out), p, file=sys.stderr)
    else:
        for corpus, p in logs:
            d = collect(p)
            d["corpus"] = corpus
            out.append(d)
    return out


# ---------------------------------------------------------------------------------------------- the audit

NUM = r"(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?|NaN|-?inf)"
STEP = r"(\d{1,3}(?:,\d{3})+|\d+)"
NUMBER = re.compile(r"(?<![\w.])" + NUM + r"(?![\w.])|(?<![\w.])" + NUM + r"(?=x\b|%)")
#: Words that make a value derived (not a logged value), in its own clause.
DERIVED = re.compile(r"mean|median|smoothed|average|fit\b|fitted|predict|project|extrapolat|expected|about|~|"
                     r"level|trend|theil|slope|derived|percentile|bin|window|sum|estimate|range|interval|bound",
                     re.I)
#: Words that make a step a projection's target or a planned length, not a logged step.
FUTURE_STEP = re.compile(r"(?:predicts?\b[^;(]*|projection|projected|training|train|extrapolated|horizon|planned|"
                         r"would\b[^;(]*|max_steps|save_steps = \d+\); the saved one[^;]*)\s*$", re.I)
BOUNDARY = re.compile(r"[;(:]|\|\|")
#: (name, regex, value group(s), step group, hint override)
VALUE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("first-logged", re.compile(r"first logged value " + NUM + r" at step " + STEP + r"\b")),
    ("first-logged-no-step", re.compile(r"first logged (?:value|loss) " + NUM + r"(?! at step)(?![\d,.]*\d)")),
    ("lr-first-logged", re.compile(r"\(LR " + NUM + r" as first logged, at step " + STEP + r"\b")),
    ("lr-reached", re.compile(r"LR had reached " + NUM + r" at step " + STEP + r"\b")),
    ("v-vs-w-at-step", re.compile(NUM + r" vs " + NUM + r" at step " + STEP + r"\b")),
    ("v-at-step", re.compile(NUM + r"(?: as logged)? at step " + STEP + r"\b")),
    ("at-step-(v)-elsewhere", re.compile(r"at (?:step|round|epoch) " + STEP + r" \((?:(val loss|loss|LR|grad norm) )?"
                                         + NUM + r", as logged at step " + STEP + r"\)")),
    ("at-step-(v)", re.compile(r"at (?:step|round|epoch) " + STEP + r" \((?:(val loss|loss|LR|grad norm) )?" + NUM
                               + r"(?: as logged)?(?=[);]|,(?!\d))")),
    ("step-s-(v)", re.compile(r"(?<!at )step " + STEP + r" \(" + NUM + r"\)")),
    ("v-@-s", re.compile(NUM + r" @ (?:step )?" + STEP + r"\b")),
    ("(step-s:-v)", re.compile(r"\(step " + STEP + r": " + NUM + r"\)")),
]
#: "the trailing median M -> V" of a spike, then its step: V is the logged spike value (M is labelled)
SPIKE = re.compile(r"\(" + NUM + r" -> " + NUM + r",[^()]*(?:\([^()]*\)[^()]*)*\) at step " + STEP + r"\b")
#: "decayed from V (in force at step S)": the LR logged at or before S
IN_FORCE_AT = re.compile(NUM + r" \(in force at step " + STEP + r"\)")
#: a level a series sits at ("flat at V", "sits at V", "stuck at V"): a logged value or labelled derived
LEVEL = re.compile(r"\b(?:[Ff]lat|sits|[Ss]tuck|stayed|settled) at " + NUM + r"(?![\d%])")
#: a plural label covering the levels of its sentence ("both levels derived", "end levels, derived")
LEVELS_LABEL = re.compile(r"levels,? derived|levels derived")
#: "lower the peak LR from V", "at peak LR V", "with peak LR V": the LR series' logged maximum (a configured LR
#: when the log has no LR series is not checked)
PEAK_LR = re.compile(r"\bpeak LR (?:from )?" + NUM + r"(?![\d%x])")
#: "exploded to V", "rose to V", "fell to V" with no step: unless labelled derived, a value the series logged
MOVED_TO = re.compile(r"\b(?:exploded|jumped|rose|climbed|fell|dropped|went) (?:back )?to " + NUM
                      + r"(?![.\d,e+-]*(?:x|%))(?![\d.])(?! at step)")
#: "LR V reached at step S": the LR logged at S
LR_REACHED_AT = re.compile(r"\bLR " + NUM + r",? reached at step " + STEP + r"\b")
LR_IN_FORCE = re.compile(r"at step " + STEP + r" \(LR in force " + NUM + r"\)")
STEP_PATTERNS = [
    ("steps-a-b", re.compile(r"\bsteps " + STEP + r"(?:-| to )" + STEP + r"\b")),
    ("step-s", re.compile(r"\b(?:at|from|by|since|after|before|until|to|best|is) (?:step|round|epoch) ~?" + STEP
                          + r"(?![\d,.]*%)\b")),
]
#: Numbers that are no value of a series: percentages, multiples, test statistics, counts, advice ranges.
NOT_A_VALUE = re.compile(r"(?:p|t|z|F|alpha|H|W|r|R2|rho|tau|df)\s?[=<>]\s?$|patience=\s?$|ratio\s?$|~$", re.I)
COUNT_AFTER = re.compile(r"\s?(?:%|x\b|st\b|nd\b|rd\b|th\b|\)?\s*(?:points?|evaluations?|steps?|rounds?|epochs?|"
                         r"values?|degrees?|batches|runs?|changes|alternating|spikes?|spike\(s\)|more|of the|of \d|"
                         r"times|directories|noise|sigma|seeds?|folds?|sd\b|SD\b|warm-?up|percentage|classes|"
                         r"consecutive|checkpoints?|in all|in a row|out of|rows|lines|bins|files|chunks|"
                         r"samples|items|tokens|ms|s\b|min\b|hours?|%|-\d))")


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def shown_as(token: str, logged: float) -> bool:
    """``token`` is ``logged`` to the precision shown: within half a unit of the token's last digit."""
    shown = _num(token)
    if math.isnan(shown) or math.isnan(logged):
        return math.isnan(shown) and math.isnan(logged)
    if math.isinf(shown) or math.isinf(logged):
        return shown == logged
    t = token.replace(",", "").lstrip("-")
    mant, _, exp = t.partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    unit = 10.0 ** (-decimals + (int(exp) if exp else 0))
    return abs(shown - logged) <= 0.5 * unit * (1 + 1e-9) + 1e-300


def shown_4sig(token: str, logged: float) -> bool:
    """``token`` is ``logged`` to 4 significant digits, however it is written (an LR as ``1e-3`` drops its
    zeros, so the token's own last digit says nothing of its precision)."""
    shown = _num(token)
    if not (math.isfinite(shown) and math.isfinite(logged)) or logged == 0:
        return shown == logged
    return abs(shown - logged) <= 0.5 * 10 ** (math.floor(math.log10(abs(logged))) - 3) * (1 + 1e-9)


class Run:
    """One run's series for look-ups: by (split, metric), the split losses, every step of the run."""

    def __init__(self, r: dict[str, Any]) -> None:
        self.series = r["series"]
        self.losses = r["losses"]
        self.all_steps = set()
        for _, st, _ in self.series.values():
            self.all_steps.update(st.tolist())
        for _, st, _ in self.losses.values():
            self.all_steps.update(st.tolist())

    def get(self, split: str | None, metric: str | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
        out = []
        if split and metric and (split, metric) in self.series:
            out.append(self.series[(split, metric)])
        if split and metric == "loss" and split in self.losses:
            out.append(self.losses[split])
        return out

    def named(self, words: str, own: list | None = None) -> list[tuple[str, np.ndarray, np.ndarray]] | None:
        """The series the words before a value name last (a series' own name, the LR, the grad norm, the
        training or validation loss), or None when they name none."""
        w = words.lower()
        pos: dict[Any, tuple[int, int]] = {}  # key -> (end of its last mention, length): the last, longest wins
        for key, (name, _, _) in [*self.series.items(), *((("loss", sp), v) for sp, v in self.losses.items())]:
            ms = list(re.finditer(r"(?<![\w/.])" + re.escape(name.lower()) + r"(?![\w/])", w)) if name else []
            if ms:
                pos[("name", key)] = (ms[-1].end(), len(name))
        for key, pat in (("lr", r"\blr\b|learning rate|\beta\b"), ("grad_norm", r"grad(?:ient)?[ _]norm"),
                         ("acc:val", r"(?:validation|\bval|\beval)(?:_| |/)?acc(?:uracy)?\b"),
                         ("acc:train", r"(?:training|\btrain)(?:_| |/)?acc(?:uracy)?\b"),
                         ("val", r"validation(?: loss)?|\bval(?:_| |/)?loss|\bval\b|\beval(?:_| |/)?loss|\beval"),
                         ("train", r"training(?: loss)?|\btrain(?:_| |/)?loss|\btrain\b"),
                         ("loss", r"(?<![\w/])loss(?![\w/])")):
            ms = list(re.finditer(pat, w))
            if ms:
                pos[key] = (ms[-1].end(), ms[-1].end() - ms[-1].start())
        if not pos:
            return None
        key = max(pos, key=lambda k: pos[k])
        if isinstance(key, tuple):
            hit = self.losses[key[1][1]] if key[1][0] == "loss" else self.series[key[1]]
            if own and any(o[0] == hit[0] for o in own):
                # two series logged under one name ("loss" at train and at val): the words name the finding's own
                return [o for o in own if o[0] == hit[0]]
            return [hit]
        if key == "loss":  # "the loss": the finding's own series, or the training loss of a run-level finding
            return own or ([self.losses["train"]] if "train" in self.losses else [])
        if key in ("acc:val", "acc:train"):  # "the best validation accuracy (0.5708 ...)": that split's accuracy
            return [s for (sp, m), s in self.series.items() if sp == key[4:] and m == "accuracy"]
        if key in ("lr", "grad_norm"):
            return [s for (sp, m), s in self.series.items() if m == key]
        out = [self.losses[key]] if key in self.losses else []
        # the split's other loss-like series (nanoGPT's estimated training loss at each evaluation)
        return out + [s for (sp, m), s in self.series.items() if sp == key and "loss" in m]

    def values_at(self, cands: list[tuple[str, np.ndarray, np.ndarray]], step: int) -> list[float]:
        out = []
        for _, st, v in cands:
            out += v[st == step].tolist()
        return out

    def any_at(self, step: int) -> list[tuple[str, float]]:
        return [(f"{k[0]}/{k[1]}", float(x)) for k, (_, st, v) in self.series.items() for x in v[st == step]]


def clause_before(text: str, start: int) -> str:
    """The text from the previous clause boundary or number to ``start``."""
    lo = 0
    for m in BOUNDARY.finditer(text, 0, start):
        lo = m.end()
    for m in NUMBER.finditer(text, lo, start):
        if m.end() <= start:
            lo = max(lo, m.end())
    return text[lo:start]


def sentence_before(text: str, start: int) -> str:
    """The text from the previous ``;`` (or the start) to ``start``: where the series a value belongs to is
    named (``while the LR was 0.05, 100% of its peak up to then (0.05 at step 132)``)."""
    lo = max(text.rfind(";", 0, start), text.rfind("||", 0, start), text.rfind(". ", 0, start))
    return text[lo + 1:start]


def clause_after(text: str, end: int) -> str:
    """The text from ``end`` to the next number or clause end (a parenthesis right after is read to its first
    number, so ``0.7937 (mean of the last 15`` is labelled)."""
    rest = text[end:]
    m = NUMBER.search(rest)
    cut = m.start() if m else len(rest)
    stop = re.search(r"[;)]|\|\||\. ", rest)
    if stop and stop.start() < cut:
        cut = stop.start()
    return rest[:cut]


def derived(text: str, m: re.Match[str] | None, vstart: int, vend: int | None = None) -> bool:
    """The value at ``vstart`` is labelled derived in its own clause: by words before it, or by a parenthesis
    or a comma clause right after it (``0.7937 (mean of ...``, ``0.4548, the mean of ...``); words after it
    that do not open such a clause label the next number (``8.199 at step 49,050 after a median 5.115``)."""
    after = clause_after(text, m.end() if m is not None else vend)
    return bool(DERIVED.search(clause_before(text, vstart))
                or (re.match(r"\s*[(,]", after) and DERIVED.search(after)))


@dataclass
class Tally:
    claims: Counter = field(default_factory=Counter)  # pattern -> claims checked
    exempt: Counter = field(default_factory=Counter)  # pattern -> labelled derived / projected
    violations: list[dict[str, Any]] = field(default_factory=list)
    unmatched: Counter = field(default_factory=Counter)  # rule -> numbers no pattern covers
    unmatched_examples: list[str] = field(default_factory=list)
    exempt_examples: list[str] = field(default_factory=list)
    labelled: Counter = field(default_factory=Counter)  # rule -> numbers without a step, labelled derived
    logs: int = 0
    findings: int = 0


def _violation(t: Tally, log: dict[str, Any], run: str, f: dict[str, Any] | None, kind: str, claim: str,
               detail: str, text: str) -> None:
    t.violations.append({"corpus": log["corpus"], "path": log["path"], "run": run,
                         "rule": f["rule"] if f else "summary",
                         "series": f"{f['split']}/{f['metric']}" if f else "", "kind": kind, "claim": claim,
                         "detail": detail, "text": text})


def audit_text(t: Tally, log: dict[str, Any], rr: Run, run: str, f: dict[str, Any], text: str) -> None:
    own = rr.get(f["split"], f["metric"])
    covered: list[tuple[int, int]] = []

    def check_value(pat: str, token: str, step: int, vstart: int, m: re.Match[str], hint: str | None = None,
                    cands: list | None = None) -> None:
        t.claims[pat] += 1
        if derived(text, m, vstart) and pat not in ("first-logged",):
            t.exempt[pat] += 1
            t.exempt_examples.append(f"{f['rule']} [{pat}] {clause_before(text, vstart)!r} {m.group(0)!r} "
                                     f"{clause_after(text, m.end())!r}")
            return
        if cands is None:
            named = rr.named(hint, own) if hint else rr.named(sentence_before(text, vstart), own)
            if named is None and not own:  # a finding on no series (LG001): the series named earlier
                named = rr.named(text[:vstart], own)
            cands = named if named is not None else own
        logged = rr.values_at(cands, step)
        if not any(shown_as(token, v) for v in logged):
            other = [(k, v) for k, v in rr.any_at(step) if shown_as(token, v)]
            _violation(t, log, run, f, "value", m.group(0),
                       f"logged at step {step:,} in {[c[0] for c in cands]}: {[round(v, 6) for v in logged[:4]]}"
                       + (f"; matches {other[:2]}" if other else ""), text)

    for pat, rx in VALUE_PATTERNS:
        for m in rx.finditer(text):
            if any(a <= m.start() < b for a, b in covered):
                continue
            covered.append(m.span())
            g = m.groups()
            if pat == "first-logged":
                token, step = g[0], int(_num(g[1]))
                named = rr.named(text[max(0, m.start() - 120):m.start()], own)  # "the range the training loss ..."
                check_value(pat, token, step, m.start(1), m, cands=named if named is not None else own)
                for _, st, v in (named if named is not None else own)[:1]:
                    ok = np.isfinite(v)
                    if ok.any() and int(st[ok][0]) != step:
                        _violation(t, log, run, f, "first", m.group(0),
                                   f"first finite value is {v[ok][0]:.6g} at step {int(st[ok][0]):,}", text)
            elif pat == "first-logged-no-step":
                t.claims[pat] += 1
                named = rr.named(sentence_before(text, m.start()), own)
                if named is None and not own:  # a finding on no series (LG001): the series named earlier
                    named = rr.named(text[:m.start()], own)
                cands = named if named is not None else own
                if "logged loss" in m.group(0):  # "the first logged loss": the finding split's loss
                    cands = cands + [rr.losses[f["split"]]] if f["split"] in rr.losses else cands
                firsts = [float(v[np.isfinite(v)][0]) for _, st, v in cands if np.isfinite(v).any()]
                if not any(shown_as(g[0], x) for x in firsts):
                    _violation(t, log, run, f, "first", m.group(0), f"first finite values {firsts[:3]}", text)
            elif pat == "lr-first-logged" or pat == "lr-reached":
                check_value(pat, g[0], int(_num(g[1])), m.start(1), m, hint="LR")
            elif pat == "v-vs-w-at-step":
                step = int(_num(g[2]))
                check_value(pat, g[0], step, m.start(1), m)
                before = clause_before(text, m.start(1))
                other = "training" if re.search(r"valid|below the train", text[:m.start()], re.I) else before
                check_value(pat, g[1], step, m.start(2), m, hint=other)
            elif pat == "v-at-step":
                check_value(pat, g[0], int(_num(g[1])), m.start(1), m)
            elif pat == "at-step-(v)-elsewhere":
                check_value(pat, g[2], int(_num(g[3])), m.start(3), m, hint=g[1])
            elif pat == "at-step-(v)":
                check_value(pat, g[2], int(_num(g[0])), m.start(3), m, hint=g[1])
            elif pat == "step-s-(v)":
                check_value(pat, g[1], int(_num(g[0])), m.start(2), m)
            elif pat == "v-@-s":
                check_value(pat, g[0], int(_num(g[1])), m.start(1), m)
            elif pat == "(step-s:-v)":
                check_value(pat, g[1], int(_num(g[0])), m.start(2), m)
    lr = [s for (sp, mt), s in rr.series.items() if mt == "lr"]
    for m in SPIKE.finditer(text):
        covered.append(m.span())
        check_value("spike-m->v", m.group(2), int(_num(m.group(3))), m.start(2), m, cands=own)
    for m in LEVEL.finditer(text):
        covered.append(m.span())
        t.claims["level"] += 1
        sentence = re.split(r"\|\||\. ", text[m.start():])[0]
        if derived(text, None, m.start(1), m.end(1)) or LEVELS_LABEL.search(sentence):
            t.exempt["level"] += 1
            t.exempt_examples.append(f"{f['rule']} [level] {m.group(0)!r} {clause_after(text, m.end())!r}")
            continue
        step = re.match(r"[^;]{0,60}?(?:since|from) step " + STEP, text[m.end():])
        logged = rr.values_at(own, int(_num(step.group(1)))) if step else []
        if not any(shown_as(m.group(1), v) for v in logged):
            _violation(t, log, run, f, "level", m.group(0),
                       "a level with no derived label"
                       + (f"; logged at step {step.group(1)}: {[round(v, 6) for v in logged[:3]]}" if step else ""),
                       text)
    for m in PEAK_LR.finditer(text):
        covered.append(m.span())
        t.claims["peak-lr"] += 1
        fin = [v[np.isfinite(v)] for _, _, v in lr]
        fin = [v for v in fin if v.size]
        if not fin:
            t.exempt["peak-lr"] += 1  # a configured LR: the log has no LR series to check it against
            continue
        peak = max(float(np.max(v)) for v in fin)
        if not shown_4sig(m.group(1), peak):
            _violation(t, log, run, f, "lr-peak", m.group(0), f"logged LR peaks at {peak:.6g}", text)
    for m in MOVED_TO.finditer(text):
        if any(a <= m.start(1) < b for a, b in covered):
            continue
        covered.append(m.span())
        t.claims["moved-to"] += 1
        if derived(text, None, m.start(1), m.end(1)) or LEVELS_LABEL.search(re.split(r"\|\||\. ", text[m.start():])[0][:200]):
            t.exempt["moved-to"] += 1
            continue
        named = rr.named(sentence_before(text, m.start(1)), own)
        cands = named if named is not None else own
        if not any(shown_as(m.group(1), float(x)) for _, _, v in cands for x in v):
            _violation(t, log, run, f, "value", m.group(0), "no logged value of "
                       f"{[c[0] for c in cands]} shows as this (no derived label)", text)
    for m in LR_REACHED_AT.finditer(text):
        covered.append(m.span())
        check_value("lr-reached-at", m.group(1), int(_num(m.group(2))), m.start(1), m, hint="LR")
    for m in IN_FORCE_AT.finditer(text):
        covered.append(m.span())
        t.claims["in-force-at"] += 1
        step, token = int(_num(m.group(2))), m.group(1)
        vals = [float(v[max(np.searchsorted(st, step, side="right") - 1, 0)]) for _, st, v in lr]
        if not any(shown_as(token, x) for x in vals):
            _violation(t, log, run, f, "lr-in-force", m.group(0), f"LR logged at or before: {vals}", text)
    for m in re.finditer(r"\(LR in force " + NUM + r"\)", text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        # "(LR in force V)" after a clause that named its step: the LR logged last at or before that step
        prev = list(re.finditer(r"\bsteps? (?:~)?" + STEP + r"\b", text[:m.start()]))
        if not prev or not lr:
            continue
        covered.append(m.span())
        t.claims["lr-in-force-after-step"] += 1
        step, token = int(_num(prev[-1].group(1))), m.group(1)
        vals = [float(v[max(np.searchsorted(st, step, side="right") - 1, 0)]) for _, st, v in lr]
        if not any(shown_as(token, x) or shown_4sig(token, x) for x in vals):
            _violation(t, log, run, f, "lr-in-force", m.group(0), f"LR logged at or before step {step:,}: {vals}",
                       text)
    for m in LR_IN_FORCE.finditer(text):
        covered.append(m.span())
        t.claims["lr-in-force"] += 1
        step, token = int(_num(m.group(1))), m.group(2)
        ok = False
        for _, st, v in lr:
            i = np.searchsorted(st, step, side="right") - 1
            at = v[i] if i >= 0 else v[0]
            ok |= shown_as(token, float(at)) or any(shown_as(token, float(x)) for x in v[st == st[max(i, 0)]])
        if not ok:
            _violation(t, log, run, f, "lr-in-force", m.group(0), "LR logged at or before: "
                       + str([float(v[max(np.searchsorted(st, step, side='right') - 1, 0)]) for _, st, v in lr]),
                       text)
    own_steps = set()
    for _, st, _ in own:
        own_steps.update(st.tolist())
    for pat, rx in STEP_PATTERNS:
        for m in rx.finditer(text):
            steps = [int(_num(x)) for x in m.groups()]
            before = text[max(0, m.start() - 80):m.start()]
            before = before.split(";")[-1].split("||")[-1]
            t.claims[pat] += 1
            covered.append(m.span())
            if FUTURE_STEP.search(before):
                t.exempt[pat] += 1
                t.exempt_examples.append(f"{f['rule']} [{pat}] ...{before[-50:]}{m.group(0)!r}{text[m.end():m.end() + 30]}")
                continue
            for s in steps:
                if s not in own_steps and s not in rr.all_steps and not (f["rule"] == "LG001"
                                                                         and s in log.get("file_steps", ())):
                    _violation(t, log, run, f, "step", m.group(0),
                               f"step {s:,} is no logged step of {[c[0] for c in own]} nor of the run", text)
    # numbers no pattern covered
    for m in NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        after = text[m.end():m.end() + 24]
        before = text[max(0, m.start() - 12):m.start()]
        if COUNT_AFTER.match(after) or NOT_A_VALUE.search(before) or re.search(r"\bstep |\bsteps? ~?$|round $|epoch $"
                                                                               r"|-$", before):
            continue
        if derived(text, None, m.start(), m.end()) or LEVELS_LABEL.search(
                re.split(r"\|\||\. ", text[m.start():])[0][:150]):
            t.labelled[f["rule"]] += 1
            continue
        t.unmatched[f["rule"]] += 1
        if len(t.unmatched_examples) < 3000:
            t.unmatched_examples.append(f"{f['rule']}: ...{text[max(0, m.start() - 50):m.end() + 30]}...")


def audit_summary(t: Tally, log: dict[str, Any], rr: Run, run: str, s: dict[str, Any]) -> None:
    for split in ("train", "val"):
        ser = rr.losses.get(split)
        for which in ("best", "final"):
            v, step = s.get(f"{which}_{split}_loss"), s.get(f"{which}_{split}_step")
            if v is None:
                continue
            t.claims[f"summary-{which}"] += 1
            if ser is None:
                _violation(t, log, run, None, "summary", f"{which}_{split}_loss {v}", "no loss series", "")
                continue
            _, st, vals = ser
            at = vals[st == step]
            if not any(float(x) == v or (math.isfinite(v) and abs(float(x) - v) <= 1e-12 * abs(v)) for x in at):
                _violation(t, log, run, None, "summary", f"{which}_{split}_loss {v} @ {step}",
                           f"logged there: {at[:3].tolist()}", "")
            fin = np.isfinite(vals)
            if which == "best" and fin.any() and v > float(np.min(vals[fin])) and split == "val":
                _violation(t, log, run, None, "summary", f"best_{split}_loss {v}",
                           f"a lower value is logged: {float(np.min(vals[fin]))}", "")
            if which == "final" and math.isfinite(v) and step != int(st[-1]):
                _violation(t, log, run, None, "summary", f"final_{split}_step {step}",
                           f"last logged step {int(st[-1])}", "")


def audit(logs: list[dict[str, Any]]) -> Tally:
    t = Tally()
    for log in logs:
        t.logs += 1
        for r in log["runs"]:
            rr = Run(r)
            audit_summary(t, log, rr, r["run"], r["summary"])
            for f in r["findings"]:
                t.findings += 1
                for text in (f["message"], f["recommendation"]):
                    audit_text(t, log, rr, r["run"], f, text)
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write counts and violations here")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list unmatched numbers")
    ap.add_argument("--cache", help="pickle of the analysed logs: read when present, else written")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if args.cache and os.path.exists(args.cache):
        with open(args.cache, "rb") as fh:
            logs = pickle.load(fh)
    else:
        logs = collect_all(corpus_logs(), jobs=args.jobs)
        if args.cache:
            with open(args.cache, "wb") as fh:
                pickle.dump(logs, fh)
    t = audit(logs)
    errors = [lg for lg in logs if lg["error"]]
    print(f"{t.logs} logs ({len(errors)} unreadable), {t.findings} findings")
    print(f"{'pattern':18} {'claims':>7} {'derived':>8} {'checked':>8}")
    for pat in sorted(t.claims):
        print(f"{pat:18} {t.claims[pat]:7} {t.exempt[pat]:8} {t.claims[pat] - t.exempt[pat]:8}")
    checked = sum(t.claims.values()) - sum(t.exempt.values())
    print(f"{'total':18} {sum(t.claims.values()):7} {sum(t.exempt.values()):8} {checked:8}")
    print(f"numbers without a step labelled derived: {sum(t.labelled.values())}")
    print(f"unmatched numbers (no pattern, no derived label, not a percentage/multiple/statistic/count): "
          f"{sum(t.unmatched.values())}"
          f"  by rule: {dict(t.unmatched.most_common())}")
    kinds = Counter(v["kind"] for v in t.violations)
    print(f"violations: {len(t.violations)} {dict(kinds)}")
    for v in t.violations:
        print(f"- [{v['kind']}] {v['rule']} {v['series']} {v['corpus']}:{Path(v['path']).relative_to(ROOT) if v['path'].startswith(str(ROOT)) else v['path']}"
              f" ({v['run']})\n    claim: {v['claim']!r}; {v['detail']}\n    text: {v['text'][:300]}")
    if args.verbose:
        for e in t.exempt_examples:
            print("  derived:", e)
        for e in t.unmatched_examples:
            print("  unmatched:", e)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"logs": t.logs, "unreadable": [lg["path"] for lg in errors], "findings": t.findings,
                       "claims": dict(t.claims), "derived": dict(t.exempt), "checked": checked,
                       "labelled_derived": dict(t.labelled), "unmatched": dict(t.unmatched), "violations": t.violations}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
