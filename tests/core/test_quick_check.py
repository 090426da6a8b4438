"""The cheap checks give the answers of the full ones.

``overlay_values`` is the merge without origins; loading checks a model with each request
kind through it and validates a combination in full only when that check fails. Both are
compared here with the full computation on generated layers and trees.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmsprofiles import _profiles
from lmsprofiles._errors import ProfileError
from lmsprofiles._merge import RESET, Append, Replace, merge_traced, overlay_values
from lmsprofiles._scan import scan

KEYS = st.sampled_from(["a", "b", "c"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["x", ""]))


def _values(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return st.one_of(SCALARS, st.just(RESET))
    inner = _values(depth - 1)
    plain = st.one_of(
        SCALARS,
        st.lists(st.one_of(SCALARS, st.dictionaries(KEYS, SCALARS, max_size=2)), max_size=3),
        st.dictionaries(KEYS, inner, max_size=3),
    )
    return st.one_of(
        plain,
        st.just(RESET),
        st.lists(st.one_of(SCALARS, st.dictionaries(KEYS, SCALARS, max_size=2)), max_size=3).map(
            lambda items: Append(tuple(items))
        ),
        plain.map(Replace),
    )


LAYERS = st.lists(st.dictionaries(KEYS, _values(3), max_size=3), max_size=3)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(lower=LAYERS, upper=LAYERS)
def test_overlay_values_is_the_merge_without_origins(
    lower: list[dict[str, Any]], upper: list[dict[str, Any]]
) -> None:
    base = merge_traced((layer, {}) for layer in lower)[0]
    whole = merge_traced((layer, {}) for layer in [*lower, *upper])[0]
    assert overlay_values(base, upper) == whole


# ------------------------------------------------------------------------------------------
# Loading: the quick check of request kinds against validating every combination in full

INFERENCE = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.sampled_from(["0.5", "!reset", "null", "!replace 2"]),
        "maxTokens": st.sampled_from(["64", "false", "64", "false", "0"]),
        "stopStrings": st.sampled_from(
            ["[a]", "!append [b]", "!append [null]", "!replace [c]", "!reset", "null"]
        ),
        "structured": st.sampled_from(
            [
                "{type: json}",
                "{jsonSchema: {type: object}}",
                "{type: gbnf, gbnfGrammar: 'root ::= x'}",
                "!replace {type: json, jsonSchema: {a: null}}",
                "{type: none}",
                "!reset",
                "{type: null}",
            ]
        ),
        "rawTools": st.sampled_from(
            [
                "{type: none}",
                "{type: toolArray}",
                "{tools: [{type: function, function: {name: f}}]}",
            ]
        ),
        "topKSampling": st.sampled_from(["40", "-1"]),
    },
)


HOST_INFERENCE = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.sampled_from(["0.3", "!reset"]),
        "maxTokens": st.sampled_from(["64", "false"]),
        "stopStrings": st.sampled_from(["[h]", "!append [h]", "!reset"]),
        "structured": st.sampled_from(
            [
                "{type: none}",
                "{type: json, jsonSchema: {type: object}}",
                "{type: gbnf, gbnfGrammar: 'root ::= h'}",
            ]
        ),
        "rawTools": st.sampled_from(["{type: none}", "{type: toolArray}"]),
    },
)
"""Host layers valid on their own that can break a rule once merged with a request kind."""


def _yaml(inference: dict[str, str], indent: int = 2) -> str:
    pad = " " * indent
    return "".join(f"{pad}{key}: {value}\n" for key, value in inference.items())


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(
    below=INFERENCE,
    requests=st.lists(INFERENCE, min_size=1, max_size=3),
    own=st.lists(INFERENCE, min_size=1, max_size=3),
    host=st.one_of(st.none(), st.tuples(HOST_INFERENCE, HOST_INFERENCE)),
    env=st.sampled_from(
        [
            {},
            {"LMSPROFILES_INFERENCE__TEMPERATURE": "0.1"},
            {"LMSPROFILES_HOSTS__H__INFERENCE__TOP_K_SAMPLING": "-1"},
            {"LMSPROFILES_HOSTS__H__MODELS__M__INFERENCE__STOP_STRINGS": '["d"]'},
        ]
    ),
)
def test_checking_request_kinds_cheaply_finds_every_problem(
    below: dict[str, str],
    requests: list[dict[str, str]],
    own: list[dict[str, str]],
    host: tuple[dict[str, str], dict[str, str]] | None,
    env: dict[str, str],
) -> None:
    """The same problems (or resolved configs, on the inventory's host too) either way;
    ``host``: the inference of a host's layer and of its layer of model m, None: no
    hosts.yaml (then the host variables are problems either way)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "profiles"
        (root / "models").mkdir(parents=True)
        (root / "requests").mkdir()
        for n, request in enumerate(requests):
            (root / "requests" / f"r{n}.yaml").write_text("inference:\n" + _yaml(request))
        text = "model: m\ninference:\n" + _yaml(below) + "requests:\n"
        for n, request in enumerate(own[: len(requests)]):
            text += f"  r{n}:\n    inference:\n" + (_yaml(request, 6) or "      {}\n")
        (root / "models" / "m.yaml").write_text(text)
        (root / "models" / "n.yaml").write_text("model: n\ninference:\n" + _yaml(below))
        if host is not None:
            everyone, alone = host
            (root / "hosts.yaml").write_text(
                "hosts:\n  h:\n    address: h\n    inference:\n"
                + (_yaml(everyone, 6) or "      {}\n")
                + "    models:\n      m:\n        inference:\n"
                + (_yaml(alone, 10) or "          {}\n")
            )
        answers = []
        for quick in (True, False):
            try:
                loaded = _profiles.load_tree(scan(root, None), env, None, quick=quick)
                hosts = [None, *loaded.hosts]
                resolved = [
                    loaded.resolve(i, r, host=h).values
                    for i in loaded.identifiers
                    for r in (None, *loaded.requests)
                    for h in hosts
                ]
                answers.append(json.dumps(resolved))
            except ProfileError as exc:
                answers.append(repr(exc.problems))
        assert answers[0] == answers[1]
        assert os.path.isdir(root)
