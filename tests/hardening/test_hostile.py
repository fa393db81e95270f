"""Hostile content (issue #8): run names, metric names, file and directory names and cell values
carrying HTML, JavaScript, Markdown, GitHub workflow commands and terminal escapes are inert in
every output, and configuration and rule files are data that cannot run code.

The report is built end to end from files written here (ingest -> checks -> renderers), so the
names reach every place a renderer takes them from: run, source path, series name, notes,
finding messages.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lossdoc.api import analyze
from lossdoc.checks.selection import render_template
from lossdoc.config import Config, load_config
from lossdoc.errors import ConfigError, RuleError
from lossdoc.report.model import Report
from lossdoc.report.render_github import annotations, job_summary
from lossdoc.report.render_junit import render_junit
from tests.hardening.cases import HOSTILE, hostile_filename, loss_at, write

FORGED = "::error file=x::forged"


def hostile_report(tmp_path: Path) -> Report:
    """Two runs: a nanoGPT log in a hostile directory under a hostile file name (with a spike, so
    there are findings naming the run), and a CSV with a hostile column and a hostile cell value."""
    name = hostile_filename()
    lines = [f"iter {i}: loss {loss_at(i) * (8 if i == 150 else 1):.4f}, time 12.34ms, mfu 10.00%\n"
             for i in range(300)]
    log = write(tmp_path / f"dir{name}" / f"{name}.log", "".join(lines))
    header = 'step,loss,"' + HOSTILE.replace('"', '""') + '"'
    rows = [f"{i},{loss_at(i) if i != 40 else HOSTILE.splitlines()[0].replace(',', ' ')},{i}" for i in range(300)]
    csv = write(tmp_path / f"m{name}.csv", header + "\n" + "\n".join(rows) + "\n")
    return analyze([str(log), str(csv)], config=Config())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return hostile_report(tmp_path_factory.mktemp("hostile"))


def test_the_hostile_strings_reach_the_report(report: Report) -> None:
    """Guard: the cases below test something only if the names really are in the report."""
    assert any(r.run == f"{hostile_filename()}" for r in report.runs)
    assert report.findings, "the spike should give a finding that names the hostile run"
    doc = json.loads(report.to_json())
    names = {s["name"] for r in doc["runs"] for s in r["series"]}
    assert HOSTILE in names  # JSON is data: kept exactly
    notes = " ".join(n.message for r in report.runs for n in r.notes)
    assert "<script>" in notes  # the skipped cell is quoted in a note


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _csv_download(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """The report's one non-anchor link: the plotted data as a CSV file to save (a ``download``
    link to a ``data:text/csv`` URL whose payload is percent-encoded: no markup can survive in it)."""
    a = dict(attrs)
    href = a.get("href") or ""
    prefix = "data:text/csv;charset=utf-8,"
    return (tag == "a" and "download" in a and href.startswith(prefix)
            and re.fullmatch(r"[A-Za-z0-9%,._~-]*", href[len(prefix):]) is not None)


def test_html_escapes_everything(report: Report) -> None:
    html = report.to_html()
    parser = _Tags()
    parser.feed(html)
    names = {t for t, _ in parser.tags}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "meta-refresh", "base", "form"}
    for tag, attrs in parser.tags:
        for k, v in attrs:
            assert not k.startswith("on"), (tag, k, v)
            if k in ("href", "xlink:href", "src", "action") and v:
                assert v.startswith("#") or _csv_download(tag, attrs), (tag, k, v)  # only in-page links
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html and "\x07" not in html


def _markdown_is_inert(md: str) -> None:
    assert "<script" not in md and "<img" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md)  # escaped "\]" is text, not a link
    assert "\x1b" not in md and "\x07" not in md
    assert not any(line.lstrip().startswith("::") for line in md.splitlines())


def test_markdown_escapes_everything(report: Report) -> None:
    _markdown_is_inert(report.to_markdown())


def test_github_job_summary_escapes_everything(report: Report) -> None:
    _markdown_is_inert(job_summary(report))


def test_github_annotations_cannot_forge_commands(report: Report) -> None:
    lines = annotations(report)
    assert lines
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert re.match(r"^::(error|warning|notice) title=[^:\n]*::", line), line
        assert "\x1b" not in line and "\x07" not in line


def test_junit_is_well_formed_and_inert(report: Report) -> None:
    xml = render_junit(report)
    root = ET.fromstring(xml)  # raises on a control character or broken markup
    assert root.tag in ("testsuites", "testsuite")
    assert "<script" not in xml and "\x1b" not in xml


@pytest.mark.parametrize("color", [False, True])
def test_terminal_output_has_no_foreign_escapes(report: Report, color: bool) -> None:
    text = report.to_text(color=color)
    assert "\x07" not in text and "\x1b]" not in text and "\x1b[2J" not in text
    if not color:
        assert "\x1b" not in text
    else:  # only lossdoc's own colour codes (SGR: ESC [ ... m)
        assert not re.findall(r"\x1b(?!\[[0-9;]*m)", text)


# --------------------------------------------------------------------------- config and rules are data
def test_config_values_are_data_not_code(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    cfg = write(tmp_path / "lossdoc.toml", f'fail-on = "__import__(\'os\').system(\'touch {sentinel}\')"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert str(exc.value).startswith(str(cfg)) and "fail-on" in str(exc.value)
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("nosuch = 1\n", "nosuch", id="unknown-key"),
        pytest.param('select = 3\n', "select", id="wrong-type"),
        pytest.param("[rules.SP001]\nno-such-param = 1\n", "no-such-param", id="unknown-rule-param"),
    ],
)
def test_invalid_config_names_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    cfg = write(tmp_path / "lossdoc.toml", text)
    with pytest.raises(ConfigError) as exc:
        analyze(str(write(tmp_path / "t.log", "".join(f"iter {i}: loss {loss_at(i)}\n" for i in range(50)))),
                config=str(cfg))
    assert str(exc.value).startswith(str(cfg)) and key in str(exc.value)


def test_broken_pyproject_with_lossdoc_settings_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.lossdoc]\nfail-on = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(None, start=tmp_path)


def test_non_utf8_config_is_a_config_error(tmp_path: Path) -> None:
    cfg = write(tmp_path / "lossdoc.toml", b'select = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(cfg)


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        pytest.param('id = "XX001"\nname = "x"\n', "missing required key", id="missing-keys"),
        pytest.param('garbage = [\n', "invalid TOML", id="not-toml"),
        pytest.param(b'id = "XX001"\nname = "\xff"\n', "not UTF-8", id="not-utf8"),
    ],
)
def test_invalid_rule_file_names_the_file(tmp_path: Path, rule: str | bytes, needle: str) -> None:
    rule_file = write(tmp_path / "myrules" / "XX001.toml", rule)
    cfg = write(tmp_path / "lossdoc.toml", 'rule-paths = ["myrules"]\n')
    with pytest.raises(RuleError) as exc:
        analyze(str(write(tmp_path / "t.log", "".join(f"iter {i}: loss {loss_at(i)}\n" for i in range(50)))),
                config=str(cfg))
    assert str(exc.value).startswith(str(rule_file)) and needle in str(exc.value)


def test_rule_detector_cannot_name_python_code(tmp_path: Path) -> None:
    rule = write(tmp_path / "myrules" / "XX001.toml", (
        'id = "XX001"\nname = "evil"\ncategory = "plateau"\nseverity = "warning"\ndetector = "os.system"\n'
        'applies-to = ["train/loss"]\nsummary = "s"\nwhy = "w"\nexample = "e"\nrecommendation = "r"\n'
        'known-problems = "k"\nsince = "0.1.0"\n[params]\n'))
    cfg = write(tmp_path / "lossdoc.toml", 'rule-paths = ["myrules"]\n')
    with pytest.raises(RuleError) as exc:
        analyze(str(write(tmp_path / "t.log", "".join(f"iter {i}: loss {loss_at(i)}\n" for i in range(50)))),
                config=str(cfg))
    assert "os.system" in str(exc.value) and str(rule) in str(exc.value)


def test_recommendation_templates_fill_names_only() -> None:
    values = {"run": "r", "step": 1200}
    assert render_template("at {step:,} in {run}", values) == "at 1,200 in r"
    for probe in ("{run.__class__.__mro__}", "{run[0]}", "{step.real}", "{unknown}"):
        assert render_template(probe, values) == probe


# --------------------------------------------------------------------------- any name, any renderer
_NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40) | st.sampled_from(
    ["<script>alert(1)</script>", '"><svg onload=alert(1)>', "[x](javascript:alert(1))", "\x1b]0;t\x07",
     "::error::x", "a\nb\r\nc", "{{7*7}}", "{run.__class__}", "</textarea><iframe src=x>", "&lt;b&gt;"])


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(run=_NAME, series=_NAME, text=_NAME)
@example(run="sched onecycle=1", series="ONA=", text="online=true")  # tripped the chart guard (fixed)
def test_every_renderer_is_inert_for_any_name(run: str, series: str, text: str) -> None:
    import lossdoc
    from lossdoc.model import IngestNote
    from lossdoc.report.model import Report
    from tests.report.builders import finding, run_from_frame, synthetic_frame

    frame = synthetic_frame(run, 60, seed=3).with_columns(pl.lit(series).alias("name"))
    f = finding("SP001", "loss-spike", "loss_spikes", "error", run, 20, 20, f"spike {text}", f"check {text}")
    rr = run_from_frame(frame, source=f"/logs/{text}.log", fmt="csv", findings=[f],
                        notes=[IngestNote("skipped_lines", f"skipped {text}", line=3, run=run)])
    report = Report(runs=[rr], fail_on="error", version=lossdoc.__version__, rules=[])

    parser = _Tags()
    parser.feed(report.to_html())
    assert not {t for t, _ in parser.tags} & {"script", "img", "iframe", "object", "embed", "form", "base"}
    for tag, attrs in parser.tags:
        assert not any(k.startswith("on") for k, _ in attrs), tag
        assert all(v.startswith("#") or _csv_download(tag, attrs)
                   for k, v in attrs if k in ("href", "xlink:href", "src") and v), tag
    _markdown_is_inert(report.to_markdown())
    _markdown_is_inert(job_summary(report))
    # The only raw HTML in the Markdown is the renderer's own folding and footnote markup.
    md = report.to_markdown()
    assert set(re.findall(r"</?([A-Za-z][A-Za-z0-9-]*)", md)) <= {"details", "summary", "sub", "br"}, md
    for line in annotations(report):
        assert "\n" not in line and "\x1b" not in line and line.startswith("::")
    ET.fromstring(render_junit(report))
    text_out = report.to_text(color=False)
    assert "\x1b" not in text_out and "\x07" not in text_out
