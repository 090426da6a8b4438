"""The field table: every LM Studio load and inference field, one row each.

A row says how a profile writes the field (camelCase name, snake_case spelling, section), what
values it takes (:class:`Kind`: type, range or choices, what ``false`` means), what it means,
which LM Studio KV key(s) carry it for each model type, and what each SDK does with it:
``@lmstudio/sdk`` 2.0.0 sends or drops it; ``lmstudio`` 1.5 (the SDK lmsprofiles talks through)
sends, drops or rejects it. Profiles accept exactly the fields ``lmstudio`` 1.5 sends; the
others are rejected with a reason that says what to do instead.

Everything else is derived from this table: the pydantic models and their checks
(:mod:`lmsprofiles._fields`), ``schema.json``, the KV key mapping of import and export
(:mod:`lmsprofiles._interop._kv`), the checkbox fields the reconciler compares
(:mod:`lmsprofiles._reconcile._compare`) and the tables of docs/fields.md (a test renders them
from here). This module imports only the standard library.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, TypeAlias

__all__ = [
    "KV_CACHE_TYPES",
    "KV_ONLY",
    "NAME_PATTERN",
    "OMIT",
    "ROWS",
    "SYNONYMS",
    "UNSUPPORTED",
    "WIRE_EMBEDDING_LOAD",
    "WIRE_INFERENCE",
    "WIRE_LOAD",
    "Address",
    "Bool",
    "Choice",
    "Domain",
    "Indices",
    "JsonObject",
    "Kind",
    "KvOnly",
    "Labels",
    "Name",
    "Nested",
    "Num",
    "Off",
    "Ratio",
    "Row",
    "Section",
    "Strings",
    "Text",
    "Wire",
    "odd_character",
    "rows",
    "snake",
]

Domain: TypeAlias = Literal["llm", "embedding"]
"""A model type: LM Studio keeps separate load keys for LLMs and embedding models."""
Section: TypeAlias = Literal["load", "inference"]
"""Where a profile writes the field (``gpu.*`` fields are inside ``load``)."""
Sends: TypeAlias = Literal["sends", "drops"]
"""What an SDK does with a field it is given: puts it on the wire, or leaves it out silently."""

# --------------------------------------------------------------------------------------------
# What values a field takes


class Off(NamedTuple):
    """What ``false`` means on a checkbox field.

    ``omit``: LM Studio's default for the field is off, so ``false`` is sent as "not set".
    ``reject``: LM Studio's default is on and lmstudio SDK 1.5 cannot send off; ``value`` has
    the same effect and ``hint`` says what it does (``write 1 for no repeat penalty``).
    """

    mode: Literal["omit", "reject"]
    value: float | None = None
    hint: str = ""

    @property
    def message(self) -> str:
        """Why ``false`` is refused, with what to write instead (``reject`` only)."""
        return (
            "false cannot be sent by lmstudio SDK 1.5 (it would send it as a checked value); "
            f"write {self.value:g} {self.hint}"
        )


OMIT: Final = Off("omit")
"""``false`` is accepted and sent as "not set" (LM Studio reads that as off)."""


class Kind:
    """What values a field takes. Kinds with options are frozen dataclasses; the others are
    equal when they are of the same class."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def words(self) -> str:
        """What completes "must be ..." in a message about a wrong value."""
        return "a mapping"


def _range_words(ge: float | None, le: float | None) -> str:
    if ge is not None and le is not None:
        return f" from {ge:g} to {le:g}"
    if ge is not None:
        return f" >= {ge:g}"
    if le is not None:
        return f" <= {le:g}"
    return ""


@dataclass(frozen=True)
class Num(Kind):
    """An integer or a number in a range (never NaN or infinity). ``off`` makes it a checkbox
    field; ``unit`` also accepts a duration (``"seconds"``: ``2h``) or a token count
    (``"tokens"``: ``8k``)."""

    kind: Literal["integer", "number"]
    ge: float | None = None
    le: float | None = None
    off: Off | None = None
    unit: Literal["seconds", "tokens"] | None = None

    @property
    def words(self) -> str:
        article = "an integer" if self.kind == "integer" else "a number"
        words = article + _range_words(self.ge, self.le)
        if self.off is not None and self.off.mode == "omit":
            words += ", or false to switch it off"
        return words


class Bool(Kind):
    """``true`` or ``false``."""

    @property
    def words(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few strings; ``off`` also allows ``false``."""

    options: tuple[str, ...]
    off: Off | None = None

    @property
    def words(self) -> str:
        words = "one of " + ", ".join(repr(o) for o in self.options)
        if self.off is not None:
            words += ", or false to switch it off"
        return words


@dataclass(frozen=True)
class Text(Kind):
    """A string, optionally non-empty."""

    non_empty: bool = False

    @property
    def words(self) -> str:
        return "a non-empty string" if self.non_empty else "a string"


class Strings(Kind):
    """A list of non-empty strings."""

    @property
    def words(self) -> str:
        return "a list of non-empty strings"


class Indices(Kind):
    """A list of GPU indices."""

    @property
    def words(self) -> str:
        return "a list of GPU indices (integers >= 0)"


class Ratio(Kind):
    """GPU offload: 0 to 1, ``"max"`` or ``"off"``."""

    @property
    def words(self) -> str:
        return "a number from 0 to 1, 'max' or 'off'"


@dataclass(frozen=True)
class JsonObject(Kind):
    """A free-form mapping (a JSON schema); ``no_underscores`` guards the SDK's renaming of
    snake_case keys."""

    no_underscores: bool = False

    @property
    def words(self) -> str:
        return "a mapping (a JSON schema)"


class Labels(Kind):
    """Labels (of a model, of an inventory host): names to a string, a number or true/false,
    compared as text."""

    @property
    def words(self) -> str:
        return "a mapping of label names to values, e.g. {gpu: 24GB}"


@dataclass(frozen=True)
class Address(Text):
    """An LM Studio server as ``--host`` takes it: ``HOST[:PORT]`` (port 1234 by default)."""

    non_empty: bool = True


@dataclass(frozen=True)
class Name(Text):
    """A name LM Studio matches as written (a model key, an instance identifier): not blank,
    without whitespace, control or invisible characters."""

    non_empty: bool = True


NAME_PATTERN: Final = (
    r"^[^\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]+$"
)
"""JSON Schema's approximation of a name (:func:`odd_character` decides)."""


def odd_character(name: str) -> tuple[str, str] | None:
    """The first character a name (a model key, an identifier) must not contain, and what it
    is; None when there is none. Blank names are the caller's to report."""
    for char in name:
        if char in "\n\r\x85\u2028\u2029":
            return char, "a line break"
        if char == "\t":
            return char, "a tab"
        if char == " ":
            return char, "a space"
        if char.isspace():
            return char, "a space character"
        category = unicodedata.category(char)
        if category == "Cc":
            return char, "a control character"
        if category[0] == "C" or category[0] == "Z":
            return char, "an invisible character"
    return None


@dataclass(frozen=True)
class Nested(Kind):
    """A mapping with fields of its own: the model named ``model`` (:mod:`lmsprofiles._fields`),
    or a list (``container="list"``) or mapping of names (``"dict"``) of them."""

    model: str
    container: Literal["", "list", "dict"] = ""

    @property
    def words(self) -> str:
        return "a list" if self.container == "list" else "a mapping"


KV_CACHE_TYPES: Final = ("f32", "f16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")

# --------------------------------------------------------------------------------------------
# The rows

_SET_IN_APP: Final = "set it in the model's defaults in the LM Studio app instead"
_NONE: Final[Mapping[Any, Any]] = MappingProxyType({})


class Row(NamedTuple):
    """One LM Studio load or inference field.

    ``name`` is the camelCase name a profile writes, dotted for a field inside ``gpu``
    (``gpu.ratio``). ``value`` is what profiles accept, ``None`` when they reject the field.
    ``keys`` are the LM Studio KV keys that carry it, per model type (none for a type LM Studio
    has no key for); ``checkbox`` keys carry ``{checked, value}`` and keep ``unchecked`` as
    the value beside ``checked: false``. ``ts`` is what ``@lmstudio/sdk`` 2.0.0 does with the
    field, for each model type whose config declares it. ``advice`` says what to do instead of
    writing a rejected field; ``rejects`` marks a field lmstudio SDK 1.5 raises an error for
    rather than dropping it.
    """

    name: str
    section: Section
    value: Kind | None = None
    description: str = ""
    keys: Mapping[Domain, tuple[str, ...]] = _NONE
    ts: Mapping[Domain, Sends] = _NONE
    checkbox: bool = False
    unchecked: Any = None
    advice: str = _SET_IN_APP
    rejects: bool = False

    @property
    def accepted(self) -> bool:
        """Whether profiles accept the field (lmstudio SDK 1.5 sends it)."""
        return self.value is not None

    @property
    def python(self) -> Literal["sends", "drops", "rejects"]:
        """What lmstudio SDK 1.5 does with the field."""
        if self.accepted:
            return "sends"
        return "rejects" if self.rejects else "drops"

    @property
    def domains(self) -> tuple[Domain, ...]:
        """The model types whose config has the field."""
        return tuple(self.ts)

    @property
    def group(self) -> str:
        """The mapping the field sits in: ``gpu`` for ``gpu.ratio``, else the section."""
        return self.name.split(".")[0] if "." in self.name else self.section

    @property
    def key(self) -> str:
        """The field's own key (``ratio`` for ``gpu.ratio``)."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def reason(self) -> str:
        """Why a profile cannot carry the field (empty when it can), after its quoted name."""
        if self.accepted:
            return ""
        if self.rejects:
            return "is not supported: lmstudio SDK 1.5 rejects raw KV configs"
        known = (
            "LM Studio 0.4 and @lmstudio/sdk 2.0 know it"
            if "sends" in self.ts.values()
            else "only LM Studio 0.4 knows it (no SDK sends it)"
        )
        return (
            f"is not supported by lmstudio SDK 1.5, which would drop it silently; {known}: "
            f"{self.advice}"
        )


def _load(
    name: str,
    value: Kind | None,
    description: str,
    key: str,
    embedding: str | None = None,
    **kw: Any,
) -> Row:
    """A load field with the KV key ``llm.load.<key>`` (an LLM-only field unless
    ``embedding`` names its key for embedding models, ``embedding.load.<embedding>``)."""
    keys: dict[Domain, tuple[str, ...]] = {"llm": (_full(key, "llm.load."),)}
    ts: dict[Domain, Sends] = {"llm": "sends"}
    if embedding is not None:
        keys["embedding"] = (_full(embedding, "embedding.load."),)
        ts["embedding"] = "sends"
    return Row(name, "load", value, description, keys, ts, **kw)


def _full(key: str, prefix: str) -> str:
    return key if key.startswith("load.") else prefix + key


def _split(name: str, value: Kind, description: str) -> Row:
    """A field of the GPU split: all three make up the one key ``load.gpuSplitConfig``."""
    split = ("load.gpuSplitConfig",)
    both: dict[Domain, Sends] = {"llm": "sends", "embedding": "sends"}
    return Row(name, "load", value, description, {"llm": split, "embedding": split}, both)


def _unsupported_load(name: str, *keys: str, advice: str = _SET_IN_APP) -> Row:
    return Row(
        name,
        "load",
        keys={"llm": tuple(_full(k, "llm.load.") for k in keys)},
        ts={"llm": "sends"},
        advice=advice,
    )


def _pred(name: str, value: Kind | None, description: str, key: str, **kw: Any) -> Row:
    """An inference field with the KV key ``llm.prediction.<key>``."""
    ts = kw.pop("ts", "sends")
    keys: dict[Domain, tuple[str, ...]] = {"llm": (f"llm.prediction.{key}",)} if key else {}
    return Row(name, "inference", value, description, keys, {"llm": ts}, **kw)


ROWS: Final[tuple[Row, ...]] = (
    # ---- load: LLMs and embedding models (lmstudio SDK 1.5 sends these for both)
    Row(
        "gpu.ratio",
        "load",
        Ratio(),
        "Share of layers offloaded to the GPU: 0 to 1, 'max' (= 1) or 'off' (= 0).",
        {
            "llm": ("llm.load.llama.acceleration.offloadRatio",),
            "embedding": ("embedding.load.llama.acceleration.offloadRatio",),
        },
        {"llm": "sends", "embedding": "drops"},
    ),
    _split(
        "gpu.mainGpu",
        Num("integer", ge=0),
        "Index of the main GPU; needs splitStrategy: favorMainGpu.",
    ),
    _split(
        "gpu.splitStrategy",
        Choice(("evenly", "favorMainGpu")),
        "evenly: split evenly over GPUs; favorMainGpu: fill mainGpu first.",
    ),
    _split("gpu.disabledGpus", Indices(), "GPU indices not to use."),
    _load(
        "contextLength",
        Num("integer", ge=1, unit="tokens"),
        "Context size in tokens (prompt + response), e.g. 16384 or 16k (1024-based); "
        "LM Studio may fit it lower.",
        "contextLength",
        "contextLength",
    ),
    _load(
        "ropeFrequencyBase",
        Num("number", ge=0, off=OMIT),
        "Custom RoPE base frequency, or false for none (the default).",
        "llama.ropeFrequencyBase",
        "llama.ropeFrequencyBase",
        checkbox=True,
        unchecked=0,
    ),
    _load(
        "ropeFrequencyScale",
        Num("number", ge=0, off=OMIT),
        "RoPE frequency scaling factor, or false for none (the default).",
        "llama.ropeFrequencyScale",
        "llama.ropeFrequencyScale",
        checkbox=True,
        unchecked=0,
    ),
    _load(
        "keepModelInMemory",
        Bool(),
        "Keep the model in system RAM so it is not swapped out (default true).",
        "llama.keepModelInMemory",
        "llama.keepModelInMemory",
    ),
    _load(
        "tryMmap",
        Bool(),
        "Try memory-mapped loading (default true).",
        "llama.tryMmap",
        "llama.tryMmap",
    ),
    # ---- load: LLMs only
    _load(
        "gpuStrictVramCap",
        Bool(),
        "Cap GPU offload strictly at the detected VRAM (default false).",
        "load.gpuStrictVramCap",
    ),
    _load(
        "offloadKVCacheToGpu",
        Bool(),
        "Keep the KV cache in GPU memory (default true).",
        "offloadKVCacheToGpu",
    ),
    _load(
        "evalBatchSize",
        Num("integer", ge=1),
        "Input tokens processed per batch.",
        "llama.evalBatchSize",
    ),
    _load(
        "flashAttention",
        Bool(),
        "Use Flash Attention; needed for a quantized V cache (default false).",
        "llama.flashAttention",
    ),
    _load(
        "seed",
        Num("integer", ge=-1, off=OMIT),
        "Seed for reproducible sampling, or false for random (the default).",
        "seed",
        checkbox=True,
        unchecked=-1,
    ),
    _load(
        "useFp16ForKVCache",
        Bool(),
        "Store the KV cache in FP16 (default true).",
        "llama.useFp16ForKVCache",
    ),
    _load(
        "numExperts",
        Num("integer", ge=0),
        "Active experts of a mixture-of-experts model.",
        "numExperts",
    ),
    _load(
        "llamaKCacheQuantizationType",
        Choice(KV_CACHE_TYPES, off=OMIT),
        "K-cache precision, or false for none (the default).",
        "llama.kCacheQuantizationType",
        checkbox=True,
        unchecked="f16",
    ),
    _load(
        "llamaVCacheQuantizationType",
        Choice(KV_CACHE_TYPES, off=OMIT),
        "V-cache precision, or false for none (the default); needs flashAttention.",
        "llama.vCacheQuantizationType",
        checkbox=True,
        unchecked="f16",
    ),
    # ---- load: what lmstudio SDK 1.5 drops
    Row(
        "gpu.numCpuExpertLayersRatio",
        "load",
        keys={"llm": ("llm.load.numCpuExpertLayersRatio",)},
        ts={"llm": "sends", "embedding": "drops"},
    ),
    _unsupported_load("autoFit", "llama.autoFit", "mlx.autoFit", "yuzu.autoFit"),
    _unsupported_load(
        "maxParallelPredictions",
        "numParallelSessions",
        advice="load the model with lms load --parallel, or set it in the model's defaults in "
        "the LM Studio app instead",
    ),
    _unsupported_load("useUnifiedKvCache", "useUnifiedKvCache"),
    _unsupported_load("promptTemplate", "promptTemplate"),
    _unsupported_load("physicalBatchSize", "llama.physicalBatchSize"),
    _unsupported_load("contextCheckpoints", "llama.contextCheckpoints"),
    _unsupported_load("reasoningBudgetMessage", "llama.reasoningBudgetMessage"),
    _unsupported_load("speculativeDraftMtp", "llama.speculativeDecoding.draftMtp"),
    _unsupported_load("speculativeDraftSimple", "llama.speculativeDecoding.draftSimple"),
    _unsupported_load("speculativeDraftModel", "llama.speculativeDecoding.draftModel"),
    _unsupported_load("speculativeDraftMaxTokens", "llama.speculativeDecoding.draftMaxTokens"),
    _unsupported_load("speculativeDraftMinTokens", "llama.speculativeDecoding.draftMinTokens"),
    _unsupported_load(
        "speculativeDraftMinContinueProbability",
        "llama.speculativeDecoding.draftMinContinueProbability",
    ),
    _unsupported_load("tryDirectIO", "llama.tryDirectIO"),
    _unsupported_load("llamaCppArgumentsOverride", "llama.argumentsOverride"),
    _unsupported_load("mlxDiskCache", "mlx.diskCache"),
    _unsupported_load("mlxKvCacheQuantization", "mlx.kvCacheQuantization"),
    # ---- inference (LLMs)
    _pred(
        "maxTokens",
        Num("integer", ge=1, off=OMIT),
        "Upper bound on generated tokens, or false for no limit.",
        "maxPredictedTokens",
        checkbox=True,
        unchecked=1000,
    ),
    _pred("temperature", Num("number", ge=0), "Randomness; 0 is deterministic.", "temperature"),
    _pred(
        "stopStrings",
        Strings(),
        "Stop when any of these strings is generated.",
        "stopStrings",
    ),
    _pred(
        "toolCallStopStrings",
        Strings(),
        "Stop with a tool call when any of these is generated.",
        "toolCallStopStrings",
    ),
    _pred(
        "contextOverflowPolicy",
        Choice(("stopAtLimit", "truncateMiddle", "rollingWindow")),
        "What to do when the context fills up.",
        "contextOverflowPolicy",
    ),
    _pred(
        "structured",
        Nested("Structured"),
        "Constrained output (JSON schema or GBNF grammar).",
        "structured",
    ),
    _pred("rawTools", Nested("RawTools"), "Raw tool definitions.", "tools"),
    _pred(
        "topKSampling",
        Num("integer", ge=-1, le=500),
        "Consider only the K most likely tokens (-1: all).",
        "topKSampling",
    ),
    _pred(
        "repeatPenalty",
        Num("number", ge=-1, off=Off("reject", 1, "for no repeat penalty")),
        "Penalty on repeated tokens; 1 means none.",
        "repeatPenalty",
        checkbox=True,
        unchecked=1.1,
    ),
    _pred(
        "minPSampling",
        Num("number", ge=0, le=1, off=Off("reject", 0, "to switch min-p sampling off")),
        "Minimum token probability; 0 switches it off.",
        "minPSampling",
        checkbox=True,
        unchecked=0.05,
    ),
    _pred(
        "topPSampling",
        Num("number", ge=0, le=1, off=Off("reject", 1, "to switch nucleus sampling off")),
        "Nucleus sampling threshold; 1 switches it off.",
        "topPSampling",
        checkbox=True,
        unchecked=0.95,
    ),
    _pred(
        "cpuThreads",
        Num("integer", ge=1),
        "CPU threads used for inference.",
        "llama.cpuThreads",
    ),
    _pred(
        "promptTemplate",
        Nested("PromptTemplate"),
        "Prompt template override.",
        "promptTemplate",
    ),
    _pred(
        "draftModel",
        Text(),
        "Draft model key for speculative decoding; empty switches it off.",
        "speculativeDecoding.draftModel",
    ),
    _pred(
        "speculativeDecodingNumDraftTokensExact",
        Num("integer", ge=1),
        "Exact number of tokens to draft (MLX).",
        "speculativeDecoding.numDraftTokensExact",
    ),
    _pred(
        "speculativeDecodingMinDraftLengthToConsider",
        Num("integer", ge=0),
        "Minimum draft length the main model checks.",
        "speculativeDecoding.minDraftLengthToConsider",
    ),
    _pred(
        "speculativeDecodingMinContinueDraftingProbability",
        Num("number", ge=0, le=1),
        "Stop drafting below this probability.",
        "speculativeDecoding.minContinueDraftingProbability",
    ),
    _pred(
        "reasoningParsing",
        Nested("ReasoningParsing"),
        "How reasoning sections are found.",
        "reasoning.parsing",
    ),
    # ---- inference: what lmstudio SDK 1.5 drops or rejects
    _pred("reasoningBudget", None, "", "reasoning.budgetTokens", checkbox=True),
    _pred("toolChoice", None, "", "toolChoice"),
    _pred("toolNaming", None, "", "toolNaming"),
    _pred("presencePenalty", None, "", "llama.presencePenalty", checkbox=True),
    _pred("logProbs", None, "", "logProbs", checkbox=True),
    _pred("enableThinking", None, "", "reasoning.enableThinking"),
    _pred(
        "userMaxImageDimensionPixels",
        None,
        "",
        "vision.userMaxImageDimensionPixels",
        checkbox=True,
    ),
    _pred(
        "ignoreModelPreferredMaxImageDimension",
        None,
        "",
        "vision.ignoreModelPreferredMaxImageDimension",
    ),
    _pred("xtcProbability", None, "", "llama.xtcProbability", checkbox=True, ts="drops"),
    _pred("xtcThreshold", None, "", "llama.xtcThreshold", checkbox=True, ts="drops"),
    _pred("raw", None, "", "", rejects=True),
)
"""Every field of LM Studio's load and inference configs that an SDK declares."""


class KvOnly(NamedTuple):
    """An LM Studio KV key that no SDK has a field for."""

    key: str
    section: Section
    checkbox: bool = False


_SPEC: Final = "llm.load.llama.speculativeDecoding."

KV_ONLY: Final[tuple[KvOnly, ...]] = (
    KvOnly("llm.load.autoFitMinContextLength", "load"),
    KvOnly("llm.load.llama.cpuThreadPoolSize", "load"),
    *(KvOnly(_SPEC + s, "load") for s in ("draftDflashSidecar", "draftDsparkSidecar")),
    KvOnly(_SPEC + "draftMtpSidecar", "load"),
    *(
        KvOnly(f"llm.load.vllm.{s}", "load")
        for s in ("gpuMemoryUtilization", "reasoningParser", "toolCallParser")
    ),
    KvOnly("envVars", "load"),
    KvOnly("embedding.load.seed", "load", checkbox=True),
    KvOnly("embedding.load.llama.evalBatchSize", "load"),
    KvOnly("llm.prediction.systemPrompt", "inference"),
    KvOnly("llm.prediction.seed", "inference", checkbox=True),
    KvOnly("llm.prediction.contextPrefill", "inference"),
    KvOnly("llm.prediction.llama.frequencyPenalty", "inference", checkbox=True),
    KvOnly("llm.prediction.llama.tailFreeSampling", "inference", checkbox=True),
    KvOnly("llm.prediction.llama.locallyTypicalSampling", "inference", checkbox=True),
    KvOnly("llm.prediction.llama.mirostatSampling", "inference"),
    KvOnly("llm.prediction.llama.logitBias", "inference"),
    KvOnly("llm.prediction.speculativeDecoding.numReuseTokens", "inference"),
    KvOnly("llm.prediction.speculativeDecoding.maxTokensToDraft", "inference"),
)
"""LM Studio settings no SDK has a field for: an import says so instead of "unknown"."""

SYNONYMS: Final[Mapping[str, str]] = {
    "topP": "topPSampling",
    "top_p": "topPSampling",
    "topK": "topKSampling",
    "top_k": "topKSampling",
    "minP": "minPSampling",
    "min_p": "minPSampling",
    "stop": "stopStrings",
    "maxPredictedTokens": "maxTokens",
    "max_predicted_tokens": "maxTokens",
    "numPredict": "maxTokens",
    "num_predict": "maxTokens",
    "ctx": "contextLength",
    "numCtx": "contextLength",
    "num_ctx": "contextLength",
    "n_ctx": "contextLength",
    "contextSize": "contextLength",
    "gpuOffload": "gpu.ratio",
    "gpu_offload": "gpu.ratio",
    "ngl": "gpu.ratio",
    "repetitionPenalty": "repeatPenalty",
    "repetition_penalty": "repeatPenalty",
}
"""Names people write for a field, from other tools and LM Studio's own docs."""

# --------------------------------------------------------------------------------------------
# Views of the table


def rows(
    section: Section | None = None,
    domain: Domain | None = None,
    *,
    accepted: bool | None = None,
) -> tuple[Row, ...]:
    """The rows of ``section`` whose config ``domain`` has them, in table order; ``accepted``
    keeps only the fields profiles accept (True) or reject (False)."""
    return tuple(
        row
        for row in ROWS
        if (section is None or row.section == section)
        and (domain is None or domain in row.ts)
        and (accepted is None or row.accepted == accepted)
    )


_SNAKE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """The snake_case spelling of a camelCase key: ``offloadKVCacheToGpu`` ->
    ``offload_kv_cache_to_gpu``."""
    return _SNAKE.sub("_", name).lower()


class Wire(NamedTuple):
    """Where a profile field travels on the wire: its KV key and whether it is a checkbox."""

    key: str
    checkbox: bool = False


def _wire(section: Section, domain: Domain) -> Mapping[str, Wire]:
    return {
        row.name: Wire(row.keys[domain][0], row.checkbox)
        for row in rows(section, domain, accepted=True)
    }


WIRE_LOAD: Final = _wire("load", "llm")
"""LLM load field -> LM Studio KV key, as lmstudio SDK 1.5 maps it."""
WIRE_EMBEDDING_LOAD: Final = _wire("load", "embedding")
"""Embedding load field -> LM Studio KV key."""
WIRE_INFERENCE: Final = _wire("inference", "llm")
"""Inference field -> LM Studio KV key."""

UNSUPPORTED: Final[Mapping[str, Mapping[str, str]]] = {
    group: {row.key: row.reason for row in rows(accepted=False) if row.group == group}
    for group in ("load", "gpu", "inference")
}
"""Fields LM Studio knows that profiles reject, by the mapping they are written in, with why."""
