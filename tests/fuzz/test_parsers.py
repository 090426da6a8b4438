"""Fuzzing both YAML parsers against each other: for any text, ruamel.yaml.clib's C parser
and the pure-Python parser give the same data, positions and problems (run with -m fuzz)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmsprofiles import _yaml
from tests.fuzz.conftest import count_case
from tests.fuzz.test_fuzz import DOCUMENTS, RAW, SETTINGS
from tests.yaml_parsers import C_PARSER, both

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
