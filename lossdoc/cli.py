"""The ``lossdoc`` command line. Parses options, calls the API, renders, returns an exit code.

This is the only module that reads ``sys.argv``, prints, or picks an exit code. Heavy
imports (polars, scipy, statsmodels, plotting) happen inside the commands, so that
``lossdoc --help`` and ``lossdoc formats`` start fast.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from lossdoc import __version__

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(enum.IntEnum):
    #: No finding at or above --fail-on and no regression.
    OK = 0
    #: Findings at or above --fail-on, or a regression against the baseline.
    FINDINGS = 1
    #: Usage error, unreadable or unrecognised input, invalid config, or an internal error.
    ERROR = 2


def _die(msg: str) -> None:
    click.echo(f"lossdoc: error: {msg}", err=True)
    sys.exit(ExitCode.ERROR)


def handle_errors(fn: F) -> F:
    """Turn lossdoc's own errors into one line on stderr and exit 2; never a traceback on a user's
    mistake. Set LOSSDOC_DEBUG=1 to see the traceback of an internal error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from lossdoc.errors import LossdocError

        try:
            return fn(*args, **kwargs)
        except LossdocError as exc:
            _die(_one_line(str(exc)))
        except click.exceptions.ClickException:
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("lossdoc: interrupted", err=True)
            sys.exit(ExitCode.ERROR)
        except BrokenPipeError:
            sys.exit(ExitCode.OK)
        except Exception as exc:  # noqa: BLE001
            if os.environ.get("LOSSDOC_DEBUG"):
                raise
            _die(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                 "(a bug in lossdoc; set LOSSDOC_DEBUG=1 for the traceback and please report it)")

    return wrapper  # type: ignore[return-value]


def _one_line(s: str) -> str:
    s = " ".join(s.split())
    # Terminal escape sequences from file names or log content must not reach the terminal.
    return "".join(ch if ch.isprintable() else "?" for ch in s)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="lossdoc")
def main() -> None:
    """lossdoc: diagnose training-loss curves from the logs you already have.

    \b
    Reads HF Trainer, Lightning, TensorBoard, Keras, nanoGPT, llm.c, Megatron-LM and many
    more log formats (see `lossdoc formats`), checks the curves for NaNs, divergence,
    spikes, plateaus, oscillation and overfitting, and says what to change.

    \b
    Examples:
      lossdoc analyze train.log                       # terminal summary + lossdoc-report.html
      lossdoc analyze out/ --json report.json --fail-on warning
      lossdoc analyze run.log --baseline main.json    # CI gate against a baseline
      lossdoc inspect metrics.csv                     # how lossdoc read the file

    \b
    Exit codes: 0 ok, 1 findings at/above --fail-on or a regression, 2 bad input or usage.
    """


# --------------------------------------------------------------------------- formats
@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@handle_errors
def formats(as_json: bool) -> None:
    """List every log format lossdoc reads and what it recognises."""
    from lossdoc.ingest.registry import all_parsers

    parsers = sorted(all_parsers(), key=lambda p: p.name)
    if as_json:
        click.echo(json.dumps([{"name": p.name, "title": p.title, "recognises": p.recognises,
                                "heuristic": p.heuristic} for p in parsers], indent=2))
        return
    width = max((len(p.name) for p in parsers), default=10)
    for p in parsers:
        click.echo(f"{p.name:<{width}}  {p.title}")
        click.echo(f"{'':<{width}}    {p.recognises}")


# --------------------------------------------------------------------------- inspect
@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", metavar="NAME", help="Skip detection and read as this format (see `lossdoc formats`).")
@click.option("--json", "as_json", is_flag=True, help="Print the lossdoc/inspect-1 JSON document.")
@handle_errors
def inspect(paths: tuple[str, ...], fmt: str | None, as_json: bool) -> None:
    """Show how lossdoc reads PATH...: format, runs, series, step ranges, notes.

    PATH is a file, a directory, a compressed file (.gz .bz2 .xz .zst) or - for stdin.
    """
    from lossdoc.ingest import read
    from lossdoc.report.model import inspect_dict

    logset = read(paths, format=fmt)
    doc = inspect_dict(logset)
    if as_json:
        click.echo(json.dumps(doc, indent=2, allow_nan=False))
        return
    for src in doc["sources"]:
        click.echo(f"{_one_line(src['path'])}  [{src['format']}]")
        for run in src["runs"]:
            click.echo(f"  run {_one_line(run['run'])}")
            for s in run["series"]:
                nf = f"  non-finite {s['non_finite']}" if s["non_finite"] else ""
                click.echo(
                    f"    {s['split']:<5} {s['metric']:<16} {s['points']:>9,} pts  "
                    f"steps {s['first_step']:,}..{s['last_step']:,}  ({_one_line(s['name'])}){nf}"
                )
        for n in src["notes"]:
            where = f" (line {n['line']})" if n.get("line") else ""
            click.echo(f"  note: {n['kind']}{where}: {_one_line(n['message'])}")


def main_entry() -> None:  # pragma: no cover - console script shim
    main()
