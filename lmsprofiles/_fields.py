"""The profile schema: every field lmstudio SDK 1.5 can carry, with LM Studio's ranges.

The pydantic models here validate *merged* values whose keys are already the SDK's camelCase
names (see :mod:`lmsprofiles._keys`). Scalar fields use plain validators so that every problem
reads as one clear sentence; the same validators carry their JSON schema for ``schema.json``.

Ranges are the stricter of the SDK's runtime schema and LM Studio's KV schema
(docs/profiles.md). Fields LM Studio has but SDK 1.5 silently drops are listed
in :data:`UNSUPPORTED` so that a profile naming them is told why instead of "unknown key".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from lmsprofiles._yaml import describe

# --------------------------------------------------------------------------------------------
# Scalar checks: pydantic annotation metadata with one clear message and their JSON schema


def _fail(message: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        "lmsprofiles", "{msg} (got {got})", {"msg": message, "got": describe(value)}
    )


def _range_words(ge: float | None, le: float | None) -> str:
    if ge is not None and le is not None:
        return f" from {ge:g} to {le:g}"
    if ge is not None:
        return f" >= {ge:g}"
    if le is not None:
        return f" <= {le:g}"
    return ""


@dataclass(frozen=True)
class Off:
    """How ``false`` is handled on a checkbox field.

    ``omit``: LM Studio's default for the field is off, so ``false`` is sent as "not set".
    ``reject``: LM Studio's default is on and SDK 1.5 cannot send off; ``hint`` says what to
    write instead.
    """

    mode: Literal["omit", "reject"]
    hint: str = ""


OMIT = Off("omit")


class _Check:
    """Base of the annotation metadata below: a plain validator plus its JSON schema."""

    def validate(self, value: Any) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self._validate_or_none)

    def _validate_or_none(self, value: Any) -> Any:
        # null is "unset" and is dropped by merging; it only reaches a check in a single layer
        return None if value is None else self.validate(value)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # null is allowed everywhere: it unsets the value (LM Studio's default applies)
        return {"anyOf": [self.json_schema(), {"type": "null"}]}


# --------------------------------------------------------------------------------------------
# Units: durations (seconds) and token counts (1024-based), as people write them

_UNITS: Mapping[str, Mapping[str, int]] = {
    "seconds": {"s": 1, "m": 60, "h": 3600, "d": 86400},
    "tokens": {"k": 1024, "K": 1024, "M": 1024 * 1024},
}
_UNIT_WORDS: Mapping[str, Mapping[str, str]] = {
    "seconds": {
        **dict.fromkeys(("sec", "secs", "second", "seconds"), "s"),
        **dict.fromkeys(("min", "mins", "minute", "minutes"), "m"),
        **dict.fromkeys(("hr", "hrs", "hour", "hours", "H"), "h"),
        **dict.fromkeys(("day", "days", "D"), "d"),
    },
    "tokens": {
        **dict.fromkeys(("kb", "KB", "Kb", "kib", "KiB", "ki", "Ki"), "k"),
        **dict.fromkeys(("m", "mb", "MB", "MiB", "Mi"), "M"),
    },
}
_UNIT_PART = re.compile(r"\s*([0-9]+)\s*([A-Za-z]+)")
UNIT_PATTERNS: Mapping[str, str] = {
    "seconds": r"^\s*([0-9]+\s*[smhd]\s*)+$",
    "tokens": r"^\s*[0-9]+\s*[kKM]\s*$",
}


def with_unit(text: str, unit: str) -> int:
    """``"2h"`` -> 7200 (``unit="seconds"``), ``"8k"`` -> 8192 (``unit="tokens"``).

    Durations may combine parts (``1h30m``). ValueError says what is wrong, with the closest
    spelling that works.
    """
    table = _UNITS[unit]
    parts = _UNIT_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != "".join(text.split()):
        raise ValueError(f"cannot read {text!r}; write e.g. {_example(unit)}")
    if unit == "tokens" and len(parts) > 1:
        raise ValueError(f"cannot read {text!r}; write e.g. {_example(unit)}")
    total = 0
    for number, suffix in parts:
        if len(number) > 15:
            raise ValueError(f"{number} is out of range")
        if suffix not in table:
            fixed = "".join(n + _UNIT_WORDS[unit].get(u, u) for n, u in parts)
            hint = (
                f"; did you mean {fixed!r}?"
                if fixed != text.replace(" ", "")
                and all(_UNIT_WORDS[unit].get(u, u) in table for _, u in parts)
                else ""
            )
            units = ", ".join(table)
            raise ValueError(f"unknown unit {suffix!r} in {text!r}{hint} (units: {units})")
        total += int(number) * table[suffix]
    return total


def _example(unit: str) -> str:
    return "'2h', '30m', '90s' or '1h30m'" if unit == "seconds" else "'8k' (8192) or '1M'"


def normalize(metadata: tuple[Any, ...], value: Any) -> Any:
    """A value with a unit (``"2h"``, ``"8k"``) as the plain integer; anything else unchanged.

    A string that does not read is left for validation to report, with a suggestion.
    """
    check = next((m for m in metadata if isinstance(m, Num)), None)
    if check is None or check.unit is None or not isinstance(value, str):
        return value
    if not any(c.isalpha() for c in value):
        return value
    try:
        return with_unit(value, check.unit)
    except ValueError:
        return value


@dataclass(frozen=True)
class Num(_Check):
    """An integer or number in a range; ``off`` makes it a checkbox field; ``unit`` also
    accepts a duration (``"seconds"``: ``2h``) or a token count (``"tokens"``: ``8k``)."""

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

    def validate(self, value: Any) -> Any:
        if value is False and self.off is not None:
            if self.off.mode == "reject":
                raise PydanticCustomError("lmsprofiles", "{msg}", {"msg": self.off.hint})
            return False
        if self.unit is not None and isinstance(value, str) and any(c.isalpha() for c in value):
            try:
                value = with_unit(value, self.unit)
            except ValueError as exc:
                raise PydanticCustomError("lmsprofiles", "{msg}", {"msg": str(exc)}) from None
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (self.kind == "integer" and not isinstance(value, int)):
            raise _fail(f"must be {self.words}", value)
        if not math.isfinite(value):
            raise _fail(f"must be {self.words}, not NaN or infinity", value)
        if (self.ge is not None and value < self.ge) or (self.le is not None and value > self.le):
            raise _fail(f"must be {self.words}", value)
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind}
        if self.ge is not None:
            schema["minimum"] = self.ge
        if self.le is not None:
            schema["maximum"] = self.le
        if self.off is not None and self.off.mode == "omit":
            return {"anyOf": [schema, {"const": False}]}
        if self.unit is not None:
            return {"anyOf": [schema, {"type": "string", "pattern": UNIT_PATTERNS[self.unit]}]}
        return schema


@dataclass(frozen=True)
class Bool(_Check):
    """``true`` or ``false``."""

    def validate(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise _fail("must be true or false", value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(_Check):
    """One of a few strings; ``off`` also allows ``false``."""

    options: tuple[str, ...]
    off: Off | None = None

    def validate(self, value: Any) -> Any:
        if value is False and self.off is not None:
            return False
        if not isinstance(value, str) or value not in self.options:
            words = "must be one of " + ", ".join(repr(o) for o in self.options)
            if self.off is not None:
                words += ", or false to switch it off"
            raise _fail(words, value)
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"enum": list(self.options)}
        return {"anyOf": [schema, {"const": False}]} if self.off is not None else schema


@dataclass(frozen=True)
class Text(_Check):
    """A string, optionally non-empty."""

    non_empty: bool = False

    def validate(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _fail("must be a string", value)
        if self.non_empty and not value:
            raise _fail("must not be empty", value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1} if self.non_empty else {"type": "string"}


@dataclass(frozen=True)
class Strings(_Check):
    """A list of non-empty strings."""

    def validate(self, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise _fail("must be a list of non-empty strings", value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "minLength": 1}}


@dataclass(frozen=True)
class Indices(_Check):
    """A list of GPU indices."""

    def validate(self, value: Any) -> Any:
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            raise _fail("must be a list of GPU indices (integers >= 0)", value)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer", "minimum": 0}}


@dataclass(frozen=True)
class Ratio(_Check):
    """GPU offload: 0 to 1, ``"max"`` or ``"off"``."""

    def validate(self, value: Any) -> Any:
        if isinstance(value, str) and value in ("max", "off"):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise _fail("must be a number from 0 to 1, 'max' or 'off'", value)
        return value  # NaN fails the range check above

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"enum": ["max", "off"]}]}


@dataclass(frozen=True)
class JsonObject(_Check):
    """A free-form mapping (a JSON schema); ``no_underscores`` guards the SDK's renaming."""

    no_underscores: bool = False

    def validate(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _fail("must be a mapping (a JSON schema)", value)
        where = _not_finite(value)
        if where is not None:
            path, number = where
            message = (
                f"numbers in it must not be NaN or infinity (got {describe(number)} at {path})"
            )
            raise PydanticCustomError("lmsprofiles", "{msg}", {"msg": message})
        bad = _underscore_key(value) if self.no_underscores else None
        if bad is not None:
            message = (
                f"key {bad!r} contains '_': lmstudio SDK 1.5 renames such keys in tool "
                f"parameters (it would send {_camel(bad)!r}); rename it, or give the tool to "
                "the SDK's act() instead"
            )
            raise PydanticCustomError("lmsprofiles", "{msg}", {"msg": message})
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object"}


@dataclass(frozen=True)
class Labels(JsonObject):
    """Labels: a mapping of names to a string, a number or true/false, compared as text."""

    def validate(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _fail("must be a mapping of label names to values, e.g. {gpu: 24GB}", value)
        for key, item in value.items():
            scalar = isinstance(item, (str, int, float)) and item == item  # NaN is not a label
            if not key or not scalar or (isinstance(item, float) and not math.isfinite(item)):
                message = f"label {key!r} must be a string, a number or true/false"
                raise _fail(message, item)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        }


def label_text(value: Any) -> str:
    """A label value as it is compared: ``true``/``false`` for booleans, else its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _not_finite(value: Any) -> tuple[str, float] | None:
    """The first NaN or infinity in a free-form value, with its dotted path."""
    todo: list[tuple[str, Any]] = [("", value)]
    while todo:
        path, item = todo.pop()
        if isinstance(item, dict):
            todo += [(f"{path}.{k}" if path else str(k), v) for k, v in reversed(item.items())]
        elif isinstance(item, list):
            todo += [(f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item)))]
        elif isinstance(item, float) and not math.isfinite(item):
            return path or "the top", item
    return None


def _underscore_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if "_" in str(key):
                return str(key)
            found = _underscore_key(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _underscore_key(item)
            if found is not None:
                return found
    return None


def _camel(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(w.capitalize() for w in rest)


KV_CACHE_TYPES = ("f32", "f16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
# --------------------------------------------------------------------------------------------
# Models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


_REJECT_REPEAT = Off(
    "reject",
    "false cannot be sent by lmstudio SDK 1.5 (it would send it as a checked value); "
    "write 1 for no repeat penalty",
)
_REJECT_MIN_P = Off(
    "reject",
    "false cannot be sent by lmstudio SDK 1.5 (it would send it as a checked value); "
    "write 0 to switch min-p sampling off",
)
_REJECT_TOP_P = Off(
    "reject",
    "false cannot be sent by lmstudio SDK 1.5 (it would send it as a checked value); "
    "write 1 to switch nucleus sampling off",
)

Flag = Annotated[bool | None, Bool()]
PositiveInt = Annotated[int | None, Num("integer", ge=1)]
Tokens = Annotated[int | None, Num("integer", ge=1, unit="tokens")]
OptText = Annotated[str | None, Text()]
StringList = Annotated[list[str] | None, Strings()]
CacheType = Annotated[str | Literal[False] | None, Choice(KV_CACHE_TYPES, off=OMIT)]
Rope = Annotated[float | Literal[False] | None, Num("number", ge=0, off=OMIT)]
Ttl = Annotated[int | None, Num("integer", ge=1, unit="seconds")]


class Gpu(_Model):
    """How the model is spread over GPUs (``load.gpu``)."""

    ratio: Annotated[float | str | None, Ratio()] = Field(
        None,
        description="Share of layers offloaded to the GPU: 0 to 1, 'max' (= 1) or 'off' (= 0).",
    )
    main_gpu: Annotated[int | None, Num("integer", ge=0)] = Field(
        None,
        alias="mainGpu",
        description="Index of the main GPU; needs splitStrategy: favorMainGpu.",
    )
    split_strategy: Annotated[str | None, Choice(("evenly", "favorMainGpu"))] = Field(
        None,
        alias="splitStrategy",
        description="evenly: split evenly over GPUs; favorMainGpu: fill mainGpu first.",
    )
    disabled_gpus: Annotated[list[int] | None, Indices()] = Field(
        None, alias="disabledGpus", description="GPU indices not to use."
    )


class EmbeddingLoad(_Model):
    """Load config of an embedding model (SDK ``EmbeddingLoadModelConfig``)."""

    gpu: Gpu | None = Field(None, description="GPU offload and split.")
    context_length: Tokens = Field(
        None,
        alias="contextLength",
        description=(
            "Context size in tokens (prompt + response), e.g. 16384 or 16k (1024-based); "
            "LM Studio may fit it lower."
        ),
    )
    rope_frequency_base: Rope = Field(
        None,
        alias="ropeFrequencyBase",
        description="Custom RoPE base frequency, or false for none (the default).",
    )
    rope_frequency_scale: Rope = Field(
        None,
        alias="ropeFrequencyScale",
        description="RoPE frequency scaling factor, or false for none (the default).",
    )
    keep_model_in_memory: Flag = Field(
        None,
        alias="keepModelInMemory",
        description="Keep the model in system RAM so it is not swapped out (default true).",
    )
    try_mmap: Flag = Field(
        None, alias="tryMmap", description="Try memory-mapped loading (default true)."
    )


class LlmLoad(EmbeddingLoad):
    """Load config of an LLM (SDK ``LlmLoadModelConfig``); changing it needs a reload."""

    gpu_strict_vram_cap: Flag = Field(
        None,
        alias="gpuStrictVramCap",
        description="Cap GPU offload strictly at the detected VRAM (default false).",
    )
    offload_kv_cache_to_gpu: Flag = Field(
        None,
        alias="offloadKVCacheToGpu",
        description="Keep the KV cache in GPU memory (default true).",
    )
    eval_batch_size: PositiveInt = Field(
        None, alias="evalBatchSize", description="Input tokens processed per batch."
    )
    flash_attention: Flag = Field(
        None,
        alias="flashAttention",
        description="Use Flash Attention; needed for a quantized V cache (default false).",
    )
    seed: Annotated[int | Literal[False] | None, Num("integer", ge=-1, off=OMIT)] = Field(
        None, description="Seed for reproducible sampling, or false for random (the default)."
    )
    use_fp16_for_kv_cache: Flag = Field(
        None, alias="useFp16ForKVCache", description="Store the KV cache in FP16 (default true)."
    )
    num_experts: Annotated[int | None, Num("integer", ge=0)] = Field(
        None, alias="numExperts", description="Active experts of a mixture-of-experts model."
    )
    llama_k_cache_quantization_type: CacheType = Field(
        None,
        alias="llamaKCacheQuantizationType",
        description="K-cache precision, or false for none (the default).",
    )
    llama_v_cache_quantization_type: CacheType = Field(
        None,
        alias="llamaVCacheQuantizationType",
        description="V-cache precision, or false for none (the default); needs flashAttention.",
    )


class Structured(_Model):
    """Constrained output: a JSON schema or a GBNF grammar."""

    type: Annotated[str, Choice(("none", "json", "gbnf"))] = Field(
        description="none, json (needs jsonSchema) or gbnf (needs gbnfGrammar)."
    )
    json_schema: Annotated[dict[str, Any] | None, JsonObject()] = Field(
        None, alias="jsonSchema", description="JSON schema the output must satisfy."
    )
    gbnf_grammar: OptText = Field(
        None, alias="gbnfGrammar", description="GBNF grammar the output must satisfy."
    )


class ToolFunction(_Model):
    """A function tool offered to the model."""

    name: Annotated[str, Text(non_empty=True)] = Field(description="Function name.")
    description: OptText = Field(None, description="What the function does.")
    parameters: Annotated[dict[str, Any] | None, JsonObject(no_underscores=True)] = Field(
        None, description="JSON schema of the arguments (type: object)."
    )


class Tool(_Model):
    """One raw tool definition."""

    type: Annotated[str, Choice(("function",))] = Field(description="Always 'function'.")
    function: ToolFunction


class RawTools(_Model):
    """Raw tool definitions (deprecated in LM Studio in favour of the SDK's act())."""

    type: Annotated[str, Choice(("none", "toolArray"))] = Field(
        description="none, or toolArray with tools."
    )
    tools: list[Tool] | None = None
    force: Flag = Field(None, description="Force a tool call.")


class ManualPromptTemplate(_Model):
    """The six strings of a manual prompt template."""

    before_system: Annotated[str, Text()] = Field(alias="beforeSystem")
    after_system: Annotated[str, Text()] = Field(alias="afterSystem")
    before_user: Annotated[str, Text()] = Field(alias="beforeUser")
    after_user: Annotated[str, Text()] = Field(alias="afterUser")
    before_assistant: Annotated[str, Text()] = Field(alias="beforeAssistant")
    after_assistant: Annotated[str, Text()] = Field(alias="afterAssistant")


class JinjaPromptTemplate(_Model):
    """A Jinja prompt template."""

    template: Annotated[str, Text()] = Field(description="The Jinja template text.")


class PromptTemplate(_Model):
    """Prediction-time prompt template override."""

    type: Annotated[str, Choice(("manual", "jinja"))] = Field(
        description="manual (needs manualPromptTemplate) or jinja (needs jinjaPromptTemplate)."
    )
    stop_strings: Annotated[list[str], Strings()] = Field(
        alias="stopStrings", description="Stop strings that belong to the template."
    )
    manual_prompt_template: ManualPromptTemplate | None = Field(None, alias="manualPromptTemplate")
    jinja_prompt_template: JinjaPromptTemplate | None = Field(None, alias="jinjaPromptTemplate")


class ReasoningParsing(_Model):
    """How reasoning sections are found in the output."""

    enabled: Annotated[bool, Bool()] = Field(description="Parse reasoning sections.")
    start_string: Annotated[str, Text()] = Field(
        alias="startString", description="Marker that opens a reasoning section, e.g. <think>."
    )
    end_string: Annotated[str, Text()] = Field(
        alias="endString", description="Marker that closes a reasoning section, e.g. </think>."
    )


class Inference(_Model):
    """Inference config (SDK ``LlmPredictionConfig``); applied per request, never reloads."""

    max_tokens: Annotated[int | Literal[False] | None, Num("integer", ge=1, off=OMIT)] = Field(
        None,
        alias="maxTokens",
        description="Upper bound on generated tokens, or false for no limit.",
    )
    temperature: Annotated[float | None, Num("number", ge=0)] = Field(
        None, description="Randomness; 0 is deterministic."
    )
    stop_strings: StringList = Field(
        None, alias="stopStrings", description="Stop when any of these strings is generated."
    )
    tool_call_stop_strings: StringList = Field(
        None,
        alias="toolCallStopStrings",
        description="Stop with a tool call when any of these is generated.",
    )
    context_overflow_policy: Annotated[
        str | None, Choice(("stopAtLimit", "truncateMiddle", "rollingWindow"))
    ] = Field(
        None, alias="contextOverflowPolicy", description="What to do when the context fills up."
    )
    structured: Structured | None = Field(
        None, description="Constrained output (JSON schema or GBNF grammar)."
    )
    raw_tools: RawTools | None = Field(None, alias="rawTools", description="Raw tool definitions.")
    top_k_sampling: Annotated[int | None, Num("integer", ge=-1, le=500)] = Field(
        None, alias="topKSampling", description="Consider only the K most likely tokens (-1: all)."
    )
    repeat_penalty: Annotated[float | None, Num("number", ge=-1, off=_REJECT_REPEAT)] = Field(
        None, alias="repeatPenalty", description="Penalty on repeated tokens; 1 means none."
    )
    min_p_sampling: Annotated[float | None, Num("number", ge=0, le=1, off=_REJECT_MIN_P)] = Field(
        None, alias="minPSampling", description="Minimum token probability; 0 switches it off."
    )
    top_p_sampling: Annotated[float | None, Num("number", ge=0, le=1, off=_REJECT_TOP_P)] = Field(
        None, alias="topPSampling", description="Nucleus sampling threshold; 1 switches it off."
    )
    cpu_threads: PositiveInt = Field(
        None, alias="cpuThreads", description="CPU threads used for inference."
    )
    prompt_template: PromptTemplate | None = Field(
        None, alias="promptTemplate", description="Prompt template override."
    )
    draft_model: OptText = Field(
        None,
        alias="draftModel",
        description="Draft model key for speculative decoding; empty switches it off.",
    )
    speculative_decoding_num_draft_tokens_exact: PositiveInt = Field(
        None,
        alias="speculativeDecodingNumDraftTokensExact",
        description="Exact number of tokens to draft (MLX).",
    )
    speculative_decoding_min_draft_length_to_consider: Annotated[
        int | None, Num("integer", ge=0)
    ] = Field(
        None,
        alias="speculativeDecodingMinDraftLengthToConsider",
        description="Minimum draft length the main model checks.",
    )
    speculative_decoding_min_continue_drafting_probability: Annotated[
        float | None, Num("number", ge=0, le=1)
    ] = Field(
        None,
        alias="speculativeDecodingMinContinueDraftingProbability",
        description="Stop drafting below this probability.",
    )
    reasoning_parsing: ReasoningParsing | None = Field(
        None, alias="reasoningParsing", description="How reasoning sections are found."
    )


_TTL_DESC = (
    "Seconds an idle instance stays loaded, or a duration like 2h, 30m, 90s; "
    "null: no expiry (the default)."
)


class GlobalFile(_Model):
    """``global.yaml`` (and the user-level global file): defaults for every model."""

    load: LlmLoad | None = Field(
        None, description="Load defaults; embedding models take only the fields they support."
    )
    inference: Inference | None = Field(None, description="Inference defaults for LLMs.")
    ttl: Ttl = Field(None, description=_TTL_DESC)


class RequestOverride(_Model):
    """A model's own override of a named request overlay (``requests.<name>``)."""

    inference: Inference | None = Field(None, description="Inference fields for this request.")


class RequestFile(RequestOverride):
    """``requests/<name>.yaml``: a named per-request inference overlay."""

    description: OptText = Field(None, description="What the request kind is for.")


class ModelFile(_Model):
    """``models/<name>.yaml``: one model instance."""

    model: Annotated[str, Text(non_empty=True)] = Field(
        description="LM Studio model key, e.g. qwen/qwen3-8b."
    )
    identifier: Annotated[str | None, Text(non_empty=True)] = Field(
        None, description="Instance identifier; defaults to the file name."
    )
    type: Annotated[str, Choice(("llm", "embedding"))] = Field(
        "llm", description="llm (default) or embedding."
    )
    ttl: Ttl = Field(None, description=_TTL_DESC)
    deploy: Annotated[bool, Bool()] = Field(
        True, description="Keep this model loaded on reconcile (default true)."
    )
    load: LlmLoad | None = Field(None, description="Load config; changing it needs a reload.")
    inference: Inference | None = Field(None, description="Inference config; applied per request.")
    requests: dict[str, RequestOverride] | None = Field(
        None, description="This model's overrides of named request overlays."
    )
    labels: Annotated[dict[str, Any] | None, Labels()] = Field(
        None,
        description="Labels hosts select models by (runs.labels in hosts.yaml), e.g. "
        "{size: small}; values compare as text.",
    )


class EmbeddingScope(_Model):
    """What environment variables may set for an embedding model."""

    load: EmbeddingLoad | None = None
    ttl: Ttl = Field(None, description=_TTL_DESC)


class EmbeddingModelFile(ModelFile):
    """A model file with ``type: embedding``: embedding load fields only, no inference."""

    load: EmbeddingLoad | None = Field(  # type: ignore[assignment]
        None, description="Embedding load config; changing it needs a reload."
    )


# Fields LM Studio knows that lmstudio SDK 1.5 drops silently (docs/fields.md).
_TS_ONLY = "is not supported by lmstudio SDK 1.5, which would drop it silently"
UNSUPPORTED: Mapping[str, Mapping[str, str]] = {
    "load": {
        name: _TS_ONLY
        for name in (
            "autoFit",
            "maxParallelPredictions",
            "useUnifiedKvCache",
            "promptTemplate",
            "physicalBatchSize",
            "contextCheckpoints",
            "reasoningBudgetMessage",
            "speculativeDraftMtp",
            "speculativeDraftSimple",
            "speculativeDraftModel",
            "speculativeDraftMaxTokens",
            "speculativeDraftMinTokens",
            "speculativeDraftMinContinueProbability",
            "tryDirectIO",
            "llamaCppArgumentsOverride",
            "mlxDiskCache",
            "mlxKvCacheQuantization",
        )
    },
    "gpu": {"numCpuExpertLayersRatio": _TS_ONLY},
    "inference": {
        **{
            name: _TS_ONLY
            for name in (
                "reasoningBudget",
                "toolChoice",
                "toolNaming",
                "presencePenalty",
                "logProbs",
                "enableThinking",
                "userMaxImageDimensionPixels",
                "ignoreModelPreferredMaxImageDimension",
                "xtcProbability",
                "xtcThreshold",
            )
        },
        "raw": "is not supported: lmstudio SDK 1.5 rejects raw KV configs",
    },
}

# Names people write for a field, from other tools and LM Studio's own docs.
SYNONYMS: Mapping[str, str] = {
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


@dataclass(frozen=True)
class Wire:
    """Where a field travels on the wire: its KV key and whether it is a checkbox."""

    key: str
    checkbox: bool = False


# Client field -> LM Studio KV key, as lmstudio SDK 1.5 maps it (docs/fields.md).
WIRE_LOAD: Mapping[str, Wire] = {
    "contextLength": Wire("llm.load.contextLength"),
    "gpu.ratio": Wire("llm.load.llama.acceleration.offloadRatio"),
    "gpu.mainGpu": Wire("load.gpuSplitConfig"),
    "gpu.splitStrategy": Wire("load.gpuSplitConfig"),
    "gpu.disabledGpus": Wire("load.gpuSplitConfig"),
    "gpuStrictVramCap": Wire("load.gpuStrictVramCap"),
    "offloadKVCacheToGpu": Wire("llm.load.offloadKVCacheToGpu"),
    "numExperts": Wire("llm.load.numExperts"),
    "seed": Wire("llm.load.seed", checkbox=True),
    "ropeFrequencyBase": Wire("llm.load.llama.ropeFrequencyBase", checkbox=True),
    "ropeFrequencyScale": Wire("llm.load.llama.ropeFrequencyScale", checkbox=True),
    "evalBatchSize": Wire("llm.load.llama.evalBatchSize"),
    "flashAttention": Wire("llm.load.llama.flashAttention"),
    "keepModelInMemory": Wire("llm.load.llama.keepModelInMemory"),
    "tryMmap": Wire("llm.load.llama.tryMmap"),
    "useFp16ForKVCache": Wire("llm.load.llama.useFp16ForKVCache"),
    "llamaKCacheQuantizationType": Wire("llm.load.llama.kCacheQuantizationType", checkbox=True),
    "llamaVCacheQuantizationType": Wire("llm.load.llama.vCacheQuantizationType", checkbox=True),
}
WIRE_EMBEDDING_LOAD: Mapping[str, Wire] = {
    "contextLength": Wire("embedding.load.contextLength"),
    "gpu.ratio": Wire("embedding.load.llama.acceleration.offloadRatio"),
    "gpu.mainGpu": Wire("load.gpuSplitConfig"),
    "gpu.splitStrategy": Wire("load.gpuSplitConfig"),
    "gpu.disabledGpus": Wire("load.gpuSplitConfig"),
    "ropeFrequencyBase": Wire("embedding.load.llama.ropeFrequencyBase", checkbox=True),
    "ropeFrequencyScale": Wire("embedding.load.llama.ropeFrequencyScale", checkbox=True),
    "keepModelInMemory": Wire("embedding.load.llama.keepModelInMemory"),
    "tryMmap": Wire("embedding.load.llama.tryMmap"),
}
WIRE_INFERENCE: Mapping[str, Wire] = {
    "maxTokens": Wire("llm.prediction.maxPredictedTokens", checkbox=True),
    "temperature": Wire("llm.prediction.temperature"),
    "stopStrings": Wire("llm.prediction.stopStrings"),
    "toolCallStopStrings": Wire("llm.prediction.toolCallStopStrings"),
    "contextOverflowPolicy": Wire("llm.prediction.contextOverflowPolicy"),
    "structured": Wire("llm.prediction.structured"),
    "rawTools": Wire("llm.prediction.tools"),
    "topKSampling": Wire("llm.prediction.topKSampling"),
    "repeatPenalty": Wire("llm.prediction.repeatPenalty", checkbox=True),
    "minPSampling": Wire("llm.prediction.minPSampling", checkbox=True),
    "topPSampling": Wire("llm.prediction.topPSampling", checkbox=True),
    "cpuThreads": Wire("llm.prediction.llama.cpuThreads"),
    "promptTemplate": Wire("llm.prediction.promptTemplate"),
    "draftModel": Wire("llm.prediction.speculativeDecoding.draftModel"),
    "speculativeDecodingNumDraftTokensExact": Wire(
        "llm.prediction.speculativeDecoding.numDraftTokensExact"
    ),
    "speculativeDecodingMinDraftLengthToConsider": Wire(
        "llm.prediction.speculativeDecoding.minDraftLengthToConsider"
    ),
    "speculativeDecodingMinContinueDraftingProbability": Wire(
        "llm.prediction.speculativeDecoding.minContinueDraftingProbability"
    ),
    "reasoningParsing": Wire("llm.prediction.reasoning.parsing"),
}


# --------------------------------------------------------------------------------------------
# Cross-field rules: (section, check) where check(values) yields (path within section, message)

Rule = Callable[[Mapping[str, Any]], list[tuple[tuple[str, ...], str]]]


def _load_rules(load: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    v_cache = load.get("llamaVCacheQuantizationType")
    if v_cache not in (None, False) and load.get("flashAttention") is not True:
        found.append(
            (("llamaVCacheQuantizationType",), "a quantized V cache needs flashAttention: true")
        )
    gpu = load.get("gpu") or {}
    if "mainGpu" in gpu and gpu.get("splitStrategy") != "favorMainGpu":
        found.append(
            (
                ("gpu", "mainGpu"),
                "mainGpu needs splitStrategy: favorMainGpu (lmstudio SDK 1.5 drops it otherwise)",
            )
        )
    return found


def _inference_rules(inference: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    structured = inference.get("structured") or {}
    kind = structured.get("type")
    if kind == "json" and "jsonSchema" not in structured:
        found.append((("structured", "type"), "type json needs jsonSchema"))
    if kind == "gbnf" and "gbnfGrammar" not in structured:
        found.append((("structured", "type"), "type gbnf needs gbnfGrammar"))
    for other, needs in (("jsonSchema", "json"), ("gbnfGrammar", "gbnf")):
        if other in structured and kind != needs:
            found.append((("structured", other), f"{other} needs type: {needs}"))
    tools = inference.get("rawTools") or {}
    if tools.get("type") == "none" and tools.get("tools"):
        found.append((("rawTools", "tools"), "tools need type: toolArray"))
    template = inference.get("promptTemplate") or {}
    kind = template.get("type")
    for needed, when in (("manualPromptTemplate", "manual"), ("jinjaPromptTemplate", "jinja")):
        if kind == when and needed not in template:
            found.append((("promptTemplate", "type"), f"type {when} needs {needed}"))
    return found


RULES: Mapping[str, Rule] = {"load": _load_rules, "inference": _inference_rules}
