"""Megatron-LM / Megatron-DeepSpeed stdout.

Samples in ``tests/ingest/data/megatron/`` follow the format strings of ``NVIDIA/Megatron-LM``
``megatron/training/training.py`` ``training_log`` (`` iteration {:8d}/{:8d} |``, ``{key}: {:.6E} |`` only
``if avg > 0.0``, the two counters) and ``evaluate_and_print_results`` (`` validation loss at {prefix} | ``
``{key} value: {:.6E} | {key} PPL: {:.6E} | ``), and ``microsoft/Megatron-DeepSpeed`` ``megatron/training.py``
(``consumed tokens``, ``{:.3E}`` learning rate, ``samples per second``); see FORMATS.md section 7.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import lossdoc
from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, series, torn

DATA = Path(__file__).parent / "data" / "megatron"


@pytest.mark.parametrize("case", ["lm", "deepspeed"])
def test_golden(case: str) -> None:
    src = read_path(DATA / f"{case}.log")
    assert src.format == "megatron"
    assert_golden(src.frame, f"megatron/{case}.csv")


def test_training_line_values() -> None:
    src = read_path(DATA / "lm.log")
    loss = series(src, "train", "loss")
    assert loss[:2] == [(100, 8.123456), (200, 6.904512)]
    # 'lm loss: NAN' is kept as NaN; iteration 400 prints no loss segment at all (average NaN, nothing skipped)
    assert [s for s, _ in loss] == [100, 200, 300, 400, 500]
    assert math.isnan(loss[2][1]) and math.isnan(loss[3][1])
    assert series(src, "train", "grad_norm")[2] == (300, math.inf)
    assert series(src, "train", "lr")[0] == (100, 1.5e-05)
    assert series(src, "train", "consumed_samples")[-1] == (500, 256000.0)
    assert series(src, "train", "nan_iterations") == [(s, 0.0) for s in (100, 200, 300, 400, 500)]
    assert src.meta["total_steps"] == 500000
    assert "hidden_nan" in note_kinds(src)
    hidden = next(n for n in src.notes if n.kind == "hidden_nan")
    assert hidden.step == 400 and hidden.count == 1


def test_validation_blocks() -> None:
    src = read_path(DATA / "lm.log")
    assert series(src, "val", "loss") == [(200, 6.812345), (500, 5.701234)]
    assert series(src, "val", "perplexity") == [(200, 908.9999), (500, 299.1)]
    assert series(src, "test", "loss") == [(500, 5.712345)]
    assert ("val", "loss", "lm loss") in keys(src)


def test_deepspeed_layout_and_skipped_window() -> None:
    src = read_path(DATA / "deepspeed.log")
    assert src.format == "megatron"
    # iteration 20: every iteration of the window skipped (fp16 overflow) -> no loss there, a note says so
    assert series(src, "train", "loss") == [(10, 6.401234), (30, 6.201234)]
    assert series(src, "train", "skipped_iterations") == [(10, 0.0), (20, 10.0), (30, 2.0)]
    assert series(src, "train", "nan_iterations")[-1] == (30, 1.0)
    assert series(src, "train", "consumed_tokens")[0] == (10, 10485760.0)
    assert series(src, "train", "loss_scale") == [(10, 4096.0), (20, 2048.0), (30, 2048.0)]
    assert series(src, "train", "throughput")[0] == (10, 390.778)
    assert "hidden_nan" not in note_kinds(src)
    # "the end of training for val data" has no iteration: placed at the last logged one
    assert series(src, "val", "loss") == [(30, 6.1)]
    assert "inferred" in note_kinds(src)
    assert src.meta["total_steps"] == 100


def test_other_loss_keys_keep_their_names() -> None:
    line = (" iteration {i:8d}/     100 | consumed samples: {s:12d} | learning rate: 1.000000E-04 | "
            "global batch size:   512 | lm loss: 3.000000E+00 | mtp_1 loss: 3.500000E+00 | "
            "load_balancing_loss: 1.010000E+00 | loss scale: 1.0 | grad norm: 1.000 | "
            "number of skipped iterations:   0 | number of nan iterations:   0 |\n")
    data = "".join(line.format(i=i, s=i * 512) for i in (1, 2)).encode()
    src = read_data(data, "moe.log")
    assert src.format == "megatron"
    got = {m for _, m, _ in keys(src)}
    assert {"loss", "mtp_1_loss", "load_balancing_loss"} <= got
    assert series(src, "train", "mtp_1_loss") == [(1, 3.5), (2, 3.5)]


def test_broken_variants() -> None:
    data = (DATA / "lm.log").read_bytes()
    clean = read_path(DATA / "lm.log").frame
    assert read_data(crlf(data), "lm.log").frame.equals(clean)
    ansi = data.replace(b" iteration ", b"\x1b[32m iteration ").replace(b"| \n", b"|\x1b[0m \n")
    assert read_data(ansi, "lm.log").frame.equals(clean)
    ranked = b"".join(b"[rank7]:" + ln for ln in data.splitlines(keepends=True))
    assert read_data(ranked, "lm.log").frame.equals(clean)
    tb = (b"Traceback (most recent call last):\n  File \"pretrain_gpt.py\", line 1, in <module>\n"
          b"RuntimeError: CUDA error: an illegal memory access | was encountered\n")
    mixed = data.replace(b"saving checkpoint", tb + b"saving checkpoint")
    assert read_data(mixed, "lm.log").frame.equals(clean)
    t = read_data(torn(data, cut=40), "lm.log")
    assert "torn_tail" in note_kinds(t)


def test_torn_training_line_is_ignored() -> None:
    data = (DATA / "deepspeed.log").read_bytes()
    cut = data[: data.index(b" iteration       30/")] + b" iteration       30/     100 | consumed samples:    "
    src = read_data(cut, "ds.log")
    assert "torn_tail" in note_kinds(src)
    assert [s for s, _ in series(src, "train", "consumed_samples")] == [10, 20]


def test_detected_and_not_confused() -> None:
    for p in DATA.iterdir():
        assert choose(open_file(p)).name == "megatron", p
        assert choose(from_bytes(p.read_bytes(), name="<stdin>", inner_name="stdin")).name == "megatron"


def test_read_api() -> None:
    logs = lossdoc.read(DATA / "lm.log")
    assert [s.format for s in logs.sources] == ["megatron"]


def _training_line(i: int, total: int, segments: list[str], prefix: str = " [2024-06-01 10:15:42]") -> str:
    """A training line as ``training_log`` prints it: `` iteration {:8d}/{:8d} |`` then `` {key}: {value} |``."""
    return f"{prefix} iteration {i:8d}/{total:8d} | " + " | ".join(segments) + " |\n"


def _segments(i: int, *, loss: bool = True, mtp: bool = False, skipped: int = 0, nan: int = 0,
              grad: str = "grad norm: {g:.3f}") -> list[str]:
    segs = [f"consumed samples: {i * 512:12d}", f"elapsed time per iteration (ms): {1000 + i:.1f}",
            f"learning rate: {i * 1e-6:.6E}", "global batch size:   512"]
    if loss:
        segs.append(f"lm loss: {10 - i / 10:.6E}")
    if mtp:
        segs.append(f"mtp_1 loss: {11 - i / 10:.6E}")
    segs += ["loss scale: 1.0", grad.format(g=1 + i / 100), f"number of skipped iterations: {skipped:3d}",
             f"number of nan iterations: {nan:3d}"]
    return segs


def test_long_run_layouts_counters_and_odd_lines() -> None:
    # 60 lines: 'mtp_1 loss' joins at iteration 31 (a second layout), two fp16-overflow windows skip
    # (counter 2, no loss), one window counts a NaN iteration, three lines each carry a segment the
    # others lack, one an extra space: every value read as printed, whichever way the line is read.
    lines = []
    extra = {50: "params norm: 123.456", 51: "num zeros: 5.0", 52: "consumed tokens: 1048576"}
    for i in range(1, 61):
        skip = i in (7, 33)
        segs = _segments(i, loss=not skip, mtp=i >= 31 and not skip, skipped=2 if skip else 0, nan=int(i == 12),
                         grad="grad norm:  {g:.3f}" if i == 45 else "grad norm: {g:.3f}")
        if i in extra:
            segs.insert(1, extra[i])
        lines.append(_training_line(i, 60, segs))
    src = read_data("".join(lines).encode(), "long.log")
    assert src.format == "megatron"
    steps = [i for i in range(1, 61) if i not in (7, 33)]
    assert series(src, "train", "loss") == [(i, pytest.approx(10 - i / 10, rel=1e-6)) for i in steps]
    assert series(src, "train", "mtp_1_loss") == [(i, pytest.approx(11 - i / 10, rel=1e-6))
                                                 for i in range(31, 61) if i != 33]
    assert series(src, "train", "skipped_iterations") == [(i, 2.0 if i in (7, 33) else 0.0) for i in range(1, 61)]
    assert series(src, "train", "grad_norm")[44] == (45, pytest.approx(1.45))
    assert series(src, "train", "consumed_samples")[-1] == (60, 30720.0)
    assert series(src, "train", "nan_iterations")[10:13] == [(11, 0.0), (12, 1.0), (13, 0.0)]
    assert series(src, "train", "params_norm") == [(50, 123.456)]
    assert series(src, "train", "consumed_tokens") == [(52, 1048576.0)]
    assert "hidden_nan" not in note_kinds(src)
    assert src.meta["total_steps"] == 60


def test_resumed_run_with_another_total_and_non_ascii_prefix() -> None:
    # The run is resumed with --train-iters 200 at iteration 21 (and the last line says 300); some
    # lines carry a non-ASCII prefix (a logger's tick mark): values must not shift by its extra bytes.
    lines = [_training_line(i, 100 if i <= 20 else 200 if i < 40 else 300, _segments(i),
                            prefix=" ✓" if i % 3 == 0 else "") for i in range(1, 41)]
    src = read_data("".join(lines).encode(), "resumed.log")
    assert series(src, "train", "loss") == [(i, pytest.approx(10 - i / 10, rel=1e-6)) for i in range(1, 41)]
    assert series(src, "train", "lr")[2] == (3, pytest.approx(3e-6, rel=1e-6))
    assert src.meta["total_steps"] == 300


def _parsed(path: Path, *, streamed: bool) -> str:
    """The blocks, notes and meta the parser gives ``path``, as text (NaN == NaN there)."""
    from lossdoc.ingest.formats.megatron import MegatronParser

    parser = MegatronParser()
    if not streamed:
        parser._stream = lambda inp: None  # type: ignore[method-assign]  # the whole-file path
    res = parser.parse(open_file(path))
    return repr(([b.to_dicts() for b in res.blocks], res.notes, res.meta))


def _big_log() -> str:
    """~700 training lines with validation blocks, a second layout, odd and skipped lines, noise."""
    out = ["------------------------ arguments ------------------------\n", "  train_iters .... 700\n"]
    for i in range(1, 701):
        skip = i % 97 == 0
        segs = _segments(i, loss=not skip, mtp=i > 350 and not skip, skipped=3 if skip else 0, nan=int(i % 131 == 0),
                         grad="grad norm:  {g:.3f}" if i % 89 == 0 else "grad norm: {g:.3f}")
        if i % 151 == 0:
            segs.insert(1, "params norm: 12.5")
        out.append(_training_line(i, 700, segs))
        if i % 100 == 0:
            out.append(f" validation loss at iteration {i} | lm loss value: {5 - i / 1000:.6E} | "
                       f"lm loss PPL: {150 - i / 10:.6E} | \n")
        if i % 250 == 0:
            out.append("WARNING: something | happened here\n\n")
    out.append(" validation loss at the end of training for val data | lm loss value: 4.100000E+00 | \n")
    return "".join(out)


@pytest.mark.parametrize("piece", [1 << 24, 4096])
def test_streamed_read_equals_whole_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    # A plain log on disk is read in pieces, never whole: same rows, notes and meta as the whole-file
    # path, including lines cut by a piece's end, torn last lines and lines read again by key.
    import lossdoc.ingest.text as text

    monkeypatch.setattr(text, "CHUNK_BYTES", piece)
    big = _big_log().encode()
    long_run = "".join(_training_line(i, 60, _segments(i, mtp=i >= 31)) for i in range(1, 61)).encode()
    cases = {p.name: p.read_bytes() for p in DATA.iterdir()}
    cases |= {"big.log": big, "big_torn.log": torn(big, cut=40), "big_torn_val.log": big[:-30],
              "long.log": long_run, "lm_torn.log": torn((DATA / "lm.log").read_bytes(), cut=40),
              "ds_torn.log": (DATA / "deepspeed.log").read_bytes()[:-200]}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        whole = _parsed(path, streamed=False)
        assert "'lm loss'" in whole and _parsed(path, streamed=True) == whole, name
    assert "torn_tail" in _parsed(tmp_path / "big_torn.log", streamed=True)


def test_streamed_read_holds_no_text_of_training_lines(tmp_path: Path) -> None:
    from lossdoc.ingest.formats.megatron import MegatronParser

    path = tmp_path / "big.log"
    path.write_text(_big_log())
    got = MegatronParser()._stream(open_file(path))
    assert got is not None
    rows, texts, _, n, torn = got
    assert not torn
    assert n == _big_log().count("\n")
    # the text kept: validation lines and lines that did not read by position, not the ~700 others
    assert 8 <= texts.lines.len() < 60
    assert rows.height < n


@pytest.mark.parametrize("cut", [0, 40])
def test_a_log_growing_while_read_is_read_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: int) -> None:
    # Lines appended after the read began (lossdoc watch on a live run) are not read: the file is read
    # up to the size it had, and the torn-line note is about that end, not about the end it has now.
    import lossdoc.ingest.formats.megatron as mod
    import lossdoc.ingest.text as text

    monkeypatch.setattr(text, "CHUNK_BYTES", 4096)
    big = _big_log().encode()
    was = torn(big, cut=cut) if cut else big
    (tmp_path / "was.log").write_bytes(was)
    expected = _parsed(tmp_path / "was.log", streamed=True)
    grown = tmp_path / "grown.log"
    grown.write_bytes(was + big[len(was):] + _training_line(701, 700, _segments(701)).encode()[:50])
    monkeypatch.setattr(mod, "snapshot", lambda inp: (len(was), bool(cut)))
    assert _parsed(grown, streamed=True) == expected.replace("'was'", "'grown'")
