"""The terminal summary and the progress indicator."""

from __future__ import annotations

import io
import re
import time

import pytest

from lossdoc.report.progress import Spinner, progress_indicator
from lossdoc.report.render_text import MAX_FINDINGS
from tests.conftest import real_logs_available
from tests.report.builders import finding, hostile_report, real_nanogpt_report, synthetic_report

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.skipif(not real_logs_available(), reason="real logs not available")
def test_summary_verdict_numbers_and_findings():
    r = real_nanogpt_report()
    text = r.to_text(color=False)
    lines = text.splitlines()
    assert lines[0] == " FAIL   1 error, 1 warning, 1 info in 1 run  (fails --fail-on error)"
    assert "steps 0–450 · final train NaN · best train 3.245 · best val 3.369 @ 400" in text
    assert "extrapolated 3.2 [2.97, 3.43] @ 1,000" in " ".join(text.split())
    heads = [ln for ln in lines if re.match(r"\s*\d+\. ", ln)]
    assert [h.split()[1] for h in heads] == ["error", "warning", "info"]
    assert heads[0].split()[2:4] == ["NF001", "non-finite-loss"]
    for f in r.findings:
        assert f.message in " ".join(text.split())
        assert "→ " + f.recommendation in " ".join(text.split())
    assert "\x1b" not in text


@pytest.mark.skipif(not real_logs_available(), reason="real logs not available")
def test_color_only_when_asked(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # colour means a terminal: wrapped to its width
    r = real_nanogpt_report()
    colored = r.to_text(color=True)
    assert "\x1b[1;31merror" in colored and "\x1b[1;33mwarning" in colored and "\x1b[1;37;41m FAIL " in colored
    assert _ANSI.sub("", colored) == r.to_text(color=False)


def test_wraps_to_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "64")
    text = _ANSI.sub("", synthetic_report(3000).to_text(color=True))
    assert max(len(line) for line in text.splitlines()) <= 64
    assert max(len(line) for line in synthetic_report(3000).to_text().splitlines()) > 64


def test_log_escape_sequences_are_neutralised():
    text = hostile_report().to_text(color=True)
    # Only our own SGR colour codes remain; the log's ESC[2J, OSC title and BEL are gone.
    assert "\x07" not in text
    assert "\x1b" not in _ANSI.sub("", text)
    assert "?[2J" in text


def test_many_findings_are_counted_not_listed():
    r = synthetic_report(1000, spike_at=None)
    run = r.runs[0]
    run.findings = [finding("SP001", "loss-spike", "loss_spikes", "info", run.run, i, i, f"m{i}", "r")
                    for i in range(MAX_FINDINGS + 5)]
    text = r.to_text()
    assert "… and 5 more findings" in text
    assert text.startswith(" PASS ")


def test_progress_is_silent_off_a_tty():
    buf = io.StringIO()
    with progress_indicator(stream=buf, delay=0) as progress:
        progress("reading")
        time.sleep(0.05)
    assert buf.getvalue() == ""


class _FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_spinner_on_a_tty_draws_and_erases():
    buf = _FakeTTY()
    with progress_indicator(stream=buf, delay=0) as progress:
        assert isinstance(progress, Spinner)
        progress("reading \x1b[31mrun.log")
        deadline = time.monotonic() + 5
        while "reading" not in buf.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    out = buf.getvalue()
    assert "reading ?[31mrun.log" in out
    assert out.endswith("\r\x1b[K")


def test_progress_disabled():
    buf = _FakeTTY()
    with progress_indicator(enabled=False, stream=buf, delay=0) as progress:
        progress("x")
    assert buf.getvalue() == ""


def test_baseline_regression_lines():
    from tests.report.builders import sample_comparison

    r = synthetic_report(3000, runs=("gamma",))
    r.comparison = sample_comparison()
    text = r.to_text()
    assert text.startswith(" FAIL   1 warning in 1 run; regressed against the baseline  (fails --fail-on error)")
    assert "baseline: REGRESSED (tolerance 1%)" in text
    assert ("gamma: final train loss (mean over steps 2,400..2,999): 1.82 vs 1.7 (+7.06%, p 0.0020) worse"
            in " ".join(text.split()))
