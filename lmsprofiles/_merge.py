"""Layer merging and provenance.

A layer is a plain tree of dicts, lists and scalars in which three markers may appear, written
in YAML as tags:

* ``Append(items)`` (``!append``): extend the inherited list;
* ``Replace(value)`` (``!replace``): take this value wholesale instead of deep-merging;
* ``RESET`` (``!reset``): drop the inherited value, as if no lower layer had set it.

``None`` (YAML ``null``) is an explicit "unset": the key ends up absent (LM Studio's own default
applies) and its provenance records who unset it. ``False`` is an ordinary value.

Values are merged with deepmerge; provenance is computed by a separate pure pass over the same
layers (:func:`trace`), because deepmerge copies keys that are new to the base by reference
without calling any strategy.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from deepmerge import Merger

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Append:
    """``!append [...]``: extend the inherited list with ``items``."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Replace:
    """``!replace value``: replace the inherited value wholesale."""

    value: Any


class Reset:
    """``!reset``: drop the inherited value. Use the singleton :data:`RESET`."""

    _instance: Reset | None = None

    def __new__(cls) -> Reset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "RESET"


RESET: Final = Reset()

_MARKERS = (Append, Replace, Reset)


def settle(value: Any) -> Any:
    """Resolve markers against nothing: what a tagged value means with no lower layer.

    ``RESET`` becomes ``RESET`` (the caller drops the key), ``Append`` its items, ``Replace``
    its settled value; dicts and lists are settled recursively and keys set to ``RESET`` are
    dropped.
    """
    if isinstance(value, Append):
        return [settle(v) for v in value.items]
    if isinstance(value, Replace):
        return settle(value.value)
    if isinstance(value, dict):
        settled = {k: settle(v) for k, v in value.items()}
        return {k: v for k, v in settled.items() if v is not RESET}
    if isinstance(value, list):
        return [settle(v) for v in value]
    return value


def _overlay(merger: Merger, path: list[Any], base: Any, nxt: Any) -> Any:
    """deepmerge strategy for every pair that is not dict+dict or list+list."""
    if isinstance(base, _MARKERS):
        base = settle(base)
    if isinstance(nxt, Reset):
        return RESET
    if isinstance(nxt, Replace):
        return nxt.value
    if isinstance(nxt, Append):
        inherited = base if isinstance(base, list) else []
        return [*inherited, *nxt.items]
    if isinstance(base, dict) and isinstance(nxt, dict):
        return merger.value_strategy(path, base, nxt)
    return nxt


_MERGER: Final = Merger(
    type_strategies=[(dict, ["merge"]), (list, ["override"])],
    fallback_strategies=[_overlay],
    type_conflict_strategies=[_overlay],
)


def merge(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge layers, lowest precedence first, into a fresh tree without markers or nulls.

    The layers are not modified. Keys whose final value is ``None`` or ``RESET`` are absent
    from the result.
    """
    result: dict[str, Any] = {}
    for layer in layers:
        result = _MERGER.merge(result, _fresh(dict(layer)))
    merged: dict[str, Any] = _drop_unset(settle(result))
    return merged


def _fresh(value: Any) -> Any:
    """A copy of a layer tree that shares no mutable part with it (deepmerge mutates)."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, Replace):
        return Replace(_fresh(value.value))
    if isinstance(value, Append):
        return Append(tuple(_fresh(v) for v in value.items))
    return value


def _drop_unset(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_unset(v) for k, v in value.items() if v is not None and v is not RESET}
    if isinstance(value, list):
        return [_drop_unset(v) for v in value]
    return value


@dataclass(frozen=True)
class _Unset:
    """Provenance entry for a key a layer set to ``null``."""

    origin: Hashable


def trace(layers: Sequence[tuple[Mapping[str, Any], Mapping[Path, Hashable]]]) -> dict[Path, Any]:
    """Which layer set each leaf of the merged tree.

    ``layers`` pairs each layer with its own map from path to origin (a layer without an
    entry for a path passes ``None``). The result maps every path that :func:`merge` keeps,
    down to list elements, to the origin of the layer that set it; paths that a layer set to
    ``null`` map to ``Unset(origin)`` (use :func:`unset_origin` to tell them apart).
    """
    origins: dict[Path, Any] = {}
    for data, where in layers:
        _trace_map(data, (), where, origins)
    return origins


def unset_origin(entry: Any) -> Any | None:
    """If ``entry`` (from :func:`trace`) records a ``null``, the origin of that null."""
    return entry.origin if isinstance(entry, _Unset) else None


def _drop_under(origins: dict[Path, Any], path: Path) -> None:
    n = len(path)
    for key in [k for k in origins if k[:n] == path]:
        del origins[key]


def _trace_map(
    data: Mapping[str, Any], path: Path, where: Mapping[Path, Hashable], origins: dict[Path, Any]
) -> None:
    for key, value in data.items():
        _trace_value(value, (*path, key), where, origins)


def _trace_value(
    value: Any, path: Path, where: Mapping[Path, Hashable], origins: dict[Path, Any]
) -> None:
    origin = where.get(path)
    if isinstance(value, Reset):
        _drop_under(origins, path)
    elif value is None:
        _drop_under(origins, path)
        origins[path] = _Unset(origin)
    elif isinstance(value, Replace):
        _drop_under(origins, path)
        _trace_fresh(value.value, path, where, origins, origin)
    elif isinstance(value, Append):
        start = _list_length(origins, path)
        if start == 0:
            _drop_under(origins, path)
        origins[path] = origin
        for i in range(len(value.items)):
            origins[(*path, start + i)] = where.get((*path, i), origin)
    elif isinstance(value, dict):
        if path in origins:
            _drop_under(origins, path)  # a scalar, list or null gives way to a mapping
        _trace_map(value, path, where, origins)
    else:
        _drop_under(origins, path)
        _trace_fresh(value, path, where, origins, origin)


def _trace_fresh(
    value: Any,
    path: Path,
    where: Mapping[Path, Hashable],
    origins: dict[Path, Any],
    origin: Hashable,
) -> None:
    """Record ``value`` (markers settled against nothing) as set entirely by ``origin``."""
    value = settle(value) if isinstance(value, (Append, Replace)) else value
    if isinstance(value, Reset):
        return
    if value is None:
        origins[path] = _Unset(origin)
    elif isinstance(value, dict):
        for key, item in value.items():
            _trace_value(item, (*path, key), where, origins)
    elif isinstance(value, list):
        origins[path] = origin
        for i in range(len(value)):
            origins[(*path, i)] = where.get((*path, i), origin)
    else:
        origins[path] = origin


def _list_length(origins: Mapping[Path, Any], path: Path) -> int:
    if path not in origins or isinstance(origins[path], _Unset):
        return 0
    n = 0
    while (*path, n) in origins:
        n += 1
    return n
