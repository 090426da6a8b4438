"""A profile directory that is not there, run from inside the profile directory itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmsprofiles._cli import main


def _profiles(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "models" / "chat.yaml").write_text("model: qwen/qwen3-8b\n")
    (root / "global.yaml").write_text("ttl: null\n")
    return root


def test_running_inside_the_profile_directory_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_profiles(tmp_path / "profiles"))
    monkeypatch.delenv("LMSPROFILES_PROFILES", raising=False)
    assert main(["validate"]) == 3
    captured = capsys.readouterr()
    assert captured.err == (
        "profiles: no such profile directory (. has global.yaml and models/, as a profile "
        "directory does: is it the one to use?)\n1 problem found\n"
    )
    assert main(["--profiles", ".", "validate"]) == 0


def test_a_parent_that_looks_like_a_profile_directory_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _profiles(tmp_path / "deploy")
    (tmp_path / "deploy" / "global.yaml").unlink()
    assert main(["render", "chat", "--profiles", "deploy/profiles"]) == 3
    assert capsys.readouterr().err.startswith(
        "deploy/profiles: no such profile directory (deploy has models/, as a profile "
        "directory does: is it the one to use?)\n"
    )


def test_a_missing_directory_elsewhere_is_only_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()  # of model weights, say: no YAML in it
    (tmp_path / "models" / "qwen3-8b.gguf").write_bytes(b"GGUF")
    assert main(["validate", "--profiles", "nope"]) == 3
    assert capsys.readouterr().err == "nope: no such profile directory\n1 problem found\n"
