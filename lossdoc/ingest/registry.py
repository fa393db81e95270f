"""Parser protocol, format detection (sniff-and-choose) and the ``--format`` override.

Every parser scores an input with a confidence in [0, 1]; the highest wins, ties broken by
``priority`` (lower first). This is deliberately not first-match: CSV and JSONL variants
overlap, so parsers compete on confidence. Sniffing looks at the file name first, then at
the first 64 KiB.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from lossdoc.errors import EmptyInputError, InputError, LossdocError, ParseError, UnknownFormatError
from lossdoc.ingest.inputs import MEMORY_FACTOR, STREAMED_MEMORY_FACTOR, InputFile, check_memory
from lossdoc.model import ParseResult

#: Below this confidence a parser's claim is not taken without ``--format``.
MIN_CONFIDENCE = 0.25


class Parser:
    """Base class for a log format. Subclasses set the class attributes and implement
    :meth:`sniff` and :meth:`parse` (and, for formats that are directories,
    :meth:`sniff_dir` / :meth:`parse_dir`)."""

    name: ClassVar[str] = ""  #: ``--format`` name, kebab-case: "hf-trainer"
    title: ClassVar[str] = ""  #: trainer and artefact: "Hugging Face Trainer trainer_state.json"
    recognises: ClassVar[str] = ""  #: one line for ``lossdoc formats``: what it looks for
    priority: ClassVar[int] = 50  #: tie-break among equal confidences, lower wins
    heuristic: ClassVar[bool] = False  #: a fallback reader (shown as such by ``inspect``)
    #: reads a file on disk in pieces, never whole (see :meth:`memory_factor`)
    streams_from_disk: ClassVar[bool] = False

    def sniff(self, inp: InputFile) -> float:
        """Confidence that ``inp`` is in this format. Cheap: use ``inp.inner_name`` and ``inp.head_text()``."""
        return 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        raise NotImplementedError

    def sniff_dir(self, path: Path) -> float:
        """Confidence that the directory as a whole is one artefact of this format."""
        return 0.0

    def parse_dir(self, path: Path, display: str) -> ParseResult:
        raise NotImplementedError

    def memory_factor(self, inp: InputFile) -> float:
        """Peak memory of reading and analysing ``inp`` with this parser, relative to its size: the
        memory check refuses a file only when ``size * factor`` exceeds what is available. A reader that
        :attr:`streams_from_disk` needs :data:`~lossdoc.ingest.inputs.STREAMED_MEMORY_FACTOR` for a file on
        disk; data in memory (a decompressed .gz, stdin) is held whole."""
        return STREAMED_MEMORY_FACTOR if self.streams_from_disk and inp.path is not None else MEMORY_FACTOR

    def __repr__(self) -> str:
        return f"<Parser {self.name}>"


def line_confidence(inp: InputFile, *patterns: re.Pattern[str], strong: float = 0.85, weak: float = 0.6,
                    named: Callable[[str], bool] | None = None, named_score: float = 0.95) -> float:
    """The sniff most text-log parsers make, in one place: count the matches of ``patterns`` in the
    head of ``inp`` (:meth:`InputFile.head_text`); none -> 0; a file whose name ``named`` accepts
    (its inner name: ``results.txt``, ``*.log.json``) -> ``named_score``; two or more -> ``strong``;
    one -> ``weak``. Where the head holds none, the file's last 64 KiB (:meth:`InputFile.tail_text`) are
    counted instead: a trainer's lines may begin only after a longer preamble (compiler warnings, tqdm
    bars). Parsers whose evidence is not a line count write their own :meth:`Parser.sniff`."""
    head = inp.head_text()
    n = sum(len(p.findall(head)) for p in patterns)
    if not n:
        tail = inp.tail_text()
        n = sum(len(p.findall(tail)) for p in patterns) if tail else 0
    if not n:
        return 0.0
    if named is not None and named(inp.inner_name):
        return named_score
    return strong if n >= 2 else weak


@functools.lru_cache(maxsize=1)
def all_parsers() -> tuple[Parser, ...]:
    """Every registered parser (built-ins and plugins), in tie-break order."""
    from lossdoc.plugins import get_plugin_manager

    found: list[Parser] = []
    seen: set[str] = set()
    for result in get_plugin_manager().hook.lossdoc_parsers():
        for p in result:
            if p.name in seen:
                continue
            seen.add(p.name)
            found.append(p)
    return tuple(sorted(found, key=lambda p: (p.priority, p.name)))


def get_parser(name: str) -> Parser:
    for p in all_parsers():
        if p.name == name:
            return p
    names = ", ".join(p.name for p in all_parsers())
    raise InputError(f"unknown format {name!r}; known formats: {names}")


@dataclass(frozen=True, slots=True)
class Candidate:
    parser: Parser
    confidence: float


def _safe(fn, *args) -> float:  # type: ignore[no-untyped-def]
    try:
        c = float(fn(*args))
    except LossdocError:
        return 0.0
    except Exception:  # noqa: BLE001 - a sniff must never take lossdoc down
        return 0.0
    return max(0.0, min(1.0, c))


#: Heuristic (fallback) parsers never claim more than this, so they are not even asked once a
#: specific parser claims more (their sniffing is the costly part: about half of it per file).
HEURISTIC_CEILING = 0.45


#: The most each built-in parser's ``sniff`` ever returns (its largest literal ``return``;
#: tests/ingest/test_registry.py checks every entry against the source). Parsers not listed
#: (plugins, or a sniff returning a computed score) count as 1.0.
MAX_CONFIDENCE: dict[str, float] = {
    "hf-trainer": 0.97, "tensorboard": 0.99, "catboost": 0.95, "llmc": 0.95, "megatron": 0.95, "mlflow": 0.95,
    "nanogpt": 0.95, "tensorboard-csv": 0.95, "wandb-csv": 0.95, "wandb-run": 0.95, "build-nanogpt": 0.95,
    "modded-nanogpt": 0.95, "composer": 0.9, "deep-text-recognition": 0.95, "mindspore": 0.9, "tf-estimator": 0.9, "maskrcnn-benchmark": 0.95, "darknet": 0.95, "deepxde": 0.95, "catboost-json": 0.95, "demucs": 0.9, "catboost-console": 0.9, "mmengine-text": 0.9, "yolo-console": 0.9, "pytorch-nlp-tutorial": 0.9, "pytorch-imagenet": 0.9, "jde": 0.9, "banner-table": 0.9, "cyclegan": 0.95, "deepspeed": 0.9, "fairseq": 0.95, "fastai": 0.95, "hf-console": 0.9,
    "keras-progbar": 0.9, "lightgbm": 0.85, "llamafactory": 0.95, "long-csv": 0.85, "mmcv": 0.95, "mmengine": 0.95, "nemo": 0.9, "numeric-column": 0.8, "paddle-hapi": 0.95, "pytorch-wlm": 0.9,
    "sklearn-mlp": 0.85, "timm": 0.95, "torchtune": 0.95, "xgboost": 0.85, "yolo": 0.95, "yolo-txt": 0.95,
}

_PRUNE: contextvars.ContextVar[bool] = contextvars.ContextVar("lossdoc_prune_sniffing", default=False)
#: file name -> the parser that took the last file of that name (pruned ranking asks it first)
_LAST_WINNER: dict[str, str] = {}


@contextlib.contextmanager
def pruned_ranking() -> Iterator[None]:
    """Within this block :func:`rank` skips the parsers that cannot beat the best claim so far.

    The parser chosen is the same as with a full ranking: a parser is skipped only when its
    :data:`MAX_CONFIDENCE` is below the best confidence already found (or equal to it with a
    later tie-break), and only once that best reaches :data:`MIN_CONFIDENCE` (so the near misses
    named when nothing is recognised are complete). Skipped parsers are listed with confidence 0,
    so the runners-up are not the full picture: sweeps use this, ``rank`` is exhaustive by default.
    Within the block the parser that took the last file of the same name is asked first, which
    in a sweep of like runs settles the best claim at once.
    """
    token = _PRUNE.set(True)
    try:
        yield
    finally:
        _PRUNE.reset(token)


def _rank_pruned(inp: InputFile, parsers: tuple[Parser, ...]) -> dict[str, float]:
    hint = _LAST_WINNER.get(inp.inner_name)
    order = sorted((p for p in parsers if not p.heuristic),
                   key=lambda p: (p.name != hint, -MAX_CONFIDENCE.get(p.name, 1.0), p.priority, p.name))
    scores: dict[str, float] = {}
    best, best_key = 0.0, (0, "")
    for p in order:
        key = (p.priority, p.name)
        bound = MAX_CONFIDENCE.get(p.name, 1.0)
        if best >= MIN_CONFIDENCE and (bound < best or (bound == best and key > best_key)):
            scores[p.name] = 0.0  # cannot beat the best claim: not asked
            continue
        c = _safe(p.sniff, inp)
        scores[p.name] = c
        if c > best or (c == best and c > 0 and key < best_key):
            best, best_key = c, key
    return scores


def rank(inp: InputFile) -> list[Candidate]:
    """All parsers' confidence for ``inp``, best first (heuristic parsers are scored 0 without
    being run when a specific parser already beats :data:`HEURISTIC_CEILING`; inside
    :func:`pruned_ranking`, so are the parsers that cannot beat the best claim)."""
    parsers = all_parsers()
    if _PRUNE.get():
        scores = _rank_pruned(inp, parsers)
    else:
        scores = {p.name: _safe(p.sniff, inp) for p in parsers if not p.heuristic}
    best = max(scores.values(), default=0.0)
    for p in parsers:
        if p.heuristic:
            scores[p.name] = 0.0 if best > HEURISTIC_CEILING else min(_safe(p.sniff, inp), HEURISTIC_CEILING)
    cands = [Candidate(p, scores[p.name]) for p in parsers]
    cands.sort(key=lambda c: (-c.confidence, c.parser.priority, c.parser.name))
    if cands and cands[0].confidence > 0:
        if len(_LAST_WINNER) > 256:
            _LAST_WINNER.clear()
        _LAST_WINNER[inp.inner_name] = cands[0].parser.name
    return cands


def rank_dir(path: Path) -> list[Candidate]:
    cands = [Candidate(p, _safe(p.sniff_dir, path)) for p in all_parsers()]
    cands.sort(key=lambda c: (-c.confidence, c.parser.priority, c.parser.name))
    return cands


def choose(inp: InputFile) -> Parser:
    """The parser for ``inp``, or :class:`UnknownFormatError` naming the near misses."""
    cands = rank(inp)
    if cands and cands[0].confidence >= MIN_CONFIDENCE:
        return cands[0].parser
    near = [(c.parser.name, c.confidence) for c in cands if c.confidence > 0][:3]
    if near:
        hint = ", ".join(f"{n} ({c:.0%})" for n, c in near)
        msg = f"unrecognised log format; closest: {hint}; force one with --format NAME (see `lossdoc formats`)"
    else:
        msg = "unrecognised log format; see `lossdoc formats` for what lossdoc reads, or force one with --format NAME"
    raise UnknownFormatError(msg, path=inp.name, candidates=near)


def parse_with(parser: Parser, inp: InputFile) -> ParseResult:
    """Run ``parser`` on ``inp``; unexpected exceptions become a :class:`ParseError` naming the file."""
    if inp.path is not None:  # a huge log stops here with a clear message, not in the OOM killer
        check_memory(inp.size, inp.name, factor=parser.memory_factor(inp))
    try:
        return parser.parse(inp)
    except LossdocError:
        raise
    except NotImplementedError:
        raise InputError(f"format {parser.name} reads a directory, not a single file; give the directory",
                         path=inp.name) from None
    except MemoryError:
        raise InputError("out of memory while parsing; the file is too large for this machine", path=inp.name) from None
    except Exception as exc:  # noqa: BLE001 - never a traceback on a user's file
        raise ParseError(f"could not parse as {parser.name}: {type(exc).__name__}: {exc}", path=inp.name) from None


__all__ = [
    "Candidate",
    "EmptyInputError",
    "MAX_CONFIDENCE",
    "MIN_CONFIDENCE",
    "Parser",
    "all_parsers",
    "choose",
    "get_parser",
    "parse_with",
    "pruned_ranking",
    "rank",
    "rank_dir",
]
