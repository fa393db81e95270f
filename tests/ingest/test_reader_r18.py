"""Reader fixes of round 18: each shape as a few lines in the layout of the public log it came from (source named
above each test; the values here are made up), what lossdoc must read."""

from __future__ import annotations

from tests.ingest.test_reader_notes_dev import read, values

# ------------------------------------------------------------------ full-width punctuation
# taishan1994/pytorch_bilstm_crf_chinese_ner logs/bilstm_crf.log (batch 18's unreadable list): Python logging lines
# whose pairs use the full-width colon, '... - train - 93 - 【train】 epoch：1 step:120/7200 loss：3.215', with a
# '【dev】 loss：41.2 precision：0.71 ...' line every 100 steps. lossdoc said "unrecognised log format".


def _fullwidth(colon: str = "：") -> str:
    out = []
    for step in range(1, 401):
        out.append(f"2021-08-01 10:00:{step % 60:02d},123 - INFO - main.py - train - 93 - 【train】 "
                   f"epoch{colon}{1 + step // 100} step:{step}/400 loss{colon}{5.0 / (1 + step / 50):.6f}")
        if step % 100 == 0:
            out.append(f"2021-08-01 10:01:00,000 - INFO - main.py - train - 99 - 【dev】 loss{colon}"
                       f"{40.0 / (1 + step / 100):.6f} precision{colon}0.7100 recall{colon}0.6800")
    return "\n".join(out) + "\n"


def test_full_width_colons_are_read_as_colons() -> None:
    src = read(_fullwidth(), "bilstm_crf.log")
    assert src.format == "text"
    train = values(src, "train", "loss")
    assert len(train) == 400 and train[0] == round(5.0 / (1 + 1 / 50), 4)
    # the 【dev】 lines are the validation split, not more training points
    assert values(src, "val", "loss") == [round(40.0 / (1 + s / 100), 4) for s in (100, 200, 300, 400)]
    assert len(values(src, "val", "precision")) == 4


def test_the_same_log_with_ascii_colons_reads_the_same() -> None:
    wide, ascii_ = read(_fullwidth(), "a.log"), read(_fullwidth(":"), "b.log")
    for split in ("train", "val"):
        assert values(wide, split, "loss") == values(ascii_, split, "loss")
