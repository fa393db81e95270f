"""Plain PyTorch loops logging to TensorBoard (torch.utils.tensorboard): train/loss per step, val/loss per epoch."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import classification_data, gzip_into_place, main_loop, make_run

T = "tensorboard"
F = "events.out.tfevents"


def plan() -> list[dict]:
    p = []
    base = dict(data="synth", width=128, depth=2, act="relu", opt="sgd", batch=32, epochs=10, dropout=0.0, wd=0.0,
                log_every=1, n_train=None, bn=False)
    # A. SGD (momentum 0.9) learning-rate sweep, 5-class synthetic data, ~1,300 steps logged every step
    for lr in [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_sgd_synth", F, dict(lr=lr, seed=seed), lr_group="lr_sgd_synth", n_classes=5,
                              extra=dict(cfg=dict(base, lr=lr, seed=seed))))
    # B. Adam learning-rate sweep, digits, 30 epochs x 20 steps
    for lr in [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]:
        for seed in [0, 1]:
            p.append(make_run(T, "lr_adam_digits", F, dict(lr=lr, seed=seed), lr_group="lr_adam_digits",
                              n_classes=10, extra=dict(cfg=dict(base, data="digits", width=256, opt="adam", lr=lr,
                                                                batch=64, epochs=30, seed=seed))))
    # C. training-set size x regularisation (dropout, weight decay), wide MLP, Adam, 60 epochs
    for n in [100, 300, None]:
        for reg in ["none", "dropout", "wd", "both"]:
            for seed in [0, 1]:
                dropout = 0.5 if reg in ("dropout", "both") else 0.0
                wd = 0.05 if reg in ("wd", "both") else 0.0
                ep = 60 if n else 20
                p.append(make_run(T, "size_reg_digits", F, dict(n_train=n or 1257, reg=reg, seed=seed),
                                  n_classes=10,
                                  extra=dict(cfg=dict(base, data="digits", width=512, opt="adamw", lr=1e-3,
                                                      batch=32, epochs=ep, dropout=dropout, wd=wd, seed=seed,
                                                      n_train=n, log_every=1 if n else 5))))
    # D. batch size, Adam 1e-3, 6 epochs
    for bs in [8, 32, 128, 512]:
        for seed in [0, 1]:
            p.append(make_run(T, "batch_synth", F, dict(batch=bs, seed=seed), n_classes=5,
                              extra=dict(cfg=dict(base, opt="adam", lr=1e-3, batch=bs, epochs=6, seed=seed,
                                                  log_every=4 if bs == 8 else 1))))
    # E. deep sigmoid MLP without normalisation, SGD lr 0.5 (trivial-solution plateau at ln 10), and a
    #    BatchNorm control at lr 0.1
    for depth, bn, lr, seeds in [(3, False, 0.5, [0, 1, 2]), (4, False, 0.5, [0, 1]), (3, True, 0.1, [0, 1]),
                                 (4, True, 0.1, [0, 1])]:
        for seed in seeds:
            p.append(make_run(T, "deep_sigmoid_digits", F, dict(depth=depth, bn=int(bn), lr=lr, seed=seed),
                              n_classes=10,
                              extra=dict(cfg=dict(base, data="digits", width=64, depth=depth, act="sigmoid",
                                                  opt="sgd", lr=lr, batch=32, epochs=40, bn=bn, seed=seed,
                                                  log_every=2))))
    # F. long Adam runs past convergence (loss near zero), beta2 x LR: the setting known for late loss spikes
    for lr in [1e-3, 3e-3]:
        for beta2 in [0.99, 0.999]:
            for seed in [0, 1]:
                p.append(make_run(T, "adam_late_digits", F, dict(lr=lr, beta2=beta2, seed=seed), n_classes=10,
                                  extra=dict(cfg=dict(base, data="digits", width=256, opt="adam", lr=lr,
                                                      beta2=beta2, batch=64, epochs=80, seed=seed))))
    # G. corrupted batches (inputs x30, labels shuffled) at 4 fixed steps -- the bad-data cause of loss spikes --
    #    vs clean controls; Adam 1e-3 and SGD 0.05
    for opt, lr in [("adam", 1e-3), ("sgd", 0.05)]:
        for glitch in [0, 1]:
            for seed in [0, 1]:
                p.append(make_run(T, "bad_batches_synth", F, dict(opt=opt, glitch=glitch, seed=seed), n_classes=5,
                                  extra=dict(cfg=dict(base, opt=opt, lr=lr, epochs=8, seed=seed,
                                                      glitch_steps=[250, 400, 640, 900] if glitch else []))))
    return p


def build(cfg, d_in, n_out):
    import torch.nn as nn
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[cfg["act"]]
    layers, d = [], d_in
    for _ in range(cfg["depth"]):
        layers.append(nn.Linear(d, cfg["width"]))
        if cfg["bn"]:
            layers.append(nn.BatchNorm1d(cfg["width"]))
        layers.append(act())
        if cfg["dropout"]:
            layers.append(nn.Dropout(cfg["dropout"]))
        d = cfg["width"]
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


def make_opt(cfg, params):
    import torch
    if cfg["opt"] == "sgd":
        return torch.optim.SGD(params, lr=cfg["lr"], momentum=0.9, weight_decay=cfg["wd"])
    if cfg["opt"] == "adam":
        return torch.optim.Adam(params, lr=cfg["lr"], weight_decay=cfg["wd"], betas=(0.9, cfg.get("beta2", 0.999)))
    return torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["wd"])


def train_one(r: dict) -> None:
    import torch
    import torch.nn.functional as Fn
    from torch.utils.tensorboard import SummaryWriter
    c = r["cfg"]
    torch.manual_seed(c["seed"])
    Xtr, ytr, Xva, yva, ncls = classification_data(c["data"], n_train=c["n_train"], seed=c["seed"])
    Xtr, ytr, Xva, yva = map(torch.from_numpy, (Xtr, ytr, Xva, yva))
    model = build(c, Xtr.shape[1], ncls)
    opt = make_opt(c, model.parameters())
    g = torch.Generator().manual_seed(c["seed"])
    with tempfile.TemporaryDirectory() as td:
        w = SummaryWriter(log_dir=td)
        step = 0
        for ep in range(c["epochs"]):
            model.train()
            perm = torch.randperm(len(Xtr), generator=g)
            for i in range(0, len(Xtr), c["batch"]):
                idx = perm[i:i + c["batch"]]
                if len(idx) < 2 and c["bn"]:
                    continue
                xb, yb = Xtr[idx], ytr[idx]
                if step + 1 in c.get("glitch_steps", ()):
                    xb, yb = xb * 30.0, yb[torch.randperm(len(yb), generator=g)]
                loss = Fn.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
                if step % c["log_every"] == 0:
                    w.add_scalar("train/loss", loss.item(), step)
            model.eval()
            with torch.no_grad():
                vl = Fn.cross_entropy(model(Xva), yva).item()
            w.add_scalar("val/loss", vl, step)
            w.add_scalar("train/lr", opt.param_groups[0]["lr"], step)
        w.close()
        files = list(Path(td).glob("events.out.tfevents*"))
        assert len(files) == 1, files
        gzip_into_place(files[0], r, name=files[0].name)


if __name__ == "__main__":
    import torch
    torch.set_num_threads(1)
    main_loop(T, plan(), train_one, only=sys.argv[1] if len(sys.argv) > 1 else None)
