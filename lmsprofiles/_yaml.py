"""The only module that touches ruamel.yaml.

:func:`parse` turns YAML text into plain Python data (dicts, lists, str, int, float, bool,
None) in which the merge tags ``!append``, ``!replace`` and ``!reset`` have become the markers
of :mod:`lmsprofiles._merge`, plus a map from each key path to its 1-based line and column.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._merge import RESET, Append, Path, Replace

TAGS = ("!append", "!replace", "!reset")


@dataclass
class Document:
    """One parsed YAML file.

    ``values[path]`` is where the value at ``path`` starts and ``keys[path]`` where its key
    starts (list items have no key). Both are 1-based ``(line, column)``.
    """

    source: str
    data: dict[str, Any]
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of the key (or value) at ``path``, else of its nearest ancestor."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return (1, 1)


def _loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read(path: FsPath, source: str) -> Document:
    """Read and parse a file; ``source`` is how messages name it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError([Problem(source, 1, 1, "", f"not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise ProfileError(
            [Problem(source, None, None, "", f"cannot read: {exc.strerror}")]
        ) from None
    return parse(text, source)


def parse(text: str, source: str) -> Document:
    """Parse one YAML document that must be a mapping (an empty file is an empty mapping)."""
    try:
        root = _loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ProfileError([Problem(source, line, column, "", _yaml_message(exc))]) from None
    except YAMLError as exc:
        raise ProfileError([Problem(source, 1, 1, "", f"invalid YAML: {exc}")]) from None
    if root is None:
        return Document(source, {})
    if not isinstance(root, CommentedMap):
        raise ProfileError(
            [Problem(source, 1, 1, "", f"expected a mapping of keys, got {describe(_plain(root))}")]
        )
    doc = Document(source, {})
    problems: list[Problem] = []
    doc.data = _convert_map(root, (), doc, problems)
    if problems:
        raise ProfileError(problems)
    return doc


def _yaml_message(exc: MarkedYAMLError) -> str:
    problem = (exc.problem or "").strip()
    if problem.startswith("found duplicate key"):
        key = problem.split('"')[1] if '"' in problem else problem
        return f"duplicate key '{key}'"
    context = (exc.context or "").strip()
    text = f"{context}: {problem}" if context and problem else problem or context
    return f"invalid YAML: {text}"


def _convert_map(
    node: CommentedMap, path: Path, doc: Document, problems: list[Problem]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key in node:
        kline, kcol = node.lc.key(key)
        vline, vcol = node.lc.value(key)
        if not isinstance(key, str):
            problems.append(
                Problem(
                    doc.source, kline + 1, kcol + 1, dotted(path), f"key {key!r} is not a string"
                )
            )
            continue
        sub = (*path, key)
        doc.keys[sub] = (kline + 1, kcol + 1)
        doc.values[sub] = (vline + 1, vcol + 1)
        result[key] = _convert_tagged(node[key], sub, doc, problems)
    return result


def _convert_tagged(value: Any, path: Path, doc: Document, problems: list[Problem]) -> Any:
    tag = _tag(value)
    if tag is None:
        return _convert(value, path, doc, problems)
    line, column = doc.values[path]
    if tag == "!reset":
        inner = value.value if isinstance(value, TaggedScalar) else value
        if inner not in ("", None) and not (isinstance(inner, (dict, list)) and not inner):
            problems.append(
                Problem(doc.source, line, column, dotted(path), "!reset takes no value")
            )
        return RESET
    if tag == "!append":
        if not isinstance(value, CommentedSeq):
            problems.append(
                Problem(
                    doc.source,
                    line,
                    column,
                    dotted(path),
                    "!append needs a list, e.g. !append [x]",
                )
            )
            return None
        return Append(tuple(_convert_seq(value, path, doc, problems)))
    if tag == "!replace":
        inner = value.value if isinstance(value, TaggedScalar) else value
        return Replace(_convert(inner, path, doc, problems))
    problems.append(
        Problem(doc.source, line, column, dotted(path), f"unknown tag {tag}; use {', '.join(TAGS)}")
    )
    return None


def _convert(value: Any, path: Path, doc: Document, problems: list[Problem]) -> Any:
    if isinstance(value, CommentedMap):
        return _convert_map(value, path, doc, problems)
    if isinstance(value, CommentedSeq):
        return _convert_seq(value, path, doc, problems)
    return _plain(value)


def _convert_seq(
    node: CommentedSeq, path: Path, doc: Document, problems: list[Problem]
) -> list[Any]:
    items: list[Any] = []
    for i, item in enumerate(node):
        position = node.lc.item(i) if node.lc.data else None
        sub = (*path, i)
        if position is not None:
            doc.values[sub] = (position[0] + 1, position[1] + 1)
        line, column = doc.position(sub)
        if _tag(item) is not None:
            problems.append(
                Problem(
                    doc.source,
                    line,
                    column,
                    dotted(sub),
                    "merge tags apply to mapping values, not list items",
                )
            )
        items.append(_convert(item, sub, doc, problems))
    return items


def _tag(value: Any) -> str | None:
    tag = getattr(value, "tag", None)
    text = getattr(tag, "value", None)
    if isinstance(text, str) and text.startswith("!") and not text.startswith("!!"):
        return text
    return None


def _plain(value: Any) -> Any:
    """Scalars as the builtin types (ruamel returns subclasses that keep formatting)."""
    if isinstance(value, TaggedScalar):
        return value.value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (CommentedMap, dict)):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (CommentedSeq, list)):
        return [_plain(v) for v in value]
    return value


def dotted(path: Path) -> str:
    """``("load", "gpu", "ratio")`` -> ``"load.gpu.ratio"``; list indices as ``[i]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def describe(value: Any) -> str:
    """How a value reads in a message: its YAML spelling and kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value.isoformat()}"
    return type(value).__name__
