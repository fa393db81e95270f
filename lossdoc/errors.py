"""The exceptions lossdoc raises.

Every error a user can cause is a :class:`LossdocError`; the CLI turns it into a
one-line message and exit code 2. Anything else escaping is a bug.

    LossdocError
    ├── InputError            the input cannot be read as a training log
    │   ├── ParseError        malformed data in the middle of a recognised file (path:line)
    │   ├── UnknownFormatError no parser recognised the file (lists the near misses)
    │   └── EmptyInputError   nothing usable in the file or directory
    ├── ConfigError           invalid [tool.lossdoc] / lossdoc.toml (names the key and file)
    ├── OutputError           an output that would overwrite an input, a symlink, an unwritable path
    └── RuleError             invalid rules/*.toml (names the key and file)
"""

from __future__ import annotations


class LossdocError(Exception):
    """Base class of every error lossdoc raises on purpose."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"


class InputError(LossdocError):
    """The input cannot be read as a training log."""


class ParseError(InputError):
    """Malformed data inside a file whose format was recognised."""


class UnknownFormatError(InputError):
    """No parser recognised the input."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        candidates: list[tuple[str, float]] | None = None,
    ) -> None:
        self.candidates = candidates or []
        super().__init__(message, path=path)


class EmptyInputError(InputError):
    """The input holds nothing lossdoc can use."""


class ConfigError(LossdocError):
    """Invalid configuration."""


class RuleError(LossdocError):
    """Invalid rule definition file."""


class OutputError(LossdocError):
    """An output cannot be written safely (it is an input, a symlink, unwritable...)."""
