"""Check that lossdoc reads every corpus log: run with lossdoc's own venv (not the training venv).

    python benchmarks/realruns/check_read.py
For each log in series_counts.tsv (written by label.py from its own parsers), lossdoc.read() must give a
train loss series with the same number of points and the same last value, and a val loss series with the
same number of points when the log has one. Prints one line per mismatch and a summary; exit 1 on any.
"""
from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import lossdoc
import polars as pl

HERE = Path(__file__).resolve().parent


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-4 * max(1.0, abs(a), abs(b))


def main() -> int:
    bad = 0
    rows = list(csv.DictReader(open(HERE / "series_counts.tsv"), delimiter="\t"))
    for row in rows:
        p = HERE / "logs" / row["path"]
        try:
            fr = lossdoc.read(str(p)).frame
        except Exception as e:  # report, keep going
            print(f"FAIL {row['path']}: {type(e).__name__}: {e}")
            bad += 1
            continue
        loss = fr.filter(pl.col("metric") == "loss").sort("step", maintain_order=True)
        tr = loss.filter(pl.col("split") == "train")
        va = loss.filter(pl.col("split") == "val")
        # Lightning logs train_loss_step and train_loss_epoch; compare against the step series
        if tr["name"].n_unique() > 1:
            tr = tr.filter(pl.col("name").str.contains("step"))
        if va["name"].n_unique() > 1:
            va = va.filter(~pl.col("name").str.contains("train"))
        msgs = []
        if tr.height != int(row["n_train"]):
            msgs.append(f"train points {tr.height} != {row['n_train']}")
        elif tr.height and not close(float(tr["value"][-1]), float(row["last_train"])):
            msgs.append(f"last train {tr['value'][-1]} != {row['last_train']}")
        if int(row["n_val"]) and va.height != int(row["n_val"]):
            msgs.append(f"val points {va.height} != {row['n_val']}")
        if msgs:
            bad += 1
            print(f"MISMATCH {row['path']}: " + "; ".join(msgs) + f"  (names: {sorted(set(loss['name']))})")
    print(f"{len(rows)} logs, {len(rows) - bad} read as expected, {bad} not")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
