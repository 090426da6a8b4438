"""Fuzzing the quick check against the pydantic models, many more cases than the unit tests
run (run with -m fuzz): what it accepts they accept, and on plain data they agree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmsprofiles import _quick
from tests.core.test_quick_fields import (
    PLAIN_SHAPES,
    SHAPE_NAMES,
    mappings,
    plain,
    pydantic_accepts,
)
from tests.fuzz.conftest import count_case
from tests.fuzz.test_fuzz import SETTINGS

pytestmark = pytest.mark.fuzz


@settings(SETTINGS, max_examples=10_000)
@given(data=st.data(), shape=SHAPE_NAMES)
def test_what_the_quick_check_accepts_the_models_accept(data: st.DataObject, shape: str) -> None:
    count_case()
    value = data.draw(mappings(shape))
    if _quick.valid(shape, value):
        assert pydantic_accepts(shape, value), (shape, value)


@settings(SETTINGS, max_examples=10_000)
@given(data=st.data(), shape=PLAIN_SHAPES)
def test_on_plain_data_the_quick_check_is_the_models_answer(
    data: st.DataObject, shape: str
) -> None:
    count_case()
    value = data.draw(mappings(shape, markers=False))
    if plain(value):
        assert _quick.valid(shape, value) == pydantic_accepts(shape, value), (shape, value)
