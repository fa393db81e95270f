"""Numbers and log text as every output shows them: finding messages, terminal, HTML, Markdown, JSON-less
renderers. One module so that a number reads the same in a message and in the table beside it.

- :func:`fmt_num`: 4 significant digits (``2.31``, ``0.5059``, ``1.234e-04``, ``4e-04``), integers and whole
  floats from 1,000 on with thousands separators (``1,200``), ``NaN``/``inf``/``-inf`` spelled out,
  a missing value as ``missing`` (``n/a`` in sentences, ``—`` in tables).
- :func:`fmt_step`: ``1,200``. :func:`fmt_pct`: a percentage with its base (``77% of the training loss``).
- :func:`fmt_share`: a ratio to a base, ``12% of the level``, or ``3.21e+23x the level`` from 100x up.
- :func:`clean`: a log string made safe to show (no control characters, no bidi overrides).

A displayed number is the logged value rounded to 4 significant digits; the property suite
(``tests/properties``) checks every message number against the log at that precision.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Significant digits of every displayed (non-integer) number.
DIGITS = 4

# C0/C1 control characters, DEL, the Unicode bidi marks/overrides/isolates that can disguise text,
# and lone surrogates (a non-UTF-8 file name decoded with surrogateescape): none can be shown or encoded.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(s: Any, limit: int | None = None) -> str:
    """A log string made safe to show: control characters (terminal escapes, NUL, bidi overrides)
    become ``?``, whitespace runs collapse; optionally cut to ``limit`` characters with an ellipsis.
    Escaping for HTML/Markdown is the renderer's job on top of this."""
    text = "" if s is None else str(s)
    text = _CONTROL.sub(lambda m: " " if m.group() in "\t\n\r" else "?", text)
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    return text


def strip_controls(s: str) -> str:
    """Control characters (except newline and tab) become ``?``; nothing else changes."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in "\t\n" else "?", s)


def fmt_num(x: Any, digits: int = DIGITS, missing: str = "n/a") -> str:
    """A number for people: ``2.31``, ``0.5059``, ``1.234e-04``, ``1,200``, ``NaN``, ``inf``."""
    if x is None:
        return missing
    if isinstance(x, bool) or type(x).__name__ == "bool_":
        return str(bool(x)).lower()
    if isinstance(x, int) or (hasattr(x, "dtype") and getattr(x.dtype, "kind", "") in "iu"):
        return f"{int(x):,}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return clean(x, 80)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e15 or a < 1e-3:  # 1.234e-04, 4e-04 (no padding zeros: 4.000e-04 says no more than 4e-04)
        mant, exp = f"{v:.{digits - 1}e}".split("e")
        return f"{mant.rstrip('0').rstrip('.') if '.' in mant else mant}e{exp}"
    if a >= 1000:  # 12,346 rather than 1.235e+04; whole values exactly (1,200)
        if v.is_integer():
            return f"{int(v):,}"
        whole = len(str(int(a)))
        return f"{v:,.{max(digits - whole, 0)}f}"
    return f"{v:.{digits}g}"


def fmt_step(x: Any, missing: str = "n/a") -> str:
    """A step or count: ``1,200``."""
    if x is None:
        return missing
    try:
        return f"{int(x):,}"
    except (TypeError, ValueError, OverflowError):
        return clean(x, 40)


def fmt_pvalue(p: float | None, missing: str = "—") -> str:
    if p is None:
        return missing
    if not math.isfinite(p):
        return fmt_num(p)
    if p < 1e-4:
        return "< 0.0001"
    return f"{p:.4f}"


def fmt_pct(part: float, base: float, base_name: str) -> str:
    """``part`` as a percentage of ``base``, saying what the base is: ``77% of the training loss``."""
    if not base or not math.isfinite(part) or not math.isfinite(base):
        return f"n/a (the {base_name} is {fmt_num(base)})"
    return f"{100 * part / abs(base):.0f}% of the {base_name}"


def fmt_share(x: float, base: str) -> str:
    """A ratio to ``base`` for a message: ``12% of the level``, ``4,069% of the level``; from 100x up as a
    multiple, ``3.21e+23x the level``, not a 26-digit percentage (a loss that blew up to 1.9e+24)."""
    if not math.isfinite(x):
        return f"{fmt_num(x)} x {base}"
    if abs(x) >= 100:
        return f"{x:.3g}x {base}"
    return f"{x:,.0%} of {base}"


__all__ = ["DIGITS", "clean", "fmt_num", "fmt_pct", "fmt_pvalue", "fmt_share", "fmt_step", "strip_controls"]
