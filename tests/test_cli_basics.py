"""The CLI skeleton: exit codes and one-line errors on bad input."""

from __future__ import annotations

import json

from lossdoc.cli import ExitCode, main


def test_version_and_help(runner):
    r = runner.invoke(main, ["--version"])
    assert r.exit_code == 0 and "lossdoc" in r.output
    r = runner.invoke(main, ["--help"])
    assert r.exit_code == 0
    for cmd in ("inspect", "formats"):
        assert cmd in r.output


def test_missing_file_is_exit_2_one_line(runner, tmp_path):
    r = runner.invoke(main, ["inspect", str(tmp_path / "nope.log")])
    assert r.exit_code == ExitCode.ERROR
    assert "nope.log" in r.output and "no such file" in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_empty_and_unknown_files(runner, tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    r = runner.invoke(main, ["inspect", str(empty)])
    assert r.exit_code == 2 and "empty" in r.output
    prose = tmp_path / "notes.txt"
    prose.write_text("Dear diary, today the model did not train at all.\n" * 3)
    r = runner.invoke(main, ["inspect", str(prose)])
    assert r.exit_code == 2 and "unrecognised log format" in r.output and "--format" in r.output


def test_inspect_json_schema_nanogpt_with_restart_and_torn_tail(runner, tmp_path):
    log = tmp_path / "run.log"
    log.write_text(
        "step 0: train loss 4.2874, val loss 4.2823\n"
        "iter 0: loss 4.2657, time 31250.47ms, mfu -100.00%\n"
        "iter 10: loss 3.2385, time 98.12ms, mfu -100.00%\n"
        "iter 20: loss nan, time 97.80ms, mfu 38.12%\n"
        "iter 10: loss 3.1000, time 97.80ms, mfu 38.12%\n"
        "iter 20: loss 2.9"  # torn: still being written
    )
    r = runner.invoke(main, ["inspect", "--json", str(log)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["schema"] == "lossdoc/inspect-1"
    src = doc["sources"][0]
    assert src["format"] == "nanogpt"
    train = next(s for s in src["runs"][0]["series"] if s["split"] == "train" and s["metric"] == "loss")
    # iter 0, then the resumed iter 10 (the NaN at 20 was overwritten by the resume; torn 20 ignored)
    assert train["points"] == 2 and train["last_step"] == 10
    kinds = {n["kind"] for n in src["notes"]}
    assert {"torn_tail", "restart"} <= kinds
