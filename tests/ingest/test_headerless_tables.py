"""Headerless CSVs (the first line is data) and counter columns in numbers-only tables."""

from __future__ import annotations

from pathlib import Path

import lossdoc


def _series(ls) -> dict[tuple[str, str], list[tuple[int, float]]]:
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for split, metric, step, value in ls.frame.select("split", "metric", "step", "value").iter_rows():
        out.setdefault((split, metric), []).append((int(step), value))
    return out


def _notes(ls) -> str:
    return "\n".join(n.message for n in ls.notes if n.kind == "inferred")


def test_csv_without_header_keeps_its_first_row(tmp_path: Path) -> None:
    # np.savetxt(..., delimiter=",") of (step, train, val): no header line; quoted like csv.writer(QUOTE_ALL)
    p = tmp_path / "history.csv"
    p.write_text("".join(f'"{i}","{2.5 - 0.05 * i:.3f}","{2.6 - 0.05 * i:.3f}"\n' for i in range(20)))
    ls = lossdoc.read(str(p))
    s = _series(ls)
    assert len(s) == 2  # the step column is not a series, no series named after a number
    first = sorted(s.values(), key=lambda v: v[0][1])[0]
    assert first[0] == (0, 2.5) and len(first) == 20  # the first line is data
    assert all(not m[0].isdigit() for _, m in s)
    assert "no header" in _notes(ls)


def test_headerless_csv_not_named_like_a_curve(tmp_path: Path) -> None:
    p = tmp_path / "run.csv"
    p.write_text("".join(f"{i},{2.5 - 0.05 * i:.3f},{0.1 * i:.2f}\n" for i in range(20)))
    ls = lossdoc.read(str(p), format="csv")
    s = _series(ls)
    assert set(m for _, m in s) == {"col2", "col3"}
    assert s[("train", "col2")][0] == (0, 2.5) and len(s[("train", "col2")]) == 20
    assert "no header" in _notes(ls)


def test_epoch_and_iteration_columns_are_the_step_not_losses(tmp_path: Path) -> None:
    # loss.txt written as f"{epoch} {iteration} {loss}": iteration restarts every epoch
    p = tmp_path / "loss.txt"
    rows = [(ep, it, 2.0 - 0.01 * (ep * 10 + it / 20)) for ep in range(1, 6) for it in range(0, 200, 20)]
    p.write_text("".join(f"{e} {i} {v:.4f}\n" for e, i, v in rows))
    ls = lossdoc.read(str(p))
    s = _series(ls)
    assert list(s) == [("train", "loss")]  # the epoch and the iteration are not losses
    pts = s[("train", "loss")]
    assert len(pts) == 50
    steps = [st for st, _ in pts]
    assert steps == sorted(steps) and len(set(steps)) == 50  # one rising step from the two
    assert pts[10][0] == 200  # epoch 2, iteration 0: 200 iterations per epoch (0..180 by 20)
    assert "restarts every epoch" in _notes(ls)


def test_epoch_and_global_step_columns(tmp_path: Path) -> None:
    p = tmp_path / "train_loss.txt"
    p.write_text("".join(f"{e} {e * 100} {2.0 * 0.9 ** e:.4f} {1e-3:.4g}\n" for e in range(30)))
    s = _series(lossdoc.read(str(p)))
    assert len(s) == 2 and ("train", "loss") in s
    assert [st for st, _ in s[("train", "loss")]][:3] == [0, 100, 200]  # the finest counter is the step


def test_step_and_values_unchanged(tmp_path: Path) -> None:
    # a plain 'step value value' table: the first column is the step, both others are values (as before)
    p = tmp_path / "losses.txt"
    p.write_text("".join(f"{i} {2.0 - 0.01 * i:.3f} {2.1 - 0.01 * i:.3f}\n" for i in range(30)))
    s = _series(lossdoc.read(str(p)))
    assert len(s) == 2 and all(len(v) == 30 and v[0][0] == 0 for v in s.values())


def test_headerless_csv_with_a_step_logged_every_n(tmp_path: Path) -> None:
    p = tmp_path / "train_loss.csv"
    p.write_text("".join(f"{50 * i},{2.5 - 0.05 * i:.3f}\n" for i in range(1, 21)))
    s = _series(lossdoc.read(str(p)))
    assert list(s) == [("train", "loss")]
    assert s[("train", "loss")][:2] == [(50, 2.45), (100, 2.4)]
