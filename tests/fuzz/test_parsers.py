"""Fuzzing both YAML parsers against each other: for any text, ruamel.yaml.clib's C parser
and the pure-Python parser give the same data, positions and problems (run with -m fuzz)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmsprofiles import _yaml
from tests.fuzz.conftest import count_case
from tests.fuzz.test_fuzz import DOCUMENTS, RAW, SETTINGS
from tests.yaml_parsers import C_PARSER, both, common_case

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.skipif(C_PARSER is None, reason="ruamel.yaml.clib is not installed"),
]

SMALL = _yaml.Limits(max_file_bytes=400, max_depth=4, max_nodes=30)
TEXTS = st.one_of(
    DOCUMENTS,
    RAW.map(lambda files: b"".join(files.values()).decode("utf-8", errors="replace")),
    st.text(
        alphabet=st.sampled_from(list("ab:- \n\t#'\"[]{},&*!|>?%@`\\.0123\r\x85\u2028é😀\ufeff")),
        max_size=60,
    ),
)


@settings(SETTINGS, max_examples=4000)
@given(text=TEXTS, small=st.booleans())
def test_both_parsers_answer_alike(text: str, small: bool) -> None:
    count_case()
    fast, reference = both(text, SMALL if small else _yaml.DEFAULT_LIMITS)
    assert fast == reference


def _mostly(good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``good``, and now and then ``bad``."""
    return st.tuples(st.integers(0, 15), good, bad).map(lambda t: t[2] if t[0] == 0 else t[1])


NAMES = _mostly(
    st.sampled_from(["a", "b", "model", "contextLength", "x_y", "é", "'q'", '"k"', "'1'"]),
    st.sampled_from(["~", "1", "<<", "[a]", "&k a", "!x a"]),
)
WORDS = _mostly(
    st.sampled_from(
        ["1", "-2", "0.5", "1e3", "1e999", "x", "a b", "'it''s'", '"a\\tb"', "null", "~", "true",
         "False", "", "0o17", "0x1F", ".inf", "-.nan", "2024-01-01", "12:30", "é"]
    ),
    st.sampled_from(["99999999999999999999", "<<", "!!int x", "&a 1", "*a", "!x 1"]),
)  # fmt: skip
FLOW = st.one_of(
    WORDS,
    st.lists(WORDS.filter(bool), max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(st.tuples(NAMES, WORDS), max_size=2).map(
        lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    ),
)
TAGGED = st.one_of(
    _mostly(st.just("!reset"), st.sampled_from(["!reset x", "!reset []", "!reset {a: 1}"])),
    FLOW.map(lambda v: "!replace " + v),
    _mostly(
        st.lists(WORDS, max_size=2).map(lambda items: "!append [" + ", ".join(items) + "]"),
        FLOW.map(lambda v: "!append " + v),
    ),
)


@st.composite
def _common(draw: st.DrawFn, indent: int = 0, depth: int = 3) -> str:
    """Block mappings as profiles write them: what the quick builder of the common case
    takes, and its near misses (duplicate keys, merge keys, tags where they do not belong,
    values that cannot be read)."""
    pad = " " * indent
    text, seen = "", set()
    for _ in range(draw(st.integers(1, 4))):
        key = draw(NAMES)
        if key in seen and draw(st.integers(0, 15)):
            continue  # now and then a duplicate key
        seen.add(key)
        shape = draw(st.integers(0, 5 if depth else 3))
        if shape <= 2:
            text += f"{pad}{key}: {draw(FLOW)}\n"
        elif shape == 3:
            text += f"{pad}{key}: {draw(TAGGED)}\n"
        elif shape == 4:
            text += f"{pad}{key}:\n" + draw(_common(indent + 2, depth - 1))
        else:
            items = draw(st.lists(st.one_of(FLOW, TAGGED), min_size=1, max_size=3))
            text += f"{pad}{key}:\n" + "".join(f"{pad}- {item}\n" for item in items)
    return text


@settings(SETTINGS, max_examples=4000)
@given(text=st.one_of(TEXTS, _common(), _common()), small=st.booleans())
def test_the_common_case_is_built_as_the_full_builder_builds_it(text: str, small: bool) -> None:
    count_case()
    found = common_case(text, SMALL if small else _yaml.DEFAULT_LIMITS)
    if found is not None:
        assert found[0] == found[1]
