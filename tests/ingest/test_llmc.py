"""llm.c ``main.log`` and stdout.

Samples in ``tests/ingest/data/llmc/`` follow ``karpathy/llm.c``: ``llmc/logger.h``
(``s:%d trl:%.4f lr:%.6f norm:%.2f``, ``s:%d tel:%.4f``, ``s:%d eval:%.4f``; 0-based step),
``train_gpt2.cu`` (``step %4d/%d | loss %7.6f (%+.2fz)| norm %6.4f (%+.2fz)| lr %.2e | %.2f ms | %.1f%% bf16 MFU |
%.0f tok/s`` with ``step + 1``; ``val loss %f``; ``HellaSwag: %d/%d = %f``), ``train_gpt2.py``
(``step {step+1:4d}/{N} | train loss {lossf:.6f} | norm ... | lr ... | ({ms:.2f} ms | {tok_s:.0f} tok/s)``) and
``train_gpt2.c`` (``step %d: train loss %f (took %f ms)``); FORMATS.md section 6.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

DATA = Path(__file__).parent / "data" / "llmc"
CASES = ["main", "train_gpt2cu", "train_gpt2cu_old", "train_gpt2py", "train_gpt2c"]


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    src = read_path(DATA / f"{case}.log")
    assert src.format == "llmc"
    assert_golden(src.frame, f"llmc/{case}.csv")


def test_main_log() -> None:
    src = read_path(DATA / "main.log")
    assert src.frame["run"][0] == "llmc"  # main.log is a generic name: the run is the directory
    loss = series(src, "train", "loss")
    assert loss[0] == (0, 11.0092) and math.isnan(loss[3][1]) and loss[3][0] == 3
    assert series(src, "val", "loss") == [(0, 11.0065), (5, 9.0011)]
    assert series(src, "val", "hellaswag_accuracy") == [(5, 0.2741)]
    assert series(src, "train", "lr")[1] == (1, 0.000012)
    assert math.isnan(series(src, "train", "grad_norm")[3][1])
    assert ("train", "loss", "trl") in keys(src) and ("val", "loss", "tel") in keys(src)


def test_cuda_stdout_steps_match_main_log() -> None:
    """stdout prints step+1; shifted back, its train losses land on main.log's 0-based steps, and each
    'val loss' (no step printed) on the loop index where main.log writes 's:N tel'."""
    out = read_path(DATA / "train_gpt2cu.log")
    main = read_path(DATA / "main.log")
    assert [s for s, _ in series(out, "train", "loss")] == [0, 1, 2, 3, 4]
    assert series(out, "train", "loss")[0] == (0, 11.009171)
    assert math.isnan(series(out, "train", "loss")[2][1])  # "-nan" kept
    # the second 'val loss' is printed at loop index 4, before the line 'step 5/...': main.log would say 's:4 tel'
    assert series(out, "val", "loss") == [(0, 11.006542), (4, 9.0011)]
    assert series(main, "val", "loss")[0][0] == 0
    assert series(out, "val", "hellaswag_accuracy") == [(0, 0.245071), (4, 0.274049)]
    assert series(out, "train", "throughput")[0] == (0, 856223.0)
    assert out.meta["total_steps"] == 18865
    assert "inferred" in note_kinds(out)


def test_python_and_c_stdout() -> None:
    py = read_path(DATA / "train_gpt2py.log")
    assert series(py, "train", "loss") == [(0, 11.009171), (1, 10.5123), (2, 9.9876)]
    assert series(py, "val", "loss") == [(0, 10.9876), (2, 10.4321)]
    assert py.meta["total_steps"] == 50
    c = read_path(DATA / "train_gpt2c.log")
    assert series(c, "train", "loss") == [(0, 4.677779), (1, 5.191576), (2, 4.438656), (3, 4.162234)]
    assert series(c, "val", "loss") == [(0, 5.325529), (3, 4.615403)]
    assert "total_steps" not in c.meta


def test_older_cuda_layout() -> None:
    """Earlier train_gpt2.cu: ``step %4d/%d: train loss %f (%f ms, %.0f tok/s)``, later with ``norm``/``lr``."""
    src = read_path(DATA / "train_gpt2cu_old.log")
    loss = series(src, "train", "loss")
    assert loss[:3] == [(0, 10.981734), (1, 10.112208), (2, 9.546101)] and math.isnan(loss[3][1])
    assert series(src, "train", "grad_norm")[0] == (1, 12.3456)
    assert series(src, "train", "lr")[1] == (2, 1.2e-05)
    assert series(src, "val", "loss") == [(0, 10.981247), (3, 9.201123)]
    assert src.meta["total_steps"] == 74


def test_fork_extra_keys() -> None:
    data = b"s:0 trl:10.9 lr:0.0001 norm:1.00 train_time:1234ms step_avg:45.67ms\ns:1 trl:10.1 lr:0.0001 norm:0.90 " \
           b"train_time:1280ms step_avg:46.00ms\n"
    src = read_data(data, "run/main.log")
    assert src.format == "llmc"
    assert series(src, "train", "step_avg_ms") == [(0, 45.67), (1, 46.0)]
    assert ("train", "step_avg_ms", "step_avg") in keys(src)


def test_broken_variants() -> None:
    data = (DATA / "train_gpt2cu.log").read_bytes()
    clean = read_path(DATA / "train_gpt2cu.log").frame
    assert read_data(crlf(data), "train_gpt2cu.log").frame.equals(clean)
    ansi = data.replace(b"step ", b"\x1b[1mstep ").replace(b" tok/s\n", b" tok/s\x1b[0m\n")
    assert read_data(ansi, "train_gpt2cu.log").frame.equals(clean)
    ranked = b"".join(b"[rank0]: " + ln for ln in data.splitlines(keepends=True))
    assert read_data(ranked, "train_gpt2cu.log").frame.equals(clean)
    t = read_data(torn(data), "train_gpt2cu.log")
    assert "torn_tail" in note_kinds(t)
    m = read_data(torn((DATA / "main.log").read_bytes()), "x/main.log")
    assert "torn_tail" in note_kinds(m) and series(m, "val", "hellaswag_accuracy") == []


def test_detected_and_not_confused() -> None:
    for p in DATA.iterdir():
        assert choose(open_file(p)).name == "llmc", p
        assert choose(from_bytes(p.read_bytes(), name="<stdin>", inner_name="stdin")).name == "llmc", p
