"""The profile schema: pydantic models built from the field table, and our wording of errors.

The load and inference models (:data:`LlmLoad`, :data:`EmbeddingLoad`, :data:`Gpu`,
:data:`Inference`) are built from the rows of :mod:`lmsprofiles._fieldtable`; the models of
nested values and of the files are built here from the same value kinds (``hosts.yaml``'s, in
:mod:`lmsprofiles._inventory`, too). Each kind becomes a
pydantic type with pydantic's own constraints (strict types, ``Ge``/``Le``, ``Literal``,
``MinLen``; NaN and infinity are refused by ``allow_inf_nan=False``), and carries the kind as
metadata so that :func:`errors` can say what a field takes in one clear sentence, and
environment variables can be read by the type of the field they set. Custom validators remain
only for what pydantic constraints cannot say: ``false`` on a checkbox field, values with a
unit, free-form JSON schemas and host addresses.

The models validate *merged* values whose keys are already the SDK's camelCase names (see
:mod:`lmsprofiles._keys`); ``null`` is accepted on every key but a required one (it unsets a
value). A new kind of file is one more :func:`make_model` call with a :class:`Spec` per field.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Final, Literal, NamedTuple, cast

from annotated_types import Ge, Le, MinLen
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    ValidationError,
    WrapValidator,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from lmsprofiles import _fieldtable as t
from lmsprofiles._yaml import describe

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
    check = next((m for m in metadata if isinstance(m, t.Num)), None)
    if check is None or check.unit is None or not isinstance(value, str):
        return value
    if not any(c.isalpha() for c in value):
        return value
    try:
        return with_unit(value, check.unit)
    except ValueError:
        return value


# --------------------------------------------------------------------------------------------
# Kinds as pydantic types


def _custom(message: str) -> PydanticCustomError:
    """An error whose message is already ours (:func:`errors` passes it through)."""
    return PydanticCustomError("lmsprofiles", "{msg}", {"msg": message})


def _switch_off(value: Any, handler: Callable[[Any], Any]) -> Any:
    # "false means off" is a checkbox field's own semantics, not a constraint pydantic has
    # (Literal[False] would also take 0): false is kept, anything else is validated as usual
    return False if value is False else handler(value)


def _read_unit(unit: str) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        # a value with a unit ("2h", "8k") is read as the integer it stands for; pydantic has
        # no such type, and a wrong unit gets a message with the spelling that works
        if isinstance(value, str) and any(c.isalpha() for c in value):
            try:
                return with_unit(value, unit)
            except ValueError as exc:
                raise _custom(str(exc)) from None
        return value

    return read


def _json_checker(no_underscores: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        # a free-form JSON schema is Any to pydantic: NaN and infinity deep inside it, and
        # the SDK's renaming of snake_case keys in tool parameters, are checked here
        if value is None:
            return value
        where = _not_finite(value)
        if where is not None:
            path, number = where
            raise _custom(
                f"numbers in it must not be NaN or infinity (got {describe(number)} at {path})"
            )
        bad = _underscore_key(value) if no_underscores else None
        if bad is not None:
            raise _custom(
                f"key {bad!r} contains '_': lmstudio SDK 1.5 renames such keys in tool "
                f"parameters (it would send {_camel(bad)!r}); rename it, or give the tool to "
                "the SDK's act() instead"
            )
        return value

    return check


def _address(value: Any) -> Any:
    # HOST[:PORT] is a small grammar of its own (names, IPv4, a bracketed IPv6 address, a port
    # from 1 to 65535): the parser --host uses says what is wrong in its own words. Imported
    # here: it is needed only where there is an inventory
    from lmsprofiles._reconcile._host import parse_host

    if value is None:
        return value
    try:
        return parse_host(value)
    except ValueError as exc:
        raise _custom(str(exc)) from None


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


def _name(value: Any) -> Any:
    if value is None:
        return value
    if not value.strip():
        raise _custom(f"must not be blank (got {value!r})")
    odd = odd_character(value)
    if odd is not None:
        raise _custom(f"must not contain {odd[0]!r} ({odd[1]}; got {value!r})")
    return value


class _Also:
    """JSON Schema: the value may also be ``alternative`` (``false``, a string with a unit)."""

    def __init__(self, alternative: Mapping[str, Any]) -> None:
        self.alternative = alternative

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        options = list(found.get("anyOf", [found]))
        last = len(options) - (options[-1:] == [{"type": "null"}])  # null stays last
        return {"anyOf": [*options[:last], dict(self.alternative), *options[last:]]}


class _Pattern:
    """JSON Schema: a string value matches ``pattern``."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        for option in found.get("anyOf", [found]):
            if option.get("type") == "string":
                option["pattern"] = self.pattern
        return found


def _annotated(base: Any, *metadata: Any) -> Any:
    return cast(Any, Annotated)[(base, *metadata)]


def _number(kind: t.Num) -> Any:
    bounds: list[Any] = [Ge(kind.ge)] if kind.ge is not None else []
    bounds += [Le(kind.le)] if kind.le is not None else []
    return _annotated(int if kind.kind == "integer" else float, Strict(), *bounds)


def _literal(options: Sequence[str]) -> Any:
    return cast(Any, Literal)[tuple(options)]


def _value_type(kind: t.Kind) -> Any:
    """The pydantic type of a value of ``kind`` (``None`` not included)."""
    if isinstance(kind, t.Num):
        return _number(kind)
    if isinstance(kind, t.Bool):
        return Annotated[bool, Strict()]
    if isinstance(kind, t.Choice):
        return _literal(kind.options)
    if isinstance(kind, t.Text):
        return Annotated[str, Strict(), MinLen(1)] if kind.non_empty else Annotated[str, Strict()]
    if isinstance(kind, t.Strings):
        return Annotated[list[Annotated[str, Strict(), MinLen(1)]], Strict()]
    if isinstance(kind, t.Indices):
        return Annotated[list[Annotated[int, Strict(), Ge(0)]], Strict()]
    if isinstance(kind, t.Ratio):
        return Annotated[float, Strict(), Ge(0), Le(1)] | _literal(("max", "off"))
    if isinstance(kind, t.JsonObject):
        return Annotated[dict[str, Any], Strict()]
    if isinstance(kind, t.Labels):
        return Annotated[
            dict[
                Annotated[str, Strict(), MinLen(1)],
                Annotated[str, Strict()]
                | Annotated[int, Strict()]
                | Annotated[float, Strict()]
                | Annotated[bool, Strict()],
            ],
            Strict(),
        ]
    if isinstance(kind, t.Nested):
        nested = _MODELS[kind.model]
        if kind.container == "list":
            return list[nested]  # type: ignore[valid-type]
        if kind.container == "dict":
            return dict[str, nested]  # type: ignore[valid-type]
        return nested
    raise TypeError(f"no pydantic type for {kind!r}")  # pragma: no cover - every kind has one


def _annotation(kind: t.Kind, *, nullable: bool = True) -> Any:
    """The field annotation for ``kind``: its type (or ``None``), the validators pydantic
    constraints cannot express, and ``kind`` itself as metadata for :func:`errors`."""
    extra: list[Any] = []
    off = getattr(kind, "off", None)
    if off is not None and off.mode == "omit":
        extra += [WrapValidator(_switch_off), _Also({"const": False})]
    if isinstance(kind, t.Num) and kind.unit is not None:
        pattern = UNIT_PATTERNS[kind.unit]
        also = _Also({"type": "string", "pattern": pattern})
        extra += [BeforeValidator(_read_unit(kind.unit)), also]
    if isinstance(kind, t.JsonObject):
        extra.append(AfterValidator(_json_checker(kind.no_underscores)))
    if isinstance(kind, t.Address):
        extra.append(AfterValidator(_address))
    if isinstance(kind, t.Name):
        extra += [AfterValidator(_name), _Pattern(NAME_PATTERN)]
    value = _value_type(kind)
    return _annotated(value | None if nullable else value, *extra, kind)


# --------------------------------------------------------------------------------------------
# Models


_MODELS: dict[str, type[BaseModel]] = {}
"""Every profile model, by name (the title of its validation errors)."""


class _Model(BaseModel):
    """Base of the profile models: unknown keys are errors, NaN and infinity are no numbers."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _MODELS[cls.__name__] = cls


class Spec(NamedTuple):
    """One field of a model: its camelCase key, what it takes and what it means.

    ``required`` fields have no default and cannot be ``null`` (it would unset them); the
    others default to ``default`` and take ``null``.
    """

    key: str
    kind: t.Kind
    description: str = ""
    required: bool = False
    default: Any = None

    def definition(self) -> tuple[Any, Any]:
        """The ``(annotation, FieldInfo)`` pair of :func:`pydantic.create_model`."""
        name = t.snake(self.key)
        info = Field(
            ... if self.required else self.default,
            alias=self.key if self.key != name else None,
            description=self.description or None,
        )
        return _annotation(self.kind, nullable=not self.required), info


def make_model(
    name: str, doc: str, *specs: Spec, base: type[BaseModel] = _Model
) -> type[BaseModel]:
    """A profile model with a field per spec (replacing a field of ``base`` of that key)."""
    fields: dict[str, Any] = {t.snake(spec.key): spec.definition() for spec in specs}
    return create_model(name, __base__=base, __doc__=doc, __module__=__name__, **fields)


def _from_rows(
    name: str, doc: str, rows: Sequence[t.Row], group: Spec | None = None
) -> type[BaseModel]:
    """A model of the fields of ``rows``; the rows inside ``group`` (``gpu.ratio`` inside
    ``gpu``) are represented by the group's field, where the first of them is."""
    specs: list[Spec] = []
    for row in rows:
        if group is None or row.group != group.key:
            assert row.value is not None, row.name
            specs.append(Spec(row.key, row.value, row.description))
        elif group not in specs:
            specs.append(group)
    return make_model(name, doc, *specs)


_GPU = Spec("gpu", t.Nested("Gpu"), "GPU offload and split.")

TTL = Spec(
    "ttl",
    t.Num("integer", ge=1, unit="seconds"),
    "Seconds an idle instance stays loaded, or a duration like 2h, 30m, 90s; "
    "null: no expiry (the default).",
)

Gpu = _from_rows(
    "Gpu",
    "How the model is spread over GPUs (``load.gpu``).",
    [row for row in t.rows("load", accepted=True) if row.group == "gpu"],
)
EmbeddingLoad = _from_rows(
    "EmbeddingLoad",
    "Load config of an embedding model (SDK ``EmbeddingLoadModelConfig``).",
    t.rows("load", "embedding", accepted=True),
    _GPU,
)
LlmLoad = _from_rows(
    "LlmLoad",
    "Load config of an LLM (SDK ``LlmLoadModelConfig``); changing it needs a reload.",
    t.rows("load", "llm", accepted=True),
    _GPU,
)

# Nested values of inference fields

Structured = make_model(
    "Structured",
    "Constrained output: a JSON schema or a GBNF grammar.",
    Spec(
        "type",
        t.Choice(("none", "json", "gbnf")),
        "none, json (needs jsonSchema) or gbnf (needs gbnfGrammar).",
        required=True,
    ),
    Spec("jsonSchema", t.JsonObject(), "JSON schema the output must satisfy."),
    Spec("gbnfGrammar", t.Text(), "GBNF grammar the output must satisfy."),
)
ToolFunction = make_model(
    "ToolFunction",
    "A function tool offered to the model.",
    Spec("name", t.Text(non_empty=True), "Function name.", required=True),
    Spec("description", t.Text(), "What the function does."),
    Spec(
        "parameters",
        t.JsonObject(no_underscores=True),
        "JSON schema of the arguments (type: object).",
    ),
)
Tool = make_model(
    "Tool",
    "One raw tool definition.",
    Spec("type", t.Choice(("function",)), "Always 'function'.", required=True),
    Spec("function", t.Nested("ToolFunction"), required=True),
)
RawTools = make_model(
    "RawTools",
    "Raw tool definitions (deprecated in LM Studio in favour of the SDK's act()).",
    Spec("type", t.Choice(("none", "toolArray")), "none, or toolArray with tools.", required=True),
    Spec("tools", t.Nested("Tool", "list")),
    Spec("force", t.Bool(), "Force a tool call."),
)
ManualPromptTemplate = make_model(
    "ManualPromptTemplate",
    "The six strings of a manual prompt template.",
    *(
        Spec(f"{when}{part}", t.Text(), required=True)
        for part in ("System", "User", "Assistant")
        for when in ("before", "after")
    ),
)
JinjaPromptTemplate = make_model(
    "JinjaPromptTemplate",
    "A Jinja prompt template.",
    Spec("template", t.Text(), "The Jinja template text.", required=True),
)
PromptTemplate = make_model(
    "PromptTemplate",
    "Prediction-time prompt template override.",
    Spec(
        "type",
        t.Choice(("manual", "jinja")),
        "manual (needs manualPromptTemplate) or jinja (needs jinjaPromptTemplate).",
        required=True,
    ),
    Spec("stopStrings", t.Strings(), "Stop strings that belong to the template.", required=True),
    Spec("manualPromptTemplate", t.Nested("ManualPromptTemplate")),
    Spec("jinjaPromptTemplate", t.Nested("JinjaPromptTemplate")),
)
ReasoningParsing = make_model(
    "ReasoningParsing",
    "How reasoning sections are found in the output.",
    Spec("enabled", t.Bool(), "Parse reasoning sections.", required=True),
    Spec(
        "startString",
        t.Text(),
        "Marker that opens a reasoning section, e.g. <think>.",
        required=True,
    ),
    Spec(
        "endString",
        t.Text(),
        "Marker that closes a reasoning section, e.g. </think>.",
        required=True,
    ),
)
Inference = _from_rows(
    "Inference",
    "Inference config (SDK ``LlmPredictionConfig``); applied per request, never reloads.",
    t.rows("inference", accepted=True),
)

# The files

GlobalFile = make_model(
    "GlobalFile",
    "``global.yaml`` (and the user-level global file): defaults for every model.",
    Spec(
        "load",
        t.Nested("LlmLoad"),
        "Load defaults; embedding models take only the fields they support.",
    ),
    Spec("inference", t.Nested("Inference"), "Inference defaults for LLMs."),
    TTL,
)
RequestOverride = make_model(
    "RequestOverride",
    "A model's own override of a named request overlay (``requests.<name>``).",
    Spec("inference", t.Nested("Inference"), "Inference fields for this request."),
)
RequestFile = make_model(
    "RequestFile",
    "``requests/<name>.yaml``: a named per-request inference overlay.",
    Spec("description", t.Text(), "What the request kind is for."),
    base=RequestOverride,
)
ModelFile = make_model(
    "ModelFile",
    "``models/<name>.yaml``: one model instance.",
    Spec(
        "model",
        t.Name(),
        "LM Studio model key, e.g. qwen/qwen3-8b.",
        required=True,
    ),
    Spec(
        "identifier",
        t.Name(),
        "Instance identifier; defaults to the file name.",
    ),
    Spec("type", t.Choice(("llm", "embedding")), "llm (default) or embedding.", default="llm"),
    TTL,
    Spec(
        "deploy",
        t.Bool(),
        "Keep this model loaded on reconcile (default true).",
        default=True,
    ),
    Spec("load", t.Nested("LlmLoad"), "Load config; changing it needs a reload."),
    Spec("inference", t.Nested("Inference"), "Inference config; applied per request."),
    Spec(
        "requests",
        t.Nested("RequestOverride", "dict"),
        "This model's overrides of named request overlays.",
    ),
    Spec(
        "labels",
        t.Labels(),
        "Labels hosts select models by (runs.labels in hosts.yaml), e.g. {size: small}; "
        "values compare as text.",
    ),
)
EmbeddingScope = make_model(
    "EmbeddingScope",
    "What environment variables may set for an embedding model.",
    Spec("load", t.Nested("EmbeddingLoad")),
    TTL,
)
EmbeddingModelFile = make_model(
    "EmbeddingModelFile",
    "A model file with ``type: embedding``: embedding load fields only, no inference.",
    Spec(
        "load",
        t.Nested("EmbeddingLoad"),
        "Embedding load config; changing it needs a reload.",
    ),
    base=ModelFile,
)


# --------------------------------------------------------------------------------------------
# Errors in our words

_STRUCTURAL = frozenset({"missing", "extra_forbidden"})
"""Errors about keys rather than values: their callers word them."""


def errors(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors of ``exc`` (raised by one of the models here) in our words.

    An error about a field's value becomes one error at that field (``loc`` ends at it, even
    when pydantic reports each member of a union or each bad list item), whose ``msg`` says
    what the field takes: ``must be an integer >= 1 (got 0)``, with ``type`` ``lmsprofiles``.
    ``null`` on a required key says that it cannot be unset. Errors about keys (missing,
    unknown) and about the shape of the items of lists and mappings of mappings are left as
    pydantic reports them.
    """
    root = _MODELS.get(exc.title)
    found: list[dict[str, Any] | tuple[Any, ...]] = []
    groups: dict[tuple[Any, ...], tuple[t.Kind, bool, list[Any]]] = {}
    for error in exc.errors(include_url=False):
        leaf = None if root is None or error["type"] in _STRUCTURAL else _leaf(root, error["loc"])
        if leaf is None:
            found.append(dict(error))
            continue
        loc, kind, required = leaf
        index = error["loc"][len(loc) : len(loc) + 1]
        if type(kind) in _ITEM_WORDS and index and isinstance(index[0], int):
            loc = (*loc, index[0])  # one item of a list of values: a problem of its own
        if loc not in groups:
            groups[loc] = (kind, required, [])
            found.append(loc)
        groups[loc][2].append(error)
    result: list[dict[str, Any]] = []
    for item in found:
        if isinstance(item, dict):
            result.append(item)
            continue
        kind, required, group = groups[item]
        first = group[0]
        after = first["loc"][len(item) :]  # union members, list items, mapping keys
        if type(kind) in _ITEM_WORDS and isinstance(item[-1], int):
            words = _ITEM_WORDS[type(kind)]
            message = f"list item {item[-1]} must be {words} (got {describe(first['input'])})"
        else:
            message = _wording(kind, group, after, required=required)
        result.append({"type": "lmsprofiles", "loc": item, "msg": message, "input": first["input"]})
    return result


_ITEM_WORDS: Final[Mapping[type[t.Kind], str]] = {
    t.Strings: "a non-empty string",
    t.Indices: "a GPU index (an integer >= 0)",
}
"""What each item of a list of values of these kinds must be."""


def _leaf(root: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[Any, t.Kind, bool] | None:
    """The location of the field an error is about, its kind and whether it is required
    (None: the error is not about a field's value)."""
    model_: type[BaseModel] = root
    i = 0
    while i < len(loc):
        key = str(loc[i])
        kind = _kinds(model_).get(key)
        i += 1
        if kind is None:
            return None
        if not isinstance(kind, t.Nested) or i == len(loc):  # a nested mapping or list itself
            return tuple(loc[:i]), kind, key in _required(model_)
        i += 1 if kind.container else 0
        if i >= len(loc):
            return None  # an item of a list or mapping of mappings: its shape is wrong
        model_ = _MODELS[kind.model]
    return None


@functools.cache
def _kinds(model_: type[BaseModel]) -> dict[str, t.Kind]:
    """The kind of every field of ``model_``, by key (alias)."""
    found: dict[str, t.Kind] = {}
    for name, info in model_.model_fields.items():
        kind = next((m for m in info.metadata if isinstance(m, t.Kind)), None)
        if kind is not None:
            found[info.alias or name] = kind
    return found


@functools.cache
def _required(model_: type[BaseModel]) -> frozenset[str]:
    """The keys (aliases) of the required fields of ``model_``."""
    return frozenset(
        info.alias or name for name, info in model_.model_fields.items() if info.is_required()
    )


def _wording(kind: t.Kind, group: list[Any], after: tuple[Any, ...], *, required: bool) -> str:
    """What is wrong with a field's value: ``group`` are pydantic's errors about it, ``after``
    the rest of the first one's location below the field."""
    ours = next((e for e in group if e["type"] == "lmsprofiles"), None)
    if ours is not None:
        return str(ours["msg"])
    value = group[0]["input"]
    if value is None and required and not after:
        return f"must be {kind.words} (got null; a required key cannot be unset)"
    if isinstance(kind, t.Labels) and after:  # one label: its name or its value
        if after[-1] == "[key]":
            return f"label names must be non-empty strings (got {describe(after[0])})"
        return (
            f"label {after[0]!r} must be a string, a number or true/false (got {describe(value)})"
        )
    off = getattr(kind, "off", None)
    if value is False and off is not None and off.mode == "reject":
        return str(off.message)
    # an error about an item of a list: the field's value is that list
    deeper = any(isinstance(p, int) for p in after)
    got = describe([]) if deeper else describe(value)
    if any(e["type"] == "string_too_short" for e in group) and isinstance(kind, t.Text):
        return f"must not be empty (got {got})"
    not_finite = any(e["type"] == "finite_number" for e in group)
    return f"must be {kind.words}{', not NaN or infinity' if not_finite else ''} (got {got})"


def label_text(value: Any) -> str:
    """A label value as it is compared: ``true``/``false`` for booleans, else its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------------------------
# Free-form values


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
