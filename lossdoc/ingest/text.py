"""Vectorised helpers for line-oriented logs (polars, no per-line Python loop).

``load_lines`` reads a log as one string column (``scan_csv`` with an unused separator,
``research/perf.md``), keeps 1-based line numbers, and cleans the usual mess of captured
stdout: ANSI colour codes, tqdm / Keras ``\\r`` redraws (each segment becomes its own row,
with the physical line number), backspaces, and ``[rank0]:`` prefixes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar

import numpy as np
import polars as pl

from lossdoc.ingest.inputs import InputFile
from lossdoc.model import COMPACT_STEP_MAX, IngestNote

ANSI_RE = r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]"
RANK_RE = r"^\[(?:[Rr]ank|RANK)\s*(\d+)\]:?\s?"
_SEP = "\x1f"


def _scan(inp: InputFile) -> pl.LazyFrame:
    kw = dict(
        separator=_SEP,
        has_header=False,
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
        glob=False,  # a file named run[1].log or *.log is a name, not a pattern
    )
    if inp.is_utf8_file():
        assert inp.path is not None
        return pl.scan_csv(inp.path, **kw)  # type: ignore[arg-type]
    text = inp.read_text()
    return pl.scan_csv(io.BytesIO(text.encode("utf-8")), **kw)  # type: ignore[arg-type]


def load_lines(inp: InputFile, *, clean: bool = True, notes: list[IngestNote] | None = None) -> pl.DataFrame:
    """Read ``inp`` as a frame with columns ``lineno`` (Int64, 1-based) and ``line`` (String).

    With ``clean`` (default) ANSI escapes and backspaces are removed, lines holding ``\\r``
    redraws are split into one row per segment (same ``lineno``), and rank prefixes such
    as ``[rank0]:`` are stripped; when several ranks print, only the lowest rank's lines are
    kept and a note says so (appended to ``notes`` when given).
    """
    try:
        df = _scan(inp).with_row_index("lineno", offset=1).collect()
    except pl.exceptions.NoDataError:  # nothing left after decoding (only a BOM or NUL bytes)
        df = pl.DataFrame({"lineno": [], "line": []}, schema={"lineno": pl.Int64, "line": pl.String})
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
        # polars refuses some malformed inputs (e.g. a separator inside a line); fall back to Python.
        text = inp.read_text()
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        df = pl.DataFrame({"line": [ln.rstrip("\r") for ln in lines]}).with_row_index("lineno", offset=1)
    df = df.with_columns(pl.col("lineno").cast(pl.Int64), pl.col("line").fill_null(""))
    # NUL bytes past the sniffed head (a crash zero-fills a block, then the log goes on): drop them.
    if df.height and df.select(pl.col("line").str.contains("\x00", literal=True).any()).item():
        n = df.select(pl.col("line").str.count_matches("\x00", literal=True).sum()).item()
        df = df.with_columns(pl.col("line").str.replace_all("\x00", "", literal=True))
        if notes is not None:
            notes.append(IngestNote("decoding", f"{n} NUL byte(s) removed"))
    if not clean or df.height == 0:
        return df
    line = pl.col("line")
    # One scan for the three control characters (most logs have none), then one per character found.
    if df.select(line.str.contains(r"[\x1b\x08\r]").any()).item():
        if df.select(line.str.contains("\x1b", literal=True).any()).item():
            df = df.with_columns(line.str.replace_all(ANSI_RE, ""))
        if df.select(line.str.contains("\x08", literal=True).any()).item():
            df = df.with_columns(line.str.replace_all("\x08", "", literal=True))
        if df.select(line.str.contains("\r", literal=True).any()).item():
            df = df.with_columns(line.str.split("\r")).explode("line").filter(pl.col("line") != "")
    if df.select(line.str.starts_with("[").any()).item() and \
            df.select(line.str.contains(r"^\[(?:[Rr]ank|RANK)\s*\d+\]").any()).item():
        df = df.with_columns(line.str.extract(RANK_RE, 1).cast(pl.Int64).alias("_rank"))
        ranks = df.get_column("_rank").drop_nulls().unique().sort().to_list()
        if len(ranks) > 1:
            df = df.filter(pl.col("_rank").is_null() | (pl.col("_rank") == ranks[0]))
            if notes is not None:
                notes.append(
                    IngestNote("other", f"lines from {len(ranks)} ranks interleaved; kept rank {ranks[0]}'s lines")
                )
        df = df.with_columns(line.str.replace(RANK_RE, "")).drop("_rank")
    return df


#: Bytes :func:`load_lines` cleans away (NUL, ANSI escape, backspace, carriage return).
_DIRTY_BYTES = (b"\x00", b"\x1b", b"\x08", b"\r")
#: A line :func:`load_lines` strips a rank prefix from.
RANK_AT_START = r"^\[(?:[Rr]ank|RANK)\s*\d+\]"


def scan_lines(inp: InputFile) -> pl.LazyFrame | None:
    """:func:`load_lines` as a lazy ``(lineno, line)`` frame, for parsers that stream big logs.

    Collected with ``engine="streaming"``, a query on it holds one chunk of lines at a time
    instead of the whole file as a string column (extracting a 10^7-line nanoGPT log: 0.7 GB peak
    RSS instead of 1.3 GB). Returns None (use :func:`load_lines`) unless ``inp`` is a plain UTF-8 file on
    disk free of the bytes ``load_lines`` cleans (NUL, ESC, backspace, CR: one ``memchr`` pass,
    about 1 GB/s). Rank prefixes are not looked for here: a streaming parser selects
    ``pl.col("line").str.contains(RANK_AT_START).any()`` in its own pass and falls back to
    ``load_lines`` when it is true. Errors polars raises on malformed input surface at collect
    time; fall back to ``load_lines`` on ``polars.exceptions.PolarsError`` too. When line numbers
    are only needed for rare notes, :func:`stream_queries` is cheaper (no mapping of the whole file,
    no numbering).
    """
    if inp.path is None or not inp.is_utf8_file():
        return None
    try:
        with open(inp.path, "rb") as fh:
            while chunk := fh.read(1 << 24):
                if any(b in chunk for b in _DIRTY_BYTES):
                    return None
    except OSError:
        return None
    return _scan(inp).with_row_index("lineno", offset=1).with_columns(
        pl.col("lineno").cast(pl.Int64), pl.col("line").fill_null(""))


#: Bytes of a log :func:`stream_queries` hands to polars at a time. Below glibc's 32 MB ceiling for
#: its dynamic mmap threshold, so after the first piece the buffers are reused from the heap instead
#: of faulted in afresh (10^7-step log: ~0.5 s less system time than with 32 MB pieces).
CHUNK_BYTES = 16 << 20

#: Set by :func:`lossdoc.ingest.read` while a path is read: called with the fraction of the file
#: read so far, for the progress indicator ("reading run.log (37%)").
READ_PROGRESS: ContextVar[Callable[[float], None] | None] = ContextVar("lossdoc_read_progress", default=None)


def stream_queries(inp: InputFile, queries: Callable[[pl.LazyFrame], Sequence[pl.LazyFrame]], *,
                   no_ranks: bool = True, chunk_bytes: int | None = None,
                   lineno: bool = False, keep_cr: bool = False,
                   limit: int | None = None, compact: Sequence[str] = ()) -> list[pl.DataFrame] | None:
    """Run ``queries(lines)`` over ``inp`` one chunk of whole lines at a time; one frame per query.

    ``lines`` is a lazy frame with one String column ``line`` (no line numbers; with ``lineno``, also
    ``lineno``, Int64, 1-based, the numbers :func:`load_lines` gives a clean file; with ``keep_cr``, a
    carriage return is not a reason to return None: it stays in ``line``, for the caller; with
    ``limit``, only the file's first ``limit`` bytes are read: a snapshot of a file still growing,
    consistent with a size and torn-line check made before; with ``compact``, the Int64 columns of
    those names come back as Int32 when every value is from 0 to :data:`lossdoc.model.COMPACT_STEP_MAX`
    (a step column, :data:`lossdoc.model.COMPACT_STEP`): packed so from the start, widened once to
    Int64 by the first piece with a value that does not fit). The file is read in
    ``chunk_bytes`` (default :data:`CHUNK_BYTES`) pieces cut at line breaks, each checked for the bytes :func:`load_lines` cleans
    (and, with ``no_ranks``, for ``[rank``-style prefixes) and scanned by polars' streaming engine;
    numeric results are packed into over-allocated numpy buffers (pages never written cost no
    memory) and handed to polars without a copy. So a 520 MB log is never mapped or held whole:
    peak memory is one chunk plus the results (the checks then read them as numpy arrays, again
    without a copy). Returns None when the input needs :func:`load_lines` (not a plain UTF-8 file
    on disk, dirty bytes, rank prefixes) or polars rejects a chunk: use the line-numbered path.
    """
    if inp.path is None or not inp.is_utf8_file():
        return None
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    dirty = _DIRTY_BYTES[:3] if keep_cr else _DIRTY_BYTES
    size = inp.size if limit is None else limit
    report = READ_PROGRESS.get()
    done = 0
    acc: list[_Packer] | None = None
    pending: Future[list[pl.DataFrame]] | None = None

    def pack(fut: Future[list[pl.DataFrame]], size: int) -> None:
        nonlocal acc, done
        got = fut.result()
        if acc is None:
            acc = [_Packer(inp.size, size, compact) for _ in got]
        for a, df in zip(acc, got):
            a.add(df)
        done += size
        if report is not None and inp.size:
            report(min(done / inp.size, 1.0))

    def framed(chunk: bytes, first: int) -> pl.LazyFrame:
        lines = pl.scan_csv(io.BytesIO(chunk), separator=_SEP, has_header=False, quote_char=None,
                            infer_schema=False, new_columns=["line"], truncate_ragged_lines=True,
                            encoding="utf8-lossy")
        if lineno:
            lines = lines.with_row_index("lineno", offset=first).with_columns(pl.col("lineno").cast(pl.Int64))
        return lines.with_columns(pl.col("line").fill_null(""))

    if size <= chunk_bytes:
        # One piece (a sweep's small runs): no reader and scanner threads to start and join, which cost
        # ~1-3 ms a file against a few ms of scanning.
        try:
            with open(inp.path, "rb") as fh:
                chunk = fh.read() if limit is None else fh.read(limit)
            if not chunk:
                return None
            if any(b in chunk for b in dirty) or (no_ranks and _RANK_BYTES.search(chunk)):
                return None
            got = pl.collect_all(list(queries(framed(chunk, 1))), engine="streaming")
        except (OSError, pl.exceptions.PolarsError):
            return None
        acc = [_Packer(inp.size, len(chunk), compact) for _ in got]
        for a, df in zip(acc, got):
            a.add(df)
        if report is not None:
            report(1.0)
        return [a.frame() for a in acc]
    try:
        # Three things overlap: the next piece is read (I/O), polars scans the current one (native
        # threads, GIL released), and the previous piece's numbers are copied into place.
        with open(inp.path, "rb") as fh, ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as scanner:
            rest = b""
            first = 1  # number of the chunk's first line
            left = [size if limit is not None else -1]  # bytes still to read (-1: to the end)

            def read() -> bytes:
                if left[0] < 0:
                    return fh.read(chunk_bytes)
                got = fh.read(min(chunk_bytes, left[0]))
                left[0] -= len(got)
                return got

            ahead = reader.submit(read)
            pending_size = 0
            while True:
                buf = ahead.result()
                if buf:
                    ahead = reader.submit(read)
                    cut = buf.rfind(b"\n") + 1
                    if cut == 0:  # a line longer than a chunk
                        rest += buf
                        continue
                    # one copy (rest + buf[:cut] would copy the piece twice)
                    chunk = b"".join((rest, memoryview(buf)[:cut])) if rest else buf[:cut]
                    rest = buf[cut:]
                else:
                    chunk, rest = rest, b""
                if chunk:
                    if any(b in chunk for b in dirty) or (no_ranks and _RANK_BYTES.search(chunk)):
                        return None
                    lines = framed(chunk, first)
                    if lineno:  # (every chunk but the last ends with a line break)
                        first += chunk.count(b"\n") + (chunk[-1:] != b"\n")
                    lazy = list(queries(lines))
                    nxt = scanner.submit(pl.collect_all, lazy, engine="streaming")
                    if pending is not None:
                        pack(pending, pending_size)
                    pending, pending_size = nxt, len(chunk)
                    del lines, chunk
                if not buf:
                    break
            if pending is not None:
                pack(pending, pending_size)
    except (OSError, pl.exceptions.PolarsError):
        return None
    if acc is None:
        return None
    return [a.frame() for a in acc]


#: Column types :class:`_Packer` packs into numpy buffers (others are concatenated as frames).
_PACKED = {pl.Int64: np.int64, pl.Float64: np.float64, pl.UInt16: np.uint16}


#: The narrower buffer :class:`_Packer` packs a ``compact`` column of these types into while every
#: value is in the range given, and the type it is widened to at the first value that is not.
_NARROW = {pl.Int64: (np.int32, 0, COMPACT_STEP_MAX, np.int64)}


class _Packer:
    """Appends per-chunk frames into numpy buffers sized from the first chunk's density; the Int64
    columns named in ``compact`` go into int32 buffers as long as every value fits (:data:`_NARROW`;
    the buffer is widened at the first piece with one that does not)."""

    def __init__(self, total_bytes: int, first_chunk_bytes: int, compact: Sequence[str] = ()) -> None:
        self.total_bytes, self.first_bytes = total_bytes, max(first_chunk_bytes, 1)
        self.compact = frozenset(compact)
        self.cols: dict[str, np.ndarray] = {}
        self.nulls: dict[str, list[np.ndarray]] = {}
        self.other: list[pl.DataFrame] = []  # frames with non-numeric columns: concatenated instead
        self.schema: pl.Schema | None = None
        self.n = 0

    def add(self, df: pl.DataFrame) -> None:
        if self.schema is None:
            self.schema = df.schema
            numeric = all(dt in _PACKED for dt in df.schema.values())
            if numeric:
                cap = int(df.height * self.total_bytes / self.first_bytes * 1.25) + 1024
                self.cols = {c: np.empty(cap, dtype=_NARROW[dt][0] if c in self.compact and dt in _NARROW else _PACKED[dt])
                             for c, dt in df.schema.items()}
        if not self.cols:
            if df.height and any(dt in (pl.String, pl.Binary) for dt in df.schema.values()):
                # Strings kept from a piece are views into the piece's text buffers (Arrow string
                # views): filtering 50 lines out of a 16 MB piece kept all 16 MB alive. Concatenating
                # into one chunk copies them out.
                df = pl.concat([df, df.clear()], how="vertical", rechunk=True)
            self.other.append(df)
            return
        k = df.height
        if not k:
            return
        cap = next(iter(self.cols.values())).size
        if self.n + k > cap:  # the estimate was short: grow (rare)
            new = max(2 * cap, self.n + k)
            for c, arr in self.cols.items():
                grown = np.empty(new, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                self.cols[c] = grown
        for c in self.cols:
            s = df.get_column(c)
            narrow = _NARROW.get(s.dtype)  # type: ignore[call-overload]
            if narrow is not None and self.cols[c].dtype == narrow[0] and s.len() > s.null_count():
                lo, hi = s.min(), s.max()
                if int(lo) < narrow[1] or int(hi) > narrow[2]:  # type: ignore[arg-type]
                    wide = np.empty(self.cols[c].size, dtype=narrow[3])  # does not fit: the wide type from here on
                    wide[: self.n] = self.cols[c][: self.n]
                    self.cols[c] = wide
            if s.null_count():
                self.nulls.setdefault(c, []).append(self.n + np.flatnonzero(s.is_null().to_numpy()))
                s = s.fill_null(0)
            at = self.n
            for part in s.get_chunks():  # each chunk is one buffer: copied once, straight into place
                # (into an int32 buffer only when the range check above passed: the cast is exact)
                self.cols[c][at : at + part.len()] = part.to_numpy()
                at += part.len()
        self.n += k

    def frame(self) -> pl.DataFrame:
        assert self.schema is not None
        if not self.cols:
            return pl.concat(self.other, how="vertical", rechunk=True) if self.other else pl.DataFrame(schema=self.schema)
        out = []
        for c, arr in self.cols.items():
            s = pl.Series(c, arr[: self.n])  # numpy-backed, no copy
            if c in self.nulls:
                mask = np.zeros(self.n, dtype=bool)
                mask[np.concatenate(self.nulls[c])] = True
                s = pl.select(pl.when(pl.lit(pl.Series(mask))).then(None).otherwise(pl.lit(s)).alias(c)).to_series()
            out.append(s)
        return pl.DataFrame(out)


#: The rank prefixes :func:`load_lines` strips (``[rank0]:``, ``[RANK 1]``, ``[Rank 2]``), in bytes: one
#: regex search is 4x faster than three ``in`` tests.
_RANK_BYTES = re.compile(rb"\[(?:rank|RANK|Rank)")


def last_line(inp: InputFile, max_bytes: int = 1 << 16) -> str:
    """The text after the last line break of ``inp`` (the torn line of a file still being written)."""
    if inp.data is not None:
        tail = inp.data[-max_bytes:]
    else:
        assert inp.path is not None
        with open(inp.path, "rb") as fh:
            fh.seek(max(inp.size - max_bytes, 0))
            tail = fh.read()
    return tail.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")


def snapshot(inp: InputFile) -> tuple[int, bool]:
    """(size, torn) of ``inp`` now: its size in bytes, and whether its last byte is not a line break.
    A reader of a file that may still grow reads that many bytes (``limit=``), so that what it reads
    and its torn-line note agree."""
    size = inp.size
    if not size:
        return 0, False
    if inp.data is not None:
        return size, inp.data[size - 1:size] != b"\n"
    assert inp.path is not None
    with open(inp.path, "rb") as fh:
        fh.seek(size - 1)
        return size, fh.read(1) != b"\n"


def count_lines(inp: InputFile, limit: int | None = None) -> int:
    """Number of lines of ``inp`` (a last line without a line break counts); of its first ``limit``
    bytes when given."""
    n = 0
    last = b""
    if inp.data is not None:
        data = inp.data if limit is None else inp.data[:limit]
        n, last = data.count(b"\n"), data[-1:]
    else:
        assert inp.path is not None
        left = -1 if limit is None else limit
        with open(inp.path, "rb") as fh:
            while left and (chunk := fh.read(1 << 24 if left < 0 else min(1 << 24, left))):
                n += chunk.count(b"\n")
                last = chunk[-1:]
                left -= len(chunk) if left > 0 else 0
    return n + (1 if last and last != b"\n" else 0)


_ANSI = re.compile(ANSI_RE)
_RANK_LINE = re.compile(r"^\[(?:[Rr]ank|RANK)\s*\d+\]:?\s?", re.M)


def clean_head(text: str) -> str:
    """The sniffing counterpart of :func:`load_lines`: ``text`` (a file's head) without ANSI escapes,
    backspaces and ``[rank0]:`` prefixes, with ``\r`` redraws turned into line breaks, so a sniffer's
    ``^``-anchored patterns see the same lines the parser will."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\x08" in text:
        text = text.replace("\x08", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "ank" in text or "RANK" in text:
        text = _RANK_LINE.sub("", text)
    return text


#: A number as trainers print it (``%f``, ``%g``, ``repr``, scientific), or a non-finite spelling
#: (``nan``, ``inf``, ``NaN``, ``Infinity``): the one pattern the line readers share.
LOG_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|NaN|Infinity)"


def matching(lines: pl.DataFrame, pattern: str) -> pl.DataFrame:
    """The rows of ``lines`` whose ``line`` matches ``pattern``, with its capture groups as columns ``"1"``,
    ``"2"``, ... (vectorised: one regex pass to filter, one to extract)."""
    line = pl.col("line")
    return lines.filter(line.str.contains(pattern)).with_columns(line.str.extract_groups(pattern).alias("_g")).unnest("_g")


def to_float(expr: pl.Expr) -> pl.Expr:
    """String -> Float64 keeping ``nan``/``NAN``/``+nan``/``-nan``/``inf``/``Infinity`` as values."""
    return expr.str.strip_chars().str.strip_chars_start("+").cast(pl.Float64, strict=False)


def torn_tail_note(inp: InputFile, last_lineno: int | None, what: str = "line", *,
                   torn: bool | None = None) -> IngestNote | None:
    """A ``torn_tail`` note when the input does not end with a newline (still being written); ``torn``:
    whether it did not, as the caller saw it (when it read a snapshot of a file still growing)."""
    if last_lineno is None:  # no line at all (e.g. only NUL bytes): nothing torn to drop
        return None
    if torn if torn is not None else (inp.size and not inp.ends_with_newline()):
        return IngestNote(
            "torn_tail",
            f"last {what} has no line ending (file still being written?); a partial value there is ignored",
            line=last_lineno,
        )
    return None
