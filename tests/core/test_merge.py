"""Merge rules: unit cases for every rule, and random layer stacks against a reference."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lmsprofiles._merge import (
    RESET,
    Append,
    Path,
    Replace,
    merge,
    merge_traced,
    trace,
    unset_origin,
)


def test_maps_deep_merge() -> None:
    low = {"load": {"gpu": {"ratio": 0.5, "mainGpu": 1}, "contextLength": 4096}}
    high = {"load": {"gpu": {"ratio": "max"}}}
    assert merge([low, high]) == {
        "load": {"gpu": {"ratio": "max", "mainGpu": 1}, "contextLength": 4096}
    }


def test_lists_replace() -> None:
    assert merge([{"s": ["a", "b"]}, {"s": ["c"]}]) == {"s": ["c"]}


def test_append_extends_inherited_list() -> None:
    assert merge([{"s": ["a"]}, {"s": Append(("b",))}, {"s": Append(("c",))}]) == {
        "s": ["a", "b", "c"]
    }


def test_append_without_inherited_list_starts_one() -> None:
    assert merge([{}, {"s": Append(("b",))}]) == {"s": ["b"]}
    assert merge([{"s": None}, {"s": Append(("b",))}]) == {"s": ["b"]}


def test_replace_takes_a_map_wholesale() -> None:
    low = {"gpu": {"ratio": 0.5, "mainGpu": 1}}
    assert merge([low, {"gpu": Replace({"ratio": 1})}]) == {"gpu": {"ratio": 1}}


def test_reset_drops_inherited_value_at_any_depth() -> None:
    low = {"load": {"gpu": {"ratio": 0.5, "mainGpu": 1}, "seed": 3}}
    assert merge([low, {"load": {"gpu": {"mainGpu": RESET}}}]) == {
        "load": {"gpu": {"ratio": 0.5}, "seed": 3}
    }
    assert merge([low, {"load": RESET}]) == {}


def test_reset_then_higher_layer_sets_again() -> None:
    assert merge([{"a": 1}, {"a": RESET}, {"a": 2}]) == {"a": 2}


def test_null_unsets_at_every_depth() -> None:
    low = {"load": {"gpu": {"ratio": 0.5}, "seed": 3}}
    assert merge([low, {"load": {"gpu": {"ratio": None}, "seed": None}}]) == {"load": {"gpu": {}}}
    assert merge([low, {"load": None}]) == {}


def test_false_stays_distinct_from_unset() -> None:
    assert merge([{"maxTokens": 100}, {"maxTokens": False}]) == {"maxTokens": False}
    assert merge([{"maxTokens": 100}, {"maxTokens": None}]) == {}


def test_layers_are_not_modified() -> None:
    low: dict[str, Any] = {"gpu": {"ratio": 0.5}}
    high: dict[str, Any] = {"gpu": {"mainGpu": 1}, "s": Append(("x",))}
    merge([low, high])
    merge([high, low])
    assert low == {"gpu": {"ratio": 0.5}}
    assert high == {"gpu": {"mainGpu": 1}, "s": Append(("x",))}


def test_trace_records_winner_and_unsets() -> None:
    layers: list[tuple[dict[str, Any], dict[Path, str]]] = [
        ({"a": 1, "b": {"c": 2}}, {("a",): "low", ("b", "c"): "low"}),
        ({"a": None, "b": {"d": 3}}, {("a",): "high", ("b", "d"): "high"}),
    ]
    origins = trace(layers)
    assert origins[("b", "c")] == "low"
    assert origins[("b", "d")] == "high"
    assert unset_origin(origins[("a",)]) == "high"


def test_trace_of_append_keeps_each_items_origin() -> None:
    layers: list[tuple[dict[str, Any], dict[Path, str]]] = [
        ({"s": ["a"]}, {("s",): "low", ("s", 0): "low"}),
        ({"s": Append(("b",))}, {("s",): "high", ("s", 0): "high"}),
    ]
    origins = trace(layers)
    assert (origins[("s", 0)], origins[("s", 1)]) == ("low", "high")


# ------------------------------------------------------------------------------------------
# Property: merge == a plain recursive reference, and trace covers every leaf


def _reference_settle(value: Any) -> Any:
    if isinstance(value, Append):
        return [_reference_settle(v) for v in value.items]
    if isinstance(value, Replace):
        return _reference_settle(value.value)
    if isinstance(value, dict):
        out = {k: _reference_settle(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not RESET}
    return value


def _reference_overlay(base: Any, nxt: Any) -> Any:
    if isinstance(nxt, type(RESET)):
        return RESET
    if isinstance(nxt, Replace):
        return _reference_settle(nxt.value)
    if isinstance(nxt, Append):
        return [*(base if isinstance(base, list) else []), *nxt.items]
    if isinstance(nxt, dict):
        result = dict(base) if isinstance(base, dict) else {}
        for key, value in nxt.items():
            result[key] = _reference_overlay(result.get(key, RESET), value)
        return {k: v for k, v in result.items() if v is not RESET}
    return nxt


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def reference_merge(layers: list[dict[str, Any]]) -> dict[str, Any]:
    result: Any = {}
    for layer in layers:
        result = _reference_overlay(result, layer)
    return dict(_drop_nulls(result))


keys = st.sampled_from(["a", "b", "c", "d"])
scalars = st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(["x", "y"]), st.none())
lists = st.lists(st.sampled_from(["p", "q", "r"]), max_size=3)


def values(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        scalars,
        lists,
        lists.map(lambda items: Append(tuple(items))),
        st.just(RESET),
    )
    if depth == 0:
        return leaf
    maps = st.dictionaries(keys, values(depth - 1), max_size=3)
    return st.one_of(leaf, maps, maps.map(Replace))


layer_st = st.dictionaries(keys, values(2), max_size=4)


@settings(max_examples=400, deadline=None)
@given(st.lists(layer_st, min_size=1, max_size=5))
def test_random_stacks_merge_like_reference(layers: list[dict[str, Any]]) -> None:
    assert merge(layers) == reference_merge(layers)


def _leaves(value: Any, path: Path = ()) -> set[Path]:
    if isinstance(value, dict):
        found: set[Path] = set()
        for key, item in value.items():
            found |= _leaves(item, (*path, key))
        return found
    if isinstance(value, list):
        return {path} | {(*path, i) for i in range(len(value))}
    return {path}


def _origins_for(layer: dict[str, Any], name: str, path: Path = ()) -> dict[Path, str]:
    out: dict[Path, str] = {}
    for key, value in layer.items():
        sub = (*path, key)
        out[sub] = name
        inner = value.value if isinstance(value, Replace) else value
        if isinstance(inner, dict):
            out |= _origins_for(inner, name, sub)
        items = inner.items if isinstance(inner, Append) else inner
        if isinstance(items, (list, tuple)):
            out |= {(*sub, i): name for i in range(len(items))}
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(layer_st, min_size=1, max_size=5))
def test_trace_names_an_origin_for_every_merged_leaf(layers: list[dict[str, Any]]) -> None:
    merged = merge(layers)
    named = [(layer, _origins_for(layer, f"L{i}")) for i, layer in enumerate(layers)]
    origins = trace(named)
    kept = {path for path, entry in origins.items() if unset_origin(entry) is None}
    assert _leaves(merged) - {()} <= kept | _empty_maps(merged)


def _empty_maps(value: Any, path: Path = ()) -> set[Path]:
    if isinstance(value, dict):
        found = {path} if not value else set()
        for key, item in value.items():
            found |= _empty_maps(item, (*path, key))
        return found
    return set()


# ------------------------------------------------------------------------------------------
# Property: the origin of every merged leaf is the layer whose value won. Every scalar a layer
# writes names that layer ("L2.x"), so the value itself says which layer won.


def _tagged_values(depth: int) -> st.SearchStrategy[Any]:
    word = st.sampled_from(["x", "y"])
    scalar = st.one_of(word, st.none())
    items = st.lists(word, max_size=3)
    leaf = st.one_of(
        scalar, items, items.map(lambda i: Append(tuple(i))), st.just(RESET), scalar.map(Replace)
    )
    if depth == 0:
        return leaf
    maps = st.dictionaries(keys, _tagged_values(depth - 1), max_size=3)
    return st.one_of(leaf, maps, maps.map(Replace))


def _name_scalars(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return f"{name}.{value}"
    if isinstance(value, dict):
        return {k: _name_scalars(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_name_scalars(v, name) for v in value]
    if isinstance(value, Append):
        return Append(tuple(_name_scalars(v, name) for v in value.items))
    if isinstance(value, Replace):
        return Replace(_name_scalars(value.value, name))
    return value


def _scalar_leaves(value: Any, path: Path = ()) -> dict[Path, Any]:
    if isinstance(value, dict):
        return {
            p: v for k, item in value.items() for p, v in _scalar_leaves(item, (*path, k)).items()
        }
    if isinstance(value, list):
        return {
            p: v
            for i, item in enumerate(value)
            for p, v in _scalar_leaves(item, (*path, i)).items()
        }
    return {path: value}


@settings(max_examples=500, deadline=None)
@given(st.lists(st.dictionaries(keys, _tagged_values(2), max_size=4), min_size=1, max_size=5))
def test_the_origin_of_every_leaf_is_the_layer_whose_value_won(
    raw: list[dict[str, Any]],
) -> None:
    layers = [
        (_name_scalars(layer, f"L{i}"), {(): f"L{i}"} | _origins_for(layer, f"L{i}"))
        for i, layer in enumerate(raw)
    ]
    merged, origins = merge_traced(layers)
    assert merged == merge([data for data, _ in layers])
    for path, value in _scalar_leaves(merged).items():
        if isinstance(value, str):
            assert origins[path] == value.split(".")[0], (path, value)
    for path, entry in origins.items():
        if unset_origin(entry) is not None:
            assert path not in _scalar_leaves(merged), path
