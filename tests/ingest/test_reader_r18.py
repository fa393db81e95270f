"""Reader fixes of round 18: each shape as a few lines in the layout of the public log it came from (source named
above each test; the values here are made up), what lossdoc must read."""

from __future__ import annotations

from tests.ingest.test_reader_notes_dev import read, steps, values

# ------------------------------------------------------------------ full-width punctuation
# taishan1994/pytorch_bilstm_crf_chinese_ner logs/bilstm_crf.log (batch 18's unreadable list): Python logging lines
# whose pairs use the full-width colon, '... - train - 93 - 【train】 epoch：1 step:120/7200 loss：3.215', with a
# '【dev】 loss：41.2 precision：0.71 ...' line every 100 steps. lossdoc said "unrecognised log format".


def _fullwidth(colon: str = "：") -> str:
    out = []
    for step in range(1, 401):
        out.append(f"2021-08-01 10:00:{step % 60:02d},123 - INFO - main.py - train - 93 - 【train】 "
                   f"epoch{colon}{1 + step // 100} step:{step}/400 loss{colon}{5.0 / (1 + step / 50):.6f}")
        if step % 100 == 0:
            out.append(f"2021-08-01 10:01:00,000 - INFO - main.py - train - 99 - 【dev】 loss{colon}"
                       f"{40.0 / (1 + step / 100):.6f} precision{colon}0.7100 recall{colon}0.6800")
    return "\n".join(out) + "\n"


def test_full_width_colons_are_read_as_colons() -> None:
    src = read(_fullwidth(), "bilstm_crf.log")
    assert src.format == "text"
    train = values(src, "train", "loss")
    assert len(train) == 400 and train[0] == round(5.0 / (1 + 1 / 50), 4)
    # the 【dev】 lines are the validation split, not more training points
    assert values(src, "val", "loss") == [round(40.0 / (1 + s / 100), 4) for s in (100, 200, 300, 400)]
    assert len(values(src, "val", "precision")) == 4


def test_the_same_log_with_ascii_colons_reads_the_same() -> None:
    wide, ascii_ = read(_fullwidth(), "a.log"), read(_fullwidth(":"), "b.log")
    for split in ("train", "val"):
        assert values(wide, split, "loss") == values(ascii_, split, "loss")


# ------------------------------------------------------------------ KAIR's train.log: a global iter with thousands separators
# NKDuyennn/SwinIR and SinaLYZ/HSIDNCNN train.log (batch 18, dev): KAIR's '<epoch:  3, iter:  20,200, lr:1.000e-04>
# G_loss: 3.467e-02' lines. The hand-rolled text reader took '20,200' for 20 and 200 and 'iter' for a per-epoch counter:
# steps up to 5.7 million, the run split at every new epoch, only the last part analysed.


def _kair(resume_at: int | None = None) -> str:
    out = ["21-07-01 10:00:00.000 :   task: swinir_sr_classical"]
    it, epoch = 0, 0
    for k in range(1, 61):
        it = k * 200
        epoch = it // 1000
        if resume_at is not None and it == resume_at:
            epoch = 0  # a resume: the epoch counter starts again, the iter carries on
        if resume_at is not None and it > resume_at:
            epoch = (it - resume_at) // 1000
        out.append(f"21-07-01 10:{k // 60:02d}:{k % 60:02d}.123 : <epoch:{epoch:3d}, iter:{it:8,d}, lr:1.000e-04> "
                   f"G_loss: {0.05 / (1 + k / 10):.3e} ")
        if it % 2000 == 0:
            out.append(f"21-07-01 10:00:00.000 :    1--> img_001.png | 28.{k:02d}dB")
            out.append(f"21-07-01 10:00:00.000 : <epoch:{epoch:3d}, iter:{it:8,d}, Average PSNR : {25 + k / 10:.2f}dB")
    return "\n".join(out) + "\n"


def test_kair_iter_is_the_global_step() -> None:
    src = read(_kair(), "train.log")
    assert src.format == "kair"
    assert steps(src, "train", "g_loss") == list(range(200, 12001, 200))
    assert abs(values(src, "train", "g_loss")[0] - 0.04545) < 1e-4
    assert values(src, "train", "lr") == [1e-4] * 60
    assert steps(src, "val", "psnr") == list(range(2000, 12001, 2000))
    assert values(src, "val", "psnr")[-1] == 31.0


def test_kair_resume_keeps_the_global_step() -> None:
    src = read(_kair(resume_at=6000), "train.log")
    assert steps(src, "train", "g_loss") == list(range(200, 12001, 200))
    assert not [n for n in src.notes if n.kind in ("restart", "several_runs")]


# ------------------------------------------------------------------ an epoch's fraction before a batch counter's key
# Colektan/Faster-R-CNN-like-NER-model bert_crf.log (batch 18, dev): 'Epoch: 0/10<TAB>Batch: 5/3167<TAB>Loss:1.23'. The
# '0/10 Batch' read as "0 of 10 batches" (word_language_model's '200/ 2983 batches'), so every batch of an epoch
# had the same step and 31,670 losses came out as 10.


def test_an_epoch_fraction_before_a_batch_key_is_not_a_batch_count() -> None:
    text = "".join(f"2023-06-14 22:53:22 INFO     Epoch: {e}/3\tBatch: {b}/50\tLoss:{1 / (1 + e * 50 + b):.6f}\n"
                   for e in range(3) for b in range(50))
    src = read(text, "bert_crf.log")
    assert steps(src, "train", "loss") == list(range(150))


def test_a_batch_count_after_a_fraction_is_still_read() -> None:
    # word_language_model: '| epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch 45.3 | loss  7.63 | ppl  2064.2'
    text = "".join(f"| epoch {e:3d} | {b:5d}/  600 batches | lr 20.00 | ms/batch 45.31 | loss {7 - e - b / 600:5.2f} |"
                   f" ppl {100 - e:8.2f}\n" for e in range(1, 4) for b in range(200, 601, 200))
    src = read(text, "log.txt")
    assert len(steps(src, "train", "loss")) == 9


# ------------------------------------------------------------------ the WildML RNN tutorial's loss line
# davidbzhao/BasicRNN rnn.log (batch 18, dev), from dennybritz/rnn-tutorial-rnnlm: '2017-07-26-11-09-22: Loss after
# num_examples_seen=100000 epoch=5: 6.22955962726'. lossdoc read the count of examples (0 -> 900,000) as the loss.


def test_the_rnn_tutorial_loss_is_the_number_after_the_epoch() -> None:
    text = "".join(f"2017-07-26-10-26-20: Loss after num_examples_seen={e * 20000} epoch={e}: {9 - e / 10:.11f}\n"
                   for e in range(0, 50, 5))
    src = read(text, "rnn.log")
    assert values(src, "train", "loss") == [round(9 - e / 10, 4) for e in range(0, 50, 5)]
    assert steps(src, "train", "loss") == list(range(0, 50, 5))


# ------------------------------------------------------------------ a test evaluation printed with eval_ keys
# devmarkpro/ag-news-classification bert.txt (batch 18, dev): after training the script prints "Final metrics: {...}"
# (the last validation again) and "Test Results: {'eval_loss': 0.1865, ...}" (trainer.evaluate on the test set,
# whose keys keep the eval_ prefix). The test loss sat on the last validation point and replaced it.


def test_a_dict_labelled_test_is_the_test_split() -> None:
    out = []
    for k in range(1, 31):
        out.append(f"{{'loss': {1 / k:.4f}, 'grad_norm': 1.5, 'learning_rate': 2e-05, 'epoch': {k / 10:.1f}}}")
        if k % 10 == 0:
            out.append(f"{{'eval_loss': {0.2 - k / 1000:.4f}, 'eval_accuracy': 0.94, 'epoch': {k / 10:.1f}}}")
    out.append("{'train_runtime': 100.0, 'train_samples_per_second': 10.0, 'train_loss': 0.2, 'epoch': 3.0}")
    out.append("Final metrics: {'eval_loss': 0.1700, 'eval_accuracy': 0.94, 'epoch': 3.0}")
    out.append("Test Results: {'eval_loss': 0.1865, 'eval_accuracy': 0.9469, 'epoch': 3.0}")
    src = read("\n".join(out) + "\n", "bert.txt")
    assert src.format == "hf-console"
    assert values(src, "val", "loss") == [0.19, 0.18, 0.17]
    assert values(src, "test", "loss") == [0.1865]
    names = src.frame.filter(src.frame["split"] == "test").get_column("name").unique().to_list()
    assert "eval_loss" in names  # named as logged


# ------------------------------------------------------------------ a bare best-so-far after the named keys
# Smitahire/custom-SD train_transformer.log (batch 18, dev): 'Epoch 3/30 loss=0.9120 val_acc=0.6100 best=0.6400'. The
# unnamed 'best' after val_acc made every unnamed key on the line validation's, the training loss too.


def test_a_bare_best_after_the_validation_keys_leaves_the_loss_training() -> None:
    text = "".join(f"Epoch {i}/30 loss={1 / i:.4f} val_acc={0.5 + i / 100:.4f} best={0.5 + i / 100:.4f}\n"
                   for i in range(1, 31))
    src = read(text, "train_transformer.log")
    assert len(values(src, "train", "loss")) == 30
    assert not values(src, "val", "loss")
