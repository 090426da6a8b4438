"""Context-length policy, memory budget and ttl expiry, observed through the SDK."""

from __future__ import annotations

import time

import lmstudio as lms
import pytest

from lmsprofiles.emulator import Emulator
from tests.emulator.conftest import CODER, GEMMA, NOMIC, QWEN


def test_clamp_policy_fits_context_silently(
    client: lms.Client, lmstudio_emulator: Emulator
) -> None:
    assert lmstudio_emulator.context_policy == "clamp"
    handle = client.llm.load_new_instance(GEMMA, config={"contextLength": 100000})
    assert handle.get_context_length() == 32768  # what the instance really runs with
    assert handle.get_load_config().context_length == 100000  # what was sent
    snapshot = lmstudio_emulator.instance(GEMMA)
    assert (snapshot.context_length, snapshot.requested_context_length) == (32768, 100000)


def test_reject_policy_fails_the_load(client: lms.Client, lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.context_policy = "reject"
    with pytest.raises(lms.LMStudioServerError, match="larger than the model's maxContextLength"):
        client.llm.load_new_instance(GEMMA, config={"contextLength": 100000})
    assert client.llm.list_loaded() == []
    assert client.llm.load_new_instance(GEMMA, config={"contextLength": 32768}).identifier == GEMMA


def test_accept_policy_runs_with_the_requested_context(
    client: lms.Client, lmstudio_emulator: Emulator
) -> None:
    lmstudio_emulator.context_policy = "accept"
    handle = client.llm.load_new_instance(GEMMA, config={"contextLength": 100000})
    assert handle.get_context_length() == 100000


def test_default_budget_fits_every_model_at_its_maximum_context(client: lms.Client) -> None:
    for key in (QWEN, CODER, GEMMA):
        info = client.llm.load_new_instance(key, config={"contextLength": 10**6}).get_info()
        assert info.context_length == info.max_context_length
    client.embedding.load_new_instance(NOMIC, config={"contextLength": 2048})
    assert len(client.list_loaded_models()) == 4


def test_exceeding_the_memory_budget_fails_the_load(
    client: lms.Client, lmstudio_emulator: Emulator
) -> None:
    lmstudio_emulator.memory_budget = 12 * 1024**3
    client.llm.load_new_instance(QWEN, config={"contextLength": 4096})
    used = lmstudio_emulator.memory_used
    with pytest.raises(lms.LMStudioServerError, match="insufficient memory"):
        client.llm.load_new_instance(CODER)
    assert lmstudio_emulator.memory_used == used
    assert [m.identifier for m in client.llm.list_loaded()] == [QWEN]
    client.llm.unload(QWEN)
    assert lmstudio_emulator.memory_used == 0
    client.llm.load_new_instance(CODER, config={"contextLength": 4096})


def test_ttl_unloads_idle_instances(client: lms.Client) -> None:
    handle = client.llm.load_new_instance(GEMMA, ttl=1)
    client.llm.load_new_instance(GEMMA, ttl=None)
    time.sleep(0.6)
    handle.respond("still here")  # a use restarts the idle clock
    time.sleep(0.6)
    assert len(client.llm.list_loaded()) == 2
    time.sleep(0.6)
    assert [m.identifier for m in client.llm.list_loaded()] == [f"{GEMMA}:2"]
    with pytest.raises(lms.LMStudioModelNotFoundError):
        handle.get_info()


def test_get_or_load_counts_as_use(client: lms.Client) -> None:
    client.llm.model(GEMMA, ttl=1)
    time.sleep(0.6)
    client.llm.model(GEMMA, ttl=None)  # alreadyLoaded: ttl unchanged, clock restarted
    time.sleep(0.6)
    assert client.llm.remote_call("listLoaded")[0]["ttlMs"] == 1000
    time.sleep(0.6)
    assert client.llm.list_loaded() == []
