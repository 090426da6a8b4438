"""Every way the SDK connects: probe, plain client, AsyncClient, the convenience API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import lmstudio as lms
import lmstudio.sync_api
import pytest
from websockets.asyncio.client import connect

from lmsprofiles.emulator import Emulator
from tests.emulator.conftest import GEMMA, QWEN


def test_greeting_probe(lmstudio_emulator: Emulator) -> None:
    assert lms.Client.is_valid_api_host(lmstudio_emulator.host)
    response = httpx.get(f"http://{lmstudio_emulator.host}/lmstudio-greeting", timeout=2)
    assert response.status_code == 200
    assert response.json() == {"lmstudio": True}
    assert httpx.get(f"http://{lmstudio_emulator.host}/elsewhere", timeout=2).status_code == 404


def test_localhost_works_too(lmstudio_emulator: Emulator) -> None:
    with lms.Client(f"localhost:{lmstudio_emulator.port}") as client:
        assert client.llm.list_loaded() == []


def test_plain_client_without_probe(lmstudio_emulator: Emulator) -> None:
    client = lms.Client(lmstudio_emulator.host)
    try:
        client.llm.load_new_instance(GEMMA)
        assert [m.identifier for m in client.list_loaded_models("llm")] == [GEMMA]
    finally:
        client.close()


def test_two_clients_see_the_same_server(lmstudio_emulator: Emulator) -> None:
    with lms.Client(lmstudio_emulator.host) as one, lms.Client(lmstudio_emulator.host) as two:
        one.llm.load_new_instance(GEMMA)
        assert [m.identifier for m in two.llm.list_loaded()] == [GEMMA]


def test_system_version(client: lms.Client) -> None:
    version = client.system.remote_call("version")
    assert isinstance(version["version"], str)


def test_unknown_rpc_is_an_rpc_error(client: lms.Client) -> None:
    with pytest.raises(lms.LMStudioServerError, match="Unknown RPC endpoint"):
        client.llm.remote_call("noSuchEndpoint")


def test_prepare_image_uploads_a_file(client: lms.Client) -> None:
    handle = client.prepare_image(b"\x89PNG\r\n\x1a\n fake", "picture.png")
    assert handle.name == "picture.png"
    assert handle.file_type == "image"
    assert handle.size_bytes == 13


async def test_async_client(lmstudio_emulator: Emulator) -> None:
    async with lms.AsyncClient(lmstudio_emulator.host) as client:
        assert await client.llm.list_loaded() == []
        model = await client.llm.model(QWEN, config={"contextLength": 4096})
        assert model.identifier == QWEN
        result = await model.respond("async hi", config={"maxTokens": 4})
        assert result.content == "Echo: async hi. This "
        assert result.stats.stop_reason == "maxPredictedTokensReached"
        assert await model.get_context_length() == 4096
        second = await client.llm.load_new_instance(QWEN)
        assert second.identifier == f"{QWEN}:2"
        await second.unload()
        with pytest.raises(lms.LMStudioModelNotFoundError):
            await client.llm.get_model_info("nope")
        downloaded = await client.list_downloaded_models()
        assert len(downloaded) == 4


@pytest.fixture
def default_client_reset(lmstudio_emulator: Emulator) -> Iterator[None]:
    """The convenience API keeps a global client; close and forget it after the test.

    It depends on the emulator so that the client closes before the emulator stops.
    """
    lmstudio.sync_api._reset_default_client()
    try:
        yield
    finally:
        lmstudio.sync_api._reset_default_client()


@pytest.mark.usefixtures("default_client_reset")
def test_convenience_api(lmstudio_emulator: Emulator) -> None:
    client = lms.get_default_client(lmstudio_emulator.host)
    model = lms.llm(GEMMA)
    assert model.identifier == GEMMA
    assert model.respond("hi", config={"maxTokens": 2}).content == "Echo: hi. "
    assert lms.llm(GEMMA).identifier == GEMMA
    assert [m.identifier for m in lms.list_loaded_models("llm")] == [GEMMA]
    embedding = lms.embedding_model("text-embedding-nomic-embed-text-v1.5")
    assert len(embedding.embed("x")) == 768
    assert client is lms.get_default_client()


def test_bad_auth_packet_gets_an_error_object(lmstudio_emulator: Emulator) -> None:
    async def attempt() -> object:
        async with connect(f"ws://{lmstudio_emulator.host}/llm") as ws:
            await ws.send(json.dumps({"authVersion": 2}))
            return json.loads(await ws.recv())

    reply = asyncio.run(attempt())
    assert reply == {
        "success": False,
        "error": {"title": "Authentication failed", "cause": "Invalid authentication packet"},
    }
