"""Call-site overrides (``resolve(**overrides)``, ``render --set``): which field a name sets.

A name is a field of the load or inference config (``maxTokens``, ``context_length``), a
dotted path into one (``load.gpu.ratio``, ``inference.temperature``, ``gpu.ratio``) or
``ttl``; each segment in camelCase or snake_case. Two names that set the same value, or a
value and part of it, are a problem: neither wins silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from lmsprofiles import _fieldtable as t
from lmsprofiles._keys import Field, fields_of, spellings, unknown_key_message
from lmsprofiles._merge import Path
from lmsprofiles._yaml import dotted

__all__ = ["clashes", "target"]


def target(name: str, kind: str = "llm") -> tuple[Path, Field] | str:
    """The canonical path and the field that the override ``name`` sets, for a model of
    ``kind`` (``"llm"`` or ``"embedding"``); else why it sets none."""
    load = "EmbeddingLoad" if kind == "embedding" else "LlmLoad"
    first, *rest = name.split(".")
    if first == "ttl":
        if rest:
            return "'ttl' has no fields"
        return ("ttl",), fields_of("GlobalFile")["ttl"]
    if first in ("load", "inference"):
        if not rest:
            return f"name a field of {first}, e.g. {first}.{_EXAMPLE[first]}"
        if first == "inference" and kind == "embedding":
            return "embedding models take no inference"
        path: Path = (first,)
        model: str | None = load if first == "load" else "Inference"
    elif first in spellings(load):
        path, model, rest = ("load",), load, [first, *rest]
    elif kind == "llm" and first in spellings("Inference"):
        path, model, rest = ("inference",), "Inference", [first, *rest]
    else:
        return _unknown(first, load, kind)
    fld: Field | None = None
    for segment in rest:
        if model is None:
            return f"'{dotted(path)}' has no fields"
        alias = spellings(model).get(segment)
        if alias is None:
            return unknown_key_message(segment, model)
        fld = fields_of(model)[alias]
        path = (*path, alias)
        model = fld.model if fld.container == "" else None
    assert fld is not None
    return path, fld


_EXAMPLE = {"load": "contextLength", "inference": "temperature"}


def clashes(targets: Iterable[tuple[str, Path]]) -> Iterator[tuple[str, str]]:
    """``(name, earlier name)`` for every name whose path is, or is inside or around, the
    path of a name before it."""
    seen: list[tuple[str, Path]] = []
    for name, path in targets:
        for other, other_path in seen:
            n = min(len(path), len(other_path))
            if path[:n] == other_path[:n]:
                yield name, other
                break
        else:
            seen.append((name, path))


def _unknown(key: str, load: str, kind: str) -> str:
    """Why ``key`` names no override, with the closest name of any section."""
    models = [load] if kind == "embedding" else [load, "Inference"]
    for model in models:
        message = unknown_key_message(key, model)
        if not message.startswith("unknown key"):
            return message  # a field lmstudio SDK 1.5 cannot send, an LLM-only field
    if key in t.SYNONYMS:
        return f"unknown key '{key}'; did you mean '{t.SYNONYMS[key]}'?"
    sections = ("ttl", "load") if kind == "embedding" else ("ttl", "load", "inference")
    names = {name: name for name in sections}
    for model in models:
        names |= spellings(model)
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'; did you mean '{names[close[0]]}'?"
    return f"unknown key '{key}'; name a load or inference field (see docs/profiles.md) or ttl"
