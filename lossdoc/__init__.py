"""lossdoc: read training logs, diagnose the loss curves, say what to change.

Public API::

    import lossdoc
    logs = lossdoc.read("train.log")          # LogSet: tidy polars table + notes
    report = lossdoc.analyze("train.log")     # Report: .findings, .to_html(), .to_json(), .to_markdown()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from lossdoc.model import LogSet


def read(path: Any, format: str | None = None) -> LogSet:
    """Read one or more logs (path, list of paths, directory, compressed file or ``-``)."""
    from lossdoc.ingest import read as _read

    return _read(path, format=format)


__all__ = ["__version__", "read"]
