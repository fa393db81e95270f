"""Hugging Face ``transformers`` Trainer ``trainer_state.json`` (also TRL and Axolotl, which use it).

Checked against ``TrainerState.save_to_json`` (``json.dumps(asdict(state), indent=2, sort_keys=True)``)
in transformers v4.x up to main (docs/formats-reference.md §1a), and three real files in the real logs (``tests/ingest/test_real_logs.py``).
Sample (abridged; the real file has one key per line)::

    {"global_step": 250, "log_history": [
      {"epoch": 0.04, "grad_norm": 3.81, "learning_rate": 4.9e-05, "loss": 2.7314, "step": 10},
      {"epoch": 1.0, "eval_loss": 2.0517, "eval_runtime": 12.35, "step": 250}], "max_steps": 250}

``log_history`` holds three kinds of entries: training logs (``loss``, ``grad_norm``,
``learning_rate`` -> train loss/grad_norm/lr), evaluations (``eval_*`` -> val, ``eval_<dataset>_*``
keep the dataset in the metric name; ``test_*`` -> test) and one end-of-training summary
(``train_loss`` is the mean over the whole run: metric ``average_loss``; ``train_runtime`` etc.
are their own metrics). Python's ``json`` writes ``NaN``/``Infinity`` tokens, which orjson
rejects, so the standard library reads those files. A file cut short while being written
yields the complete entries before the cut and a ``torn_tail`` note. A big file (8 MB and more) as
the Trainer writes it is read in pieces into columns (``_hf_columns``: no Python object per entry,
the same result); anything else goes through ``json`` as described here.

A directory (an HF ``output_dir``) is read through its top-level ``trainer_state.json``
(written by ``save_state()`` at the end) or else its latest ``checkpoint-N/trainer_state.json``.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import polars as pl

from lossdoc.errors import EmptyInputError, InputError, ParseError
from lossdoc.ingest.formats import _hf_columns
from lossdoc.ingest.formats._tabular import SeriesNamer
from lossdoc.ingest.inputs import STREAMED_MEMORY_FACTOR, InputFile, open_file
from lossdoc.ingest.policy import read_as_policy_loss
from lossdoc.ingest.remote import join_display
from lossdoc.ingest.registry import Parser
from lossdoc.model import IngestNote, ParseResult, concat_frames, conform, conform_blocks

try:  # orjson is much faster, but rejects NaN / Infinity tokens: json is the fallback.
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is installed in every supported setup
    _orjson = None  # type: ignore[assignment]

STATE_NAME = "trainer_state.json"
#: Keys of a log_history entry that are axes or counters, not metrics (``num_tokens``: TRL's count of the
#: tokens seen so far, its trainers' name for ``num_input_tokens_seen``).
AXIS_KEYS = frozenset({"step", "epoch", "num_input_tokens_seen", "num_tokens"})
#: Top-level keys copied into ``ParseResult.meta`` (``max_steps`` becomes ``total_steps``).
META_KEYS = (
    "logging_steps",
    "eval_steps",
    "save_steps",
    "num_train_epochs",
    "train_batch_size",
    "best_metric",
    "best_global_step",
    "best_model_checkpoint",
    "global_step",
)
#: Top-level keys that are the run's settings (``run.config``; ``train_batch_size`` is per device x GPUs).
CONFIG_KEYS = ("train_batch_size", "max_steps", "num_train_epochs", "logging_steps", "eval_steps", "save_steps")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
#: output_dir names that say little on their own (``tmp_trainer`` is the Trainer's default).
_GENERIC_OUTPUT_DIRS = frozenset({"output", "outputs", "out", "results", "checkpoints", "tmp_trainer", "trainer_output"})
_LOG_HISTORY = re.compile(r'"log_history"\s*:\s*\[')
_TOP_SCALAR = re.compile(r'^ {2}"(\w+)": ([^\n{\[]*?),?\r?$', re.M)


def loads(text: str) -> Any:
    """Parse JSON text, accepting Python's ``NaN``/``Infinity`` tokens (orjson first, json if needed)."""
    if _orjson is not None:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(text)


def entry_kind(entry: dict[str, Any]) -> str:
    """``train``, ``val``, ``test`` or ``summary`` for one log_history entry."""
    keys = entry.keys()
    if any(k.startswith("eval_") for k in keys):
        return "val"
    if any(k.startswith("test_") for k in keys):
        return "test"
    if "train_runtime" in keys or ("train_loss" in keys and "loss" not in keys):
        return "summary"
    return "train"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def entries_to_frame(
    entries: list[Any], run: str, *, path: str
) -> tuple[pl.DataFrame, list[IngestNote]]:
    """Turn ``log_history`` dicts (each with ``step`` and ``epoch``) into the long table, plus notes.

    Entries are grouped by their set of keys (a run has a handful: training, evaluation, summary),
    so the work per entry is a few C-level operations and each key becomes one column at once.
    """
    notes: list[IngestNote] = []
    if not all(type(e) is dict for e in entries):
        # One stray entry (a string, a number, a list) costs only itself, never the whole file.
        stray = [i for i, e in enumerate(entries) if type(e) is not dict]
        notes.append(IngestNote(
            "skipped_lines", f"{len(stray)} log_history entr{'y' if len(stray) == 1 else 'ies'} not a JSON object "
            f"skipped (first: entry {stray[0]}, a {type(entries[stray[0]]).__name__})", count=len(stray)))
        entries = [e for e in entries if type(e) is dict]
    n = len(entries)
    if n == 0:
        return concat_frames([]), notes
    raw_steps = [e.get("step") for e in entries]
    raw_epochs = [e.get("epoch") for e in entries]
    steps = _numbers(raw_steps).cast(pl.Int64, strict=False)
    missing_step = steps.null_count()
    if missing_step:
        notes.append(_missing_step_note(missing_step))
        steps = steps.forward_fill().fill_null(0)
    epochs = _numbers(raw_epochs)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, sig in enumerate(map(tuple, entries)):
        groups.setdefault(sig, []).append(i)
    namer = SeriesNamer()
    frames: list[pl.DataFrame] = []
    hidden: list[int] = []
    dropped: dict[str, int] = {}  # key -> values that are not numbers (strings, booleans, objects)
    # Name series in order of first appearance in the file, whatever the group order.
    for sig, idx in sorted(groups.items(), key=lambda kv: kv[1][0]):
        kind = entry_kind(dict.fromkeys(sig))
        default_split = "train" if kind in ("train", "summary") else kind
        idx_s = pl.Series("_i", idx, dtype=pl.Int64)
        cols: dict[str, pl.Series] = {}
        for k in sig:
            if k in AXIS_KEYS:
                continue
            raw = [entries[i][k] for i in idx]
            vals = _numbers(raw)
            if vals.null_count():
                lost = vals.null_count() - raw.count(None)
                if lost:
                    dropped[k] = dropped.get(k, 0) + lost
            if vals.null_count() == len(vals):
                continue
            if k not in namer.assigned:
                if kind == "summary" and k == "train_loss":
                    namer.assign(k, "train", "average_loss")
                else:
                    namer.auto(k, default_split)
            cols[k] = vals
            frames.append(
                pl.DataFrame({"_i": idx_s, "name": pl.Series([k] * len(idx), dtype=pl.String), "value": vals})
            )
        if kind == "train" and "grad_norm" in cols and "loss" in cols:
            g, loss = cols["grad_norm"], cols["loss"]
            mask = (~g.is_finite() & loss.is_finite()).fill_null(False)
            hidden.extend(steps.gather(idx_s.filter(mask)).to_list())
    if hidden:
        notes.append(hidden_nan_note(sorted(hidden)))
    if dropped:
        notes.append(_dropped_note(dropped))
    if not frames:
        return concat_frames([]), notes
    splits = {k: s for k, (s, _) in namer.assigned.items()}
    metrics = {k: m for k, (_, m) in namer.assigned.items()}
    order = {k: i for i, k in enumerate(namer.assigned)}
    long = pl.concat(frames).drop_nulls("value")
    name = pl.col("name")
    frame = (
        long.with_columns(name.replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o", "_i")  # one series after another, each in file order
        .select(
            pl.lit(run).alias("run"),
            name.replace_strict(splits, return_dtype=pl.String).alias("split"),
            name.replace_strict(metrics, return_dtype=pl.String).alias("metric"),
            name,
            "_i",
            "value",
        )
    )
    frame = frame.with_columns(steps.gather(frame["_i"]).alias("step"), epochs.gather(frame["_i"]).alias("epoch"))
    return conform(frame.drop("_i")), notes


def _float(v: Any) -> float | None:
    """A JSON number as a float; an integer beyond the float range (10^400) is +-inf, as Python's
    json reads 1e400; anything else (None, bool, str) None."""
    if not _is_number(v):
        return None
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _numbers(values: list[Any]) -> pl.Series:
    """Float64 series of JSON values: numbers kept (NaN/inf too), anything else (None, bool, str) null."""
    if set(map(type, values)) <= {int, float, type(None)}:
        try:
            return pl.Series(values, dtype=pl.Float64)
        except (TypeError, OverflowError):  # ints beyond the float range: one by one below
            pass
    return pl.Series([_float(v) for v in values], dtype=pl.Float64)


def _missing_step_note(n: int) -> IngestNote:
    return IngestNote("inferred", f"{n} log entries without a usable 'step' (missing, not a number or beyond the "
                      "integer range): took the step before them", count=n)


def _dropped_note(dropped: dict[str, int]) -> IngestNote:
    """``dropped``: key -> values that are not numbers, in the order met (ties keep it)."""
    total = sum(dropped.values())
    shown = ", ".join(f"{k!r} ({n})" for k, n in sorted(dropped.items(), key=lambda kv: -kv[1])[:5])
    return IngestNote("skipped_lines", f"{total} log_history value(s) that are not numbers (strings, "
                      f"booleans, lists) not read: {shown}", count=total)


def hidden_nan_note(steps: list[int]) -> IngestNote:
    shown = ", ".join(f"{s:,}" for s in steps[:5]) + (" ..." if len(steps) > 5 else "")
    return IngestNote(
        "hidden_nan",
        f"grad_norm is NaN/inf beside a finite loss at {len(steps)} logged step(s) ({shown}): the HF Trainer's "
        "logging_nan_inf_filter (on by default) replaces non-finite step losses by the window average, "
        "so the logged loss hides them",
        count=len(steps),
        step=steps[0],
    )


def _top_level_scalars(text: str) -> dict[str, Any]:
    """Top-level ``"key": scalar`` lines of a pretty-printed (indent=2) file, for a torn file."""
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # the last, cut line may hold a cut number
    out: dict[str, Any] = {}
    for m in _TOP_SCALAR.finditer(text):
        try:
            out[m.group(1)] = json.loads(m.group(2))
        except json.JSONDecodeError:
            continue
    return out


def _recover(text: str, exc: json.JSONDecodeError, path: str) -> tuple[dict[str, Any], IngestNote]:
    """Entries before the cut of a torn file; a ParseError if the damage is not at the end."""
    stripped = text.rstrip()
    torn = not stripped.endswith(("}", "]")) or exc.pos >= len(stripped)
    if not torn:
        raise ParseError(f"malformed JSON: {exc.msg}", path=path, line=exc.lineno)
    m = _LOG_HISTORY.search(text)
    if m is None:
        raise EmptyInputError(
            "trainer_state.json is cut off before its log_history (file still being written?)", path=path
        )
    decoder = json.JSONDecoder()
    entries: list[Any] = []
    pos = m.end()
    cut_line: int | None = None
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            break
        if text[pos] == "]":  # log_history complete; the cut is later in the file
            break
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            if re.search(r"\}\s*,\s*\{", text[pos:]):  # complete entries follow: damage in the middle
                raise ParseError(f"malformed JSON in log_history: {err.msg}", path=path, line=err.lineno) from None
            cut_line = err.lineno
            break
        entries.append(obj)
    doc = {k: v for k, v in _top_level_scalars(text).items()}
    doc["log_history"] = entries
    if cut_line is None:
        cut_line = exc.lineno
    return doc, _torn_note(len(entries), cut_line)


def _torn_note(n: int, line: int | None) -> IngestNote:
    return IngestNote("torn_tail", f"file is cut off (still being written?): read the {n} complete log_history "
                      "entries before the cut", line=line)


def _recover_cut(text: str) -> tuple[dict[str, Any], int | None]:
    """:func:`_recover` for the columnar reader: ``text`` is a torn file's top-level text, ``[`` and
    what follows its last whole entry. Anything but the usual cut goes to json (``Unusual``)."""
    try:
        loads(text)
    except json.JSONDecodeError as exc:
        try:
            doc, note = _recover(text, exc, "")
        except (ParseError, EmptyInputError):
            raise _hf_columns.Unusual("damaged, not only cut off") from None
        return doc, note.line
    raise _hf_columns.Unusual("not cut off")


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    """``ParseResult.meta`` from the top-level fields of a trainer_state.json."""
    meta: dict[str, Any] = {}
    max_steps = doc.get("max_steps")
    if _is_number(max_steps) and max_steps > 0:
        meta["total_steps"] = int(max_steps)
    for k in META_KEYS:
        if doc.get(k) is not None:
            meta[k] = doc[k]
    meta["config_raw"] = {k: doc[k] for k in CONFIG_KEYS if doc.get(k) is not None}
    return meta


def _train_with_grad_norm(sig: tuple[str, ...]) -> bool:
    """Entries with these keys are training logs whose grad_norm can show a NaN the loss hides."""
    return entry_kind(dict.fromkeys(sig)) == "train" and "grad_norm" in sig and "loss" in sig


def columns_to_result(cols: _hf_columns.Columns, run: str) -> ParseResult:
    """:func:`entries_to_frame` and the meta of :func:`parse_state_text` for a file read by
    :func:`lossdoc.ingest.formats._hf_columns.read_columns`: the same rows, notes and meta, as
    one block per series (literal run/split/metric/name)."""
    notes: list[IngestNote] = []
    if cols.torn_line is not None:
        notes.append(_torn_note(cols.n_entries, cols.torn_line))
    steps = cols.steps.cast(pl.Int64, strict=False)
    missing_step = steps.null_count()
    if missing_step:
        notes.append(_missing_step_note(missing_step))
        steps = steps.forward_fill().fill_null(0)
    namer = SeriesNamer()
    for sid, sig in enumerate(cols.sigs):  # groups in order of first appearance, keys in entry order
        kind = entry_kind(dict.fromkeys(sig))
        default_split = "train" if kind in ("train", "summary") else kind
        for k in sig:
            if k in AXIS_KEYS or (sid, k) not in cols.nonnull or k in namer.assigned:
                continue
            if kind == "summary" and k == "train_loss":
                namer.assign(k, "train", "average_loss")
            else:
                namer.auto(k, default_split)
    if cols.hidden_entries:
        notes.append(hidden_nan_note(sorted(steps.gather(cols.hidden_entries).to_list())))
    dropped: dict[str, int] = {}  # in the order entries_to_frame meets them: by group, then key
    for sid, sig in enumerate(cols.sigs):
        for k in sig:
            if (sid, k) in cols.dropped:
                dropped[k] = dropped.get(k, 0) + cols.dropped[(sid, k)]
    if dropped:
        notes.append(_dropped_note(dropped))
    blocks = []
    for k, (split, metric) in namer.assigned.items():
        parts = cols.parts.pop(k, [])
        if not parts:
            continue
        rows = pl.concat(parts)
        del parts
        blocks.append(rows.select(
            pl.lit(run, dtype=pl.String).alias("run"), pl.lit(split, dtype=pl.String).alias("split"),
            pl.lit(metric, dtype=pl.String).alias("metric"), pl.lit(k, dtype=pl.String).alias("name"),
            steps.gather(rows.get_column("_i")).alias("step"), cols.epochs.gather(rows.get_column("_i")).alias("epoch"),
            pl.lit(None, dtype=pl.Float64).alias("wall_time"), pl.col("value")))
        del rows
    return ParseResult(notes=notes, blocks=conform_blocks(blocks), meta=_meta(cols.doc))


def parse_state(inp: InputFile, run: str) -> ParseResult:
    """Parse ``inp``: a big pretty-printed file column by column in pieces
    (:mod:`lossdoc.ingest.formats._hf_columns`), anything else with :func:`parse_state_text`."""
    if inp.size >= _hf_columns.FAST_MIN_BYTES and (inp.data is not None or inp.path is not None):
        try:
            with io.BytesIO(inp.data) if inp.data is not None else open(inp.path, "rb") as fh:  # type: ignore[arg-type]
                cols = _hf_columns.read_columns(fh, axis=AXIS_KEYS, train_sig=_train_with_grad_norm,
                                                log_history=_LOG_HISTORY, size=inp.size, recover=_recover_cut)
        except (_hf_columns.Unusual, OSError):
            pass  # json reads it as before (and read_text reports an OSError)
        else:
            return policy_objective(columns_to_result(cols, run))
    return policy_objective(parse_state_text(inp.read_text(), run, inp.name))


def policy_objective(res: ParseResult) -> ParseResult:
    """``res`` with the training ``loss`` of an online RL trainer read as ``other policy_loss``, noted.

    Training entries that log a ``reward`` and a ``kl`` beside the loss come from a policy-optimisation trainer
    (TRL's GRPO, RLOO): their "loss" is the policy-gradient surrogate, whose value sits at ~0 by construction
    (advantages centred per group; the KL term at 0 while the policy has not moved) whatever the run does. It
    is not a loss to descend, and judged as one it is a plateau from the first step; the run's signal is its
    reward, which lossdoc does not judge. A preference trainer's loss (DPO: ``rewards/chosen``, no ``reward``)
    is a loss and stays."""
    keys = {k for b in res.blocks for k in b.select("split", "metric").unique().iter_rows()}
    if not {("train", "reward"), ("train", "kl"), ("train", "loss")} <= keys:
        return res
    return read_as_policy_loss(
        res, "the training entries log 'reward' and 'kl' beside 'loss': an online RL trainer (GRPO, RLOO), whose loss "
        "is a policy-gradient surrogate that sits near 0 by construction, not a loss to descend")


def parse_state_text(text: str, run: str, path: str) -> ParseResult:
    if not text.strip():
        raise EmptyInputError("file is empty", path=path)
    notes: list[IngestNote] = []
    try:
        doc = loads(text)
    except json.JSONDecodeError as exc:
        doc, note = _recover(text, exc, path)
        notes.append(note)
    meta: dict[str, Any] = {}
    if isinstance(doc, list):  # log_history saved on its own
        entries = doc
    elif isinstance(doc, dict):
        entries = doc.get("log_history")
        if not isinstance(entries, list):
            raise ParseError("JSON object has no 'log_history' list (not a trainer_state.json?)", path=path)
        meta = _meta(doc)
    else:
        raise ParseError(f"top-level JSON is {type(doc).__name__}, not an object", path=path, line=1)
    frame, more = entries_to_frame(entries, run, path=path)
    notes.extend(more)
    if frame.height == 0:
        raise EmptyInputError("log_history holds no numeric values", path=path)
    return ParseResult(frame, notes, meta)


def superseded(state_file: Path) -> bool:
    """True for ``out/checkpoint-N/trainer_state.json`` when ``out`` holds a newer copy of the same
    history (a top-level ``trainer_state.json`` or a later checkpoint): a directory walk reads
    the newest one only, instead of one run per checkpoint."""
    ckpt = state_file.parent
    m = _CHECKPOINT.match(ckpt.name)
    if m is None:
        return False
    out = ckpt.parent
    if (out / STATE_NAME).is_file():
        return True
    latest, _ = _latest_checkpoint(out)
    return latest is not None and latest.parent != ckpt


def _latest_checkpoint(path: Path) -> tuple[Path | None, int]:
    found = []
    for d in path.iterdir():
        m = _CHECKPOINT.match(d.name)
        if m and (d / STATE_NAME).is_file():
            found.append((int(m.group(1)), d / STATE_NAME))
    if not found:
        return None, 0
    found.sort()
    return found[-1][1], len(found)


def checkpoint_steps(out: Path) -> list[int]:
    """Steps N of the ``checkpoint-N/`` directories in an output dir (where a checkpoint exists)."""
    try:
        return sorted(int(m.group(1)) for d in out.iterdir() if (m := _CHECKPOINT.match(d.name)) and d.is_dir())
    except OSError:
        return []


class HFTrainerParser(Parser):
    name = "hf-trainer"
    title = "Hugging Face Trainer trainer_state.json"
    recognises = "trainer_state.json (log_history of train/eval/summary entries); an output_dir with checkpoint-N/"
    priority = 10

    def memory_factor(self, inp: InputFile) -> float:
        # a big trainer_state.json in the Trainer's own layout is read in pieces into columns (1.04x at
        # 10^7 entries); anything else goes through ``json``, a Python object per entry (7.3x at 10^6)
        if inp.path is not None and inp.size >= _hf_columns.FAST_MIN_BYTES and \
                '\n  "log_history": [\n' in inp.head_text().replace("\r\n", "\n"):
            return STREAMED_MEMORY_FACTOR
        return 8.0

    def sniff(self, inp: InputFile) -> float:
        head = inp.head_text(16 * 1024)
        body = head.lstrip()
        has_history = _LOG_HISTORY.search(head) is not None
        if inp.inner_name == STATE_NAME:
            if inp.path is not None and superseded(inp.path):
                return 0.3  # an older checkpoint's copy: readable on its own, skipped by a directory walk
            return 0.97 if has_history else 0.6
        if body.startswith("{") and has_history and '"global_step"' in head:
            return 0.85
        if body.startswith("[") and '"step"' in head and re.search(r'"(loss|eval_loss|learning_rate)"\s*:', head):
            # a bare log_history list dumped on its own
            return 0.6
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        res = parse_state(inp, inp.run_name)
        if inp.path is not None and inp.inner_name == STATE_NAME:
            ckpts = checkpoint_steps(inp.path.parent.parent if _CHECKPOINT.match(inp.path.parent.name)
                                     else inp.path.parent)
            if ckpts:
                res.meta["checkpoint_steps"] = ckpts
        return res

    def sniff_dir(self, path: Path) -> float:
        if (path / STATE_NAME).is_file():
            return 0.0 if superseded(path / STATE_NAME) else 0.95
        found, _ = _latest_checkpoint(path)
        return 0.95 if found is not None else 0.0

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        top = path / STATE_NAME
        latest, n_ckpt = _latest_checkpoint(path)
        if top.is_file():
            chosen = top
            why = f"read {STATE_NAME} at the top of the directory (the final state)"
            if n_ckpt:
                why += f"; {n_ckpt} checkpoint-N/{STATE_NAME} file(s) hold earlier copies and were not read"
        elif latest is not None:
            chosen = latest
            why = (
                f"no top-level {STATE_NAME}: read the latest checkpoint's, "
                f"{latest.parent.name}/{STATE_NAME} (of {n_ckpt} checkpoint(s))"
            )
        else:
            raise InputError(f"no {STATE_NAME} in the directory or its checkpoint-N/ subdirectories", path=display)
        rel = chosen.relative_to(path)
        inp = open_file(chosen, join_display(display, rel))
        resolved = path.resolve()
        # checkpoint-N holds the whole history so far: the run is the output_dir above it.
        out = resolved.parent if _CHECKPOINT.match(resolved.name) else resolved
        run = out.name or display
        if run.lower() in _GENERIC_OUTPUT_DIRS and out.parent.name:
            run = f"{out.parent.name}/{run}"
        res = parse_state(inp, run)
        res.notes[:0] = [*inp.notes, IngestNote("other", why)]
        ckpts = checkpoint_steps(out)
        if ckpts:
            res.meta["checkpoint_steps"] = ckpts
        return res


PARSERS = [HFTrainerParser()]
