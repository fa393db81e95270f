"""The plugin door: hook specifications and the plugin manager (pluggy).

lossdoc's own parsers, detectors and rule directory are registered through the entry-point
group ``lossdoc`` exactly like a third-party plugin (``lossdoc = "lossdoc._builtin"`` in
``pyproject.toml``). Plugins load one at a time; one that fails to load is reported with
the lossdoc version and skipped.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # hookspecs refer to types only
    from importlib.resources.abc import Traversable

    from lossdoc.ingest.registry import Parser

hookspec = pluggy.HookspecMarker("lossdoc")
hookimpl = pluggy.HookimplMarker("lossdoc")


class LossdocSpec:
    @hookspec
    def lossdoc_parsers(self) -> list[Parser]:  # type: ignore[empty-body]
        """Return parser objects (see :class:`lossdoc.ingest.registry.Parser`)."""

    @hookspec
    def lossdoc_detectors(self) -> dict[str, Any]:  # type: ignore[empty-body]
        """Return ``{detector name: callable}``; rules bind to detectors by name."""

    @hookspec
    def lossdoc_rule_paths(self) -> list[Traversable]:  # type: ignore[empty-body]
        """Return directories holding ``<ID>.toml`` rule files."""


@functools.lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("lossdoc")
    pm.add_hookspecs(LossdocSpec)
    from importlib.metadata import entry_points

    from lossdoc._version import __version__

    for ep in entry_points(group="lossdoc"):
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break lossdoc
            warnings.warn(
                f"lossdoc {__version__}: failed to load plugin {ep.name!r} ({ep.value}): {exc}; skipped",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        if pm.is_registered(plugin) or pm.has_plugin(ep.name):
            continue
        pm.register(plugin, name=ep.name)
    if not pm.has_plugin("lossdoc"):
        # Running from a source tree without an install: register the built-ins directly.
        pm.register(importlib.import_module("lossdoc._builtin"), name="lossdoc")
    return pm
