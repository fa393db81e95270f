"""DeepXDE's loss.dat (``dde.saveplot``; lossdoc/ingest/formats/deepxde.py cites ``save_loss_history``): the header
``# step, loss_train, loss_test, metrics_test`` over ``np.savetxt`` rows. Batch 16's collectors found three PINN
repositories' loss.dat files that no reader recognised."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lossdoc
from lossdoc.ingest import from_bytes, read_input

HEADER = "step, loss_train, loss_test, metrics_test"


def _dat(n_terms: int, metric: bool, rows: int = 11) -> bytes:
    steps = np.arange(rows) * 1000.0
    train = np.stack([(k + 1.0) / (1 + steps / 1000) for k in range(n_terms)], 1)
    test = train * 1.5
    cols = [steps[:, None], train, test] + ([0.3 / (1 + steps[:, None] / 1000)] if metric else [])
    buf = io.StringIO()
    np.savetxt(buf, np.hstack(cols), header=HEADER)
    return buf.getvalue().encode()


def _read(data: bytes):
    inp = from_bytes(data, name="loss.dat")
    inp.run_name = "r"
    return read_input(inp, None)


def _vals(src, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return f.get_column("value").to_list()


@pytest.mark.parametrize(("n_terms", "metric"), [(3, True), (2, False), (1, True)])
def test_the_losses_are_the_sums_of_their_terms(n_terms: int, metric: bool) -> None:
    src = _read(_dat(n_terms, metric))
    assert src.format == "deepxde"
    total = sum(k + 1.0 for k in range(n_terms))
    assert _vals(src, "train", "loss")[0] == pytest.approx(total)
    assert _vals(src, "test", "loss")[0] == pytest.approx(1.5 * total)
    assert src.frame.filter(pl.col("metric") == "loss").get_column("step").max() == 10_000
    assert bool(_vals(src, "test", "metric_1")) == metric
    if n_terms > 1:
        assert _vals(src, "train", "loss_term_2")[0] == pytest.approx(2.0)
    assert any(f"{n_terms} loss term(s)" in n.message for n in src.notes)


def test_a_pinn_run_is_diagnosed_on_its_summed_loss(tmp_path: Path) -> None:
    p = tmp_path / "loss.dat"
    p.write_bytes(_dat(3, True, rows=30))
    res = lossdoc.analyze(str(p))
    s = res.runs[0].summary
    assert s.final_train_step == 29_000 and s.final_train_loss == pytest.approx(6.0 / 30)
    assert s.final_val_loss is None  # DeepXDE's test points are a test split, judged as the held-out loss
    # a steadily falling loss on both point sets: nothing to warn about
    assert not [f.rule for f in res.findings if f.severity.name in ("WARNING", "ERROR")]
