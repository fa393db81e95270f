"""Property-based fuzzing of the two other inputs a pull request controls: baseline snapshots
and configuration (issue 15), beside the parser fuzzing in ``test_fuzz.py``.

* A snapshot mutated anywhere (hostile numbers, wrong types, arrays cut or padded) is either
  compared or refused with an :class:`InputError`; the report it yields is strict JSON.
* Any curve lossdoc can read snapshots to strict JSON (no NaN) and loads back.
* Any ``lossdoc.toml`` table, and any rule-parameter override, is a :class:`ConfigError` naming the
  key, or a configuration whose every number is finite and in range and whose selection runs
  at least one rule.

Bounded and deterministic in CI; ``scripts/fuzz_long.py`` scales the example counts up.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossdoc.checks.selection import bind_params, select_rules
from lossdoc.checks.rulefile import load_rules
from lossdoc.config import MAX_INT_PARAM, Config, load_config, parse_config
from lossdoc.errors import ConfigError, InputError, LossdocError
from tests.hardening.cases import loss_at

SCALE = float(os.environ.get("LOSSDOC_FUZZ_SCALE", "1"))


def fuzz(n: int) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, derandomize=SCALE == 1, database=None,
                    print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                            HealthCheck.function_scoped_fixture])


# --------------------------------------------------------------------------- snapshots
HOSTILE_NUMBERS = st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 10**400, -(10**400), 2**63, None, "1.0", True,
                                   [], {}, 1.5, 1e-300])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A candidate log and a valid snapshot of a slightly different run."""
    from lossdoc.compare import snapshot
    from lossdoc.ingest import read

    d = tmp_path_factory.mktemp("snap")
    (d / "base.log").write_text("".join(f"iter {i}: loss {loss_at(i) * 1.01:.4f}, time 1ms, mfu 1%\n"
                                        for i in range(150)))
    (d / "cand.log").write_text("".join(f"iter {i}: loss {loss_at(i):.4f}, time 1ms, mfu 1%\n" for i in range(150)))
    return d, snapshot(read(str(d / "base.log")))


def _mutate(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    curve = doc["runs"][0]["train_loss"]
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.sampled_from([("bins", "step"), ("bins", "mean"), ("tail", "step"), ("tail", "value"),
                                           ("noise", None), ("points", None), ("first_step", None)]))
        op = data.draw(st.sampled_from(["poke", "cut", "pad", "replace", "reverse"]))
        holder, key = where
        if key is None:
            curve[holder] = data.draw(HOSTILE_NUMBERS)
            continue
        if holder not in curve:
            continue
        if not isinstance(curve[holder], dict):
            continue
        arr = curve[holder].get(key)
        if not isinstance(arr, list):
            curve[holder][key] = data.draw(HOSTILE_NUMBERS)
        elif op == "poke" and arr:
            arr[data.draw(st.integers(0, len(arr) - 1))] = data.draw(HOSTILE_NUMBERS)
        elif op == "cut":
            del arr[data.draw(st.integers(0, len(arr))):]
        elif op == "pad":
            arr.extend(data.draw(st.lists(HOSTILE_NUMBERS, max_size=3)))
        elif op == "replace":
            curve[holder][key] = data.draw(HOSTILE_NUMBERS)
        else:
            arr.reverse()
    return doc


@fuzz(25)
@given(data=st.data())
def test_mutated_baseline_snapshot_is_compared_or_refused(pair: tuple[Path, dict[str, Any]],
                                                          data: st.DataObject) -> None:
    from lossdoc.api import analyze

    d, good = pair
    bad = d / "mutated.json"
    bad.write_text(json.dumps(_mutate(good, data)))
    try:
        report = analyze(str(d / "cand.log"), baseline=[str(bad)], config=Config())
    except InputError:
        return
    json.loads(report.to_json(), parse_constant=lambda c: pytest.fail(f"{c} in the report JSON"))
    assert report.verdict in ("pass", "warn", "fail")


_VALUES = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([1e308, -1e308, 0.0, 2.0])


@fuzz(60)
@given(values=st.lists(_VALUES, min_size=1, max_size=300), start=st.integers(0, 10**12),
       stride=st.integers(1, 10**6))
def test_any_curve_snapshots_to_strict_json_and_loads_back(tmp_path_factory: pytest.TempPathFactory,
                                                          values: list[float], start: int, stride: int) -> None:
    from lossdoc.compare import Curve, _curve_to_dict, load_snapshot

    steps = np.arange(len(values), dtype=np.float64) * stride + start
    curve = Curve(steps, np.asarray(values, dtype=np.float64), "loss")
    doc = {"schema": "lossdoc/snapshot-1", "runs": [{"run": "r", "train_loss": _curve_to_dict(curve),
                                                     "val_loss": None}]}
    text = json.dumps(doc, allow_nan=False)  # raises on NaN/inf: the snapshot must hold none
    path = tmp_path_factory.getbasetemp() / "roundtrip.json"
    path.write_text(text)
    try:
        runs = load_snapshot(path)
    except LossdocError:
        assert not any(math.isfinite(v) for v in values)
        return
    got = runs[0].train
    if got is None:
        assert not any(math.isfinite(v) for v in values)
    else:
        assert np.all(np.isfinite(got.values)) and np.all(np.diff(got.steps) >= 0)


# --------------------------------------------------------------------------- configuration
_SCALAR = (st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=True)
           | st.text(max_size=6) | st.sampled_from(["ALL", "SP001", "loss-spike", "SP", "error", "never", ""]))
_VALUE = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["loss-spike", "SP001", "window", "zscore", "severity", "*", "alpha"]), inner, max_size=3),
    max_leaves=8)
_KEYS = st.sampled_from(["select", "extend-select", "ignore", "fail-on", "tolerance", "rule-paths", "preview",
                         "rules", "per-run-ignores", "tool", "unknown_key", "fail_on"])


@fuzz(300)
@given(table=st.dictionaries(_KEYS, _VALUE, max_size=5))
def test_any_config_table_is_valid_or_one_config_error(table: dict[str, Any]) -> None:
    table.pop("rule-paths", None)  # paths are resolved on disk; covered by the rule-file tests
    try:
        cfg = parse_config(table, "lossdoc.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("lossdoc.toml: ")
        return
    assert cfg.fail_on in ("error", "warning", "info", "never")
    assert math.isfinite(cfg.tolerance) and 0 <= cfg.tolerance < 1
    assert all(s.strip() for s in cfg.select + cfg.ignore + cfg.extend_select) and cfg.select
    try:
        rules = load_rules([])
        chosen = select_rules(rules, cfg)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert chosen  # a selection that runs nothing is an error, never a silent pass


@pytest.fixture(scope="module")
def specs() -> list[Any]:
    return sorted(load_rules([]).values(), key=lambda s: s.id)


@fuzz(400)
@given(data=st.data())
def test_any_rule_parameter_override_is_valid_or_one_config_error(specs: list[Any], data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from([s for s in specs if s.params]))
    key = data.draw(st.sampled_from([*spec.params, "severity", "no-such-param"]))
    value = data.draw(_SCALAR | st.floats(allow_nan=True, allow_infinity=True)
                      | st.integers(-(10**30), 10**30) | st.lists(_SCALAR, max_size=2))
    try:
        params, sev = bind_params(spec, {key: value}, "lossdoc.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and key in str(exc) and "lossdoc.toml" in str(exc)
        return
    for k, v in params.items():
        default = spec.params[k]
        assert type(v) is type(default) or (isinstance(default, float) and isinstance(v, float))
        if isinstance(v, float):
            assert math.isfinite(v) and (v >= 0 or default < 0)
        if isinstance(v, int) and not isinstance(v, bool):
            assert (1 if default else 0) <= v <= MAX_INT_PARAM


_TOML_TOKENS = st.sampled_from(["select", "ignore", "fail-on", "tolerance", "preview", "[rules.loss-spike]",
                                "[tool.lossdoc]", "[per-run-ignores]", "window", "zscore", "severity", " = ", "=",
                                '"error"', '"SP001"', "[]", '["ALL"]', "0", "-1", "nan", "inf", "1e400", "true",
                                "0.5", '"x"', "\n", "\n", "[", "]", ",", '"', "#", "tool", ".", "lossdoc"])


@fuzz(200)
@given(tokens=st.lists(_TOML_TOKENS, max_size=30))
def test_any_config_file_is_loaded_or_one_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                       tokens: list[str]) -> None:
    d = tmp_path_factory.getbasetemp() / "cfgfuzz"
    d.mkdir(exist_ok=True)
    path = d / "lossdoc.toml"
    path.write_text("".join(tokens))
    try:
        cfg = load_config(path)
        select_rules(load_rules(list(cfg.rule_paths)), cfg)
        for key, table in cfg.rules.items():
            spec = next((s for s in load_rules([]).values() if key in (s.id, s.name)), None)
            if spec is not None:
                bind_params(spec, table, str(path))
    except ConfigError as exc:
        assert "\n" not in str(exc) and "lossdoc.toml" in str(exc)
