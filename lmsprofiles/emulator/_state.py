"""The emulated server's state: loaded instances, identifiers, memory, ttl and faults.

All methods are synchronous and guarded by one lock, so the event loop and the control API
(called from test threads) can both use them. Failures raise :class:`ServerError`, which the
protocol layer turns into ``rpcError`` / ``channelError`` messages.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lmsprofiles.emulator._catalog import Catalog, CatalogModel, ContextPolicy, ModelFaults
from lmsprofiles.emulator._kv import KvFields, fill_load_config

__all__ = ["Domain", "Instance", "ServerError", "ServerState"]

Domain = Literal["llm", "embedding"]
_SAMPLE = 10


class ServerError(Exception):
    """An error to send to the client as a ``SerializedLMSExtendedError``."""

    def __init__(
        self,
        title: str,
        *,
        cause: str | None = None,
        suggestion: str | None = None,
        display_data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        self.title = title
        self.cause = cause
        self.suggestion = suggestion
        self.display_data = dict(display_data) if display_data is not None else None

    def to_wire(self) -> dict[str, Any]:
        """The error object as LM Studio sends it."""
        error: dict[str, Any] = {"title": self.title, "rootTitle": self.title}
        if self.cause is not None:
            error["cause"] = self.cause
        if self.suggestion is not None:
            error["suggestion"] = self.suggestion
        if self.display_data is not None:
            error["displayData"] = self.display_data
        error["stack"] = f"Error: {self.title}\n    at <lmsprofiles emulator>"
        return error


@dataclass
class Instance:
    """One loaded (or loading) model instance."""

    model: CatalogModel
    identifier: str
    reference: str
    context_length: int
    load_config: KvFields
    ttl_ms: int | None
    memory_bytes: int
    last_used_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    last_used_monotonic: float = field(default_factory=time.monotonic)
    ready: bool = False

    def wire_info(self) -> dict[str, Any]:
        """``LlmInstanceInfo`` / ``EmbeddingInstanceInfo`` plus ``ttlMs`` and ``lastUsedTime``."""
        return {
            **self.model.wire_info(),
            "identifier": self.identifier,
            "instanceReference": self.reference,
            "contextLength": self.context_length,
            "ttlMs": self.ttl_ms,
            "lastUsedTime": self.last_used_ms,
        }

    def touch(self) -> None:
        """Mark the instance as used now (restarts its ttl)."""
        self.last_used_ms = int(time.time() * 1000)
        self.last_used_monotonic = time.monotonic()

    def expired(self, now: float) -> bool:
        """Whether the instance has been idle for longer than its ttl."""
        if self.ttl_ms is None or not self.ready:
            return False
        return (now - self.last_used_monotonic) * 1000 >= self.ttl_ms


class ServerState:
    """Catalog, settings that can change at run time, instances and injected faults."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.lock = threading.RLock()
        self.memory_budget: int = catalog.settings.memory_budget
        self.context_policy: ContextPolicy = catalog.settings.context_policy
        self.unresponsive: bool = catalog.settings.unresponsive
        self.token_seconds: float = catalog.settings.token_seconds
        self.latency_seconds: float = 0.0
        self.fault_overrides: dict[str | None, ModelFaults] = {}
        self._instances: list[Instance] = []
        self._protocol_warnings: list[str] = []
        self._websockets: dict[str, int] = {}

    def record_websocket(self, namespace: str) -> None:
        """Count a websocket a client opened on ``namespace``."""
        with self.lock:
            self._websockets[namespace] = self._websockets.get(namespace, 0) + 1

    def websockets(self) -> dict[str, int]:
        """How many websockets clients opened so far, per namespace."""
        with self.lock:
            return dict(self._websockets)

    # -- protocol warnings -----------------------------------------------------------------

    def record_protocol_warning(self, text: str) -> None:
        """Remember a protocol warning sent to or received from a client."""
        with self.lock:
            self._protocol_warnings.append(text)

    def protocol_warnings(self) -> list[str]:
        """Every protocol warning so far, oldest first."""
        with self.lock:
            return list(self._protocol_warnings)

    # -- queries -------------------------------------------------------------------------

    def instances(self, domain: Domain | None = None, *, loading: bool = False) -> list[Instance]:
        """Ready instances (and loading ones too if ``loading``), oldest first."""
        with self.lock:
            return [
                i
                for i in self._instances
                if (loading or i.ready) and (domain is None or i.model.type == domain)
            ]

    def memory_used(self) -> int:
        """Bytes taken by every instance, including those still loading."""
        with self.lock:
            return sum(i.memory_bytes for i in self._instances)

    def faults_for(self, model: CatalogModel) -> ModelFaults:
        """The catalog's faults for ``model`` with run-time overrides laid over them."""
        with self.lock:
            faults = model.faults.merged(self.fault_overrides.get(None))
            return faults.merged(self.fault_overrides.get(model.model_key))

    def _loaded_sample(self, domain: Domain) -> dict[str, Any]:
        identifiers = [i.identifier for i in self.instances(domain)]
        return {"loadedModelsSample": identifiers[:_SAMPLE], "totalLoadedModels": len(identifiers)}

    def resolve(self, domain: Domain, specifier: object) -> Instance:
        """The ready instance a ``ModelSpecifier`` names; ``noModelMatchingQuery`` otherwise."""
        spec = specifier if isinstance(specifier, Mapping) else {}
        query: Mapping[str, Any]
        if spec.get("type") == "instanceReference":
            reference = spec.get("instanceReference")
            for instance in self.instances(domain):
                if instance.reference == reference:
                    return instance
            query = {"instanceReference": reference}
        else:
            raw = spec.get("query", {}) if spec.get("type") == "query" else spec
            query = raw if isinstance(raw, Mapping) else {}
            for instance in self.instances(domain):
                if _matches(instance, query):
                    return instance
        raise ServerError(
            "No loaded model satisfies all requirements specified in the query.",
            display_data={
                "code": "generic.noModelMatchingQuery",
                "query": dict(query),
                **self._loaded_sample(domain),
            },
        )

    def find_identifier(self, domain: Domain, identifier: str) -> Instance | None:
        """The ready instance whose identifier is exactly ``identifier``."""
        for instance in self.instances(domain):
            if instance.identifier == identifier:
                return instance
        return None

    # -- loading and unloading ----------------------------------------------------------

    def find_model(self, domain: Domain, key_or_path: str) -> CatalogModel:
        """The catalog model to load; ``pathNotFound`` / ``domainMismatch`` errors otherwise."""
        model = self.catalog.find(key_or_path)
        if model is None:
            keys = [m.model_key for m in self.catalog.models]
            raise ServerError(
                f'Model "{key_or_path}" not found',
                cause=f"Cannot find a model with key or path '{key_or_path}'",
                suggestion="Check the model key against list_downloaded_models()",
                display_data={
                    "code": "generic.pathNotFound",
                    "path": key_or_path,
                    "availablePathsSample": keys[:_SAMPLE],
                    "totalModels": len(keys),
                },
            )
        if model.type != domain:
            raise ServerError(
                f'Model "{key_or_path}" is an {model.type} model, not an {domain} model',
                display_data={
                    "code": "generic.domainMismatch",
                    "path": model.path,
                    "actualDomain": model.type,
                    "expectedDomain": domain,
                },
            )
        return model

    def begin_load(
        self,
        model: CatalogModel,
        *,
        identifier: str | None,
        sent_config: KvFields,
        ttl_ms: object,
    ) -> Instance:
        """Reserve an identifier and memory for a new instance (not listed until committed)."""
        ttl = _check_ttl(ttl_ms)
        domain: Domain = model.type
        context_key = f"{domain}.load.contextLength"
        default_context = min(
            self.catalog.settings.default_context_length, model.max_context_length
        )
        config = fill_load_config(domain, sent_config, default_context)
        requested = config[context_key]
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise ServerError(
                f"Invalid {context_key}: {requested!r}",
                cause="contextLength must be an integer of at least 1",
            )
        with self.lock:
            actual = self._fit_context(model, requested)
            if identifier is None:
                identifier = self._free_identifier(model.model_key)
            elif any(i.identifier == identifier for i in self._instances):
                raise ServerError(
                    f"A model with identifier '{identifier}' is already loaded",
                    suggestion="Use a different identifier or unload the existing model",
                )
            memory = model.memory_bytes(actual)
            used = sum(i.memory_bytes for i in self._instances)
            if used + memory > self.memory_budget:
                raise ServerError(
                    f'Failed to load model "{model.model_key}": insufficient memory',
                    cause=(
                        f"The instance needs {memory} bytes with contextLength {actual}, but only "
                        f"{max(self.memory_budget - used, 0)} of the {self.memory_budget}-byte "
                        "memory budget are free"
                    ),
                    suggestion="Unload a model or load with a smaller contextLength",
                )
            instance = Instance(
                model=model,
                identifier=identifier,
                reference=secrets.token_urlsafe(18),
                context_length=actual,
                load_config=config,
                ttl_ms=ttl,
                memory_bytes=memory,
            )
            self._instances.append(instance)
            return instance

    def _fit_context(self, model: CatalogModel, requested: int) -> int:
        if requested <= model.max_context_length or self.context_policy == "accept":
            return requested
        if self.context_policy == "clamp":
            return model.max_context_length
        raise ServerError(
            f'Failed to load model "{model.model_key}": contextLength {requested} is larger '
            f"than the model's maxContextLength {model.max_context_length}",
            suggestion=f"Load with contextLength of at most {model.max_context_length}",
        )

    def _free_identifier(self, model_key: str) -> str:
        taken = {i.identifier for i in self._instances}
        if model_key not in taken:
            return model_key
        n = 2
        while f"{model_key}:{n}" in taken:
            n += 1
        return f"{model_key}:{n}"

    def commit(self, instance: Instance) -> None:
        """Finish a load: the instance is listed and its ttl starts."""
        with self.lock:
            instance.ready = True
            instance.touch()

    def abort(self, instance: Instance) -> None:
        """Give up a load: release its identifier and memory."""
        with self.lock:
            if instance in self._instances:
                self._instances.remove(instance)

    def unload(self, domain: Domain | None, identifier: str) -> Instance:
        """Unload the ready instance ``identifier``; ``identifierNotFound`` otherwise."""
        with self.lock:
            for instance in self.instances(domain):
                if instance.identifier == identifier:
                    self._instances.remove(instance)
                    return instance
            raise ServerError(
                f'No model found with identifier "{identifier}"',
                display_data={
                    "code": "generic.identifierNotFound",
                    "identifier": identifier,
                    **self._loaded_sample(domain or "llm"),
                },
            )

    def expire(self) -> list[Instance]:
        """Unload every instance idle for longer than its ttl; return them."""
        now = time.monotonic()
        with self.lock:
            gone = [i for i in self._instances if i.expired(now)]
            for instance in gone:
                self._instances.remove(instance)
            return gone


def _matches(instance: Instance, query: Mapping[str, Any]) -> bool:
    """Whether ``instance`` meets every criterion ``query`` sets (unknown criteria are ignored)."""
    model = instance.model
    wanted = {k: v for k, v in query.items() if v is not None}
    return (
        wanted.get("identifier", instance.identifier) == instance.identifier
        and wanted.get("path", model.path) in (model.path, model.model_key)
        and wanted.get("domain", model.type) == model.type
        and bool(wanted.get("vision", model.vision)) == model.vision
    )


def _check_ttl(ttl_ms: object) -> int | None:
    if ttl_ms is None:
        return None
    if (
        isinstance(ttl_ms, bool)
        or not isinstance(ttl_ms, int | float)
        or ttl_ms < 1
        or ttl_ms != int(ttl_ms)
    ):
        raise ServerError(
            f"Invalid ttlMs: {ttl_ms!r}",
            cause="ttl must be a whole number of milliseconds, at least 1",
        )
    return int(ttl_ms)
