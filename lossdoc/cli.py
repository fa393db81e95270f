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
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import click

from lossdoc._version import __version__

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
            with warnings.catch_warnings():
                # Numerical warnings on extreme data (overflow near 1e308, a fit that did not converge)
                # are handled by the analysis; they must not reach a user's terminal as a spew.
                if not os.environ.get("LOSSDOC_DEBUG"):
                    warnings.simplefilter("ignore")
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


def _echo_json(text: str) -> None:
    """A JSON document on stdout: UTF-8 whatever the terminal encoding, and under GitHub Actions
    escaped in JSON (``##\\u005b``) rather than altered by the line guard, so it parses the same."""
    from lossdoc.outputs import write_text

    write_text("-", text, kind="json")


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
    from lossdoc.outputs import setup_streams

    setup_streams()  # PYTHONIOENCODING=ascii, and workflow commands under GITHUB_ACTIONS=true


# --------------------------------------------------------------------------- formats
@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@handle_errors
def formats(as_json: bool) -> None:
    """List every log format lossdoc reads and what it recognises."""
    from lossdoc._catalogue import parser_catalogue  # cached: no polars import on a warm start

    parsers = sorted(parser_catalogue(), key=lambda p: p["name"])
    if as_json:
        _echo_json(json.dumps([{"name": p["name"], "title": p["title"], "recognises": p["recognises"],
                                "heuristic": p["heuristic"]} for p in parsers], indent=2))
        return
    width = max((len(p["name"]) for p in parsers), default=10)
    for p in parsers:
        click.echo(f"{p['name']:<{width}}  {p['title']}")
        click.echo(f"{'':<{width}}    {p['recognises']}")


# --------------------------------------------------------------------------- inspect
@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", metavar="NAME", help="Skip detection and read as this format (see `lossdoc formats`).")
@click.option("--json", "as_json", is_flag=True, help="Print the lossdoc/inspect-1 JSON document.")
@click.option("--split-runs", is_flag=True,
              help="A log that holds several separate runs (a script that appended run after run to one file) "
                   "is read run by run, each named '<run> (run k of n)', instead of its last run alone.")
@handle_errors
def inspect(paths: tuple[str, ...], fmt: str | None, as_json: bool, split_runs: bool) -> None:
    """Show how lossdoc reads PATH...: format, runs, series, step ranges, notes.

    PATH is a file, a directory, a compressed file (.gz .bz2 .xz .zst) or - for stdin.
    """
    from lossdoc.ingest import read
    from lossdoc.report.model import inspect_dict

    logset = read(paths, format=fmt, split_runs=split_runs)
    doc = inspect_dict(logset)
    if as_json:
        _echo_json(json.dumps(doc, indent=2, allow_nan=False))
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


# --------------------------------------------------------------------------- analyze
def output_options(fn: F) -> F:
    """Output options shared by `analyze` and `compare`."""
    opts = [
        click.option("--html", "html", metavar="FILE",
                     help="Write the HTML report here (default lossdoc-report.html; '-' for stdout)."),
        click.option("--no-html", is_flag=True, help="Do not write the HTML report."),
        click.option("--markdown", "markdown", metavar="FILE",
                     help="Write a GitHub-flavoured Markdown report (PR comment / job summary)."),
        click.option("--json", "json_out", metavar="FILE", help="Write the lossdoc/report-1 JSON."),
        click.option("--junit", "junit", metavar="FILE", help="Write a JUnit XML report (one test case per rule)."),
        click.option("-q", "--quiet", is_flag=True, help="No terminal summary."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def check_options(fn: F) -> F:
    """Rule selection and gating options shared by `analyze` and `compare`."""
    opts = [
        click.option("--format", "fmt", metavar="NAME",
                     help="Skip format detection and read as NAME (see `lossdoc formats`)."),
        click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
                     help="lossdoc.toml or pyproject.toml to use (default: the nearest one upwards)."),
        click.option("--select", metavar="RULES",
                     help="Comma-separated rule ids, names, prefixes (SP) or groups to run."),
        click.option("--ignore", metavar="RULES", help="Comma-separated rules to skip."),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default=None,
                     help="Exit 1 when a finding is at or above this severity (default: error)."),
        click.option("--tolerance", metavar="PCT", default=None,
                     help="Regression tolerance vs the baseline, e.g. 1% or 0.01 (default 1%)."),
        # At most 10^15 steps: beyond that a step is not exact as a float and no run trains that long.
        click.option("--horizon", type=click.IntRange(min=1, max=10**15), default=None,
                     help="Step to extrapolate the loss to (default: the planned total when the log "
                          "states it, else 2x the last step)."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def _split_list(s: str | None, option: str = "--select") -> list[str] | None:
    if s is None:
        return None
    out = [x.strip() for x in s.split(",") if x.strip()]
    if not out:  # `--select ""`: an empty selection must not quietly mean "the configured rules"
        raise click.BadParameter("names no rule; give ids, names, prefixes or groups (SP001,divergence)",
                                 param_hint=option)
    return out


def _parse_tolerance(s: str | None) -> float | None:
    if s is None:
        return None
    t = s.strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise click.BadParameter(f"{s!r} is not a percentage like 1% or a fraction like 0.01",
                                 param_hint="--tolerance") from None
    if not 0 <= v < 1:
        raise click.BadParameter("must be between 0% and 100%", param_hint="--tolerance")
    return v


def check_output_paths(inputs: list[str], *, html: str | None, no_html: bool, markdown: str | None,
                       json_out: str | None, junit: str | None, config_path: str | None = None) -> None:
    """Before any reading: refuse outputs that would overwrite an input, go through a symlink or
    collide with each other (:func:`lossdoc.outputs.check_outputs`)."""
    from pathlib import Path

    from lossdoc.config import find_config
    from lossdoc.outputs import check_outputs

    if html is None and not no_html:
        html = "lossdoc-report.html"
    cfg = config_path or find_config(Path.cwd())
    check_outputs([("--html", None if no_html else html), ("--markdown", markdown), ("--json", json_out),
                   ("--junit", junit)], [*inputs, *([str(cfg)] if cfg else [])])


def emit(report: Any, *, html: str | None, no_html: bool, markdown: str | None, json_out: str | None,
         junit: str | None, quiet: bool) -> int:
    """Write every requested output, print the terminal summary, return the exit code."""
    from lossdoc.report.outputs import write_outputs

    to_stdout = "-" in (html, markdown, json_out, junit)
    if html is None and not no_html:
        html = "lossdoc-report.html"
    written = write_outputs(report, html=None if no_html else html, markdown=markdown, json=json_out,
                            junit=junit)
    if not quiet and not to_stdout:
        try:
            color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            click.echo(report.to_text(color=color), nl=False)
            for kind, path in written:
                click.echo(f"{kind} report: {_one_line(path)}")
        except (BrokenPipeError, ValueError):  # the reader went away (`| head`): the gate's code still counts
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    uncompared = getattr(report, "uncompared", None)
    if uncompared:  # a gate with nothing compared is unusable input, not a pass
        click.echo(f"lossdoc: error: nothing compared with the baseline: {_one_line(uncompared[0])}"
                   + (f" (and {len(uncompared) - 1} more run(s))" if len(uncompared) > 1 else ""), err=True)
        return int(ExitCode.ERROR)
    return int(ExitCode.FINDINGS if report.failing() else ExitCode.OK)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--baseline", "baselines", multiple=True, metavar="PATH",
              help="Baseline run (log or `lossdoc snapshot` file); repeat for several seeds. "
                   "A regression exits 1.")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=1024), default=None,
              help="Processes for a sweep directory (default: every CPU, or LOSSDOC_JOBS).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run a sweep on this Dask scheduler, e.g. tcp://host:8786 (default: LOSSDOC_SCHEDULER; "
                   "needs pip install 'lossdoc[dask]').")
@click.option("--split-runs", is_flag=True,
              help="A log that holds several separate runs (a script that appended run after run to one file) "
                   "is read run by run, each named '<run> (run k of n)', instead of its last run alone.")
@check_options
@output_options
@handle_errors
def analyze(paths: tuple[str, ...], baselines: tuple[str, ...], jobs: int | None, scheduler: str | None,
            split_runs: bool, fmt: str | None,
            config_path: str | None, select: str | None, ignore: str | None, fail_on: str | None,
            tolerance: str | None, horizon: int | None, html: str | None, no_html: bool, markdown: str | None,
            json_out: str | None, junit: str | None, quiet: bool) -> None:
    """Diagnose the training curves in PATH... and say what to change.

    \b
    PATH is a log file, a directory (Lightning version_N/, HF output dir, TensorBoard
    logdir, mlruns/), a compressed file (.gz .bz2 .xz .zst) or - for stdin. Several
    paths are analysed as several runs. Writes lossdoc-report.html unless --html/--no-html
    say otherwise; '-' as an output file means standard output.

    \b
    Examples:
      lossdoc analyze train.log
      lossdoc analyze out/checkpoint-500 --json - --quiet
      lossdoc analyze run.log --baseline baseline.json --markdown comment.md --fail-on warning
      lossdoc analyze sweep/ -j 8                     # a sweep: one run per subdirectory
      lossdoc analyze train.log --split-runs          # every run the script appended, each judged

    \b
    A directory holding two or more run subdirectories (and not one TensorBoard logdir,
    HF output dir...) is a sweep: its runs are analysed in parallel and the summary is a
    table ranked by final loss; the HTML is an index linking each run's section. A run that
    cannot be read is listed with its error (exit 2) without stopping the others.
    With --scheduler the sweep's runs are analysed on a Dask cluster's workers, which
    read them from shared storage (or s3:// / gs:// paths); only results come back.
    """
    from lossdoc.api import analyze as run_analyze
    from lossdoc.report.progress import progress_indicator

    check_output_paths([*paths, *baselines], html=html, no_html=no_html, markdown=markdown, json_out=json_out,
                       junit=junit, config_path=config_path)
    from lossdoc.cluster import scheduler_address
    from lossdoc.sweep import SweepReport

    # One path for a directory of runs: lossdoc.analyze routes it to the sweep, as here (jobs=None:
    # every CPU, the command line's default; the Python API defaults to 1 process).
    with progress_indicator(enabled=not quiet) as progress:  # stderr spinner on a TTY after ~1 s
        report = run_analyze(
            list(paths), format=fmt, config=config_path, select=_split_list(select), ignore=_split_list(ignore, "--ignore"),
            fail_on=fail_on, baseline=list(baselines) or None, tolerance=_parse_tolerance(tolerance),
            horizon=horizon, progress=progress, jobs=jobs, scheduler=scheduler_address(scheduler),
            split_runs=split_runs,
        )
    code = emit(report, html=html, no_html=no_html, markdown=markdown, json_out=json_out, junit=junit, quiet=quiet)
    if isinstance(report, SweepReport) and report.errors:
        click.echo(f"lossdoc: error: {len(report.errors)} of {report.units} units could not be read "
                   f"(first: {_one_line(report.errors[0][1])})", err=True)
        code = int(ExitCode.ERROR)
    sys.exit(code)


# --------------------------------------------------------------------------- rules / rule
@main.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Print every rule's parsed record as JSON.")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="lossdoc.toml or pyproject.toml whose rule-paths add rules (default: the nearest one).")
@handle_errors
def rules_cmd(as_json: bool, config_path: str | None) -> None:
    """List every rule: id, name, category, default severity, summary."""
    from pathlib import Path

    from lossdoc.checks.rulefile import load_rules
    from lossdoc.config import load_config

    cfg = load_config(config_path, start=Path.cwd())
    specs = list(load_rules(list(cfg.rule_paths)).values())
    if as_json:
        _echo_json(json.dumps([s.doc() for s in specs], indent=2))
        return
    wn = max((len(s.name) for s in specs), default=4)
    wc = max((len(s.category) for s in specs), default=8)
    click.echo(f"{'ID':<6} {'NAME':<{wn}}  {'CATEGORY':<{wc}}  {'SEVERITY':<8}  SUMMARY")
    for s in specs:
        status = f" [{s.status}]" if s.status != "stable" else ""
        click.echo(f"{s.id:<6} {s.name:<{wn}}  {s.category:<{wc}}  {str(s.severity):<8}  {_one_line(s.summary)}{status}")


@main.command("rule")
@click.argument("rule_id", metavar="ID_OR_NAME")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed rule record as JSON.")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="lossdoc.toml or pyproject.toml whose rule-paths add rules (default: the nearest one).")
@handle_errors
def rule_cmd(rule_id: str, as_json: bool, config_path: str | None) -> None:
    """Explain one rule: summary, why, example, recommendation, known problems, parameters."""
    from pathlib import Path

    from lossdoc.checks.rulefile import find_rule, format_rule, load_rules
    from lossdoc.config import load_config
    from lossdoc.errors import RuleError

    cfg = load_config(config_path, start=Path.cwd())
    specs = load_rules(list(cfg.rule_paths))
    spec = find_rule(specs, rule_id)
    if spec is None:
        raise RuleError(f"no rule {rule_id!r} (see `lossdoc rules`)")
    # Rule files from rule-paths come with the repository (a pull request): no terminal escapes.
    from lossdoc.report.present import strip_controls

    if as_json:
        _echo_json(json.dumps(spec.doc(), indent=2))
    else:
        click.echo(strip_controls(format_rule(spec)), nl=False)


# --------------------------------------------------------------------------- compare / snapshot
@main.command()
@click.argument("baselines", nargs=-1, required=True)
@click.option("--candidate", "candidate", required=True, metavar="PATH",
              help="The run to judge (log, directory or snapshot of it).")
@check_options
@output_options
@handle_errors
def compare(baselines: tuple[str, ...], candidate: str, fmt: str | None, config_path: str | None,
            select: str | None, ignore: str | None, fail_on: str | None, tolerance: str | None,
            horizon: int | None, html: str | None, no_html: bool, markdown: str | None,
            json_out: str | None, junit: str | None, quiet: bool) -> None:
    """Did CANDIDATE train worse than BASELINE...? Exit 1 on a regression.

    \b
    BASELINE is a log (any supported format) or a `lossdoc snapshot` file; give several
    seeds of the baseline configuration to have seed-to-seed noise measured. Compared on
    the common step range: final loss (trailing-window mean), best validation loss, area
    under the loss curve, steps to reach the baseline's final loss. A quantity regresses
    when the candidate is worse by more than --tolerance (default 1%) with p < 0.05.

    \b
    Examples:
      lossdoc compare main.json --candidate run.log --markdown comment.md
      lossdoc compare seed1.log seed2.log seed3.log --candidate run.log --tolerance 2%
    """
    from lossdoc.api import analyze as run_analyze

    check_output_paths([*baselines, candidate], html=html, no_html=no_html, markdown=markdown, json_out=json_out,
                       junit=junit, config_path=config_path)
    report = run_analyze(
        [candidate], format=fmt, config=config_path, select=_split_list(select), ignore=_split_list(ignore, "--ignore"),
        fail_on=fail_on, baseline=list(baselines), tolerance=_parse_tolerance(tolerance), horizon=horizon,
    )
    sys.exit(emit(report, html=html, no_html=no_html, markdown=markdown, json_out=json_out, junit=junit,
                  quiet=quiet))


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="FILE", help="Where to write the snapshot ('-' for stdout).")
@click.option("--format", "fmt", metavar="NAME", help="Skip format detection and read as NAME.")
@handle_errors
def snapshot(paths: tuple[str, ...], output: str, fmt: str | None) -> None:
    """Store a compact baseline of PATH... for `--baseline` / `compare`.

    \b
    The snapshot (JSON, schema lossdoc/snapshot-1) keeps each run's loss curves as bin means
    (at most 400 bins), the raw last 2,000 points and their noise level: small enough to
    commit, detailed enough for the regression tests.

    \b
    Example:
      lossdoc snapshot runs/main/train.log -o baseline.json
    """
    from lossdoc.compare import snapshot as make_snapshot
    from lossdoc.ingest import read
    from lossdoc.outputs import check_outputs, write_text

    check_outputs([("-o", output)], paths)
    doc = make_snapshot(read(paths, format=fmt))
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    write_text(output, text, opt="-o", kind="json")
    if output != "-":
        runs = ", ".join(_one_line(r["run"]) for r in doc["runs"])
        click.echo(f"snapshot of {len(doc['runs'])} run(s) ({runs}) written to {_one_line(output)} "
                   f"({len(text.encode()) / 1024:.0f} KiB)")


# --------------------------------------------------------------------------- watch / run
def _live_options(**kw: Any) -> Any:
    from lossdoc.live import WatchOptions

    html = kw.pop("html")
    if html is None and not kw.pop("no_html"):
        html = "lossdoc-report.html"
    else:
        kw.pop("no_html", None)
    return WatchOptions(html=html, select=_split_list(kw.pop("select")), ignore=_split_list(kw.pop("ignore")),
                        format=kw.pop("fmt"), config=kw.pop("config_path"), **kw)


def _live_finish(code: int, report: Any, quiet: bool, outputs: tuple[str | None, ...]) -> None:
    if report is not None and not quiet and "-" not in outputs:
        click.echo("")
        click.echo(report.to_text(color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")), nl=False)
        for kind, path in zip(("HTML", "Markdown", "JSON", "JUnit"), outputs):
            if path:
                click.echo(f"{kind} report: {_one_line(path)}")
    sys.exit(code)


_LEVELS = click.Choice(["error", "warning", "info", "never"])


@main.command()
@click.argument("path")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True, metavar="SEC",
              help="Seconds between analyses (new lines are read every 0.25 s; a NaN loss is analysed at once).")
@click.option("--exit-on", type=_LEVELS, default="never", show_default=True,
              help="Exit 1 as soon as a finding at or above this severity appears.")
@click.option("--notify", metavar="CMD",
              help="Shell command run for each new finding, with the finding as JSON on stdin.")
@click.option("--format", "fmt", metavar="NAME", help="Skip format detection and read as NAME.")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="lossdoc.toml or pyproject.toml to use (default: the nearest one upwards).")
@click.option("--select", metavar="RULES", help="Comma-separated rule ids, names, prefixes or groups to run.")
@click.option("--ignore", metavar="RULES", help="Comma-separated rules to skip.")
@click.option("--fail-on", type=_LEVELS, default=None,
              help="Severity that makes the final exit code 1 (default: error).")
@output_options
@handle_errors
def watch(path: str, interval: float, exit_on: str, notify: str | None, quiet: bool, **kw: Any) -> None:
    """Follow a growing log, print each new finding as it appears.

    \b
    PATH is a log file, a run directory or a TensorBoard logdir; it may not exist yet.
    Only the lines appended since the last look are read; a torn last line is waited for;
    rotation and truncation are followed. The outputs (--html, --json, --markdown) are
    rewritten atomically as findings appear. Ctrl-C prints the final summary and exits
    with the `analyze` exit code.

    \b
    Examples:
      lossdoc watch train.log
      lossdoc watch runs/exp1 --exit-on error --notify 'notify-send lossdoc "$LOSSDOC_MESSAGE"'
    """
    from lossdoc.live import watch as live_watch

    opts = _live_options(**kw, exit_on=exit_on, interval=interval, notify=notify, quiet=quiet)
    code, report = live_watch(path, opts)
    _live_finish(code, report, quiet, (opts.html, opts.markdown, opts.json_out, opts.junit))


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--log", "log_path", metavar="FILE", default="lossdoc-run.log", show_default=True,
              help="Where the job's stdout and stderr are written (and read from).")
@click.option("--stop-on", type=_LEVELS, default="never", show_default=True,
              help="Stop the job on a finding at or above this severity, write the report, exit 1.")
@click.option("--grace", type=click.FloatRange(min=0), default=10.0, show_default=True, metavar="SEC",
              help="Seconds between SIGINT, SIGTERM and SIGKILL when stopping the job.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True, metavar="SEC",
              help="Seconds between analyses (new lines are read every 0.25 s; a NaN loss is analysed at once).")
@click.option("--notify", metavar="CMD",
              help="Shell command run for each new finding, with the finding as JSON on stdin.")
@click.option("--format", "fmt", metavar="NAME", help="Skip format detection and read as NAME.")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="lossdoc.toml or pyproject.toml to use (default: the nearest one upwards).")
@click.option("--select", metavar="RULES", help="Comma-separated rule ids, names, prefixes or groups to run.")
@click.option("--ignore", metavar="RULES", help="Comma-separated rules to skip.")
@click.option("--fail-on", type=_LEVELS, default=None,
              help="Severity that makes the exit code 1 when the job succeeds (default: error).")
@output_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD ARG...")
@handle_errors
def run(command: tuple[str, ...], log_path: str, stop_on: str, grace: float, interval: float,
        notify: str | None, quiet: bool, **kw: Any) -> None:
    """Run a training command, tee its output to --log, watch it live.

    \b
    On a finding at --stop-on the job is stopped (SIGINT, then SIGTERM and SIGKILL
    --grace seconds apart), the report is written and lossdoc exits 1. Otherwise it
    exits with the job's exit code (128+N when a signal N killed it), or with the
    gate's (--fail-on) when the job succeeded. Ctrl-C reaches the job.

    \b
    Examples:
      lossdoc run --stop-on error -- python train.py --lr 3e-4
      lossdoc run --log logs/exp1.log --json exp1.json -- torchrun --nproc-per-node 8 train.py
    """
    from lossdoc.live import run_job

    opts = _live_options(**kw, interval=interval, notify=notify, quiet=quiet)
    code, report = run_job(list(command), log_path, opts, stop_on=stop_on, grace=grace)
    _live_finish(code, report, quiet, (opts.html, opts.markdown, opts.json_out, opts.junit))


def main_entry() -> None:
    """The console script and ``python -m lossdoc``: run the CLI, then leave without tearing down.

    Python's shutdown after a big analysis (finalising the ~1,400 modules scipy and matplotlib
    bring, freeing the parsed arrays) takes ~0.3 s of a 5 s run of a 10^7-step log and does
    nothing a user can see. Like mypy's ``--fast-exit``, this flushes the standard streams and
    calls :func:`os._exit` with the exit code. Every output file is closed by then (written with
    ``Path.write_text``), the progress display is stopped and a sweep's worker pool is shut down;
    lossdoc registers no ``atexit`` work. ``LOSSDOC_DEBUG=1`` keeps the ordinary interpreter exit.
    """
    code: int
    try:
        main(prog_name="lossdoc")
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:  # sys.exit("message"): Python prints it to stderr and exits 1
            print(exc.code, file=sys.stderr)
            code = 1
    if os.environ.get("LOSSDOC_DEBUG"):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                getattr(stream, "close_guard", stream.flush)()
        except (BrokenPipeError, OSError, ValueError):
            pass  # a closed pipe (lossdoc ... | head): nothing more can be shown
    os._exit(code)
