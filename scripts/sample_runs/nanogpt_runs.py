"""A minimal nanoGPT-style GPT and training loop whose prints follow nanoGPT ``train.py``.

The model is a small GPT (pre-LayerNorm blocks, causal self-attention, tied embeddings)
written here in plain torch; the loop mirrors ``karpathy/nanoGPT`` ``train.py`` (commit
e2221318): ``estimate_loss`` every ``eval_interval`` (including iteration 0), warmup + cosine
learning rate, gradient clipping, AdamW, and the same format strings::

    step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}
    iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms, mfu {running_mfu*100:.2f}%
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from sample_runs.common import char_data, seed_everything


@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 40
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.n_head = cfg.n_head
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.config = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as nanoGPT
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def get_num_params(self) -> int:
        return sum(p.numel() for p in self.parameters()) - self.wpe.weight.numel()

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pos = torch.arange(idx.size(1))
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def estimate_mfu(self, fwdbwd_per_iter: int, dt: float) -> float:
        """nanoGPT's estimate (PaLM appendix B) against an A100's 312 TFLOPS."""
        n = self.get_num_params()
        cfg = self.config
        flops_per_token = 6 * n + 12 * cfg.n_layer * cfg.n_head * (cfg.n_embd // cfg.n_head) * cfg.block_size
        flops_per_iter = flops_per_token * cfg.block_size * fwdbwd_per_iter
        return flops_per_iter * (1.0 / dt) / 312e12


def train(outdir: Path, *, learning_rate: float = 1e-3, max_iters: int = 1000, warmup_iters: int = 50,
          min_lr: float | None = None, grad_clip: float = 1.0, eval_interval: int = 100, eval_iters: int = 20,
          log_interval: int = 10, batch_size: int = 16, n_sentences: int = 3000, seed: int = 1337,
          lr_burst: dict[int, float] | None = None, bad_batches: tuple[int, ...] = (), weight_decay: float = 0.1,
          decay_lr: bool = True, cfg: GPTConfig | None = None) -> None:
    """nanoGPT ``train.py``'s loop.

    ``lr_burst`` maps an iteration to a factor applied to its lr; at each iteration in
    ``bad_batches`` the training batch is replaced by uniformly random tokens (corrupt data).
    """
    seed_everything(seed)
    torch.set_num_threads(1)
    vocab, train_ids, val_ids = char_data(n_sentences)
    data = {"train": torch.from_numpy(train_ids), "val": torch.from_numpy(val_ids)}
    cfg = cfg or GPTConfig()
    cfg.vocab_size = len(vocab)
    min_lr = learning_rate / 10 if min_lr is None else min_lr
    lr_decay_iters = max_iters
    gen = torch.Generator().manual_seed(seed)
    tokens_per_iter = batch_size * cfg.block_size
    print(f"tokens per iteration will be: {tokens_per_iter:,}")
    print(f"found vocab_size = {cfg.vocab_size} (inside the generated corpus)")
    print("Initializing a new model from scratch")

    def get_batch(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        d = data[split]
        ix = torch.randint(len(d) - cfg.block_size, (batch_size,), generator=gen)
        x = torch.stack([d[i : i + cfg.block_size] for i in ix])
        y = torch.stack([d[i + 1 : i + 1 + cfg.block_size] for i in ix])
        return x, y

    model = GPT(cfg)
    print("number of parameters: %.2fM" % (model.get_num_params() / 1e6,))  # noqa: UP031 - nanoGPT's own
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    nodecay = [p for p in params if p.dim() < 2]
    print(f"num decayed parameter tensors: {len(decay)}, with {sum(p.numel() for p in decay):,} parameters")
    print(f"num non-decayed parameter tensors: {len(nodecay)}, with {sum(p.numel() for p in nodecay):,} parameters")
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": nodecay, "weight_decay": 0.0}],
                                  lr=learning_rate, betas=(0.9, 0.99))
    print("using fused AdamW: False")

    @torch.no_grad()
    def estimate_loss() -> dict[str, float]:
        out = {}
        model.eval()
        for split in ("train", "val"):
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                x, y = get_batch(split)
                _, loss = model(x, y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    def get_lr(it: int) -> float:
        if it < warmup_iters:
            return learning_rate * (it + 1) / (warmup_iters + 1)
        if it > lr_decay_iters:
            return min_lr
        ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
        coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))
        return min_lr + coeff * (learning_rate - min_lr)

    x, y = get_batch("train")
    t0 = time.time()
    iter_num = 0
    local_iter_num = 0
    running_mfu = -1.0
    best_val_loss = 1e9
    out_dir = outdir / "out"  # nanoGPT's default out_dir is 'out'
    ckpt = out_dir / "ckpt.pt"
    while True:
        lr = get_lr(iter_num) if decay_lr else learning_rate
        if lr_burst and iter_num in lr_burst:
            lr = lr * lr_burst[iter_num]
        for group in optimizer.param_groups:
            group["lr"] = lr
        if iter_num % eval_interval == 0:
            losses = estimate_loss()
            print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            if losses["val"] < best_val_loss:
                best_val_loss = losses["val"]
                if iter_num > 0:
                    print(f"saving checkpoint to {out_dir.name}")
                    out_dir.mkdir(exist_ok=True)
                    torch.save({"model": model.state_dict(), "iter_num": iter_num}, ckpt)
        if iter_num in bad_batches:
            x = torch.randint(cfg.vocab_size, x.shape, generator=gen)
            y = torch.randint(cfg.vocab_size, y.shape, generator=gen)
        _, loss = model(x, y)
        x, y = get_batch("train")
        loss.backward()
        if grad_clip != 0.0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        t1 = time.time()
        dt = t1 - t0
        t0 = t1
        if iter_num % log_interval == 0:
            lossf = loss.item()
            if local_iter_num >= 5:
                mfu = model.estimate_mfu(batch_size, dt)
                running_mfu = mfu if running_mfu == -1.0 else 0.9 * running_mfu + 0.1 * mfu
            print(f"iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms, mfu {running_mfu*100:.2f}%")
        iter_num += 1
        local_iter_num += 1
        if iter_num > max_iters:
            break
    if out_dir.exists():  # keep sample_logs small: the checkpoint is not a log
        ckpt.unlink(missing_ok=True)
        out_dir.rmdir()


RUNS = {
    # lr 1e-3, warmup 50, cosine to 1e-4 over 1000 iters: the ordinary recipe.
    "healthy": lambda out: train(out),
    # The healthy recipe with another seed (model init and batch order): seed-to-seed spread.
    "healthy_seed2": lambda out: train(out, seed=2024),
    # The healthy recipe at lr 1e-5 (100x too low): loss creeps down and stays far above healthy.
    "plateau": lambda out: train(out, learning_rate=1e-5),
    # lr warms up over 200 iters to 0.3 (300x the healthy lr) and stays there, no gradient
    # clipping: loss first falls, then climbs back and blows up.
    "divergence": lambda out: train(out, learning_rate=0.3, grad_clip=0.0, min_lr=0.3, warmup_iters=200,
                                    max_iters=500, eval_interval=25),
    # healthy recipe, but at eight logged iterations the batch is replaced by random tokens.
    "loss_spikes": lambda out: train(out, log_interval=5,
                                     bad_batches=(150, 250, 400, 405, 550, 700, 850, 900)),
    # healthy recipe; at iteration 400 the lr is multiplied by 1e30 for one step:
    # weights overflow to inf and every later loss is NaN.
    "nan": lambda out: train(out, max_iters=600, lr_burst={400: 1e30}),
}


def main() -> None:
    name, outdir = sys.argv[1], Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    RUNS[name](outdir)


if __name__ == "__main__":
    main()
