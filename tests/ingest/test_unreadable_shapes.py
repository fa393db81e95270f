"""Real training-log shapes lossdoc could not read (benchmarks/publiclogs/UNREADABLE.tsv), each as a short
excerpt of the real lines (repository and path cited): what lossdoc must read from them, split by split,
values as logged."""

from __future__ import annotations

import polars as pl
import pytest

from lossdoc.errors import LossdocError
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def values(src: Source, split: str, metric: str) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return f.sort("step").get_column("value").to_list()


def steps(src: Source, split: str, metric: str) -> list[int]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return f.sort("step").get_column("step").to_list()


def series(src: Source) -> set[tuple[str, str]]:
    return set(src.frame.select("split", "metric").unique().iter_rows())


# ------------------------------------------------------- a trainer's lines after a preamble longer than the head
# Format sniffing looked at the first 64 KiB only; these logs open with more than that of other output.

# AkramjitS/gpt-lab-diffusion train.log: 1.4 MB of torch._dynamo warnings before modded-nanogpt's step lines.
DYNAMO = ("W0530 14:48:26.433000 2622492 site-packages/torch/_dynamo/convert_frame.py:1233]     "
          "result = self._inner_convert(\n")
MODDED = """\
Validating on 40960 tokens (10 steps with 4096 batch size)
step:0/20000 val_loss:1.0826e+01 train_time:0ms step_avg:0.01ms
step:1/20000 train_loss:1.082584e+01 train_time:6029ms step_avg:6028.64ms
step:2/20000 train_loss:8.461132e+00 train_time:10980ms step_avg:5489.86ms
step:3/20000 train_loss:5.837608e+00 train_time:15787ms step_avg:5262.28ms
step:7151/20000 train_loss:6.580660e-02 train_time:33748ms step_avg:4821.13ms
"""


def test_modded_nanogpt_lines_after_a_long_preamble_are_read() -> None:
    text = DYNAMO * (70_000 // len(DYNAMO) + 1) + MODDED
    src = read(text, "train.log")
    assert src.format == "modded-nanogpt"
    assert values(src, "train", "loss") == [10.82584, 8.461132, 5.837608, 0.0658066]
    assert steps(src, "train", "loss") == [1, 2, 3, 7151]
    assert values(src, "val", "loss") == [10.826]


# 2200xiaohu/LMSYS train.log: wandb banners and one 79 KB line of tqdm redraws before the Trainer's dicts.
BAR = "  0%|▎          | 10/8264 [01:09<16:10:15,  7.05s/it]"
HF = """\
{'loss': 12.4476, 'grad_norm': 35.838836669921875, 'learning_rate': 2.333333333333333e-05, 'epoch': 0.0}
{'loss': 4.7047, 'grad_norm': 11.237261772155762, 'learning_rate': 4.666666666666666e-05, 'epoch': 0.0}
{'loss': 0.6081, 'grad_norm': 3.3574726581573486, 'learning_rate': 7e-05, 'epoch': 0.01}
{'loss': 0.5237, 'grad_norm': 4.267791748046875, 'learning_rate': 6.999974524920855e-05, 'epoch': 0.01}
"""


def test_hf_console_dicts_after_a_long_line_of_progress_bars_are_read() -> None:
    text = ("wandb: Currently logged in as: someone. Use `wandb login --relogin` to force relogin\n"
            + BAR * (70_000 // len(BAR) + 1) + "\n" + HF)
    src = read(text, "train.log")
    assert src.format == "hf-console"
    assert values(src, "train", "loss") == [12.4476, 4.7047, 0.6081, 0.5237]


def test_a_long_file_of_other_text_stays_unrecognised() -> None:
    with pytest.raises(LossdocError, match="unrecognised log format"):
        read(DYNAMO * (140_000 // len(DYNAMO)), "train.log")


# ------------------------------------------------------- the counter on a header line, the values on the lines after
# PointNet's train.py (charlesq34/pointnet, and pointnet2, DGCNN's TF port, RandLA-Net ports): log_string('**** EPOCH
# %03d ****'), then 'mean loss: %f' / 'accuracy: %f' from train_one_epoch and 'eval mean loss: %f' from eval_one_epoch.

# sunfei05/distilling_knowledge_demo log/log_train.txt
POINTNET = """\
Namespace(T=20.0, batch_size=1024, decay_rate=0.5, decay_step=300000, gpu=0, learning_rate=0.001, log_dir='log', max_epoch=100, momentum=0.9, optimizer='adam')
**** EPOCH 000 ****
----
mean loss: 0.905937
accuracy: 0.773677
eval mean loss: 0.312124
eval accuracy: 0.909831
Model saved in file: log/epoch_0.ckpt
soft target file saved.
**** EPOCH 001 ****
----
mean loss: 0.283013
accuracy: 0.918171
eval mean loss: 0.215760
eval accuracy: 0.939019
**** EPOCH 002 ****
----
mean loss: 0.207552
accuracy: 0.940853
eval mean loss: 0.156271
eval accuracy: 0.954861
"""


def test_pointnet_epoch_blocks_are_read_with_eval_lines_as_validation() -> None:
    src = read(POINTNET, "log_train.txt")
    assert src.format == "text"
    assert values(src, "train", "loss") == [0.905937, 0.283013, 0.207552]
    assert steps(src, "train", "loss") == [0, 1, 2]
    assert values(src, "val", "loss") == [0.312124, 0.21576, 0.156271]
    assert steps(src, "val", "loss") == [0, 1, 2]
    assert values(src, "val", "accuracy") == [0.909831, 0.939019, 0.954861]


# pointnet2's train.py: a ' ---- batch: %03d ----' header every 50 batches, '---- EPOCH %03d EVALUATION ----' before
# the evaluation (as in weekgoodday/3DSSbase3_RandLA output/log_train.txt, which prints the same lines)
POINTNET2 = """\
pid: 4242
**** EPOCH 000 ****
2023-03-08 20:23:50.294733
 ---- batch: 050 ----
mean loss: 22.403417
accuracy: 0.160594
 ---- batch: 100 ----
mean loss: 15.654026
accuracy: 0.337528
2023-03-08 20:31:28.340582
---- EPOCH 000 EVALUATION ----
eval mean loss: 5.691773
eval accuracy: 0.798513
**** EPOCH 001 ****
2023-03-08 20:41:28.340582
 ---- batch: 050 ----
mean loss: 5.476939
accuracy: 0.771559
 ---- batch: 100 ----
mean loss: 5.420521
accuracy: 0.768884
2023-03-08 20:51:28.340582
---- EPOCH 001 EVALUATION ----
eval mean loss: 4.864243
eval accuracy: 0.811975
"""


def test_pointnet2_batch_headers_give_the_steps() -> None:
    src = read(POINTNET2, "log_train.txt")
    assert values(src, "train", "loss") == [22.403417, 15.654026, 5.476939, 5.420521]
    assert steps(src, "train", "loss") == [50, 100, 150, 200]  # epoch x 100 + batch (100 the largest batch seen)
    assert values(src, "val", "loss") == [5.691773, 4.864243]
    assert steps(src, "val", "loss") == [100, 200]


# khoa-yelo/SpliceAI outputs/train.log
SPLICEAI = """\
2025-05-04 21:58:51,817 - INFO - Training with random seed: 1809
2025-05-04 22:32:07,055 - INFO - Epoch 0/200
2025-05-04 22:32:07,088 - INFO -   Train Loss: 0.0045
2025-05-04 22:32:07,090 - INFO -   Val   Loss: 0.0011
2025-05-04 22:32:07,099 - INFO - ------------------------------------------------------------
2025-05-04 23:03:30,344 - INFO - Epoch 1/200
2025-05-04 23:03:30,344 - INFO -   Train Loss: 0.0009
2025-05-04 23:03:30,344 - INFO -   Val   Loss: 0.0006
2025-05-04 23:03:30,345 - INFO - ------------------------------------------------------------
2025-05-04 23:34:52,102 - INFO - Epoch 2/200
2025-05-04 23:34:52,102 - INFO -   Train Loss: 0.0007
2025-05-04 23:34:52,103 - INFO -   Val   Loss: 0.0005
"""


SPLICEAI_CLASSES = "".join(
    f"2025-05-04 22:32:07,055 - INFO - Epoch {e}/200\n"
    f"2025-05-04 22:32:07,088 - INFO -   Train Loss: {0.0045 - e * 0.001:.4f}\n"
    f"2025-05-04 22:32:07,090 - INFO -   Val   Loss: {0.0011 - e * 0.0001:.4f}\n"
    + "".join(f"2025-05-04 22:32:07,090 - INFO -   Class {c}: Top-k Acc → Train: {0.9 - c / 10 + e / 100:.3f}, "
              f"Val: {0.8 - c / 10:.3f};  PR-AUC → Train: 0.{c}17, Val: 0.{c}74\n" for c in range(3))
    for e in range(3))


def test_per_class_lines_are_not_read_as_one_series() -> None:
    # SpliceAI's 'Class 0: Top-k Acc → Train: 1.000, Val: 1.000; PR-AUC → ...' lines, one per class at each epoch:
    # kept as one series, the last (class 2) would be reported as the run's accuracy
    src = read(SPLICEAI_CLASSES, "train.log")
    assert values(src, "train", "loss") == [0.0045, 0.0035, 0.0025]
    assert values(src, "val", "loss") == [0.0011, 0.001, 0.0009]
    assert {m for _, m in series(src)} == {"loss"}
    assert any("per-item breakdown" in n.message for n in src.notes)


def test_an_epoch_line_then_train_and_val_loss_lines() -> None:
    src = read(SPLICEAI, "train.log")
    assert values(src, "train", "loss") == [0.0045, 0.0009, 0.0007]
    assert values(src, "val", "loss") == [0.0011, 0.0006, 0.0005]
    assert steps(src, "val", "loss") == [0, 1, 2]


# mbfaria/ShuffleFaceNet_Pytorch log_train.txt (inside a `script` transcript)
SHUFFLEFACENET = """\
Script started on Tue Feb  4 19:51:33 2020
defining shufflefacenet model...
Train Epoch: 1/70 ...
    total_loss: 24.7161 time: 15m 1s
Train Epoch: 2/70 ...
    total_loss: 22.4334 time: 10m 8s
Train Epoch: 3/70 ...
    total_loss: 20.0291 time: 11m 20s
Train Epoch: 4/70 ...
    total_loss: 17.6823 time: 12m 25s
Train Epoch: 5/70 ...
    total_loss: 15.9964 time: 10m 17s
Test Epoch: 5 ...
    ave: 87.3500
Train Epoch: 6/70 ...
    total_loss: 14.8365 time: 10m 8s
Train Epoch: 10/70 ...
    total_loss: 12.5254 time: 10m 15s
Test Epoch: 10 ...
    ave: 93.2333
"""


def test_a_test_epoch_header_makes_the_values_under_it_test_values() -> None:
    src = read(SHUFFLEFACENET, "log_train.txt")
    assert values(src, "train", "loss") == [24.7161, 22.4334, 20.0291, 17.6823, 15.9964, 14.8365, 12.5254]
    assert steps(src, "train", "loss") == [1, 2, 3, 4, 5, 6, 10]
    assert values(src, "test", "ave") == [87.35, 93.2333]
    assert ("train", "ave") not in series(src)
    # "15m 1s": 'm' is the unit of 15, not a key of value 1
    assert not any(m in ("m", "s") for _, m in series(src))
    assert values(src, "train", "time")[:2] == [15.0, 10.0]


def test_values_without_any_counter_line_stay_unrecognised() -> None:
    # fewer than 5 counter-less blocks: too little to claim a file on
    text = "".join(f"mean loss: {1 / (i + 1):.6f}\naccuracy: {i / 20:.6f}\n" for i in range(4))
    with pytest.raises(LossdocError, match="unrecognised log format"):
        read(text, "log_train.txt")
    # 5+ blocks of the same shapes in the same order (round 7: martinzhang03/Biomarkers, 494935318/pointcloud_class)
    # are read at the noisy level, each block a step, as a single counter-less shape is in line order
    text = "".join(f"mean loss: {1 / (i + 1):.6f}\naccuracy: {i / 20:.6f}\n" for i in range(10))
    src = read(text, "log_train.txt")
    assert steps(src, "train", "loss") == list(range(10)) == steps(src, "train", "accuracy")


# ------------------------------------------------------- known trainers' console formats

# MindSpore LossMonitor (mindspore/python/mindspore/train/callback/_loss_monitor.py: "epoch: %s step: %s, loss is
# %s", the step counted within the epoch). JQuan1999/Visformer log/train_log.txt: 8 devices print each epoch's line.
VISFORMER = """\
[WARNING] MD(19348,7f33fb929740,python):2022-10-15-23:16:10.380.413 [mindspore/ccsrc/minddata/dataset/util/task.cc:162] Join] ImageFolderOp::WorkerEntry Thread ID 139851508737792 is not responding. Interrupt again
epoch: 1 step: 2502, loss is 6.500506401062012
Train epoch time: 2234463.234 ms, per step time: 893.071 ms
epoch: 1 step: 2502, loss is 6.591518878936768
Train epoch time: 2234438.619 ms, per step time: 893.061 ms
Validation: Epoch: 1, Metrics: [Top_1_Accuracy:0.06473286]
epoch: 2 step: 2502, loss is 5.008647918701172
epoch: 2 step: 2502, loss is 5.253540515899658
"""


def test_mindspore_loss_monitor_lines_are_read_per_epoch() -> None:
    src = read(VISFORMER, "train_log.txt")
    assert src.format == "mindspore"
    # the step restarts every epoch: epoch 2's step 2502 is step 5004; of the devices' lines the last is kept
    assert steps(src, "train", "loss") == [2502, 5004]
    assert values(src, "train", "loss") == [6.591518878936768, 5.253540515899658]
    assert any("restarts every epoch" in n.message for n in src.notes)


# LossMonitor every 100 steps, and its on_train_epoch_end line ("Eval result: epoch %d, metrics: %s") under model.fit
MINDSPORE_FIT = """\
epoch: 1 step: 100, loss is 2.3025851249694824
epoch: 1 step: 200, loss is 1.9871230125427246
Eval result: epoch 1, metrics: {'accuracy': 0.5412, 'loss': 1.2107}
epoch: 2 step: 100, loss is 1.4417011737823486
epoch: 2 step: 200, loss is nan
Eval result: epoch 2, metrics: {'accuracy': 0.6021, 'loss': 1.1893}
"""


def test_mindspore_eval_results_are_validation_at_the_end_of_their_epoch() -> None:
    src = read(MINDSPORE_FIT, "train.log")
    assert steps(src, "train", "loss") == [100, 200, 300, 400]
    assert values(src, "train", "loss")[:3] == [2.3025851249694824, 1.9871230125427246, 1.4417011737823486]
    assert values(src, "train", "loss")[3] != values(src, "train", "loss")[3]  # nan kept
    assert values(src, "val", "loss") == [1.2107, 1.1893]
    assert steps(src, "val", "loss") == [200, 400]
    assert values(src, "val", "accuracy") == [0.5412, 0.6021]


# clovaai/deep-text-recognition-benchmark train.py (log_train.txt). LeeKunHa/kospeech log_train.txt
CLOVA = """\
[1/200000] Train loss: 0.00023, Valid loss: 0.00622, Elapsed_time: 3.53794
Current_accuracy : 96.083, Current_norm_ED  : 0.39
Best_accuracy    : 96.083, Best_norm_ED     : 0.39
--------------------------------------------------------------------------------
Ground Truth              | Prediction                | Confidence Score & T/F
--------------------------------------------------------------------------------
hello                     | hello                     | 0.9998	True
--------------------------------------------------------------------------------
[100/200000] Train loss: 0.00414, Valid loss: 0.00665, Elapsed_time: 665.83799
Current_accuracy : 96.031, Current_norm_ED  : 0.39
Best_accuracy    : 96.083, Best_norm_ED     : 0.39
--------------------------------------------------------------------------------
[200/200000] Train loss: 0.00444, Valid loss: 0.00833, Elapsed_time: 1329.31370
Current_accuracy : 95.599, Current_norm_ED  : 0.39
Best_accuracy    : 96.083, Best_norm_ED     : 0.39
"""


def test_deep_text_recognition_log_train() -> None:
    src = read(CLOVA, "log_train.txt")
    assert src.format == "deep-text-recognition"
    assert values(src, "train", "loss") == [0.00023, 0.00414, 0.00444]
    assert values(src, "val", "loss") == [0.00622, 0.00665, 0.00833]
    assert values(src, "val", "accuracy") == [96.083, 96.031, 95.599]
    assert steps(src, "val", "accuracy") == [1, 100, 200]
    assert ("train", "best_accuracy") not in series(src) and ("val", "best_accuracy") not in series(src)
    assert src.meta["total_steps"] == 200000


# the first version of the same train.py: "[{i}/{opt.num_iter}] Loss: ... elapsed_time: ..." and "[..] valid loss: ..."
CLOVA_V1 = """\
[2000/300000] Loss: 1.23456 elapsed_time: 812.33871
a                   , gt: a                   ,   True
[2000/300000] valid loss: 0.98765 accuracy: 61.250, norm_ED: 412.50
best_accuracy: 61.250, best_norm_ED: 412.50
[4000/300000] Loss: 0.87654 elapsed_time: 1624.12034
[4000/300000] valid loss: 0.76543 accuracy: 70.500, norm_ED: 301.25
best_accuracy: 70.500, best_norm_ED: 301.25
"""


def test_deep_text_recognition_first_version() -> None:
    src = read(CLOVA_V1, "log_train.txt")
    assert src.format == "deep-text-recognition"
    assert values(src, "train", "loss") == [1.23456, 0.87654]
    assert values(src, "val", "loss") == [0.98765, 0.76543]
    assert steps(src, "val", "loss") == [2000, 4000]


# one unnamed [N/M] at the start of a line is the step. siihwanpark/MAML results/train_log.txt
MAML = """\
tf-docker ~/MAML > python main.py
[0/100000] batch loss : 6.3282 | time : 0.16s
[0/100000] mean test loss : 6.3470 -> 5.7082 by 1 grad steps
A check point has been generated : checkpoints/iter_0.pt
[100/100000] batch loss : 2.9027 | time : 4.45s
[200/100000] batch loss : 5.0642 | time : 4.66s
[300/100000] batch loss : 2.4755 | time : 4.45s
"""


def test_a_leading_bracketed_fraction_is_the_step_and_a_batch_loss_the_loss() -> None:
    src = read(MAML, "train_log.txt")
    assert src.format == "text"
    assert values(src, "train", "loss") == [6.3282, 2.9027, 5.0642, 2.4755]
    assert steps(src, "train", "loss") == [0, 100, 200, 300]


# ------------------------------------------------------- a JSON object of per-epoch lists (json.dump(history, f))

# HorizonSeeker/Handwriting-Recognition-Pytorch-Plus training_history.json (values shortened to 3 epochs)
HISTORY = ('{"train_loss": [1.7444058534527231, 0.5801357908310792, 0.4189581479422578], '
           '"train_accuracy": [0.09681052701696168, 0.40313497278017646, 0.5107123176514046], '
           '"val_loss": [0.6184986648913876, 0.4522, 0.3991], "val_accuracy": [0.37680176360861456, 0.52, 0.58]}')


def test_a_json_dict_of_train_and_val_lists() -> None:
    src = read(HISTORY, "training_history.json")
    assert values(src, "train", "loss") == [1.7444058534527231, 0.5801357908310792, 0.4189581479422578]
    assert values(src, "val", "loss") == [0.6184986648913876, 0.4522, 0.3991]
    assert steps(src, "val", "loss") == [0, 1, 2]
    assert values(src, "val", "accuracy")[0] == 0.37680176360861456


# DrunkMacintosh/EFFICIENTNET_B0-for-emotion-recognition-of-FER-2013-dataset training_history.json: run metadata
# first, a 3-item list of phase starts beside the per-epoch lists, a final test accuracy
HISTORY_META = """\
{
  "timestamp": "2026-04-18T17:21:59",
  "backbone": "EfficientNet-B0",
  "img_size": 112,
  "classes": ["Happy", "Neutral", "Sad"],
  "phase_starts": [0, 15, 40],
  "train_loss": [0.5373139245360191, 0.49584389200095574, 0.5012755962818681, 0.502299625538835],
  "train_acc": [35.575473729543496, 40.1, 41.2, 42.0],
  "val_loss": [0.5182594384333884, 0.51, 0.505, 0.50],
  "val_acc": [33.38178294573643, 35.0, 36.1, 36.5],
  "test_acc": 77.6542402441683
}
"""


def test_json_lists_beside_run_metadata() -> None:
    src = read(HISTORY_META, "training_history.json")
    assert values(src, "train", "loss")[0] == 0.5373139245360191
    assert len(values(src, "val", "loss")) == 4
    assert ("train", "phase_starts") not in series(src)
    text = " ".join(n.message for n in src.notes)
    assert "phase_starts" in text and "test_acc" in text


# FacuVCanale/bikeshare-demand-gnn training_history.json: lists of per-epoch dicts
HISTORY_DICTS = ('{"train_loss": [1.0327718257904053, 0.9970444440841675], "val_loss": [0.538841962814331, 0.52], '
                 '"train_metrics": [{"mse": 1.0327718257904053, "mae": 0.6672119498252869}, {"mse": 0.997, "mae": 0.66}], '
                 '"learning_rates": [0.0003, 0.0003]}')


def test_json_lists_of_dicts_are_one_series_per_key() -> None:
    src = read(HISTORY_DICTS, "training_history.json")
    assert values(src, "val", "loss") == [0.538841962814331, 0.52]
    assert values(src, "train", "metrics_mae") == [0.6672119498252869, 0.66]


def test_a_json_object_without_lists_stays_unrecognised() -> None:
    with pytest.raises(LossdocError):
        read('{"train_loss": 0.5, "val_loss": 0.6}', "training_history.json")


# ------------------------------------------------------- numbers separated by blanks under a '#' header naming them
# np.savetxt(header="epoch train_loss val_loss") writes '# epoch ...'; danis-b/YodaGPT losses.txt writes '#epoch ...'
YODA = """\
#epoch train_loss val_loss
0 4.3512864112854 4.351904392242432
1 2.7307944297790527 2.6334846019744873
2 2.388455629348755 2.2864937782287598
3 2.2146530151367188 2.1395421028137207
"""


def test_a_blank_separated_table_under_a_header_naming_its_columns() -> None:
    src = read(YODA, "losses.txt")
    assert src.format == "numeric-column"
    assert values(src, "train", "loss") == [4.3512864112854, 2.7307944297790527, 2.388455629348755, 2.2146530151367188]
    assert values(src, "val", "loss")[0] == 4.351904392242432
    assert steps(src, "val", "loss") == [0, 1, 2, 3]
    assert not any("no header line" in n.message for n in src.notes)


def test_a_header_naming_fewer_columns_than_the_rows_hold_stays_unrecognised() -> None:
    # two names over three columns: which column is which is not said; a one-line error, as before
    with pytest.raises(LossdocError, match="unrecognised log format"):
        read(YODA.replace("#epoch train_loss val_loss", "# train_loss val_loss"), "losses.txt")


# ------------------------------------------------------- a counter glued to its word
# tanjina164/STCANet-PersonReID logs/log_train.txt (the epoch lines; 's' is the unit of the number before 'Data')
STCA = """\
==> Start training
Epoch1 Time:178.1s Data:47.8s Loss:5.5364 Xent:5.2602 Htri:0.2762 Acc:12.89% 
Epoch2 Time:189.2s Data:52.9s Loss:2.8344 Xent:2.6813 Htri:0.1531 Acc:45.92% 
Epoch3 Time:177.7s Data:41.7s Loss:1.5491 Xent:1.4200 Htri:0.1290 Acc:69.93% 
Epoch4 Time:175.6s Data:39.8s Loss:0.9770 Xent:0.8624 Htri:0.1146 Acc:81.43% 
"""


def test_a_counter_glued_to_its_word_is_the_epoch() -> None:
    src = read(STCA, "log_train.txt")
    assert values(src, "train", "loss") == [5.5364, 2.8344, 1.5491, 0.977]
    assert steps(src, "train", "loss") == [1, 2, 3, 4]
    assert values(src, "train", "data") == [47.8, 52.9, 41.7, 39.8]  # key 'Data', not 's Data'
    assert values(src, "train", "xent")[0] == 5.2602


# The same file opens with argparse's dump of its arguments, `eval_step=10` among them.
STCA_ARGS = ("==========\nArgs:Namespace(root='/kaggle/working/', dataset='market1501', height=256, width=128, "
             "max_epoch=50, start_epoch=0, train_batch=32, lr=0.00035, stepsize=[40, 80, 120], gamma=0.1, "
             "margin=0.3, num_instances=4, seed=1, eval_step=10, start_eval=0, use_cpu=False, gpu_devices='0')\n"
             "==========\n")


def test_an_argparse_namespace_dump_is_no_step_and_no_series() -> None:
    # Read as data, the dump made eval_step=10 the step key and every argument a one-point series
    # ('lr', 'gamma', ...), so the epoch lines were lost: the dump is configuration, not a metric line.
    src = read(STCA_ARGS + STCA, "log_train.txt")
    assert values(src, "train", "loss") == [5.5364, 2.8344, 1.5491, 0.977]
    assert steps(src, "train", "loss") == [1, 2, 3, 4]
    assert not {m for _, m in series(src)} & {"gamma", "margin", "seed", "max_epoch", "height"}


# LwbXc/DPBL logs/train.txt
DPBL = """\
Load file: None, EP0, avg_loss=0.0154
Load file: None, EP1, avg_loss=0.0030
Load file: None, EP2, avg_loss=0.0032
Load file: None, EP3, avg_loss=0.0043
"""


def test_ep_glued_to_its_number() -> None:
    src = read(DPBL, "train.txt")
    assert values(src, "train", "loss") == [0.0154, 0.003, 0.0032, 0.0043]
    assert steps(src, "train", "loss") == [0, 1, 2, 3]


def test_a_word_ending_in_digits_inside_a_name_is_not_parted() -> None:
    # 'step1_loss' is a key, not 'step 1'
    text = "".join(f"epoch {i} step1_loss={1 / (i + 1):.4f} loss={2 / (i + 1):.4f}\n" for i in range(4))
    src = read(text, "train.log")
    assert values(src, "train", "loss") == [2.0, 1.0, 0.6667, 0.5]


# ------------------------------------------------------- 'Epoch N/M' headers without a Keras bar anywhere
# The PyTorch transfer-learning tutorial (pytorch/tutorials beginner_source/transfer_learning_tutorial.py:
# print('Epoch {}/{}'.format(epoch, num_epochs - 1)); print('-' * 10); print('{} Loss: {:.4f} Acc: {:.4f}'.format(
# phase, epoch_loss, epoch_acc))), as in doosik71/Person-reID-triplet-loss log/train.log (train phase only there)
TUTORIAL = """\
Start training...
Epoch 0/69
----------
batch = 405
now_margin: 0.3000
train Loss: 0.4552 Reg: 0.0000 Acc: 0.0087 MeanMargin: -0.1545
val Loss: 0.4321 Reg: 0.0000 Acc: 0.0102 MeanMargin: -0.1400

Epoch 1/69
----------
batch = 405
now_margin: 0.3000
train Loss: 0.4208 Reg: 0.0000 Acc: 0.0129 MeanMargin: -0.1198
val Loss: 0.4105 Reg: 0.0000 Acc: 0.0150 MeanMargin: -0.1101

Epoch 2/69
----------
batch = 405
now_margin: 0.3000
train Loss: 0.4033 Reg: 0.0000 Acc: 0.0159 MeanMargin: -0.1021
val Loss: 0.3999 Reg: 0.0000 Acc: 0.0181 MeanMargin: -0.0950
"""


def test_pytorch_tutorial_epoch_headers_are_not_taken_for_keras() -> None:
    src = read(TUTORIAL, "train.log")
    assert src.format == "text"
    assert values(src, "train", "loss") == [0.4552, 0.4208, 0.4033]
    assert values(src, "val", "loss") == [0.4321, 0.4105, 0.3999]
    assert values(src, "val", "accuracy") == [0.0102, 0.015, 0.0181]


# ------------------------------------------------------- the PyTorch NLP tutorials' progress print
# pytorch/tutorials seq2seq_translation_tutorial.py: print('%s (%d %d%%) %.4f' % (timeSince(start, iter / n_iters),
# iter, iter / n_iters * 100, print_loss_avg)); trainma/Seq2Seq log/train_log.txt prints it through a logger
SEQ2SEQ = """\
INFO---->train--->2022-03-23 10:37:30,456--->0m 24s (5000 6%) 3.5270
INFO---->train--->2022-03-23 10:37:56,644--->0m 51s (10000 13%) 2.9440
INFO---->train--->2022-03-23 10:38:21,746--->1m 16s (15000 20%) 2.7407
INFO---->train--->2022-03-23 10:38:47,329--->1m 41s (20000 26%) 2.5111
"""


def test_seq2seq_tutorial_progress_lines() -> None:
    src = read(SEQ2SEQ, "train_log.txt")
    assert src.format == "pytorch-nlp-tutorial"
    assert values(src, "train", "loss") == [3.527, 2.944, 2.7407, 2.5111]
    assert steps(src, "train", "loss") == [5000, 10000, 15000, 20000]


def test_the_tutorials_own_time_left_and_the_classifier_print() -> None:
    src = read("0m 24s (- 5m 30s) (5000 6%) 3.5270\n0m 51s (- 5m 1s) (10000 13%) 2.9440\n", "out.log")
    assert values(src, "train", "loss") == [3.527, 2.944]
    # char_rnn_classification_tutorial.py: print('%d %d%% (%s) %.4f %s / %s %s' % (iter, ..., loss, line, guess, correct))
    src = read("5000 5% (0m 11s) 2.6531 Kim / Chinese ✗ (Korean)\n10000 10% (0m 22s) 2.1100 Pavlov / Russian ✓\n",
               "out.log")
    assert values(src, "train", "loss") == [2.6531, 2.11]
    assert steps(src, "train", "loss") == [5000, 10000]


# ------------------------------------------------------- a fixed-width table under a banner naming its groups' splits
# spytensor/plants_disease_detection main.py and its copies. Xiaofu-Jin/plants_disease_detection logs/log_train.txt
BANNER = """\

----------------------------------------------- [START 2019-03-29 10:50:29] ---------------------------------------------------

** start training here! **
                           |------------ VALID -------------|----------- TRAIN -------------|------Accuracy------|------------|
lr       iter     epoch    | loss   top-1  top-2            | loss   top-1  top-2           |    Current Best    | time       |
-------------------------------------------------------------------------------------------------------------------------------
0.0001   0.0    0.0        | 0.468  80.713  97.297          | 0.808  73.364  90.875         |         80.71336         |  0 hr 28 min
0.0001   1.0    1.0        | 0.365  85.420  98.584          | 0.644  77.322  94.063         |         85.42011         |  0 hr 55 min
0.0001   2.0    2.0        | 0.378  84.979  98.584          | 0.569  79.344  95.366         |         85.42011         |  1 hr 23 min
"""


def test_a_banner_table_reads_each_group_as_its_split() -> None:
    src = read(BANNER, "log_train.txt")
    assert src.format == "banner-table"
    assert values(src, "val", "loss") == [0.468, 0.365, 0.378]
    assert values(src, "train", "loss") == [0.808, 0.644, 0.569]
    assert values(src, "val", "top_1") == [80.713, 85.42, 84.979]
    assert steps(src, "train", "loss") == [0, 1, 2]
    # the 'Accuracy' group (best so far, a running maximum) names no split: not read
    assert not any("80.71336" in str(v) for v in src.frame.get_column("value").to_list())


# charlesq34/pointnet train.py logs 'mean loss' once per training file ('----' + str(fn) + '-----'), 5 an epoch for
# ModelNet40: xuyongzhi/pointnet log/log_train.txt (its first two epochs)
POINTNET_FILES = """\
**** EPOCH 000 ****
----0-----
mean loss: 3.661527
accuracy: 0.240234
----1-----
mean loss: 2.764303
accuracy: 0.321777
----2-----
mean loss: 2.244633
accuracy: 0.400123
----3-----
mean loss: 2.045191
accuracy: 0.452637
----4-----
mean loss: 1.881515
accuracy: 0.485352
----0-----
----1-----
eval mean loss: 1.587107
eval accuracy: 0.552354
eval avg class acc: 0.461993
Model saved in file: log/model.ckpt
**** EPOCH 001 ****
----0-----
mean loss: 1.643732
accuracy: 0.540441
----1-----
mean loss: 1.647581
accuracy: 0.535156
----2-----
mean loss: 1.544031
accuracy: 0.556641
----3-----
mean loss: 1.935356
accuracy: 0.498047
----4-----
mean loss: 1.569729
accuracy: 0.564941
----0-----
----1-----
eval mean loss: 1.793771
eval accuracy: 0.532873
eval avg class acc: 0.471013
**** EPOCH 002 ****
"""


def test_pointnet_per_file_losses_are_each_a_step() -> None:
    src = read(POINTNET_FILES, "log_train.txt")
    train = values(src, "train", "loss")
    assert train[:5] == [3.661527, 2.764303, 2.244633, 2.045191, 1.881515]
    assert len(train) == 10 and steps(src, "train", "loss") == list(range(10))
    # the evaluation after each epoch's five files sits at the step of the last of them
    assert values(src, "val", "loss") == [1.587107, 1.793771]
    assert steps(src, "val", "loss") == [4, 9]
    assert src.frame.filter(pl.col("split") == "train").get_column("epoch").unique().sort().to_list() == [0.0, 1.0]


# ------------------------------------------------------- CSV cells that are printed scalar tensors
# yutan0565/EfficientDet_TensorFlow2 loss_log.csv: a pandas CSV of lists of tf.Tensor losses
TF_CELLS = """\
,epoch,train_loss,valid_loss
0,0,"tf.Tensor(1017.89984, shape=(), dtype=float32)","tf.Tensor(800.0914, shape=(), dtype=float32)"
1,1,"tf.Tensor(701.3788, shape=(), dtype=float32)","tf.Tensor(533.81604, shape=(), dtype=float32)"
2,2,"tf.Tensor(521.7402, shape=(), dtype=float32)","tf.Tensor(414.0128, shape=(), dtype=float32)"
"""


def test_tf_tensor_cells_are_read_as_their_number() -> None:
    src = read(TF_CELLS, "loss_log.csv")
    assert values(src, "train", "loss") == [1017.89984, 701.3788, 521.7402]
    assert values(src, "val", "loss") == [800.0914, 533.81604, 414.0128]
    assert any("tensor reprs" in n.message for n in src.notes)


def test_torch_tensor_cells_are_read_as_their_number() -> None:
    # the same with PyTorch losses kept as tensors: str(tensor(0.6931, device='cuda:0', grad_fn=<...>))
    text = ("epoch,train_loss,val_loss\n"
            + "".join(f"{e},\"tensor({0.7 - e / 10:.4f}, device='cuda:0', grad_fn=<NllLossBackward0>)\","
                      f"\"tensor({0.8 - e / 10:.4f}, device='cuda:0')\"\n" for e in range(3)))
    src = read(text, "history.csv")
    assert values(src, "train", "loss") == [0.7, 0.6, 0.5]
    assert values(src, "val", "loss") == [0.8, 0.7, 0.6]
