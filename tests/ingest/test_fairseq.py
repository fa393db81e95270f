"""fairseq ``--log-format simple`` / ``json`` logs.

Sample lines follow (FORMATS.md §8, ``facebookresearch/fairseq``):
- ``fairseq/logging/progress_bar.py`` ``SimpleProgressBar.log``:
  ``"{}:  {:5d} / {:d} {}".format(self.prefix, self.i + 1, self.size, postfix)`` with prefix ``epoch {:03d}``
  and ``postfix = ", ".join(key + "=" + stats[key].strip() ...)``;
- ``SimpleProgressBar.print``: ``"{} | {}".format(self.prefix, postfix)`` with ``" | ".join(key + " " + ...)``,
  validation prefix ``epoch {:03d} | valid on '{subset}' subset``;
- ``JsonProgressBar.log`` / ``print``: ``json.dumps(stats)`` with ``update`` and string values, the tag as key prefix.
Each line is prefixed by the logging format ``%(asctime)s | %(levelname)s | %(name)s | %(message)s``.
The ``legacy`` sample is fairseq < 0.10, which printed the same bars without logging, the prefix being
``'| epoch {:03d}'`` (``progress_bar.build_progress_bar``; ``print('{}:  {:5d} / {:d} {}'.format(self.prefix, i, size,
postfix))`` and ``print('{} | {}'.format(self.prefix, postfix))``).
"""

from __future__ import annotations

import math

import pytest

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, keys, note_kinds, read_data, read_path, sample, series, torn


@pytest.mark.parametrize("case", ["simple", "json", "legacy"])
def test_golden(case: str) -> None:
    src = read_path(sample("fairseq", case))
    assert src.format == "fairseq"
    assert_golden(src.frame, f"fairseq/{case}.csv")


def test_losses_kept_in_bits_and_said_so() -> None:
    src = read_path(sample("fairseq", "simple"))
    assert src.meta["loss_base"] == 2
    loss = series(src, "train", "loss")
    assert loss[0] == (100, 9.812) and loss[1][0] == 200 and math.isnan(loss[1][1])
    assert series(src, "val", "loss") == [(1563, 8.534)]
    assert series(src, "train", "epoch_loss") == [(1563, 10.345)]
    assert series(src, "train", "perplexity")[0] == (100, 835.12)
    assert series(src, "train", "grad_norm")[1][1] == math.inf


def test_inner_epoch_is_fractional() -> None:
    src = read_path(sample("fairseq", "simple"))
    row = src.frame.filter((src.frame["metric"] == "loss") & (src.frame["step"] == 100))
    assert row["epoch"].to_list() == [pytest.approx(100 / 1563)]


def test_json_values_are_strings_and_keys_prefixed() -> None:
    src = read_path(sample("fairseq", "json"))
    k = keys(src)
    assert ("val", "loss", "valid_loss") in k and ("val", "best_loss", "valid_best_loss") in k
    assert ("train", "epoch_loss", "train_loss") in k
    assert series(src, "train", "loss") == [(100, 9.812)]
    assert series(src, "val", "loss") == [(3126, 7.912)]


def test_overflow_notes_are_counted() -> None:
    src = read_path(sample("fairseq", "simple"))
    assert any(n.kind == "other" and n.count == 1 and "overflow" in n.message for n in src.notes)


def test_second_valid_subset_gets_its_own_metric() -> None:
    text = (
        "2024-03-01 10:11:30 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 8.534 | num_updates 1563\n"
        "2024-03-01 10:11:31 | INFO | valid1 | epoch 001 | valid on 'valid1' subset | loss 9.1 | num_updates 1563\n"
        "2024-03-01 10:11:32 | INFO | test | epoch 001 | valid on 'test' subset | loss 9.3 | num_updates 1563\n"
    )
    src = read_data(text.encode(), "run/train.log", "fairseq")
    assert series(src, "val", "loss") == [(1563, 8.534)]
    assert series(src, "val", "valid1_loss") == [(1563, 9.1)]
    assert series(src, "test", "loss") == [(1563, 9.3)]


def test_torn_tail_and_crlf() -> None:
    data = sample("fairseq", "simple").read_bytes()
    t = read_data(torn(data), "run/train.log")
    assert "torn_tail" in note_kinds(t)
    assert series(t, "train", "epoch_loss") == []  # the cut end-of-epoch line is not read
    c = read_data(crlf(data), "simple/train.log")
    assert c.frame.equals(read_path(sample("fairseq", "simple")).frame)


@pytest.mark.parametrize("case", ["simple", "json", "legacy"])
def test_detected(case: str) -> None:
    path = sample("fairseq", case)
    assert choose(open_file(path)).name == "fairseq"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "fairseq"


def test_legacy_unprefixed_lines() -> None:
    src = read_path(sample("fairseq", "legacy"))
    assert series(src, "train", "loss") == [(100, 9.812), (200, 9.101)]
    assert series(src, "train", "epoch_loss") == [(1563, 10.345)]
    assert series(src, "val", "loss") == [(1563, 8.534)]
    assert src.frame["wall_time"].null_count() == src.frame.height
