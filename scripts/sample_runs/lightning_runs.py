"""PyTorch Lightning: a small MLP classifier on seeded Gaussian blobs.

Logs through ``CSVLogger`` (``lightning_logs/version_0/metrics.csv`` + ``hparams.yaml``) and,
for the healthy run, also ``TensorBoardLogger`` (``tb_logs/version_0/events.out.tfevents.*``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from sample_runs.common import nonlinear, seed_everything


def train(outdir: Path, *, optimizer: str = "adam", lr: float = 1e-3, epochs: int = 15, n_train: int = 2000,
          batch_size: int = 32, poison_step: int | None = None, log_epoch_too: bool = False,
          tensorboard: bool = False, seed: int = 7) -> None:
    import lightning as L
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    seed_everything(seed)
    L.seed_everything(seed, workers=True, verbose=False)
    torch.set_num_threads(1)

    class MLP(L.LightningModule):
        def __init__(self, optimizer: str, lr: float, hidden: int = 64) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Linear(10, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 3))

        def training_step(self, batch, batch_idx):
            x, y = batch
            if poison_step is not None and self.global_step == poison_step:
                x = x.clone()
                x[0, 0] = float("nan")  # one corrupted record (an un-imputed missing value)
            loss = F.cross_entropy(self.net(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=log_epoch_too)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            logits = self.net(x)
            self.log("val_loss", F.cross_entropy(logits, y))
            self.log("val_acc", (logits.argmax(-1) == y).float().mean())

        def configure_optimizers(self):
            if self.hparams.optimizer == "sgd":
                return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def loader(n: int, seed: int, shuffle: bool) -> torch.utils.data.DataLoader:
        x, y = nonlinear(n, seed=seed)
        ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle,
                                           generator=torch.Generator().manual_seed(seed))

    loggers = [CSVLogger(str(outdir), name="lightning_logs")]
    if tensorboard:
        loggers.append(TensorBoardLogger(str(outdir), name="tb_logs", default_hp_metric=False))
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=loggers, log_every_n_steps=5,
                        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                        callbacks=[LearningRateMonitor(logging_interval="step")], deterministic=True)
    trainer.fit(MLP(optimizer, lr), loader(n_train, 1, True), loader(600, 2, False))


RUNS = {
    # Adam lr 1e-3, batch 32, 2,000 samples (10 features, 3 classes, 10% flipped labels), 15 epochs.
    "healthy": lambda out: train(out, tensorboard=True),
    # Plain SGD at lr 1e-4 (no momentum): the loss hardly moves in 15 epochs.
    "lr_too_low": lambda out: train(out, optimizer="sgd", lr=1e-4, log_epoch_too=True),
    # Healthy recipe; at global step 300 one input feature in the batch is NaN.
    "nan": lambda out: train(out, poison_step=300, epochs=10),
}


def main() -> None:
    name, outdir = sys.argv[1], Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    import os

    os.chdir(outdir)
    RUNS[name](Path("."))


if __name__ == "__main__":
    main()
