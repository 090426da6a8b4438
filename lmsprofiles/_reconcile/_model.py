"""Plain data the reconciler works on: what the profiles want, what LM Studio runs, what we own.

Everything here is immutable and free of I/O. ``load`` mappings use the SDK's camelCase field
names with ``gpu`` as a nested mapping, exactly as ``load_new_instance(config=...)`` takes them
and as ``get_load_config().to_dict()`` returns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Literal, TypeAlias

Kind: TypeAlias = Literal["llm", "embedding"]
"""The LM Studio namespace an instance lives in."""

KINDS: Final[tuple[Kind, ...]] = ("llm", "embedding")


class Unknown(Enum):
    """Marker for a value LM Studio did not report (distinct from ``None`` = "no value")."""

    UNKNOWN = "unknown"

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown.UNKNOWN


@dataclass(frozen=True)
class DesiredInstance:
    """One instance the profiles want loaded.

    ``load`` holds only the fields the profile sets (absent = LM Studio's own default).
    ``ttl`` is in seconds; ``None`` means the instance never expires. ``origins`` maps dotted
    paths such as ``"load.contextLength"`` or ``"ttl"`` to where the value was set
    (``"profiles/models/x.yaml:5:3"``, an environment variable's name, ...).
    """

    identifier: str
    model_key: str
    kind: Kind
    load: Mapping[str, Any] = field(default_factory=dict)
    ttl: int | None = None
    origins: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObservedInstance:
    """One instance LM Studio reports as loaded.

    ``context_length`` is the context the instance actually runs with (from ``listLoaded``),
    which the server may have fitted lower than the load config asked for. ``ttl_ms`` is the
    idle time-to-live in milliseconds, ``None`` for no expiry, or ``UNKNOWN`` when the server
    does not report it. ``load`` is the load config as the SDK reads it back.
    """

    identifier: str
    model_key: str
    kind: Kind
    context_length: int | None = None
    max_context_length: int | None = None
    ttl_ms: int | Unknown | None = UNKNOWN
    load: Mapping[str, Any] = field(default_factory=dict)
    instance_reference: str | None = None
    """LM Studio's name of this one instance (another instance under the same identifier
    has another); None when the server does not report it."""


@dataclass(frozen=True)
class OwnershipRecord:
    """lmsprofiles loaded the instance ``identifier`` of ``model_key`` on this host.

    ``ttl`` is the ttl (seconds) it was loaded with, so a ttl change can be detected when the
    server does not report ttls; ``loaded_at`` is an ISO 8601 UTC timestamp.
    ``instance_reference`` is LM Studio's name of the very instance, once a read-back has
    seen it (None before, and in records of older versions).
    """

    identifier: str
    model_key: str
    kind: Kind
    ttl: int | None = None
    loaded_at: str = ""
    instance_reference: str | None = None

    def matches(self, observed: ObservedInstance) -> bool:
        """True if ``observed`` is the instance this record describes: the same identifier,
        model key and type, and the same instance reference when both are known (an
        instance someone else loaded under the identifier later is not ours)."""
        return (
            observed.identifier == self.identifier
            and observed.model_key == self.model_key
            and observed.kind == self.kind
            and (
                self.instance_reference is None
                or observed.instance_reference is None
                or observed.instance_reference == self.instance_reference
            )
        )


@dataclass(frozen=True)
class DownloadedModel:
    """A model LM Studio can load (``listDownloadedModels``).

    ``kind`` is ``None`` for a type lmsprofiles does not manage; ``max_context_length`` is
    ``None`` when not reported.
    """

    model_key: str
    kind: Kind | None
    path: str = ""
    max_context_length: int | None = None
