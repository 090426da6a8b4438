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

__all__ = ["color_plan", "use_color"]

_RESET: Final = "\033[0m"
_STYLES: Final[Mapping[str, str]] = {
    "+": "\033[32m",  # load: green
    "-/+": "\033[33m",  # reload: yellow
    "-": "\033[31m",  # unload: red
    "=": "\033[2m",  # reuse: dim
    "?": "\033[36m",  # leave alone: cyan
    "!": "\033[1;31m",  # conflict: bold red
    "~": "\033[33m",  # a changed field: yellow
    "error:": "\033[1;31m",
    "warning:": "\033[33m",
    "Plan:": "\033[1m",
}
_MARKER: Final = re.compile(r"^(\s*)(-/\+|error:|warning:|Plan:|[-+=?!~])(?=\s|$)")


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
