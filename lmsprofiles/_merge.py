"""Layer merging and provenance, in one pass.

A layer is a plain tree of dicts, lists and scalars in which three markers may appear, written
in YAML as tags:

* ``Append(items)`` (``!append``): extend the inherited list;
* ``Replace(value)`` (``!replace``): take this value wholesale instead of deep-merging;
* ``RESET`` (``!reset``): drop the inherited value, as if no lower layer had set it.

``None`` (YAML ``null``) is an explicit "unset": the key ends up absent (LM Studio's own default
applies) and its provenance records who unset it. ``False`` is an ordinary value.

:func:`merge_traced` computes the merged tree and, in the same walk, the origin of every leaf,
so the origin recorded for a value is always the layer whose value won.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

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


def settle(value: Any) -> Any:
    """Resolve markers against nothing: what a tagged value means with no lower layer.

    ``RESET`` becomes ``RESET`` (the caller drops the key), ``Append`` its items, ``Replace``
    its settled value; dicts and lists are settled recursively and keys set to ``RESET`` are
    dropped. The result shares no mutable part with ``value``.
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


@dataclass(frozen=True)
class _Unset:
    """Provenance entry for a key a layer set to ``null``."""

    origin: Hashable


def unset_origin(entry: Any) -> Any | None:
    """If ``entry`` (from :func:`merge_traced`) records a ``null``, the origin of that null."""
    return entry.origin if isinstance(entry, _Unset) else None


_ABSENT: Final = RESET  # "nothing here" in the merge state, the same as a reset value


def merge(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge layers, lowest precedence first, into a fresh tree without markers or nulls.

    The layers are not modified. Keys whose final value is ``None`` or ``RESET`` are absent.
    """
    return merge_traced([(layer, {}) for layer in layers])[0]


def trace(layers: Sequence[tuple[Mapping[str, Any], Mapping[Path, Hashable]]]) -> dict[Path, Any]:
    """The origins half of :func:`merge_traced`."""
    return merge_traced(layers)[1]


def merge_traced(
    layers: Iterable[tuple[Mapping[str, Any], Mapping[Path, Hashable]]],
    start: tuple[Mapping[str, Any], Mapping[Path, Any]] | None = None,
) -> tuple[dict[str, Any], dict[Path, Any]]:
    """Merge layers, lowest precedence first, and say which layer set each leaf.

    ``layers`` pairs each layer with its own map from path to origin (a path without an entry
    takes the origin of its nearest written ancestor, else ``None``). ``start`` is an
    earlier result (a merged tree and its origins) to merge onto. The origins map every path
    the merged tree keeps, down to list elements, to the origin of the layer whose value won;
    a path a layer set to ``null`` maps to an entry :func:`unset_origin` recognises. The
    layers are not modified and the result shares nothing mutable with them.
    """
    value: Any = settle(dict(start[0])) if start else {}
    origins: dict[Path, Any] = dict(start[1]) if start else {}
    for data, where in layers:
        value = _overlay(value, dict(data), (), where, None, origins)
    merged: dict[str, Any] = _drop_unset(value) if isinstance(value, dict) else {}
    return merged, origins


def overlay_values(base: Mapping[str, Any], layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``merge_traced(layers, start=(base, ...))[0]`` without the origins, for checks that need
    only the values.

    ``base`` is an earlier merged tree (no markers, no nulls). Nothing is modified; the result
    may share the parts ``layers`` do not touch with ``base``.
    """
    value: Any = dict(base)
    for layer in layers:
        value = _overlay_value(value, layer)
    return value if isinstance(value, dict) else {}


def _overlay_value(base: Any, nxt: Any) -> Any:
    """:func:`_overlay` without origins, dropping nulls as it goes.

    A null left in the merge so far acts as no value at all on everything a later layer
    can write, so it is dropped at once instead of at the end.
    """
    if isinstance(nxt, (str, int, float)):  # bool too
        return nxt
    if isinstance(nxt, dict):
        result = dict(base) if isinstance(base, dict) else {}
        for key, item in nxt.items():
            merged = _overlay_value(result.get(key, _ABSENT), item)
            if merged is _ABSENT:
                result.pop(key, None)
            else:
                result[key] = merged
        return result
    if isinstance(nxt, Append):
        items = [_drop_unset(settle(v)) for v in nxt.items]
        return [*(base if isinstance(base, list) else []), *items]
    fresh = settle(nxt.value if isinstance(nxt, Replace) else nxt)
    return _ABSENT if fresh is RESET or fresh is None else _drop_unset(fresh)


def _drop_under(origins: dict[Path, Any], path: Path) -> None:
    n = len(path)
    for key in [k for k in origins if k[:n] == path]:
        del origins[key]


def _overlay(
    base: Any,
    nxt: Any,
    path: Path,
    where: Mapping[Path, Hashable],
    inherited: Hashable,
    origins: dict[Path, Any],
) -> Any:
    """``nxt`` (one layer's value at ``path``) over ``base`` (the merge so far); fresh data."""
    origin = where.get(path, inherited) if path else inherited
    if isinstance(nxt, dict):
        if not isinstance(base, dict):
            if base is not _ABSENT:
                _drop_under(origins, path)  # a scalar, list or null gives way to a mapping
            base = {}
        result = dict(base)
        for key, item in nxt.items():
            merged = _overlay(result.get(key, _ABSENT), item, (*path, key), where, origin, origins)
            if merged is _ABSENT:
                result.pop(key, None)
            else:
                result[key] = merged
        return result
    if isinstance(nxt, Append):
        start = len(base) if isinstance(base, list) else 0
        if not isinstance(base, list) and base is not _ABSENT:
            _drop_under(origins, path)
        items = [settle(v) for v in nxt.items]
        origins[path] = origin
        for i, item in enumerate(items):
            _record(item, (*path, start + i), where, (*path, i), origin, origins)
        return [*(base if isinstance(base, list) else []), *items]
    if base is not _ABSENT:
        _drop_under(origins, path)
    written = nxt.value if isinstance(nxt, Replace) else nxt
    fresh = settle(written)
    if fresh is RESET:
        return _ABSENT
    _record_fresh(fresh, written, path, where, origin, origins)
    return fresh


def _record_fresh(
    fresh: Any,
    written: Any,
    path: Path,
    where: Mapping[Path, Hashable],
    origin: Hashable,
    origins: dict[Path, Any],
) -> None:
    """Record ``fresh`` (``written`` with markers settled) as set by this layer at ``path``."""
    if fresh is None:
        origins[path] = _Unset(origin)
    elif isinstance(fresh, dict):
        inner = written.value if isinstance(written, Replace) else written
        for key, item in fresh.items():
            sub = (*path, key)
            child = inner.get(key) if isinstance(inner, dict) else item
            _record_fresh(item, child, sub, where, where.get(sub, origin), origins)
    else:
        _record(fresh, path, where, path, origin, origins)


def _record(
    value: Any,
    path: Path,
    where: Mapping[Path, Hashable],
    written: Path,
    origin: Hashable,
    origins: dict[Path, Any],
) -> None:
    """A scalar or list at ``path`` (written at ``written`` in its layer) set by ``origin``."""
    if value is None:
        origins[path] = _Unset(origin)
        return
    origins[path] = where.get(written, origin)
    if isinstance(value, list):
        for i, item in enumerate(value):
            sub, sub_written = (*path, i), (*written, i)
            _record(item, sub, where, sub_written, origins[path], origins)
    elif isinstance(value, dict):
        for key, item in value.items():
            _record(item, (*path, key), where, (*written, key), origins[path], origins)


def _drop_unset(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_unset(v) for k, v in value.items() if v is not None and v is not RESET}
    if isinstance(value, list):
        return [_drop_unset(v) for v in value]
    return value
