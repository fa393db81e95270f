"""Generate large, realistic training logs for the parse benchmarks (not used by the tests).

The loss follows a power law ``1.9 + 9 * (1 + t/tau)^-0.45`` (tau = steps/1000, so the curve has the
same shape at every size) with white noise plus AR(1) noise proportional to the loss, and
``3 + log10(steps)`` spikes of +0.5 ... 3.0 with exponential recovery (as ``research/perf.md``).

Kinds written (one logged step per training step):

- ``nanogpt``: ``iter N: loss X, time Yms, mfu Z%`` (first 5 with ``mfu -100.00%``), an eval line and
  ``saving checkpoint`` every 1000 steps, a config header and a warning line about every 2,500 steps.
- ``megatron``: Megatron-LM training lines (timestamped, ~300 bytes), a validation block every 1000
  steps, an argument dump and a warning every 5,000 steps.
- ``llmc``: llm.c ``main.log`` (``s:N trl:X lr:Y norm:Z``, ``s:N tel:X`` every 250 steps).
- ``tensorboard``: one ``train/loss`` ``simple_value`` per step, framed as TFRecords with the real
  masked CRC32C (written by this script; no TensorFlow or tensorboard package needed).
- ``hf``: HF Trainer ``trainer_state.json``, one log_history entry per step (``benchmarks/bench_e2e.py``).
- ``lightning``: Lightning ``CSVLogger`` ``version_0/metrics.csv`` (``epoch,step,train_loss_step,lr-Adam``).

Usage::

    python benchmarks/gen_logs.py --steps 1000000 [--kinds nanogpt,megatron,llmc,tensorboard] [--out benchmarks/data]
"""

from __future__ import annotations

import argparse
import struct
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def loss_curve(steps: int, seed: int = 20260101) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64)
    tau = max(steps / 1000.0, 1.0)
    base = 1.9 + 9.0 * (1.0 + t / tau) ** -0.45
    white = rng.normal(0.0, 0.02, steps)
    # AR(1) noise, phi = 0.95, by a linear filter (no Python loop).
    from scipy.signal import lfilter

    ar = lfilter([1.0], [1.0, -0.95], rng.normal(0.0, 0.01, steps))
    loss = base * (1.0 + white + ar)
    n_spikes = 3 + int(np.log10(max(steps, 10)))
    for at in rng.integers(steps // 20, steps, n_spikes):
        height = rng.uniform(0.5, 3.0)
        span = min(steps - at, 200)
        loss[at : at + span] += height * np.exp(-np.arange(span) / 20.0)
    return loss


def lr_curve(steps: int) -> np.ndarray:
    t = np.arange(steps, dtype=np.float64)
    warm = max(steps // 100, 1)
    return np.where(t < warm, 3e-4 * (t + 1) / warm, 3e-4 * 0.5 * (1 + np.cos(np.pi * (t - warm) / max(steps - warm, 1))))


WARNINGS = [
    "/usr/lib/python3/site-packages/torch/_inductor/compile_fx.py:150: UserWarning: TensorFloat32 tensor cores "
    "for float32 matrix multiplication available but not enabled.",
    'W0601 10:15:42.123000 1234 torch/_dynamo/convert_frame.py:844] [0/8] torch._dynamo hit config.cache_size_limit (8)',
    "NCCL WARN Call to ibv_reg_mr failed with error Cannot allocate memory",
    'warnings.warn("The given NumPy array is not writable")',
]


def gen_nanogpt(steps: int, path: Path) -> None:
    loss = loss_curve(steps)
    rng = np.random.default_rng(7)
    dt = 98.0 + rng.normal(0, 1.5, steps)
    mfu = np.full(steps, -100.0)
    mfu[5:] = 38.0 + rng.normal(0, 0.3, steps - 5)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Overriding config with config/train_gpt2.py:\n# config for training GPT-2 (124M)\n")
        fh.write("tokens per iteration will be: 491,520\nnumber of parameters: 123.69M\n")
        out = []
        for i in range(steps):
            if i % 1000 == 0:
                out.append(f"step {i}: train loss {loss[i] * 0.99:.4f}, val loss {loss[i] * 1.02:.4f}\n")
                if i:
                    out.append("saving checkpoint to out\n")
            if i % 2500 == 1234:
                out.append(WARNINGS[(i // 2500) % len(WARNINGS)] + "\n")
            out.append(f"iter {i}: loss {loss[i]:.4f}, time {dt[i]:.2f}ms, mfu {mfu[i]:.2f}%\n")
            if len(out) > 100_000:
                fh.write("".join(out))
                out.clear()
        fh.write("".join(out))


def gen_megatron(steps: int, path: Path) -> None:
    loss = loss_curve(steps)
    lr = lr_curve(steps)
    rng = np.random.default_rng(11)
    gn = np.abs(1.0 + rng.normal(0, 0.2, steps))
    ms = 1230.0 + rng.normal(0, 5, steps)
    t0 = 1717236942
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("------------------------ arguments ------------------------\n")
        for k in ("accumulate_allreduce_grads_in_fp32", "adam_beta1", "adam_beta2", "bf16", "clip_grad",
                  "global_batch_size", "log_interval", "lr", "micro_batch_size", "seq_length", "train_iters"):
            fh.write(f"  {k} {'.' * (48 - len(k))} {steps if k == 'train_iters' else 'None'}\n")
        fh.write("-------------------- end of arguments ---------------------\n")
        out = []
        for i in range(1, steps + 1):
            ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + i))
            out.append(
                f" [{ts}] iteration {i:8d}/{steps:8d} | consumed samples: {i * 512:12d} | "
                f"elapsed time per iteration (ms): {ms[i - 1]:.1f} | learning rate: {lr[i - 1]:.6E} | "
                f"global batch size: {512:5d} | lm loss: {loss[i - 1]:.6E} | loss scale: 1.0 | "
                f"grad norm: {gn[i - 1]:.3f} | number of skipped iterations: {0:3d} | "
                f"number of nan iterations: {0:3d} |\n"
            )
            if i % 1000 == 0:
                s = f" validation loss at iteration {i} | lm loss value: {loss[i - 1] * 1.01:.6E} | " \
                    f"lm loss PPL: {np.exp(min(20, loss[i - 1] * 1.01)):.6E} | "
                out.append("-" * (len(s) + 1) + "\n" + s + "\n" + "-" * (len(s) + 1) + "\n")
                out.append(f"saving checkpoint at iteration {i:7d} to /checkpoints\n")
            if i % 5000 == 2345:
                out.append(WARNINGS[(i // 5000) % len(WARNINGS)] + "\n")
            if len(out) > 50_000:
                fh.write("".join(out))
                out.clear()
        fh.write("".join(out))


def gen_llmc(steps: int, path: Path) -> None:
    loss = loss_curve(steps)
    lr = lr_curve(steps)
    rng = np.random.default_rng(13)
    gn = np.abs(1.0 + rng.normal(0, 0.2, steps))
    with open(path, "w", encoding="utf-8") as fh:
        out = []
        for i in range(steps):
            if i % 250 == 0:
                out.append(f"s:{i} tel:{loss[i] * 1.01:.4f}\n")
            out.append(f"s:{i} trl:{loss[i]:.4f} lr:{lr[i]:.6f} norm:{gn[i]:.2f}\n")
            if len(out) > 100_000:
                fh.write("".join(out))
                out.clear()
        fh.write("".join(out))


# --- TensorBoard: TFRecord framing with the masked CRC32C (Castagnoli), table-driven -------------
_CRC_TABLE = np.zeros(256, dtype=np.uint32)
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE[_i] = _c
_CRC_LIST = [int(x) for x in _CRC_TABLE]


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    t = _CRC_LIST
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _record(payload: bytes) -> bytes:
    head = struct.pack("<Q", len(payload))
    return head + struct.pack("<I", masked_crc(head)) + payload + struct.pack("<I", masked_crc(payload))


def scalar_event(wall: float, step: int, tag: str, value: float) -> bytes:
    tb = tag.encode()
    val = b"\x0a" + _varint(len(tb)) + tb + b"\x15" + struct.pack("<f", value)
    summ = b"\x0a" + _varint(len(val)) + val
    return b"\x09" + struct.pack("<d", wall) + b"\x10" + _varint(step) + b"\x2a" + _varint(len(summ)) + summ


def _masked_crc_rows(m: np.ndarray) -> np.ndarray:
    crc = np.full(m.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for k in range(m.shape[1]):
        crc = _CRC_TABLE[(crc ^ m[:, k]) & 0xFF] ^ (crc >> np.uint32(8))
    crc ^= np.uint32(0xFFFFFFFF)
    return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(0xA282EAD8)


def gen_tensorboard(steps: int, path: Path) -> None:
    """One train/loss simple_value per step; CRCs computed with numpy per batch of equal-length records."""
    loss = loss_curve(steps)
    t0 = 1717236942.0
    with open(path, "wb") as fh:
        fh.write(_record(b"\x09" + struct.pack("<d", t0) + b"\x1a\x0dbrain.Event:2"))
        for lo in range(0, steps, 100_000):
            payloads = [scalar_event(t0 + i * 0.1, i, "train/loss", float(loss[i]))
                        for i in range(lo, min(steps, lo + 100_000))]
            recs: list[bytes] = [b""] * len(payloads)
            by_len: dict[int, list[int]] = {}
            for j, pl_ in enumerate(payloads):
                by_len.setdefault(len(pl_), []).append(j)
            for ln, idx in by_len.items():
                mat = np.frombuffer(b"".join(payloads[j] for j in idx), dtype=np.uint8).reshape(len(idx), ln)
                head = struct.pack("<Q", ln)
                hcrc = struct.pack("<I", masked_crc(head))
                pcrc = _masked_crc_rows(mat)
                for k, j in enumerate(idx):
                    recs[j] = head + hcrc + payloads[j] + struct.pack("<I", int(pcrc[k]))
            fh.write(b"".join(recs))


def gen_hf(steps: int, path: Path) -> None:
    """HF Trainer ``trainer_state.json``: one log_history entry per step (``epoch, grad_norm, learning_rate,
    loss, step``), an eval entry every 1000 steps and the final train summary, written as the Trainer
    does (``json.dumps(indent=2, sort_keys=True)``), entry by entry (10^7 entries as one Python list
    would take ~10 GB)."""
    import json

    loss = loss_curve(steps)
    lr = lr_curve(steps)
    rng = np.random.default_rng(17)
    gn = np.abs(1.0 + rng.normal(0, 0.2, steps))
    per_epoch = max(steps // 3, 1)

    def entry(d: dict[str, float | int | None]) -> str:
        return "    " + json.dumps(d, indent=2, sort_keys=True).replace("\n", "\n    ")

    state: dict[str, object] = {"best_metric": None, "best_model_checkpoint": None,
                                "epoch": round(steps / per_epoch, 4), "eval_steps": 1000, "global_step": steps,
                                "is_hyper_param_search": False, "is_local_process_zero": True,
                                "is_world_process_zero": True, "log_history": "@HIST@", "logging_steps": 1,
                                "max_steps": steps, "num_train_epochs": 3, "save_steps": 1000,
                                "total_flos": 1.2e18, "train_batch_size": 8}
    head, tail = json.dumps(state, indent=2, sort_keys=True).split('"@HIST@"')
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head + "[\n")
        out: list[str] = []
        for i in range(1, steps + 1):
            out.append(entry({"epoch": round(i / per_epoch, 4), "grad_norm": float(gn[i - 1]),
                              "learning_rate": float(lr[i - 1]), "loss": round(float(loss[i - 1]), 4), "step": i}))
            if i % 1000 == 0:
                out.append(entry({"epoch": round(i / per_epoch, 4), "eval_loss": float(loss[i - 1]) * 1.02,
                                  "eval_runtime": 12.3, "eval_samples_per_second": 81.2,
                                  "eval_steps_per_second": 10.2, "step": i}))
            if len(out) > 50_000:
                fh.write(",\n".join(out) + ",\n")
                out.clear()
        out.append(entry({"epoch": round(steps / per_epoch, 4), "step": steps, "total_flos": 1.2e18,
                          "train_loss": float(np.mean(loss)), "train_runtime": 3600.0,
                          "train_samples_per_second": 100.0, "train_steps_per_second": 1.0}))
        fh.write(",\n".join(out) + "\n  ]" + tail + "\n")


def gen_lightning(steps: int, path: Path) -> None:
    """Lightning ``CSVLogger`` ``metrics.csv`` (``epoch,step,train_loss_step,lr-Adam``, one row per step)
    with the ``hparams.yaml`` beside it that marks a Lightning version directory."""
    loss = loss_curve(steps)
    lr = lr_curve(steps)
    per_epoch = max(steps // 3, 1)
    (path.parent / "hparams.yaml").write_text(f"lr: 0.0003\nmax_steps: {steps}\n", encoding="utf-8")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("epoch,step,train_loss_step,lr-Adam\n")
        chunk = 1_000_000
        for a in range(0, steps, chunk):
            b = min(steps, a + chunk)
            fh.write("".join(f"{i // per_epoch},{i},{loss[i]:.6f},{lr[i]:.6e}\n" for i in range(a, b)))


def gen_dense_csv(steps: int, path: Path) -> None:
    """A CSV with the training *and* validation loss (and a validation accuracy) at every step: the shape of
    a hand-written ``metrics.csv`` that evaluates each step. Every check that works per evaluation sees
    ``steps`` evaluations here, where the other logs have one per 1,000 steps."""
    import polars as pl

    loss = loss_curve(steps)
    rng = np.random.default_rng(11)
    val = loss * 1.05 + rng.normal(0.0, 0.01, steps)
    acc = np.clip(0.95 - 0.08 * loss / loss[0], 0.0, 1.0)
    pl.DataFrame({"step": np.arange(steps), "train_loss": loss.round(5), "val_loss": val.round(5),
                  "val_acc": acc.round(5)}).write_csv(path)


GENERATORS = {
    "nanogpt": (gen_nanogpt, "nanogpt_{n}.log"),
    "megatron": (gen_megatron, "megatron_{n}.log"),
    "llmc": (gen_llmc, "llmc_{n}/main.log"),
    "tensorboard": (gen_tensorboard, "tb_{n}/events.out.tfevents.1717236942.bench.1.0"),
    "hf": (gen_hf, "hf_{n}/trainer_state.json"),
    "lightning": (gen_lightning, "lightning_{n}/version_0/metrics.csv"),
    "dense-csv": (gen_dense_csv, "dense_{n}.csv"),
}


def path_for(out: Path, kind: str, steps: int) -> Path:
    return out / GENERATORS[kind][1].format(n=steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--kinds", default=",".join(GENERATORS))
    ap.add_argument("--out", type=Path, default=HERE / "data")
    args = ap.parse_args()
    for kind in args.kinds.split(","):
        fn, _ = GENERATORS[kind]
        p = path_for(args.out, kind, args.steps)
        p.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        fn(args.steps, p)
        print(f"{kind:12s} {p}  {p.stat().st_size / 1e6:8.1f} MB  {time.perf_counter() - t:6.1f} s")


if __name__ == "__main__":
    main()
