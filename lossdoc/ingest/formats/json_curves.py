"""Curves a script saved as one JSON document that is a list (``json.dump(losses, f)``).

No trainer owns these; the layouts are what ``json.dump`` writes for the lists a hand-rolled loop keeps, as found
in public repositories (benchmarks/publiclogs, batch 8: ``losses.json``, ``train_losses.json``,
``loss_history.json``, ``training_log.json``). Samples::

    [0.9524158731912934, 0.7585970863207974, 0.6632806780383255, ...]

    [[200, 5.954643909931183, 6.021238269805909], [400, 5.426133804321289, 5.54714424610138], ...]

    [{"step": 0, "train_loss": 4.7548, "train_acc": 0.0081, "val_loss": 4.7597, "val_acc": 0.0088}, ...]

Layouts read:

* a list of numbers: one curve named after the file (``train_losses.json`` -> train loss, ``losses.json`` ->
  loss), read as :mod:`.numeric_column` reads one number per line (the position is the step, noted);
* a list of rows of numbers, every row as long: a table as :mod:`.numeric_column` reads it (a first column of
  whole numbers that never decrease is the step; of two loss columns that no name assigns a split, the second is
  the validation loss only when its numbers show it, else ``other``, and a note says so);
* a list of records: each record read as :mod:`.jsonl` reads one JSON object per line (the step from a
  ``step``/``iter``/``epoch`` key, else the record's position).

``null`` in a list is a missing value (NaN). The file must be named like a curve (``loss``, ``acc``, ``history``
... in its name) for a list of numbers or rows to be claimed, and a record must hold a loss-like key: other JSON
lists (a dataset index, a config) are not curves. Notes name records and elements by their position, not by a
line: ``json.dump`` writes the whole list on one line.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import polars as pl

from lossdoc.errors import EmptyInputError, ParseError
from lossdoc.ingest.formats.jsonl import JSONLParser
from lossdoc.ingest.formats.numeric_column import METRIC_NAME, curve_stem, frames_for
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser
from lossdoc.model import IngestNote, ParseResult

#: what a JSON number (or Python's json NaN / Infinity tokens, or null) starts with
_VALUE_START = re.compile(r"(?:[-+]?(?:\d|\.\d)|NaN|-?Infinity|null)")
#: a loss-like key in a record: ``"loss"``, ``"train_loss"``, ``"val_loss_epoch"``, ``"loss_G"``
_LOSS_KEY = re.compile(r'(?i)"[^"]*loss[^"]*"\s*:')


def _number(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _text(v: Any) -> str:
    if v is None:
        return "nan"
    f = float(v)
    return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf") if math.isinf(f) else repr(f)


def _stem(name: str) -> str:
    return name[: -len(".json")] if name.lower().endswith(".json") else name


class JSONCurvesParser(Parser):
    name = "json-curves"
    title = "Curves saved as one JSON list (json.dump of losses, rows or records)"
    recognises = ("a .json file named like a curve holding a list of numbers ('[0.95, 0.76, ...]'), a list of rows "
                  "('[[step, train, val], ...]'), or a list of records with a loss-like key "
                  "('[{\"step\": 0, \"train_loss\": ...}, ...]')")
    priority = 46

    def sniff(self, inp: InputFile) -> float:
        if not inp.inner_name.lower().endswith(".json"):
            return 0.0
        head = inp.head_text(4096).lstrip()
        if not head.startswith("["):
            return 0.0
        body = head[1:].lstrip()
        if body.startswith("{"):
            return 0.6 if _LOSS_KEY.search(head) else 0.0
        named = METRIC_NAME.search(_stem(inp.inner_name)) is not None
        if body.startswith("["):
            return 0.7 if named and _VALUE_START.match(body[1:].lstrip()) else 0.0
        return 0.75 if named and _VALUE_START.match(body) else 0.0

    def parse(self, inp: InputFile) -> ParseResult:
        text = inp.read_text()
        if _VALUE_START.match(text.lstrip()[1:].lstrip()) and "[" not in text.lstrip()[1:]:
            return self._numbers(inp, text)
        try:
            doc: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"malformed JSON: {exc.msg}", path=inp.name, line=exc.lineno) from None
        if not isinstance(doc, list):
            raise ParseError("not a JSON list of numbers, rows or records", path=inp.name, line=1)
        if not doc:
            raise EmptyInputError("the JSON list is empty", path=inp.name)
        stem = _stem(inp.inner_name)
        if all(isinstance(r, dict) for r in doc):
            text = "\n".join(json.dumps(r) for r in doc) + "\n"
            sub = InputFile(name=inp.name, inner_name=f"{stem}.jsonl", run_name=inp.run_name, data=text.encode())
            res = JSONLParser().parse(sub)
            how = IngestNote("inferred", f"a JSON list of {len(doc):,} records: each read as a JSON Lines record")
            return ParseResult(res.frame, [how, *_positions(res.notes, "record")])
        # (a list of numbers never gets here: _numbers reads every list whose first element is a number and that
        # holds no '[')
        if not (all(isinstance(r, list) and r and all(_number(v) for v in r) for r in doc)
                and len({len(r) for r in doc}) == 1):
            raise ParseError("a JSON list that is neither numbers, rows of numbers of one length, nor records "
                             "(objects)", path=inp.name, line=1)
        return _as_curve_file(inp, "\n".join(",".join(_text(v) for v in r) for r in doc), len(doc), "row")

    def _numbers(self, inp: InputFile, text: str) -> ParseResult:
        """A list of numbers, split by polars (one pass over a 10^7-element list in seconds; ``json.loads`` plus a
        Python float per element took several times longer); anything else in it is an error, as json.loads
        would say."""
        body = text.strip()
        if not body.endswith("]"):
            raise ParseError("malformed JSON: the list is not closed (a ']' is missing)", path=inp.name,
                             line=text.count("\n") + 1)
        tokens = pl.Series([body[1:-1]]).str.split(",").explode().str.strip_chars()
        tokens = tokens.filter(tokens != "") if tokens.len() == 1 else tokens
        mapped = tokens.replace({"null": "NaN", "Infinity": "inf", "-Infinity": "-inf"})
        vals = mapped.cast(pl.Float64, strict=False)
        bad = vals.is_null() & mapped.is_not_null()
        if bad.any():
            i = int(bad.arg_max())  # type: ignore[arg-type]
            raise ParseError(f"malformed JSON: element {i + 1:,} of the list is not a number ({tokens[i][:30]!r})",
                             path=inp.name, line=1)
        if vals.len() == 0:
            raise EmptyInputError("the JSON list is empty", path=inp.name)
        return _as_curve_file(inp, vals.cast(pl.String).str.join("\n").item(), vals.len(), "element")


def _as_curve_file(inp: InputFile, lines: str, n: int, what: str) -> ParseResult:
    """The list's ``n`` elements or rows, one per line of ``lines``, read as :mod:`.numeric_column` reads a curve
    file named as this one (``loss_history.json`` as ``loss``)."""
    stem = curve_stem(_stem(inp.inner_name))
    sub = InputFile(name=inp.name, inner_name=f"{stem}.txt", run_name=inp.run_name, data=(lines + "\n").encode())
    frame, notes = frames_for([(stem, inp.name, sub)], inp.run_name)
    if frame.height == 0:
        raise EmptyInputError("no numbers found (read as json-curves)", path=inp.name)
    how = IngestNote("inferred", f"a JSON list of {n:,} {what}s, read as a curve file of numbers")
    return ParseResult(frame, [how, *_positions(notes, what)])


def _positions(notes: list[IngestNote], what: str) -> list[IngestNote]:
    """The delegated reader's notes with their line numbers turned into positions in the JSON list (the list is
    one line of the file, or pretty-printed over many: a line of the reader's own text is an element)."""
    out = []
    for n in notes:
        msg = n.message if n.line is None else f"{n.message} ({what} {n.line:,} of the list)"
        out.append(IngestNote(n.kind, msg, None, n.run, n.count, n.step))
    return out


PARSERS = [JSONCurvesParser()]
