"""Where a resolved value came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Origin"]


@dataclass(frozen=True)
class Origin:
    """The source of one resolved value.

    ``kind`` is ``"file"`` (``source`` is the file, with ``line`` and ``column``), ``"env"``
    (``source`` is the variable's name), ``"call-site"`` (an override passed to ``resolve`` or
    the CLI) or ``"default"`` (nobody set it: LM Studio's own default applies). ``path`` is the
    dotted key path as written in that source. ``unset`` is true when the source set the value
    to ``null`` to bring back LM Studio's default.
    """

    kind: Literal["file", "env", "call-site", "default"]
    source: str
    line: int | None = None
    column: int | None = None
    path: str = ""
    unset: bool = False

    def __str__(self) -> str:
        if self.kind == "file":
            where = f"{self.source}:{self.line}:{self.column}"
        elif self.kind == "default":
            return "LM Studio default"
        else:
            where = self.source
        return f"LM Studio default (unset by {where})" if self.unset else where

    def as_dict(self) -> dict[str, object]:
        """The origin as JSON-ready data."""
        return {
            "kind": self.kind,
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "unset": self.unset,
        }


DEFAULT = Origin("default", "LM Studio default")
