"""Start-up: ``lossdoc --help`` and ``lossdoc formats`` do not import polars (the cached parser list)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from lossdoc import _catalogue
from lossdoc.cli import main
from lossdoc.ingest.registry import all_parsers


def test_catalogue_matches_the_registry_and_is_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDOC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("LOSSDOC_NO_CACHE", raising=False)
    expected = [{"name": p.name, "title": p.title, "recognises": p.recognises, "heuristic": bool(p.heuristic)}
                for p in all_parsers()]
    assert _catalogue.parser_catalogue() == expected
    assert len(list(tmp_path.glob("formats-*.json"))) == 1

    def boom() -> None:
        raise AssertionError("the parser modules were imported again")

    monkeypatch.setattr(_catalogue, "_compute", boom)
    assert _catalogue.parser_catalogue() == expected  # from the cache file


def test_corrupt_or_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDOC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("LOSSDOC_NO_CACHE", raising=False)
    first = _catalogue.parser_catalogue()
    (cache,) = tmp_path.glob("formats-*.json")
    cache.write_text("{not json")
    assert _catalogue.parser_catalogue() == first
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("LOSSDOC_CACHE_DIR", str(blocked))
    assert _catalogue.parser_catalogue() == first


def test_formats_command_output_unchanged_by_the_cache(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDOC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LOSSDOC_NO_CACHE", "1")
    direct = runner.invoke(main, ["formats", "--json"])
    monkeypatch.delenv("LOSSDOC_NO_CACHE")
    cold = runner.invoke(main, ["formats", "--json"])
    warm = runner.invoke(main, ["formats", "--json"])
    assert direct.exit_code == cold.exit_code == warm.exit_code == 0
    assert json.loads(direct.output) == json.loads(cold.output) == json.loads(warm.output)
    assert {"nanogpt", "hf-trainer", "tensorboard"} <= {p["name"] for p in json.loads(warm.output)}


def test_help_and_warm_formats_do_not_import_polars(tmp_path):
    env = dict(os.environ, LOSSDOC_CACHE_DIR=str(tmp_path))
    env.pop("LOSSDOC_NO_CACHE", None)
    code = ("import sys\nfrom lossdoc.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('polars', 'numpy', 'scipy', 'matplotlib', 'statsmodels') "
            "if m in sys.modules))")
    subprocess.run([sys.executable, "-c", code, "formats"], env=env, capture_output=True, check=True)  # fills
    for args in (["--help"], ["formats"]):
        out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                             check=True).stdout
        assert "HEAVY []" in out, (args, out[-300:])
