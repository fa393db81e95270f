"""Property-based fuzzing of format sniffing and every parser (issue #8).

Arbitrary bytes, log-like token soup and mutated real logs (``sample_logs/``) never raise
anything but lossdoc's own :class:`LossdocError`; a garbled line costs only its own rows; a file
cut anywhere keeps every complete record before the cut.

Bounded and deterministic for CI (``derandomize=True``, no example database, fixed example
counts; the whole module runs in well under a minute). ``scripts/fuzz_long.py`` runs the same
properties for longer with random seeds.
"""

from __future__ import annotations

import collections
import os
from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lossdoc.errors import EmptyInputError, LossdocError
from lossdoc.ingest import choose, from_bytes, open_file, read_input
from lossdoc.ingest.registry import Parser, all_parsers, get_parser
from lossdoc.model import COLUMNS, conform
from tests.conftest import REAL_LOGS, SAMPLE_LOGS
from tests.hardening.cases import N, loss_at, tfevents_bytes, trainer_state


#: ``scripts/fuzz_long.py`` sets this to run every property many times over with random seeds.
SCALE = float(os.environ.get("LOSSDOC_FUZZ_SCALE", "1"))


def fuzz(n: int) -> settings:
    """``n`` examples, derandomized (the same every CI run) unless a long run scales them up."""
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, derandomize=SCALE == 1, database=None,
                    print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


#: Parsers that read single files (directory-only parsers raise NotImplementedError by design).
FILE_PARSERS = [p for p in all_parsers() if type(p).parse is not Parser.parse]

#: File names that steer sniffing towards each format family.
NAMES = ["train.log", "log.txt", "stdout", "metrics.csv", "results.csv", "summary.csv", "history.csv",
         "trainer_state.json", "scalars.json", "20240301_100000.log.json", "m.jsonl", "wandb-history.jsonl",
         "events.out.tfevents.1700000000.host", "learn_error.tsv", "val_loss", "output.log", "x.wandb"]

TOKENS = ["iter", "step", "Step", "epoch", "Epoch", "loss", "val_loss", "train/loss", "eval_loss", "lr",
          "learning_rate", "grad_norm", ":", "=", ",", ";", " ", "  ", "\t", "\n", "\n", "\r", "\r\n", "{", "}",
          "[", "]", '"', "'", "|", "/", "%", "nan", "NaN", "inf", "-inf", "1e999", "-1.5e-3", "0", "3", "10",
          "2.5", "100%", "it/s", "ms", "[rank0]:", "[rank1]:", "\x1b[31m", "\x1b[0m", "\x00", "\ufeff", "é",
          "{'loss': 2.5, 'epoch': 0.1}", '{"step": 1, "loss": 2.5}', "step,loss\n", "iter 10: loss 2.5\n",
          "Epoch 1/10\n", "[0]\ttrain-rmse:0.5\n", "| epoch 001 | loss 2.5 |", "global_step"]


def _sample_files() -> list[Path]:
    """The committed sample logs plus the small real logs beside the repository (when present)."""
    skip = ("/runs/",)  # generated runs: large, and another suite covers them
    files = [p for p in sorted(SAMPLE_LOGS.rglob("*")) if not any(s in str(p) for s in skip)]
    if REAL_LOGS.is_dir():
        files += sorted(REAL_LOGS.rglob("*"))
    return [p for p in files
            if p.is_file() and not p.name.startswith(".") and p.suffix not in (".md", ".py", ".yaml", ".yml")
            and p.name not in ("SOURCES.tsv", "MANIFEST.tsv") and p.stat().st_size < 200_000]


@lru_cache(maxsize=None)
def _sample(path: Path) -> tuple[bytes, str, str] | None:
    """(raw bytes, inner name, parser name) of a sample log lossdoc recognises."""
    try:
        inp = open_file(path)
        parser = choose(inp)
        return inp.read_bytes(), inp.inner_name, parser.name
    except LossdocError:
        return None


SAMPLES = [p for p in _sample_files() if _sample(p) is not None]


def _check_frame(res_frame: pl.DataFrame) -> None:
    frame = conform(res_frame)
    assert tuple(frame.columns) == COLUMNS


def _parse(parser: Parser, data: bytes, name: str) -> None:
    try:
        res = parser.parse(from_bytes(data, name="fuzz", inner_name=name))
    except LossdocError:
        return
    _check_frame(res.frame)


# --------------------------------------------------------------------------- sniffing
@fuzz(200)
@given(data=st.binary(max_size=3000), name=st.sampled_from(NAMES))
def test_sniffing_arbitrary_bytes(data: bytes, name: str) -> None:
    inp = from_bytes(data, name="fuzz", inner_name=name)
    for p in all_parsers():
        try:
            c = float(p.sniff(inp))
        except LossdocError:
            continue
        assert 0.0 <= c <= 1.0, (p.name, c)


# --------------------------------------------------------------------------- parsing
@fuzz(250)
@given(data=st.binary(max_size=3000), name=st.sampled_from(NAMES), parser=st.sampled_from(FILE_PARSERS))
def test_every_parser_on_arbitrary_bytes(data: bytes, name: str, parser: Parser) -> None:
    _parse(parser, data, name)


@fuzz(250)
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=400), name=st.sampled_from(NAMES),
       parser=st.sampled_from(FILE_PARSERS))
def test_every_parser_on_log_like_soup(tokens: list[str], name: str, parser: Parser) -> None:
    _parse(parser, "".join(tokens).encode("utf-8", "surrogatepass"), name)


@fuzz(250)
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=400), name=st.sampled_from(NAMES))
def test_read_with_detection_on_log_like_soup(tokens: list[str], name: str) -> None:
    """The whole ingest path (sniff, choose, parse, conform, normalise) raises only LossdocError."""
    try:
        src = read_input(from_bytes("".join(tokens).encode(), name="fuzz", inner_name=name))
    except LossdocError:
        return
    assert src.frame.height > 0 and tuple(src.frame.columns) == COLUMNS


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str, str]:
    path = draw(st.sampled_from(SAMPLES))
    raw, inner, parser = _sample(path)  # type: ignore[misc]
    b = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "delete", "dup"]))
        if not b:
            break
        i = draw(st.integers(0, len(b) - 1))
        if op == "cut":
            del b[i:]
        elif op == "flip":
            b[i] = draw(st.integers(0, 255))
        elif op == "insert":
            b[i:i] = draw(st.binary(min_size=1, max_size=40) | st.sampled_from([t.encode() for t in TOKENS]))
        elif op == "delete":
            del b[i : i + draw(st.integers(1, 200))]
        else:
            j = draw(st.integers(i, min(len(b), i + 300)))
            b[j:j] = b[i:j]
    return bytes(b), inner, parser


@fuzz(400)
@given(case=mutated())
def test_mutated_real_logs_raise_only_lossdoc_errors(case: tuple[bytes, str, str]) -> None:
    data, inner, parser = case
    _parse(get_parser(parser), data, inner)
    try:
        read_input(from_bytes(data, name="fuzz", inner_name=inner))
    except LossdocError:
        pass


# --------------------------------------------------------------------------- nothing lost
def _line_oriented(path: Path) -> bool:
    data = _sample(path)
    return data is not None and data[0].count(b"\n") >= 4 and data[2] not in (
        "tensorboard", "wandb-run", "hf-trainer", "tensorboard-csv", "catboost")


LINE_SAMPLES = [p for p in SAMPLES if _line_oriented(p)]
CSV_FAMILY = {"csv", "keras-csv", "lightning-csv", "wandb-csv", "tensorboard-csv"}


def _rows(parser: Parser, data: bytes, inner: str) -> collections.Counter[tuple[object, ...]]:
    res = parser.parse(from_bytes(data, name="fuzz", inner_name=inner))
    return collections.Counter(
        (s, m, n, repr(v)) for s, m, n, v in res.frame.select("split", "metric", "name", "value").iter_rows()
    )


@fuzz(150)
@given(path=st.sampled_from(LINE_SAMPLES), where=st.floats(0, 1, exclude_max=True),
       garbage=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
                       min_size=1, max_size=60))
def test_a_garbled_line_costs_only_its_own_rows(path: Path, where: float, garbage: str) -> None:
    """Garbling line k keeps every row that reading the log without line k gives (the untouched rows)."""
    raw, inner, name = _sample(path)  # type: ignore[misc]
    # Known limitation: in a CSV a lone '"' opens a quoted cell that runs to the end of the file
    # (RFC 4180), so the rows after it are lost (the ragged-rows note says so).
    assume(not ('"' in garbage and name in CSV_FAMILY))
    parser = get_parser(name)
    lines = raw.split(b"\n")
    k = 1 + int(where * (len(lines) - 2))  # never the first line (a header) nor the final empty one
    without = b"\n".join(lines[:k] + lines[k + 1 :])
    garbled = b"\n".join(lines[:k] + [garbage.encode()] + lines[k + 1 :])
    try:
        expected = _rows(parser, without, inner)
    except LossdocError:
        return  # the log is not readable without that line either (e.g. its only data line)
    got = _rows(parser, garbled, inner)
    missing = expected - got
    assert not missing, (path.name, k + 1, garbage, list(missing)[:3])


TF = tfevents_bytes()
HF = trainer_state().encode()


@fuzz(60)
@given(cut=st.integers(0, len(TF)))
def test_tensorboard_cut_anywhere_keeps_complete_records(cut: int) -> None:
    try:
        src = read_input(from_bytes(TF[:cut], name="fuzz", inner_name="events.out.tfevents.1700000000.host"))
    except (EmptyInputError, LossdocError):
        return
    steps = src.frame.filter(pl.col("metric") == "loss").get_column("step").to_list()
    assert steps == list(range(len(steps)))
    complete = _complete_records(TF[:cut])
    assert len(steps) == complete


def _complete_records(data: bytes) -> int:
    """Scalar records wholly inside ``data`` (after the file-version header record)."""
    n, off = 0, 0
    while off + 12 <= len(data):
        length = int.from_bytes(data[off : off + 8], "little")
        end = off + 12 + length + 4
        if end > len(data):
            break
        n, off = n + 1, end
    return max(n - 1, 0)


@fuzz(60)
@given(cut=st.integers(0, len(HF)))
def test_trainer_state_cut_anywhere_keeps_a_prefix(cut: int) -> None:
    try:
        src = read_input(from_bytes(HF[:cut], name="fuzz", inner_name="trainer_state.json"))
    except LossdocError:
        return
    got = src.frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss")).sort("step")
    pairs = list(zip(got.get_column("step").to_list(), got.get_column("value").to_list()))
    assert pairs == [(i, loss_at(i)) for i in range(1, len(pairs) + 1)]
    assert len(pairs) <= N


@pytest.mark.parametrize("path", LINE_SAMPLES, ids=lambda p: p.parent.name + "/" + p.name)
def test_samples_used_by_the_fuzzers_parse_cleanly(path: Path) -> None:
    """Guard: the seeds of the mutation fuzzers are themselves read without error."""
    raw, inner, name = _sample(path)  # type: ignore[misc]
    assert sum(_rows(get_parser(name), raw, inner).values()) > 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["runs", "run", "train_loss", "val_loss", "bins", "tail", "step", "mean", "value", "name"]),
        inner, max_size=5),
    max_leaves=25,
)


@fuzz(300)
@given(body=_JSON)
def test_baseline_snapshot_of_any_shape(tmp_path_factory: pytest.TempPathFactory, body: object) -> None:
    """A damaged or hand-edited ``lossdoc snapshot`` file is an InputError, never a crash."""
    import json

    from lossdoc.compare import load_baselines

    doc = {"schema": "lossdoc/snapshot-1", **body} if isinstance(body, dict) else body
    path = tmp_path_factory.getbasetemp() / "snapshot.json"
    path.write_text(json.dumps(doc))
    try:
        load_baselines([str(path)])
    except LossdocError:
        pass
