"""A quiet progress indicator for long work: a one-line stderr spinner, TTY only.

Nothing is drawn for work that finishes within ``delay`` seconds (most logs), nothing at all
when stderr is not a terminal (CI logs, pipes), and the line is erased when the work ends::

    with progress_indicator() as progress:
        report = lossdoc.api.analyze(paths, progress=progress)   # progress("reading run.log")
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from lossdoc.report.present import clean

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Spinner:
    """Callable with a message; draws ``⠋ message (elapsed)`` on ``stream`` after ``delay`` seconds."""

    def __init__(self, stream: TextIO, delay: float = 1.0, interval: float = 0.1, width: int = 78) -> None:
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.width = width
        self.message = "working"
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._drawn = False
        self._thread = threading.Thread(target=self._run, name="lossdoc-progress", daemon=True)

    def __call__(self, message: str) -> None:
        with self._lock:
            self.message = clean(message, self.width - 12)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        i = 0
        while not self._stop.is_set():
            with self._lock:
                elapsed = time.monotonic() - self._start
                line = f"{_FRAMES[i % len(_FRAMES)]} {self.message} ({elapsed:.0f}s)"
                try:
                    self.stream.write("\r\x1b[K" + line[: self.width])
                    self.stream.flush()
                    self._drawn = True
                except (OSError, ValueError):
                    return
            i += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        with self._lock:
            if self._drawn:
                try:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
                self._drawn = False


def _noop(message: str) -> None:
    return None


@contextmanager
def progress_indicator(enabled: bool = True, stream: TextIO | None = None,
                       delay: float = 1.0) -> Iterator[object]:
    """Yield a ``progress(message)`` callable: a spinner on a TTY, else a no-op."""
    out = stream if stream is not None else sys.stderr
    try:
        tty = bool(out.isatty())
    except (AttributeError, ValueError):
        tty = False
    if not enabled or not tty:
        yield _noop
        return
    spinner = Spinner(out, delay=delay)
    spinner.start()
    try:
        yield spinner
    finally:
        spinner.stop()
