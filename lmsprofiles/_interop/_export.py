"""A resolved config in LM Studio's formats: a preset, a model.yaml, an ``lms load`` line, JSON."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from lmsprofiles._interop._draft import file_stem
from lmsprofiles._interop._lmsload import make_lms_load
from lmsprofiles._interop._modelyaml import make_model_yaml
from lmsprofiles._interop._preset import make_preset

if TYPE_CHECKING:
    from lmsprofiles._profiles import ResolvedConfig

__all__ = ["FORMATS", "Exported", "export_text"]

FORMATS: Final = ("preset", "model-yaml", "lms-load", "json")


class Exported(NamedTuple):
    """An export: its ``text``, and a ``warning`` for stderr (one line, empty when nothing
    is lost) naming every value of the configuration the format cannot carry."""

    text: str
    warning: str = ""


def export_text(cfg: ResolvedConfig, fmt: str) -> Exported:
    """``cfg`` as the text of format ``fmt`` (one of :data:`FORMATS`).

    Every value of ``cfg`` that reading the export back with ``import`` would not give back
    is named in the warning, and in a comment of the text where the format has comments.
    """
    load: dict[str, Any] = dict(cfg.values.get("load", {}))
    inference: dict[str, Any] = dict(cfg.values.get("inference", {}))
    title = cfg.identifier + (f" ({cfg.request})" if cfg.request else "")
    if fmt == "preset":
        preset = make_preset(title, load, inference, cfg.type)
        text = json.dumps(preset, indent=2, ensure_ascii=False) + "\n"
        return Exported(text, _warning(_preset_lost(cfg, with_load="load" in preset)))
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
        return Exported(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    raise ValueError(f"unknown export format {fmt!r}")


Lost = tuple[dict[str, Any], str]
"""Values a format cannot carry, by name, and why (with how to give them back)."""


def _shown(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in values.items()
    )


def _warning(*groups: Lost) -> str:
    """The stderr line naming what ``groups`` lost; empty when they lost nothing."""
    parts = [f"{_shown(values)} ({why})" for values, why in groups if values]
    return f"warning: not exported: {'; '.join(parts)}\n" if parts else ""


def _preset_lost(cfg: ResolvedConfig, *, with_load: bool) -> Lost:
    """A preset holds settings only: the model, the identifier and the ttl are not in it
    (the identifier is, as the preset's name, when it is a plain name and no request)."""
    lost: dict[str, Any] = {"model": cfg.model}
    if cfg.request is not None or file_stem(cfg.identifier) != cfg.identifier:
        lost["identifier"] = cfg.identifier
    if cfg.ttl is not None:
        lost["ttl"] = cfg.ttl
    if cfg.type == "embedding" and not with_load:
        lost["type"] = cfg.type  # only embedding load settings say so
    how = [f"--model {cfg.model}"] if with_load else []
    if "identifier" in lost:
        how.append(f"--name {cfg.identifier}")
    back = f"; import it with {' '.join(how)}" if how else ""
    return lost, f"a preset holds settings only{back}"


def _model_yaml(
    cfg: ResolvedConfig, title: str, load: dict[str, Any], inference: dict[str, Any]
) -> Exported:
    from ruamel.yaml import YAML

    out = io.StringIO()
    out.write(
        f"# The settings of the lmsprofiles profile {title}, as a model.yaml.\n"
        f"# Put `config` into the model.yaml of {cfg.model}; keep its `base` as it is.\n"
    )
    lost: dict[str, Any] = {}
    if file_stem(cfg.model) != cfg.identifier:
        lost["identifier"] = cfg.identifier
    if cfg.ttl is not None:
        lost["ttl"] = cfg.ttl
    why = "model.yaml has no field for them"
    if "identifier" in lost:
        why += f"; import it with --name {cfg.identifier}"
    if lost:
        out.write(f"# not exported: {_shown(lost)} ({why})\n")
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.dump(make_model_yaml(cfg.model, load, inference, cfg.type), out)
    return Exported(out.getvalue(), _warning((lost, why)))


def _lms_load(cfg: ResolvedConfig, load: dict[str, Any], inference: dict[str, Any]) -> Exported:
    line, missing = make_lms_load(cfg.identifier, cfg.model, cfg.ttl, load)
    lines = [f"# lmsprofiles profile {cfg.identifier} ({cfg.model})"]
    lost = {name: _at(load, name) for name in missing}
    if (cfg.type == "embedding") != ("embed" in cfg.model.lower()):  # how import tells
        lost = {"type": cfg.type, **lost}
    groups: list[Lost] = [
        (
            lost,
            "lms load has no flag for them; load them with reconcile, or put them in "
            "the model.yaml",
        ),
        (
            {f"inference.{k}": v for k, v in sorted(inference.items())},
            "inference settings are per request, not part of loading",
        ),
    ]
    lines.extend(f"# not exported: {_shown(values)} ({why})" for values, why in groups if values)
    return Exported("\n".join([*lines, line]) + "\n", _warning(*groups))


def _at(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node
