"""The quick check of values agrees with the pydantic models, the validator of record.

:func:`lmsprofiles._quick.valid` may accept a value without pydantic only if the model of the
shape accepts it (merge markers settled). Here both judge generated mappings of every shape:
values of every field kind, valid and hostile (NaN, infinity, huge integers, booleans where
numbers go, text with units, nulls on required keys, unknown keys, other spellings, wrong
shapes, merge markers). On plain data (what a YAML file holds once its keys are canonical:
no markers, no other spellings, no text with a unit) the two must give the same answer, so
the quick check also accepts what is valid.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lmsprofiles import _fields as f
from lmsprofiles import _fieldtable as t
from lmsprofiles import _inventory, _quick
from lmsprofiles._merge import RESET, Append, Replace, settle
from lmsprofiles._shapes import RULE_FIELDS, RULES, SHAPES
from lmsprofiles._units import with_unit

assert _inventory.HOSTS_FILE.name in SHAPES  # hosts.yaml's shapes are checked too

INTEGERS = st.one_of(
    st.sampled_from([0, 1, 2, -1, -2, 500, 501, 2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**70]),
    st.integers(),
)
FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 1.5, -1.0, -1.5, 1e308, math.nan, math.inf, -math.inf]),
    st.floats(),
)
WORDS = sorted(
    {option for kind in (s.kind for shape in SHAPES.values() for s in shape.specs)
     if isinstance(kind, t.Choice) for option in kind.options}
    | {"", "max", "off", "x", "a_b", "8k", "16 K", "2h", "1h30m", "90 secs", "abc", "1e3", "null"}
)  # fmt: skip
TEXT = st.one_of(st.sampled_from(WORDS), st.text(max_size=6))
SCALARS = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, TEXT)
KEYS = st.one_of(
    st.sampled_from(["type", "a_b", "a", "", "name", "jsonSchema"]), st.text(max_size=4)
)
FINITE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
"""Plain YAML data without NaN or infinity."""
PLAIN = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
"""Any YAML data, without merge markers."""
ADDRESSES = st.one_of(
    st.sampled_from(["localhost", "localhost:1234", "gpu-box:8080", "10.0.0.5", "[::1]:1234"]),
    st.sampled_from([" a:1 ", "[::1", "[x]:1", "a:0", "a:65536", "a:b", "http://a:1", "a b", ":1"]),
    st.text(max_size=6),
)
"""Host addresses: valid ones, near misses, any text."""
NAMES = st.one_of(
    st.sampled_from(["qwen/qwen3-8b", "chat", "é", " ", "a b", "a\tb", "a\u200bb", "\x00", "a\n"]),
    st.text(max_size=6),
)
"""Model keys and identifiers: valid ones, blank ones, odd characters, any text."""
SPECIAL_TEXT: dict[type[t.Kind], st.SearchStrategy[str]] = {t.Address: ADDRESSES, t.Name: NAMES}


def _valid(kind: t.Kind, *, markers: bool = True) -> st.SearchStrategy[Any]:
    """Values a field of ``kind`` takes."""
    if isinstance(kind, t.Num):
        low = None if kind.ge is None else math.ceil(kind.ge)
        high = None if kind.le is None else math.floor(kind.le)
        found: st.SearchStrategy[Any] = st.integers(low, high)
        if kind.kind == "number":
            found |= st.floats(kind.ge, kind.le, allow_nan=False, allow_infinity=False)
        return found | st.just(False) if kind.off == t.OMIT else found
    if isinstance(kind, t.Choice):
        found = st.sampled_from(kind.options)
        return found | st.just(False) if kind.off == t.OMIT else found
    if type(kind) in SPECIAL_TEXT:
        return SPECIAL_TEXT[type(kind)]
    if isinstance(kind, t.Text):
        return st.text(min_size=1 if kind.non_empty else 0, max_size=5)
    if isinstance(kind, t.Strings):
        return st.lists(st.text(min_size=1, max_size=3), max_size=3)
    if isinstance(kind, t.Indices):
        return st.lists(st.integers(0), max_size=3)
    if isinstance(kind, t.Ratio):
        return st.floats(0, 1) | st.sampled_from([0, 1, "max", "off"])
    if isinstance(kind, t.JsonObject):
        return st.dictionaries(KEYS, FINITE, max_size=3)
    if isinstance(kind, t.Labels):
        label = (
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=3)
        )
        return st.dictionaries(
            st.text(min_size=1, max_size=3), label.filter(lambda v: v is not None), max_size=3
        )
    if isinstance(kind, t.Nested):
        item = st.deferred(lambda: mappings(kind.model, depth=1, markers=markers))
        if kind.container == "list":
            return st.lists(item, max_size=2)
        if kind.container == "dict":
            return st.dictionaries(KEYS, item, max_size=2)
        return item
    return st.booleans()  # Bool


def _hostile(kind: t.Kind) -> st.SearchStrategy[Any]:
    """Values close to what a field of ``kind`` takes, and values of every other kind."""
    if isinstance(kind, t.Num):
        bounds = [b for b in (kind.ge, kind.le) if b is not None]
        edges = [v for b in bounds for v in (b - 1, b + 1, b - 0.5, b + 0.5, int(b), float(b))]
        return st.sampled_from(edges or [0]) | INTEGERS | FLOATS | TEXT | st.booleans()
    if isinstance(kind, (t.Strings, t.Indices)):
        return st.lists(SCALARS, max_size=3) | SCALARS
    if isinstance(kind, t.JsonObject):
        return st.dictionaries(KEYS, PLAIN, max_size=3) | PLAIN
    if isinstance(kind, t.Labels):
        return st.dictionaries(KEYS, PLAIN, max_size=3) | SCALARS
    if isinstance(kind, t.Nested):
        return _valid(kind) | PLAIN
    return SCALARS


def _written(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A mapping value as a layer may write it: plain, or under a merge tag."""
    return st.one_of(
        value,
        value,
        value,
        value.map(Replace),
        st.just(RESET),
        st.lists(SCALARS, max_size=2).map(lambda items: Append(tuple(items))),
    )


@st.composite
def mappings(draw: st.DrawFn, shape: str, depth: int = 0, *, markers: bool = True) -> Any:
    """Mappings of ``shape``'s keys: valid values, then perhaps one thing wrong (a hostile
    value, a required key left out or null, a key in snake_case, an unknown key), or any
    data at all."""
    specs = SHAPES[shape].specs
    required = {s.key: _valid(s.kind, markers=markers) for s in specs if s.required}
    optional = {s.key: _valid(s.kind, markers=markers) for s in specs if not s.required}
    if markers:
        required = {key: _written(value) for key, value in required.items()}
        optional = {key: _written(value) for key, value in optional.items()}
    value: dict[str, Any] = dict(draw(st.fixed_dictionaries(required, optional=optional)))
    change = draw(st.sampled_from(["none", "none", "value", "value", "drop", "key", "plain"]))
    spec = draw(st.sampled_from(specs))
    if change == "value":
        value[spec.key] = draw(_hostile(spec.kind) if depth < 2 else SCALARS)
    elif change == "drop":
        value.pop(spec.key, None)
    elif change == "key":
        renamed = t.snake(spec.key)
        value[draw(st.sampled_from([renamed, renamed, "a", "type", "_"]))] = draw(SCALARS)
    elif change == "plain":
        return draw(PLAIN)
    return value


def pydantic_accepts(shape: str, value: Any) -> bool:
    try:
        f.model(shape).model_validate(settle(value))
    except ValidationError:
        return False
    return True


SHAPE_NAMES = st.sampled_from(sorted(SHAPES))


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), shape=SHAPE_NAMES)
def test_what_the_quick_check_accepts_the_models_accept(data: st.DataObject, shape: str) -> None:
    value = data.draw(mappings(shape))
    if _quick.valid(shape, value):
        assert pydantic_accepts(shape, value), (shape, value)


def _reads_as_unit(text: str) -> bool:
    for unit in ("seconds", "tokens"):
        try:
            with_unit(text, unit)
        except ValueError:
            continue
        return any(c.isalpha() for c in text)
    return False


_RENAMED = {t.snake(s.key) for shape in SHAPES.values() for s in shape.specs} - {
    s.key for shape in SHAPES.values() for s in shape.specs
}


def plain(value: Any) -> bool:
    """Data as a YAML file gives it once its keys are canonical: no text with a unit (loading
    reads it as the number), no snake_case spelling of a key."""
    if isinstance(value, str):
        return not _reads_as_unit(value)
    if isinstance(value, list):
        return all(plain(item) for item in value)
    if isinstance(value, dict):
        return all(key not in _RENAMED and plain(item) for key, item in value.items())
    return True


PLAIN_SHAPES = SHAPE_NAMES


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), shape=PLAIN_SHAPES)
def test_on_plain_data_the_quick_check_is_the_models_answer(
    data: st.DataObject, shape: str
) -> None:
    value = data.draw(mappings(shape, markers=False))
    if plain(value):
        assert _quick.valid(shape, value) == pydantic_accepts(shape, value), (shape, value)


def test_the_example_values_are_accepted_quickly() -> None:
    examples: dict[str, Any] = {
        "ModelFile": {
            "model": "qwen/qwen3-8b",
            "ttl": 7200,
            "deploy": False,
            "load": {
                "contextLength": 16384,
                "gpu": {"ratio": "max", "splitStrategy": "favorMainGpu", "mainGpu": 0},
                "seed": False,
                "llamaKCacheQuantizationType": "q8_0",
            },
            "inference": {
                "temperature": 0.7,
                "stopStrings": Append(("<|im_end|>",)),
                "structured": Replace({"type": "json", "jsonSchema": {"type": "object"}}),
                "maxTokens": RESET,
            },
            "requests": {"creative": {"inference": {"topPSampling": 0.9}}},
            "labels": {"size": "small", "gpu": 24, "fast": True},
        },
        "Runs": {"models": ["a"], "labels": {"gpu": "24GB"}},
    }
    for shape, value in examples.items():
        assert _quick.valid(shape, value)
        assert pydantic_accepts(shape, value)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), section=st.sampled_from(["load", "inference"]))
def test_the_rules_read_only_their_fields(data: st.DataObject, section: str) -> None:
    """A request kind that changes none of the fields the rules read keeps the model's
    answer to them (the quick check of request kinds relies on it). Rules see valid values."""
    shape = "LlmLoad" if section == "load" else "Inference"
    value = settle(data.draw(mappings(shape)))
    if pydantic_accepts(shape, value):
        read = {k: v for k, v in value.items() if k in RULE_FIELDS[section]}
        assert RULES[section](value) == RULES[section](read)
