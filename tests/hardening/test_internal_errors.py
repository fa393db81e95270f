"""Class "internal errors": inputs and situations that used to end in ``internal error: ...``
(or a traceback) now give a clean result or one clear line naming the file, exit code 2.

Non-UTF-8 file names, symbolic-link loops, snapshots of a converged run, hostile baseline
snapshots, a huge --horizon, zstd skippable frames, a 10^5-column CSV, a non-UTF-8 stdout
encoding and closed standard streams.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoc.cli import main
from tests.hardening.cases import csv_text, loss_at, nanogpt_text, write

ROOT = Path(__file__).resolve().parents[2]
DIVERGING = ROOT / "sample_logs" / "runs" / "nanogpt" / "divergence" / "train.log"


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    res = CliRunner().invoke(main, list(args))
    assert "internal error" not in res.output and "Traceback" not in res.output, res.output
    return res.exit_code, res.output


def one_line_error(out: str, *needles: str) -> None:
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossdoc: error: "), out
    for n in needles:
        assert n in lines[0], (n, out)


# --------------------------------------------------------------------------- non-UTF-8 file names
BAD_NAME = os.fsdecode(b"caf\xe9-\xff")


def test_non_utf8_file_name_writes_every_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / f"{BAD_NAME}.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "analyze", f"{BAD_NAME}.log", "--html", "r.html", "--markdown", "r.md",
                    "--junit", "r.xml", "--json", "r.json")
    assert code in (0, 1), out
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["runs"] and (tmp_path / "r.html").stat().st_size and (tmp_path / "r.xml").stat().st_size


def test_non_utf8_file_name_in_inspect_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / f"{BAD_NAME}.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "inspect", f"{BAD_NAME}.log", "--json")
    assert code == 0
    assert json.loads(out)["sources"][0]["format"] == "nanogpt"


def test_non_utf8_directory_names_in_a_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (BAD_NAME, os.fsdecode(b"r\xfe2")):
        write(tmp_path / "sw" / name / "train.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "analyze", "sw", "-j", "1", "--markdown", "r.md", "--junit", "r.xml",
                    "--json", "r.json")
    assert code in (0, 1), out
    assert len(json.loads((tmp_path / "r.json").read_text())["runs"]) == 2


def test_non_utf8_file_name_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / f"{BAD_NAME}.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "snapshot", f"{BAD_NAME}.log", "-o", "s.json")
    assert code == 0 and json.loads((tmp_path / "s.json").read_text())["runs"]


# --------------------------------------------------------------------------- symbolic-link loops
def test_self_referencing_link_is_named_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "self.log").symlink_to("self.log")
    code, out = run(tmp_path, monkeypatch, "analyze", "self.log", "--no-html")
    assert code == 2
    one_line_error(out, "self.log", "symbolic link loop")


def test_two_link_loop_is_named_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.log").symlink_to("b.log")
    (tmp_path / "b.log").symlink_to("a.log")
    code, out = run(tmp_path, monkeypatch, "inspect", "a.log")
    assert code == 2
    one_line_error(out, "a.log", "symbolic link loop")


def test_link_loops_inside_a_directory_are_noted_and_the_log_read(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "run" / "train.log", nanogpt_text())
    (tmp_path / "run" / "x.log").symlink_to("y.log")
    (tmp_path / "run" / "y.log").symlink_to("x.log")
    (tmp_path / "run" / "gone.log").symlink_to("nowhere")
    code, out = run(tmp_path, monkeypatch, "inspect", "run")
    assert code == 0
    assert "symbolic link loop" in out and "broken symbolic link" in out and "train" in out


def test_directory_link_to_an_ancestor_does_not_recur(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "exp" / "train.log", nanogpt_text())
    (tmp_path / "exp" / "sub").mkdir()
    (tmp_path / "exp" / "sub" / "up").symlink_to("..")
    code, out = run(tmp_path, monkeypatch, "inspect", "exp", "--json")
    assert code == 0
    assert len(json.loads(out)["sources"]) == 1


# --------------------------------------------------------------------------- snapshots
def flat_tail_log(n: int = 200) -> str:
    return "".join(f"iter {i}: loss {max(loss_at(i), 1.5) if i < 60 else 1.5:.4f}, time 1.00ms, mfu 1.00%\n"
                   for i in range(n))


@pytest.mark.parametrize("text", [flat_tail_log(), "".join(f"iter {i}: loss 2.0000, time 1ms, mfu 1%\n"
                                                           for i in range(200))], ids=["converged", "constant"])
def test_snapshot_of_a_converged_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    write(tmp_path / "run.log", text)
    code, out = run(tmp_path, monkeypatch, "snapshot", "run.log", "-o", "s.json")
    assert code == 0, out
    doc = json.loads((tmp_path / "s.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    if "2.0000" in text:  # a constant tail has no autocorrelation: null, not NaN
        assert doc["runs"][0]["train_loss"]["noise"]["lag1_autocorr"] is None
    code, out = run(tmp_path, monkeypatch, "compare", "s.json", "--candidate", "run.log", "--no-html", "-q")
    assert code == 0, out


def test_snapshot_of_a_run_with_nan_losses_is_strict_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "run.log", "".join(f"iter {i}: loss {'nan' if i % 50 == 7 else f'{loss_at(i):.4f}'}, "
                                        "time 1.00ms, mfu 1.00%\n" for i in range(3000)))
    code, out = run(tmp_path, monkeypatch, "snapshot", "run.log", "-o", "s.json")
    assert code == 0, out
    json.loads((tmp_path / "s.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[type-arg]
    write(tmp_path / "run.log", flat_tail_log())
    assert run(tmp_path, monkeypatch, "snapshot", "run.log", "-o", "good.json")[0] == 0
    return json.loads((tmp_path / "good.json").read_text())


def hostile(tmp_path: Path, doc: dict, edit) -> Path:  # type: ignore[no-untyped-def, type-arg]
    d = json.loads(json.dumps(doc))
    edit(d["runs"][0]["train_loss"])
    return write(tmp_path / "bad.json", json.dumps(d))


def _set(key: str, sub: str, value: object):  # type: ignore[no-untyped-def]
    def edit(t: dict) -> None:  # type: ignore[type-arg]
        t[key][sub] = value(t[key][sub]) if callable(value) else value
    return edit


HOSTILE_BASELINES = {
    # name: (edit of train_loss, expected exit codes, words of the message)
    "huge-int": (_set("tail", "value", lambda v: [10**400] + v[1:]), (0, 1), ()),
    "all-1e308": (lambda t: (t["bins"].update(mean=[1e308] * len(t["bins"]["mean"])),
                             t["tail"].update(value=[1e308] * len(t["tail"]["value"]))), (0, 1), ()),
    "empty-curves": (lambda t: (t["bins"].update(step=[], mean=[], count=[]), t["tail"].update(step=[], value=[])),
                     (2,), ("no finite loss",)),
    "all-null": (_set("tail", "value", lambda v: [None] * len(v)), (0, 1, 2), ()),
    "string-values": (_set("tail", "value", lambda v: ["x"] + v[1:]), (2,), ("not a valid lossdoc snapshot",)),
    "unsorted-steps": (_set("tail", "step", lambda v: v[::-1]), (0, 1, 2), ()),
    "huge-step": (_set("tail", "step", lambda v: [10**30] + v[1:]), (0, 1, 2), ()),
    "bins-not-a-list": (_set("bins", "mean", {"a": 1}), (2,), ("not a valid lossdoc snapshot",)),
    "curve-not-an-object": (lambda t: t.clear(), (2,), ()),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BASELINES))
def test_hostile_baseline_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: dict,  # type: ignore[type-arg]
                                   name: str) -> None:
    edit, codes, words = HOSTILE_BASELINES[name]
    hostile(tmp_path, base, edit)
    code, out = run(tmp_path, monkeypatch, "compare", "bad.json", "--candidate", "run.log", "--no-html", "-q")
    assert code in codes, out
    if code == 2:
        assert out.strip().count("\n") == 0 and out.startswith("lossdoc: error:"), out
    for w in words:
        assert w in out, out


def test_deeply_nested_baseline_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "run.log", flat_tail_log())
    write(tmp_path / "deep.json", '{"schema": "lossdoc/snapshot-1", "runs": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, out = run(tmp_path, monkeypatch, "compare", "deep.json", "--candidate", "run.log", "--no-html", "-q")
    assert code == 2
    one_line_error(out, "deep.json", "nested too deeply")


# --------------------------------------------------------------------------- --horizon / --jobs
@pytest.mark.parametrize("value", ["1000000000000000000000", "1000000000000001", "0", "-5"])
def test_out_of_range_horizon_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    write(tmp_path / "run.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "analyze", "run.log", "--horizon", value, "--no-html", "-q")
    assert code == 2 and "--horizon" in out, out


def test_largest_horizon_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "run.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "analyze", "run.log", "--horizon", str(10**15), "--no-html", "-q")
    assert code in (0, 1), out


def test_api_rejects_an_out_of_range_horizon(tmp_path: Path) -> None:
    from lossdoc.api import analyze
    from lossdoc.errors import ConfigError

    write(tmp_path / "run.log", nanogpt_text())
    with pytest.raises(ConfigError, match="horizon"):
        analyze(str(tmp_path / "run.log"), horizon=10**21)


@pytest.mark.parametrize("jobs", ["0", "100000"])
def test_out_of_range_jobs_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    write(tmp_path / "run.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "analyze", "run.log", "-j", jobs, "--no-html", "-q")
    assert code == 2 and "--jobs" in out, out


# --------------------------------------------------------------------------- zstd skippable frames
def _skip(n: int, magic: int = 0x184D2A50) -> bytes:
    return magic.to_bytes(4, "little") + n.to_bytes(4, "little") + b"S" * n


@pytest.mark.parametrize("layout", ["leading", "between-and-after", "high-magic"])
def test_zstd_with_skippable_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    zstandard = pytest.importorskip("zstandard")
    data = nanogpt_text().encode()
    c = zstandard.ZstdCompressor()
    blob = {"leading": _skip(16) + c.compress(data),
            "between-and-after": c.compress(data[:1500]) + _skip(100) + c.compress(data[1500:]) + _skip(0),
            "high-magic": _skip(8, 0x184D2A5F) + c.compress(data)}[layout]
    write(tmp_path / "run.log.zst", blob)
    code, out = run(tmp_path, monkeypatch, "inspect", "run.log.zst", "--json")
    assert code == 0, out
    series = json.loads(out)["sources"][0]["runs"][0]["series"]
    assert any(s["metric"] == "loss" and s["points"] == 120 for s in series)


def test_zstd_of_only_skippable_frames_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "run.log.zst", _skip(32))
    code, out = run(tmp_path, monkeypatch, "inspect", "run.log.zst")
    assert code == 2
    one_line_error(out, "run.log.zst")


# --------------------------------------------------------------------------- very wide CSV
def test_csv_with_100000_columns_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cols = 100_000
    header = "step,loss," + ",".join(f"c{i}" for i in range(cols)) + "\n"
    rows = "".join(f"{i},{loss_at(i)}," + ",".join(["1.0"] * cols) + "\n" for i in range(3))
    write(tmp_path / "wide.csv", header + rows)
    code, out = run(tmp_path, monkeypatch, "analyze", "wide.csv", "--no-html", "-q")
    assert code == 2
    one_line_error(out, "wide.csv", "100,002 columns", "at most 2,000")


def test_csv_with_a_header_longer_than_the_sniffed_head_is_read(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    extra = [f"metric_with_a_rather_long_descriptive_name_{i:04d}" for i in range(1500)]  # ~75 KB header
    header = "step,loss," + ",".join(extra) + "\n"
    rows = "".join(f"{i},{loss_at(i)}," + ",".join(["0.5"] * len(extra)) + "\n" for i in range(40))
    write(tmp_path / "wide.csv", header + rows)
    code, out = run(tmp_path, monkeypatch, "inspect", "wide.csv", "--json")
    assert code == 0, out
    assert any(s["name"] == "loss" for s in json.loads(out)["sources"][0]["runs"][0]["series"])


# --------------------------------------------------------------------------- standard streams
def lossdoc_sh(cmd: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m lossdoc`` through a shell, for redirections such as ``>&-``."""
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "LOSSDOC_DEBUG")}
    return subprocess.run(["/bin/sh", "-c", f'"{sys.executable}" -m lossdoc {cmd}'], cwd=cwd,
                          env={**base, **(env or {})}, capture_output=True, timeout=120)


def test_ascii_stdout_encoding(tmp_path: Path) -> None:
    write(tmp_path / "é-run.log", nanogpt_text())
    r = lossdoc_sh("analyze é-run.log --no-html", tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode in (0, 1), r.stderr
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr
    assert b"\\xe9-run" in r.stdout or "é-run".encode() in r.stdout  # escaped or as UTF-8, not lost


def test_ascii_stdout_encoding_keeps_json_output_utf8(tmp_path: Path) -> None:
    write(tmp_path / "é-run.log", nanogpt_text())
    r = lossdoc_sh("analyze é-run.log --no-html --json - -q", tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode in (0, 1), r.stderr
    assert json.loads(r.stdout.decode("utf-8"))["runs"][0]["run"] == "é-run"


def test_closed_stdout_keeps_the_exit_code(tmp_path: Path) -> None:
    r = lossdoc_sh(f"analyze '{DIVERGING}' --no-html >&-", tmp_path)
    assert r.returncode == 1, r.stderr  # the divergence still fails the gate
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr


def test_closed_stderr_with_a_bad_input_still_exits_2(tmp_path: Path) -> None:
    r = lossdoc_sh("analyze nope.log --no-html 2>&-", tmp_path)
    assert r.returncode == 2


def test_closed_stdout_and_stderr(tmp_path: Path) -> None:
    write(tmp_path / "run.csv", csv_text())
    r = lossdoc_sh("analyze run.csv --json r.json --no-html >&- 2>&-", tmp_path)
    assert r.returncode in (0, 1)
    assert json.loads((tmp_path / "r.json").read_text())["runs"]


# --------------------------------------------------------------------------- very deep trees
def _deep(root: Path, levels: int, text: str) -> None:
    """``root/a/a/.../a/train.log``, made one level at a time relative to the current directory
    (an absolute path this long is refused by some calls)."""
    root.mkdir(parents=True, exist_ok=True)
    here = os.getcwd()
    try:
        os.chdir(root)
        for _ in range(levels):
            os.mkdir("a")
            os.chdir("a")
        Path("train.log").write_text(text)
    finally:
        os.chdir(here)


def _remove_deep(top: Path) -> None:
    """Remove a tree of any depth bottom-up without recursion (shutil.rmtree of Python < 3.12
    recurses too: left behind, the tree would crash a later pytest's cleanup of old temp dirs)."""
    here = os.getcwd()
    try:
        os.chdir(top)
        depth = 0
        while True:
            for e in os.scandir("."):
                if not e.is_dir(follow_symlinks=False):
                    os.unlink(e.name)
            subs = [e.name for e in os.scandir(".") if e.is_dir(follow_symlinks=False)]
            if subs:
                os.chdir(subs[0])
                depth += 1
                continue
            if depth == 0:
                break
            os.chdir("..")
            depth -= 1
            for e in os.scandir("."):
                if e.is_dir(follow_symlinks=False) and not any(True for _ in os.scandir(e.name)):
                    os.rmdir(e.name)
    finally:
        os.chdir(here)
    os.rmdir(top)


def test_directory_tree_1000_levels_deep_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.walk of Python < 3.12 recursed once per level (RecursionError at ~1,000)."""
    try:
        _deep(tmp_path / "deep", 1000, nanogpt_text())
        code, out = run(tmp_path, monkeypatch, "analyze", "deep", "--no-html", "-q")
    finally:
        _remove_deep(tmp_path / "deep")
    assert code == 2
    one_line_error(out, "deep", "deeper than 64 levels")


def test_log_beside_a_too_deep_branch_is_read_and_the_branch_noted(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "exp" / "run" / "train.log", nanogpt_text())
    _deep(tmp_path / "exp" / "junk", 80, nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "inspect", "exp")
    assert code == 0, out
    assert "deeper than 64 levels" in out and "120 pts" in out
