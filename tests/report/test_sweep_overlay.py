"""The sweep index's overlay chart: all runs on shared axes, best first, NaN/diverged last, with
the hyperparameters the logs state as columns."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lossdoc.sweep import analyze_sweep

#: name -> (final level, kind, learning rate)
RUNS = {"a-mid": (2.3, "ok", 3e-4), "b-nan": (2.0, "nan", 1e-3), "c-best": (2.1, "ok", 6e-4),
        "d-diverge": (2.0, "diverge", 3e-3), "e-worst": (2.6, "ok", 1e-4)}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ov") / "runs"
    for name, (final, kind, lr) in RUNS.items():
        d = root / name
        d.mkdir(parents=True)
        t = np.arange(400)
        loss = final + 3.0 * (1.0 + t / 30.0) ** -0.8 + np.random.default_rng(len(name)).normal(0, 0.01, t.size)
        if kind == "diverge":
            loss[200:] *= np.exp((t[200:] - 200) / 40.0)
        lines = [f"Overriding: learning_rate = {lr}\n", "Overriding: batch_size = 12\n"]
        for s in t:
            v = "nan" if kind == "nan" and s >= 300 else f"{loss[s]:.4f}"
            lines.append(f"iter {s}: loss {v}, time 98.00ms, mfu 38.00%\n")
        (d / "train.log").write_text("".join(lines))
    report = analyze_sweep(str(root), jobs=1)
    return report, report.to_html()


def _section(html: str) -> str:
    m = re.search(r'<section aria-labelledby="overlay-h".*?</section>', html, re.S)
    assert m, "no overlay section"
    return m.group(0)


def test_overlay_lists_best_first_and_bad_runs_last(sweep):
    _report, html = sweep
    sec = _section(html)
    legend = re.findall(r'<tr><td class="num">(\d+)</td><td><span class="swatch-line( bad)?"[^>]*></span>'
                        r'(?:<a href="#run-\d+">)?([^<]+)', sec)
    names = [n for _p, _b, n in legend]
    assert names[:3] == ["c-best", "a-mid", "e-worst"]  # ranked by final training loss
    assert set(names[3:]) == {"b-nan", "d-diverge"}  # NaN / diverged last
    assert [bool(b) for _p, b, _n in legend] == [False, False, False, True, True]


def test_overlay_draws_every_run_on_shared_axes_with_hover_titles(sweep):
    sec = _section(sweep[1])
    svg = re.search(r"<svg class=\"overlay-svg\".*?</svg>", sec, re.S).group(0)
    lines = re.findall(r'<polyline points="([^"]+)" stroke="([^"]+)"( stroke-dasharray="[^"]+")?><title>([^<]+)',
                       svg)
    assert len(lines) == 5
    titles = {t.split(": ")[0].split(" ", 1)[1]: (stroke, bool(dash)) for _pts, stroke, dash, t in lines}
    assert titles["b-nan"] == ("#dc2626", True) and titles["d-diverge"] == ("#dc2626", True)
    assert not titles["c-best"][1]
    assert lines[-1][3].startswith("#1 c-best")  # the best run is drawn last: on top
    # One coordinate system: every polyline inside the plot area of the one viewBox.
    for pts, *_ in lines:
        xy = [tuple(map(float, p.split(","))) for p in pts.split()]
        assert all(0 <= x <= 720 and 0 <= y <= 300 for x, y in xy)
    assert re.search(r"<circle [^>]*><title>c-best · bin at step [\d,]+: mean loss [\d.]+</title></circle>", svg)


def test_overlay_has_config_columns(sweep):
    sec = _section(sweep[1])
    head = re.search(r"<thead>(.*?)</thead>", sec, re.S).group(1)
    assert "<th scope=\"col\">learning_rate</th>" in head and "<th scope=\"col\">batch_size</th>" in head
    body = re.search(r"<tbody>(.*?)</tbody>", sec, re.S).group(1)
    row = re.search(r"c-best.*?</tr>", body, re.S).group(0)
    assert "<code>0.0006</code>" in row and "<code>12</code>" in row


@pytest.mark.browser
def test_overlay_point_shows_its_run_on_hover(browser, sweep, tmp_path: Path):
    _report, html = sweep
    page = tmp_path / "index.html"
    page.write_text(html)
    browser.open(page.resolve().as_uri())
    info = browser.eval("""(() => {
      const c = document.querySelector('#overlay svg .run:last-of-type circle:nth-of-type(10)');
      c.scrollIntoView({block: 'center'});
      const r = c.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2, title: c.querySelector('title').textContent};
    })()""")
    assert info["title"].startswith("c-best · bin at step ")  # the best run is drawn last, on top
    hit = browser.eval(f"(() => {{ const e = document.elementFromPoint({info['x']}, {info['y']}); "
                       "return [e.tagName, e.querySelector('title') && e.querySelector('title').textContent]; })()")
    assert hit == ["circle", info["title"]]
    assert browser.console_problems() == []
