"""nanoGPT-style character-level GPT on Python stdlib source text; stdout in nanoGPT's exact format (train.log).

The model and the loop follow karpathy/nanoGPT (model.py, train.py): AdamW (betas 0.9/0.99, weight decay 0.1
on matrices), linear warm-up + cosine decay to lr/10, grad clip 1.0, estimate_loss over eval_iters batches of
each split, `step N: train loss X, val loss Y` every eval_interval (from iteration 0) and
`iter N: loss X, time Yms, mfu Z%` every log_interval.
"""
from __future__ import annotations

import math
import sys
import time

from common import char_corpus, gzip_text_into_place, main_loop, make_run, unigram_entropy

T = "nanogpt"
F = "train.log"


def _entropy():
    ids, v = char_corpus()
    n = int(0.9 * len(ids))
    return unigram_entropy(ids[:n], v)


def plan() -> list[dict]:
    H = _entropy()
    p = []
    base = dict(n_layer=2, n_head=2, n_embd=48, block_size=32, batch_size=12, dropout=0.0, lr=1e-3, max_iters=600,
                eval_interval=50, eval_iters=10, log_interval=1, warmup_iters=30, decay_lr=True, train_chars=None,
                weight_decay=0.1, seed=0)
    ex = dict(trivial=H)
    # A. learning-rate sweep (6 orders of magnitude), 600 iterations logged every iteration
    for lr in [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_char", F, dict(lr=lr, seed=seed), lr_group="lr_char",
                              extra=dict(ex, cfg=dict(base, lr=lr, seed=seed))))
    # B. training-set size x dropout (4,000 characters overfit), 1,000 iterations
    for chars in [4000, None]:
        for dropout in [0.0, 0.2]:
            for seed in ([0, 1] if chars else [0]):
                p.append(make_run(T, "size_dropout", F, dict(train_chars=chars or "all", dropout=dropout, seed=seed),
                                  extra=dict(ex, cfg=dict(base, train_chars=chars, dropout=dropout, seed=seed,
                                                          max_iters=1000, n_embd=64, log_interval=2))))
    # C. stopped early: constant LR, 250 iterations vs the 4x-longer reference (same seed, so the short run
    #    is the reference's prefix)
    for seed in [0, 1]:
        c = dict(base, decay_lr=False, warmup_iters=0, seed=seed, eval_interval=25)
        p.append(make_run(T, "short_const_lr", F, dict(max_iters=250, seed=seed), ref_long=f"max_iters1000_seed{seed}",
                          extra=dict(ex, cfg=dict(c, max_iters=250))))
        p.append(make_run(T, "short_const_lr", F, dict(max_iters=1000, seed=seed),
                          extra=dict(ex, cfg=dict(c, max_iters=1000, log_interval=2, eval_interval=50))))
    # D. model size (capacity)
    for nl, ne, seeds in [(1, 16, [0, 1]), (2, 48, [0, 1]), (4, 96, [0, 1])]:
        for seed in seeds:
            p.append(make_run(T, "model_size", F, dict(n_layer=nl, n_embd=ne, seed=seed), size_group="model_size",
                              extra=dict(ex, cfg=dict(base, n_layer=nl, n_embd=ne, seed=seed))))
    # E. batch size 2 vs 48 (per-batch noise)
    for bs in [2, 48]:
        for seed in [0, 1]:
            p.append(make_run(T, "batch", F, dict(batch_size=bs, seed=seed),
                              extra=dict(ex, cfg=dict(base, batch_size=bs, max_iters=400, eval_interval=40,
                                                      seed=seed))))
    return p


def build_model(c, vocab):
    import torch
    import torch.nn as nn
    import torch.nn.functional as Fn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            e = c["n_embd"]
            self.ln_1, self.ln_2 = nn.LayerNorm(e), nn.LayerNorm(e)
            self.c_attn, self.c_proj = nn.Linear(e, 3 * e), nn.Linear(e, e)
            self.fc, self.proj = nn.Linear(e, 4 * e), nn.Linear(4 * e, e)
            self.drop = nn.Dropout(c["dropout"])

        def forward(self, x):
            B, Tn, C = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            nh = c["n_head"]
            q, k, v = (t.view(B, Tn, nh, C // nh).transpose(1, 2) for t in (q, k, v))
            y = Fn.scaled_dot_product_attention(q, k, v, dropout_p=c["dropout"] if self.training else 0,
                                                is_causal=True)
            x = x + self.drop(self.c_proj(y.transpose(1, 2).contiguous().view(B, Tn, C)))
            return x + self.drop(self.proj(Fn.gelu(self.fc(self.ln_2(x)))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            e = c["n_embd"]
            self.wte, self.wpe = nn.Embedding(vocab, e), nn.Embedding(c["block_size"], e)
            self.drop = nn.Dropout(c["dropout"])
            self.h = nn.ModuleList(Block() for _ in range(c["n_layer"]))
            self.ln_f = nn.LayerNorm(e)
            self.lm_head = nn.Linear(e, vocab, bias=False)
            self.wte.weight = self.lm_head.weight
            self.apply(self._init)
            for n, p_ in self.named_parameters():
                if n.endswith("c_proj.weight") or n.endswith(".proj.weight"):
                    nn.init.normal_(p_, 0.0, 0.02 / math.sqrt(2 * c["n_layer"]))
            print("number of parameters: %.2fM" % (self.num_params() / 1e6,))

        def num_params(self):
            return sum(p_.numel() for p_ in self.parameters()) - self.wpe.weight.numel()

        def _init(self, m):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)

        def forward(self, idx, targets):
            pos = torch.arange(idx.shape[1])
            x = self.drop(self.wte(idx) + self.wpe(pos))
            for b in self.h:
                x = b(x)
            logits = self.lm_head(self.ln_f(x))
            return Fn.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

        def estimate_mfu(self, fwdbwd_per_iter, dt):
            N = self.num_params()
            L, Hh, Q, Tn = c["n_layer"], c["n_head"], c["n_embd"] // c["n_head"], c["block_size"]
            flops_per_token = 6 * N + 12 * L * Hh * Q * Tn
            flops_per_iter = flops_per_token * Tn * fwdbwd_per_iter
            return flops_per_iter * (1.0 / dt) / 312e12

    return GPT()


def run_training(c) -> str:
    import numpy as np
    import torch
    from common import capture_stdout
    ids, vocab = char_corpus()
    n = int(0.9 * len(ids))
    train_ids, val_ids = ids[:n], ids[n:]
    if c["train_chars"]:
        train_ids = train_ids[:c["train_chars"]]
    train_t, val_t = torch.from_numpy(train_ids.astype(np.int64)), torch.from_numpy(val_ids.astype(np.int64))
    torch.manual_seed(1337 + c["seed"])
    bs, blk = c["batch_size"], c["block_size"]

    def get_batch(split):
        d = train_t if split == "train" else val_t
        ix = torch.randint(len(d) - blk, (bs,))
        return torch.stack([d[i:i + blk] for i in ix]), torch.stack([d[i + 1:i + 1 + blk] for i in ix])

    with capture_stdout() as buf:
        print(f"tokens per iteration will be: {bs * blk:,}")
        print(f"found vocab_size = {vocab} (inside data/stdlib_char/meta.pkl)")
        print("Initializing a new model from scratch")
        model = build_model(c, vocab)
        decay = [p_ for p_ in model.parameters() if p_.dim() >= 2]
        nodecay = [p_ for p_ in model.parameters() if p_.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": c["weight_decay"]},
                                 {"params": nodecay, "weight_decay": 0.0}], lr=c["lr"], betas=(0.9, 0.99))

        def get_lr(it):
            if not c["decay_lr"]:
                return c["lr"]
            if it < c["warmup_iters"]:
                return c["lr"] * (it + 1) / (c["warmup_iters"] + 1)
            ratio = (it - c["warmup_iters"]) / max(1, c["max_iters"] - c["warmup_iters"])
            coeff = 0.5 * (1.0 + math.cos(math.pi * min(1.0, ratio)))
            return c["lr"] / 10 + coeff * (c["lr"] - c["lr"] / 10)

        @torch.no_grad()
        def estimate_loss():
            out = {}
            model.eval()
            for split in ["train", "val"]:
                losses = torch.zeros(c["eval_iters"])
                for k in range(c["eval_iters"]):
                    X, Y = get_batch(split)
                    losses[k] = model(X, Y).item()
                out[split] = losses.mean()
            model.train()
            return out

        X, Y = get_batch("train")
        t0 = time.time()
        local_iter_num, running_mfu, iter_num, best_val = 0, -1.0, 0, 1e9
        while True:
            for g in opt.param_groups:
                g["lr"] = get_lr(iter_num)
            if iter_num % c["eval_interval"] == 0:
                losses = estimate_loss()
                print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
                if losses["val"] < best_val:
                    best_val = losses["val"]
                    if iter_num > 0:
                        print("saving checkpoint to out-stdlib-char")
            loss = model(X, Y)
            X, Y = get_batch("train")
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            t1 = time.time()
            dt, t0 = t1 - t0, t1
            if iter_num % c["log_interval"] == 0:
                lossf = loss.item()
                if local_iter_num >= 5:
                    mfu = model.estimate_mfu(bs, dt)
                    running_mfu = mfu if running_mfu == -1.0 else 0.9 * running_mfu + 0.1 * mfu
                print(f"iter {iter_num}: loss {lossf:.4f}, time {dt * 1000:.2f}ms, mfu {running_mfu * 100:.2f}%")
            iter_num += 1
            local_iter_num += 1
            if iter_num > c["max_iters"]:
                break
    return buf.getvalue()


def train_one(r: dict) -> None:
    gzip_text_into_place(run_training(r["cfg"]), r)


if __name__ == "__main__":
    import torch
    torch.set_num_threads(1)
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
