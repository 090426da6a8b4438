"""model.yaml (the modelyaml.org draft that LM Studio's catalog uses) to profiles and back.

A model.yaml names the model (``model: publisher/name``), where its files come from
(``base``), how it is presented (``metadataOverrides``), and may bake in settings:
``config.load.fields`` and ``config.operation.fields``, the same ``{key, value}`` lists as a
preset. Those settings become one model profile; ``metadataOverrides.domain: embedding``
makes it an embedding model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from lmsprofiles._errors import ProfileError
from lmsprofiles._interop._draft import Draft, file_stem
from lmsprofiles._interop._kv import (
    Domain,
    Skipped,
    field_list,
    from_kv,
    load_fields,
    prediction_fields,
)
from lmsprofiles._interop._source import Found, check_shape

if TYPE_CHECKING:
    from lmsprofiles._yaml import Document

__all__ = ["looks_like_model_yaml", "make_model_yaml", "parse_model_yaml"]

_NOT_SETTINGS: Final = {
    "base": "where the model's files come from; it stays in the model.yaml",
    "metadataOverrides": "how LM Studio presents the model; it stays in the model.yaml",
    "customFields": "model.yaml custom fields (template switches) have no profile field",
    "suggestions": "model.yaml suggestions are shown by the app, not applied; no profile field",
}

_SHAPE: Final = {
    "model": object,
    "base": object,
    "metadataOverrides": dict,
    "config": {"load": {"fields": list}, "operation": {"fields": list}},
    "customFields": object,
    "suggestions": object,
}
"""The keys of a model.yaml (modelyaml.org) and what lmsprofiles needs of their values."""

_DOMAINS: Final = ("llm", "embedding")


def looks_like_model_yaml(data: Any) -> bool:
    """True for a mapping shaped like a model.yaml."""
    return isinstance(data, dict) and "model" in data and ("config" in data or "base" in data)


def parse_model_yaml(doc: Document, *, label: str, name: str | None = None) -> Draft:
    """The model profile a parsed model.yaml describes. Raises ``ProfileError``."""
    data = doc.data
    found = Found()
    check_shape(data, _SHAPE, "", found)
    model = data.get("model")
    if not isinstance(model, str) or not model:
        found.values.append(("model", "expected the model key, e.g. 'qwen/qwen3-8b'"))
    meta = data.get("metadataOverrides")
    domain: Domain = "llm"
    if isinstance(meta, dict) and "domain" in meta:
        if meta["domain"] in _DOMAINS:
            domain = meta["domain"]
        else:
            found.values.append(("metadataOverrides.domain", "expected 'llm' or 'embedding'"))
    config = data.get("config")
    parts = config if isinstance(config, dict) else {}
    lists = {}
    for part in ("load", "operation"):
        node = parts.get(part)
        fields = node.get("fields") if isinstance(node, dict) else None
        lists[part], problems, keys = field_list(fields, f"config.{part}.fields")
        found.values += problems
        found.keys += keys
    loaded = from_kv(lists["load"], domain, section="load")
    run = from_kv(lists["operation"], domain, section="inference")
    found.values += loaded.problems + run.problems
    if found:
        raise ProfileError(found.located(doc.source, doc))
    assert isinstance(model, str)
    body: dict[str, Any] = {"model": model}
    if domain == "embedding":
        body["type"] = "embedding"
    if loaded.load:
        body["load"] = loaded.load
    if run.inference:
        body["inference"] = run.inference
    skipped = [Skipped(k, data[k], why) for k, why in _NOT_SETTINGS.items() if k in data]
    return Draft(
        "models",
        name or file_stem(model),
        body,
        f"the model.yaml {label} ({model})",
        [*loaded.skipped, *run.skipped, *skipped],
        {**loaded.notes, **run.notes},
    )


def make_model_yaml(
    model: str, load: dict[str, Any], inference: dict[str, Any], domain: Domain
) -> dict[str, Any]:
    """The ``model`` and ``config`` of a model.yaml, from resolved values."""
    config: dict[str, Any] = {"load": {"fields": load_fields(load, domain)}}
    if domain == "llm":
        config["operation"] = {"fields": prediction_fields(inference)}
    document: dict[str, Any] = {"model": model}
    if domain == "embedding":
        document["metadataOverrides"] = {"domain": "embedding"}
    document["config"] = config
    return document
