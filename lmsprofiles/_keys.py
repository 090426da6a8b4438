"""Key spelling: turn the keys a user wrote into the SDK's camelCase names, before merging.

Both spellings of a field are accepted (``contextLength`` and ``context_length``); anything
else is a problem that names the closest valid key, or says why LM Studio's field cannot be
used through lmstudio SDK 1.5.

The fields come from the shapes (:mod:`lmsprofiles._shapes`), so this module imports no
pydantic; a model is named by its shape's name, or given as its pydantic model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lmsprofiles import _fieldtable as t
from lmsprofiles._errors import Problem
from lmsprofiles._merge import RESET, Append, Path, Replace
from lmsprofiles._shapes import SHAPES
from lmsprofiles._units import normalize
from lmsprofiles._yaml import Document, dotted

__all__ = [
    "Canonical",
    "Field",
    "Model",
    "canonical_value",
    "canonicalize",
    "fields_of",
    "spellings",
    "unknown_key_message",
]

Model = str | type[Any]
"""A model: its shape's name (``"LlmLoad"``) or its pydantic model (named the same)."""
Where = dict[Path, tuple[int, int] | tuple[int, int, Path]]


@dataclass(frozen=True, slots=True)
class Field:
    """What the schema knows about one key of a model."""

    alias: str
    name: str
    model: str | None  # the shape of a nested mapping (or of list items / mapping values)
    container: str  # "", "list" or "dict"
    kind: t.Kind


def _name(model: Model) -> str:
    return model if isinstance(model, str) else model.__name__


def fields_of(model: Model) -> dict[str, Field]:
    """The fields of ``model`` by alias (camelCase)."""
    return _fields(_name(model))


@functools.cache
def _fields(name: str) -> dict[str, Field]:
    result: dict[str, Field] = {}
    for spec in SHAPES[name].specs:
        kind = spec.kind
        nested = kind.model if isinstance(kind, t.Nested) else None
        container = kind.container if isinstance(kind, t.Nested) else ""
        result[spec.key] = Field(spec.key, t.snake(spec.key), nested, container, kind)
    return result


def spellings(model: Model) -> dict[str, str]:
    """Every accepted spelling of a key of ``model`` -> its alias."""
    return _spellings(_name(model))


@functools.cache
def _spellings(name: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for alias, field in _fields(name).items():
        table[alias] = alias
        table[field.name] = alias
    return table


_SECTIONS: Final[Mapping[str, str]] = {
    "LlmLoad": "load",
    "EmbeddingLoad": "load",
    "Gpu": "gpu",
    "Inference": "inference",
}


_OTHER: Final[Mapping[str, str]] = {"LlmLoad": "Inference", "Inference": "LlmLoad"}
"""The other section of an LLM profile, where a field written in the wrong one belongs."""


def _a(section: str) -> str:
    return f"an {section}" if section[0] in "aeiou" else f"a {section}"


def unknown_key_message(key: str, model: Model) -> str:
    """Why ``key`` is not a key of ``model``, with the closest valid key."""
    import difflib

    name = _name(model)
    section = _SECTIONS.get(name)
    first, *rest = key.split("_")
    camel = first + "".join(w[:1].upper() + w[1:] for w in rest)
    reason = t.UNSUPPORTED.get(section or "", {}).get(camel)
    if reason is not None:
        return f"'{key}' {reason}"
    if name == "EmbeddingLoad" and key in _spellings("LlmLoad"):
        valid = ", ".join(_fields(name))
        return f"'{key}' is not an embedding load field; embedding models take {valid}"
    other = _OTHER.get(name)
    if other is not None and key in _spellings(other):
        here, there = _SECTIONS[name], _SECTIONS[other]
        return f"'{key}' is {_a(there)} field, not {_a(here)} field; write it under {there}"
    inside = [
        f.alias
        for f in _fields(name).values()
        if f.model is not None
        and f.container == ""
        and key in _spellings(f.model)
        and not (name == "EmbeddingModelFile" and f.alias == "inference")  # refused there
    ]
    if len(inside) == 1:
        return f"'{key}' is {_a(inside[0])} field; write it under {inside[0]}"
    if key in t.SYNONYMS:
        target = t.SYNONYMS[key]
        if other is not None and target.split(".")[0] not in _spellings(name):
            target = f"{_SECTIONS[other]}.{target}"
        return f"unknown key '{key}'; did you mean '{target}'?"
    names = list(_fields(name))
    table = _spellings(name)
    close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower().replace("_", ""): n for n in table}
        close = difflib.get_close_matches(key.lower().replace("_", ""), list(lowered), n=1)
        close = [lowered[c] for c in close]
    if close:
        return f"unknown key '{key}'; did you mean '{table[close[0]]}'?"
    return f"unknown key '{key}'; valid keys: {', '.join(names)}"


@dataclass
class Canonical:
    """A document with canonical keys.

    ``where`` maps each canonical path, parents before children, to the line and column of
    its value, and to the path as written when that is another one (a key spelled in
    snake_case).
    """

    data: dict[str, Any]
    where: Where


def canonicalize(doc: Document, model: Model, problems: list[Problem]) -> Canonical:
    """Rename the keys of ``doc`` to the schema's aliases; report the ones it does not know."""
    if len(_SHARED) > _SHARED_SIZE:
        _SHARED.clear()
    walk = _Walk(doc, problems)
    data = walk.map(doc.data, _name(model), (), ())
    return Canonical(data, walk.where)


_SHARED: dict[tuple[Any, ...], Any] = {}
"""One tuple for every equal path and position recorded (they repeat from file to file: a
tree of many files keeps each once); emptied past :data:`_SHARED_SIZE` of them."""
_SHARED_SIZE: Final = 200_000


class _Walk:
    """One document's walk: its canonical data and positions, and the problems found."""

    __slots__ = ("doc", "problems", "values", "where")

    def __init__(self, doc: Document, problems: list[Problem]) -> None:
        self.doc = doc
        self.values = doc.values
        self.problems = problems
        self.where: Where = {}

    def _place(self, canon: Path, written: Path) -> None:
        """Record where the value at ``canon`` (written at ``written``) is."""
        mark = self.values.get(written)
        if mark is None:
            mark = self.doc.position(written)
        entry = mark if canon is written else (*mark, written)
        self.where[_SHARED.setdefault(canon, canon)] = _SHARED.setdefault(entry, entry)

    def map(
        self, data: Mapping[str, Any], model: str, written: Path, canon: Path
    ) -> dict[str, Any]:
        table = _spellings(model)
        fields = _fields(model)
        result: dict[str, Any] = {}
        first_spelling: dict[str, str] = {}
        same = canon is written
        for key, value in data.items():
            w_path = (*written, key)
            alias = table.get(key)
            if alias is None or alias in first_spelling:
                self._unknown(key, alias, model, w_path, first_spelling)
                continue
            first_spelling[alias] = key
            c_path = w_path if same and alias == key else (*canon, alias)
            self._place(c_path, w_path)
            result[alias] = self.value(value, fields[alias], w_path, c_path)
        return result

    def _unknown(
        self, key: str, alias: str | None, model: str, w_path: Path, first: Mapping[str, str]
    ) -> None:
        line, column = self.doc.position(w_path, key=True)
        if alias is None:
            message = unknown_key_message(key, model)
        else:
            message = f"'{alias}' is given twice (as '{first[alias]}' and '{key}')"
        self.problems.append(Problem(self.doc.source, line, column, dotted(w_path), message))

    def value(self, value: Any, field: Field, written: Path, canon: Path) -> Any:
        kind = type(value)
        if kind is Replace:
            return Replace(self.value(value.value, field, written, canon))
        if kind is Append:
            return Append(tuple(self.items(list(value.items), field.model, written, canon)))
        if value is None or value is RESET or field.model is None:
            if kind is dict or kind is list:
                self._free(value, written, canon)
            elif kind is str:
                return normalize(field.kind, value)
            return value
        if kind is dict:
            if field.container == "dict":
                result: dict[str, Any] = {}
                same = canon is written
                for key, item in value.items():
                    w_path = (*written, key)
                    c_path = w_path if same else (*canon, key)
                    self._place(c_path, w_path)
                    result[key] = self._nested(item, field.model, w_path, c_path)
                return result
            if field.container == "":
                return self.map(value, field.model, written, canon)
        elif kind is list and field.container == "list":
            return self.items(value, field.model, written, canon)
        return value  # the wrong shape: validation reports it at this path

    def _nested(self, value: Any, model: str, written: Path, canon: Path) -> Any:
        """A value of a mapping of mappings of ``model``."""
        kind = type(value)
        if kind is Replace:
            return Replace(self._nested(value.value, model, written, canon))
        if kind is Append:
            return Append(tuple(self.items(list(value.items), model, written, canon)))
        if kind is dict:
            return self.map(value, model, written, canon)
        return value  # the wrong shape (a list, a scalar) or null: validation says so

    def items(self, items: list[Any], model: str | None, written: Path, canon: Path) -> list[Any]:
        result = []
        same = canon is written
        for i, item in enumerate(items):
            w_path = (*written, i)
            c_path = w_path if same else (*canon, i)
            self._place(c_path, w_path)
            if model is not None and type(item) is dict:
                result.append(self.map(item, model, w_path, c_path))
            else:
                if type(item) is dict or type(item) is list:
                    self._free(item, w_path, c_path)
                result.append(item)
        return result

    def _free(self, value: Any, written: Path, canon: Path) -> None:
        """Free-form values keep their own keys; place their paths one to one."""
        same = canon is written
        pairs = value.items() if type(value) is dict else enumerate(value)
        for key, item in pairs:
            w_path = (*written, key)
            c_path = w_path if same else (*canon, key)
            self._place(c_path, w_path)
            if type(item) is dict or type(item) is list:
                self._free(item, w_path, c_path)


def canonical_value(
    value: Any, field: Field, path: Path, report: Callable[[Path, str], None]
) -> Any:
    """A value for ``field`` written outside a file (a variable's JSON, a call-site override)
    with the schema's keys: snake_case spellings renamed, values with a unit read; an unknown
    key, or a key given in both spellings, is passed to ``report`` with its path (the key as
    written last) and left out. Free-form values keep their keys."""
    if field.model is None:
        return normalize(field.kind, value)
    item = Field(field.alias, field.name, field.model, "", field.kind)
    if field.container == "list" and isinstance(value, list):
        return [canonical_value(v, item, (*path, i), report) for i, v in enumerate(value)]
    if field.container == "dict" and isinstance(value, dict):
        return {k: canonical_value(v, item, (*path, k), report) for k, v in value.items()}
    if field.container != "" or not isinstance(value, dict):
        return value  # the wrong shape: validation reports it
    table = spellings(field.model)
    fields = fields_of(field.model)
    result: dict[str, Any] = {}
    first_spelling: dict[str, str] = {}
    for key, sub in value.items():
        alias = table.get(key)
        if alias is None:
            report((*path, key), unknown_key_message(key, field.model))
        elif alias in first_spelling:
            message = f"'{alias}' is given twice (as '{first_spelling[alias]}' and '{key}')"
            report((*path, key), message)
        else:
            first_spelling[alias] = key
            result[alias] = canonical_value(sub, fields[alias], (*path, alias), report)
    return result
