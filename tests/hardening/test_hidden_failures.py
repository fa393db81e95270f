"""Class "hidden failures": a sweep unit that failed appears in every output (Markdown, JUnit,
JSON, annotations, job summary) and fails the verdict; a subdirectory that cannot be listed is
noted, never skipped in silence.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoc.cli import main
from tests.hardening.cases import nanogpt_text, write


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None
        ) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    write(tmp_path / "sw" / "lr-1e-3" / "train.log", nanogpt_text())
    write(tmp_path / "sw" / "lr-3e-3" / "train.log", nanogpt_text())
    write(tmp_path / "sw" / "lr-broken" / "train.log", "Call me Ishmael.\n" * 30)
    return tmp_path


def test_failed_unit_is_in_the_markdown_and_the_verdict_is_not_pass(sweep: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(sweep, monkeypatch, "analyze", "sw", "--markdown", "r.md", "--no-html", "-q", "-j", "1")
    assert code == 2, out
    md = (sweep / "r.md").read_text()
    assert "PASS" not in md.splitlines()[0] and "FAIL" in md.splitlines()[0]
    assert "Could not be read (1)" in md and "lr-broken" in md


def test_failed_unit_is_a_junit_error(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(sweep, monkeypatch, "analyze", "sw", "--junit", "r.xml", "--no-html", "-q", "-j", "1")
    root = ET.fromstring((sweep / "r.xml").read_text())
    assert root.get("errors") == "1"
    errs = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert len(errs) == 1 and "lr-broken" in (errs[0].get("classname") or "")


def test_failed_unit_fails_the_json_verdict(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(sweep, monkeypatch, "analyze", "sw", "--json", "r.json", "--no-html", "-q", "-j", "1")
    doc = json.loads((sweep / "r.json").read_text())
    assert doc["verdict"] == "fail"
    assert [e["unit"] for e in doc["sweep"]["errors"]] == [os.path.join("sw", "lr-broken")]


def test_failed_unit_is_an_annotation_and_in_the_job_summary(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = sweep / "summary.md"
    code, out = run(sweep, monkeypatch, "analyze", "sw", "--no-html", "-q", "-j", "1",
                    env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 2
    assert any(ln.startswith("::error title=lossdoc%3A could not read") and "lr-broken" in ln
               for ln in out.splitlines()), out
    assert "Could not be read" in summary.read_text()


def test_failed_unit_exit_code_and_one_error_line(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(sweep, monkeypatch, "analyze", "sw", "--no-html", "-j", "1")
    assert code == 2
    errs = [ln for ln in out.splitlines() if ln.startswith("lossdoc: error:")]
    assert len(errs) == 1 and "1 of 3 units could not be read" in errs[0] and "lr-broken" in errs[0]
    assert "lr-broken" in out.split("lossdoc: error:")[0]  # also listed in the summary itself


def test_failed_unit_is_in_the_sweep_html(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(sweep, monkeypatch, "analyze", "sw", "--html", "r.html", "-q", "-j", "1")
    html = (sweep / "r.html").read_text()
    assert "Could not be read" in html and "lr-broken" in html


def test_sweep_where_every_unit_fails_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b"):
        write(tmp_path / "sw" / name / "notes.txt", "nothing to see\n" * 10)
    code, out = run(tmp_path, monkeypatch, "analyze", "sw", "--markdown", "r.md", "--no-html", "-q", "-j", "1")
    assert code == 2, out
    assert "Traceback" not in out and "internal error" not in out


# --------------------------------------------------------------------------- unreadable subdirectories
@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """exp/run-a is readable, exp/run-b cannot be listed (tests run as root: permission bits do not bind,
    so listing it is made to fail the way os.scandir fails on a mode-000 directory)."""
    write(tmp_path / "exp" / "run-a" / "train.log", nanogpt_text())
    write(tmp_path / "exp" / "run-b" / "train.log", nanogpt_text())
    real = os.scandir
    blocked = str(tmp_path / "exp" / "run-b")

    def scandir(p: object = ".") -> object:
        if os.path.abspath(os.fspath(p)) == blocked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fspath(p))  # type: ignore[arg-type]
        return real(p)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    return tmp_path


def test_unreadable_subdirectory_is_noted_in_the_report(locked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lossdoc.ingest import read

    logset = read(str(locked / "exp"))
    notes = [n for s in logset.sources for n in s.notes if "could not be read" in n.message]
    assert len(notes) == 1 and "run-b" in notes[0].message and "Permission denied" in notes[0].message


def test_unreadable_subdirectory_shows_in_inspect(locked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(locked)
    res = CliRunner().invoke(main, ["inspect", "exp/run-a", "exp"])
    assert res.exit_code == 0, res.output
    assert "run-b" in res.output and "could not be read" in res.output


def test_only_unreadable_subdirectories_name_them_in_the_error(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exp" / "locked").mkdir(parents=True)
    real = os.scandir
    blocked = str(tmp_path / "exp" / "locked")

    def scandir(p: object = ".") -> object:
        if os.path.abspath(os.fspath(p)) == blocked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", os.fspath(p))  # type: ignore[arg-type]
        return real(p)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code, out = run(tmp_path, monkeypatch, "analyze", "exp", "--no-html", "-q")
    assert code == 2 and "could not read 1 entr" in out and "locked (Permission denied)" in out, out


def test_dangling_link_and_link_loop_at_the_top_of_a_sweep_are_reported(sweep: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (sweep / "sw" / "gone.log").symlink_to("nowhere")
    (sweep / "sw" / "loop.log").symlink_to("loop.log")
    code, out = run(sweep, monkeypatch, "analyze", "sw", "--json", "r.json", "--no-html", "-q", "-j", "1")
    assert code == 2
    errors = {e["unit"]: e["error"] for e in json.loads((sweep / "r.json").read_text())["sweep"]["errors"]}
    assert "broken symbolic link" in errors[os.path.join("sw", "gone.log")]
    assert "symbolic link loop" in errors[os.path.join("sw", "loop.log")]
