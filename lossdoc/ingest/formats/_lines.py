"""The shape most trainer-specific text-log readers share: recognised by lines that match one pattern
(:func:`lossdoc.ingest.registry.line_confidence`), read line by line (CRLF endings kept out, a torn last line of a
log still being written dropped and noted), the rows built by the subclass."""

from __future__ import annotations

import re
from typing import ClassVar

import polars as pl

from lossdoc.ingest.formats._common import drop_torn_tail, read_text_lines
from lossdoc.ingest.inputs import InputFile
from lossdoc.ingest.registry import Parser, line_confidence
from lossdoc.model import IngestNote, ParseResult


class LineParser(Parser):
    """A :class:`Parser` whose ``sniff`` counts the lines matching :attr:`sniff_pattern` (``strong`` for two or more
    in the file's head or tail, ``weak`` for one) and whose ``parse`` hands the file's lines to :meth:`parse_lines`.
    ``tests/ingest/test_registry.py`` reads ``strong`` for ``registry.MAX_CONFIDENCE``."""

    sniff_pattern: ClassVar[re.Pattern[str]]
    strong: ClassVar[float] = 0.9
    weak: ClassVar[float] = 0.6

    def sniff(self, inp: InputFile) -> float:
        return line_confidence(inp, self.sniff_pattern, strong=self.strong, weak=self.weak)

    def parse(self, inp: InputFile) -> ParseResult:
        notes: list[IngestNote] = []
        lines = drop_torn_tail(inp, read_text_lines(inp, notes), notes)
        return self.parse_lines(inp, lines, notes)

    def parse_lines(self, inp: InputFile, lines: pl.DataFrame, notes: list[IngestNote]) -> ParseResult:
        """The run's rows from the file's ``lines`` (columns ``lineno``, ``line``)."""
        raise NotImplementedError
