"""Long CSV of scalars (one row per tag, step, value): tbparse, MLflow metric history, hand-made exports.

tbparse (``tbparse/summary_reader.py``): ``SummaryReader(logdir, extra_columns={'dir_name'}).scalars``
has columns ``step, tag, value, dir_name``; ``DataFrame.to_csv`` writes pandas' unnamed index first.
MLflow (``mlflow/entities/metric.py``): ``key, value, timestamp, step``, the timestamp in ms.
"""

from __future__ import annotations

import math

from tests.ingest.longtail import crlf, note_kinds, read_data, read_path, sample, series, torn


def test_tbparse_export_of_a_keras_logdir() -> None:
    src = read_path(sample("long-csv", "tbparse"))
    assert src.format == "long-csv"
    # dir_name 'train' / 'validation' gives the split, Keras' epoch_ prefix is dropped
    assert series(src, "train", "loss") == [(0, 2.3021), (1, 1.1874), (2, 0.8123), (3, 0.641)]
    assert series(src, "val", "loss")[-1] == (3, 0.7932)
    assert series(src, "val", "accuracy")[0] == (0, 0.7011)
    assert set(src.frame.get_column("run").unique()) == {"scalars"}  # one run: train and validation are its splits


def test_hand_made_tensorboard_export_with_events_file_names() -> None:
    # the shape of a public log (EonSJeon/ECE6255_VALLEX loss_history.csv) that lossdoc took for a
    # Lightning metrics.csv and read no loss from
    ev = "./tensorboard/events.out.tfevents.1745944791.host.2897.0"
    rows = [f"{ev},train/current_loss,{s},{v}" for s, v in ((100, 2.6683), (200, 2.8009), (300, 2.7280))]
    rows += [f"{ev},train/tot_loss,{s},{v}" for s, v in ((100, 2.6821), (100, 2.6821), (200, 2.6780), (300, 2.6734))]
    data = ("filename,tag,step,value\n" + "\n".join(rows) + "\n").encode()
    src = read_data(data, "run/loss_history.csv")
    assert src.format == "long-csv"
    assert series(src, "train", "loss") == [(100, 2.6821), (200, 2.678), (300, 2.6734)]  # tot_loss is the total
    assert series(src, "train", "current_loss")[0] == (100, 2.6683)
    assert "duplicate_steps" in note_kinds(src)
    assert read_data(crlf(data), "run/loss_history.csv").frame.equals(src.frame)
    t = read_data(torn(data), "run/loss_history.csv")
    assert [s for s, _ in series(t, "train", "loss")] == [100, 200] and "torn_tail" in note_kinds(t)


def test_mlflow_metric_history_in_milliseconds() -> None:
    data = (b"key,value,timestamp,step\n"
            b"train_loss,0.91,1715000000000,0\ntrain_loss,0.52,1715000060000,1\n"
            b"val_loss,0.77,1715000061000,1\nval_loss,nan,1715000121000,2\n")
    src = read_data(data, "m/history.csv")
    assert src.format == "long-csv"
    assert series(src, "train", "loss") == [(0, 0.91), (1, 0.52)]
    v = series(src, "val", "loss")
    assert v[0] == (1, 0.77) and v[1][0] == 2 and math.isnan(v[1][1])  # NaN kept as logged
    walls = src.frame.filter(src.frame["name"] == "train_loss").sort("step")["wall_time"].to_list()
    assert walls == [1715000000.0, 1715000060.0]


def test_no_step_column_counts_rows_per_tag() -> None:
    src = read_data(b"tag,value\nloss,3.0\nacc,0.1\nloss,2.5\nacc,0.2\nloss,2.0\n", "x/scalars.csv")
    assert src.format == "long-csv"
    assert series(src, "train", "loss") == [(0, 3.0), (1, 2.5), (2, 2.0)]
    assert "inferred" in note_kinds(src)


def test_wide_tables_are_not_claimed() -> None:
    wide = read_data(b"step,train_loss,val_loss\n0,2.0,2.1\n1,1.5,1.7\n2,1.2,1.5\n", "a/metrics_log.csv")
    assert wide.format != "long-csv"
    lightning = read_data(b"epoch,step,train_loss,val_loss\n0,9,1.0,\n0,9,,1.2\n1,19,0.8,\n", "version_0/metrics.csv")
    assert lightning.format == "lightning-csv"


def test_several_runs_in_one_table_stay_apart() -> None:
    data = (b"dir_name,step,tag,value\n"
            b"lr1e-3/train,0,loss,2.0\nlr1e-3/train,1,loss,1.0\nlr1e-2/train,0,loss,2.0\nlr1e-2/train,1,loss,3.0\n")
    src = read_data(data, "sweep/scalars.csv")
    runs = sorted(src.frame.get_column("run").unique().to_list())
    assert runs == ["scalars/lr1e-2", "scalars/lr1e-3"]
