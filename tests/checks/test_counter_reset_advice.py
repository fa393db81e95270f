"""LG001 on a step counter reset (the counter goes back to its start while the loss carries on; the
segments are laid end to end): the recommendation says what happened at the step the note names, not
"the run resumed at step N" (public dev YGGYatsso/Image-Colorization-Using-CGAN: 'The run resumed at step
59,999', where the counter went back to 0 after its logged step 59,999)."""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def test_counter_reset_recommendation_names_the_reset_not_a_resume() -> None:
    first = [6.23, 5.54, 5.13, 4.9, 4.7, 4.55, 4.4, 4.3, 4.2, 4.1]
    then = [4.08, 4.05, 4.01, 3.98, 3.95, 3.93, 3.9, 3.88]
    rows = [(i + 1, v) for i, v in enumerate(first)] + [(i + 1, v) for i, v in enumerate(then)]
    text = "".join(f"step {s} loss {v}\n" for s, v in rows)
    logset = LogSet([read_input(from_bytes(text.encode(), "train.log"), "text")])
    runs, _ = run_checks(logset, Config(select=("LG001",)), summaries=False)
    (f,) = [f for r in runs for f in r.findings]
    assert "the step counter goes back to its start 1 time(s) (first after step 10, to 1)" in f.message
    assert f.start_step == 10
    assert "resumed at step" not in f.recommendation
    assert f.recommendation.startswith("The step counter went back to its start after step 10 while the loss "
                                       "carried on: the later steps are derived")
