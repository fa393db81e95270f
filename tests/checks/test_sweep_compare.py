"""LR008/LR009: the runs of a learning-rate sweep compared with each other (real Keras runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossdoc.checks.sweep_compare import run_lr
from lossdoc.sweep import analyze_sweep

SWEEP = Path(__file__).parent / "data" / "lr_sweep"


def _by_run(report):
    return {r.run.rsplit("/", 1)[-1]: r for r in report.runs}


def test_sweep_names_the_direction_and_the_best_lr():
    runs = _by_run(analyze_sweep(SWEEP, jobs=1))
    rules = {name: {f.rule for f in r.findings} for name, r in runs.items()}
    for name in ("lr1e-05_seed0", "lr1e-05_seed1"):
        assert "LR009" in rules[name] and "LR008" not in rules[name]
        f = next(f for f in runs[name].findings if f.rule == "LR009")
        assert f.category == "lr_too_low" and "LR 0.001 ended best" in f.message and "100x lower" in f.message
        assert "run's name" in f.message  # where the LR came from is said
    for name in ("lr0.1_seed0", "lr1_seed0"):
        assert "LR008" in rules[name] and "LR009" not in rules[name]
        assert not any(f.category == "lr_too_low" for f in runs[name].findings)  # never both directions
    for name in ("lr1e-03_seed0", "lr1e-03_seed1"):
        assert not rules[name] & {"LR008", "LR009"}


def test_comparing_again_gives_each_run_one_comparison():
    """A unit already compared within itself (a TensorBoard logdir of runs) is compared again with the whole
    sweep: the second comparison replaces the first, it does not add to it."""
    from lossdoc.checks.sweep_compare import compare_lr_sweep
    from lossdoc.config import Config

    rep = analyze_sweep(SWEEP, jobs=1)
    before = {r.run: sorted(f.rule for f in r.findings) for r in rep.runs}
    compare_lr_sweep(rep.runs, Config())
    assert {r.run: sorted(f.rule for f in r.findings) for r in rep.runs} == before
    assert sum(f.rule == "LR009" for r in rep.runs for f in r.findings) == 2


def test_ignoring_the_rules_removes_them():
    runs = _by_run(analyze_sweep(SWEEP, jobs=1, ignore=["LR008", "LR009"]))
    assert not any(f.rule in ("LR008", "LR009") for r in runs.values() for f in r.findings)


@pytest.mark.parametrize(("name", "lr"), [("lr0.01_seed0", 0.01), ("lr1e-05_seed1", 1e-5), ("sgd_lr=3e-4", 3e-4),
                                          ("eta0.3_seed0", 0.3), ("depth3_lr0.1_seed0", 0.1), ("run_17", None),
                                          ("lr07", None)])
def test_lr_from_the_run_name(name, lr):
    class R:
        run = name
        config: dict = {}

        class summary:  # noqa: N801 - a stand-in with the attributes run_lr reads
            extra: dict = {}
    got, src = run_lr(R())
    assert got == (pytest.approx(lr) if lr is not None else None)
    if lr is not None:
        assert "name" in src


@pytest.mark.parametrize(("name", "lr"), [("lr0.1_seed1/mlp", 0.1), ("eta0.3_seed0/xgb", 0.3),
                                          ("adam/lr1e-04/seed0/train", 1e-4), ("lr0.01/lr0.1_seed0/mlp", 0.1),
                                          ("runs/lr0.1_seed0/train.log:mlp", 0.1), ("sgd_digits/seed0/mlp", None)])
def test_lr_from_the_nearest_component_of_the_run_name(name, lr):
    class R:
        run = name
        config: dict = {}

        class summary:  # noqa: N801 - a stand-in with the attributes run_lr reads
            extra: dict = {}
    got, _ = run_lr(R())
    assert got == (pytest.approx(lr) if lr is not None else None)


def test_lr_from_the_directory_of_a_file_with_its_own_name(tmp_path):
    """Each LR's directory holds one log with a name of its own (a hash): the LR comes from the
    directory, and the runs are still one group (the differing file names are not a factor)."""
    for d in ("lr1e-05_seed0", "lr1e-05_seed1", "lr1e-03_seed0", "lr1e-03_seed1", "lr0.1_seed0", "lr1_seed0"):
        (tmp_path / d).mkdir()
        (tmp_path / d / f"{abs(hash(d)) % 10**6:06d}x.csv").write_text((SWEEP / d / "training.log").read_text())
    rep = analyze_sweep(tmp_path, jobs=1)
    by_dir = {Path(r.source).parent.name: r for r in rep.runs}
    for d, rule in (("lr1e-05_seed0", "LR009"), ("lr1e-05_seed1", "LR009"), ("lr0.1_seed0", "LR008"),
                    ("lr1_seed0", "LR008")):
        f = next(f for f in by_dir[d].findings if f.rule == rule)
        assert "ended best" in f.message and f"path '{d}/" in f.message
    for d in ("lr1e-03_seed0", "lr1e-03_seed1"):
        assert not {f.rule for f in by_dir[d].findings} & {"LR008", "LR009"}


def test_runs_of_other_configurations_are_grouped_apart(tmp_path):
    """depth2/ and depth8/ each hold an LR sweep: each is compared within itself, its best LR its own."""
    for depth in ("depth2", "depth8"):
        for d in ("lr1e-05_seed0", "lr1e-03_seed0", "lr1_seed0"):
            (tmp_path / depth / d).mkdir(parents=True)
            (tmp_path / depth / d / "training.log").write_text((SWEEP / d / "training.log").read_text())
    rep = analyze_sweep(tmp_path, jobs=1)
    msgs = [f.message for r in rep.runs for f in r.findings if f.rule in ("LR008", "LR009")]
    assert len(msgs) == 4 and all("mean over 1 run(s)" in m for m in msgs)


def test_a_run_worse_than_untrained_is_divergence_and_told_to_lower_the_lr(tmp_path):
    """Keras LR 1 sits at 14.6 from its first epoch (no rise in its own log: here its first epoch, 14.15 in
    the real log, is set to the 14.55 it then stays at) while the runs that learned started at 2.6 or lower:
    DV003 calls it a blow-up, advises a lower LR, and its flat line is no longer reported as a plateau or
    underfitting; LR 0.1, whose own log shows the rise (DV001), gets no DV003."""
    import shutil

    sweep = tmp_path / "lr_sweep"
    shutil.copytree(SWEEP, sweep)
    log = sweep / "lr1_seed0" / "training.log"
    lines = log.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("14.147089004516602", "14.553730010986328")
    log.write_text("".join(lines))
    runs = _by_run(analyze_sweep(sweep, jobs=1))
    f = next(f for f in runs["lr1_seed0"].findings if f.rule == "DV003")
    assert f.category == "divergence" and str(f.severity) == "error"
    assert "worse than an untrained model" in f.message and "lr1e-05_seed0 started" in f.message
    assert "lower the learning rate" in f.recommendation and "raise" not in f.recommendation
    assert f.evidence.statistic == pytest.approx(14.55 / 2.626, rel=0.01) and f.evidence.threshold == 1.5
    assert not any(g.category in ("plateau", "underfitting") for g in runs["lr1_seed0"].findings)
    assert any(g.rule == "DV001" for g in runs["lr0.1_seed0"].findings)
    assert not any(g.rule == "DV003" for g in runs["lr0.1_seed0"].findings)
    for name in ("lr1e-03_seed0", "lr1e-03_seed1", "lr1e-05_seed0", "lr1e-05_seed1"):
        assert not any(g.category == "divergence" for g in runs[name].findings)


def test_a_run_whose_own_log_ended_above_its_start_needs_no_sweep():
    """The real LR-1 log went 14.15 -> 14.55 after its first epoch and stayed there: its own log shows a loss
    that ended above where it started (DV001), so DV003 adds nothing and no plateau or underfitting is left."""
    runs = _by_run(analyze_sweep(SWEEP, jobs=1))
    fs = runs["lr1_seed0"].findings
    dv = next(f for f in fs if f.rule == "DV001")
    assert "ended above where it started" in dv.message and str(dv.severity) == "error"
    assert not any(f.rule == "DV003" for f in fs)
    assert not any(f.category in ("plateau", "underfitting") for f in fs)


def _keras_csv(path: Path, train: list[float], val: list[float]) -> None:
    path.mkdir(parents=True)
    rows = "".join(f"{i},{t},{v}\n" for i, (t, v) in enumerate(zip(train, val, strict=True)))
    (path / "training.log").write_text("epoch,loss,val_loss\n" + rows)


def _curve(a: float, b: float, n: int = 20) -> list[float]:
    return [round(a + (b - a) * (1 - 0.8 ** i) / (1 - 0.8 ** (n - 1)), 4) for i in range(n)]


def test_underfitting_is_judged_against_a_run_that_also_validates_better(tmp_path):
    """A run that memorised a small training set (train 0.3, val 3.5) is no reference: the full-data runs
    are not underfitting next to it. The slow run covered 29% of the way the best full-data run went, whose
    validation loss also ended lower: it underfits, and the message names that run."""
    _keras_csv(tmp_path / "small_data", _curve(2.3, 0.3), _curve(2.3, 3.5))
    _keras_csv(tmp_path / "full_data_a", _curve(2.3, 2.0), _curve(2.3, 2.1))
    _keras_csv(tmp_path / "full_data_b", _curve(2.3, 1.95), _curve(2.3, 2.05))
    _keras_csv(tmp_path / "slow", _curve(2.3, 2.2), _curve(2.3, 2.25))
    runs = {r.run.split("/")[0]: r for r in analyze_sweep(tmp_path, jobs=1, select=["UF003"]).runs}
    assert [r for r, x in runs.items() if x.findings] == ["slow"]
    f = runs["slow"].findings[0]
    assert "full_data_b reached" in f.message and "validation loss also ended lower" in f.message
    assert f.evidence.statistic == pytest.approx(0.1 / 0.35, abs=0.03)


def test_stages_that_start_from_another_runs_weights_are_not_underfitting_next_to_it(tmp_path):
    """A pretraining run (2.9 -> 0.17) and fine-tuning folds that start from its weights on other data (1.0 ->
    0.7, Skye412/CrackMorphFormer read with --split-runs): a fold began past half of the pretraining run's
    drop, so how far it "came" is not comparable with it, and it is not called underfitting next to it. A run
    that started where the best one did and came a short way still is."""
    _keras_csv(tmp_path / "pretrain", _curve(2.9, 0.17), _curve(2.9, 0.2))
    for k in (1, 2, 3):
        _keras_csv(tmp_path / f"fold{k}", _curve(1.0, 0.7 + 0.01 * k), _curve(1.0, 0.75))
    _keras_csv(tmp_path / "slow", _curve(2.9, 2.6), _curve(2.9, 2.65))
    runs = {r.run.split("/")[0]: r for r in analyze_sweep(tmp_path, jobs=1, select=["UF003"]).runs}
    assert [r for r, x in runs.items() if x.findings] == ["slow"]


def test_a_run_with_an_lr_named_too_high_can_still_underfit(tmp_path):
    """A run that overshot in its first epochs (2.3 -> 3.4) and was then left near 2.2 gets LR006 (the LR too
    high, a cause) and is still compared: it covered 5% of the way the best run went, so UF003 says it
    underfits. Only a run that blew up (divergence, non-finite) is left out of the comparison."""
    for name, end in (("good_a", 0.2), ("good_b", 0.25), ("mid", 0.6)):
        _keras_csv(tmp_path / name, _curve(2.3, end), _curve(2.3, end + 0.2))
    overshot = [2.3, 3.2, 3.4, 3.1, 2.6, 2.35] + [round(2.25 - 0.003 * i, 4) for i in range(14)]
    _keras_csv(tmp_path / "overshot", overshot, [round(v + 0.05, 4) for v in overshot])
    runs = {r.run.split("/")[0]: r for r in analyze_sweep(tmp_path, jobs=1, select=["UF003", "LR006"]).runs}
    rules = {f.rule for f in runs["overshot"].findings if str(f.severity) == "warning"}
    assert rules == {"LR006", "UF003"}
    assert not any(f.rule == "UF003" for name in ("good_a", "good_b") for f in runs[name].findings)


def test_runs_of_another_trainer_are_not_the_reference(tmp_path):
    """A regression MLP (sklearn log) flat at 15000 beside Keras classifiers that learned from 2.6: another
    format, another task, so it is not called worse than untrained."""
    for d in ("lr1e-05_seed0", "lr1e-03_seed0", "lr1e-03_seed1", "lr1_seed0"):
        (tmp_path / d).mkdir()
        # LR 1 flat from its first epoch (as in the DV003 test above), so only the sweep shows its blow-up
        (tmp_path / d / "training.log").write_text(
            (SWEEP / d / "training.log").read_text().replace("14.147089004516602", "14.553730010986328"))
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "mlp.log").write_text(
        "".join(f"Iteration {i}, loss = {15000 - 10 * i + (i % 3)}.0\n" for i in range(1, 31)))
    runs = {Path(r.source).parent.name: r for r in analyze_sweep(tmp_path, jobs=1).runs}
    assert not any(f.rule == "DV003" for f in runs["regression"].findings)
    assert any(f.rule == "DV003" for f in runs["lr1_seed0"].findings)
