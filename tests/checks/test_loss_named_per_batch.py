"""A loss named for how often it is logged ("train_loss_batch" logged on_step and on_epoch, "val_loss_batch" beside it)
is the split's loss: not a component to add to the split's other loss-like terms (Anushna99/deeploc2-fyp's Lightning
metrics.csv, where a validation 'bce_loss' beside it made "bce_loss + val_loss_batch" the validation loss, a sum
nothing minimised, and its 60% gap to the training loss went unreported)."""

from __future__ import annotations

from pathlib import Path

import lossdoc
from tests.ingest.test_reader_r15 import deeploc_metrics


def _log(tmp_path: Path) -> Path:
    p = tmp_path / "metrics.csv"
    p.write_text(deeploc_metrics(8, lambda e, s: 0.33 - 0.016 * e - 0.001 * (s // 100), lambda e: 0.20 - 0.001 * e,
                                 lambda e: 0.33 - 0.001 * e, lambda e: 0.33 - 0.016 * e))
    return p


def test_the_loss_logged_per_batch_is_the_loss_of_each_split(tmp_path: Path) -> None:
    res = lossdoc.analyze(str(_log(tmp_path)))
    summ = res.runs[0].summary
    assert summ.final_val_loss is not None and abs(summ.final_val_loss - 0.323) < 1e-9
    gap = [f for f in res.findings if f.rule == "GP001"]
    assert gap and "validation loss 0.323" in gap[0].message, [(f.rule, f.message[:90]) for f in res.findings]
    assert not any("bce_loss + " in f.message for f in res.findings)
