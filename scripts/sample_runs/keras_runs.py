"""Keras 3 (``KERAS_BACKEND=torch``): a small dense classifier on seeded synthetic data.

Each run writes ``training.log`` through ``keras.callbacks.CSVLogger`` and prints Keras's
own progress output (``model.fit(verbose=1)`` bar, or ``verbose=2`` one line per epoch) to
stdout, which the driver captures to ``progbar.log``. Keras redraws its bar with ``\\b``
and ``\\r`` whenever ``posix`` is imported, so the captured file holds those too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")


def train(outdir: Path, *, lr: float = 1e-3, epochs: int = 20, n_train: int = 3000, hidden: int = 64,
          layers: int = 2, verbose: int = 1, optimizer: str = "adam", batch_size: int = 32,
          seed: int = 11) -> None:
    import keras
    import torch

    from sample_runs.common import nonlinear, seed_everything

    seed_everything(seed)
    keras.utils.set_random_seed(seed)
    torch.set_num_threads(1)
    x, y = nonlinear(n_train, seed=seed)
    xv, yv = nonlinear(1000, seed=seed + 1)
    model = keras.Sequential([keras.Input((x.shape[1],))]
                             + [keras.layers.Dense(hidden, activation="relu") for _ in range(layers)]
                             + [keras.layers.Dense(3, activation="softmax")])
    opt = keras.optimizers.SGD(lr) if optimizer == "sgd" else keras.optimizers.Adam(lr)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=batch_size, verbose=verbose,
              callbacks=[keras.callbacks.CSVLogger(str(outdir / "training.log"))])


RUNS = {
    # Adam lr 1e-3, 2 x 64 ReLU, 3,000 samples (5% flipped labels), batch 32, 20 epochs, verbose=1.
    "healthy": lambda out: train(out, verbose=1),
    # The same run with verbose=2 (one line per epoch).
    "healthy_verbose2": lambda out: train(out, verbose=2),
    # Only 150 training samples, 3 x 256 ReLU, Adam lr 3e-3, 80 epochs (batch 16), verbose=2.
    "overfitting": lambda out: train(out, n_train=150, hidden=256, layers=3, lr=3e-3, epochs=80,
                                     batch_size=16, verbose=2),
    # Plain SGD at lr 1e-4: the loss barely moves in 20 epochs (verbose=1).
    "lr_too_low": lambda out: train(out, optimizer="sgd", lr=1e-4, verbose=1),
}


def main() -> None:
    name, outdir = sys.argv[1], Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    os.chdir(outdir)
    RUNS[name](Path("."))


if __name__ == "__main__":
    main()
