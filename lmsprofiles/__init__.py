"""lmsprofiles: configuration as code for LM Studio models.

Layered YAML profiles and ``LMSPROFILES_*`` variables, validated into the load and inference
configs the official ``lmstudio`` SDK accepts::

    import lmsprofiles

    profiles = lmsprofiles.load("profiles")
    cfg = profiles.resolve("qwen-chat", request="creative", maxTokens=64)
    cfg.load, cfg.inference, cfg.origin("inference.temperature")

Names are imported on first use, so ``import lmsprofiles`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up a third

__all__ = [
    "PRECEDENCE",
    "ApplyError",
    "AsyncSession",
    "Host",
    "InstanceConflictError",
    "LMStudioError",
    "LMStudioTimeoutError",
    "LMStudioUnreachableError",
    "LmsProfilesError",
    "LockHeldError",
    "ModelProfile",
    "Origin",
    "Problem",
    "ProfileError",
    "ProfileSet",
    "ResolvedConfig",
    "Session",
    "StateError",
    "UnknownHostError",
    "UnknownModelError",
    "UnknownRequestError",
    "connect",
    "connect_async",
    "load",
]

_HOMES = {
    "PRECEDENCE": "lmsprofiles._profiles",
    "ModelProfile": "lmsprofiles._profiles",
    "ProfileSet": "lmsprofiles._profiles",
    "ResolvedConfig": "lmsprofiles._profiles",
    "load": "lmsprofiles._profiles",
    "Origin": "lmsprofiles._origin",
    "Host": "lmsprofiles._inventory",
    **{
        name: "lmsprofiles._runtime"
        for name in ("AsyncSession", "InstanceConflictError", "Session", "connect", "connect_async")
    },
    **{
        name: "lmsprofiles._errors"
        for name in (
            "ApplyError",
            "LMStudioError",
            "LMStudioTimeoutError",
            "LMStudioUnreachableError",
            "LmsProfilesError",
            "LockHeldError",
            "Problem",
            "ProfileError",
            "StateError",
            "UnknownHostError",
            "UnknownModelError",
            "UnknownRequestError",
        )
    },
}

if TYPE_CHECKING:
    from typing import Any

    from lmsprofiles._errors import (
        ApplyError,
        LmsProfilesError,
        LMStudioError,
        LMStudioTimeoutError,
        LMStudioUnreachableError,
        LockHeldError,
        Problem,
        ProfileError,
        StateError,
        UnknownHostError,
        UnknownModelError,
        UnknownRequestError,
    )
    from lmsprofiles._inventory import Host
    from lmsprofiles._origin import Origin
    from lmsprofiles._profiles import PRECEDENCE, ModelProfile, ProfileSet, ResolvedConfig, load
    from lmsprofiles._runtime import (
        AsyncSession,
        InstanceConflictError,
        Session,
        connect,
        connect_async,
    )


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'lmsprofiles' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
