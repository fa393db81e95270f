"""Class "data loss": an output never overwrites an input, never writes through a symbolic link,
never silently replaces another output, and a failed write leaves the previous file as it was.

Every case runs the CLI in-process and checks the exit code, the one-line message naming the
path, and that the files involved are byte-for-byte untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoc.cli import main
from lossdoc.errors import OutputError
from lossdoc.outputs import check_outputs, write_text
from tests.hardening.cases import nanogpt_text, trainer_state, write


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


def one_error(out: str, *needles: str) -> None:
    lines = [ln for ln in out.splitlines() if ln.startswith("lossdoc: error:")]
    assert len(lines) == 1, out
    assert "Traceback" not in out and "internal error" not in out, out
    for n in needles:
        assert n in lines[0], (n, out)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write(tmp_path / "train.log", nanogpt_text())


# --------------------------------------------------------------------------- an output that is an input
@pytest.mark.parametrize("opt", ["--html", "--json", "--markdown", "--junit"])
def test_output_equal_to_the_log_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path,
                                            opt: str) -> None:
    before = log.read_bytes()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", opt, "train.log", "-q")
    assert code == 2
    one_error(out, "train.log", opt, "overwrite the input")
    assert log.read_bytes() == before


@pytest.mark.parametrize("spelling", ["./train.log", "sub/../train.log", "{tmp}/train.log"])
def test_output_naming_the_log_another_way_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      log: Path, spelling: str) -> None:
    (tmp_path / "sub").mkdir()
    before = log.read_bytes()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", spelling.format(tmp=tmp_path), "-q",
                    "--no-html")
    assert code == 2
    one_error(out, "overwrite the input")
    assert log.read_bytes() == before


def test_output_that_is_a_hard_link_of_the_log_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          log: Path) -> None:
    os.link(log, tmp_path / "alias.log")
    before = log.read_bytes()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--markdown", "alias.log", "-q", "--no-html")
    assert code == 2
    one_error(out, "alias.log", "overwrite the input")
    assert log.read_bytes() == before


def test_input_given_through_a_symlink_is_still_protected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          log: Path) -> None:
    (tmp_path / "link.log").symlink_to(log)
    before = log.read_bytes()
    code, out = run(tmp_path, monkeypatch, "analyze", "link.log", "--junit", "train.log", "-q", "--no-html")
    assert code == 2
    one_error(out, "overwrite the input")
    assert log.read_bytes() == before


def test_snapshot_onto_its_own_log_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    before = log.read_bytes()
    code, out = run(tmp_path, monkeypatch, "snapshot", "train.log", "-o", "train.log")
    assert code == 2
    one_error(out, "train.log", "-o", "overwrite the input")
    assert log.read_bytes() == before


def test_json_onto_the_baseline_being_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      log: Path) -> None:
    assert run(tmp_path, monkeypatch, "snapshot", "train.log", "-o", "base.json")[0] == 0
    before = (tmp_path / "base.json").read_bytes()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--baseline", "base.json", "--json", "base.json",
                    "-q", "--no-html")
    assert code == 2
    one_error(out, "base.json", "--json")
    assert (tmp_path / "base.json").read_bytes() == before


@pytest.mark.parametrize("target", ["base.json", "train.log"])
def test_compare_outputs_onto_baseline_or_candidate_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               log: Path, target: str) -> None:
    assert run(tmp_path, monkeypatch, "snapshot", "train.log", "-o", "base.json")[0] == 0
    before = (tmp_path / target).read_bytes()
    code, out = run(tmp_path, monkeypatch, "compare", "base.json", "--candidate", "train.log", "--markdown", target,
                    "-q", "--no-html")
    assert code == 2
    one_error(out, target)
    assert (tmp_path / target).read_bytes() == before


def test_output_onto_the_config_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    cfg = write(tmp_path / "lossdoc.toml", 'fail-on = "error"\n')
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "lossdoc.toml", "-q", "--no-html")
    assert code == 2
    one_error(out, "lossdoc.toml")
    assert cfg.read_text() == 'fail-on = "error"\n'


def test_output_onto_a_log_inside_an_input_directory_is_refused(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    state = write(tmp_path / "out" / "trainer_state.json", trainer_state())
    before = state.read_bytes()
    code, out = run(tmp_path, monkeypatch, "analyze", "out", "--json", "out/trainer_state.json", "-q", "--no-html")
    assert code == 2
    one_error(out, "trainer_state.json", "inside the input directory")
    assert state.read_bytes() == before


def test_previous_report_inside_the_input_directory_may_be_replaced(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "run" / "train.log", nanogpt_text())
    for _ in range(2):  # the second run replaces the first run's outputs
        code, out = run(tmp_path, monkeypatch, "analyze", "run", "--json", "run/r.json", "--html", "run/r.html",
                        "--markdown", "run/r.md", "--junit", "run/r.xml", "-q")
        assert code in (0, 1), out
    assert json.loads((tmp_path / "run" / "r.json").read_text())["schema"] == "lossdoc/report-1"


# --------------------------------------------------------------------------- symbolic links
@pytest.mark.parametrize("opt", ["--html", "--json", "--markdown", "--junit"])
def test_output_that_is_a_symlink_is_refused_and_its_target_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 log: Path, opt: str) -> None:
    victim = write(tmp_path / "elsewhere" / "somefile", "precious\n")
    (tmp_path / "out.txt").symlink_to(Path("elsewhere") / "somefile")
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", opt, "out.txt", "-q",
                    *(["--no-html"] if opt != "--html" else []))
    assert code == 2
    one_error(out, "out.txt", "symbolic link")
    assert victim.read_text() == "precious\n" and (tmp_path / "out.txt").is_symlink()


def test_default_html_report_committed_as_a_symlink_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               log: Path) -> None:
    victim = write(tmp_path.parent / f"{tmp_path.name}-victim", "keep me\n")
    (tmp_path / "lossdoc-report.html").symlink_to(victim)
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "-q")
    assert code == 2
    one_error(out, "lossdoc-report.html", "symbolic link")
    assert victim.read_text() == "keep me\n"


def test_dangling_symlink_output_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    (tmp_path / "r.json").symlink_to(tmp_path / "created-by-attacker")
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "r.json", "-q", "--no-html")
    assert code == 2
    one_error(out, "r.json", "symbolic link")
    assert not (tmp_path / "created-by-attacker").exists()


def test_snapshot_through_a_symlink_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    victim = write(tmp_path / "v.json", "{}")
    (tmp_path / "s.json").symlink_to(victim)
    code, out = run(tmp_path, monkeypatch, "snapshot", "train.log", "-o", "s.json")
    assert code == 2
    one_error(out, "s.json", "symbolic link")
    assert victim.read_text() == "{}"


def test_symlink_planted_after_the_check_is_replaced_not_followed(tmp_path: Path) -> None:
    """The rename replaces the link itself: its target is never opened for writing."""
    victim = write(tmp_path / "victim", "keep\n")
    dest = tmp_path / "r.md"
    check_outputs([("--markdown", str(dest))], [])
    dest.symlink_to(victim)  # race: planted between the check and the write
    with pytest.raises(OutputError, match="symbolic link"):
        write_text(str(dest), "report\n")
    assert victim.read_text() == "keep\n"


# --------------------------------------------------------------------------- outputs colliding
@pytest.mark.parametrize("second", ["r.out", "./r.out", "x/../r.out"])
def test_two_outputs_with_one_destination_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path,
                                                      second: str) -> None:
    (tmp_path / "x").mkdir()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "r.out", "--markdown", second, "-q",
                    "--no-html")
    assert code == 2
    one_error(out, "--json", "--markdown", "same file")
    assert not (tmp_path / "r.out").exists()


def test_two_outputs_to_standard_output_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    log: Path) -> None:
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "-", "--junit", "-", "--no-html")
    assert code == 2
    one_error(out, "--json", "--junit", "standard output")


def test_output_that_is_a_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    (tmp_path / "d").mkdir()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--html", "d", "-q")
    assert code == 2
    one_error(out, "d", "directory")


# --------------------------------------------------------------------------- failed writes
def test_failed_write_keeps_the_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    old = write(tmp_path / "r.json", '{"previous": true}')

    def fail(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "r.json", "-q", "--no-html")
    assert code == 2
    one_error(out, "r.json", "No space left on device")
    assert old.read_text() == '{"previous": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "train.log"]  # no temporary file left


def test_output_under_a_file_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    write(tmp_path / "notadir", "x")
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "notadir/r.json", "-q", "--no-html")
    assert code == 2
    one_error(out, "notadir/r.json")


def test_replaced_output_keeps_its_permissions_and_leaves_no_temp_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      log: Path) -> None:
    old = write(tmp_path / "r.md", "old\n")
    old.chmod(0o640)
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--markdown", "r.md", "-q", "--no-html")
    assert code in (0, 1), out
    assert "lossdoc" in old.read_text() and (old.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md", "train.log"]


# --------------------------------------------------------------------------- devices and pipes
def test_dev_null_outputs_are_written_in_place_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            log: Path) -> None:
    """Renaming a temp file over /dev/null would replace the device (as root, for everyone)."""
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", os.devnull, "--html", os.devnull, "-q")
    assert code in (0, 1), out
    import stat as st_

    assert st_.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not list(Path(os.path.dirname(os.devnull)).glob(".null.*lossdoc-tmp"))


def test_named_pipe_output_is_written_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    import threading

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--json", "out.fifo", "--no-html", "-q")
    reader.join(60)
    assert code in (0, 1), out
    assert json.loads(got[0])["schema"] == "lossdoc/report-1"
    import stat as st_

    assert st_.S_ISFIFO(os.stat(fifo).st_mode)


# --------------------------------------------------------------------------- linked directories
def test_output_through_a_linked_directory_in_the_checkout_is_refused(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     log: Path) -> None:
    """A pull request can commit `reports -> ../../elsewhere`: no output goes through it."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "reports").symlink_to("elsewhere")
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--markdown", "reports/sub/r.md", "-q",
                    "--no-html")
    assert code == 2
    one_error(out, "reports/sub/r.md", "symbolic link reports/")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_output_below_a_linked_directory_outside_the_checkout_is_allowed(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Links above the working directory (/tmp -> /private/tmp, a linked home) belong to the machine."""
    work = tmp_path / "work"
    write(work / "train.log", nanogpt_text())
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to("real")
    code, out = run(work, monkeypatch, "analyze", "train.log", "--json", str(tmp_path / "linked" / "r.json"), "-q",
                    "--no-html")
    assert code in (0, 1), out
    assert json.loads((tmp_path / "real" / "r.json").read_text())["schema"] == "lossdoc/report-1"
