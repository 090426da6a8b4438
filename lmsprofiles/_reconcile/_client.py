"""Talking to LM Studio through the official ``lmstudio`` SDK: the synchronous client of the
runtime sessions, and what it shares with the command line's (:mod:`._loop`).

:class:`LMStudioClient` wraps ``lmstudio.Client`` (opened as a context manager so the
greeting probe and, without a host, the SDK's port discovery run); the runtime's
:class:`~lmsprofiles.Session` uses it, since it hands the SDK's synchronous handles to the
application. Every SDK exception is translated here (:func:`translated`, for both clients):
an unreachable server becomes :class:`LMStudioUnreachableError` (one line naming the host),
anything else the SDK raises becomes :class:`LMStudioError` carrying the server's message.
The SDK is imported lazily so that importing this module stays cheap.

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

import _thread
import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import Any, Final, Self, TypeVar

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
    "BaseClient",
    "LMStudioClient",
    "ProgressCallback",
    "at_once",
    "downloaded_model",
    "observed_instance",
    "printable",
    "sdk_load_config",
    "share_tls_context",
    "translated",
]

ProgressCallback = Callable[[float], None]
"""Called with the load progress, 0.0 to 1.0."""

_DEFAULT_HOST_TEXT: Final = "the default local ports"
T = TypeVar("T")


_READERS: Final = 32
"""Most calls one client has in flight at once while it reads the host's state."""


class BaseClient:
    """What the clients of one LM Studio host share: the host, the timeout, the counters.

    ``host`` is ``"host:port"`` (a malformed one is a ``ProfileError``, exit 3); ``None``
    uses the SDK's discovery of a local LM Studio. ``timeout`` bounds connecting and every
    wait for an answer (seconds). ``round_trips`` counts the RPC calls and load channels
    made so far; ``serial_round_trips`` counts the waits for LM Studio one after the other:
    calls made at once count once, and so do the greeting and connecting the namespaces.
    """

    def __init__(self, host: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if host is not None:
            try:
                host = parse_host(host)
            except ValueError as exc:
                raise ProfileError.single("host", str(exc)) from None
        self._requested = host
        self._client: Any = None
        self.timeout = timeout
        self.round_trips = 0
        self.serial_round_trips = 0

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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        raise NotImplementedError


class LMStudioClient(BaseClient):
    """A connection to one LM Studio host on the SDK's synchronous ``Client``. Use it as a
    context manager.

    The SDK's synchronous timeout is process-wide: it is set while a client is open and
    restored when the last open client closes (clients of one process share it).

    Reads that do not depend on each other are made at once (:meth:`observe`,
    connecting the namespaces): each is a blocking SDK call on its own thread. The SDK's
    synchronous client hands every call to the one event-loop thread that runs the client's
    websockets, which gives each call its own id and answer queue, so calls from several
    threads share the websockets as the SDK's async API would; the namespaces are connected
    up front, so no call connects lazily.

    Connecting makes four httpx clients (the SDK's greeting and one per websocket), and
    httpx builds a TLS context for each, about 25 ms of CPU apiece although LM Studio is
    spoken to over plain http:// and ws://. The CLI's commands that talk to LM Studio call
    :func:`share_tls_context` first, so that every client of the process shares one; a
    client never does it itself, since that changes httpx for the whole process: an
    application that uses lmsprofiles as a library (a runtime session) keeps httpx as it is.
    """

    def __enter__(self) -> Self:
        import lmstudio

        prepare_sdk_types()
        _sync_timeout.open(self.timeout)
        client = lmstudio.Client(self._requested)

        def connect() -> None:
            client.__enter__()
            at_once([ns.connect for ns in (client.llm, client.embedding, client.system)])

        def abandon() -> None:  # closing may itself wait on the stuck connection
            threading.Thread(target=client.close, name="lmsprofiles-close", daemon=True).start()

        try:
            with self._translated("connect"):
                run_bounded(connect, self.timeout, abandon)
        except LMStudioTimeoutError:
            _sync_timeout.close()
            raise
        except BaseException:
            client.close()
            _sync_timeout.close()
            raise
        self._client = client
        self.serial_round_trips += 2  # the greeting, then the namespaces at once
        return self

    def close(self) -> None:
        """Close the SDK client and its websockets (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
            _sync_timeout.close()

    def downloaded(self) -> list[DownloadedModel]:
        """The models LM Studio can load (``listDownloadedModels``, one round trip)."""
        [raw] = self._at_once([self._list_downloaded])
        return [downloaded_model(info) for info in raw]

    def observe(self, *kinds: Kind) -> list[ObservedInstance]:
        """Every loaded instance of ``kinds`` (default: LLM and embedding), with its config.

        One ``listLoaded`` per namespace, then one ``getLoadConfig`` per instance, each batch
        at once: two round trips of waiting. The sessions' read path of the host's state.
        """
        kinds = kinds or KINDS
        answers = self._at_once([partial(self._list_loaded, kind) for kind in kinds])
        listed = [(kind, info) for kind, raw in zip(kinds, answers, strict=True) for info in raw]
        configs = self._at_once(
            [partial(self._load_config, str(i["identifier"]), k) for k, i in listed]
        )
        return [
            observed_instance(kind, info, config)
            for (kind, info), config in zip(listed, configs, strict=True)
        ]

    def load_config(self, identifier: str, kind: Kind) -> dict[str, Any]:
        """The load config of one loaded instance as the SDK reads it (camelCase)."""
        [config] = self._at_once([partial(self._load_config, identifier, kind)])
        return config

    def _at_once(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """:func:`at_once`, counted as ``len(calls)`` round trips and one serial one."""
        if calls:
            self.round_trips += len(calls)
            self.serial_round_trips += 1
        return at_once(calls)

    def _list_downloaded(self) -> list[Any]:
        if self._client is None:
            raise RuntimeError("LMStudioClient used outside its 'with' block")
        with self._translated("list downloaded models"):
            return list(self._client.system.remote_call("listDownloadedModels") or ())

    def _list_loaded(self, kind: Kind) -> list[Any]:
        session = self._session(kind)
        with self._translated(f"list loaded {kind} instances"):
            return list(session.remote_call("listLoaded") or ())

    def _load_config(self, identifier: str, kind: Kind) -> dict[str, Any]:
        import lmstudio

        session = self._session(kind)
        handle_type = lmstudio.LLM if kind == "llm" else lmstudio.EmbeddingModel
        handle = handle_type(identifier, session)
        with self._translated(f"read the load config of {identifier!r}"):
            config = handle.get_load_config()
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
        self.serial_round_trips += 1
        return str(handle.identifier)

    def unload(self, identifier: str, kind: Kind) -> None:
        """Unload the instance ``identifier``."""
        session = self._session(kind)
        with self._translated(f"unload {identifier!r}"):
            session.unload(identifier)
        self.round_trips += 1
        self.serial_round_trips += 1

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
    except json.JSONDecodeError as exc:  # the SDK reads the greeting's answer as JSON
        raise LMStudioUnreachableError(
            f"LM Studio is not reachable at {host} (the server there answered its greeting "
            "with something other than JSON; is it an LM Studio API server?)"
        ) from exc
    except (httpx.HTTPError, OSError) as exc:
        raise LMStudioUnreachableError(f"LM Studio is not reachable at {host} ({exc})") from exc
    except (httpx.InvalidURL, UnicodeError) as exc:  # an address the SDK cannot use
        raise ProfileError.single(
            "host", f"cannot connect to {host!r}: {_first_line(exc)}"
        ) from exc


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
        instance_reference=str(info["instanceReference"])
        if info.get("instanceReference")
        else None,
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
    """The server's own title (and cause) on one line, else the exception's first line
    (:func:`printable`: the server chose the text)."""
    server = getattr(exc, "server_error", None)
    title = getattr(server, "title", None)
    if isinstance(title, str) and title:
        cause = getattr(server, "cause", None)
        if isinstance(cause, str) and cause and cause not in title:
            return printable(f"{title} ({cause})")
        return printable(title)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return printable(f"{lines[0]} {lines[1]}")
    return printable(lines[0])


def printable(text: str) -> str:
    """``text`` with the characters a terminal would act on (controls such as escape
    sequences and newlines, format characters such as bidi overrides, line separators)
    written as escapes, for text from LM Studio that is printed."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """The results of ``calls``, made at the same time on threads of their own, in order.

    At most :data:`_READERS` run at once. If any call raises, the first such exception in
    the order of ``calls`` is raised once all have ended. The threads never hold up the end
    of the process, so a call stuck on a dead connection cannot either.

    The threads are started with :func:`_thread.start_new_thread`, which returns at once:
    ``threading.Thread.start`` waits until each new thread has run, and while the SDK's
    event-loop thread and the other calls compete for the interpreter lock, every such wait
    can last a switch interval, so the calls would go out one by one, late.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)
    todo = iter(range(len(calls)))
    lock = threading.Lock()
    workers = min(len(calls), _READERS)
    running = [workers]
    ended = threading.Event()

    def done(count: int) -> None:
        with lock:
            running[0] -= count
            if running[0] == 0:
                ended.set()

    def work() -> None:
        try:
            while True:
                with lock:
                    index = next(todo, None)
                if index is None:
                    return
                try:
                    results[index] = calls[index]()
                except BaseException as exc:  # raised in the caller's thread below
                    errors[index] = exc
        finally:
            done(1)

    for started in range(workers):
        try:
            _thread.start_new_thread(work, ())
        except BaseException:  # no thread to be had: wait for those started, then raise
            done(workers - started)
            ended.wait()
            raise
    ended.wait()
    for error in errors:
        if error is not None:
            raise error
    return results


_prepared: list[bool] = []
_prepare_lock = threading.Lock()


def prepare_sdk_types() -> None:
    """Prepare every message type of the SDK for msgspec, once per process, on one thread.

    msgspec prepares a type the first time a value is converted to or from it, and two
    threads doing that for one type at the same time can crash the interpreter (a
    segmentation fault, seen with lmstudio 1.5 and msgspec 0.22 when the first load configs
    of a process were read at once). A host's reads, and the hosts of a fan-out, run on
    threads, so every ``msgspec.Struct`` the SDK defines is prepared here first, while no
    other thread can use one (about 50 ms of CPU, once).
    """
    if _prepared:
        return
    import lmstudio
    import msgspec

    with _prepare_lock:
        if _prepared:
            return
        found: set[type] = set()
        todo: list[type] = [msgspec.Struct]
        while todo:
            subclasses: list[type] = todo.pop().__subclasses__()
            for sub in subclasses:
                if sub not in found:
                    found.add(sub)
                    todo.append(sub)
        package = lmstudio.__name__ + "."
        for struct in found:
            if struct.__module__.startswith(package):
                with contextlib.suppress(Exception):  # a type msgspec cannot decode: not ours
                    msgspec.json.Decoder(struct)
        _prepared.append(True)


_tls_lock = threading.Lock()
_TLS_DEFAULTS: Final = frozenset(("verify", "cert", "trust_env"))


def share_tls_context() -> None:
    """Let httpx clients made with httpx's default TLS settings share one TLS context, for
    the rest of the process.

    The SDK makes an httpx client for its greeting and one per websocket, and httpx builds a
    TLS context for each, loading the whole CA bundle: about 25 ms of CPU per client, during
    which no other thread of the process runs, although LM Studio is spoken to over plain
    http:// and ws://. A host's connection makes four, so a run on many hosts at once would
    spend most of its time there. One context serves every client that asks for the same
    settings (httpx itself shares a context given with ``verify=``); one is made per value of
    the ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` variables httpx reads, and any other settings
    get their own context as before.

    This replaces ``httpx._transports.default.create_ssl_context`` process-wide, so only the
    CLI's commands that talk to LM Studio (``plan``, ``reconcile``, ``adopt``, ``import
    --from-host``) call it, never :class:`LMStudioClient` itself: an application using
    lmsprofiles as a library keeps httpx as it is. Without that function (another httpx) it
    does nothing.
    """
    import os

    try:
        from httpx._transports import default
    except ImportError:  # pragma: no cover - httpx comes with the SDK
        return
    with _tls_lock:
        make = getattr(default, "create_ssl_context", None)
        if not callable(make) or getattr(make, "shared_by_lmsprofiles", False):
            return
        made: dict[tuple[bool, str | None, str | None], Any] = {}

        def shared(*args: Any, **kwargs: Any) -> Any:
            settings = {"verify": True, "cert": None, "trust_env": True} | kwargs
            if args or set(kwargs) - _TLS_DEFAULTS:
                return make(*args, **kwargs)  # a call this wrapper does not know: as before
            if settings["verify"] is not True or settings["cert"] is not None:
                return make(**kwargs)
            trust_env = bool(settings["trust_env"])
            key = (trust_env, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
            with _tls_lock:
                if key not in made:
                    made[key] = make(**kwargs)
                return made[key]

        shared.shared_by_lmsprofiles = True  # type: ignore[attr-defined]
        shared.__wrapped__ = make  # type: ignore[attr-defined]
        default.create_ssl_context = shared  # type: ignore[attr-defined]


class _SyncTimeout:
    """The SDK's process-wide synchronous timeout, set while any client is open.

    The first client to open saves the SDK's value; each client sets its own timeout when it
    opens (the last one opened wins); the last one to close restores the saved value.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._saved: float | None = None

    def open(self, timeout: float) -> None:
        import lmstudio

        with self._lock:
            if self._open == 0:
                self._saved = lmstudio.get_sync_api_timeout()
            self._open += 1
            lmstudio.set_sync_api_timeout(timeout)

    def close(self) -> None:
        import lmstudio

        with self._lock:
            self._open -= 1
            if self._open == 0:
                lmstudio.set_sync_api_timeout(self._saved)


_sync_timeout = _SyncTimeout()
