"""The regression comparison: known true differences on seeded synthetic runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lossdoc.compare import Curve, RunCurves, compare_runs, load_snapshot, snapshot
from lossdoc.ingest import read


def synth_run(seed: int, n: int = 2000, worse: float = 0.0, noise: float = 0.03, phi: float = 0.7,
              seed_offset: float = 0.002) -> RunCurves:
    """Power-law loss with AR(1) noise; ``worse`` scales the whole curve, ``seed_offset`` is the
    seed-to-seed spread of the asymptote (relative sd)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    from scipy.signal import lfilter

    e = lfilter([1.0], [1.0, -phi], rng.normal(0, noise, n))  # AR(1) noise
    level = 2.0 * (1 + rng.normal(0, seed_offset))
    y = (level + 3 * (1 + t / 100) ** -0.5) * (1 + worse) + e
    return RunCurves(f"s{seed}", "synthetic", "synthetic", Curve(t, y), None)


def q(result: dict, name: str) -> dict:
    return next(x for x in result["quantities"] if x["name"] == name)


def test_identical_run_is_not_a_regression():
    a = synth_run(1)
    r = compare_runs(a, [a], 0.01)
    assert r["regressed"] is False
    fin = q(r, "final_train_loss")
    assert fin["difference"] == pytest.approx(0.0, abs=1e-12)
    assert fin["ci"][0] <= 0 <= fin["ci"][1]


def test_three_percent_worse_is_a_regression_with_interval_covering_truth():
    base, cand = synth_run(11), synth_run(12, worse=0.03)
    r = compare_runs(cand, [base], 0.01)
    assert r["regressed"] is True
    fin = q(r, "final_train_loss")
    assert fin["regressed"] and fin["pvalue"] < 0.05
    assert 0.02 < fin["relative"] < 0.05
    assert fin["test"].startswith("circular block bootstrap")


def test_better_candidate_is_never_a_regression():
    r = compare_runs(synth_run(21, worse=-0.05), [synth_run(22)], 0.01)
    assert r["regressed"] is False


def test_same_config_seed_pairs_rarely_regress():
    # 40 seeded same-config pairs: the false-regression rate must stay at or below 5 %.
    flags = [compare_runs(synth_run(100 + s), [synth_run(500 + s)], 0.01)["regressed"] for s in range(40)]
    assert sum(flags) <= 2


def test_several_seeds_use_their_spread():
    seeds = [synth_run(s, seed_offset=0.01) for s in (31, 32, 33, 34)]
    same = compare_runs(synth_run(35, seed_offset=0.01), seeds, 0.01)
    assert "baseline seeds" in q(same, "final_train_loss")["test"]
    worse = compare_runs(synth_run(36, worse=0.08, seed_offset=0.0), seeds, 0.01)
    assert worse["regressed"] is True


def test_shorter_candidate_is_compared_on_the_common_range_and_says_so():
    base = synth_run(41, n=2000)
    short = synth_run(42, n=1200)
    r = compare_runs(short, [base], 0.01)
    assert r["common_range"] == [0, 1199]
    assert "candidate stops at step 1,199" in r["note"]
    assert r["regressed"] is False


def test_snapshot_round_trip_keeps_the_verdict(tmp_path):
    rng = np.random.default_rng(5)
    lines = [f"iter {i}: loss {2 + 3 * (1 + i / 100) ** -0.5 + rng.normal(0, 0.02):.4f}, time 10.00ms, mfu 1.00%"
             for i in range(3000)]
    log = tmp_path / "base.log"
    log.write_text("\n".join(lines) + "\n")
    doc = snapshot(read(log))
    assert doc["schema"] == "lossdoc/snapshot-1"
    snap = tmp_path / "base.json"
    snap.write_text(json.dumps(doc))
    assert snap.stat().st_size < 120_000
    from lossdoc.compare import curves_from_logset

    full = curves_from_logset(read(log))[0]
    via_snap = load_snapshot(snap)[0]
    worse = RunCurves("c", "x", "x", Curve(full.train.steps, full.train.values * 1.05), None)
    assert compare_runs(worse, [full], 0.01)["regressed"] is True
    assert compare_runs(worse, [via_snap], 0.01)["regressed"] is True
    assert compare_runs(full, [via_snap], 0.01)["regressed"] is False


def test_snapshot_of_a_gan_log_says_why_there_is_no_loss(tmp_path):
    """A GAN's two sides are not a loss (LG005): the snapshot error names them instead of only failing."""
    from lossdoc.errors import InputError

    log = tmp_path / "metrics.csv"
    log.write_text("step,epoch,train_disc_loss,train_gen_loss\n"
                   + "".join(f"{i},{i // 4},{-0.1 - i / 50:.3f},{-0.2 + i / 30:.3f}\n" for i in range(24)))
    with pytest.raises(InputError, match=r"train_disc_loss, train_gen_loss: the two sides of a GAN's game"):
        snapshot(read(str(log)))
