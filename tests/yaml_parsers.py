"""Reading one text with both YAML parsers (the C one and the pure-Python one)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.error import YAMLError

from lmsprofiles import _yaml
from lmsprofiles._errors import ProfileError

C_PARSER = _yaml.C_PARSER


@contextlib.contextmanager
def pure_python() -> Iterator[None]:
    """Read with the pure-Python parser alone, as without ruamel.yaml.clib."""
    saved = _yaml.C_PARSER
    _yaml.C_PARSER = None
    try:
        yield
    finally:
        _yaml.C_PARSER = saved


def answer(text: str, limits: _yaml.Limits = _yaml.DEFAULT_LIMITS) -> str:
    """Everything parsing ``text`` gives (data, positions or problems), as comparable text."""
    try:
        doc = _yaml.parse(text, "f.yaml", limits)
    except ProfileError as exc:
        return repr(exc.problems)
    found: Any = (
        doc.data,
        sorted(doc.values.items(), key=repr),
        sorted(doc.keys.items(), key=repr),
    )
    return repr(found)


def both(text: str, limits: _yaml.Limits = _yaml.DEFAULT_LIMITS) -> tuple[str, str]:
    """:func:`answer` with ruamel.yaml.clib's C parser, then with the pure-Python parser."""
    fast = answer(text, limits)
    with pure_python():
        reference = answer(text, limits)
    return fast, reference


def common_case(text: str, limits: _yaml.Limits = _yaml.DEFAULT_LIMITS) -> tuple[str, str] | None:
    """What the C parser's events give through the quick builder of the common case and
    through the full builder, as comparable text; None if the quick one declines the text."""
    try:
        common = _yaml._build_common(iter(C_PARSER(text).get_event, None), limits)
    except YAMLError:  # the reference parser reports it
        return None
    if common is None:
        return None
    root, values, keys = common
    doc = _yaml.Document("f.yaml", {})
    builder = _yaml._Builder(doc, limits)
    full = builder.build(iter(C_PARSER(text).get_event, None))
    no_problems: list[Any] = []
    found = (root, sorted(values.items(), key=repr), sorted(keys.items(), key=repr), no_problems)
    expected = (
        full or {},
        sorted(doc.values.items(), key=repr),
        sorted(doc.keys.items(), key=repr),
        builder.problems,
    )
    return repr(found), repr(expected)
