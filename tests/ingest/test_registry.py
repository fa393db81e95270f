"""Format detection shortcuts: the pruned ranking sweeps use picks exactly the parser the full
ranking picks, and MAX_CONFIDENCE is a true upper bound of each parser's sniff."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from lossdoc.ingest.inputs import from_bytes, open_file
from lossdoc.ingest.registry import MAX_CONFIDENCE, MIN_CONFIDENCE, _LAST_WINNER, all_parsers, pruned_ranking, rank
from tests.conftest import REAL_LOGS, SAMPLE_LOGS

DATA = Path(__file__).parent / "data"


def _returned_literals(fn) -> list[float] | None:
    """Every value ``fn`` can return when each ``return`` is a number, a conditional of numbers or a
    ``line_confidence(...)`` call with literal scores; None when some return is computed."""
    out: list[float] = []

    def lit(e: ast.expr | None) -> list[float] | None:
        if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
            return [float(e.value)]
        if isinstance(e, ast.IfExp):
            a, b = lit(e.body), lit(e.orelse)
            return None if a is None or b is None else a + b
        if isinstance(e, ast.Call) and getattr(e.func, "id", None) == "line_confidence":
            # registry.line_confidence returns 0, strong, weak or (with named=) named_score
            kw = {k.arg: k.value for k in e.keywords}
            got = [0.0]
            for key, default in (("strong", 0.85), ("weak", 0.6)):
                v = lit(kw[key]) if key in kw else [default]
                if v is None:
                    return None
                got += v
            if "named" in kw:
                v = lit(kw["named_score"]) if "named_score" in kw else [0.95]
                if v is None:
                    return None
                got += v
            return got
        return None

    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
        if isinstance(node, ast.Return):
            vals = lit(node.value)
            if vals is None:
                return None
            out += vals
    return out


@pytest.mark.parametrize("name", sorted(MAX_CONFIDENCE))
def test_max_confidence_is_the_largest_value_sniff_returns(name):
    parser = next((p for p in all_parsers() if p.name == name), None)
    assert parser is not None, f"MAX_CONFIDENCE names an unknown parser {name!r}"
    from lossdoc.ingest.formats._lines import LineParser

    if isinstance(parser, LineParser) and type(parser).sniff is LineParser.sniff:
        # LineParser.sniff is line_confidence with the class's strong/weak: 0, weak or strong
        vals = [0.0, float(parser.weak), float(parser.strong)]
    else:
        vals = _returned_literals(type(parser).sniff)
    assert vals is not None, f"{name}.sniff returns a computed value: drop it from MAX_CONFIDENCE"
    assert max(vals) == MAX_CONFIDENCE[name]


def _files() -> list[Path]:
    roots = [SAMPLE_LOGS, DATA] + ([REAL_LOGS] if REAL_LOGS.is_dir() else [])
    return [p for r in roots if r.is_dir() for p in sorted(r.rglob("*"))
            if p.is_file() and p.suffix not in {".md", ".tsv"} and p.stat().st_size > 0]


def test_pruned_ranking_picks_what_the_full_ranking_picks():
    files = _files()
    assert len(files) > 100
    full = [rank(open_file(f))[0] for f in files]
    for hint in (None, "nanogpt", "tensorboard", "csv"):  # no hint, a hint that is often wrong
        _LAST_WINNER.clear()
        with pruned_ranking():
            for f, want in zip(files, full, strict=True):
                if hint:
                    _LAST_WINNER[open_file(f).inner_name] = hint
                got = rank(open_file(f))[0]
                assert (got.parser.name, got.confidence) == (want.parser.name, want.confidence), f
    _LAST_WINNER.clear()


def test_pruned_ranking_skips_parsers_and_keeps_near_misses():
    log = "".join(f"iter {i}: loss {3 - i / 1000:.4f}, time 98.12ms, mfu 38.12%\n" for i in range(200))
    with pruned_ranking():
        cands = rank(from_bytes(log.encode(), name="train.log"))
    assert cands[0].parser.name == "nanogpt" and cands[0].confidence == 0.95
    assert sum(c.confidence == 0 for c in cands) > len(cands) // 2
    # below MIN_CONFIDENCE nothing is skipped: the near misses an unrecognised file names are complete
    weak = "a,b\n1,2\n3,4\n"  # a plain numeric table: only the csv fallback claims it (0.1)
    full = [(c.parser.name, c.confidence) for c in rank(from_bytes(weak.encode(), name="x.csv"))]
    with pruned_ranking():
        pruned = [(c.parser.name, c.confidence) for c in rank(from_bytes(weak.encode(), name="x.csv"))]
    assert 0 < full[0][1] < MIN_CONFIDENCE and pruned == full
