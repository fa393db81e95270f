"""GP003 (train-validation accuracy gap) and OF003 (validation accuracy peaked and fell) on simulated
hand-rolled classifier logs: ``Epoch e/n, Loss: x, Train Acc: t%, Val Acc: v%`` with no validation loss.

    python benchmarks/quality/sim_accuracy_gap.py [--series 100]

Training accuracy ``a_t(e) = A - (A - a0) exp(-e / tau)`` (a0 = 0.3, tau = n/5, A = 0.92 or 0.99) as an
epoch average over 20,000 examples (binomial noise); validation accuracy measured on ``n_val`` held-out
examples (binomial noise: s.e. 1.5 points at 500 examples and 80%, 0.5 at 5,000).

* gap: validation ``a_t(e) - g(e)``, with ``g(e) = G (A - a0) (1 - exp(-e / tau))``: a gap that opens as
  training fits, ending at G of the training accuracy's rise (G = 0: healthy). GP003's thresholds: a
  finding from 10% of the rise (the guide's "sizeable share"), a warning from 15%.
* fall: validation follows training 1 point below it up to 40% of the run, then falls linearly by D of
  the range it rose (D = 0: it stays at its peak, healthy) while training keeps rising. OF003's threshold:
  10% of the range (the guide's), and 2 points.

Each cell prints the share of series with any finding and with a warning (seeded: the same output on every
run). The real logs these rules exist for are rare in the labelled corpora (one public dev log); this is
where their size and power are measured.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lossdoc.checks.runner import run_checks  # noqa: E402
from lossdoc.config import Config  # noqa: E402
from lossdoc.ingest import from_bytes, read_input  # noqa: E402
from lossdoc.model import LogSet  # noqa: E402

N_TRAIN = 20_000


def curves(rng: np.random.Generator, n: int, top: float, n_val: int, kind: str, size: float) -> str:
    e = np.arange(1, n + 1, dtype=float)
    tau = n / 5
    a0 = 0.3
    at = top - (top - a0) * np.exp(-(e - 1) / tau)
    rise = top - a0
    if kind == "gap":
        av = at - size * rise * (1 - np.exp(-(e - 1) / tau))
    else:
        peak = int(round(0.4 * n))
        av = at - 0.01
        vrange = av[peak - 1] - av[0]
        after = np.clip(e - peak, 0, None) / (n - peak)
        av = np.where(e <= peak, av, av[peak - 1] - size * vrange * after)
    t_obs = rng.binomial(N_TRAIN, np.clip(at, 0, 1)) / N_TRAIN * 100
    v_obs = rng.binomial(n_val, np.clip(av, 0, 1)) / n_val * 100
    loss = 1.8 * np.exp(-(e - 1) / tau) + 0.05
    return "\n".join(f"Epoch {int(i)}/{n}, Loss: {l:.4f}, Train Acc: {t:.2f}%, Val Acc: {v:.2f}%"
                     for i, l, t, v in zip(e, loss, t_obs, v_obs)) + "\n"


def rate(rule: str, texts: list[str]) -> tuple[float, float]:
    cfg = Config(select=(rule,))
    anyf = warn = 0
    for t in texts:
        runs, _ = run_checks(LogSet([read_input(from_bytes(t.encode(), "sim.log"), "text")]), cfg, summaries=False)
        fs = [f for r in runs for f in r.findings if f.rule == rule]
        anyf += bool(fs)
        warn += any(str(f.severity) in ("warning", "error") for f in fs)
    return anyf / len(texts), warn / len(texts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=100)
    a = ap.parse_args()
    for rule, kind, sizes in (("GP003", "gap", (0.0, 0.05, 0.1, 0.15, 0.3)), ("OF003", "fall", (0.0, 0.05, 0.1, 0.2, 0.4))):
        print(f"\n{rule} ({kind}; share of series with a finding / with a warning, {a.series} per cell)\n")
        print("| epochs | top train acc | n_val | " + " | ".join(f"{'G' if kind == 'gap' else 'D'}={s:g}" for s in sizes) + " |")
        print("|---:|---:|---:|" + "---:|" * len(sizes))
        for n in (8, 20, 50):
            for top in (0.92, 0.99):
                for n_val in (500, 5000):
                    cells = []
                    for s in sizes:
                        rng = np.random.default_rng([n, int(top * 100), n_val, int(s * 100), 1 if kind == "gap" else 2])
                        texts = [curves(rng, n, top, n_val, kind, s) for _ in range(a.series)]
                        f, w = rate(rule, texts)
                        cells.append(f"{f:.2f} / {w:.2f}")
                    print(f"| {n} | {top:.2f} | {n_val} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
