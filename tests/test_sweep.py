"""Sweeps: ``lossdoc analyze runs/`` over a directory of many runs (lossdoc.sweep).

One generated sweep of 30 small nanoGPT runs (seeded), whose final losses are known by
construction (each run converges to ``2.0 + 0.05 * level``, levels shuffled over the names so
that name order is not loss order), with one run ending in NaN losses (an ``error`` finding), one
broken unit (a torn ``trainer_state.json``) and a README at the top level.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from lossdoc.cli import ExitCode, main
from lossdoc.sweep import analyze_sweep, rank_runs, sweep_units

N_RUNS = 30
NAN_RUN = "lr07"


def _write_run(d: Path, final: float, rng: np.random.Generator, nan: bool = False) -> None:
    n = 300
    t = np.arange(n)
    loss = final + 3.0 * (1.0 + t / 30.0) ** -0.8 + rng.normal(0.0, 0.01, n)
    d.mkdir(parents=True)
    lines = []
    for s in range(n):
        v = "nan" if nan and s >= n - 10 else f"{loss[s]:.4f}"  # the run ends in NaN
        lines.append(f"iter {s}: loss {v}, time 98.00ms, mfu 38.00%\n")
    (d / "train.log").write_text("".join(lines))


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep") / "runs"
    rng = np.random.default_rng(20261126)
    order = rng.permutation(N_RUNS)  # run i's loss level is independent of its name order
    for name_idx, level in enumerate(order):
        name = f"lr{name_idx:02d}"
        _write_run(root / name, 2.0 + 0.05 * float(level), rng, nan=name == NAN_RUN)
    (root / "zz-broken").mkdir()
    (root / "zz-broken" / "trainer_state.json").write_text('{"log_history": [{"loss": 1.0, "step": ')
    (root / "README.md").write_text("A learning-rate sweep.\n")
    return root


def _expected_order(root: Path) -> list[str]:
    """Run names by the level they were generated with (re-derived from the seeded permutation)."""
    rng = np.random.default_rng(20261126)
    order = rng.permutation(N_RUNS)
    return [f"lr{i:02d}" for i in np.argsort(order, kind="stable")]


@pytest.fixture(scope="module")
def cli_result(sweep_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("out")
    r = CliRunner().invoke(main, ["analyze", str(sweep_dir), "-j", "2", "--json", str(out / "r.json"),
                                  "--html", str(out / "r.html")])
    return r, json.loads((out / "r.json").read_text()), (out / "r.html").read_text()


def test_every_run_is_analysed_and_the_broken_one_reported(cli_result, sweep_dir):
    r, doc, _ = cli_result
    assert r.exit_code == ExitCode.ERROR, r.output  # a unit could not be read: exit 2, after the table
    assert "Traceback" not in r.output
    names = sorted(run["run"] for run in doc["runs"])
    assert names == [f"lr{i:02d}" for i in range(N_RUNS)]
    errors = doc["sweep"]["errors"]
    assert [e["unit"] for e in errors] == [str(sweep_dir / "zz-broken")]
    assert "trainer_state.json" in errors[0]["error"]
    assert doc["sweep"]["skipped"] == [str(sweep_dir / "README.md")]
    assert "zz-broken" in r.output and "could not be read" in r.output


def test_ranking_follows_final_loss(cli_result, sweep_dir):
    r, doc, _ = cli_result
    ranking = doc["sweep"]["ranking"]
    ranked = [row["run"] for row in ranking]
    expected = _expected_order(sweep_dir)
    # The NaN run's final level is the mean of its finite tail, so it keeps its place.
    assert ranked == expected
    finals = [row["final_train_loss_smoothed"] for row in ranking]  # what ranks: the mean of the last 5%
    assert finals == sorted(finals)
    assert [row["rank"] for row in ranking] == list(range(1, N_RUNS + 1))
    # The terminal table lists the runs in the same order.
    table = [m.group(1) for m in re.finditer(r"^\s*\d+\s+(lr\d\d)\s", r.output, re.M)]
    assert table == expected


def test_worst_finding_is_shown(cli_result):
    r, doc, _ = cli_result
    row = next(x for x in doc["sweep"]["ranking"] if x["run"] == NAN_RUN)
    assert row["worst"]["severity"] == "error"
    assert row["worst"]["rule"].startswith("NF")
    line = next(ln for ln in r.output.splitlines() if re.match(rf"^\s*\d+\s+{NAN_RUN}\s", ln))
    assert "error" in line and row["worst"]["rule"] in line
    nan_run = next(x for x in doc["runs"] if x["run"] == NAN_RUN)
    assert any(f["category"] == "non_finite" for f in nan_run["findings"])


def test_html_index_links_each_run_section(cli_result):
    _, doc, html = cli_result
    links = re.findall(r'<a href="#(run-\d+)">([^<]+)</a>', html)
    # (each run is linked from the ranking and from the overlay chart's legend)
    assert sorted({name for _, name in links}) == sorted(x["run"] for x in doc["runs"])
    for anchor, name in links:
        m = re.search(rf'<section class="run" id="{anchor}"[^>]*>\s*<h3[^>]*>{name} ', html)
        assert m, f"section {anchor} for {name} missing"
    assert "zz-broken" in html  # the broken unit is listed with its error
    assert "<svg" in html  # one small curve per run


def test_same_findings_as_analysing_the_run_alone(cli_result, sweep_dir):
    from lossdoc.api import analyze

    _, doc, _ = cli_result
    alone = analyze([str(sweep_dir / NAN_RUN)])
    in_sweep = next(x for x in doc["runs"] if x["run"] == NAN_RUN)
    assert [f.rule for f in alone.findings] == [f["rule"] for f in in_sweep["findings"]]


def test_in_process_sweep_and_what_is_a_sweep(sweep_dir, tmp_path):
    rep = analyze_sweep(sweep_dir, jobs=1)
    assert len(rep.runs) == N_RUNS and len(rep.errors) == 1
    assert [row.run for row in rank_runs(rep.runs)] == _expected_order(sweep_dir)
    # Not sweeps: a file, a directory with one run subdirectory.
    assert sweep_units(sweep_dir / "lr00" / "train.log") is None
    one = tmp_path / "one"
    (one / "a").mkdir(parents=True)
    assert sweep_units(one) is None
    units = sweep_units(sweep_dir)
    assert units is not None and len(units) == N_RUNS + 2  # 31 directories + README.md


def test_any_executor_runs_the_units(sweep_dir):
    """The cluster hook: a concurrent.futures executor (here threads) instead of the local pool."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as ex:  # one thread: no concurrency inside a test process
        rep = analyze_sweep(sweep_dir, executor=ex, jobs=2)
    assert [row.run for row in rep.ranking] == _expected_order(sweep_dir)
    assert [u for u, _ in rep.errors] == [str(sweep_dir / "zz-broken")]


def test_rules_in_force_are_reported_with_their_parameters(cli_result):
    _, doc, _ = cli_result
    rules = {r["id"]: r for r in doc["rules"]}
    assert "SP001" in rules and "NF001" in rules
    assert isinstance(rules["SP001"]["params"], dict) and rules["SP001"]["params"]


def test_worker_preload_does_not_import_polars():
    # The fork server imports WORKER_PRELOAD before forking the workers; polars starts threads at
    # import, which a fork would not carry over, so none of these may pull it in.
    import subprocess
    import sys

    from lossdoc.sweep import WORKER_PRELOAD

    code = ("import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('polars', 'pyarrow', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code, *WORKER_PRELOAD], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "scipy.stats" in WORKER_PRELOAD and "lossdoc.analysis.stats" in WORKER_PRELOAD


def test_workers_resolve_relative_units_from_the_callers_directory(sweep_dir, monkeypatch):
    # Workers forked from a long-lived fork server take on the caller's current directory.
    monkeypatch.chdir(sweep_dir.parent)
    rep = analyze_sweep("runs", jobs=2)
    assert len(rep.runs) == N_RUNS
    assert [u for u, _ in rep.errors] == [str(Path("runs") / "zz-broken")]


@pytest.mark.parametrize(("n", "jobs"), [(1, 2), (3, 2), (200, 2), (1000, 8)])
def test_batches_cover_every_unit_once_and_shrink(n, jobs):
    from lossdoc.sweep import _batches

    todo = [(f"u{i:04d}", True) for i in range(n)]
    batches = _batches(todo, jobs)
    assert sorted(u for b in batches for u in b) == todo
    sizes = [len(b) for b in batches]
    assert sizes == sorted(sizes, reverse=True) and max(sizes) <= 32
    if n >= 100:
        assert sizes[-1] == 1 and sizes[0] >= 8  # few round trips early, single units at the end
        assert batches[0][1][0] != "u0001"  # neighbours in name order go to different batches


def test_a_large_sweep_index_is_summarised(sweep_dir):
    """Past INDEX_FULL_RUNS runs the HTML index keeps a row per run but curves and sections only for
    the best runs and the runs with an error, plus a table of findings across the sweep."""
    import copy
    import dataclasses

    from lossdoc.sweep import INDEX_FULL_RUNS, INDEX_TOP, render_sweep_html

    rep = analyze_sweep(sweep_dir, jobs=1)
    runs = []
    for k in range(12):  # 360 runs: 12 copies of the 30, renamed
        for r in rep.runs:
            r2 = copy.copy(r)
            r2.run = f"{r.run}-{k:02d}"
            runs.append(r2)
    assert len(runs) > INDEX_FULL_RUNS
    big = dataclasses.replace(rep, runs=runs)
    html = render_sweep_html(big)
    rows = re.findall(r'<tr><td class="num">[^<]*</td>\s*<td>(?:<a href="#run-\d+">)?(lr\d\d-\d\d)<', html)
    assert sorted(rows) == sorted(r.run for r in runs)  # every run has its row
    sections = set(re.findall(r'<section class="run" id="run-\d+"[^>]*>\s*<h3[^>]*>(lr\d\d-\d\d) ', html))
    ranking = big.ranking
    best = {row.run for row in ranking[:INDEX_TOP]}
    with_error = {row.run for row in ranking if row.worst is not None and str(row.worst.severity) == "error"}
    assert with_error and sections == best | with_error
    links = set(re.findall(r'<a href="#run-\d+">(lr\d\d-\d\d)</a>', html))
    assert links == sections  # a name links to a section exactly when there is one
    # a curve in the row and in the section, and the overlay chart of those runs
    assert html.count("<svg") == 2 * len(sections) + 1
    assert "Findings across the sweep" in html and f"{NAN_RUN}-00" in html
    # (per row: its table row, overlay line and links; the bound holds whatever the temp path's length,
    # which the rows quote -- 600 bytes a row failed by 0.05% under pytest's default basetemp)
    assert len(html) < 6_000 * len(sections) + 800 * len(runs)


def test_nested_sweep_names_runs_by_their_units(tmp_path: Path) -> None:
    """runs/<group>/<run>/...: two groups holding a run of the same name keep the group in front
    (short, as a single read names them), not the source path."""
    rng = np.random.default_rng(3)
    root = tmp_path / "runs"
    for group in ("adam", "sgd"):
        for run in ("lr1", "lr2"):
            _write_run(root / group / run / "output", 2.0, rng)
    rep = analyze_sweep(root, jobs=1)
    assert sorted(r.run for r in rep.runs) == ["adam/lr1", "adam/lr2", "sgd/lr1", "sgd/lr2"]


def test_python_api_takes_the_same_path_for_a_directory_of_runs(cli_result, sweep_dir):
    # lossdoc.analyze(DIR) is what `lossdoc analyze DIR` does: the same units, runs, ranking and errors
    import lossdoc
    from lossdoc.sweep import SweepReport

    _, doc, _ = cli_result
    report = lossdoc.analyze(sweep_dir)  # in this process (jobs=1 by default in the API)
    assert isinstance(report, SweepReport)
    api = report.to_dict()
    assert sorted(r["run"] for r in api["runs"]) == sorted(r["run"] for r in doc["runs"])
    assert [row["run"] for row in api["sweep"]["ranking"]] == [row["run"] for row in doc["sweep"]["ranking"]]
    assert api["sweep"]["errors"] == doc["sweep"]["errors"]
    assert {(r["run"], f["rule"]) for r in api["runs"] for f in r["findings"]} == \
        {(r["run"], f["rule"]) for r in doc["runs"] for f in r["findings"]}
