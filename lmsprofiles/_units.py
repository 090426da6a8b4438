"""Units: durations (seconds) and token counts (1024-based), as people write them.

``ttl: 2h`` is 7200 seconds and ``contextLength: 8k`` is 8192 tokens. This module imports
only the standard library (and the field table).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lmsprofiles import _fieldtable as t

__all__ = ["UNIT_PATTERNS", "normalize", "with_unit"]

_UNITS: Mapping[str, Mapping[str, int]] = {
    "seconds": {"s": 1, "m": 60, "h": 3600, "d": 86400},
    "tokens": {"k": 1024, "K": 1024, "M": 1024 * 1024},
}
_UNIT_WORDS: Mapping[str, Mapping[str, str]] = {
    "seconds": {
        **dict.fromkeys(("sec", "secs", "second", "seconds"), "s"),
        **dict.fromkeys(("min", "mins", "minute", "minutes"), "m"),
        **dict.fromkeys(("hr", "hrs", "hour", "hours", "H"), "h"),
        **dict.fromkeys(("day", "days", "D"), "d"),
    },
    "tokens": {
        **dict.fromkeys(("kb", "KB", "Kb", "kib", "KiB", "ki", "Ki"), "k"),
        **dict.fromkeys(("m", "mb", "MB", "MiB", "Mi"), "M"),
    },
}
_UNIT_PART = re.compile(r"\s*([0-9]+)\s*([A-Za-z]+)")
UNIT_PATTERNS: Mapping[str, str] = {
    "seconds": r"^\s*([0-9]+\s*[smhd]\s*)+$",
    "tokens": r"^\s*[0-9]+\s*[kKM]\s*$",
}
"""What the JSON Schema accepts as a value with a unit."""


def with_unit(text: str, unit: str) -> int:
    """``"2h"`` -> 7200 (``unit="seconds"``), ``"8k"`` -> 8192 (``unit="tokens"``).

    Durations may combine parts (``1h30m``). ValueError says what is wrong, with the closest
    spelling that works.
    """
    table = _UNITS[unit]
    parts = _UNIT_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != "".join(text.split()):
        raise ValueError(f"cannot read {text!r}; write e.g. {_example(unit)}")
    if unit == "tokens" and len(parts) > 1:
        raise ValueError(f"cannot read {text!r}; write e.g. {_example(unit)}")
    total = 0
    for number, suffix in parts:
        if len(number) > 15:
            raise ValueError(f"{number} is out of range")
        if suffix not in table:
            fixed = "".join(n + _UNIT_WORDS[unit].get(u, u) for n, u in parts)
            hint = (
                f"; did you mean {fixed!r}?"
                if fixed != text.replace(" ", "")
                and all(_UNIT_WORDS[unit].get(u, u) in table for _, u in parts)
                else ""
            )
            units = ", ".join(table)
            raise ValueError(f"unknown unit {suffix!r} in {text!r}{hint} (units: {units})")
        total += int(number) * table[suffix]
    return total


def _example(unit: str) -> str:
    return "'2h', '30m', '90s' or '1h30m'" if unit == "seconds" else "'8k' (8192) or '1M'"


def normalize(kind: t.Kind | None, value: Any) -> Any:
    """A value with a unit (``"2h"``, ``"8k"``) for a field of ``kind`` as the plain integer;
    anything else unchanged.

    A string that does not read is left for validation to report, with a suggestion.
    """
    if not isinstance(kind, t.Num) or kind.unit is None or not isinstance(value, str):
        return value
    if not any(c.isalpha() for c in value):
        return value
    try:
        return with_unit(value, kind.unit)
    except ValueError:
        return value
