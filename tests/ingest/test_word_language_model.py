"""pytorch/examples ``word_language_model`` stdout.

Sample follows ``word_language_model/main.py`` (commit cd01f930, read with the search tool):
``print('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | ms/batch {:5.2f} | loss {:5.2f} | ppl {:8.2f}'.format(...))``,
``print('-' * 89)``,
``print('| end of epoch {:3d} | time: {:5.2f}s | valid loss {:5.2f} | valid ppl {:8.2f}'.format(...))``,
``print('=' * 89)``, ``print('| End of training | test loss {:5.2f} | test ppl {:8.2f}'.format(...))``.
"""

from __future__ import annotations

import math

from lossdoc.ingest import choose
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.ingest.golden import assert_golden
from tests.ingest.longtail import crlf, note_kinds, read_data, read_path, sample, series, torn


def test_golden() -> None:
    src = read_path(sample("pytorch-wlm", "lstm"))
    assert src.format == "pytorch-wlm"
    assert_golden(src.frame, "pytorch-wlm/lstm.csv")


def test_global_batch_axis() -> None:
    src = read_path(sample("pytorch-wlm", "lstm"))
    loss = series(src, "train", "loss")
    assert loss[:2] == [(200, 7.63), (400, 6.85)]
    assert loss[2][0] == 2983 + 200 and math.isnan(loss[2][1])
    assert series(src, "val", "loss") == [(2983, 5.85)]
    assert series(src, "val", "perplexity") == [(2983, 347.01)]
    assert series(src, "test", "loss") == [(3183, 5.77)]
    assert src.meta["batches_per_epoch"] == 2983


def test_format_matches_the_source_format_string() -> None:
    # Built with main.py's own format string so the regex is checked against it, not against a hand copy.
    line = ('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | ms/batch {:5.2f} | '
            'loss {:5.2f} | ppl {:8.2f}').format(12, 2800, 2983, 0.31, 123.456, 4.5678, math.exp(4.5678))
    src = read_data((line + "\n").encode(), "x/output.log")
    assert src.format == "pytorch-wlm"
    assert series(src, "train", "loss") == [(11 * 2983 + 2800, 4.57)]
    assert series(src, "train", "lr") == [(11 * 2983 + 2800, 0.31)]


def test_torn_tail_and_crlf() -> None:
    data = sample("pytorch-wlm", "lstm").read_bytes()
    t = read_data(torn(data.rstrip(b"=\n")), "lstm/output.log")
    assert "torn_tail" in note_kinds(t) and series(t, "test", "loss") == []
    c = read_data(crlf(data), "lstm/output.log")
    assert c.frame.equals(read_path(sample("pytorch-wlm", "lstm")).frame)


def test_detected() -> None:
    path = sample("pytorch-wlm", "lstm")
    assert choose(open_file(path)).name == "pytorch-wlm"
    assert choose(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin")).name == "pytorch-wlm"
