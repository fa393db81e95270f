"""The list of parsers ``lossdoc formats`` prints, cached so that the command starts fast.

Listing the parsers means importing every parser module, and with them polars and numpy
(about 1 s here, against ~0.1 s for the rest of the command). The list only changes when
lossdoc's parser modules or the installed plugins change, so it is kept in a small JSON file
in the user's cache directory (``$LOSSDOC_CACHE_DIR``, else ``$XDG_CACHE_HOME/lossdoc``, else
``~/.cache/lossdoc``), keyed by the lossdoc version, the Python version, the name, size and
modification time of each module in :mod:`lossdoc.ingest.formats` and the ``lossdoc`` entry
points (name, target, distribution version). Any change gives a new key, hence a fresh list.
``LOSSDOC_NO_CACHE=1`` bypasses the cache; a cache that cannot be read or written is ignored.

This module imports nothing heavy: it must stay importable without polars.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

_FORMATS_DIR = Path(__file__).resolve().parent / "ingest" / "formats"
_REGISTRY = Path(__file__).resolve().parent / "ingest" / "registry.py"


def cache_dir() -> Path:
    env = os.environ.get("LOSSDOC_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "lossdoc"


def _key() -> str:
    from importlib.metadata import entry_points

    from lossdoc._version import __version__

    parts = [__version__, sys.version]
    for p in [_REGISTRY, *sorted(_FORMATS_DIR.glob("*.py"))]:
        try:
            st = p.stat()
        except OSError:
            continue
        parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    for ep in sorted(entry_points(group="lossdoc"), key=lambda e: (e.name, e.value)):
        dist = getattr(ep, "dist", None)
        parts.append(f"ep:{ep.name}={ep.value}@{getattr(dist, 'version', '')}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _compute() -> list[dict[str, Any]]:
    from lossdoc.ingest.registry import all_parsers

    return [{"name": p.name, "title": p.title, "recognises": p.recognises, "heuristic": bool(p.heuristic)}
            for p in all_parsers()]


def parser_catalogue() -> list[dict[str, Any]]:
    """``[{"name", "title", "recognises", "heuristic"}]`` of every registered parser (registry order)."""
    if os.environ.get("LOSSDOC_NO_CACHE"):
        return _compute()
    try:
        path = cache_dir() / f"formats-{_key()}.json"
    except Exception:  # noqa: BLE001 - a broken metadata install must not break `formats`
        return _compute()
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(rows, list) and all(isinstance(r, dict) and "name" in r for r in rows):
            return rows
    except (OSError, ValueError):
        pass
    rows = _compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(rows), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return rows
