"""The Python API behind ``lossdoc analyze``: read -> checks -> Report (-> comparison)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from lossdoc._version import __version__
from lossdoc.model import LogSet
from lossdoc.report.model import Report


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

    ``config`` is a :class:`lossdoc.config.Config`, a path to a ``lossdoc.toml`` /
    ``pyproject.toml``, or None to look for one from the current directory upwards.
    ``select`` / ``ignore`` / ``fail_on`` / ``tolerance`` override the configuration.
    ``baseline`` paths (logs or ``lossdoc snapshot`` files) turn on the regression comparison.

    A single path that is a directory of runs (``lossdoc.sweep.sweep_units``: two or more run
    subdirectories that no parser claims as one artefact) is analysed as a sweep, exactly as
    ``lossdoc analyze DIR`` does: one unit per subdirectory, a :class:`lossdoc.sweep.SweepReport`
    (a :class:`Report` with the ranking and the units that could not be read). ``jobs`` processes
    analyse the units (1, the default here, runs them in this process; None: every CPU, as the
    command line does); ``scheduler``: a Dask scheduler address (see :func:`lossdoc.sweep.analyze_sweep`).
    ``split_runs``: a log file that holds several separate runs (a script that appended each run to it) is
    analysed run by run, each named ``<run> (run k of n)``, instead of its last run alone
    (:func:`lossdoc.ingest.split_file_runs`; not within a sweep's units).
    """
    if not isinstance(paths, LogSet) and not baseline:
        listed = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        paths = listed
        if len(listed) == 1:
            from lossdoc.sweep import analyze_sweep, sweep_units

            units = sweep_units(listed[0])
            if units is not None:
                return analyze_sweep(listed[0], units=units, jobs=jobs, format=format, config=config,
                                     select=select, ignore=ignore, fail_on=fail_on, horizon=horizon,
                                     progress=progress, scheduler=scheduler)
    return analyze_logs(paths, format=format, config=config, select=select, ignore=ignore, fail_on=fail_on,
                        baseline=baseline, tolerance=tolerance, horizon=horizon, progress=progress,
                        split_runs=split_runs)


def analyze_logs(
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
    split_runs: bool = False,
) -> Report:
    """:func:`analyze` without the sweep route: every run read from ``paths`` into one :class:`Report`
    (what each unit of a sweep gets)."""
    from lossdoc.checks.runner import run_checks
    from lossdoc.config import Config, load_config
    from lossdoc.ingest import read

    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int)
                                or not 1 <= horizon <= 10**15):
        from lossdoc.errors import ConfigError

        raise ConfigError(f"horizon must be a step from 1 to 10^15 (got {horizon!r})")
    if not isinstance(config, Config):
        config = load_config(config, start=Path.cwd())
    config = config.override(select=select, ignore=ignore, fail_on=fail_on, tolerance=tolerance)
    if not isinstance(paths, LogSet):
        from lossdoc import _prefetch

        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        _prefetch.start(paths)  # big logs: checks and report modules import while the log parses
    logset = paths if isinstance(paths, LogSet) else read(paths, format=format, progress=progress,
                                                          split_runs=split_runs)
    runs, rules = run_checks(logset, config, horizon=horizon, progress=progress)
    if len(runs) >= 3:  # several runs read together (a TensorBoard logdir of runs, several paths): LR008/LR009
        from lossdoc.checks.sweep_compare import compare_lr_sweep

        compare_lr_sweep(runs, config)
    report = Report(runs=runs, fail_on=config.fail_on, rules=rules, version=__version__)
    if baseline:
        from lossdoc.compare import compare_report

        report.comparison = compare_report(report, [os.fspath(b) for b in baseline], config,
                                           format=format)
    return report
