"""Hover titles on the chart points and the CSV download of the plotted data (no script in the page).

The non-browser tests check what is in the SVG and the data: URL; the browser tests check that a
real pointer over a point shows it (the circle is what the pointer hits, and it lights up) and
that the link downloads the CSV.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import polars as pl
import pytest

from lossdoc.report import charts
from tests.report.builders import synthetic_report

TITLE = re.compile(r"<title>((?:\S+ )?(train|val) loss) · step ([\d,]+): ([^<]+)</title>")


def _logged(report, split: str) -> dict[int, float]:
    fr = report.runs[0].frame.filter((pl.col("split") == split) & (pl.col("metric") == "loss"))
    return dict(zip(fr["step"].to_list(), fr["value"].to_list()))


def _csv(html: str) -> list[dict[str, str]]:
    m = re.search(r'<a download="([^"]+\.csv)" href="(data:text/csv;charset=utf-8,[^"]*)"', html)
    assert m, "no CSV download link"
    text = unquote(m.group(2).split(",", 1)[1].replace("&amp;", "&"))
    return list(csv.DictReader(io.StringIO(text)))


def test_hover_titles_are_logged_points_and_decimated():
    report = synthetic_report(20_000, spike_at=12_345)
    html = report.to_html()
    hits = TITLE.findall(html)
    assert hits, "no hover titles"
    train, val = _logged(report, "train"), _logged(report, "val")
    for _label, split, step, value in hits:
        logged = (train if split == "train" else val)[int(step.replace(",", ""))]
        assert float(value) == logged  # exactly as logged
    # 20,000 training points: a few hundred titles per chart, and the spike's peak is one of them.
    per_chart = [len(TITLE.findall(svg)) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]
    assert max(per_chart) <= charts.HOVER_POINTS
    assert any(split == "train" and step == "12,345" for _l, split, step, _v in hits)


def test_hover_sample_keeps_extremes_of_each_stretch():
    v = np.zeros(10**6)
    v[123_457] = 9.0
    v[900_001] = -3.0
    idx = charts.hover_sample(np.arange(v.size), v, 200)
    assert len(idx) <= 200 and 123_457 in idx and 900_001 in idx
    assert list(charts.hover_sample(np.arange(10), np.arange(10.0), 200)) == list(range(10))


def test_csv_link_holds_the_plotted_bins():
    report = synthetic_report(20_000, spike_at=None)
    rows = _csv(report.to_html())
    assert list(rows[0]) == ["run", "split", "bin_step", "bin_points", "bin_mean", "bin_min", "bin_max"]
    train = [r for r in rows if r["split"] == "train"]
    val = [r for r in rows if r["split"] == "val"]
    assert sum(int(r["bin_points"]) for r in train) == 20_000  # every logged point is in one bin
    assert len(train) <= 600
    logged_val = _logged(report, "val")
    for r in val:  # one evaluation per bin: the bin is the point as logged
        assert r["bin_points"] == "1" and float(r["bin_mean"]) == logged_val[int(r["bin_step"])]
    assert all(float(r["bin_min"]) <= float(r["bin_mean"]) <= float(r["bin_max"]) for r in train)


@pytest.mark.browser
def test_pointer_over_a_point_shows_its_title(browser, tmp_path: Path):
    report = synthetic_report(5000, spike_at=2000)
    path = tmp_path / "r.html"
    report.to_html(path)
    browser.open(path.resolve().as_uri())
    # The centre of one hover circle on the visible (linear) loss chart, in page coordinates.
    info = browser.eval("""(() => {
      const c = [...document.querySelectorAll('figure.chart:not(.chart-log) svg .hover circle')]
        .find(c => c.getBoundingClientRect().width > 0 &&
                   c.querySelector('title').textContent.includes('step 2,000:'));
      c.scrollIntoView({block: 'center'});
      const r = c.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2, title: c.querySelector('title').textContent};
    })()""")
    assert info["title"].startswith("train loss · step 2,000: ")
    hit = browser.eval(f"(() => {{ const e = document.elementFromPoint({info['x']}, {info['y']}); "
                       "return [e.tagName, e.querySelector('title') && e.querySelector('title').textContent]; })()")
    assert hit == ["circle", info["title"]]  # nothing covers the point: the browser shows its title
    before = browser.eval(f"getComputedStyle(document.elementFromPoint({info['x']}, {info['y']})).fillOpacity")
    browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": info["x"], "y": info["y"]})
    after = browser.eval(f"getComputedStyle(document.elementFromPoint({info['x']}, {info['y']})).fillOpacity")
    assert (before, after) == ("0", "0.55")
    assert browser.console_problems() == []


@pytest.mark.browser
def test_csv_link_downloads_the_data(browser, tmp_path: Path):
    report = synthetic_report(3000, spike_at=None)
    path = tmp_path / "r.html"
    report.to_html(path)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.call("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)},
                 session=False)
    browser.open(path.resolve().as_uri())
    name = browser.eval("document.querySelector('a[download]').getAttribute('download')")
    browser.eval("document.querySelector('a[download]').click()")
    target = downloads / name
    end = time.monotonic() + 60  # failure guard only
    while not target.exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert target.exists(), list(downloads.iterdir())
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows == _csv(path.read_text())
    assert browser.console_problems() == []
