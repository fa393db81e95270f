"""Sweeps on a Dask distributed cluster: ``lossdoc analyze runs/ --scheduler tcp://HOST:PORT``.

A sweep is a map (unit -> :class:`~lossdoc.sweep.UnitResult`: findings, summary, a 60-bin curve,
a few KB) and a cheap reduce (ranking, index page) in the calling process. Here the map runs on
the workers of an existing Dask cluster: each task is a batch of units, analysed by the same
:func:`lossdoc.sweep.analyze_unit` a local sweep uses, so the report is the same. The workers
read the runs themselves (a shared filesystem, or ``s3://`` / ``gs://`` paths through fsspec);
only the results travel back, never a log or a data frame.

Install with ``pip install 'lossdoc[dask]'`` on the client and on every worker (same lossdoc
version: it is checked before any work is sent). Relative unit paths are resolved on the workers
against the client's working directory (:data:`lossdoc.ingest.BASE_DIR`), so they must see the
runs under the same path; absolute paths or URLs are the safer choice across machines.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from lossdoc.errors import LossdocError

def _timeout() -> float:
    """Seconds to wait for the scheduler to answer, and for a first worker to join it
    (``LOSSDOC_SCHEDULER_TIMEOUT``, default 30)."""
    try:
        return max(0.1, float(os.environ.get("LOSSDOC_SCHEDULER_TIMEOUT", "") or 30))
    except ValueError:
        return 30.0


class ClusterError(LossdocError):
    """The cluster cannot be used (dask missing, scheduler unreachable, no or mismatched workers)."""


def scheduler_address(cli_value: str | None) -> str | None:
    """``--scheduler`` if given, else ``LOSSDOC_SCHEDULER`` (empty means none)."""
    if cli_value:
        return cli_value
    env = os.environ.get("LOSSDOC_SCHEDULER", "").strip()
    return env or None


def _client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--scheduler needs Dask distributed: pip install 'lossdoc[dask]'") from None
    try:
        return Client(address, timeout=_timeout(), set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {' '.join(str(exc).split())}") from None


def _worker_version() -> str:
    """Run on each worker: the lossdoc version it imports (its tasks run this lossdoc)."""
    from lossdoc import __version__

    return __version__


def _check_workers(client: Any, address: str) -> int:
    """Wait for a first worker, check every worker runs this lossdoc; return the worker threads."""
    from lossdoc import __version__

    try:
        client.wait_for_workers(1, timeout=_timeout())
    except (TimeoutError, OSError):
        raise ClusterError(f"the Dask scheduler at {address} has no workers "
                           f"(waited {_timeout():.0f} s)") from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # noqa: BLE001 - lossdoc missing on a worker: ModuleNotFoundError inside
        raise ClusterError(f"the Dask workers at {address} cannot import lossdoc "
                           f"(pip install 'lossdoc[dask]' there): {' '.join(str(exc).split())}") from None
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        w, v = next(iter(wrong.items()))
        raise ClusterError(f"Dask worker {w} runs lossdoc {v}, this is {__version__}: "
                           "install the same version everywhere (results would differ)")
    return max(1, sum(client.nthreads().values()))


def _analyze_batch(units: list[tuple[str, bool]], options: dict[str, Any], base: str) -> list[Any]:
    """Task body on a worker: analyse a batch of units, relative paths taken from ``base``."""
    from lossdoc.ingest import BASE_DIR
    from lossdoc.sweep import analyze_unit, rules_once

    token = BASE_DIR.set(base)
    try:
        return rules_once([analyze_unit(u, d, options) for u, d in units])
    finally:
        BASE_DIR.reset(token)


class Cluster:
    """A connection to the Dask scheduler at ``address`` (a context manager).

    On entry: connects, waits for a first worker and checks that every worker imports this
    lossdoc version; ``threads`` is then the number of worker threads (the sweep's parallelism)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Any = None
        self.threads = 0

    def __enter__(self) -> Cluster:
        self.client = _client(self.address)
        try:
            self.threads = _check_workers(self.client, self.address)
        except BaseException:
            self.client.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def map_units(self, todo: list[tuple[str, bool]], options: dict[str, Any]) -> Iterator[Any]:
        """Analyse ``todo`` on the cluster; yield each unit's result as its batch finishes.

        A batch whose task fails (its worker died: out of memory, killed) yields an error result
        for each of its units, as a local sweep does when a worker process dies; the sweep goes on."""
        from distributed import as_completed

        from lossdoc.sweep import UnitResult, _batches

        base = os.getcwd()
        batches = _batches(todo, self.threads)
        futures = {self.client.submit(_analyze_batch, b, options, base, pure=False): b for b in batches}
        try:
            for fut in as_completed(list(futures), loop=self.client.loop):
                try:
                    batch = fut.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, a worker lost mid-task, ...
                    why = " ".join(f"{type(exc).__name__}: {exc}".split())
                    batch = [UnitResult(unit=u, is_dir=d, error=f"{u}: the Dask task analysing it failed ({why})")
                             for u, d in futures[fut]]
                yield from batch
        finally:  # Ctrl-C or an error here: do not leave the rest queued on the cluster
            self.client.cancel([f for f in futures if not f.done()])


__all__ = ["Cluster", "ClusterError", "scheduler_address"]
