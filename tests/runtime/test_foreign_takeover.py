"""A session never serves answers from an instance that took over its identifier: every use
checks the instance is still the one it decided on (its instanceReference), and decides
again if not; a foreign model there is an InstanceConflictError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles._cli import main
from lmsprofiles.emulator import Emulator


def take_over(emulator: Emulator, model_key: str, **kwargs: object) -> str:
    """Someone unloads qwen-chat and loads ``model_key`` under the same identifier."""
    emulator.unload("qwen-chat")
    return emulator.preload(model_key, "qwen-chat", **kwargs).instance_reference  # type: ignore[arg-type]


def test_a_foreign_model_under_the_identifier_is_never_used(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        s.respond("qwen-chat", "hello")
        take_over(lmstudio_emulator, "google/gemma-3-1b")
        with pytest.raises(lmsprofiles.InstanceConflictError, match="google/gemma-3-1b"):
            s.respond("qwen-chat", "hello")
        with pytest.raises(lmsprofiles.InstanceConflictError, match="google/gemma-3-1b"):
            s.complete("qwen-chat", "def f():")
        with pytest.raises(lmsprofiles.InstanceConflictError, match="google/gemma-3-1b"):
            s.llm("qwen-chat")
    assert lmstudio_emulator.instance("qwen-chat").model_key == "google/gemma-3-1b"


async def test_a_foreign_model_under_the_identifier_is_never_used_async(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    host = lmstudio_emulator.host
    async with lmsprofiles.connect_async(profiles_dir, host, state_dir=state_dir) as s:
        await s.respond("qwen-chat", "hello")
        take_over(lmstudio_emulator, "google/gemma-3-1b")
        with pytest.raises(lmsprofiles.InstanceConflictError, match="google/gemma-3-1b"):
            await s.respond("qwen-chat", "hello")
        with pytest.raises(lmsprofiles.InstanceConflictError, match="google/gemma-3-1b"):
            await s.llm("qwen-chat")


def test_a_replacement_by_the_same_model_is_foreign_to_reconcile(
    profiles_dir: Path,
    lmstudio_emulator: Emulator,
    state_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--profiles", str(profiles_dir), "--host", lmstudio_emulator.host]
    argv += ["--state-dir", str(state_dir)]
    assert main(["reconcile", *argv]) == 0
    [path] = (state_dir / "hosts").glob("*.json")
    recorded = json.loads(path.read_text())["instances"]["qwen-chat"]
    ours = lmstudio_emulator.instance("qwen-chat").instance_reference
    assert recorded["instance_reference"] == ours
    theirs = take_over(lmstudio_emulator, "qwen/qwen3-8b", context_length=4096)
    capsys.readouterr()
    assert main(["reconcile", *argv]) == 4  # a conflict: never reloaded as if it were ours
    out = capsys.readouterr().out
    assert "!   qwen-chat" in out
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == theirs
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        with pytest.raises(lmsprofiles.InstanceConflictError, match="adopt qwen-chat"):
            s.llm("qwen-chat")
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == theirs
