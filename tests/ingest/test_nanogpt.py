"""nanoGPT stdout (``karpathy/nanoGPT`` ``train.py``, commit e2221318).

Samples in ``tests/ingest/data/nanogpt/`` follow ``print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss
{losses['val']:.4f}")`` and ``print(f"iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms, mfu
{running_mfu*100:.2f}%")`` (``running_mfu`` starts at the -1.0 sentinel); ``old_revision.log`` is the layout from
before MFU was added (``iter N: loss X, time Yms``). FORMATS.md section 5.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

DATA = Path(__file__).parent / "data" / "nanogpt"


@pytest.mark.parametrize("case", ["shakespeare", "old_revision"])
def test_golden(case: str) -> None:
    src = read_path(DATA / f"{case}.log")
    assert src.format == "nanogpt"
    assert_golden(src.frame, f"nanogpt/{case}.csv")


def test_values() -> None:
    src = read_path(DATA / "shakespeare.log")
    loss = series(src, "train", "loss")
    assert loss[:2] == [(0, 4.2657), (10, 3.2385)]
    assert [s for s, v in loss if math.isnan(v)] == [70, 80]  # 'loss nan' kept
    assert series(src, "val", "loss") == [(0, 4.2823), (60, 2.4695)]
    # the eval line's train loss is a different estimate from the iter lines': its own metric
    assert series(src, "train", "estimated_loss") == [(0, 4.2874), (60, 2.4471)]
    assert series(src, "train", "step_time_ms")[0] == (0, 31250.47)
    assert ("train", "loss", "loss") in keys(src)


def test_broken_variants() -> None:
    data = (DATA / "shakespeare.log").read_bytes()
    clean = read_path(DATA / "shakespeare.log").frame
    assert read_data(crlf(data), "shakespeare.log").frame.equals(clean)
    ansi = data.replace(b"iter ", b"\x1b[36miter ").replace(b"%\n", b"%\x1b[0m\n")
    assert read_data(ansi, "shakespeare.log").frame.equals(clean)
    ranked = b"".join(b"[rank0]: " + ln for ln in data.splitlines(keepends=True))
    assert read_data(ranked, "shakespeare.log").frame.equals(clean)
    # a tqdm-like redraw sharing the physical line with an iter line
    redraw = data.replace(b"iter 30:", b"loading  50%|#####     |\rloading 100%|##########|\riter 30:")
    assert read_data(redraw, "shakespeare.log").frame.equals(clean)
    warn = data.replace(b"iter 40:", b"/site-packages/torch/_inductor/utils.py:1: UserWarning: iter 3 loss\niter 40:")
    assert read_data(warn, "shakespeare.log").frame.equals(clean)
    t = read_data(torn(data), "shakespeare.log")
    assert "torn_tail" in note_kinds(t)
    assert [s for s, _ in series(t, "train", "loss")][-1] == 70


def test_detected_and_not_confused() -> None:
    for p in DATA.iterdir():
        assert choose(open_file(p)).name == "nanogpt", p
        assert choose(from_bytes(p.read_bytes(), name="<stdin>", inner_name="stdin")).name == "nanogpt"
