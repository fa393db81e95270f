"""The README's --notify examples (Slack, e-mail, PagerDuty) run as written, against stand-ins for
curl, mail and sendmail that record what they were given."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

ALERT = {"schema": "lossdoc/alert-1", "rule": "NF001", "name": "non-finite-loss", "category": "non_finite",
         "severity": "error", "run": "train", "split": "train", "metric": "loss", "start_step": 200,
         "end_step": 399, "message": 'loss is "NaN" at step 200', "recommendation": "lower the LR",
         "source": "train.log", "last_step": 399}

FAKE = """#!/bin/sh
{ echo "ARGS: $*"; cat; } > "$FAKE_OUT/$(basename "$0")"
"""


def _examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"--notify '([^']*)'", text.split("### Notifications", 1)[1].split("\n## ", 1)[0])


def test_readme_has_one_example_per_destination() -> None:
    cmds = _examples()
    assert any("SLACK_WEBHOOK_URL" in c for c in cmds)
    assert any(c.startswith("mail ") for c in cmds) and any("sendmail" in c for c in cmds)
    assert any("events.pagerduty.com/v2/enqueue" in c for c in cmds)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed (the Slack and PagerDuty examples use it)")
@pytest.mark.parametrize("cmd", _examples())
def test_readme_notify_example_runs(tmp_path: Path, cmd: str) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("curl", "mail", "sendmail"):
        (bindir / name).write_text(FAKE)
        (bindir / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", FAKE_OUT=str(tmp_path),
               SLACK_WEBHOOK_URL="https://hooks.slack.invalid/T/B/X", PAGERDUTY_ROUTING_KEY="R0UT1NG",
               LOSSDOC_SEVERITY="error", LOSSDOC_RULE="NF001", LOSSDOC_RUN="train", LOSSDOC_STEP="200",
               LOSSDOC_MESSAGE=ALERT["message"])
    subprocess.run(cmd, shell=True, input=json.dumps(ALERT).encode(), env=env, check=True, timeout=60)
    if "curl" in cmd:
        args, body = (tmp_path / "curl").read_text().split("\n", 1)
        doc = json.loads(body)
        if "slack" in cmd.lower():
            assert "hooks.slack.invalid" in args
            assert doc == {"text": 'lossdoc error NF001 at step 200: loss is "NaN" at step 200'}
        else:
            assert "events.pagerduty.com/v2/enqueue" in args
            assert doc["routing_key"] == "R0UT1NG" and doc["event_action"] == "trigger"
            assert doc["payload"]["severity"] == "error" and doc["payload"]["custom_details"]["rule"] == "NF001"
    elif cmd.startswith("mail "):
        args, body = (tmp_path / "mail").read_text().split("\n", 1)
        assert "lossdoc: error NF001 in train at step 200" in args and json.loads(body)["rule"] == "NF001"
    else:
        out = (tmp_path / "sendmail").read_text()
        assert "Subject: lossdoc: error" in out and '"rule": "NF001"' in out
