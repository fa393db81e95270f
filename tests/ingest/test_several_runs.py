"""Several separate runs appended to one log, told apart from a resume (lossdoc/ingest/runs.py).

A new run: the counter goes back to its start and the loss is back near its starting level, or the
header printed before the first run is printed again. Only the last run is read, and a
``several_runs`` note names the runs and their lines. A resume (the counter goes back a little) or a
continuation (the counter restarts while the loss carries on at its level) is not cut.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

from lossdoc.ingest.runs import find_runs
from tests.ingest.longtail import note_kinds, read_data, series


def _runs_note(src):  # type: ignore[no-untyped-def]
    notes = [n for n in src.notes if n.kind == "several_runs"]
    assert len(notes) == 1, [n.message for n in src.notes]
    return notes[0]


def _epochs(losses: tuple[float, ...], val: bool = True) -> str:
    return "".join(f"2025-01-01 10:00:0{i % 10},000 - INFO - Epoch {i}: train_loss={v:.4f}"
                   + (f", val_loss={v + 0.05:.4f}" if val else "") + "\n" for i, v in enumerate(losses, 1))


HEAD = "2025-01-01 10:00:00,000 - INFO - Starting training, output directory: ./out\n"


def test_text_runs_with_a_repeated_header_the_last_is_read() -> None:
    # 6 epochs, then the script started again for 4: the old reading kept the second run's epochs 1-4
    # and the first run's 5-6 (rows the second never overwrote), a curve that belongs to no run
    text = HEAD + _epochs((0.90, 0.70, 0.55, 0.45, 0.40, 0.37)) + HEAD + _epochs((0.92, 0.71, 0.56, 0.47))
    src = read_data(text.encode(), "train.log")
    assert src.format == "text"
    assert series(src, "train", "loss") == [(1, 0.92), (2, 0.71), (3, 0.56), (4, 0.47)]
    assert series(src, "val", "loss") == [(1, 0.97), (2, 0.76), (3, 0.61), (4, 0.52)]
    note = _runs_note(src)
    assert note.count == 2 and note.line == 9
    assert "2 separate runs" in note.message and "analysed the last, lines 9-12 (4 points)" in note.message
    assert "lines 2-7 (6 points)" in note.message
    assert "restart" not in note_kinds(src)  # not called a resume


def test_text_runs_whose_last_is_a_stub_the_run_before_is_read() -> None:
    # the script started again and logged 3 epochs, fewer than any trend test needs (4): the 6-epoch run is read
    text = HEAD + _epochs((0.90, 0.70, 0.55, 0.45, 0.40, 0.37)) + HEAD + _epochs((0.92, 0.71, 0.56))
    src = read_data(text.encode(), "train.log")
    assert [v for _, v in series(src, "train", "loss")] == [0.90, 0.70, 0.55, 0.45, 0.40, 0.37]
    note = _runs_note(src)
    assert note.line == 2
    assert ("analysed the latest with 4 points or more (the last run is too short to judge: 3 point(s)), lines 2-7 "
            "(6 points); other runs not analysed: lines 9-11 (3 points)") in note.message


def test_text_new_run_told_by_its_loss_without_a_header() -> None:
    text = ("step 0 loss 10.9\nstep 100 loss 6.0\nstep 200 loss 4.0\nstep 300 loss 3.5\n"
            "step 0 loss 10.8\nstep 100 loss 6.2\nstep 200 loss 4.1\nstep 300 loss 3.6\n")
    src = read_data(text.encode(), "train.log")
    assert series(src, "train", "loss") == [(0, 10.8), (100, 6.2), (200, 4.1), (300, 3.6)]
    assert _runs_note(src).count == 2


def test_text_resume_is_not_cut() -> None:
    # resumed from the step-200 checkpoint: the counter goes back a little, the loss carries on
    text = ("step 0 loss 10.9\nstep 100 loss 6.0\nstep 200 loss 4.0\nstep 300 loss 3.5\n"
            "step 200 loss 3.9\nstep 300 loss 3.45\nstep 400 loss 3.2\n")
    src = read_data(text.encode(), "train.log")
    assert series(src, "train", "loss") == [(0, 10.9), (100, 6.0), (200, 3.9), (300, 3.45), (400, 3.2)]
    assert "restart" in note_kinds(src) and "several_runs" not in note_kinds(src)


def test_text_counter_restart_with_the_loss_carrying_on_is_not_a_new_run() -> None:
    # the script restarted from its checkpoint prints its header again and counts epochs from 1, but the
    # loss carries on at the level where it stopped: one run, not two
    text = HEAD + _epochs((0.90, 0.60, 0.45, 0.40), val=False) + HEAD + _epochs((0.39, 0.37, 0.36), val=False)
    src = read_data(text.encode(), "train.log")
    assert "several_runs" not in note_kinds(src)
    # ... and what came before the reset is not thrown away as "overwritten": the segments are laid end
    # to end (public dev log YGGYatsso/Image-Colorization-Using-CGAN: 60,000 iterations, then the counter
    # back at 0 for 10,000 more at the level reached; 60,000 were dropped)
    got = series(src, "train", "loss")
    assert [v for _, v in got] == [0.90, 0.60, 0.45, 0.40, 0.39, 0.37, 0.36]
    assert [s for s, _ in got] == sorted({s for s, _ in got})  # increasing, no step twice
    assert any("counter goes back to its start" in n.message and "derived" in n.message for n in src.notes)


TITANS_LIKE = (
    "2025-02-22 12:15:39,644 - t - INFO - Starting training with configuration: small\n"
    "2025-02-22 12:15:39,645 - t - INFO - Loaded 1 sequences\n"
    + "".join(f"2025-02-22 12:15:4{i},000 - t - INFO - Epoch {i}: {{'loss': {v}}}\n"
              for i, v in enumerate((10.6, 7.9, 5.2, 3.6, 3.0)))
    + "2025-02-22 12:20:50,083 - t - INFO - Training completed!\n"
    "2025-02-22 12:29:28,084 - t - INFO - Starting training with configuration: small\n"
    "2025-02-22 12:29:28,085 - t - INFO - Loaded 1 sequences\n"
    + "".join(f"2025-02-22 12:29:3{i},000 - t - INFO - Epoch {i}: {{'loss': {v}}}\n"
              for i, v in enumerate((10.7, 8.1, 6.0, 5.0)))
)


def test_hf_console_runs_counted_by_a_printed_epoch() -> None:
    # the dicts carry no step; 'Epoch k:' before each goes back to 0: the old reading joined both runs
    # into one series of 9 log lines with a "spike" back to 10.7
    src = read_data(TITANS_LIKE.encode(), "train.log")
    assert src.format == "hf-console"
    assert series(src, "train", "loss") == [(1, 10.7), (2, 8.1), (3, 6.0), (4, 5.0)]
    note = _runs_note(src)
    assert note.line == 11 and "lines 3-7 (5 log lines)" in note.message


def _nanogpt(losses: tuple[float, ...], evals: dict[int, float]) -> str:
    out = []
    for i, v in enumerate(losses):
        step = 10 * i
        if step in evals:
            out.append(f"step {step}: train loss {evals[step]:.4f}, val loss {evals[step] + 0.1:.4f}\n")
        out.append(f"iter {step}: loss {v:.4f}, time 98.12ms, mfu 38.12%\n")
    return "".join(out)


def test_nanogpt_two_runs_the_last_is_read_with_its_first_evaluation() -> None:
    first = _nanogpt((10.9, 6.0, 4.5, 3.9, 3.5, 3.3), {0: 10.9, 40: 3.6})
    second = _nanogpt((10.95, 6.5, 5.0, 4.2), {0: 10.95})
    src = read_data((first + second).encode(), "train.log")
    assert src.format == "nanogpt"
    assert series(src, "train", "loss") == [(0, 10.95), (10, 6.5), (20, 5.0), (30, 4.2)]
    assert series(src, "val", "loss") == [(0, 11.05)]  # the second run's, printed before its first iter line
    assert _runs_note(src).count == 2


def test_nanogpt_resume_is_not_cut() -> None:
    first = _nanogpt((10.9, 6.0, 4.5, 3.9, 3.5, 3.3), {})
    resumed = "iter 30: loss 3.8500, time 98.12ms, mfu 38.12%\niter 40: loss 3.4500, time 98.12ms, mfu 38.12%\n"
    src = read_data((first + resumed).encode(), "train.log")
    # the resumed segment is kept from step 30 on, as the step normaliser keeps it
    assert series(src, "train", "loss") == [(0, 10.9), (10, 6.0), (20, 4.5), (30, 3.85), (40, 3.45)]
    assert "restart" in note_kinds(src) and "several_runs" not in note_kinds(src)


def test_find_runs_needs_the_counter_back_at_the_start_of_the_run() -> None:
    # a second resume to the same checkpoint: back to the start of a segment, not of the run
    ref = pl.DataFrame({"lineno": list(range(1, 10)),
                        "counter": [0, 100, 200, 300, 200, 300, 200, 300, 400],
                        "value": [9.0, 5.0, 4.0, 3.5, 4.1, 3.6, 4.05, 3.55, 3.3]})
    assert len(find_runs(ref)) == 1


def test_cli_reports_the_runs_and_bad_input_still_exits_2(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(HEAD + _epochs((0.90, 0.70, 0.55, 0.45, 0.40, 0.37)) + HEAD + _epochs((0.92, 0.71, 0.56)))
    out = subprocess.run([sys.executable, "-m", "lossdoc", "analyze", str(log), "--json", "-", "--fail-on", "never"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert '"rule": "LG001"' in out.stdout and "2 separate runs" in out.stdout
    bad = tmp_path / "bad.log"
    bad.write_text("nothing to read here\n")
    out = subprocess.run([sys.executable, "-m", "lossdoc", "analyze", str(bad), "--html", str(tmp_path / "r.html")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "bad.log" in out.stderr and "Traceback" not in out.stderr


def test_build_nanogpt_log_txt_two_runs_the_last_is_read() -> None:
    first = "".join(f"{s} train {v:.6f}\n" for s, v in zip(range(0, 60, 10), (10.95, 7.1, 6.2, 5.8, 5.5, 5.3)))
    first += "50 val 5.4000\n"
    second = "".join(f"{s} train {v:.6f}\n" for s, v in zip(range(0, 40, 10), (10.96, 7.3, 6.4, 5.9)))
    src = read_data((first + second).encode(), "log.txt")
    assert src.format == "build-nanogpt"
    assert series(src, "train", "loss") == [(0, 10.96), (10, 7.3), (20, 6.4), (30, 5.9)]
    assert series(src, "val", "loss") == []  # the first run's evaluation is not the second's
    assert _runs_note(src).count == 2


def test_keras_csvlogger_appended_over_separate_models_the_last_is_read() -> None:
    # CSVLogger(append=True) while a fresh model was built each time: the epoch back to 0 with the loss
    # back at its first level. The old reading laid them end to end: epochs 0-6 with a jump to 0.92
    text = ("epoch,loss,val_loss\n0,0.90,0.95\n1,0.60,0.70\n2,0.45,0.60\n3,0.40,0.58\n0,0.92,0.96\n1,0.62,0.71\n"
            "2,0.47,0.61\n3,0.41,0.59\n")
    src = read_data(text.encode(), "history.csv")
    assert src.format == "keras-csv"
    assert series(src, "train", "loss") == [(0, 0.92), (1, 0.62), (2, 0.47), (3, 0.41)]
    assert series(src, "val", "loss") == [(0, 0.96), (1, 0.71), (2, 0.61), (3, 0.59)]
    note = _runs_note(src)
    assert "lines 2-5 (4 rows)" in note.message and note.line == 6


def test_a_flat_run_then_one_starting_above_all_it_logged_is_two_runs() -> None:
    # (a public log: 10-epoch runs of a tiny loss, the first flat at 0.0085-0.0107, the next from 0.0116)
    flat = [0.0086, 0.0107, 0.0090, 0.0087, 0.0085]
    ref = pl.DataFrame({"lineno": list(range(1, 11)), "counter": [0, 1, 2, 3, 4] * 2,
                        "value": flat + [0.0116, 0.0135, 0.0081, 0.0043, 0.0051]})
    assert [(r.first, r.last) for r in find_runs(ref)] == [(1, 5), (6, 10)]
    # carrying on inside the flat run's range: a continuation, not a new run
    ref = ref.with_columns(pl.Series("value", flat + [0.0088, 0.0087, 0.0086, 0.0085, 0.0084]))
    assert len(find_runs(ref)) == 1


def test_the_config_is_the_last_runs_own() -> None:
    # each run printed its arguments; the first run's LR and batch size are not the analysed run's
    text = ("Namespace(lr=0.1, batch_size=32)\nepoch 1 loss 0.9\nepoch 2 loss 0.6\nepoch 3 loss 0.5\n"
            "Namespace(lr=0.01, batch_size=64)\nepoch 1 loss 0.95\nepoch 2 loss 0.8\n")
    cfg = read_data(text.encode(), "train.log").meta["config"]
    assert (cfg["learning_rate"], cfg["batch_size"]) == (0.01, 64)
    one = read_data(text.split("Namespace(lr=0.01")[0].encode(), "train.log").meta["config"]
    assert one["learning_rate"] == 0.1


def test_nanogpt_config_is_the_last_runs_own() -> None:
    first = "Overriding: learning_rate = 0.01\n" + _nanogpt((10.9, 6.0, 4.5, 3.9, 3.5, 3.3), {})
    second = "Overriding: learning_rate = 0.001\n" + _nanogpt((10.95, 8.5, 7.0), {})
    src = read_data((first + second).encode(), "train.log")
    assert src.format == "nanogpt" and src.meta["config"]["learning_rate"] == 0.001


def test_a_counter_that_resets_thousands_of_times_is_examined_once() -> None:
    # one run whose counter restarts every 1,000 points while the loss carries on (2,000 resets): every
    # reset is back at the start, none is a new run; the scan stays linear (was quadratic: 2e9 steps)
    n, per = 2_000_000, 1000
    ref = pl.DataFrame({"lineno": np.arange(1, n + 1), "counter": np.tile(np.arange(per), n // per),
                        "value": 3.0 - np.arange(n) / n})
    assert len(find_runs(ref)) == 1
    fresh = ref.with_columns(pl.Series("value", np.tile(np.linspace(3, 1, per), n // per)))
    runs = find_runs(fresh)
    assert len(runs) == n // per and runs[-1].first == n - per + 1 and runs[-1].points == per


def _staged(second_head: str, second: tuple[float, ...]) -> str:
    first = (3.00, 1.60, 0.90, 0.55, 0.40, 0.32, 0.27, 0.24, 0.22, 0.21)
    return ("2025-01-01 10:00:00,000 - INFO - [Stage 1] pretraining on synthetic data starts\n" + _epochs(first)
            + second_head + _epochs(second))


# the second stage starts 30% of the way back to where the first started: between a resume and a new run
STAGE2 = (1.05, 0.93, 0.86, 0.81, 0.78, 0.76, 0.75, 0.74)


def test_a_new_stage_announced_at_the_reset_is_a_run_of_its_own() -> None:
    # Skye412/CrackMorphFormer: 60 pretraining epochs, then "[Stage 2] fold k fine-tuning starts" and Ep 1-60
    # again from a loss well above the first stage's end. Laid end to end it read as a loss that rose from
    # 0.17 to 0.71: a divergence error on a healthy run
    text = _staged("2025-01-01 10:00:00,000 - INFO - [Stage 2] fold 1 fine-tuning starts\n", STAGE2)
    src = read_data(text.encode(), "train.log")
    assert [v for _, v in series(src, "train", "loss")] == list(STAGE2)
    note = _runs_note(src)
    assert note.count == 2 and "part-way back with a header printed there" in note.message
    assert "restart" not in note_kinds(src)


def test_a_resume_announced_at_the_reset_stays_one_run() -> None:
    # the same announcement where the loss carries on at its level is a continuation, header or not
    resumed = (0.21, 0.20, 0.20, 0.19)
    text = _staged("2025-01-01 10:00:00,000 - INFO - Resuming from checkpoint epoch 10\n", resumed)
    src = read_data(text.encode(), "train.log")
    assert len(series(src, "train", "loss")) == 14
    assert "several_runs" not in note_kinds(src)


def test_a_jump_part_way_back_without_a_new_line_is_not_cut() -> None:
    # nothing printed at the reset: the counter reset is read as before (segments laid end to end)
    text = _staged("", STAGE2)
    src = read_data(text.encode(), "train.log")
    assert len(series(src, "train", "loss")) == 18
    assert "several_runs" not in note_kinds(src)
