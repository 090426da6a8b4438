"""The quick check: whether a value is certainly valid, decided without pydantic.

The pydantic models (:mod:`lmsprofiles._fields`) are the validator of record: they decide
every answer and word every message. :func:`valid` only spares them the values they would
certainly accept: it is True only when the model of the shape accepts the value as
:func:`lmsprofiles._merge.settle` settles its merge markers, and False whenever it is not sure
(anything wrong, but also a value with a unit left as text, a key spelled another way than
the alias, a marker inside a free-form value). On False the caller validates with pydantic,
which gives the answer and its messages; so a tree without a problem is validated without
importing pydantic at all. The checks are built from the shapes
(:mod:`lmsprofiles._shapes`), one per value kind of the field table, and tests compare them
with the models on generated values, hostile ones included.

This module imports only the standard library (and, for host addresses, the parser of
``--host``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, Final

from lmsprofiles import _fieldtable as t
from lmsprofiles._merge import RESET, Append, Replace
from lmsprofiles._shapes import SHAPES

__all__ = ["apart", "valid", "valid_field"]

Check = Callable[[Any], bool]

_MARKERS: Final = (Append, Replace, type(RESET))
_ABSENT: Final = object()


def valid(shape: str, value: Any) -> bool:
    """True if the model of the shape ``shape`` certainly accepts ``value`` (merge markers
    settled); False if that is not certain."""
    return _mapping(shape)(value)


def valid_field(shape: str, key: str, value: Any) -> bool:
    """:func:`valid` of ``{key: value}``."""
    return _mapping(shape)({key: value})


@functools.cache
def apart(shape: str) -> bool:
    """Whether the model of ``shape`` checks each field on its own: no field is required, so
    a mapping is valid when each of its fields is valid alone."""
    return not any(spec.required for spec in SHAPES[shape].specs)


def _settled(value: Any) -> Any:
    """A mapping value as settling leaves it: ``_ABSENT`` for a reset (the key is dropped),
    an ``!append`` as its list, a ``!replace`` as what it holds."""
    while type(value) is Replace:
        value = value.value
    if value is RESET:
        return _ABSENT
    if type(value) is Append:
        return list(value.items)
    return value


@functools.cache
def _mapping(shape: str) -> Check:
    """The check of a mapping of ``shape``'s fields."""
    specs = SHAPES[shape].specs
    checks: dict[str, Check] = {}
    for spec in specs:
        check = _kind(spec.kind)
        checks[spec.key] = check if spec.required else _nullable(check)
    required = frozenset(spec.key for spec in specs if spec.required)
    needed = len(required)

    def check_mapping(value: Any) -> bool:
        if type(value) is not dict:
            return False
        found = 0
        for key, item in value.items():
            check = checks.get(key)
            if check is None:
                return False  # unknown, or another spelling of a key: pydantic decides
            if type(item) in _MARKERS:
                item = _settled(item)
                if item is _ABSENT:
                    if key in required:
                        return False
                    continue
            if not check(item):
                return False
            if needed and key in required:
                found += 1
        return found == needed

    return check_mapping


def _nullable(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _kind(kind: t.Kind) -> Check:
    """The check of a value of ``kind`` (null not included)."""
    if isinstance(kind, t.Num):
        return _number(kind)
    if isinstance(kind, t.Bool):
        return lambda value: type(value) is bool
    if isinstance(kind, t.Choice):
        options = frozenset(kind.options)
        off = kind.off is not None and kind.off.mode == "omit"
        return lambda value: (type(value) is str and value in options) or (off and value is False)
    if isinstance(kind, t.Address):
        return _address
    if isinstance(kind, t.Name):
        return _name
    if isinstance(kind, t.Text):
        if kind.non_empty:
            return lambda value: type(value) is str and value != ""
        return lambda value: type(value) is str
    if isinstance(kind, t.Strings):
        return lambda value: (
            type(value) is list and all(type(item) is str and item != "" for item in value)
        )
    if isinstance(kind, t.Indices):
        return lambda value: (
            type(value) is list and all(type(item) is int and item >= 0 for item in value)
        )
    if isinstance(kind, t.Ratio):
        return _ratio
    if isinstance(kind, t.JsonObject):
        no_underscores = kind.no_underscores
        return lambda value: type(value) is dict and _json(value, no_underscores)
    if isinstance(kind, t.Labels):
        return _labels
    if isinstance(kind, t.Nested):
        return _nested(kind)
    return lambda value: False  # pragma: no cover - a kind without a check: pydantic decides


def _number(kind: t.Num) -> Check:
    integer = kind.kind == "integer"
    low = -math.inf if kind.ge is None else kind.ge
    high = math.inf if kind.le is None else kind.le
    off = kind.off is not None and kind.off.mode == "omit"

    def check_number(value: Any) -> bool:
        kind_ = type(value)
        if kind_ is int or (kind_ is float and not integer and math.isfinite(value)):
            return bool(low <= value <= high)
        return off and value is False  # text with a unit that did not read: pydantic decides

    return check_number


def _ratio(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return value in ("max", "off")
    if kind is int or (kind is float and math.isfinite(value)):
        return bool(0 <= value <= 1)
    return False


def _address(value: Any) -> bool:
    """A host address as ``--host`` takes it (``HOST[:PORT]``)."""
    from lmsprofiles._reconcile._host import parse_host

    if type(value) is not str or value == "":
        return False
    try:
        parse_host(value)
    except ValueError:
        return False
    return True


def _name(value: Any) -> bool:
    """A name LM Studio matches as written: not blank, no odd character."""
    return type(value) is str and value.strip() != "" and t.odd_character(value) is None


def _labels(value: Any) -> bool:
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if type(key) is not str or key == "":
            return False
        kind = type(item)
        if not (kind is str or kind is int or kind is bool or kind is float):
            return False
        if kind is float and not math.isfinite(item):
            return False
    return True


def _json(value: Any, no_underscores: bool) -> bool:
    """A free-form value: plain YAML data, keys strings, no NaN or infinity (and, for tool
    parameters, no key with an underscore, which the SDK would rename)."""
    todo = [value]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str or (no_underscores and "_" in key):
                    return False
            todo.extend(item.values())
        elif kind is list:
            todo.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif not (kind is str or kind is int or kind is bool or item is None):
            return False  # a merge marker inside a free-form value: pydantic decides
    return True


def _nested(kind: t.Nested) -> Check:
    name = kind.model

    def check_nested(value: Any) -> bool:
        return _mapping(name)(value)

    if kind.container == "list":
        return lambda value: type(value) is list and all(check_nested(item) for item in value)
    if kind.container == "dict":

        def check_dict(value: Any) -> bool:
            if type(value) is not dict:
                return False
            for key, item in value.items():
                if type(key) is not str:
                    return False
                if type(item) in _MARKERS:
                    item = _settled(item)
                    if item is _ABSENT:
                        continue
                if not check_nested(item):
                    return False
            return True

        return check_dict
    return check_nested
