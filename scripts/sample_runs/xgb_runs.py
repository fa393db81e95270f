"""XGBoost ``xgb.train`` with ``evals`` and ``verbose_eval``: stdout captured to ``train.log``.

The per-round lines come from XGBoost's own ``EvaluationMonitor``:
``[{round}]\\ttrain-{metric}:{value:.5f}\\teval-{metric}:{value:.5f}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def train(outdir: Path, *, objective: str, metrics: list[str], eta: float, max_depth: int, rounds: int,
          n_train: int = 3000, label_noise: float = 0.05, verbose_eval: bool | int = True, seed: int = 5) -> None:
    import xgboost as xgb

    from sample_runs.common import nonlinear

    x, y = nonlinear(n_train, label_noise=label_noise, seed=seed)
    xv, yv = nonlinear(1000, label_noise=label_noise, seed=seed + 1)
    if objective == "binary:logistic":
        y, yv = (y == 2).astype(np.int64), (yv == 2).astype(np.int64)
    elif objective == "reg:squarederror":  # regress the (noiseless) score instead of the class
        y = x[:, 0] * x[:, 1] + np.sin(2 * x[:, 2]) + 0.5 * x[:, 3] ** 2
        yv = xv[:, 0] * xv[:, 1] + np.sin(2 * xv[:, 2]) + 0.5 * xv[:, 3] ** 2
    dtrain, dval = xgb.DMatrix(x, label=y), xgb.DMatrix(xv, label=yv)
    params = {"objective": objective, "eta": eta, "max_depth": max_depth, "eval_metric": metrics, "seed": seed,
              "nthread": 1, "tree_method": "hist"}
    if objective == "multi:softprob":
        params["num_class"] = 3
    xgb.train(params, dtrain, num_boost_round=rounds, evals=[(dtrain, "train"), (dval, "eval")],
              verbose_eval=verbose_eval)


RUNS = {
    # 3-class softprob, eta 0.1, depth 4, 120 rounds, 3,000 rows; metrics mlogloss and merror, every round.
    "healthy": lambda out: train(out, objective="multi:softprob", metrics=["mlogloss", "merror"], eta=0.1,
                                 max_depth=4, rounds=120),
    # Binary, only 200 training rows with 30% flipped labels, depth 10, eta 0.3, 300 rounds, printed every 5.
    "overfitting": lambda out: train(out, objective="binary:logistic", metrics=["logloss"], eta=0.3, max_depth=10,
                                     rounds=300, n_train=200, label_noise=0.3, verbose_eval=5),
    # Regression (rmse) with eta 0.002: after 150 rounds the model has barely moved from the base score.
    "lr_too_low": lambda out: train(out, objective="reg:squarederror", metrics=["rmse"], eta=0.002, max_depth=4,
                                    rounds=150),
}


def main() -> None:
    name, outdir = sys.argv[1], Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    RUNS[name](outdir)


if __name__ == "__main__":
    main()
