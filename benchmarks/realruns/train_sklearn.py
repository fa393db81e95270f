"""sklearn MLPClassifier / MLPRegressor sweeps; the log is the verbose stdout of fit() (mlp.log)."""
from __future__ import annotations

import sys
import warnings

from common import capture_stdout, classification_data, gzip_text_into_place, main_loop, make_run, \
    regression_data

T = "sklearn"
F = "mlp.log"


def plan() -> list[dict]:
    p = []
    # A. SGD learning-rate sweep on digits (10 classes), 60 epochs
    for lr in [1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 1.0, 10.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_sgd_digits", F, dict(lr=lr, seed=seed), lr_group="lr_sgd_digits",
                              n_classes=10, extra=dict(cfg=dict(kind="clf", data="digits", hidden=[64],
                                                                solver="sgd", lr=lr, seed=seed, iters=60))))
    # B. Adam learning-rate sweep, regression (squared error), 80 epochs
    for lr in [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_adam_reg", F, dict(lr=lr, seed=seed), lr_group="lr_adam_reg",
                              extra=dict(cfg=dict(kind="reg", data="synth_reg", hidden=[64], solver="adam",
                                                  lr=lr, seed=seed, iters=80))))
    # C. deep logistic MLPs without normalisation: stuck at ln(10), some escape
    for depth in [3, 4, 5]:
        for lr in [0.1, 0.3]:
            for seed in [0, 1]:
                p.append(make_run(T, "deep_sigmoid", F, dict(depth=depth, lr=lr, seed=seed), n_classes=10,
                                  extra=dict(cfg=dict(kind="clf", data="digits", hidden=[32] * depth,
                                                      act="logistic", solver="sgd", lr=lr, seed=seed,
                                                      iters=200))))
    # D. width sweep (capacity), Adam at its default LR
    for width in [1, 4, 32, 128]:
        for seed in [0, 1]:
            p.append(make_run(T, "width_digits", F, dict(width=width, seed=seed), size_group="width_digits",
                              n_classes=10, extra=dict(cfg=dict(kind="clf", data="digits", hidden=[width],
                                                                solver="adam", lr=1e-3, seed=seed,
                                                                iters=60))))
    # E. stopped early vs the 4x-longer reference of the same config
    for name, base in [("short_adam_synth", dict(kind="clf", data="synth", hidden=[64], solver="adam", lr=1e-4)),
                       ("short_sgd_digits", dict(kind="clf", data="digits", hidden=[64], solver="sgd", lr=1e-3))]:
        ncls = 5 if base["data"] == "synth" else 10
        for seed in [0, 1]:
            long_id = f"iters80_seed{seed}"
            p.append(make_run(T, name, F, dict(iters=20, seed=seed), ref_long=long_id, n_classes=ncls,
                              extra=dict(cfg=dict(base, seed=seed, iters=20))))
            p.append(make_run(T, name, F, dict(iters=80, seed=seed), n_classes=ncls,
                              extra=dict(cfg=dict(base, seed=seed, iters=80))))
    # F. early_stopping=True (the log adds "Validation score:" lines)
    for seed in [0, 1, 2]:
        p.append(make_run(T, "early_stop", F, dict(data="digits", seed=seed), n_classes=10,
                          extra=dict(cfg=dict(kind="clf", data="digits", hidden=[64], solver="adam", lr=1e-3,
                                              seed=seed, iters=200, early=True))))
    for seed in [0, 1]:
        p.append(make_run(T, "early_stop", F, dict(data="diabetes", seed=seed),
                          extra=dict(cfg=dict(kind="reg", data="diabetes", hidden=[32], solver="adam", lr=1e-2,
                                              seed=seed, iters=300, early=True))))
    return p


def train_one(r: dict) -> None:
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    c = r["cfg"]
    kw = dict(hidden_layer_sizes=tuple(c["hidden"]), solver=c["solver"], learning_rate_init=c["lr"],
              max_iter=c["iters"], random_state=c["seed"], verbose=True, activation=c.get("act", "relu"))
    if c["solver"] == "sgd":
        kw["momentum"] = 0.9
    if c.get("early"):
        kw.update(early_stopping=True, validation_fraction=0.2, n_iter_no_change=10)
    else:
        kw.update(n_iter_no_change=10 ** 6, tol=0.0)
    if c["kind"] == "clf":
        Xtr, ytr, _, _, _ = classification_data(c["data"], seed=c["seed"])
        model = MLPClassifier(**kw)
    else:
        Xtr, ytr, _, _ = regression_data(c["data"], seed=c["seed"])
        model = MLPRegressor(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with capture_stdout() as buf:
            try:
                model.fit(Xtr, ytr)
            except ValueError as e:  # sklearn refuses non-finite weights in some versions; keep what it printed
                print(f"{type(e).__name__}: {e}", file=sys.stderr)
    gzip_text_into_place(buf.getvalue(), r)


if __name__ == "__main__":
    import numpy as np
    np.seterr(all="ignore")
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
