"""Engine: which series is the loss, the run summary, false-alarm control, the rules/rule commands."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from lossdoc.checks.context import RunContext
from lossdoc.checks.runner import run_checks
from lossdoc.checks.series import final_level
from lossdoc.cli import main
from lossdoc.config import Config
from lossdoc.model import make_frame
from lossdoc.testing import synth_frame, synth_logset


def test_loss_is_sum_of_components_when_no_loss_series():
    # YOLO results.csv: train/box_loss + train/cls_loss + train/dfl_loss, no total
    frames = [make_frame({"run": "r", "split": "train", "metric": m, "name": f"train/{m}", "step": [1, 2, 3],
                          "value": v}) for m, v in (("box_loss", [1.0, 0.9, 0.8]), ("cls_loss", [2.0, 1.5, 1.2]),
                                                    ("dfl_loss", [1.5, 1.4, 1.3]))]
    ctx = RunContext("r", pl.concat(frames), notes=[], meta={})
    s = ctx.loss("train")
    assert s is not None and s.name == "train/box_loss + train/cls_loss + train/dfl_loss"
    np.testing.assert_allclose(s.values, [4.5, 3.8, 3.3])


def test_direct_loss_preferred_and_single_loss_like_series():
    df = pl.concat([
        make_frame({"run": "r", "split": "train", "metric": "loss", "name": "loss", "step": [1, 2], "value": [2.0, 1.0]}),
        make_frame({"run": "r", "split": "train", "metric": "box_loss", "name": "box", "step": [1, 2], "value": [9.0, 9.0]}),
        make_frame({"run": "r", "split": "val", "metric": "mse", "name": "Valid MSE", "step": [1, 2], "value": [5.0, 4.0]}),
    ])
    ctx = RunContext("r", df, notes=[], meta={})
    assert ctx.loss("train").name == "loss"
    assert ctx.loss("val").name == "Valid MSE"


def test_final_level_is_robust_to_one_noisy_last_point():
    v = np.full(100, 2.0)
    v[-1] = 5.0
    # mean of the last 5 points (5% of 100): one outlier moves it by 3/5, not to 5.0
    assert final_level(v) == pytest.approx(2.6)
    assert final_level(np.array([3.0, np.nan])) == 3.0


def test_final_level_counts_only_finite_points_even_when_the_tail_is_mostly_nan():
    # 40,000 finite points then a long NaN tail: the level is the mean of the last 1,000 finite ones
    v = np.concatenate([np.arange(40_000, dtype=float), np.full(50_000, np.nan)])
    assert final_level(v) == pytest.approx(np.mean(np.arange(39_000, 40_000)))
    # every other point NaN: 5% of the 50 finite points is 3 (the minimum)
    w = np.arange(100, dtype=float)
    w[1::2] = np.nan
    assert final_level(w) == pytest.approx(np.mean([94.0, 96.0, 98.0]))


def test_summary_and_curves():
    logset = synth_logset(steps=2000, seed=5, val_every=100, meta={"total_steps": 4000})
    runs, rules = run_checks(logset, Config())
    s = runs[0].summary
    v = logset.sources[0].frame.filter(pl.col("split") == "val")
    best = v.sort("value").row(0, named=True)
    assert s.best_val_loss == pytest.approx(best["value"]) and s.best_val_step == best["step"]
    assert s.first_step == 0 and s.last_step == 1999 and s.total_steps == 4000
    # horizon defaults to the planned total; the prediction is below the last level and the interval covers it
    assert s.extrapolated is not None and s.extrapolated.step == 4000
    assert s.extrapolated.low <= s.extrapolated.loss <= s.extrapolated.high
    assert s.extrapolated.loss < s.final_train_loss
    fit = runs[0].curves["fit"]
    assert fit["step"][0] == 0 and fit["step"][-1] == 4000 and len(fit["loss"]) == len(fit["step"])
    assert runs[0].curves["smoothing"] == {"method": "ema", "weight": 0.6}
    assert {r["id"] for r in rules} >= {"NF001", "SP001", "DV001"}


def test_horizon_argument_wins():
    runs, _ = run_checks(synth_logset(steps=500, seed=6), Config(), horizon=3000)
    assert runs[0].summary.extrapolated.step == 3000


def test_false_alarm_control_drops_marginal_hits():
    # 40 independent healthy runs with AR(1) noise: no error and no divergence claim on any of them
    for seed in range(40):
        runs, _ = run_checks(synth_logset(steps=600, seed=100 + seed, noise=0.05, phi=0.8), Config(),
                             summaries=False)
        assert not [f for f in runs[0].findings if f.category in ("divergence", "non_finite", "overfitting")]


def test_every_finding_carries_evidence():
    df = synth_frame(steps=1500, seed=7, val_every=50, log_grad_norm=True,
                     inject=[{"kind": "spike", "at": 700, "factor": 3.0}, {"kind": "nan", "at": 1400}])
    runs, _ = run_checks(synth_logset(df), Config(), summaries=False)
    assert {f.rule for f in runs[0].findings} >= {"SP001", "NF001"}
    for f in runs[0].findings:
        d = f.to_dict()
        assert d["evidence"]["method"] and d["message"] and d["recommendation"]
        assert "{" not in f.recommendation, f.recommendation
        json.dumps(d, allow_nan=False)


def test_rules_command_lists_every_rule(runner):
    r = runner.invoke(main, ["rules"])
    assert r.exit_code == 0
    assert "SP001" in r.output and "loss-spike" in r.output and "loss_spikes" in r.output
    r = runner.invoke(main, ["rules", "--json"])
    assert {d["id"] for d in json.loads(r.output)} >= {"NF001", "LG004"}


def test_rule_command_prints_sections_in_order(runner):
    r = runner.invoke(main, ["rule", "loss-spike"])
    assert r.exit_code == 0
    out = r.output
    idx = [out.index(h) for h in ("Why is this bad?", "Example", "Recommendation", "Known problems", "Parameters")]
    assert idx == sorted(idx) and "zscore" in out
    r = runner.invoke(main, ["rule", "sp001", "--json"])
    assert json.loads(r.output)["params"]["zscore"] == 6.0
    r = runner.invoke(main, ["rule", "nope"])
    assert r.exit_code == 2 and "no rule 'nope'" in r.output


def test_interleaved_rows_give_the_same_series_as_blocks():
    df = synth_frame(steps=50, seed=8, log_grad_norm=True)
    blocks = RunContext("r", df, notes=[], meta={})
    inter = RunContext("r", df.sort("step", "metric"), notes=[], meta={})
    assert [s.key for s in blocks.all_series()] == ["train/loss", "train/lr", "train/grad_norm"]
    for s in blocks.all_series():
        t = inter.series(s.split, s.metric)
        assert t.name == s.name
        np.testing.assert_array_equal(t.steps, s.steps)
        np.testing.assert_array_equal(t.values, s.values)


def test_series_split_the_same_whether_rows_are_interleaved_or_grouped():
    # a text log printing time, tokens and loss on every line gives one key run per row (30,000 here);
    # grouped by series it is three runs: both layouts must give the same series, in first-seen order
    from lossdoc.checks.series import split_series

    n = 10_000
    steps = np.repeat(np.arange(n), 3)
    metric = np.tile(["time", "ntokens", "loss"], n)
    values = np.arange(3 * n, dtype=float)
    inter = make_frame({"run": "r", "split": "train", "metric": metric.tolist(), "name": metric.tolist(),
                        "step": steps.tolist(), "value": values.tolist()})
    grouped = inter.sort(pl.col("metric").replace_strict({"time": 0, "ntokens": 1, "loss": 2}), maintain_order=True)
    a, b = split_series(inter), split_series(grouped)
    assert [k for k, *_ in a] == [k for k, *_ in b] == [("train", "time"), ("train", "ntokens"), ("train", "loss")]
    for (_, name_a, st_a, v_a), (_, name_b, st_b, v_b) in zip(a, b):
        assert name_a == name_b and np.array_equal(st_a, st_b) and np.array_equal(v_a, v_b)
    assert np.array_equal(a[2][3], values[2::3])  # loss: every third row, in step order


def _plateau_finding(rule: str, category: str, severity: str, start: int, end: int, split: str = "train",
                     extra: dict | None = None):
    from lossdoc.checks.findings import Evidence, Finding, Severity

    return Finding(rule=rule, name=rule.lower(), category=category, severity=Severity.parse(severity), run="r",
                   split=split, metric="loss", start_step=start, end_step=end, message=f"{rule} {severity}",
                   recommendation="", evidence=Evidence("x", None, None, None, (start, end), extra or {}))


def test_one_series_never_gets_a_plateau_warning_and_a_converged_note():
    """PL001's stuck/wasted warning and PL002's "converged early" note never both stand on one series
    (a user's PL002 parameters may differ from PL001's); on another series the note stays."""
    from lossdoc.checks.runner import resolve_contradictions

    fs = [_plateau_finding("PL001", "plateau", "warning", 100, 1000),
          _plateau_finding("PL002", "plateau", "info", 400, 1000),
          _plateau_finding("PL002", "plateau", "info", 400, 1000, split="val")]
    kept = resolve_contradictions(fs)
    assert [(f.rule, f.split) for f in kept] == [("PL001", "train"), ("PL002", "val")]


def test_a_converged_note_gives_way_to_a_still_improving_finding_on_its_series():
    """"Converged early" (PL002, info) and "still improving" (SI001) on overlapping windows of one series
    contradict each other: the significant trailing decline wins. On a different series both stay
    (validation still falling while the training loss converged is two facts)."""
    from lossdoc.checks.runner import resolve_contradictions

    fs = [_plateau_finding("PL002", "plateau", "info", 600, 1000),
          _plateau_finding("SI001", "still_improving", "info", 800, 1000),
          _plateau_finding("SI001", "still_improving", "info", 800, 1000, split="val")]
    kept = resolve_contradictions(fs)
    assert [(f.rule, f.split) for f in kept] == [("SI001", "train"), ("SI001", "val")]
    other = resolve_contradictions([fs[0], fs[2]])
    assert [(f.rule, f.split) for f in other] == [("PL002", "train"), ("SI001", "val")]


def test_a_plateau_note_stands_against_a_decline_that_is_clear_only_on_the_series_own_range():
    """The same pair, weighed on the level's scale (the labelling guide's plateau: the last >= 30% of the run
    changes the loss by < ~2% of its level): SI001's trailing decline of 3% of the level per run moves the loss
    0.9% over 30% of the run, under PL002's max-change of 2% -- the plateau stands and the "still improving" goes
    (a validation loss first evaluated after the fast fall covers a range of a few % of its level, and 5% of that
    range is "clear"). A decline of 10% of the level per run (3% over 30% of the run) still wins."""
    from lossdoc.checks.runner import resolve_contradictions

    pl = _plateau_finding("PL002", "plateau", "info", 600, 1000, split="val",
                          extra={"max_change": 0.02, "min_share": 0.3, "decelerating": True})
    slow = _plateau_finding("SI001", "still_improving", "info", 800, 1000, split="val",
                            extra={"level_rate_per_run": 0.03})
    fast = _plateau_finding("SI001", "still_improving", "info", 800, 1000, split="val",
                            extra={"level_rate_per_run": 0.10})
    assert [f.rule for f in resolve_contradictions([pl, slow])] == ["PL002"]
    assert [f.rule for f in resolve_contradictions([pl, fast])] == ["SI001"]


def test_a_decelerating_plateau_note_removes_no_sign_of_slowing_down_on_its_series():
    """PL002's short validation route shows the fall slowing down (its evidence says ``decelerating``); LR004's
    "falls steadily but slowly, with no sign of slowing down" on the same series contradicts it and goes. On
    another series, or beside a plateau note that does not rest on a slowing fall, LR004 stays."""
    from lossdoc.checks.runner import resolve_contradictions

    pl = _plateau_finding("PL002", "plateau", "info", 600, 1000, split="val", extra={"decelerating": True})
    lr = _plateau_finding("LR004", "lr_too_low", "info", 100, 1000, split="val")
    lr_train = _plateau_finding("LR004", "lr_too_low", "info", 100, 1000)
    assert [(f.rule, f.split) for f in resolve_contradictions([pl, lr, lr_train])] == [("PL002", "val"),
                                                                                     ("LR004", "train")]
    flat = _plateau_finding("PL002", "plateau", "info", 600, 1000, split="val", extra={"decelerating": False})
    assert [f.rule for f in resolve_contradictions([flat, lr])] == ["PL002", "LR004"]


def test_a_run_converged_at_mid_run_gets_one_plateau_note_and_no_warning():
    """A real check run with every rule: the training loss converges at mid-run -> one PL002 note on it
    (info), no PL001 warning, and no series carries both a plateau and a still-improving finding."""
    logset = synth_logset(steps=3000, seed=19, alpha=2.0, tau=200, schedule="constant")
    runs, _ = run_checks(logset, Config(), summaries=False)
    fs = runs[0].findings
    pl = [f for f in fs if f.category == "plateau"]
    assert [(f.rule, str(f.severity), f.split) for f in pl] == [("PL002", "info", "train")]
    for f in pl:
        assert not any(g.category == "still_improving" and g.split == f.split for g in fs)


def test_a_validation_plateau_note_gives_way_to_an_overfitting_warning_on_its_series():
    """A validation loss that rose well above its minimum and then went flat: OF001's warning names the
    best step; PL002's "stopped improving at the plateau's start" would point past it, and its note on
    the training loss ("converged: a bigger model, more data") another step and the wrong direction for a
    model that overfits, so both go. A note-grade OF001 (training already levelled off) leaves the plateau
    note standing."""
    from lossdoc.checks.runner import resolve_contradictions

    warn = [_plateau_finding("OF001", "overfitting", "warning", 100, 1000, split="val"),
            _plateau_finding("PL002", "plateau", "info", 400, 1000, split="val"),
            _plateau_finding("PL002", "plateau", "info", 400, 1000)]
    assert [(f.rule, f.split) for f in resolve_contradictions(warn)] == [("OF001", "val")]
    note = [_plateau_finding("OF001", "overfitting", "info", 100, 1000, split="val"), warn[1]]
    assert [f.rule for f in resolve_contradictions(note)] == ["OF001", "PL002"]


def test_a_run_whose_training_loss_diverged_gets_no_train_val_gap():
    """A training loss that exploded (to 22,000) and came back to ln 2 while validation stayed at 1.7e7
    (the shape of a real LR-1 SGD run): the divergence findings stand; validation "25,000,000x the
    training loss" is the explosion seen on held-out data, not a generalisation gap (GP001) or
    overfitting (OF001), so neither is reported."""
    from lossdoc.checks.findings import Severity
    from lossdoc.ingest import from_bytes, read_input
    from lossdoc.model import LogSet

    text = ("epoch,loss,val_loss\n0,0.62,0.45\n1,0.31,0.28\n2,0.24,0.25\n3,8500.0,4.1e5\n4,2.2e4,3.3e6\n"
            "5,9.1,8.8e6\n6,0.71,1.2e7\n7,0.69,1.5e7\n8,0.693,1.6e7\n9,0.692,1.7e7\n10,0.693,1.7e7\n"
            "11,0.693,1.72e7\n")
    logset = LogSet([read_input(from_bytes(text.encode(), "case.log"), "keras-csv")])
    fs = run_checks(logset, Config(), summaries=False)[0][0].findings
    assert any(f.category == "divergence" and f.split == "train" and f.severity >= Severity.ERROR for f in fs)
    assert not [f.rule for f in fs if f.category in ("train_val_gap", "overfitting")]


def test_a_loss_at_a_trivial_solution_did_not_converge_early():
    """LM002 (stuck at ln(C), a warning) and PL002's "converged early: stop there, or spend the steps on a bigger
    model" on the same training loss contradict each other: the trivial solution is the finding to act on, and
    the note goes (a deep sigmoid net at ln(10) had both). A validation loss's note stays."""
    from lossdoc.checks.runner import resolve_contradictions

    fs = [_plateau_finding("LM002", "local_minimum", "warning", 100, 200),
          _plateau_finding("PL002", "plateau", "info", 50, 200),
          _plateau_finding("PL002", "plateau", "info", 50, 200, split="val")]
    kept = resolve_contradictions(fs)
    assert [(f.rule, f.split) for f in kept] == [("LM002", "train"), ("PL002", "val")]


def test_falls_steadily_gives_way_to_flat_and_to_did_not_fall_on_its_series():
    """LR004's "falls steadily but slowly, with no sign of slowing down" contradicts a plateau warning on the same
    series (PL001: flat at 323 for the last 75% of the run) and UF001's "did not fall" (the end at or above the
    start): the report keeps those and drops LR004. UF001 on a loss that fell a little, and a plateau warning on
    another series, leave LR004 standing."""
    from dataclasses import replace

    from lossdoc.checks.findings import Evidence
    from lossdoc.checks.runner import resolve_contradictions

    lr = _plateau_finding("LR004", "lr_too_low", "warning", 0, 1000)
    stuck = _plateau_finding("PL001", "plateau", "warning", 250, 1000)
    uf = _plateau_finding("UF001", "underfitting", "warning", 0, 1000)
    rose = replace(uf, evidence=Evidence("relative-drop", -0.009, 0.1, 0.02, (0, 1000), {}))
    fell = replace(uf, evidence=Evidence("relative-drop", 0.06, 0.1, 0.02, (0, 1000), {}))
    assert [f.rule for f in resolve_contradictions([lr, stuck])] == ["PL001"]
    assert [f.rule for f in resolve_contradictions([lr, rose])] == ["UF001"]
    assert [f.rule for f in resolve_contradictions([lr, fell])] == ["LR004", "UF001"]
    val_stuck = _plateau_finding("PL001", "plateau", "warning", 250, 1000, split="val")
    assert [f.rule for f in resolve_contradictions([lr, val_stuck])] == ["LR004", "PL001"]
