"""Every kind of problem: the exact message and position, all reported together."""

from __future__ import annotations

from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import ProfileError
from tests.conftest import WriteTree


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def problems(root: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        lmsprofiles.load(root, env=env or {})
    assert caught.value.exit_code == 3
    return [str(p) for p in caught.value.problems]


CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "malformed YAML",
        {"models/a.yaml": "model: m\nload: [1\n"},
        [
            "profiles/models/a.yaml:3:1: invalid YAML: while parsing a flow sequence: "
            "expected ',' or ']', but got '<stream end>'"
        ],
    ),
    (
        "duplicate key",
        {"models/a.yaml": "model: m\nload:\n  contextLength: 1\n  contextLength: 2\n"},
        ["profiles/models/a.yaml:4:3: duplicate key 'contextLength'"],
    ),
    (
        "top level not a mapping",
        {"models/a.yaml": "- model\n"},
        ["profiles/models/a.yaml:1:1: expected a mapping of keys, got a list"],
    ),
    (
        "unknown key with did-you-mean",
        {"models/a.yaml": "model: m\nload:\n  contextLenght: 4096\n"},
        [
            "profiles/models/a.yaml:3:3: load.contextLenght: unknown key 'contextLenght'; "
            "did you mean 'contextLength'?"
        ],
    ),
    (
        "known synonym",
        {"models/a.yaml": "model: m\ninference:\n  topP: 0.9\n"},
        [
            "profiles/models/a.yaml:3:3: inference.topP: unknown key 'topP'; did you mean "
            "'topPSampling'?"
        ],
    ),
    (
        "field the SDK drops",
        {"models/a.yaml": "model: m\nload:\n  autoFit: true\n"},
        [
            "profiles/models/a.yaml:3:3: load.autoFit: 'autoFit' is not supported by lmstudio "
            "SDK 1.5, which would drop it silently; LM Studio 0.4 and @lmstudio/sdk 2.0 know "
            "it: set it in the model's defaults in the LM Studio app instead"
        ],
    ),
    (
        "wrong type",
        {"models/a.yaml": "model: m\nload:\n  contextLength: '4096'\n"},
        [
            "profiles/models/a.yaml:3:18: load.contextLength: must be an integer >= 1 "
            "(got the string '4096')"
        ],
    ),
    (
        "out of range",
        {"global.yaml": "inference:\n  topPSampling: 1.5\n", "models/a.yaml": "model: m\n"},
        [
            "profiles/global.yaml:2:17: inference.topPSampling: must be a number from 0 to 1 "
            "(got 1.5)"
        ],
    ),
    (
        "false the SDK cannot send",
        {"models/a.yaml": "model: m\ninference:\n  repeatPenalty: false\n"},
        [
            "profiles/models/a.yaml:3:18: inference.repeatPenalty: false cannot be sent by "
            "lmstudio SDK 1.5 (it would send it as a checked value); write 1 for no repeat "
            "penalty"
        ],
    ),
    (
        "cross-field rule across files",
        {
            "global.yaml": "load:\n  flashAttention: false\n",
            "models/a.yaml": "model: m\nload:\n  llamaVCacheQuantizationType: q8_0\n",
        },
        [
            "profiles/models/a.yaml:3:32: load.llamaVCacheQuantizationType: a quantized V cache "
            "needs flashAttention: true"
        ],
    ),
    (
        "missing nested key only shows once merged",
        {"models/a.yaml": "model: m\ninference:\n  structured:\n    jsonSchema: {}\n"},
        ["profiles/models/a.yaml:4:5: inference.structured.type: missing required key 'type'"],
    ),
    (
        "model profile without model",
        {"models/a.yaml": "load:\n  contextLength: 4096\n"},
        ["profiles/models/a.yaml:1:1: model: missing required key 'model'"],
    ),
    (
        "unknown request name",
        {
            "models/a.yaml": "model: m\nrequests:\n  creatve:\n    inference: {}\n",
            "requests/creative.yaml": "inference: {}\n",
        },
        [
            "profiles/models/a.yaml:3:3: requests.creatve: unknown request 'creatve'; did you "
            "mean 'creative'?"
        ],
    ),
    (
        "two profiles claim one identifier",
        {"models/a.yaml": "model: m\n", "models/b.yaml": "model: n\nidentifier: a\n"},
        [
            "profiles/models/b.yaml:2:13: identifier: identifier 'a' is already claimed by "
            "profiles/models/a.yaml"
        ],
    ),
    (
        "unknown merge tag",
        {"models/a.yaml": "model: m\nload:\n  contextLength: !merge 4\n"},
        [
            "profiles/models/a.yaml:3:18: load.contextLength: unknown tag !merge; use !append, "
            "!replace, !reset"
        ],
    ),
    (
        "!append on a scalar",
        {"models/a.yaml": "model: m\ninference:\n  stopStrings: !append x\n"},
        [
            "profiles/models/a.yaml:3:16: inference.stopStrings: !append needs a list, e.g. "
            "!append [x]"
        ],
    ),
    (
        "embedding model with an LLM-only field",
        {"models/e.yaml": "model: e\ntype: embedding\nload:\n  flashAttention: true\n"},
        [
            "profiles/models/e.yaml:4:3: load.flashAttention: 'flashAttention' is not an "
            "embedding load field; embedding models take gpu, contextLength, ropeFrequencyBase, "
            "ropeFrequencyScale, keepModelInMemory, tryMmap"
        ],
    ),
    (
        "both spellings of one key",
        {"models/a.yaml": "model: m\nload:\n  contextLength: 1\n  context_length: 2\n"},
        [
            "profiles/models/a.yaml:4:3: load.context_length: 'contextLength' is given twice "
            "(as 'contextLength' and 'context_length')"
        ],
    ),
    (
        "snake_case key inside tool parameters",
        {
            "models/a.yaml": "model: m\ninference:\n  rawTools:\n    type: toolArray\n    tools:\n"
            "      - type: function\n        function:\n          name: f\n          parameters:\n"
            "            type: object\n            properties: {user_name: {type: string}}\n"
        },
        [
            "profiles/models/a.yaml:10:13: inference.rawTools.tools[0].function.parameters: key "
            "'user_name' contains '_': lmstudio SDK 1.5 renames such keys in tool parameters (it "
            "would send 'userName'); rename it, or give the tool to the SDK's act() instead"
        ],
    ),
    (
        "unexpected file",
        {"models/a.yaml": "model: m\n", "extra.yaml": "x: 1\n"},
        [
            "profiles/extra.yaml: unexpected file: profiles are global.yaml, hosts.yaml, models/*.yaml and "
            "requests/*.yaml"
        ],
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem_message_and_position(
    write_tree: WriteTree, files: dict[str, str], expected: list[str]
) -> None:
    found = problems(write_tree(files))
    for line in expected:
        assert line in found
    assert len(found) >= len(expected)


def test_all_problems_are_reported_together(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "global.yaml": "load:\n  contextLenght: 1\n",
            "models/a.yaml": "load:\n  contextLength: 0\n",
            "models/b.yaml": "model: m\ninference:\n  temperature: -1\n",
            "requests/bad.yaml": "inference: [\n",
        }
    )
    found = problems(root)
    assert len(found) == 5
    assert found == sorted(found)


ENV_CASES = [
    (
        {"LMSPROFILES_LOAD__CONTEXT_LENGHT": "4"},
        "LMSPROFILES_LOAD__CONTEXT_LENGHT: unknown variable; did you mean "
        "LMSPROFILES_LOAD__CONTEXT_LENGTH?",
    ),
    (
        {"LMSPROFILES_LOAD__CONTEXT_LENGTH": "big"},
        "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: must be an integer >= 1 (got 'big')",
    ),
    (
        {"LMSPROFILES_LOAD__CONTEXT_LENGTH": "0"},
        "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: must be an integer >= 1 (got 0)",
    ),
    (
        {"LMSPROFILES_MODELS__CHTA__LOAD__CONTEXT_LENGTH": "4"},
        "LMSPROFILES_MODELS__CHTA__LOAD__CONTEXT_LENGTH: no model profile with the identifier "
        "'CHTA' (CHAT); did you mean LMSPROFILES_MODELS__CHAT__...?",
    ),
    (
        {"LMSPROFILES_MODELS__CHAT__LOAD__FLASH_ATENTION": "1"},
        "LMSPROFILES_MODELS__CHAT__LOAD__FLASH_ATENTION: unknown variable; did you mean "
        "LMSPROFILES_MODELS__CHAT__LOAD__FLASH_ATTENTION?",
    ),
    (
        {"LMSPROFILES_INFERENCE__STOP_STRINGS": "a,b"},
        "LMSPROFILES_INFERENCE__STOP_STRINGS: inference.stopStrings: must be a JSON list, e.g. "
        '["a", "b"] (got \'a,b\')',
    ),
    (
        {"LMSPROFILES_LOAD__FLASH_ATTENTION": "maybe"},
        "LMSPROFILES_LOAD__FLASH_ATTENTION: load.flashAttention: must be true or false "
        "(got 'maybe')",
    ),
    (
        {"LMSPROFILES_HOST": "http://localhost:1234"},
        "LMSPROFILES_HOST: give host:port without a scheme, e.g. localhost:1234",
    ),
]


@pytest.mark.parametrize(("env", "expected"), ENV_CASES, ids=[next(iter(e)) for e, _ in ENV_CASES])
def test_environment_problems(write_tree: WriteTree, env: dict[str, str], expected: str) -> None:
    root = write_tree({"models/chat.yaml": "model: m\n"})
    assert expected in problems(root, env)


def test_unknown_model_and_request_at_resolve(write_tree: WriteTree) -> None:
    root = write_tree({"models/chat.yaml": "model: m\n", "requests/creative.yaml": "{}\n"})
    profiles = lmsprofiles.load(root)
    with pytest.raises(lmsprofiles.UnknownModelError) as model_error:
        profiles.resolve("caht")
    assert (
        str(model_error.value) == "call-site: no model profile named 'caht'; did you mean 'chat'?"
    )
    with pytest.raises(lmsprofiles.UnknownRequestError) as request_error:
        profiles.resolve("chat", request="creativ")
    assert "no request profile named 'creativ'; did you mean 'creative'?" in str(
        request_error.value
    )
    with pytest.raises(ProfileError) as override_error:
        profiles.resolve("chat", temprature=1)
    assert str(override_error.value) == (
        "call-site: temprature: unknown key 'temprature'; did you mean 'temperature'?"
    )
    with pytest.raises(ProfileError) as value_error:
        profiles.resolve("chat", maxTokens=0)
    assert str(value_error.value) == (
        "call-site: inference.maxTokens: must be an integer >= 1, or false to switch it off (got 0)"
    )


def test_missing_directory(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope") == ["nope: no such profile directory"]


def test_tag_on_a_list_item_is_located_exactly(write_tree: WriteTree) -> None:
    root = write_tree({"models/a.yaml": "model: m\ninference:\n  stopStrings: [!append x]\n"})
    assert problems(root) == [
        "profiles/models/a.yaml:3:17: inference.stopStrings[0]: merge tags apply to mapping "
        "values, not list items"
    ]


def test_snake_case_spelling_of_an_unsupported_field_gets_the_reason(write_tree: WriteTree) -> None:
    root = write_tree({"models/a.yaml": "model: m\nload:\n  auto_fit: true\n"})
    assert problems(root) == [
        "profiles/models/a.yaml:3:3: load.auto_fit: 'auto_fit' is not supported by lmstudio "
        "SDK 1.5, which would drop it silently; LM Studio 0.4 and @lmstudio/sdk 2.0 know it: "
        "set it in the model's defaults in the LM Studio app instead"
    ]


def test_a_field_lms_load_can_set_says_so(write_tree: WriteTree) -> None:
    root = write_tree({"models/a.yaml": "model: m\nload:\n  maxParallelPredictions: 4\n"})
    assert problems(root) == [
        "profiles/models/a.yaml:3:3: load.maxParallelPredictions: 'maxParallelPredictions' is "
        "not supported by lmstudio SDK 1.5, which would drop it silently; LM Studio 0.4 and "
        "@lmstudio/sdk 2.0 know it: load the model with lms load --parallel, or set it in the "
        "model's defaults in the LM Studio app instead"
    ]


def test_yaml_in_subdirectories_of_models_is_not_ignored(write_tree: WriteTree) -> None:
    root = write_tree({"models/a.yaml": "model: m\n", "models/team/b.yaml": "bogus: 1\n"})
    assert problems(root) == [
        "profiles/models/team/b.yaml: unexpected file: profiles are global.yaml, hosts.yaml, "
        "models/*.yaml and requests/*.yaml"
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"LMSPROFILES_MODELS__EMBED__INFERENCE__TEMPERATURE": "1"},
            "LMSPROFILES_MODELS__EMBED__INFERENCE__TEMPERATURE: inference: "
            "'inference' is not a field here (embedding models take only embedding load fields)",
        ),
        (
            {"LMSPROFILES_MODELS__CHAT": "1"},
            "LMSPROFILES_MODELS__CHAT: unknown variable; name a field after the model, e.g. "
            "LMSPROFILES_MODELS__CHAT__LOAD__CONTEXT_LENGTH",
        ),
        (
            {"LMSPROFILES_MODELS__QWEN_CHAT__LOAD__CONTEXT_LENGTH": "9"},
            "LMSPROFILES_MODELS__QWEN_CHAT__LOAD__CONTEXT_LENGTH: ambiguous: QWEN_CHAT names both "
            "'qwen-chat' and 'qwen_chat'; give one an identifier: key",
        ),
    ],
)
def test_more_environment_problems(
    write_tree: WriteTree, env: dict[str, str], expected: str
) -> None:
    root = write_tree(
        {
            "models/chat.yaml": "model: m\n",
            "models/embed.yaml": "model: e\ntype: embedding\n",
            "models/qwen-chat.yaml": "model: q\n",
            "models/qwen_chat.yaml": "model: q\n",
        }
    )
    assert expected in problems(root, env)


def test_none_is_a_value_for_choice_fields_in_the_environment(write_tree: WriteTree) -> None:
    root = write_tree({"models/chat.yaml": "model: m\n"})
    env = {"LMSPROFILES_INFERENCE__STRUCTURED__TYPE": "none"}
    cfg = lmsprofiles.load(root, env=env).resolve("chat")
    assert cfg.inference == {"structured": {"type": "none"}}


def test_replace_in_global_load_still_fits_embedding_models(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "global.yaml": "load: !replace\n  flashAttention: true\n  contextLength: 4096\n",
            "models/e.yaml": "model: e\ntype: embedding\n",
        }
    )
    assert lmsprofiles.load(root).resolve("e").load == {"contextLength": 4096}


def test_bad_control_variable_is_reported_with_every_other_problem(write_tree: WriteTree) -> None:
    root = write_tree({"models/chat.yaml": "model: m\n"})
    found = problems(root, {"LMSPROFILES_HOST": "http://x", "LMSPROFILES_FOO": "1"})
    assert "LMSPROFILES_HOST: give host:port without a scheme, e.g. localhost:1234" in found
    assert any(p.startswith("LMSPROFILES_FOO: unknown variable") for p in found)


def test_one_problem_per_wrong_value_where_pydantic_reports_several(write_tree: WriteTree) -> None:
    """A union (gpu.ratio), a bad list item, a list of mappings and a checkbox field: each
    wrong value is one problem at the value, saying what the field takes."""
    root = write_tree(
        {
            "models/a.yaml": (
                "model: m\nload:\n  gpu:\n    ratio: 1.5\n    disabledGpus: [0, -1]\n"
                "inference:\n  stopStrings: [a, '']\n  rawTools:\n    type: toolArray\n"
                "    tools:\n      - type: x\n        function: {name: ''}\n  maxTokens: true\n"
            )
        }
    )
    assert problems(root) == [
        "profiles/models/a.yaml:4:12: load.gpu.ratio: must be a number from 0 to 1, 'max' or "
        "'off' (got 1.5)",
        "profiles/models/a.yaml:5:23: load.gpu.disabledGpus[1]: list item 1 must be a GPU "
        "index (an integer >= 0) (got -1)",
        "profiles/models/a.yaml:7:20: inference.stopStrings[1]: list item 1 must be a "
        "non-empty string (got the string '')",
        "profiles/models/a.yaml:11:15: inference.rawTools.tools[0].type: must be one of "
        "'function' (got the string 'x')",
        "profiles/models/a.yaml:12:26: inference.rawTools.tools[0].function.name: must not be "
        "empty (got the string '')",
        "profiles/models/a.yaml:13:14: inference.maxTokens: must be an integer >= 1, or false to "
        "switch it off (got true)",
    ]


UNSET = "(got null; a required key cannot be unset)"
"""How a problem about ``null`` on a required key ends."""

NULL_ON_REQUIRED_KEYS: list[tuple[str, dict[str, str], dict[str, str], list[str]]] = [
    (
        "model",
        {"models/a.yaml": "model: null\n"},
        {},
        [f"profiles/models/a.yaml:1:8: model: must be a non-empty string {UNSET}"],
    ),
    (
        "model of an embedding model",
        {"models/e.yaml": "type: embedding\nmodel: null\n"},
        {},
        [f"profiles/models/e.yaml:2:8: model: must be a non-empty string {UNSET}"],
    ),
    (
        "structured",
        {"models/a.yaml": "model: m\ninference:\n  structured: {type: null, jsonSchema: {}}\n"},
        {},
        [
            "profiles/models/a.yaml:3:22: inference.structured.type: must be one of 'none', "
            f"'json', 'gbnf' {UNSET}"
        ],
    ),
    (
        "rawTools and its tools",
        {
            "models/a.yaml": "model: m\ninference:\n  rawTools: {type: null}\n",
            "requests/r.yaml": (
                "inference:\n  rawTools:\n    type: toolArray\n    tools:\n"
                "      - type: null\n        function: {name: null}\n"
                "      - type: function\n        function: null\n"
            ),
        },
        {},
        [
            "profiles/models/a.yaml:3:20: inference.rawTools.type: must be one of 'none', "
            f"'toolArray' {UNSET}",
            "profiles/requests/r.yaml:5:15: inference.rawTools.tools[0].type: must be one of "
            f"'function' {UNSET}",
            "profiles/requests/r.yaml:6:26: inference.rawTools.tools[0].function.name: must be a "
            f"non-empty string {UNSET}",
            "profiles/requests/r.yaml:8:19: inference.rawTools.tools[1].function: must be a "
            f"mapping {UNSET}",
        ],
    ),
    (
        "promptTemplate and its templates",
        {
            "global.yaml": (
                "inference:\n  promptTemplate:\n    type: null\n    stopStrings: null\n"
                "    manualPromptTemplate:\n      beforeSystem: null\n      afterSystem: ''\n"
                "      beforeUser: ''\n      afterUser: ''\n      beforeAssistant: ''\n"
                "      afterAssistant: ''\n    jinjaPromptTemplate:\n      template: null\n"
            ),
            "models/a.yaml": "model: m\n",
        },
        {},
        [
            "profiles/global.yaml:3:11: inference.promptTemplate.type: must be one of 'manual', "
            f"'jinja' {UNSET}",
            "profiles/global.yaml:4:18: inference.promptTemplate.stopStrings: must be a list of "
            f"non-empty strings {UNSET}",
            "profiles/global.yaml:6:21: inference.promptTemplate.manualPromptTemplate."
            f"beforeSystem: must be a string {UNSET}",
            "profiles/global.yaml:13:17: inference.promptTemplate.jinjaPromptTemplate.template: "
            f"must be a string {UNSET}",
        ],
    ),
    (
        "reasoningParsing, in a model's own request",
        {
            "models/a.yaml": (
                "model: m\nrequests:\n  r:\n    inference:\n      reasoningParsing:\n"
                "        enabled: null\n        startString: null\n        endString: null\n"
            ),
            "requests/r.yaml": "inference: {}\n",
        },
        {},
        [
            "profiles/models/a.yaml:6:18: requests.r.inference.reasoningParsing.enabled: must "
            f"be true or false {UNSET}",
            "profiles/models/a.yaml:7:22: requests.r.inference.reasoningParsing.startString: "
            f"must be a string {UNSET}",
            "profiles/models/a.yaml:8:20: requests.r.inference.reasoningParsing.endString: must "
            f"be a string {UNSET}",
        ],
    ),
    (
        "structured.type from a variable",
        {"models/a.yaml": "model: m\n"},
        {"LMSPROFILES_INFERENCE__STRUCTURED__TYPE": "null"},
        [
            "LMSPROFILES_INFERENCE__STRUCTURED__TYPE: inference.structured.type: must be one of "
            f"'none', 'json', 'gbnf' {UNSET}"
        ],
    ),
    (
        "a host's address",
        {"models/a.yaml": "model: m\n", "hosts.yaml": "hosts:\n  box:\n    address: null\n"},
        {},
        [f"profiles/hosts.yaml:3:14: hosts.box.address: must be a non-empty string {UNSET}"],
    ),
    (
        "a host's address from a variable",
        {"models/a.yaml": "model: m\n", "hosts.yaml": "hosts:\n  box:\n    address: box\n"},
        {"LMSPROFILES_HOSTS__BOX__ADDRESS": ""},
        [f"LMSPROFILES_HOSTS__BOX__ADDRESS: hosts.box.address: must be a non-empty string {UNSET}"],
    ),
]


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [c[1:] for c in NULL_ON_REQUIRED_KEYS],
    ids=[c[0] for c in NULL_ON_REQUIRED_KEYS],
)
def test_null_on_a_required_key_is_a_problem_at_the_null(
    write_tree: WriteTree, files: dict[str, str], env: dict[str, str], expected: list[str]
) -> None:
    """null unsets an optional key (LM Studio's default applies); a required key has no
    default, so null there is a problem where it is written, not a value ("None")."""
    assert problems(write_tree(files), env) == expected
