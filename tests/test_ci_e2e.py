"""lossdoc as a CI job runs it: the installed console script as a subprocess, on pairs of real
sample logs (produced by really running a nanoGPT-style trainer, see sample_logs/README.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_LOGS

RUNS = SAMPLE_LOGS / "runs" / "nanogpt"
HEALTHY = RUNS / "healthy" / "train.log"
HEALTHY_SEED2 = RUNS / "healthy_seed2" / "train.log"
DIVERGING = RUNS / "divergence" / "train.log"
SLOW = RUNS / "plateau" / "train.log"  # learning rate far too low: learns slower than the baseline


def lossdoc_cmd() -> list[str]:
    exe = shutil.which("lossdoc", path=os.path.dirname(sys.executable)) or shutil.which("lossdoc")
    return [exe] if exe else [sys.executable, "-m", "lossdoc"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    full_env.update(env or {})
    return subprocess.run(lossdoc_cmd() + list(args), cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("baseline")
    r = run("snapshot", str(HEALTHY), "-o", str(d / "baseline.json"), cwd=d)
    assert r.returncode == 0, r.stderr
    return d / "baseline.json"


def test_same_run_against_its_own_snapshot_passes(tmp_path, baseline):
    r = run("analyze", str(HEALTHY), "--baseline", str(baseline), "--json", "report.json", "--junit", "junit.xml",
            "--markdown", "comment.md", "--no-html", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["comparison"]["regressed"] is False
    assert "Traceback" not in r.stderr


def test_diverging_candidate_fails_with_exit_1_and_every_ci_output(tmp_path, baseline):
    summary = tmp_path / "summary.md"
    r = run("analyze", str(DIVERGING), "--baseline", str(baseline), "--json", "report.json",
            "--junit", "junit.xml", "--markdown", "comment.md", "--html", "report.html", cwd=tmp_path,
            env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["verdict"] == "fail" and doc["comparison"]["regressed"] is True
    # JUnit: parses, has a failing comparison case and a failing rule case
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites" and int(root.get("failures")) >= 1
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "final_train_loss" in failed
    # Markdown fits a PR comment; the job summary got the same report
    md = (tmp_path / "comment.md").read_text()
    assert len(md.encode()) < 60_000 and "regress" in md.lower()
    assert summary.read_text().strip()
    # GitHub annotations: workflow commands, at most 10 per level
    ann = [ln for ln in r.stdout.splitlines() if ln.startswith("::")]
    assert any(ln.startswith("::error title=lossdoc regression") for ln in ann)
    for level in ("error", "warning", "notice"):
        assert sum(ln.startswith(f"::{level} ") for ln in ann) <= 10
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_other_seed_of_the_same_config_passes(tmp_path, baseline):
    r = run("compare", str(baseline), "--candidate", str(HEALTHY_SEED2), "--json", "-", "--no-html", "--quiet",
            cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["comparison"]["regressed"] is False


def test_slower_candidate_fails(tmp_path, baseline):
    r = run("compare", str(baseline), "--candidate", str(SLOW), "--json", "-", "--no-html", "--quiet",
            "--fail-on", "never", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert json.loads(r.stdout)["comparison"]["regressed"] is True


def test_garbage_candidate_is_exit_2_with_one_line(tmp_path, baseline):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    r = run("analyze", str(junk), "--baseline", str(baseline), cwd=tmp_path)
    assert r.returncode == 2
    assert "junk.bin" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
