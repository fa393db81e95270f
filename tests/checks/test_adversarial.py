"""Which losses are the two sides of a GAN's game (never added into one loss), and which are not."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.checks.series import Series, adversarial_losses, adversarial_role, resolve_loss


def _s(metric: str, name: str | None = None, split: str = "train") -> Series:
    return Series(split, metric, name or metric, np.arange(5, dtype=np.int64), np.linspace(1.0, 0.5, 5))


@pytest.mark.parametrize(("metric", "name", "role"), [
    ("disc_loss", "train_disc_loss", "disc"), ("gen_loss", "train_gen_loss", "gen"),
    ("loss_d", "Loss_D", "disc"), ("average_loss_g", "Average Loss_G", "gen"),
    ("err_d", "errD", "disc"), ("lossg", "lossG", "gen"), ("d_a_loss", "D_A", "disc"),
    ("g_gan_loss", "G_GAN", "gen"), ("critic_loss", "critic_loss", "critic"),
    ("adversarial_loss", "adversarial_loss", "adv"), ("discriminator_loss", "Discriminator Loss", "disc"),
    # not a side of the game: no such whole name part, a reconstruction term, both sides, not a loss
    ("general_loss", "general_loss", None), ("gender_loss", "gender_loss", None), ("dice_loss", "dice_loss", None),
    ("g_l1_loss", "G_L1", None), ("cycle_a_loss", "cycle_A", None), ("d_g_z", "D(G(z))", None),
    ("d_x", "D(x)", None), ("grad_norm", "grad_norm", None), ("loss", "loss", None),
])
def test_role_from_whole_name_parts(metric: str, name: str, role: str | None) -> None:
    assert adversarial_role(metric, name) == role


def test_a_gan_pair_is_not_summed_into_the_loss() -> None:
    series = {("train", m): _s(m, n) for m, n in (("disc_loss", "train_disc_loss"), ("gen_loss", "train_gen_loss"))}
    assert [s.metric for s in adversarial_losses(series, "train")] == ["disc_loss", "gen_loss"]
    assert resolve_loss(series, "train") is None


def test_other_components_beside_the_pair_are_the_loss() -> None:
    names = {"d_a_loss": "D_A", "g_a_loss": "G_A", "cycle_a_loss": "cycle_A", "idt_a_loss": "idt_A"}
    series = {("train", m): _s(m, n) for m, n in names.items()}
    loss = resolve_loss(series, "train")
    assert loss is not None and loss.name == "cycle_A + idt_A"
    np.testing.assert_allclose(loss.values, 2 * np.linspace(1.0, 0.5, 5))


@pytest.mark.parametrize("metrics", [
    ("d_loss", "task_loss"),           # a distillation loss beside the task loss: one "side" only
    ("actor_loss", "critic_loss"),     # actor-critic RL: a critic without a generator
    ("critic_loss", "adv_loss"),       # ... nor with an advantage term
    ("disc_loss", "general_loss"),     # "gen" inside a word
])
def test_one_side_alone_is_not_a_game(metrics: tuple[str, ...]) -> None:
    series = {("train", m): _s(m) for m in metrics}
    assert adversarial_losses(series, "train") == []
    loss = resolve_loss(series, "train")
    assert loss is not None and loss.name == " + ".join(metrics)


def test_a_logged_total_loss_stays_the_loss() -> None:
    series = {("train", m): _s(m) for m in ("loss", "d_loss", "g_loss")}
    assert resolve_loss(series, "train").metric == "loss"
    assert len(adversarial_losses(series, "train")) == 2


def test_the_pair_is_per_split() -> None:
    series = {("train", "d_loss"): _s("d_loss"), ("val", "g_loss"): _s("g_loss", split="val")}
    assert adversarial_losses(series, "train") == [] and adversarial_losses(series, "val") == []


def test_beside_the_game_only_reconstruction_terms_are_the_loss() -> None:
    # StyleGAN-style penalties and scores are not a loss to minimise; SRGAN's content loss is
    style = {("train", m): _s(m) for m in ("loss_d_loss", "loss_g_loss", "loss_r1_penalty", "loss_scores_fake")}
    assert resolve_loss(style, "train") is None
    sr = {("train", m): _s(m) for m in ("d_loss", "adversarial_loss", "content_loss")}
    assert resolve_loss(sr, "train").metric == "content_loss"
    # ... and a val split without a game keeps its own loss
    sr[("val", "val_loss")] = _s("val_loss", split="val")
    assert resolve_loss(sr, "val").metric == "val_loss"


def test_a_vocoder_gan_keeps_its_mel_loss() -> None:
    """HiFi-GAN: loss_disc_all / loss_gen_all are the game; loss_mel and loss_fm are minimised."""
    series = {("train", m): _s(m) for m in ("loss_disc_all", "loss_gen_all", "loss_fm", "loss_mel")}
    assert [s.metric for s in adversarial_losses(series, "train")] == ["loss_disc_all", "loss_gen_all"]
    assert resolve_loss(series, "train").name == "loss_fm + loss_mel"


def test_a_discriminator_that_wins_is_no_training_loss_blow_up(tmp_path) -> None:
    """DV004 judges the game, not the training loss: a pix2pix run whose discriminator wins keeps the findings on its
    reconstruction loss and its validation loss (a training-loss divergence would drop the run's gap findings)."""
    import lossdoc

    rows = ["epoch,D_loss,G_loss,l1_loss,val_l1_loss"]
    for e in range(12):
        rows.append(f"{e},{0.7 * 0.75 ** e:.4f},{0.7 * 1.12 ** e:.4f},{0.5 * 0.9 ** e:.4f},{0.5 + 0.02 * e:.4f}")
    p = tmp_path / "history.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fs = [f for r in lossdoc.analyze(str(p)).runs for f in r.findings]
    assert [f.rule for f in fs if f.category == "divergence"] == ["DV004"]
    assert any(f.category in ("overfitting", "train_val_gap") for f in fs), [(f.rule, f.message[:80]) for f in fs]
