"""Class "false pass": no data must never pass a gate. A TensorBoard logdir without scalars, a
comparison whose runs share no steps (or no loss), an empty selection: each is exit 2 with one
line saying why, and every output says "nothing compared" instead of "no regression" / PASS.
(Empty selections from the config are in test_config_schema.py.)
"""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoc.cli import main
from tests.hardening.cases import _record, _varint, csv_text, loss_at, nanogpt_text, tfevents_bytes, write

HEADER = _record(b"\x09" + struct.pack("<d", 1.7e9) + b"\x1a\x0dbrain.Event:2")


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


def _image_event(step: int) -> bytes:
    """An event whose summary value is an image (field 4), not a scalar."""
    tag = b"samples"
    img = b"\x08\x01\x10\x01\x22\x03PNG"
    val = b"\x0a" + _varint(len(tag)) + tag + b"\x22" + _varint(len(img)) + img
    summ = b"\x0a" + _varint(len(val)) + val
    return (b"\x09" + struct.pack("<d", 1.7e9 + step) + b"\x10" + _varint(step) + b"\x2a" + _varint(len(summ))
            + summ)


TB_EMPTY = {
    "header-only": HEADER,
    "two-headers": HEADER + HEADER,
    "images-only": HEADER + b"".join(_record(_image_event(i)) for i in range(5)),
}


@pytest.mark.parametrize("kind", sorted(TB_EMPTY))
def test_tensorboard_logdir_without_scalars_does_not_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          kind: str) -> None:
    write(tmp_path / "tb" / "events.out.tfevents.1700000000.host.1.0", TB_EMPTY[kind])
    code, out = run(tmp_path, monkeypatch, "analyze", "tb", "--no-html", "--json", "r.json")
    assert code == 2, out
    assert out.strip().count("\n") == 0 and "tb: no metric values found" in out, out
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("cmd", [["inspect", "tb"], ["analyze", "tb", "--format", "tensorboard", "--no-html"],
                                 ["snapshot", "tb", "-o", "s.json"]])
def test_tensorboard_logdir_without_scalars_is_an_error_for_every_command(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         cmd: list[str]) -> None:
    write(tmp_path / "tb" / "events.out.tfevents.1700000000.host.1.0", TB_EMPTY["header-only"])
    code, out = run(tmp_path, monkeypatch, *cmd)
    assert code == 2 and "no metric values found" in out, out


def test_empty_logdir_beside_a_real_log_is_skipped_and_the_log_analysed(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "exp" / "tb" / "events.out.tfevents.1700000000.host.1.0", TB_EMPTY["header-only"])
    write(tmp_path / "exp" / "train.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "analyze", "exp", "--no-html", "--json", "-", "-q")
    assert code in (0, 1), out
    doc = json.loads(out)
    assert [r["run"] for r in doc["runs"]] and all(r["series"] for r in doc["runs"])


def test_tensorboard_logdir_with_scalars_still_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "tb" / "events.out.tfevents.1700000000.host.1.0", tfevents_bytes())
    code, out = run(tmp_path, monkeypatch, "analyze", "tb", "--no-html", "-q")
    assert code == 0, out


# --------------------------------------------------------------------------- comparisons of nothing
def shifted_log(start: int, n: int = 100, scale: float = 1.0) -> str:
    return "".join(f"iter {i}: loss {loss_at(i - start) * scale:.4f}, time 12.34ms, mfu 10.00%\n"
                   for i in range(start, start + n))


@pytest.fixture
def disjoint(tmp_path: Path) -> Path:
    write(tmp_path / "base.log", shifted_log(0))
    write(tmp_path / "cand.log", shifted_log(1000, scale=3.0))  # 3x worse, but on other steps
    return tmp_path


def test_compare_with_no_shared_steps_is_not_a_pass(disjoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(disjoint, monkeypatch, "compare", "base.log", "--candidate", "cand.log", "--no-html", "-q",
                    "--json", "r.json", "--markdown", "r.md", "--junit", "r.xml")
    assert code == 2, out
    err = [ln for ln in out.splitlines() if ln.startswith("lossdoc: error:")]
    assert len(err) == 1 and "nothing compared" in err[0] and "share no step range" in err[0], out
    doc = json.loads((disjoint / "r.json").read_text())
    assert doc["verdict"] == "fail" and doc["comparison"]["compared"] is False
    assert doc["comparison"]["runs"][0]["compared"] is False


def test_markdown_says_nothing_compared_not_no_regression(disjoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(disjoint, monkeypatch, "compare", "base.log", "--candidate", "cand.log", "--no-html", "-q",
        "--markdown", "r.md")
    md = (disjoint / "r.md").read_text()
    assert "Nothing compared" in md and "No regression" not in md and "PASS" not in md


def test_junit_has_a_failing_case_when_nothing_was_compared(disjoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(disjoint, monkeypatch, "compare", "base.log", "--candidate", "cand.log", "--no-html", "-q", "--junit", "r.xml")
    root = ET.fromstring((disjoint / "r.xml").read_text())
    fails = [c for c in root.iter("testcase") if c.find("failure") is not None
             and c.find("failure").get("type") == "nothing-compared"]  # type: ignore[union-attr]
    assert len(fails) == 1 and int(root.get("failures", "0")) >= 1


def test_terminal_says_nothing_compared(disjoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(disjoint, monkeypatch, "compare", "base.log", "--candidate", "cand.log", "--no-html")
    assert "baseline: NOTHING COMPARED" in out and "no regression" not in out


def test_analyze_with_a_disjoint_baseline_is_not_a_pass(disjoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(disjoint, monkeypatch, "analyze", "cand.log", "--baseline", "base.log", "--no-html", "-q")
    assert code == 2 and "nothing compared" in out, out


def test_disjoint_snapshot_baseline_is_not_a_pass(disjoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(disjoint, monkeypatch, "snapshot", "base.log", "-o", "base.json")[0] == 0
    code, out = run(disjoint, monkeypatch, "compare", "base.json", "--candidate", "cand.log", "--no-html", "-q")
    assert code == 2 and "nothing compared" in out, out


def test_baseline_with_only_another_split_compares_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "base.csv", "step,val_loss\n" + "".join(f"{i},{loss_at(i)}\n" for i in range(0, 120, 10)))
    write(tmp_path / "cand.log", nanogpt_text())
    code, out = run(tmp_path, monkeypatch, "compare", "base.csv", "--candidate", "cand.log", "--no-html", "-q")
    assert code == 2 and "nothing compared" in out, out


def test_api_report_of_a_disjoint_comparison_is_failing(disjoint: Path) -> None:
    from lossdoc.api import analyze

    report = analyze(str(disjoint / "cand.log"), baseline=[str(disjoint / "base.log")], config=None)
    assert report.failing() and report.verdict == "fail" and report.uncompared


def test_overlapping_comparison_still_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "base.csv", csv_text())
    write(tmp_path / "cand.csv", csv_text())
    code, out = run(tmp_path, monkeypatch, "compare", "base.csv", "--candidate", "cand.csv", "--no-html", "-q")
    assert code == 0, out
