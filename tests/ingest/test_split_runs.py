"""``--split-runs`` / ``read(..., split_runs=True)``: a log that a script appended run after run to is read run by
run, each judged, instead of its last run alone with a ``several_runs`` note (the reviewers of public-log batch 7
flagged such files in 7-16 logs each: "a blow-up in a dropped run is hidden")."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

import lossdoc
from lossdoc.cli import main
from lossdoc.ingest import read

# The first run (lr 0.5) blows up; the script is run again at lr 0.05 and appends to the same file. Each run
# prints its header, then one line per epoch; run 1's final evaluation is printed after its last epoch line,
# run 2's evaluation at epoch 0 before its first epoch line.
TWO_RUNS = """\
Starting training with lr=0.5
epoch 1 train_loss 2.3012 val_loss 2.2950
epoch 2 train_loss 1.9020 val_loss 1.9410
epoch 3 train_loss 1.6110 val_loss 1.7010
epoch 4 train_loss 2.9050 val_loss 3.1200
epoch 5 train_loss 6.7100 val_loss 7.0500
epoch 6 train_loss 15.220 val_loss 16.900
epoch 7 train_loss 48.810 val_loss 51.300
epoch 8 train_loss 160.40 val_loss 170.20
final epoch 8 test_loss 171.5
Starting training with lr=0.05
epoch 0 test_loss 2.3101
epoch 1 train_loss 2.3008 val_loss 2.2970
epoch 2 train_loss 1.7020 val_loss 1.7410
epoch 3 train_loss 1.3110 val_loss 1.4010
epoch 4 train_loss 1.1050 val_loss 1.2200
epoch 5 train_loss 0.9710 val_loss 1.1000
epoch 6 train_loss 0.8920 val_loss 1.0500
epoch 7 train_loss 0.8410 val_loss 1.0200
epoch 8 train_loss 0.8050 val_loss 1.0100
"""


def _log(tmp_path: Path) -> Path:
    p = tmp_path / "lr_search.log"
    p.write_text(TWO_RUNS, encoding="utf-8")
    return p


def _series(src, split: str, run: str | None = None) -> list[float]:
    f = src.frame.filter((pl.col("split") == split) & (pl.col("metric") == "loss"))
    if run is not None:
        f = f.filter(pl.col("run") == run)
    return f.sort("step").get_column("value").to_list()


def test_by_default_the_last_run_is_read_and_the_others_are_noted(tmp_path: Path) -> None:
    ls = read(str(_log(tmp_path)))
    (src,) = ls.sources
    assert src.runs == ["lr_search"]
    assert _series(src, "train")[-1] == 0.805 and max(_series(src, "train")) < 2.4
    note = next(n for n in src.notes if n.kind == "several_runs")
    assert note.spans == ((2, 9), (13, 20)) and "--split-runs" in note.message


def test_split_runs_reads_each_run_on_its_own_and_the_last_as_before(tmp_path: Path) -> None:
    path = str(_log(tmp_path))
    (whole,) = read(path).sources
    first, last = read(path, split_runs=True).sources
    assert first.runs == ["lr_search (run 1 of 2)"] and last.runs == ["lr_search (run 2 of 2)"]
    assert _series(first, "train") == [2.3012, 1.902, 1.611, 2.905, 6.71, 15.22, 48.81, 160.4]
    # the lines between two runs: run 1's final evaluation is its own, run 2's evaluation at epoch 0 is run 2's
    assert _series(first, "test") == [171.5]
    assert _series(last, "test")[0] == 2.3101
    # the last run is read exactly as without the option; its note says the runs were read apart
    assert last.frame.drop("run").equals(whole.frame.drop("run"))
    assert not [n for n in last.notes if n.kind == "several_runs"]
    said = " ".join(n.message for n in last.notes)
    assert "2 separate runs, each read as a run of its own (split runs): 1: lines 2-9, 2: lines 13-20" in said


def test_the_blow_up_of_an_earlier_run_is_judged(tmp_path: Path) -> None:
    path = str(_log(tmp_path))
    assert not [f for r in lossdoc.analyze(path).runs for f in r.findings if f.category == "divergence"]
    runs = lossdoc.analyze(path, split_runs=True).runs
    div = {r.run: [f.rule for f in r.findings if f.category == "divergence"] for r in runs}
    assert div["lr_search (run 1 of 2)"] and not div["lr_search (run 2 of 2)"], div


def test_the_command_line_option(tmp_path: Path) -> None:
    path = str(_log(tmp_path))
    runner = CliRunner()
    plain = runner.invoke(main, ["analyze", path, "--no-html", "--json", "-", "--quiet"])
    split = runner.invoke(main, ["analyze", path, "--no-html", "--json", "-", "--quiet", "--split-runs"])
    assert plain.exit_code == 0, plain.output
    assert split.exit_code == 1, split.output  # the blow-up is an error finding: the gate fails
    doc = json.loads(split.output)
    assert [r["run"] for r in doc["runs"]] == ["lr_search (run 1 of 2)", "lr_search (run 2 of 2)"]
    shown = runner.invoke(main, ["inspect", path, "--split-runs"])
    assert shown.exit_code == 0 and "run lr_search (run 1 of 2)" in shown.output


def test_runs_the_step_normaliser_tells_apart_are_named_too(tmp_path: Path) -> None:
    # a JSON-lines log with no line numbers for its reader: the counter goes back to 0 with the loss back at its start
    rows = [{"step": s, "loss": v} for s, v in enumerate([2.3, 1.8, 1.5, 1.3, 1.2, 1.15])]
    rows += [{"step": s, "loss": v} for s, v in enumerate([2.31, 1.6, 1.2, 0.9, 0.7, 0.6])]
    p = tmp_path / "metrics.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (default,) = read(str(p)).sources
    assert default.runs == ["metrics"] and _series(default, "train")[0] == 2.31
    (src,) = read(str(p), split_runs=True).sources
    assert src.runs == ["metrics (run 1 of 2)", "metrics (run 2 of 2)"]
    assert any("2 separate runs (the step counter goes back to its start 1 time(s)), each read as a run of its own"
               in n.message for n in src.notes)
    assert _series(src, "train", "metrics (run 1 of 2)") == [2.3, 1.8, 1.5, 1.3, 1.2, 1.15]
    assert _series(src, "train", "metrics (run 2 of 2)") == [2.31, 1.6, 1.2, 0.9, 0.7, 0.6]


def test_a_file_with_one_run_is_unchanged(tmp_path: Path) -> None:
    p = tmp_path / "one.log"
    p.write_text("".join(f"epoch {i} train_loss {2.3 * 0.8 ** i:.4f}\n" for i in range(1, 12)), encoding="utf-8")
    (a,) = read(str(p)).sources
    (b,) = read(str(p), split_runs=True).sources
    assert a.runs == b.runs == ["one"] and a.frame.equals(b.frame)


def test_the_note_on_runs_the_step_normaliser_cuts_names_what_is_analysed(tmp_path: Path) -> None:
    # detectron2's metrics.json shape (kim-seong-rok/detectron2_repo): runs appended one after another, each from
    # ~3.7 down to ~1.0 over iterations 19-299; one of them logged a blow-up (199, 231, 185) at iterations 7-15 first.
    # What is kept is the rows after the last return to the start; the note said "2 separate runs ... analysed the
    # last, steps 7-299 (33 points)" (the run that began with the blow-up, and the one after it, taken for one)
    # while 15 points from step 19 were analysed.
    def run(first: float, last: float, lead: list[tuple[int, float]] | None = None) -> list[dict]:
        pts = [{"iteration": i, "total_loss": v} for i, v in (lead or [])]
        its = list(range(19, 300, 20))
        return pts + [{"iteration": i, "total_loss": round(first + (last - first) * k / (len(its) - 1), 4)}
                      for k, i in enumerate(its)]
    rows = run(3.7, 1.0) + run(3.6, 1.0, [(7, 199.1), (10, 230.9), (15, 185.2)]) + run(3.7, 0.9)
    p = tmp_path / "metrics.json"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (src,) = read(str(p)).sources
    kept = src.frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss")).sort("step")
    assert kept.height == 15 and kept.item(0, "step") == 19 and kept.item(0, "value") == 3.7
    note = next(n for n in src.notes if n.kind == "several_runs")
    assert note.count == 3
    assert "the log holds 3 separate runs" in note.message
    assert "analysed the last, steps 19-299 (15 points)" in note.message
    assert "earlier runs not analysed: steps 19-299 (15 points), steps 7-299 (18 points)" in note.message
    # --split-runs names the same three runs
    (split,) = read(str(p), split_runs=True).sources
    assert len(split.runs) == 3 and split.runs[-1].endswith("(run 3 of 3)")
