"""Import the analysis and report modules in a background thread while a big log is parsed.

Reading a 10^7-step log keeps polars busy in native code (the GIL released) for seconds, while the
checks and the report then need scipy, matplotlib and jinja2 (about
1 s of imports on this 2-core machine). Importing them on a second thread during the parse hides
most of that. Only for big inputs: a small log is parsed in milliseconds, so the thread would only
compete with the parse. Importing is idempotent; the main thread simply finds the modules loaded
(Python's per-module import locks make concurrent imports of one module safe), and a failure here
is ignored: the main thread then imports (and reports errors) as it always does.

For a huge input (:data:`REPORT_PREFETCH_MAX_BYTES` and more) only the checks' modules are imported
during the parse: the report's (matplotlib, jinja2: ~25 MB) are imported when the report is written.
Imported during the parse they are resident while the parse's freed pages still are and the checks
start (a 10^7-row Lightning metrics.csv of 319 MB peaked ~16 MB higher: 467-468 against 447-455 MB,
1.50x against 1.44-1.46x); importing them later costs ~0.15-0.3 s of a run of several seconds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

#: Inputs at least this big (bytes, summed over the paths given) start the prefetch.
PREFETCH_BYTES = 32 << 20
#: Inputs at least this big prefetch the checks' modules only (see above).
REPORT_PREFETCH_MAX_BYTES = 256 << 20

#: What the checks import.
_MODULES = (
    "lossdoc.checks.runner",
    "lossdoc.analysis.smoothing",
    "lossdoc.analysis.stats",
    "lossdoc.analysis.fitting",
    "lossdoc.analysis.downsample",
)
#: What writing the report imports.
_REPORT_MODULES = (
    "lossdoc.report.render_html",
    "lossdoc.report.charts",
    "matplotlib.figure",
    "matplotlib.backends.backend_svg",
)


def modules(total_bytes: int) -> tuple[str, ...]:
    """The modules the prefetch imports for inputs of ``total_bytes`` (the detectors come after them)."""
    return _MODULES + (_REPORT_MODULES if total_bytes < REPORT_PREFETCH_MAX_BYTES else ())


def _work(names: tuple[str, ...]) -> None:
    import importlib
    import pkgutil

    try:
        for name in names:
            importlib.import_module(name)
        pkg = importlib.import_module("lossdoc.checks.detectors")
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            importlib.import_module(f"lossdoc.checks.detectors.{info.name}")
    except Exception:  # noqa: BLE001 - the main thread imports again and reports for real
        pass


def input_bytes(paths: Iterable[str | os.PathLike[str]]) -> int:
    """The sizes of the files named, added up (directories do not count)."""
    total = 0
    for p in paths:
        try:
            if not os.path.isdir(p):
                total += os.stat(p).st_size
        except (OSError, ValueError, TypeError):
            continue
    return total


def is_big(paths: Iterable[str | os.PathLike[str]]) -> bool:
    """True when the files named (directories do not count) add up to :data:`PREFETCH_BYTES`."""
    return input_bytes(paths) >= PREFETCH_BYTES


def start(paths: Iterable[str | os.PathLike[str]]) -> threading.Thread | None:
    """Start the prefetch when the files named add up to :data:`PREFETCH_BYTES`; the thread, or None."""
    if os.environ.get("LOSSDOC_NO_PREFETCH"):
        return None
    total = input_bytes(paths)
    if total < PREFETCH_BYTES:
        return None
    t = threading.Thread(target=_work, args=(modules(total),), name="lossdoc-prefetch", daemon=True)
    t.start()
    return t
