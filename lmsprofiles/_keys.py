"""Key spelling: turn the keys a user wrote into the SDK's camelCase names, before merging.

Both spellings of a field are accepted (``contextLength`` and ``context_length``); anything
else is a problem that names the closest valid key, or says why LM Studio's field cannot be
used through lmstudio SDK 1.5.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from lmsprofiles import _fields as f
from lmsprofiles import _fieldtable as t
from lmsprofiles._errors import Problem
from lmsprofiles._merge import RESET, Append, Path, Replace
from lmsprofiles._yaml import Document, dotted


@dataclass(frozen=True)
class Field:
    """What the schema knows about one key of a model."""

    alias: str
    name: str
    model: type[BaseModel] | None  # nested model (or list item / dict value model)
    container: str  # "", "list" or "dict"
    metadata: tuple[Any, ...]


@functools.cache
def fields_of(model: type[BaseModel]) -> dict[str, Field]:
    """The fields of ``model`` by alias (camelCase)."""
    hints = typing.get_type_hints(model, include_extras=True)
    result: dict[str, Field] = {}
    for name, info in model.model_fields.items():
        nested, container = _nested(hints[name])
        alias = info.alias or name
        result[alias] = Field(alias, name, nested, container, tuple(info.metadata))
    return result


@functools.cache
def spellings(model: type[BaseModel]) -> dict[str, str]:
    """Every accepted spelling of a key of ``model`` -> its alias."""
    table: dict[str, str] = {}
    for alias, field in fields_of(model).items():
        table[alias] = alias
        table[field.name] = alias
    return table


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``, if any."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in args:
            found = _nested(arg)
            if found[0] is not None:
                return found
        return None, ""
    if typing.get_origin(annotation) is list and args:
        inner, _ = _nested(args[0])
        return inner, "list" if inner else ""
    if typing.get_origin(annotation) is dict and len(args) == 2:
        inner, _ = _nested(args[1])
        return inner, "dict" if inner else ""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    return None, ""


_SECTIONS: Mapping[type[BaseModel], str] = {
    f.LlmLoad: "load",
    f.EmbeddingLoad: "load",
    f.Gpu: "gpu",
    f.Inference: "inference",
}


def unknown_key_message(key: str, model: type[BaseModel]) -> str:
    """Why ``key`` is not a key of ``model``, with the closest valid key."""
    section = _SECTIONS.get(model)
    first, *rest = key.split("_")
    camel = first + "".join(w[:1].upper() + w[1:] for w in rest)
    reason = t.UNSUPPORTED.get(section or "", {}).get(camel)
    if reason is not None:
        return f"'{key}' {reason}"
    if model is f.EmbeddingLoad and key in spellings(f.LlmLoad):
        valid = ", ".join(fields_of(f.EmbeddingLoad))
        return f"'{key}' is not an embedding load field; embedding models take {valid}"
    if key in t.SYNONYMS:
        return f"unknown key '{key}'; did you mean '{t.SYNONYMS[key]}'?"
    names = list(fields_of(model))
    close = difflib.get_close_matches(key, list(spellings(model)), n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower().replace("_", ""): n for n in spellings(model)}
        close = difflib.get_close_matches(key.lower().replace("_", ""), list(lowered), n=1)
        close = [lowered[c] for c in close]
    if close:
        return f"unknown key '{key}'; did you mean '{spellings(model)[close[0]]}'?"
    return f"unknown key '{key}'; valid keys: {', '.join(names)}"


@dataclass
class Canonical:
    """A document with canonical keys; ``where`` maps canonical paths to written ones."""

    data: dict[str, Any]
    where: dict[Path, Path]


def canonicalize(doc: Document, model: type[BaseModel], problems: list[Problem]) -> Canonical:
    """Rename the keys of ``doc`` to the schema's aliases; report the ones it does not know."""
    out = Canonical({}, {})
    out.data = _walk_map(doc.data, model, (), (), doc, out, problems)
    return out


def _walk_map(
    data: Mapping[str, Any],
    model: type[BaseModel],
    written: Path,
    canon: Path,
    doc: Document,
    out: Canonical,
    problems: list[Problem],
) -> dict[str, Any]:
    table = spellings(model)
    fields = fields_of(model)
    result: dict[str, Any] = {}
    first_spelling: dict[str, str] = {}
    for key, value in data.items():
        w_path = (*written, key)
        alias = table.get(key)
        if alias is None:
            line, column = doc.position(w_path, key=True)
            message = unknown_key_message(key, model)
            problems.append(Problem(doc.source, line, column, dotted(w_path), message))
            continue
        if alias in first_spelling:
            line, column = doc.position(w_path, key=True)
            message = f"'{alias}' is given twice (as '{first_spelling[alias]}' and '{key}')"
            problems.append(Problem(doc.source, line, column, dotted(w_path), message))
            continue
        first_spelling[alias] = key
        c_path = (*canon, alias)
        out.where[c_path] = w_path
        result[alias] = _walk_value(value, fields[alias], w_path, c_path, doc, out, problems)
    return result


def _walk_value(
    value: Any,
    field: Field,
    written: Path,
    canon: Path,
    doc: Document,
    out: Canonical,
    problems: list[Problem],
) -> Any:
    if isinstance(value, Replace):
        return Replace(_walk_value(value.value, field, written, canon, doc, out, problems))
    if isinstance(value, Append):
        items = _walk_items(list(value.items), field, written, canon, doc, out, problems)
        return Append(tuple(items))
    if value is None or value is RESET or field.model is None:
        _record_positions(value, written, canon, out)
        return f.normalize(field.metadata, value)
    if field.container == "dict" and isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            w_path, c_path = (*written, key), (*canon, key)
            out.where[c_path] = w_path
            sub = Field(field.alias, field.name, field.model, "", ())
            result[key] = _walk_value(item, sub, w_path, c_path, doc, out, problems)
        return result
    if field.container == "list" and isinstance(value, list):
        return _walk_items(value, field, written, canon, doc, out, problems)
    if isinstance(value, dict) and field.container == "":
        return _walk_map(value, field.model, written, canon, doc, out, problems)
    return value  # the wrong shape: validation reports it at this path


def _walk_items(
    items: list[Any],
    field: Field,
    written: Path,
    canon: Path,
    doc: Document,
    out: Canonical,
    problems: list[Problem],
) -> list[Any]:
    result = []
    for i, item in enumerate(items):
        w_path, c_path = (*written, i), (*canon, i)
        out.where[c_path] = w_path
        if field.model is not None and isinstance(item, dict):
            result.append(_walk_map(item, field.model, w_path, c_path, doc, out, problems))
        else:
            _record_positions(item, w_path, c_path, out)
            result.append(item)
    return result


def _record_positions(value: Any, written: Path, canon: Path, out: Canonical) -> None:
    """Free-form values keep their own keys; map their paths one to one."""
    out.where[canon] = written
    if isinstance(value, dict):
        for key, item in value.items():
            _record_positions(item, (*written, key), (*canon, key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _record_positions(item, (*written, i), (*canon, i), out)


def canonical_value(
    value: Any, field: Field, path: Path, report: Callable[[Path, str], None]
) -> Any:
    """A value for ``field`` written outside a file (a variable's JSON, a call-site override)
    with the schema's keys: snake_case spellings renamed, values with a unit read; an unknown
    key, or a key given in both spellings, is passed to ``report`` with its path (the key as
    written last) and left out. Free-form values keep their keys."""
    if field.model is None:
        return f.normalize(field.metadata, value)
    item = Field(field.alias, field.name, field.model, "", ())
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
