"""Megatron-LM and Megatron-DeepSpeed stdout (``training_log`` / ``evaluate_and_print_results``).

Checked against ``NVIDIA/Megatron-LM`` ``megatron/training/training.py`` (commit 86df799, and the
older ``megatron/training.py`` layout without the timestamp) and ``microsoft/Megatron-DeepSpeed``
``megatron/training.py`` (``consumed tokens``, ``{:.3E}`` learning rate, throughput segments).
Sample (docs/formats-reference.md §7)::

     [2024-06-01 10:15:42] iteration      100/  500000 | consumed samples:        51200 | ... | learning rate: 1.500000E-05 | global batch size:   512 | lm loss: 8.123456E+00 | loss scale: 1.0 | grad norm: 2.345 | number of skipped iterations:   0 | number of nan iterations:   0 |
     validation loss at iteration 200 | lm loss value: 6.812345E+00 | lm loss PPL: 9.089999E+02 |
     iteration      300/  500000 | consumed samples:       153600 | consumed tokens:    314572800 | ... | lm loss: 6.401234E+00 | ...

Every segment is `` {key}: {value} |``, in the same order on every line of a run. Lines are cut at
`` | `` once, and a line whose segments are one of the layouts (key sequences) seen in a sample is
read by position (segment minus ``key: ``), in one streamed pass of small chunks; no regex runs
over the ~300-byte lines (``research/perf.md``: a lazy ``.*?`` is 3.5x slower). Lines that do not
read that way are read again by key. Which loss keys a run logs (``lm loss``, ``mtp_1 loss``,
``load_balancing_loss`` ...) is found from the distinct key signatures of the lines.

NOTE on missing losses: Megatron prints a loss only ``if avg > 0.0``. A training line without a loss
key that other lines carry therefore means either that every iteration of the logging window was
skipped (fp16 overflow: ``number of skipped iterations`` > 0, no update happened, nothing to record)
or that the window's average was NaN (no skipped iteration). The second case is recorded as a NaN
loss at that iteration, with a ``hidden_nan`` note, so the non-finite checks see it. The counters
``number of skipped iterations`` / ``number of nan iterations`` are kept as their own metrics
(``skipped_iterations``, ``nan_iterations``). ``{:E}`` prints ``NAN`` / ``INF``: kept as values.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from lossdoc.ingest import text as _text
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.ingest.text import (
    _SEP,
    clean_head,
    count_lines,
    load_lines,
    snapshot,
    stream_queries,
    torn_tail_note,
)
from lossdoc.model import IngestNote, ParseResult, conform_blocks, split_and_metric

_SNIFF_TRAIN = re.compile(r"iteration\s+\d+/\s*\d+ \| (?:consumed samples:|elapsed time per iteration)", re.M)
_SNIFF_VAL = re.compile(r"^\s*validation loss at .*\| .* value: ", re.M)

# Fixed (non-loss) segments: key as printed -> (metric, kept?). Not kept: configuration echoes and
# counters that carry no information about the curve, to keep the per-field extraction cheap.
_FIXED: dict[str, str | None] = {
    "consumed samples": "consumed_samples",
    "consumed tokens": "consumed_tokens",
    "skipped samples": None,
    "elapsed time per iteration (ms)": "step_time_ms",
    "throughput per GPU (TFLOP/s/GPU)": None,
    "learning rate": "lr",
    "decoupled learning rate": "decoupled_lr",
    "global batch size": None,
    "loss scale": "loss_scale",
    "grad norm": "grad_norm",
    "num zeros": None,
    "params norm": "params_norm",
    "number of skipped iterations": "skipped_iterations",
    "number of nan iterations": "nan_iterations",
    "curriculum seqlen": None,
    "random ltd reserved length": None,
    "actual seqlen": None,
    "samples per second": "throughput",
    "tokens per gpu per second (tgs)": None,
    "TFLOPs": None,
    "iteration": None,
}

#: How many distinct segment layouts (key sequences) of the training lines are read by position.
_MAX_LAYOUTS = 4
#: Lines per chunk of the streamed pass: ~300 KB of text, so a line is still in the CPU cache for
#: the second and later operations on it (1.5-2x faster than whole-column operations at 10^6 lines).
_CHUNK = 1000
_INT = re.compile(r"[+-]?\d+")


def _field(line: pl.Expr, key: str) -> pl.Expr:
    """The number in segment ``| key: value |`` (null when absent or unreadable), read from the whole
    line: the 20 characters after the first ``| key: ``, leading spaces dropped, up to a space.

    The slow way, for the few lines that do not read by position (:meth:`MegatronParser._extract`).
    """
    return (
        line.str.splitn(f"| {key}: ", 2).struct.field("field_1").str.slice(0, 20)
        .str.strip_chars_start(" ")
        .str.split_exact(" ", 1)
        .struct.field("field_0")
        .cast(pl.Float64, strict=False)
    )


def _is_training(text: str) -> bool:
    """Whether a line is a training line: `` | `` in it and ``iteration N/ T`` (up to `` |``) within the
    32 characters after its first ``iteration ``."""
    pos = text.find("iteration ")
    if pos < 0 or " | " not in text:
        return False
    it, sep, rest = text[pos + 10:pos + 42].partition("/")
    return bool(sep and _INT.fullmatch(it.strip(" ")) and _INT.fullmatch(rest.partition(" |")[0].strip(" ")))


def _layouts(sigs: dict[tuple[str | None, ...], int]) -> list[tuple[str | None, ...]]:
    """The key sequences read by position: the most common ones whose keys are printed plainly
    (``None``, a segment without ``key: ``, must be empty on the line)."""
    ok = [sig for sig in sorted(sigs, key=lambda s: -sigs[s])
          if all(k is None or (k and k == k.strip(" |")) for k in sig)]
    return ok[:_MAX_LAYOUTS]


def _totals(sample: list[str]) -> list[tuple[str, int]]:
    """The (at most two) most common ``/ T`` endings of the first segment of the sampled training lines
    (`` iteration      100/  500000``), with T: a resumed run may change its number of iterations."""
    count: dict[str, int] = {}
    for text in sample:
        end = text.split(" | ", 1)[0].partition("iteration ")[2].partition("/")[2]
        if _INT.fullmatch(end.strip(" ")):
            count["/" + end] = count.get("/" + end, 0) + 1
    return [(t, int(t[1:].strip(" "))) for t in sorted(count, key=lambda t: -count[t])[:2]]


def _wanted(keys: Iterable[str]) -> list[str]:
    """The keys whose values are kept: every loss key (in order of appearance), then the kept fixed ones."""
    keys = list(keys)
    return [k for k in keys if k not in _FIXED] + [k for k, m in _FIXED.items() if m and k in keys]


@dataclass(frozen=True, slots=True)
class _Plan:
    """How :func:`_by_position` reads the training lines: the segment ``layouts`` (key sequences),
    the ``/ T`` endings of ``iteration N/ T`` (``totals``: text, T), the keys read (``fast``) and those
    printed with leading spaces (``padded``)."""

    layouts: list[tuple[str | None, ...]]
    totals: list[tuple[str, int]]
    fast: list[str]
    padded: set[str]


#: (key, position) -> (segment text, value) of segments most lines print identically.
_Common = dict[tuple[str, int], tuple[str, float]]


def _sample_rows(n: int, m: int = 300) -> list[int]:
    """The (0-based) lines :func:`_presample` looks at among ``n``: the first and last ``m`` and ``m``
    spread evenly."""
    return sorted(set(range(min(n, m))) | set(range(max(0, n - m), n)) | set(range(0, n, max(1, n // m))))


def _presample(lines: pl.DataFrame) -> list[str]:
    """The training lines (by :func:`_is_training`) among the :func:`_sample_rows` of ``lines``: their
    layouts are read by position (a layout it misses is read by key)."""
    rows = _sample_rows(lines.height)
    texts = lines.get_column("line").gather(rows).to_list() if rows else []
    return [t for t in texts if _is_training(t)]


def _presample_file(inp: InputFile, size: int) -> tuple[int, list[str]] | None:
    """(number of lines, :func:`_presample` of them) of a plain UTF-8 file on disk, read without
    loading it: the same lines as ``_presample(load_lines(inp))`` for a file :func:`stream_queries`
    takes (no bytes or prefixes for :func:`load_lines` to clean); of its first ``size`` bytes. None for
    any other input."""
    if inp.path is None or not inp.is_utf8_file():
        return None
    try:
        n = count_lines(inp, size)
        want = np.array(_sample_rows(n), dtype=np.int64)
        got: list[bytes] = []
        with open(inp.path, "rb") as fh:
            base, rest, left = 0, b"", size
            while True:
                buf = fh.read(min(_text.CHUNK_BYTES, left))
                left -= len(buf)
                if buf:
                    cut = buf.rfind(b"\n") + 1
                    if cut == 0:
                        rest += buf
                        continue
                    chunk, rest = (rest + buf[:cut] if rest else buf[:cut]), buf[cut:]
                else:
                    chunk, rest = rest, b""
                if chunk:
                    k = chunk.count(b"\n") + (chunk[-1:] != b"\n")
                    lo, hi = np.searchsorted(want, [base, base + k])
                    if hi > lo:  # line j of the chunk is bytes starts[j]:ends[j]
                        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
                        if ends.size < k:
                            ends = np.append(ends, len(chunk))
                        starts = np.concatenate(([0], ends[:-1] + 1))
                        got.extend(chunk[starts[j]:ends[j]] for j in (want[lo:hi] - base).tolist())
                    base += k
                if not buf:
                    break
    except OSError:
        return None
    if base != n or len(got) != want.size:
        return None
    if not got:
        return n, []
    # decoded as load_lines decodes them (utf8-lossy, a unit separator ends the line's text)
    texts = pl.read_csv(io.BytesIO(b"\n".join(got) + b"\n"), separator=_SEP, has_header=False, quote_char=None,
                        infer_schema=False, new_columns=["line"], encoding="utf8-lossy",
                        truncate_ragged_lines=True).get_column("line").fill_null("")
    if texts.len() != len(got):
        return None
    return n, [t for t in texts.to_list() if _is_training(t)]


def _plan(sample: list[str]) -> tuple[_Plan, _Common]:
    """The :class:`_Plan` and the common segments (:func:`_common`) of sampled training lines."""
    keys: dict[str, dict[str, int]] = {}
    sigs: dict[tuple[str | None, ...], int] = {}
    for text in sample:
        sig: list[str | None] = []
        for part in text.split(" | ")[1:]:
            k, sep, v = part.partition(": ")
            sig.append(k if sep else None)
            k = k.strip(" |")
            if k and sep:
                seen = keys.setdefault(k, {})
                v = v.rstrip(" |\n")
                seen[v] = seen.get(v, 0) + 1
        sigs[tuple(sig)] = sigs.get(tuple(sig), 0) + 1
    plan = _Plan(layouts=_layouts(sigs), totals=_totals(sample), fast=_wanted(keys),
                 padded={k for k, vals in keys.items() if any(v[:1] == " " for v in vals)})
    return plan, _common(sample, plan)


def _common(sample: list[str], plan: _Plan) -> _Common:
    """Segments that at least 90% of the sampled lines of a layout print identically (``loss scale:
    1.0``, ``number of skipped iterations:   0``): (key, position) -> (segment text, value). A line is
    then tested for the text instead of cutting and casting the value."""
    out: _Common = {}
    for sig in plan.layouts:
        rows = [parts for parts in (text.split(" | ")[1:] for text in sample)
                if tuple(p.partition(": ")[0] if ": " in p else None for p in parts) == sig]
        for j, k in enumerate(sig):
            if k not in plan.fast or (k, j) in out or not rows:
                continue
            count: dict[str, int] = {}
            for parts in rows:
                count[parts[j]] = count.get(parts[j], 0) + 1
            text, n = max(count.items(), key=lambda kv: kv[1])
            if n < 0.9 * len(rows):
                continue
            value = pl.Series([text]).str.strip_prefix(f"{k}: ")
            value = value.str.strip_chars(" |") if j == len(sig) - 1 else (
                value.str.strip_chars_start(" ") if k in plan.padded else value)
            number = value.cast(pl.Float64, strict=False).item()
            if number is not None:
                out[k, j] = (text, number)
    return out


def _by_position(lf: pl.LazyFrame, plan: _Plan, common: _Common, extra: Sequence[pl.Expr] = ()) -> pl.LazyFrame:
    """Per line of ``lf``: ``_it``, ``_tot``, ``_lid`` (the layout the line reads by), ``_len`` (its
    bytes), ``_odd`` (it has `` | `` but did not read by position in full) and ``_q{i}`` (the value of
    ``plan.fast[i]``), then ``extra`` (expressions of ``lf``'s columns).

    Meant for the streaming engine in chunks of :data:`_CHUNK` lines: each line is cut at `` | `` once;
    ``iteration N/ T`` is the text after the first ``iteration `` minus one of the ``/ T`` endings; a
    value is its segment minus the ``key: `` prefix (a segment without the prefix fails an exact length
    test), cast, or, for a (key, position) of ``common``, a test that the segment is the common text."""
    line = pl.col("line")
    layouts, fast = plan.layouts, plan.fast
    width = max((len(sig) for sig in layouts), default=0) + 1
    s = pl.col("_s")
    f = [pl.col(f"_f{j}") for j in range(width)]
    rest = f[0].str.splitn("iteration ", 2).struct.field("field_1")
    it: pl.Expr = pl.lit(None, pl.Int64)
    tot: pl.Expr = pl.lit(None, pl.Int64)
    for text, value in reversed(plan.totals):
        cut = rest.str.strip_suffix(text).str.strip_chars(" ").cast(pl.Int64, strict=False)
        it = cut if len(plan.totals) == 1 else pl.when(rest.str.ends_with(text)).then(cut).otherwise(it)
        tot = pl.when(rest.str.ends_with(text)).then(pl.lit(value, pl.Int64)).otherwise(tot)
    # One text column per (key, position), shared by the layouts: segment minus 'key: ', spaces cut.
    texts: dict[tuple[str, int], str] = {}
    cut_prefix: list[pl.Expr] = []
    tcols: list[pl.Expr] = []
    for sig in layouts:
        for j, k in enumerate(sig):
            if k in fast and (k, j) not in texts and (k, j) not in common:
                texts[k, j] = name = f"_t{len(texts)}"
                t = pl.col(name)
                cut_prefix.append(f[j + 1].str.strip_prefix(f"{k}: ").alias(name))
                tcols.append((f[j + 1].str.len_bytes() - t.str.len_bytes() == len(k) + 2).alias(name + "c"))
                if j == len(sig) - 1:
                    tcols.append(t.str.strip_chars(" |"))
                elif k in plan.padded:
                    tcols.append(t.str.strip_chars_start(" "))
    lid: pl.Expr = pl.lit(None, pl.Int64)
    for li in reversed(range(len(layouts))):
        sig = layouts[li]
        conds = [pl.col("_n") == len(sig) + 1]
        for j, k in enumerate(sig):
            if k is None:
                conds.append(f[j + 1] == "")
            elif (k, j) in common:
                conds.append(f[j + 1] == common[k, j][0])
            elif k in fast:
                conds.append(pl.col(texts[k, j] + "c"))
            else:
                conds.append(f[j + 1].str.starts_with(f"{k}: "))
        lid = pl.when(pl.all_horizontal(conds)).then(pl.lit(li, pl.Int64)).otherwise(lid)
    cols: list[pl.Expr] = []
    for i, k in enumerate(fast):
        expr: pl.Expr = pl.lit(None, pl.Float64)
        for li in reversed(range(len(layouts))):
            sig = layouts[li]
            if k not in sig:
                continue
            j = sig.index(k)
            v = (pl.lit(common[k, j][1], pl.Float64) if (k, j) in common
                 else pl.col(texts[k, j]).cast(pl.Float64, strict=False))
            expr = pl.when(pl.col("_lid") == li).then(v).otherwise(expr)
        cols.append(expr.alias(f"_q{i}"))
    # A line read in full by position: iteration read, a layout matched, every value of it read.
    complete: pl.Expr = pl.lit(False)
    for li in reversed(range(len(layouts))):
        idx = [i for i, k in enumerate(fast) if k in layouts[li]]
        ok = ~pl.any_horizontal([pl.col(f"_q{i}").is_null() for i in idx]) if idx else pl.lit(True)
        complete = pl.when(pl.col("_lid") == li).then(ok).otherwise(complete)
    read = pl.col("_it").is_not_null() & pl.col("_tot").is_not_null() & complete.fill_null(False)
    odd = (pl.col("_n") > 1) & ~read
    return (
        lf.with_columns(line.str.split(" | ").alias("_s"))
        .with_columns(s.list.len().alias("_n"),
                      *[s.list.get(j, null_on_oob=True).alias(f"_f{j}") for j in range(width)])
        .with_columns(it.alias("_it"), tot.alias("_tot"), *cut_prefix)
        .with_columns(tcols)
        .with_columns(lid.alias("_lid"))
        .with_columns(cols)
        .select("_it", "_tot", "_lid", line.str.len_bytes().cast(pl.Int64).alias("_len"), odd.alias("_odd"),
                *[f"_q{i}" for i in range(len(fast))], *extra)
    )


@dataclass(frozen=True, slots=True)
class _Texts:
    """The text of some lines (those a later step may read again), by row key: ``keys`` sorted."""

    keys: pl.Series
    lines: pl.Series

    def of(self, keys: pl.Series) -> pl.Series:
        """The text of the rows with ``keys`` (null for a row whose text is not held), named ``line``."""
        if keys.len() == 0 or self.keys.len() == 0:
            return pl.Series("line", [None] * keys.len(), dtype=pl.String)
        pos = self.keys.search_sorted(keys, side="left").cast(pl.Int64).clip(0, self.keys.len() - 1)
        hit = self.keys.gather(pos) == keys
        return self.lines.gather(pos).zip_with(hit, pl.Series([None], dtype=pl.String)).alias("line")


class MegatronParser(Parser):
    name = "megatron"
    title = "Megatron-LM / Megatron-DeepSpeed stdout"
    recognises = "' iteration N/ T | consumed samples: ... | lm loss: X |' lines and 'validation loss at' blocks"
    priority = 20
    streams_from_disk = True  # peak 0.81x at 10^7 points (2.07x on the whole-text path of ANSI-coloured logs)

    def sniff(self, inp: InputFile) -> float:
        head = clean_head(inp.head_text())
        n_train = len(_SNIFF_TRAIN.findall(head))
        n_val = len(_SNIFF_VAL.findall(head))
        if n_train >= 2 or (n_train and n_val):
            return 0.95
        if n_train or n_val:
            return 0.7
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        # A plain file is read in pieces (_stream: never held whole as text, so peak memory stays
        # below the file's size); anything load_lines has to clean is loaded whole (_read_lines).
        got = self._stream(inp)
        torn: bool | None = None  # (None: as the file ends now)
        if got is None:
            rows, texts, plan = self._read_lines(load_lines(inp, notes=notes))
            last_line = int(rows.get_column("lineno").max() or 0) if rows.height else None
        else:
            rows, texts, plan, last_line, torn = got
        tail = torn_tail_note(inp, last_line, torn=torn)
        if tail is not None:
            # A torn last line may hold a cut number: ignore it entirely (its rows are the last ones).
            keep = rows.height - int((rows.get_column("lineno") == last_line).sum())
            rows = rows.head(keep)
            notes.append(tail)
        run = inp.run_name
        meta: dict[str, object] = {}
        wide, want, is_train = self._extract(rows, texts, plan)
        other = rows.select("lineno", "_key").filter(~is_train)
        other = pl.DataFrame([other.get_column("lineno"), texts.of(other.get_column("_key"))])
        del rows, is_train
        frames: list[pl.DataFrame] = []
        if wide.height:
            meta["total_steps"] = int(wide.get_column("_tot").max())  # type: ignore[arg-type]
            frames.extend(self._training(wide, want, run, notes))
        frames.extend(self._validation(other, wide, run, notes))
        return ParseResult(blocks=conform_blocks(frames), notes=notes, meta=meta)

    # ------------------------------------------------------------------ training lines
    def _stream(self, inp: InputFile) -> tuple[pl.DataFrame, _Texts, _Plan, int | None, bool] | None:
        """:meth:`_read_lines` of a plain file read in pieces (:func:`stream_queries`), its number of
        lines and whether its last line is torn (of the bytes it had when the read began: a log still
        being written grows meanwhile); None when the file needs :func:`load_lines`.

        Only the rows that can matter are kept: training lines (``iteration N/ T`` read), lines with
        `` | `` that did not read by position (``_odd``: read again by key) and ``validation loss at``
        lines; only the text of the last two kinds is kept. Row key ``_key`` is the line number."""
        if inp.path is None:
            return None
        size, torn = snapshot(inp)
        sampled = _presample_file(inp, size)
        if sampled is None:
            return None
        n, sample = sampled
        plan, common = _plan(sample)
        line = pl.col("line")

        def queries(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
            q = _by_position(lines, plan, common, [
                pl.col("lineno"), line.str.contains("validation loss at ", literal=True).alias("_val"), line])
            odd = pl.col("_odd")
            keep = (pl.col("_it").is_not_null() & pl.col("_tot").is_not_null()) | odd | pl.col("_val")
            return [q.filter(keep).select("lineno", "_it", "_tot", "_lid", "_len", odd.cast(pl.Int64),
                                          *[f"_q{i}" for i in range(len(plan.fast))]),
                    q.filter(odd | pl.col("_val")).select("lineno", "line")]

        with pl.Config(streaming_chunk_size=_CHUNK):
            got = stream_queries(inp, queries, lineno=True, limit=size)
        if got is None:
            return None
        out, kept = got
        out = out.with_columns(pl.col("_odd").cast(pl.Boolean), pl.col("lineno").alias("_key"))
        texts = _Texts(kept.get_column("lineno"), kept.get_column("line"))
        del kept
        out, texts, plan = self._finish_read(out, texts, plan, common)
        return out, texts, plan, (n or None), torn

    def _read_lines(self, lines: pl.DataFrame) -> tuple[pl.DataFrame, _Texts, _Plan]:
        """Per line of ``lines``: ``lineno``, ``_key`` (row number), ``_it``, ``_tot``, ``_lid`` (the layout
        it reads by, or null), ``_len`` (bytes), ``_odd`` (has `` | `` but did not read by position) and
        ``_q{i}`` (the value of ``plan.fast[i]``); the lines' text; the plan.

        A first sample of the lines gives the segment layouts (key sequences) of the training lines,
        their ``/ T`` endings and the values most lines print the same way; one streamed pass
        (:func:`_by_position`) reads every line that fits those by position."""
        plan, common = _plan(_presample(lines))
        with pl.Config(streaming_chunk_size=_CHUNK):
            out = _by_position(lines.lazy(), plan, common).collect(engine="streaming")
        key = pl.int_range(0, lines.height, dtype=pl.Int64, eager=True).alias("_key")
        texts = _Texts(key, lines.get_column("line"))
        return self._finish_read(out.with_columns(lines.get_column("lineno"), key), texts, plan, common)

    @staticmethod
    def _finish_read(out: pl.DataFrame, texts: _Texts, plan: _Plan,
                     common: _Common) -> tuple[pl.DataFrame, _Texts, _Plan]:
        """The lines that did not read by position with the common values (a counter that is not 0)
        are read by position again without them."""
        odd = out.get_column("_odd")
        if common and odd.any():
            again = _by_position(texts.of(out.get_column("_key").filter(odd)).to_frame().lazy(),
                                 plan, {}).collect()
            read = ~again.get_column("_odd")
            if read.any():  # (validation lines and the like do not read either way)
                idx = odd.arg_true().filter(read)
                again = again.filter(read)
                out = out.with_columns([out.get_column(c).scatter(idx, again.get_column(c))
                                        for c in again.columns if c != "_len"])
        return out, texts, plan

    def _extract(self, rows: pl.DataFrame, texts: _Texts,
                 plan: _Plan) -> tuple[pl.DataFrame, list[str], pl.Series]:
        """The training lines as a wide frame (``lineno``, ``_it`` iteration, ``_tot`` train iterations,
        ``_v{i}`` the value of segment ``want[i]``, null where the line lacks it), ``want``, and a mask
        of which ``rows`` are training lines.

        The lines that did not read by position (another layout, odd spacing, ``validation loss`` and
        other lines with `` | ``) are read the older, slower way: ``iteration`` from the 32 characters
        after it, values by key (:func:`_field`). Which keys are kept is decided from a sample of the
        training lines (:meth:`_key_order`), as before.
        """
        line = pl.col("line")
        odd = rows.get_column("_odd")
        it, tot = rows.get_column("_it"), rows.get_column("_tot")
        if odd.any():  # 'iteration' of the odd lines the older way (the fast read may have failed)
            rest = line.str.splitn("iteration ", 2).struct.field("field_1").str.slice(0, 32)
            head = pl.DataFrame([texts.of(rows.get_column("_key").filter(odd))]).select(
                rest.str.split_exact("/", 1).alias("_h")).unnest("_h").select(
                pl.col("field_0").str.strip_chars(" ").cast(pl.Int64, strict=False).alias("it"),
                pl.col("field_1").str.split_exact(" |", 1).struct.field("field_0").str.strip_chars(" ")
                .cast(pl.Int64, strict=False).alias("tot"))
            if not (head.get_column("it").eq_missing(it.filter(odd)).all()
                    and head.get_column("tot").eq_missing(tot.filter(odd)).all()):
                idx = odd.arg_true()
                it, tot = it.scatter(idx, head.get_column("it")), tot.scatter(idx, head.get_column("tot"))
        is_train = it.is_not_null() & tot.is_not_null()
        want = _wanted(self._key_order(rows, texts, is_train, plan.layouts))
        odd = odd & is_train
        slow = None
        if odd.any():
            slow = pl.DataFrame([texts.of(rows.get_column("_key").filter(odd))]).select(
                [_field(line, k).alias(k) for k in want])
            at = odd.filter(is_train).arg_true()  # their rows among the training lines
        fast = plan.fast
        out = rows.select("lineno", *[f"_q{fast.index(k)}" for k in want if k in fast]).with_columns(
            it, tot).filter(is_train)
        vals = []
        for i, k in enumerate(want):
            col = (out.get_column(f"_q{fast.index(k)}") if k in fast
                   else pl.repeat(None, out.height, dtype=pl.Float64, eager=True))
            if slow is not None:
                col = col.scatter(at, slow.get_column(k))
            vals.append(col.alias(f"_v{i}"))
        wide = pl.DataFrame([out.get_column("lineno"), out.get_column("_it"), out.get_column("_tot"), *vals])
        return wide.rechunk(), want, is_train  # the streamed pass left one chunk per 1,000 lines

    @staticmethod
    def _key_order(rows: pl.DataFrame, texts: _Texts, is_train: pl.Series,
                   layouts: list[tuple[str | None, ...]]) -> list[str]:
        """The segment keys of a sample of the training lines, in order of first appearance.

        The sample is the first and last 1,000 lines, 1,000 spread evenly, and up to 2,000 (spread)
        of the lines whose length differs from the median by more than a value's width can explain, so
        a loss key that appears mid-run (or a segment that comes and goes) is still seen, without a
        regex over every line. A line that read by position has its layout's keys; the others are cut
        at `` | `` here.
        """
        at = is_train.arg_true()  # training line i is row at[i]
        n = at.len()
        # A segment that comes or goes changes a line's length by 20+ bytes; values change it by a few.
        size = rows.get_column("_len").filter(is_train).alias("n")
        med = size.median() if n else 0
        idx = set(range(min(n, 1000))) | set(range(max(0, n - 1000), n)) | set(range(0, n, max(1, n // 1000)))
        odd = size.to_frame().with_row_index("_i").filter((pl.col("n") - med).abs() > 12)
        idx |= set(odd.get_column("_i").gather_every(max(1, odd.height // 2000)).head(2000).to_list())
        pick = at.gather(sorted(idx)) if idx else at.clear()
        keys: dict[str, None] = {}
        picked = texts.of(rows.get_column("_key").gather(pick)).to_list()
        for lid, text in zip(rows.get_column("_lid").gather(pick).to_list(), picked, strict=True):
            if lid is not None:
                keys.update((k, None) for k in layouts[lid] if k is not None)
                continue
            for part in (text or "").split(" | ")[1:]:
                k, sep, _ = part.partition(": ")
                if sep:
                    k = k.strip(" |")
                    if k:
                        keys[k] = None
        return list(keys)

    def _training(self, wide: pl.DataFrame, want: list[str], run: str,
                  notes: list[IngestNote]) -> list[pl.DataFrame]:
        wide = wide.rename({"_it": "step"})
        loss_keys = [k for k in want if k not in _FIXED]
        kept = [(want.index(k), k, m) for k, m in _FIXED.items() if m and k in want]
        skipped = next((i for i, k, _ in kept if k == "number of skipped iterations"), None)
        no_skip = (pl.col(f"_v{skipped}").fill_null(0) == 0) if skipped is not None else pl.lit(True)
        nulls = pl.lit(None, pl.Float64)
        frames: list[pl.DataFrame] = []
        for k in loss_keys:
            i = want.index(k)
            c = pl.col(f"_v{i}")
            split, metric = split_and_metric(k)
            if metric == "loss" and k != "lm loss" and "lm loss" in loss_keys:
                metric = "_".join(k.split())  # another loss beside lm loss keeps its own name
            # Lines after the key first appears that lack it: NaN average, unless the window was all skipped.
            present = c.is_not_null()
            missing = present.cum_max() & ~present
            full = wide.get_column(f"_v{i}").null_count() == 0
            if not full:
                nan_lines = wide.filter(missing & no_skip)
                n_skip = wide.filter(missing & ~no_skip).height
                if nan_lines.height:
                    first = nan_lines.row(0, named=True)
                    notes.append(IngestNote(
                        "hidden_nan",
                        f"'{k}' is missing on {nan_lines.height} training line(s) with no skipped iteration: "
                        f"Megatron prints a loss only when its average is > 0, so the average was NaN; recorded as NaN",
                        line=first["lineno"], run=run, count=nan_lines.height, step=first["step"]))
                if n_skip:
                    notes.append(IngestNote(
                        "other",
                        f"'{k}' is missing on {n_skip} training line(s) whose logging window had skipped iterations "
                        f"(fp16 overflow) and no update; no loss recorded there", run=run, count=n_skip))
            rows = wide if full else wide.filter(present | (missing & no_skip))
            frames.append(rows.select(
                pl.lit(run).alias("run"), pl.lit(split).alias("split"), pl.lit(metric).alias("metric"),
                pl.lit(k).alias("name"), "step", nulls.alias("epoch"), nulls.alias("wall_time"),
                c.fill_null(float("nan")).alias("value")))
        for i, k, metric in kept:
            c = pl.col(f"_v{i}")
            rows = wide if wide.get_column(f"_v{i}").null_count() == 0 else wide.filter(c.is_not_null())
            frames.append(rows.select(
                pl.lit(run).alias("run"), pl.lit("train").alias("split"), pl.lit(metric).alias("metric"),
                pl.lit(k).alias("name"), "step", nulls.alias("epoch"), nulls.alias("wall_time"), c.alias("value")))
        return frames

    # ------------------------------------------------------------------ validation blocks
    def _validation(
        self, lines: pl.DataFrame, wide: pl.DataFrame, run: str, notes: list[IngestNote]
    ) -> list[pl.DataFrame]:
        """Rows of the ``validation loss at`` lines among ``lines`` (the lines that are not training lines)."""
        line = pl.col("line")
        val = lines.filter(line.str.contains("validation loss at ", literal=True))
        if val.height == 0:
            return []
        # Few lines (one per eval interval): a Python loop over them is fine.
        it_lines = wide.get_column("lineno")
        it_steps = wide.get_column("_it")

        rows: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
        metrics: dict[str, str] = {}
        inferred = 0
        for lineno, text in val.iter_rows():
            head, _, rest = text.partition("validation loss at ")
            prefix, _, body = rest.partition(" | ")
            m = re.match(r"iteration (\d+)", prefix)
            split = "test" if ("test set" in prefix or "test data" in prefix) else "val"
            if m:
                step = int(m.group(1))
            else:
                j = int(it_lines.search_sorted(lineno, side="left"))
                if j == 0:
                    continue
                step = int(it_steps[j - 1])
                inferred += 1
            for seg in body.split(" | "):
                seg = seg.strip(" |")
                if " value: " in seg:
                    key, _, v = seg.partition(" value: ")
                    metric = metrics.get(key)
                    if metric is None:
                        metric = split_and_metric(key)[1]
                        if metric == "loss" and key != "lm loss":
                            metric = "_".join(key.split())
                        metrics[key] = metric
                    val = _num(v)
                    if val is not None:
                        rows.setdefault((split, metric, key), []).append((step, val))
                elif " PPL: " in seg:
                    key, _, v = seg.partition(" PPL: ")
                    metric = "perplexity" if key == "lm loss" else "_".join(key.split()) + "_ppl"
                    val = _num(v)
                    if val is not None:
                        rows.setdefault((split, metric, f"{key} PPL"), []).append((step, val))
        if inferred:
            notes.append(IngestNote("inferred", f"{inferred} end-of-training evaluation(s) without an iteration "
                                    "number placed at the last logged iteration", run=run, count=inferred))
        frames = [
            pl.DataFrame({"run": run, "split": s, "metric": m, "name": k,
                          "step": [p[0] for p in pts], "value": [p[1] for p in pts]},
                         schema_overrides={"step": pl.Int64, "value": pl.Float64})
            for (s, m, k), pts in rows.items()
        ]
        return frames


def _num(s: str) -> float | None:
    """``6.812345E+00`` / ``NAN`` / ``INF`` -> float; None when unreadable (the value is then skipped)."""
    try:
        return float(s.strip().lstrip("+"))
    except ValueError:
        return None


PARSERS = [MegatronParser()]
