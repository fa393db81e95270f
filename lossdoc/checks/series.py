"""The series of a run, and the one place that decides which series is "the loss" of a split.

:class:`Series` is one ``(split, metric)`` series as numpy arrays, sorted by step, values exactly as
logged (NaN/inf kept). :func:`series_from_blocks` splits a run's rows (one frame or a source's
blocks) into them without a polars group-by over string keys.

Which series is the loss of a split (:func:`resolve_loss`; the checks, the summary and every chart
call it, nothing else decides): ``<split>/loss`` when the log has it; otherwise the loss named for how often it
is logged (``loss_batch``, ``loss_step``: :data:`PER_BATCH_LOSS`); otherwise the sum of the
split's component losses at the steps they share (YOLO ``box_loss + cls_loss + dfl_loss``,
MMEngine ``loss_cls + loss_bbox ...``); otherwise the only loss-like series of the split
(``mse``, ``nll``...). The two sides of an adversarial game (a GAN's discriminator or critic loss and
its generator loss, :func:`adversarial_losses`) are never part of it: their sum is no loss anything
minimises, and either side may rise while training works. Reconstruction terms beside them (CycleGAN's
``cycle_A``, ``idt_A``, pix2pix ``G_L1``) are the loss; a split with none has no loss. :func:`epoch_mean_loss` is a split's per-epoch mean loss logged beside its
per-step loss (for trend decisions on short runs; the loss itself stays the per-step series).
:func:`held_out_loss` is the validation loss, or the test loss of a log that
only evaluates on a test split.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from lossdoc.analysis._arrays import search

#: Names that mark a series as loss-like when no ``loss`` series exists.
LOSS_LIKE = ("loss", "mse", "nll", "cross_entropy", "bce")

SeriesMap = Mapping[tuple[str, str], "Series"]


#: How a message names a split ("the validation set", "a test accuracy"; :attr:`Series.label`).
SPLIT_WORD = {"val": "validation", "test": "test", "train": "training"}
#: a name that already says its split: val_loss, eval/loss, test_acc, valid, dev_loss, train_loss
SPLIT_IN_NAME = re.compile(r"(?i)val|eval|test|train|dev")


@dataclass(frozen=True)
class Series:
    """One series of a run, sorted by step; ``values`` exactly as logged (NaN/inf kept)."""

    split: str
    metric: str
    name: str
    steps: np.ndarray  #: int64, or int32 when the source held its steps compactly (lossdoc.model.COMPACT_STEP)
    values: np.ndarray  #: float64

    @property
    def key(self) -> str:
        return f"{self.split}/{self.metric}"

    @property
    def label(self) -> str:
        """How a message names the series: its name as logged, with a held-out split's word in front when the name
        does not say the split ("validation loss" for a val series a text log wrote as ``loss`` after an
        ``Evaluation:`` header; ``val_loss`` and ``eval/loss`` as they are)."""
        if self.split not in ("val", "test") or SPLIT_IN_NAME.search(self.name):
            return self.name
        return f"{SPLIT_WORD[self.split]} {self.name}"

    def __len__(self) -> int:
        return int(self.steps.size)

    def finite(self) -> tuple[np.ndarray, np.ndarray]:
        ok = np.isfinite(self.values)
        if ok.all():
            return self.steps, self.values
        return self.steps[ok], self.values[ok]



def split_series(frame: pl.DataFrame) -> list[tuple[tuple[str, str], str, np.ndarray, np.ndarray]]:
    """[((split, metric), name, steps, values)] in order of first appearance."""
    step, value = frame.get_column("step"), frame.get_column("value")
    if frame.height > 1000:  # a parser's per-series block: literal key columns, one value each
        first = frame.row(0, named=True)
        last = frame.row(frame.height - 1, named=True)
        if all(first[k] == last[k] for k in ("split", "metric", "name")) and \
                frame.select([pl.col(k).n_unique() for k in ("split", "metric", "name")]).row(0) == (1, 1, 1):
            return [((str(first["split"]), str(first["metric"])), str(first["name"]),
                     _steps(step), _contiguous(value, np.float64))]
    rle = frame.select(pl.struct("split", "metric").rle_id().alias("r")).get_column("r").to_numpy()
    starts = np.concatenate(([0], np.flatnonzero(rle[1:] != rle[:-1]) + 1))
    # Each series in one stretch (the usual layout): slice. Series interleaved row by row (a text log
    # printing loss, time and tokens per line) make a run per row: they are grouped below instead
    # of first turning 10^6 run heads into Python tuples (0.9 s for 1.5*10^6 rows).
    heads = frame.select("split", "metric", "name")[starts.tolist()].rows() if starts.size <= 10_000 else []
    keys = [(str(a), str(b)) for a, b, _ in heads]
    if heads and len(set(keys)) == len(keys):
        ends = np.append(starts[1:], frame.height)
        return [(k, str(h[2]), _steps(step.slice(int(a), int(b - a))),
                 value.slice(int(a), int(b - a)).to_numpy().astype(np.float64, copy=False))
                for k, h, a, b in zip(keys, heads, starts, ends)]
    # polars gathers each (split, metric) group, in order of first appearance, rows in log order
    # (0.6 s for 1.5*10^7 interleaved rows; a numpy stable argsort of key codes took 1.5-2.6 s)
    parts = frame.select("split", "metric", "name", "step", "value").partition_by(["split", "metric"],
                                                                                   maintain_order=True)
    return [((str(g.item(0, "split")), str(g.item(0, "metric"))), str(g.item(0, "name")),
             _steps(g.get_column("step")),
             g.get_column("value").to_numpy().astype(np.float64, copy=False)) for g in parts]


def _contiguous(s: pl.Series, dtype: Any) -> np.ndarray:
    """``s`` as a numpy array: zero-copy when it is one chunk without nulls."""
    return s.to_numpy().astype(dtype, copy=False)


def _steps(s: pl.Series) -> np.ndarray:
    """A step column as int64, or as int32 when the source held it so (:data:`lossdoc.model.COMPACT_STEP`,
    every step from 0 to 2**31 - 1): zero-copy when it is one chunk, never widened to a copy twice its size."""
    arr = s.to_numpy()
    return arr if arr.dtype == np.int32 else arr.astype(np.int64, copy=False)


def sum_on_shared_steps(parts: list[Series]) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, sum) of several series at the steps they all log (each one's first value at a step),
    or None when they share no step: the loss of a split logged as components (YOLO box + cls + dfl)."""
    steps = parts[0].steps
    for c in parts[1:]:
        steps = np.intersect1d(steps, c.steps)
    if not steps.size:
        return None
    total = np.zeros(steps.size)
    for c in parts:
        _, idx = np.unique(c.steps, return_index=True)
        pos = search(c.steps[idx], steps)
        total = total + np.asarray(c.values, dtype=float)[idx][pos]
    return steps, total


def series_from_blocks(blocks: Iterable[pl.DataFrame]) -> dict[tuple[str, str], Series]:
    """The run's series by (split, metric), in order of first appearance, each sorted by step.

    NOTE: a polars group_by/partition_by on the string keys costs seconds at 10^7 rows. Parsers
    emit each series as one contiguous block, so run-length ids plus zero-copy slices do;
    interleaved rows fall back to a polars partition (see :func:`split_series`)."""
    parts: dict[tuple[str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for b in blocks:
        if not b.height:
            continue
        for key, name, st, v in split_series(b):
            parts.setdefault(key, []).append((name, st, v))
    out: dict[tuple[str, str], Series] = {}
    for (split, metric), got in parts.items():
        name = got[0][0]
        if len(got) == 1:
            st, v = got[0][1], got[0][2]
        else:  # one series spread over several blocks
            st = np.concatenate([g[1] for g in got])
            v = np.concatenate([g[2] for g in got])
        if st.size > 1 and np.any(st[1:] < st[:-1]):
            o = np.argsort(st, kind="stable")
            st, v = st[o], v[o]
        out[(split, metric)] = Series(split, metric, name, st, v)
    return out


def _sentinel(v: np.ndarray) -> float | None:
    """The one round negative value a loss series holds at two or more points while every other finite
    point is above 0 (``-1000`` written for each step whose loss could not be computed, ``-1`` for an
    evaluation that did not run): a sentinel a script logs *instead of* a loss, not one the model reached.
    None when there is none: a loss that crosses 0 by itself (a log-likelihood term) takes many different
    negative values, and a lone negative point is no pattern."""
    neg = v < 0
    if not neg.any():
        return None
    c = v[neg]
    first = float(c[0])
    if c.size < 2 or not np.all(c == first) or first != round(first):
        return None
    pos = np.isfinite(v) & ~neg
    if not pos.any() or np.any(v[pos] <= 0):
        return None
    return first


def drop_unevaluated(series: dict[tuple[str, str], Series]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Leave out, in place, the leading zeros of a loss that is above 0 at every later point; returns
    ``{(split, metric): (count, first_step, last_step)}`` of what was left out.

    A loss of exactly 0 followed by losses above 0 and never by 0 again is no loss the model reached (it
    cannot start perfect and unlearn): Ultralytics writes 0 for every validation term of the epochs before
    the one that validated (``val=False`` until the end), and a hand-rolled script writes the 0 it initialised
    a list with. Kept, it becomes "best val loss 0 at step 1" and a validation "100% below training". A loss
    that reaches 0 *after* positive values (a rounded ``0.00`` at the end of a converging fit) is as logged;
    a term that is 0 at every point is :func:`zero_losses`' case."""
    out: dict[tuple[str, str], tuple[int, int, int]] = {}
    for key, s in list(series.items()):
        if not len(s) or not any(t in key[1] for t in LOSS_LIKE):
            continue
        v = s.values
        fin = np.isfinite(v)
        if not fin.any() or v[np.argmax(fin)] != 0.0:
            continue
        nz = np.flatnonzero(fin & (v != 0.0))
        if not nz.size:
            continue
        k = int(nz[0])
        later = v[k:][fin[k:]]
        if np.all(later > 0):
            out[key] = (int(np.count_nonzero(fin[:k])), int(s.steps[0]), int(s.steps[k - 1]))
            series[key] = Series(s.split, s.metric, s.name, s.steps[k:], v[k:])
    return out


def mask_placeholders(series: dict[tuple[str, str], Series],
                      sentinels: dict[tuple[str, str], tuple[float, np.ndarray]] | None = None,
                      ) -> dict[tuple[str, str], int]:
    """Replace values a trainer logs *instead of* NaN by NaN, in place; returns what was masked.

    Hugging Face Trainer (``logging_nan_inf_filter=True``, the default) leaves NaN/inf losses out of its
    running sum, so a logging window whose every step was NaN logs ``loss 0.0`` with ``grad_norm nan``.
    Such a 0.0 is not a loss: left in, it becomes "the best loss", drags trends and gaps down and
    hides the NaN onset from the divergence and LR checks. Masked: a loss of exactly 0.0 logged at a
    step whose grad norm is NaN/inf; and a loss of exactly 0.0 after the first non-finite grad norm or
    loss of the run when no other logged loss was near zero (below 1e-3 of the median).
    A script's sentinel (:func:`_sentinel`: one round negative value, twice or more, in a loss above 0
    everywhere else) is masked too, and its value and the points it stood at recorded in ``sentinels``.
    Values stay exactly as logged everywhere else (reports, charts: the raw table is untouched)."""
    gn = series.get(("train", "grad_norm"))
    out: dict[tuple[str, str], int] = {}
    for key, s in list(series.items()):
        if key[1] not in ("loss",) or not len(s):
            continue
        v = s.values
        mark = _sentinel(v)
        if mark is not None:
            hit = v == mark
            v = v.astype(np.float64, copy=True)
            v[hit] = np.nan
            s = series[key] = Series(s.split, s.metric, s.name, s.steps, v)
            out[key] = int(hit.sum())
            if sentinels is not None:
                sentinels[key] = (mark, hit)
            continue
        zero = v == 0.0
        if not zero.any():
            continue
        mask = np.zeros(v.size, dtype=bool)
        onset = None
        if gn is not None and len(gn):
            bad_gn = ~np.isfinite(gn.values)
            if bad_gn.any():
                pos = search(gn.steps, s.steps)
                pos_ok = pos < gn.steps.size
                same = np.zeros(v.size, dtype=bool)
                same[pos_ok] = gn.steps[pos[pos_ok]] == s.steps[pos_ok]
                at = np.zeros(v.size, dtype=bool)
                at[same] = bad_gn[pos[same]]
                mask |= zero & at
                onset = int(gn.steps[np.flatnonzero(bad_gn)[0]])
        nonfin = ~np.isfinite(v)
        if nonfin.any():
            first = int(s.steps[np.flatnonzero(nonfin)[0]])
            onset = first if onset is None else min(onset, first)
        if onset is not None:
            pos_vals = v[np.isfinite(v) & (v != 0.0)]
            if pos_vals.size and np.all(np.abs(pos_vals) > 1e-3 * float(np.median(np.abs(pos_vals)))):
                mask |= zero & (s.steps >= onset)
        k = int(mask.sum())
        if k:
            nv = v.astype(np.float64, copy=True)
            nv[mask] = np.nan
            series[key] = Series(s.split, s.metric, s.name, s.steps, nv)
            out[key] = k
    return out


#: Name tokens of the sides of an adversarial game (split at ``_``, punctuation and camelCase:
#: ``train_disc_loss``, ``Loss_D``, ``errD``, ``lossG``, ``g_loss``, CycleGAN ``D_A``/``G_A``, pix2pix
#: ``G_GAN``/``D_real``). Whole tokens only: "general_loss" or "gender_loss" hold no ``gen`` token.
_DISC = frozenset({"d", "disc", "dis", "discr", "discriminator", "netd"})
_CRITIC = frozenset({"critic"})  # WGAN; alone it is also RL's actor-critic, so it pairs only with a generator
_GEN = frozenset({"g", "gen", "generator", "netg"})
_ADV = frozenset({"adv", "adversarial", "gan"})
#: A generator-side term that is a reconstruction or regularisation loss is an ordinary loss (pix2pix
#: ``G_L1``, a VAE-GAN's ``g_kl``, HiFi-GAN's ``loss_mel``): it is minimised, not played against the
#: discriminator.
_RECON = frozenset({"l1", "l2", "mse", "mae", "rec", "recon", "reconstruction", "cycle", "cyc", "idt", "identity",
                    "perceptual", "vgg", "content", "pixel", "feat", "fm", "kl", "ssim", "lpips", "style", "tv",
                    "mel", "stft"})  # a vocoder GAN's (HiFi-GAN) mel-spectrogram and STFT losses
_LOSSY = frozenset({"loss", "losses", "err", "error"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _name_tokens(*names: str) -> set[str]:
    out: set[str] = set()
    for n in names:
        out.update(x for x in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", n).lower()) if x)
    return out


def side_key(metric: str, name: str = "") -> str:
    """What is left of a GAN side's name without its role and loss words, in order (CycleGAN's ``D_A`` and ``G_A``
    both give ``a``): the sides of one game share it."""
    drop = _DISC | _CRITIC | _GEN | _LOSSY | {"train", "val", "test"}
    words = [x for n in (name or metric,) for x in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", n).lower()) if x]
    return "".join(w for w in words if w not in drop)


def adversarial_role(metric: str, name: str = "") -> str | None:
    """``"disc"``, ``"critic"``, ``"gen"`` or ``"adv"`` (an adversarial term of the generator) when the loss
    series ``metric`` (logged as ``name``) names one side of an adversarial game; None otherwise (also for
    a name that mentions both sides, or a reconstruction term)."""
    toks = _name_tokens(metric, name)
    if not toks & _LOSSY or toks & _RECON:
        return None
    d, c, g = toks & _DISC, toks & _CRITIC, toks & _GEN
    if (d or c) and g:
        return None
    if d:
        return "disc"
    if c:
        return "critic"
    if g:
        return "gen"
    return "adv" if toks & _ADV else None


def is_reconstruction(metric: str, name: str = "") -> bool:
    """True when the series names a reconstruction or regression term (L1, cycle, identity, content...)."""
    return bool(_name_tokens(metric, name) & _RECON)


def adversarial_losses(series: SeriesMap, split: str) -> list[Series]:
    """The split's adversarial losses (a GAN's discriminator/critic and generator sides), in log order,
    when the split names both sides of the game: a discriminator loss with a generator or adversarial
    loss, or a critic loss with a generator loss. One side alone (a ``d_loss`` of a distillation
    run, an actor-critic's ``critic_loss``) is not a game: []."""
    roles = [(r, s) for (sp, m), s in series.items() if sp == split
             for r in (adversarial_role(m, s.name),) if r is not None]
    kinds = {r for r, _ in roles}
    paired = ("disc" in kinds and bool(kinds & {"gen", "adv"})) or ("critic" in kinds and "gen" in kinds)
    return [s for _, s in roles] if paired else []


def resolve_loss(series: SeriesMap, split: str) -> Series | None:
    """The loss of ``split`` (module docstring: direct, summed components, or the only loss-like series;
    never an adversarial loss)."""
    direct = series.get((split, "loss"))
    if direct is not None:
        return direct
    for name in PER_BATCH_LOSS:
        # the loss named for how often it is logged ("train_loss_batch" logged on_step and on_epoch, with
        # "val_loss_batch" beside it: Lightning's loss_batch_step / loss_batch_epoch): the loss, not a component
        # to add to the split's other loss terms (bce_loss + loss_batch is no loss anything minimised)
        per = series.get((split, name))
        if per is not None:
            return per
    series = _loss_pool(series, split)
    comps = summed_components(series, split)
    if len(comps) >= 2:
        summed = sum_on_shared_steps(comps)
        if summed is not None:
            name = " + ".join(c.name for c in comps)
            return Series(split, "loss", name, *summed)
    if len(comps) == 1:
        return comps[0]
    like = [s for (sp, m), s in series.items() if sp == split and any(t in m for t in LOSS_LIKE)]
    return like[0] if len(like) == 1 else None


#: Metric names of the loss logged under a name that says it is the per-batch (per-step) value: the split's loss
#: when it has no ``loss`` series (:func:`resolve_loss`).
PER_BATCH_LOSS = ("loss_batch", "loss_step", "loss_iter")


def _loss_pool(series: SeriesMap, split: str) -> SeriesMap:
    """The series :func:`resolve_loss` builds ``split``'s loss from: beside a GAN's game only a reconstruction term
    is a loss to minimise (CycleGAN cycle_A, pix2pix G_L1, SRGAN content_loss); the two sides of the game, penalties
    and scores (StyleGAN's r1_penalty, scores/fake) are left out."""
    adv = {(s.split, s.metric) for s in adversarial_losses(series, split)}
    if not adv:
        return series
    return {k: s for k, s in series.items() if k[0] != split or (k not in adv and is_reconstruction(k[1], s.name))}


def is_component_sum(series: SeriesMap, s: Series) -> bool:
    """Whether ``s`` is the sum :func:`resolve_loss` built from the split's component losses (YOLO's box +
    cls + dfl, a detector's several heads, a CycleGAN's cycle and identity terms), not a loss the trainer
    logged."""
    if (s.split, "loss") in series:
        return False
    comps = summed_components(_loss_pool(series, s.split), s.split)
    return len(comps) >= 2 and s.name == " + ".join(c.name for c in comps)


def loss_components(series: SeriesMap, split: str) -> list[Series]:
    """The split's component losses (``*_loss``, then ``loss_*``), in the order their sum names them."""
    comps = [s for (sp, m), s in series.items() if sp == split and m.endswith("_loss")]
    comps += [s for (sp, m), s in series.items() if sp == split and m.startswith("loss_") and s not in comps]
    return comps


def summed_components(series: SeriesMap, split: str) -> list[Series]:
    """The component losses :func:`resolve_loss` adds into the split's loss: :func:`loss_components` less the
    ones logged as exactly 0 at every point. Such a term was not computed (Ultralytics writes 0 for a validation
    that found no labelled object, or did not run): it adds nothing to the sum, and a split whose every
    component is one has no loss to judge (:func:`zero_losses`; LG006 names them)."""
    comps = loss_components(series, split)
    zero = zero_losses(comps)
    return [c for c in comps if c not in zero]


def zero_losses(comps: list[Series]) -> list[Series]:
    """The component losses of ``comps`` logged as exactly 0 at every finite point (at least 2 of them)."""
    out = []
    for c in comps:
        v = c.values[np.isfinite(c.values)]
        if v.size >= 2 and not np.any(v):
            out.append(c)
    return out


#: Metric names of a loss logged once an epoch as the mean over its batches (Lightning
#: ``train_loss_epoch`` beside ``train_loss_step``; "epoch_loss", "avg_loss" of hand-rolled loops).
EPOCH_MEAN = ("loss_epoch", "epoch_loss", "avg_loss", "epoch_avg_loss", "mean_loss")


def epoch_mean_loss(series: SeriesMap, split: str, min_points: int) -> Series | None:
    """The split's per-epoch mean loss when the log has one beside a per-step loss.

    A mean over an epoch's batches estimates the same curve as the per-step loss with its batch noise
    averaged out, so a trend decision on a short run is better taken on it. It is returned only when it
    has ``min_points`` finite points and is the coarser series (at most half as many points as the
    split's loss), so a running average logged at every step is not taken for it."""
    loss = resolve_loss(series, split)
    if loss is None:
        return None
    n_loss = int(np.isfinite(loss.values).sum())
    for m in EPOCH_MEAN:
        s = series.get((split, m))
        if s is None or s is loss:
            continue
        n = int(np.isfinite(s.values).sum())
        if n >= min_points and 2 * n <= n_loss:
            return s
    return None


def placeholder_mask(series: SeriesMap, s: Series) -> np.ndarray:
    """Points of the training loss ``s`` logged beside a non-finite gradient norm at the same step.

    Such a value is not a loss the model reached: the Hugging Face Trainer's default
    ``logging_nan_inf_filter`` drops NaN/inf step losses from the logged average, so a run whose
    loss went NaN logs one partial average and then ``0.0`` while ``grad_norm`` is NaN. These
    points are never a "best" loss, and a final value among them is reported as non-finite."""
    out = np.zeros(len(s), dtype=bool)
    gn = series.get((s.split, "grad_norm"))
    if gn is None or not len(gn) or s.split != "train":
        return out
    bad = gn.steps[~np.isfinite(gn.values)]
    if bad.size:
        out = np.isin(s.steps, bad)
    return out


def held_out_loss(series: SeriesMap) -> Series | None:
    """The validation loss, or the test loss when the log evaluates on a test split only."""
    return resolve_loss(series, "val") or resolve_loss(series, "test")


def final_level_words(values: np.ndarray) -> str:
    """What :func:`final_level` of ``values`` is, in words, for a message that prints it."""
    n = int(np.count_nonzero(np.isfinite(values)))
    if n < 3:
        return "its last logged value"
    return f"the mean of its last {int(min(max(3, math.ceil(0.05 * n)), 1000))} values"


def final_tail(values: np.ndarray) -> np.ndarray:
    """The finite values :func:`final_level` averages: the last 5% of them (at least 3, at most 1,000), or the last
    one when fewer than 3 are logged (empty when none is), from a tail window grown until it holds them (no
    full-length copy of a 10^7-point series)."""
    fin = np.isfinite(values)
    n = int(np.count_nonzero(fin))
    if n < 3:
        return values[fin][-1:]
    k = int(min(max(3, math.ceil(0.05 * n)), 1000))
    size = k
    while int(np.count_nonzero(fin[-size:])) < k:
        size = min(values.size, size * 4)
    return values[-size:][fin[-size:]][-k:]


def final_level(values: np.ndarray) -> float | None:
    """Final loss level: the mean of the last 5% of finite points (at least 3, at most 1,000), so one
    noisy last point does not decide it; the last point itself when fewer than 3 are logged."""
    tail = final_tail(values)
    if not tail.size:
        return None
    if tail.size == 1:
        return float(tail[0])
    big = float(np.max(np.abs(tail)))
    return float(np.mean(tail / big) * big) if big > 1e300 else float(np.mean(tail))  # no overflow at 1e308
