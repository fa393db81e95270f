"""Turning what the user named (paths, directories, compressed files, ``-``) into inputs.

An :class:`InputFile` is one readable stream of bytes with a display name. Compressed
files and standard input are held in memory (with a size cap, so a decompression bomb
stops with a clear error instead of exhausting memory); plain files stay on disk so the
fast parsers can hand the path to polars.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lossdoc.errors import EmptyInputError, InputError
from lossdoc.model import IngestNote

#: Default cap on the decompressed size of a compressed input or of standard input.
MAX_DECOMPRESSED_BYTES = int(os.environ.get("LOSSDOC_MAX_DECOMPRESSED_BYTES", 8 * 1024**3))
HEAD_BYTES = 64 * 1024

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zstd")

# File names so generic that the run is better named after the directory holding them.
GENERIC_NAMES = {
    "trainer_state.json",
    "metrics.csv",
    "results.csv",
    "summary.csv",
    "history.csv",
    "scalars.json",
    "main.log",
    "train.log",
    "training.log",
    "log.txt",
    "output.log",
    "stdout.log",
    "stdout.txt",
    "log.csv",
    "progress.csv",
}


@dataclass
class InputFile:
    """One input stream. Use :meth:`read_bytes` / :meth:`read_text` / :attr:`path`."""

    name: str  #: shown to the user: the path as given, ``<stdin>``, ``a.log.gz``
    inner_name: str  #: the file name without a compression suffix (sniffing by name)
    run_name: str  #: default run name for rows from this input
    path: Path | None = None  #: plain, uncompressed file on disk (fast path), else None
    data: bytes | None = None  #: in-memory content (stdin, decompressed)
    notes: list[IngestNote] = field(default_factory=list)
    _head: bytes | None = None
    _text: str | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def head_bytes(self, n: int = HEAD_BYTES) -> bytes:
        if self.data is not None:
            return self.data[:n]
        if self._head is None or len(self._head) < min(n, self.size):
            assert self.path is not None
            with open(self.path, "rb") as fh:
                self._head = fh.read(max(n, HEAD_BYTES))
        return self._head[:n]

    def head_text(self, n: int = HEAD_BYTES) -> str:
        """The first ``n`` bytes decoded (BOM / UTF-16 aware, never raises)."""
        return decode_bytes(self.head_bytes(n))[0]

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", path=self.name) from None

    def read_text(self) -> str:
        """The whole input decoded; decoding fallbacks are recorded in :attr:`notes`."""
        if self._text is None:
            text, note = decode_bytes(self.read_bytes())
            if note:
                self.notes.append(IngestNote("decoding", note))
            self._text = text
        return self._text

    def is_utf8_file(self) -> bool:
        """True when the input is a plain on-disk file that polars can read directly."""
        if self.path is None:
            return False
        head = self.head_bytes(4)
        return not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"))

    def ends_with_newline(self) -> bool:
        head = self.head_bytes(2)
        # UTF-16 (with BOM) ends a line with two bytes.
        nl = b"\n\x00" if head.startswith(b"\xff\xfe") else b"\x00\n" if head.startswith(b"\xfe\xff") else b"\n"
        if self.data is not None:
            return self.data.endswith(nl)
        assert self.path is not None
        size = self.size
        if size == 0:
            return True
        with open(self.path, "rb") as fh:
            fh.seek(max(size - len(nl), 0))
            return fh.read(len(nl)) == nl


def decode_bytes(raw: bytes) -> tuple[str, str | None]:
    """Decode a log's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1.

    Returns the text and a note when a fallback was needed (``None`` for clean UTF-8).
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        note = "file starts with a UTF-8 byte-order mark (ignored)"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace").replace("\x00", ""), "file is UTF-16 encoded"
    else:
        note = None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            # A torn multi-byte character at the very end of a file being written is not an encoding problem.
            text = raw[:-4].decode("utf-8") + raw[-4:].decode("utf-8", errors="ignore")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            note = "file is not valid UTF-8; decoded as Latin-1"
    if "\x00" in text:
        n = text.count("\x00")
        text = text.replace("\x00", "")
        note = (note + "; " if note else "") + f"{n} NUL byte(s) removed"
    return text, note


def _strip_compression(name: str) -> tuple[str, str | None]:
    low = name.lower()
    for suf in COMPRESSED_SUFFIXES:
        if low.endswith(suf):
            return name[: -len(suf)], suf
    return name, None


def _decompress(raw_path: Path, display: str, suffix: str) -> bytes:
    try:
        if suffix == ".gz":
            fh: io.BufferedIOBase = gzip.open(raw_path, "rb")  # type: ignore[assignment]
        elif suffix == ".bz2":
            fh = bz2.open(raw_path, "rb")  # type: ignore[assignment]
        elif suffix == ".xz":
            fh = lzma.open(raw_path, "rb")  # type: ignore[assignment]
        else:
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                try:
                    from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
                except ImportError:
                    raise InputError(
                        "reading .zst files needs the 'zstandard' package (pip install zstandard)",
                        path=display,
                    ) from None
                fh = zstd.open(raw_path, "rb")
            else:
                fh = zstandard.ZstdDecompressor().stream_reader(open(raw_path, "rb"))  # noqa: SIM115
        return _read_capped(fh, display)
    except InputError:
        raise
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        # A compressed file cut short (still being written) decompresses up to the cut.
        raise InputError(f"cannot decompress ({suffix[1:]}): {exc}", path=display) from None


def _read_capped(fh: io.BufferedIOBase, display: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    with fh:
        while True:
            try:
                chunk = fh.read(1 << 20)
            except (EOFError, OSError) as exc:
                if chunks:
                    # Truncated stream: keep what decompressed cleanly; the parser sees a torn tail.
                    data = b"".join(chunks)
                    raise _Truncated(data, str(exc)) from None
                raise
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_DECOMPRESSED_BYTES:
                raise InputError(
                    f"decompressed size exceeds {MAX_DECOMPRESSED_BYTES / 1024**3:.1f} GiB; "
                    "decompress it yourself or raise LOSSDOC_MAX_DECOMPRESSED_BYTES",
                    path=display,
                )
            chunks.append(chunk)
    return b"".join(chunks)


class _Truncated(Exception):
    def __init__(self, data: bytes, reason: str) -> None:
        self.data = data
        self.reason = reason


def run_name_for(path: Path) -> str:
    """Run name for a file: its stem, or its directory's name when the file name is generic."""
    inner, _ = _strip_compression(path.name)
    if inner.lower() in GENERIC_NAMES or inner.startswith("events.out.tfevents"):
        parent = path.resolve().parent
        name = parent.name
        # Lightning's version_N and HF's checkpoint-N say little on their own.
        if (name.startswith("version_") or name.startswith("checkpoint-")) and parent.parent.name:
            name = f"{parent.parent.name}/{name}"
        return name or inner
    stem = inner
    for ext in (".jsonl", ".json", ".csv", ".tsv", ".log", ".txt", ".out"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    return stem or inner


def open_file(path: Path, display: str | None = None) -> InputFile:
    """Open one file (plain or compressed) as an :class:`InputFile`."""
    display = display or str(path)
    if not path.exists():
        if path.is_symlink():
            raise InputError("broken symbolic link", path=display)
        raise InputError("no such file or directory", path=display)
    if not os.access(path, os.R_OK):
        raise InputError("permission denied", path=display)
    inner, suffix = _strip_compression(path.name)
    run = run_name_for(path)
    if suffix is None:
        return InputFile(name=display, inner_name=inner, run_name=run, path=path)
    try:
        data = _decompress(path, display, suffix)
        notes: list[IngestNote] = []
    except _Truncated as t:
        data = t.data
        notes = [IngestNote("torn_tail", f"compressed stream ends early ({t.reason}); read what was there")]
    return InputFile(name=display, inner_name=inner, run_name=run, data=data, notes=notes)


def open_stdin(name: str = "<stdin>") -> InputFile:
    stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode())
    data = _read_capped(stream, name)  # type: ignore[arg-type]
    if data[:2] == b"\x1f\x8b":
        data = _read_capped(gzip.GzipFile(fileobj=io.BytesIO(data)), name)  # type: ignore[arg-type]
    return InputFile(name=name, inner_name="stdin", run_name="stdin", data=data)


def from_bytes(data: bytes, name: str = "<memory>", inner_name: str | None = None) -> InputFile:
    """An input from bytes already in memory (tests, the Python API)."""
    inner = inner_name or name
    return InputFile(name=name, inner_name=inner, run_name=run_name_for(Path(inner)), data=data)


def check_path(path_str: str) -> Path:
    """Validate a user-given path and return it; raises :class:`InputError` with the reason."""
    p = Path(path_str)
    if not p.exists():
        if p.is_symlink():
            raise InputError("broken symbolic link", path=path_str)
        raise InputError("no such file or directory", path=path_str)
    if p.is_dir():
        if not os.access(p, os.R_OK | os.X_OK):
            raise InputError("permission denied", path=path_str)
        return p
    if not p.is_file():
        raise InputError("not a regular file", path=path_str)
    if not os.access(p, os.R_OK):
        raise InputError("permission denied", path=path_str)
    if p.stat().st_size == 0:
        raise EmptyInputError("file is empty", path=path_str)
    return p
