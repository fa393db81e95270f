"""lossdoc: read training logs, diagnose the loss curves, say what to change.

Public API::

    import lossdoc
    logs = lossdoc.read("train.log")          # LogSet: tidy polars table + notes
    report = lossdoc.analyze("train.log")     # Report: .findings, .to_html(), .to_json(), .to_markdown()

Heavy modules (polars, scipy, statsmodels, matplotlib) load on first use, so ``import lossdoc``
and ``lossdoc --help`` stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from lossdoc._version import __version__

if TYPE_CHECKING:
    from lossdoc.checks.findings import Evidence, Finding, Severity
    from lossdoc.errors import LossdocError
    from lossdoc.model import LogSet
    from lossdoc.report.model import Report


def read(path: Any, format: str | None = None, *, split_runs: bool = False) -> LogSet:
    """Read one or more logs (path, list of paths, directory, compressed file or ``-``). ``split_runs``: a file
    holding several separate runs is read run by run instead of its last run alone."""
    from lossdoc.ingest import read as _read

    return _read(path, format=format, split_runs=split_runs)


def analyze(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | LogSet,
    *,
    format: str | None = None,
    config: Any = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    fail_on: str | None = None,
    baseline: Sequence[str | os.PathLike[str]] | None = None,
    tolerance: float | None = None,
    horizon: int | None = None,
    progress: Callable[[str], None] | None = None,
    jobs: int | None = 1,
    scheduler: str | None = None,
    split_runs: bool = False,
) -> Report:
    """Read ``paths`` (or use a :class:`LogSet`), run every selected rule, return a :class:`Report`.

    ``format`` skips detection; ``config`` is a Config, the path of a ``lossdoc.toml`` /
    ``pyproject.toml``, or None to look for one from the current directory upwards; ``select`` /
    ``ignore`` / ``fail_on`` / ``tolerance`` override it; ``baseline`` (paths of baseline logs or
    ``lossdoc snapshot`` files) turns on the regression comparison; ``horizon`` is the step the
    loss is extrapolated to. A directory of runs is a sweep (a :class:`lossdoc.sweep.SweepReport`):
    ``jobs`` processes analyse its runs (None: every CPU), or the Dask cluster at ``scheduler``
    (``tcp://HOST:PORT``, needs ``lossdoc[dask]``); ``progress`` is called with short status lines.
    ``split_runs``: a log file holding several separate runs (a script that appended each run to it) is analysed
    run by run, each named ``<run> (run k of n)``, instead of its last run alone.
    """
    from lossdoc.api import analyze as _analyze

    return _analyze(paths, format=format, config=config, select=select, ignore=ignore, fail_on=fail_on,
                    baseline=baseline, tolerance=tolerance, horizon=horizon, progress=progress, jobs=jobs,
                    scheduler=scheduler, split_runs=split_runs)


_LAZY = {
    "Report": ("lossdoc.report.model", "Report"),
    "Finding": ("lossdoc.checks.findings", "Finding"),
    "Evidence": ("lossdoc.checks.findings", "Evidence"),
    "Severity": ("lossdoc.checks.findings", "Severity"),
    "LogSet": ("lossdoc.model", "LogSet"),
    "LossdocError": ("lossdoc.errors", "LossdocError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'lossdoc' has no attribute {name!r}")


__all__ = ["Evidence", "Finding", "LogSet", "LossdocError", "Report", "Severity", "__version__", "analyze", "read"]
