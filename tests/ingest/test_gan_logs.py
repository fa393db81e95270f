"""GAN training logs: read with both losses, and their game recognised (LG005), not summed into one loss."""

from __future__ import annotations

import polars as pl

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet


def _read(text: str, name: str = "train.log"):  # type: ignore[no-untyped-def]
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp)


def _series(src, metric: str) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    f = src.frame.filter((pl.col("split") == "train") & (pl.col("metric") == metric)).sort("step")
    return list(zip(f.get_column("step").to_list(), f.get_column("value").to_list(), strict=True))


def test_dcgan_tutorial_lines_epoch_and_batch_brackets() -> None:
    """PyTorch DCGAN tutorial: '[%d/%d][%d/%d]\\tLoss_D: %.4f\\tLoss_G: %.4f\\tD(x): ..' -- the two leading
    unnamed N/M are the epoch and the batch within it."""
    text = "".join(f"[{e}/5][{b}/1583]\tLoss_D: {1.5 - e / 10 - b / 10000:.4f}\tLoss_G: {0.7 + e / 5:.4f}\t"
                   f"D(x): 0.55\tD(G(z)): 0.59 / 0.41\n" for e in range(3) for b in range(0, 1583, 50))
    src = _read(text)
    d = _series(src, "loss_d")
    assert len(d) == 3 * 32 and len(_series(src, "loss_g")) == 3 * 32
    assert d[:2] == [(0, 1.5), (50, 1.495)]
    assert d[32][0] == 1583  # epoch 1, batch 0: the epoch is 1583 batches, as printed


def test_gan_log_is_not_judged_as_one_falling_loss() -> None:
    """The generator loss rises 0.7 -> 1.5 while the discriminator's falls: one LG005 note, no DV001/SI001
    on a summed 'loss'."""
    text = "".join(f"[{e}/5][{b}/500]\tLoss_D: {1.5 - e / 10 - b / 5000:.4f}\tLoss_G: {0.7 + e / 5 + b / 2500:.4f}\n"
                   for e in range(5) for b in range(0, 500, 25))
    runs, _ = run_checks(LogSet([_read(text)]), Config(), summaries=False)
    rules = {f.rule for r in runs for f in r.findings}
    assert "LG005" in rules
    assert not rules & {"DV001", "DV002", "SI001", "PL001", "UF001", "LM002"}


def test_keras_gan_lines_a_leading_number_is_the_step() -> None:
    """Keras-GAN: '%d [D loss: %f, acc.: %.2f%%] [G loss: %f]' -- the bare number before the first
    bracketed pair is the step."""
    text = "".join(f"{i} [D loss: {0.7 - i / 1000:.6f}, acc.: {50 + i % 7:.2f}%] [G loss: {0.7 + i / 500:.6f}]\n"
                   for i in range(30))
    src = _read(text)
    assert _series(src, "d_loss")[:2] == [(0, 0.7), (1, 0.699)]
    assert [s for s, _ in _series(src, "g_loss")] == list(range(30))
