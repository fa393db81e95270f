"""The HTML report built from hostile file, directory, run and metric names (read from disk,
through the whole pipeline) opened in headless Chromium: no script runs, nothing is fetched, no
dialog opens, and the names are shown as text. Uses the report suite's CDP helpers; skipped with
a reason when Chromium is absent (``.ci/run`` installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.cases import hostile_filename
from tests.hardening.test_hostile import hostile_report
from tests.report.cdp import Browser

pytestmark = pytest.mark.browser


def test_report_from_hostile_files_stays_inert(browser: Browser, tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    page = tmp_path / "report.html"
    report.to_html(page)
    url = page.resolve().as_uri()
    browser.events.clear()
    browser.open(url)
    assert not [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]
    assert browser.eval("document.querySelectorAll('script, img, iframe, object, embed, form').length") == 0
    assert browser.eval("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
                        ".filter(a => a.name.startsWith('on')).length") == 0
    # Links go to the page's own anchors, or are the download of the plotted data (a CSV data: URL
    # with the download attribute: a file to save, never a page to open).
    assert browser.eval("[...document.querySelectorAll('a')].filter(a => { const h = a.getAttribute('href') || "
                        "a.getAttribute('xlink:href') || ''; return h && !h.startsWith('#') && "
                        "!(h.startsWith('data:text/csv;') && a.hasAttribute('download')); }).length") == 0
    assert browser.requests() == [url]  # nothing fetched: no image, no remote script
    assert browser.console_problems() == []
    text = browser.eval("document.body.innerText")
    assert "<script>alert(1)</script>" in text  # the run name is displayed, as text
    assert hostile_filename().splitlines()[0][:40] in text
