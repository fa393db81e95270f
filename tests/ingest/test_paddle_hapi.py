"""PaddlePaddle ``paddle.Model.fit`` stdout (``ProgBarLogger``, docs/formats-reference.md §10h).

The sample follows ``python/paddle/hapi/callbacks.py`` ``ProgBarLogger`` (``on_epoch_begin``:
``print('Epoch %d/%d' % (epoch + 1, self.epochs))``; ``on_eval_begin``: ``print('Eval begin...')``;
``on_eval_end``: the final values, then ``print('Eval samples: %d' % ...)``) and
``python/paddle/hapi/progressbar.py`` ``ProgressBar.update`` for verbose=2 (``step %Nd/%d``, then
`` - %s: %.4f`` per value, then `` - %.0fms/step``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ROOT / "benchmarks" / "publiclogs" / "logs" / "text" / "jm12138--Paddle-CheXNet--chexnet" / "train.log.gz"


def test_detected_and_steps_counted_over_the_run() -> None:
    src = read_path(sample("paddle-hapi", "lenet"))
    assert src.format == "paddle-hapi"
    # the counter restarts each epoch ('step 10/25' twice); lossdoc's step counts over the run
    assert series(src, "train", "loss") == [(10, 2.1034), (20, 1.2051), (25, 0.871),
                                            (35, 0.6203), (45, 0.5541), (50, 0.4872)]
    # one validation point per evaluation: its last line, at the step training had reached
    assert series(src, "val", "loss") == [(25, 0.912), (50, 0.4407)]
    assert series(src, "val", "accuracy") == [(25, 0.7745), (50, 0.8398)]
    assert ("train", "accuracy", "acc") in keys(src)
    assert src.meta.get("total_steps") == 50 and src.meta.get("total_epochs") == 2
    assert any("current batch" in n.message for n in src.notes)


def test_torn_tail_and_crlf() -> None:
    data = sample("paddle-hapi", "lenet").read_bytes()
    # a log still being written, cut inside the last training line of epoch 2
    cut = data[: data.index(b"step 25/25 - loss: 0.4872") + 20]
    t = read_data(cut, "run/train.log")
    assert [s for s, _ in series(t, "train", "loss")] == [10, 20, 25, 35, 45]
    assert "torn_tail" in note_kinds(t)
    same = read_data(data, "run/train.log").frame
    assert read_data(crlf(data), "run/train.log").frame.equals(same)
    # cut inside the closing 'save checkpoint' line: every value is still read
    assert read_data(torn(data), "run/train.log").frame.equals(same)


def test_second_fit_call_is_laid_after_the_first() -> None:
    data = sample("paddle-hapi", "lenet").read_bytes()
    src = read_data(data + data, "run/train.log")
    assert [s for s, _ in series(src, "train", "loss")][-3:] == [85, 95, 100]
    assert [s for s, _ in series(src, "val", "loss")] == [25, 50, 75, 100]
    assert "restart" in note_kinds(src)


@pytest.mark.skipif(not PUBLIC.is_file(), reason="public log corpus not present")
def test_public_chexnet_log_reads_every_epoch() -> None:
    # 10 epochs of 614 steps, logged every 10 steps; the text reader used to keep only the last 9 points
    src = read_path(PUBLIC)
    assert src.format == "paddle-hapi"
    train = series(src, "train", "loss")
    assert len(train) == 616 and train[0] == (10, 0.1637) and train[-1][0] == 6140
    val = series(src, "val", "loss")
    assert len(val) == 10 and val[0] == (614, 0.1469)  # epoch 1's 'step 88/88 - loss: 0.1469', as logged
