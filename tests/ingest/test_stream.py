"""Chunked streaming of big clean logs (``ingest.text.stream_queries``) and the nanoGPT fast path.

The fast path must give exactly the rows of the line-numbered regex path, whatever the chunk
size (lines cut at chunk boundaries, a line longer than a chunk), and must step aside for input
only ``load_lines`` handles (control bytes, rank prefixes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lossdoc.ingest import open_file, read
from lossdoc.ingest.formats.nanogpt import NanoGPTParser
from lossdoc.ingest.text import stream_queries


def _log(tmp_path: Path, n: int, *, name: str = "train.log", extra: str = "", nan_at: int | None = None) -> Path:
    rng = np.random.default_rng(7)
    lines = ["Overriding config with config/train_gpt2.py:", "tokens per iteration will be: 491,520"]
    for i in range(n):
        if i % 100 == 0:
            lines.append(f"step {i}: train loss {4 - i / n:.4f}, val loss {4.1 - i / n:.4f}")
        loss = "nan" if i == nan_at else f"{4 - i / n + 0.05 * rng.standard_normal():.4f}"
        lines.append(f"iter {i}: loss {loss}, time {90 + rng.random() * 20:.2f}ms, mfu {30 + rng.random():.2f}%")
        if i % 777 == 0:
            lines.append('[W reducer.cpp:1300] Warning: find_unused_parameters=True "quoted", x')
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n" + extra)
    return p


def _slow(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The regex path with line numbers (what the parser falls back to)."""
    from lossdoc.ingest.text import load_lines

    parser = NanoGPTParser()
    it, ev, _ = parser._extract(load_lines(open_file(path, str(path))).lazy(), "in-memory", check_ranks=False)
    return it.drop("lineno"), ev.drop("lineno")


@pytest.mark.parametrize("chunk", [200, 4096, 1 << 20])
def test_stream_queries_cut_at_any_chunk_size_keeps_every_line(tmp_path: Path, chunk: int) -> None:
    path = _log(tmp_path, 3000)
    inp = open_file(path, str(path))
    (lens,) = stream_queries(inp, lambda lines: [lines.select(pl.col("line").str.len_bytes().cast(pl.Int64))],
                             chunk_bytes=chunk)
    expected = [len(line.encode()) for line in path.read_text().splitlines()]
    assert lens.get_column("line").to_list() == expected


def test_a_line_longer_than_a_chunk_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_text("a\n" + "x" * 5000 + "\nb\n")
    (got,) = stream_queries(open_file(path, str(path)),
                            lambda lines: [lines.select(pl.col("line").str.len_bytes().cast(pl.Int64))],
                            chunk_bytes=1000)
    assert got.get_column("line").to_list() == [1, 5000, 1]


def test_nulls_survive_packing_and_estimate_growth(tmp_path: Path) -> None:
    # the first chunk holds no matching row, so the capacity estimate is far too small and must grow
    path = tmp_path / "grow.log"
    path.write_text("header\n" * 50 + "".join(f"v {i if i % 3 else 'x'}\n" for i in range(5000)))

    def q(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
        return [lines.filter(pl.col("line").str.starts_with("v "))
                .select(pl.col("line").str.slice(2).cast(pl.Int64, strict=False).alias("n"))]

    (got,) = stream_queries(open_file(path, str(path)), q, chunk_bytes=256)
    assert got.height == 5000
    assert got.get_column("n").to_list() == [i if i % 3 else None for i in range(5000)]


@pytest.mark.parametrize("dirt", ["\x1b[32mcolour\x1b[0m", "progress\r", "[rank1]: iter 3: loss 1.0, time 1ms"])
def test_input_only_load_lines_can_clean_is_refused(tmp_path: Path, dirt: str) -> None:
    path = _log(tmp_path, 500, extra=dirt + "\n")
    assert stream_queries(open_file(path, str(path)), lambda lines: [lines], chunk_bytes=1024) is None


@pytest.mark.parametrize("chunk", [512, 1 << 16])
def test_nanogpt_fast_path_equals_the_regex_path(tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import lossdoc.ingest.text as text

    monkeypatch.setattr(text, "CHUNK_BYTES", chunk)
    path = _log(tmp_path, 5000, nan_at=1234)
    fast = NanoGPTParser()._fast(open_file(path, str(path)))
    assert fast is not None
    it, ev = _slow(path)
    assert_frame_equal(fast[0], it)
    assert_frame_equal(fast[1], ev)
    assert np.isnan(fast[0].filter(pl.col("step") == 1234).item(0, "value"))  # a logged NaN stays a value


def test_nanogpt_blocks_hold_literal_keys_and_read_as_the_contract_table(tmp_path: Path) -> None:
    path = _log(tmp_path, 2000)
    src = read(path).sources[0]
    assert len(src.blocks) == 4  # loss, step time, estimated train loss, val loss: one block each
    frame = src.frame
    assert frame.columns == ["run", "split", "metric", "name", "step", "epoch", "wall_time", "value"]
    counts = {(sp, m): n for sp, m, n in frame.group_by("split", "metric", maintain_order=True).len().iter_rows()}
    assert counts == {("train", "loss"): 2000, ("train", "step_time_ms"): 2000,
                      ("train", "estimated_loss"): 20, ("val", "loss"): 20}


def test_torn_last_line_is_dropped_with_a_note_on_the_fast_path(tmp_path: Path) -> None:
    path = _log(tmp_path, 300, extra="iter 300: loss 3.1")  # cut mid-number, no line break
    src = read(path).sources[0]
    train = src.frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
    assert train.height == 300 and train.get_column("step").max() == 299
    assert [n.kind for n in src.notes] == ["torn_tail"]


def test_reading_reports_its_progress_through_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lossdoc.ingest.text as text

    monkeypatch.setattr(text, "CHUNK_BYTES", 4096)
    path = _log(tmp_path, 3000)
    seen: list[str] = []
    read(path, progress=seen.append)
    assert seen[0] == f"reading {path}"
    pct = [int(m.rsplit("(", 1)[1].rstrip("%)")) for m in seen[1:]]
    assert len(pct) > 10 and pct == sorted(pct) and pct[-1] == 100


def test_text_results_are_joined_across_pieces(tmp_path: Path) -> None:
    # a query returning text (not numbers) is concatenated piece by piece instead of packed
    path = tmp_path / "words.log"
    words = [f"w{i}" for i in range(2000)]
    path.write_text("\n".join(words) + "\n")
    (got,) = stream_queries(open_file(path, str(path)), lambda lines: [lines.select("line")], chunk_bytes=300)
    assert got.get_column("line").to_list() == words


def test_a_loss_the_fast_cast_cannot_read_sends_the_file_to_the_regex_path(tmp_path: Path) -> None:
    # the fast path casts the loss text as it stands; a padded value ("3.9302 ,") is null there, so
    # the whole file goes to the regex path, which reads it like any other line
    path = _log(tmp_path, 400, extra="iter 400: loss 2.5000 , time 95.00ms, mfu 30.00%\n")
    assert NanoGPTParser()._fast(open_file(path, str(path))) is None
    train = read(path).sources[0].frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
    assert train.height == 401 and train.filter(pl.col("step") == 400).item(0, "value") == 2.5


def test_non_finite_losses_stay_on_the_fast_path(tmp_path: Path) -> None:
    path = _log(tmp_path, 300, extra="".join(f"iter {300 + i}: loss {v}, time 95.00ms, mfu 30.00%\n"
                                             for i, v in enumerate(["inf", "-inf", "+nan", "NaN"])))
    fast = NanoGPTParser()._fast(open_file(path, str(path)))
    assert fast is not None
    tail = fast[0].filter(pl.col("step") >= 300).get_column("value").to_list()
    assert tail[:2] == [float("inf"), float("-inf")] and all(np.isnan(tail[2:]))
    assert_frame_equal(fast[0], _slow(path)[0])


# --------------------------------------------------------------------------- llm.c main.log
def _main_log(tmp_path: Path, n: int, *, extra: str = "", every: int = 250) -> Path:
    rng = np.random.default_rng(11)
    out = []
    for i in range(n):
        if i % every == 0:
            out.append(f"s:{i} tel:{4 - i / n:.4f}")
        if i % (2 * every) == 0 and i:
            out.append(f"s:{i} eval:{0.25 + i / n / 10:.4f}")
        loss = "-nan" if i == 777 else f"{4 - i / n + 0.05 * rng.standard_normal():.4f}"
        out.append(f"s:{i} trl:{loss} lr:{6e-4 * min(1, i / 100):.6f} norm:{1 + rng.random():.2f}")
    p = tmp_path / "run" / "main.log"
    p.parent.mkdir(exist_ok=True)
    p.write_text("\n".join(out) + "\n" + extra)
    return p


def _llmc_both(path: Path, monkeypatch: pytest.MonkeyPatch):
    """(streamed read, line-numbered read) of one file, as sources."""
    from lossdoc.ingest.formats.llmc import LlmcParser

    fast = read(path).sources[0]
    with monkeypatch.context() as m:
        m.setattr(LlmcParser, "_fast_main", lambda self, inp: None)
        slow = read(path).sources[0]
    return fast, slow


@pytest.mark.parametrize("chunk", [300, 1 << 16])
def test_llmc_main_log_streamed_equals_the_line_numbered_path(tmp_path: Path, chunk: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import lossdoc.ingest.text as text
    from lossdoc.ingest.formats.llmc import LlmcParser

    monkeypatch.setattr(text, "CHUNK_BYTES", chunk)
    path = _main_log(tmp_path, 3000)
    assert LlmcParser()._fast_main(open_file(path, str(path))) is not None  # the streamed path is taken
    fast, slow = _llmc_both(path, monkeypatch)
    assert_frame_equal(fast.frame, slow.frame)
    assert [b.item(0, "name") for b in fast.blocks] == ["tel", "trl", "lr", "norm", "eval"]
    loss = fast.frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
    assert loss.height == 3000 and np.isnan(loss.filter(pl.col("step") == 777).item(0, "value"))


@pytest.mark.parametrize("tail", [
    "s:3000 trl:3.1 lr:0.0006 norm:1.",  # reads as a whole row: the row is dropped
    "s:3000 tel:",                       # reads as a row with no value: dropped
    "s:3000 trl:3.1", "s:3000 trl:3.1 lr:0.0006 no", "s:30",  # no shape: not counted as unread
])
def test_llmc_torn_last_line_streamed_like_the_line_numbered_path(tmp_path: Path, tail: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # a log still being written: the cut line is dropped with a torn_tail note on both paths
    from lossdoc.ingest.formats.llmc import LlmcParser

    path = _main_log(tmp_path, 1000, extra=tail)
    assert LlmcParser()._fast_main(open_file(path, str(path))) is not None
    fast, slow = _llmc_both(path, monkeypatch)
    assert_frame_equal(fast.frame, slow.frame)
    assert [(n.kind, n.line) for n in fast.notes] == [(n.kind, n.line) for n in slow.notes]
    assert [n.kind for n in fast.notes] == ["torn_tail"]


@pytest.mark.parametrize("odd", [
    "s:500 trl:3.0 lr:0.0006",           # another shape in the middle of the file
    "s:+500 tel:3.0",                    # a signed step (not llm.c's %d)
    "s:500 tel:three",                   # an unreadable value: a skipped_lines note on the other path
    "step 5/100 | loss 3.0 | norm 1.0",  # stdout lines in the same file
])
def test_llmc_lines_the_stream_does_not_read_go_to_the_line_numbered_path(
        tmp_path: Path, odd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lossdoc.ingest.formats.llmc import LlmcParser

    path = _main_log(tmp_path, 1000)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:600] + [odd] + lines[600:]) + "\n")
    assert LlmcParser()._fast_main(open_file(path, str(path))) is None
    fast, slow = _llmc_both(path, monkeypatch)
    assert_frame_equal(fast.frame, slow.frame)
