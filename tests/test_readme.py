"""The README's quick start shows what ``lossdoc analyze`` prints today on the bundled sample log."""

from __future__ import annotations

import re

from lossdoc.cli import main
from tests.conftest import SAMPLE_LOGS

README = SAMPLE_LOGS.parent / "README.md"


def _quick_start_excerpt() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):]
    block = section[section.index("```text\n") + len("```text\n"):]
    return block[:block.index("```")].splitlines()


def test_quick_start_output_is_what_lossdoc_prints(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(SAMPLE_LOGS.parent)  # the README's command runs from the repository root
    res = runner.invoke(main, ["analyze", "sample_logs/runs/nanogpt/divergence/train.log", "--no-html"])
    assert res.exit_code == 1  # "exits 1 because it found an error-level problem"
    out = " ".join(res.output.split())
    excerpt = _quick_start_excerpt()
    assert len(excerpt) > 10
    # each line of the excerpt (up to a '...' that shortens it) appears in the output, whitespace aside
    for line in excerpt:
        shown = " ".join(line.split(" ...")[0].split())
        if shown:
            assert shown in out, f"README quick start line not in today's output: {shown!r}"
    # and the excerpt's findings are today's, in order
    header = r"^ *\d+\. +\w+ +([A-Z]{2}\d{3})"
    shown_rules = re.findall(header, "\n".join(excerpt), re.M)
    assert shown_rules and shown_rules == re.findall(header, res.output, re.M)
