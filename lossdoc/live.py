"""Following a growing log: the machinery of ``lossdoc watch`` and ``lossdoc run``.

:class:`FileTail` keeps what it has parsed of a text log and, on each :meth:`FileTail.poll`, reads
only the bytes appended since (up to the last complete line: a torn last line is waited for). It
survives rotation (the path names a new inode: the old file is drained, then the new one is read
from its start) and truncation (the file shrank: read again from its start); the rows already read
are kept, and a new file whose steps go back is the resumed run the normaliser notes as a restart.

Whether a format can be parsed piecewise is tested on the log itself, not assumed: once the file has
enough lines, its first part is parsed whole and as two halves; if the halves give the same rows
(or do so with the file's first line, a CSV header, in front of the second half), new lines are
parsed on their own from then on. Otherwise (a JSON document rewritten whole, a trainer that
numbers steps by line) the file is re-read whole when it changes. A TensorBoard logdir is followed
per event file, reading only the appended records; other directories are re-read when a file in
them changes.

:class:`Watcher` runs the checks on what has been read (no more often than one analysis per
``interval`` and never more than half the time), prints each new finding once, rewrites the outputs
atomically and calls ``--notify``. The checks see every point (no down-sampling).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from lossdoc.checks.findings import Finding, Severity
from lossdoc.errors import InputError, LossdocError
from lossdoc.model import IngestNote, LogSet, ParseResult, Source, conform, join_blocks

#: Complete lines a file needs before it is tested for piecewise parsing.
DECIDE_LINES = 16
#: The piecewise test parses at most this much of the file's start.
DECIDE_BYTES = 4 << 20
#: Blocks kept before they are joined into one (each tick adds one per series).
MAX_BLOCKS = 64
#: Notes kept from piecewise parsing (each piece may report its own skipped lines).
MAX_NOTES = 200

ALERT_SCHEMA = "lossdoc/alert-1"
#: Categories whose findings come in separate episodes (each announced).
EPISODIC = frozenset({"loss_spikes", "non_finite"})
#: Categories about how a run ended: meaningless while it is running, kept for the final report.
AT_END = frozenset({"still_improving"})


# --------------------------------------------------------------------------- outputs
def write_report_outputs(report: Any, *, html: str | None, markdown: str | None, json_out: str | None,
                         junit: str | None) -> list[tuple[str, str]]:
    """Each requested output written through :func:`lossdoc.outputs.write_text`: a temporary file
    beside it renamed over it (a reader sees the old or the new report, never half of one), never
    through a symlink. Returns [(kind, path)] of the files written (not standard output)."""
    from lossdoc.outputs import write_text

    done: list[tuple[str, str]] = []
    if json_out:
        write_text(json_out, report.to_json(), opt="--json", kind="json")
        done.append(("JSON", json_out))
    if markdown:
        write_text(markdown, report.to_markdown(), opt="--markdown", kind="markdown")
        done.append(("Markdown", markdown))
    if junit:
        from lossdoc.report.render_junit import render_junit

        write_text(junit, render_junit(report), opt="--junit", kind="xml")
        done.append(("JUnit", junit))
    if html:
        write_text(html, report.to_html(), opt="--html", kind="html")
        done.append(("HTML", html))
    return [(k, p) for k, p in done if p != "-"]


# --------------------------------------------------------------------------- one growing text file
def _same_rows(a: list[pl.DataFrame], b: list[pl.DataFrame]) -> bool:
    """Do two parses hold the same rows (in any block layout)?"""
    fa = conform(join_blocks([conform(x) for x in a]))
    fb = conform(join_blocks([conform(x) for x in b]))
    if fa.height != fb.height:
        return False
    if fa.height == 0:
        return True
    cols = list(fa.columns)
    fa, fb = fa.sort(cols, nulls_last=True), fb.sort(cols, nulls_last=True)
    try:
        from polars.testing import assert_frame_equal

        assert_frame_equal(fa, fb, check_exact=True)
    except AssertionError:
        return False
    return True


def _nonfinite_loss(blocks: list[pl.DataFrame]) -> bool:
    """Do these new rows hold a NaN or infinite loss? (A cheap look at the new rows only.)"""
    for b in blocks:
        hit = b.select((pl.col("metric").str.contains("loss") & ~pl.col("value").is_finite()).any()).item()
        if hit:
            return True
    return False


def _compressed(data: bytes) -> bool:
    from lossdoc.ingest.inputs import sniff_compression

    return sniff_compression(data[:8]) is not None


def _cut_lines(data: bytes, n: int) -> int:
    """Byte offset just after the ``n``-th newline of ``data`` (or ``len(data)``)."""
    pos = 0
    for _ in range(n):
        i = data.find(b"\n", pos)
        if i < 0:
            return len(data)
        pos = i + 1
    return pos


_KEYS = ("run", "split", "metric", "name")
_VALUES = ("step", "epoch", "wall_time", "value")


class _SeriesRows:
    """Rows kept per series (run, split, metric, name): the value columns of each, appended chunk
    by chunk (no copy) and rechunked now and then; handed out as one block per series with literal
    key columns, the layout the normaliser and the checks take without regrouping."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, ...], pl.DataFrame] = {}
        self.archived: dict[tuple[str, ...], int] = {}  # rows of earlier files, per series

    def add(self, blocks: list[pl.DataFrame]) -> None:
        for b in blocks:
            if not b.height:
                continue
            keys = b.select(pl.struct(_KEYS).unique(maintain_order=True)).to_series().to_list()
            parts = [(tuple(keys[0][c] for c in _KEYS), b)] if len(keys) == 1 else [
                (k if isinstance(k, tuple) else tuple(k), g.select(_VALUES))
                for k, g in b.partition_by(list(_KEYS), as_dict=True, maintain_order=True).items()]
            for key, part in parts:
                part = part.select(_VALUES)
                old = self.series.get(key)
                new = part if old is None else pl.concat([old, part], rechunk=False)
                if new.n_chunks() > MAX_BLOCKS:
                    new = new.rechunk()
                self.series[key] = new

    def blocks(self) -> list[pl.DataFrame]:
        return [df.select(*(pl.lit(v, dtype=pl.String).alias(c) for c, v in zip(_KEYS, key)), *_VALUES)
                for key, df in self.series.items() if df.height]

    def archive(self) -> None:
        self.archived = {k: df.height for k, df in self.series.items()}

    def current(self) -> list[pl.DataFrame]:
        out = []
        for key, df in self.series.items():
            cur = df.slice(self.archived.get(key, 0))
            if cur.height:
                out.append(cur.select(*(pl.lit(v, dtype=pl.String).alias(c) for c, v in zip(_KEYS, key)), *_VALUES))
        return out

    def drop_current(self) -> None:
        self.series = {k: df.head(self.archived.get(k, 0)) for k, df in self.series.items()}


class FileTail:
    """Incremental reader of one growing text log (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], display: str | None = None, format: str | None = None) -> None:
        self.path = Path(path)
        self.display = display or os.fspath(path)
        self.format = format
        self.parser: Any = None
        self.mode = "undecided"  # then "lines", "header" or "whole"
        self.events: list[str] = []  # rotation / truncation / mode messages, taken by the watcher
        self.urgent = False  # new rows hold a non-finite loss: analyse now, not at the next interval
        self._fh: Any = None
        self._ident: tuple[int, int] | None = None
        self._offset = 0  # bytes of the current file consumed (always just after a newline)
        self._lines = 0  # complete lines consumed from the current file
        self._buf = b""  # the current file's consumed bytes while undecided / in whole mode
        self._header = b""
        self._verify_at = 0
        self._top_step: int | None = None  # the largest step read piecewise from the current file
        self._pending = -1  # size of an unterminated first line at the last poll
        self._whole_sig: tuple[int, int, int] | None = None
        self._stalls = 0
        self._told: set[str] = set()
        self._last = b""  # the last bytes read (up to 64), to notice a rewrite
        self._rows = _SeriesRows()  # rows of earlier files and of the current one read piecewise
        self._whole: ParseResult | None = None  # rows of the current file (undecided / whole)
        self._notes: list[IngestNote] = []
        self._meta: dict[str, Any] = {}
        self._version = 0

    # ---- public
    @property
    def version(self) -> int:
        """Grows each time new rows were read."""
        return self._version

    def poll(self, final: bool = False) -> bool:
        """Read what was appended since the last call; True when rows were added. With ``final``
        a last line without its newline is read too (the writer has finished)."""
        changed = False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=self.display) from None
        if self.mode == "whole":
            # A document rewritten whole (or replaced by a rename): re-read when it changed; its
            # rows replace the last read's (they are not an earlier file's to keep).
            sig = None if st is None else (st.st_ino, st.st_size, st.st_mtime_ns)
            if sig is None or sig == self._whole_sig:
                return False
            self._whole_sig = sig
            return self._reparse_whole()
        if self._fh is not None:
            ident = None if st is None else (st.st_dev, st.st_ino)
            if ident != self._ident:
                changed |= self._drain()  # rotated: finish the old file through the open descriptor
                self._close_file("rotated")
            elif st is not None and (st.st_size < self._offset or not self._same_tail()):
                self._close_file("truncated")  # shrank, or rewritten past where it was read to
        if self._fh is None:
            if st is None:
                return changed
            try:
                self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open across polls
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror or exc}", path=self.display) from None
            fst = os.fstat(self._fh.fileno())
            self._ident = (fst.st_dev, fst.st_ino)
        changed |= self._read_new(final)
        return changed

    def source(self) -> Source | None:
        """Everything read so far as one normalised :class:`Source` (None before any rows)."""
        from lossdoc.ingest import _finish

        blocks = self._rows.blocks()
        if self.mode not in ("lines", "header") and self._whole is not None:
            blocks += [conform(b) for b in self._whole.blocks]
        blocks = [b for b in blocks if b.height]
        if not blocks or self.parser is None:
            return None
        notes = list(self._notes)
        if self._whole is not None and self.mode not in ("lines", "header"):
            notes += list(self._whole.notes)
        meta = dict(self._meta)
        if self._whole is not None:
            for k, v in self._whole.meta.items():
                meta.setdefault(k, v)
        return _finish(ParseResult(blocks=blocks, notes=notes, meta=meta), self.display, self.parser.name, [])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    # ---- internals
    def _close_file(self, why: str) -> None:
        """The current file is done (rotated away or truncated): keep its rows, start over."""
        if self.mode not in ("lines", "header") and self._whole is not None:
            self._rows.add([conform(b) for b in self._whole.blocks])
        if self._whole is not None and self.mode not in ("lines", "header"):
            self._notes += list(self._whole.notes)
            for k, v in self._whole.meta.items():
                self._meta.setdefault(k, v)
        self._rows.archive()
        self.events.append(f"{self.display} was {why}: reading it again from its start")
        self.close()
        self._ident = None
        self._offset = self._lines = 0
        self._buf = self._header = self._last = b""
        self._whole = None
        self._top_step = None
        self.mode = "undecided"

    def _same_tail(self) -> bool:
        """Do the last bytes read still stand where they were? (A file truncated and written past
        the old length since the last poll does not shrink, but its bytes there changed.)"""
        if not self._last:
            return True
        try:
            return os.pread(self._fh.fileno(), len(self._last), self._offset - len(self._last)) == self._last
        except OSError:
            return False

    def _drain(self) -> bool:
        """Read the rest of a file that was rotated away (its last line need not end in a newline)."""
        return self._read_new(final=True)

    def _read_new(self, final: bool) -> bool:
        self._fh.seek(self._offset)
        data = self._fh.read()
        if not data:
            return False
        if self.mode == "whole" or (self._offset == 0 and _compressed(data)):
            end = len(data)  # re-read whole from disk: no lines to cut (a compressed stream has none)
        else:
            end = data.rfind(b"\n") + 1
        if final and end < len(data):  # the writer is done: its last line will not be finished
            end = len(data)
            chunk = data + b"\n"
        elif end == 0:
            # A torn line only: wait for the rest of it. But a file that is one unterminated line
            # and stays so (a JSON document written without a final newline) is read whole.
            stalled = self._offset == 0 and self._lines == 0 and len(data) == self._pending
            self._pending = len(data)
            if not stalled:
                return False
            self._stalls += 1
            if self._stalls < 2:
                return False
            end, chunk = len(data), data
            if self.parser is None:
                self._buf = data
                if not self._choose():
                    self._buf = b""
                    return False
                self._buf = b""
            self._set_whole("a log that is one unterminated line")
        else:
            chunk = data[:end]
        self._offset += end
        self._last = (self._last + data[:end])[-64:]
        first_line = self._lines
        self._lines += chunk.count(b"\n")
        return self._take(chunk, first_line)

    def _input(self, data: bytes) -> Any:
        from lossdoc.ingest.inputs import InputFile, run_name_for

        return InputFile(name=self.display, inner_name=self.path.name, run_name=run_name_for(self.path), data=data)

    def _parse(self, data: bytes) -> ParseResult:
        from lossdoc.ingest.registry import parse_with
        from lossdoc.ingest.runs import following

        with following():  # the run being written is the one to follow, however short so far
            return parse_with(self.parser, self._input(data))

    def _take(self, chunk: bytes, first_line: int) -> bool:
        if self.mode in ("lines", "header"):
            return self._take_piece(chunk, first_line)
        if self.mode == "undecided":
            self._buf += chunk
        if self.parser is None:
            if not self._choose():
                return False
        if self.mode == "undecided" and self._lines >= DECIDE_LINES:
            self._decide()
            if self.mode in ("lines", "header"):
                return True
        return self._reparse_whole()

    def _choose(self) -> bool:
        from lossdoc.errors import UnknownFormatError
        from lossdoc.ingest.registry import choose, get_parser

        from lossdoc.ingest.inputs import open_file, sniff_compression

        compressed = sniff_compression(self._buf[:8]) is not None
        if compressed and len(self._buf) < 8:
            return False
        try:
            if self.format:
                self.parser = get_parser(self.format)
            else:  # (a compressed log is sniffed decompressed; it can only be re-read whole)
                self.parser = choose(open_file(self.path, self.display) if compressed else self._input(self._buf))
        except UnknownFormatError:
            return False  # not recognisable yet (a banner before the first metric line): wait
        except LossdocError:
            if compressed:
                return False  # a compressed stream cut short: wait for more
            raise
        if compressed:
            self._set_whole("a compressed log cannot be read piecewise")
        return True

    def _reparse_whole(self) -> bool:
        from lossdoc.errors import EmptyInputError

        if self.mode == "whole":
            # Re-read through the ordinary reader: compressed files, JSON rewritten whole...
            from lossdoc.ingest import read_input
            from lossdoc.ingest.inputs import open_file

            try:
                from lossdoc.ingest.runs import following

                with following():
                    src = read_input(open_file(self.path, self.display), self.parser.name)
            except EmptyInputError:
                return False
            except LossdocError as exc:
                # Caught mid-rewrite (a JSON document written whole) or damaged: keep what was read
                # last and try again at the next change.
                msg = f"{self.display}: not readable now ({exc}); keeping the last good read"
                if msg not in self._told:
                    self._told.add(msg)
                    self.events.append(msg)
                return False
            self._whole = ParseResult(blocks=src.blocks, notes=src.notes, meta=src.meta)
        else:
            try:
                self._whole = self._parse(self._buf)
            except LossdocError:
                return False
        self._version += 1
        return True

    def _piecewise_mode(self, test: bytes) -> str | None:
        """"lines" when ``test`` parsed whole gives the rows of its pieces parsed alone (cut at a
        quarter, a half and three quarters), "header" when it does with its first line in front of
        each later piece, else None."""
        n = test.count(b"\n")
        cuts = sorted({_cut_lines(test, n * k // 4) for k in (1, 2, 3)} - {0, len(test)})
        if not cuts:
            return None
        whole = self._parse(test).blocks
        if sum(b.height for b in whole) < 8:
            return None
        bounds = [0, *cuts, len(test)]
        pieces = [test[a:b] for a, b in zip(bounds, bounds[1:])]
        try:
            if _same_rows(whole, [b for p in pieces for b in self._parse(p).blocks]):
                return "lines"
        except LossdocError:
            pass
        header = test[: _cut_lines(test, 1)]
        from lossdoc.errors import EmptyInputError

        try:
            head_rows = sum(b.height for b in self._parse(header).blocks)
        except EmptyInputError:
            head_rows = 0  # "a header but no rows"
        except LossdocError:
            return None
        try:
            if head_rows == 0:
                parts = [b for b in self._parse(pieces[0]).blocks]
                parts += [b for p in pieces[1:] for b in self._parse(header + p).blocks]
                if _same_rows(whole, parts):
                    return "header"
        except LossdocError:
            pass
        return None

    def _decide(self) -> None:
        """Test whether this log parses piecewise (see the module docstring)."""
        test = self._buf
        if len(test) > DECIDE_BYTES:
            test = test[: test.rfind(b"\n", 0, DECIDE_BYTES) + 1] or test
        try:
            mode = self._piecewise_mode(test)
        except LossdocError:
            mode = None
        if mode is None:
            if len(self._buf) > DECIDE_BYTES or self._lines >= 8 * DECIDE_LINES:
                self._set_whole()
            return  # a short file stays undecided (re-parsed whole) until it has more lines
        self.mode = mode
        if mode == "header":
            self._header = test[: _cut_lines(test, 1)]
        res = self._parse(test)
        self._notes += res.notes
        self._meta.update(res.meta)
        self._rows.add([conform(b) for b in res.blocks if b.height])
        self._top_step = _step_span(res.blocks)[1]
        rest = self._buf[len(test):]
        self._buf = b""
        self._whole = None
        self._verify_at = 2 * self._offset
        if rest:
            self._take_piece(rest, test.count(b"\n"))
        self._version += 1

    def _verify(self) -> None:
        """Each time the file doubles, its piecewise rows are checked against one whole parse of it
        (amortised: a constant factor on the bytes read); on a difference it is read whole."""
        self._verify_at = 2 * self._offset
        self._fh.seek(0)
        data = self._fh.read(self._offset)
        try:
            whole = self._parse(data)
        except LossdocError:
            return
        if not _same_rows(whole.blocks, self._rows.current()):
            self.mode = "whole"
            self._whole = whole
            self._rows.drop_current()
            self.events.append(f"{self.display}: read piecewise it differed from a whole read; "
                               "the file is re-read whole when it changes")

    def _set_whole(self, why: str | None = None) -> None:
        self.mode = "whole"
        with contextlib.suppress(OSError):
            st = os.stat(self.path)
            self._whole_sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        self.close()  # (whole mode reads through open_file each time)
        self._buf = b""  # the file is re-read from disk
        why = why or f"{self.parser.name} logs cannot be read piecewise"
        self.events.append(f"{self.display}: {why}; the file is re-read whole when it changes")

    def _take_piece(self, chunk: bytes, first_line: int) -> bool:
        try:
            res = self._parse(self._header + chunk)
        except LossdocError as exc:
            last = first_line + chunk.count(b"\n")
            self._note(IngestNote("skipped_lines", f"lines {first_line + 1}..{last} could not be read: {exc}",
                                  line=first_line + 1))
            return False
        shift = first_line - (1 if self._header else 0)
        for n in res.notes:
            if n.kind == "torn_tail":
                continue
            self._note(IngestNote(n.kind, n.message, line=None if n.line is None else n.line + shift,
                                  run=n.run, count=n.count, step=n.step))
        for k, v in res.meta.items():
            self._meta.setdefault(k, v)
        new = [conform(b) for b in res.blocks if b.height]
        if not new:
            return False
        self.urgent = self.urgent or _nonfinite_loss(new)
        lo, hi = _step_span(new)
        # steps that go back (a resume, or a new run appended to the log) are read as a whole read
        # reads them (lossdoc.ingest.runs keeps the last of several runs): check now, not when the file doubles
        back = lo is not None and self._top_step is not None and lo < self._top_step
        if hi is not None:
            self._top_step = hi if self._top_step is None else max(self._top_step, hi)
        self._rows.add(new)
        if back or self._offset >= self._verify_at:
            self._verify()
        self._version += 1
        return True

    def _note(self, note: IngestNote) -> None:
        if len(self._notes) < MAX_NOTES:
            self._notes.append(note)


def _step_span(blocks: list[pl.DataFrame]) -> tuple[int | None, int | None]:
    """The smallest and largest step in ``blocks`` (None when they hold no row)."""
    spans = [b.select(pl.col("step").min().alias("lo"), pl.col("step").max().alias("hi")).row(0)
             for b in blocks if b.height]
    los = [int(a) for a, _ in spans if a is not None]
    his = [int(b) for _, b in spans if b is not None]
    return (min(los) if los else None), (max(his) if his else None)


# --------------------------------------------------------------------------- directories
class _EventFiles:
    """Per event file of a TensorBoard logdir: the records read so far and where to go on."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[tuple[int, int], int, list[pl.DataFrame], list[IngestNote], bytes]] = {}

    def read(self, path: Path, display: str) -> tuple[pl.DataFrame, list[IngestNote]]:
        from lossdoc.ingest.formats.tfevents import frame_records, read_events

        st = path.stat()
        ident = (st.st_dev, st.st_ino)
        old = self.files.get(path)
        if old is None or old[0] != ident or st.st_size < old[1]:
            old = (ident, 0, [], [], b"")
        _, offset, frames, notes, prefix = old
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
        if data:
            _, _, torn = frame_records(data, display)
            complete = data if torn is None else data[:torn]
            if complete:
                if offset == 0:
                    fr, fnotes = read_events(complete, display)
                    prefix = complete[:1 << 16]
                    if len(prefix) < len(complete):  # cut the prefix at a record boundary
                        _, _, t = frame_records(prefix, display)
                        prefix = prefix if t is None else prefix[:t]
                else:
                    # The file's first records in front: a tag's plugin (scalars) is given with its
                    # first value only; the prefix's own rows come first and are dropped.
                    pre_rows = read_events(prefix, display)[0].height if prefix else 0
                    fr, fnotes = read_events(prefix + complete, display)
                    fr = fr.slice(pre_rows)
                frames = frames + [fr] if fr.height else frames
                if len(frames) > MAX_BLOCKS:
                    frames = [pl.concat(frames)]
                notes = notes + [n for n in fnotes if n.kind != "torn_tail"]
                offset += len(complete)
        self.files[path] = (ident, offset, frames, notes, prefix)
        if not frames:
            return read_events(b"", display)[0], list(notes)
        return (frames[0] if len(frames) == 1 else pl.concat(frames)), list(notes)


class DirTail:
    """A directory: a TensorBoard logdir is followed per event file (only appended records are
    decoded); any other directory is re-read whole when one of its files changes."""

    def __init__(self, path: str | os.PathLike[str], display: str | None = None, format: str | None = None) -> None:
        self.path = Path(path)
        self.display = display or os.fspath(path)
        self.format = format
        self.events: list[str] = []
        self.urgent = False
        self.mode = "whole"
        self._sig: tuple[Any, ...] | None = None
        self._sources: list[Source] = []
        self._events_cache = _EventFiles()
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def _signature(self) -> tuple[Any, ...]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for f in sorted(filenames):
                if f.startswith("."):
                    continue
                with contextlib.suppress(OSError):
                    st = os.stat(os.path.join(dirpath, f))
                    out.append((dirpath, f, st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def poll(self, final: bool = False) -> bool:
        sig = self._signature()
        if sig == self._sig:
            return False
        from lossdoc.errors import EmptyInputError, UnknownFormatError
        from lossdoc.ingest import read_dir
        from lossdoc.ingest.formats import tfevents

        token = tfevents.EVENT_READER.set(self._events_cache.read)
        try:
            sources = read_dir(self.path, self.display, self.format)
        except (EmptyInputError, UnknownFormatError):
            return False  # nothing recognisable in it yet: wait
        finally:
            tfevents.EVENT_READER.reset(token)
        self._sig = sig
        self.mode = "records" if self._events_cache.files else "whole"
        self._sources = sources
        self._version += 1
        return True

    def source(self) -> list[Source]:
        return list(self._sources)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- the watcher
def _ts() -> str:
    return time.strftime("%H:%M:%S")


@dataclass
class WatchOptions:
    format: str | None = None
    config: Any = None
    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    fail_on: str | None = None
    horizon: int | None = None
    exit_on: str = "never"
    interval: float = 2.0
    html: str | None = None
    markdown: str | None = None
    json_out: str | None = None
    junit: str | None = None
    notify: str | None = None
    quiet: bool = False
    extra_notes: list[str] = field(default_factory=list)


class Watcher:
    """Follow ``path`` and run the checks on what it holds; see :meth:`step` and :meth:`final`."""

    def __init__(self, path: str, opts: WatchOptions, *, out: Callable[[str], None] | None = None,
                 err: Callable[[str], None] | None = None) -> None:
        from lossdoc.config import Config, load_config

        self.path = path
        self.opts = opts
        cfg = opts.config if isinstance(opts.config, Config) else load_config(opts.config, start=Path.cwd())
        self.config = cfg.override(select=opts.select, ignore=opts.ignore, fail_on=opts.fail_on)
        p = Path(path)
        self.tail: FileTail | DirTail = DirTail(p, path, opts.format) if p.is_dir() else FileTail(p, path, opts.format)
        # With an output going to standard output, the findings as they come go to stderr.
        stream = sys.stderr if "-" in (opts.html, opts.markdown, opts.json_out, opts.junit) else sys.stdout
        self.out = out or (lambda s: (stream.write(s + "\n"), stream.flush()))
        self.err = err or (lambda s: (sys.stderr.write(s + "\n"), sys.stderr.flush()))
        self.report: Any = None
        self.announced: dict[tuple[Any, ...], tuple[Severity, list[int | None]]] = {}
        self.new_findings: list[Finding] = []
        self.triggered: Finding | None = None
        self._analysed_version = -1
        self._last_analysis = 0.0
        self._analysis_cost = 0.0
        self._notifiers: list[threading.Thread] = []
        self._format_told = False
        self._waiting_told = False

    # ---- one tick
    def step(self, final: bool = False) -> list[Finding]:
        """Read what is new; when due, analyse and return the findings not shown before."""
        now = time.monotonic()
        due = now - self._last_analysis >= max(self.opts.interval, self._analysis_cost)
        if (isinstance(self.tail, DirTail) or self.tail.mode == "whole") and not (due or final):
            return []  # re-read whole (a directory, a JSON document): only when an analysis is due
        self.tail.poll(final=final)
        for e in self.tail.events:
            self.err(f"lossdoc: {e}")
        self.tail.events.clear()
        if self.tail.version == self._analysed_version:
            return []
        if not (due or final or self.tail.urgent):
            return []
        self.tail.urgent = False
        sources = self._sources()
        if not sources:
            if not self._waiting_told:
                self.err(f"lossdoc: waiting for metric lines in {self.path}")
                self._waiting_told = True
            return []
        self._analyse(sources)
        self._analysed_version = self.tail.version
        fresh = self._fresh([f for f in self.report.findings if final or f.category not in AT_END])
        for f in fresh:
            self._announce(f)
        level = None if self.opts.exit_on == "never" else Severity.parse(self.opts.exit_on)
        if level is not None and self.triggered is None:
            self.triggered = next((f for f in self.report.findings if f.severity >= level), None)
        self.write_outputs()
        # The next analysis waits at least as long as this one took (with the outputs): at most
        # half the time goes to analysing, however long the log grows.
        self._last_analysis = time.monotonic()
        # (The first analysis pays for importing the checks: not a cost to wait for again.)
        self._analysis_cost = self._last_analysis - now if self._format_told else 0.0
        if not self._format_told:
            names = ", ".join(sorted({s.format for s in sources}))
            steps = max((r.summary.last_step or 0 for r in self.report.runs), default=0)
            self.err(f"lossdoc: watching {self.path} ({names}; up to step {steps:,})")
            self._format_told = True
        return fresh

    def _sources(self) -> list[Source]:
        if isinstance(self.tail, DirTail):
            return self.tail.source()
        src = self.tail.source()
        if src is None:
            return []
        return [src]

    def _analyse(self, sources: list[Source]) -> None:
        from lossdoc.api import analyze

        self.report = analyze(LogSet(list(sources)), config=self.config, horizon=self.opts.horizon)

    def _key(self, f: Finding) -> tuple[Any, ...]:
        return (f.run, f.rule, f.split, f.metric)

    def _fresh(self, findings: Sequence[Finding]) -> list[Finding]:
        """Findings not announced before: a new (run, rule, series), a later separate episode of
        one (it starts after every earlier one ended), or one that rose in severity."""
        out = []
        for f in findings:
            key = self._key(f)
            seen = self.announced.get(key)
            if seen is None:
                self.announced[key] = (f.severity, [f.end_step])
                out.append(f)
                continue
            sev, ends = seen
            # Spikes and NaN runs come in episodes; other findings (a plateau, a trend) describe a
            # window that moves as the run grows: the same finding, not a new one.
            later = (f.category in EPISODIC and f.start_step is not None
                     and all(e is not None and f.start_step > e for e in ends))
            if later or f.severity > sev:
                self.announced[key] = (max(sev, f.severity), ends + [f.end_step])
                out.append(f)
        return out

    def _announce(self, f: Finding) -> None:
        from lossdoc.cli import _one_line

        step = "" if f.start_step is None else f"step {f.start_step:,}"
        run = f"{_one_line(f.run)}  " if self.report is not None and len(self.report.runs) > 1 else ""
        self.out(f"[{_ts()}] {run}{step:<14} {str(f.severity):<7} {f.rule} {f.name}: {_one_line(f.message)}")
        self.new_findings.append(f)
        if self.opts.notify:
            self._notify(f)

    # ---- notification
    def alert_doc(self, f: Finding) -> dict[str, Any]:
        d = f.to_dict()
        d["schema"] = ALERT_SCHEMA
        d["source"] = self.path
        d["detected_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        d["verdict"] = self.report.verdict if self.report is not None else None
        last = None
        if self.report is not None:
            for r in self.report.runs:
                if r.run == f.run:
                    last = r.summary.last_step
        d["last_step"] = last
        return d

    def _notify(self, f: Finding) -> None:
        doc = json.dumps(self.alert_doc(f), allow_nan=False, default=str)
        env = dict(os.environ, LOSSDOC_RULE=f.rule, LOSSDOC_NAME=f.name, LOSSDOC_SEVERITY=str(f.severity),
                   LOSSDOC_RUN=f.run, LOSSDOC_STEP="" if f.start_step is None else str(f.start_step),
                   LOSSDOC_MESSAGE=f.message, LOSSDOC_SOURCE=self.path)
        cmd = self.opts.notify
        err = self.err

        def go() -> None:
            try:
                p = subprocess.run(cmd, shell=True, input=doc.encode(), env=env, timeout=60,  # noqa: S602
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            except subprocess.TimeoutExpired:
                err("lossdoc: --notify command timed out after 60 s")
                return
            except OSError as exc:
                err(f"lossdoc: --notify command could not run: {exc}")
                return
            if p.returncode != 0:
                tail = p.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
                err(f"lossdoc: --notify command exited {p.returncode}: {tail[0][:200]}")

        t = threading.Thread(target=go, name="lossdoc-notify", daemon=True)
        t.start()
        self._notifiers.append(t)

    def wait_notifiers(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        for t in self._notifiers:
            t.join(max(0.0, end - time.monotonic()))

    # ---- outputs
    def write_outputs(self, stdout: bool = False) -> list[tuple[str, str]]:
        """Rewrite the output files; with ``stdout``, write only the outputs going to ``-`` (once,
        at the end: a document printed at every analysis could not be read)."""
        if self.report is None:
            return []
        o = self.opts

        def pick(p: str | None) -> str | None:
            return p if p is not None and (p == "-") == stdout else None

        return write_report_outputs(self.report, html=pick(o.html), markdown=pick(o.markdown),
                                    json_out=pick(o.json_out), junit=pick(o.junit))

    def final(self) -> Any:
        """Read the rest (a last line without newline too), analyse, write the outputs."""
        self.step(final=True)
        if self.report is not None and self._analysed_version != self.tail.version:
            self._analyse(self._sources())
            self.write_outputs()
        self.write_outputs(stdout=True)
        if self.report is not None:  # GitHub Actions annotations and job summary, once, at the end
            from lossdoc.report.outputs import _github_side_channels

            _github_side_channels(self.report)
        self.tail.close()
        return self.report


def check_outputs(inputs: Sequence[str], opts: WatchOptions) -> None:
    """DESIGN.md: no output overwrites an input or writes through a symlink (:mod:`lossdoc.outputs`)."""
    from lossdoc.outputs import check_outputs as check

    check([("--html", opts.html), ("--markdown", opts.markdown), ("--json", opts.json_out),
           ("--junit", opts.junit)], [p for p in inputs if p and p != "-"])


# --------------------------------------------------------------------------- watch loop
def watch(path: str, opts: WatchOptions, *, stop: threading.Event | None = None) -> tuple[int, Any]:
    """``lossdoc watch``: returns (exit code, final report). SIGINT (or ``stop``) ends the watch."""
    if path == "-":
        raise InputError("watch follows a file or a directory, not standard input; to watch a command's "
                         "output use `lossdoc run -- CMD ...` (or redirect it to a file and watch that)", path="-")
    check_outputs([path], opts)
    w = Watcher(path, opts)
    interrupted = threading.Event() if stop is None else stop
    old = signal.getsignal(signal.SIGINT)
    old_term = signal.getsignal(signal.SIGTERM)

    def on_signal(signum: int, frame: Any) -> None:
        interrupted.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
    if not Path(path).exists():
        w.err(f"lossdoc: waiting for {path} to appear")
    try:
        while not interrupted.is_set():
            w.step()
            if w.triggered is not None:
                w.err(f"lossdoc: {w.triggered.severity} finding ({w.triggered.rule}); "
                      f"exiting (--exit-on {opts.exit_on})")
                report = w.final()
                w.wait_notifiers()
                return 1, report
            interrupted.wait(min(0.25, opts.interval))
        report = w.final()
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, old)
            signal.signal(signal.SIGTERM, old_term)
    w.wait_notifiers()
    if report is None:
        raise InputError("no metric values were read", path=path)
    return (1 if report.failing() else 0), report


# --------------------------------------------------------------------------- run a job
def _exit_status(returncode: int) -> int:
    """A child killed by signal N exits 128+N, as a shell reports it."""
    return 128 - returncode if returncode < 0 else returncode


def _in_terminal_foreground() -> bool:
    """Is lossdoc in its terminal's foreground process group? Then a Ctrl-C from the terminal
    reaches the job (same process group) directly and must not be sent a second time."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


class _Tee:
    """Copies the child's stdout/stderr to ours (as they come) and to the log (whole lines)."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def start(self, pipe: Any, out_fd: int) -> None:
        t = threading.Thread(target=self._copy, args=(pipe, out_fd), name="lossdoc-tee", daemon=True)
        t.start()
        self.threads.append(t)

    def _copy(self, pipe: Any, out_fd: int) -> None:
        pending = b""
        fd = pipe.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            with contextlib.suppress(OSError):
                os.write(out_fd, data)
            pending += data
            cut = pending.rfind(b"\n") + 1
            if cut:
                with self.lock:
                    self.log.write(pending[:cut])
                    self.log.flush()
                pending = pending[cut:]
        if pending:
            with self.lock:
                self.log.write(pending + b"\n")
                self.log.flush()
        pipe.close()

    def join(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))


def run_job(cmd: Sequence[str], log_path: str, opts: WatchOptions, *, stop_on: str = "never",
            grace: float = 10.0) -> tuple[int, Any]:
    """``lossdoc run``: start ``cmd``, tee its output to ``log_path``, watch it; returns
    (exit code, final report or None)."""
    check_outputs([log_path], opts)
    opts = WatchOptions(**{**opts.__dict__, "exit_on": stop_on})
    try:
        log = open(log_path, "wb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot write the log: {exc.strerror or exc}", path=log_path) from None
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")  # a Python job's prints reach the log as they happen
    forwarded: list[int] = []
    got_signal = threading.Event()
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: Any) -> None:
        got_signal.set()
        if signum == signal.SIGINT and _in_terminal_foreground():
            return  # the terminal sent it to the job as well
        with contextlib.suppress(ProcessLookupError):
            for c in started:
                c.send_signal(signum)
        forwarded.append(signum)

    # The handlers go in before the job starts: a Ctrl-C typed while lossdoc is still setting up (the
    # watcher's imports take a moment) must reach the job once and not kill lossdoc and its tee.
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {s: signal.getsignal(s) for s in handled}
    for s in handled:
        signal.signal(s, forward)
    try:
        child = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        for s, h in old.items():
            signal.signal(s, h)
        log.close()
        raise InputError(f"cannot start the command: {exc.strerror or exc}", path=cmd[0]) from None
    started.append(child)
    if forwarded:  # a signal that came before the job existed is owed to it now
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(forwarded[-1])
    tee = _Tee(log)
    tee.start(child.stdout, 1)
    tee.start(child.stderr, 2)
    try:
        w = Watcher(log_path, opts)
    except BaseException:
        for s, h in old.items():
            signal.signal(s, h)
        raise
    stopped_for: Finding | None = None
    broken: str | None = None  # the watch failed: the job runs on, teed, unwatched
    try:
        while child.poll() is None:
            if broken is None:
                try:
                    w.step()
                except Exception as exc:  # noqa: BLE001 - lossdoc's failure must not cost the job
                    broken = " ".join(str(exc).split()) or type(exc).__name__
                    w.err(f"lossdoc: error: cannot watch the log any more ({broken}); the job keeps "
                          "running and its output is still written to the log")
            if w.triggered is not None and stopped_for is None:
                stopped_for = w.triggered
                w.err(f"lossdoc: stopping the job: {stopped_for.severity} {stopped_for.rule} "
                      f"{stopped_for.name} (--stop-on {stop_on})")
                _stop(child, grace, w.err)
                break
            got_signal.wait(min(0.25, opts.interval))
            got_signal.clear()
        child.wait()
        tee.join(timeout=max(5.0, grace))
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        log.close()
    status = _exit_status(child.returncode)
    if broken is not None:
        return (status or 2), None
    report = w.final()
    w.wait_notifiers()
    if stopped_for is not None:
        return 1, report
    if status != 0:
        w.err(f"lossdoc: the job exited with status {status}")
        return status, report
    if report is None:
        return 0, None
    return (1 if report.failing() else 0), report


def _stop(child: subprocess.Popen[bytes], grace: float, err: Callable[[str], None]) -> None:
    """SIGINT, then SIGTERM after ``grace`` seconds, then SIGKILL after ``grace`` more."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            child.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            if sig != signal.SIGKILL:
                err(f"lossdoc: the job did not stop {grace:g} s after {signal.Signals(sig).name}; "
                    f"sending {'SIGTERM' if sig == signal.SIGINT else 'SIGKILL'}")
    child.wait()
