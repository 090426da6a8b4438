"""Control settings: the ``LMSPROFILES_*`` variables that steer lmsprofiles itself.

``LMSPROFILES_HOST``, ``LMSPROFILES_PROFILES``, ``LMSPROFILES_STATE_DIR``,
``LMSPROFILES_TIMEOUT`` and the limits on reading profiles (``LMSPROFILES_MAX_*``) are read
with pydantic-settings. Every other ``LMSPROFILES_*`` variable overrides profiles
(:mod:`lmsprofiles._overrides`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._overrides import INTEGER, PREFIX
from lmsprofiles._yaml import DEFAULT_LIMITS, Limits

__all__ = ["Control", "control"]


class Control(BaseSettings):
    """Settings that steer lmsprofiles itself rather than a profile."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    host: str | None = None
    """LM Studio API host as ``host:port``; None lets the SDK discover it."""
    profiles: FsPath = FsPath("profiles")
    """The profile directory."""
    state_dir: FsPath | None = None
    """Where reconcile keeps ownership records and locks; None: the platform's state dir."""
    max_file_bytes: int = DEFAULT_LIMITS.max_file_bytes
    """Largest profile file read, in bytes."""
    max_depth: int = DEFAULT_LIMITS.max_depth
    """Deepest nesting of mappings and lists in a profile file or variable."""
    max_nodes: int = DEFAULT_LIMITS.max_nodes
    """Most values in one profile file, an alias counting as every value it stands for."""

    @property
    def limits(self) -> Limits:
        """The bounds on reading profile files and variables."""
        return Limits(self.max_file_bytes, self.max_depth, self.max_nodes)

    @field_validator("profiles", "state_dir", mode="before")
    @classmethod
    def _directory_not_empty(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not value.strip():
            default = "./profiles" if info.field_name == "profiles" else "the user state dir"
            raise ValueError(f"is empty; name a directory, or unset it for {default}")
        return value

    @field_validator("max_file_bytes", "max_depth", "max_nodes", mode="before")
    @classmethod
    def _positive_integer(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not INTEGER.fullmatch(value.strip()) or int(value) < 1:
                raise ValueError(f"must be an integer >= 1 (got {value!r})")
            return int(value)
        return value

    timeout: float | None = None
    """Seconds to wait for each answer from LM Studio; None: the default (60)."""

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        from lmsprofiles._reconcile._host import parse_host

        return None if value is None else parse_host(value)

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        from lmsprofiles._reconcile._timeout import parse_timeout

        return parse_timeout(value) if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # only init arguments: control() feeds them from pydantic-settings' own env source
        return (init_settings,)


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of os.environ."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Control)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items()}


def control(env: Mapping[str, str] | None = None) -> Control:
    """The control settings from ``env`` (default: ``os.environ``)."""
    environ = os.environ if env is None else env
    try:
        return Control(**_MappingEnvSource(environ)())
    except ValidationError as exc:
        problems = [
            Problem(
                PREFIX + str(e["loc"][0]).upper(),
                None,
                None,
                "",
                e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
        raise ProfileError(problems) from None
