"""The one module that talks to LM Studio, through the official ``lmstudio`` SDK.

:class:`LMStudioClient` wraps ``lmstudio.Client`` (opened as a context manager so the
greeting probe and, without a host, the SDK's port discovery run). Every SDK exception is
translated here: an unreachable server becomes :class:`LMStudioUnreachableError` (one line
naming the host), anything else the SDK raises becomes :class:`LMStudioError` carrying the
server's message. The SDK is imported lazily so that importing this module stays cheap.

``timeout`` bounds every wait: the SDK's synchronous timeout covers each answer (a load's
progress messages each count), and opening the websockets, which the SDK does not bound,
runs under a watchdog (:func:`~lmsprofiles._reconcile._timeout.run_bounded`). A dropped
websocket is a lost connection (:class:`LMStudioUnreachableError`), a silent server a
:class:`LMStudioTimeoutError`: the outcome of a step under way is then unknown.

SDK quirks guarded against (docs/lmstudio-protocol.md, "Python SDK behaviour lmsprofiles
works around"): unknown config keys
are rejected instead of silently dropped; ``false`` for checkbox fields is omitted (SDK 1.5
cannot send it; omitted means off); ``ttl`` is always passed explicitly (the SDK default is
3600 s); instance state is read with raw ``listLoaded`` calls, which carry ``modelKey``,
``contextLength`` and ``ttlMs`` that the SDK's typed handles drop.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, Self

from lmsprofiles._errors import (
    LMStudioError,
    LMStudioTimeoutError,
    LMStudioUnreachableError,
    ProfileError,
)
from lmsprofiles._reconcile._compare import CHECKBOX_LOAD_FIELDS
from lmsprofiles._reconcile._host import parse_host, server_key
from lmsprofiles._reconcile._model import (
    KINDS,
    UNKNOWN,
    DesiredInstance,
    DownloadedModel,
    Kind,
    ObservedInstance,
    Unknown,
)
from lmsprofiles._reconcile._timeout import DEFAULT_TIMEOUT, run_bounded

__all__ = [
    "LMStudioClient",
    "ProgressCallback",
    "downloaded_model",
    "observed_instance",
    "sdk_load_config",
    "translated",
]

ProgressCallback = Callable[[float], None]
"""Called with the load progress, 0.0 to 1.0."""

_DEFAULT_HOST_TEXT: Final = "the default local ports"


class LMStudioClient:
    """A connection to one LM Studio host. Use it as a context manager.

    ``host`` is ``"host:port"`` (a malformed one is a ``ProfileError``, exit 3); ``None``
    uses the SDK's discovery of a local LM Studio.
    ``timeout`` bounds connecting and every wait for an answer (seconds). The SDK's
    synchronous timeout is process-wide: it is set while the client is open and restored
    when it closes. ``round_trips`` counts the RPC calls and load channels made so far.
    """

    def __init__(self, host: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if host is not None:
            try:
                host = parse_host(host)
            except ValueError as exc:
                raise ProfileError.single("host", str(exc)) from None
        self._requested = host
        self._client: Any = None
        self._previous_timeout: float | None = None
        self.timeout = timeout
        self.round_trips = 0

    @property
    def host(self) -> str:
        """The host in use: the discovered one once connected, else the requested one."""
        if self._client is not None:
            return str(self._client.api_host)
        return self._requested or _DEFAULT_HOST_TEXT

    @property
    def server(self) -> str:
        """The server key of the host in use (the lock and ownership records use it)."""
        return server_key(self.host)

    def __enter__(self) -> Self:
        import lmstudio

        self._previous_timeout = lmstudio.get_sync_api_timeout()
        lmstudio.set_sync_api_timeout(self.timeout)
        client = lmstudio.Client(self._requested)

        def connect() -> None:
            client.__enter__()
            for namespace in (client.llm, client.embedding, client.system):
                namespace.connect()

        def abandon() -> None:  # closing may itself wait on the stuck connection
            threading.Thread(target=client.close, name="lmsprofiles-close", daemon=True).start()

        try:
            with self._translated("connect"):
                run_bounded(connect, self.timeout, abandon)
        except LMStudioTimeoutError:
            lmstudio.set_sync_api_timeout(self._previous_timeout)
            raise
        except BaseException:
            client.close()
            lmstudio.set_sync_api_timeout(self._previous_timeout)
            raise
        self._client = client
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the SDK client and its websockets (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            import lmstudio

            client.close()
            lmstudio.set_sync_api_timeout(self._previous_timeout)

    def downloaded(self) -> list[DownloadedModel]:
        """The models LM Studio can load (``listDownloadedModels``, one round trip)."""
        if self._client is None:
            raise RuntimeError("LMStudioClient used outside its 'with' block")
        with self._translated("list downloaded models"):
            raw = self._client.system.remote_call("listDownloadedModels")
        self.round_trips += 1
        return [downloaded_model(info) for info in raw or ()]

    def observe(self, *kinds: Kind) -> list[ObservedInstance]:
        """Every loaded instance of ``kinds`` (default: LLM and embedding), with its config.

        Costs one ``listLoaded`` per namespace plus one ``getLoadConfig`` per instance. The
        one read path of the host's state, for reconcile and the sessions alike.
        """
        found: list[ObservedInstance] = []
        for kind in kinds or KINDS:
            session = self._session(kind)
            with self._translated(f"list loaded {kind} instances"):
                raw = session.remote_call("listLoaded")
            self.round_trips += 1
            for info in raw or ():
                found.append(self._observe_one(kind, info))
        return found

    def load_config(self, identifier: str, kind: Kind) -> dict[str, Any]:
        """The load config of one loaded instance as the SDK reads it (camelCase)."""
        import lmstudio

        session = self._session(kind)
        handle_type = lmstudio.LLM if kind == "llm" else lmstudio.EmbeddingModel
        handle = handle_type(identifier, session)
        with self._translated(f"read the load config of {identifier!r}"):
            config = handle.get_load_config()
        self.round_trips += 1
        return dict(config.to_dict())

    def load(self, desired: DesiredInstance, on_progress: ProgressCallback | None = None) -> str:
        """Load a new instance of ``desired`` under its identifier; return the identifier."""
        config = sdk_load_config(desired)
        session = self._session(desired.kind)
        with self._translated(f"load {desired.identifier!r} ({desired.model_key})"):
            handle = session.load_new_instance(
                desired.model_key,
                desired.identifier,
                ttl=desired.ttl,
                config=config,
                on_load_progress=on_progress,
            )
        self.round_trips += 1
        return str(handle.identifier)

    def unload(self, identifier: str, kind: Kind) -> None:
        """Unload the instance ``identifier``."""
        session = self._session(kind)
        with self._translated(f"unload {identifier!r}"):
            session.unload(identifier)
        self.round_trips += 1

    def _observe_one(self, kind: Kind, info: Mapping[str, Any]) -> ObservedInstance:
        load = self.load_config(str(info["identifier"]), kind)
        return observed_instance(kind, info, load)

    def _session(self, kind: Kind) -> Any:
        if self._client is None:
            raise RuntimeError("LMStudioClient used outside its 'with' block")
        return self._client.llm if kind == "llm" else self._client.embedding

    def _translated(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return translated(self.host, doing, self.timeout)


@contextlib.contextmanager
def translated(host: str, doing: str, timeout: float | None = None) -> Iterator[None]:
    """Turn any SDK exception raised in the block into an lmsprofiles error.

    Works around ``await`` as well, so the async runtime API shares it. ``timeout`` is named
    in the message when the server did not answer in time.
    """
    import httpx
    import lmstudio

    try:
        yield
    except (TimeoutError, lmstudio.LMStudioTimeoutError) as exc:
        within = f" within {timeout:g} s" if timeout is not None else ""
        raise LMStudioTimeoutError(
            f"LM Studio at {host} did not answer{within} (could not {doing}); if it is "
            "only slow, allow more with --timeout or LMSPROFILES_TIMEOUT (timeout= in code)"
        ) from exc
    except httpx.TimeoutException as exc:
        raise LMStudioTimeoutError(
            f"LM Studio at {host} accepted the connection but did not answer its greeting "
            "within 1 s; is it an LM Studio API server?"
        ) from exc
    except lmstudio.LMStudioWebsocketError as exc:
        raise LMStudioUnreachableError(
            f"lost the connection to LM Studio at {host} (could not {doing}: {_first_line(exc)})"
        ) from exc
    except lmstudio.LMStudioClientError as exc:
        if "not reachable" in str(exc):
            raise LMStudioUnreachableError(f"LM Studio is not reachable at {host}") from exc
        raise LMStudioError(f"could not {doing}: {_first_line(exc)}") from exc
    except lmstudio.LMStudioError as exc:
        raise LMStudioError(f"could not {doing}: {_first_line(exc)}") from exc
    except lmstudio.ValidationError as exc:
        raise LMStudioError(f"could not {doing}: invalid value: {exc}") from exc
    except (httpx.HTTPError, OSError) as exc:
        raise LMStudioUnreachableError(f"LM Studio is not reachable at {host} ({exc})") from exc


def sdk_load_config(desired: DesiredInstance) -> dict[str, Any]:
    """``desired.load`` as the SDK must receive it.

    ``None`` values and ``false`` checkbox values are omitted (omitted means off, and SDK 1.5
    cannot send ``false``). Raises :class:`LMStudioError` for fields SDK 1.5 does not know
    for this model type, which it would otherwise drop silently.
    """
    import lmstudio

    config_type = (
        lmstudio.LlmLoadModelConfig if desired.kind == "llm" else lmstudio.EmbeddingLoadModelConfig
    )
    known = set(config_type.__struct_encode_fields__)
    unknown = sorted(set(desired.load) - known)
    if unknown:
        raise LMStudioError(
            f"{desired.identifier}: the lmstudio SDK cannot set {', '.join(unknown)} "
            f"on a{'n' if desired.kind == 'embedding' else ''} {desired.kind} model"
        )
    config: dict[str, Any] = {}
    for key, value in desired.load.items():
        if value is None or (key in CHECKBOX_LOAD_FIELDS and value is False):
            continue
        if isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if v is not None}
        config[key] = value
    return config


def observed_instance(
    kind: Kind, info: Mapping[str, Any], load: Mapping[str, Any]
) -> ObservedInstance:
    """An instance from its raw ``listLoaded`` entry and its load config (camelCase)."""
    identifier = str(info["identifier"])
    ttl_ms: int | Unknown | None = UNKNOWN
    if "ttlMs" in info:
        raw_ttl = info["ttlMs"]
        ttl_ms = None if raw_ttl is None else int(raw_ttl)
    return ObservedInstance(
        identifier=identifier,
        model_key=str(info.get("modelKey") or info.get("path") or identifier),
        kind=kind,
        context_length=_int_or_none(info.get("contextLength")),
        max_context_length=_int_or_none(info.get("maxContextLength")),
        ttl_ms=ttl_ms,
        load=dict(load),
    )


def downloaded_model(info: Mapping[str, Any]) -> DownloadedModel:
    """A model from its raw ``listDownloadedModels`` entry."""
    kind = info.get("type")
    return DownloadedModel(
        model_key=str(info.get("modelKey", "")),
        kind=kind if kind in KINDS else None,
        path=str(info.get("path", "")),
        max_context_length=_int_or_none(info.get("maxContextLength")),
    )


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def _first_line(exc: BaseException) -> str:
    """The server's own title (and cause) on one line, else the exception's first line."""
    server = getattr(exc, "server_error", None)
    title = getattr(server, "title", None)
    if isinstance(title, str) and title:
        cause = getattr(server, "cause", None)
        if isinstance(cause, str) and cause and cause not in title:
            return f"{title} ({cause})"
        return title
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]
