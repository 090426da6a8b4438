"""Colour for text written to a terminal: the plan, by each line's action marker.

Colour is used only when the stream is a terminal, ``--no-color`` was not given, ``NO_COLOR``
is unset or empty (https://no-color.org) and ``TERM`` is not ``dumb``; ``FORCE_COLOR`` (set and
non-empty) turns it on for a stream that is not a terminal, such as a CI log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Final, TextIO

from lmsprofiles._reconcile._plan import ActionName
from lmsprofiles._reconcile._render import SYMBOLS

__all__ = ["color_plan", "use_color"]

_RESET: Final = "\033[0m"
_ACTION_STYLES: Final[Mapping[ActionName, str]] = {
    "load": "\033[32m",  # green
    "reload": "\033[33m",  # yellow
    "unload": "\033[31m",  # red
    "reuse": "\033[2m",  # dim
    "leave": "\033[36m",  # cyan
    "conflict": "\033[1;31m",  # bold red
    "adopt": "\033[35m",  # magenta
    "invalid": "\033[1;31m",  # bold red
}
_STYLES: Final[Mapping[str, str]] = {
    **{SYMBOLS[action]: style for action, style in _ACTION_STYLES.items()},
    "~": "\033[33m",  # a changed field: yellow
    "error:": "\033[1;31m",
    "warning:": "\033[33m",
    "Plan:": "\033[1m",
}
_MARKER: Final = re.compile(
    r"^(\s*)("
    + "|".join(re.escape(m) for m in sorted(_STYLES, key=len, reverse=True))
    + r")(?=\s|$)"
)


def use_color(
    stream: TextIO, *, no_color: bool = False, env: Mapping[str, str] | None = None
) -> bool:
    """Whether to colour what is written to ``stream``."""
    environ = os.environ if env is None else env
    if no_color or environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def color_plan(text: str) -> str:
    """``text`` (a rendered plan) with each line coloured by its action marker."""
    lines = []
    for line in text.split("\n"):
        match = _MARKER.match(line)
        if match is None:
            lines.append(line)
        else:
            lines.append(_STYLES[match.group(2)] + line + _RESET)
    return "\n".join(lines)
