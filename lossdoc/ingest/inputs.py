"""Turning what the user named (paths, directories, compressed files, ``-``) into inputs.

An :class:`InputFile` is one readable stream of bytes with a display name. Compressed
files and standard input are held in memory (with a size cap, so a decompression bomb
stops with a clear error instead of exhausting memory); plain files stay on disk so the
fast parsers can hand the path to polars.

Robustness (issue #8): compression is recognised by magic number and decompressed as a
stream, 4 KiB of input at a time, so a file cut short or corrupt keeps what decompressed
before the damage (a ``torn_tail`` note); sniffing reads only the first 64 KiB; a log that
would need more memory than the machine has available stops before it is read
(:func:`check_memory`); undecodable text falls back to Latin-1 and NUL bytes are removed,
each with a ``decoding`` note.

Environment: ``LOSSDOC_MAX_DECOMPRESSED_BYTES`` (default 4 GiB) caps what is held in memory
whole; ``LOSSDOC_IGNORE_MEMORY=1`` skips the available-memory check.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from lossdoc.errors import EmptyInputError, InputError
from lossdoc.model import IngestNote

#: Cap on what is held in memory whole: the decompressed size of a compressed input, standard
#: input, and a plain file that a parser must read whole (JSON documents, UTF-16 text). Decoding
#: and parsing need about three times this, so the default (4 GiB) suits a machine with 16 GiB.
def _env_bytes(name: str, default: int) -> int:
    try:
        return max(int(float(os.environ[name])), 1)
    except (KeyError, ValueError, OverflowError):
        return default


MAX_DECOMPRESSED_BYTES = _env_bytes("LOSSDOC_MAX_DECOMPRESSED_BYTES", 4 * 1024**3)
HEAD_BYTES = 64 * 1024

#: Peak memory of reading and analysing a log, relative to its (decompressed) size, for a reader that
#: holds the whole text (a ``json`` parse of an HF trainer_state.json peaked at 7.3x; readers that stream
#: from disk say less through :meth:`lossdoc.ingest.registry.Parser.memory_factor`).
MEMORY_FACTOR = 6

#: What the readers that stream a file from disk in pieces peaked at, relative to the file, at 10^7
#: points (benchmarks/README.md, issue #18: Megatron 0.81x, trainer_state.json 1.04x, TensorBoard
#: 1.24x, nanoGPT 1.25x; Megatron's whole-text fallback for ANSI-coloured logs 2.07x), with headroom.
STREAMED_MEMORY_FACTOR = 2.5


def _available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(size: int, display: str, *, what: str = "file is", factor: float = MEMORY_FACTOR) -> None:
    """Stop with a clear message, before anything is read, when a log of ``size`` bytes would need
    more memory than the machine has available (instead of being killed by the OOM killer half-way):
    ``size * factor``, the reader's peak relative to the file. ``LOSSDOC_IGNORE_MEMORY=1`` skips the
    check."""
    if os.environ.get("LOSSDOC_IGNORE_MEMORY"):
        return
    avail = _available_memory()
    need = int(size * factor)
    if avail is not None and need > avail:
        raise InputError(
            f"{what} {_size(size)}: reading it needs about {_size(need)} of memory and "
            f"{_size(avail)} is available; analyse a slice (e.g. tail -n 2000000 LOG > part.log) or set "
            "LOSSDOC_IGNORE_MEMORY=1 to try anyway",
            path=display,
        )

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
    "hydra_train.log",  # fairseq-hydra-train in hydra's run directory
    "train_log.txt",
    "training_log.txt",
    "log.log",
    "events.log",
    "console.log",
    "loss_log.txt",  # pytorch-CycleGAN-and-pix2pix
    "trainer_log.jsonl",  # LLaMA-Factory
    "running_log.txt",
    "metrics.json",  # detectron2 output/metrics.json
    "nohup.out",
    "results.txt",  # YOLOv5/v7 runs/train/exp/results.txt
    "train.txt",
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
    origin: Path | None = None  #: the file on disk it came from (also for compressed files), else None
    _head: bytes | None = None
    _tail: bytes | None = None
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

    def tail_text(self, n: int = HEAD_BYTES) -> str:
        """The last ``n`` bytes of a file longer than the head, decoded, from its first whole line on
        ("" for a file the head holds whole). A trainer's own lines may begin only after a preamble
        longer than the head (compiler warnings, tqdm bars, a script's source): sniffs that find
        nothing in the head look here. UTF-16 files are not looked at (the byte offset may split a
        character)."""
        size = self.size
        if size <= HEAD_BYTES or self.head_bytes(2).startswith((b"\xff\xfe", b"\xfe\xff")):
            return ""
        if self._tail is None or len(self._tail) < min(n, size - HEAD_BYTES):
            if self.data is not None:
                self._tail = self.data[max(size - max(n, HEAD_BYTES), HEAD_BYTES):]
            else:
                assert self.path is not None
                with open(self.path, "rb") as fh:
                    start = max(size - max(n, HEAD_BYTES), HEAD_BYTES)
                    fh.seek(start)
                    self._tail = fh.read(size - start)
        raw = self._tail[-n:]
        cut = raw.find(b"\n")
        return decode_bytes(raw[cut + 1:] if cut >= 0 else b"")[0]

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        if self.size > MAX_DECOMPRESSED_BYTES:
            raise InputError(
                f"file is {_size(self.size)}, more than this format's reader holds in memory "
                f"({_size(MAX_DECOMPRESSED_BYTES)}); raise LOSSDOC_MAX_DECOMPRESSED_BYTES if the machine has the memory",
                path=self.name,
            )
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
        head = self.head_bytes()
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
            return False
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Not UTF-8 (Latin-1...): decode in Python so the text is right and a note says so. A
            # multi-byte character cut by the head's end is fine.
            return exc.start >= len(head) - 3 and len(head) == min(HEAD_BYTES, self.size)
        return True

    def ends_with_newline(self) -> bool:
        """Whether the last line is complete: the input ends with a newline, or only blanks (spaces, tabs, a
        carriage return) follow the last one -- mjdarvishi/computer_vision's results.csv ends its last row with a
        newline and then a line of padding spaces: that row is complete, not torn."""
        head = self.head_bytes(2)
        # UTF-16 (with BOM) ends a line with two bytes.
        nl = b"\n\x00" if head.startswith(b"\xff\xfe") else b"\x00\n" if head.startswith(b"\xfe\xff") else b"\n"
        span = len(nl) if nl != b"\n" else 256
        if self.data is not None:
            tail = self.data[-span:]
        else:
            assert self.path is not None
            size = self.size
            if size == 0:
                return True
            with open(self.path, "rb") as fh:
                fh.seek(max(size - span, 0))
                tail = fh.read(span)
        if nl != b"\n":
            return tail == nl
        body = tail.rstrip(b" \t\r")
        return not body or body.endswith(nl)  # blanks alone after the last newline (or a blank file) tear nothing


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
            return name[: -len(suf)], ".zst" if suf == ".zstd" else suf
    return name, None


#: Magic numbers of the compressed formats (a compressed file without its suffix, or stdin).
_MAGIC = ((b"\x1f\x8b", ".gz"), (b"BZh", ".bz2"), (b"\xfd7zXZ\x00", ".xz"), (b"\x28\xb5\x2f\xfd", ".zst"))
_FORMAT_NAME = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
_CHUNK_IN = 4 * 1024  # small input steps: a corrupt block loses little of the output before it
_CHUNK_OUT = 1 << 20


def sniff_compression(head: bytes) -> str | None:
    """The compression suffix (``.gz`` ...) whose magic number ``head`` starts with, else ``None``."""
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    # A zstd skippable frame (magic 0x184D2A50..5F, little-endian: metadata a tool prepended, as
    # pzstd and seekable zstd do) before the first data frame; the decoder skips it.
    if len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18":
        return ".zst"
    return None


class _Decoder:
    """A streaming decompressor with one interface over zlib / bz2 / lzma / zstd.

    ``feed`` yields output pieces of at most ~1 MiB (so a decompression bomb is caught at
    the cap, never materialised), ``eof`` says the current stream ended cleanly, and
    ``unused`` holds the bytes after it (the next member of a concatenated .gz/.bz2/.xz).
    """

    def __init__(self, suffix: str, display: str) -> None:
        self.suffix = suffix
        self._zstd_chunk = 1024  # zstd has no max_length: small inputs bound each call's output
        if suffix == ".gz":
            self._new = lambda: zlib.decompressobj(wbits=31)
            self._style = "zlib"
        elif suffix == ".bz2":
            self._new = bz2.BZ2Decompressor
            self._style = "bz"
        elif suffix == ".xz":
            self._new = lzma.LZMADecompressor
            self._style = "bz"
        else:
            try:
                import zstandard
            except ImportError:
                try:
                    from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
                except ImportError:
                    raise InputError(
                        "reading .zst files needs the 'zstandard' package (pip install zstandard)", path=display
                    ) from None
                self._new = zstd.ZstdDecompressor
                self._style = "bz"
            else:
                self._new = lambda: zstandard.ZstdDecompressor().decompressobj()
                self._style = "zstd"
        self._dec = self._new()
        self._rest = b""

    @property
    def eof(self) -> bool:
        return bool(self._dec.eof)

    @property
    def unused(self) -> bytes:
        return bytes(self._dec.unused_data) + self._rest

    def restart(self) -> None:
        self._dec = self._new()
        self._rest = b""

    def feed(self, data: bytes):  # type: ignore[no-untyped-def]
        dec = self._dec
        self._rest = b""
        if self._style == "zlib":
            while True:
                out = dec.decompress(data, _CHUNK_OUT)
                if out:
                    yield out
                data = dec.unconsumed_tail
                if dec.eof or (not data and not out):
                    return
        elif self._style == "bz":
            out = dec.decompress(data, _CHUNK_OUT)
            if out:
                yield out
            while not dec.eof and not dec.needs_input:
                out = dec.decompress(b"", _CHUNK_OUT)
                if not out:
                    return
                yield out
        else:
            step = self._zstd_chunk
            for i in range(0, len(data), step):
                out = dec.decompress(data[i : i + step])
                if out:
                    yield out
                if dec.eof:
                    self._rest = data[i + step :]
                    return


def _decode_errors() -> tuple[type[BaseException], ...]:
    errs: list[type[BaseException]] = [OSError, EOFError, ValueError, zlib.error, lzma.LZMAError]
    try:
        import zstandard

        errs.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errs)


def _decompress_stream(fh: io.BufferedIOBase, display: str, suffix: str) -> tuple[bytes, list[IngestNote]]:
    """Decompress ``fh`` in bounded memory: stop at :data:`MAX_DECOMPRESSED_BYTES`, keep what
    decompressed cleanly before a cut or a corrupt block (with a ``torn_tail`` note)."""
    dec = _Decoder(suffix, display)
    kind = _FORMAT_NAME[suffix]
    chunks: list[bytes] = []
    total = 0
    started = False
    errors = _decode_errors()
    problem: str | None = None
    next_check = 64 * 1024**2
    try:
        while True:
            raw = fh.read(_CHUNK_IN)
            if not raw:
                break
            while raw:
                if dec.eof:
                    # Concatenated members (``cat a.gz b.gz``); trailing zero padding is ignored.
                    if not raw.strip(b"\x00"):
                        raw = b""
                        break
                    dec.restart()
                started = True
                for out in dec.feed(raw):
                    total += len(out)
                    if total > next_check:  # every 64 MiB: would the rest still fit in memory?
                        check_memory(total, display, what="decompresses to more than")
                        next_check += 64 * 1024**2
                    if total > MAX_DECOMPRESSED_BYTES:
                        raise InputError(
                            f"decompresses to more than {_size(MAX_DECOMPRESSED_BYTES)} (a decompression bomb, or a "
                            "log too large to hold in memory); stopped there. Decompress it yourself and pass the "
                            "plain file, or raise LOSSDOC_MAX_DECOMPRESSED_BYTES",
                            path=display,
                        )
                    chunks.append(out)
                raw = dec.unused if dec.eof else b""
    except InputError:
        raise
    except MemoryError:
        raise InputError("out of memory while decompressing", path=display) from None
    except errors as exc:
        problem = f"corrupt {kind} data ({_one_line(exc)})"
    if problem is None and started and not dec.eof:
        problem = f"the {kind} stream ends early (file cut short or still being written)"
    if not started:
        raise EmptyInputError("compressed file is empty", path=display)
    data = b"".join(chunks)
    if problem is None:
        return data, []
    if not data:
        raise InputError(f"cannot decompress: {problem}; nothing could be read", path=display)
    note = IngestNote(
        "torn_tail", f"{problem}: read the {_size(len(data))} that decompressed before it; the rest is lost"
    )
    return data, [note]


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


_LOG_EXTS = (".jsonl", ".json", ".csv", ".tsv", ".log", ".txt", ".out")


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
    # Strip every log-ish extension: ``20240301_100000.log.json`` (MMEngine) names run ``20240301_100000``.
    while True:
        low = stem.lower()
        ext = next((e for e in _LOG_EXTS if low.endswith(e) and len(stem) > len(e)), None)
        if ext is None:
            break
        stem = stem[: -len(ext)]
    return stem or inner


def open_file(path: Path, display: str | None = None) -> InputFile:
    """Open one file (plain or compressed) as an :class:`InputFile`.

    Compression is recognised by its magic number (a ``.gz`` suffix on a plain file is
    ignored with a note, a gzip file without the suffix is still decompressed).
    """
    display = display or str(path)
    if not path.exists():
        if path.is_symlink():
            raise InputError(_dangling(path), path=display)
        raise InputError("no such file or directory", path=display)
    if not os.access(path, os.R_OK):
        raise InputError("permission denied", path=display)
    inner, suffix = _strip_compression(path.name)
    run = run_name_for(path)
    try:
        with open(path, "rb") as fh:
            magic = sniff_compression(fh.read(8))
            if magic is None:
                notes = []
                if suffix is not None:
                    notes.append(IngestNote("other", f"named {suffix} but not {_FORMAT_NAME[suffix]}-compressed; "
                                                     "read as a plain file"))
                return InputFile(name=display, inner_name=inner, run_name=run, path=path, notes=notes, origin=path)
            fh.seek(0)
            data, notes = _decompress_stream(fh, display, magic)  # type: ignore[arg-type]
    except IsADirectoryError:
        raise InputError("is a directory", path=display) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=display) from None
    return InputFile(name=display, inner_name=inner, run_name=run, data=data, notes=notes, origin=path)


def open_stdin(name: str = "<stdin>") -> InputFile:
    """Standard input, read in chunks up to the in-memory cap; compressed input is recognised by magic."""
    if sys.stdin is None or (hasattr(sys.stdin, "isatty") and sys.stdin.isatty()):
        raise InputError("standard input is a terminal, not a log: pipe one in (cat train.log | lossdoc analyze -)",
                         path=name)
    stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode())
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(_CHUNK_OUT)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_DECOMPRESSED_BYTES:
            raise InputError(f"standard input is larger than {_size(MAX_DECOMPRESSED_BYTES)}; pass the file "
                             "instead, or raise LOSSDOC_MAX_DECOMPRESSED_BYTES", path=name)
        chunks.append(chunk)
    data = b"".join(chunks)
    notes: list[IngestNote] = []
    magic = sniff_compression(data[:8])
    if magic is not None:
        data, notes = _decompress_stream(io.BytesIO(data), name, magic)  # type: ignore[arg-type]
    return InputFile(name=name, inner_name="stdin", run_name="stdin", data=data, notes=notes)


def from_bytes(data: bytes, name: str = "<memory>", inner_name: str | None = None) -> InputFile:
    """An input from bytes already in memory (tests, the Python API)."""
    inner = inner_name or name
    return InputFile(name=name, inner_name=inner, run_name=run_name_for(Path(inner)), data=data)


def _dangling(p: Path) -> str:
    """Why a symlink leads nowhere: a loop (a -> b -> a, or a -> a) or a missing target."""
    import errno

    try:
        os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
    return "broken symbolic link"


def check_path(path_str: str, display: str | None = None) -> Path:
    """Validate a user-given path and return it; raises :class:`InputError` with the reason
    (naming ``display``, by default the path itself)."""
    shown = path_str if display is None else display
    p = Path(path_str)
    if not p.exists():
        if p.is_symlink():
            raise InputError(_dangling(p), path=shown)
        raise InputError("no such file or directory", path=shown)
    if p.is_dir():
        if not os.access(p, os.R_OK | os.X_OK):
            raise InputError("permission denied", path=shown)
        return p
    if not p.is_file():
        raise InputError("not a regular file", path=shown)
    if not os.access(p, os.R_OK):
        raise InputError("permission denied", path=shown)
    if p.stat().st_size == 0:
        raise EmptyInputError("file is empty", path=shown)
    return p
