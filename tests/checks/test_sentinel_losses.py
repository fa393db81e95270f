"""A script's sentinel for a loss it could not compute (``-1000`` written once the loss went NaN, as
asmitapoddar/question-answering-SQuAD2.0-dcn's loss.log does for its last 8 steps) is no loss the model reached:
it is masked as NaN before any best, trend or gap (issue #13's placeholder rule), NF001 says what was logged,
and the summary's final value says it was the sentinel instead of reporting -1000 as the final loss."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

import lossdoc
from lossdoc.checks.series import Series, mask_placeholders


def _log(tmp_path: Path, tail: list[float]) -> Path:
    vals = [5.0 * math.exp(-i / 15) + 0.5 + 0.05 * ((i * 7) % 5) for i in range(40)] + tail
    p = tmp_path / "loss.log"
    p.write_text("".join(f"{i + 1}: {v:g}\n" for i, v in enumerate(vals)))
    return p


def test_a_trailing_sentinel_is_a_non_finite_loss_not_the_best(tmp_path: Path) -> None:
    res = lossdoc.analyze(str(_log(tmp_path, [-1000.0] * 6)))
    s = res.runs[0].summary
    assert s.best_train_loss is not None and s.best_train_loss > 0  # -1000 is never "the best loss"
    assert s.final_train_step == 46 and s.final_train_loss is not None and math.isnan(s.final_train_loss)
    assert s.extra["final_train_loss_placeholder"] == -1000.0
    nf = [f for f in res.findings if f.rule == "NF001"]
    assert len(nf) == 1 and "6 of them logged as -1,000" in nf[0].message and nf[0].start_step == 41, \
        [(f.rule, f.message[:90]) for f in res.findings]
    # no finding reads the sentinel as a level the loss fell to
    assert not any("-1,000" in f.message for f in res.findings if f.rule != "NF001")


def test_the_report_says_the_final_value_was_the_sentinel(tmp_path: Path) -> None:
    from lossdoc.report.present import key_numbers

    res = lossdoc.analyze(str(_log(tmp_path, [-1.0, -1.0, -1.0])))
    final = next(n for n in key_numbers(res.runs[0].summary) if n[0] == "Final train loss")
    assert final[2] is not None and "logged as -1, the script's sentinel" in final[2]


def test_a_loss_that_crosses_zero_by_itself_is_left_as_logged() -> None:
    # a log-likelihood-style loss that goes below 0 takes many different negative values: no sentinel
    st = np.arange(10)
    vals = [2.0, 1.0, 0.5, 0.1, -0.2, -0.4, -0.5, -0.55, -0.6, -0.62]
    series = {("train", "loss"): Series("train", "loss", "loss", st, np.array(vals))}
    assert mask_placeholders(series) == {}
    # one repeated round negative value among positive losses is a sentinel; a lone one is not
    rep = {("train", "loss"): Series("train", "loss", "loss", st, np.array([3, 2, 1.5, 1.2, 1.1, 1, 0.9, -1, -1, -1.0]))}
    marks: dict = {}
    assert mask_placeholders(rep, marks) == {("train", "loss"): 3} and marks[("train", "loss")][0] == -1.0
    lone = {("train", "loss"): Series("train", "loss", "loss", st, np.array([3, 2, 1.5, 1.2, 1.1, 1, 0.9, 0.8, 0.7, -1.0]))}
    assert mask_placeholders(lone) == {}


def test_json_keeps_the_logged_sentinel(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lossdoc.cli import main

    out = tmp_path / "r.json"
    r = CliRunner().invoke(main, ["analyze", str(_log(tmp_path, [-1000.0] * 4)), "--json", str(out), "--no-html",
                                  "--quiet"])
    assert r.exit_code in (0, 1), r.output
    run = json.loads(out.read_text())["runs"][0]
    assert run["summary"]["final_train_loss"] is None and run["summary"]["final_train_loss_placeholder"] == -1000.0
