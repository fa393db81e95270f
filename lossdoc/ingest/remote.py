"""Logs in object storage: ``s3://``, ``gs://``, ``file://`` (any fsspec URL) as input paths.

``file://`` URLs are plain local paths. Every other scheme goes through `fsspec
<https://filesystem-spec.readthedocs.io>`_ and its back-end for the scheme (``s3fs``, ``gcsfs``,
...), an optional dependency: ``pip install 'lossdoc[s3]'`` / ``'lossdoc[gcs]'``. Credentials and
endpoints come from where those libraries look for them (the AWS / Google environment variables
and files, or fsspec's ``FSSPEC_S3_ENDPOINT_URL``-style variables); lossdoc takes none itself.

A remote file or prefix is copied to a private temporary directory (under its own name, so run
names are those of a local copy), read exactly as a local path would be, with the URL as its
display name, and the copy is removed as soon as it is parsed: parsers work on local files
(memory maps, polars scans), and the bytes are fetched once, in large reads. A remote *sweep*
(a prefix holding two or more run prefixes) is listed without downloading: each run is staged
by whichever process analyses it (a local worker or a Dask worker), so only one run is on a
worker's disk at a time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lossdoc.errors import InputError

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")

#: Extras that bring a scheme's fsspec back-end.
_EXTRA = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}

#: A listing for sweep detection goes this deep (mlruns/<experiment>/<run>/meta.yaml) and no wider.
LIST_DEPTH = 3
LIST_LIMIT = 20_000


def scheme(path: str) -> str | None:
    """The URL scheme of ``path`` (``"s3"``), or None for a plain path."""
    m = _URL.match(path)
    return m.group(1).lower() if m else None


def is_remote(path: str) -> bool:
    """A URL that is not ``file://``: read through fsspec."""
    s = scheme(path)
    return s is not None and s != "file"


def local_path(path: str) -> str:
    """``file:///x/y`` -> ``/x/y`` (other paths unchanged)."""
    if scheme(path) == "file":
        from urllib.parse import unquote, urlparse

        u = urlparse(path)
        if u.netloc not in ("", "localhost"):
            raise InputError(f"file:// URL names host {u.netloc!r}; only local files can be read this way",
                             path=path)
        return unquote(u.path)
    return path


def join_display(display: str, rel: str | os.PathLike[str]) -> str:
    """``display/rel`` for a display path that may be a URL (``Path`` would fold ``s3://`` to ``s3:/``)."""
    if scheme(display):
        return display.rstrip("/") + "/" + Path(rel).as_posix()
    return str(Path(display) / rel)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{exc}".split()) or type(exc).__name__


def filesystem(url: str) -> tuple[Any, str]:
    """``(fsspec filesystem, path inside it)`` for ``url``; InputError naming the extra if missing."""
    s = scheme(url) or "file"
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        extra = _EXTRA.get(s, "s3")
        raise InputError(f"reading {s}:// paths needs fsspec: pip install 'lossdoc[{extra}]'", path=url) from None
    try:
        return url_to_fs(url)
    except ImportError as exc:  # fsspec is there, the scheme's back-end (s3fs, gcsfs) is not
        extra = _EXTRA.get(s)
        hint = f"pip install 'lossdoc[{extra}]'" if extra else _one_line(exc)
        raise InputError(f"reading {s}:// paths needs its fsspec back-end: {hint}", path=url) from None
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot open: {_one_line(exc)}", path=url) from None


def _error(url: str, exc: BaseException) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError("no such file or directory", path=url)
    if isinstance(exc, PermissionError):
        return InputError("permission denied", path=url)
    return InputError(f"cannot read: {type(exc).__name__}: {_one_line(exc)}", path=url)


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or "root"


@contextlib.contextmanager
def staged(url: str) -> Iterator[Path]:
    """A local copy of the remote file or prefix ``url`` (removed on exit), named as in the URL."""
    fs, inner = filesystem(url)
    tmp = tempfile.mkdtemp(prefix="lossdoc-remote-")
    try:
        # Under its last two parent names, as run names look up to there (``run-7/train.log`` -> run-7,
        # ``exp/version_0/metrics.csv`` -> exp/version_0).
        parts = [x for x in inner.rstrip("/").split("/") if x]
        target = os.path.join(tmp, *(parts[-3:-1] or []), _name(inner))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            if fs.isdir(inner):
                os.mkdir(target)
                files = [f for f in fs.find(inner, maxdepth=None) if not fs.isdir(f)]
                if not files:
                    raise InputError("empty directory", path=url)
                root = inner.rstrip("/") + "/"
                locals_ = []
                for f in files:
                    rel = f[len(root):] if f.startswith(root) else _name(f)
                    dest = os.path.join(target, *rel.split("/"))
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    locals_.append(dest)
                fs.get(files, locals_)
            else:
                fs.get_file(inner, target)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - botocore / aiohttp / google errors: one line naming the URL
            raise _error(url, exc) from None
        yield Path(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def list_sweep(url: str) -> tuple[list[tuple[str, bool]], Path] | None:
    """The entries directly under the remote prefix ``url`` as ``(url, is_dir)``, and a local
    *skeleton* of its tree (names only, empty files, :data:`LIST_DEPTH` levels) for the directory
    parsers to judge whether the prefix is one artefact; None when ``url`` is not a prefix.
    The caller removes the skeleton."""
    fs, inner = filesystem(url)
    try:
        if not fs.isdir(inner):
            return None
        top = fs.ls(inner, detail=True)
        tree = fs.find(inner, maxdepth=LIST_DEPTH, withdirs=True, detail=True)
    except Exception as exc:  # noqa: BLE001
        raise _error(url, exc) from None
    root = inner.rstrip("/") + "/"
    base = url.rstrip("/")
    entries = []
    for e in sorted(top, key=lambda e: _name(e["name"])):
        name = _name(e["name"])
        if e["name"].rstrip("/") == inner.rstrip("/"):
            continue
        entries.append((f"{base}/{name}", e.get("type") == "directory"))
    skel = Path(tempfile.mkdtemp(prefix="lossdoc-listing-")) / _name(inner)
    skel.mkdir()
    for i, (name, info) in enumerate(sorted(tree.items())):
        if i >= LIST_LIMIT:
            break
        if not name.startswith(root):
            continue
        dest = skel.joinpath(*name[len(root):].split("/"))
        if info.get("type") == "directory":
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.touch()
    return entries, skel


__all__ = ["filesystem", "is_remote", "join_display", "list_sweep", "local_path", "scheme", "staged"]
