"""Hand-rolled text logs: the fallback for ``print(f"epoch {e}, loss: {l}")`` style logging that
no specific trainer parser claims (no single source: the styles below were collected from
PyTorch examples (``word_language_model/main.py``), tutorials and the real log
``pytorch_custom/barber0-llm-pretrain-train.log``).

Sample::

    ep: 0, batch: 20, time: 9.17, ntokens: 485.20/513, loss: 10.984375
    Epoch [1/10], Step [20/100], Loss: 0.5231
    | epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch 45.21 | loss  7.59 | ppl  1986.47
    [0/5][100/1583]  Loss_D: 1.4341  Loss_G: 0.7986  D(x): 0.90  D(G(z)): 0.29 / 0.40
    0 [D loss: 0.693855, acc.: 43.75%] [G loss: 0.690219]

Every ``name: value``, ``name=value``, ``name value`` or ``| name value |`` pair on a line is read,
plus ``N/M batches``-style counters. Counters (step, global_step, iter, iteration, update, batch,
epoch, ep) are the axis: the finest one that increases (with no named counter, two unnamed
``[N/M][N/M]`` at the start of a line are the epoch and the batch, and a bare number before the
first bracketed pair is the step); a batch/step counter that restarts each epoch is combined with
the epoch into one monotonic step (batches per epoch from ``/M`` when printed, else from the largest
batch seen - an estimate, noted). A line with only an epoch counter (an end-of-epoch summary) is
placed at the end of its epoch; a line without any counter takes the step of the line before it, so a
log that prints its counter on a header line of its own and the values on the lines after it (PointNet's
``**** EPOCH 000 ****`` then ``mean loss: 2.407614``, ``Epoch 0/200`` then ``  Train Loss: 0.0045``) is
read at the header's step, and values under a header that names another split (``Test Epoch: 5 ...``,
``---- EPOCH 000 EVALUATION ----``) are that split's. A counter glued to its word (``Epoch1 Time:178.1s``,
``EP0, avg_loss=0.0010``) is parted from it; a time unit after a number (``Time:178.1s Data:47.8s``,
``15m 1s``) is not part of the next key. Lines of one shape holding a loss repeated under each counter
header (PointNet's ``mean loss`` once per training file, five an epoch) are each a step, numbered in line
order (noted). Lines of one shape printed several times at each step with a key counting 0, 1, 2...
(``Class 0: ...``, ``Class 1: ...``) are a per-item breakdown: noted, not read as one series.
When the epoch is the only counter and lines of one shape repeat it three or more times in a row
(``epoch: 0 | loss: 9.65`` for every batch), each such line is a step, numbered in line order.
With no counter at all, lines of one shape holding a loss are numbered in line order (GraphNovo's
``loss:0.0074, accuracy:0.997``); several shapes printed once each per block, always in the same order
(``train accu: ..`` / ``valid loss: ..`` / ``valid accu: ..`` an epoch), are numbered by block, so that
the splits' points line up.
Names are split by prefix (``train``/``val``/``valid``/``test``/``eval``, default ``train``); a key
without a prefix on a line that names exactly one other split (``Validation Loss: .., Accuracy:
..``) takes it.

How it stays fast: every number on a line is replaced by ``#`` (one vectorised
``str.replace_all``), giving the line's *template*; lines of one template have one structure,
so the pairs are found once per distinct template (a few per log) and the values of all lines
are then taken by position from one ``str.extract_all`` of their numbers (``list.gather``).
The parser claims a file (confidence <= 0.4) only when a clear majority of the lines holding
pairs share one structure with a counter and a metric; ``lossdoc inspect`` shows what it found
in an ``inferred`` note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from lossdoc.ingest.formats._epoch_counter import EpochCounter, epoch_counter, restarts
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.runs import FINISHED, keep_last_run, reference
from lossdoc.ingest.text import load_lines, torn_tail_note
from lossdoc.model import (SPLIT_NAMES, IngestNote, ParseResult, canonical_metric, concat_frames, snake_case,
                           split_and_metric)

# ASCII-only on purpose: the positions of numbers found by polars (Rust regex) on every line and by
# Python's re on one line per template must agree, and Unicode \d / \b differ between the two.
_NUM = (
    r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?(?:[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)\b"
)
_NUM_RS = _NUM.replace("\\b", "(?-u:\\b)")
#: a number standing alone (not inside an identifier such as ``top5``), with the one character
#: before it; lines are prefixed with a space so that every number has one.
_NUMX = rf"[^A-Za-z0-9_.](?:{_NUM_RS})"
_KEY = r"[a-z_][\w.\-/@]*"
_SPLITW = r"(?:train(?:ing)?|val(?:id(?:ation)?)?|eval(?:uation)?|test|dev)"
#: ``Train Loss: 0.5`` / ``loss=0.5`` / ``'loss': 0.5`` / ``batch_loss is 1.157`` (up to 4 words before : or = or
#: " is "; EAST's train.py logs "Epoch is [2/600], mini-batch is [1/1083], ... batch_loss is 1.157"), or
#: ``loss 0.5`` / ``valid loss 0.5`` / ``Epoch [1/10]`` / ``Epoch #3`` (one word, or a split word and a word).
#: "Epoch #3": a counter's number after "#" (only a counter's: Caffe's "Train net output #0: loss_bbox = ..." is an index)
_HASH = "(?:" + "|".join(f"(?<={w})" for w in ("epoch", "step", "iter", "iteration", "batch", "round")) + ")"
_PAIR = re.compile(
    rf"(?i)(?:({_KEY}(?:(?:[ ]|[ ]?/[ ]?){_KEY}){{0,3}})['\"]?\s*(?:[:=]|[ ]is[ ](?=\[?\s*[-+.0-9]))\s*\[?\s*|((?:{_SPLITW}[ _])?{_KEY})(?:{_HASH}\s*#\s*|\s+|\s*[\[(]\s*))"
    rf"({_NUM})(?:\s*/\s*(\d+))?"
)
#: ``200/ 2983 batches`` (PyTorch word_language_model): the counter's name comes after -- unless that name is a
#: key of its own (``Epoch: 0/10 Batch: 5/3167``: the epoch's fraction, then the batch's pair)
_FRAC = re.compile(r"(?i)(\d+)\s*/\s*(\d+)\s+(batch(?:es)?|steps?|iter(?:ation)?s?)\b(?!\s*[:=])")
_NUMX_PY = re.compile(rf"([^A-Za-z0-9_.])({_NUM})", re.ASCII)
_LEVEL = re.compile(r"(?i)^(?:INFO|DEBUG|WARN(?:ING)?|ERROR|CRITICAL|TRACE|NOTICE)[ _]+")
_SOURCE = re.compile(r"(?i)\.(?:py|pyx|cc|cpp|cxx|c|h|hpp|cu|js|ts|rs|go|java|lua|sh)$")
#: a glog / absl record prefix, "I0228 18:38:01.877903  8672 learning.py:507] " (TensorFlow 1 slim, Caffe):
#: its level+date, time, thread id and source location are not metrics
_GLOG = re.compile(r"^\s*[IWEF]\d{4} \d\d:\d\d:\d\d(?:\.\d+)?\s+\d+\s+[^\s\]]+:\d+\]")
_EPOCH_BATCH = re.compile(r"^\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
#: "[0 200/75400] loss 4.03 lr 2.98e-05": an epoch and a step out of its total in one bracket at the start
_EPOCH_STEP_BRACKET = re.compile(r"^\s*\[\s*(\d+)\s+(\d+)\s*/\s*(\d+)\s*\]")
_LEAD_STEP = re.compile(r"^\s*(\d+)\s*\[(?=[A-Za-z])")
_LEAD_FRAC = re.compile(r"^\s*\[\s*(\d+)\s*/\s*(\d+)\s*\](?!\s*\[)")
#: "loss_dro_s,loss_sat_s 7.19 5.52": a line that is comma-joined keys and then only their values
_KEY_LIST = re.compile(rf"(?i)^\s*({_KEY}(?:\s*,\s*{_KEY})+)\s+(?:{_NUM})(?:\s+(?:{_NUM}))*\s*$")
#: words that are numbers, never keys ("0.004  nan 0.")
_NOT_KEYS = frozenset({"nan", "inf", "infinity"})
#: function words: a key that is one, or ends in one, is prose, not a name of the number after it ("Training
#: complete in 7m 46s", "Time taken for 1 epoch: 14.1 secs", "training on 73847 raw words"). Not "of": "Batch 3
#: of 13" is a counter and its total, which the progress-line rules read by that key
_FUNCTION_WORDS = frozenset({"in", "at", "on", "to", "for", "by", "from", "with", "after", "before", "than",
                             "and", "or", "the", "a", "an"})
#: the exponent of a number whose mantissa is right before it ("9.4e-01 8.1"), read as a key of the next number
_EXPONENT = re.compile(r"(?i)^e[-+]?\d+$")
#: a key that ends in a verb before its colon: "loss is: 0.41"
_VERB = re.compile(r"(?i)(?:^|\s+)(?:is|was|are|were)$")
_UFRAC = re.compile(r"(?<![\w.])(\d+)\s*/\s*(\d+)(?![\w.])")
_SPLIT_WORD = re.compile(r"(?i)\b(train(?:ing)?|val(?:id(?:ation)?)?|validat(?:e|ing)|eval(?:uation)?|evaluat(?:e|ing)"
                         r"|test(?:ing)?|dev)\b")
#: the split words, and the verbs a loop prints before an evaluation's values ("INFO Validate: Time 0.08 (0.09)  Loss
#: 1.21 (1.19)  Acc@1 58.6", Swin-Transformer-style logging: read as validation's, not as a second training loss)
_SPLIT_OF = {**SPLIT_NAMES, "validate": "val", "validating": "val", "evaluate": "val", "evaluating": "val",
             "testing": "test"}
#: Time units written right after a number ("15m 1s", "1h 20min"): never a key of the number after them.
_UNITS = frozenset({"h", "hr", "hrs", "m", "min", "mins", "s", "sec", "secs", "ms", "us"})
#: With only an epoch counter, lines of one shape repeated this often within an epoch are per-batch lines.
_PER_BATCH_MIN = 3
#: Past this many distinct line templates the rarest are not read (noted).
MAX_TEMPLATES = 200_000

_COUNTERS: dict[str, tuple[str, int]] = {
    "global_step": ("inner", 0),
    "globalstep": ("inner", 0),
    "step": ("inner", 1),
    "steps": ("inner", 1),
    # "current step: 45th step" (BAI-Yeqi/TI_SV train.log, after each "batch loss:3.44" line)
    "current_step": ("inner", 1),
    "iteration": ("inner", 2),
    "iterations": ("inner", 2),
    "iter": ("inner", 2),
    "iters": ("inner", 2),
    "it": ("inner", 3),
    "update": ("inner", 3),
    "updates": ("inner", 3),
    "num_updates": ("inner", 3),
    "batch": ("inner", 4),
    "batches": ("inner", 4),
    "batch_idx": ("inner", 4),
    "batch_id": ("inner", 4),
    "mini_batch": ("inner", 4),
    # annotated-transformer: "Epoch Step: 41 | Accumulation Step: 5 | Loss: 7.37 | ..." (both restart each epoch)
    "epoch_step": ("inner", 4),
    "accumulation_step": ("inner", 5),
    # "INFO:root:count: 50, loss:675.15" (a batch counter under another name; any named counter wins)
    "count": ("inner", 6),
    "epoch": ("epoch", 0),
    "epochs": ("epoch", 0),
    "ep": ("epoch", 0),
}
#: keys whose whole number says which of several runs a line belongs to ("Run 2/5", "Fold 3", "Trial 1")
_RUN_INDEX = frozenset({"run", "fold", "trial", "repeat", "rep", "seed", "cv_fold", "run_id", "fold_id"})
#: a key naming an item's position ("Patch number", "sample_idx", "image index", "batch no"): a counter
_INDEX_KEY = re.compile(r"(?:^|_)(?:number|idx|index|no)$")
_LOSS_WORDS = ("loss", "ppl", "perplexity", "nll", "mse", "mae", "rmse", "bpc", "bpb", "error", "objective")
_BATCH = {"batch", "batches", "mini_batch", "batch_idx", "batch_id", "epoch_step", "accumulation_step"}
#: Words naming the metric of bare split keys ("eval: acc train 0.91 val 0.88"); default loss.
_METRIC_WORD = re.compile(r"(?i)\b(loss|acc(?:uracy)?|ppl|perplexity|bleu|f1|mae|mse|rmse|error|err)\b")


@dataclass
class _Template:
    """What one distinct line template holds: its pairs as number positions."""

    structure: str = ""
    keys: list[str] = field(default_factory=list)  #: metric keys as written
    ords: list[int] = field(default_factory=list)  #: their numbers' positions on the line
    splits: list[str] = field(default_factory=list)  #: their splits ("?" resolved by the line's context)
    #: the metric of a key that is a bare split word ("train 2.31 val 2.45": loss), else ""
    bases: list[str] = field(default_factory=list)
    inner_key: str | None = None
    inner_ord: int | None = None
    inner_tot: int | None = None
    epoch_key: str | None = None
    epoch_ord: int | None = None
    epoch_tot: int | None = None  #: position of the epoch's "/N" total ("Epoch 1/20")

    @property
    def has_counter(self) -> bool:
        return self.inner_ord is not None or self.epoch_ord is not None


def _clean_key(key: str) -> str | None:
    key = _LEVEL.sub("", key.strip())
    if not key or _SOURCE.search(key):  # "INFO train.py:88" is a source location, not a metric
        return None
    return key


def seen_twice(keys: object) -> set[str]:
    """The keys that occur more than once."""
    once: set[str] = set()
    out: set[str] = set()
    for k in keys:  # type: ignore[attr-defined]
        (out if k in once else once).add(k)
    return out


def _named_splits(found: list[tuple[int, str, int, int | None]]) -> list[tuple[int, str]]:
    """(position, split) of the keys on a line that name their split ("Val Loss"), in line order."""
    out = []
    for start, key, _, _ in found:
        sp = split_and_metric(snake_case(key), default_split="?")[0]
        if sp != "?":
            out.append((start, sp))
    return sorted(out)


def _number_at(line: str, ordinal: int) -> str:
    """The ``ordinal``-th standalone number of ``line`` (as :func:`_read_template` counts them)."""
    nums = [m.group(2) for m in _NUMX_PY.finditer(" " + line)]
    return nums[ordinal] if 0 <= ordinal < len(nums) else ""


def _whole(number: str) -> bool:
    """``number`` (as written) is a whole number: no decimal point, exponent, nan or inf."""
    return number.lstrip("+-").isdigit()


def _read_template(line: str) -> _Template:
    """Find the pairs of one representative line (pure Python, once per distinct template)."""
    pos = {m.start(2) - 1: i for i, m in enumerate(_NUMX_PY.finditer(" " + line))}
    found: list[tuple[int, str, int, int | None]] = []  # (start on the line, key, number position, total position)
    for m in _FRAC.finditer(line):
        if m.start(1) in pos:
            found.append((m.start(), m.group(3), pos[m.start(1)], pos.get(m.start(2))))
    g = _GLOG.match(line)
    after = g.end() if g else 0
    keyed = _KEY_LIST.match(line)
    if keyed and len(keyed.group(1).split(",")) == len(pos) >= 2:
        # "loss_dro_s,loss_sat_s 7.19 5.52" (print('a,b', a, b)): the keys, then as many values in their order
        start = keyed.start(1)
        for i, key in enumerate(k.strip() for k in keyed.group(1).split(",")):
            found.append((start + i, key, i, None))
        after = len(line)
    for m in _PAIR.finditer(line, after):
        key = _clean_key(m.group(1) or m.group(2) or "")
        if key is None or m.start(3) not in pos:
            continue
        start = m.start()
        if key.lower() in _NOT_KEYS or (start and line[start - 1] in "0123456789." and _EXPONENT.match(key)):
            # "0.00463362        nan 0." / "[9.4e-01 8.1e-01]" (a printed numpy array): a number's own parts
            continue
        if key.split()[-1].lower() in _FUNCTION_WORDS:
            continue
        if _VERB.search(key) and _VERB.sub("", key):
            # "loss is: 0.41" (PaddleCIFAR10): the words before the verb name the value, not "loss is"
            key = _VERB.sub("", key)
        if start and line[start - 1].isdigit():
            unit, _, rest = key.partition(" ")
            if unit.lower() in _UNITS:
                if not rest.strip():
                    continue  # "time: 15m 1s": the unit of the number before it, not a key 'm' of value 1
                # "Time:178.1s Data:47.8s": the key is 'Data', after the unit of the number before it
                key, start = rest.strip(), start + len(unit) + 1
        found.append((start, key, pos[m.start(3)], pos.get(m.start(4)) if m.group(4) else None))
    t = _Template()
    seen: set[str] = set()
    taken: set[tuple[str, str]] = set()
    best = 99
    own: list[tuple[int, str, int, str, str]] = []
    named = _named_splits(found)
    # keys printed more than once, each time after a key that names a split
    first_named = named[0][0] if named else None
    twice = {k for k in seen_twice(k for _, k, _, _ in found)
             if first_named is not None and all(st > first_named for st, k2, _, _ in found if k2 == k)}
    # "Train: 188 | Val: 21", "(train: 223, test: 96)": two or more split words alone, each before a whole number,
    # count a split's samples or batches (a dataset's sizes), never an epoch counter or a split's loss
    counts = {k for _, k, o, _ in found if snake_case(k) in _SPLIT_OF and _whole(_number_at(line, o))}
    if len(counts) < 2:
        counts = set()
    for start, key, ordinal, tot in found:
        if key in counts:
            continue
        norm = snake_case(key)
        own_split, base = split_and_metric(norm, default_split="?")
        if key in twice and own_split == "?":
            # a key printed once per split on one line ("Train Loss: .. | Token Acc: .. | Val Loss: .. |
            # Token Acc: ..") belongs to the split named last before it: the second Token Acc is validation's
            own_split = [sp for st, sp in named if st < start][-1]
        if (key, own_split) in taken:
            continue
        taken.add((key, own_split))
        seen.add(key)
        bare = ""
        if norm in _SPLIT_OF and "." not in _number_at(line, ordinal) and t.epoch_ord is None:
            # "Train 3, loss: 0.52": a split word before a whole number counts the epochs
            t.epoch_key, t.epoch_ord = key, ordinal
            continue
        if norm in _SPLIT_OF:
            # "[eval] step 500 train 2.31 val 2.45": the key names the split; the metric is named
            # before the pairs ("acc train .. val ..") or it is the loss.
            own_split = _SPLIT_OF[norm]
            words = _METRIC_WORD.findall(line[:start])
            bare = canonical_metric(words[-1]) if words else "loss"
        if norm in _RUN_INDEX and _whole(_number_at(line, ordinal)):
            # "Run 2/5, Epoch 100/1000, Training Loss (NLML): -1.2": which run (fold, trial) of several the line
            # belongs to, not a metric; the epoch counter going back to its start tells the runs apart
            continue
        # "Train Epoch: 1" (PyTorch MNIST example) is an epoch counter too.
        kind, prio = _COUNTERS.get(norm) or (_COUNTERS.get(base) if own_split != "?" else None) or ("", 9)
        if not kind and tot is not None and _INDEX_KEY.search(norm) and _whole(_number_at(line, ordinal)):
            # "Patch number: 99 / 20955, Train loss: 0.18": a whole number out of a total, named "... number" /
            # "... index", is the position of the line's item, never a metric (a config's "ignore_index: 255" has
            # no total); any counter named above wins
            kind, prio = "inner", 7
        if kind == "inner":
            if prio < best:
                best, t.inner_key, t.inner_ord, t.inner_tot = prio, key, ordinal, tot
        elif kind == "epoch":
            if t.epoch_ord is None:
                t.epoch_key, t.epoch_ord, t.epoch_tot = key, ordinal, tot
        else:
            own.append((start, key, ordinal, own_split, bare))
    if t.epoch_ord is not None and t.inner_ord is None:
        # "Train Epoch: 1 [640/60000 (1%)]": an unnamed N/M beside the epoch is the position within it.
        used = {o for _, _, o, _ in found}
        for m in _UFRAC.finditer(line):
            if m.start(1) in pos and pos[m.start(1)] not in used:
                t.inner_key, t.inner_ord, t.inner_tot = "[N/M]", pos[m.start(1)], pos.get(m.start(2))
                break
    if t.epoch_ord is None and t.inner_ord is None:
        # "[0/5][100/1583]\tLoss_D: ..." (the PyTorch DCGAN tutorial and its copies): two unnamed N/M at the
        # start of the line are the epoch and the batch within it
        m = _EPOCH_BATCH.match(line)
        mb = _EPOCH_STEP_BRACKET.match(line)
        if m and m.start(1) in pos and m.start(3) in pos:
            t.epoch_key, t.epoch_ord = "[epoch/N]", pos[m.start(1)]
            t.inner_key, t.inner_ord, t.inner_tot = "[N/M]", pos[m.start(3)], pos.get(m.start(4))
        elif mb and mb.start(1) in pos and mb.start(2) in pos and own:
            t.epoch_key, t.epoch_ord = "[epoch N/M]", pos[mb.start(1)]
            t.inner_key, t.inner_ord, t.inner_tot = "[N/M]", pos[mb.start(2)], pos.get(mb.start(3))
        else:
            # "0 [D loss: 0.69, acc.: 43.75%] [G loss: 0.70]" (Keras-GAN and its copies): a bare whole
            # number before the first bracketed pair is the step
            m = _LEAD_STEP.match(line)
            mf = _LEAD_FRAC.match(line)
            if m and m.start(1) in pos and own:
                t.inner_key, t.inner_ord, t.inner_tot = "leading number", pos[m.start(1)], None
            elif mf and mf.start(1) in pos and own:
                # "[1/200000] Train loss: 0.00023, Valid loss: 0.00622" (clovaai deep-text-recognition-benchmark),
                # "[100/100000] batch loss : 2.9027": one unnamed N/M in brackets at the start is the step
                t.inner_key, t.inner_ord, t.inner_tot = "[N/M]", pos[mf.start(1)], pos.get(mf.start(2))
    t.structure = ",".join(sorted(snake_case(k) for k in seen))
    explicit = {sp for _, _, _, sp, _ in own if sp != "?"}
    ctx = "train"
    # "loss: 2.30 - accuracy: 0.51 - val_loss: 2.29" (Keras's naming on one line, which hand-rolled scripts copy):
    # a key without a split beside the same metric with one is that metric's training value, not validation's
    metric_of = {k: split_and_metric(snake_case(k), default_split="?")[1] for _, k, _, _, _ in own}
    metrics_named = {metric_of[k] for _, k, _, sp, _ in own if sp != "?"}
    paired = any(sp == "?" and metric_of[k] in metrics_named for _, k, _, sp, _ in own)
    # ... and one printed before every key that names a split, with no split word ahead of it ("Epoch 001, Loss:
    # 1.7584, Test Acc: 44.76%", EViT-Jittor): the loop's own loss, then the evaluation's metric -- training's
    # (keys that are a split word alone, "eval = 0.92", name no metric of their own: not this case)
    # (and only for a loss: "local rank -1   val loss 2.34" keeps its rank on validation's side)
    # (a best-so-far clause after them, "[best_test_acc: 71.2 at epoch 40]", names no split of its own and is no
    # value of this step: it does not count as an unnamed key after the named ones -- EdisonLeeeee/BlockGCL's loss
    # was read as the test loss because of it)
    # (nor is a bare "best=0.7700" after them: Smitahire/custom-SD's "Epoch 3/30 loss=0.9 val_acc=0.61 best=0.64")
    unnamed = [st for st, k, _, sp, _ in own if sp == "?" and not snake_case(k).startswith(_BEST_SO_FAR)
               and snake_case(k) not in _BEST_ALONE]
    named_at = [st for st, _, _, sp, _ in own if sp != "?"]
    unnamed_loss = any("loss" in metric_of[k] for _, k, _, sp, _ in own if sp == "?")
    leads = (unnamed_loss and bool(named_at) and max(unnamed) < min(named_at)
             and not any(b for _, _, _, sp, b in own if sp != "?")
             and not _SPLIT_WORD.search(line[: min(unnamed)]))
    if len(explicit) == 1 and "train" not in explicit and not paired and not leads:
        ctx = explicit.pop()
    elif not explicit and own:
        # A split named before the first value ("Test set: Average loss: ...", "[eval] step 5 loss 2.1").
        # (not a word of a dotted logger name: "joeynmt.training - Validation result (greedy) at epoch 3, step 500:
        # bleu: 21.3, loss: 4122.1" is validation's line, its logger's module name notwithstanding)
        # (a tag in brackets wins over a split word elsewhere before the values: "INFO - main.py - train - 105 -
        # [eval] loss:0.41" is the evaluation's line, printed from a function named train -- the logging format's
        # %(funcName)s; taishan1994's and Dimas263's [dev]/[eval] losses overwrote their training losses)
        words = [m for m in _SPLIT_WORD.finditer(line[: min(st for st, _, _, _, _ in own)])
                 if m.start() == 0 or line[m.start() - 1] != "."]
        tagged = [m for m in words if line[m.start() - 1:m.start()] in ("[", "【") and line[m.end():m.end() + 1] in ("]", "】")]
        head = (tagged or words or [None])[0]
        if head:
            ctx = _SPLIT_OF[head.group(1).lower()]
    t.keys = [k for _, k, _, _, _ in own]
    t.ords = [o for _, _, o, _, _ in own]
    t.splits = [ctx if sp == "?" else sp for _, _, _, sp, _ in own]
    t.bases = [b for _, _, _, _, b in own]
    return t


#: name prefixes of a best-so-far value printed beside a step's own ("best_test_acc", "max_val_acc", "min_loss")
_BEST_SO_FAR = ("best_", "max_", "min_", "highest_", "lowest_")
#: ... and such a word alone as the key ("best=0.64")
_BEST_ALONE = frozenset(w.rstrip("_") for w in _BEST_SO_FAR)
#: marks the template of a line read under an evaluation header (``\x1e<split>\x1e<template>``)
_HEAD_MARK = "\x1e"
#: a split word other than train, as a section header or an evaluation's announcement names it: "testing in eval
#: mode……", "Validating...", "=== Evaluation ===", "Evaluation Results:"
_EVAL_HEAD = r"(?i)\b(val(?:id(?:ation)?)?|eval(?:uation)?|test|dev)\b"
#: lines under one header shape, at least, before they are read as that split (a single "... with validation
#: ..." banner above the first training line is not a section)
_HEAD_MIN = 3


def _under_eval_headers(lines: pl.DataFrame, notes: list[IngestNote] | None) -> pl.DataFrame:
    """Lines that share the training lines' keys ("epoch: 3,  loss is: 0.41") but come right after a line that
    only announces an evaluation (no number, no "train", a split word, at most 60 characters; a blank line
    between is allowed) get a template of their own, marked with the header's split: PaddleCIFAR10's
    "testing in eval mode……" then "epoch: 0,  loss is: 0.487" is the evaluation loss, which, read as the
    training loss at the same epoch, overwrote it. Only where the header precedes such lines 3+ times and the
    lines name no split themselves; lines without a counter under a header are :meth:`_section_splits`'."""
    line = pl.col("line")
    if not lines.height or not lines.select(line.str.contains(_EVAL_HEAD).any()).item():
        return lines
    word = line.str.extract(_EVAL_HEAD, 1).str.to_lowercase()
    head = (~line.str.contains(r"[0-9]") & (line.str.len_chars() <= 60) & ~line.str.contains(r"(?i)train")
            & word.is_not_null())
    split = pl.when(head).then(word.replace_strict(_SPLIT_OF, default="val")).otherwise(None)
    blank = line.str.strip_chars() == ""
    lines = lines.with_columns(
        split.alias("_hsplit"),
        pl.when(head).then(pl.col("lineno")).otherwise(None).alias("_hline"),
    ).with_columns(
        pl.coalesce(pl.col("_hsplit").shift(1),
                    pl.when(blank.shift(1)).then(pl.col("_hsplit").shift(2))).alias("_under"),
        pl.coalesce(pl.col("_hline").shift(1),
                    pl.when(blank.shift(1)).then(pl.col("_hline").shift(2))).alias("_under_line"),
    )
    cand = (pl.col("_under").is_not_null() & (pl.col("tpl") != pl.col("_s"))
            & ~line.str.contains(_SPLIT_WORD.pattern))
    lines = lines.with_columns(cand.alias("_cand"))
    many = (lines.filter(pl.col("_cand")).group_by("tpl", "_under")
            .agg(pl.len().alias("n"), pl.col("lineno").min().alias("first"),
                 pl.col("_under_line").min().alias("head_line"))
            .filter(pl.col("n") >= _HEAD_MIN))
    drop = ["_hsplit", "_hline", "_under", "_under_line", "_cand"]
    if many.height == 0:
        return lines.drop(drop)
    lines = lines.join(many.select("tpl", "_under", pl.lit(True).alias("_mark")), on=["tpl", "_under"], how="left")
    lines = lines.with_columns(
        pl.when(pl.col("_mark").fill_null(False))
        .then(pl.lit(_HEAD_MARK) + pl.col("_under") + pl.lit(_HEAD_MARK) + pl.col("tpl"))
        .otherwise(pl.col("tpl")).alias("tpl")
    ).drop([*drop, "_mark"])
    if notes is not None:
        for split, n, first, head_line in many.sort("first").select("_under", "n", "first", "head_line").iter_rows():
            text = lines.filter(pl.col("lineno") == head_line).get_column("line")
            notes.append(IngestNote(
                "inferred", f"{n} lines like line {first} follow a line that announces an evaluation "
                f"({text[0].strip()[:40]!r}, line {head_line}) and carry no split of their own: read as {split}, "
                "not as more training points at the same step", line=int(first)))
    return lines


#: a line that says training has ended ("OK: Finished training for 25 epochs", "Training complete.",
#: "training done") -- not an epoch's end, which names its loss ("Epoch 3 done, training loss 0.41")
_TRAIN_END = (r"(?i)(?:\b(?:finish(?:ed)?|done|complete(?:d)?|end(?:ed)?)\b\W+(?:\w+\W+)?train(?:ing)?\b"
              r"|\btrain(?:ing)?\W+(?:\w+\W+)?(?:finish(?:ed)?|done|complete(?:d)?|ended|over)\b)")
#: the words of :data:`_TRAIN_END` a line must hold first (a cheap scan before the full pattern)
_TRAIN_END_WORDS = r"(?i)finish|done|complete|end|over"
#: a line that starts an epoch (training goes on after a "finished" line: another run, a resume)
_EPOCH_START = r"(?i)\b(?:epoch|iter(?:ation)?|step)\b\s*[:=#]?\s*[0-9]"


def _after_training_end(lines: pl.DataFrame, notes: list[IngestNote] | None) -> pl.DataFrame:
    """Drop the lines after a line saying training has ended that repeat a training line's layout and name no
    split: a test pass printed with the training loop's own ``print`` ("Loss : 1.59" per test batch after "OK:
    Finished training for 25 epochs"), read as more training steps, is the tail of no training curve. Only when
    no epoch starts after that line (another run, a resume: training goes on); lines of layouts of their own
    there ("Test loss: 0.35") are read as before."""
    line = pl.col("line")
    if not lines.height:
        return lines
    # the words first (one literal scan, 30 ms at 10^6 lines), the full pattern on the few lines that hold one
    ends = lines.filter(line.str.contains(_TRAIN_END_WORDS))
    ends = ends.filter(line.str.contains(_TRAIN_END) & (line.str.len_chars() <= 80)
                       & ~line.str.contains(r"(?i)loss|[=:]\s*[0-9]"))
    if not ends.height:
        return lines
    end_line = int(ends.get_column("lineno").max())
    after = pl.col("lineno") > end_line
    if lines.filter(after & line.str.contains(_EPOCH_START)).height:
        return lines
    numeric = pl.col("tpl") != pl.col("_s")
    before = lines.filter(~after & numeric).get_column("tpl").unique()
    drop = after & numeric & pl.col("tpl").is_in(before.implode()) & ~line.str.contains(_SPLIT_WORD.pattern)
    n, first = lines.select(drop.sum().alias("n"), pl.col("lineno").filter(drop).min().alias("first")).row(0)
    if not n:
        return lines
    if notes is not None:
        text = ends.filter(pl.col("lineno") == end_line).get_column("line")[0].strip()
        notes.append(IngestNote(
            "skipped_lines", f"{n:,} line(s) after {text[:60]!r} (line {end_line}) repeat a training "
            "line's layout after training ended (a test pass printed like training steps): not read as training",
            line=int(first), count=int(n)))
    return lines.filter(~drop)


def _templates(lines: pl.DataFrame, notes: list[IngestNote] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(lines with their template, per-template table) for the lines that hold a number."""
    lines = lines.with_columns((pl.lit(" ") + pl.col("line")).alias("_s"))
    # NOTE: the character before each number goes with it ("loss=#" and "loss #" share a template);
    # one format string writes one separator, and a literal replacement is 3x faster than "${1}#".
    lines = lines.with_columns(pl.col("_s").str.replace_all(_NUMX, "#").alias("tpl"))
    lines = _after_training_end(lines, notes)
    lines = _under_eval_headers(lines, notes)
    numeric = lines.filter(pl.col("tpl") != pl.col("_s"))
    groups = (
        numeric.group_by("tpl")
        .agg(pl.col("line").first().alias("rep"), pl.len().alias("n"), pl.col("lineno").min().alias("first"))
        .sort("n", "tpl", descending=[True, False])
    )
    if groups.height > MAX_TEMPLATES:
        dropped = int(groups.get_column("n").slice(MAX_TEMPLATES).sum())
        if notes is not None:
            notes.append(
                IngestNote(
                    "skipped_lines",
                    f"{dropped} line(s) in more than {MAX_TEMPLATES} distinct layouts were not read",
                    count=dropped,
                )
            )
        groups = groups.head(MAX_TEMPLATES)
    info = [_read_template(rep) for rep in groups.get_column("rep").to_list()]
    for t, tpl in zip(info, groups.get_column("tpl").to_list(), strict=True):
        if tpl.startswith(_HEAD_MARK):  # lines under an evaluation header: that split's, not training's
            split = tpl[1:].split(_HEAD_MARK, 1)[0]
            t.splits = [split if sp == "train" else sp for sp in t.splits]
    table = groups.select("tpl", "n", "first").with_columns(
        pl.Series("structure", [t.structure for t in info], dtype=pl.String),
        pl.Series("has_counter", [t.has_counter for t in info], dtype=pl.Boolean),
        pl.Series("has_metric", [bool(t.keys) for t in info], dtype=pl.Boolean),
        pl.Series("m_keys", [t.keys for t in info], dtype=pl.List(pl.String)),
        pl.Series("m_ords", [t.ords for t in info], dtype=pl.List(pl.Int64)),
        pl.Series("m_splits", [t.splits for t in info], dtype=pl.List(pl.String)),
        pl.Series("m_bases", [t.bases for t in info], dtype=pl.List(pl.String)),
        pl.Series("inner_key", [t.inner_key for t in info], dtype=pl.String),
        pl.Series("inner_ord", [t.inner_ord for t in info], dtype=pl.Int64),
        pl.Series("inner_tot", [t.inner_tot for t in info], dtype=pl.Int64),
        pl.Series("epoch_key", [t.epoch_key for t in info], dtype=pl.String),
        pl.Series("epoch_ord", [t.epoch_ord for t in info], dtype=pl.Int64),
        pl.Series("epoch_tot", [t.epoch_tot for t in info], dtype=pl.Int64),
    )
    table = table.with_columns(pl.col("n").sum().over("structure").alias("n_struct"))
    return numeric, table


def _confidence(lines: pl.DataFrame) -> float:
    if lines.height == 0:
        return 0.0
    _, table = _templates(lines)
    table = table.filter(pl.col("structure") != "")
    if table.height == 0:
        return 0.0
    table = _headed(table)
    if table.filter(pl.col("has_counter") & pl.col("has_metric")).height:
        # header lines ("Epoch: 3" alone, "**** EPOCH 000 ****") carry the counter of the lines under them and no
        # value: the layout, not a shape of its own competing with the value lines for the majority
        table = table.filter(~(pl.col("has_counter") & ~pl.col("has_metric")))
    counts = (
        table.group_by("structure")
        .agg(pl.col("n").sum(), pl.col("has_counter").first(), pl.col("has_metric").first(),
             pl.col("m_keys").first())
        .sort("n", "structure", descending=[True, False])
    )
    top = counts.row(0, named=True)
    total = int(counts.get_column("n").sum())
    share = top["n"] / total
    if counts.height > 1:
        # Epoch-level logs often alternate two structures (a train line and a val line).
        second = counts.row(1, named=True)
        if second["has_counter"] and second["has_metric"] and (top["n"] + second["n"]) / total >= 0.8:
            share = max(share, 0.5)
    if (not top["has_counter"] and top["has_metric"] and top["n"] >= _LINE_ORDER_MIN and share >= 0.5
            and any(any(w in snake_case(k) for w in _LOSS_WORDS) for k in top["m_keys"])):
        # no counter anywhere on the majority's lines ("loss:0.0074, accuracy:0.997, ..." a line, GraphNovo's
        # train.log): the parser numbers them in line order (noted 'inferred'); claimed at the noisy level only
        return NOISY_CONFIDENCE
    if (not top["has_counter"] and _blocks(counts.filter(~pl.col("has_counter") & pl.col("has_metric")), total)
            and not _numbers_run(table.filter(~pl.col("has_counter") & pl.col("has_metric")).get_column("tpl"))):
        # no counter, but several shapes printed once each per block, a loss among them ('train accu: ..' /
        # 'valid loss: ..' / 'valid accu: ..' an epoch): numbered by block, claimed at the noisy level only
        return NOISY_CONFIDENCE
    if not (top["has_counter"] and top["has_metric"]) or top["n"] < 2 or share < 0.5:
        return _noisy_confidence(counts, total)
    return round(0.3 + 0.1 * min(1.0, (share - 0.5) / 0.4), 3)


#: Lines of one counter-less shape with a loss, at least, for a log numbered in line order to be claimed.
_LINE_ORDER_MIN = 5


def _numbers_run(templates: pl.Series) -> bool:
    """Whether a template holds two numbers back to back (``#/#``, ``#:#:#``): a ``[ 1/50]`` counter or a time the
    reader does not read as the step. Blocks of such lines are not numbered by block: a counter that restarts (a
    file of several runs) would be hidden."""
    return bool(templates.str.contains("##", literal=True).any())


def _run_first_epoch(df: pl.DataFrame) -> float | None:
    """1 when the log begins after its run's first epoch ("Epoch [2/2]" on its first line), else None.

    Only epochs printed out of a total ("e/E", every one whole and at most E) are read so: their numbering
    starts at 1 unless one of them is 0, and a first epoch above 1 then means the epochs before it were
    trained but not logged (a log of the last epoch only; a resumed run's own file). Where the count starts
    is not printed: when the numbering was from 0, the run began one epoch earlier still, so the steps
    derived from 1 are a lower bound."""
    eps = df.filter(pl.col("ep").is_not_null())
    if not eps.height or eps.get_column("ep_total").null_count() == eps.height:
        return None
    ep = eps.get_column("ep")
    lo, total = ep.min(), eps.get_column("ep_total").max()
    whole = bool(((ep == ep.floor()) & ep.is_finite()).all())
    if not whole or lo is None or total is None or lo <= 1 or ep.max() > total:  # type: ignore[operator]
        return None
    return 1.0


def _late_start_note(df: pl.DataFrame, began: float, ec: EpochCounter | None = None) -> IngestNote:
    """The note for a log that begins at epoch e > 1 (:func:`_run_first_epoch`)."""
    ep = df.get_column("ep").drop_nulls()
    e, tot = ep.min(), df.get_column("ep_total").drop_nulls().max()
    how = "" if ec is None else f": step = (epoch - {began:g}) x {ec.per} + {ec.key} ({ec.per} per epoch, {ec.how})"
    # an epoch that reached its printed total ("2/2") shows the numbering starts at 1
    maybe = "" if ep.max() == tot else "; one epoch more if the epochs are numbered from 0"
    before = e - began
    return IngestNote(
        "inferred",
        f"the log starts at epoch {e:g} of {tot:g}: the {before:g} epoch{'' if before == 1 else 's'} before it "
        f"{'was' if before == 1 else 'were'} trained but not logged, and their steps are counted{how} (derived{maybe})",
    )


def _blocks(shapes: pl.DataFrame, total: int) -> bool:
    """Whether counter-less ``shapes`` (rows: ``n`` lines, ``m_keys``) look like blocks printed once an epoch: 2+
    shapes, each on the same number of lines (one fewer where the last block was cut off), at least
    :data:`_LINE_ORDER_MIN`, together a majority of the numbered lines, a loss among their keys."""
    if shapes.height < 2:
        return False
    n = shapes.get_column("n")
    return (int(n.min()) >= _LINE_ORDER_MIN and int(n.max()) - int(n.min()) <= 1  # type: ignore[arg-type]
            and int(n.sum()) >= 0.5 * total
            and any(any(w in snake_case(k) for w in _LOSS_WORDS) for ks in shapes.get_column("m_keys") for k in ks))


#: Header lines (a counter and nothing else: "**** EPOCH 000 ****", "Epoch 0/200") at least this often before the
#: lines without a counter are read as carrying their values' counter.
_HEADERS_MIN = 2


def _headed(table: pl.DataFrame) -> pl.DataFrame:
    """``table`` (templates) where the lines that hold values but no counter count as having one when the log
    prints its counter on header lines of its own (a counter and no value, 2+ times) before them: PointNet's
    ``**** EPOCH 000 ****`` then ``mean loss: 2.407614`` / ``accuracy: 0.289210``, ``Epoch 0/200`` then
    ``  Train Loss: 0.0045``. The parser reads such lines at the step of the header above them."""
    heads = table.filter(pl.col("has_counter") & ~pl.col("has_metric"))
    if heads.height == 0 or int(heads.get_column("n").sum()) < _HEADERS_MIN:
        return table
    first = int(heads.get_column("first").min())  # type: ignore[arg-type]
    # values of a loss under the headers ("mean loss: 2.41"; not "gradient capped. Max Norm: 1.0" warnings)
    lossy = pl.col("m_keys").list.eval(pl.element().str.to_lowercase().str.contains("|".join(_LOSS_WORDS))).list.any()
    # ... or a split word alone before a value ("Training: 0.5214" / "Validation: 0.6010" under "Epoch: 3",
    # yihengy/CrazyExperiment), which the parser reads as that split's loss
    lossy = lossy | pl.col("m_bases").list.contains("loss")
    return table.with_columns(
        (pl.col("has_counter") | (pl.col("has_metric") & (pl.col("first") > first) & (pl.col("n_struct") >= 2)
                                  & lossy)).alias("has_counter"))


#: Confidence for a log whose training lines are a minority among other numbered lines (warnings,
#: progress bars, model printouts): above MIN_CONFIDENCE, so a file given alone is read when nothing
#: else claims it, and below what a directory walk takes, so a walk does not pick up stray text.
NOISY_CONFIDENCE = 0.26


def _short_last_batch(df: pl.DataFrame, own: pl.Expr, key: str, notes: list[IngestNote]) -> pl.DataFrame:
    """pytorch/examples' mnist ``train()`` prints ``'Train Epoch: {} [{}/{} ({:.0f}%)]'`` with ``batch_idx *
    len(data)`` as the count: the epoch's last batch, shorter than the others, prints a count below the line before
    it (``[130208/160672 (100%)]`` after ``[159744/160672 (99%)]``). Read as written, the counter went back inside
    every epoch, was not taken for a per-epoch counter, and the epochs were laid end to end as counter resets with
    the dips dropped as overwritten steps. Where the counter drops only on the last line of two or more epochs
    (never elsewhere inside an epoch), those lines are placed one logging interval after the line before them
    (at most the printed total less one), noted."""
    rows = df.filter(own).select("_rid", "inner", "inner_total", "epoch")
    if rows.height < 4:
        return df
    inner = rows.get_column("inner").to_numpy()
    ep = rows.get_column("epoch").to_numpy()
    tot = rows.get_column("inner_total").to_numpy()
    # one vectorised pass first (a 10^6-line log pays a few array comparisons): the counter below the line before
    # it, in the same epoch, of the same printed total ...
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero((inner[1:] < inner[:-1]) & (ep[1:] == ep[:-1]) & (tot[1:] == tot[:-1])) + 1
    if cand.size < 2:
        return df
    # ... on the epoch's last line, above the epoch's first count (a bar reset to its start before the epoch's
    # number moves on, 'Epoch 0: 0/455' after 'Epoch 0: 455/455', is no short last batch; nor is another bar's count,
    # 'Validation DataLoader 0: 2/2' between two 'Epoch 0: 455/455' lines of Lightning's progress bar: its total
    # differs)
    last = np.append(ep[1:] != ep[:-1], True)
    starts = np.flatnonzero(np.append(True, ep[1:] != ep[:-1]))
    first_of = inner[starts[np.searchsorted(starts, np.arange(inner.size), side="right") - 1]]
    ok = last[cand] & (inner[cand] > first_of[cand])
    if not ok.all() or np.isnan(tot[cand]).any():
        return df  # the counter also drops elsewhere: not this quirk
    gap = np.where(cand >= 2, inner[cand - 1] - inner[cand - 2], 1.0)
    new = np.minimum(inner[cand - 1] + np.where(gap > 0, gap, 1.0), tot[cand] - 1)
    placed = pl.DataFrame({"_rid": rows.get_column("_rid").gather(cand), "_new": new.astype(float)})
    notes.append(IngestNote(
        "inferred", f"'{key}' drops on the last line of {cand.size} epoch(s) and nowhere else (the count printed as "
        f"batch_idx x batch size, the last batch shorter, as in pytorch/examples' mnist): those lines are placed one "
        f"logging interval after the line before them"))
    out = df.join(placed, on="_rid", how="left")
    return out.with_columns(pl.coalesce(pl.col("_new"), pl.col("inner")).alias("inner")).drop("_new")


def _sniff_rows(rows: list[str]) -> float:
    lines = _unwrap(pl.DataFrame({"line": rows[:2000]}).with_row_index("lineno", offset=1))
    return _confidence(lines.with_columns(pl.col("lineno").cast(pl.Int64)))


def _noisy_confidence(counts: pl.DataFrame, total: int) -> float:
    """:data:`NOISY_CONFIDENCE` when one structure with a counter and a loss-like key repeats on 3+
    lines and is at least 10% of the numbered lines; else 0."""
    data = counts.filter(pl.col("has_counter") & pl.col("has_metric") & (pl.col("n") >= 3))
    for n, keys in data.select("n", "m_keys").iter_rows():
        if n >= 0.1 * total and any(any(w in snake_case(k) for w in _LOSS_WORDS) for k in keys):
            return NOISY_CONFIDENCE
    return 0.0


_AVG = re.compile(r"^(?:average|avg|mean)_")
#: "batch loss" (the loss of the last batch): the loss only where no other key claims it
_BATCH_OF = re.compile(r"^batch_")


#: "Loss per epoch" / "loss_per_batch": the loss, said to be one an epoch (a batch)
_PER_COUNTER = re.compile(r"_per_(?:epochs?|batch(?:es)?|steps?|iter(?:ation)?s?)$")


def _metric(key: str) -> str:
    """Canonical metric of a key; ``Average loss`` / ``avg_acc`` / ``batch loss`` / ``Loss per epoch`` are the
    loss / accuracy as logged."""
    metric = split_and_metric(snake_case(key))[1]
    bare = _PER_COUNTER.sub("", _BATCH_OF.sub("", _AVG.sub("", metric)))
    if bare != metric and canonical_metric(bare) in ("loss", "accuracy", "perplexity"):
        return canonical_metric(bare)
    return metric


def _num(ords: str) -> pl.Expr:
    """The number at position ``ords`` (a column) of the line, without its leading character."""
    return pl.col("nums").list.get(pl.col(ords), null_on_oob=True).str.slice(1).cast(pl.Float64, strict=False)


#: ``tensor(0.8123, device='cuda:0', grad_fn=<...>)`` -> ``0.8123``; ``<__main__.X object at 0x7f..>`` -> ``''``
_TENSOR = r"tensor\(\s*([^,()\s]+)(?:,[^()]*(?:\([^()]*\)[^()]*)*)?\)"
_OBJECT = r"<[^<>]*\bat 0x[0-9a-fA-F]+>"


#: a counter word with its number glued on, the number ending there: "Epoch1 Time:178.1s", "EP0, avg_loss=0.0010"
_GLUED = r"(?i)\b(epoch|ep|step|iter|iteration)([0-9]+)(?:\b|$)"
#: a tqdm bar without a postfix: ``Epoch 1/5: 100%|█████| 7543/7543 [00:10<00:00, 700.00it/s]``
_TQDM_PLAIN = r"\d+%\|.*\|\s*\d+/\d+\s*\[[^=\]]*\]\s*$"
#: a tqdm bar over an iterable without a length, without a postfix (``format_meter`` with no total: ``{desc}:
#: {n}{unit} [{elapsed}, {rate}]``): ``Epoch 0: 22it [00:14,  8.07it/s]``
#: (with the cursor-up escape tqdm writes after a nested bar, ``\x1b[A``, where the text is not yet cleaned)
_TQDM_NO_TOTAL = r"\d+it \[\d+:\d\d(?::\d\d)?, *(?:[\d.]+|\?)(?:it/s|s/it)\](?:\x1b\[[0-9;]*[A-Za-z])*\s*$"
#: the same bar with a Python warning written on after it (both on stderr, the bar's line not ended): ``Train:
#: 0%|   | 1/625 [00:23<4:01:06, 23.18s/it]/data/train.py:253: FutureWarning: ...`` (``warnings.formatwarning``:
#: ``{filename}:{lineno}: {category}: {message}``): the bar is dropped, the warning kept as a line of its own
_TQDM_GLUED = r"^.*?\d+%\|[^|]*\|\s*\d+/\d+\s*\[[^=\]]*\](\S*\.py:\d+: \w*Warning: )"
#: a US-style date and 12-hour time before the message, the Python logging HOWTO's own example ``basicConfig(
#: format='%(asctime)s %(message)s', datefmt='%m/%d/%Y %I:%M:%S %p')``: ``07/07/2022 04:32:45 PM Loss ...``; its
#: ``07/07`` is no N/M counter and its ``PM`` no part of the next key
_US_STAMP = r"^\s*\d{1,2}/\d{1,2}/\d{2,4},? \d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)? ?[AaPp][Mm]\b[\s:|-]*"
#: Joey NMT's validation line (joeynmt/training.py: "Validation result (%s) at epoch %3d, step %8d: %s: %6.2f, loss: %8.4f,
#: ppl: %8.4f, duration: %.4fs"), whose loss is summed over the validation set
_JOEY_VALIDATION = r"Validation result \(\w+\) at epoch\s+\d+, step\s+\d+: .*\bloss: [0-9.]+, ppl: "
#: a month/day timestamp without a year at the start of a line, detectron2's logger ('[06/12 10:41:07] d2.engine INFO:',
#: ``datefmt="%m/%d %H:%M:%S"``, and loggers modelled on it): its '06/12' is no [N/M] counter (EdisonLeeeee/BlockGCL's
#: exp.log was stepped by the day of the month)
_MD_STAMP = r"^\s*\[?\d{1,2}/\d{1,2} \d{1,2}:\d\d:\d\d(?:[.,]\d+)?\]?[\s:|-]*"
#: a line of a printed PyTorch model (``nn.Module.__repr__``: ``(name): Module(args)`` per child, indented):
#: ``(dense): Linear(in_features=768, out_features=768, bias=True)``, ``(0): Thermometer()``; its numbers are
#: the architecture's, and a log that prints the model at each of 40 starts holds thousands of them
_MODULE_REPR = r"^\s*\([\w.]+\): [A-Z]\w*\("
#: a progress counter and its total alone, ``print(f"\rBatch {i} of {n}", end="")``: where a later redraw follows it
#: on the same physical line (``Batch 12 of 13\r<TAB>Train loss: 0.75``) it was overwritten on the terminal, and
#: is no header line whose counter the values after it would take
_PROGRESS_ONLY = r"^\s*[A-Za-z][A-Za-z ]*\d+\s*(?:of|/)\s*\d+\s*$"
#: argparse's repr of the parsed arguments, printed at the start of countless scripts
_NAMESPACE_DUMP = r"\bNamespace\(\w+="
#: a key whose value is a clock time or a date (``[Time:[2022-08-28 00:11:31]]``, ``total time:0:02:28``, ``eta:
#: 1 day, 10:55:11``, ``elapsed 0:02:28``): read as the pair time=2022 or eta=1, a number that is not one; dropped, key and value
_CLOCK_PAIR = (r"\b[A-Za-z_][A-Za-z_]\w*(?: [A-Za-z_]\w*)?\s*[:=]?\s*\[?(?:\d{4}-\d\d-\d\d(?:[ T]\d{1,2}:[0-5]\d(?::[0-5]\d)?"
               r"(?:[.,]\d+)?)?|(?:\d+ days?, )?\d{1,3}:[0-5]\d:[0-5]\d(?:[.,]\d+)?)\b\]?")
#: what every such value holds, a cheap first test (the pattern above costs 3x as much on lines without one)
_CLOCK_HINT = r"[:-]\d\d[:-]"
#: a line that starts with two bare counters, the epoch and the batch of a printed total ('   2  100 /  320 whole_loss =
#: 0.1725': print('%4d %4d / %4d ...' % (epoch, i, n))): read as 'epoch 2 [100/320] ...' so the two are combined
_BARE_EPOCH_FRAC = r"^(\s*)(\d+)\s+(\d+)\s*/\s*(\d+)(\s+[A-Za-z])"
#: ...on at least this many lines (a stray line of two numbers and a fraction is not a log's layout)
_BARE_MIN = 3
#: a batch counter printed as '[ 300:391]' right after an epoch's bracket ('[Epoch 1/500][ 300:391]'): the fraction
#: '[300/391]' (a colon between two integers elsewhere is a clock or a ratio, and stays)
_COLON_FRAC = r"\]\[\s*(\d+):(\d+)\]"
#: scikit-learn's classification_report: a 'precision recall f1-score support' header over one row per class ('Healthy
#: (0)  0.8220  0.8012  0.8115  2917'), 'accuracy  0.7446  4252' and the macro/weighted averages -- a test summary
#: printed after training (its rows were read as series 'Healthy', 'avg', 'accuracy_2'), dropped with its header
_REPORT_HEAD = r"\bprecision\s+recall\s+f1-score\s+support\s*$"
_REPORT_ROW = (r"^\s*$|^.*\S\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+\d+\s*$|^\s*accuracy\s+[0-9.]+\s+\d+\s*$")
#: a best-so-far summary naming the epoch or step it was reached at ("Best model found at epoch 19", "best val acc
#: 0.91 at step 1200")
_BEST_AT = r"(?i)\bbest\b.{0,60}?\b(?:at|in|from)\s+(?:the\s+)?(?:epoch|step|iter(?:ation)?)\b\s*[:#]?\s*\d"
#: a counter word before "best" on a line: the line is that counter's, its best-so-far clause a detail
_COUNTER_BEFORE_BEST = r"(?i)\b(?:epoch|step|iter(?:ation)?|batch)\b.*?\bbest\b"
#: a frame line of a Python traceback
_TRACEBACK_FRAME = r'^\s*File "[^"]*", line \d+'
#: a request line of a web server's access log (Werkzeug, gunicorn, uvicorn)
_HTTP_ACCESS = r'"(?:GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) \S* HTTP/\d|\bDebugger PIN: '
#: a key qualified by the share of the data it was measured on ('Val~20% 9.6793': validation on ~20% of the set): the
#: share is no value, and '~' and '%' are no key characters, so the pair was lost; read as 'Val 9.6793'
_SHARE_KEY = r"\b([A-Za-z][A-Za-z_]*)~\d+(?:\.\d+)?%(\s)"
#: a loss qualified by a few lower-case words in parentheses before its colon ('Train loss (one batch): 53.94', latent_ode's
#: run_models.py; 'Autoencoder Loss (total): 812.3'): '(' is no key character, so the pair was lost; read as 'Train loss:
#: 53.94'. Only a qualifier that says how the loss was aggregated, or which loss function it is ('Training Loss (NLML):
#: -1.23', a Gaussian process's negative log marginal likelihood; '(MSE)', '(CE)'): 'Initial valid loss (overall)',
#: 'Loss (train)' and 'Time (mins)' keep their parentheses
_QUALIFIED_KEY = (r"(?i)\b(\w*loss) \((?:one |last |this )?(?:batch|step|iter|epoch|total|sum|avg|average|mean|running"
                  r"|smoothed|nlml|nll|mse|mae|rmse|ce|bce|kl|kld|elbo|l1|l2|ctc|dice)\)(\s*[:=]\s*-?[0-9.])")
#: pycocotools' COCOeval.summarize() lines (``Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] =
#: 0.121``, printed by detectron2, mmdet and torchvision's references after every evaluation): read as one held-out
#: metric each, named as detectron2 names them (AP, AP50, AP75, AR1, AR10, AR100; AP_small, AR_large...), not as
#: the series "IoU" and "maxDets"; -1.000 is pycocotools' "no objects of that size", not a value
_COCO = (r"^\s*Average (?:Precision|Recall)\s+\((AP|AR)\)\s*@\[\s*IoU=([0-9.]+(?::[0-9.]+)?)\s*\|\s*area=\s*(\w+)\s*"
         r"\|\s*maxDets=\s*(\d+)\s*\]\s*=\s*(-?[0-9.]+)\s*$")
#: ...the annotation type pycocotools (``Evaluate annotation type *segm*``) or torchvision (``IoU metric: bbox``)
#: announces before them, which names the metrics of one evaluation of several types apart (segm_AP, bbox_AP)
_COCO_TYPE = r"(?:Evaluate annotation type \*(\w+)\*|^\s*IoU metric: (\w+)\s*$)"
#: ...and its timing lines (``DONE (t=3.33s).``): a duration, not a series
_COCO_TIMING = r"(?i)^\s*done \(t=[0-9.]+s\)\.?\s*$"
#: torch.optim.Optimizer.__repr__: "Parameter Group 0", then its settings indented by 4 spaces
_OPTIMIZER_GROUP = r"^\s*Parameter Group \d+\s*$"
#: a headerless CSV row of key,value pairs, ``csv.writer(f).writerow(["iteration", i, "train_loss", loss, ...])``:
#: ``iteration,1,train_loss,2.3095,train_accuracy,0.0468`` (two pairs at least, nothing else on the line)
_CSV_PAIR = rf"([A-Za-z_][\w.]*),((?:{_NUM_RS}))"
_CSV_PAIRS = rf"^\s*{_CSV_PAIR}(?:,{_CSV_PAIR})+,?\s*$"
#: a table printed with '|' between its columns: a header of names, then rows of numbers under it
#: (``epoch | tr_loss | tr_acc | va_loss`` / ``    1 |   1.540 |  47.36 |   1.638``), three columns at least
_PIPE_HEAD = r"^\s*[A-Za-z_][\w.\-/%]*(?:\s*\|\s*[A-Za-z_][\w.\-/%]*){2,}\s*\|?\s*$"
_PIPE_ROW = rf"^\s*(?:{_NUM_RS})[a-z%]*(?:\s*\|\s*(?:{_NUM_RS})[a-z%]*){{2,}}\s*\|?\s*$"
#: split abbreviations a pipe table's header may use for its column groups, read only where two of them
#: stand in one header (``tr_loss`` beside ``va_loss``), never in a name alone
_PIPE_SPLITS = {"tr": "train", "va": "val", "te": "test"}


def _pipe_rows(lines: pl.DataFrame, notes: list[IngestNote] | None) -> pl.DataFrame:
    """Rows of a '|' table read as ``name=value`` pairs named by the header above them (same number of cells)."""
    line = pl.col("line")
    lines = lines.with_columns(pl.when(line.str.contains(_PIPE_HEAD)).then(line).forward_fill().alias("_ph"))
    rows = line.str.contains(_PIPE_ROW) & pl.col("_ph").is_not_null()
    cells = line.str.strip_chars(" \t|").str.split("|")
    heads = pl.col("_ph").str.strip_chars(" \t|").str.split("|")
    rows = rows & (cells.list.len() == heads.list.len())
    renamed: dict[str, str] = {}

    def names(head: str) -> list[str]:
        cols = [c.strip() for c in head.strip(" \t|").split("|")]
        pre = {c.split("_", 1)[0].lower() for c in cols if "_" in c}
        if len(pre & set(_PIPE_SPLITS)) >= 2:
            out = [(_PIPE_SPLITS[c.split("_", 1)[0].lower()] + "_" + c.split("_", 1)[1])
                   if "_" in c and c.split("_", 1)[0].lower() in _PIPE_SPLITS else c for c in cols]
            renamed.update({a: b for a, b in zip(cols, out) if a != b})
            return out
        return cols

    sub = lines.with_row_index("_i").filter(rows).select("_i", "_ph", "line")
    if not sub.height:
        return lines.drop("_ph")
    heads_seen = {h: names(h) for h in sub.get_column("_ph").unique().to_list()}
    text = [" ".join(f"{k}={v.strip()}" for k, v in zip(heads_seen[h], row.strip(" \t|").split("|"), strict=True))
            for h, row in sub.select("_ph", "line").iter_rows()]
    lines = lines.drop("_ph").with_columns(
        lines.get_column("line").scatter(sub.get_column("_i"), pl.Series(text, dtype=pl.String)))
    if renamed and notes is not None:
        shown = ", ".join(f"{a} -> {b}" for a, b in list(renamed.items())[:4])
        notes.append(IngestNote("inferred", f"a '|' table whose header abbreviates its splits (tr_/va_/te_ side by "
                                f"side): read as {shown}{' ...' if len(renamed) > 4 else ''}"))
    return lines


_FULLWIDTH = "[：＝，]"
_AFTER_SEEN_MARK = "Loss after num_examples_seen="
_AFTER_SEEN = _AFTER_SEEN_MARK + r"(\d+) epoch=(\d+): (\S+)"


def _unwrap(lines: pl.DataFrame, notes: list[IngestNote] | None = None) -> pl.DataFrame:
    """Printed tensors read as their value and object reprs dropped, so ``loss: tensor(2.31,
    device='cuda:0')`` is the pair ``loss: 2.31``; tqdm bars without a postfix dropped (their
    counters are the bar's, not the training step); a counter glued to its word (``Epoch1``) parted; an
    argparse ``Namespace(lr=0.01, eval_step=10, ...)`` dump dropped (it is the run's configuration, read by
    :mod:`lossdoc.ingest.config_text`; its ``eval_step=10`` is no step and its ``lr=0.01`` no series); a headerless
    CSV row of key,value pairs (``iteration,1,train_loss,2.3095``) read as ``key=value`` pairs, and so are the rows
    of a '|' table under its header (:func:`_pipe_rows`).
    Only when some line holds one: cheap tests first."""
    line = pl.col("line")
    if not lines.height:
        return lines
    if lines.select(line.str.contains(_AFTER_SEEN_MARK, literal=True).any()).item():
        # the WildML RNN tutorial (dennybritz/rnn-tutorial-rnnlm, copied widely): 'Loss after num_examples_seen=100000
        # epoch=5: 6.2296' -- the loss is the unnamed number at the end, not the count of examples the words
        # before '=' would name
        lines = lines.with_columns(line.str.replace(_AFTER_SEEN, "epoch=${2} examples_seen=${1} loss=${3}"))
    if lines.select(line.str.contains(_FULLWIDTH).any()).item():
        # a CJK log's full-width colon, equals sign and comma ('epoch：3 loss：0.52'): the ASCII ones
        lines = lines.with_columns(line.str.replace_all("：", ": ", literal=True).str.replace_all(
            "＝", "=", literal=True).str.replace_all("，", ", ", literal=True))
    has = lines.select(line.str.contains("tensor(", literal=True).any().alias("tensor"),
                       line.str.contains(" at 0x", literal=True).any().alias("object"),
                       line.str.contains("%|", literal=True).any().alias("bar"),
                       line.str.contains(_GLUED).any().alias("glued"),
                       line.str.contains("Namespace(", literal=True).any().alias("namespace"),
                       line.str.contains(_OPTIMIZER_GROUP).any().alias("optimizer"),
                       line.str.contains(_CSV_PAIRS).any().alias("csv_pairs"),
                       line.str.contains(_PIPE_HEAD).any().alias("pipe"),
                       line.str.contains(_US_STAMP).any().alias("us_stamp"),
                       line.str.contains(_MD_STAMP).any().alias("md_stamp"),
                       line.str.contains(_MODULE_REPR).any().alias("module"),
                       line.str.contains("it [", literal=True).any().alias("no_total_bar"),
                       line.str.contains(_PROGRESS_ONLY).any().alias("progress"),
                       line.str.contains("maxDets=", literal=True).any().alias("coco"),
                       line.str.contains(_CLOCK_HINT).any().alias("clock"),
                       line.str.contains(_COLON_FRAC).any().alias("colon_frac"),
                       line.str.contains("f1-score", literal=True).any().alias("report"),
                       line.str.contains("~", literal=True).any().alias("tilde"),
                       # then _QUALIFIED_KEY ('Train loss (one batch):', 'TRAIN LOSS (AVG):')
                       (line.str.contains("oss (", literal=True) | line.str.contains("OSS (", literal=True))
                       .any().alias("qualified"),
                       line.str.contains('", line ', literal=True).any().alias("traceback"),
                       line.str.contains(_BEST_AT).any().alias("best_at"),
                       (line.str.contains(" HTTP/", literal=True) | line.str.contains("Debugger PIN", literal=True))
                       .any().alias("http"),
                       line.str.contains(_BARE_EPOCH_FRAC).sum().alias("bare_frac")).row(0, named=True)
    if has["best_at"]:
        # 'Best model found at epoch 19 with train_loss=0.1932': a summary naming a past epoch, printed after the
        # last one -- its counter would move the steps of the lines after it back (a test evaluation read at the
        # end of epoch 19 of 20), and its value is a best-so-far, not a point of the curve
        # (only when no counter comes before it: 'Epoch [12/100] loss 0.5 (best 0.41 at epoch 9)' is epoch 12's line)
        lines = lines.filter(~(line.str.contains(_BEST_AT) & ~line.str.contains(_COUNTER_BEFORE_BEST)))
    if has["traceback"]:
        # a Python traceback's 'File "train.py", line 82, in <module>': a source line number, not a metric
        lines = lines.filter(~line.str.contains(_TRACEBACK_FRAME))
    if has["http"]:
        # a web server's access log beside the training ('127.0.0.1 - - [..] "GET / HTTP/1.1" 200 -': the address,
        # the date, the status) and its 'Debugger PIN: 832-...' are no metrics
        lines = lines.filter(~line.str.contains(_HTTP_ACCESS))
    if has["bare_frac"] >= _BARE_MIN:
        lines = lines.with_columns(line.str.replace(_BARE_EPOCH_FRAC, "${1}epoch ${2} [${3}/${4}]${5}"))
    if has["tilde"]:
        lines = lines.with_columns(line.str.replace_all(_SHARE_KEY, "${1}${2}"))
    if has["qualified"]:
        lines = lines.with_columns(line.str.replace_all(_QUALIFIED_KEY, "${1}${2}"))
    if has["report"]:
        # a block: a line that is no report row starts one; the blocks a report header starts are dropped
        block = (~line.str.contains(_REPORT_ROW)).cum_sum()
        lines = lines.with_columns(block.alias("_blk")).filter(
            ~line.str.contains(_REPORT_HEAD).first().over("_blk")).drop("_blk")
    if has["colon_frac"]:
        lines = lines.with_columns(line.str.replace_all(_COLON_FRAC, "][${1}/${2}]"))
    if has["clock"] and lines.select(line.str.contains(_CLOCK_PAIR).any()).item():
        # 'eta: 22:13:34', 'Time:[2022-08-28 00:11:31]': the pair dropped (also 'epoch 0:02:32', an epoch's duration)
        lines = lines.with_columns(line.str.replace_all(_CLOCK_PAIR, ""))
    if has["coco"]:
        lines = _coco_summary(lines)
    if has["progress"] and "lineno" in lines.columns:
        lines = lines.filter(~(line.str.contains(_PROGRESS_ONLY) & (pl.col("lineno") == pl.col("lineno").shift(-1))))
    if has["no_total_bar"]:
        lines = lines.filter(~line.str.contains(_TQDM_NO_TOTAL))
    if has["module"]:
        lines = lines.filter(~line.str.contains(_MODULE_REPR))
    if has["us_stamp"]:
        lines = lines.with_columns(line.str.replace(_US_STAMP, ""))
    if has["md_stamp"]:
        lines = lines.with_columns(line.str.replace(_MD_STAMP, ""))
    if has["pipe"]:
        lines = _pipe_rows(lines, notes)
    if has["csv_pairs"]:  # "iteration,1,train_loss,2.3095": key,value pairs read as "iteration=1 train_loss=2.3095"
        lines = lines.with_columns(
            pl.when(line.str.contains(_CSV_PAIRS)).then(line.str.replace_all(_CSV_PAIR + r",?", "${1}=${2} "))
            .otherwise(line).alias("line"))
    if has["namespace"]:
        lines = lines.filter(~line.str.contains(_NAMESPACE_DUMP))
    if has["optimizer"]:
        # print(optimizer): "RMSprop (" / "Parameter Group 0" / "    lr: 0.01" ... / ")": the optimizer's settings
        # (its lr as configured, the same at every print), not a series; each group line and the indented
        # "key: value" lines under it are dropped
        block = (~line.str.contains(r"^\s{2,}\S")).cum_sum()
        lines = lines.with_columns(block.alias("_blk")).filter(
            ~line.str.contains(_OPTIMIZER_GROUP).first().over("_blk")).drop("_blk")
    if has["bar"]:
        lines = lines.filter(~line.str.contains(_TQDM_PLAIN)).with_columns(line.str.replace(_TQDM_GLUED, "${1}"))
    if has["glued"]:  # "Epoch1 Time:178.1s Loss:5.5364": the counter's number glued to its word
        lines = lines.with_columns(line.str.replace_all(_GLUED, "${1} ${2}"))
    if has["tensor"] or has["object"]:
        lines = lines.with_columns(line.str.replace_all(_TENSOR, "${1}").str.replace_all(_OBJECT, ""))
    return lines


def _epoch_trailers(df: pl.DataFrame, notes: list[IngestNote]) -> pl.DataFrame:
    """``df`` (``_axis``'s per-line table) with the batch lines of a log that announces each epoch *after* its
    batches given the epoch of the epoch line after them.

    ``[Batch 50] Loss: 15494.8 | ...`` x5, then ``===> Epoch 1/30 terminée.`` and the epoch's averages (Farouc/ccvaes
    training_logs.txt): the epoch lines carry no values, batch lines come before the first of them and none after the
    last. Read as headers, the first epoch's batches had no epoch (skipped) and every other epoch's sat one epoch
    early, against the averages printed after each epoch line. A header log (PointNet's ``**** EPOCH 000 ****`` then
    its lines) has batch lines after its last epoch line and none before the first: unchanged."""
    epoch_line = pl.col("ep").is_not_null() & ~pl.col("is_data")
    batch_line = pl.col("is_data") & pl.col("inner").is_not_null()
    if df.filter(pl.col("ep").is_not_null() & pl.col("is_data")).height:
        return df  # the epoch is on data lines: no header or trailer lines
    at = df.filter(epoch_line).get_column("_rid")
    if at.len() < 2:
        return df
    first, last = at.min(), at.max()
    before = df.filter(batch_line & (pl.col("_rid") < first)).height
    after = df.filter(batch_line & (pl.col("_rid") > last)).height
    if not before or after:
        return df
    notes.append(IngestNote("inferred", f"each epoch line comes after its batch lines ({before} batch line(s) before the "
                            "first, none after the last): a batch line belongs to the epoch line that follows it"))
    return df.with_columns(pl.when(batch_line).then(pl.col("ep").backward_fill()).otherwise(pl.col("epoch"))
                           .alias("epoch"))


def _coco_summary(lines: pl.DataFrame) -> pl.DataFrame:
    """pycocotools' summary lines (:data:`_COCO`) rewritten as ``val_<type>_<name>=<value>`` pairs (type: the
    annotation type announced before them, ``coco`` when none was), its -1.000 lines and timing lines dropped."""
    line = pl.col("line")
    g = line.str.extract_groups(_COCO)
    kind, iou, area, dets, value = (g.struct.field(str(i)) for i in range(1, 6))
    sized = pl.lit("_") + area
    name = (pl.when(kind == "AP").then(
        pl.when(area != "all").then(pl.lit("AP") + sized)
        .when(iou.str.contains(":", literal=True)).then(pl.lit("AP"))
        .otherwise(pl.lit("AP") + (iou.cast(pl.Float64, strict=False) * 100).round(0).cast(pl.Int64).cast(pl.Utf8)))
        .otherwise(pl.when(area == "all").then(pl.lit("AR") + dets).otherwise(pl.lit("AR") + sized)))
    typ = line.str.extract_groups(_COCO_TYPE)
    kind_of = pl.coalesce(typ.struct.field("1"), typ.struct.field("2")).forward_fill().fill_null("coco")
    return (lines.with_columns(kind_of.alias("_coco_type"))
            .filter(~line.str.contains(_COCO_TIMING)
                    & ~(line.str.contains(_COCO) & (value.cast(pl.Float64, strict=False) < 0)))
            .with_columns(pl.when(line.str.contains(_COCO))
                          .then(pl.lit("val_") + pl.col("_coco_type") + pl.lit("_") + name + pl.lit("=") + value)
                          .otherwise(line).alias("line"))
            .drop("_coco_type"))


def _drop_copied_counters(frame: pl.DataFrame, notes: list[IngestNote]) -> pl.DataFrame:
    """``frame`` without the keys whose value is the step (or the epoch) on every line they are on, three lines
    or more (``index: 3,epoch: 3 train_loss: ...``): a second counter, not a metric; noted."""
    if frame.height == 0:
        return frame
    same = (frame.group_by("name", maintain_order=True)
            .agg(pl.len().alias("n"),
                 (pl.col("value") == pl.col("step").cast(pl.Float64)).all().alias("is_step"),
                 (pl.col("value") == pl.col("epoch")).fill_null(False).all().alias("is_epoch"))
            .filter((pl.col("n") >= 3) & (pl.col("is_step") | pl.col("is_epoch"))))
    if same.height == 0:
        return frame
    for name, n, is_step in same.select("name", "n", "is_step").iter_rows():
        notes.append(IngestNote("inferred", f"{name!r} equals the {'step' if is_step else 'epoch'} on each of its "
                                f"{n} lines: a second counter, not read as a series"))
    return frame.filter(~pl.col("name").is_in(same.get_column("name").implode()))


def _drop_per_item_lines(rows: pl.DataFrame, lines: pl.DataFrame, notes: list[IngestNote]) -> pl.DataFrame:
    """``rows`` without the lines of a template that is printed several times at each step with a key counting
    0, 1, 2... (or 1, 2, 3...) among them, the same at every step: a per-item breakdown ("Class 0: Top-k Acc ->
    Train: 1.000, Val: 1.000", then Class 1, Class 2), whose values are one series per item, not one series
    (keeping the last line's would report class 2's accuracy as the run's). Noted; the values are not read."""
    if rows.height == 0:
        return rows
    whole = pl.col("vals").str.slice(1).str.contains(r"^[+-]?\d+$")
    per = (rows.filter(whole & pl.col("step").is_not_null())
           .with_columns(pl.col("vals").str.slice(1).cast(pl.Int64, strict=False).alias("_i"))
           .group_by("tpl", "key", "step")
           .agg(pl.len().alias("n"), pl.col("_i").min().alias("lo"), pl.col("_i").max().alias("hi"),
                pl.col("_i").n_unique().alias("u")))
    if per.height == 0:
        return rows
    ok = per.with_columns(((pl.col("n") >= 2) & (pl.col("u") == pl.col("n")) & (pl.col("hi") - pl.col("lo") + 1 == pl.col("n"))
                           & pl.col("lo").is_in([0, 1])).alias("ok"))
    idx = (ok.group_by("tpl", "key")
           .agg(pl.len().alias("steps"), pl.col("ok").sum().alias("good"), pl.col("lo").n_unique().alias("los"),
                pl.col("n").max().alias("items"))
           .filter((pl.col("steps") >= 2) & (pl.col("good") == pl.col("steps")) & (pl.col("los") == 1)))
    if idx.height == 0:
        return rows
    drop = idx.get_column("tpl")
    for tpl, key, items in idx.select("tpl", "key", "items").unique(subset="tpl", keep="first", maintain_order=True).iter_rows():
        first = rows.filter(pl.col("tpl") == tpl).get_column("lineno").min()
        text = lines.filter(pl.col("lineno") == first).get_column("line")
        shown = text[0].strip()[:60] if text.len() else ""
        notes.append(IngestNote("inferred", f"lines like line {first} ({shown!r}) come {items} at each step, one per "
                                f"'{key}' 0, 1, ...: a per-item breakdown, not one series; not read", line=int(first)))  # type: ignore[arg-type]
    return rows.filter(~pl.col("tpl").is_in(drop.implode()))


_NUMBER_TAIL = re.compile(r"(?i)(?:[0-9.+\-]|\d[eE]|(?<![a-z])(?:n|na|nan|i|in|inf|infi|infin|infini|infinit|infinity))$")


def after_last_value(line: str) -> bool:
    """Whether a last line without a line ending stops after its last number rather than possibly inside it
    (``... Training time: 0.74m``, ``... loss 0.5 s``): every number on it is then complete. A line that ends
    in a digit, a point, a sign, an exponent or a prefix of nan/inf may have been cut inside a value."""
    t = line.rstrip("\r")
    if not re.search(r"\d", t):
        return False
    return t != t.rstrip() or _NUMBER_TAIL.search(t) is None  # a blank after the last number ends it too


class HeuristicTextParser(Parser):
    name = "text"
    title = "Hand-rolled text log (heuristic)"
    recognises = ("lines with a step/iter/epoch/batch counter and 'name: value' / 'name=value' / 'name value' pairs "
                  "separated by '|', ',' or spaces (annotated-transformer 'Epoch Step: 41 | ... | Loss: 7.37'); "
                  "'[eval] step N train X val Y' lines; a counter on a header line of its own and the values on the "
                  "lines after it (PointNet '**** EPOCH 000 ****' then 'mean loss: X', 'eval mean loss: Y')")
    priority = 90
    heuristic = True

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text()
        if "\x00" in head[:1024]:
            return 0.0
        rows = head.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if len(head.encode("utf-8", "ignore")) >= 64 * 1024 and len(rows) > 1:
            rows = rows[:-1]  # the head may cut the last line
        conf = _sniff_rows(rows)
        if conf == 0.0:
            # The training lines may begin only after a preamble longer than the head (a dataset scan's
            # "Scan 100/4541..." lines, tqdm bars of 40 kB each): the tail's lines decide, at no more than
            # NOISY_CONFIDENCE, so that a file given alone is read but a directory walk does not take it.
            tail = inp.tail_text()
            if tail:
                conf = min(NOISY_CONFIDENCE, _sniff_rows(tail.replace("\r\n", "\n").replace("\r", "\n").split("\n")))
        return conf

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = _unwrap(load_lines(inp, notes=notes), notes)
        n_lines = lines.get_column("lineno").n_unique()
        last_line = int(lines.get_column("lineno").max() or 0) if lines.height else None
        tail = torn_tail_note(inp, last_line)
        if tail is not None:
            text = lines.filter(pl.col("lineno") == last_line).get_column("line").str.join("")[0]
            if after_last_value(text):
                notes.append(IngestNote("other", f"last line has no line ending (file still being written?); it "
                                        f"ends in {text.rstrip()[-12:]!r}, after its last number, so no value on it "
                                        "is cut: read", line=last_line))
            else:
                lines = lines.filter(pl.col("lineno") != last_line)
                notes.append(tail)
        # tqdm "\r" redraws are several rows of one physical line: rows are keyed by their own index.
        lines = lines.with_row_index("_rid")
        numeric, table = _templates(lines, notes)
        table = table.with_columns(
            (pl.col("has_metric") & (pl.col("has_counter") | (pl.col("n_struct") >= 2))).alias("is_data")
        )
        skipped_numeric = int(table.filter(pl.col("has_metric") & ~pl.col("is_data")).get_column("n").sum())
        table = self._section_splits(lines, table, notes, numeric)
        # (split, metric) per (key, split) pair, decided once over the templates in order of appearance.
        data_t = table.filter(pl.col("is_data")).sort("first")
        sids = list(
            dict.fromkeys(
                (k, sp, b)
                for ks, sps, bs in data_t.select("m_keys", "m_splits", "m_bases").iter_rows()
                for k, sp, b in zip(ks, sps, bs, strict=True)
            )
        )
        # An exact name wins its (split, metric) over an averaged one ("loss" before "avg_loss"), and
        # over a bare split word on an evaluation line ("train 2.31" beside per-step "loss 2.40" lines).
        ordered = sorted(sids, key=lambda ks: (_BATCH_OF.match(snake_case(ks[0])) is not None,
                                               _AVG.match(snake_case(ks[0])) is not None, ks[2] != ""))
        series: dict[str, tuple[str, str]] = {}
        taken: set[tuple[str, str]] = set()
        # "total=2.19 det=1.93 kd=0.52": with no key named as a loss, a key named 'total' is the loss (its
        # parts beside it keep their own names)
        totals = [k for k, _, b in ordered if not b and snake_case(k) in ("total", "tot")]
        total_is_loss = bool(totals) and not any((b or _metric(k)) == "loss" for k, _, b in ordered)
        if total_is_loss:
            parts = sorted({snake_case(k) for k, _, b in ordered if k not in totals and not b} - {"lr"})
            notes.append(IngestNote("inferred", f"no key is named as a loss: {totals[0]!r} is read as the loss"
                                    + (f" (beside it: {', '.join(parts[:5])})" if parts else "")))
        for k, sp, b in ordered:
            cand, n = (sp, "loss" if total_is_loss and k in totals else b or _metric(k)), 2
            if cand in taken:  # a second key for one series: keep it apart under its own name
                # (an evaluation line's train loss is another estimate of it, as nanoGPT's is)
                cand = (sp, f"estimated_{b}" if b else snake_case(k))
            base = cand[1]
            while cand in taken:
                cand, n = (sp, f"{base}_{n}"), n + 1
            taken.add(cand)
            series[f"{k}\x1f{sp}\x1f{b}"] = cand
        table = table.with_columns(
            pl.Series(
                "m_fsplit",
                [
                    [series[f"{k}\x1f{sp}\x1f{b}"][0] for k, sp, b in zip(ks, sps, bs, strict=True)] if d else []
                    for ks, sps, bs, d in table.select("m_keys", "m_splits", "m_bases", "is_data").iter_rows()
                ],
                dtype=pl.List(pl.String),
            ),
            pl.Series(
                "m_metric",
                [
                    [series[f"{k}\x1f{sp}\x1f{b}"][1] for k, sp, b in zip(ks, sps, bs, strict=True)] if d else []
                    for ks, sps, bs, d in table.select("m_keys", "m_splits", "m_bases", "is_data").iter_rows()
                ],
                dtype=pl.List(pl.String),
            ),
        )
        df = (
            numeric.join(table.filter(pl.col("has_counter") | pl.col("is_data")), on="tpl", how="inner")
            .sort("_rid")
            .with_columns(pl.col("_s").str.extract_all(_NUMX).alias("nums"))
        )
        if df.height == 0:
            return ParseResult(concat_frames([]), notes)
        df = df.with_columns(
            _num("inner_ord").alias("inner"),
            pl.col("nums")
            .list.get(pl.col("inner_tot"), null_on_oob=True)
            .str.slice(1)
            .cast(pl.Float64, strict=False)
            .cast(pl.Int64, strict=False)
            .alias("inner_total"),
            _num("epoch_ord").alias("ep"),
            _num("epoch_tot").alias("ep_total"),
        )
        axis, how = self._axis(df, notes)
        rows = (
            df.filter(pl.col("is_data"))
            .join(axis, on="_rid", how="left")
            .select(
                "lineno",
                "step",
                "epoch",
                "tpl",
                "m_keys",
                "m_fsplit",
                "m_metric",
                pl.col("nums").list.gather(pl.col("m_ords"), null_on_oob=True).alias("vals"),
                # "Epoch 20/20": the line of a run's last announced epoch (a run that finished)
                (pl.col("ep") >= pl.col("ep_total")).fill_null(False).alias(FINISHED),
            )
            .explode("m_keys", "m_fsplit", "m_metric", "vals")
            .rename({"m_keys": "key", "m_fsplit": "split", "m_metric": "metric"})
        )
        rows = _drop_per_item_lines(rows, lines, notes).drop("tpl")
        no_step = rows.filter(pl.col("step").is_null())
        if no_step.height:
            lns = no_step.get_column("lineno").unique(maintain_order=True)
            notes.append(
                IngestNote(
                    "skipped_lines",
                    f"{lns.len()} line(s) with values before any counter (no step); skipped",
                    line=int(lns[0]),
                    count=lns.len(),
                )
            )
            rows = rows.filter(pl.col("step").is_not_null())
        matched = rows.get_column("lineno").n_unique()
        meta: dict[str, int] = {}
        rows = keep_last_run(rows, reference(rows.with_columns(pl.col("vals").str.slice(1).alias("_v")), value="_v"),
                             lines.select("lineno", "line"), notes, meta=meta).drop(FINISHED)
        frame = rows.select(
            pl.lit(inp.run_name).alias("run"),
            "split",
            "metric",
            pl.col("key").alias("name"),
            "step",
            "epoch",
            pl.col("vals").str.slice(1).cast(pl.Float64, strict=False).alias("value"),
        )
        frame = _drop_copied_counters(frame, notes)
        counters = (
            pl.concat([df.get_column("inner_key"), df.get_column("epoch_key")])
            .drop_nulls()
            .unique(maintain_order=True)
            .to_list()
        )
        raw_keys = list(dict.fromkeys(k for k, _, _ in sids))
        shown = ", ".join(raw_keys[:12]) + (" ..." if len(raw_keys) > 12 else "")
        notes.insert(
            0,
            IngestNote(
                "inferred",
                f"read as a hand-rolled text log: step = {how}; counters seen: {', '.join(counters) or 'none'}; "
                f"keys read: {shown}; {matched} of {n_lines} line(s) matched, {n_lines - matched} skipped"
                + (
                    f" ({skipped_numeric} with numbers but no counter or repeated structure)" if skipped_numeric else ""
                ),
                count=matched,
            ),
        )
        # a literal test first, alone (an expression '&' evaluates both sides): the regex is a second pass over every
        # line, paid only by a log that prints Joey NMT's words
        line = pl.col("line")
        if (lines.select(line.str.contains("Validation result (", literal=True).any()).item()
                and lines.select(line.str.contains(_JOEY_VALIDATION).any()).item()):
            # Joey NMT's validation loss is summed over the whole validation set, its training 'Batch Loss' is per
            # batch: the two are on different scales (nneva/mt-exercise-4: 45,352 beside 6,604), never a gap
            meta["val_loss_scale"] = ("Joey NMT sums its validation loss over the whole validation set and logs its "
                                      "training loss per batch")
            notes.append(IngestNote("inferred", "Joey NMT's validation loss is summed over the validation set and its "
                                    "'Batch Loss' is per batch: the two are on different scales and are not compared"))
        return ParseResult(concat_frames([frame]), notes, meta)

    @staticmethod
    def _section_splits(lines: pl.DataFrame, table: pl.DataFrame, notes: list[IngestNote],
                        numeric: pl.DataFrame) -> pl.DataFrame:
        """Values on lines without a counter of their own take the step of the line before; under a
        section header that names a split ("Evaluation Results:" then "   Loss: 0.5301") they are that
        split's: not more points of the training series the counter lines log under the same name (which
        they would overwrite at that step: the last training loss 0.4631 read as 0.4886), and not a
        training perplexity either. A header may carry the counter and nothing else ("Test Epoch: 5 ..."
        then "    ave: 87.3500"). Only lines within 3 of the header, that name no split themselves."""
        cand = table.filter(pl.col("is_data") & ~pl.col("has_counter"))
        if cand.height == 0:
            return table
        counter_only = table.filter(pl.col("has_counter") & ~pl.col("has_metric")).get_column("tpl")
        counted = numeric.filter(pl.col("tpl").is_in(counter_only.implode())
                                 # a header counts on: not "Val batches: 2036" in each of a log's run headers
                                 & (pl.col("line").n_unique().over("tpl") >= 2)
                                 & ~pl.col("line").str.contains(r"(?i)train")).get_column("lineno")
        heads = lines.filter((~pl.col("line").str.contains(r"[0-9]") | pl.col("lineno").is_in(counted.implode()))
                             & pl.col("line").str.contains(_EVAL_HEAD)).select("lineno", "line")
        if heads.height == 0:
            return table
        new_splits: dict[str, list[str]] = {}
        under: dict[tuple[int, str], list[int]] = {}
        for tpl, first, ks, sps in cand.select("tpl", "first", "m_keys", "m_splits").iter_rows():
            if "train" not in sps:
                continue
            rep = lines.filter(pl.col("lineno") == first).get_column("line")
            if rep.len() and _SPLIT_WORD.search(rep[0]):
                continue  # the line names its own split
            near = heads.filter(pl.col("lineno").is_between(first - 3, first - 1)).sort("lineno")
            if near.height == 0:
                continue
            word = _SPLIT_WORD.search(near.get_column("line")[-1])
            split = _SPLIT_OF[word.group(1).lower()] if word else "val"
            if split == "train":
                continue
            new_splits[tpl] = [split if sp == "train" else sp for sp in sps]
            under.setdefault((int(near.get_column("lineno")[-1]), split), []).append(int(first))
        for (head, split), firsts in sorted(under.items()):
            at = ", ".join(str(f) for f in sorted(firsts))
            notes.append(IngestNote(
                "inferred", f"values on line{'s' if len(firsts) > 1 else ''} {at} and lines like them (no counter "
                f"of their own) follow the section header on line {head}: read as {split}, at the step of the "
                "line before", line=min(firsts)))
        if not new_splits:
            return table
        return table.with_columns(pl.Series("m_splits", [
            new_splits.get(t, sps) for t, sps in table.select("tpl", "m_splits").iter_rows()],
            dtype=pl.List(pl.String)))

    @staticmethod
    def _axis(df: pl.DataFrame, notes: list[IngestNote]) -> tuple[pl.DataFrame, str]:
        """(_rid, step, epoch) for every line that has a counter or data, in line order.

        ``df`` has per line: ``inner`` (step/iter/batch value), ``inner_total`` (its ``/M``),
        ``inner_key``, ``ep`` (epoch value) and ``epoch_key``.
        """
        tpl_keys = dict(df.select("tpl", "m_keys").unique(subset="tpl").iter_rows())
        df = df.select("_rid", "inner", "inner_total", "inner_key", "ep", "ep_total", "epoch_key", "is_data",
                       "tpl").sort("_rid")
        began = _run_first_epoch(df)
        # The step counter is the one the data lines carry most often. A line without values that names
        # another counter ("Training batches: 6501" in a run's header) is not a step of the run: its
        # counter is dropped, else the per-epoch "Step" looks reset at its first line and is not combined
        # with the epoch (the restart normaliser would then keep only the last epoch).
        keys = df.filter(pl.col("is_data") & pl.col("inner").is_not_null()).get_column("inner_key").drop_nulls()
        if keys.len():
            main_key = keys.value_counts(sort=True).row(0)[0]
            stray = pl.col("inner_key").is_not_null() & (pl.col("inner_key") != main_key) & ~pl.col("is_data")
            df = df.with_columns(
                [pl.when(stray).then(None).otherwise(pl.col(c)).alias(c) for c in ("inner", "inner_total", "inner_key")]
            )
        inner_vals = df.get_column("inner").drop_nulls()
        n_epochs = df.get_column("ep").drop_nulls().n_unique()
        if not keys.len() and inner_vals.len() and n_epochs >= 2:
            once = df.get_column("inner_key").drop_nulls().value_counts()
            if int(once.get_column(once.columns[1]).max()) == 1:  # type: ignore[arg-type]
                # "Train batches: 391" / "Test batches: 79" once each in a run's header, then "Epoch 1/200
                # train_loss=..." lines (gabrielmjrr/representation-stabilization train.log): a counter printed
                # on one line, on no data line, is a count in the preamble, not the axis of an epoch-level log
                shown = ", ".join(f"'{k}' ({v:g})" for k, v in df.filter(pl.col("inner").is_not_null())
                                  .select("inner_key", "inner").head(3).iter_rows())
                notes.append(IngestNote("inferred", f"{shown}: printed once each, on no line with values, among "
                                        f"{n_epochs} epochs: a count in the preamble, not read as the step"))
                df = df.with_columns([pl.lit(None, dtype=df.schema[c]).alias(c)
                                      for c in ("inner", "inner_total", "inner_key")])
                inner_vals = inner_vals.clear()
        if 0 < inner_vals.len() < n_epochs and inner_vals.n_unique() == 1 and keys.len():
            # "[WARNING] training_steps=215.0 < steps_per_epoch=418" once in a preamble, then "[TRAIN][Epoch 1/30]"
            # headers (elenikaxiras/ECG2DIG training.log): a step counter with one value, printed on fewer lines
            # than there are epochs, is a setting, not the axis
            notes.append(IngestNote("inferred", f"'{main_key}' has one value ({inner_vals[0]:g}) on "
                                    f"{inner_vals.len()} line(s) among {n_epochs} epochs: a setting, not read as the step"))
            df = df.with_columns([pl.lit(None, dtype=df.schema[c]).alias(c) for c in ("inner", "inner_total", "inner_key")])
            keys = keys.clear()
        has_inner = df.get_column("inner").drop_nulls().len() > 0
        has_epoch = df.get_column("ep").drop_nulls().len() > 0
        df = df.with_columns(pl.col("ep").forward_fill().alias("epoch"))
        if has_inner and has_epoch:
            df = _epoch_trailers(df, notes)
        if has_inner:
            # no data line carries a step counter ("**** EPOCH 000 ****", " ---- batch: 050 ----", then "mean
            # loss: ..."): the counter the header lines print most often, not a count in the run's preamble
            if keys.len():
                key = main_key
            else:
                vc = df.get_column("inner_key").drop_nulls().value_counts()
                key = vc.sort([vc.columns[1], vc.columns[0]], descending=[True, False]).row(0)[0]
            if not keys.len():
                stray = pl.col("inner_key").is_not_null() & (pl.col("inner_key") != key)
                df = df.with_columns(
                    [pl.when(stray).then(None).otherwise(pl.col(c)).alias(c) for c in ("inner", "inner_total", "inner_key")]
                )
            # the rows of the step counter itself: another counter on data lines ("val step:0" beside "train
            # step:100", each restarting per epoch) interleaved with it makes it look reset inside an epoch; those
            # rows take the end of their epoch (an epoch summary's place) when the two are combined
            own = pl.col("inner").is_not_null() & (pl.col("inner_key") == key).fill_null(False)
            if has_epoch:
                df = _short_last_batch(df, own, key, notes)
            inn = df.filter(own)
            # a reset: the counter goes back, or stays put while the epoch moves on ("[300/320]" printed
            # once an epoch, a tqdm bar's "7543/7543" at each epoch's end); a per-epoch counter restarts at
            # (nearly) every epoch change, while a global one that went back or repeated once at a resume
            # ("Global Batch 7095" at the end of epoch 4 and the start of 5, then counting on across 5 more
            # epochs) is one counter with a restart, left to the normaliser
            r = restarts(inn, "inner", "epoch")
            is_batch = snake_case(key) in _BATCH
            if r.resets and (r.per_epoch or (is_batch and not has_epoch)):
                if not has_epoch:
                    df = df.with_columns(
                        (pl.col("inner").is_not_null() & (pl.col("inner").diff() < 0))
                        .cast(pl.Int64)
                        .fill_null(0)
                        .cum_sum()
                        .cast(pl.Float64)
                        .alias("epoch")
                    )
                    notes.append(
                        IngestNote(
                            "inferred",
                            f"'{key}' restarts {r.resets} time(s) with no epoch printed: "
                            "each restart read as a new epoch",
                        )
                    )
                ec = epoch_counter(inn.get_column("inner"), df.get_column("epoch"), key, inn.get_column("inner_total"),
                                   first_epoch=began)
                step = (
                    pl.when(own)
                    .then(ec.step(pl.col("inner"), pl.col("epoch")))
                    .when(pl.col("ep").is_not_null())
                    .then(ec.epoch_end(pl.col("epoch")))  # an epoch summary: end of its epoch
                )
                df = df.with_columns(step.alias("_s"))
                notes.append(ec.note())
                if began is not None:
                    notes.append(_late_start_note(df, began))
                desc = f"epoch and '{key}' combined"
            elif (began is not None and inn.get_column("inner_total").drop_nulls().len()
                  and inn.get_column("epoch").drop_nulls().n_unique() == 1):
                # "Epoch [2/2], Step [1/12942]" to "Step [12942/12942]": one epoch, not the first, with the
                # counter's printed total: the steps of the epochs before it were taken, though not logged.
                # Read as 'Step' alone the log would look like training from its start
                ec = epoch_counter(inn.get_column("inner"), df.get_column("epoch"), key, inn.get_column("inner_total"),
                                   first_epoch=began)
                df = df.with_columns(ec.step(pl.col("inner"), pl.col("epoch")).alias("_s"))
                notes.append(_late_start_note(df, began, ec))
                desc = f"epoch and '{key}' combined"
            else:
                df = df.with_columns(pl.col("inner").alias("_s"))
                desc = f"'{key}'"
        elif has_epoch:
            eps = df.get_column("ep").drop_nulls()
            # "epoch: 0 | loss: 9.65" printed for every batch (400 lines per epoch): the lines are the
            # steps, not 400 copies of one epoch's value (keeping the last of each would drop 99.75%)
            # consecutive lines of one shape with the same epoch (a run of repeated runs prints each epoch once
            # per session, never consecutively)
            dat = (df.filter(pl.col("is_data") & pl.col("ep").is_not_null()).sort("_rid")
                   .with_columns((pl.col("ep") != pl.col("ep").shift()).fill_null(True).cum_sum().over("tpl").alias("_r")))
            dat = dat.with_columns(pl.len().over("tpl", "_r").alias("_n"))
            batchy = dat.filter(pl.col("_n") >= _PER_BATCH_MIN)
            per_batch = dat.height > 0 and batchy.height * 2 > dat.height
            # the counter on header lines and lines of one shape repeated under each (PointNet's train.py: a
            # 'mean loss: X' per training file, 5 an epoch): those lines are the steps, as above
            blk = df.with_columns(pl.col("ep").is_not_null().cum_sum().alias("_blk"))
            lossy = [t for t, ks in tpl_keys.items() if any(any(w in snake_case(k) for w in _LOSS_WORDS) for k in ks)]
            under = blk.filter(pl.col("is_data") & pl.col("ep").is_null() & (pl.col("_blk") > 0)
                               & pl.col("tpl").is_in(lossy))
            rep = (under.group_by("tpl", "_blk").agg(pl.len().alias("n"), pl.col("_rid").min().alias("first"))
                   .group_by("tpl").agg((pl.col("n") >= _PER_BATCH_MIN).mean().alias("share"), pl.len().alias("blocks"),
                                        pl.col("n").median().alias("med"), pl.col("first").min().alias("first"))
                   .filter((pl.col("share") > 0.5) & (pl.col("blocks") >= 2)).sort("first"))
            if not per_batch and rep.height:
                leader = rep.item(0, "tpl")
                lead = under.filter(pl.col("tpl") == leader).select("_rid", pl.lit(True).alias("_b"))
                # the headers these lines sit under all print one value ("epochs:30" as each of 8 runs starts,
                # allenhjw/DeepLearning run.log): a setting printed at each start, not an epoch; the lines are
                # numbered from 0 under each, so each start reads as a new run (judged by the restart handling)
                heads = blk.filter(pl.col("ep").is_not_null()).select("_blk", "ep")
                used = under.filter(pl.col("tpl") == leader).select("_blk").unique().join(heads, on="_blk")
                setting = used.height >= 2 and used.get_column("ep").n_unique() == 1
                df = (df.join(lead, on="_rid", how="left").sort("_rid").with_columns(pl.col("_b").fill_null(False)))
                count = pl.col("_b").cast(pl.Int64).cum_sum()
                if setting:
                    count = count.over(pl.col("ep").is_not_null().cum_sum())
                df = df.with_columns(pl.when(pl.col("_b")).then(count - 1).cast(pl.Float64).alias("_s")).drop("_b")
                notes.append(IngestNote(
                    "inferred", f"'{df.get_column('epoch_key').drop_nulls()[0]}' is the only counter, on lines of its "
                    f"own, and lines of one shape repeat under each (median {int(rep.item(0, 'med'))}): each such line "
                    "is read as one step, numbered in line order from 0"
                    + (f" under each (the headers above them all print {used.item(0, 'ep'):g}: a setting printed as "
                       "each run starts, not an epoch)" if setting else "")
                    + " (derived: not an optimizer step); other lines take the step of the line before them"))
                desc = "line order within the epochs"
            elif per_batch:
                # every line of the repeated shape is a step, also where an epoch printed it once (a first run of
                # the script logged one line an epoch, the next eight: Alexanderareo/peptide_selection nohup.out);
                # the numbering starts again where the epoch counter goes back to its start, so that a run appended
                # to the log shows as a restart to the run handling rather than as more steps of the one before it (a
                # resume from a checkpoint, back a little to epoch 100 of 101, carries on)
                tpls = batchy.get_column("tpl").unique().implode()
                first = dat.get_column("ep").min()
                back = ((pl.col("ep") <= first) & (pl.col("ep").forward_fill().shift() > first)).fill_null(False).cum_sum()
                df = df.sort("_rid").with_columns(
                    (pl.col("is_data") & pl.col("ep").is_not_null() & pl.col("tpl").is_in(tpls)).alias("_b"))
                df = df.with_columns(
                    pl.when(pl.col("_b")).then(pl.col("_b").cast(pl.Int64).cum_sum().over(back) - 1)
                    .cast(pl.Float64).alias("_s")
                ).drop("_b")
                med = int(batchy.group_by("tpl", "_r").len().get_column("len").median())  # type: ignore[arg-type]
                notes.append(IngestNote(
                    "inferred", f"'{df.get_column('epoch_key').drop_nulls()[0]}' is the only counter and lines of one "
                    f"shape repeat within an epoch (median {med} in a row): each such line is read as one step, "
                    "numbered in line order from 0 (derived: not an optimizer step); other lines of an epoch "
                    "take the step of the line before them"))
                desc = "line order within the epochs"
            elif bool(((eps - eps.round(0)).abs() == 0).all()):
                df = df.with_columns(pl.col("ep").alias("_s"))
                desc = f"'{df.get_column('epoch_key').drop_nulls()[0]}' (epochs only)"
            else:
                df = df.with_columns(pl.int_range(0, pl.len()).cast(pl.Float64).alias("_s"))
                notes.append(
                    IngestNote("inferred", "fractional epochs and no step counter: line order used as the step")
                )
                desc = "line order"
        else:
            # a shape is the keys a line holds ('[ 1/50]' and '[10/50]' make two templates of one shape)
            shape = {t: ",".join(ks or []) for t, ks in tpl_keys.items()}
            dat = df.filter(pl.col("is_data")).with_columns(
                pl.col("tpl").replace_strict(shape, default="", return_dtype=pl.String).alias("_shape"))
            lead = dat.item(0, "_shape") if dat.height else None
            blk = dat.with_columns((pl.col("_shape") == lead).cum_sum().alias("_blk"))
            per = blk.group_by("_shape").len()
            lossy = any(any(w in snake_case(k) for w in _LOSS_WORDS) for sh in per.get_column("_shape")
                        for k in sh.split(","))
            # several counter-less shapes printed once each per block, the same one first in every block
            # ('train accu: ..' / 'valid loss: ..' / 'valid accu: ..' an epoch): the block is the step, so that the
            # splits' points line up (in line order each shape would have steps of its own)
            if (per.height >= 2 and lossy and not _numbers_run(dat.get_column("tpl"))
                    and int(per.get_column("len").min()) >= _LINE_ORDER_MIN  # type: ignore[arg-type]
                    and int(per.get_column("len").max()) - int(per.get_column("len").min()) <= 1  # type: ignore[arg-type]
                    and int(blk.group_by("_blk", "_shape").len().get_column("len").max()) == 1):  # type: ignore[arg-type]
                df = df.join(blk.select("_rid", (pl.col("_blk") - 1).cast(pl.Float64).alias("_s")), on="_rid",
                             how="left").sort("_rid")
                notes.append(IngestNote(
                    "inferred", f"no step/epoch counter; {per.height} line shapes are printed once each per block, "
                    "in the same order: each block is read as one step, numbered from 0 (derived: not an optimizer "
                    "step)"))
                desc = "block order"
            else:
                df = df.with_columns(pl.int_range(0, pl.len()).cast(pl.Float64).alias("_s"))
                notes.append(IngestNote("inferred", "no step/epoch counter: line order used as the step"))
                desc = "line order"
        df = df.with_columns(pl.col("_s").forward_fill().round(0).cast(pl.Int64, strict=False).alias("step"))
        return df.select("_rid", "step", pl.col("epoch").cast(pl.Float64)), desc


PARSERS = [HeuristicTextParser()]
