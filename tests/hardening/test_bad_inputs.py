"""Inputs that are not logs, and logs that are partly broken (issue #8).

Not a log: ``lossdoc.read`` raises an :class:`InputError` whose one-line message names the path
and the reason. Partly usable: every row that is there is read, exactly as the clean log gives
it, and a note says what was skipped or repaired.
"""

from __future__ import annotations

import gzip
import lzma
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import lossdoc
from lossdoc.errors import EmptyInputError, InputError, UnknownFormatError
from lossdoc.ingest import inputs, open_file, rank
from lossdoc.ingest.inputs import InputFile
from tests.hardening.cases import (
    COMPRESSORS,
    N,
    csv_text,
    jsonl_text,
    loss_at,
    nanogpt_text,
    noisy_bytes,
    tfevents_bytes,
    trainer_state,
    write,
)


# --------------------------------------------------------------------------- not a log
def _broken_symlink(tmp: Path) -> Path:
    link = tmp / "gone.log"
    link.symlink_to(tmp / "deleted.log")
    return link


def _fifo(tmp: Path) -> Path:
    p = tmp / "pipe.log"
    os.mkfifo(p)
    return p


def _dir_without_logs(tmp: Path) -> Path:
    write(tmp / "d" / "README.md", "# notes\nnothing to see\n")
    write(tmp / "d" / "empty.log", "")
    write(tmp / "d" / "model.bin", noisy_bytes(4096, seed=3))
    return tmp / "d"


NOT_A_LOG: list[tuple[str, Callable[[Path], Path], type[InputError], str]] = [
    ("empty", lambda t: write(t / "e.log", ""), EmptyInputError, "file is empty"),
    ("binary", lambda t: write(t / "w.bin", noisy_bytes(20_000, seed=1)), UnknownFormatError, "unrecognised log format"),
    ("prose", lambda t: write(t / "notes.txt", "It was the best of times, it was the worst of times.\n" * 40),
     UnknownFormatError, "unrecognised log format"),
    ("huge-single-line", lambda t: write(t / "one.log", "x" * 400_000), UnknownFormatError, "unrecognised"),
    ("only-a-bom", lambda t: write(t / "bom.log", b"\xef\xbb\xbf"), InputError, "bom.log"),
    ("only-nul-bytes", lambda t: write(t / "nul.log", b"\x00" * 5000), InputError, "nul.log"),
    ("header-only-csv", lambda t: write(t / "m.csv", "step,loss\n"), EmptyInputError, "no rows"),
    ("empty-dir", lambda t: (t / "empty").mkdir() or t / "empty", EmptyInputError, "no recognised training log"),
    ("dir-without-logs", _dir_without_logs, EmptyInputError, "no recognised training log"),
    ("missing", lambda t: t / "no-such.log", InputError, "no such file or directory"),
    ("broken-symlink", _broken_symlink, InputError, "broken symbolic link"),
    ("fifo", _fifo, InputError, "not a regular file"),
    ("gz-header-only", lambda t: write(t / "c.log.gz", gzip.compress(nanogpt_text().encode())[:6]), InputError,
     "cannot decompress"),
    ("gz-garbage", lambda t: write(t / "c.log.gz", b"\x1f\x8b\x08\x00" + noisy_bytes(3000, seed=2)), InputError,
     "corrupt gzip data"),
    ("gz-of-nothing", lambda t: write(t / "c.log.gz", gzip.compress(b"")), EmptyInputError, "file is empty"),
]


@pytest.mark.parametrize(("make", "error", "reason"), [pytest.param(*c[1:], id=c[0]) for c in NOT_A_LOG])
def test_not_a_log_is_one_clear_error(tmp_path: Path, make: Callable[[Path], Path], error: type[InputError],
                                      reason: str) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as exc:
        lossdoc.read(path)
    assert isinstance(exc.value, error), type(exc.value)
    msg = str(exc.value)
    assert msg.startswith(str(path)), msg  # names the path first
    assert reason in msg and "\n" not in msg


def test_unreadable_file_says_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "secret.log", nanogpt_text())
    real_access = os.access
    # chmod 000 does not stop root (CI containers): deny the access check itself.
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == path else real_access(p, mode, **kw))
    with pytest.raises(InputError, match=r"secret\.log: permission denied"):
        lossdoc.read(path)


def test_directory_error_names_the_files_it_could_not_use(tmp_path: Path) -> None:
    with pytest.raises(EmptyInputError) as exc:
        lossdoc.read(_dir_without_logs(tmp_path))
    assert "README.md" in str(exc.value) and "--format" in str(exc.value)


def test_sniffing_reads_only_the_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-GB log is never read whole just to find its format: every sniffer sees the first 64 KiB (and
    the last 64 KiB where the head holds none of its lines)."""
    path = write(tmp_path / "big.log", nanogpt_text(20_000))  # ~1 MiB, far more than the head
    reads: list[int] = []
    real_open = open

    def counting_open(file, mode="r", *a, **kw):  # type: ignore[no-untyped-def]
        fh = real_open(file, mode, *a, **kw)
        if Path(file) == path and "b" in mode:
            real_read = fh.read
            fh.read = lambda n=-1: (reads.append(n), real_read(n))[1]  # type: ignore[method-assign]
        return fh

    monkeypatch.setattr(InputFile, "read_bytes", lambda self: pytest.fail("sniffing read the whole file"))
    monkeypatch.setattr("builtins.open", counting_open)
    inp = open_file(path)
    best = rank(inp)[0]
    assert best.parser.name == "nanogpt"
    assert reads and all(0 < n <= inputs.HEAD_BYTES for n in reads), reads


# --------------------------------------------------------------------------- partly usable
def _loss(logs: lossdoc.LogSet, split: str = "train") -> list[tuple[int, float]]:
    f = logs.frame.filter((pl.col("split") == split) & (pl.col("metric") == "loss")).sort("step")
    return list(zip(f.get_column("step").to_list(), f.get_column("value").to_list()))


def _kinds(logs: lossdoc.LogSet) -> dict[str, lossdoc.model.IngestNote]:
    return {n.kind: n for n in logs.notes}


EXPECTED = [(i, loss_at(i)) for i in range(N)]


def _tqdm(i: int) -> str:
    return f"\r 40%|####      | {i}/{N} [00:01<00:02, 50.0it/s]"


PARTLY_USABLE: list[tuple[str, str, bytes, str | None]] = [
    # id, file name, content, note kind expected (None: a clean read)
    ("torn-last-line", "train.log", (nanogpt_text() + "iter 120: loss 1.2").encode(), "torn_tail"),
    ("crlf", "train.log", nanogpt_text().replace("\n", "\r\n").encode(), None),
    ("utf-8-bom", "train.log", b"\xef\xbb\xbf" + nanogpt_text().encode(), None),
    ("utf-16-le", "train.log", nanogpt_text().encode("utf-16"), "decoding"),
    ("utf-16-be", "train.log", b"\xfe\xff" + nanogpt_text().encode("utf-16-be"), "decoding"),
    ("latin-1", "train.log", ("# d\xe9part (caf\xe9)\n" + nanogpt_text()).encode("latin-1"), "decoding"),
    ("nul-bytes-in-head", "train.log", (nanogpt_text(60) + "\x00" * 512 + nanogpt_text(start=60)).encode(),
     "decoding"),
    ("nul-block-past-head", "train.log",
     (nanogpt_text(60) + "\x00" * 4096 + nanogpt_text(start=60)).encode().replace(b"mfu", b"mfu" + b" " * 600, 59),
     "decoding"),
    ("ansi-colours", "train.log",
     "".join(f"\x1b[1;32miter {i}\x1b[0m: loss \x1b[33m{loss_at(i):.4f}\x1b[0m, time 12.34ms, mfu 10.00%\n"
             for i in range(N)).encode(), None),
    ("tqdm-carriage-returns", "train.log",
     "".join(_tqdm(i) + f"\niter {i}: loss {loss_at(i):.4f}, time 12.34ms, mfu 10.00%\n" for i in range(N)).encode(),
     None),
    ("ranks-interleaved", "train.log",
     "".join(f"[rank{r}]: iter {i}: loss {loss_at(i) + r:.4f}, time 12.34ms, mfu 10.00%\n"
             for i in range(N) for r in (1, 0)).encode(), "other"),
    ("csv-ragged-rows", "metrics.csv",
     csv_text().replace("\n5,3.7118,\n", "\n5,3.7118,,extra,cells\n", 1).replace("\n6,3.6575,\n", "\n6,3.6575\n")
     .encode(), "other"),
    ("csv-stray-quote", "metrics.csv",
     csv_text().replace("step,loss,val_loss\n", "step,loss,val_loss,note\n", 1)
     .replace("\n3,3.8236,\n", '\n3,3.8236,,5" screen\n', 1).encode(), None),
    ("csv-quoted-multiline-header", "metrics.csv",
     csv_text().replace("step,loss,val_loss\n", 'step,loss,val_loss,"a; b; c\nd"\n', 1).encode(), None),
    ("csv-garbled-row", "metrics.csv", csv_text().replace("\n7,", "\n#!?,", 1).encode(), "skipped_lines"),
    ("jsonl-torn-record", "m.jsonl", (jsonl_text() + '{"step": 120, "lo').encode(), "torn_tail"),
    ("jsonl-garbled-record", "m.jsonl",
     jsonl_text().replace('{"step": 7, "loss": 3.6044}', "\x07#!?@ corrupt [[", 1).encode(), "skipped_lines"),
]


@pytest.mark.parametrize(("name", "data", "kind"), [pytest.param(*c[1:], id=c[0]) for c in PARTLY_USABLE])
def test_partly_usable_keeps_every_good_row(tmp_path: Path, name: str, data: bytes, kind: str | None) -> None:
    logs = lossdoc.read(write(tmp_path / name, data))
    got = _loss(logs)
    lost = {7} if kind == "skipped_lines" else set()  # the garbled row, and only it
    assert got == [e for e in EXPECTED if e[0] not in lost]
    if kind is not None:
        assert kind in _kinds(logs), [n.to_dict() for n in logs.notes]


def test_torn_last_line_note_points_at_it(tmp_path: Path) -> None:
    logs = lossdoc.read(write(tmp_path / "train.log", nanogpt_text() + "iter 120: loss 1.2"))
    note = _kinds(logs)["torn_tail"]
    assert note.line == N + 1


def test_garbled_lines_are_counted_with_their_first_line(tmp_path: Path) -> None:
    text = jsonl_text().replace('{"step": 7, "loss": 3.6044}', "#!?@ 7", 1).replace('{"step": 9,', "]]] 9,", 1)
    logs = lossdoc.read(write(tmp_path / "m.jsonl", text))
    note = _kinds(logs)["skipped_lines"]
    assert (note.count, note.line) == (2, 8)
    assert [s for s, _ in _loss(logs)] == [i for i in range(N) if i not in (7, 9)]


def test_trainer_state_json_being_written(tmp_path: Path) -> None:
    text = trainer_state()
    cut = text.index('"step": 90') + 5  # cut inside the 90th log_history entry
    logs = lossdoc.read(write(tmp_path / "out" / "trainer_state.json", text[:cut]))
    assert _loss(logs) == [(i, loss_at(i)) for i in range(1, 90)]
    assert "torn_tail" in _kinds(logs)


def test_tensorboard_record_cut_short(tmp_path: Path) -> None:
    data = tfevents_bytes()
    logs = lossdoc.read(write(tmp_path / "tb" / "events.out.tfevents.1700000000.host", data[:-7]))
    got = _loss(logs)
    assert [s for s, _ in got] == list(range(N - 1))  # every complete record, not the cut one
    assert all(abs(v - loss_at(s)) < 1e-6 for s, v in got)  # float32 on disk
    assert "torn_tail" in _kinds(logs)


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_compressed_log_cut_short_keeps_what_decompressed(tmp_path: Path, suffix: str) -> None:
    text = nanogpt_text(20_000).encode()  # 1.2 MB: several bzip2 -1 blocks
    whole = COMPRESSORS[suffix](text)
    logs_full = lossdoc.read(write(tmp_path / f"full.log{suffix}", whole))
    assert len(_loss(logs_full)) == 20_000 and not logs_full.notes
    logs = lossdoc.read(write(tmp_path / f"cut.log{suffix}", whole[: len(whole) * 4 // 5]))
    got = _loss(logs)
    assert 0 < len(got) < 20_000
    assert got == _loss(logs_full)[: len(got)]  # a prefix of the real rows, values untouched
    messages = [n.message for n in logs.notes if n.kind == "torn_tail"]
    assert any("stream ends early" in m for m in messages), messages


def test_compressed_log_with_corrupt_block(tmp_path: Path) -> None:
    text = nanogpt_text(20_000).encode()
    whole = bytearray(lzma.compress(text))
    whole[len(whole) // 2] ^= 0xFF
    logs = lossdoc.read(write(tmp_path / "bad.log.xz", bytes(whole)))
    got = _loss(logs)
    assert 0 < len(got) < 20_000 and got == [(i, loss_at(i)) for i in range(len(got))]
    assert any("corrupt xz data" in n.message for n in logs.notes if n.kind == "torn_tail")


def test_concatenated_gzip_members_are_one_log(tmp_path: Path) -> None:
    """``cat a.gz b.gz`` (logrotate, appending jobs) is valid gzip: both members are read."""
    data = gzip.compress(nanogpt_text(60).encode()) + gzip.compress(nanogpt_text(start=60).encode())
    assert _loss(lossdoc.read(write(tmp_path / "x.log.gz", data))) == EXPECTED


def test_compression_is_recognised_by_content(tmp_path: Path) -> None:
    plain_named_gz = lossdoc.read(write(tmp_path / "a.log.gz", nanogpt_text()))
    assert _loss(plain_named_gz) == EXPECTED and "other" in _kinds(plain_named_gz)
    gz_without_suffix = lossdoc.read(write(tmp_path / "b.log", gzip.compress(nanogpt_text().encode())))
    assert _loss(gz_without_suffix) == EXPECTED


# --------------------------------------------------------------------------- resource limits
def test_decompression_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "MAX_DECOMPRESSED_BYTES", 4 * 1024**2)
    bomb = gzip.compress(b"\x00" * (64 * 1024**2), compresslevel=9) * 16  # 1 GiB from ~1 MiB (16 members)
    path = write(tmp_path / "bomb.log.gz", bomb)
    consumed: list[int] = []
    real_open = open

    def tracking_open(file, mode="r", *a, **kw):  # type: ignore[no-untyped-def]
        fh = real_open(file, mode, *a, **kw)
        if Path(file) == path:
            real_read = fh.read
            fh.read = lambda n=-1: (lambda b: (consumed.append(len(b)), b)[1])(real_read(n))  # type: ignore[method-assign]
        return fh

    monkeypatch.setattr("builtins.open", tracking_open)
    with pytest.raises(InputError, match=r"bomb\.log\.gz: decompresses to more than 4\.0 MiB"):
        lossdoc.read(path)
    assert sum(consumed) < len(bomb)  # stopped at the cap, not after inflating everything


def test_plain_file_too_large_to_hold_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Formats read whole (a JSON document) refuse a file above the in-memory cap instead of exhausting memory."""
    monkeypatch.setattr(inputs, "MAX_DECOMPRESSED_BYTES", 64 * 1024)
    path = write(tmp_path / "out" / "trainer_state.json", trainer_state(3000))
    with pytest.raises(InputError, match="more than this format's reader holds in memory"):
        lossdoc.read(path)
    # Line-oriented logs stream from disk and are not affected by the cap.
    assert len(_loss(lossdoc.read(write(tmp_path / "big.log", nanogpt_text(5000))))) == 5000


def test_log_too_large_for_the_memory_stops_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOSSDOC_IGNORE_MEMORY", raising=False)
    monkeypatch.setattr(inputs, "_available_memory", lambda: 100_000)  # a machine with ~100 kB free
    path = write(tmp_path / "train.log", nanogpt_text(2000))
    with pytest.raises(InputError) as exc:
        lossdoc.read(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: file is ") and "of memory and 97.7 KiB is available" in msg
    assert "LOSSDOC_IGNORE_MEMORY=1" in msg
    # ... the same from a compressed file, checked while it decompresses
    monkeypatch.setattr(inputs, "_available_memory", lambda: 64 * 1024**2)
    big = write(tmp_path / "big.log.gz", gzip.compress(b"x" * (80 * 1024**2)))
    with pytest.raises(InputError, match=r"big\.log\.gz: decompresses to more than 64\.\d MiB: reading it needs about"):
        lossdoc.read(big)
    # A directory walk only checks the files it parses: a huge unrecognised file is skipped, not fatal.
    monkeypatch.setattr(inputs, "_available_memory", lambda: 1_000_000)
    write(tmp_path / "d" / "model.bin", noisy_bytes(400_000, seed=8))
    write(tmp_path / "d" / "train.log", nanogpt_text(50))
    assert len(_loss(lossdoc.read(tmp_path / "d"))) == 50
    monkeypatch.setenv("LOSSDOC_IGNORE_MEMORY", "1")
    assert len(_loss(lossdoc.read(path))) == 2000


def test_memory_check_uses_the_readers_own_peak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A log that a reader streams from disk (peak ~1-1.6x the file at 10^7 points) is read on a machine
    with 4x its size free; a trainer_state.json that goes through ``json`` (peak ~7x) is refused there
    with the memory it would need."""
    monkeypatch.delenv("LOSSDOC_IGNORE_MEMORY", raising=False)
    log = write(tmp_path / "train.log", nanogpt_text(2000))
    monkeypatch.setattr(inputs, "_available_memory", lambda: 4 * log.stat().st_size)
    assert len(_loss(lossdoc.read(log))) == 2000
    entries = ",".join(f'{{"step": {i}, "loss": {1 + 1 / (i + 1):.6f}, "epoch": {i / 100:.2f}}}' for i in range(1, 400))
    state = write(tmp_path / "trainer_state.json", '{"global_step": 399, "log_history": [' + entries + "]}")
    size = state.stat().st_size
    monkeypatch.setattr(inputs, "_available_memory", lambda: 4 * size)
    with pytest.raises(InputError, match=r"trainer_state\.json: file is .*: reading it needs about") as exc:
        lossdoc.read(state)
    assert inputs._size(8 * size) in str(exc.value)
    monkeypatch.setattr(inputs, "_available_memory", lambda: 9 * size)
    assert len(_loss(lossdoc.read(state))) == 399


def test_tensorboard_logdir_with_one_corrupt_file(tmp_path: Path) -> None:
    """A damaged event record costs only itself (issue 15: its framing is intact, so the records
    after it are read too); the other runs are unaffected."""
    good = tfevents_bytes()
    bad = bytearray(good)
    bad[len(good) // 2] ^= 0xFF
    write(tmp_path / "logs" / "a" / "events.out.tfevents.1700000000.host", good)
    write(tmp_path / "logs" / "b" / "events.out.tfevents.1700000001.host", bytes(bad))
    logs = lossdoc.read(tmp_path / "logs")
    per_run = logs.frame.filter(pl.col("metric") == "loss").group_by("run").len().sort("run")
    n_a, n_b = per_run.get_column("len").to_list()
    assert n_a == N and n_b == N - 1
    assert any("undecodable payload skipped (first: record 60" in n.message for n in logs.notes)


def test_huge_directory_walk_is_capped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lossdoc.ingest as ingest

    monkeypatch.setattr(ingest, "MAX_DIR_FILES", 5)
    write(tmp_path / "d" / "a_train.log", nanogpt_text(30))
    for i in range(8):
        write(tmp_path / "d" / f"z{i}.txt", "notes\n")
    logs = lossdoc.read(tmp_path / "d")
    assert len(_loss(logs)) == 30
    assert any(n.kind == "truncated_input" and "more than 5 files" in n.message for n in logs.notes)


def test_jsonl_record_with_a_damaged_step_key_overwrites_nothing(tmp_path: Path) -> None:
    text = jsonl_text().replace('{"step": 45, "loss": 2.2086}', '{"step" 45, "loss": 99.0}', 1)
    assert '"step" 45' in text
    logs = lossdoc.read(write(tmp_path / "m.jsonl", text))
    assert _loss(logs) == [e for e in EXPECTED if e[0] != 45]
    note = next(n for n in logs.notes if n.kind == "skipped_lines")
    assert (note.line, note.count) == (46, 1)


def test_stdin_that_is_a_terminal_is_refused_not_waited_on(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty())
    with pytest.raises(InputError, match="<stdin>: standard input is a terminal"):
        lossdoc.read("-")


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param('{"schema": "lossdoc/snapshot-1", "runs": "nope"}', id="runs-not-a-list"),
        pytest.param('{"schema": "lossdoc/snapshot-1", "runs": [{"run": "a", "train_loss": "x"}]}', id="curve-not-an-object"),
        pytest.param('{"schema": "lossdoc/snapshot-1", "runs": [{"run": "a", "train_loss": {"bins": {"step": [1, 2], '
                     '"mean": [1]}, "tail": {"step": [], "value": []}}}]}', id="lengths-differ"),
        pytest.param('{"schema": "lossdoc/snapshot-1"', id="torn-json"),
    ],
)
def test_malformed_baseline_snapshot_is_an_input_error(tmp_path: Path, doc: str) -> None:
    from lossdoc.compare import load_baselines

    path = write(tmp_path / "baseline.json", doc)
    with pytest.raises(InputError):
        load_baselines([str(path)])
