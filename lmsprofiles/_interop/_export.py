"""A resolved config in LM Studio's formats: a preset, a model.yaml, an ``lms load`` line, JSON."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any, Final

from lmsprofiles._interop._lmsload import make_lms_load
from lmsprofiles._interop._modelyaml import make_model_yaml
from lmsprofiles._interop._preset import make_preset

if TYPE_CHECKING:
    from lmsprofiles._profiles import ResolvedConfig

__all__ = ["FORMATS", "export_text"]

FORMATS: Final = ("preset", "model-yaml", "lms-load", "json")


def export_text(cfg: ResolvedConfig, fmt: str) -> str:
    """``cfg`` as the text of format ``fmt`` (one of :data:`FORMATS`)."""
    load: dict[str, Any] = dict(cfg.values.get("load", {}))
    inference: dict[str, Any] = dict(cfg.values.get("inference", {}))
    title = cfg.identifier + (f" ({cfg.request})" if cfg.request else "")
    if fmt == "preset":
        preset = make_preset(title, load, inference, cfg.type)
        return json.dumps(preset, indent=2, ensure_ascii=False) + "\n"
    if fmt == "model-yaml":
        return _model_yaml(cfg, title, load, inference)
    if fmt == "lms-load":
        return _lms_load(cfg, load, inference)
    if fmt == "json":
        document: dict[str, Any] = {
            "identifier": cfg.identifier,
            "model": cfg.model,
            "type": cfg.type,
            "ttl": cfg.ttl,
        }
        if cfg.request is not None:
            document["request"] = cfg.request
        document["load"] = dict(cfg.load)
        if cfg.type == "llm":
            document["inference"] = dict(cfg.inference)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown export format {fmt!r}")


def _model_yaml(
    cfg: ResolvedConfig, title: str, load: dict[str, Any], inference: dict[str, Any]
) -> str:
    from ruamel.yaml import YAML

    out = io.StringIO()
    out.write(
        f"# The settings of the lmsprofiles profile {title}, as a model.yaml.\n"
        f"# Put `config` into the model.yaml of {cfg.model}; keep its `base` as it is.\n"
    )
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.dump(make_model_yaml(cfg.model, load, inference, cfg.type), out)
    return out.getvalue()


def _lms_load(cfg: ResolvedConfig, load: dict[str, Any], inference: dict[str, Any]) -> str:
    line, missing = make_lms_load(cfg.identifier, cfg.model, cfg.ttl, load)
    lines = [f"# lmsprofiles profile {cfg.identifier} ({cfg.model})"]
    if missing:
        shown = ", ".join(f"{name}={json.dumps(_at(load, name))}" for name in missing)
        lines.append(f"# lms load has no flag for: {shown}")
    if inference:
        lines.append(
            "# inference settings are per request, not part of loading: "
            + ", ".join(sorted(inference))
        )
    return "\n".join([*lines, line]) + "\n"


def _at(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node
