"""The application API: per-request configs and reuse-or-load model handles.

``connect(profiles, host=...)`` opens a session on the official SDK's ``Client``;
``connect_async`` the same on ``AsyncClient``. ``session.llm(identifier)`` returns an SDK
handle to the instance the profile describes:

* loaded and satisfying the profile (the comparison ``reconcile`` uses) -> reused via
  ``model()``;
* not loaded -> ``load_new_instance()`` with the profile's identifier, ttl and load config,
  recorded as owned so ``reconcile`` manages it from then on;
* loaded but not satisfying: reloaded if lmsprofiles loaded it; otherwise
  :class:`InstanceConflictError`, because an instance someone else loaded is never touched.

A session decides once per identifier and keeps the handle; if the instance disappears
(unloaded, ttl expiry), ``respond``/``complete``/``embed`` decide again once.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from lmsprofiles._errors import LmsProfilesError, ProfileError
from lmsprofiles._profiles import ProfileSet, ResolvedConfig, load
from lmsprofiles._reconcile._client import (
    LMStudioClient,
    observed_instance,
    sdk_load_config,
    translated,
)
from lmsprofiles._reconcile._compare import DEFAULT_CONTEXT_POLICY, ContextPolicy, compare
from lmsprofiles._reconcile._desired import desired_instance
from lmsprofiles._reconcile._model import (
    DesiredInstance,
    ObservedInstance,
    OwnershipRecord,
)
from lmsprofiles._reconcile._state import OwnershipStore, default_state_dir

__all__ = [
    "AsyncSession",
    "InstanceConflictError",
    "Session",
    "connect",
    "connect_async",
]

Kind = Literal["llm", "embedding"]


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
        raise InstanceConflictError(
            f"instance {desired.identifier!r} was not loaded by lmsprofiles and does not fit "
            f"its profile ({'; '.join(reasons)}); unload it or run `lmsprofiles reconcile`"
        )
    return Decision("reload", reasons)


def _profiles(profiles: ProfileSet | str | os.PathLike[str]) -> ProfileSet:
    return profiles if isinstance(profiles, ProfileSet) else load(profiles)


def _desired(cfg: ResolvedConfig, kind: Kind) -> DesiredInstance:
    if cfg.type != kind:
        raise ProfileError.single(
            "call-site", f"{cfg.identifier!r} is an {cfg.type} model, not an {kind} model"
        )
    return desired_instance(cfg)


def _record(desired: DesiredInstance) -> OwnershipRecord:
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return OwnershipRecord(desired.identifier, desired.model_key, desired.kind, desired.ttl, now)


class _Base:
    """What the sync and async sessions share: profiles, ownership and decisions."""

    def __init__(
        self,
        profiles: ProfileSet | str | os.PathLike[str],
        host: str | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY,
    ) -> None:
        """``profiles`` is a :class:`ProfileSet` or a profile dir; ``host`` defaults to
        ``$LMSPROFILES_HOST``, else the SDK's discovery; ``state_dir`` holds the ownership
        records shared with ``reconcile``."""
        self.profiles = _profiles(profiles)
        self._host = host or self.profiles.control.host
        self._state_dir = Path(state_dir) if state_dir else self.profiles.control.state_dir
        self._context_policy = context_policy
        self._handles: dict[str, Any] = {}
        self._store: OwnershipStore | None = None

    def config(
        self, identifier: str, request: str | None = None, **overrides: Any
    ) -> ResolvedConfig:
        """The resolved config (``profiles.resolve``); ``.inference`` goes to the SDK as is."""
        return self.profiles.resolve(identifier, request, **overrides)

    def _open_store(self, host: str) -> None:
        self._store = OwnershipStore(self._state_dir or default_state_dir(), host)

    def _owned(self, identifier: str) -> bool:
        return self._store is not None and identifier in self._store.read()

    def _remember(self, desired: DesiredInstance) -> None:
        if self._store is not None:
            records = self._store.read()
            records[desired.identifier] = _record(desired)
            self._store.write(records)


class Session(_Base):
    """A synchronous session on one LM Studio host. Use :func:`connect`."""

    _client: LMStudioClient | None = None

    def __enter__(self) -> Self:
        client = LMStudioClient(self._host)
        client.__enter__()
        self._client = client
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
            client.close()

    @property
    def host(self) -> str:
        """The LM Studio host of this session."""
        if self._client is not None:
            return self._client.host
        return self._host or "the default local ports"

    def _connected(self) -> LMStudioClient:
        if self._client is None:
            raise RuntimeError("use the session in a 'with' block")
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

    def embed(self, identifier: str, text: str | list[str]) -> Any:
        """Embed ``text`` with the embedding model ``identifier``."""
        return self._call(identifier, "embedding", "embed", lambda m: m.embed(text))

    def _call(self, identifier: str, kind: Kind, doing: str, call: Any) -> Any:
        import lmstudio

        with translated(self.host, f"{doing} with {identifier!r}"):
            try:
                return call(self._handle(identifier, kind))
            except lmstudio.LMStudioModelNotFoundError:
                self._handles.pop(identifier, None)  # gone meanwhile: decide again, once
            return call(self._handle(identifier, kind))

    def _handle(self, identifier: str, kind: Kind) -> Any:
        handle = self._handles.get(identifier)
        if handle is not None:
            return handle
        desired = _desired(self.config(identifier), kind)
        observed = self._find(identifier, kind)
        decision = decide(
            desired, observed, owned=self._owned(identifier), context_policy=self._context_policy
        )
        session = self._connected()._session(kind)
        if decision.action == "reload":
            self._connected().unload(identifier, kind)
        if decision.action in ("load", "reload"):
            self._connected().load(desired)
            self._remember(desired)
        with translated(self.host, f"get {identifier!r}"):
            handle = session.model(identifier, ttl=desired.ttl, config=sdk_load_config(desired))
        self._handles[identifier] = handle
        return handle

    def _find(self, identifier: str, kind: Kind) -> ObservedInstance | None:
        session = self._connected()._session(kind)
        with translated(self.host, f"list loaded {kind} instances"):
            listed = session.remote_call("listLoaded") or []
        for info in listed:
            if info.get("identifier") == identifier:
                return self._connected()._observe_one(kind, info)
        return None


class AsyncSession(_Base):
    """An asynchronous session on one LM Studio host. Use :func:`connect_async`."""

    _client: Any = None

    async def __aenter__(self) -> Self:
        import lmstudio

        client = lmstudio.AsyncClient(self._host)
        with translated(self._host or "the default local ports", "connect"):
            await client.__aenter__()
        self._client = client
        self._open_store(self.host)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the SDK client."""
        self._handles.clear()
        client, self._client = self._client, None
        if client is not None:
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

    async def embed(self, identifier: str, text: str | list[str]) -> Any:
        """Async :meth:`Session.embed`."""
        return await self._call(identifier, "embedding", "embed", lambda m: m.embed(text))

    async def _call(self, identifier: str, kind: Kind, doing: str, call: Any) -> Any:
        import lmstudio

        with translated(self.host, f"{doing} with {identifier!r}"):
            try:
                return await call(await self._handle(identifier, kind))
            except lmstudio.LMStudioModelNotFoundError:
                self._handles.pop(identifier, None)  # gone meanwhile: decide again, once
            return await call(await self._handle(identifier, kind))

    async def _handle(self, identifier: str, kind: Kind) -> Any:
        handle = self._handles.get(identifier)
        if handle is not None:
            return handle
        desired = _desired(self.config(identifier), kind)
        session = self._client.llm if kind == "llm" else self._client.embedding
        observed = await self._find(session, identifier, kind)
        decision = decide(
            desired, observed, owned=self._owned(identifier), context_policy=self._context_policy
        )
        config = sdk_load_config(desired)
        with translated(self.host, f"load {identifier!r} ({desired.model_key})"):
            if decision.action == "reload":
                await session.unload(identifier)
            if decision.action in ("load", "reload"):
                await session.load_new_instance(
                    desired.model_key, identifier, ttl=desired.ttl, config=config
                )
        if decision.action != "reuse":
            self._remember(desired)
        with translated(self.host, f"get {identifier!r}"):
            handle = await session.model(identifier, ttl=desired.ttl, config=config)
        self._handles[identifier] = handle
        return handle

    async def _find(self, session: Any, identifier: str, kind: Kind) -> ObservedInstance | None:
        from lmstudio.async_api import AsyncEmbeddingModel, AsyncLLM

        handle_type = AsyncLLM if kind == "llm" else AsyncEmbeddingModel
        with translated(self.host, f"list loaded {kind} instances"):
            listed = await session.remote_call("listLoaded") or []
            for info in listed:
                if info.get("identifier") == identifier:
                    config = await handle_type(identifier, session).get_load_config()
                    return observed_instance(kind, info, config.to_dict())
        return None


connect = Session
"""``connect(profiles, host=None, *, state_dir=None, context_policy="warn")``: a
:class:`Session`, to use as a context manager."""

connect_async = AsyncSession
"""Like :data:`connect`, on the SDK's ``AsyncClient``: an :class:`AsyncSession` for
``async with``."""
