"""The public :class:`Emulator`: start/stop, fault control and introspection."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Literal

from lmsprofiles._errors import LmsProfilesError
from lmsprofiles.emulator._catalog import Catalog, ContextPolicy, ModelFaults, load_catalog
from lmsprofiles.emulator._state import Instance, ServerError, ServerState

__all__ = ["Emulator", "EmulatorError", "InstanceSnapshot"]


class EmulatorError(LmsProfilesError):
    """The emulator cannot start (e.g. the port is in use) or a control call failed."""


@dataclass(frozen=True)
class InstanceSnapshot:
    """A loaded instance as the emulator sees it (a copy; it does not change afterwards)."""

    identifier: str
    model_key: str
    type: Literal["llm", "embedding"]
    context_length: int
    """The context length the instance really runs with (after the context policy)."""
    requested_context_length: int
    """The context length its load config reports (what was sent, or the default)."""
    max_context_length: int
    ttl_ms: int | None
    """Idle milliseconds until the instance is unloaded; ``None`` = never."""
    last_used_time: int
    """Unix time in milliseconds of the last use (load, prediction, embedding, get-or-load)."""
    memory_bytes: int
    instance_reference: str
    load_config: Mapping[str, Any]
    """The stored load config: server KV key -> wire value, LM Studio defaults filled in."""

    @classmethod
    def of(cls, instance: Instance) -> InstanceSnapshot:
        domain = instance.model.type
        return cls(
            identifier=instance.identifier,
            model_key=instance.model.model_key,
            type=domain,
            context_length=instance.context_length,
            requested_context_length=int(instance.load_config[f"{domain}.load.contextLength"]),
            max_context_length=instance.model.max_context_length,
            ttl_ms=instance.ttl_ms,
            last_used_time=instance.last_used_ms,
            memory_bytes=instance.memory_bytes,
            instance_reference=instance.reference,
            load_config=MappingProxyType(dict(instance.load_config)),
        )


class Emulator:
    """An LM Studio server emulator that the unmodified ``lmstudio`` SDK can talk to.

    ``catalog`` is a :class:`Catalog`, a path to a catalog YAML file, or ``None`` for the
    catalog shipped with the package. ``bind`` is the listening address (loopback by
    default) and ``port`` the TCP port (0 = a free one).

    Use it in process with ``with Emulator().running() as emu: ... emu.host ...``: the server
    runs in a background thread with its own event loop. Control and introspection methods
    are thread-safe and may be called while SDK clients are connected.
    """

    def __init__(
        self,
        catalog: Catalog | str | os.PathLike[str] | None = None,
        *,
        bind: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.catalog: Catalog = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
        self.bind = bind
        self._requested_port = port
        self._port: int | None = None
        self._state = ServerState(self.catalog)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    # -- running ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the emulator listens on (only while it is running)."""
        if self._port is None:
            raise EmulatorError("the emulator is not running")
        return self._port

    @property
    def host(self) -> str:
        """``"HOST:PORT"``, the string to pass to ``lms.Client`` (only while running)."""
        bind = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"{bind}:{self.port}"

    async def serve(
        self, stop: asyncio.Event, on_ready: Callable[[Emulator], None] | None = None
    ) -> None:
        """Serve in the running event loop until ``stop`` is set.

        ``on_ready`` is called once the port is bound. Raises :class:`EmulatorError` if the
        address cannot be bound.
        """
        from lmsprofiles.emulator._server import ProtocolServer

        server = ProtocolServer(self._state)
        try:
            self._port = await server.start(self.bind, self._requested_port)
        except socket.gaierror as exc:  # the name does not resolve
            raise EmulatorError(f"cannot resolve {self.bind}: {exc.strerror or exc}") from None
        except OSError as exc:
            reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            where = f"{self.bind}:{self._requested_port}"
            raise EmulatorError(f"cannot listen on {where}: {reason}") from None
        try:
            if on_ready is not None:
                on_ready(self)
            await stop.wait()
        finally:
            await server.stop()
            self._port = None

    def start(self) -> Emulator:
        """Start serving in a background thread; return once the port is bound."""
        if self._thread is not None:
            raise EmulatorError("the emulator is already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            try:
                await self.serve(self._stop_event, lambda _: ready.set())
            except BaseException as exc:
                failure.append(exc)
                raise
            finally:
                ready.set()

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException:  # reported to start() through `failure`
                return

        self._thread = threading.Thread(target=run, name="lmstudio-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection, stop listening and join the thread. Idempotent."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = self._loop = self._stop_event = None

    @contextmanager
    def running(self) -> Iterator[Emulator]:
        """Run for the duration of a ``with`` block."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control (fault injection and settings) ---------------------------------------------

    def set_faults(
        self,
        model_key: str | None = None,
        faults: ModelFaults | None = None,
        *,
        load_error: str | None = None,
        load_seconds: float | None = None,
        drop_connection_at: float | None = None,
    ) -> None:
        """Inject load faults for ``model_key`` (``None``: every model) until cleared.

        Pass a :class:`ModelFaults` or the keyword fields; fields given here replace the
        catalog's faults for that model, others keep their catalog value.
        ``set_faults("google/gemma-3-1b", load_error="insufficient memory")`` makes every load
        of that model fail; ``set_faults(load_seconds=1.5)`` slows every load down.
        """
        if model_key is not None and self.catalog.find(model_key) is None:
            raise EmulatorError(f"no model {model_key!r} in the catalog")
        if faults is None:
            given = {
                "load_error": load_error,
                "load_seconds": load_seconds,
                "drop_connection_at": drop_connection_at,
            }
            faults = ModelFaults.model_validate({k: v for k, v in given.items() if v is not None})
        with self._state.lock:
            self._state.fault_overrides[model_key] = faults

    def clear_faults(self) -> None:
        """Remove every fault set with :meth:`set_faults` (catalog faults stay)."""
        with self._state.lock:
            self._state.fault_overrides.clear()

    @property
    def unresponsive(self) -> bool:
        """When true, connections are authenticated but nothing is ever answered."""
        return self._state.unresponsive

    @unresponsive.setter
    def unresponsive(self, value: bool) -> None:
        self._state.unresponsive = bool(value)

    @property
    def memory_budget(self) -> int:
        """Bytes all instances together may take; a load beyond it fails."""
        return self._state.memory_budget

    @memory_budget.setter
    def memory_budget(self, value: int) -> None:
        if value < 0:
            raise EmulatorError("memory_budget must be >= 0")
        self._state.memory_budget = int(value)

    @property
    def context_policy(self) -> ContextPolicy:
        """``clamp``, ``reject`` or ``accept``: loads above ``maxContextLength``."""
        return self._state.context_policy

    @context_policy.setter
    def context_policy(self, value: ContextPolicy) -> None:
        if value not in ("clamp", "reject", "accept"):
            raise EmulatorError(f"unknown context policy {value!r}")
        self._state.context_policy = value

    @property
    def token_seconds(self) -> float:
        """Pause between the fragments of a streamed prediction."""
        return self._state.token_seconds

    @token_seconds.setter
    def token_seconds(self, value: float) -> None:
        self._state.token_seconds = max(0.0, float(value))

    @property
    def latency_ms(self) -> float:
        """Milliseconds every message to a client is held back, as over a slow network link.

        Messages keep their order and the server goes on reading meanwhile, so concurrent
        requests are answered after one delay, not one delay each. 0 (the default): none.
        """
        return self._state.latency_seconds * 1000

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        if not math.isfinite(value) or value < 0:
            raise EmulatorError(f"latency_ms must be a number >= 0, not {value!r}")
        self._state.latency_seconds = float(value) / 1000

    # -- introspection and direct manipulation -----------------------------------------------

    def instances(self) -> list[InstanceSnapshot]:
        """Every loaded instance (llm and embedding), oldest first."""
        return [InstanceSnapshot.of(i) for i in self._state.instances()]

    def instance(self, identifier: str) -> InstanceSnapshot:
        """The loaded instance ``identifier``; ``KeyError`` if there is none."""
        for snapshot in self.instances():
            if snapshot.identifier == identifier:
                return snapshot
        raise KeyError(identifier)

    @property
    def protocol_warnings(self) -> list[str]:
        """Every protocol warning exchanged with a client so far, oldest first.

        A warning the emulator sent (a message it could not use) reads
        ``"protocol warning to a client on /NAMESPACE: ..."``; one a client sent (a message of
        the emulator's that the client's schema rejected) reads
        ``"protocol warning from a client on /NAMESPACE: ..."``. Each is also logged on the
        ``lmsprofiles.emulator`` logger at WARNING level. Official SDKs never cause any.
        """
        return self._state.protocol_warnings()

    @property
    def websockets(self) -> dict[str, int]:
        """How many websockets clients opened so far, per namespace (``{"llm": 2, ...}``)."""
        return self._state.websockets()

    @property
    def memory_used(self) -> int:
        """Bytes taken by loaded and loading instances."""
        return self._state.memory_used()

    def preload(
        self,
        model_key: str,
        identifier: str | None = None,
        *,
        context_length: int | None = None,
        ttl: float | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> InstanceSnapshot:
        """Load an instance directly, as if another client had loaded it.

        ``config`` holds server KV fields (e.g. ``{"llm.load.llama.flashAttention": True}``);
        ``ttl`` is in seconds (``None`` = never unloaded). Faults are not applied; the memory
        budget, context policy and identifier rules are. Raises :class:`EmulatorError`.
        """
        try:
            model = self._state.catalog.find(model_key)
            if model is None:
                raise ServerError(f'Model "{model_key}" not found')
            sent = dict(config or {})
            if context_length is not None:
                sent[f"{model.type}.load.contextLength"] = context_length
            instance = self._state.begin_load(
                model,
                identifier=identifier,
                sent_config=sent,
                ttl_ms=None if ttl is None else ttl * 1000,
            )
        except ServerError as exc:
            raise EmulatorError(str(exc.title)) from None
        self._state.commit(instance)
        return InstanceSnapshot.of(instance)

    def unload(self, identifier: str) -> None:
        """Unload the instance ``identifier``; ``KeyError`` if there is none."""
        try:
            self._state.unload(None, identifier)
        except ServerError:
            raise KeyError(identifier) from None

    def unload_all(self) -> None:
        """Unload every instance."""
        for instance in self._state.instances(loading=True):
            self._state.abort(instance)
