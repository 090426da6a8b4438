"""Messages for bad input at the edges of the profile core: names, --set, JSON in
variables, files that look like profiles, the loader's arguments, origins and ordering.

Everything runs the real CLI entry point or the public API on real files in a tmp dir.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lmsprofiles
from lmsprofiles import ProfileError
from lmsprofiles import _fields as f
from lmsprofiles._cli import main
from lmsprofiles._keys import fields_of
from tests.conftest import WriteTree

QWEN = "model: qwen/qwen3-8b\nload:\n  contextLength: 4096\ninference:\n  temperature: 0.5\n"


@pytest.fixture(autouse=True)
def _relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 3) -> list[str]:
    """Run the CLI; check the exit code; return the problem lines (the count line dropped),
    or what it printed on stdout when it succeeded."""
    assert main(list(argv)) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 0:
        return captured.out.splitlines()
    lines = captured.err.splitlines()
    if code == 3:
        assert lines[-1] == f"{len(lines) - 1} problem{'s' if len(lines) != 2 else ''} found"
        return lines[:-1]
    return lines


def validate(
    capsys: pytest.CaptureFixture[str], root: Path, *more: str, code: int = 3
) -> list[str]:
    return cli(capsys, "--profiles", str(root), "validate", *more, code=code)


# ------------------------------------------------------------------------------------------
# Names: identifiers and model keys


@pytest.mark.parametrize("cache", [(), ("--no-cache",)])
def test_blank_and_invisible_names_are_problems_at_their_values(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], cache: tuple[str, ...]
) -> None:
    root = write_tree(
        {
            "models/blank.yaml": 'model: "  "\n',
            "models/empty.yaml": 'model: ""\n',
            "models/newline.yaml": 'model: m/x\nidentifier: "a\\nb"\n',
            "models/space.yaml": 'model: m/x\nidentifier: "a b"\n',
            "models/tab.yaml": 'model: "m/x\\t"\n',
            "models/control.yaml": 'model: m/x\nidentifier: "c\\x01d"\n',
            "models/zero.yaml": 'model: "m\\u200b/x"\n',
            "models/fine.yaml": "model: lmstudio-community/Qwen3-8B-GGUF@q4_k_m\nidentifier: q:2\n",
        }
    )
    assert validate(capsys, root, *cache) == [
        "profiles/models/blank.yaml:1:8: model: must not be blank (got '  ')",
        r"profiles/models/control.yaml:2:13: identifier: must not contain '\x01' "
        r"(a control character; got 'c\x01d')",
        "profiles/models/empty.yaml:1:8: model: must not be empty (got the string '')",
        r"profiles/models/newline.yaml:2:13: identifier: must not contain '\n' "
        r"(a line break; got 'a\nb')",
        "profiles/models/space.yaml:2:13: identifier: must not contain ' ' (a space; got 'a b')",
        r"profiles/models/tab.yaml:1:8: model: must not contain '\t' (a tab; got 'm/x\t')",
        r"profiles/models/zero.yaml:1:8: model: must not contain '\u200b' "
        r"(an invisible character; got 'm\u200b/x')",
    ]
    if not cache:  # the second run answers from the cache: the same problems
        assert validate(capsys, root)[0].startswith("profiles/models/blank.yaml:1:8:")


def test_a_file_name_that_is_no_identifier_is_a_problem(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"models/my model.yaml": "model: m/x\n", "models/ok.yaml": "model: m/x\n"})
    assert validate(capsys, root) == [
        "profiles/models/my model.yaml: the file name 'my model' is the model's identifier "
        "and must not contain ' ' (a space); rename the file or set identifier:"
    ]
    root = write_tree({"models/my model.yaml": "model: m/x\nidentifier: my-model\n"})
    assert cli(capsys, "--profiles", str(root), "validate", code=0)[0].startswith("valid:")


@pytest.mark.parametrize("cache", [(), ("--no-cache",)])
def test_a_request_file_name_that_is_no_name_is_a_problem(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], cache: tuple[str, ...]
) -> None:
    """A request file's stem is the request's name (`--request NAME`): the rule of names."""
    root = write_tree(
        {
            "models/a.yaml": "model: m/x\nrequests:\n  a b:\n    inference: {temperature: 1}\n",
            "requests/a b.yaml": "inference: {}\n",
            "requests/c\x01d.yaml": "inference: {}\n",
            "requests/tab\t.yaml": "inference: {}\n",
            "requests/z\u200bw.yaml": "inference: {}\n",
            "requests/fine-1.2_x@y:z.yaml": "inference: {}\n",
        }
    )
    end = "; rename the file"
    expected = [
        f"profiles/requests/a b.yaml: the file name 'a b' is the request's name and must not "
        f"contain ' ' (a space){end}",
        f"profiles/requests/c\\x01d.yaml: the file name 'c\\x01d' is the request's name and must "
        f"not contain '\\x01' (a control character){end}",
        f"profiles/requests/tab\\t.yaml: the file name 'tab\\t' is the request's name and must "
        f"not contain '\\t' (a tab){end}",
        f"profiles/requests/z\\u200bw.yaml: the file name 'z\\u200bw' is the request's name and "
        f"must not contain '\\u200b' (an invisible character){end}",
    ]
    assert validate(capsys, root, *cache) == expected
    if not cache:  # the second run answers from the cache: the same problems
        assert validate(capsys, root) == expected
    (root / "requests/a b.yaml").rename(root / "requests/a-b.yaml")
    for name in ("c\x01d", "tab\t", "z\u200bw"):
        (root / f"requests/{name}.yaml").unlink()
    (root / "models/a.yaml").write_text("model: m/x\n")
    assert cli(capsys, "--profiles", str(root), "validate", code=0)[0].startswith("valid:")
    assert main(["--profiles", str(root), "render", "a", "--request", "a b"]) == 3
    assert "no request profile named 'a b'; did you mean 'a-b'?" in capsys.readouterr().err
    with pytest.raises(lmsprofiles.UnknownRequestError, match=r"'z\\u200bw'"):
        lmsprofiles.load(root, env={}).resolve("a", request="z\u200bw")


def test_invisible_characters_in_keys_are_shown_escaped(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"models/a.yaml": 'model: m/x\ninference:\n  "temp\\u200berature": 0.5\n'})
    assert validate(capsys, root) == [
        r"profiles/models/a.yaml:3:3: inference.temp\u200berature: unknown key "
        r"'temp\u200berature'; did you mean 'temperature'?"
    ]


# ------------------------------------------------------------------------------------------
# --set


def render(capsys: pytest.CaptureFixture[str], root: Path, *more: str, code: int = 3) -> list[str]:
    return cli(capsys, "--profiles", str(root), "render", "qwen", *more, code=code)


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            ["load.contextLength=1", "load.context_length=2"],
            "--set: load.context_length: also set by --set load.contextLength; keep one",
        ),
        (
            ["contextLength=1", "context_length=2"],
            "--set: context_length: also set by --set contextLength; keep one",
        ),
        (
            ["temperature=0.1", "inference.temperature=0.2"],
            "--set: inference.temperature: also set by --set temperature; keep one",
        ),
        (
            ['gpu={"ratio": 1}', "load.gpu.ratio=0.5"],
            "--set: load.gpu.ratio: also set by --set gpu; keep one",
        ),
        (["ttl=5", "ttl=6"], "--set: ttl: also set by --set ttl; keep one"),
    ],
)
def test_set_twice_is_a_problem(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], sets: list[str], expected: str
) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    argv = [word for item in sets for word in ("--set", item)]
    assert render(capsys, root, *argv) == [expected]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("contextLenght=1", "unknown key 'contextLenght'; did you mean 'contextLength'?"),
        ("load.contextLenght=1", "unknown key 'contextLenght'; did you mean 'contextLength'?"),
        ("load.gpu.ratoi=1", "unknown key 'ratoi'; did you mean 'ratio'?"),
        ("temperatur=1", "unknown key 'temperatur'; did you mean 'temperature'?"),
        ("lod.contextLength=1", "unknown key 'lod'; did you mean 'load'?"),
        ("ttl.x=1", "'ttl' has no fields"),
    ],
)
def test_set_unknown_keys_suggest_from_every_field(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], item: str, expected: str
) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    assert render(capsys, root, "--set", item) == [f"--set: {item.partition('=')[0]}: {expected}"]


def test_set_takes_dotted_paths(write_tree: WriteTree, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tree(
        {
            "models/qwen.yaml": "model: qwen/qwen3-8b\nload:\n  contextLength: 4096\n"
            "  gpu:\n    splitStrategy: evenly\n"
        }
    )
    out = render(
        capsys,
        root,
        "--set",
        "load.gpu.ratio=0.5",
        "--set",
        "inference.max_tokens=64",
        "--set",
        "load.context_length=8k",
        "--format",
        "json",
        code=0,
    )
    doc = json.loads("\n".join(out))
    assert doc["load"] == {"contextLength": 8192, "gpu": {"splitStrategy": "evenly", "ratio": 0.5}}
    assert doc["inference"] == {"maxTokens": 64}
    overrides: dict[str, Any] = {"load.gpu.ratio": 0.5}
    origin = lmsprofiles.load(root).resolve("qwen", **overrides)
    assert str(origin.origin("load.gpu.ratio")) == "call-site"
    assert str(origin.origin("load.gpu.splitStrategy")) == "profiles/models/qwen.yaml:5:20"


def test_resolve_two_spellings_of_one_override_is_a_problem(write_tree: WriteTree) -> None:
    profiles = lmsprofiles.load(write_tree({"models/qwen.yaml": QWEN}))
    with pytest.raises(ProfileError) as caught:
        profiles.resolve("qwen", contextLength=1, context_length=2)
    assert [str(p) for p in caught.value.problems] == [
        "call-site: context_length: also set by contextLength; keep one"
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"maxTokens": 10**30},
            "call-site: inference.maxTokens: integer out of range (beyond 64 bits)",
        ),
        (
            {"load.gpu.disabledGpus": [0, 2**70]},
            "call-site: load.gpu.disabledGpus: integer out of range (beyond 64 bits)",
        ),
    ],
)
def test_resolve_refuses_integers_past_64_bits_as_files_and_variables_do(
    write_tree: WriteTree, overrides: dict[str, Any], expected: str
) -> None:
    profiles = lmsprofiles.load(write_tree({"models/qwen.yaml": QWEN}))
    with pytest.raises(ProfileError) as caught:
        profiles.resolve("qwen", **overrides)
    assert [str(p) for p in caught.value.problems] == [expected]


# ------------------------------------------------------------------------------------------
# JSON in variables and in --set values


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "LMSPROFILES_LOAD",
            '{"contextLenght": 4096}',
            "LMSPROFILES_LOAD: load.contextLenght: unknown key 'contextLenght'; "
            "did you mean 'contextLength'?",
        ),
        (
            "LMSPROFILES_INFERENCE",
            '{"structured": {"typ": "json"}}',
            "LMSPROFILES_INFERENCE: inference.structured.typ: unknown key 'typ'; "
            "did you mean 'type'?",
        ),
        (
            "LMSPROFILES_INFERENCE__RAW_TOOLS",
            '{"type": "toolArray", "tools": [{"type": "function", "function": {"nam": "x"}}]}',
            "LMSPROFILES_INFERENCE__RAW_TOOLS: inference.rawTools.tools[0].function.nam: "
            "unknown key 'nam'; did you mean 'name'?",
        ),
        (
            "LMSPROFILES_MODELS__QWEN__LOAD__GPU",
            '{"ratoi": 0.5}',
            "LMSPROFILES_MODELS__QWEN__LOAD__GPU: load.gpu.ratoi: unknown key 'ratoi'; "
            "did you mean 'ratio'?",
        ),
        (
            "LMSPROFILES_LOAD",
            '{"contextLength": 1, "context_length": 2}',
            "LMSPROFILES_LOAD: load.context_length: 'contextLength' is given twice "
            "(as 'contextLength' and 'context_length')",
        ),
    ],
)
def test_unknown_keys_in_json_variables_name_the_variable_and_the_close_key(
    write_tree: WriteTree,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    expected: str,
) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    monkeypatch.setenv(name, value)
    assert validate(capsys, root) == [expected]


def test_json_variables_take_both_spellings_and_units(
    write_tree: WriteTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    env = {
        "LMSPROFILES_LOAD": '{"context_length": "8k", "gpu": {"split_strategy": "evenly"}}',
        "LMSPROFILES_INFERENCE__STRUCTURED": '{"type": "json", "json_schema": {"a_b": 1}}',
    }
    cfg = lmsprofiles.load(root, env=env).resolve("qwen")
    assert cfg.load == {"contextLength": 8192, "gpu": {"splitStrategy": "evenly"}}
    assert cfg.inference["structured"] == {"type": "json", "jsonSchema": {"a_b": 1}}
    assert str(cfg.origin("load.gpu.splitStrategy")) == "LMSPROFILES_LOAD"


def test_a_section_variable_and_one_of_its_fields_clash(write_tree: WriteTree) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    env = {"LMSPROFILES_LOAD": '{"contextLength": 1}', "LMSPROFILES_LOAD__CONTEXT_LENGTH": "2"}
    with pytest.raises(ProfileError) as caught:
        lmsprofiles.load(root, env=env)
    assert [str(p) for p in caught.value.problems] == [
        "LMSPROFILES_LOAD__CONTEXT_LENGTH: load.contextLength: also set by LMSPROFILES_LOAD; "
        "keep one"
    ]


def test_unknown_keys_in_json_set_values(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    assert render(capsys, root, "--set", 'load.gpu={"ratoi": 1}') == [
        "--set: load.gpu.ratoi: unknown key 'ratoi'; did you mean 'ratio'?"
    ]
    profiles = lmsprofiles.load(root)
    with pytest.raises(ProfileError) as caught:
        profiles.resolve("qwen", gpu={"ratoi": 1})
    assert [str(p) for p in caught.value.problems] == [
        "call-site: load.gpu.ratoi: unknown key 'ratoi'; did you mean 'ratio'?"
    ]
    clash: dict[str, Any] = {"gpu": 5, "load.gpu.ratio": 1}
    with pytest.raises(ProfileError) as caught:
        profiles.resolve("qwen", **clash)
    assert [str(p) for p in caught.value.problems] == [
        "call-site: load.gpu.ratio: also set by gpu; keep one"
    ]
    cfg = profiles.resolve("qwen", gpu={"split_strategy": "evenly"})
    assert cfg.load["gpu"] == {"splitStrategy": "evenly"}


# ------------------------------------------------------------------------------------------
# Files that look like profiles


@pytest.mark.parametrize("directory", ["models", "requests"])
def test_files_that_look_like_profiles_are_read_or_reported(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], directory: str
) -> None:
    text = "model: m/x\n" if directory == "models" else "inference: {}\n"
    names = [".hidden.yaml", ".yaml", "a.YAML", "b.Yml", "b.yaml~", ".#c.yaml", ".d.yaml.swp"]
    root = write_tree(
        {"models/ok.yaml": "model: m/x\n", **{f"{directory}/{n}": text for n in names}}
    )
    hidden = "hidden file, not read: profile file names do not start with '.'"
    assert validate(capsys, root) == [
        f"profiles/{directory}/.hidden.yaml: {hidden}",
        f"profiles/{directory}/.yaml: {hidden}",
        f"profiles/{directory}/a.YAML: not read: profile files end in .yaml or .yml "
        "(lower case); rename it a.yaml",
        f"profiles/{directory}/b.Yml: not read: profile files end in .yaml or .yml "
        "(lower case); rename it b.yml",
    ]


def test_editor_files_and_hidden_files_at_the_top_are_ignored(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        {
            "models/ok.yaml": "model: m/x\n",
            "models/ok.yaml~": "model: [\n",
            "models/.#ok.yaml": "model: [\n",
            "models/.ok.yaml.swp": "model: [\n",
            "models/#ok.yaml#": "model: [\n",
            ".yamllint.yaml": "rules: {}\n",
        }
    )
    assert validate(capsys, root, code=0) == [f"valid: {root} (1 model, 0 requests)"]


def test_a_top_level_file_with_an_upper_case_suffix_is_reported(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree({"global.YAML": "ttl: 5\n", "models/ok.yaml": "model: m/x\n"})
    assert validate(capsys, root) == [
        "profiles/global.YAML: not read: profile files end in .yaml or .yml (lower case); "
        "rename it global.yaml"
    ]


# ------------------------------------------------------------------------------------------
# The public API


def test_a_user_config_that_is_not_there_is_an_error(write_tree: WriteTree, tmp_path: Path) -> None:
    root = write_tree({"models/qwen.yaml": QWEN})
    for cache in (False, True):
        with pytest.raises(ProfileError) as caught:
            lmsprofiles.load(root, user_config=tmp_path / "nonexistent.yaml", cache=cache)
        assert [str(p) for p in caught.value.problems] == [
            "nonexistent.yaml: no such user-level global file (pass user_config=None to skip it)"
        ]
    user = tmp_path / "user.yaml"
    user.write_text("ttl: 60\n", encoding="utf-8")
    assert lmsprofiles.load(root, user_config=user).resolve("qwen").ttl == 60
    assert lmsprofiles.load(root, user_config=None).resolve("qwen").ttl is None
    assert lmsprofiles.load(root).resolve("qwen").ttl is None  # the default file may be absent


def test_origin_of_a_path_that_names_no_field_raises(write_tree: WriteTree) -> None:
    cfg = lmsprofiles.load(write_tree({"models/qwen.yaml": QWEN})).resolve("qwen")
    assert str(cfg.origin("inference.temperature")) == "profiles/models/qwen.yaml:5:16"
    assert str(cfg.origin("inference.max_tokens")) == "LM Studio default"
    assert str(cfg.origin("load.gpu.ratio")) == "LM Studio default"
    for path, message in [
        ("inference.nope", "unknown key 'nope'; valid keys: "),
        ("inference.temperatur", "unknown key 'temperatur'; did you mean 'temperature'?"),
        ("lod.contextLength", "unknown key 'lod'; did you mean 'load'?"),
        ("ttl.x", "'ttl' has no fields"),
    ]:
        with pytest.raises(KeyError) as caught:
            cfg.origin(path)
        assert caught.value.args[0].startswith(f"{path}: {message}")


# ------------------------------------------------------------------------------------------
# Where a problem is


def test_a_bad_list_item_is_named_by_its_index_at_its_position(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(
        {
            "models/qwen.yaml": QWEN + "  stopStrings:\n    - a\n    - ''\n    - 3\n",
            "models/b.yaml": "model: m/x\nload:\n  gpu:\n    disabledGpus: [0, -1]\n",
        }
    )
    monkeypatch.setenv("LMSPROFILES_MODELS__QWEN__INFERENCE__TOOL_CALL_STOP_STRINGS", '["", "x"]')
    assert validate(capsys, root) == [
        "profiles/models/b.yaml:4:23: load.gpu.disabledGpus[1]: list item 1 must be a GPU "
        "index (an integer >= 0) (got -1)",
        "profiles/models/qwen.yaml:8:7: inference.stopStrings[1]: list item 1 must be a "
        "non-empty string (got the string '')",
        "profiles/models/qwen.yaml:9:7: inference.stopStrings[2]: list item 2 must be a "
        "non-empty string (got 3)",
        "LMSPROFILES_MODELS__QWEN__INFERENCE__TOOL_CALL_STOP_STRINGS: "
        "inference.toolCallStopStrings[0]: list item 0 must be a non-empty string "
        "(got the string '')",
    ]


def test_problems_come_files_first_then_variables_then_set(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(
        {
            "models/qwen.yaml": QWEN + "  topKSampling: 9999\n",
            "models/a.yaml": "model: m/x\nload:\n  contextLenght: 1\n  flashAtention: true\n",
        }
    )
    monkeypatch.setenv("LMSPROFILES_INFERENCE__TEMPERATUR", "1")
    monkeypatch.setenv("LMSPROFILES_LOAD__CONTEXT_LENGTH", "abc")
    lines = render(capsys, root, "--set", "maxTokns=1")
    assert [line.split(": ")[0] for line in lines] == [
        "profiles/models/a.yaml:3:3",
        "profiles/models/a.yaml:4:3",
        "profiles/models/qwen.yaml:6:17",
        "LMSPROFILES_INFERENCE__TEMPERATUR",
        "LMSPROFILES_LOAD__CONTEXT_LENGTH",
        "--set",
    ]


MAIN_GPU = "mainGpu needs splitStrategy: favorMainGpu (lmstudio SDK 1.5 drops it otherwise)"
HOSTS = "hosts:\n  gpu-a:\n    address: localhost:1234\n    load:\n      gpu:\n{}"


def test_a_rule_a_host_breaks_is_reported_once_at_the_host(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        {
            "models/qwen.yaml": "model: m/x\nload:\n  gpu:\n    mainGpu: 1\n"
            "    splitStrategy: favorMainGpu\n",
            "requests/creative.yaml": "inference:\n  temperature: 0.9\n",
            "requests/precise.yaml": "inference:\n  temperature: 0.1\n",
            "hosts.yaml": HOSTS.format("        splitStrategy: evenly\n"),
        }
    )
    assert validate(capsys, root) == [
        f"profiles/hosts.yaml:6:24: hosts.gpu-a.load.gpu.splitStrategy: {MAIN_GPU} "
        "(model 'qwen', host 'gpu-a')"
    ]
    (root / "hosts.yaml").write_text(HOSTS.format("        mainGpu: 0\n"), encoding="utf-8")
    (root / "models/qwen.yaml").write_text("model: m/x\n", encoding="utf-8")
    assert validate(capsys, root) == [
        f"profiles/hosts.yaml:6:18: hosts.gpu-a.load.gpu.mainGpu: {MAIN_GPU} "
        "(model 'qwen', host 'gpu-a')"
    ]


def test_a_rule_a_variable_or_set_breaks_names_it(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(
        {
            "models/qwen.yaml": "model: m/x\nload:\n  gpu:\n    mainGpu: 1\n"
            "    splitStrategy: favorMainGpu\n",
            "requests/creative.yaml": "inference:\n  temperature: 0.9\n",
        }
    )
    assert render(capsys, root, "--set", "load.gpu.split_strategy=evenly") == [
        f"--set: load.gpu.splitStrategy: {MAIN_GPU} (model 'qwen')"
    ]
    monkeypatch.setenv("LMSPROFILES_LOAD__GPU__SPLIT_STRATEGY", "evenly")
    assert validate(capsys, root) == [
        f"LMSPROFILES_LOAD__GPU__SPLIT_STRATEGY: load.gpu.splitStrategy: {MAIN_GPU} (model 'qwen')"
    ]


def test_problems_inside_an_alias_point_at_the_alias(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_tree(
        {
            "models/a.yaml": "model: m/x\nlabels: &g\n  size: 3\nload:\n  contextLength: &n -5\n"
            "inference: *g\nrequests:\n  creative:\n    inference:\n      maxTokens: *n\n",
            "models/b.yaml": "model: m/x\nlabels: &k\n  topKSampling: 9999\ninference: *k\n",
            "requests/creative.yaml": "inference: {}\n",
        }
    )
    assert validate(capsys, root) == [
        "profiles/models/a.yaml:5:18: load.contextLength: must be an integer >= 1 (got -5)",
        "profiles/models/a.yaml:6:12: inference.size: unknown key 'size'; valid keys: "
        + ", ".join(fields_of(f.Inference)),
        "profiles/models/a.yaml:10:18: requests.creative.inference.maxTokens: must be an "
        "integer >= 1, or false to switch it off (got -5)",
        "profiles/models/b.yaml:4:12: inference.topKSampling: must be an integer from -1 to 500 "
        "(got 9999)",
    ]


@pytest.mark.parametrize("style", ["block", "flow"])
def test_the_depth_limit_in_a_large_file_is_one_line_where_it_is_passed(
    write_tree: WriteTree, capsys: pytest.CaptureFixture[str], style: str
) -> None:
    head = "model: m/x\ninference:\n  structured:\n    type: json\n    jsonSchema:\n"
    if style == "block":  # the mapping of k0 (line 6) is level 4: level 65 is k61's, line 67
        body = "".join(f"      {'  ' * i}k{i}:\n" for i in range(100)).rstrip("\n") + " 1\n"
        where = f"67:{7 + 2 * 61}"
    else:  # one [ per line from line 6, the first at level 4: level 65 is on line 67
        body = "      " + "[\n" * 100 + "]" * 100 + "\n"
        where = "67:1"
    text = head + body + "# " + "z" * 60_000 + "\n"
    root = write_tree({"models/deep.yaml": text})
    assert len((root / "models/deep.yaml").read_bytes()) > 60_000
    (line,) = validate(capsys, root)
    assert line.startswith(f"profiles/models/deep.yaml:{where}: inference.structured.jsonSchema")
    assert line.endswith(": nesting deeper than 64 levels (LMSPROFILES_MAX_DEPTH)")
