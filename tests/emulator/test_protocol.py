"""The wire protocol message by message, over a raw websocket: what every official SDK needs.

The lmstudio Python SDK hides the raw packets, so the shapes the TypeScript SDKs validate
(``isStructural`` on fragments, ``details`` on prompt progress, the model info fields of SDK 2.0)
are checked here directly; tests/ts drives the TypeScript SDKs themselves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import lmstudio as lms
import pytest
from websockets.asyncio.client import ClientConnection, connect

from lmsprofiles.emulator import Emulator
from lmsprofiles.emulator.pytest_plugin import ProtocolWarnings
from tests.emulator.conftest import GEMMA, NOMIC

AUTH = {"authVersion": 1, "clientIdentifier": "guest:test", "clientPasskey": "secret"}


class Socket:
    """One authenticated namespace websocket, speaking JSON messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(5):  # a missing answer fails the test instead of hanging it
            message = json.loads(await self.ws.recv(decode=True))
        assert isinstance(message, dict)
        return message

    async def call(self, endpoint: str, parameter: Any = None, call_id: int = 0) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "rpcCall", "endpoint": endpoint, "callId": call_id}
        if parameter is not None:
            message["parameter"] = parameter
        await self.send(message)
        return await self.receive()

    async def channel(
        self, endpoint: str, parameter: dict[str, Any], channel_id: int = 0
    ) -> list[dict[str, Any]]:
        """Open a channel and return every message up to and including its close or error."""
        await self.send(
            {
                "type": "channelCreate",
                "endpoint": endpoint,
                "channelId": channel_id,
                "creationParameter": parameter,
            }
        )
        messages = []
        while True:
            message = await self.receive()
            messages.append(message)
            if message["type"] in ("channelClose", "channelError"):
                return messages


@asynccontextmanager
async def socket(emulator: Emulator, namespace: str) -> AsyncIterator[Socket]:
    async with connect(f"ws://{emulator.host}/{namespace}") as ws:
        wrapped = Socket(ws)
        await wrapped.send(AUTH)
        assert await wrapped.receive() == {"success": True}
        yield wrapped


def _packets(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["message"] for m in messages if m["type"] == "channelSend"]


async def test_a_client_warning_is_logged_and_not_answered(
    lmstudio_emulator: Emulator, lmstudio_protocol_warnings: ProtocolWarnings
) -> None:
    lmstudio_protocol_warnings.expect("protocol warning from a client on /llm: fragment dropped")
    async with socket(lmstudio_emulator, "llm") as ws:
        await ws.send({"type": "communicationWarning", "warning": "fragment dropped", "kind": "x"})
        # The next message is the answer to the next call: the warning got no reply.
        assert await ws.call("listLoaded", call_id=7) == {
            "type": "rpcResult",
            "callId": 7,
            "result": [],
        }
    assert lmstudio_emulator.protocol_warnings == [
        "protocol warning from a client on /llm: fragment dropped"
    ]


async def test_an_unknown_message_type_is_a_warning_both_ways(
    lmstudio_emulator: Emulator, lmstudio_protocol_warnings: ProtocolWarnings
) -> None:
    expected = "protocol warning to a client on /system: unsupported message type 'bogus'"
    lmstudio_protocol_warnings.expect(expected)
    async with socket(lmstudio_emulator, "system") as ws:
        await ws.send({"type": "bogus"})
        assert await ws.receive() == {
            "type": "communicationWarning",
            "warning": "unsupported message type 'bogus'",
        }
    assert lmstudio_emulator.protocol_warnings == [expected]


async def test_keep_alive_and_channel_acks_are_answered(lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.token_seconds = 0.05
    lmstudio_emulator.preload(GEMMA)
    async with socket(lmstudio_emulator, "llm") as ws:
        await ws.send({"type": "keepAlive"})
        assert await ws.receive() == {"type": "keepAliveAck"}
        await ws.send(
            {
                "type": "channelCreate",
                "endpoint": "predict",
                "channelId": 3,
                "creationParameter": {
                    "modelSpecifier": {"type": "query", "query": {"identifier": GEMMA}},
                    "history": {"messages": []},
                    "predictionConfigStack": {"layers": []},
                },
            }
        )
        await ws.send(
            {"type": "channelSend", "channelId": 3, "message": {"type": "cancel"}, "ackId": 0}
        )
        messages: list[dict[str, Any]] = []
        while not messages or messages[-1]["type"] != "channelClose":
            messages.append(await ws.receive())
    assert {"type": "channelAck", "channelId": 3, "ackId": 0} in messages
    assert _packets(messages)[-1]["stats"]["stopReason"] == "userStopped"
    assert lmstudio_emulator.protocol_warnings == []


async def test_signal_subscriptions_get_a_signal_error(lmstudio_emulator: Emulator) -> None:
    async with socket(lmstudio_emulator, "llm") as ws:
        await ws.send(
            {
                "type": "signalSubscribe",
                "endpoint": "nope",
                "subscribeId": 4,
                "creationParameter": 1,
            }
        )
        reply = await ws.receive()
    assert reply["type"] == "signalError"
    assert reply["subscribeId"] == 4
    assert "Unknown signal endpoint 'nope'" in reply["error"]["title"]


async def test_model_info_is_complete_for_every_sdk(lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.preload(GEMMA, ttl=60)
    async with socket(lmstudio_emulator, "system") as ws:
        downloaded = (await ws.call("listDownloadedModels"))["result"]
    async with socket(lmstudio_emulator, "llm") as ws:
        (loaded,) = (await ws.call("listLoaded"))["result"]
    (gemma,) = [m for m in downloaded if m["modelKey"] == GEMMA]
    assert gemma["publisher"] == "lmstudio-community"
    assert gemma["indexedModelIdentifier"] == gemma["path"]
    assert gemma["deviceIdentifier"] is None
    assert {k: loaded[k] for k in gemma} == gemma
    assert loaded["ttlMs"] == 60000
    assert isinstance(loaded["lastUsedTime"], int)
    (nomic,) = [m for m in downloaded if m["modelKey"] == NOMIC]
    assert nomic["publisher"] == "nomic-ai"


async def test_model_info_without_throw_if_not_found_is_an_empty_result(
    lmstudio_emulator: Emulator,
) -> None:
    specifier = {"type": "query", "query": {"identifier": "nope"}}
    async with socket(lmstudio_emulator, "llm") as ws:
        quiet = await ws.call("getModelInfo", {"specifier": specifier, "throwIfNotFound": False})
        loud = await ws.call("getModelInfo", {"specifier": specifier, "throwIfNotFound": True})
    assert quiet == {"type": "rpcResult", "callId": 0}
    assert loud["type"] == "rpcError"
    assert loud["error"]["displayData"]["code"] == "generic.noModelMatchingQuery"


PREDICTION = {
    "modelSpecifier": {"type": "query", "query": {"identifier": GEMMA}},
    "history": {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
    "predictionConfigStack": {"layers": []},
}


@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [
        ("predict", PREDICTION),
        ("completeRawText", {**PREDICTION, "history": None, "rawPrompt": "hi"}),
    ],
)
async def test_prediction_packets_carry_what_every_sdk_validates(
    lmstudio_emulator: Emulator, endpoint: str, parameter: dict[str, Any]
) -> None:
    lmstudio_emulator.preload(GEMMA)
    body = {k: v for k, v in parameter.items() if v is not None}
    async with socket(lmstudio_emulator, "llm") as ws:
        messages = await ws.channel(endpoint, body)
    packets = _packets(messages)
    progress = [p for p in packets if p["type"] == "promptProcessingProgress"]
    assert [p["progress"] for p in progress] == [0.0, 1.0]
    for packet in progress:
        details = packet["details"]
        assert details["cachedTokenCount"] == 0
        done, left = details["processedPromptTokenCount"], details["unprocessedPromptTokenCount"]
        assert done + left == details["totalPromptTokenCount"]
    fragments = [p["fragment"] for p in packets if p["type"] == "fragment"]
    assert "".join(f["content"] for f in fragments) == (
        "Echo: hi. This is the LM Studio emulator speaking."
    )
    for fragment in fragments:
        assert fragment == {
            "content": fragment["content"],
            "tokensCount": 1,
            "containsDrafted": False,
            "reasoningType": "none",
            "isStructural": False,
        }
    assert packets[-1]["type"] == "success"
    assert messages[-1] == {"type": "channelClose", "channelId": 0}


async def test_base_prediction_config_is_lm_studio_defaults(lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.preload(GEMMA)
    specifier = {"type": "query", "query": {"identifier": GEMMA}}
    async with socket(lmstudio_emulator, "llm") as ws:
        reply = await ws.call("getBasePredictionConfig", {"specifier": specifier})
    fields = {f["key"]: f["value"] for f in reply["result"]["fields"]}
    assert fields["llm.prediction.temperature"] == 0.8
    assert fields["llm.prediction.maxPredictedTokens"] == {"checked": False, "value": 1000}


def test_the_python_sdk_reads_the_new_fields_without_a_warning(client: lms.Client) -> None:
    (gemma,) = [m for m in client.list_downloaded_models() if m.model_key == GEMMA]
    assert gemma.info.path.startswith("lmstudio-community/")
    model = client.llm.model(GEMMA)
    fragments = [f.content for f in model.respond_stream("hi", config={"maxTokens": 2})]
    assert fragments == ["Echo: ", "hi. "]
    assert model.complete("hi", config={"maxTokens": 1}).content == "Echo: "
