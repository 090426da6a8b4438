"""Drafts of profile files made by an import, and their commented YAML text (pure)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lmsprofiles._errors import Problem
from lmsprofiles._interop._kv import Skipped

if TYPE_CHECKING:
    from lmsprofiles._yaml import Document

__all__ = ["Draft", "file_stem", "problem_at", "render_draft"]

_MODELINE = "# yaml-language-server: $schema=../../schema.json"
_COMMENT_WIDTH = 72


@dataclass
class Draft:
    """One profile file to write: ``models/<name>.yaml`` or ``requests/<name>.yaml``.

    ``body`` is the file's content in the order it is written; ``notes`` maps dotted paths
    in it (``load.contextLength``) to end-of-line comments; ``skipped`` lists the source's
    settings no profile field carries, which the file names in a closing comment.
    """

    kind: Literal["models", "requests"]
    name: str
    body: dict[str, Any]
    source: str
    skipped: list[Skipped] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The file's path relative to the profile directory."""
        return f"{self.kind}/{self.name}.yaml"


def file_stem(text: str) -> str:
    """A file name stem from a model key, preset name or identifier (``qwen/qwen3-8b`` ->
    ``qwen3-8b``; characters other than letters, digits, ``.``, ``_`` and ``-`` become ``-``)."""
    last = text.rstrip("/").rsplit("/", 1)[-1].removeprefix("@local:")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", last).strip("-.")
    return stem or "imported"


def render_draft(draft: Draft) -> str:
    """The file's text: modeline, a comment naming the source, the YAML, what was left out."""
    from ruamel.yaml import YAML

    lines = [_MODELINE, *_wrap(f"Imported by `lmsprofiles import` from {draft.source}.")]
    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.representer.add_representer(type(None), _null)
    yaml.dump(_node(draft.body, (), draft.notes), out)
    text = "\n".join(lines) + "\n" + out.getvalue()
    if draft.skipped:
        text += "# Not imported: no profile field carries these settings of the source.\n"
        for item in draft.skipped:
            where = f" ({item.where})" if item.where else ""
            text += f"#   {item.key}{where} = {_short(item.value)}\n#     {item.reason}\n"
    return text


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


def problem_at(source: str, doc: Document | None, where: str, message: str) -> Problem:
    """A problem at the dotted path ``where`` (``operation.fields[2]``) of a parsed source."""
    line: int | None = None
    column: int | None = None
    if doc is not None:
        path: list[str | int] = []
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
            path.append(int(part[1:-1]) if part.startswith("[") else part)
        line, column = doc.position(tuple(path))
    return Problem(source, line, column, where, message)
