"""`lmsprofiles export`: every format is checked by reading it back."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from lmsprofiles._cli import main
from lmsprofiles._profiles import load

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles"
SOURCES = Path(__file__).resolve().parent / "sources"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _export(model: str, fmt: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    return _run(["export", model, "--profiles", str(EXAMPLE), "--format", fmt, *extra], capsys)


def _resolved(profiles: Path, model: str, request: str | None = None) -> dict[str, Any]:
    cfg = load(profiles, env={}, user_config=None).resolve(model, request)
    return {
        "load": dict(cfg.values.get("load", {})),
        "inference": dict(cfg.values.get("inference", {})),
    }


def test_a_preset_export_imports_back_to_the_same_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _export("qwen-chat", "preset", capsys, "--request", "creative")
    preset = json.loads(text)
    assert preset["identifier"] == "@local:qwen-chat-creative"
    assert {f["key"] for f in preset["operation"]["fields"]} >= {
        "llm.prediction.temperature",
        "llm.prediction.topPSampling",
    }
    source = tmp_path / "qwen-chat.preset.json"
    source.write_text(text)
    back = tmp_path / "back"
    argv = [
        "import",
        str(source),
        "--to",
        str(back),
        "--name",
        "qwen-chat",
        "--model",
        "qwen/qwen3-8b",
    ]
    _run(argv, capsys)
    want = _resolved(EXAMPLE, "qwen-chat", "creative")
    got = _resolved(back, "qwen-chat", "qwen-chat")
    assert got == want


def test_a_false_checkbox_exports_unchecked(capsys: pytest.CaptureFixture[str]) -> None:
    preset = json.loads(_export("coder", "preset", capsys))
    fields = {f["key"]: f["value"] for f in preset["operation"]["fields"]}
    assert fields["llm.prediction.maxPredictedTokens"] == {"checked": False, "value": 1000}


def test_a_model_yaml_export_imports_back_to_the_same_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _export("coder", "model-yaml", capsys)
    assert text.startswith("# The settings of the lmsprofiles profile coder, as a model.yaml.\n")
    document = YAML(typ="safe").load(text)
    assert document["model"] == "qwen/qwen2.5-coder-14b"
    source = tmp_path / "model.yaml"
    source.write_text(text)
    back = tmp_path / "back"
    _run(["import", str(source), "--to", str(back), "--name", "coder"], capsys)
    assert _resolved(back, "coder") == _resolved(EXAMPLE, "coder")


def test_an_embedding_model_exports_as_an_embedding_model_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _export("embed", "model-yaml", capsys)
    source = tmp_path / "model.yaml"
    source.write_text(text)
    back = tmp_path / "back"
    _run(["import", str(source), "--to", str(back), "--name", "embed"], capsys)
    cfg = load(back, env={}, user_config=None).resolve("embed")
    assert cfg.type == "embedding"
    assert dict(cfg.values["load"]) == _resolved(EXAMPLE, "embed")["load"]


def test_an_lms_load_export_lists_what_it_has_no_flag_for_and_imports_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _export("coder", "lms-load", capsys)
    comments = [line for line in text.splitlines() if line.startswith("#")]
    command = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(command) == 1
    assert shlex.split(command[0])[:3] == ["lms", "load", "qwen/qwen2.5-coder-14b"]
    assert any(
        c.startswith("# not exported: flashAttention=true") and "no flag" in c for c in comments
    )
    source = tmp_path / "load.sh"
    source.write_text(text)
    back = tmp_path / "back"
    _run(["import", str(source), "--to", str(back)], capsys)
    cfg = load(back, env={}, user_config=None).resolve("coder")
    want = load(EXAMPLE, env={}, user_config=None).resolve("coder")
    assert (cfg.model, cfg.ttl) == (want.model, want.ttl)
    assert cfg.values["load"]["contextLength"] == want.values["load"]["contextLength"]
    assert cfg.values["load"]["gpu"] == want.values["load"]["gpu"]


def test_a_json_export_is_what_the_sdk_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(_export("qwen-chat", "json", capsys, "--request", "precise"))
    cfg = load(EXAMPLE, env={}, user_config=None).resolve("qwen-chat", "precise")
    assert document == {
        "identifier": "qwen-chat",
        "model": "qwen/qwen3-8b",
        "type": "llm",
        "ttl": cfg.ttl,
        "request": "precise",
        "load": dict(cfg.load),
        "inference": dict(cfg.inference),
    }


def test_an_imported_preset_exports_back_to_its_own_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    source = SOURCES / "creative-writing.preset.json"
    _run(["import", str(source), "--to", str(profiles)], capsys)
    (profiles / "models").mkdir()
    (profiles / "models" / "chat.yaml").write_text("model: qwen/qwen3-8b\n")
    argv = ["export", "chat", "--profiles", str(profiles), "--request", "creative-writing"]
    exported = json.loads(_run([*argv, "--format", "preset"], capsys))
    original = json.loads(source.read_text())["operation"]["fields"]
    skipped = {"llm.prediction.systemPrompt", "llm.prediction.llama.xtcProbability"}
    want = {f["key"]: f["value"] for f in original if f["key"] not in skipped}
    # unchecked repeat penalty comes back as its equal, a checked 1 (no penalty)
    want["llm.prediction.repeatPenalty"] = {"checked": True, "value": 1}
    want["llm.prediction.maxPredictedTokens"]["value"] = 1000  # the unchecked value is unused
    assert {f["key"]: f["value"] for f in exported["operation"]["fields"]} == want


def test_export_of_an_unknown_model_is_a_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "nope", "--profiles", str(EXAMPLE), "--format", "json"]) == 3
    assert "no model profile named 'nope'" in capsys.readouterr().err


def _comments(text: str) -> list[str]:
    """What the comments of an export say it does not carry."""
    return [
        line.removeprefix("# not exported: ")
        for line in text.splitlines()
        if line.startswith("# not exported: ")
    ]


def _import_back(fmt: str, text: str, model: str, back: Path) -> None:
    source = back.parent / {"preset": "x.preset.json", "model-yaml": "model.yaml"}.get(fmt, "x.sh")
    source.write_text(text)
    extra = ["--model", model] if fmt == "preset" else []
    assert main(["import", str(source), "--to", str(back), *extra]) == 0


def _config(profiles: Path, identifier: str, request: str | None) -> dict[str, Any]:
    cfg = load(profiles, env={}, user_config=None).resolve(identifier, request)
    return {
        "identifier": cfg.identifier,
        "model": cfg.model,
        "type": cfg.type,
        "ttl": cfg.ttl,
        **{
            f"{section}.{k}": v for section in ("load", "inference") for k, v in _flat(cfg, section)
        },
    }


def _flat(cfg: Any, section: str) -> list[tuple[str, Any]]:
    return sorted(dict(cfg.values.get(section, {})).items())


@pytest.mark.parametrize("fmt", ["preset", "model-yaml", "lms-load", "json"])
@pytest.mark.parametrize(
    ("identifier", "request_kind"),
    [("qwen-chat", None), ("qwen-chat", "extract-json"), ("coder", "creative"), ("embed", None)],
)
def test_every_export_names_what_reading_it_back_would_not_give_back(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    identifier: str,
    request_kind: str | None,
) -> None:
    profiles = tmp_path / "profiles"
    shutil.copytree(EXAMPLE, profiles)
    # a ttl and an identifier other than the model's name: neither is a setting
    (profiles / "models" / "embed.yaml").write_text(
        "model: text-embedding-nomic-embed-text-v1.5\ntype: embedding\nttl: 600\n"
        "load:\n  contextLength: 2048\n"
    )
    extra = ["--request", request_kind] if request_kind else []
    argv = ["export", identifier, "--profiles", str(profiles), "--format", fmt, *extra]
    capsys.readouterr()
    assert main(argv) == 0
    exported = capsys.readouterr()
    if fmt == "json":
        assert json.loads(exported.out)  # the configs themselves: nothing to name
        assert exported.err == ""
        return
    (warning,) = exported.err.splitlines() or [""]
    if fmt != "preset":  # a format with comments says it in the text too
        assert "; ".join(_comments(exported.out)) == warning.removeprefix("warning: not exported: ")
    want = _config(profiles, identifier, request_kind)
    back = tmp_path / "back"
    _import_back(fmt, exported.out, want["model"], back)
    capsys.readouterr()
    (name,) = {p.stem for p in back.rglob("*.yaml")}
    got = _config(back, load(back, env={}, user_config=None).identifiers[0], _kind(back, name))
    differ = {k for k in want.keys() | got.keys() if want.get(k) != got.get(k)}
    for key in differ:
        assert f"{key.removeprefix('load.')}=" in warning, (key, want[key], got.get(key), warning)
    if differ:
        assert warning.startswith("warning: not exported: ")


def _kind(profiles: Path, name: str) -> str | None:
    return name if (profiles / "requests" / f"{name}.yaml").exists() else None
