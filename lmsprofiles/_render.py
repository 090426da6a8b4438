"""Rendering a resolved config as YAML or JSON, optionally with the origin of every value."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from lmsprofiles._keys import fields_of
from lmsprofiles._origin import DEFAULT, Origin
from lmsprofiles._profiles import ResolvedConfig, omitted_false
from lmsprofiles._yaml import dotted


def _header(cfg: ResolvedConfig) -> dict[str, Any]:
    head: dict[str, Any] = {"identifier": cfg.identifier, "model": cfg.model, "type": cfg.type}
    if cfg.host is not None:
        head["host"] = cfg.host
    if cfg.request is not None:
        head["request"] = cfg.request
    head["ttl"] = cfg.ttl
    return head


def _sections(cfg: ResolvedConfig) -> list[tuple[str, str]]:
    """Each section of ``cfg`` with the model (shape) of its fields."""
    load_model = "EmbeddingLoad" if cfg.type == "embedding" else "LlmLoad"
    sections = [("load", load_model)]
    if cfg.type == "llm":
        sections.append(("inference", "Inference"))
    return sections


def as_json(cfg: ResolvedConfig, *, show_origin: bool, hide_defaults: bool = False) -> str:
    """The resolved config as a JSON document; ``origins`` maps dotted paths to origins.

    With ``hide_defaults`` the fields nobody set get no ``origins`` entry.
    """
    return (
        json.dumps(
            _document(cfg, show_origin, hide_defaults),
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
    )


def all_as_json(
    configs: list[ResolvedConfig], *, show_origin: bool, hide_defaults: bool = False
) -> str:
    """Several resolved configs as one JSON list of :func:`as_json` documents."""
    docs = [_document(cfg, show_origin, hide_defaults) for cfg in configs]
    return json.dumps(docs, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def all_as_yaml(
    configs: list[ResolvedConfig], *, show_origin: bool, hide_defaults: bool = False
) -> str:
    """Several resolved configs as a stream of :func:`as_yaml` documents."""
    return "".join(
        "---\n" + as_yaml(cfg, show_origin=show_origin, hide_defaults=hide_defaults)
        for cfg in configs
    )


def _document(cfg: ResolvedConfig, show_origin: bool, hide_defaults: bool) -> dict[str, Any]:
    doc = _header(cfg)
    for section, _ in _sections(cfg):
        doc[section] = cfg.values.get(section, {})
    if show_origin:
        origins = {"ttl": str(cfg.origin("ttl"))}
        origins |= {path: str(origin) for path, origin in sorted(cfg.origins.items())}
        for section, model in _sections(cfg):
            for alias in fields_of(model):
                key = f"{section}.{alias}"
                if hide_defaults:
                    continue
                if not any(k.startswith((key + ".", key + "[")) for k in origins):
                    origins.setdefault(key, str(DEFAULT))
        doc["origins"] = dict(sorted(origins.items()))
    return doc


def as_yaml(cfg: ResolvedConfig, *, show_origin: bool, hide_defaults: bool = False) -> str:
    """The resolved config as YAML; with ``show_origin`` every value carries a comment.

    Fields nobody set are listed as ``null  # LM Studio default`` unless ``hide_defaults``.
    """
    root = CommentedMap(_header(cfg))
    if show_origin:
        ttl_origin = cfg.origin("ttl")
        note = str(ttl_origin).replace("LM Studio default", "no idle expiry")
        root.yaml_add_eol_comment(note, "ttl")
    for section, model in _sections(cfg):
        values = cfg.values.get(section, {})
        root[section] = _node(values, model, (section,), cfg, show_origin, hide_defaults)
    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.representer.add_representer(type(None), _null)
    yaml.dump(root, out)
    return out.getvalue()


def _null(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _node(
    values: Mapping[str, Any],
    model: str | None,
    path: tuple[str | int, ...],
    cfg: ResolvedConfig,
    show_origin: bool,
    hide_defaults: bool = False,
) -> CommentedMap:
    node = CommentedMap()
    fields = fields_of(model) if model is not None else {}
    for key, value in values.items():
        sub = (*path, key)
        fld = fields.get(key)
        nested = fld.model if fld is not None and fld.container == "" else None
        if isinstance(value, dict) and nested is not None:
            node[key] = _node(value, nested, sub, cfg, show_origin)
        elif isinstance(value, list):
            node[key] = _seq(value, sub, cfg, show_origin)
        else:
            node[key] = value
        if show_origin and not isinstance(node[key], CommentedMap):
            node.yaml_add_eol_comment(_describe_origin(cfg.origin(dotted(sub)), cfg, sub), key)
        elif show_origin and nested is None:
            node.yaml_add_eol_comment(_first_origin(cfg, sub), key)
    if show_origin and model is not None and path and len(path) == 1:
        for alias in fields:
            unset = cfg.origin(dotted((*path, alias)))
            if alias not in values and not (hide_defaults and unset.kind == "default"):
                node[alias] = None
                node.yaml_add_eol_comment(_describe_origin(unset, cfg, (*path, alias)), alias)
    return node


def _seq(
    values: list[Any], path: tuple[str | int, ...], cfg: ResolvedConfig, show_origin: bool
) -> CommentedSeq:
    seq = CommentedSeq(values)
    if show_origin:
        own = cfg.origin(dotted(path))
        for i in range(len(values)):
            item = cfg.origin(dotted((*path, i)))
            if (item.source, item.line) != (own.source, own.line):
                seq.yaml_add_eol_comment(str(item), i)
    return seq


def _first_origin(cfg: ResolvedConfig, path: tuple[str | int, ...]) -> str:
    prefix = dotted(path)
    for key, origin in cfg.origins.items():
        if key == prefix or key.startswith((prefix + ".", prefix + "[")):
            return str(origin)
    return str(DEFAULT)


def _describe_origin(origin: Origin, cfg: ResolvedConfig, path: tuple[str | int, ...]) -> str:
    text = str(origin)
    section = cfg.values.get(str(path[0]))
    if len(path) == 2 and isinstance(section, dict) and section.get(path[1]) is False:
        model = dict(_sections(cfg)).get(str(path[0]))
        if model is not None and path[1] in omitted_false(model):
            text += "; sent as not set, which LM Studio reads as off"
    return text
