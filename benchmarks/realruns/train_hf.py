"""HF transformers Trainer sweeps: a tiny randomly initialised GPT-2 (from GPT2Config, no hub weights) as a
character LM on Python stdlib source; the log is Trainer.save_state()'s trainer_state.json (with eval)."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from common import char_corpus, gzip_into_place, main_loop, make_run, unigram_entropy

T = "hf"
F = "trainer_state.json"


def plan() -> list[dict]:
    ids, v = char_corpus()
    H = unigram_entropy(ids[:int(0.9 * len(ids))], v)
    base = dict(lr=1e-3, seed=0, max_steps=300, n_seq=None, dropout=0.0, sched="linear", n_embd=48, wd=0.0,
                logging_steps=5, eval_steps=25)
    ex = dict(trivial=H)
    p = []
    # A. learning-rate sweep (6 orders of magnitude), linear decay, 300 steps
    for lr in [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_char", F, dict(lr=lr, seed=seed), lr_group="lr_char",
                              extra=dict(ex, cfg=dict(base, lr=lr, seed=seed))))
    # B. training-set size (64 fixed windows = 2,048 characters vs fresh windows) x dropout, 600 steps
    for n_seq in [64, None]:
        for dropout in [0.0, 0.1]:
            for seed in [0, 1]:
                p.append(make_run(T, "size_dropout", F, dict(n_seq=n_seq or "all", dropout=dropout, seed=seed),
                                  extra=dict(ex, cfg=dict(base, n_seq=n_seq, dropout=dropout, max_steps=600,
                                                          n_embd=64, logging_steps=10, eval_steps=50, seed=seed))))
    # C. stopped early: constant LR, 100 steps vs the 4x-longer reference (same seed, same data order)
    for seed in [0, 1]:
        c = dict(base, sched="constant", seed=seed, eval_steps=10)
        p.append(make_run(T, "short_const_lr", F, dict(max_steps=100, seed=seed), ref_long=f"max_steps400_seed{seed}",
                          extra=dict(ex, cfg=dict(c, max_steps=100))))
        p.append(make_run(T, "short_const_lr", F, dict(max_steps=400, seed=seed),
                          extra=dict(ex, cfg=dict(c, max_steps=400, eval_steps=25))))
    return p


def train_one(r: dict) -> None:
    import numpy as np
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments
    c = r["cfg"]
    ids, vocab = char_corpus()
    n = int(0.9 * len(ids))
    tr_ids, va_ids = ids[:n].astype(np.int64), ids[n:].astype(np.int64)
    blk, bs = 32, 16
    rng = np.random.RandomState(c["seed"])
    n_windows = c["n_seq"] or c["max_steps"] * bs
    starts = rng.randint(0, len(tr_ids) - blk, size=n_windows)
    vstarts = np.random.RandomState(123).randint(0, len(va_ids) - blk, size=128)

    class DS(torch.utils.data.Dataset):
        def __init__(self, arr, st):
            self.arr, self.st = arr, st

        def __len__(self):
            return len(self.st)

        def __getitem__(self, i):
            x = torch.from_numpy(self.arr[self.st[i]:self.st[i] + blk])
            return {"input_ids": x, "labels": x}

    cfg = GPT2Config(vocab_size=vocab, n_positions=blk, n_embd=c["n_embd"], n_layer=2, n_head=2,
                     resid_pdrop=c["dropout"], embd_pdrop=c["dropout"], attn_pdrop=c["dropout"],
                     bos_token_id=0, eos_token_id=0)
    torch.manual_seed(c["seed"])
    model = GPT2LMHeadModel(cfg)
    with tempfile.TemporaryDirectory() as td:
        args = TrainingArguments(output_dir=td, max_steps=c["max_steps"], per_device_train_batch_size=bs,
                                 per_device_eval_batch_size=64, learning_rate=c["lr"], lr_scheduler_type=c["sched"],
                                 weight_decay=c["wd"], logging_steps=c["logging_steps"], eval_strategy="steps",
                                 eval_steps=c["eval_steps"], save_strategy="no", report_to="none", use_cpu=True,
                                 seed=c["seed"], dataloader_num_workers=0, disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=DS(tr_ids, starts), eval_dataset=DS(va_ids, vstarts))
        trainer.train()
        trainer.save_state()
        gzip_into_place(Path(td) / F, r)


if __name__ == "__main__":
    import logging
    import warnings

    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
