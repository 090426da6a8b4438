"""`lmsprofiles import` from a preset, a model.yaml and `lms load` lines, through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lmsprofiles._cli import main

SOURCES = Path(__file__).resolve().parent / "sources"
PRESET = SOURCES / "creative-writing.preset.json"
MODEL_YAML = SOURCES / "qwen3-8b.model.yaml"
SCRIPT = SOURCES / "start-models.sh"


def _render(profiles: Path, model: str, request: str | None = None) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    argv = ["render", model, "--profiles", str(profiles), "--format", "json"]
    if request:
        argv += ["--request", request]
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def _import(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_preset_imports_as_a_request_profile_whose_render_gives_the_preset_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    code, out, err = _import([str(PRESET), "--to", str(profiles)], capsys)
    assert code == 0, err
    written = profiles / "requests" / "creative-writing.yaml"
    assert out == f"wrote {written}\n"
    text = written.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema.json\n")
    assert "creative-writing.preset.json ('Creative writing')" in text.replace("\n# ", " ")
    # the keys no profile field carries are listed, in the file and on stderr
    for key in ("llm.prediction.systemPrompt", "llm.prediction.llama.xtcProbability"):
        assert key in text
        assert f"warning: not imported: {key}" in err
    (profiles / "models").mkdir()
    (profiles / "models" / "chat.yaml").write_text("model: qwen/qwen3-8b\n")
    rendered = _render(profiles, "chat", "creative-writing")
    assert rendered["inference"] == {
        "temperature": 1.1,
        "topKSampling": 60,
        "topPSampling": 0.92,
        "minPSampling": 0.02,
        "repeatPenalty": 1,  # unchecked in the preset: no repeat penalty
        "maxTokens": False,  # unchecked: no limit
        "stopStrings": ["\n\nUser:"],
        "contextOverflowPolicy": "rollingWindow",
    }


def test_a_catalog_model_yaml_imports_as_a_model_profile_whose_render_gives_it_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    code, _, err = _import([str(MODEL_YAML), "--to", str(profiles)], capsys)
    assert code == 0, err
    rendered = _render(profiles, "qwen3-8b")
    assert rendered["model"] == "qwen/qwen3-8b"
    assert rendered["load"] == {
        "contextLength": 32768,
        "flashAttention": True,
        "llamaVCacheQuantizationType": "q8_0",
        "seed": False,
    }
    assert rendered["inference"] == {
        "topKSampling": 20,
        "minPSampling": 0,
        "temperature": 0.6,
        "reasoningParsing": {"enabled": True, "startString": "<think>", "endString": "</think>"},
    }
    for key in ("base", "metadataOverrides", "customFields", "suggestions"):
        assert f"warning: not imported: {key}:" in err


def test_an_lms_load_script_imports_one_model_profile_per_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    code, _, err = _import([str(SCRIPT), "--to", str(profiles)], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (profiles / "models").iterdir()) == [
        "chat.yaml",
        "qwen2.5-coder-14b.yaml",
        "text-embedding-nomic-embed-text-v1.5.yaml",
    ]
    chat = _render(profiles, "chat")
    assert (chat["model"], chat["ttl"]) == ("qwen/qwen3-8b", 3600)
    assert chat["load"] == {"contextLength": 16384, "gpu": {"ratio": "max"}}
    coder = _render(profiles, "qwen/qwen2.5-coder-14b")  # lms load names it after its key
    assert coder["ttl"] is None  # no --ttl: stays loaded
    assert coder["load"] == {"contextLength": 32768, "gpu": {"ratio": 0.75}}
    embed = _render(profiles, "text-embedding-nomic-embed-text-v1.5")
    assert (embed["type"], embed["load"]) == ("embedding", {"gpu": {"ratio": "off"}})
    assert "warning: not imported: --parallel (line 7): 'maxParallelPredictions'" in err


def test_an_lms_load_command_line_is_a_source_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    line = "lms load google/gemma-3-1b --identifier=tiny --context-length=4096 --gpu 0.5"
    code, _, err = _import([line, "--to", str(profiles)], capsys)
    assert code == 0, err
    tiny = _render(profiles, "tiny")
    assert tiny["load"] == {"contextLength": 4096, "gpu": {"ratio": 0.5}}


def test_dry_run_prints_the_files_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    code, out, _ = _import([str(MODEL_YAML), "--to", str(profiles), "--dry-run"], capsys)
    assert code == 0
    assert out.startswith(f"# would write {profiles / 'models' / 'qwen3-8b.yaml'}\n")
    assert "contextLength: 32768" in out
    assert not profiles.exists()


def test_existing_files_are_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    target = profiles / "models" / "qwen3-8b.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("model: qwen/qwen3-8b\nload:\n  contextLength: 1024\n")
    code, _, err = _import([str(MODEL_YAML), "--to", str(profiles)], capsys)
    assert code == 1
    assert f"error: {target}: already exists; --force replaces it" in err
    assert "1024" in target.read_text()
    code, out, _ = _import([str(MODEL_YAML), "--to", str(profiles), "--force"], capsys)
    assert (code, out) == (0, f"replaced {target}\n")
    assert "32768" in target.read_text()


def test_name_and_model_place_a_presets_load_settings_in_a_model_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preset = json.loads(PRESET.read_text())
    preset["load"]["fields"] = [{"key": "llm.load.contextLength", "value": 8192}]
    source = tmp_path / "with-load.preset.json"
    source.write_text(json.dumps(preset))
    profiles = tmp_path / "profiles"
    code, _, err = _import([str(source), "--to", str(profiles)], capsys)
    assert code == 3
    assert "load.fields: the preset has 1 load setting(s); give --model KEY" in err
    argv = [str(source), "--to", str(profiles), "--name", "writer", "--model", "qwen/qwen3-8b"]
    code, _, err = _import(argv, capsys)
    assert code == 0, err
    assert _render(profiles, "writer", "writer")["load"] == {"contextLength": 8192}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.preset.json", '{"operation": {"fields": [\n  {"key": 1}\n', ":3:1: invalid JSON"),
        (
            "bad.preset.json",
            '{"operation": {"fields": [\n  {"key": "llm.prediction.temperature", "value": "hot"}\n]}}',
            ":2:3: operation.fields[0]: inference.temperature: must be a number >= 0",
        ),
        (
            "bad.preset.json",
            '{"operation": {"fields": [\n  {"key": "llm.load.contextLength", "value": 10}\n]}}',
            ":2:3: operation.fields[0]: llm.load.contextLength is not a prediction setting",
        ),
        (
            "model.yaml",
            "model: a/b\nconfig:\n  load:\n    fields:\n      - key: llm.load.seed\n        value: 3\n",
            ":5:9: config.load.fields[0]: llm.load.seed: expected {checked: true|false, value}",
        ),
        ("start.sh", "lms load $MODEL --gpu max\n", ":1:10: '$MODEL' is expanded by the shell"),
        ("start.sh", "lms load a/b --gpu lots\n", ":1:20: --gpu must be off, max or a number"),
        ("start.sh", "\nlms load a/b --flash\n", ":2:14: unknown lms load option --flash"),
        ("start.sh", "lms load -y\n", ":1:1: lms load without a model key asks interactively"),
        ("notes.txt", "just words\n", "cannot tell what this is"),
    ],
)
def test_bad_sources_are_reported_with_their_position_and_nothing_is_written(
    name: str, text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / name
    source.write_text(text)
    profiles = tmp_path / "profiles"
    code, _, err = _import([str(source), "--to", str(profiles)], capsys)
    assert code == 3
    assert f"{source}{expected}" in err.replace(f"{source}: ", f"{source}")
    assert not profiles.exists()


def test_two_sources_that_would_write_one_file_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "again.model.yaml"
    shutil.copy(MODEL_YAML, copy)
    code, _, err = _import([str(MODEL_YAML), str(copy), "--to", str(tmp_path / "p")], capsys)
    assert code == 3
    assert "would be written here; import them one at a time with --name" in err


def test_an_import_that_would_break_the_profile_directory_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    (profiles / "models").mkdir(parents=True)
    (profiles / "models" / "mine.yaml").write_text("model: x/y\nidentifier: chat\n")
    line = "lms load qwen/qwen3-8b --identifier chat"
    code, _, err = _import([line, "--to", str(profiles)], capsys)
    assert code == 3
    assert "identifier 'chat' is already claimed" in err
    assert not (profiles / "models" / "chat.yaml").exists()
