"""A model profile is used as its own type only: an llm handle of an embedding profile (or
the other way round) is a clear error, also once the session holds a handle to it."""

from __future__ import annotations

from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles.emulator import Emulator

LLM = "'embed' is an embedding model, not an llm model"
EMBEDDING = "'qwen-chat' is an llm model, not an embedding model"


def test_a_profile_is_used_as_its_own_type_only(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        for first in (True, False):  # before and after the session holds the handles
            with pytest.raises(lmsprofiles.ProfileError, match=LLM):
                s.llm("embed")
            with pytest.raises(lmsprofiles.ProfileError, match=LLM):
                s.respond("embed", "hello")
            with pytest.raises(lmsprofiles.ProfileError, match=EMBEDDING):
                s.embedding("qwen-chat")
            with pytest.raises(lmsprofiles.ProfileError, match=EMBEDDING):
                s.embed("qwen-chat", "text")
            if first:
                s.embed("embed", "text")
                s.respond("qwen-chat", "hello")


async def test_a_profile_is_used_as_its_own_type_only_async(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    host = lmstudio_emulator.host
    async with lmsprofiles.connect_async(profiles_dir, host, state_dir=state_dir) as s:
        await s.embed("embed", "text")
        await s.respond("qwen-chat", "hello")
        with pytest.raises(lmsprofiles.ProfileError, match=LLM):
            await s.llm("embed")
        with pytest.raises(lmsprofiles.ProfileError, match=EMBEDDING):
            await s.embedding("qwen-chat")
