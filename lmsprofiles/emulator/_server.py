"""The websocket side: LM Studio's protocol as the official SDKs speak it.

One HTTP port serves ``GET /lmstudio-greeting`` (the Python SDK's probe) and one websocket per
namespace (``/llm``, ``/embedding``, ``/system``, ``/files``, ``/repository``, ``/plugins``,
``/diagnostics``, ``/runtime``). Each websocket starts with the auth packet; then the client
sends ``rpcCall``, ``channelCreate`` and ``channelSend`` (cancel) messages, and the TypeScript
SDKs also ``keepAlive``, acknowledged channel messages, signal subscriptions and
``communicationWarning``. docs/lmstudio-protocol.md describes every message.

The server sends ``rpcResult``, ``rpcError``, ``channelSend``, ``channelClose``,
``channelError`` and ``communicationWarning``, as text frames: the Python SDK ends its session
on any other message. ``keepAliveAck``, ``channelAck`` and ``signalError`` answer only the
messages that ask for them, which the Python SDK never sends. Every outgoing message passes
through :meth:`_Session.send`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import mimetypes
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from lmsprofiles.emulator import _text
from lmsprofiles.emulator._kv import (
    checkbox_value,
    collapse_stack,
    fill_prediction_config,
    to_wire,
)
from lmsprofiles.emulator._state import Domain, Instance, ServerError, ServerState

__all__ = ["NAMESPACES", "ProtocolServer"]

NAMESPACES = frozenset(
    {"llm", "embedding", "system", "files", "repository", "plugins", "diagnostics", "runtime"}
)
_LOG = logging.getLogger("lmsprofiles.emulator")
_GREETING = json.dumps({"lmstudio": True})

Rpc = Callable[[Any], Any]


class _Drop(Exception):
    """Raised inside a channel to drop the whole connection (fault injection)."""


class ProtocolServer:
    """Serves :class:`ServerState` over LM Studio's protocol; runs inside one event loop."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._server: Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._file_count = 0

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0 = any free port) and return the real port."""
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            max_size=2**27,
            compression=None,
        )
        self._reaper = asyncio.create_task(self._reap_forever())
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.state.catalog.settings.ttl_check_interval)
            self.expire_idle()

    def expire_idle(self) -> None:
        """Unload every instance whose ttl has run out."""
        for instance in self.state.expire():
            _LOG.info("ttl expired, unloaded %s", instance.identifier)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path.rstrip("/") == "/lmstudio-greeting":
            response = connection.respond(200, _GREETING)
            response.headers["Content-Type"] = "application/json"
            return response
        if path.strip("/") not in NAMESPACES:
            return connection.respond(404, "Not found\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        namespace = urlsplit(ws.request.path if ws.request else "/").path.strip("/")
        self.state.record_websocket(namespace)
        session = _Session(self, ws, namespace)
        try:
            await session.run()
        except ConnectionClosed:
            pass
        finally:
            await session.close()

    def next_file_identifier(self) -> str:
        """A fresh identifier for an uploaded file."""
        self._file_count += 1
        return f"{int(time.time() * 1000)}-{self._file_count}"


class _Session:
    """One authenticated websocket of one namespace."""

    def __init__(self, server: ProtocolServer, ws: ServerConnection, namespace: str) -> None:
        self.server = server
        self.state = server.state
        self.ws = ws
        self.namespace = namespace
        self.channels: dict[int, asyncio.Event] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.reading = False
        self.last_send: asyncio.Task[None] | None = None
        self.rpcs: dict[str, Rpc] = self._rpc_table()
        self.channel_endpoints: dict[str, Callable[[int, Any], Awaitable[None]]] = {}
        if namespace in ("llm", "embedding"):
            self.channel_endpoints["loadModel"] = self._load_model
            self.channel_endpoints["getOrLoad"] = self._get_or_load
        if namespace == "llm":
            self.channel_endpoints["predict"] = self._predict
            self.channel_endpoints["completeRawText"] = self._complete_raw_text
        self.handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "rpcCall": self._on_rpc_call,
            "channelCreate": self._on_channel_create,
            "channelSend": self._on_channel_send,
            "communicationWarning": self._on_warning,
            "keepAlive": self._on_keep_alive,
            "signalSubscribe": self._on_signal_subscribe,
            "writableSignalSubscribe": self._on_signal_subscribe,
        }
        for ignored in (
            "channelClose",
            "channelAck",
            "signalUnsubscribe",
            "writableSignalUnsubscribe",
            "writableSignalUpdate",
        ):
            self.handlers[ignored] = self._ignore

    @property
    def domain(self) -> Domain:
        return "embedding" if self.namespace == "embedding" else "llm"

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send one message to the client: the only way anything leaves the server.

        With a latency (``--latency-ms``) it arrives that much later, as over a slow link.
        """
        text = json.dumps(message)
        delay = self.state.latency_seconds
        if delay <= 0:
            await self.ws.send(text)
        elif not self.reading:  # the handshake: nothing else is read meanwhile
            await asyncio.sleep(delay)
            await self.ws.send(text)
        else:  # as over a slow link: late, in order, while the next messages are read
            due = asyncio.get_running_loop().time() + delay
            task = asyncio.create_task(self._send_late(text, due, self.last_send))
            self.last_send = task
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send_late(self, text: str, due: float, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait([after])
        await asyncio.sleep(due - asyncio.get_running_loop().time())
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(text)

    async def run(self) -> None:
        if not await self._authenticate():
            return
        self.reading = True
        async for raw in self.ws:
            if self.state.unresponsive:
                continue
            try:
                message = json.loads(raw)
            except (ValueError, TypeError):
                await self._warn("message is not JSON text")
                continue
            if not isinstance(message, dict):
                await self._warn("message is not a JSON object")
                continue
            self.server.expire_idle()
            await self._dispatch(message)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _authenticate(self) -> bool:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=10)
            packet = json.loads(raw)
        except (TimeoutError, ValueError, TypeError):
            packet = None
        ok = (
            isinstance(packet, dict)
            and packet.get("authVersion") == 1
            and all(
                isinstance(packet.get(k), str) and 0 < len(packet[k]) <= 256
                for k in ("clientIdentifier", "clientPasskey")
            )
        )
        if not ok:
            # An object, not a string: SDK 1.5 crashes on a string error.
            error = {"title": "Authentication failed", "cause": "Invalid authentication packet"}
            await self.send({"success": False, "error": error})
            await self.ws.close(1008, "authentication failed")
            return False
        await self.send({"success": True})
        return True

    def _note_warning(self, text: str) -> None:
        self.state.record_protocol_warning(text)
        _LOG.warning("%s", text)

    async def _warn(self, warning: str) -> None:
        """Tell the client that one of its messages could not be used (and log it)."""
        self._note_warning(f"protocol warning to a client on /{self.namespace}: {warning}")
        await self.send({"type": "communicationWarning", "warning": warning})

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._warn(f"unsupported message type {kind!r}")
        else:
            await handler(message)

    async def _ignore(self, message: dict[str, Any]) -> None:
        pass

    async def _on_rpc_call(self, message: dict[str, Any]) -> None:
        call_id = message.get("callId")
        if not isinstance(call_id, int):
            await self._warn("rpcCall without an integer callId")
            return
        await self._rpc(call_id, message.get("endpoint"), message.get("parameter"))

    async def _on_channel_create(self, message: dict[str, Any]) -> None:
        channel_id = message.get("channelId")
        if not isinstance(channel_id, int):
            await self._warn("channelCreate without an integer channelId")
            return
        self._open_channel(channel_id, message.get("endpoint"), message.get("creationParameter"))

    async def _on_channel_send(self, message: dict[str, Any]) -> None:
        channel_id, inner, ack_id = (message.get(k) for k in ("channelId", "message", "ackId"))
        if not isinstance(channel_id, int):
            await self._warn("channelSend without an integer channelId")
            return
        cancel = self.channels.get(channel_id)
        if cancel is not None and isinstance(inner, dict) and inner.get("type") == "cancel":
            cancel.set()
        if isinstance(ack_id, int):
            await self.send({"type": "channelAck", "channelId": channel_id, "ackId": ack_id})

    async def _on_warning(self, message: dict[str, Any]) -> None:
        """A client could not use one of our messages: log it, never answer it."""
        warning = message.get("warning")
        self._note_warning(f"protocol warning from a client on /{self.namespace}: {warning}")

    async def _on_keep_alive(self, message: dict[str, Any]) -> None:
        await self.send({"type": "keepAliveAck"})

    async def _on_signal_subscribe(self, message: dict[str, Any]) -> None:
        """No signal endpoints are emulated: every subscription ends in an error."""
        endpoint = message.get("endpoint")
        error = ServerError(
            f"Unknown signal endpoint {endpoint!r} in namespace /{self.namespace}",
            cause="The lmsprofiles emulator does not implement this endpoint",
        )
        kind = "signalError" if message["type"] == "signalSubscribe" else "writableSignalError"
        await self.send(
            {"type": kind, "subscribeId": message.get("subscribeId"), "error": error.to_wire()}
        )

    async def _rpc(self, call_id: int, endpoint: object, parameter: object) -> None:
        handler = self.rpcs.get(endpoint) if isinstance(endpoint, str) else None
        try:
            if handler is None:
                raise ServerError(
                    f"Unknown RPC endpoint {endpoint!r} in namespace /{self.namespace}",
                    cause="The lmsprofiles emulator does not implement this endpoint",
                )
            result = handler(parameter if isinstance(parameter, dict) else {})
        except ServerError as exc:
            await self.send({"type": "rpcError", "callId": call_id, "error": exc.to_wire()})
            return
        reply: dict[str, Any] = {"type": "rpcResult", "callId": call_id}
        if result is not None:
            reply["result"] = result
        await self.send(reply)

    def _open_channel(self, channel_id: int, endpoint: object, parameter: object) -> None:
        handler = self.channel_endpoints.get(endpoint) if isinstance(endpoint, str) else None
        self.channels[channel_id] = asyncio.Event()
        params = parameter if isinstance(parameter, dict) else {}
        task = asyncio.create_task(self._run_channel(channel_id, endpoint, handler, params))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run_channel(
        self,
        channel_id: int,
        endpoint: object,
        handler: Callable[[int, Any], Awaitable[None]] | None,
        params: dict[str, Any],
    ) -> None:
        try:
            if handler is None:
                raise ServerError(
                    f"Unknown channel endpoint {endpoint!r} in namespace /{self.namespace}",
                    cause="The lmsprofiles emulator does not implement this endpoint",
                )
            await handler(channel_id, params)
        except ServerError as exc:
            with contextlib.suppress(ConnectionClosed):
                await self.send(
                    {"type": "channelError", "channelId": channel_id, "error": exc.to_wire()}
                )
        except _Drop:
            _LOG.info("dropping connection /%s (fault injection)", self.namespace)
            self.ws.transport.abort()
        except ConnectionClosed:
            pass
        else:
            with contextlib.suppress(ConnectionClosed):
                await self.send({"type": "channelClose", "channelId": channel_id})
        finally:
            self.channels.pop(channel_id, None)

    async def _channel_send(self, channel_id: int, message: Mapping[str, Any]) -> None:
        await self.send({"type": "channelSend", "channelId": channel_id, "message": message})

    # -- RPC endpoints --------------------------------------------------------------------

    def _rpc_table(self) -> dict[str, Rpc]:
        if self.namespace in ("llm", "embedding"):
            table: dict[str, Rpc] = {
                "listLoaded": self._list_loaded,
                "getModelInfo": self._get_model_info,
                "getLoadConfig": self._get_load_config,
                "getBasePredictionConfig": self._get_base_prediction_config,
                "unloadModel": self._unload_model,
                "tokenize": self._tokenize,
                "countTokens": self._count_tokens,
            }
            if self.namespace == "llm":
                table["applyPromptTemplate"] = self._apply_prompt_template
            else:
                table["embedString"] = self._embed_string
            return table
        if self.namespace == "system":
            return {
                "listDownloadedModels": self._list_downloaded,
                "version": lambda _: {"version": "0.4.0-lmsprofiles-emulator", "build": 1},
            }
        if self.namespace == "files":
            return {"uploadFileBase64": self._upload_file}
        return {}

    def _list_loaded(self, _: dict[str, Any]) -> list[dict[str, Any]]:
        return [i.wire_info() for i in self.state.instances(self.domain)]

    def _get_model_info(self, params: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self.state.resolve(self.domain, params.get("specifier")).wire_info()
        except ServerError:
            if params.get("throwIfNotFound") is False:
                return None  # the TypeScript SDKs ask "is it still loaded?" this way
            raise

    def _get_load_config(self, params: dict[str, Any]) -> dict[str, Any]:
        return to_wire(self.state.resolve(self.domain, params.get("specifier")).load_config)

    def _get_base_prediction_config(self, params: dict[str, Any]) -> dict[str, Any]:
        self.state.resolve(self.domain, params.get("specifier"))
        return to_wire(fill_prediction_config({}))

    def _unload_model(self, params: dict[str, Any]) -> None:
        self.state.unload(self.domain, str(params.get("identifier")))

    def _used(self, specifier: object) -> Instance:
        instance = self.state.resolve(self.domain, specifier)
        instance.touch()
        return instance

    def _tokenize(self, params: dict[str, Any]) -> dict[str, Any]:
        self._used(params.get("specifier"))
        return {"tokens": _text.token_ids(str(params.get("inputString", "")))}

    def _count_tokens(self, params: dict[str, Any]) -> dict[str, Any]:
        self._used(params.get("specifier"))
        return {"tokenCount": len(_text.token_ids(str(params.get("inputString", ""))))}

    def _apply_prompt_template(self, params: dict[str, Any]) -> dict[str, Any]:
        self._used(params.get("specifier"))
        return {"formatted": _text.render_prompt(params.get("history"))}

    def _embed_string(self, params: dict[str, Any]) -> dict[str, Any]:
        instance = self._used(params.get("modelSpecifier"))
        text = str(params.get("inputString", ""))
        return {"embedding": _text.embed(text, instance.model.embedding_length)}

    def _list_downloaded(self, _: dict[str, Any]) -> list[dict[str, Any]]:
        return [m.wire_info() for m in self.state.catalog.models]

    def _upload_file(self, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("name", "file"))
        try:
            size = len(base64.b64decode(str(params.get("contentBase64", "")), validate=True))
        except ValueError as exc:
            raise ServerError("Invalid base64 file content", cause=str(exc)) from None
        mime = mimetypes.guess_type(name)[0] or ""
        file_type = (
            "image"
            if mime.startswith("image/")
            else mime
            if mime in ("text/plain", "application/pdf")
            else "text/other"
            if mime.startswith("text/")
            else "unknown"
        )
        identifier = self.server.next_file_identifier()
        return {"identifier": identifier, "fileType": file_type, "sizeBytes": size}

    # -- channel endpoints ------------------------------------------------------------------

    async def _get_or_load(self, channel_id: int, params: dict[str, Any]) -> None:
        wanted = str(params.get("identifier", ""))
        existing = self.state.find_identifier(self.domain, wanted)
        if existing is not None:
            existing.touch()
            await self._channel_send(
                channel_id, {"type": "alreadyLoaded", "info": existing.wire_info()}
            )
            return
        model = self.state.find_model(self.domain, wanted)
        start = {"type": "startLoading", "identifier": model.model_key, "info": model.wire_info()}
        await self._load(
            channel_id,
            params,
            model_key=wanted,
            identifier=None,
            start=start,
            ttl_ms=params.get("loadTtlMs"),
            progress_type="loadProgress",
            success_type="loadSuccess",
        )

    async def _load_model(self, channel_id: int, params: dict[str, Any]) -> None:
        key = str(params.get("modelKey", ""))
        model = self.state.find_model(self.domain, key)
        identifier = params.get("identifier")
        await self._load(
            channel_id,
            params,
            model_key=key,
            identifier=identifier if isinstance(identifier, str) else None,
            start={"type": "resolved", "info": model.wire_info()},
            ttl_ms=params.get("ttlMs"),
            progress_type="progress",
            success_type="success",
        )

    async def _load(
        self,
        channel_id: int,
        params: dict[str, Any],
        *,
        model_key: str,
        identifier: str | None,
        start: dict[str, Any],
        ttl_ms: object,
        progress_type: str,
        success_type: str,
    ) -> None:
        model = self.state.find_model(self.domain, model_key)
        faults = self.state.faults_for(model)
        await self._channel_send(channel_id, start)
        if faults.load_error is not None:
            raise ServerError(
                f'Failed to load model "{model.model_key}": {faults.load_error}',
                cause=faults.load_error,
            )
        instance = self.state.begin_load(
            model,
            identifier=identifier,
            sent_config=collapse_stack(params.get("loadConfigStack")),
            ttl_ms=ttl_ms,
        )
        try:
            settings = self.state.catalog.settings
            seconds = (
                faults.load_seconds if faults.load_seconds is not None else settings.load_seconds
            )
            steps = max(4, math.ceil(seconds / settings.progress_interval))
            for step in range(1, steps + 1):
                if seconds:
                    await asyncio.sleep(seconds / steps)
                progress = step / steps
                await self._channel_send(channel_id, {"type": progress_type, "progress": progress})
                if faults.drop_connection_at is not None and progress >= faults.drop_connection_at:
                    raise _Drop
            self.state.commit(instance)
        except BaseException:
            self.state.abort(instance)
            raise
        await self._channel_send(channel_id, {"type": success_type, "info": instance.wire_info()})

    async def _predict(self, channel_id: int, params: dict[str, Any]) -> None:
        history = params.get("history")
        await self._stream_prediction(channel_id, params, history, _text.render_prompt(history))

    async def _complete_raw_text(self, channel_id: int, params: dict[str, Any]) -> None:
        """``@lmstudio/sdk`` 2.0's ``complete()``: the prompt is one raw string."""
        prompt = str(params.get("rawPrompt", ""))
        await self._stream_prediction(channel_id, params, _text.user_history(prompt), prompt)

    async def _stream_prediction(
        self, channel_id: int, params: dict[str, Any], history: object, prompt: str
    ) -> None:
        instance = self._used(params.get("modelSpecifier"))
        cancelled = self.channels[channel_id]
        config = fill_prediction_config(collapse_stack(params.get("predictionConfigStack")))
        prompt_tokens = len(_text.split_tokens(prompt))
        text, stop_reason = _reply(config, history)
        tokens = _text.split_tokens(text)
        max_tokens = checkbox_value(config, "llm.prediction.maxPredictedTokens")
        limited = isinstance(max_tokens, int) and not isinstance(max_tokens, bool)
        if limited and 1 <= max_tokens < len(tokens):
            tokens, stop_reason = tokens[:max_tokens], "maxPredictedTokensReached"
        room = max(instance.context_length - prompt_tokens, 0)
        policy = config.get("llm.prediction.contextOverflowPolicy")
        if policy == "stopAtLimit" and len(tokens) > room:
            tokens, stop_reason = tokens[:room], "contextLengthReached"
        started = time.monotonic()
        for progress in (0.0, 1.0):
            await self._channel_send(channel_id, _prompt_progress(progress, prompt_tokens))
        sent = 0
        for token in tokens:
            if cancelled.is_set():
                break
            fragment = {
                "content": token,
                "tokensCount": 1,
                "containsDrafted": False,
                "reasoningType": "none",
                "isStructural": False,
            }
            await self._channel_send(channel_id, {"type": "fragment", "fragment": fragment})
            sent += 1
            await asyncio.sleep(self.state.token_seconds)
        if cancelled.is_set():
            stop_reason = "userStopped"
        instance.touch()
        stats = {
            "stopReason": stop_reason,
            "tokensPerSecond": self.state.catalog.settings.tokens_per_second,
            "numGpuLayers": -1,
            "timeToFirstTokenSec": round(min(time.monotonic() - started, 0.001), 6),
            "promptTokensCount": prompt_tokens,
            "predictedTokensCount": sent,
            "totalTokensCount": prompt_tokens + sent,
        }
        success = {
            "type": "success",
            "stats": stats,
            "modelInfo": instance.wire_info(),
            "loadModelConfig": to_wire(instance.load_config),
            "predictionConfig": to_wire(config),
        }
        await self._channel_send(channel_id, success)


def _prompt_progress(progress: float, total: int) -> dict[str, Any]:
    """A ``promptProcessingProgress`` packet; ``details`` is required by ``@lmstudio/sdk`` 2.0."""
    done = round(progress * total)
    details = {
        "cachedTokenCount": 0,
        "totalPromptTokenCount": total,
        "processedPromptTokenCount": done,
        "unprocessedPromptTokenCount": total - done,
    }
    return {"type": "promptProcessingProgress", "progress": progress, "details": details}


def _reply(config: Mapping[str, Any], history: object) -> tuple[str, str]:
    """The full reply text (already cut at a stop string) and its stop reason."""
    structured = config.get("llm.prediction.structured")
    if isinstance(structured, Mapping) and structured.get("type") == "json":
        text = _text.dumps(_text.json_for_schema(structured.get("jsonSchema")))
    else:
        text = _text.chat_reply(history)
    stops = config.get("llm.prediction.stopStrings")
    stop_strings = [s for s in stops if isinstance(s, str)] if isinstance(stops, list) else []
    text, found = _text.stop_at(text, stop_strings)
    return text, "stopStringFound" if found else "eosFound"
