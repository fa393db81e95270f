"""Class "config values of the wrong type or range" and "no data must never pass" through the
configuration: every bad value is one line on stderr naming the key and the file, exit code 2,
never an internal error and never a run with no rules that passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoc.cli import main
from tests.hardening.cases import nanogpt_text, write

SP = "rules.loss-spike"
DV = "rules.loss-divergence"

#: (lossdoc.toml text, the key the message must name, a word of the reason)
BAD: list[tuple[str, str, str]] = [
    (f"[{SP}]\nwindow = 0\n", f"{SP}.window", "from 1"),
    (f"[{SP}]\nwindow = -3\n", f"{SP}.window", "from 1"),
    (f"[{SP}]\nwindow = 1.5\n", f"{SP}.window", "integer"),
    (f'[{SP}]\nwindow = "50"\n', f"{SP}.window", "integer"),
    (f"[{SP}]\nwindow = true\n", f"{SP}.window", "integer"),
    (f"[{SP}]\nwindow = 1_000_000_000_000\n", f"{SP}.window", "1,000,000,000"),
    (f"[{SP}]\nmin-points = 0\n", f"{SP}.min-points", "from 1"),
    (f"[{SP}]\nzscore = nan\n", f"{SP}.zscore", "finite"),
    (f"[{SP}]\nzscore = inf\n", f"{SP}.zscore", "finite"),
    (f"[{SP}]\nzscore = -inf\n", f"{SP}.zscore", "finite"),
    (f"[{SP}]\nzscore = 1e400\n", f"{SP}.zscore", "finite"),
    (f"[{SP}]\nzscore = -1.0\n", f"{SP}.zscore", "negative"),
    (f'[{SP}]\nzscore = "6"\n', f"{SP}.zscore", "number"),
    (f"[{SP}]\nzscore = [6.0]\n", f"{SP}.zscore", "number"),
    (f"[{DV}]\nalpha = 0.0\n", f"{DV}.alpha", "between 0 and 1"),
    (f"[{DV}]\nalpha = 1.5\n", f"{DV}.alpha", "between 0 and 1"),
    (f"[{DV}]\nmin-fraction = 2.0\n", f"{DV}.min-fraction", "[0, 1]"),
    (f"[{SP}]\nseverity = 5\n", f"{SP}.severity", "error, warning or info"),
    (f'[{SP}]\nseverity = "fatal"\n', f"{SP}.severity", "error, warning or info"),
    (f"[{SP}]\nno-such = 1\n", f"{SP}.no-such", "unknown key"),
    ("select = []\n", "select", "empty"),
    ('select = [""]\n', "select", "empty string"),
    ('select = "  "\n', "select", "empty string"),
    ('ignore = ["ALL"]\n', "", "no rule to run"),
    ('select = ["SP001"]\nignore = ["SP"]\n', "", "no rule to run"),
    ("fail-on = 1\n", "fail-on", "one of"),
    ('fail-on = ["error"]\n', "fail-on", "one of"),
    ("tolerance = nan\n", "tolerance", "[0, 1)"),
    ("tolerance = inf\n", "tolerance", "[0, 1)"),
    ("tolerance = 1.0\n", "tolerance", "[0, 1)"),
    ("tolerance = true\n", "tolerance", "[0, 1)"),
    ("preview = 1\n", "preview", "true or false"),
    ("rules = 5\n", "rules", "one table per rule"),
    (f"{SP} = 5\n".replace("rules.", "rules.", 1), "rules", "one table per rule"),
    ('per-run-ignores = ["x"]\n', "per-run-ignores", "map run-name globs"),
    ('[per-run-ignores]\n"*" = 3\n', "per-run-ignores.*", "list of strings"),
    ("rule-paths = 3\n", "rule-paths", "list of strings"),
    ("extend-select = [1]\n", "extend-select", "list of strings"),
    ('tool = "lossdoc"\n', "tool", "must be a table"),
]


def analyze_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cfg_name: str, text: str,
                 *extra: str) -> tuple[int, str]:
    write(tmp_path / "train.log", nanogpt_text())
    cfg = write(tmp_path / cfg_name, text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    res = CliRunner().invoke(main, ["analyze", "train.log", "--config", str(cfg), "--no-html", "-q", *extra])
    return res.exit_code, res.output


@pytest.mark.parametrize(("text", "key", "why"), BAD, ids=[f"{i}-{b[1] or 'selection'}" for i, b in enumerate(BAD)])
def test_bad_config_value_is_one_line_naming_key_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          text: str, key: str, why: str) -> None:
    code, out = analyze_with(tmp_path, monkeypatch, "lossdoc.toml", text)
    assert code == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossdoc: error: "), out
    assert "internal error" not in out and "Traceback" not in out
    assert "lossdoc.toml" in lines[0] and key in lines[0] and why in lines[0], lines[0]


@pytest.mark.parametrize(("text", "key"), [
    ('[tool]\nlossdoc = 5\n', "tool.lossdoc"),
    ('tool = "lossdoc"\n', "tool"),
    ("[tool.lossdoc.rules.loss-spike]\nwindow = 0\n", "tool.lossdoc.rules.loss-spike.window"),
    ("[tool.lossdoc]\nselect = []\n", "tool.lossdoc.select"),
])
def test_bad_pyproject_settings_name_the_full_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                                  key: str) -> None:
    code, out = analyze_with(tmp_path, monkeypatch, "pyproject.toml", text)
    assert code == 2, out
    assert out.count("\n") == 1 and "pyproject.toml" in out and key in out, out


def test_pyproject_with_a_string_tool_key_is_found_as_an_error_not_a_crash(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Config discovery (no --config) must not crash on `tool = "lossdoc"` either."""
    write(tmp_path / "train.log", nanogpt_text())
    write(tmp_path / "pyproject.toml", 'tool = "lossdoc"\n')
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["analyze", "train.log", "--no-html", "-q"])
    assert res.exit_code in (0, 1), res.output  # not a lossdoc config: defaults apply


@pytest.mark.parametrize(("text", "want"), [
    (f"[{SP}]\nwindow = 1\n", "window"),
    (f"[{SP}]\nzscore = 6\n", "zscore"),  # an integer where the default is a float
    (f"[{DV}]\nalpha = 0.5\n", "alpha"),
    ("[rules.non-finite-loss]\nmax-count = 0\n", "max-count"),
    ("[rules.loss-divergence]\nmin-fraction = 1.0\n", "min-fraction"),
])
def test_values_at_the_edges_of_their_range_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         text: str, want: str) -> None:
    code, out = analyze_with(tmp_path, monkeypatch, "lossdoc.toml", text)
    assert code in (0, 1), out


@pytest.mark.parametrize("opt", [["--select", ""], ["--select", " , "], ["--ignore", ","],
                                 ["--select", "SP001", "--ignore", "SP001"]])
def test_empty_selection_on_the_command_line_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         opt: list[str]) -> None:
    code, out = analyze_with(tmp_path, monkeypatch, "lossdoc.toml", "", *opt)
    assert code == 2, out
    assert "Traceback" not in out and ("no rule" in out), out
