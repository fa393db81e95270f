"""Import the analysis and report modules in a background thread while a big log is parsed.

Reading a 10^7-step log keeps polars busy in native code (the GIL released) for seconds, while the
checks and the report then need scipy, matplotlib and jinja2 (about
1 s of imports on this 2-core machine). Importing them on a second thread during the parse hides
most of that. Only for big inputs: a small log is parsed in milliseconds, so the thread would only
compete with the parse. Importing is idempotent; the main thread simply finds the modules loaded
(Python's per-module import locks make concurrent imports of one module safe), and a failure here
is ignored: the main thread then imports (and reports errors) as it always does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

#: Inputs at least this big (bytes, summed over the paths given) start the prefetch.
PREFETCH_BYTES = 32 << 20

_MODULES = (
    "lossdoc.checks.runner",
    "lossdoc.analysis.smoothing",
    "lossdoc.analysis.stats",
    "lossdoc.analysis.fitting",
    "lossdoc.analysis.downsample",
    "lossdoc.report.render_html",
    "lossdoc.report.charts",
    "matplotlib.figure",
    "matplotlib.backends.backend_svg",
)


def _work() -> None:
    import importlib
    import pkgutil

    try:
        for name in _MODULES:
            importlib.import_module(name)
        pkg = importlib.import_module("lossdoc.checks.detectors")
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            importlib.import_module(f"lossdoc.checks.detectors.{info.name}")
    except Exception:  # noqa: BLE001 - the main thread imports again and reports for real
        pass


def is_big(paths: Iterable[str | os.PathLike[str]]) -> bool:
    """True when the files named (directories do not count) add up to :data:`PREFETCH_BYTES`."""
    total = 0
    for p in paths:
        try:
            if not os.path.isdir(p):
                total += os.stat(p).st_size
        except (OSError, ValueError, TypeError):
            continue
    return total >= PREFETCH_BYTES


def start(paths: Iterable[str | os.PathLike[str]]) -> threading.Thread | None:
    """Start the prefetch when :func:`is_big`; the thread, or None."""
    if os.environ.get("LOSSDOC_NO_PREFETCH") or not is_big(paths):
        return None
    t = threading.Thread(target=_work, name="lossdoc-prefetch", daemon=True)
    t.start()
    return t
