"""The profile schema: pydantic models built from the shapes, and our wording of errors.

Every model here is made by :func:`make_model` from a shape of :mod:`lmsprofiles._shapes`
(the load and inference shapes come from the rows of :mod:`lmsprofiles._fieldtable`;
``hosts.yaml``'s models are made in :mod:`lmsprofiles._inventory`). Each value kind becomes a
pydantic type with pydantic's own constraints (strict types, ``Ge``/``Le``, ``Literal``,
``MinLen``; NaN and infinity are refused by ``allow_inf_nan=False``), and carries the kind as
metadata so that :func:`errors` can say what a field takes in one clear sentence. Custom
validators remain only for what pydantic constraints cannot say: ``false`` on a checkbox
field, values with a unit, free-form JSON schemas and host addresses.

These models are the validator of record: they decide every answer and every message.
:mod:`lmsprofiles._quick` may only accept, without them, values they certainly accept.

The models validate *merged* values whose keys are already the SDK's camelCase names (see
:mod:`lmsprofiles._keys`); ``null`` is accepted on every key but a required one (it unsets a
value).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Final, Literal, cast

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
from lmsprofiles import _shapes as s
from lmsprofiles._shapes import Shape, Spec
from lmsprofiles._units import UNIT_PATTERNS, with_unit
from lmsprofiles._yaml import describe

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


def _name(value: Any) -> Any:
    if value is None:
        return value
    if not value.strip():
        raise _custom(f"must not be blank (got {value!r})")
    odd = t.odd_character(value)
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
        extra += [AfterValidator(_name), _Pattern(t.NAME_PATTERN)]
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


def _definition(spec: Spec) -> tuple[Any, Any]:
    """The ``(annotation, FieldInfo)`` pair of :func:`pydantic.create_model` for ``spec``."""
    name = t.snake(spec.key)
    info = Field(
        ... if spec.required else spec.default,
        alias=spec.key if spec.key != name else None,
        description=spec.description or None,
    )
    return _annotation(spec.kind, nullable=not spec.required), info


def make_model(shape: Shape) -> type[BaseModel]:
    """The pydantic model of ``shape``, named after it (its nested shapes' models are made
    first)."""
    fields: dict[str, Any] = {t.snake(spec.key): _definition(spec) for spec in shape.specs}
    return create_model(
        shape.name, __base__=_Model, __doc__=shape.doc, __module__=__name__, **fields
    )


def model(name: str) -> type[BaseModel]:
    """The model of the shape ``name``, made when first asked for (``hosts.yaml``'s shapes
    are declared by :mod:`lmsprofiles._inventory`)."""
    found = _MODELS.get(name)
    if found is None:
        shape = s.SHAPES[name]
        for spec in shape.specs:  # the models it nests first
            if isinstance(spec.kind, t.Nested):
                model(spec.kind.model)
        found = make_model(shape)
    return found


Gpu = make_model(s.GPU)
EmbeddingLoad = make_model(s.EMBEDDING_LOAD)
LlmLoad = make_model(s.LLM_LOAD)
Structured = make_model(s.STRUCTURED)
ToolFunction = make_model(s.TOOL_FUNCTION)
Tool = make_model(s.TOOL)
RawTools = make_model(s.RAW_TOOLS)
ManualPromptTemplate = make_model(s.MANUAL_PROMPT_TEMPLATE)
JinjaPromptTemplate = make_model(s.JINJA_PROMPT_TEMPLATE)
PromptTemplate = make_model(s.PROMPT_TEMPLATE)
ReasoningParsing = make_model(s.REASONING_PARSING)
Inference = make_model(s.INFERENCE)
GlobalFile = make_model(s.GLOBAL_FILE)
RequestOverride = make_model(s.REQUEST_OVERRIDE)
RequestFile = make_model(s.REQUEST_FILE)
ModelFile = make_model(s.MODEL_FILE)
EmbeddingScope = make_model(s.EMBEDDING_SCOPE)
EmbeddingModelFile = make_model(s.EMBEDDING_MODEL_FILE)


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
