"""Log shapes the reviewers of public-log batch 4 found read wrongly (their "READER" notes), each as a minimal
fixture: what lossdoc must read, and the note it gives where it had to decide."""

from __future__ import annotations

import polars as pl

from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str, run: str | None = None) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    if run is not None:
        f = f.filter(pl.col("run") == run)
    return [round(v, 4) for v in f.sort("step").get_column("value").to_list()]


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


# ------------------------------------------------------- the loss among several loss-named columns
# A group-DRO trainer's log: per-group losses, the robust loss it optimises ('avg_actual_loss'), the plain
# average ('avg_per_sample_loss') and the weight-decay term ('reg_loss'). None is named plainly 'loss':
# summed as the parts of one loss, the flat regulariser (0.42) hides the objective (0.29 -> 0.01).

DRO = """\
epoch,batch,avg_loss_group:0,avg_loss_group:1,avg_actual_loss,avg_per_sample_loss,avg_acc,reg_loss
0,49,0.14,0.67,0.2894,0.2894,0.88,0.4216
0,74,0.04,0.57,0.1166,0.1166,0.97,0.4216
1,49,0.03,0.60,0.0500,0.0499,0.98,0.4217
1,74,0.02,0.40,0.0300,0.0300,0.99,0.4217
2,49,0.01,0.20,0.0100,0.0100,1.00,0.4218
2,74,0.01,0.10,0.0090,0.0090,1.00,0.4218
"""


def test_the_averaged_loss_among_loss_named_parts_is_the_loss() -> None:
    src = read(DRO, "train.csv")
    assert src.format == "csv"
    assert values(src, "train", "loss") == [0.2894, 0.1166, 0.05, 0.03, 0.01, 0.009]
    # the regulariser and the plain average stay series of their own
    assert values(src, "train", "reg_loss")[0] == 0.4216
    assert ("train", "avg_per_sample_loss") in series(src)
    text = " ".join(n.message for n in src.notes)
    assert "'avg_actual_loss'" in text and "read as the train loss" in text


def test_loss_named_parts_without_an_aggregate_column_are_left_as_they_were() -> None:
    src = read("step,box_loss,cls_loss\n1,0.5,0.9\n2,0.4,0.8\n3,0.3,0.7\n", "train.csv")
    assert ("train", "loss") not in series(src)
    assert {("train", "box_loss"), ("train", "cls_loss")} <= series(src)


# ------------------------------------------------------- lines that are each a whole Python list
# f.write(str(losses) + "\n") once per list: per-batch training losses of a run, then its per-epoch accuracy
# (40-100), then the next run's. Joined in order they made one "training loss" of runs and accuracies mixed.

def test_whole_lists_of_different_lengths_are_not_joined_into_one_curve() -> None:
    import pytest

    from lossdoc.errors import ParseError

    batches = ", ".join(f"{0.7 - 0.01 * i:.3f}" for i in range(12))
    accuracy = ", ".join(f"{60 + 5 * i:.1f}" for i in range(4))
    text = "[]\n" + f"[{batches}]\n[{accuracy}]\n[{batches}]\n[{accuracy}]\n"
    with pytest.raises(ParseError, match="whole list, of 4 to 12 values") as err:
        read(text, "train_loss.txt")
    assert err.value.line == 2


def test_lists_of_one_length_per_line_still_join_up() -> None:
    # one list of per-batch losses per epoch (the same batches each epoch; the last epoch may stop early)
    epochs = [[round(1.0 - 0.1 * e - 0.01 * b, 3) for b in range(6)] for e in range(3)] + [[0.6, 0.59]]
    src = read("".join(f"{v}\n" for v in epochs), "train_loss.txt")
    assert len(values(src, "train", "loss")) == 20
    # and one list wrapped over several lines
    src = read("[0.9, 0.8, 0.7, 0.65, 0.6,\n 0.55, 0.5, 0.45, 0.43, 0.41,\n 0.4]\n", "train_loss.txt")
    assert values(src, "train", "loss") == [0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.43, 0.41, 0.4]


# ------------------------------------------------------- one metric for several settings, side by side
# An autoencoder trained with latent sizes 1..3 at once, one column each: six models, not six parts of a
# loss (summed, their sum is no model's curve).

TAGGED = "Epoch,Loss (1D),Loss (2D),Loss (3D)\n" + "".join(
    f"{e},{0.044 - 0.004 * e:.4f},{0.043 - 0.003 * e:.4f},{0.043 - 0.002 * e:.4f}\n" for e in range(5))


def test_one_metric_for_several_bracketed_settings_is_a_run_per_setting() -> None:
    src = read(TAGGED, "training_loss.csv")
    assert src.format == "csv"
    assert sorted(src.frame.get_column("run").unique()) == ["r (1D)", "r (2D)", "r (3D)"]
    assert values(src, "train", "loss", run="r (2D)") == [0.043, 0.04, 0.037, 0.034, 0.031]
    assert series(src) == {("train", "loss")}
    assert any("read as 3 runs side by side" in n.message for n in src.notes)


def test_bracketed_words_are_parts_not_settings() -> None:
    text = "step,Loss (KL),Loss (recon)\n1,0.5,0.9\n2,0.4,0.8\n3,0.3,0.7\n"
    src = read(text, "train.csv")
    assert src.frame.get_column("run").unique().to_list() == ["r"]
    assert len(series(src)) == 2


# ------------------------------------------------------- counters are not training metrics
# A GPT loop's CSV with the tokens seen so far beside the loss: read as a training series, a count that
# never stops rising.

def test_a_column_counting_tokens_is_not_a_training_series() -> None:
    text = "step,tokens,loss,throughput\n" + "".join(
        f"{s},{3200 * s},{11.0 - 0.5 * s},{745.6 + s}\n" for s in range(1, 6))
    src = read(text, "train.csv")
    assert values(src, "other", "tokens") == [3200, 6400, 9600, 12800, 16000]
    assert ("train", "tokens") not in series(src)
    assert ("train", "throughput") in series(src)  # a rate stays (the canonical 'throughput')
    assert any("'tokens' count things" in n.message for n in src.notes)


def test_a_count_named_column_with_fractions_stays() -> None:
    src = read("step,loss,sample_count\n1,0.5,0.5\n2,0.4,1.5\n3,0.3,2.5\n", "train.csv")
    assert ("train", "sample_count") in series(src)


def test_trl_num_tokens_is_a_counter_like_num_input_tokens_seen() -> None:
    import json

    hist = [{"loss": 0.1 * i, "num_tokens": 5000.0 * i, "reward": 1.5, "step": i, "epoch": 0.01 * i}
            for i in range(1, 5)]
    src = read(json.dumps({"log_history": hist, "global_step": 4}), "trainer_state.json")
    assert src.format == "hf-trainer"
    assert not any("token" in m for _, m in series(src))


# ------------------------------------------------------- a phase label beside an epoch counted within phases
# A progressive GAN's log: resolution 8, 16, 32, each trained 3 epochs counted from 1 again.

PROGRESSIVE = "resolution,epoch,loss\n" + "".join(
    f"{r},{e},{20.0 / (e + i)}\n" for i, r in enumerate((8, 16, 32)) for e in (1, 2, 3))


def test_a_phase_label_is_not_a_training_series() -> None:
    src = read(PROGRESSIVE, "training_loss.csv")
    assert src.format == "keras-csv"
    assert series(src) == {("train", "loss")}
    assert len(values(src, "train", "loss")) == 9
    assert any("'resolution': whole numbers that change only where 'epoch' goes back" in n.message
               for n in src.notes)


def test_a_whole_number_metric_that_changes_within_phases_stays_a_series() -> None:
    text = "resolution,epoch,loss,fid\n" + "".join(
        f"{r},{e},{20.0 / (e + i)},{90 - 10 * i - e}\n" for i, r in enumerate((8, 16)) for e in (1, 2, 3))
    src = read(text, "training_loss.csv")
    assert ("train", "fid") in series(src)
    assert ("train", "resolution") not in series(src)


# ------------------------------------------------------- an online RL trainer's loss
# TRL GRPO: 'loss' sits at ~0 by construction (advantages centred, kl 0 while the policy has not moved);
# judged as a training loss it is a plateau from the first step. The reward is the run's signal.

def _state(extra: dict[str, float]) -> str:
    import json

    hist = [{"loss": 1e-9 * (i % 2), "grad_norm": 0.1, "learning_rate": 1e-6, "step": i, "epoch": 0.01 * i,
             **extra} for i in range(1, 6)]
    return json.dumps({"log_history": hist, "global_step": 5})


def test_a_grpo_policy_loss_is_not_the_training_loss() -> None:
    src = read(_state({"reward": 1.9, "kl": 0.0}), "trainer_state.json")
    assert ("train", "loss") not in series(src)
    assert len(values(src, "other", "policy_loss")) == 5
    assert ("train", "reward") in series(src)
    assert any("online RL trainer" in n.message for n in src.notes)


def test_a_dpo_loss_stays_the_training_loss() -> None:
    src = read(_state({"rewards/chosen": 0.2, "rewards/margins": 0.1}), "trainer_state.json")
    assert len(values(src, "train", "loss")) == 5


def test_the_averaged_loss_among_loss_named_keys_of_a_jsonl_log_is_the_loss() -> None:
    import json

    rows = [{"step": s, "mean_loss": 1.0 / s, "kl_loss": 0.5, "recon_loss": 1.0 / s - 0.5} for s in range(1, 5)]
    src = read("".join(json.dumps(r) + "\n" for r in rows), "metrics.jsonl")
    assert src.format == "jsonl"
    assert values(src, "train", "loss") == [1.0, 0.5, 0.3333, 0.25]
    assert {("train", "kl_loss"), ("train", "recon_loss")} <= series(src)
    assert any("'mean_loss'" in n.message and "read as the train loss" in n.message for n in src.notes)


def test_whole_lists_of_one_length_that_each_start_again_are_not_joined() -> None:
    import pytest

    from lossdoc.errors import ParseError

    # f.write(str(train_losses) + "\n" + str(val_losses)): two whole curves of 8 epochs
    train = [round(2.3 * 0.8 ** e, 4) for e in range(8)]
    val = [round(2.2 * 0.85 ** e + 0.05, 4) for e in range(8)]
    with pytest.raises(ParseError, match="each starting again where the first started"):
        read(f"{train}\n{val}\n", "losses.txt")


# ------------------------------------------------------- Keras's key names on one hand-rolled line
# print(f"Epoch {e}/{n} - loss: {l:.4f} - accuracy: {a:.4f} - val_loss: {vl:.4f}"): the Keras progress bar's end line
# copied by scripts that train without Keras. 'loss' beside 'val_loss' is the training loss; it was read as a second
# validation series (the line names one split, val, so every key without its own split took it).
KERAS_LINE = """\
Epoch 1/5 - loss: 2.3012 - accuracy: 0.5012 - val_loss: 2.2950
Epoch 2/5 - loss: 1.9020 - accuracy: 0.6020 - val_loss: 1.9410
Epoch 3/5 - loss: 1.6110 - accuracy: 0.6810 - val_loss: 1.7010
Epoch 4/5 - loss: 1.5000 - accuracy: 0.7030 - val_loss: 1.6000
Epoch 5/5 - loss: 1.4000 - accuracy: 0.7210 - val_loss: 1.5500
"""


def test_a_key_beside_the_same_metric_with_a_split_is_the_training_value() -> None:
    src = read(KERAS_LINE, "run.log")
    assert values(src, "train", "loss") == [2.3012, 1.902, 1.611, 1.5, 1.4]
    assert values(src, "val", "loss") == [2.295, 1.941, 1.701, 1.6, 1.55]
    assert values(src, "train", "accuracy")[0] == 0.5012


def test_keys_on_a_line_that_names_only_validation_stay_validation() -> None:
    # "Val Loss: 0.30 Acc: 0.90": the accuracy is the validation one (no metric is named twice)
    src = read("Epoch 1 Val Loss: 0.30 Acc: 0.90\nEpoch 2 Val Loss: 0.25 Acc: 0.92\nEpoch 3 Val Loss: 0.22 Acc: 0.93\n",
               "run.log")
    assert values(src, "val", "accuracy") == [0.9, 0.92, 0.93]
    assert ("train", "loss") not in series(src)
