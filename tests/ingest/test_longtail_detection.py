"""Detection of the long-tail trainer formats: each sample is chosen as its own format, by file and from
standard input; no long-tail parser claims another one's sample, a real log of another format, or a
constructed file of the major formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossdoc.ingest import MIN_CONFIDENCE, choose, rank
from lossdoc.ingest.inputs import from_bytes, open_file
from tests.conftest import REAL_LOGS, SAMPLE_LOGS, real_logs_available

LONG_TAIL = (
    "fairseq", "yolo", "timm", "fastai", "mmengine", "mmcv", "torchtune", "composer", "nemo", "deepspeed",
    "modded-nanogpt", "build-nanogpt", "pytorch-wlm",
)


def _samples() -> list[tuple[str, Path]]:
    out = []
    for fmt in LONG_TAIL:
        for p in sorted((SAMPLE_LOGS / fmt).rglob("*")):
            if p.is_file():
                out.append((fmt, p))
    return out


SAMPLES = _samples()


def test_every_long_tail_format_has_a_sample() -> None:
    assert {f for f, _ in SAMPLES} == set(LONG_TAIL)


@pytest.mark.parametrize(("fmt", "path"), SAMPLES, ids=[f"{f}:{p.parent.name}" for f, p in SAMPLES])
def test_sample_detected_as_its_own_format(fmt: str, path: Path) -> None:
    assert choose(open_file(path)).name == fmt
    cands = rank(from_bytes(path.read_bytes(), name="<stdin>", inner_name="stdin"))
    assert cands[0].parser.name == fmt
    # the runner-up is clearly behind, and no other long-tail parser would take the file
    assert cands[1].confidence <= cands[0].confidence - 0.3
    others = [(c.parser.name, c.confidence) for c in rank(open_file(path))
              if c.parser.name in LONG_TAIL and c.parser.name != fmt]
    assert all(conf < MIN_CONFIDENCE for _, conf in others), others


MAJOR = {
    "nanogpt.log": "step 0: train loss 4.2874, val loss 4.2823\niter 0: loss 4.2657, time 31250.47ms, mfu -100.00%\n"
                   "iter 10: loss 3.2385, time 98.12ms, mfu 38.12%\n",
    "metrics.csv": "epoch,step,train_loss,val_loss\n0,49,0.9,\n0,99,0.8,\n0,99,,0.85\n",
    "training.log": "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.81,0.52,0.84,0.45\n1,0.86,0.39,0.85,0.42\n",
    "history.csv": "epoch,loss,val_loss\n0,0.52,0.45\n1,0.39,0.42\n",
    "hf_console.log": "{'loss': 2.1234, 'grad_norm': 1.5, 'learning_rate': 4.9e-05, 'epoch': 0.1}\n"
                      "{'eval_loss': 1.9, 'eval_runtime': 3.2, 'epoch': 0.2}\n",
    "trainer_state.json": '{"global_step": 20, "log_history": [{"loss": 2.1, "step": 10, "epoch": 0.5}]}\n',
    "train.jsonl": '{"step": 1, "loss": 2.5}\n{"step": 2, "loss": 2.4}\n',
    "train.log": "step 100 loss 2.50\nstep 200 loss 2.41\n",
}


@pytest.mark.parametrize("name", sorted(MAJOR))
def test_long_tail_parsers_leave_major_formats_alone(name: str) -> None:
    inp = from_bytes(MAJOR[name].encode(), name=name, inner_name=f"run/{name}")
    claims = [(c.parser.name, c.confidence) for c in rank(inp) if c.parser.name in LONG_TAIL]
    assert all(conf < MIN_CONFIDENCE for _, conf in claims), claims


def _real_logs() -> list[Path]:
    if not real_logs_available():
        return []
    rows = (REAL_LOGS / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [REAL_LOGS / r.split("\t")[0] for r in rows if r.strip()]


@pytest.mark.skipif(not real_logs_available(), reason="../shared/real_logs not present")
@pytest.mark.parametrize("path", _real_logs(), ids=lambda p: str(p.relative_to(REAL_LOGS)))
def test_long_tail_parsers_on_real_logs(path: Path) -> None:
    own = {"yolo": "yolo", "mmengine": "mmengine"}.get(path.relative_to(REAL_LOGS).parts[0])
    claims = [(c.parser.name, c.confidence) for c in rank(open_file(path))
              if c.parser.name in LONG_TAIL and c.parser.name != own]
    assert all(conf < MIN_CONFIDENCE for _, conf in claims), claims


def _other_samples() -> list[Path]:
    if not SAMPLE_LOGS.is_dir():
        return []
    return [p for p in sorted(SAMPLE_LOGS.rglob("*"))
            if p.is_file() and p.relative_to(SAMPLE_LOGS).parts[0] not in LONG_TAIL]


@pytest.mark.parametrize("path", _other_samples(), ids=lambda p: str(p.relative_to(SAMPLE_LOGS)))
def test_long_tail_parsers_leave_other_samples_alone(path: Path) -> None:
    claims = [(c.parser.name, c.confidence) for c in rank(open_file(path)) if c.parser.name in LONG_TAIL]
    assert all(conf < MIN_CONFIDENCE for _, conf in claims), claims
