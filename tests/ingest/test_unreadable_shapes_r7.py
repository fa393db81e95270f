"""Real training-log shapes of benchmarks/publiclogs/UNREADABLE.tsv that lossdoc could not read (round 7), each as a
short excerpt of the real lines (repository, path and commit cited): what lossdoc must read from them."""

from __future__ import annotations

import polars as pl
import pytest

from lossdoc.cli import ExitCode, main
from lossdoc.errors import LossdocError
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def read(text: str, name: str, fmt: str | None = None) -> Source:
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp, fmt)


def points(src: Source, split: str, metric: str) -> list[tuple[int, float]]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return [(s, round(v, 4)) for s, v in f.select("step", "value").iter_rows()]


# ------------------------------------------------------------------ PyTorch ImageNet example (AverageMeter)
# 17314796423/WS_DAN_SAC train.log (commit 28d0080336db5eeff7d009236abf77d1012cd412, lines 505-999, cut): the
# pytorch/examples imagenet/main.py first-version layout, with the fork's own 'Prec@1 k ...' meter lines and a
# ' * Prec@1 ...' summary per variant (only the standard one is the pass's summary).
WSDAN = (
    "Start epoch 0 ==========,lr=0.001000\n"
    "Epoch: [0][0/250]\tTime 3.923 (3.923)\tData 0.411 (0.411)\tLoss 13.0603 (13.0603)\n"
    "Prec@1     0.000 (0.000)\tPrec@5     4.167 (4.167)\n"
    "Prec@1   k 0.000 (0.000)\tPrec@5   k 4.167 (4.167)\n"
    "Epoch: [0][10/250]\tTime 1.154 (1.408)\tData 0.371 (0.374)\tLoss 12.6626 (12.3890)\n"
    "Epoch: [0][240/250]\tTime 1.158 (1.175)\tData 0.364 (0.370)\tLoss 7.3698 (9.9334)\n"
    "Prec@1     37.500 (19.208)\tPrec@5     66.667 (37.569)\n"
    "Test: [0/242]\tTime 0.604 (0.604)\tLoss 3.5332 (3.5332)\n"
    "Prec@1     100.000 (100.000)\tPrec@5     100.000 (100.000)\n"
    "Test: [240/242]\tTime 0.641 (0.642)\tLoss 4.6884 (6.4444)\n"
    "Prec@1     83.333 (52.282)\tPrec@5     95.833 (80.360)\n"
    "cos_sim_loss  0.310 (0.311)\n"
    " * Prec@1     52.365 Prec@5 80.394\n"
    " * Prec@1   k 49.206 Prec@5 001 78.840\n"
    " * Prec@1   0 50.518 Prec@5 001 77.977\n"
    "Save best model at checkpoint/bird/model_best.pth.tar== [1]\n"
    "Start epoch 1 ==========,lr=0.001000\n"
    "Epoch: [1][0/250]\tTime 1.154 (1.154)\tData 0.366 (0.366)\tLoss 6.3077 (6.3077)\n"
    "Prec@1     50.000 (50.000)\tPrec@5     87.500 (87.500)\n"
    "Epoch: [1][10/250]\tTime 1.170 (1.171)\tData 0.367 (0.373)\tLoss 4.6095 (5.8357)\n"
)


def test_imagenet_example_first_version_with_fork_lines() -> None:
    src = read(WSDAN, "train.log")
    assert src.format == "pytorch-imagenet"
    # step = epoch x batches-per-epoch (as printed) + batch; the batch's own value, its running mean beside it
    assert points(src, "train", "loss") == [(0, 13.0603), (10, 12.6626), (240, 7.3698), (250, 6.3077), (260, 4.6095)]
    assert points(src, "train", "loss_avg")[:3] == [(0, 13.0603), (10, 12.389), (240, 9.9334)]
    # the validation pass at the last training step before it: its last line's running mean, the summary's
    # accuracies (not the fork's ' * Prec@1   k ...' variants); Time and Data are timings, not read
    assert points(src, "val", "loss") == [(240, 6.4444)]
    assert points(src, "val", "accuracy") == [(240, 52.365)]
    assert points(src, "val", "top5_accuracy") == [(240, 80.394)]
    assert set(src.frame.get_column("metric").unique()) == {"loss", "loss_avg", "accuracy", "top5_accuracy"}


# The current pytorch/examples layout (ProgressMeter: padded batch index, Loss as :.4e, Acc@1/Acc@5 as :6.2f, a
# multi-word meter name as written by forks, ' * Acc@1 X Acc@5 Y'); values constructed after that layout.
PROGRESS = (
    "=> creating model 'resnet18'\n"
    "Epoch: [0][  0/782]\tTime  3.613 ( 3.613)\tData  0.079 ( 0.079)\tLoss 7.0412e+00 (7.0412e+00)\t"
    "Loss dro 6.354 (6.316)\tAcc@1   0.00 (  0.00)\tAcc@5   0.00 (  0.00)\n"
    "Epoch: [0][ 10/782]\tTime  1.638 ( 1.849)\tData  0.086 ( 0.300)\tLoss 5.7640e+00 (6.3097e+00)\t"
    "Loss dro 5.958 (6.294)\tAcc@1   0.00 (  0.00)\tAcc@5   0.00 (  1.99)\n"
    "Test: [  0/313]\tTime  0.122 ( 0.167)\tLoss 7.0159e+00 (7.0159e+00)\tAcc@1   0.00 (  0.40)\tAcc@5   6.25 (  1.43)\n"
    "Test: [310/313]\tTime  0.139 ( 0.166)\tLoss 7.3541e+00 (7.0174e+00)\tAcc@1   0.00 (  0.39)\tAcc@5   3.12 (  1.43)\n"
    " *   Acc@1 0.390 Acc@5 1.420\n"
    "Epoch: [1][  0/782]\tTime  6.522 ( 6.522)\tData  0.052 ( 0.052)\tLoss 4.4326e+00 (4.4326e+00)\t"
    "Loss dro 4.1 (4.1)\tAcc@1   3.12 (  3.12)\tAcc@5  15.62 ( 15.62)\n"
    "Epoch: [1][ 10/782]\tTime  1.427 ( 1.703)\tData  0.045 ( 0.202)\tLoss 4.3480e+00 (4.4527e+00)\t"
    "Loss dro 4.0 (4.05)\tAcc@1   0.00 (  7.67)\tAcc@5  34.38 ( 22.73)\n"
    "Epoch: [1][ 20/782]\tTime  1.4"  # torn: the file was still being written
)


def test_imagenet_example_progress_meter_layout_and_torn_tail() -> None:
    src = read(PROGRESS, "train.log")
    assert src.format == "pytorch-imagenet"
    assert points(src, "train", "loss") == [(0, 7.0412), (10, 5.764), (782, 4.4326), (792, 4.348)]
    assert points(src, "train", "loss_dro")[-1] == (792, 4.0)
    assert points(src, "train", "accuracy")[-1] == (792, 0.0)
    assert points(src, "val", "loss") == [(10, 7.0174)]
    assert points(src, "val", "accuracy") == [(10, 0.39)] and points(src, "val", "top5_accuracy") == [(10, 1.42)]
    assert "torn_tail" in {n.kind for n in src.notes}


def test_imagenet_example_without_meters_is_a_one_line_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "train.log"
    bad.write_text("Epoch: [0][0/10]\tTime 1.0 (1.0)\tData 0.1 (0.1)\nEpoch: [0][1/10]\tTime 1.0 (1.0)\n")
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "--format", "pytorch-imagenet", str(bad)])
    assert exc.value.code == ExitCode.ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "train.log" in err and "Traceback" not in err


# ------------------------------------------------------------------ History dumped as a JSON string of its repr
# alperclk/Video-Event-Detection-With-LSTM model_history.json (commit 4bcb2c08887e0d53518dcf1019e2a89e6979aa7b, the
# whole file): json.dump(str(history.history), f) writes the dict's Python repr inside a JSON string.
REPR_HISTORY = (
    "\"{'val_loss': [0.22135592500368753, 0.07534398511052132, 0.05326270249982675, 0.045989371836185455, "
    "0.02310311080267032], 'val_accuracy': [1.0, 1.0, 1.0, 1.0, 1.0], 'loss': [0.5522921511105129, "
    "0.3052077037947519, 0.17302255013159343, 0.2317843320114272, 0.05052638040589435], 'accuracy': [0.78571427, "
    "0.85714287, 0.85714287, 0.9285714, 1.0]}\""
)


def test_history_repr_inside_a_json_string() -> None:
    src = read(REPR_HISTORY, "model_history.json")
    assert src.format == "keras-csv"
    assert points(src, "train", "loss") == [(0, 0.5523), (1, 0.3052), (2, 0.173), (3, 0.2318), (4, 0.0505)]
    assert points(src, "val", "loss")[0] == (0, 0.2214) and len(points(src, "val", "loss")) == 5
    assert any("Python dict repr" in n.message for n in src.notes)


def test_history_repr_with_nan_and_a_torn_repr() -> None:
    nan = read("\"{'loss': [0.5, nan, inf, 0.1, 0.2]}\"", "model_history.json")
    vals = [v for _, v in points(nan, "train", "loss")]
    assert vals[0] == 0.5 and vals[1] != vals[1] and vals[2] == float("inf") and len(vals) == 5
    with pytest.raises(LossdocError):  # cut inside the string: the file's error, no traceback
        read("\"{'loss': [0.5, 0.4, 0.3]}", "model_history.json")


# ------------------------------------------------------------------ counter-less blocks, one line per shape
# martinzhang03/Biomarkers val_loss.txt (commit 5e3c060d748844f02843b31194b90a7a1bca8d4e, lines 1-20 of 116): three
# lines an epoch and a blank line, no counter anywhere.
BIOMARKERS = 'train accu: 49.45608724746853\nvalid loss: 46.18584875158361\nvalid accu: 0.21621621621621623\n\ntrain accu: 49.81202157959342\nvalid loss: 45.82743433359507\nvalid accu: 0.0\n\ntrain accu: 46.60536382347345\nvalid loss: 45.010117195747995\nvalid accu: 0.0\n\ntrain accu: 44.838312182575464\nvalid loss: 43.35239400090398\nvalid accu: 0.0\n\ntrain accu: 44.458100497722626\nvalid loss: 39.74880940205342\nvalid accu: 0.0\n\n'

# 494935318/pointcloud_class log_train.txt (commit 27999fe474b703e79da564c51f80c6591c3164be, lines 1-25 of 235): a
# PointNet-style copy printing '-----N------' (no counter word) then train_/test_ lines.
POINTCLOUD = '-----0------\ntrain_mean loss: 2.518418\ntrain_accuracy: 0.331402\ntest_mean loss: 3.641826\ntest_accuracy: 0.039303\n-----1------\ntrain_mean loss: 2.102204\ntrain_accuracy: 0.408190\ntest_mean loss: 3.810780\ntest_accuracy: 0.040113\n-----2------\ntrain_mean loss: 1.928685\ntrain_accuracy: 0.464657\ntest_mean loss: 4.029254\ntest_accuracy: 0.038898\n-----3------\ntrain_mean loss: 1.852347\ntrain_accuracy: 0.489519\ntest_mean loss: 4.878688\ntest_accuracy: 0.040519\n-----4------\ntrain_mean loss: 1.935617\ntrain_accuracy: 0.518037\ntest_mean loss: 5.388827\ntest_accuracy: 0.047812\n'


def test_counterless_blocks_are_numbered_by_block() -> None:
    src = read(BIOMARKERS, "val_loss.txt")
    assert src.format == "text"
    assert points(src, "val", "loss") == [(0, 46.1858), (1, 45.8274), (2, 45.0101), (3, 43.3524), (4, 39.7488)]
    assert [s for s, _ in points(src, "train", "accu")] == [0, 1, 2, 3, 4]  # the splits' points line up
    pc = read(POINTCLOUD, "log_train.txt")
    assert pc.format == "text"
    assert points(pc, "train", "loss") == [(0, 2.5184), (1, 2.1022), (2, 1.9287), (3, 1.8523), (4, 1.9356)]
    assert points(pc, "test", "loss")[0] == (0, 3.6418) and len(points(pc, "test", "loss")) == 5
    assert any("once each per block" in n.message for n in pc.notes)


def test_counterless_shapes_not_in_blocks_keep_line_order() -> None:
    # a per-batch loss and a rarer validation line: not blocks; read in line order as before
    text = "".join(f"loss: {1 - i / 100:.3f}\n" + ("valid loss: 0.9\n" if i % 4 == 3 else "") for i in range(12))
    src = read(text, "train.log", "text")
    assert [s for s, _ in points(src, "train", "loss")][:4] == [0, 1, 2, 3]
    assert not any("once each per block" in n.message for n in src.notes)


# hatimwen/paddle_greedyhash output/log_train.txt (commit 4a8385db967a6db7440b089615c5ebe28eb36867, lines 2-16 and
# 115-123): two shapes a block, but the epoch is a '[ 1/50]' the reader does not parse, and it restarts for each of
# four runs (bit 12, 24, 32, 48): numbered by block, the runs would be laid end to end. (The whole file stays
# unrecognised, as on main; this excerpt, with fewer other lines, is read in line order, as on main.)
GREEDYHASH = "2022-04-09 23:44:03,570 GreedyHash[ 1/50][23:44:03] bit:12, lr:0.001000000, dataset:cifar10-1, train loss:1.894\n2022-04-09 23:44:39,331 save in checkpoints/bit_12\n2022-04-09 23:44:40,119 GreedyHash epoch:1, bit:12, dataset:cifar10-1, MAP:0.534, Best MAP: 0.534, Acc: 70.600\n2022-04-09 23:44:43,269 GreedyHash[ 2/50][23:44:43] bit:12, lr:0.001000000, dataset:cifar10-1, train loss:1.558\n2022-04-09 23:45:18,991 save in checkpoints/bit_12\n2022-04-09 23:45:21,364 GreedyHash epoch:2, bit:12, dataset:cifar10-1, MAP:0.581, Best MAP: 0.581, Acc: 74.700\n2022-04-09 23:45:24,383 GreedyHash[ 3/50][23:45:24] bit:12, lr:0.001000000, dataset:cifar10-1, train loss:1.320\n2022-04-09 23:46:00,092 save in checkpoints/bit_12\n2022-04-09 23:46:02,475 GreedyHash epoch:3, bit:12, dataset:cifar10-1, MAP:0.633, Best MAP: 0.633, Acc: 80.300\n2022-04-09 23:46:05,490 GreedyHash[ 4/50][23:46:05] bit:12, lr:0.001000000, dataset:cifar10-1, train loss:1.110\n2022-04-09 23:46:41,268 save in checkpoints/bit_12\n2022-04-09 23:46:43,655 GreedyHash epoch:4, bit:12, dataset:cifar10-1, MAP:0.676, Best MAP: 0.676, Acc: 82.300\n2022-04-09 23:46:46,688 GreedyHash[ 5/50][23:46:46] bit:12, lr:0.001000000, dataset:cifar10-1, train loss:0.932\n2022-04-09 23:47:22,367 save in checkpoints/bit_12\n2022-04-09 23:47:25,433 GreedyHash epoch:5, bit:12, dataset:cifar10-1, MAP:0.700, Best MAP: 0.700, Acc: 83.100\n2022-04-10 00:16:30,664 GreedyHash[49/50][00:16:30] bit:12, lr:0.000100000, dataset:cifar10-1, train loss:0.058\n2022-04-10 00:17:05,971 GreedyHash epoch:49, bit:12, dataset:cifar10-1, MAP:0.794, Best MAP: 0.798, Acc: 87.100\n2022-04-10 00:17:09,032 GreedyHash[50/50][00:17:09] bit:12, lr:0.000100000, dataset:cifar10-1, train loss:0.057\n2022-04-10 00:17:44,336 GreedyHash epoch:50, bit:12, dataset:cifar10-1, MAP:0.796, Best MAP: 0.798, Acc: 87.000\n2022-04-10 00:17:45,700 Namespace(alpha=0.1, batch_size=32, crop_size=224, dataset='cifar10-1', epoch=50, epoch_lr_decrease=30, eval=False, eval_epoch=1, learning_rate=0.001, log_path='logs/', model='GreedyHash', momentum=0.9, n_class=10, optimizer='SGD', resize_size=256, save_path='checkpoints/', seed=2000, topK=-1, weight_decay=0.0005)\n2022-04-10 00:17:48,783 GreedyHash[ 1/50][00:17:48] bit:24, lr:0.001000000, dataset:cifar10-1, train loss:1.677\n2022-04-10 00:18:25,009 save in checkpoints/bit_24\n2022-04-10 00:18:25,786 GreedyHash epoch:1, bit:24, dataset:cifar10-1, MAP:0.574, Best MAP: 0.574, Acc: 76.300\n2022-04-10 00:18:28,855 GreedyHash[ 2/50][00:18:28] bit:24, lr:0.001000000, dataset:cifar10-1, train loss:1.178\n"


def test_blocks_with_an_unread_counter_are_not_numbered_by_block() -> None:
    src = read(GREEDYHASH, "log_train.txt")
    assert not any("once each per block" in n.message for n in src.notes)
    assert len(points(src, "train", "loss")) == 9  # each line its own step: the restart stays visible


# ------------------------------------------------------------------ JDE (Towards-Realtime-MOT) train.py table
# scuShaker/jde log_train.txt (commit 5118562040dd0cde0db3447cccb458b08433f615, lines 1, 12-16, 61, 79-86; the last
# line cut): the epoch's header, its rows of running means, an embedding evaluation between epochs.
JDE = "2021-01-25 05:58:00 [INFO]:    Epoch       Batch       box      conf        id     total  nTargets      time\n2021-01-25 05:58:59 [INFO]:     0/29       0/165     0.227      2.06        19       158        83      59.6\n2021-01-25 06:04:17 [INFO]:     0/29      40/165     0.172      1.99      18.7       149      81.4      7.12\n2021-01-25 06:09:34 [INFO]:     0/29      80/165     0.125      1.34      18.2       104      82.6      7.23\n2021-01-25 06:14:50 [INFO]:     0/29     120/165    0.0979     0.937      17.7      69.9      82.5      6.93\n2021-01-25 06:20:07 [INFO]:     0/29     160/165    0.0827     0.729      17.3      51.4      82.2      7.08\n2021-01-25 07:19:59 [INFO]:    Epoch       Batch       box      conf        id     total  nTargets      time\nTPR@FAR=0.0100000: 0.1926\nTPR@FAR=0.1000000: 0.4172\n/opt/conda/lib/python3.6/site-packages/torch/nn/parallel/_functions.py:61: UserWarning: Was asked to gather along dimension 0, but all input tensors were scalars; will instead unsqueeze and return a vector.\n  warnings.warn('Was asked to gather along dimension 0, but all '\n2021-01-25 07:20:13 [INFO]:     1/29       0/165    0.0364     0.104      15.4     -5.01      94.1  3.57e+03\n2021-01-25 07:25:31 [INFO]:     1/29      40/165    0.0351    0.0865      15.5     -5.37      83.5      7.22\n2021-01-25 07:30:46 [INFO]:     1/29      80/165    0.0337    0.0783      15.4     -5.61      82.6       7.1\n2021-01-25 07:36:03 [INFO]:     1/29     120/165     0.032    0.07"


def test_jde_table_one_point_per_epoch_torn_tail() -> None:
    src = read(JDE, "log_train.txt")
    assert src.format == "jde"
    # the last row of an epoch is its mean; the cut row is dropped, so epoch 1 ends at batch 80
    assert points(src, "train", "loss") == [(0, 51.4), (1, -5.61)]
    assert points(src, "train", "box_loss") == [(0, 0.0827), (1, 0.0337)]
    assert points(src, "train", "id_loss") == [(0, 17.3), (1, 15.4)]
    assert {m for m in src.frame.get_column("metric").unique()} == {"loss", "box_loss", "conf_loss", "id_loss"}
    assert "torn_tail" in {n.kind for n in src.notes}


def test_jde_rows_without_values_for_every_column_are_skipped_and_noted() -> None:
    head = JDE.splitlines()[0] + "\n"
    rows = "".join(f"2021-01-25 05:58:59 [INFO]:     {e}/29     160/165     0.227      2.06        19       "
                   f"{158 - e}        83      59.6\n" for e in range(4))
    src = read(head + rows + "2021-01-25 05:58:59 [INFO]:     4/29     160/165     0.227      2.06\n", "log_train.txt")
    assert [s for s, _ in points(src, "train", "loss")] == [0, 1, 2, 3]
    assert "skipped_lines" in {n.kind for n in src.notes}
    with pytest.raises(LossdocError):  # a header and no row: the file's error
        read(head * 3, "log_train.txt", "jde")
