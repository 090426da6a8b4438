"""The command line's connection to LM Studio: the SDK's ``AsyncClient`` on one event loop.

``plan``, ``reconcile``, ``adopt`` and ``import --from-host`` call LM Studio from ordinary
threads: the main thread, or one thread per host in a fan-out. :class:`HostClient` gives them
the blocking methods of :class:`~lmsprofiles._reconcile._client.LMStudioClient` (the one the
runtime sessions use, on the SDK's synchronous ``Client``), but every method hands a single
coroutine to the one event-loop thread of the process (:func:`run`), where the official
SDK's ``AsyncClient`` of every open host runs. A host's reads are made at once there with
``asyncio.gather``: one hop between threads per batch of calls, instead of a thread per call
and three hops each through the synchronous client's own event-loop thread, and no
contention between the threads of many hosts. Measured with four hosts of 25 instances
(``bench/bench_fleet.py``), the command line spends a third of the CPU time it spent on the
synchronous client, and one host's reads wait for the same round trips.

The SDK's ``AsyncClient`` opens all five of its namespaces one after the other when it is
entered: five waits for LM Studio. :func:`_client_type` makes a subclass that opens the two
every run uses (``llm``, ``embedding``) at once, one wait, and ``system`` only when a plan
needs the downloaded models (it loads something or blocks a profile).

``timeout`` bounds every wait with an asyncio timeout: connecting, and each answer; a load
that reports progress is not cut off (the wait starts again with each report), as in the
synchronous client and the async runtime session.
"""

from __future__ import annotations

import _thread
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from functools import partial
from typing import Any, Final, ParamSpec, Self, TypeVar

from lmsprofiles._errors import LmsProfilesError, LMStudioError
from lmsprofiles._reconcile._client import (
    BaseClient,
    ProgressCallback,
    downloaded_model,
    observed_instance,
    printable,
    sdk_load_config,
    translated,
)
from lmsprofiles._reconcile._model import (
    KINDS,
    DesiredInstance,
    DownloadedModel,
    Kind,
    ObservedInstance,
)

__all__ = ["HostClient", "run"]

T = TypeVar("T")
P = ParamSpec("P")

_LIST_DOWNLOADED: Final = "listDownloadedModels"

_READERS: Final = 32
"""Most calls one client has in flight at once while it reads the host's state."""

_CLOSE_SECONDS: Final = 1.0
"""How long closing a client may take; a connection that does not close by then is left to
end with the process (the SDK's own limit is 20 s)."""


class _DaemonThreads(concurrent.futures.ThreadPoolExecutor):
    """The event loop's executor: each call on a daemon thread of its own.

    asyncio resolves host names on its default executor, whose threads the interpreter
    joins when the process ends: a name lookup that never returns (a resolver that does not
    answer) would hold up the end of a run that already reported its error or was
    interrupted. Lookups are few (one per connection), so a thread each costs little; it is
    started with :func:`_thread.start_new_thread`, which neither waits for it to run (as
    ``threading.Thread.start`` does, holding up the event loop) nor joins it at exit.
    """

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the waiting coroutine
                future.set_exception(exc)
            else:
                future.set_result(result)

        _thread.start_new_thread(work, ())  # not joined at exit; returns without waiting
        return future


class _EventLoop:
    """One event loop on a daemon thread, started on first use (again in a forked child)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                loop.set_default_executor(_DaemonThreads())
                threading.Thread(
                    target=loop.run_forever,
                    name="lmsprofiles-io",
                    daemon=True,  # a call stuck on a dead connection never holds up the exit
                ).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop


_event_loop = _EventLoop()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the process's event-loop thread; block until it ends.

    Its result is returned and its exception raised in the calling thread. Ctrl-C in the
    main thread ends the wait at once and cancels the coroutine: a connection it was making
    is closed, not left open on the loop, which serves every later run of the process.
    """
    future = asyncio.run_coroutine_threadsafe(coroutine, _event_loop.get())
    try:
        return future.result()
    except BaseException:
        future.cancel()  # no-op once the coroutine has ended
        raise


async def _at_once(calls: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """The results of ``calls``, at most ``limit`` running at once, in order; if any raises,
    the first such exception in the order of ``calls``, once all have ended."""
    if len(calls) == 1:
        return [await calls[0]()]
    gate = asyncio.Semaphore(limit)

    async def gated(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    started = (call() if len(calls) <= limit else gated(call) for call in calls)
    outcomes = await asyncio.gather(*started, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return list(outcomes)  # type: ignore[arg-type]  # no exception among them


class HostClient(BaseClient):
    """A connection to one LM Studio host for the command line. Use it as a context manager.

    The same methods as :class:`~lmsprofiles._reconcile._client.LMStudioClient`, on the
    process's event loop; one thread uses a client at a time.
    """

    def __enter__(self) -> Self:
        self._client = run(self._connect())
        self.serial_round_trips += 2  # the greeting, then the namespaces at once
        return self

    def close(self) -> None:
        """Close the SDK client and its websockets (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            run(_close(client))

    async def _connect(self) -> Any:
        client = _client_type()(self._requested)
        with translated(self.host, "connect", self.timeout):
            try:
                async with asyncio.timeout(self.timeout):
                    await client.__aenter__()
            except BaseException:
                await _close(client)
                raise
        return client

    def downloaded(self) -> list[DownloadedModel]:
        """The models LM Studio can load (``listDownloadedModels``: one round trip, and one
        more to open the ``system`` namespace the first time)."""
        return run(self._downloaded())

    async def _downloaded(self) -> list[DownloadedModel]:
        client = self._connected()
        with self._translated("list downloaded models"):
            async with asyncio.timeout(self.timeout):
                open_system = getattr(client, "open_system", None)  # None: open already
                if open_system is not None and await open_system():
                    self.serial_round_trips += 1
                [answer] = await self._at_once(
                    [partial(client.system.remote_call, _LIST_DOWNLOADED)]
                )
        with self._understood("list downloaded models"):
            return [downloaded_model(info) for info in answer or ()]

    def observe(self, *kinds: Kind) -> list[ObservedInstance]:
        """Every loaded instance of ``kinds`` (default: LLM and embedding), with its config.

        One ``listLoaded`` per namespace, then one ``getLoadConfig`` per instance, each batch
        at once: two round trips of waiting. The one read path of the host's state for the
        command line.
        """
        return run(self._observe(kinds or KINDS))

    async def _observe(self, kinds: Sequence[Kind]) -> list[ObservedInstance]:
        answers = await self._at_once([partial(self._list_loaded, kind) for kind in kinds])
        with self._understood("list loaded instances"):
            listed = [
                (k, dict(info)) for k, raw in zip(kinds, answers, strict=True) for info in raw
            ]
            reads = [partial(self._load_config, str(i["identifier"]), k) for k, i in listed]
        configs = await self._at_once(reads)
        with self._understood("list loaded instances"):
            return [
                _shown(observed_instance(kind, info, config))
                for (kind, info), config in zip(listed, configs, strict=True)
            ]

    async def _at_once(self, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """:func:`_at_once`, counted as ``len(calls)`` round trips and one serial one."""
        if not calls:
            return []
        self.round_trips += len(calls)
        self.serial_round_trips += 1
        return await _at_once(calls, _READERS)

    async def _list_loaded(self, kind: Kind) -> list[Any]:
        session = self._session(kind)
        doing = f"list loaded {kind} instances"
        with self._translated(doing):
            async with asyncio.timeout(self.timeout):
                answer = await session.remote_call("listLoaded")
        with self._understood(doing):
            return list(answer or ())

    async def _load_config(self, identifier: str, kind: Kind) -> dict[str, Any]:
        from lmstudio.async_api import AsyncEmbeddingModel, AsyncLLM

        session = self._session(kind)
        handle_type = AsyncLLM if kind == "llm" else AsyncEmbeddingModel
        doing = f"read the load config of {identifier!r}"
        with self._understood(doing), self._translated(doing):
            async with asyncio.timeout(self.timeout):
                config = await handle_type(identifier, session).get_load_config()
            return dict(config.to_dict())

    def load(self, desired: DesiredInstance, on_progress: ProgressCallback | None = None) -> str:
        """Load a new instance of ``desired`` under its identifier; return the identifier.

        ``on_progress`` is called on the event-loop thread, while the caller waits.
        """
        identifier = run(self._load(desired, on_progress))
        self.round_trips += 1
        self.serial_round_trips += 1
        return identifier

    async def _load(self, desired: DesiredInstance, on_progress: ProgressCallback | None) -> str:
        config = sdk_load_config(desired)
        session = self._session(desired.kind)
        loop = asyncio.get_running_loop()
        with self._translated(f"load {desired.identifier!r} ({desired.model_key})"):
            async with asyncio.timeout(self.timeout) as deadline:

                def progress(fraction: float) -> None:
                    deadline.reschedule(loop.time() + self.timeout)
                    if on_progress is not None:
                        on_progress(fraction)

                handle = await session.load_new_instance(
                    desired.model_key,
                    desired.identifier,
                    ttl=desired.ttl,
                    config=config,
                    on_load_progress=progress,
                )
        return str(handle.identifier)

    def unload(self, identifier: str, kind: Kind) -> None:
        """Unload the instance ``identifier``."""
        run(self._unload(identifier, kind))
        self.round_trips += 1
        self.serial_round_trips += 1

    async def _unload(self, identifier: str, kind: Kind) -> None:
        session = self._session(kind)
        with self._translated(f"unload {identifier!r}"):
            async with asyncio.timeout(self.timeout):
                await session.unload(identifier)

    def _connected(self) -> Any:
        if self._client is None:
            raise RuntimeError("HostClient used outside its 'with' block")
        return self._client

    def _session(self, kind: Kind) -> Any:
        client = self._connected()
        return client.llm if kind == "llm" else client.embedding

    def _translated(self, doing: str) -> Any:
        return translated(self.host, doing, self.timeout)

    @contextlib.contextmanager
    def _understood(self, doing: str) -> Iterator[None]:
        """An answer of LM Studio that reading raised on (not of the shape the protocol
        gives it: a server that is no LM Studio, or a version that changed it) is an
        :class:`LMStudioError` (exit 1), not a crash."""
        try:
            yield
        except LmsProfilesError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
            raise LMStudioError(
                f"could not {doing}: LM Studio at {self.host} sent an answer of an unexpected "
                f"shape ({type(exc).__name__}: {printable(str(exc))})"
            ) from exc


def _shown(instance: ObservedInstance) -> ObservedInstance:
    """``instance`` with the characters of its identifier and model key that a terminal
    would act on (controls, format characters such as bidi overrides, line separators)
    written as escapes: they reach the terminal in the plan, and a host chose them. A
    profile's identifier never has any, so an instance that has some matches none, as
    before, and is left alone."""
    identifier, model_key = printable(instance.identifier), printable(instance.model_key)
    if (identifier, model_key) == (instance.identifier, instance.model_key):
        return instance
    return dataclasses.replace(instance, identifier=identifier, model_key=model_key)


async def _close(client: Any) -> None:
    """Close ``client``, waiting at most :data:`_CLOSE_SECONDS`; a failure to close is not
    reported (the run's own outcome is)."""
    closing = asyncio.ensure_future(client.__aexit__(None, None, None))
    try:
        await asyncio.wait_for(asyncio.shield(closing), _CLOSE_SECONDS)
    except Exception:  # not closed in time, or failed: left to end with the process
        closing.add_done_callback(_forget)


def _forget(task: asyncio.Future[Any]) -> None:
    """Fetch the outcome of a close nobody waits for, so asyncio does not log it."""
    if not task.cancelled():
        task.exception()


_made: list[type] = []


_PRIVATE_NAMES: Final = ("_AsyncSessionLlm", "_AsyncSessionEmbedding", "_AsyncSessionSystem")
_PRIVATE_ATTRIBUTES: Final = ("_resources", "_task_manager", "_sessions")


def _client_type() -> type:
    """The SDK's ``AsyncClient`` opening ``llm`` and ``embedding`` at once, ``system`` on
    first use, and no other namespace (made once, on first use: the SDK is imported lazily).

    That subclass uses names the SDK does not publish (its session classes, and attributes
    ``AsyncClient.__init__`` sets). An SDK without any of them gets its own ``AsyncClient``,
    which opens all five namespaces one after the other: slower, and otherwise the same.
    """
    if _made:
        return _made[0]
    import lmstudio
    from lmstudio import async_api

    probe = lmstudio.AsyncClient("127.0.0.1:1")  # makes no connection
    if not all(hasattr(async_api, name) for name in _PRIVATE_NAMES) or not all(
        hasattr(probe, name) for name in (*_PRIVATE_ATTRIBUTES, "_ensure_api_host_is_valid")
    ):
        _made.append(lmstudio.AsyncClient)
        return lmstudio.AsyncClient
    sessions: tuple[type, ...] = (async_api._AsyncSessionLlm, async_api._AsyncSessionEmbedding)

    class Client(lmstudio.AsyncClient):
        """``lmstudio.AsyncClient`` opening ``llm`` and ``embedding`` at once when entered,
        and ``system`` on first use (:meth:`open_system`)."""

        _ALL_SESSIONS = sessions

        async def __aenter__(self) -> Self:
            await self._ensure_api_host_is_valid()  # the greeting (and discovery)
            await self._resources.enter_async_context(self._task_manager)
            opened = [self._add(session_type) for session_type in self._ALL_SESSIONS]
            await _at_once([session.connect for session in opened], len(opened))
            self._sessions.update((session.API_NAMESPACE, session) for session in opened)
            return self

        async def open_system(self) -> bool:
            """Open the ``system`` namespace unless it is open; True if it was opened now.

            A namespace is in use only once open: after a failure the next call tries again.
            """
            system = async_api._AsyncSessionSystem
            if system.API_NAMESPACE in self._sessions:
                return False
            session = self._add(system)
            await session.connect()
            self._sessions[system.API_NAMESPACE] = session
            return True

        def _add(self, session_type: type[Any]) -> Any:
            """A new session of ``session_type``, closed with the client."""
            session = session_type(self)
            self._resources.push_async_callback(session.disconnect)
            return session

    _made.append(Client)
    return Client
