"""Which of a table's columns is the loss, when the header names several losses and none plainly.

Not a format (the leading underscore keeps :mod:`lossdoc._builtin` from looking for ``PARSERS`` here).
Shared by the column-oriented readers: they map every column to a (split, metric) first, then ask
:func:`main_loss` whether one of several loss-named columns is the split's loss.
"""

from __future__ import annotations

import re

import polars as pl

from lossdoc.ingest.formats._tabular import bare_split
from lossdoc.ingest.text import to_float
from lossdoc.model import IngestNote

#: Words that say a loss column is the loss itself, averaged or summed (``avg_actual_loss``, ``mean_total_loss``),
#: not one part of it (``reg_loss``, ``kl_loss``) or one subset's (``loss_group_0``, ``avg_per_sample_loss``).
AGGREGATE_WORDS = frozenset({"avg", "average", "mean", "actual", "total", "overall", "full", "combined", "sum",
                             "final", "objective"})


#: Metric names that are the whole loss when no column is named as a loss: ``train_total`` beside ``train_l1`` and
#: ``train_perc``; and Lightning's documented idiom for an epoch-level loss once ``validation_epoch_end`` was
#: removed (2.0): ``self.validation_step_outputs.append(loss)`` in ``validation_step``, then
#: ``self.log("validation_epoch_average", torch.stack(self.validation_step_outputs).mean())`` in
#: ``on_validation_epoch_end`` (``training_epoch_mean`` in ``on_train_epoch_end``): the 2.0 migration example
#: (Lightning-AI/pytorch-lightning PR 16520, quoted in discussion 17182) that user code copies.
TOTAL_NAMES = frozenset({"total", "tot", "total_sum", "epoch_average", "epoch_mean"})


def _listed(columns: list[str]) -> str:
    """The first four column names, quoted, for a note."""
    return ", ".join(repr(c) for c in columns[:4]) + (" ..." if len(columns) > 4 else "")


def _loss_named(metric: str) -> bool:
    return metric.endswith("_loss") or metric.startswith("loss_")


def main_loss(mapping: dict[str, tuple[str, str]], notes: list[IngestNote]) -> dict[str, tuple[str, str]]:
    """``mapping`` (column -> (split, metric)) with the split's loss named, where the header left it to be guessed.

    For each split without a plain ``loss``: when no column is named as a loss and exactly one has a name of
    :data:`TOTAL_NAMES` (``train_total`` beside ``train_l1``, ``train_perc``; ``validation_epoch_average``), that
    column is the split's ``loss``. When two or more of its columns are named as losses and exactly one of them
    qualifies "loss" only with words of :data:`AGGREGATE_WORDS` (``avg_actual_loss`` beside
    ``avg_per_sample_loss``, ``reg_loss`` and ``avg_loss_group:0``), that column is the split's ``loss``.
    Otherwise the loss-named columns would be taken for the parts of one loss and summed (a regulariser
    term added to the objective it regularises). Noted; the other columns stay series of their own."""
    out = dict(mapping)
    for split in dict.fromkeys(sp for sp, _ in mapping.values()):
        cols = {c: m for c, (sp, m) in mapping.items() if sp == split}
        if "loss" in cols.values():
            continue
        named = [c for c, m in cols.items() if _loss_named(m)]
        totals = [c for c, m in cols.items() if m in TOTAL_NAMES]
        counts = any(w in m for m in cols.values() for w in ("correct", "count", "num", "sample", "acc"))
        if not named and len(totals) == 1 and not counts:  # ("correct, total, acc": a sample count)
            # "train_l1, train_perc, train_total": no column named as a loss; the one called 'total' is the loss
            # summed over its parts (the text reader's "total=2.19 det=1.93 kd=0.52" rule, for tables)
            c = totals[0]
            how = "averaged over the epoch" if cols[c].startswith("epoch_") else "in total"
            out[c] = (split, "loss")
            others = [o for o in cols if o != c]
            notes.append(IngestNote(
                "inferred", f"no column is named as the {split} loss: {c!r} (the loss {how}, by its name) is read "
                f"as the {split} loss" + (f"; beside it: {_listed(others)}" if others else "")))
            continue
        if len(named) < 2:
            continue
        whole = [c for c in named if set(cols[c].split("_")) - {"loss"} <= AGGREGATE_WORDS]
        if len(whole) != 1:
            continue
        c = whole[0]
        out[c] = (split, "loss")
        others = [o for o in named if o != c]
        notes.append(IngestNote(
            "inferred", f"no column is named plainly as the {split} loss: {c!r} (the loss averaged or in total, by "
            f"its name) is read as the {split} loss; the other loss-named column(s) ({_listed(others)}) stay series "
            "of their own, not added into it as its parts"))
    return out


def meter_columns(mapping: dict[str, tuple[str, str]], notes: list[IngestNote]) -> dict[str, tuple[str, str]]:
    """``mapping`` with each ``<x>_val`` column that has an ``<x>_avg`` beside it read as the current training
    value, not validation: PyTorch's ``AverageMeter`` (``examples/imagenet/main.py``: ``.val`` the last batch's
    value, ``.avg`` its running mean) logged field by field, ``loss_val,loss_avg,loss_loc_val,loss_loc_avg``
    (S3FD-style ``train_loss.csv``). ``<x>_val`` becomes the train series ``<x>``, ``<x>_avg`` the train series
    ``<x>_avg``. Noted."""
    low = {c.strip().lower(): c for c in mapping}
    pairs = [(c, low[c.strip().lower()[: -len("_val")] + "_avg"]) for c in mapping
             if c.strip().lower().endswith("_val") and c.strip().lower()[: -len("_val")] + "_avg" in low]
    if not pairs:
        return mapping
    out = dict(mapping)
    for cur, avg in pairs:
        metric = mapping[cur][1]
        out[cur] = ("train", metric)
        out[avg] = ("train", f"{metric}_avg")
    shown = ", ".join(f"{cur!r}/{avg!r}" for cur, avg in pairs[:3]) + (" ..." if len(pairs) > 3 else "")
    notes.append(IngestNote(
        "inferred", f"{shown}: an '_avg' column beside each '_val' one (an AverageMeter's current value and running "
        "mean): '_val' read as the training value, not validation; '_avg' as its running mean"))
    return out


def unlogged_splits(df: pl.DataFrame, mapping: dict[str, tuple[str, str]],
                    notes: list[IngestNote]) -> dict[str, tuple[str, str]]:
    """``mapping`` without the columns of a split other than train whose every column holds only zeros: the
    split was not computed and its columns were written as 0.0 placeholders (``val_metrics/loss``,
    ``val_metrics/learning_rate`` and ``val_metrics/step_per_sec`` all 0.0 on every row). A loss, a learning rate
    and a throughput that are all exactly 0 are no measurement; read, they would be a validation loss that
    never moves. Needs 2+ rows. Noted."""
    out = dict(mapping)
    for split in dict.fromkeys(sp for sp, _ in mapping.values()):
        if split == "train":
            continue
        cols = [c for c, (sp, _) in mapping.items() if sp == split]
        # a non-zero value among the first rows settles it without parsing every row (2 s of a 10^7-row CSV)
        head = df.head(1000).select([to_float(pl.col(c).cast(pl.String)).alias(c) for c in cols])
        if any(bool((head.get_column(c).drop_nulls() != 0).any()) for c in cols):
            continue
        vals = df.select([to_float(pl.col(c).cast(pl.String)).alias(c) for c in cols])
        if any(vals.get_column(c).drop_nulls().len() < 2 or bool((vals.get_column(c).drop_nulls() != 0).any())
               for c in cols):
            continue
        for c in cols:
            del out[c]
        shown = ", ".join(repr(c) for c in cols[:4]) + (f" and {len(cols) - 4} more" if len(cols) > 4 else "")
        notes.append(IngestNote(
            "skipped_lines", f"every {split} column ({shown}) is 0 on every row: {split} was not computed (0.0 "
            "placeholders), not read", count=len(cols)))
    return out


_TAGGED = re.compile(r"^(?P<base>.*?\S)\s*[(\[](?P<tag>[^()\[\]]*\d[^()\[\]]*)[)\]]\s*$")


def tagged_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """Columns that name one metric for several settings, each in brackets: ``Loss (1D)`` .. ``Loss (6D)``,
    ``loss [lr=0.1]``, ``acc (seed 2)`` -> ``{column: (base name, setting)}``.

    Two or more columns must share the base name, with different settings that each hold a digit (a bracketed
    word, ``Loss (KL)`` beside ``Loss (recon)``, names a part of the loss, not a setting). Such columns are
    one curve per setting (separate models trained side by side), not parts of one loss to add up."""
    found: dict[str, tuple[str, str]] = {}
    for c in columns:
        m = _TAGGED.match(c.strip())
        if m and bare_split(m.group("tag")) is None:
            found[c] = (m.group("base").strip(), m.group("tag").strip())
    by_base: dict[str, set[str]] = {}
    for base, tag in found.values():
        by_base.setdefault(base.lower(), set()).add(tag)
    return {c: bt for c, bt in found.items() if len(by_base[bt[0].lower()]) >= 2}


#: Name words of a column that counts things (tokens, samples, batches seen), not a training metric.
COUNT_WORDS = frozenset({"count", "counts", "tokens", "token", "samples", "examples", "seen", "num"})
#: Name words of a rate (``tokens_per_sec``): a throughput, left as it is read.
_RATE_WORDS = frozenset({"per", "s", "sec", "second", "rate", "ratio", "frac", "fraction", "pct", "percent"})


def counter_columns(df: pl.DataFrame, mapping: dict[str, tuple[str, str]],
                    notes: list[IngestNote]) -> dict[str, tuple[str, str]]:
    """``mapping`` with the training columns that count things moved to split ``other``: named as a count
    (:data:`COUNT_WORDS`: ``tokens``, ``processed_data_count``, ``num_samples``; not a rate) and holding only
    whole numbers >= 0. A count of tokens or samples seen is not a training metric: read as one, a cumulative
    counter is a "loss" that never stops rising. Noted."""
    cand = [c for c, (sp, m) in mapping.items()
            if sp == "train" and set(m.split("_")) & COUNT_WORDS and not set(m.split("_")) & _RATE_WORDS
            and "loss" not in m]
    if not cand:
        return mapping
    vals = df.select([to_float(pl.col(c).cast(pl.String)).alias(c) for c in cand])
    moved = []
    for c in cand:
        v = vals.get_column(c).drop_nulls()
        if v.len() and bool(((v >= 0) & (v == v.floor())).all()):
            moved.append(c)
    if not moved:
        return mapping
    out = dict(mapping)
    for c in moved:
        out[c] = ("other", mapping[c][1])
    shown = ", ".join(repr(c) for c in moved[:4]) + (f" and {len(moved) - 4} more" if len(moved) > 4 else "")
    notes.append(IngestNote(
        "inferred", f"{shown} count things (named as counts, whole numbers only): read under split 'other', "
        "not as training metrics"))
    return out
