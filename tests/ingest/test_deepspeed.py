"""DeepSpeed stdout.

Sample follows (FORMATS.md §14) ``deepspeed/runtime/engine.py`` ``_report_progress``:
``log_dist(f"step={step}, skipped={self.skipped_steps}, lr={lr}, mom={mom}", ranks=[0])`` (``log_dist`` prefixes
``[Rank 0] ``; logger format ``[%(asctime)s] [%(levelname)s] [%(filename)s:%(lineno)d:%(funcName)s] %(message)s``);
``deepspeed/runtime/pipe/engine.py`` ``train_batch``: ``f'steps: {self.global_steps} loss: {self.agg_train_loss:0.4f} '
f'iter time (s): {iter_time:0.3f} samples/sec: {tput:0.3f}'``; loss scaler:
``[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768``.
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("deepspeed", "pipe"))
    assert src.format == "deepspeed"
    assert_golden(src.frame, "deepspeed/pipe.csv")


def test_series() -> None:
    src = read_path(sample("deepspeed", "pipe"))
    loss = series(src, "train", "loss")
    assert loss[0] == (10, 2.3456) and math.isnan(loss[1][1])
    assert series(src, "train", "lr") == [(10, 4.9e-05), (20, 5.0e-05)]
    assert series(src, "train", "lr_pg1") == [(10, 1e-05), (20, 1e-05)]
    assert series(src, "train", "skipped_steps") == [(10, 1.0), (20, 3.0)]
    # two overflows after step 10: the scale ends at 16384 there
    assert series(src, "train", "loss_scale") == [(10, 16384.0)]
    assert src.meta["overflow_count"] == 2
    assert ("train", "throughput", "samples/sec") in keys(src)


def test_torn_tail_and_crlf() -> None:
    data = sample("deepspeed", "pipe").read_bytes()
    t = read_data(torn(data), "pipe/train.log")
    assert "torn_tail" in note_kinds(t) and [s for s, _ in series(t, "train", "loss")] == [10]
    c = read_data(crlf(data), "pipe/train.log")
    assert c.frame.equals(read_path(sample("deepspeed", "pipe")).frame)


def test_detected() -> None:
    path = sample("deepspeed", "pipe")
    assert choose(open_file(path)).name == "deepspeed"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "deepspeed"


def test_host_prefixed_lines_of_a_multi_node_launch() -> None:
    text = (
        "worker-0: [2024-05-01 10:00:00,123] [INFO] [logging.py:96:log_dist] [Rank 0] step=10, skipped=0, "
        "lr=[4.9e-05], mom=[(0.9, 0.999)]\n"
        "worker-0: steps: 10 loss: 2.3456 iter time (s): 0.812 samples/sec: 78.818\n"
        "worker-0: steps: 20 loss: 2.1000 iter time (s): 0.811 samples/sec: 78.9\n"
    )
    src = read_data(text.encode(), "multi/train.log")
    assert src.format == "deepspeed"
    assert series(src, "train", "loss") == [(10, 2.3456), (20, 2.1)]
    assert series(src, "train", "lr") == [(10, 4.9e-05)]


def test_additional_losses_of_newer_pipeline_engines() -> None:
    # pipe/engine.py: log_str += f'{loss_name}: {loss_value.item():0.4f} ' for agg_additional_losses
    text = (
        "steps: 10 loss: 2.3456 moe_loss: 0.0123 iter time (s): 0.812 samples/sec: 78.818\n"
        "steps: 20 loss: 2.2000 moe_loss: 0.0120 iter time (s): 0.810 samples/sec: 79.000\n"
    )
    src = read_data(text.encode(), "moe/train.log")
    assert src.format == "deepspeed"
    assert series(src, "train", "loss") == [(10, 2.3456), (20, 2.2)]
    assert series(src, "train", "moe_loss") == [(10, 0.0123), (20, 0.012)]
    assert series(src, "train", "iter_time_s") == [(10, 0.812), (20, 0.81)]
