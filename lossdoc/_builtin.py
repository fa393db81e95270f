"""The built-in plugin: lossdoc's own parsers, detectors and rule directory.

Parsers are discovered from the modules in :mod:`lossdoc.ingest.formats` (each module
exposes ``PARSERS``, a list of parser objects) and detectors from
:mod:`lossdoc.checks.detectors` (each module exposes ``DETECTORS``, a dict name -> callable),
so adding a format or detector is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.resources import files
from pathlib import Path
from typing import Any

from lossdoc.plugins import hookimpl


def _modules(package: str) -> list[Any]:
    pkg = importlib.import_module(package)
    out = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        out.append(importlib.import_module(f"{package}.{info.name}"))
    return out


@hookimpl
def lossdoc_parsers() -> list[Any]:
    return [p for m in _modules("lossdoc.ingest.formats") for p in getattr(m, "PARSERS", [])]


@hookimpl
def lossdoc_detectors() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in _modules("lossdoc.checks.detectors"):
        out.update(getattr(m, "DETECTORS", {}))
    return out


@hookimpl
def lossdoc_rule_paths() -> list[Any]:
    installed = files("lossdoc") / "_rules"
    if installed.is_dir():
        return [installed]
    # Source checkout / editable install: the top-level rules/ directory.
    return [Path(__file__).resolve().parent.parent / "rules"]
