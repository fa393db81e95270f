"""Reading training logs: ``read(paths, format=None) -> LogSet``."""

from __future__ import annotations

import contextvars
import dataclasses
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl

from lossdoc.errors import EmptyInputError, InputError, LossdocError, UnknownFormatError
from lossdoc.ingest import remote
from lossdoc.ingest.config_text import config_from_files, config_from_input
from lossdoc.ingest.formats.generic_csv import LOSS_WORDS
from lossdoc.ingest.inputs import InputFile, check_path, from_bytes, open_file, open_stdin
from lossdoc.ingest.merge import merge_same_runs
from lossdoc.ingest.normalise import SPLIT_RUNS, normalise_blocks
from lossdoc.ingest.policy import policy_surrogate
from lossdoc.ingest.runs import AFTER_LINE, KEEP_RUN
from lossdoc.ingest.text import READ_PROGRESS
from lossdoc.ingest.registry import (
    MIN_CONFIDENCE,
    Parser,
    all_parsers,
    choose,
    get_parser,
    parse_with,
    rank,
    rank_dir,
)
from lossdoc.model import IngestNote, LogSet, ParseResult, Source, conform
from lossdoc.runconfig import merge_raw, rename_runs, set_config

#: Confidence a directory parser needs to take a whole directory (else it is walked file by file).
DIR_CLAIM = 0.9

#: A directory walk enters no more than this many levels below the directory it was given.
MAX_DIR_DEPTH = 64

#: A directory walk looks at no more than this many files.
MAX_DIR_FILES = 20_000

_SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "node_modules", ".venv", "wandb-media"}

#: Directory that relative paths are resolved against instead of the working directory, while the
#: path as given stays the display name (set by a cluster worker to the client's working directory:
#: a worker thread cannot ``chdir`` without moving its neighbours, and the report must read as the
#: local one does).
BASE_DIR: contextvars.ContextVar[str | None] = contextvars.ContextVar("lossdoc_base_dir", default=None)


def _finish(res: ParseResult, display: str, fmt: str, extra_notes: list[IngestNote], *,
            inp: InputFile | None = None, directory: Path | None = None) -> Source:
    res = policy_surrogate(res)
    blocks, step_notes = normalise_blocks([conform(b, keep_compact=True) for b in res.blocks])
    notes = list(extra_notes) + list(res.notes) + step_notes
    return Source(path=display, format=fmt, blocks=blocks, notes=notes,
                  meta=_with_config(dict(res.meta), fmt, inp, directory))


def _with_config(meta: dict[str, Any], fmt: str, inp: InputFile | None, directory: Path | None) -> dict[str, Any]:
    """``meta["config"]`` (see :mod:`lossdoc.runconfig`): a config file beside the log (or in the
    directory read), then the log's own printout, then what the parser read (``meta["config_raw"]``),
    later ones winning key by key. A parser that set per-run configs (``run_configs``) keeps them."""
    parser_raw = meta.pop("config_raw", None)
    after_line = meta.pop(AFTER_LINE, None)
    if "config" in meta or "run_configs" in meta:
        return meta
    here = directory if directory is not None else (inp.origin.parent if inp is not None and inp.origin else None)
    from_files = config_from_files(here) if here is not None else {}
    from_text = (config_from_input(inp, after_line=after_line)
                 if inp is not None and fmt not in _BINARY_FORMATS else {})
    set_config(meta, merge_raw(from_files, from_text, parser_raw))
    return meta


#: Formats whose files are not text: no printed config to look for.
_BINARY_FORMATS = frozenset({"tensorboard", "wandb-run"})


def read_input(inp: InputFile, format: str | None = None) -> Source:
    """Parse one :class:`InputFile` (auto-detecting its format unless ``format`` is given)."""
    if inp.size == 0:
        raise EmptyInputError("file is empty", path=inp.name)
    try:
        parser = get_parser(format) if format else choose(inp)
    except UnknownFormatError as exc:
        src = _read_as_text_log(inp, exc)
        if src is None:
            raise
        return src
    res = parse_with(parser, inp)
    src = _finish(res, inp.name, parser.name, inp.notes, inp=inp)
    if src.height == 0:
        raise EmptyInputError(f"no metric values found (read as {parser.name})", path=inp.name)
    return src


#: Words that make a series the last-resort text read may stand on (the readers' loss words, less "error", which
#: names log lines as often as a metric).
_LAST_RESORT_WORDS = tuple(w for w in LOSS_WORDS if w != "error")
#: Finite points, and distinct values among them, that loss-like series must have for the last-resort read to stand.
_LAST_RESORT_POINTS = 5


def _read_as_text_log(inp: InputFile, exc: UnknownFormatError) -> Source | None:
    """A file given on its own that no reader claimed: the hand-rolled text reader over the whole file, kept when
    it yields a loss-like series of :data:`_LAST_RESORT_POINTS` finite, varying points (noted), else None (the
    caller raises ``exc``). The readers' claims are judged on the head and the tail of a file (64 KB each); a
    nohup.out whose first and last 64 KB are tqdm redraws or library warnings, with 'Epoch [3/15], Loss: 51.31'
    lines only in between (0Jmins0/Distillation), or whose loss lines are a tenth of its numbered lines
    (utkarshsharma00/equicat: 'Epoch [1/10], Sample [1/5], Loss: -1.306412, LR: 0.001000' among per-molecule
    printouts), was "unrecognised" though the text reader reads it whole. Never in a directory walk, which must
    not pick up stray text."""
    if "\x00" in inp.head_text()[:1024]:
        return None
    try:
        parser = get_parser("text")
        res = parse_with(parser, inp)
    except LossdocError:
        return None
    src = _finish(res, inp.name, parser.name, inp.notes, inp=inp)
    if src.height == 0:
        return None
    frame = src.frame
    lossy = frame.filter(pl.col("metric").str.contains("|".join(_LAST_RESORT_WORDS))
                         & pl.col("value").is_finite())
    if lossy.height == 0:
        return None
    sizes = lossy.group_by("run", "split", "metric").agg(pl.len().alias("n"), pl.col("value").n_unique().alias("u"))
    if sizes.filter((pl.col("n") >= _LAST_RESORT_POINTS) & (pl.col("u") >= 3)).height == 0:
        return None
    src.notes.insert(0, IngestNote(
        "format_guessed", f"no reader recognised the file's format from its first and last 64 KB ({exc.message}); read "
        "whole as a hand-rolled text log: check that the series it found are the curves you meant"))
    return src


def _nonempty(src: Source) -> Source:
    """A directory read whole that yielded no value (a TensorBoard logdir of images, histograms or
    bare headers) is an empty input, never a run that passes with nothing checked."""
    if src.height == 0:
        why = "; ".join(n.message for n in src.notes[:2])
        raise EmptyInputError(f"no metric values found (read as {src.format})" + (f": {why}" if why else ""),
                              path=src.path)
    return src


def _link_problem(p: Path, exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if p.is_symlink():
        return "broken symbolic link"
    return exc.strerror or str(exc)


def _walk(root: Path, unreadable: list[str] | None = None) -> list[Path]:
    """Files below ``root`` in name order (hidden and tool directories skipped, symlinked
    directories not followed, so a link loop cannot recur); subdirectories that cannot be listed
    go to ``unreadable`` as ``path (reason)``, to be noted rather than skipped in silence."""
    out: list[Path] = []

    def note(where: str, why: str) -> None:
        if unreadable is not None:
            unreadable.append(f"{os.path.relpath(where, root)} ({why})")

    # Iterative, top-down, in name order (os.walk of Python < 3.12 recurses: a tree 1,000 levels
    # deep raised RecursionError); directories deeper than MAX_DIR_DEPTH are noted, not entered.
    stack: list[tuple[str, int]] = [(os.fspath(root), 0)]
    while stack:
        top, depth = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            note(top, exc.strerror or str(exc))
            continue
        subdirs: list[str] = []
        for e in entries:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if e.name in _SKIP_DIRS or e.name.startswith(".") or e.is_symlink():
                    continue  # symlinked directories are not followed, so a link loop cannot recur
                if depth + 1 > MAX_DIR_DEPTH:
                    note(e.path, f"deeper than {MAX_DIR_DEPTH} levels")
                    continue
                subdirs.append(e.path)
            elif not e.name.startswith("."):
                out.append(Path(e.path))
                if len(out) >= MAX_DIR_FILES:
                    return out
        stack.extend((d, depth + 1) for d in reversed(subdirs))
    return out


def read_dir(path: Path, display: str, format: str | None = None) -> list[Source]:
    """Read a directory: one parser may claim it whole (TensorBoard logdir, mlruns, HF output dir);
    otherwise every recognised file inside it is read and the rest are noted as skipped."""
    if format:
        parser = get_parser(format)
        if parser.sniff_dir(path) > 0:
            res = parser.parse_dir(path, display)
            return [_nonempty(_finish(res, display, parser.name, [], directory=path))]
    else:
        cands = rank_dir(path)
        # A whole-directory claim must be confident: a tree that merely *contains* an event file
        # somewhere (an experiment folder, a sweep) is walked instead, so every log in it is read.
        if cands and cands[0].confidence >= DIR_CLAIM:
            parser = cands[0].parser
            try:
                res = parser.parse_dir(path, display)
            except LossdocError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise InputError(f"could not read directory as {parser.name}: {exc}", path=display) from None
            return [_nonempty(_finish(res, display, parser.name, [], directory=path))]
    sources: list[Source] = []
    skipped: list[str] = []
    unreadable: list[str] = []
    files = _walk(path, unreadable)
    claimed: set[Path] = set()
    # A subdirectory claimed by a directory parser (a TB logdir or HF output dir inside an experiment
    # dir), shallowest first, so a Keras logdir holding only train/ and validation/ is one run.
    subdirs: set[Path] = set()
    for f in files:
        for parent in f.parents:
            if parent == path or path not in parent.parents:
                break
            subdirs.add(parent)
    for sub in sorted(subdirs, key=lambda d: (len(d.parts), str(d))):
        if sub in claimed or any(p in claimed for p in sub.parents):
            continue
        cands = rank_dir(sub)
        if cands and cands[0].confidence >= DIR_CLAIM:
            parser = cands[0].parser
            sub_display = os.path.join(display, os.path.relpath(sub, path))
            claimed.add(sub)
            try:
                src = _finish(parser.parse_dir(sub, sub_display), sub_display, parser.name, [], directory=sub)
                sources.append(_relabel(src, _context(os.path.relpath(sub, path), path), sub.name, claimed_dir=True))
            except EmptyInputError:  # an empty artefact inside a larger directory: skipped, not fatal
                skipped.append(sub_display)
    for f in files:
        if any(p in claimed for p in f.parents):
            continue
        f_display = os.path.join(display, os.path.relpath(f, path))
        try:
            try:
                if f.stat().st_size == 0:
                    continue
            except OSError as exc:  # a dangling link, a link loop, a file gone since the walk
                unreadable.append(f"{os.path.relpath(f, path)} ({_link_problem(f, exc)})")
                continue
            inp = open_file(f, f_display)
            if format:
                parser = get_parser(format)
            else:
                best = rank(inp)[0]
                if best.confidence < 0.5:  # inside a directory, only take confident claims
                    skipped.append(f_display)
                    continue
                parser = best.parser
            src = _finish(parse_with(parser, inp), f_display, parser.name, inp.notes, inp=inp)
            src = _relabel(src, _context(_walk_run_name(f, path), path), inp.run_name)
        except (UnknownFormatError, EmptyInputError):
            skipped.append(f_display)
            continue
        except InputError as exc:
            if type(exc) is not InputError:  # a recognised file that is malformed: as before, an error
                raise
            unreadable.append(f"{os.path.relpath(f, path)} ({exc.message})")  # unreadable: noted, the rest read
            continue
        if src.height:
            sources.append(src)
    if not sources:
        hint = ""
        if unreadable:
            hint += f"; could not read {len(unreadable)} entr(ies): {', '.join(unreadable[:3])}"
        if skipped:
            shown = ", ".join(os.path.relpath(f, display) for f in skipped[:3]) + (" ..." if len(skipped) > 3 else "")
            hint = f"; not recognised with confidence: {shown} (give a file itself, or force --format NAME)"
        raise EmptyInputError(
            f"directory holds no recognised training log ({len(files)} file(s) looked at{hint})", path=display
        )
    if len(files) >= MAX_DIR_FILES:
        sources[0].notes.append(
            IngestNote("truncated_input", f"the directory holds more than {MAX_DIR_FILES:,} files: only the first "
                       f"{MAX_DIR_FILES:,} (in name order) were looked at; point lossdoc at the run's own directory")
        )
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (" ..." if len(unreadable) > 3 else "")
        sources[0].notes.append(
            IngestNote("truncated_input", f"{len(unreadable)} subdirectory(ies) or file(s) could not be read and were not looked at: "
                       f"{shown}", count=len(unreadable))
        )
    if skipped:
        shown = ", ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        sources[0].notes.append(
            IngestNote("skipped_lines", f"{len(skipped)} file(s) in the directory not recognised: {shown}",
                       count=len(skipped))
        )
    return sources


def _walk_run_name(f: Path, root: Path) -> str:
    """Run name of a file found by a directory walk: its path below the walked directory, without
    the extension, or its directory's path when the file name is generic (``train.log``)."""
    from lossdoc.ingest.inputs import run_name_for

    rel_dir = Path(os.path.relpath(f.parent, root))
    stem = run_name_for(f)
    generic = stem == f.parent.name or stem.endswith("/" + f.parent.name)  # named after its directory
    if str(rel_dir) == ".":
        return stem
    return str(rel_dir) if generic else str(rel_dir / stem)


_CONTEXTLESS = re.compile(r"(version_\d+|checkpoint-\d+|run-?\d+|\d+)")
#: Directory names trainers create inside a run's directory: they say nothing about the run, so a
#: walked run's name leaves them out (``hf/healthy/output`` -> ``hf/healthy``,
#: ``healthy/lightning_logs/version_0`` -> ``healthy/version_0``).
_GENERIC_DIRS = frozenset({"output", "outputs", "out", "results", "logs", "log", "lightning_logs", "tb_logs",
                           "tensorboard", "tb", "runs", "train_logs", "training_logs", "metrics", "default",
                           "csv_logs", "checkpoints", "ckpt", "files"})


def _short(name: str) -> str:
    """``name`` without the generic directory parts (kept when nothing else is left)."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    kept = [p for p in parts if p.lower() not in _GENERIC_DIRS]
    return "/".join(kept) if kept else "/".join(parts)


def _context(name: str, root: Path) -> str:
    """``version_0`` alone says little: keep the walked directory's name in front of it."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if parts and all(p.lower() in _GENERIC_DIRS for p in parts) and root.name:
        return root.name  # DIR/output: the run is DIR
    name = _short(name)
    first = Path(name).parts[0] if name else ""
    return f"{root.name}/{name}" if _CONTEXTLESS.fullmatch(first) and root.name else name


def _relabel(src: Source, name: str, default: str, *, claimed_dir: bool = False) -> Source:
    """Name a walked source's run after where it sits in the walked directory, when the parser
    gave it the default name (a parser that read run names from the log keeps them)."""
    runs = src.runs
    if claimed_dir and len(runs) == 1 and _CONTEXTLESS.fullmatch(runs[0]) and runs[0] != default:
        name = f"{name}/{runs[0]}"  # a TensorBoard logdir's version_0: the walked path in front of it
    elif len(runs) != 1 or not (runs[0] == default or runs[0].endswith("/" + default)):
        return src
    _rename_run(src, runs[0], name)
    return src


def _rename_run(src: Source, old: str, new: str) -> None:
    """Rename the one run of ``src`` from ``old`` to ``new``: its rows, its config in ``meta`` and its notes."""
    import polars as pl

    src.map_blocks(lambda b: b.with_columns(pl.lit(new).alias("run")))
    rename_runs(src.meta, {old: new})
    src.notes = [dataclasses.replace(n, run=new) if n.run == old else n for n in src.notes]


def _dedupe_runs(sources: list[Source]) -> None:
    """Two sources that produced the same run name get their display paths as run names."""
    import polars as pl

    owners: dict[str, int] = {}
    clash: set[str] = set()
    for i, s in enumerate(sources):
        for r in s.runs:
            if r in owners and owners[r] != i:
                clash.add(r)
            owners.setdefault(r, i)
    if not clash:
        return
    # The shortest tag that tells them apart: the format (trainer_state.json and the console log of
    # one HF run), else the source's file name, else its whole path.
    holders = {r: [s for s in sources if r in s.runs] for r in clash}
    for s in sources:
        mine = [r for r in s.runs if r in clash]
        if not mine:
            continue
        mapping = {}
        for r in mine:
            others = holders[r]
            if len({o.format for o in others}) == len(others):
                tag = s.format
            elif len({os.path.basename(o.path) for o in others}) == len(others):
                tag = os.path.basename(s.path)
            else:
                mapping[r] = f"{s.path}:{r}"
                continue
            mapping[r] = f"{r} [{tag}]"
        rename_runs(s.meta, mapping)
        s.map_blocks(lambda b, m=mapping: b.with_columns(pl.col("run").replace(m)))


def _read_path(path: Path, display: str, format: str | None, split_runs: bool = False) -> list[Source]:
    if path.is_dir():
        return read_dir(path, display, format)
    inp = open_file(path, display)
    src = read_input(inp, format)
    return split_file_runs(src, inp) if split_runs else [src]


def split_file_runs(src: Source, inp: InputFile) -> list[Source]:
    """``src`` and, before it, each earlier run of a file that holds several (the ``several_runs`` note of a line
    reader, :func:`lossdoc.ingest.runs.keep_last_run`: a script that appended run after run to one log), every
    run read on its own as the note's advice says ("split the file"), so each is judged. The file is read once
    more per earlier run, its reader keeping that run instead of the last (:data:`~lossdoc.ingest.runs.KEEP_RUN`:
    the same runs, the same rule for the lines between two runs). Runs are named ``<run> (run k of n)``, the last
    included; one that cannot be read on its own is named in a note, never dropped silently. (Runs the step
    normaliser tells apart, in readers without line numbers, are named the same way as they are read.)"""
    note = next((n for n in src.notes if n.kind == "several_runs" and n.spans), None)
    if note is None or note.spans is None or len(src.runs) != 1:
        return [src]
    spans, base, n = note.spans, src.runs[0], len(note.spans)
    data = inp.read_bytes()
    out: list[Source] = []
    for k in range(n - 1):
        part = from_bytes(data, name=inp.name, inner_name=inp.inner_name)
        part.run_name = f"{base} (run {k + 1} of {n})"
        token = KEEP_RUN.set(k)
        try:
            sub = read_input(part, src.format)
        except LossdocError as exc:
            src.notes.append(IngestNote("several_runs", f"run {k + 1} of {n} (lines {spans[k][0]:,}-{spans[k][1]:,}) "
                                        f"could not be read on its own, so it is not analysed: {exc.message}",
                                        line=spans[k][0]))
            continue
        finally:
            KEEP_RUN.reset(token)
        # a note on a line outside this run's stretch of the file (a torn last line, lines skipped in a later run)
        # is the other run's: the last run keeps the file's notes
        lo, hi = (spans[k - 1][1] + 1 if k else 1), spans[k + 1][0] - 1
        sub.notes = [m for m in sub.notes if m.kind != "torn_tail" and (m.line is None or lo <= m.line <= hi)]
        out.append(sub)
    shown = ", ".join(f"{k + 1}: lines {a:,}-{b:,}" for k, (a, b) in enumerate(spans[:12]))
    split_note = IngestNote("inferred", f"the file holds {n} separate runs, each read as a run of its own "
                            f"(split runs): {shown}" + (f", ... ({n - 12} more)" if n > 12 else ""), line=spans[0][0],
                            count=n)
    src.notes = [split_note if m is note else m for m in src.notes]
    _rename_run(src, base, f"{base} (run {n} of {n})")
    return [*out, src]


def _percent(progress: Callable[[str], None], p: str) -> Callable[[float], None]:
    return lambda frac: progress(f"reading {p} ({frac:.0%})")


def read(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    format: str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    split_runs: bool = False,
) -> LogSet:
    """Read one or more logs (files, directories, compressed files, ``-`` for stdin) into a :class:`LogSet`.

    A file that holds several independent runs is read as its last run, with a ``several_runs`` note; with
    ``split_runs`` every run of it is read, each a run of its own (:func:`split_file_runs`; files and
    stdin, not the files of a directory).

    Raises :class:`lossdoc.errors.InputError` (a subclass of :class:`LossdocError`) with the
    path (and line where known) for anything unreadable.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    sources: list[Source] = []
    split_token = SPLIT_RUNS.set(split_runs)
    try:
        for p in paths:
            sources.extend(_read_one(os.fspath(p), format, progress, split_runs))
    finally:
        SPLIT_RUNS.reset(split_token)
    sources = merge_same_runs(sources)
    _dedupe_runs(sources)
    return LogSet(sources)


def _read_one(p: str, format: str | None, progress: Callable[[str], None] | None,
              split_runs: bool) -> list[Source]:
    """:func:`read` of one path: stdin, a remote object or prefix, a local file or directory."""
    if progress:
        progress(f"reading {p}")
    token = READ_PROGRESS.set(_percent(progress, p) if progress else None)
    try:
        if p == "-":
            inp = open_stdin()
            src = read_input(inp, format)
            return split_file_runs(src, inp) if split_runs else [src]
        if remote.is_remote(p):  # s3://, gs://...: a local copy of the file or prefix, read as one
            with remote.staged(p) as local:
                return _read_path(local, p, format, split_runs)
        base = BASE_DIR.get()
        local_p = remote.local_path(p)  # file:///x -> /x
        if base is None or os.path.isabs(local_p):
            path = check_path(local_p, display=p)
        else:
            path = check_path(os.path.join(base, local_p), display=p)
        return _read_path(path, p, format, split_runs)
    finally:
        READ_PROGRESS.reset(token)


__all__ = [
    "MIN_CONFIDENCE",
    "InputFile",
    "LogSet",
    "Parser",
    "Source",
    "all_parsers",
    "choose",
    "from_bytes",
    "get_parser",
    "open_file",
    "rank",
    "read",
    "read_input",
]
