"""Broken, odd and hostile inputs, built in code (no committed blobs): shared by the hardening tests
and ``scripts/fuzz_long.py``.

Every builder is deterministic (seeded ``numpy.random.default_rng`` literals) and small enough to
write in a few milliseconds.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import struct
from pathlib import Path

import numpy as np

from lossdoc.ingest.formats import tfevents

#: How many iterations the clean logs below hold.
N = 120


def loss_at(i: int) -> float:
    """A smooth, decreasing loss (4 decaying towards 1); 4 decimals survive every format."""
    return round(1.0 + 3.0 * 0.98**i, 4)


def nanogpt_text(n: int = N, *, start: int = 0) -> str:
    """nanoGPT ``train.py`` console lines: ``iter 10: loss 3.9302, time 12.34ms, mfu 10.00%``."""
    return "".join(f"iter {i}: loss {loss_at(i):.4f}, time 12.34ms, mfu 10.00%\n" for i in range(start, n))


def csv_text(n: int = N) -> str:
    return "step,loss,val_loss\n" + "".join(
        f"{i},{loss_at(i)},{loss_at(i) + 0.1 if i % 10 == 0 else ''}\n" for i in range(n)
    )


def jsonl_text(n: int = N) -> str:
    return "".join(json.dumps({"step": i, "loss": loss_at(i)}) + "\n" for i in range(n))


def trainer_state(n: int = N) -> str:
    """A Hugging Face ``trainer_state.json`` logging every step."""
    hist = [{"epoch": round(i / n, 4), "grad_norm": 1.0, "learning_rate": 1e-4, "loss": loss_at(i), "step": i}
            for i in range(1, n + 1)]
    state = {"best_metric": None, "epoch": 1.0, "global_step": n, "log_history": hist, "logging_steps": 1,
             "max_steps": n, "num_train_epochs": 1}
    return json.dumps(state, indent=2)


# --------------------------------------------------------------------------- TensorBoard records
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _record(payload: bytes) -> bytes:
    head = struct.pack("<Q", len(payload))
    return (head + struct.pack("<I", tfevents.masked_crc32c(head)) + payload
            + struct.pack("<I", tfevents.masked_crc32c(payload)))


def _scalar_event(step: int, tag: str, value: float) -> bytes:
    t = tag.encode()
    val = b"\x0a" + _varint(len(t)) + t + b"\x15" + struct.pack("<f", value)
    summ = b"\x0a" + _varint(len(val)) + val
    return b"\x09" + struct.pack("<d", 1.7e9 + step) + b"\x10" + _varint(step) + b"\x2a" + _varint(len(summ)) + summ


def tfevents_bytes(n: int = N) -> bytes:
    """A TensorBoard event file (``tf.summary.scalar('loss', ...)`` records), framed with CRC-32C."""
    header = _record(b"\x09" + struct.pack("<d", 1.7e9) + b"\x1a\x0dbrain.Event:2")
    return header + b"".join(_record(_scalar_event(i, "loss", loss_at(i))) for i in range(n))


# --------------------------------------------------------------------------- compression
COMPRESSORS = {  # fast presets: the tests need valid streams, not small ones (bzip2 -1: 100 kB blocks)
    ".gz": lambda b: gzip.compress(b, compresslevel=1),
    ".bz2": lambda b: bz2.compress(b, compresslevel=1),
    ".xz": lambda b: lzma.compress(b, preset=0),
}
try:  # the zstandard wheel is a runtime dependency; keep the builders importable without it
    import zstandard

    COMPRESSORS[".zst"] = lambda b: zstandard.ZstdCompressor().compress(b)
except ImportError:  # pragma: no cover
    pass


def noisy_bytes(n: int, seed: int) -> bytes:
    """Incompressible bytes (so a truncated stream is cut in the middle of real data)."""
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


#: Every log-derived string an attacker controls carries this: HTML, an event handler, a
#: javascript: link, Markdown, a GitHub workflow command, terminal escapes (clear screen,
#: set window title, OSC 8 hyperlink) and a line break.
HOSTILE = (
    '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    "[x](javascript:alert(3))`code`|*b*"
    "\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil\x07link\x1b]8;;\x07"
    "\n::error file=x::forged"
)


def hostile_filename() -> str:
    """:data:`HOSTILE` as a legal file name (no ``/`` or NUL)."""
    return HOSTILE.replace("/", "_")
