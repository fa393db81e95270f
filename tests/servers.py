"""Real servers for the scale tests, as subprocesses on 127.0.0.1, always torn down.

``dask_cluster()``: a ``dask scheduler`` and a ``dask worker`` (N processes, one thread each).
``s3_server()``: moto's S3-compatible server (``moto_server``, from ``moto[server]``).
Each process gets its own session, so stopping it stops whatever it started (the worker's
nanny and its worker processes): SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

#: Credentials moto accepts (any will do); never real ones.
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _command(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise RuntimeError(f"the `{name}` command is missing although its package is installed")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _processes(workdir: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        yield procs
    finally:
        for p, _ in reversed(procs):
            _stop(p)


def _start(procs: list, args: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as fh:
        p = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=cwd,
                             stdin=subprocess.DEVNULL)
    procs.append((p, log))
    return p


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return ""


@contextlib.contextmanager
def dask_cluster(workdir: Path, workers: int = 2, env: dict[str, str] | None = None,
                 timeout: float = 120.0) -> Iterator[str]:
    """Yield the address of a running scheduler with ``workers`` single-threaded worker processes."""
    import distributed

    workdir.mkdir(parents=True, exist_ok=True)
    sfile = workdir / "scheduler.json"
    full_env = {**os.environ, **(env or {})}
    with _processes(workdir) as procs:
        sched = _start(procs, [_command("dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sfile)], workdir / "scheduler.log", full_env, workdir)
        deadline = time.monotonic() + timeout
        address = None
        while address is None:
            if sched.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start: {_tail(workdir / 'scheduler.log')}")
            try:
                address = json.loads(sfile.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        _start(procs, [_command("dask"), "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                       "--no-dashboard", "--host", "127.0.0.1", "--local-directory", str(workdir / "work")],
               workdir / "worker.log", full_env, workdir)  # another working directory than the tests'
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
        try:
            client.wait_for_workers(workers, timeout=timeout)
        except TimeoutError:
            raise RuntimeError(f"dask workers did not join: {_tail(workdir / 'worker.log')}") from None
        finally:
            client.close()
        yield address


@contextlib.contextmanager
def s3_server(workdir: Path, timeout: float = 60.0) -> Iterator[str]:
    """Yield the endpoint URL of a moto S3 server."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with _processes(workdir) as procs:
        p = _start(procs, [_command("moto_server"), "-H", "127.0.0.1", "-p", str(port)], workdir / "moto.log",
                   {**os.environ, **S3_ENV}, workdir)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/moto-api/", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if p.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start: {_tail(workdir / 'moto.log')}") from None
                time.sleep(0.2)
        yield url
