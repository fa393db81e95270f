"""Rule selection and parameter binding: which rules are in force (``select``/``ignore``, per-run
ignores, preview), their parameters (defaults from the rule file, updated and type-checked from the
configuration), the detectors they name, and the recommendation template filled from a hit's values.
"""

from __future__ import annotations

import string
from typing import Any

from lossdoc.checks.context import Detector
from lossdoc.checks.findings import Severity
from lossdoc.checks.rulefile import RuleSpec
from lossdoc.config import check_param
from lossdoc.errors import ConfigError
from lossdoc.numfmt import fmt_num


def bind_params(spec: RuleSpec, override: dict[str, Any] | None, cfg_path: str = "") -> tuple[dict[str, Any], Severity]:
    """Rule defaults updated by a ``[tool.lossdoc.rules.<rule>]`` table; type-checked against the defaults."""
    params = dict(spec.params)
    severity = spec.severity
    for k, v in (override or {}).items():
        where = f"tool.lossdoc.rules.{spec.name}.{k}" if cfg_path.endswith("pyproject.toml") else f"rules.{spec.name}.{k}"
        if k == "severity":
            try:
                severity = Severity.parse(v)
            except (ValueError, AttributeError):
                raise ConfigError(f"{where}: severity must be error, warning or info (got {v!r})", path=cfg_path or None) from None
            continue
        if k not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ConfigError(f"unknown key {where!r} (parameters of {spec.id}: {known}; or severity)",
                              path=cfg_path or None)
        params[k] = check_param(where, v, params[k], cfg_path or None)  # types, ranges, finite numbers
    return params, severity


def matches(spec: RuleSpec, selector: str) -> bool:
    s = selector.strip()
    if not s:
        return False
    if s.upper() == "ALL":
        return True
    if s.upper() == spec.id or s == spec.name or s in spec.aliases:
        return True
    if s == spec.category or s in spec.groups:
        return True
    # prefix: "SP" or "SP0" (ruff style)
    return s.upper() == s and spec.id.startswith(s)


def select_rules(rules: dict[str, RuleSpec], config: Any) -> list[RuleSpec]:
    """Rules in force: (select + extend-select) - ignore; preview rules only with ``preview``."""
    chosen = []
    sel = tuple(config.select) + tuple(config.extend_select)
    known = [s for s in sel + tuple(config.ignore) if s.strip()]
    for s in known:
        if not any(matches(r, s) for r in rules.values()):
            raise ConfigError(f"no rule matches {s!r} (see `lossdoc rules`)", path=config.path or None)
    for r in rules.values():
        if r.status == "removed" or (r.status == "preview" and not config.preview):
            continue
        if any(matches(r, s) for s in sel) and not any(matches(r, s) for s in config.ignore):
            chosen.append(r)
    if not chosen:  # no rule, no finding: every log would pass the gate
        raise ConfigError("the selection leaves no rule to run (select/ignore), so any log would pass; "
                          "select at least one rule", path=config.path or None)
    return chosen


def rule_overrides(rules: dict[str, RuleSpec], config: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, table in config.rules.items():
        spec = next((r for r in rules.values() if matches(r, key) and (key.upper() == r.id or key == r.name
                                                                          or key in r.aliases)), None)
        if spec is None:
            raise ConfigError(f"unknown rule {key!r} in rules table (see `lossdoc rules`)", path=config.path or None)
        out.setdefault(spec.id, {}).update(table)
    return out


def get_detectors() -> dict[str, Detector]:
    from lossdoc.plugins import get_plugin_manager

    out: dict[str, Detector] = {}
    for d in get_plugin_manager().hook.lossdoc_detectors():
        out.update(d)
    return out


# --------------------------------------------------------------------------- templates
class _SafeDict(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _NamesOnly(string.Formatter):
    """Plain ``{name}`` fields only: a rule file is data, so ``{run.__class__}`` or ``{run[0]}``
    (attribute or index access into Python objects) is left as written."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            return "{" + field_name + "}", field_name
        return super().get_field(field_name, args, kwargs)


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill ``{name}`` fields; unknown fields are left as written (never an exception)."""
    vals = _SafeDict({k: (fmt_num(v) if isinstance(v, float) else v) for k, v in values.items()})
    try:
        text = _NamesOnly().vformat(template, (), vals)
    except (ValueError, IndexError, AttributeError):
        text = template
    return " ".join(text.split())


__all__ = ["bind_params", "get_detectors", "matches", "render_template", "rule_overrides", "select_rules"]
