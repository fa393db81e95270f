"""XGBoost sweeps; the log is the verbose evaluation stdout of xgb.train (xgb.log)."""
from __future__ import annotations

import sys

from common import capture_stdout, classification_data, gzip_text_into_place, main_loop, make_run, \
    regression_data

T = "xgboost"
F = "xgb.log"


def plan() -> list[dict]:
    p = []
    # A. eta sweep, 5-class synthetic data (mlogloss), 300 rounds
    for eta in [1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "eta_synth", F, dict(eta=eta, seed=seed), lr_group="eta_synth", n_classes=5,
                              extra=dict(cfg=dict(data="synth", obj="multi:softprob", eta=eta, depth=6, rounds=300,
                                                  seed=seed, subsample=0.8))))
    # B. training-set size x depth (moons, noisy labels), no regularisation, 400 rounds
    for n in [100, 400, 2100]:
        for depth in [2, 8]:
            for seed in [0, 1]:
                p.append(make_run(T, "size_depth_moons", F, dict(n_train=n, depth=depth, seed=seed),
                                  n_classes=2,
                                  extra=dict(cfg=dict(data="moons", obj="binary:logistic", eta=0.3, depth=depth,
                                                      rounds=400, seed=seed, n_train=n, min_child_weight=0,
                                                      reg_lambda=0.0))))
    # C. long step-level runs (2,000 rounds), regression rmse
    for depth in [3, 10]:
        for seed in [0, 1]:
            p.append(make_run(T, "long_reg", F, dict(depth=depth, seed=seed),
                              extra=dict(cfg=dict(data="synth_reg", obj="reg:squarederror", eta=0.05, depth=depth,
                                                  rounds=2000, seed=seed, n_train=600, subsample=0.8))))
    # D. stopped early (low eta, 100 rounds) vs the 4x-longer reference
    for seed in [0, 1]:
        p.append(make_run(T, "short_synth", F, dict(rounds=100, seed=seed), ref_long=f"rounds400_seed{seed}",
                          n_classes=5, extra=dict(cfg=dict(data="synth", obj="multi:softprob", eta=0.02, depth=4,
                                                           rounds=100, seed=seed, subsample=0.8))))
        p.append(make_run(T, "short_synth", F, dict(rounds=400, seed=seed), n_classes=5,
                          extra=dict(cfg=dict(data="synth", obj="multi:softprob", eta=0.02, depth=4, rounds=400,
                                              seed=seed, subsample=0.8))))
    # E. depth (capacity) on diabetes regression, 200 rounds
    for depth in [1, 3, 6]:
        for seed in [0, 1]:
            p.append(make_run(T, "depth_diabetes", F, dict(depth=depth, seed=seed), size_group="depth_diabetes",
                              extra=dict(cfg=dict(data="diabetes", obj="reg:squarederror", eta=0.05, depth=depth,
                                                  rounds=200, seed=seed, subsample=0.8))))
    # F. regularisation on/off x training-set size (breast cancer)
    for reg in ["off", "on"]:
        for n in [120, 398]:
            for seed in [0, 1]:
                extra = (dict(min_child_weight=0, reg_lambda=0.0, subsample=1.0) if reg == "off" else
                         dict(min_child_weight=3, reg_lambda=5.0, subsample=0.7, colsample_bytree=0.7))
                p.append(make_run(T, "reg_cancer", F, dict(reg=reg, n_train=n, seed=seed), n_classes=2,
                                  extra=dict(cfg=dict(data="breast_cancer", obj="binary:logistic", eta=0.1, depth=6,
                                                      rounds=300, seed=seed, n_train=n, **extra))))
    return p


def train_one(r: dict) -> None:
    import xgboost as xgb
    c = dict(r["cfg"])
    data = c.pop("data")
    if data in ("synth_reg", "diabetes"):
        Xtr, ytr, Xva, yva = regression_data(data, n_train=c.pop("n_train", None), seed=c["seed"])
        ncls = None
    else:
        Xtr, ytr, Xva, yva, ncls = classification_data(data, n_train=c.pop("n_train", None), seed=c["seed"])
    params = dict(objective=c.pop("obj"), eta=c.pop("eta"), max_depth=c.pop("depth"), seed=c.pop("seed"),
                  nthread=1, tree_method="hist")
    rounds = c.pop("rounds")
    params.update(c)
    if params["objective"].startswith("multi"):
        params["num_class"] = ncls
    dtr, dva = xgb.DMatrix(Xtr, label=ytr), xgb.DMatrix(Xva, label=yva)
    with capture_stdout() as buf:
        xgb.train(params, dtr, num_boost_round=rounds, evals=[(dtr, "train"), (dva, "eval")], verbose_eval=True)
    gzip_text_into_place(buf.getvalue(), r)


if __name__ == "__main__":
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
