"""LM Studio KV config keys <-> profile fields: one table, and conversions both ways.

LM Studio keeps settings (config presets, the ``config`` block of a model.yaml, per-model
defaults, the load config of an instance) as lists of ``{key, value}`` fields keyed by its KV
config keys (``llm.load.contextLength``). "Checkbox" keys carry ``{checked, value}``: unchecked
means the setting is off. :data:`KV_KEYS` lists every key lmstudio SDK 1.5 maps (they are
exactly the fields a profile can carry) and the keys LM Studio has that it does not map, so
that an import can say why such a key was not taken over.

The value conversion itself is lmstudio SDK 1.5's own (``lmstudio._kv_config``), with the two
things it gets wrong for this purpose fixed here: it reads an unchecked checkbox as "absent"
and writes ``false`` as a checked value, and it writes the GPU split whenever ``gpu`` is given.
The SDK is imported only by the conversion functions.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

__all__ = [
    "KV_KEYS",
    "Converted",
    "Domain",
    "KvKey",
    "Skipped",
    "check_values",
    "field_key",
    "field_list",
    "from_kv",
    "kv_key",
    "load_fields",
    "prediction_fields",
]

Domain: TypeAlias = Literal["llm", "embedding"]
Section: TypeAlias = Literal["load", "inference"]


@dataclass(frozen=True)
class KvKey:
    """One LM Studio KV config key and the profile field(s) it carries.

    ``fields`` are dotted paths inside the profile's ``section`` (``gpu.ratio``); empty when no
    profile field carries the key. ``sdk`` is false for keys lmstudio SDK 1.5 cannot send
    (``name`` is then LM Studio's own field name for it, if it has one). ``unchecked`` is the
    value LM Studio keeps beside ``checked: false`` on a checkbox key; ``off`` is the value
    that means "off" for checkbox fields whose ``false`` profiles cannot carry.
    """

    key: str
    section: Section
    fields: tuple[str, ...] = ()
    checkbox: bool = False
    sdk: bool = True
    name: str = ""
    unchecked: Any = None
    off: float | None = None

    @property
    def domains(self) -> tuple[Domain, ...]:
        """The model types the key applies to."""
        if self.key.startswith("embedding."):
            return ("embedding",)
        if self.key.startswith("llm.") or self.key == "load.gpuStrictVramCap":
            return ("llm",)
        return ("llm", "embedding")

    @property
    def reason(self) -> str:
        """Why an import does not take the key over (empty when it does)."""
        if self.sdk:
            return ""
        if self.name:
            return (
                f"{self.name!r} is not supported by lmstudio SDK 1.5, so profiles cannot carry it"
            )
        return "no lmstudio SDK has a field for it, so profiles cannot carry it"


def _load(key: str, name: str, **kw: Any) -> KvKey:
    return KvKey(key, "load", (name,), **kw)


def _pred(key: str, name: str, **kw: Any) -> KvKey:
    return KvKey(f"llm.prediction.{key}", "inference", (name,), **kw)


def _other(key: str, section: Section, name: str = "", **kw: Any) -> KvKey:
    return KvKey(key, section, (), sdk=False, name=name, **kw)


_SPLIT: Final = ("gpu.splitStrategy", "gpu.mainGpu", "gpu.disabledGpus")
_LLAMA: Final = "llm.load.llama."
_EMB: Final = "embedding.load."
_SPEC: Final = _LLAMA + "speculativeDecoding."

KV_KEYS: Final[tuple[KvKey, ...]] = (
    # ---- load, both model types
    KvKey("load.gpuSplitConfig", "load", _SPLIT),
    # ---- LLM load (lmstudio SDK 1.5's 15 fields)
    _load("load.gpuStrictVramCap", "gpuStrictVramCap"),
    _load("llm.load.contextLength", "contextLength"),
    _load("llm.load.numExperts", "numExperts"),
    _load("llm.load.seed", "seed", checkbox=True, unchecked=-1),
    _load("llm.load.offloadKVCacheToGpu", "offloadKVCacheToGpu"),
    _load(_LLAMA + "acceleration.offloadRatio", "gpu.ratio"),
    _load(_LLAMA + "keepModelInMemory", "keepModelInMemory"),
    _load(_LLAMA + "ropeFrequencyBase", "ropeFrequencyBase", checkbox=True, unchecked=0),
    _load(_LLAMA + "ropeFrequencyScale", "ropeFrequencyScale", checkbox=True, unchecked=0),
    _load(_LLAMA + "tryMmap", "tryMmap"),
    _load(_LLAMA + "evalBatchSize", "evalBatchSize"),
    _load(_LLAMA + "flashAttention", "flashAttention"),
    _load(_LLAMA + "useFp16ForKVCache", "useFp16ForKVCache"),
    _load(
        _LLAMA + "kCacheQuantizationType",
        "llamaKCacheQuantizationType",
        checkbox=True,
        unchecked="f16",
    ),
    _load(
        _LLAMA + "vCacheQuantizationType",
        "llamaVCacheQuantizationType",
        checkbox=True,
        unchecked="f16",
    ),
    # ---- embedding load
    _load(_EMB + "contextLength", "contextLength"),
    _load(_EMB + "llama.acceleration.offloadRatio", "gpu.ratio"),
    _load(_EMB + "llama.keepModelInMemory", "keepModelInMemory"),
    _load(_EMB + "llama.ropeFrequencyBase", "ropeFrequencyBase", checkbox=True, unchecked=0),
    _load(_EMB + "llama.ropeFrequencyScale", "ropeFrequencyScale", checkbox=True, unchecked=0),
    _load(_EMB + "llama.tryMmap", "tryMmap"),
    # ---- prediction (lmstudio SDK 1.5's 18 fields)
    _pred("maxPredictedTokens", "maxTokens", checkbox=True, unchecked=1000),
    _pred("temperature", "temperature"),
    _pred("stopStrings", "stopStrings"),
    _pred("toolCallStopStrings", "toolCallStopStrings"),
    _pred("contextOverflowPolicy", "contextOverflowPolicy"),
    _pred("structured", "structured"),
    _pred("tools", "rawTools"),
    _pred("topKSampling", "topKSampling"),
    _pred("repeatPenalty", "repeatPenalty", checkbox=True, unchecked=1.1, off=1),
    _pred("minPSampling", "minPSampling", checkbox=True, unchecked=0.05, off=0),
    _pred("topPSampling", "topPSampling", checkbox=True, unchecked=0.95, off=1),
    _pred("llama.cpuThreads", "cpuThreads"),
    _pred("promptTemplate", "promptTemplate"),
    _pred("speculativeDecoding.draftModel", "draftModel"),
    _pred(
        "speculativeDecoding.numDraftTokensExact",
        "speculativeDecodingNumDraftTokensExact",
    ),
    _pred(
        "speculativeDecoding.minDraftLengthToConsider",
        "speculativeDecodingMinDraftLengthToConsider",
    ),
    _pred(
        "speculativeDecoding.minContinueDraftingProbability",
        "speculativeDecodingMinContinueDraftingProbability",
    ),
    _pred("reasoning.parsing", "reasoningParsing"),
    # ---- LM Studio load keys lmstudio SDK 1.5 cannot send
    _other("llm.load.numParallelSessions", "load", "maxParallelPredictions"),
    _other("llm.load.useUnifiedKvCache", "load", "useUnifiedKvCache"),
    _other("llm.load.promptTemplate", "load", "promptTemplate"),
    _other("llm.load.numCpuExpertLayersRatio", "load", "gpu.numCpuExpertLayersRatio"),
    _other("llm.load.autoFitMinContextLength", "load"),
    *(_other(f"llm.load.{e}.autoFit", "load", "autoFit") for e in ("llama", "mlx", "yuzu")),
    _other(_LLAMA + "physicalBatchSize", "load", "physicalBatchSize"),
    _other(_LLAMA + "contextCheckpoints", "load", "contextCheckpoints"),
    _other(_LLAMA + "reasoningBudgetMessage", "load", "reasoningBudgetMessage"),
    _other(_LLAMA + "tryDirectIO", "load", "tryDirectIO"),
    _other(_LLAMA + "argumentsOverride", "load", "llamaCppArgumentsOverride"),
    _other(_LLAMA + "cpuThreadPoolSize", "load"),
    _other(_SPEC + "draftMtp", "load", "speculativeDraftMtp"),
    _other(_SPEC + "draftSimple", "load", "speculativeDraftSimple"),
    _other(_SPEC + "draftModel", "load", "speculativeDraftModel"),
    _other(_SPEC + "draftMaxTokens", "load", "speculativeDraftMaxTokens"),
    _other(_SPEC + "draftMinTokens", "load", "speculativeDraftMinTokens"),
    _other(_SPEC + "draftMinContinueProbability", "load", "speculativeDraftMinContinueProbability"),
    *(_other(_SPEC + s, "load") for s in ("draftDflashSidecar", "draftDsparkSidecar")),
    _other(_SPEC + "draftMtpSidecar", "load"),
    _other("llm.load.mlx.diskCache", "load", "mlxDiskCache"),
    _other("llm.load.mlx.kvCacheQuantization", "load", "mlxKvCacheQuantization"),
    *(
        _other(f"llm.load.vllm.{s}", "load")
        for s in ("gpuMemoryUtilization", "reasoningParser", "toolCallParser")
    ),
    _other("envVars", "load"),
    _other(_EMB + "seed", "load", checkbox=True),
    _other(_EMB + "llama.evalBatchSize", "load"),
    # ---- LM Studio prediction keys lmstudio SDK 1.5 cannot send
    _other("llm.prediction.systemPrompt", "inference"),
    _other("llm.prediction.seed", "inference", checkbox=True),
    _other("llm.prediction.contextPrefill", "inference"),
    _other("llm.prediction.reasoning.budgetTokens", "inference", "reasoningBudget", checkbox=True),
    _other("llm.prediction.reasoning.enableThinking", "inference", "enableThinking"),
    _other("llm.prediction.toolChoice", "inference", "toolChoice"),
    _other("llm.prediction.toolNaming", "inference", "toolNaming"),
    _other("llm.prediction.logProbs", "inference", "logProbs", checkbox=True),
    _other(
        "llm.prediction.vision.userMaxImageDimensionPixels",
        "inference",
        "userMaxImageDimensionPixels",
        checkbox=True,
    ),
    _other(
        "llm.prediction.vision.ignoreModelPreferredMaxImageDimension",
        "inference",
        "ignoreModelPreferredMaxImageDimension",
    ),
    _other("llm.prediction.llama.presencePenalty", "inference", "presencePenalty", checkbox=True),
    _other("llm.prediction.llama.xtcProbability", "inference", "xtcProbability", checkbox=True),
    _other("llm.prediction.llama.xtcThreshold", "inference", "xtcThreshold", checkbox=True),
    _other("llm.prediction.llama.frequencyPenalty", "inference", checkbox=True),
    _other("llm.prediction.llama.tailFreeSampling", "inference", checkbox=True),
    _other("llm.prediction.llama.locallyTypicalSampling", "inference", checkbox=True),
    _other("llm.prediction.llama.mirostatSampling", "inference"),
    _other("llm.prediction.llama.logitBias", "inference"),
    _other("llm.prediction.speculativeDecoding.numReuseTokens", "inference"),
    _other("llm.prediction.speculativeDecoding.maxTokensToDraft", "inference"),
)
"""Every KV key lmsprofiles knows: what lmstudio SDK 1.5 maps, then what it cannot send."""

_BY_KEY: Final[Mapping[str, KvKey]] = {k.key: k for k in KV_KEYS}


def kv_key(key: str) -> KvKey | None:
    """The table entry of a KV key, or ``None`` for a key lmsprofiles does not know."""
    return _BY_KEY.get(key)


def field_key(section: Section, name: str, domain: Domain) -> KvKey | None:
    """The KV key that carries the profile field ``section.name`` for a ``domain`` model."""
    for entry in KV_KEYS:
        if entry.section == section and name in entry.fields and domain in entry.domains:
            return entry
    return None


# --------------------------------------------------------------------------------------------
# KV fields -> profile sections


@dataclass(frozen=True)
class Skipped:
    """A source setting an import did not take over, and why. ``where`` locates it."""

    key: str
    value: Any
    reason: str
    where: str = ""


@dataclass
class Converted:
    """Profile ``load`` and ``inference`` values from KV fields, with what was left out.

    ``notes`` maps a profile path (``inference.repeatPenalty``) to a remark for the file.
    ``problems`` are ``(where, message)`` for values that are invalid in the source.
    """

    load: dict[str, Any] = field(default_factory=dict)
    inference: dict[str, Any] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)


_SPLIT_DEFAULT: Final[Mapping[str, Any]] = {
    "strategy": "evenly",
    "disabledGpus": [],
    "priority": [],
    "customRatio": [],
}


def from_kv(
    fields: Iterable[tuple[str, Any, str]], domain: Domain, *, section: Section | None = None
) -> Converted:
    """Convert ``(key, value, where)`` KV fields to profile values for a ``domain`` model.

    ``section`` restricts the keys to load or prediction keys (a preset's ``load`` list takes
    no prediction keys). Unknown keys, keys profiles cannot carry and keys of the other model
    type are listed in ``skipped``; invalid values in ``problems``.
    """
    out = Converted()
    for key, value, where in fields:
        entry = _BY_KEY.get(key)
        if entry is None:
            out.skipped.append(Skipped(key, value, "not a setting lmsprofiles knows", where))
        elif section is not None and entry.section != section:
            wanted = "load" if section == "load" else "prediction"
            out.problems.append((where, f"{key} is not a {wanted} setting"))
        elif not entry.sdk:
            out.skipped.append(Skipped(key, value, entry.reason, where))
        elif domain not in entry.domains:
            what = "an embedding" if domain == "embedding" else "an LLM"
            out.skipped.append(Skipped(key, value, f"does not apply to {what} model", where))
        else:
            _convert_one(entry, value, where, domain, out)
    check_values(out, domain)
    return out


def _convert_one(entry: KvKey, value: Any, where: str, domain: Domain, out: Converted) -> None:
    target = out.load if entry.section == "load" else out.inference
    if entry.checkbox:
        if not isinstance(value, Mapping) or not isinstance(value.get("checked"), bool):
            out.problems.append((where, f"{entry.key}: expected {{checked: true|false, value}}"))
            return
        if not value["checked"]:
            name = entry.fields[0]
            target[name] = False if entry.off is None else entry.off
            out.notes[f"{entry.section}.{name}"] = (
                "off in LM Studio (unchecked)"
                if entry.off is None
                else f"off in LM Studio (unchecked); {entry.off:g} means the same"
            )
            out.where[f"{entry.section}.{name}"] = where
            return
    if entry.key == "load.gpuSplitConfig":
        _split(value, where, out)
        return
    try:
        client = _sdk_parse(entry.key, value)
    except ValueError as exc:
        out.problems.append((where, f"{entry.key}: {exc}"))
        return
    _merge_into(target, client)
    for name in entry.fields:
        out.where[f"{entry.section}.{name}"] = where


def _split(value: Any, where: str, out: Converted) -> None:
    if not isinstance(value, Mapping):
        out.problems.append((where, "load.gpuSplitConfig: expected a mapping"))
        return
    full = {**copy.deepcopy(dict(_SPLIT_DEFAULT)), **copy.deepcopy(dict(value))}
    try:
        client = _sdk_parse("load.gpuSplitConfig", full)
        back = _sdk_split(client.get("gpu", {}))
    except ValueError as exc:
        out.problems.append((where, f"load.gpuSplitConfig: {exc}"))
        return
    if back != full:
        reason = (
            f"split strategy {full.get('strategy')!r} with priority {full.get('priority')} and "
            f"custom ratios {full.get('customRatio')} cannot be expressed by gpu.splitStrategy, "
            "gpu.mainGpu and gpu.disabledGpus"
        )
        out.skipped.append(Skipped("load.gpuSplitConfig", dict(value), reason, where))
        return
    _merge_into(out.load, client)
    for name in _SPLIT:
        out.where[f"load.{name}"] = where


def _merge_into(target: dict[str, Any], client: Mapping[str, Any]) -> None:
    for key, value in client.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            target[key].update(value)
        else:
            target[key] = copy.deepcopy(value) if isinstance(value, Mapping) else value


def check_values(out: Converted, domain: Domain) -> None:
    """Validate each converted field on its own, so a problem names its source field."""
    from pydantic import ValidationError

    from lmsprofiles import _fields as f

    load_model = f.EmbeddingLoad if domain == "embedding" else f.LlmLoad
    for section, model, values in (
        ("load", load_model, out.load),
        ("inference", f.Inference, out.inference),
    ):
        for name in list(values):
            try:
                model.model_validate({name: values[name]})
            except ValidationError as exc:
                for error in exc.errors():
                    path = ".".join(str(p) for p in (section, *error["loc"]))
                    where = out.where.get(path) or out.where.get(f"{section}.{name}", "")
                    out.problems.append((where, f"{path}: {error['msg']}"))
                del values[name]
    gpu = out.load.get("gpu")
    if isinstance(gpu, dict):
        order = ("ratio", "splitStrategy", "mainGpu", "disabledGpus")
        out.load["gpu"] = dict(sorted(gpu.items(), key=lambda kv: order.index(kv[0])))


def _sdk_parse(key: str, value: Any) -> dict[str, Any]:
    """lmstudio SDK 1.5's reading of one checked or plain KV field (camelCase fields)."""
    import msgspec
    from lmstudio import LMStudioError
    from lmstudio import _kv_config as kv

    if isinstance(value, Mapping) and kv.FROM_SERVER_CONFIG[key].__class__ is kv.CheckboxField:
        value = {"checked": True, "value": value.get("value")}
    try:
        return dict(kv.parse_server_config({"fields": [{"key": key, "value": value}]}))
    except (msgspec.ValidationError, LMStudioError, TypeError, AttributeError) as exc:
        raise ValueError(f"invalid value ({exc})") from None


def _sdk_split(gpu: Mapping[str, Any]) -> dict[str, Any]:
    import lmstudio
    from lmstudio import _kv_config as kv

    stack = kv.load_config_to_kv_config_stack({"gpu": dict(gpu)}, lmstudio.LlmLoadModelConfig)
    for item in stack.to_dict()["layers"][0]["config"]["fields"]:
        if item["key"] == "load.gpuSplitConfig":
            return dict(item["value"] or {})
    return dict(_SPLIT_DEFAULT)  # pragma: no cover - the SDK always writes the split


# --------------------------------------------------------------------------------------------
# profile sections -> KV fields


def load_fields(load: Mapping[str, Any], domain: Domain) -> list[dict[str, Any]]:
    """A resolved ``load`` section (``false`` included) as KV fields, via the SDK's mapping.

    ``false`` on a checkbox field becomes ``{checked: false}``; the GPU split is written only
    when the section sets a split field, so that a ratio alone leaves LM Studio's split as it is.
    """
    import lmstudio
    from lmstudio import _kv_config as kv

    values, unchecked = _unchecked("load", load, domain)
    if domain == "llm":
        stack = kv.load_config_to_kv_config_stack(values, lmstudio.LlmLoadModelConfig)
    else:
        stack = kv.load_config_to_kv_config_stack(values, lmstudio.EmbeddingLoadModelConfig)
    fields = _stack_fields(stack.to_dict(), values, "load", domain)
    gpu = load.get("gpu")
    if not (isinstance(gpu, Mapping) and any(gpu.get(k.split(".")[1]) is not None for k in _SPLIT)):
        fields = [f for f in fields if f["key"] != "load.gpuSplitConfig"]
    return fields + unchecked


def prediction_fields(inference: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A resolved ``inference`` section (``false`` included) as KV fields, via the SDK's mapping."""
    from lmstudio import _kv_config as kv

    values, unchecked = _unchecked("inference", inference, "llm")
    _, stack = kv.prediction_config_to_kv_config_stack(None, values)  # type: ignore[arg-type]
    return _stack_fields(stack.to_dict(), values, "inference", "llm") + unchecked


def _unchecked(
    section: Section, values: Mapping[str, Any], domain: Domain
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kept: dict[str, Any] = {}
    unchecked: list[dict[str, Any]] = []
    for name, value in values.items():
        if value is None:
            continue
        entry = field_key(section, name, domain)
        if value is False and entry is not None and entry.checkbox:
            unchecked.append(
                {"key": entry.key, "value": {"checked": False, "value": entry.unchecked}}
            )
        elif isinstance(value, Mapping):
            kept[name] = {k: v for k, v in value.items() if v is not None}
        else:
            kept[name] = value
    return kept, unchecked


def _stack_fields(
    stack: Mapping[str, Any], values: Mapping[str, Any], section: Section, domain: Domain
) -> list[dict[str, Any]]:
    """The fields of the SDK's KV stack, with whole numbers it made floats made ints again."""
    fields: list[dict[str, Any]] = []
    for layer in stack["layers"]:
        for item in layer["config"]["fields"]:
            value = item["value"]
            entry = _BY_KEY.get(item["key"])
            given = values.get(entry.fields[0]) if entry and len(entry.fields) == 1 else None
            if isinstance(given, int) and not isinstance(given, bool):
                if isinstance(value, float) and value == given:
                    value = given
                elif isinstance(value, Mapping) and value.get("value") == given:
                    value = {**value, "value": given}
            fields.append({"key": item["key"], "value": value})
    return fields


# --------------------------------------------------------------------------------------------
# {key, value} field lists in source documents


def field_list(
    data: Mapping[str, Any], path: tuple[str, ...]
) -> tuple[list[tuple[str, Any, str]], list[tuple[str, str]]]:
    """The ``{key, value}`` entries of the list at ``path`` (``("operation", "fields")``).

    Returns ``(key, value, where)`` triples, ``where`` being the dotted path of the entry
    (``operation.fields[2]``), and ``(where, message)`` problems for malformed entries. A
    missing list is an empty one.
    """
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return [], []
    dotted_path = ".".join(path)
    if not isinstance(node, list):
        return [], [(dotted_path, "expected a list of {key, value} entries")]
    found: list[tuple[str, Any, str]] = []
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(node):
        where = f"{dotted_path}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            problems.append((where, "expected {key: <LM Studio setting>, value: ...}"))
        elif "value" not in item:
            problems.append((where, f"{item['key']} has no value"))
        else:
            found.append((item["key"], item["value"], where))
    return found, problems
