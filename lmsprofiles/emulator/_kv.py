"""LM Studio KV configs as the emulator stores and reports them.

Configs arrive as a ``KvConfigStack`` (layers of ``{key, value}`` fields, later layers win) and go
back as a flat ``KvConfig`` (docs/lmstudio-protocol.md, "Configs on the wire"). What the emulator
reports is the collapsed stack laid over the defaults of LM Studio's config schema, in LM Studio's
wire encoding: checkbox fields as ``{checked, value}`` and ``load.gpuSplitConfig`` with all four
keys. The Python SDK 1.5 sends ``False`` for a checkbox field as ``{checked: true, value: false}``;
that is stored as unchecked. Keys without a default here (fields only ``@lmstudio/sdk`` 2.0 sends)
are stored and reported as sent.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Literal

__all__ = [
    "KvFields",
    "checkbox_value",
    "collapse_stack",
    "fill_load_config",
    "fill_prediction_config",
    "to_wire",
]

KvFields = dict[str, Any]
"""A flat config: server key -> wire value, in report order."""

_GPU_SPLIT_DEFAULT: dict[str, Any] = {
    "strategy": "evenly",
    "disabledGpus": [],
    "priority": [],
    "customRatio": [],
}

_LLM_LOAD_DEFAULTS: KvFields = {
    "llm.load.contextLength": 2048,
    "llm.load.numExperts": 0,
    "llm.load.seed": {"checked": False, "value": -1},
    "llm.load.offloadKVCacheToGpu": True,
    "llm.load.llama.acceleration.offloadRatio": "max",
    "llm.load.llama.evalBatchSize": 2048,
    "llm.load.llama.flashAttention": False,
    "llm.load.llama.ropeFrequencyBase": {"checked": False, "value": 0},
    "llm.load.llama.ropeFrequencyScale": {"checked": False, "value": 0},
    "llm.load.llama.keepModelInMemory": True,
    "llm.load.llama.useFp16ForKVCache": True,
    "llm.load.llama.tryMmap": True,
    "llm.load.llama.kCacheQuantizationType": {"checked": False, "value": "f16"},
    "llm.load.llama.vCacheQuantizationType": {"checked": False, "value": "f16"},
    "load.gpuSplitConfig": _GPU_SPLIT_DEFAULT,
    "load.gpuStrictVramCap": False,
}

_EMBEDDING_LOAD_DEFAULTS: KvFields = {
    "embedding.load.contextLength": 2048,
    "embedding.load.llama.acceleration.offloadRatio": "max",
    "embedding.load.llama.ropeFrequencyBase": {"checked": False, "value": 0},
    "embedding.load.llama.ropeFrequencyScale": {"checked": False, "value": 0},
    "embedding.load.llama.keepModelInMemory": True,
    "embedding.load.llama.tryMmap": True,
    "load.gpuSplitConfig": _GPU_SPLIT_DEFAULT,
}

_PREDICTION_DEFAULTS: KvFields = {
    "llm.prediction.temperature": 0.8,
    "llm.prediction.maxPredictedTokens": {"checked": False, "value": 1000},
    "llm.prediction.topKSampling": 40,
    "llm.prediction.topPSampling": {"checked": True, "value": 0.95},
    "llm.prediction.minPSampling": {"checked": True, "value": 0.05},
    "llm.prediction.repeatPenalty": {"checked": True, "value": 1.1},
    "llm.prediction.stopStrings": [],
    "llm.prediction.toolCallStopStrings": [],
    "llm.prediction.contextOverflowPolicy": "truncateMiddle",
    "llm.prediction.structured": {"type": "none"},
    "llm.prediction.tools": {"type": "none"},
    "llm.prediction.llama.cpuThreads": 4,
    "llm.prediction.reasoning.parsing": {
        "enabled": True,
        "startString": "<think>",
        "endString": "</think>",
    },
    "llm.prediction.speculativeDecoding.draftModel": "",
}

_CHECKBOX_KEYS = frozenset(
    key
    for defaults in (_LLM_LOAD_DEFAULTS, _EMBEDDING_LOAD_DEFAULTS, _PREDICTION_DEFAULTS)
    for key, value in defaults.items()
    if isinstance(value, dict) and set(value) == {"checked", "value"}
)


def collapse_stack(stack: object) -> KvFields:
    """Collapse a ``KvConfigStack`` (``{"layers": [...]}``): the last write of a key wins.

    Malformed parts are skipped rather than rejected, as the SDK never sends them.
    """
    fields: KvFields = {}
    layers = stack.get("layers", []) if isinstance(stack, Mapping) else []
    for layer in layers if isinstance(layers, list) else []:
        config = layer.get("config", {}) if isinstance(layer, Mapping) else {}
        raw_fields = config.get("fields", []) if isinstance(config, Mapping) else []
        for field in raw_fields if isinstance(raw_fields, list) else []:
            if isinstance(field, Mapping) and isinstance(field.get("key"), str):
                fields[field["key"]] = copy.deepcopy(field.get("value"))
    return fields


def _normalise(key: str, value: Any, default: Any) -> Any:
    if key in _CHECKBOX_KEYS:
        if not isinstance(value, Mapping):
            value = {"checked": value is not False, "value": value}
        checked = bool(value.get("checked", False))
        inner = value.get("value", default["value"])
        if not checked or inner is False:
            # the TypeScript SDKs send {checked: false}; SDK 1.5 {checked: true, value: false}.
            return {"checked": False, "value": default["value"]}
        return {"checked": True, "value": inner}
    if key == "load.gpuSplitConfig" and isinstance(value, Mapping):
        return {name: copy.deepcopy(value.get(name, dflt)) for name, dflt in default.items()}
    return value


def _fill(defaults: KvFields, sent: KvFields) -> KvFields:
    filled: KvFields = {}
    for key, default in defaults.items():
        if key in sent:
            filled[key] = _normalise(key, sent[key], default)
        else:
            filled[key] = copy.deepcopy(default)
    for key, value in sent.items():
        if key not in filled:
            filled[key] = value
    return filled


def fill_load_config(
    domain: Literal["llm", "embedding"], sent: KvFields, default_context_length: int
) -> KvFields:
    """The load config an instance reports: ``sent`` over LM Studio's defaults for ``domain``."""
    defaults = dict(_LLM_LOAD_DEFAULTS if domain == "llm" else _EMBEDDING_LOAD_DEFAULTS)
    defaults[f"{domain}.load.contextLength"] = default_context_length
    return _fill(defaults, sent)


def fill_prediction_config(sent: KvFields) -> KvFields:
    """The prediction config a prediction reports: ``sent`` over LM Studio's defaults."""
    return _fill(_PREDICTION_DEFAULTS, sent)


def checkbox_value(fields: KvFields, key: str) -> Any:
    """The value of a checkbox field, or ``None`` when it is unchecked or absent."""
    value = fields.get(key)
    if isinstance(value, Mapping) and value.get("checked"):
        return value.get("value")
    return None


def to_wire(fields: KvFields, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """A flat ``KvConfig`` (``{"fields": [{key, value}, ...]}``) for the wire."""
    selected = fields if keys is None else {k: fields[k] for k in keys if k in fields}
    return {"fields": [{"key": k, "value": copy.deepcopy(v)} for k, v in selected.items()]}
