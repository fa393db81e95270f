"""A hand-rolled text log that begins after its run's first epoch ("Epoch [2/2], Step [1/12942]").

Such a file (the last epoch's log only, or a resumed run's own file) used to be read on 'Step' alone,
from step 1: lossdoc then judged it as training from scratch and warned that a loss which "fell only 6%
over the run" was too slow to learn (3ZadeSSG/Automatic-Image-Captioning training_log.txt, epoch 2 of 2).
The epochs before it were trained; the step counts them, and the finding says the start is unknown.
"""

from __future__ import annotations

import math

import lossdoc
from lossdoc.checks.findings import Severity
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import Source


def _log(epochs: range, per: int, total: int) -> str:
    lines = []
    for e in epochs:
        for s in range(1, per + 1):
            g = (e - 1) * per + s  # the run's own step: the loss falls slowly, as late in training
            lines.append(f"Epoch [{e}/{total}], Step [{s}/{per}], Loss: {2.3 - 0.1 * math.log(g):.4f}")
    return "\n".join(lines) + "\n"


def read(text: str) -> Source:
    inp = from_bytes(text.encode(), name="training_log.txt")
    inp.run_name = "run"
    return read_input(inp)


def _steps(src: Source) -> list[int]:
    return src.frame.filter(src.frame["metric"] == "loss").sort("step")["step"].to_list()


def _inferred(src: Source) -> list[str]:
    return [n.message for n in src.notes if n.kind == "inferred"]


def test_last_epoch_alone_counts_the_epochs_before_it() -> None:
    src = read(_log(range(2, 3), 200, 2))
    assert _steps(src) == list(range(201, 401))  # (2 - 1) x 200 + Step
    msgs = _inferred(src)
    note = next(m for m in msgs if "the log starts at epoch 2 of 2" in m)
    assert "1 epoch before it was trained but not logged" in note
    assert "step = (epoch - 1) x 200 + Step (200 per epoch, as printed)" in note
    # an epoch that reached its printed total ("2/2") shows the numbering starts at 1: no 0-based caveat
    assert "numbered from 0" not in note


def test_several_epochs_from_a_later_one_are_offset_with_a_caveat() -> None:
    src = read(_log(range(3, 6), 50, 10))
    assert _steps(src)[0] == 101 and _steps(src)[-1] == 250
    note = next(m for m in _inferred(src) if "the log starts at epoch 3 of 10" in m)
    assert "2 epochs before it were trained" in note
    assert "one epoch more if the epochs are numbered from 0" in note  # 3/10 does not show where counting starts


def test_a_log_from_the_first_epoch_is_read_as_before() -> None:
    src = read(_log(range(1, 3), 100, 2))
    assert _steps(src) == list(range(1, 201))
    assert not any("the log starts at epoch" in m for m in _inferred(src))


def test_epoch_without_a_printed_total_is_not_offset() -> None:
    # "Epoch 2, Step [1/100]": where the run's epochs start is not shown; the counter stays the step
    text = "".join(f"Epoch 2, Step [{s}/100], Loss: {2.0 - s / 1000:.4f}\n" for s in range(1, 101))
    src = read(text)
    assert _steps(src)[0] == 1
    assert not any("the log starts at epoch" in m for m in _inferred(src))


def test_late_start_makes_slow_progress_a_note_not_a_warning(tmp_path) -> None:
    path = tmp_path / "training_log.txt"
    path.write_text(_log(range(2, 3), 600, 2))
    res = lossdoc.analyze(str(path))
    slow = [f for f in res.findings if f.rule in ("UF001", "LR004")]
    assert slow, [f.rule for f in res.findings]
    # how far the loss fell before the log began is unknown: inconclusive, never a warning to raise the LR
    assert all(f.severity == Severity.INFO for f in slow)
    assert all("the log starts at step 601" in f.message for f in slow)
