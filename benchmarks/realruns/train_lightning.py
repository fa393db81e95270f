"""PyTorch Lightning sweeps with CSVLogger (metrics.csv: train_loss_step/_epoch, val_loss)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import classification_data, gzip_into_place, main_loop, make_run

T = "lightning"
F = "metrics.csv"


def plan() -> list[dict]:
    p = []
    base = dict(data="breast_cancer", width=64, depth=2, opt="sgd", lr=1e-2, batch=32, epochs=20, dropout=0.0,
                wd=0.0, n_train=None, log_every=2)
    # A. SGD (momentum 0.9) learning-rate sweep, breast cancer (2 classes), 20 epochs
    for lr in [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_sgd_cancer", F, dict(lr=lr, seed=seed), lr_group="lr_sgd_cancer", n_classes=2,
                              extra=dict(cfg=dict(base, lr=lr, seed=seed))))
    # B. training-set size x regularisation (dropout 0.5 + AdamW weight decay 0.05), 50 epochs
    for n in [100, None]:
        for reg in ["none", "both"]:
            for seed in [0, 1]:
                p.append(make_run(T, "size_reg_digits", F, dict(n_train=n or 1257, reg=reg, seed=seed), n_classes=10,
                                  extra=dict(cfg=dict(base, data="digits", width=512, opt="adamw", lr=1e-3,
                                                      epochs=50 if n else 25, n_train=n, seed=seed,
                                                      dropout=0.5 if reg == "both" else 0.0,
                                                      wd=0.05 if reg == "both" else 0.0,
                                                      log_every=1 if n else 10))))
    # C. batch size (Adam 1e-3), 2,000 training rows, 5 epochs
    for bs in [4, 16, 64, 256]:
        for seed in [0, 1]:
            p.append(make_run(T, "batch_synth", F, dict(batch=bs, seed=seed), n_classes=5,
                              extra=dict(cfg=dict(base, data="synth", opt="adam", lr=1e-3, batch=bs, epochs=5,
                                                  n_train=2000, seed=seed, log_every=10 if bs == 4 else 2))))
    # D. stopped early: SGD 1e-3, 5 epochs vs the 4x-longer reference
    for seed in [0, 1]:
        c = dict(base, data="synth", lr=1e-3, seed=seed, batch=64, log_every=5)
        p.append(make_run(T, "short_sgd_synth", F, dict(epochs=5, seed=seed), ref_long=f"epochs20_seed{seed}",
                          n_classes=5, extra=dict(cfg=dict(c, epochs=5))))
        p.append(make_run(T, "short_sgd_synth", F, dict(epochs=20, seed=seed), n_classes=5,
                          extra=dict(cfg=dict(c, epochs=20))))
    return p


def train_one(r: dict) -> None:
    import lightning as L
    import torch
    import torch.nn as nn
    import torch.nn.functional as Fn
    from lightning.pytorch.loggers import CSVLogger
    from torch.utils.data import DataLoader, TensorDataset

    c = r["cfg"]
    L.seed_everything(c["seed"], verbose=False)
    Xtr, ytr, Xva, yva, ncls = classification_data(c["data"], n_train=c["n_train"], seed=c["seed"])

    class MLP(L.LightningModule):
        def __init__(self):
            super().__init__()
            layers, d = [], Xtr.shape[1]
            for _ in range(c["depth"]):
                layers += [nn.Linear(d, c["width"]), nn.ReLU()]
                if c["dropout"]:
                    layers.append(nn.Dropout(c["dropout"]))
                d = c["width"]
            layers.append(nn.Linear(d, ncls))
            self.net = nn.Sequential(*layers)
            self.save_hyperparameters(dict(lr=c["lr"], batch_size=c["batch"], optimizer=c["opt"],
                                           weight_decay=c["wd"], dropout=c["dropout"], width=c["width"]))

        def training_step(self, batch, _):
            x, y = batch
            loss = Fn.cross_entropy(self.net(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", Fn.cross_entropy(self.net(x), y), on_epoch=True)

        def configure_optimizers(self):
            if c["opt"] == "sgd":
                return torch.optim.SGD(self.parameters(), lr=c["lr"], momentum=0.9, weight_decay=c["wd"])
            if c["opt"] == "adam":
                return torch.optim.Adam(self.parameters(), lr=c["lr"], weight_decay=c["wd"])
            return torch.optim.AdamW(self.parameters(), lr=c["lr"], weight_decay=c["wd"])

    tl = DataLoader(TensorDataset(torch.from_numpy(Xtr), torch.from_numpy(ytr)), batch_size=c["batch"],
                    shuffle=True)
    vl = DataLoader(TensorDataset(torch.from_numpy(Xva), torch.from_numpy(yva)), batch_size=512)
    with tempfile.TemporaryDirectory() as td:
        logger = CSVLogger(td, name="lightning_logs")
        tr = L.Trainer(max_epochs=c["epochs"], logger=logger, log_every_n_steps=c["log_every"], accelerator="cpu",
                       devices=1, enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                       num_sanity_val_steps=0)
        tr.fit(MLP(), tl, vl)
        path = Path(logger.log_dir) / F
        gzip_into_place(path, r)


if __name__ == "__main__":
    import logging
    import warnings

    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
