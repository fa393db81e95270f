"""Sweeps on a Dask cluster (``lossdoc analyze DIR --scheduler tcp://...``, lossdoc.cluster).

A real ``dask scheduler`` and ``dask worker`` (two worker processes, one thread each) are started
as subprocesses on 127.0.0.1 for this module and torn down at its end, even when a test fails.
The sweep (a dozen small runs, one ending in NaN, one broken unit, a README) is analysed on the
cluster and locally; the reports must be the same.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="Dask is not installed (pip install 'lossdoc[dask]')")

from lossdoc.cli import ExitCode, main  # noqa: E402
from lossdoc.sweep import analyze_sweep, analyze_unit  # noqa: E402
from tests.servers import dask_cluster, free_port  # noqa: E402

N_RUNS = 12


def _write_run(d: Path, final: float, rng: np.random.Generator, nan: bool = False) -> None:
    n = 300
    t = np.arange(n)
    loss = final + 3.0 * (1.0 + t / 30.0) ** -0.8 + rng.normal(0.0, 0.01, n)
    d.mkdir(parents=True)
    lines = [f"iter {s}: loss {'nan' if nan and s >= n - 10 else f'{loss[s]:.4f}'}, time 98.00ms, mfu 38.00%\n"
             for s in range(n)]
    (d / "train.log").write_text("".join(lines))


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cluster")
    root = base / "runs"
    rng = np.random.default_rng(18)
    for i, level in enumerate(rng.permutation(N_RUNS)):
        _write_run(root / f"lr{i:02d}", 2.0 + 0.05 * float(level), rng, nan=i == 3)
    (root / "zz-broken").mkdir()
    (root / "zz-broken" / "trainer_state.json").write_text('{"log_history": [{"loss": 1.0, "step": ')
    (root / "README.md").write_text("A learning-rate sweep.\n")
    return root


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ``dask scheduler`` and a ``dask worker`` (2 processes x 1 thread) on 127.0.0.1."""
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as address:
        yield address


def _run_cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    from click.testing import CliRunner

    res = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def test_dask_sweep_equals_the_local_sweep(sweep_root: Path, scheduler: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sweep_root.parent)  # relative unit paths, as a user types them
    code_l, out_l, err_l = _run_cli(["analyze", "runs", "-j", "1", "--json", str(tmp_path / "local.json"),
                                     "--html", str(tmp_path / "local.html")])
    code_d, out_d, err_d = _run_cli(["analyze", "runs", "--scheduler", scheduler, "--json", str(tmp_path / "dask.json"),
                                     "--html", str(tmp_path / "dask.html")])
    local = json.loads((tmp_path / "local.json").read_text())
    dask = json.loads((tmp_path / "dask.json").read_text())
    assert len(dask["runs"]) == N_RUNS
    assert dask == local  # every run, finding, summary, ranking and error
    assert any(f["category"] == "non_finite" for r in dask["runs"] for f in r["findings"])
    # The broken unit is reported as in a local sweep: listed, exit code 2, the same one-line error.
    assert [e["unit"] for e in dask["sweep"]["errors"]] == ["runs/zz-broken"]
    assert code_d == code_l == ExitCode.ERROR
    assert err_d == err_l and "1 of 14 units could not be read" in err_d
    assert f"2 Dask worker threads at {scheduler}" in out_d
    # Below the header line (which says where the runs were analysed), the terminal output is the same.
    def table(out: str) -> list[str]:
        return [ln for ln in out.splitlines()[1:] if " report: " not in ln]

    assert table(out_d) == table(out_l) and len(table(out_d)) > N_RUNS


def test_scheduler_from_the_environment_and_progress(sweep_root: Path, scheduler: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    messages: list[str] = []
    report = analyze_sweep(sweep_root, scheduler=scheduler, progress=messages.append)
    assert report.scheduler == scheduler and report.jobs == 2
    assert messages[0].startswith("[....") and "0/14 runs" in messages[0]
    assert "14/14 runs" in messages[-1] and "1 failed" in messages[-1]
    assert len(messages) == 15  # one update per unit as its result arrives

    monkeypatch.setenv("LOSSDOC_SCHEDULER", scheduler)
    code, out, _ = _run_cli(["analyze", str(sweep_root), "--no-html", "--fail-on", "never"])
    assert code == ExitCode.ERROR  # the broken unit
    assert "Dask worker threads" in out


def test_only_results_travel_back(tmp_path: Path) -> None:
    """What a worker returns for a run is its findings and summary (a few KB), not the log's data."""
    d = tmp_path / "long"
    rng = np.random.default_rng(5)
    n = 30_000
    loss = 2.0 + 3.0 * (1.0 + np.arange(n) / 300.0) ** -0.8 + rng.normal(0.0, 0.01, n)
    d.mkdir()
    (d / "train.log").write_text("".join(f"iter {s}: loss {v:.4f}, time 98.00ms, mfu 38.00%\n"
                                         for s, v in enumerate(loss)))
    res = analyze_unit(str(d), True, {"format": None, "config": None, "horizon": None})
    assert res.error is None and res.runs
    assert all(r.frame is None and r.data is None for r in res.runs)
    size = len(pickle.dumps(res))
    assert size < 16_000 and size < 0.02 * (d / "train.log").stat().st_size


def test_unreachable_scheduler_is_a_one_line_error(sweep_root: Path) -> None:
    code, out, err = _run_cli(["analyze", str(sweep_root), "--no-html", "--scheduler",
                               f"tcp://127.0.0.1:{free_port()}"], env={"LOSSDOC_SCHEDULER_TIMEOUT": "2"})
    assert code == ExitCode.ERROR
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in err
    assert "Traceback" not in err + out and len(err.strip().splitlines()) == 1
