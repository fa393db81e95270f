"""Seeded synthetic data shared by the runs: a small made-up language and classification sets.

Nothing is downloaded: the text is generated from a fixed grammar with a seeded RNG, the
vocabulary is character level, the tabular sets are numpy draws.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

_NOUNS = ["cat", "dog", "bird", "fox", "tree", "river", "stone", "house", "garden", "child",
          "teacher", "boat", "road", "cloud", "apple", "window", "lamp", "city", "horse", "song"]
_VERBS = ["sees", "likes", "finds", "holds", "follows", "paints", "hears", "moves", "keeps", "visits"]
_ADJS = ["red", "small", "quiet", "old", "bright", "green", "tall", "slow", "happy", "cold"]
_PREPS = ["near", "under", "behind", "over", "beside"]
_DETS = ["the", "a", "every", "one"]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and (when imported) torch."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)


def make_text(n_sentences: int = 3000, seed: int = 1234) -> str:
    """A made-up English-like corpus from a tiny grammar (deterministic for a seed)."""
    rng = random.Random(seed)

    def np_() -> str:
        words = [rng.choice(_DETS)]
        if rng.random() < 0.5:
            words.append(rng.choice(_ADJS))
        words.append(rng.choice(_NOUNS))
        return " ".join(words)

    out = []
    for _ in range(n_sentences):
        s = f"{np_()} {rng.choice(_VERBS)} {np_()}"
        if rng.random() < 0.4:
            s += f" {rng.choice(_PREPS)} {np_()}"
        out.append(s.capitalize() + ".")
    return "\n".join(out) + "\n"


class CharVocab:
    """Character-level vocabulary over a text."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.stoi[c] for c in text], dtype=np.int64)


def char_data(n_sentences: int = 3000, seed: int = 1234, val_frac: float = 0.1):
    """(vocab, train ids, val ids) for the made-up corpus."""
    text = make_text(n_sentences, seed)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    n = int(len(ids) * (1 - val_frac))
    return vocab, ids[:n], ids[n:]


def blobs(n: int, n_features: int = 10, n_classes: int = 3, noise: float = 1.0, label_noise: float = 0.0,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian class blobs with a fixed (seed 99) set of class centres and optional flipped labels."""
    centres = np.random.default_rng(99).normal(0.0, 1.5, size=(n_classes, n_features))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    x = centres[y] + rng.normal(0.0, noise, size=(n, n_features))
    if label_noise:
        flip = rng.random(n) < label_noise
        y = np.where(flip, rng.integers(0, n_classes, size=n), y)
    return x.astype(np.float32), y.astype(np.int64)


def nonlinear(n: int, n_features: int = 10, label_noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 3-class problem an MLP needs several epochs for: the class is the tercile of
    ``x0*x1 + sin(2*x2) + 0.5*x3**2 - 0.5`` (cut points fixed), with ``label_noise`` flipped labels."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, size=(n, n_features))
    score = x[:, 0] * x[:, 1] + np.sin(2 * x[:, 2]) + 0.5 * x[:, 3] ** 2 - 0.5
    y = np.digitize(score, [-0.45, 0.45])
    if label_noise:
        flip = rng.random(n) < label_noise
        y = np.where(flip, rng.integers(0, 3, size=n), y)
    return x.astype(np.float32), y.astype(np.int64)
