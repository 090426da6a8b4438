"""A field written in the other section (a load field under inference, or the reverse) is
named as such, and a name from another tool points at the field in its own section."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmsprofiles._cli import main


def test_a_field_in_the_wrong_section_says_where_it_belongs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    models = tmp_path / "profiles" / "models"
    models.mkdir(parents=True)
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
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    models = tmp_path / "profiles" / "models"
    models.mkdir(parents=True)
    (models / "chat.yaml").write_text("model: qwen/qwen3-8b\n")
    monkeypatch.setenv(variable, "1")
    assert main(["validate"]) == 3
    assert capsys.readouterr().err == (
        f"{variable}: unknown variable; did you mean {meant}?\n1 problem found\n"
    )
