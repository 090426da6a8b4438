"""LM Studio config presets (``*.preset.json``) to profiles and back (pure).

A preset as the app writes it::

    {"identifier": "@local:creative", "name": "Creative", "changed": true,
     "operation": {"fields": [{"key": "llm.prediction.temperature", "value": 1.1}, ...]},
     "load": {"fields": []}}

``operation`` becomes a request overlay (``requests/<name>.yaml``); a non-empty ``load``
becomes a model profile, which needs the model key from the caller since presets name none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from lmsprofiles._errors import ProfileError
from lmsprofiles._interop._draft import Draft, file_stem
from lmsprofiles._interop._kv import Domain, field_list, from_kv, load_fields, prediction_fields
from lmsprofiles._interop._source import Found, check_shape

if TYPE_CHECKING:
    from lmsprofiles._yaml import Document

__all__ = ["SHAPE", "looks_like_preset", "make_preset", "parse_preset"]

SHAPE: Final = {
    "identifier": str,
    "name": str,
    "changed": bool,
    "operation": {"fields": list},
    "load": {"fields": list},
}
"""The keys of a preset as the LM Studio app writes and imports it."""


def looks_like_preset(data: Any) -> bool:
    """True for a JSON document shaped like a preset."""
    return isinstance(data, dict) and ("operation" in data or "load" in data)


def parse_preset(
    data: Any,
    doc: Document | None,
    source: str,
    *,
    label: str,
    name: str | None = None,
    model: str | None = None,
) -> list[Draft]:
    """The request overlay (and model profile) a preset describes.

    ``data`` is the preset's JSON and ``doc`` its positions (None if unknown). ``label``
    names the source in the files' comments; ``name`` overrides the file stem; ``model`` is
    the model key for the preset's load settings. A part with no setting a profile carries
    is a draft that is not written (``withheld``). Raises ``ProfileError``.
    """
    if not looks_like_preset(data):
        raise ProfileError.single(source, "not an LM Studio preset (no 'operation' or 'load')")
    found = Found()
    check_shape(data, SHAPE, "", found)
    operation, problems, keys = field_list(_fields(data, "operation"), "operation.fields")
    found.values += problems
    found.keys += keys
    load, problems, keys = field_list(_fields(data, "load"), "load.fields")
    found.values += problems
    found.keys += keys
    domain: Domain = "embedding" if any(k.startswith("embedding.") for k, _, _ in load) else "llm"
    request = from_kv(operation, "llm", section="inference")
    loaded = from_kv(load, domain, section="load")
    found.values += request.problems + loaded.problems
    if load and model is None:
        found.values.append(
            (
                "load.fields",
                f"the preset has {len(load)} load setting(s); give --model KEY to import them "
                "into a model profile of that model",
            )
        )
    if found:
        raise ProfileError(found.located(source, doc))
    title = data.get("name") if isinstance(data.get("name"), str) else None
    ident = data.get("identifier") if isinstance(data.get("identifier"), str) else None
    stem = name or file_stem(ident or title or source.rsplit("/", 1)[-1].split(".")[0])
    what = f"the LM Studio preset {label}" + (f" ({title!r})" if title else "")
    withheld = _NOTHING.format(part="prediction", kind="request overlay")
    withheld = "" if request.inference else withheld
    drafts = [
        Draft(
            "requests",
            stem,
            {"description": f"LM Studio preset {title or stem!r}", "inference": request.inference},
            what,
            request.skipped,
            dict(request.notes),
            withheld,
        )
    ]
    if load and model is not None:
        body: dict[str, Any] = {"model": model}
        if domain == "embedding":
            body["type"] = "embedding"
        body["load"] = loaded.load
        withheld = "" if loaded.load else _NOTHING.format(part="load", kind="model profile")
        drafts.append(
            Draft("models", stem, body, what, loaded.skipped, dict(loaded.notes), withheld)
        )
    return drafts


_NOTHING: Final = "the preset has no {part} settings a profile carries; there is no {kind} to write"


def _fields(data: Any, part: str) -> Any:
    node = data.get(part)
    return node.get("fields") if isinstance(node, dict) else None


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
