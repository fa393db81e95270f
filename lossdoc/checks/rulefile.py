"""Rule files: one ``<ID>.toml`` per rule, loaded and validated into :class:`RuleSpec`.

A rule file holds identity, documentation, severity and the default of every threshold
(``[params]``); the algorithm lives in the detector it names (STYLE.md §1.5). Rule
directories come from the ``lossdoc_rule_paths`` hook (the built-in ``rules/`` directory,
shipped in the wheel as ``lossdoc/_rules``) plus any ``rule-paths`` from the configuration.
"""

from __future__ import annotations

import functools

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from lossdoc.checks.findings import CATEGORIES, Severity
from lossdoc.errors import RuleError

ID_RE = re.compile(r"^(?:[A-Z][A-Z0-9]*-)?[A-Z]{2}\d{3}$")  # SP001, plugin ACME-SP001
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
STATUSES = ("stable", "preview", "removed")

#: Documentation fields, in the order ``lossdoc rule`` prints them.
DOC_FIELDS = ("summary", "why", "example", "recommendation", "known-problems")
REQUIRED = ("id", "name", "category", "severity", "detector", "applies-to", *DOC_FIELDS, "since")
OPTIONAL = ("status", "groups", "aliases", "params", "message")


@dataclass(frozen=True)
class RuleSpec:
    """A validated rule file."""

    id: str
    name: str
    category: str
    severity: Severity
    detector: str
    applies_to: tuple[str, ...]
    summary: str
    why: str
    example: str
    recommendation: str
    known_problems: str
    since: str
    status: str = "stable"
    groups: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def family(self) -> str:
        return self.id.rsplit("-", 1)[-1][:2]

    def doc(self) -> dict[str, Any]:
        """The parsed record (``lossdoc rule --json``), kebab-case keys as in the file."""
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "severity": str(self.severity),
            "status": self.status,
            "since": self.since,
            "detector": self.detector,
            "applies-to": list(self.applies_to),
            "groups": list(self.groups),
            "aliases": list(self.aliases),
            "summary": self.summary,
            "why": self.why,
            "example": self.example,
            "recommendation": self.recommendation,
            "known-problems": self.known_problems,
            "params": dict(self.params),
        }


def _str(d: dict[str, Any], key: str, path: str) -> str:
    v = d.get(key)
    if not isinstance(v, str) or not v.strip():
        raise RuleError(f"rule field {key!r} must be a non-empty string", path=path)
    return v.strip("\n")


def _strlist(d: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    v = d.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise RuleError(f"rule field {key!r} must be a list of strings", path=path)
    return tuple(v)


def parse_rule(data: dict[str, Any], path: str) -> RuleSpec:
    """Validate one rule file's parsed TOML; raise :class:`RuleError` naming the key and file."""
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise RuleError(f"unknown key {unknown[0]!r} in rule file", path=path)
    for key in REQUIRED:
        if key not in data:
            raise RuleError(f"missing required key {key!r}", path=path)
    rid = _str(data, "id", path)
    if not ID_RE.match(rid):
        raise RuleError(f"rule id {rid!r} must be two capital letters and three digits (SP001)", path=path)
    if Path(path).stem != rid and not path.startswith("<"):
        raise RuleError(f"rule file name must be its id ({rid}.toml)", path=path)
    name = _str(data, "name", path)
    if not NAME_RE.match(name):
        raise RuleError(f"rule name {name!r} must be kebab-case", path=path)
    category = _str(data, "category", path)
    if category not in CATEGORIES:
        raise RuleError(f"category {category!r} is not one of {', '.join(CATEGORIES)}", path=path)
    try:
        severity = Severity.parse(_str(data, "severity", path))
    except ValueError as exc:
        raise RuleError(str(exc), path=path) from None
    status = data.get("status", "stable")
    if status not in STATUSES:
        raise RuleError(f"status {status!r} must be one of {', '.join(STATUSES)}", path=path)
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise RuleError("[params] must be a table", path=path)
    for k, v in params.items():
        if not NAME_RE.match(k):
            raise RuleError(f"parameter {k!r} must be kebab-case", path=path)
        if not isinstance(v, (int, float, bool, str, list)):
            raise RuleError(f"parameter {k!r} has an unsupported type {type(v).__name__}", path=path)
    return RuleSpec(
        id=rid,
        name=name,
        category=category,
        severity=severity,
        detector=_str(data, "detector", path),
        applies_to=_strlist(data, "applies-to", path),
        summary=_str(data, "summary", path),
        why=_str(data, "why", path),
        example=_str(data, "example", path),
        recommendation=_str(data, "recommendation", path),
        known_problems=_str(data, "known-problems", path),
        since=_str(data, "since", path),
        status=status,
        groups=_strlist(data, "groups", path),
        aliases=_strlist(data, "aliases", path),
        params=dict(params),
        path=path,
    )


def load_rule_file(path: Any) -> RuleSpec:
    """Load ``path`` (a :class:`pathlib.Path` or an importlib ``Traversable``)."""
    shown = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"invalid TOML: {exc}", path=shown) from None
    except OSError as exc:
        raise RuleError(f"cannot read rule file: {exc}", path=shown) from None
    except UnicodeDecodeError as exc:
        raise RuleError(f"not UTF-8 text (byte {exc.start}): TOML files must be UTF-8", path=shown) from None
    return parse_rule(data, shown)


def _rule_files(directory: Any) -> list[Any]:
    return sorted((p for p in directory.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)


def builtin_rule_dirs() -> list[Any]:
    from lossdoc.plugins import get_plugin_manager

    dirs: list[Any] = []
    for group in get_plugin_manager().hook.lossdoc_rule_paths():
        dirs.extend(group)
    return dirs


def load_rules(extra_dirs: list[str | Path] | None = None) -> dict[str, RuleSpec]:
    """All rules (built-in, plugins, ``extra_dirs``) by id, in id order.

    Raises :class:`RuleError` for an invalid file, a duplicate id or a duplicate name. Parsed
    once per process for the same directories and file modification times (a sweep analyses
    thousands of runs; the rule specs are frozen, the returned dict is a fresh copy).
    """
    dirs = builtin_rule_dirs() + [Path(d) for d in (extra_dirs or [])]
    stamp = tuple((str(d), tuple((str(f), _mtime(f)) for f in _rule_files(d)) if d.is_dir() else None)
                  for d in dirs)
    return dict(_load_rules_cached(stamp, tuple(dirs)))


def _mtime(f: Any) -> float:
    try:
        return float(Path(str(f)).stat().st_mtime)
    except OSError:  # a Traversable inside a zip: immutable for the process
        return 0.0


@functools.lru_cache(maxsize=8)
def _load_rules_cached(stamp: tuple[Any, ...], dirs: tuple[Any, ...]) -> dict[str, RuleSpec]:
    del stamp  # only part of the cache key
    rules: dict[str, RuleSpec] = {}
    names: dict[str, str] = {}
    for d in dirs:
        if not d.is_dir():
            raise RuleError("rule directory not found", path=str(d))
        for f in _rule_files(d):
            spec = load_rule_file(f)
            if spec.id in rules:
                raise RuleError(f"duplicate rule id {spec.id} (also in {rules[spec.id].path})", path=spec.path)
            for n in (spec.name, *spec.aliases):
                if n in names:
                    raise RuleError(f"duplicate rule name {n!r} (also {names[n]})", path=spec.path)
                names[n] = spec.id
            rules[spec.id] = spec
    return dict(sorted(rules.items()))


def find_rule(rules: dict[str, RuleSpec], key: str) -> RuleSpec | None:
    """Look a rule up by id, name or alias (case-insensitive for ids)."""
    if key.upper() in rules:
        return rules[key.upper()]
    for r in rules.values():
        if key == r.name or key in r.aliases:
            return r
    return None


def format_rule(spec: RuleSpec) -> str:
    """The text ``lossdoc rule ID`` prints: summary, why, example, recommendation, known problems, params."""
    out = [f"{spec.id} {spec.name}  [{spec.category}, {spec.severity}{', ' + spec.status if spec.status != 'stable' else ''}]",
           "", spec.summary.strip(), ""]
    for title, text in (("Why is this bad?", spec.why), ("Example", spec.example),
                        ("Recommendation", spec.recommendation), ("Known problems", spec.known_problems)):
        out += [f"## {title}", text.strip(), ""]
    out.append("## Parameters")
    if spec.params:
        width = max(len(k) for k in spec.params)
        out += [f"{k:<{width}} = {_toml_value(v)}" for k, v in spec.params.items()]
    else:
        out.append("(none)")
    out.append("")
    out.append(f"Detector: {spec.detector}; applies to {', '.join(spec.applies_to) or 'the run'}; since {spec.since}.")
    return "\n".join(out) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)
