"""The application API: per-request configs and reuse-or-load model handles.

``connect(profiles, host=...)`` opens a session on the official SDK's ``Client``;
``connect_async`` the same on ``AsyncClient``. ``session.llm(identifier)`` returns an SDK
handle to the instance the profile describes:

* loaded and satisfying the profile (the comparison ``reconcile`` uses) -> reused via
  ``model()``;
* not loaded -> ``load_new_instance()`` with the profile's identifier, ttl and load config,
  recorded as owned so ``reconcile`` manages it from then on;
* loaded but not satisfying: reloaded if lmsprofiles loaded it (the ownership rule of
  ``reconcile``: a record matching identifier, model key and type); otherwise
  :class:`InstanceConflictError`, because an instance someone else loaded is never touched.

Both sessions run one core (:func:`_acquire`), a generator that yields the I/O it needs;
:class:`Session` does that I/O blocking, :class:`AsyncSession` with ``await`` and, for the
ownership file and the host lock, in a worker thread. Loads and unloads hold the host lock
(the one ``reconcile`` takes) and are write-ahead like reconcile's. Concurrent first use of
one identifier (threads, or tasks of one event loop) makes exactly one decision and load;
every caller gets the handle. A session decides once per identifier and keeps the handle; if
the instance disappears (unloaded, ttl expiry), ``respond``/``complete``/``embed`` decide
again once.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from lmsprofiles._errors import (
    LmsProfilesError,
    LMStudioError,
    LMStudioUnreachableError,
    ProfileError,
)
from lmsprofiles._inventory import on_server
from lmsprofiles._profiles import ProfileSet, ResolvedConfig, load
from lmsprofiles._reconcile._client import (
    LMStudioClient,
    downloaded_model,
    observed_instance,
    sdk_load_config,
    translated,
)
from lmsprofiles._reconcile._compare import (
    CONTEXT_POLICIES,
    DEFAULT_CONTEXT_POLICY,
    ContextPolicy,
    compare,
)
from lmsprofiles._reconcile._desired import desired_instance
from lmsprofiles._reconcile._host import parse_host
from lmsprofiles._reconcile._lock import HostLock
from lmsprofiles._reconcile._model import DesiredInstance, DownloadedModel, ObservedInstance
from lmsprofiles._reconcile._ownership import State, owned_record, resolve, with_references
from lmsprofiles._reconcile._plan import preflight
from lmsprofiles._reconcile._state import (
    STATE_DIR_ENV,
    OwnershipStore,
    check_state_dir,
    default_state_dir,
)
from lmsprofiles._reconcile._steps import (
    CallLoad,
    CallUnload,
    Flow,
    Save,
    drive,
    drive_async,
    load_flow,
    unload_flow,
)
from lmsprofiles._reconcile._timeout import DEFAULT_TIMEOUT, check_seconds

__all__ = [
    "AsyncSession",
    "InstanceConflictError",
    "Session",
    "connect",
    "connect_async",
]

Kind = Literal["llm", "embedding"]

DEFAULT_LOCK_TIMEOUT = 600.0
"""Seconds a session waits for the host lock (held by a reconcile while it loads)."""


class InstanceConflictError(LmsProfilesError):
    """An instance lmsprofiles did not load holds the identifier but does not fit the profile."""


@dataclass(frozen=True)
class Decision:
    """What to do for one identifier: ``reuse``, ``load`` or ``reload``, and why."""

    action: Literal["reuse", "load", "reload"]
    reasons: tuple[str, ...] = ()


def decide(
    desired: DesiredInstance,
    observed: ObservedInstance | None,
    *,
    owned: bool,
    context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY,
) -> Decision:
    """Reuse, load or reload; raise :class:`InstanceConflictError` for a foreign misfit.

    The ttl is not compared: a loaded instance serves requests whatever its ttl.
    """
    if observed is None:
        return Decision("load")
    comparison = compare(desired, observed, context_policy=context_policy, check_ttl=False)
    if comparison.satisfied:
        return Decision("reuse")
    reasons = tuple(
        f"{d.path}: {d.observed!r} loaded, {d.desired!r} wanted" for d in comparison.reload_reasons
    )
    if not owned:
        if observed.model_key == desired.model_key and observed.kind == desired.kind:
            advice = f"run `lmsprofiles adopt {desired.identifier}` to let lmsprofiles manage it"
        else:
            advice = f"it is {observed.kind} {observed.model_key}; unload it"
        raise InstanceConflictError(
            f"instance {desired.identifier!r} was not loaded by lmsprofiles and does not fit "
            f"its profile ({'; '.join(reasons)}); {advice}"
        )
    return Decision("reload", reasons)


# -- the session core: requests it yields, and the flow ------------------------------------


@dataclass(frozen=True)
class _Find:
    """The loaded instance ``identifier`` of ``kind``, or None."""

    identifier: str
    kind: Kind


@dataclass(frozen=True)
class _Downloaded:
    """The models LM Studio can load."""


@dataclass(frozen=True)
class _Lock:
    """Take the host lock; the result is the held lock, for :class:`_Unlock`."""


@dataclass(frozen=True)
class _Unlock:
    """Give the held ``lock`` back."""

    lock: HostLock


@dataclass(frozen=True)
class _Read:
    """The ownership state of the host."""


@dataclass(frozen=True)
class _Model:
    """The SDK handle of ``desired``'s instance (``model()``, which never reloads)."""

    desired: DesiredInstance


@dataclass(frozen=True)
class _Bound:
    """The SDK handle a session decided on, and the instance it was: a handle names an
    instance by identifier, so another instance may take the identifier over later."""

    handle: Any
    reference: str
    model_key: str

    @classmethod
    def of(cls, handle: Any, desired: DesiredInstance, info: Any) -> _Bound:
        return cls(handle, str(info.instance_reference), str(info.model_key or desired.model_key))

    def is_the_instance(self, info: Any) -> bool:
        """True if ``info`` (the SDK's model info) is of the same instance."""
        return bool(info.instance_reference == self.reference and info.model_key == self.model_key)


def _acquire(desired: DesiredInstance, context_policy: ContextPolicy) -> Flow[Any]:
    """Reuse, load or reload the instance of ``desired``; return its SDK handle.

    A fitting instance is reused without the lock; anything else is decided again under the
    host lock with the ownership records read there, so a reconcile or another session
    cannot change the instance or the records in between.
    """
    identifier = desired.identifier
    observed = yield _Find(identifier, desired.kind)
    if observed is None or not _fits(desired, observed, context_policy):
        lock: HostLock = yield _Lock()
        try:
            yield from _change(desired, context_policy)
        finally:
            yield _Unlock(lock)
    return (yield _Model(desired))


def _change(desired: DesiredInstance, context_policy: ContextPolicy) -> Flow[None]:
    identifier = desired.identifier
    state: State = yield _Read()
    observed: ObservedInstance | None = yield _Find(identifier, desired.kind)
    resolved, _ = resolve(state, [observed] if observed else [], only=identifier)
    if resolved != state:
        state = resolved
        yield Save(state)
    record = owned_record(state.records, observed) if observed is not None else None
    decision = decide(desired, observed, owned=record is not None, context_policy=context_policy)
    if decision.action == "reuse":
        return
    downloaded: list[DownloadedModel] = yield _Downloaded()
    problem = preflight(desired, downloaded, observed)
    if problem is not None:
        raise LMStudioError(f"cannot load {identifier!r}: {problem}")
    if record is not None:
        outcome = yield from unload_flow(state, record)
        if outcome.error is not None:
            raise outcome.error
        state = outcome.state
    outcome = yield from load_flow(state, desired)
    if outcome.error is not None:
        raise outcome.error
    # a load does not report the instance's reference: read it back and record it, so an
    # instance someone else loads under this identifier later is never taken for ours
    loaded: ObservedInstance | None = yield _Find(identifier, desired.kind)
    referenced = with_references(outcome.state, [loaded] if loaded else [])
    if referenced != outcome.state:
        yield Save(referenced)


def _fits(desired: DesiredInstance, observed: ObservedInstance, policy: ContextPolicy) -> bool:
    return compare(desired, observed, context_policy=policy, check_ttl=False).satisfied


def _seconds(name: str, value: object, *, zero: bool = False) -> float:
    try:
        return check_seconds(value, zero=zero)
    except TypeError as exc:
        raise TypeError(f"{name}= {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name}= {exc}") from None


def _context_policy(value: object) -> ContextPolicy:
    expected = "context_policy= must be " + " or ".join(repr(p) for p in CONTEXT_POLICIES)
    if not isinstance(value, str):
        raise TypeError(f"{expected}, not {type(value).__name__} {value!r}")
    for policy in CONTEXT_POLICIES:
        if value == policy:
            return policy
    raise ValueError(f"{expected} (got {value!r})")


def _embeddable(text: object) -> str | list[str]:
    """``text`` as ``embed`` takes it: a string, or strings (any iterable: a list here);
    ``TypeError`` otherwise, before LM Studio is asked."""
    if isinstance(text, str):
        return text
    if isinstance(text, Iterable) and not isinstance(text, bytes | bytearray | Mapping):
        items = list(text)
        if all(isinstance(item, str) for item in items):
            return items
        shown = ""
    else:
        shown = f" {text!r}"
    raise TypeError(f"text must be a string or a list of strings, not {type(text).__name__}{shown}")


def _name_hint(host: str | None, hosts: Mapping[str, Any]) -> str | None:
    """For a ``host`` without a port that is no inventory host's name but close to one: what
    to say when nothing answers there."""
    if host is None or host in hosts or ":" in host:
        return None
    close = difflib.get_close_matches(host, list(hosts), n=1)
    if not close:
        return None
    return f"{host} is no host of hosts.yaml; did you mean {close[0]!r}?"


def _profiles(profiles: ProfileSet | str | os.PathLike[str]) -> ProfileSet:
    return profiles if isinstance(profiles, ProfileSet) else load(profiles)


def _desired(cfg: ResolvedConfig, kind: Kind) -> DesiredInstance:
    if cfg.type != kind:
        raise ProfileError.single(
            "call-site", f"{cfg.identifier!r} is an {cfg.type} model, not an {kind} model"
        )
    return desired_instance(cfg)


class _Base:
    """What the sync and async sessions share: profiles, options, ownership store, handles."""

    def __init__(
        self,
        profiles: ProfileSet | str | os.PathLike[str],
        host: str | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY,
        timeout: float | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        """``profiles`` is a :class:`ProfileSet` or a profile dir; ``host`` is the name of a
        host of the inventory (``hosts.yaml``) or an address, and defaults to
        ``$LMSPROFILES_HOST``, else the SDK's discovery; ``state_dir`` holds the ownership
        records shared with ``reconcile``; ``timeout`` bounds every wait for LM Studio
        (default ``$LMSPROFILES_TIMEOUT``, else 60 s); ``lock_timeout`` is how long a load
        waits for the host lock. Raises ``ProfileError`` for a malformed host or a state dir
        that is not a directory; ``TypeError`` for a timeout that is not a number,
        ``ValueError`` for one that is not > 0 (``lock_timeout``: >= 0) and at most 86400.

        On a host of the inventory (named, or whose address names the same server) configs
        resolve with that host's layers, and only the models it runs are served."""
        if host is not None and not isinstance(host, str):
            raise TypeError(
                f"host= must be a string (an address or an inventory host's name) or None, "
                f"not {type(host).__name__} {host!r}"
            )
        self._context_policy = _context_policy(context_policy)
        self.profiles = _profiles(profiles)
        control = self.profiles.control
        self.host_name: str | None = None
        """The inventory host the session is on, if any: its layers apply."""
        self._name_hint = _name_hint(host, self.profiles.hosts)
        if host is not None and host in self.profiles.hosts:
            self.host_name = host
            host = self.profiles.hosts[host].address
        elif host is not None:
            try:
                host = parse_host(host)
            except ValueError as exc:
                raise ProfileError.single("host", str(exc)) from None
        self._host = host or control.host
        self._find_host_name(self._host)
        if state_dir is not None:
            self._state_dir = Path(state_dir)
            check_state_dir(self._state_dir, "state_dir")
        else:
            self._state_dir = control.state_dir or default_state_dir()
            check_state_dir(self._state_dir, STATE_DIR_ENV)
        given = None if timeout is None else _seconds("timeout", timeout)
        self.timeout: float = given or control.timeout or DEFAULT_TIMEOUT
        self._lock_timeout = _seconds("lock_timeout", lock_timeout, zero=True)
        self._handles: dict[str, _Bound] = {}
        self._store: OwnershipStore | None = None
        self._guard = threading.Lock()
        self._per_identifier: dict[str, Any] = {}
        """One lock per identifier (threading or asyncio): one decision and load at a time."""

    def config(
        self, identifier: str, request: str | None = None, **overrides: Any
    ) -> ResolvedConfig:
        """The resolved config (``profiles.resolve``, on the session's inventory host);
        ``.inference`` goes to the SDK as is."""
        return self.profiles.resolve(identifier, request, host=self.host_name, **overrides)

    def _find_host_name(self, address: str | None) -> None:
        """Take the inventory host on the server ``address`` names, if none is set yet."""
        found = on_server(self.profiles.hosts, address) if self.host_name is None else None
        if found is not None:
            self.host_name = found.name

    def _open_store(self, host: str) -> None:
        self._find_host_name(host)  # the SDK found the server itself
        self._store = OwnershipStore(self._state_dir, host)

    def _storage(self, request: object) -> tuple[bool, Any]:
        """Do a storage request (lock, state file): ``(True, result)``, or ``(False, None)``
        if ``request`` is not one. Blocking: the async session runs it in a thread."""
        store = self._store
        assert store is not None
        match request:
            case _Lock():
                lock = HostLock(
                    store.state_dir, store.key, operation="session", wait_option="lock_timeout="
                )
                lock.acquire(self._lock_timeout)
                return True, lock
            case _Unlock(lock=lock):
                lock.release()
            case _Read():
                return True, store.read()
            case Save(state=state):
                store.write(state)
            case _:
                return False, None
        return True, None

    @contextlib.contextmanager
    def _hinted(self) -> Iterator[None]:
        """Add the inventory host a misspelt name may have meant to an unreachable error."""
        try:
            yield
        except LMStudioUnreachableError as exc:
            if self._name_hint is None:
                raise
            raise LMStudioUnreachableError(f"{exc} ({self._name_hint})") from exc

    def _translated(self, doing: str) -> Any:
        return translated(self.host, doing, self.timeout)

    @property
    def host(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class Session(_Base):
    """A synchronous session on one LM Studio host. Use :func:`connect`.

    Safe to share between threads. The SDK's synchronous timeout is process-wide: the
    session sets it while it is open and restores it when it closes.
    """

    _client: LMStudioClient | None = None
    _closed = False

    def __enter__(self) -> Self:
        if self._client is not None:
            raise RuntimeError(_ALREADY_OPEN)
        client = LMStudioClient(self._host, timeout=self.timeout)
        with self._hinted():
            client.__enter__()
        self._client = client
        self._closed = False
        self._open_store(client.host)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the SDK client."""
        self._handles.clear()
        client, self._client = self._client, None
        if client is not None:
            self._closed = True
            client.close()

    @property
    def host(self) -> str:
        """The LM Studio host of this session."""
        if self._client is not None:
            return self._client.host
        return self._host or "the default local ports"

    def _connected(self) -> LMStudioClient:
        if self._client is None:
            raise RuntimeError(_CLOSED if self._closed else "use the session in a 'with' block")
        return self._client

    def llm(self, identifier: str) -> Any:
        """An SDK ``LLM`` handle to the instance of the model profile ``identifier``."""
        return self._handle(identifier, "llm")

    def embedding(self, identifier: str) -> Any:
        """An SDK ``EmbeddingModel`` handle to the instance of ``identifier``."""
        return self._handle(identifier, "embedding")

    def respond(
        self, identifier: str, history: Any, request: str | None = None, **overrides: Any
    ) -> Any:
        """Resolve ``request`` for ``identifier``, get the handle and call the SDK's ``respond``.

        Returns the SDK's ``PredictionResult``; ``.parsed`` holds the JSON object when the
        resolved config has a JSON schema (``structured``).
        """
        cfg = self.config(identifier, request, **overrides)
        return self._call(
            identifier, "llm", "respond", lambda m: m.respond(history, config=cfg.inference)
        )

    def complete(
        self, identifier: str, prompt: str, request: str | None = None, **overrides: Any
    ) -> Any:
        """Like :meth:`respond`, for the SDK's ``complete`` (text completion)."""
        cfg = self.config(identifier, request, **overrides)
        return self._call(
            identifier, "llm", "complete", lambda m: m.complete(prompt, config=cfg.inference)
        )

    def embed(self, identifier: str, text: str | Iterable[str]) -> Any:
        """Embed ``text`` with the embedding model ``identifier``."""
        texts = _embeddable(text)
        return self._call(identifier, "embedding", "embed", lambda m: m.embed(texts))

    def _call(self, identifier: str, kind: Kind, doing: str, call: Callable[[Any], Any]) -> Any:
        import lmstudio

        with self._translated(f"{doing} with {identifier!r}"):
            try:
                return call(self._handle(identifier, kind))
            except lmstudio.LMStudioModelNotFoundError:
                self._handles.pop(identifier, None)  # gone meanwhile: decide again, once
            return call(self._handle(identifier, kind))

    def _handle(self, identifier: str, kind: Kind) -> Any:
        desired = _desired(self.config(identifier), kind)
        self._connected()
        bound = self._handles.get(identifier)
        if bound is not None and self._still_there(bound):
            return bound.handle
        with self._guard:
            lock: threading.Lock = self._per_identifier.setdefault(identifier, threading.Lock())
        with lock:
            if self._handles.get(identifier) is bound:  # no other thread decided meanwhile
                self._handles.pop(identifier, None)
                self._handles[identifier] = drive(_acquire(desired, self._context_policy), self._do)
            return self._handles[identifier].handle

    def _still_there(self, bound: _Bound) -> bool:
        """True if the instance ``bound`` was decided on still holds its identifier."""
        import lmstudio

        with self._translated(f"check {bound.handle.identifier!r}"):
            try:
                info = bound.handle.get_info()
            except lmstudio.LMStudioModelNotFoundError:
                return False
        return bound.is_the_instance(info)

    def _do(self, request: object) -> Any:
        done, result = self._storage(request)
        if done:
            return result
        client = self._connected()
        match request:
            case _Find(identifier=identifier, kind=kind):
                return _find(client, identifier, kind)
            case _Downloaded():
                return client.downloaded()
            case CallLoad(desired=desired):
                return client.load(desired)
            case CallUnload(identifier=identifier, kind=kind):
                return client.unload(identifier, kind)
            case _Model(desired=desired):
                session = client._session(desired.kind)
                with self._translated(f"get {desired.identifier!r}"):
                    handle = session.model(
                        desired.identifier, ttl=desired.ttl, config=sdk_load_config(desired)
                    )
                    return _Bound.of(handle, desired, handle.get_info())
        raise AssertionError(f"unknown request {request!r}")


def _find(client: LMStudioClient, identifier: str, kind: Kind) -> ObservedInstance | None:
    for observed in client.observe(kind):
        if observed.identifier == identifier:
            return observed
    return None


class AsyncSession(_Base):
    """An asynchronous session on one LM Studio host. Use :func:`connect_async`.

    Use it from one event loop. ``timeout`` bounds each wait for LM Studio with asyncio
    timeouts; a load that reports progress is not cut off.
    """

    _client: Any = None
    _closed = False
    _loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Self:
        import lmstudio

        if self._client is not None:
            raise RuntimeError(_ALREADY_OPEN)
        client = lmstudio.AsyncClient(self._host)
        with (
            self._hinted(),
            translated(self._host or "the default local ports", "connect", self.timeout),
        ):
            try:
                async with asyncio.timeout(self.timeout):
                    await client.__aenter__()
            except BaseException:
                await _close_quietly(client)
                raise
        self._client = client
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._per_identifier.clear()  # asyncio locks of a former event loop work in none other
        await asyncio.to_thread(self._open_store, self.host)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the SDK client (in the event loop that opened the session)."""
        if self._client is not None and asyncio.get_running_loop() is not self._loop:
            raise RuntimeError(
                "the session was opened in another event loop; close it in the event loop "
                "that opened it"
            )
        self._handles.clear()
        client, self._client = self._client, None
        if client is not None:
            self._closed = True
            await client.__aexit__(None, None, None)

    @property
    def host(self) -> str:
        """The LM Studio host of this session."""
        if self._client is not None:
            return str(self._client.api_host)
        return self._host or "the default local ports"

    async def llm(self, identifier: str) -> Any:
        """An SDK ``AsyncLLM`` handle to the instance of the model profile ``identifier``."""
        return await self._handle(identifier, "llm")

    async def embedding(self, identifier: str) -> Any:
        """An SDK ``AsyncEmbeddingModel`` handle to the instance of ``identifier``."""
        return await self._handle(identifier, "embedding")

    async def respond(
        self, identifier: str, history: Any, request: str | None = None, **overrides: Any
    ) -> Any:
        """Async :meth:`Session.respond`."""
        cfg = self.config(identifier, request, **overrides)
        return await self._call(
            identifier, "llm", "respond", lambda m: m.respond(history, config=cfg.inference)
        )

    async def complete(
        self, identifier: str, prompt: str, request: str | None = None, **overrides: Any
    ) -> Any:
        """Async :meth:`Session.complete`."""
        cfg = self.config(identifier, request, **overrides)
        return await self._call(
            identifier, "llm", "complete", lambda m: m.complete(prompt, config=cfg.inference)
        )

    async def embed(self, identifier: str, text: str | Iterable[str]) -> Any:
        """Async :meth:`Session.embed`."""
        texts = _embeddable(text)
        return await self._call(identifier, "embedding", "embed", lambda m: m.embed(texts))

    async def _call(
        self, identifier: str, kind: Kind, doing: str, call: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        import lmstudio

        with self._translated(f"{doing} with {identifier!r}"):
            try:
                return await call(await self._handle(identifier, kind))
            except lmstudio.LMStudioModelNotFoundError:
                self._handles.pop(identifier, None)  # gone meanwhile: decide again, once
            return await call(await self._handle(identifier, kind))

    async def _handle(self, identifier: str, kind: Kind) -> Any:
        desired = _desired(self.config(identifier), kind)
        self._connected()
        bound = self._handles.get(identifier)
        if bound is not None and await self._still_there(bound):
            return bound.handle
        lock: asyncio.Lock = self._per_identifier.setdefault(identifier, asyncio.Lock())
        async with lock:
            if self._handles.get(identifier) is bound:  # no other task decided meanwhile
                self._handles.pop(identifier, None)
                self._handles[identifier] = await drive_async(
                    _acquire(desired, self._context_policy), self._do
                )
            return self._handles[identifier].handle

    async def _still_there(self, bound: _Bound) -> bool:
        """True if the instance ``bound`` was decided on still holds its identifier."""
        import lmstudio

        with self._translated(f"check {bound.handle.identifier!r}"):
            try:
                async with asyncio.timeout(self.timeout):
                    info = await bound.handle.get_info()
            except lmstudio.LMStudioModelNotFoundError:
                return False
        return bound.is_the_instance(info)

    async def _do(self, request: object) -> Any:
        match request:
            case _Lock():
                return await self._take_lock(request)
            case _Unlock() | _Read() | Save():
                return (await asyncio.to_thread(self._storage, request))[1]
        self._connected()
        match request:
            case _Find(identifier=identifier, kind=kind):
                return await self._find(identifier, kind)
            case _Downloaded():
                with self._translated("list downloaded models"):
                    async with asyncio.timeout(self.timeout):
                        raw = await self._client.system.remote_call("listDownloadedModels")
                return [downloaded_model(info) for info in raw or ()]
            case CallLoad(desired=desired):
                return await self._load(desired)
            case CallUnload(identifier=identifier, kind=kind):
                with self._translated(f"unload {identifier!r}"):
                    async with asyncio.timeout(self.timeout):
                        await self._namespace(kind).unload(identifier)
                return None
            case _Model(desired=desired):
                with self._translated(f"get {desired.identifier!r}"):
                    async with asyncio.timeout(self.timeout):
                        handle = await self._namespace(desired.kind).model(
                            desired.identifier, ttl=desired.ttl, config=sdk_load_config(desired)
                        )
                        return _Bound.of(handle, desired, await handle.get_info())
        raise AssertionError(f"unknown request {request!r}")

    async def _take_lock(self, request: _Lock) -> HostLock:
        """Wait for the host lock in a thread; if cancelled meanwhile, give it back once taken."""
        waiting = asyncio.ensure_future(asyncio.to_thread(self._storage, request))
        try:
            lock: HostLock = (await asyncio.shield(waiting))[1]
        except asyncio.CancelledError:
            waiting.add_done_callback(_release_if_taken)
            raise
        return lock

    def _connected(self) -> None:
        """``RuntimeError`` unless the session is open, and in the running event loop."""
        if self._client is None:
            raise RuntimeError(
                _CLOSED if self._closed else "use the session in an 'async with' block"
            )
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError(
                "the session was opened in another event loop; an AsyncSession works in the "
                "event loop that opened it (open one session per event loop)"
            )

    def _namespace(self, kind: Kind) -> Any:
        return self._client.llm if kind == "llm" else self._client.embedding

    async def _find(self, identifier: str, kind: Kind) -> ObservedInstance | None:
        from lmstudio.async_api import AsyncEmbeddingModel, AsyncLLM

        session = self._namespace(kind)
        handle_type = AsyncLLM if kind == "llm" else AsyncEmbeddingModel
        with self._translated(f"list loaded {kind} instances"):
            async with asyncio.timeout(self.timeout):
                listed: list[Mapping[str, Any]] = await session.remote_call("listLoaded") or []
                for info in listed:
                    if info.get("identifier") == identifier:
                        config = await handle_type(identifier, session).get_load_config()
                        return observed_instance(kind, info, config.to_dict())
        return None

    async def _load(self, desired: DesiredInstance) -> str:
        """Load ``desired``; the timeout restarts with every progress report."""
        config = sdk_load_config(desired)
        loop = asyncio.get_running_loop()
        with self._translated(f"load {desired.identifier!r} ({desired.model_key})"):
            async with asyncio.timeout(self.timeout) as deadline:

                def progress(_: float) -> None:
                    deadline.reschedule(loop.time() + self.timeout)

                handle = await self._namespace(desired.kind).load_new_instance(
                    desired.model_key,
                    desired.identifier,
                    ttl=desired.ttl,
                    config=config,
                    on_load_progress=progress,
                )
        return str(handle.identifier)


_ALREADY_OPEN = "the session is already open; open it once (one 'with' block per session)"
_CLOSED = "the session is closed; open it again with a 'with' block, or open a new one"


def _release_if_taken(waiting: asyncio.Future[tuple[bool, Any]]) -> None:
    if not waiting.cancelled() and waiting.exception() is None:
        waiting.result()[1].release()


async def _close_quietly(client: Any) -> None:
    with contextlib.suppress(Exception):  # the connect failure is what the caller reports
        async with asyncio.timeout(1):
            await client.__aexit__(None, None, None)


connect = Session
"""``connect(profiles, host=None, *, state_dir=None, context_policy="warn", timeout=None,
lock_timeout=600)``: a :class:`Session`, to use as a context manager."""

connect_async = AsyncSession
"""Like :data:`connect`, on the SDK's ``AsyncClient``: an :class:`AsyncSession` for
``async with``."""
