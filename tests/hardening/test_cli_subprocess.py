"""``lossdoc analyze`` as a user runs it (a subprocess): on every broken, odd or hostile input the
exit code is right, stderr holds no traceback and no raw escape sequence, and the message says
what is wrong with which path.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.cases import (
    HOSTILE,
    csv_text,
    hostile_filename,
    loss_at,
    nanogpt_text,
    noisy_bytes,
    trainer_state,
    write,
)


def lossdoc(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "LOSSDOC_DEBUG")}
    full_env = {**base, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "lossdoc", *args], cwd=cwd, env=full_env, input=stdin,
                          capture_output=True, timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def assert_clean_stderr(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert "\x1b" not in err and "\x07" not in err
    assert "Warning" not in err, err  # no Python warning spew


# --------------------------------------------------------------------------- not a log: exit 2
BAD: list[tuple[str, Callable[[Path], str], str]] = [
    ("empty", lambda t: str(write(t / "e.log", "")), "e.log: file is empty"),
    ("binary", lambda t: str(write(t / "w.bin", noisy_bytes(5000, seed=1))), "w.bin: unrecognised log format"),
    ("prose", lambda t: str(write(t / "p.txt", "Call me Ishmael.\n" * 50)), "p.txt: unrecognised log format"),
    ("missing", lambda t: "nope.log", "nope.log: no such file or directory"),
    ("empty-dir", lambda t: ((t / "d").mkdir(), "d")[1], "d: directory holds no recognised training log"),
    ("broken-symlink", lambda t: ((t / "l.log").symlink_to(t / "gone"), "l.log")[1], "l.log: broken symbolic link"),
    ("gz-garbage", lambda t: str(write(t / "c.log.gz", b"\x1f\x8b\x08\x00" + noisy_bytes(999, seed=4))),
     "c.log.gz: cannot decompress: corrupt gzip data"),
    ("format-for-dirs-on-a-file", lambda t: str(write(t / "t.log", nanogpt_text())) + "\0--format\0csv-dir",
     "reads a directory, not a single file"),
    ("unknown-format", lambda t: str(write(t / "t.log", nanogpt_text())) + "\0--format\0nosuch",
     "unknown format 'nosuch'"),
    ("not-a-step-column", lambda t: str(write(t / "m.csv", "step,loss\n0.5,1\n1.5,2\n2.5,3\n")),
     "m.csv:2: step column 'step' holds '0.5', not a whole number"),
]


@pytest.mark.parametrize(("make", "expected"), [pytest.param(m, e, id=i) for i, m, e in BAD])
def test_bad_input_exits_2_with_one_clear_line(tmp_path: Path, make: Callable[[Path], str], expected: str) -> None:
    args = make(tmp_path).split("\0")
    r = lossdoc("analyze", *args, "--no-html", cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert_clean_stderr(r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossdoc: error: ") and expected in lines[0], r.stderr


def test_decompression_bomb_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "bomb.log.gz", gzip.compress(b"\x00" * (32 * 1024**2)) * 4)  # 128 MiB inside
    r = lossdoc("analyze", "bomb.log.gz", "--no-html", cwd=tmp_path,
                env={"LOSSDOC_MAX_DECOMPRESSED_BYTES": str(8 * 1024**2)})
    assert r.returncode == 2
    assert_clean_stderr(r.stderr)
    assert "bomb.log.gz: decompresses to more than 8.0 MiB" in r.stderr and "LOSSDOC_MAX_DECOMPRESSED_BYTES" in r.stderr


def test_invalid_config_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    write(tmp_path / "lossdoc.toml", "fail-on = 'sometimes'\n")
    write(tmp_path / "t.log", nanogpt_text())
    r = lossdoc("analyze", "t.log", "--no-html", cwd=tmp_path)
    assert r.returncode == 2
    assert_clean_stderr(r.stderr)
    assert "lossdoc.toml" in r.stderr and "fail-on" in r.stderr


# --------------------------------------------------------------------------- usable input: analysed
GOOD: list[tuple[str, str, bytes, str | None]] = [
    # id, file, content, text that must appear in `inspect` (a note) or None
    ("torn-last-line", "train.log", (nanogpt_text() + "iter 120: loss 1.2").encode(), "torn_tail"),
    ("utf-16", "train.log", nanogpt_text().encode("utf-16"), "UTF-16"),
    ("latin-1", "train.log", ("# caf\xe9\n" + nanogpt_text()).encode("latin-1"), "Latin-1"),
    ("nul-bytes", "train.log", (nanogpt_text(50) + "\x00" * 300 + nanogpt_text(start=50)).encode(), "NUL"),
    ("crlf-ansi-tqdm", "train.log",
     "".join(f"\r 5%|# | {i}/120\x1b[32m\r\niter {i}: loss {loss_at(i):.4f}, time 1.00ms, mfu 1.00%\x1b[0m\r\n"
             for i in range(120)).encode(), None),
    ("csv-ragged", "metrics.csv", csv_text().replace("\n3,3.8236,\n", "\n3,3.8236,,9,9\n").encode(), "fields"),
    ("gz-cut-short", "train.log.gz", gzip.compress(nanogpt_text(30_000).encode())[:-5000], "ends early"),
    ("trainer-state-cut", "trainer_state.json", trainer_state().encode()[:-2000], "torn_tail"),
    ("one-point", "train.log", nanogpt_text(1).encode(), None),
    ("all-nan", "train.log", "".join(f"iter {i}: loss nan, time 1.00ms, mfu 1.00%\n" for i in range(50)).encode(),
     None),
]


def test_usable_inputs_are_all_analysed(tmp_path: Path) -> None:
    """One `analyze` over every case (each is its own run), then one `inspect` for the notes."""
    paths = [str(write(tmp_path / case / name, data)) for case, name, data, _ in GOOD]
    r = lossdoc("analyze", *paths, "--no-html", "--json", "report.json", cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert_clean_stderr(r.stderr)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert sorted(run["source"] for run in doc["runs"]) == sorted(paths)
    assert all(run["series"] for run in doc["runs"])
    i = lossdoc("inspect", "--json", *paths, cwd=tmp_path)
    assert i.returncode == 0, i.stderr
    notes = {Path(src["path"]).parent.name: " ".join(f"{n['kind']} {n['message']}" for n in src["notes"])
             for src in json.loads(i.stdout)["sources"]}
    for case, _, _, note in GOOD:
        if note is not None:
            assert note in notes[case], (case, notes[case])


def test_stdin_gzip(tmp_path: Path) -> None:
    r = lossdoc("analyze", "-", "--no-html", cwd=tmp_path, stdin=gzip.compress(nanogpt_text().encode()))
    assert r.returncode in (0, 1)
    assert_clean_stderr(r.stderr)
    assert "stdin" in r.stdout


def test_numeric_extremes_print_no_warnings(tmp_path: Path) -> None:
    write(tmp_path / "x.csv", "step,loss\n" + "".join(f"{i},{1.7e308 if i % 3 else -1.7e308}\n" for i in range(200)))
    r = lossdoc("analyze", "x.csv", "--no-html", cwd=tmp_path)
    assert r.returncode in (0, 1)
    assert_clean_stderr(r.stderr)


# --------------------------------------------------------------------------- hostile names
def test_hostile_names_do_not_reach_the_terminal(tmp_path: Path) -> None:
    name = hostile_filename()
    log = write(tmp_path / f"d{name}" / f"{name}.log",
                "".join(f"iter {i}: loss {loss_at(i) * (9 if i == 60 else 1):.4f}, time 1.00ms, mfu 1.00%\n"
                        for i in range(120)))
    r = lossdoc("analyze", str(log), "--html", "r.html", "--markdown", "r.md", "--junit", "r.xml", cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert_clean_stderr(r.stderr)
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "<script>" in r.stdout  # shown as text (the terminal does not interpret HTML)
    assert not any(line.startswith("::") for line in r.stdout.splitlines())
    html = (tmp_path / "r.html").read_text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    # A missing hostile path: the error line is printable text only.
    r2 = lossdoc("analyze", f"missing{HOSTILE}", "--no-html", cwd=tmp_path)
    assert r2.returncode == 2
    assert_clean_stderr(r2.stderr)
    assert len(r2.stderr.strip().splitlines()) == 1


def test_github_annotations_cannot_be_forged(tmp_path: Path) -> None:
    name = hostile_filename()
    log = write(tmp_path / f"{name}.log",
                "".join(f"iter {i}: loss {loss_at(i) * (9 if i == 60 else 1):.4f}, time 1.00ms, mfu 1.00%\n"
                        for i in range(120)))
    summary = tmp_path / "summary.md"
    r = lossdoc("analyze", str(log), "--no-html", cwd=tmp_path,
                env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert r.returncode in (0, 1)
    commands = [ln for ln in r.stdout.splitlines() if ln.startswith("::")]
    assert commands, r.stdout
    assert all(ln.startswith(("::error title=", "::warning title=", "::notice title=")) for ln in commands)
    assert "::error file=x::forged" not in r.stdout.replace("%3A", ":").splitlines()


# --------------------------------------------------------------------------- the process's exit
# `python -m lossdoc` leaves with os._exit after flushing (no interpreter teardown, ~0.3 s of a big
# run): nothing written to stdout may be lost, and the exit code must survive.
def test_piped_stdout_is_complete_and_exit_code_kept(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    log = repo / "sample_logs" / "runs" / "nanogpt" / "divergence" / "train.log"
    r = lossdoc("analyze", str(log), "--no-html", "--json", "-", "--markdown", "r.md", cwd=tmp_path)
    assert r.returncode == 1, r.stderr  # the divergence is an error finding
    doc = json.loads(r.stdout)  # the whole document arrived through the pipe
    assert doc["verdict"] == "fail" and any(f["rule"] == "DV001" for f in doc["runs"][0]["findings"])
    assert "DV001" in (tmp_path / "r.md").read_text()
    assert lossdoc("analyze", "nope.log", cwd=tmp_path).returncode == 2


def test_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """`lossdoc formats | head -0`: the reader is gone before anything is written (so the write
    certainly meets a closed pipe); no traceback, exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "lossdoc", "formats"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "Exception ignored" not in err, err
