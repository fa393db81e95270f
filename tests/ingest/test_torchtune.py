"""torchtune ``DiskLogger`` lines.

Sample follows ``torchtune/training/metric_logging.py`` ``DiskLogger.log_dict`` (FORMATS.md §10d):
``self._file.write(f"Step {step} | ")``, then ``self._file.write(f"{name}:{data} ")`` per item, then ``"\\n"``;
``grad_norm`` is a tensor, so ``str()`` gives ``tensor(0.8123, device='cuda:0')``.
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("torchtune", "lora"))
    assert src.format == "torchtune"
    assert_golden(src.frame, "torchtune/lora.csv")


def test_tensor_values_and_names() -> None:
    src = read_path(sample("torchtune", "lora"))
    assert series(src, "train", "grad_norm")[:2] == [(1, 1.2345), (2, 0.8123)]
    assert math.isnan(series(src, "train", "grad_norm")[2][1]) and math.isnan(series(src, "train", "loss")[2][1])
    assert ("train", "throughput", "tokens_per_second_per_gpu") in keys(src)


def test_torn_tail_and_crlf() -> None:
    data = sample("torchtune", "lora").read_bytes()
    t = read_data(torn(data, cut=30), "lora/log_1712345678.txt")
    assert "torn_tail" in note_kinds(t) and [s for s, _ in series(t, "train", "loss")] == [1, 2]
    c = read_data(crlf(data), "lora/log_1712345678.txt")
    assert c.frame.equals(read_path(sample("torchtune", "lora")).frame)


def test_detected() -> None:
    path = sample("torchtune", "lora")
    assert choose(open_file(path)).name == "torchtune"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "torchtune"
