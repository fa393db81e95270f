"""Configuration: ``[tool.lossdoc]`` in ``pyproject.toml`` or a ``lossdoc.toml``.

Found from the current directory upwards (the first ``lossdoc.toml``, or ``pyproject.toml``
with a ``[tool.lossdoc]`` table), or given with ``--config``. Data only (``tomllib``), keys in
kebab-case, unknown keys are a :class:`lossdoc.errors.ConfigError` naming the key and the
file (ruff's ``deny_unknown_fields``). Checking rule parameters against the rule files
happens in :mod:`lossdoc.checks.selection`, which knows the rules.

Options (default → example)::

    select         = ["ALL"]        # ids, names, prefixes ("SP"), categories, groups, "ALL"
    extend-select  = []             # added to select
    ignore         = []             # removed from the selection
    fail-on        = "error"        # error | warning | info | never
    tolerance      = 0.01           # CI regression tolerance vs a baseline (fraction)
    rule-paths     = []             # extra directories of <ID>.toml rule files
    preview        = false          # also run rules with status = "preview"
    [tool.lossdoc.rules.loss-spike] # or .SP001: parameter overrides + severity
    zscore = 8.0
    severity = "error"
    [tool.lossdoc.per-run-ignores]  # run-name glob -> rules ignored for those runs
    "*-lr-restart*" = ["SP001"]
"""

from __future__ import annotations

import dataclasses
import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from lossdoc.errors import ConfigError

FAIL_ON = ("error", "warning", "info", "never")
KEYS = ("select", "extend-select", "ignore", "fail-on", "tolerance", "rule-paths", "preview", "rules",
        "per-run-ignores")
DEFAULT_TOLERANCE = 0.01


@dataclass(frozen=True)
class Config:
    """Validated ``[tool.lossdoc]`` settings (see the module docstring for each option)."""

    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    tolerance: float = DEFAULT_TOLERANCE
    rule_paths: tuple[str, ...] = ()
    preview: bool = False
    #: rule id or name -> {kebab-case param or "severity": value}
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: run-name glob -> rule selectors ignored for matching runs
    per_run_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the file the settings came from ("" for defaults)
    path: str = ""

    def override(
        self,
        *,
        select: Any = None,
        ignore: Any = None,
        fail_on: str | None = None,
        tolerance: float | None = None,
    ) -> Config:
        """Command-line overrides: ``select`` replaces, ``ignore`` adds to the configured list."""
        changes: dict[str, Any] = {}
        if select:
            changes["select"] = tuple(select)
            changes["extend_select"] = ()
        if ignore:
            changes["ignore"] = self.ignore + tuple(ignore)
        if fail_on is not None:
            if fail_on not in FAIL_ON:
                raise ConfigError(f"fail-on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
            changes["fail_on"] = fail_on
        if tolerance is not None:
            changes["tolerance"] = float(tolerance)
        return dataclasses.replace(self, **changes)

    def ignored_for_run(self, run: str) -> tuple[str, ...]:
        """Rule selectors ignored for ``run`` by ``per-run-ignores`` globs."""
        out: list[str] = []
        for pattern, sel in self.per_run_ignores.items():
            if fnmatch.fnmatchcase(run, pattern):
                out.extend(sel)
        return tuple(out)


def _strings(v: Any, key: str, path: str, *, non_empty: bool = False) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{key!r} must be a list of strings (got {_show(v)})", path=path)
    if any(not x.strip() for x in v):
        raise ConfigError(f"{key!r} holds an empty string; name rules by id, name, prefix or group", path=path)
    if non_empty and not v:
        raise ConfigError(f"{key!r} is empty, so no rule would run and any log would pass; remove the key to "
                          'run every rule, or name the rules (select = ["SP001", "divergence"])', path=path)
    return tuple(v)


def _show(v: Any) -> str:
    """A config value in an error message: short, one line."""
    r = " ".join(repr(v).split())
    return r if len(r) <= 60 else r[:57] + "..."


#: Largest integer parameter (points, windows, counts, steps): beyond it a value is a typo, and an
#: allocation sized by it would fail.
MAX_INT_PARAM = 10**9


def check_param(where: str, value: Any, default: Any, path: str | None) -> Any:
    """Validate one ``[rules.<rule>]`` parameter against its rule-file default, returning the value
    to use (a float where the default is one).

    The schema comes from the rule files themselves (each threshold's default gives its type),
    plus ranges from what the parameter names mean: integers (points, windows, counts, steps) are
    at least 1, or 0 where the default is 0, and at most :data:`MAX_INT_PARAM`; every number is
    finite; ``alpha`` is a significance level in (0, 1); ``*-fraction`` lies in [0, 1]; other
    numbers are >= 0 where the default is. Errors name the key and the file."""
    import math

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false like the default (got {_show(value)})", path=path)
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer like the default {default!r} (got {_show(value)})",
                              path=path)
        low = 0 if default == 0 else 1
        if not low <= value <= MAX_INT_PARAM:
            raise ConfigError(f"{where} must be an integer from {low} to {MAX_INT_PARAM:,} (got {value})", path=path)
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number like the default {default!r} (got {_show(value)})",
                              path=path)
        try:
            v = float(value)
        except OverflowError:
            v = math.inf
        if not math.isfinite(v):
            raise ConfigError(f"{where} must be a finite number (got {_show(value)})", path=path)
        name = where.rsplit(".", 1)[-1]
        if name == "alpha" and not 0 < v < 1:
            raise ConfigError(f"{where} is a significance level and must lie strictly between 0 and 1 "
                              f"(got {value!r})", path=path)
        if name.endswith("fraction") and not 0 <= v <= 1:
            raise ConfigError(f"{where} is a fraction and must lie in [0, 1] (got {value!r})", path=path)
        if default >= 0 and v < 0:
            raise ConfigError(f"{where} must not be negative (got {value!r})", path=path)
        return v
    if isinstance(default, str):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} must be a non-empty string like the default {default!r} "
                              f"(got {_show(value)})", path=path)
        return value
    if isinstance(default, list):
        types = {type(x) for x in default} or {str}
        if not isinstance(value, list) or not all(type(x) in types for x in value):
            raise ConfigError(f"{where} must be a list like the default {default!r} (got {_show(value)})", path=path)
        return value
    if type(value) is not type(default):  # pragma: no cover - rule files only hold the types above
        raise ConfigError(f"{where} must be {type(default).__name__} like the default (got {_show(value)})",
                          path=path)
    return value


def parse_config(table: dict[str, Any], path: str, *, prefix: str = "") -> Config:
    """Validate a ``[tool.lossdoc]`` table (``prefix`` is how keys are named in errors)."""
    for key in table:
        if key not in KEYS:
            hint = ""
            if "_" in key and key.replace("_", "-") in KEYS:
                hint = f" (did you mean {key.replace('_', '-')!r}?)"
            raise ConfigError(f"unknown key {prefix + key!r}{hint}", path=path)
    kw: dict[str, Any] = {"path": path}
    for key in ("select", "extend-select", "ignore", "rule-paths"):
        if key in table:
            kw[key.replace("-", "_")] = _strings(table[key], prefix + key, path, non_empty=key == "select")
    if "fail-on" in table:
        v = table["fail-on"]
        if not isinstance(v, str) or v not in FAIL_ON:
            raise ConfigError(f"{prefix}fail-on must be one of {', '.join(FAIL_ON)} (got {v!r})", path=path)
        kw["fail_on"] = v
    if "tolerance" in table:
        v = table["tolerance"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
            raise ConfigError(f"{prefix}tolerance must be a fraction in [0, 1) such as 0.01 (got {v!r})", path=path)
        kw["tolerance"] = float(v)
    if "preview" in table:
        if not isinstance(table["preview"], bool):
            raise ConfigError(f"{prefix}preview must be true or false", path=path)
        kw["preview"] = table["preview"]
    if "rules" in table:
        rules = table["rules"]
        if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
            raise ConfigError(f"{prefix}rules must hold one table per rule ([{prefix}rules.loss-spike])", path=path)
        kw["rules"] = {k: dict(v) for k, v in rules.items()}
    if any(not k.strip() for k in kw.get("rules", {})):
        raise ConfigError(f"{prefix}rules has a table with an empty rule name", path=path)
    if "per-run-ignores" in table:
        pri = table["per-run-ignores"]
        if not isinstance(pri, dict):
            raise ConfigError(f"{prefix}per-run-ignores must map run-name globs to rule lists", path=path)
        kw["per_run_ignores"] = {k: _strings(v, f"{prefix}per-run-ignores.{k}", path) for k, v in pri.items()}
    # rule_paths are relative to the config file
    if "rule_paths" in kw and path:
        base = Path(path).parent
        kw["rule_paths"] = tuple(str((base / p).resolve()) for p in kw["rule_paths"])
    return Config(**kw)


def _read_toml(p: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(p)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror or exc}", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start}): TOML files must be UTF-8", path=str(p)) from None


def load_file(p: Path) -> Config:
    """Read one ``lossdoc.toml`` (top-level keys) or ``pyproject.toml`` (``[tool.lossdoc]``)."""
    data = _read_toml(p)
    if p.name == "pyproject.toml":
        return parse_config(_lossdoc_table(data, str(p)) or {}, str(p), prefix="tool.lossdoc.")
    # lossdoc.toml: top-level keys, or a [tool.lossdoc] table if someone copied one over
    if set(data) == {"tool"}:
        table = _lossdoc_table(data, str(p))
        if table is not None:
            return parse_config(table, str(p), prefix="tool.lossdoc.")
    return parse_config(data, str(p))


def _lossdoc_table(data: dict[str, Any], path: str) -> dict[str, Any] | None:
    """``[tool.lossdoc]`` of a parsed TOML document; None when absent, an error when not a table."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"'tool' must be a table ([tool.lossdoc]), not {_show(tool)}", path=path)
    table = tool.get("lossdoc")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"'tool.lossdoc' must be a table ([tool.lossdoc]), not {_show(table)}", path=path)
    return table


def find_config(start: Path) -> Path | None:
    """The nearest ``lossdoc.toml``, or ``pyproject.toml`` with ``[tool.lossdoc]``, from ``start`` up."""
    start = start.resolve()
    for d in (start, *start.parents):
        cand = d / "lossdoc.toml"
        if cand.is_file():
            return cand
        cand = d / "pyproject.toml"
        if cand.is_file():
            try:
                text = cand.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                if "tool.lossdoc" in text:  # the user's own lossdoc settings: never ignore them silently
                    raise ConfigError(f"invalid TOML: {exc}", path=str(cand)) from None
                continue
            tool = data.get("tool")
            if isinstance(tool, dict) and "lossdoc" in tool:
                return cand
    return None


def load_config(path: str | Path | None = None, *, start: Path | None = None) -> Config:
    """Load ``path`` (``--config``) or the nearest config file from ``start`` upwards; defaults if none."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("config file not found", path=str(path))
        return load_file(p)
    found = find_config(start or Path.cwd())
    return load_file(found) if found else Config()
