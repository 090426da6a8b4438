"""validate, render and schema through the real CLI entry point."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmsprofiles._cli import main
from tests.conftest import EXAMPLE_PROFILES, WriteTree

REPO = EXAMPLE_PROFILES.parent


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(EXAMPLE_PROFILES, tmp_path / "profiles")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "profiles"


def test_validate_example_profiles(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out == "valid: profiles (3 models, 3 requests)\n"


@pytest.mark.parametrize("cached", [False, True])
def test_validate_counts_one_of_each_in_the_singular(
    cached: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles" / "models").mkdir(parents=True)
    (tmp_path / "profiles" / "requests").mkdir()
    (tmp_path / "profiles" / "models" / "chat.yaml").write_text("model: qwen/qwen3-8b\n")
    (tmp_path / "profiles" / "requests" / "short.yaml").write_text("inference:\n  maxTokens: 64\n")
    (tmp_path / "profiles" / "hosts.yaml").write_text("hosts:\n  box:\n    address: localhost\n")
    if cached:
        assert main(["validate"]) == 0
        capsys.readouterr()
    assert main(["validate"]) == 0
    assert capsys.readouterr().out == "valid: profiles (1 model, 1 request, 1 host)\n"
    (tmp_path / "profiles" / "hosts.yaml").unlink()
    (tmp_path / "profiles" / "requests" / "short.yaml").unlink()
    assert main(["validate"]) == 0
    assert capsys.readouterr().out == "valid: profiles (1 model, 0 requests)\n"


def test_validate_reports_every_problem_and_exits_3(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (example / "models" / "coder.yaml").write_text(
        "model: qwen/qwen2.5-coder-14b\nload:\n  contextLenght: 1\n  flashAttention: maybe\n"
    )
    assert main(["validate"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "profiles/models/coder.yaml:3:3: load.contextLenght: unknown key 'contextLenght'; "
        "did you mean 'contextLength'?",
        "profiles/models/coder.yaml:4:19: load.flashAttention: must be true or false "
        "(got the string 'maybe')",
        "2 problems found",
    ]


def test_validate_json(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example / "global.yaml").write_text("ttl: 0\n")
    assert main(["validate", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False
    assert doc["problems"] == [
        {
            "source": "profiles/global.yaml",
            "line": 1,
            "column": 6,
            "path": "ttl",
            "message": "must be an integer >= 1 (got 0)",
        }
    ]


def test_validate_reads_profiles_dir_from_environment(
    example: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(example.parent.parent)
    monkeypatch.setenv("LMSPROFILES_PROFILES", str(example))
    assert main(["validate"]) == 0
    assert main(["--profiles", str(example / "missing"), "validate"]) == 3


def test_bad_environment_variable_fails_validate(
    example: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSPROFILES_INFERENCE__TEMPERATUR", "0.2")
    assert main(["validate"]) == 3
    assert capsys.readouterr().err.splitlines()[0] == (
        "LMSPROFILES_INFERENCE__TEMPERATUR: unknown variable; did you mean "
        "LMSPROFILES_INFERENCE__TEMPERATURE?"
    )


def test_render_yaml(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "coder"]) == 0
    assert capsys.readouterr().out == (
        "identifier: coder\n"
        "model: qwen/qwen2.5-coder-14b\n"
        "type: llm\n"
        "ttl: 7200\n"
        "load:\n"
        "  gpu:\n"
        "    ratio: max\n"
        "  flashAttention: true\n"
        "  offloadKVCacheToGpu: true\n"
        "  contextLength: 65536\n"
        "  evalBatchSize: 1024\n"
        "  llamaKCacheQuantizationType: q8_0\n"
        "  llamaVCacheQuantizationType: q8_0\n"
        "inference:\n"
        "  temperature: 0.2\n"
        "  topPSampling: 0.95\n"
        "  maxTokens: false\n"
        "  stopStrings:\n"
        "  - <|endoftext|>\n"
    )


def test_render_show_origin(
    example: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSPROFILES_MODELS__QWEN_CHAT__LOAD__CONTEXT_LENGTH", "8192")
    assert (
        main(
            [
                "render",
                "qwen-chat",
                "--request",
                "creative",
                "--show-origin",
                "--set",
                "maxTokens=64",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    lines = {line.split(":")[0].strip(): line for line in out.splitlines()}
    assert lines["contextLength"].endswith("# LMSPROFILES_MODELS__QWEN_CHAT__LOAD__CONTEXT_LENGTH")
    assert lines["temperature"].endswith("# profiles/models/qwen-chat.yaml:12:20")
    assert lines["topPSampling"].endswith("# profiles/requests/creative.yaml:5:17")
    assert lines["maxTokens"].endswith("# call-site")
    assert lines["seed"] == "  seed: null # LM Studio default"
    assert lines["ttl"] == "ttl: null  # no idle expiry (unset by profiles/global.yaml:13:6)"


def test_render_json_with_origins_and_false(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "coder", "--format", "json", "--show-origin"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inference"]["maxTokens"] is False
    assert doc["origins"]["inference.maxTokens"] == "profiles/models/coder.yaml:11:14"
    assert doc["origins"]["load.seed"] == "LM Studio default"
    assert doc["origins"]["inference.stopStrings[0]"] == "profiles/models/coder.yaml:12:25"


def test_render_embedding_model_skips_llm_only_globals(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "embed", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["load"] == {"gpu": {"ratio": "max"}, "contextLength": 2048}
    assert "inference" not in doc


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "qwen"], "call-site: no model profile named 'qwen'; did you mean 'qwen-chat'?"),
        (
            ["render", "qwen-chat", "--request", "precis"],
            "call-site: no request profile named 'precis'; did you mean 'precise'?",
        ),
        (
            ["render", "qwen-chat", "--set", "maxTokens=lots"],
            "--set: maxTokens: must be an integer >= 1, or false to switch it off (got 'lots')",
        ),
        (
            ["render", "qwen-chat", "--set", "topP=0.5"],
            "--set: topP: unknown key 'topP'; did you mean 'topPSampling'?",
        ),
    ],
)
def test_render_errors(
    example: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 3
    assert capsys.readouterr().err.splitlines()[0] == message


def test_schema_json_is_current() -> None:
    """schema.json is generated; this fails when the models changed and it was not rebuilt."""
    from lmsprofiles import _jsonschema

    assert (REPO / "schema.json").read_text(encoding="utf-8") == _jsonschema.text()


def test_schema_write_and_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["schema", "--check"]) == 1
    assert "schema.json is missing" in capsys.readouterr().err
    assert main(["schema"]) == 0
    assert main(["schema", "--check"]) == 0
    (tmp_path / "schema.json").write_text("{}\n")
    assert main(["schema", "--check"]) == 1
    assert "schema.json is stale" in capsys.readouterr().err


def test_schema_describes_every_file_kind_and_field() -> None:
    doc = json.loads((REPO / "schema.json").read_text())
    defs = doc["$defs"]
    assert {"GlobalFile", "ModelFile", "RequestFile", "LlmLoad", "Inference"} <= set(defs)
    for name in ("LlmLoad", "Inference", "Gpu"):
        for key, prop in defs[name]["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no description"
    assert (
        defs["LlmLoad"]["properties"]["context_length"]["description"] == "Same as contextLength."
    )


def test_example_profiles_carry_the_schema_modeline() -> None:
    for file in EXAMPLE_PROFILES.rglob("*.yaml"):
        first = file.read_text().splitlines()[0]
        depth = len(file.relative_to(EXAMPLE_PROFILES).parts)
        assert first == f"# yaml-language-server: $schema={'../' * depth}schema.json", file


def test_console_script_runs_as_a_subprocess(example: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
    done = subprocess.run(
        [sys.executable, "-m", "lmsprofiles", "render", "qwen-chat", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["load"]["contextLength"] == 16384


# ------------------------------------------------------------------------------------------
# Junk never produces a traceback

junk_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                "model: m",
                "load:",
                "  contextLength: 1",
                "  gpu: [",
                "!append",
                "!reset x",
                "inference: {temperature: hot}",
                "- 1",
                "? x",
                "&a b",
                "*a",
                "---",
                "\t",
                ":",
                "requests:",
                "  x: !replace 3",
                "ttl: -1",
                "type: embedding",
                '"',
                "'",
                "{",
                "load: !reset",
                "  seed: false",
                "identifier: ''",
            ]
        ),
        max_size=12,
    ).map("\n".join),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(global_text=junk_text, model_text=junk_text)
def test_junk_yaml_never_raises_a_traceback(
    write_tree: WriteTree, global_text: str, model_text: str
) -> None:
    import lmsprofiles

    root = write_tree({"global.yaml": global_text, "models/a.yaml": model_text})
    try:
        profiles = lmsprofiles.load(root, env={})
    except lmsprofiles.ProfileError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
    else:
        for identifier in profiles.identifiers:
            profiles.resolve(identifier)


def test_render_set_reports_every_bad_override(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "qwen-chat", "--set", "maxTokens=abc", "--set", "foo=1"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        "--set: foo: unknown key 'foo'; name a load or inference field (see docs/profiles.md) "
        "or ttl",
        "--set: maxTokens: must be an integer >= 1, or false to switch it off (got 'abc')",
    ]


def test_render_json_origin_of_a_nested_field_is_not_a_default(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "qwen-chat", "--format", "json", "--show-origin"]) == 0
    origins = json.loads(capsys.readouterr().out)["origins"]
    assert "load.gpu" not in origins
    assert origins["load.gpu.ratio"] == "profiles/global.yaml:6:12"


def test_bad_host_variable_does_not_hide_other_problems(
    example: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSPROFILES_HOST", "http://x")
    monkeypatch.setenv("LMSPROFILES_FOO", "1")
    assert main(["validate"]) == 3
    err = capsys.readouterr().err
    assert "LMSPROFILES_HOST: give host:port" in err and "LMSPROFILES_FOO: unknown variable" in err


def test_schema_allows_null_on_every_optional_key_and_no_required_one() -> None:
    """null unsets a key (LM Studio's default applies); a required key cannot be unset."""
    doc = json.loads((REPO / "schema.json").read_text())
    required = []
    for name, definition in doc["$defs"].items():
        for key, prop in definition["properties"].items():
            nullable = {"type": "null"} in prop.get("anyOf", ())
            same = re.fullmatch(r"Same as (\w+)\.", prop.get("description", ""))
            if (same.group(1) if same else key) in definition.get("required", ()):
                required.append(f"{name}.{key}")
                assert not nullable and prop.get("type") != "null", f"{name}.{key}"
            else:
                assert nullable, f"{name}.{key}"
    assert "ModelFile.model" in required and "HostEntry.address" in required


_IMPORTS = """
import contextlib, io, sys
from lmsprofiles._cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.mark.parametrize(
    ("argv", "banned"),
    [
        (["--help"], {"lmstudio", "websockets", "httpx", "rich", "pydantic", "ruamel", "asyncio"}),
        (["validate"], {"lmstudio", "websockets", "httpx", "rich"}),
        (["render", "coder"], {"lmstudio", "websockets", "httpx", "rich"}),
    ],
)
def test_light_commands_do_not_import_heavy_modules(
    example: Path, argv: list[str], banned: set[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, *argv], capture_output=True, text=True, check=True
    )
    assert banned.isdisjoint(done.stdout.split())
