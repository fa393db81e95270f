"""Keras 3 (torch backend) sweeps; the log is keras.callbacks.CSVLogger's file (training.log), one row an epoch."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

from common import classification_data, gzip_into_place, main_loop, make_run  # noqa: E402

T = "keras"
F = "training.log"


def plan() -> list[dict]:
    p = []
    base = dict(data="digits", width=128, depth=1, opt="adam", lr=1e-3, batch=32, epochs=30, dropout=0.0, l2=0.0,
                n_train=None)
    # A. Adam learning-rate sweep, 30 epochs
    for lr in [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_adam_digits", F, dict(lr=lr, seed=seed), lr_group="lr_adam_digits",
                              n_classes=10, extra=dict(cfg=dict(base, lr=lr, seed=seed))))
    # B. training-set size x regularisation (dropout 0.5, L2 1e-3), wide net, 60 epochs
    for n in [150, None]:
        for reg in ["none", "dropout", "l2", "both"]:
            for seed in [0, 1]:
                p.append(make_run(T, "size_reg_digits", F, dict(n_train=n or 1257, reg=reg, seed=seed),
                                  n_classes=10,
                                  extra=dict(cfg=dict(base, width=256, depth=2, epochs=60 if n else 40,
                                                      batch=32 if n else 64, n_train=n, seed=seed,
                                                      dropout=0.5 if reg in ("dropout", "both") else 0.0,
                                                      l2=1e-3 if reg in ("l2", "both") else 0.0))))
    # C. stopped early: plain SGD 0.01, 8 epochs vs the 4x-longer reference
    for seed in [0, 1]:
        c = dict(base, data="synth", opt="sgd", lr=0.01, seed=seed)
        p.append(make_run(T, "short_sgd_synth", F, dict(epochs=8, seed=seed), ref_long=f"epochs32_seed{seed}",
                          n_classes=5, extra=dict(cfg=dict(c, epochs=8))))
        p.append(make_run(T, "short_sgd_synth", F, dict(epochs=32, seed=seed), n_classes=5,
                          extra=dict(cfg=dict(c, epochs=32))))
    # D. width (capacity), Adam 1e-3, 25 epochs
    for width in [2, 16, 128]:
        for seed in [0, 1]:
            p.append(make_run(T, "width_synth", F, dict(width=width, seed=seed), size_group="width_synth",
                              n_classes=5, extra=dict(cfg=dict(base, data="synth", width=width, epochs=25,
                                                               batch=64, seed=seed))))
    # E. plain SGD learning-rate sweep (5 orders of magnitude), synth, 15 epochs
    for lr in [1e-3, 1e-2, 1e-1, 1.0, 10.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_sgd_synth", F, dict(lr=lr, seed=seed), lr_group="lr_sgd_synth", n_classes=5,
                              extra=dict(cfg=dict(base, data="synth", opt="sgd", lr=lr, epochs=15, batch=64,
                                                  seed=seed))))
    return p


def train_one(r: dict) -> None:
    import keras
    c = r["cfg"]
    keras.utils.set_random_seed(c["seed"])
    Xtr, ytr, Xva, yva, ncls = classification_data(c["data"], n_train=c["n_train"], seed=c["seed"])
    reg = keras.regularizers.L2(c["l2"]) if c["l2"] else None
    layers = [keras.Input(shape=(Xtr.shape[1],))]
    for _ in range(c["depth"]):
        layers.append(keras.layers.Dense(c["width"], activation="relu", kernel_regularizer=reg))
        if c["dropout"]:
            layers.append(keras.layers.Dropout(c["dropout"]))
    layers.append(keras.layers.Dense(ncls, activation="softmax"))
    model = keras.Sequential(layers)
    opt = keras.optimizers.Adam(c["lr"]) if c["opt"] == "adam" else keras.optimizers.SGD(c["lr"])
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / F
        model.fit(Xtr, ytr, validation_data=(Xva, yva), epochs=c["epochs"], batch_size=c["batch"], verbose=0,
                  callbacks=[keras.callbacks.CSVLogger(str(path))])
        gzip_into_place(path, r)


if __name__ == "__main__":
    import torch
    torch.set_num_threads(1)
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
