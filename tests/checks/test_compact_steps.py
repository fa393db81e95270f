"""Steps held compactly (Int32, ``lossdoc.model.COMPACT_STEP``: a Lightning metrics.csv of 10^7 rows holds
its steps in 40 MB instead of 80 MB) reach the checks, the summary and the charts as int32 arrays. Every
check must give the same report as with Int64 steps: no int32 overflow where steps are added, differenced or
scaled, also for steps just below 2**31; and the positions and bin means found on them are the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lossdoc
from lossdoc.config import Config
from lossdoc.model import COMPACT_STEP, COMPACT_STEP_MAX, LogSet, Source, compact_step
from lossdoc.testing import load_rule_cases, synth_logset

RULE_CASES = Path(__file__).parent / "rule_cases"
#: the rule cases built from synthetic curves: every detector's firing and quiet cases
SYNTH = [(rule, name, case) for rule, name, case in load_rule_cases(RULE_CASES) if "synth" in case]


def _map_steps(logs: LogSet, fn) -> LogSet:  # noqa: ANN001
    return LogSet([Source(path=s.path, format=s.format, blocks=[fn(b) for b in s.blocks], notes=list(s.notes),
                          meta=dict(s.meta)) for s in logs.sources])


def _report(logs: LogSet) -> str:
    return lossdoc.analyze(logs, config=Config()).to_json()


@pytest.mark.parametrize("top", [None, COMPACT_STEP_MAX], ids=["as-logged", "shifted-to-2^31-1"])
def test_compact_steps_give_the_same_report_for_every_rule_case(top: int | None) -> None:
    assert len(SYNTH) > 50
    for rule, name, case in SYNTH:
        logs = synth_logset(meta=case.get("meta"), **case["synth"])
        if top is not None:  # the run's last step at 2**31 - 1: sums or doubled steps would overflow int32
            off = top - max(int(b.get_column("step").max()) for s in logs.sources for b in s.blocks)
            logs = _map_steps(logs, lambda b, off=off: b.with_columns(pl.col("step") + off))
        compact = _map_steps(logs, lambda b: b.with_columns(compact_step(b.get_column("step"))))
        assert all(b.schema["step"] in COMPACT_STEP for s in compact.sources for b in s.blocks), (rule, name)
        rep = lossdoc.analyze(compact, config=Config())
        assert all(s.steps.dtype == np.int32 for r in rep.runs for s in (r.data or {}).values())
        assert rep.to_json() == _report(logs), f"{rule} {name}: the report differs with Int32 steps"


@pytest.mark.parametrize(("values", "dtype"), [
    ([0, 1, 5, 2**31 - 1], pl.Int32),
    ([3, 7], pl.Int32),
    ([0, 2**31], pl.Int64),  # a token count past int32
    ([-1, 5], pl.Int64),  # a negative step (a log counting down to a warm start)
    ([1, None], pl.Int64),
])
def test_compact_step_only_where_every_step_fits(values: list[int | None], dtype: pl.DataType) -> None:
    s = pl.Series("step", values, dtype=pl.Int64)
    got = compact_step(s)
    assert got.dtype == dtype
    assert got.cast(pl.Int64).to_list() == values
