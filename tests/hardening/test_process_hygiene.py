"""Class "process hygiene": SIGINT during a sweep stops lossdoc promptly with exit code 2 and
leaves none of its processes (fork server, resource tracker, workers) running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hardening.cases import nanogpt_text, write

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                st = fh.read()
        except OSError:
            continue
        kids.setdefault(int(st.rsplit(")", 1)[1].split()[1]), []).append(int(d))
    return kids


def descendants(pid: int) -> set[int]:
    kids = _children()
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def started_for(tmp_path: Path) -> set[int]:
    """Processes of this sweep found by their command line (the fork server and its workers carry
    the sweep's working directory in their sys.path), including any started after the last look."""
    out: set[int] = set()
    needle = str(tmp_path).encode()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as fh:
                    if needle in fh.read():
                        out.add(int(d))
            except OSError:
                pass
    return out


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.parametrize("when", ["while-workers-start", "while-workers-run"])
def test_sigint_during_a_sweep_leaves_nothing_running(tmp_path: Path, when: str) -> None:
    for i in range(40):
        write(tmp_path / "sw" / f"run{i:02d}" / "train.log", nanogpt_text(2000))
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "LOSSDOC_DEBUG")}
    proc = subprocess.Popen([sys.executable, "-m", "lossdoc", "analyze", "sw", "-j", "2", "--no-html", "-q"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: set[int] = set()
    want = 3 if when == "while-workers-start" else 4  # tracker + fork server + one or two workers
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            seen |= descendants(proc.pid)
            if len(seen) >= want:
                break
            time.sleep(0.05)
        assert len(seen) >= want and proc.poll() is None, "the sweep did not start its workers"
        if when == "while-workers-run":
            time.sleep(0.5)
            seen |= descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        left: list[int] = []
        for _ in range(100):  # give the fork server a moment to notice its parent is gone
            seen |= started_for(tmp_path)
            left = [p for p in seen if running(p)]
            if not left:
                break
            time.sleep(0.1)
    finally:  # never leave processes behind, even when the test fails
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in seen | started_for(tmp_path):
            if running(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
    assert proc.returncode == 2, err
    assert b"interrupted" in err and b"Traceback" not in err, err
    assert left == [], f"still running after SIGINT: {left}"
