"""A field written in the other section (a load field under inference, or the reverse) is
named as such, and a name from another tool points at the field in its own section."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmsprofiles._cli import main


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``profiles/models`` in a working directory of its own."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles" / "models").mkdir(parents=True)
    return tmp_path / "profiles" / "models"


def test_a_field_in_the_wrong_section_says_where_it_belongs(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (models / "chat.yaml").write_text(
        "model: qwen/qwen3-8b\n"
        "load:\n"
        "  temperature: 1\n"
        "  max_tokens: 64\n"
        "  topP: 0.9\n"
        "  ctx: 4096\n"
        "inference:\n"
        "  contextLength: 4096\n"
        "  flash_attention: true\n"
        "  num_ctx: 4096\n"
        "  ngl: 1\n"
        "  temperatur: 1\n"
    )
    assert main(["validate"]) == 3
    err = capsys.readouterr().err
    assert err == (
        "profiles/models/chat.yaml:3:3: load.temperature: 'temperature' is an inference "
        "field, not a load field; write it under inference\n"
        "profiles/models/chat.yaml:4:3: load.max_tokens: 'max_tokens' is an inference "
        "field, not a load field; write it under inference\n"
        "profiles/models/chat.yaml:5:3: load.topP: unknown key 'topP'; "
        "did you mean 'inference.topPSampling'?\n"
        "profiles/models/chat.yaml:6:3: load.ctx: unknown key 'ctx'; "
        "did you mean 'contextLength'?\n"
        "profiles/models/chat.yaml:8:3: inference.contextLength: 'contextLength' is a load "
        "field, not an inference field; write it under load\n"
        "profiles/models/chat.yaml:9:3: inference.flash_attention: 'flash_attention' is a "
        "load field, not an inference field; write it under load\n"
        "profiles/models/chat.yaml:10:3: inference.num_ctx: unknown key 'num_ctx'; "
        "did you mean 'load.contextLength'?\n"
        "profiles/models/chat.yaml:11:3: inference.ngl: unknown key 'ngl'; "
        "did you mean 'load.gpu.ratio'?\n"
        "profiles/models/chat.yaml:12:3: inference.temperatur: unknown key 'temperatur'; "
        "did you mean 'temperature'?\n"
        "9 problems found\n"
    )


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("LMSPROFILES_LOAD__TEMPERATURE", "LMSPROFILES_INFERENCE__TEMPERATURE"),
        ("LMSPROFILES_INFERENCE__CONTEXT_LENGTH", "LMSPROFILES_LOAD__CONTEXT_LENGTH"),
        ("LMSPROFILES_INFERENCE__GPU__RATIO", "LMSPROFILES_LOAD__GPU__RATIO"),
        (
            "LMSPROFILES_MODELS__CHAT__LOAD__MAX_TOKENS",
            "LMSPROFILES_MODELS__CHAT__INFERENCE__MAX_TOKENS",
        ),
    ],
)
def test_a_variable_in_the_wrong_section_points_at_the_right_one(
    variable: str,
    meant: str,
    models: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (models / "chat.yaml").write_text("model: qwen/qwen3-8b\n")
    monkeypatch.setenv(variable, "1")
    assert main(["validate"]) == 3
    assert capsys.readouterr().err == (
        f"{variable}: unknown variable; did you mean {meant}?\n1 problem found\n"
    )


def test_a_field_one_level_too_high_says_which_mapping_it_belongs_in(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key that lost its indentation (`contextLength` beside `load:`, `ratio` beside
    `gpu:`) names the mapping it belongs in rather than listing the keys of this one."""
    (models / "chat.yaml").write_text(
        "model: qwen/qwen3-8b\n"
        "contextLength: 4096\n"
        "temperature: 0.2\n"
        "load:\n"
        "  ratio: max\n"
        "inference:\n"
        "  jsonSchema: {type: object}\n"
        "  type: json\n"
    )
    (models.parent / "global.yaml").write_text("max_tokens: 64\n")
    assert main(["validate"]) == 3
    assert capsys.readouterr().err == (
        "profiles/global.yaml:1:1: max_tokens: 'max_tokens' is an inference field; "
        "write it under inference\n"
        "profiles/models/chat.yaml:2:1: contextLength: 'contextLength' is a load field; "
        "write it under load\n"
        "profiles/models/chat.yaml:3:1: temperature: 'temperature' is an inference field; "
        "write it under inference\n"
        "profiles/models/chat.yaml:5:3: load.ratio: 'ratio' is a gpu field; "
        "write it under gpu\n"
        "profiles/models/chat.yaml:7:3: inference.jsonSchema: 'jsonSchema' is a structured "
        "field; write it under structured\n"
        "profiles/models/chat.yaml:8:3: inference.type: unknown key 'type'; valid keys: "
        "maxTokens, temperature, stopStrings, toolCallStopStrings, contextOverflowPolicy, "
        "structured, rawTools, topKSampling, repeatPenalty, minPSampling, topPSampling, "
        "cpuThreads, promptTemplate, draftModel, speculativeDecodingNumDraftTokensExact, "
        "speculativeDecodingMinDraftLengthToConsider, "
        "speculativeDecodingMinContinueDraftingProbability, reasoningParsing\n"
        "6 problems found\n"
    )


def test_an_embedding_model_is_not_told_to_write_inference(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (models / "embed.yaml").write_text(
        "model: text-embedding-nomic-embed-text-v1.5\ntype: embedding\n"
        "temperature: 1\ncontextLength: 2048\n"
    )
    assert main(["validate"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(
        "profiles/models/embed.yaml:3:1: temperature: unknown key 'temperature'; valid keys: "
    )
    assert err[1:] == [
        "profiles/models/embed.yaml:4:1: contextLength: 'contextLength' is a load field; "
        "write it under load",
        "2 problems found",
    ]
