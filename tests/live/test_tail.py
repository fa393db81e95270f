"""FileTail / DirTail: a log read piecewise as it grows ends with the rows a plain read gives."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from lossdoc.ingest import read
from lossdoc.live import DirTail, FileTail
from tests.conftest import SAMPLE_LOGS

COLS = ["run", "split", "metric", "name", "step", "epoch", "wall_time", "value"]


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(COLS).sort(COLS, nulls_last=True)


def _text_samples() -> list[str]:
    with open(SAMPLE_LOGS / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for r in rows:
        p = SAMPLE_LOGS / r["path"]
        if p.is_file() and p.stat().st_size < 2_000_000 and "tfevents" not in p.name and not p.name.endswith(
                (".gz", ".bz2", ".xz", ".zst")):
            out.append(r["path"])
    return out


@pytest.mark.parametrize("rel", _text_samples())
def test_growing_file_reads_like_a_plain_read(tmp_path: Path, rel: str) -> None:
    src = SAMPLE_LOGS / rel
    data = src.read_bytes()
    dst = tmp_path / src.name
    tail = FileTail(dst, display=str(dst))
    # Written in five pieces cut mid-line: the torn line must be waited for, not read half.
    cuts = [0] + [len(data) * k // 5 + 3 for k in range(1, 5)] + [len(data)]
    with open(dst, "wb") as fh:
        for a, b in zip(cuts, cuts[1:]):
            fh.write(data[a:b])
            fh.flush()
            tail.poll()
    tail.poll(final=True)
    tail.close()
    got = tail.source()
    want = read(str(dst)).sources[0]
    assert got is not None
    assert got.format == want.format
    assert _rows(got.frame).equals(_rows(want.frame)), f"{rel} read in {tail.mode} mode differs"


def test_line_logs_are_read_piecewise(tmp_path: Path) -> None:
    """nanoGPT lines parse alone: after the test, only appended lines are parsed."""
    p = tmp_path / "train.log"
    p.write_text("".join(f"iter {i}: loss {5 - i / 100:.4f}, time 10.00ms, mfu 1.00%\n" for i in range(100)))
    tail = FileTail(p)
    tail.poll()
    assert tail.mode == "lines"
    with open(p, "a") as fh:
        fh.write("iter 100: loss 3.9000, time 10.00ms, mfu 1.00%\niter 101: lo")
    assert tail.poll()
    loss = tail.source().frame.filter(pl.col("metric") == "loss")
    assert loss.height == 101 and loss["step"].max() == 100  # the torn line is not read
    with open(p, "a") as fh:
        fh.write("ss 3.8000, time 10.00ms, mfu 1.00%\n")
    tail.poll()
    loss = tail.source().frame.filter(pl.col("metric") == "loss")
    assert loss.filter(pl.col("step") == 101)["value"].to_list() == [3.8]
    tail.close()


def test_csv_follows_with_its_header(tmp_path: Path) -> None:
    p = tmp_path / "metrics.csv"
    p.write_text("step,train_loss,val_loss\n" + "".join(f"{i},{3 - i / 100},\n" for i in range(40)))
    tail = FileTail(p)
    tail.poll()
    assert tail.mode in ("lines", "header")
    with open(p, "a") as fh:
        fh.write("40,2.5,2.7\n41,2.4,\n")
    tail.poll()
    assert _rows(tail.source().frame).equals(_rows(read(str(p)).frame))
    tail.close()


def test_rotation_and_truncation_keep_earlier_rows(tmp_path: Path) -> None:
    p = tmp_path / "train.log"

    def lines(a: int, b: int) -> str:
        return "".join(f"iter {i}: loss {5 - i / 100:.4f}, time 10.00ms, mfu 1.00%\n" for i in range(a, b))

    p.write_text(lines(0, 50))
    tail = FileTail(p)
    tail.poll()
    with open(p, "a") as fh:
        fh.write(lines(50, 60))
    p.rename(tmp_path / "train.log.1")  # rotated: the lines written before the rename are drained
    p.write_text(lines(60, 80))
    tail.poll()
    assert any("rotated" in e for e in tail.events)
    steps = tail.source().frame.filter(pl.col("metric") == "loss")["step"]
    assert steps.to_list() == list(range(80))
    p.write_text(lines(80, 85))  # truncated in place (copytruncate)
    tail.poll()
    assert any("truncated" in e for e in tail.events)
    steps = tail.source().frame.filter(pl.col("metric") == "loss")["step"]
    assert steps.to_list() == list(range(85))
    tail.close()


def test_tensorboard_logdir_reads_appended_records(tmp_path: Path) -> None:
    events = sorted((SAMPLE_LOGS / "runs").rglob("events.out.tfevents.*"))
    if not events:
        pytest.skip("no TensorBoard sample")
    ev = events[0]
    logdir = tmp_path / "tb"
    logdir.mkdir()
    data = ev.read_bytes()
    dst = logdir / ev.name
    d = DirTail(logdir)
    with open(dst, "wb") as fh:
        for a, b in ((0, len(data) // 3 + 5), (len(data) // 3 + 5, 2 * len(data) // 3), (2 * len(data) // 3, len(data))):
            fh.write(data[a:b])
            fh.flush()
            d.poll()
    got = pl.concat([s.frame for s in d.source()])
    want = read(str(logdir)).frame
    assert d.mode == "records"
    assert _rows(got).equals(_rows(want))


def test_compressed_log_is_read_whole(tmp_path: Path) -> None:
    import gzip

    p = tmp_path / "train.log.gz"
    text = "".join(f"iter {i}: loss {5 - i / 100:.4f}, time 10.00ms, mfu 1.00%\n" for i in range(50))
    p.write_bytes(gzip.compress(text.encode()))
    tail = FileTail(p)
    assert tail.poll()
    assert tail.mode == "whole"
    assert _rows(tail.source().frame).equals(_rows(read(str(p)).frame))
    tail.close()


def test_watch_refuses_stdin(runner) -> None:
    from lossdoc.cli import main

    res = runner.invoke(main, ["watch", "-"])
    assert res.exit_code == 2 and "lossdoc run" in res.output


def test_json_caught_mid_rewrite_keeps_the_last_good_read(tmp_path: Path) -> None:
    import json

    p = tmp_path / "trainer_state.json"
    hist = [{"loss": 3.0 - i / 100, "step": i * 10, "epoch": i / 10} for i in range(40)]
    p.write_text(json.dumps({"log_history": hist, "global_step": 390}))
    tail = FileTail(p)
    for _ in range(3):  # one line without a newline: read once it stops growing
        tail.poll()
    n = tail.source().height
    assert n > 0
    p.write_text(json.dumps({"log_history": hist + [{"loss": 2.5, "step": 400}]})[:-40])  # half written
    tail.poll()  # (the reader salvages the entries before the cut, with a torn-tail note)
    assert 0 < tail.source().height <= n
    kept = tail.source().height
    p.write_text('{"log_hist')  # nothing to salvage: the last good read stays
    tail.poll()
    assert tail.source().height == kept
    p.write_text(json.dumps({"log_history": hist + [{"loss": 2.5, "step": 400, "epoch": 4.0}]}))
    tail.poll()
    assert tail.source().height == n + 1  # replaced, not added to the earlier reads
    tail.close()


def test_a_new_run_appended_to_a_watched_log_is_read_as_a_whole_read_reads_it(tmp_path: Path) -> None:
    """nanoGPT lines are read piecewise; a second run appended to the log (iter back to 0, loss back at
    its first level) must not be joined to the first: the follower reads it as `analyze` does."""
    def run(n: int, start: float) -> str:
        return "".join(f"iter {i}: loss {start - i / 100:.4f}, time 10.00ms, mfu 1.00%\n" for i in range(n))

    p = tmp_path / "train.log"
    p.write_text(run(100, 5.0))
    tail = FileTail(p)
    tail.poll()
    assert tail.mode == "lines"
    with open(p, "a") as fh:
        fh.write(run(30, 5.01))
    tail.poll()
    got = tail.source()
    want = read(str(p)).sources[0]
    assert _rows(got.frame).equals(_rows(want.frame))
    loss = got.frame.filter(pl.col("metric") == "loss")
    assert loss.height == 30 and loss["value"][0] == 5.01
    assert "several_runs" in [n.kind for n in got.notes]
    tail.close()
