"""The application API against the emulator, through the official SDK, sync and async."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lmstudio as lms
import pytest

import lmsprofiles
from lmsprofiles.emulator import Emulator


def _session(profiles: Any, emu: Emulator, state_dir: Path) -> lmsprofiles.Session:
    return lmsprofiles.connect(profiles, host=emu.host, state_dir=state_dir)


def test_resolved_inference_config_goes_to_the_sdk_unchanged(
    profiles_dir: Path, lmstudio_emulator: Emulator
) -> None:
    profiles = lmsprofiles.load(profiles_dir)
    cfg = profiles.resolve("qwen-chat", request="creative", maxTokens=3)
    assert cfg.inference["maxTokens"] == 3
    assert cfg.origin("inference.maxTokens").kind == "call-site"
    assert (
        str(cfg.origin("inference.topPSampling"))
        == f"{profiles_dir / 'requests/creative.yaml'}:5:17"
    )
    with lms.Client(lmstudio_emulator.host) as client:
        model = client.llm.load_new_instance(
            "qwen/qwen3-8b", "qwen-chat", ttl=None, config=cfg.load
        )
        result = model.respond("Tell me a story about a fox.", config=cfg.inference)
    assert result.stats.stop_reason == "maxPredictedTokensReached"
    assert result.stats.predicted_tokens_count == 3
    assert result.prediction_config.temperature == 1.0


def test_llm_loads_when_missing_then_reuses(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        model = session.llm("qwen-chat")
        assert model.identifier == "qwen-chat"
        assert session.llm("qwen-chat") is model  # decided once per session
    first = lmstudio_emulator.instance("qwen-chat")
    assert (first.model_key, first.context_length, first.ttl_ms) == ("qwen/qwen3-8b", 16384, None)
    assert first.load_config["llm.load.llama.flashAttention"] is True
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        assert session.llm("qwen-chat").identifier == "qwen-chat"
    again = lmstudio_emulator.instances()
    assert [i.identifier for i in again] == ["qwen-chat"]
    assert again[0].instance_reference == first.instance_reference  # reused, not reloaded


def test_owned_instance_that_no_longer_fits_is_reloaded(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        session.llm("qwen-chat")
    before = lmstudio_emulator.instance("qwen-chat")
    profile = profiles_dir / "models" / "qwen-chat.yaml"
    profile.write_text(profile.read_text().replace("16384", "8192"))
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        session.llm("qwen-chat")
    after = lmstudio_emulator.instance("qwen-chat")
    assert after.context_length == 8192
    assert after.instance_reference != before.instance_reference


def test_inference_only_change_does_not_reload(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        session.llm("qwen-chat")
    before = lmstudio_emulator.instance("qwen-chat")
    profile = profiles_dir / "models" / "qwen-chat.yaml"
    profile.write_text(profile.read_text().replace("temperature: 0.6", "temperature: 0.1"))
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        result = session.respond("qwen-chat", "hello")
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == before.instance_reference
    assert result.prediction_config.temperature == 0.1


def test_foreign_instance_is_reused_when_it_fits_and_never_touched_when_not(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    fits = {
        "llm.load.llama.flashAttention": True,
        "llm.load.llama.acceleration.offloadRatio": 1,
        "llm.load.offloadKVCacheToGpu": True,
    }
    lmstudio_emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=16384, config=fits)
    reference = lmstudio_emulator.instance("qwen-chat").instance_reference
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        assert session.llm("qwen-chat").identifier == "qwen-chat"
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == reference

    lmstudio_emulator.unload("qwen-chat")
    lmstudio_emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096, config=fits)
    reference = lmstudio_emulator.instance("qwen-chat").instance_reference
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        with pytest.raises(lmsprofiles.InstanceConflictError) as caught:
            session.llm("qwen-chat")
    assert "was not loaded by lmsprofiles and does not fit its profile" in str(caught.value)
    assert "load.contextLength: 4096 loaded, 16384 wanted" in str(caught.value)
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == reference


def test_respond_with_a_json_schema_overlay_returns_parsed_output(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        chat = lms.Chat("You extract contact details.")
        chat.add_user_message("Ann Lee, ann@example.com")
        result = session.respond("qwen-chat", chat, request="extract-json")
    assert isinstance(result.parsed, dict)
    assert isinstance(result.parsed["name"], str)
    assert result.prediction_config.max_tokens == 512


def test_complete_and_embed(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        completion = session.complete("coder", "def add(a, b):", request="precise", maxTokens=4)
        vector = session.embed("embed", "hello world")
    assert completion.stats.predicted_tokens_count <= 4
    assert len(vector) > 0 and all(isinstance(x, float) for x in vector)
    embed = lmstudio_emulator.instance("embed")
    assert (embed.type, embed.context_length) == ("embedding", 2048)


def test_instance_that_vanished_is_decided_again(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        session.respond("qwen-chat", "first")
        lmstudio_emulator.unload("qwen-chat")  # e.g. an idle ttl expired meanwhile
        result = session.respond("qwen-chat", "second")
    assert result.content
    assert [i.identifier for i in lmstudio_emulator.instances()] == ["qwen-chat"]


def test_errors_are_lmsprofiles_errors(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        with pytest.raises(lmsprofiles.UnknownModelError):
            session.llm("qwen")
        with pytest.raises(lmsprofiles.UnknownRequestError):
            session.respond("qwen-chat", "hi", request="creatve")
        with pytest.raises(lmsprofiles.ProfileError, match="must be a number >= 0"):
            session.respond("qwen-chat", "hi", temperature=-1)
        with pytest.raises(lmsprofiles.ProfileError, match="is an embedding model"):
            session.llm("embed")
    lmstudio_emulator.set_faults("qwen/qwen2.5-coder-14b", load_error="insufficient memory")
    with _session(profiles_dir, lmstudio_emulator, state_dir) as session:
        with pytest.raises(lmsprofiles.LMStudioError, match="could not load 'coder'"):
            session.llm("coder")


def test_unreachable_host(profiles_dir: Path, state_dir: Path) -> None:
    with pytest.raises(
        lmsprofiles.LMStudioUnreachableError, match=r"not reachable at 127\.0\.0\.1:9"
    ):
        with lmsprofiles.connect(profiles_dir, host="127.0.0.1:9", state_dir=state_dir):
            pass


def test_host_comes_from_the_environment(
    profiles_dir: Path,
    lmstudio_emulator: Emulator,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSPROFILES_HOST", lmstudio_emulator.host)
    with lmsprofiles.connect(profiles_dir, state_dir=state_dir) as session:
        assert session.host == lmstudio_emulator.host
        assert session.llm("qwen-chat").identifier == "qwen-chat"


async def test_async_session(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    async with lmsprofiles.connect_async(
        profiles_dir, host=lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        model = await session.llm("qwen-chat")
        assert model.identifier == "qwen-chat"
        result = await session.respond("qwen-chat", "Ann Lee", request="extract-json")
        assert isinstance(result.parsed, dict)
        short = await session.respond("qwen-chat", "hello there friend", maxTokens=2)
        assert short.stats.predicted_tokens_count == 2
        vector = await session.embed("embed", "hello")
        assert len(vector) > 0
    reference = lmstudio_emulator.instance("qwen-chat").instance_reference
    async with lmsprofiles.connect_async(
        profiles_dir, host=lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        await session.llm("qwen-chat")
        with pytest.raises(lmsprofiles.UnknownModelError):
            await session.llm("nope")
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == reference


async def test_async_reload_and_conflict(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    async with lmsprofiles.connect_async(
        profiles_dir, host=lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        await session.llm("qwen-chat")
    profile = profiles_dir / "models" / "qwen-chat.yaml"
    profile.write_text(profile.read_text().replace("16384", "8192"))
    async with lmsprofiles.connect_async(
        profiles_dir, host=lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        await session.llm("qwen-chat")
    assert lmstudio_emulator.instance("qwen-chat").context_length == 8192
    lmstudio_emulator.preload("qwen/qwen3-8b", "coder", context_length=1024)
    async with lmsprofiles.connect_async(
        profiles_dir, host=lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        with pytest.raises(lmsprofiles.InstanceConflictError):
            await session.llm("coder")


async def test_async_unreachable(profiles_dir: Path, state_dir: Path) -> None:
    with pytest.raises(lmsprofiles.LMStudioUnreachableError):
        async with lmsprofiles.connect_async(profiles_dir, host="127.0.0.1:9", state_dir=state_dir):
            pass


def test_resolve_of_a_cached_set_is_cached(profiles_dir: Path) -> None:
    profiles = lmsprofiles.load(profiles_dir)
    assert profiles.resolve("qwen-chat", "creative") is profiles.resolve("qwen-chat", "creative")
    a = profiles.resolve("qwen-chat").inference
    a["temperature"] = 99
    assert profiles.resolve("qwen-chat").inference["temperature"] == 0.6  # copies, never shared
    start = time.perf_counter()
    for _ in range(100):
        profiles.resolve("qwen-chat", "creative", maxTokens=64)
    assert time.perf_counter() - start >= 0  # timings live in bench/, not here


async def test_async_instance_that_vanished_is_decided_again(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    async with lmsprofiles.connect_async(
        profiles_dir, host=lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        await session.respond("qwen-chat", "first")
        lmstudio_emulator.unload("qwen-chat")
        result = await session.respond("qwen-chat", "second")
    assert result.content
    assert [i.identifier for i in lmstudio_emulator.instances()] == ["qwen-chat"]
