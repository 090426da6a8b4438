"""Drafts of profile files made by an import, and their commented YAML text (pure)."""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lmsprofiles._errors import Problem
from lmsprofiles._fieldtable import odd_character
from lmsprofiles._interop._kv import Skipped

if TYPE_CHECKING:
    from lmsprofiles._yaml import Document

__all__ = ["Draft", "file_stem", "name_problem", "problem_at", "render_draft"]

_MODELINE = "# yaml-language-server: $schema=../../schema.json"
_COMMENT_WIDTH = 72


@dataclass
class Draft:
    """One profile file to write: ``models/<name>.yaml`` or ``requests/<name>.yaml``.

    ``body`` is the file's content in the order it is written; ``notes`` maps dotted paths
    in it (``load.contextLength``) to end-of-line comments; ``skipped`` lists the source's
    settings no profile field carries, which the file names in a closing comment.
    ``withheld`` says why the file is not written (it would say nothing); its ``skipped``
    settings are still reported.
    """

    kind: Literal["models", "requests"]
    name: str
    body: dict[str, Any]
    source: str
    skipped: list[Skipped] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    withheld: str = ""

    @property
    def path(self) -> str:
        """The file's path relative to the profile directory."""
        return f"{self.kind}/{self.name}.yaml"


_SEPARATORS = ("/", "\\")
_NAME_BYTES = 255 - len(".yaml")
"""The longest stem whose file name (``NAME.yaml``) a file system takes."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the stem of a profile file, or None if it can.

    A profile's name is a plain file name in ``models/`` or ``requests/``: one that the
    profile directory reads (not hidden, so not starting with ``.``), that stays in that
    directory (no path separator) and that is a name (no whitespace, control or invisible
    character: the stem is the model's identifier or the request's name). Names made by
    :func:`file_stem` always pass.
    """
    if not name:
        return "is empty"
    if any(sep in name for sep in _SEPARATORS):
        return "contains a path separator"
    if name.startswith("."):
        return "starts with '.', and profile directories skip hidden files"
    odd = odd_character(name)
    if odd is not None:  # the name of the profile, which names have none of
        return f"contains {odd[0]!r} ({odd[1]})"
    if len(name.encode("utf-8", "surrogatepass")) > _NAME_BYTES:
        return "is longer than a file name can be"
    return None


def file_stem(text: str) -> str:
    """A file name stem from a model key, preset name or identifier (``qwen/qwen3-8b`` ->
    ``qwen3-8b``; characters other than letters, digits, ``.``, ``_`` and ``-`` become ``-``)."""
    last = text.rstrip("/").rsplit("/", 1)[-1].removeprefix("@local:")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", last).strip("-.")
    return stem[:_NAME_BYTES].rstrip("-.") or "imported"


def render_draft(draft: Draft) -> str:
    """The file's text: modeline, a comment naming the source, the YAML, what was left out."""
    lines = [_MODELINE, *_wrap(f"Imported by `lmsprofiles import` from {draft.source}.")]
    out = io.StringIO()
    _yaml().dump(_node(draft.body, (), draft.notes), out)
    text = "\n".join(lines) + "\n" + out.getvalue()
    if draft.skipped:
        text += "# Not imported: no profile field carries these settings of the source.\n"
        for item in draft.skipped:
            where = f" ({item.where})" if item.where else ""
            text += f"#   {item.key}{where} = {_short(item.value)}\n#     {item.reason}\n"
    return text


@functools.cache
def _yaml() -> Any:
    """The YAML writer of drafts (one per process: making one costs as much as a dump), which
    writes ``None`` as ``null``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.representer import RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        pass

    Representer.add_representer(type(None), _null)
    yaml = YAML(typ="rt")
    yaml.Representer = Representer
    yaml.default_flow_style = False
    yaml.width = 100
    return yaml


def _wrap(text: str) -> list[str]:
    words, lines, line = text.split(), [], "#"
    for word in words:
        if len(line) + 1 + len(word) > _COMMENT_WIDTH and line != "#":
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _null(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _node(value: Any, path: tuple[str, ...], notes: Mapping[str, str]) -> Any:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _node(item, (*path, key), notes)
            note = notes.get(".".join((*path, key)))
            if note:
                node.yaml_add_eol_comment(note, key)
        return node
    if isinstance(value, list):
        return [_node(item, path, notes) for item in value]
    if isinstance(value, str) and "\n" in value.strip() and value == value.strip():
        return LiteralScalarString(value)
    return value


def problem_at(
    source: str, doc: Document | None, where: str, message: str, *, key: bool = False
) -> Problem:
    """A problem at the dotted path ``where`` (``operation.fields[2]``) of a parsed source:
    at its value, or with ``key`` at its key."""
    line: int | None = None
    column: int | None = None
    if doc is not None:
        path: list[str | int] = []
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
            path.append(int(part[1:-1]) if part.startswith("[") else part)
        line, column = doc.position(tuple(path), key=key)
    return Problem(source, line, column, where, message)
