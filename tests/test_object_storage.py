"""Runs in object storage: ``s3://`` (and ``file://``) paths through fsspec (lossdoc.ingest.remote).

An S3-compatible server (moto's ``moto_server``) runs on 127.0.0.1 for this module; no network.
A small sweep is uploaded to it and analysed from there (locally, and on a real Dask cluster
whose workers read the runs from the server); findings must equal those of the local copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("s3fs", reason="s3fs is not installed (pip install 'lossdoc[s3]')")
pytest.importorskip("moto", reason="moto[server] is not installed (pip install 'lossdoc[test]')")

from lossdoc.cli import ExitCode, main  # noqa: E402
from lossdoc.sweep import analyze_sweep  # noqa: E402
from tests.servers import S3_ENV, dask_cluster, s3_server  # noqa: E402

BUCKET = "lossdoc-test"


def _write_run(d: Path, final: float, rng: np.random.Generator, n: int = 300) -> None:
    loss = final + 3.0 * (1.0 + np.arange(n) / 30.0) ** -0.8 + rng.normal(0.0, 0.01, n)
    d.mkdir(parents=True)
    (d / "train.log").write_text("".join(f"iter {s}: loss {v:.4f}, time 98.00ms, mfu 38.00%\n"
                                         for s, v in enumerate(loss)))


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("objstore") / "runs"
    rng = np.random.default_rng(7)
    for i in range(4):
        _write_run(root / f"run{i}", 2.0 + 0.1 * ((i * 3) % 4), rng)
    hf = root / "hf-run" / "checkpoint-40"  # an HF output dir, read from its latest checkpoint
    hf.mkdir(parents=True)
    hist = [{"loss": round(3.0 * (1 + s / 5) ** -0.5, 4), "learning_rate": 1e-4, "epoch": s / 40, "step": s}
            for s in range(1, 41)]
    (hf / "trainer_state.json").write_text(json.dumps({"log_history": hist, "global_step": 40}))
    (root / "zz-broken").mkdir()
    (root / "zz-broken" / "trainer_state.json").write_text('{"log_history": [{"loss": 1.0, "step": ')
    (root / "README.md").write_text("A sweep.\n")
    return root


@pytest.fixture(scope="module")
def s3(local_root: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The endpoint of a moto S3 server holding ``local_root`` at ``s3://BUCKET/runs/``; the
    environment points fsspec at it (as a user would: FSSPEC_S3_ENDPOINT_URL and AWS_* variables)."""
    with s3_server(tmp_path_factory.mktemp("moto")) as endpoint, pytest.MonkeyPatch.context() as mp:
        for k, v in {**S3_ENV, "FSSPEC_S3_ENDPOINT_URL": endpoint}.items():
            mp.setenv(k, v)
        import fsspec.config

        mp.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})  # fsspec reads the variable at import
        import s3fs

        fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
        fs.mkdir(BUCKET)
        fs.put(str(local_root), f"{BUCKET}/runs", recursive=True)
        yield endpoint


def _runs_by_name(doc: dict) -> dict[str, dict]:
    return {r["run"]: r for r in doc["runs"]}


def _same_runs(remote: dict, local: dict, local_root: Path, url: str) -> None:
    a, b = _runs_by_name(remote), _runs_by_name(local)
    assert a.keys() == b.keys() and len(a) == 5
    for name in a:
        ra, rb = dict(a[name]), dict(b[name])
        # The source reads as the URL, with the same path below the sweep as the local copy.
        assert ra.pop("source") == url + "/" + os.path.relpath(rb.pop("source"), local_root)
        assert ra == rb  # findings, summary, series, notes


def test_s3_sweep_equals_the_local_sweep(s3: str, local_root: Path) -> None:
    url = f"s3://{BUCKET}/runs"
    remote = analyze_sweep(url, jobs=2).to_dict()
    local = analyze_sweep(local_root, jobs=1).to_dict()
    _same_runs(remote, local, local_root, url)
    assert [e["unit"] for e in remote["sweep"]["errors"]] == [f"{url}/zz-broken"]
    assert remote["sweep"]["errors"][0]["error"].startswith(f"{url}/zz-broken/trainer_state.json: ")
    assert [r["run"] for r in remote["sweep"]["ranking"]] == [r["run"] for r in local["sweep"]["ranking"]]


def test_s3_file_and_prefix_on_the_command_line(s3: str, local_root: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    for rel in ("run1/train.log", "hf-run"):
        url = f"s3://{BUCKET}/runs/{rel}"
        res = runner.invoke(main, ["analyze", url, "--json", str(tmp_path / "r.json"), "--no-html", "-q"])
        assert res.exit_code in (ExitCode.OK, ExitCode.FINDINGS), res.output
        got = json.loads((tmp_path / "r.json").read_text())
        res = runner.invoke(main, ["analyze", str(local_root / rel), "--json", str(tmp_path / "l.json"),
                                   "--no-html", "-q"])
        want = json.loads((tmp_path / "l.json").read_text())
        assert [r["findings"] for r in got["runs"]] == [r["findings"] for r in want["runs"]]
        assert [r["run"] for r in got["runs"]] == [r["run"] for r in want["runs"]]  # named as the local copy
        assert all(r["source"].startswith(url) for r in got["runs"])  # s3:// kept whole, never s3:/


def test_missing_object_and_missing_backend_are_one_line_errors(s3: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    res = CliRunner().invoke(main, ["analyze", f"s3://{BUCKET}/runs/nope.log", "--no-html"])
    assert res.exit_code == ExitCode.ERROR
    assert res.stderr.strip() == f"lossdoc: error: s3://{BUCKET}/runs/nope.log: no such file or directory"
    res = CliRunner().invoke(main, ["analyze", "nosuchscheme://x/y.log", "--no-html"])
    assert res.exit_code == ExitCode.ERROR and "Traceback" not in res.output
    assert len(res.stderr.strip().splitlines()) == 1 and "nosuchscheme://x/y.log" in res.stderr


def test_file_url_reads_the_local_path(local_root: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    url = (local_root / "run2" / "train.log").as_uri()
    res = CliRunner().invoke(main, ["analyze", url, "--json", str(tmp_path / "f.json"), "--no-html", "-q"])
    assert res.exit_code in (ExitCode.OK, ExitCode.FINDINGS), res.output
    doc = json.loads((tmp_path / "f.json").read_text())
    assert doc["runs"][0]["run"] == "run2" and doc["runs"][0]["source"] == url


def test_dask_workers_read_the_runs_from_s3(s3: str, local_root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("distributed", reason="Dask is not installed (pip install 'lossdoc[dask]')")
    url = f"s3://{BUCKET}/runs"
    env = {**S3_ENV, "FSSPEC_S3_ENDPOINT_URL": s3}
    with dask_cluster(tmp_path_factory.mktemp("dask-s3"), workers=1, env=env) as address:
        remote = analyze_sweep(url, scheduler=address).to_dict()
    local = analyze_sweep(local_root, jobs=1).to_dict()
    _same_runs(remote, local, local_root, url)
    assert [e["unit"] for e in remote["sweep"]["errors"]] == [f"{url}/zz-broken"]
