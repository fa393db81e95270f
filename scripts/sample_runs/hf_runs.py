"""Hugging Face ``transformers.Trainer`` on a tiny randomly initialised GPT-2 (char-level LM).

No hub access: the model comes from a ``GPT2Config``, the data from the generated corpus
(:mod:`sample_runs.common`) cut into fixed-length blocks. The driver captures the process's
stdout+stderr (``> console.log 2>&1``, as a user running ``nohup python train.py`` would);
the Trainer writes ``output/trainer_state.json`` (via ``save_state``), ``checkpoint-*/``
and, when asked, TensorBoard events under ``output/runs/``. Model weights and optimizer
state are deleted afterwards to keep the samples small; the JSON files are kept.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import torch

from sample_runs.common import char_data, seed_everything

KEEP = {"trainer_state.json", "config.json", "generation_config.json"}


class Blocks(torch.utils.data.Dataset):
    def __init__(self, ids: np.ndarray, block: int, limit: int | None = None) -> None:
        n = (len(ids) - 1) // block
        if limit:
            n = min(n, limit)
        self.x = torch.from_numpy(ids[: n * block].reshape(n, block).copy())

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.x[i], "labels": self.x[i]}


def train(outdir: Path, *, lr: float = 1e-3, max_steps: int = -1, epochs: float = 1.0, train_blocks: int | None = None,
          val_blocks: int = 24, logging_steps: int = 5, eval_steps: int | None = 25, save_steps: int = 50,
          eval_strategy: str = "steps", warmup_steps: int = 10, scheduler: str = "linear", max_grad_norm: float = 1.0,
          n_embd: int = 64, n_layer: int = 2, tensorboard: bool = False, seed: int = 42, batch_size: int = 8,
          weight_decay: float = 0.0, lr_burst_step: int | None = None) -> None:
    """Train and save state; at optimizer step ``lr_burst_step`` the lr is multiplied by 1e30."""
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    seed_everything(seed)
    torch.set_num_threads(1)
    block = 64
    vocab, train_ids, val_ids = char_data(3000)
    train_ds = Blocks(train_ids, block, train_blocks)
    val_ds = Blocks(val_ids, block, val_blocks)
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=block, n_embd=n_embd, n_layer=n_layer, n_head=4,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(cfg)
    out = outdir / "output"
    if tensorboard:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "runs" / "tb")
    args = TrainingArguments(
        output_dir=str(out), max_steps=max_steps, num_train_epochs=epochs,
        per_device_train_batch_size=batch_size, per_device_eval_batch_size=batch_size, learning_rate=lr,
        lr_scheduler_type=scheduler, warmup_steps=warmup_steps, max_grad_norm=max_grad_norm,
        weight_decay=weight_decay, logging_steps=logging_steps, eval_strategy=eval_strategy,
        eval_steps=eval_steps, save_strategy="steps" if save_steps else "no", save_steps=save_steps or 500,
        report_to=["tensorboard"] if tensorboard else [], use_cpu=True, seed=seed,
        data_seed=seed, dataloader_num_workers=0, disable_tqdm=False, save_only_model=True,
    )
    optimizers = (None, None)
    if lr_burst_step is not None:  # the Trainer's own linear schedule, with a one-step burst (a scheduler bug)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

        def factor(step: int) -> float:
            if step < warmup_steps:
                f = (step + 1) / warmup_steps
            else:
                f = max(0.0, (max_steps - step) / (max_steps - warmup_steps))
            return f * (1e30 if step == lr_burst_step else 1.0)

        optimizers = (opt, torch.optim.lr_scheduler.LambdaLR(opt, factor))
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, optimizers=optimizers)
    trainer.train()
    trainer.save_state()
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name not in KEEP and "runs" not in p.relative_to(out).parts:
            p.unlink()


RUNS = {
    # AdamW lr 1e-3, linear decay, 10 warmup steps, 300 steps of batch 8 x 64 chars, eval every 25 steps,
    # checkpoint every 100.
    "healthy": lambda out: train(out, max_steps=300, save_steps=100, tensorboard=True),
    # lr 0.5 (500x the healthy lr), constant after 60 warmup steps, gradient clipping off.
    "divergence": lambda out: train(out, lr=0.5, max_grad_norm=0.0, max_steps=200, eval_steps=20, save_steps=100,
                                    scheduler="constant_with_warmup", warmup_steps=60),
    # Only 16 training blocks (1,024 chars), 40 epochs (80 steps), a wider model, eval each epoch.
    "overfitting": lambda out: train(out, lr=3e-3, epochs=40, train_blocks=16, eval_strategy="epoch",
                                     eval_steps=None, logging_steps=2, save_steps=40, n_embd=128, n_layer=3,
                                     scheduler="constant", warmup_steps=0),
    # Healthy recipe, 200 steps, but the lr schedule multiplies the lr by 1e30 at step 120 (a
    # scheduler bug): the weights overflow and every later loss is NaN. The Trainer's default
    # logging_nan_inf_filter=True keeps NaN out of the logged training loss (it logs a finite
    # average or 0.0 instead); grad_norm and eval_loss show the NaN.
    "nan": lambda out: train(out, max_steps=200, eval_steps=20, save_steps=100, lr_burst_step=120),
}


def main() -> None:
    name, outdir = sys.argv[1], Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    os.chdir(outdir)  # paths written into trainer_state.json become relative ("output/checkpoint-100")
    RUNS[name](Path("."))


if __name__ == "__main__":
    main()
