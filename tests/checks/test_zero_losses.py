"""A loss term logged as exactly 0 at every point was not computed (rules/LG006.toml): it is left out of the
split's loss, and a split whose every term is 0 has no loss to judge -- no "stopped improving at 0" (PL002) or
"validation 100% below training" (GP002) about a validation that never ran."""

from __future__ import annotations

import math
from pathlib import Path

import lossdoc

HEAD = "epoch,train/box_loss,train/cls_loss,train/dfl_loss,metrics/mAP50(B),val/box_loss,val/cls_loss,val/dfl_loss\n"


def _log(tmp_path: Path, val: str) -> Path:
    rows = [(4.63, 5.24, 5.31), (3.80, 4.10, 4.20), (3.20, 3.30, 3.50), (2.80, 2.70, 3.00), (2.50, 2.30, 2.60),
            (2.21, 1.89, 2.27), (2.05, 1.70, 2.10), (1.95, 1.60, 2.02)]
    p = tmp_path / "results.csv"
    p.write_text(HEAD + "".join(f"{e},{b},{c},{d},0.1,{val}\n" for e, (b, c, d) in enumerate(rows, 1)))
    return p


def test_a_validation_that_never_ran_is_not_judged(tmp_path: Path) -> None:
    res = lossdoc.analyze(str(_log(tmp_path, "0,0,0")))
    val = [f for f in res.findings if f.split == "val"]
    assert [f.rule for f in val] == ["LG006"], [(f.rule, f.message[:80]) for f in val]
    assert not any(f.category == "train_val_gap" for f in res.findings)
    assert res.runs[0].summary.best_val_loss is None  # no validation figure made up from zeros


def test_the_terms_that_were_computed_are_the_loss(tmp_path: Path) -> None:
    res = lossdoc.analyze(str(_log(tmp_path, "0,1.5,0")))
    note = next(f for f in res.findings if f.rule == "LG006")
    assert "val/box_loss, val/dfl_loss" in note.message and "the val loss judged is val/cls_loss" in note.message


def test_a_component_that_overfits_beside_a_zero_term_is_still_found(tmp_path: Path) -> None:
    # One class: train/val cls terms are 0 throughout and left out of the sum. The validation box term rises
    # from epoch 8 while the objectness term's fall keeps the sum falling: OF001 judges each term of the sum,
    # and the terms it judges must be the ones summed (with the zero term among them the sum's name did not
    # match and the box term went unjudged)
    rows = ["epoch,train/box_loss,train/obj_loss,train/cls_loss,val/box_loss,val/obj_loss,val/cls_loss"]
    for e in range(30):
        tb, to = 0.10 * math.exp(-e / 10) + 0.02, 0.05 * math.exp(-e / 10) + 0.01
        vb = 0.030 + 0.0008 * (e - 8) if e >= 8 else 0.030 + 0.004 * (8 - e)
        rows.append(f"{e},{tb:.5f},{to:.5f},0,{vb:.5f},{0.08 - 0.0018 * e:.5f},0")
    p = tmp_path / "results.csv"
    p.write_text("\n".join(rows) + "\n")
    res = lossdoc.analyze(str(p), format="yolo")
    of = [f for f in res.findings if f.rule == "OF001"]
    assert len(of) == 1 and of[0].message.startswith("val/box_loss was lowest at step 8 (0.03 as logged)"), \
        [(f.rule, f.message[:80]) for f in res.findings]
    assert "(the summed validation loss val/box_loss + val/obj_loss did not rise)" in of[0].message


def test_a_validation_that_ran_only_at_the_end_is_not_a_best_of_zero(tmp_path: Path) -> None:
    # nicleejy/MLSingapore's results.csv: val=False until the last epoch, so every val/* loss is 0 at epochs 1-7
    # and computed at epoch 8 only. The zeros are no loss the model reached: no "best val 0 at step 1", no
    # "validation 100% below training" (GP002); LG006 says which points were left out.
    rows = [(4.63, 5.24, 5.31), (3.80, 4.10, 4.20), (3.20, 3.30, 3.50), (2.80, 2.70, 3.00), (2.50, 2.30, 2.60),
            (2.21, 1.89, 2.27), (2.05, 1.70, 2.10), (1.95, 1.60, 2.02)]
    p = tmp_path / "results.csv"
    p.write_text(HEAD + "".join(f"{e},{b},{c},{d},0.1,{'0,0,0' if e < 8 else '2.1,1.7,2.2'}\n"
                                for e, (b, c, d) in enumerate(rows, 1)))
    res = lossdoc.analyze(str(p))
    s = res.runs[0].summary
    assert s.best_val_loss == 6.0 and s.best_val_step == 8, (s.best_val_loss, s.best_val_step)
    assert not any(f.rule == "GP002" for f in res.findings)
    note = next(f for f in res.findings if f.rule == "LG006")
    assert "exactly 0 at the first 7 evaluation(s) (steps 1-7)" in note.message and note.end_step == 7
    assert "were 0 until step 8" in note.recommendation


def test_a_loss_rounded_to_zero_at_the_end_stays_as_logged(tmp_path: Path) -> None:
    # a converging fit printed with 2 decimals reaches 0.00: that 0 is the loss as logged, not a placeholder
    p = tmp_path / "loss.log"
    vals = [1.2, 0.6, 0.3, 0.15, 0.08, 0.04, 0.02, 0.01, 0.0, 0.0]
    p.write_text("".join(f"{i + 1}: {v:.2f}\n" for i, v in enumerate(vals)))
    res = lossdoc.analyze(str(p))
    assert res.runs[0].summary.best_train_loss == 0.0
    assert not any(f.rule == "LG006" for f in res.findings)
