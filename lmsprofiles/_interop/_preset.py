"""LM Studio config presets (``*.preset.json``) to profiles and back (pure).

A preset as the app writes it::

    {"identifier": "@local:creative", "name": "Creative", "changed": true,
     "operation": {"fields": [{"key": "llm.prediction.temperature", "value": 1.1}, ...]},
     "load": {"fields": []}}

``operation`` becomes a request overlay (``requests/<name>.yaml``); a non-empty ``load``
becomes a model profile, which needs the model key from the caller since presets name none.
"""

from __future__ import annotations

import json
from typing import Any

from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._interop._draft import Draft, file_stem, problem_at
from lmsprofiles._interop._kv import Domain, field_list, from_kv, load_fields, prediction_fields

__all__ = ["looks_like_preset", "make_preset", "parse_preset"]


def looks_like_preset(data: Any) -> bool:
    """True for a JSON document shaped like a preset."""
    return isinstance(data, dict) and ("operation" in data or "load" in data)


def parse_preset(
    text: str, source: str, *, label: str, name: str | None = None, model: str | None = None
) -> list[Draft]:
    """The request overlay (and model profile) a preset's text describes.

    ``label`` names the source in the files' comments; ``name`` overrides the file stem;
    ``model`` is the model key for the preset's load settings. Raises ``ProfileError``.
    """
    from lmsprofiles._yaml import Document, parse

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            [Problem(source, exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")]
        ) from None
    if not looks_like_preset(data):
        raise ProfileError.single(source, "not an LM Studio preset (no 'operation' or 'load')")
    try:
        doc: Document | None = parse(text, source)
    except ProfileError:  # valid JSON that is not valid YAML: positions are then unknown
        doc = None
    operation, problems = field_list(data, ("operation", "fields"))
    load, load_problems = field_list(data, ("load", "fields"))
    problems += load_problems
    domain: Domain = "embedding" if any(k.startswith("embedding.") for k, _, _ in load) else "llm"
    request = from_kv(operation, "llm", section="inference")
    loaded = from_kv(load, domain, section="load")
    problems += request.problems + loaded.problems
    if load and model is None:
        problems.append(
            (
                "load.fields",
                f"the preset has {len(load)} load setting(s); give --model KEY to import them "
                "into a model profile of that model",
            )
        )
    if problems:
        raise ProfileError(problem_at(source, doc, where, message) for where, message in problems)
    title = data.get("name") if isinstance(data.get("name"), str) else None
    ident = data.get("identifier") if isinstance(data.get("identifier"), str) else None
    stem = name or file_stem(ident or title or source.rsplit("/", 1)[-1].split(".")[0])
    what = f"the LM Studio preset {label}" + (f" ({title!r})" if title else "")
    drafts = [
        Draft(
            "requests",
            stem,
            {"description": f"LM Studio preset {title or stem!r}", "inference": request.inference},
            what,
            request.skipped,
            dict(request.notes),
        )
    ]
    if load and model is not None:
        body: dict[str, Any] = {"model": model}
        if domain == "embedding":
            body["type"] = "embedding"
        body["load"] = loaded.load
        drafts.append(Draft("models", stem, body, what, loaded.skipped, dict(loaded.notes)))
    return drafts


def make_preset(
    name: str, load: dict[str, Any], inference: dict[str, Any], domain: Domain
) -> dict[str, Any]:
    """A preset the LM Studio app imports, from resolved ``load`` and ``inference`` values."""
    return {
        "identifier": f"@local:{file_stem(name)}",
        "name": name,
        "changed": True,
        "operation": {"fields": prediction_fields(inference) if domain == "llm" else []},
        "load": {"fields": load_fields(load, domain)},
    }
