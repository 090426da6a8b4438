"""``LMSPROFILES_*`` environment variables: control settings and profile overrides.

Control settings (``LMSPROFILES_HOST``, ``LMSPROFILES_PROFILES``, ``LMSPROFILES_STATE_DIR``)
are read with pydantic-settings. Every other ``LMSPROFILES_*`` variable is an override whose
``__``-separated segments are matched against the schema, ignoring case and underscores, so
``LMSPROFILES_LOAD__CONTEXT_LENGTH`` and ``LMSPROFILES_LOAD__CONTEXTLENGTH`` both set
``load.contextLength``. ``LMSPROFILES_MODELS__<ID>__...`` targets the model whose identifier,
upper-cased with every other character than A-Z and 0-9 replaced by ``_``, is ``<ID>``.
Values are parsed by the type of the field they set. Unknown variables are problems.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from lmsprofiles import _fields as f
from lmsprofiles._errors import Problem, ProfileError
from lmsprofiles._keys import Field, fields_of
from lmsprofiles._merge import Path
from lmsprofiles._origin import Origin
from lmsprofiles._yaml import dotted

PREFIX = "LMSPROFILES_"
_CONTROL = ("HOST", "PROFILES", "STATE_DIR", "TIMEOUT")
_SECTIONS: Mapping[str, type[BaseModel]] = {"LOAD": f.LlmLoad, "INFERENCE": f.Inference}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class Control(BaseSettings):
    """Settings that steer lmsprofiles itself rather than a profile."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    host: str | None = None
    """LM Studio API host as ``host:port``; None lets the SDK discover it."""
    profiles: FsPath = FsPath("profiles")
    """The profile directory."""
    state_dir: FsPath | None = None
    """Where reconcile keeps ownership records and locks; None: the platform's state dir."""

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


def env_name(identifier: str) -> str:
    """How a model identifier is spelled in a variable name: ``qwen-chat`` -> ``QWEN_CHAT``."""
    return re.sub(r"[^A-Za-z0-9]", "_", identifier).upper()


@dataclass
class EnvLayer:
    """Overrides from the environment for one scope (every model, or one model)."""

    data: dict[str, Any] = field(default_factory=dict)
    where: dict[Path, Origin] = field(default_factory=dict)


@dataclass
class Overrides:
    """All override variables, by scope."""

    shared: EnvLayer = field(default_factory=EnvLayer)
    models: dict[str, EnvLayer] = field(default_factory=dict)


def overrides(
    environ: Mapping[str, str], identifiers: Iterable[str], problems: list[Problem]
) -> Overrides:
    """Parse every override variable; append a problem for each one that is wrong."""
    by_env: dict[str, str] = {}
    clashes: dict[str, list[str]] = {}
    for identifier in sorted(identifiers):
        clashes.setdefault(env_name(identifier), []).append(identifier)
        by_env.setdefault(env_name(identifier), identifier)
    result = Overrides()
    for name in sorted(environ):
        if not name.upper().startswith(PREFIX) or name.upper()[len(PREFIX) :] in _CONTROL:
            continue
        segments = name[len(PREFIX) :].split("__")
        head = segments[0].upper()
        scope = segments[1].upper() if len(segments) > 1 else ""
        if head == "MODELS" and len(clashes.get(scope, ())) > 1:
            names = " and ".join(repr(i) for i in clashes[scope])
            message = f"ambiguous: {scope} names both {names}; give one an identifier: key"
            problems.append(Problem(name, None, None, "", message))
        elif head == "MODELS" and scope in by_env and len(segments) < 3:
            example = f"{PREFIX}MODELS__{scope}__LOAD__CONTEXT_LENGTH"
            message = f"unknown variable; name a field after the model, e.g. {example}"
            problems.append(Problem(name, None, None, "", message))
        elif head == "MODELS" and len(segments) >= 3 and scope in by_env:
            identifier = by_env[segments[1].upper()]
            layer = result.models.setdefault(identifier, EnvLayer())
            _assign(name, segments[2:], environ[name], layer, problems)
        elif head == "MODELS" and len(segments) >= 2:
            known = ", ".join(sorted(by_env)) or "none"
            guess = difflib.get_close_matches(segments[1].upper(), list(by_env), n=1)
            hint = f"; did you mean {PREFIX}MODELS__{guess[0]}__...?" if guess else ""
            message = f"no model profile with the identifier {segments[1]!r} ({known}){hint}"
            problems.append(Problem(name, None, None, "", message))
        else:
            _assign(name, segments, environ[name], result.shared, problems)
    return result


def _assign(
    name: str,
    segments: list[str],
    text: str,
    layer: EnvLayer,
    problems: list[Problem],
) -> None:
    path = _match(segments)
    if path is None:
        problems.append(Problem(name, None, None, "", _unknown(name)))
        return
    target, fld = path
    try:
        value = parse_value(text, fld)
    except ValueError as exc:
        problems.append(Problem(name, None, None, dotted(target), str(exc)))
        return
    node = layer.data
    for part in target[:-1]:
        node = node.setdefault(str(part), {})
    node[str(target[-1])] = value
    layer.where[target] = Origin("env", name, path=dotted(target))
    for sub in _subpaths(value, target):
        layer.where[sub] = Origin("env", name, path=dotted(sub))


def _subpaths(value: Any, path: Path) -> Iterable[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _subpaths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*path, i)
            yield from _subpaths(item, (*path, i))


def _match(segments: list[str]) -> tuple[Path, Field] | None:
    """The canonical path and field that variable segments name, if any."""
    head = segments[0].upper()
    if head == "TTL" and len(segments) == 1:
        return ("ttl",), Field(
            "ttl", "ttl", None, "", tuple(f.GlobalFile.model_fields["ttl"].metadata)
        )
    model = _SECTIONS.get(head)
    if model is None or len(segments) < 2:
        return None
    path: Path = (head.lower(),)
    fld: Field | None = None
    for segment in segments[1:]:
        if model is None:
            return None
        lookup = {alias.lower().replace("_", ""): alias for alias in fields_of(model)}
        alias = lookup.get(segment.lower().replace("_", ""))
        if alias is None:
            return None
        fld = fields_of(model)[alias]
        path = (*path, alias)
        model = fld.model if fld.container == "" else None
    assert fld is not None
    return path, fld


def _candidates() -> list[str]:
    names = [PREFIX + c for c in _CONTROL] + [f"{PREFIX}TTL"]
    for head, model in _SECTIONS.items():
        for fld in fields_of(model).values():
            base = f"{PREFIX}{head}__{fld.name.upper()}"
            if fld.model is not None and fld.container == "":
                names.extend(f"{base}__{sub.name.upper()}" for sub in fields_of(fld.model).values())
            names.append(base)
    return names


def _unknown(name: str) -> str:
    candidates = _candidates()
    upper = name.upper()
    if upper.startswith(f"{PREFIX}MODELS__"):
        parts = upper.split("__")
        scoped = f"{PREFIX}MODELS__{parts[1]}__"
        upper = PREFIX + upper[len(scoped) :]
        guess = difflib.get_close_matches(upper, candidates, n=1, cutoff=0.6)
        guess = [scoped + g[len(PREFIX) :] for g in guess]
    else:
        guess = difflib.get_close_matches(upper, candidates, n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    return f"unknown variable{hint}"


def parse_value(text: str, fld: Field) -> Any:
    """Parse a variable's text by the type of the field it sets; ValueError says why not."""
    stripped = text.strip()
    if stripped.lower() in ("", "null"):
        return None
    if fld.model is not None:
        return _json(stripped, list if fld.container == "list" else dict)
    check = next((m for m in fld.metadata if isinstance(m, f._Check)), None)
    lowered = stripped.lower()
    if isinstance(check, f.Num):
        return _parse_number(text, check)
    if isinstance(check, f.Bool):
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"must be true or false (got {text!r})")
    if isinstance(check, f.Choice):
        return False if check.off is not None and lowered == "false" else stripped
    if isinstance(check, f.Ratio):
        if lowered in ("max", "off"):
            return lowered
        try:
            return float(stripped)
        except ValueError:
            raise ValueError(
                f"must be a number from 0 to 1, 'max' or 'off' (got {text!r})"
            ) from None
    if isinstance(check, (f.Strings, f.Indices)):
        return _json(stripped, list)
    if isinstance(check, f.JsonObject):
        return _json(stripped, dict)
    return text


def _parse_number(text: str, check: f.Num) -> Any:
    stripped = text.strip()
    if check.off is not None and stripped.lower() == "false":
        return False
    for parse in (int, float):
        try:
            return parse(stripped)
        except ValueError:
            pass
    raise ValueError(f"must be {check.words} (got {text!r})")


def _json(text: str, kind: type[Any]) -> Any:
    example = '["a", "b"]' if kind is list else '{"key": "value"}'
    what = "a JSON list" if kind is list else "a JSON object"
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"must be {what}, e.g. {example} (got {text!r})") from None
    if not isinstance(value, kind):
        raise ValueError(f"must be {what}, e.g. {example} (got {text!r})")
    return value
