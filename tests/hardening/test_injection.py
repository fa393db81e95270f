"""Class "workflow-command injection": under ``GITHUB_ACTIONS=true`` the runner takes any line on
stdout or stderr that starts (after whitespace) with ``::``, or contains ``##[``, for a workflow
command. Run names (file names, W&B columns), wrapped messages quoting log cells and inspected
paths must never produce one; lossdoc's own annotations are the only commands. JUnit output
keeps no bidi or C1 control characters.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossdoc.cli import main
from lossdoc.outputs import CommandGuard, is_workflow_command, neutralise_line
from tests.hardening.cases import loss_at, nanogpt_text, write

OWN = ("::error title=", "::warning title=", "::notice title=")


def spiky_log(n: int = 120) -> str:
    return "".join(f"iter {i}: loss {loss_at(i) * (9 if i == 60 else 1):.4f}, time 1.00ms, mfu 1.00%\n"
                   for i in range(n))


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, actions: bool = True,
        summary: str | None = None) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    if actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    else:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    if summary is None:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    else:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", summary)
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


def forged(out: str) -> list[str]:
    """Lines the runner would run as commands, other than lossdoc's own annotations."""
    return [ln for ln in out.splitlines() if is_workflow_command(ln) and not ln.startswith(OWN)]


def wandb_csv(col: str) -> str:
    return f"Step,{col} - loss\n" + "".join(f"{i},{loss_at(i) * (9 if i == 60 else 1)}\n" for i in range(120))


NAMES = ["::error::forged", "  ::warning file=x::forged", "\t::add-mask::secret", "a##[error]b",
         "x##[group]y", "::stop-commands::tok"]


# --------------------------------------------------------------------------- run names from file names
@pytest.mark.parametrize("name", NAMES)
def test_run_names_from_file_names_forge_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    name: str) -> None:
    write(tmp_path / f"{name}.log", spiky_log())
    code, out = run(tmp_path, monkeypatch, "analyze", f"{name}.log", "--no-html")
    assert code in (0, 1), out
    assert forged(out) == [], out
    assert any(ln.startswith(OWN) for ln in out.splitlines())  # the real annotations still go out


@pytest.mark.parametrize("col", ["::warning::w", "x##[group]y", "  ::error::e"])
def test_run_and_series_names_from_log_content_forge_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               col: str) -> None:
    """A W&B export's column names reach the wrapped finding messages and the run names."""
    write(tmp_path / "wandb.csv", wandb_csv(col))
    code, out = run(tmp_path, monkeypatch, "analyze", "wandb.csv", "--no-html")
    assert code in (0, 1), out
    assert forged(out) == [], out
    # The text is still there for a reader, only not as a command.
    assert col.strip().lstrip(":").split("::")[-1][:1] in out


@pytest.mark.parametrize("name", ["::error::inspected", "p##[warning]q"])
def test_inspect_paths_forge_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    write(tmp_path / name / "train.log", nanogpt_text())
    write(tmp_path / f"{name}.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "inspect", name, f"{name}.log")
    assert code == 0, out
    assert forged(out) == [] and not any(ln.startswith("::") for ln in out.splitlines()), out
    assert "train" in out


def test_snapshot_message_forges_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "::error::snap.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "snapshot", "::error::snap.log", "-o", "s.json")
    assert code == 0, out
    assert forged(out) == [], out


def test_error_messages_forge_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(tmp_path, monkeypatch, "analyze", "::error::missing##[x].log", "--no-html")
    assert code == 2
    assert forged(out) == [] and "no such file" in out, out


def test_sweep_with_hostile_unit_names_forges_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("::error::a", "b##[group]"):
        write(tmp_path / "sweep" / name / "train.log", spiky_log())
    code, out = run(tmp_path, monkeypatch, "analyze", "sweep", "--no-html", "-j", "1")
    assert code in (0, 1), out
    assert forged(out) == [], out


def test_annotation_messages_carry_no_old_style_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "wandb.csv", wandb_csv("x##[error]y"))
    code, out = run(tmp_path, monkeypatch, "analyze", "wandb.csv", "--no-html", "-q")
    own = [ln for ln in out.splitlines() if ln.startswith(OWN)]
    assert own and not any("##[" in ln for ln in own), out


def test_outside_actions_names_are_shown_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a##[b.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "inspect", "a##[b.log", actions=False)
    assert code == 0 and "a##[b.log" in out


# --------------------------------------------------------------------------- data outputs on stdout
def test_json_on_stdout_is_escaped_in_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "wandb.csv", wandb_csv("x##[group]y"))
    code, out = run(tmp_path, monkeypatch, "analyze", "wandb.csv", "--no-html", "--json", "-")
    body = "\n".join(ln for ln in out.splitlines() if not ln.startswith(OWN))
    assert forged(body) == []
    doc = json.loads(body)  # the same document: "\u005b" is "["
    assert any("x##[group]y" in s["name"] for r in doc["runs"] for s in r["series"])


@pytest.mark.parametrize("opt", ["--markdown", "--junit", "--html"])
def test_other_outputs_on_stdout_forge_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  opt: str) -> None:
    write(tmp_path / "::error::r.log", spiky_log())
    write(tmp_path / "wandb.csv", wandb_csv("::warning::w x##[group]y"))
    args = ["analyze", "::error::r.log", "wandb.csv", opt, "-"] + (["--no-html"] if opt != "--html" else [])
    code, out = run(tmp_path, monkeypatch, *args)
    assert code in (0, 1), out
    assert forged(out) == [], [ln for ln in forged(out)][:3]
    if opt == "--junit":
        body = "\n".join(ln for ln in out.splitlines() if not ln.startswith(OWN))
        ET.fromstring(body.split("\n", 1)[1])  # still well-formed XML


# --------------------------------------------------------------------------- the guard itself
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([*" \t:#[abvso\n", "##vso[", "##[", "::"]), max_size=20).map("".join))
def test_neutralised_line_is_never_a_command(line: str) -> None:
    for ln in neutralise_line(line).split("\n"):
        assert not is_workflow_command(ln) or "\n" in line


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.sampled_from(list(" \t:#[abvso\n")), max_size=12), max_size=8), st.data())
def test_guard_holds_across_arbitrary_write_and_flush_boundaries(chunks: list[str], data: st.DataObject) -> None:
    sink = io.StringIO()
    guard = CommandGuard(sink)
    for c in chunks:
        guard.write(c)
        if data.draw(st.booleans()):
            guard.flush()
    guard.close_guard()
    for ln in sink.getvalue().split("\n"):
        assert not is_workflow_command(ln), repr(sink.getvalue())
    # nothing is lost: the text is the input with only markers and line-start colons altered
    assert len(sink.getvalue()) == len("".join(chunks))


def test_lines_without_commands_pass_unchanged() -> None:
    sink = io.StringIO()
    guard = CommandGuard(sink)
    text = " FAIL  1 error\n  steps 0-119: a::b #[x] ## [y]\n"
    guard.write(text)
    guard.flush()
    assert sink.getvalue() == text


# --------------------------------------------------------------------------- the job summary
@pytest.mark.parametrize("summary", ["/nonexistent-dir/summary.md", "{tmp}"])
def test_unwritable_step_summary_is_a_warning_and_the_gate_stands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 summary: str) -> None:
    write(tmp_path / "train.log", spiky_log())
    code, out = run(tmp_path, monkeypatch, "analyze", "train.log", "--no-html", "-q",
                    summary=summary.format(tmp=tmp_path))
    assert code in (0, 1) and "Traceback" not in out and "internal error" not in out, out
    warn = [ln for ln in out.splitlines() if ln.startswith("lossdoc: warning: GITHUB_STEP_SUMMARY")]
    assert len(warn) == 1 and "not written" in warn[0], out


def test_step_summary_is_appended_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "train.log", spiky_log())
    summary = write(tmp_path / "summary.md", "earlier step\n")
    run(tmp_path, monkeypatch, "analyze", "train.log", "--no-html", "-q", summary=str(summary))
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "lossdoc" in text


# --------------------------------------------------------------------------- JUnit controls
@pytest.mark.parametrize("ch", ["\u202e", "\u2066", "\u200f", "\u061c", "\x85", "\x9b", "\x1b", "\x7f"])
def test_junit_keeps_no_bidi_or_c1_control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ch: str) -> None:
    write(tmp_path / f"run{ch}evil.log", spiky_log())
    write(tmp_path / "wandb.csv", wandb_csv(f"col{ch}x" if ch != "\x85" else "col"))  # U+0085 ends a CSV line
    code, out = run(tmp_path, monkeypatch, "analyze", f"run{ch}evil.log", "wandb.csv", "--junit", "r.xml",
                    "--no-html", "-q", actions=False)
    assert code in (0, 1), out
    xml = (tmp_path / "r.xml").read_text(encoding="utf-8")
    assert ch not in xml
    root = ET.fromstring(xml)
    assert root.get("tests") and int(root.get("tests", "0")) > 0


# --------------------------------------------------------------------------- rule files from the repository
def test_rule_files_from_rule_paths_reach_the_terminal_inert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rule-paths` rule files come with the repository (a pull request): their text carries no
    terminal escape and no workflow command to `lossdoc rule` / `lossdoc rules`."""
    src = (Path(__file__).resolve().parents[2] / "rules" / "SP001.toml").read_text()
    text = (src.replace('id = "SP001"', 'id = "ACME-SP001"').replace('name = "loss-spike"', 'name = "acme-spike"')
            .replace('why = """', 'why = """\\u001b]0;pwned\\u0007\n::error::from-rule\nx##[group]y\n', 1)
            .replace('summary = "', 'summary = "\\u001b[2J##[error]', 1))
    write(tmp_path / "rules" / "ACME-SP001.toml", text)
    write(tmp_path / "lossdoc.toml", 'rule-paths = ["rules"]\n')
    for args in (["rule", "ACME-SP001"], ["rules"]):
        code, out = run(tmp_path, monkeypatch, *args)
        assert code == 0, out
        assert "\x1b" not in out and "\x07" not in out
        assert forged(out) == [], out
        assert "from-rule" in out or args == ["rules"]


@pytest.mark.parametrize("cmd", [["inspect", "wandb.csv", "--json"], ["rules", "--json"], ["rule", "ACME-SP001", "--json"]])
def test_json_documents_of_other_commands_parse_the_same_under_actions(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      cmd: list[str]) -> None:
    """The line guard would alter a JSON string; JSON on stdout is escaped in JSON instead."""
    write(tmp_path / "wandb.csv", wandb_csv("x##[group]y"))
    src = (Path(__file__).resolve().parents[2] / "rules" / "SP001.toml").read_text()
    write(tmp_path / "rules" / "ACME-SP001.toml",
          src.replace('id = "SP001"', 'id = "ACME-SP001"').replace('name = "loss-spike"', 'name = "acme-spike"')
          .replace('summary = "', 'summary = "a##[group]b ', 1))
    write(tmp_path / "lossdoc.toml", 'rule-paths = ["rules"]\n')
    code, out = run(tmp_path, monkeypatch, *cmd)
    assert code == 0, out
    assert forged(out) == [], out
    text = json.dumps(json.loads(out))
    assert "##[group]" in text  # the value itself is unchanged


# --------------------------------------------------------------------------- Azure Pipelines
@pytest.mark.parametrize("name", ["##vso[task.setvariable variable=X]pwned", "a##vso[task.complete result=Succeeded]"])
def test_azure_pipelines_logging_commands_are_neutralised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          name: str) -> None:
    """Azure Pipelines (TF_BUILD=True) runs ``##vso[...]`` anywhere in a printed line."""
    write(tmp_path / f"{name}.log", spiky_log())
    monkeypatch.setenv("TF_BUILD", "True")
    code, out = run(tmp_path, monkeypatch, "analyze", f"{name}.log", "--no-html", actions=False)
    assert code in (0, 1), out
    assert "##vso[" not in out and "task." in out, out
