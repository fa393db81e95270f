"""A big ``trainer_state.json`` read in pieces into columns, without a Python object per entry.

``json.loads`` of a 10^6-entry ``trainer_state.json`` (164 MB) builds a dict and five floats per
entry: 1.2 GB peak, ~10 GB at 10^7 entries. The Trainer writes the file with
``json.dumps(indent=2, sort_keys=True)``, so each ``log_history`` entry is a run of lines of fixed
shape::

    {                          <- 4 spaces: an entry opens
      "epoch": 0.04,           <- 6 spaces: one key and one scalar per line, a comma unless last
      "loss": NaN
    },                         <- 4 spaces: it closes, a comma unless it is the last entry

:func:`read_columns` reads such a file in pieces of :data:`PIECE_BYTES` cut after an entry's
closing line, checks every line of a piece against these shapes with polars (vectorised string
operations, no loop over lines in Python), parses the values into Float64 columns, and keeps per key only
(entry number, value) for its non-null values, plus the step and epoch of every entry. The rest of
the file (the top-level fields before and after ``log_history``) is small and goes through
``json``.

The result is the same as :func:`lossdoc.ingest.formats.hf_trainer.entries_to_frame` on the
parsed document (same rows in the same order, same notes, same meta; the tests compare the two on
every trainer_state.json in the repository), returned as one block per series whose key columns
are literals. Anything this reader does not model exactly -- another layout (compact or
differently indented JSON, CRLF line ends, blank lines), a nested value in an entry, a key with
an escape, a repeated key, an empty entry, bytes that are not UTF-8, damage other than a cut at the
end -- makes it raise :class:`Unusual`, and the caller reads the file with ``json`` as before. A file
cut off inside ``log_history`` (still being written) is salvaged here, with json's salvage run on
the few bytes after the last whole entry (see :func:`read_columns`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import polars as pl

from lossdoc.ingest.text import READ_PROGRESS

#: Files smaller than this are read with ``json`` (fast enough, and the memory does not matter).
FAST_MIN_BYTES = 8 << 20
#: Bytes of the file handed to polars at a time (the peak holds about one piece's lines).
PIECE_BYTES = 4 << 20
#: How far into the file ``"log_history": [`` may start (the fields before it are a few hundred bytes).
HEAD_LIMIT = 64 << 20

_START = re.compile(rb'\n  "log_history": \[\n')
_ENTRY_CUT = b"\n    },\n"
_ARRAY_END = b"\n  ]"
#: Control bytes other than the line feed (JSON forbids them raw in strings; CR, tab: another layout).
_CONTROL = bytes(b for b in range(32) if b != 10)
_BAD_KEY = re.compile(r'["\\\x00-\x1f]')
_NUMBER = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"
_STRING = r'^"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"$'
_SEP = "\x1f"


class Unusual(Exception):
    """The file is not in the layout this reader models (the message says how): read it with ``json``."""


class Columns:
    """What :func:`read_columns` returns."""

    def __init__(self, doc: dict[str, Any], steps: pl.Series, epochs: pl.Series, sigs: list[tuple[str, ...]],
                 nonnull: set[tuple[int, str]], parts: dict[str, list[pl.DataFrame]],
                 dropped: dict[tuple[int, str], int],
                 hidden_entries: list[int], torn_line: int | None = None, n_entries: int = 0) -> None:
        self.doc = doc  #: the top-level fields (``log_history`` empty, or absent for a torn file)
        self.steps = steps  #: Float64, one per entry (null where the entry has no numeric step)
        self.epochs = epochs  #: Float64, one per entry
        self.sigs = sigs  #: the entries' key tuples, in order of first appearance
        self.nonnull = nonnull  #: (signature number, key) pairs with at least one numeric value
        self.parts = parts  #: key -> frames of (``_i`` UInt32 entry number, ``value`` Float64), non-null values
        #: (signature number, key) -> values that are not numbers (strings, booleans, ``[]``, ``{}``)
        self.dropped = dropped
        self.hidden_entries = hidden_entries  #: entries of a training signature with grad_norm non-finite, loss finite
        self.torn_line = torn_line  #: the line of the cut of a file cut off inside log_history, else None
        self.n_entries = n_entries  #: log_history entries read


def _read_lines(piece: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(piece), separator=_SEP, has_header=False, quote_char=None, infer_schema=False,
                       new_columns=["line"], encoding="utf8")


class _State:
    def __init__(self, train_sig: Any) -> None:
        self.train_sig = train_sig  # callable: key tuple -> True if a training entry with grad_norm and loss
        self.n = 0
        self.sig_ids: dict[str, int] = {}
        self.sigs: list[tuple[str, ...]] = []
        self.hidden_sigs: list[int] = []
        self.nonnull: set[tuple[int, str]] = set()
        self.steps: list[pl.Series] = []
        self.epochs: list[pl.Series] = []
        self.parts: dict[str, list[pl.DataFrame]] = {}
        self.dropped: dict[tuple[int, str], int] = {}
        self.hidden: list[int] = []

    def piece(self, piece: bytes, last: bool, axis: frozenset[str]) -> None:
        # bytes.translate and `in` scan at memory speed (a regex character class is 5x slower)
        if not piece.startswith(b"    {\n") or b"\n\n" in piece or len(piece.translate(None, _CONTROL)) != len(piece):
            raise Unusual("control byte or blank line")
        if not piece.isascii():
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:
                raise Unusual("not UTF-8") from None
        lines = _read_lines(piece)
        line = pl.col("line")
        # A key line: 6 spaces, "key": token, a comma unless last. Split at the first '": ' (3x faster
        # than a regex with groups); the keys are checked below, once per distinct entry signature.
        is_key = line.str.starts_with('      "')
        split = line.str.split_exact('": ', 1)
        df = lines.lazy().select(
            (line == "    {").alias("o"),
            line.is_in(["    }", "    },"]).alias("c"),
            line.str.ends_with(",").alias("comma"),
            is_key.alias("k"),
            split.alias("_s"),
        ).select(
            "o", "c", "comma",
            (pl.col("k") & pl.col("_s").struct.field("field_1").is_not_null()).alias("k"),
            pl.col("_s").struct.field("field_0").str.slice(7).alias("key"),
            pl.col("_s").struct.field("field_1").str.strip_suffix(",").alias("tok"),
        ).collect()
        del lines
        k = pl.col("k")
        o, c = pl.col("o"), pl.col("c")
        depth = (o.cast(pl.Int8) - c.cast(pl.Int8)).cum_sum()
        n_lines = df.height
        last_row = pl.int_range(pl.len()) == n_lines - 1
        bad = df.select(
            (~o & ~c & ~k).any().alias("shape"),
            ((depth < 0) | (depth > 1) | (k & (depth != 1))).any().alias("depth"),
            (depth.last() != 0).alias("open"),
            (o & ~k.shift(-1).fill_null(False)).any().alias("empty"),
            (k & (pl.col("comma") != k.shift(-1).fill_null(False))).any().alias("key_comma"),
            (c & (pl.col("comma") != ~(last_row if last else pl.lit(False)))).any().alias("entry_comma"),
        ).row(0, named=True)
        if any(bad.values()):
            raise Unusual(", ".join(name for name, v in bad.items() if v))
        offset = self.n
        tok = pl.col("tok")
        special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf"), "-0": 0.0}
        keys = df.lazy().with_columns(
            (o.cast(pl.Int64).cum_sum() - 1 + offset).cast(pl.UInt32).alias("_i")
        ).filter(k).select(
            "_i",
            "key",
            pl.when(tok.is_in(list(special))).then(tok.replace_strict(special, default=None, return_dtype=pl.Float64))
            .when(tok.str.contains(_NUMBER)).then(tok.cast(pl.Float64, strict=False))
            .otherwise(None).alias("value"),
            (tok.is_in(["true", "false", "[]", "{}"]) | tok.str.contains(_STRING)).alias("other"),
            tok.str.contains(_NUMBER).alias("num"),
            tok.is_in([*special, "null"]).alias("known"),
        ).collect()
        del df
        bad = keys.select(
            (~pl.col("num") & ~pl.col("known") & ~pl.col("other")).any().alias("token"),
            (pl.col("num") & pl.col("value").is_null()).any().alias("number"),
        ).row(0, named=True)
        if any(bad.values()):
            raise Unusual(", ".join(name for name, v in bad.items() if v))
        # One signature (the entry's keys in order) per entry; a run has a handful.
        per_entry = keys.group_by("_i", maintain_order=True).agg(pl.col("key").str.join(_SEP).alias("sig"))
        n = per_entry.height
        for s in per_entry.get_column("sig").unique(maintain_order=True).to_list():
            if s not in self.sig_ids:
                sig = tuple(s.split(_SEP))
                if len(set(sig)) != len(sig):
                    raise Unusual("repeated key in an entry")  # json keeps the last value: rare, not modelled
                if any(_BAD_KEY.search(key) for key in sig):
                    raise Unusual("a key with a quote, an escape or a control character")
                self.sig_ids[s] = len(self.sigs)
                self.sigs.append(sig)
                if self.train_sig(sig):
                    self.hidden_sigs.append(self.sig_ids[s])
        entry_sig = per_entry.get_column("sig").replace_strict(self.sig_ids, return_dtype=pl.UInt32)
        del per_entry
        keys = keys.with_columns(pl.lit(entry_sig).gather(pl.col("_i") - offset).alias("_sig"))
        entries = pl.DataFrame({"_i": pl.int_range(offset, offset + n, dtype=pl.UInt32, eager=True)})
        for axis_key, out in (("step", self.steps), ("epoch", self.epochs)):
            got = keys.filter(pl.col("key") == axis_key).select("_i", "value")
            # sorted after: join's maintain_order= is polars >= 1.18, and older left joins kept order only in practice
            out.append(entries.join(got, on="_i", how="left").sort("_i").get_column("value"))
        for sid, key in keys.filter(pl.col("value").is_not_null()).select("_sig", "key").unique().iter_rows():
            self.nonnull.add((sid, key))
        counted = keys.filter(pl.col("other") & ~pl.col("key").is_in(list(axis))).group_by("_sig", "key").len()
        for sid, key, cnt in counted.iter_rows():
            self.dropped[(sid, key)] = self.dropped.get((sid, key), 0) + cnt
        if self.hidden_sigs:
            g = keys.filter((pl.col("key") == "grad_norm") & pl.col("_sig").is_in(self.hidden_sigs)).select(
                "_i", pl.col("value").alias("g"))
            loss = keys.filter(pl.col("key") == "loss").select("_i", pl.col("value").alias("l"))
            hid = g.join(loss, on="_i", how="inner").filter(~pl.col("g").is_finite() & pl.col("l").is_finite())
            self.hidden.extend(hid.get_column("_i").to_list())
        values = keys.filter(pl.col("value").is_not_null() & ~pl.col("key").is_in(list(axis))).select(
            "key", "_i", "value")
        del keys
        for (key,), part in values.partition_by("key", as_dict=True, include_key=False).items():
            self.parts.setdefault(key, []).append(part)
        self.n += n


def _pieces(fh: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """The file as ``("head", text up to "log_history": [)``, ``("piece", whole entries)`` ...,
    then ``("last", the last entries)`` and ``("tail", the rest from the array's ])``, or, for a file
    that ends inside the array, ``("torn", the bytes after the last whole entry)``."""
    buf = b""
    while True:
        chunk = fh.read(PIECE_BYTES)
        buf += chunk
        m = _START.search(buf)
        if m is not None:
            break
        if not chunk or len(buf) > HEAD_LIMIT:
            raise Unusual("no pretty-printed log_history in the head")
    yield "head", buf[: m.end() - 1]
    buf = buf[m.end():]
    while True:
        end = buf.find(_ARRAY_END)
        if end >= 0:
            yield "last", buf[: end + 1]
            yield "tail", buf[end + 3:] + fh.read()
            return
        cut = buf.rfind(_ENTRY_CUT)
        if cut >= 0:
            piece, buf = buf[: cut + len(_ENTRY_CUT)], buf[cut + len(_ENTRY_CUT):]
            yield "piece", piece
            del piece
        chunk = fh.read(PIECE_BYTES)
        if not chunk:
            yield "torn", buf
            return
        buf += chunk


def _entry_lines(entries: list[Any]) -> bytes:
    """Entries as the Trainer writes them inside ``log_history`` (a piece for :meth:`_State.piece`)."""
    return (",\n".join("    " + json.dumps(e, indent=2).replace("\n", "\n    ") for e in entries) + "\n").encode()


def read_columns(fh: BinaryIO, *, axis: frozenset[str], train_sig: Any, log_history: re.Pattern[str],
                 size: int = 0, recover: Any = None) -> Columns:
    """Read a pretty-printed ``trainer_state.json`` from ``fh`` into columns; :class:`Unusual` if the
    file is not in that layout (read it with ``json``). ``axis`` are the keys that are not metrics,
    ``train_sig(keys)`` says whether entries with these keys are training logs checked for a hidden
    NaN, ``log_history`` finds the key in the top-level text; ``size`` (the file's) is for the progress
    indicator.

    A file cut off inside ``log_history`` (being written) is salvaged when ``recover`` is given:
    ``recover(text)`` gets the top-level text up to the array's ``[`` and the bytes after the last
    whole entry (all that json's salvage looks at, since every entry before them is whole), and
    returns ``(doc, cut_line)`` as json's salvage does on that text, or raises :class:`Unusual`.
    Its entries are added, the line numbered as in the whole file (:attr:`Columns.torn_line`)."""
    st = _State(train_sig)
    head = tail = b""
    torn: bytes | None = None
    lines_before = 0  # lines of the file before the current piece
    report = READ_PROGRESS.get()
    try:
        for kind, data in _pieces(fh):
            if kind == "head":
                head = data
                lines_before = head.count(b"\n") + 1
            elif kind in ("piece", "last"):
                if data:
                    st.piece(data, kind == "last", axis)
                    lines_before += data.count(b"\n")
                if report is not None and size:
                    report(min(fh.tell() / size, 1.0))
            elif kind == "tail":
                tail = data
            else:
                torn = data
    except pl.exceptions.PolarsError as exc:
        raise Unusual(f"polars: {exc}") from None
    torn_line = None
    try:
        if torn is None:
            top = head.decode("utf-8") + tail.decode("utf-8")
            doc = json.loads(top)
            if not isinstance(doc, dict) or doc.get("log_history") != []:
                raise Unusual("top level is not one object with one log_history")
        else:
            if recover is None:
                raise Unusual("log_history does not close (file cut off?)")
            top = head.decode("utf-8")
            text = top + "\n" + torn.decode("utf-8")  # top ends with log_history's [
            doc, cut_line = recover(text)
            torn_line = cut_line + lines_before - (top.count("\n") + 1)
            more = doc.pop("log_history")
            if not all(type(e) is dict and e for e in more):
                raise Unusual("an entry after the last whole one is not a JSON object with keys")
            if more:
                st.piece(_entry_lines(more), True, axis)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, pl.exceptions.PolarsError) as exc:
        raise Unusual(f"top-level fields: {exc}") from None
    if len(log_history.findall(top)) != 1:
        raise Unusual("log_history more than once in the top-level text")
    if st.n == 0 or not st.parts:
        raise Unusual("no numeric values")
    steps = pl.concat(st.steps) if st.steps else pl.Series(dtype=pl.Float64)
    epochs = pl.concat(st.epochs) if st.epochs else pl.Series(dtype=pl.Float64)
    return Columns(doc, steps, epochs, st.sigs, st.nonnull, st.parts, st.dropped, st.hidden, torn_line, st.n)
