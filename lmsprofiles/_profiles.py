"""Profile sets: discovery, layering, validation and resolution.

Precedence, lowest first (:data:`PRECEDENCE`): the user-level global file, ``global.yaml``,
the model profile, the host (``hosts.yaml``: the host's overlay, then its overlay of this
model; only when resolving for a host), the request overlay (``requests/<name>.yaml``, then
the model's own ``requests.<name>``), the environment (variables for every model, for this
model, for the host, for this model on the host) and call-site overrides.
"""

from __future__ import annotations

import difflib
import functools
import gc
import os
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, cast

from lmsprofiles import _callsite, _quick
from lmsprofiles import _fieldtable as t
from lmsprofiles._errors import (
    Problem,
    ProfileError,
    UnknownHostError,
    UnknownModelError,
    UnknownRequestError,
)
from lmsprofiles._keys import (
    Model,
    canonical_value,
    canonicalize,
    fields_of,
    spellings,
    unknown_key_message,
)
from lmsprofiles._merge import (
    RESET,
    Append,
    Path,
    Replace,
    merge_traced,
    overlay_values,
    settle,
    unset_origin,
)
from lmsprofiles._origin import DEFAULT, Origin
from lmsprofiles._overrides import EnvLayer, check_numbers, has_control, overrides
from lmsprofiles._scan import Tree, display, scan
from lmsprofiles._scan import user_config_file as user_config_file
from lmsprofiles._shapes import RULE_FIELDS, RULES, label_text
from lmsprofiles._yaml import DEFAULT_LIMITS, Limits, describe, dotted, read

if TYPE_CHECKING:
    from lmstudio import LlmLoadModelConfigDict, LlmPredictionConfigDict
    from pydantic import ValidationError

    from lmsprofiles._env import Control
    from lmsprofiles._inventory import Host

__all__ = ["PRECEDENCE", "ModelProfile", "ProfileSet", "ResolvedConfig", "load"]

PRECEDENCE: Final = (
    "user",
    "global",
    "model",
    "host",
    "host-model",
    "request",
    "model-request",
    "env",
    "env-model",
    "env-host",
    "env-host-model",
    "call-site",
)
"""Layer names, lowest precedence first."""


class _Auto:
    def __repr__(self) -> str:
        return "AUTO"


AUTO: Final = _Auto()


@dataclass(frozen=True)
class _Layer:
    name: str
    data: Mapping[str, Any]
    where: Mapping[Path, Origin]


@dataclass(frozen=True)
class ModelProfile:
    """One model profile as declared: what it loads and where it was written."""

    identifier: str
    model: str
    type: Literal["llm", "embedding"]
    deploy: bool
    source: str
    requests: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels hosts select the model by (``runs.labels`` in ``hosts.yaml``), as text."""
    model_at: str = ""
    """Where ``model`` is written (``FILE:LINE:COL``); the file alone if unknown."""


def omitted_false(model: Model) -> frozenset[str]:
    """Checkbox fields whose ``false`` is sent as "not set" (LM Studio's default is off)."""
    return _omitted_false(model if isinstance(model, str) else model.__name__)


@functools.cache
def _omitted_false(model: str) -> frozenset[str]:
    return frozenset(
        alias for alias, fld in fields_of(model).items() if getattr(fld.kind, "off", None) == t.OMIT
    )


def _sdk_dict(values: Mapping[str, Any], model: str) -> dict[str, Any]:
    omit = omitted_false(model)
    return {k: _copy(v) for k, v in values.items() if not (v is False and k in omit)}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class ResolvedConfig:
    """The resolved configuration of one model, optionally for one request kind.

    ``load`` and ``inference`` are fresh dicts on every access, ready for the SDK's
    ``load_new_instance(config=...)`` and ``respond``/``complete(config=...)``: camelCase keys,
    only what some layer set, and ``false`` on checkbox fields whose LM Studio default is off
    left out (that is how LM Studio reads "off"). ``values`` keeps what the layers resolved to,
    ``false`` included, also as a fresh copy on every access; ``origins`` is read-only. Nothing
    a caller does to them changes the profile set or a later resolution.
    """

    identifier: str
    model: str
    type: Literal["llm", "embedding"]
    deploy: bool
    ttl: int | None
    request: str | None
    _values: Mapping[str, Any] = field(repr=False)
    _layers: tuple[_Layer, ...] = field(repr=False)
    _traced: Mapping[Path, Any] = field(repr=False)
    host: str | None = None
    """The inventory host resolved for (its layers apply), or None."""

    @property
    def values(self) -> dict[str, Any]:
        """What the layers resolved to (camelCase keys, ``false`` kept), as a fresh copy."""
        copied: dict[str, Any] = _copy(self._values)
        return copied

    @property
    def load(self) -> LlmLoadModelConfigDict:
        """Load config for ``load_new_instance(config=...)`` (typed as the SDK's dict).

        For an embedding model it holds only embedding load fields.
        """
        model = "EmbeddingLoad" if self.type == "embedding" else "LlmLoad"
        return cast("LlmLoadModelConfigDict", _sdk_dict(self._values.get("load", {}), model))

    @property
    def inference(self) -> LlmPredictionConfigDict:
        """Inference config for ``respond``/``complete``/``respond_stream(config=...)``."""
        sdk = _sdk_dict(self._values.get("inference", {}), "Inference")
        return cast("LlmPredictionConfigDict", sdk)

    @functools.cached_property
    def origins(self) -> Mapping[str, Origin]:
        """Dotted path -> origin, for every value set or unset by a layer (read-only)."""
        result: dict[str, Origin] = {}
        for path, entry in self._traced.items():
            unset = unset_origin(entry)
            if unset is not None:
                result[dotted(path)] = _as_unset(unset)
            elif isinstance(entry, Origin):
                result[dotted(path)] = entry
        return MappingProxyType(result)

    def origin(self, path: str) -> Origin:
        """Where the value at ``path`` (e.g. ``"inference.temperature"``) came from.

        Unset values give an origin whose ``kind`` is ``"default"``. A path that names no
        value of a resolved config raises :class:`KeyError` with the closest key.
        """
        return self.origins.get(_canonical_path(path), DEFAULT)


def _as_unset(origin: Any) -> Origin:
    if isinstance(origin, Origin):
        return Origin(origin.kind, origin.source, origin.line, origin.column, origin.path, True)
    return Origin("default", "LM Studio default", unset=True)


def _canonical_path(path: str) -> str:
    """``path`` with the schema's keys (snake_case segments accepted: ``load.context_length``);
    KeyError, with the closest key, when it names no value of a resolved config."""
    top: dict[str, str | None] = {"load": "LlmLoad", "inference": "Inference"}
    out: list[str] = []
    model: str | None = None
    free = False  # inside a free-form value (a JSON schema): its keys are the user's
    for part in path.split("."):
        key, bracket, rest = part.partition("[")
        if free:
            out.append(part)
            continue
        if not out:
            if key not in (*top, "ttl"):
                close = difflib.get_close_matches(key, [*top, "ttl"], n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "paths start with load. or inference., or are ttl"
                )
                raise KeyError(f"{path}: unknown key {key!r}; {hint}")
            model, alias = top.get(key), key
        elif model is None:
            raise KeyError(f"{path}: {'.'.join(out)!r} has no fields")
        else:
            alias = spellings(model).get(key, "")
            if not alias:
                raise KeyError(f"{path}: {unknown_key_message(key, model)}")
            fld = fields_of(model)[alias]
            free = isinstance(fld.kind, (t.JsonObject, t.Labels))
            model = fld.model if fld.container == "" or (fld.container and bracket) else None
        out.append(alias + bracket + rest)
    return ".".join(out)


class ProfileSet:
    """A validated profile directory. Build it with :func:`load`.

    Resolving is cheap: files are parsed and validated once, and every resolution of a model
    and request kind without call-site overrides is cached.
    """

    def __init__(
        self,
        root: FsPath,
        control: Control | None,
        models: Mapping[str, ModelProfile],
        requests: Mapping[str, str | None],
        layers: _Layers,
        hosts: Mapping[str, Host] | None = None,
    ) -> None:
        self.root = root
        self._control = control
        self._models = dict(models)
        self._requests = dict(requests)
        self._layers = layers
        self._hosts = dict(hosts or {})
        self._cache: dict[tuple[str, str | None, str | None], ResolvedConfig] = {}

    def __repr__(self) -> str:
        counts = f"{len(self._models)} models, {len(self._requests)} requests"
        return f"<ProfileSet {str(self.root)!r}: {counts}>"

    @property
    def control(self) -> Control:
        """The control settings read with the profiles (``LMSPROFILES_HOST``, ...)."""
        if self._control is None:  # no control variable was set: every default
            from lmsprofiles._env import Control

            self._control = Control()
        return self._control

    @property
    def models(self) -> Mapping[str, ModelProfile]:
        """Model profiles by instance identifier (read-only)."""
        return MappingProxyType(self._models)

    @property
    def identifiers(self) -> tuple[str, ...]:
        """Instance identifiers of every model profile, sorted."""
        return tuple(sorted(self._models))

    @property
    def requests(self) -> Mapping[str, str | None]:
        """Request overlay names and their descriptions (read-only)."""
        return MappingProxyType(self._requests)

    @property
    def hosts(self) -> Mapping[str, Host]:
        """The hosts of the inventory (``hosts.yaml``) by name; empty without one (read-only)."""
        return MappingProxyType(self._hosts)

    def deployments(self, host: str | None = None) -> list[ResolvedConfig]:
        """Resolved configs of the models reconcile keeps loaded (``deploy: true``).

        With ``host``, those the inventory host runs, resolved with its layers.
        """
        names = self.identifiers if host is None else self.host(host).models
        return [self.resolve(i, host=host) for i in names if self._models[i].deploy]

    def resolve(
        self,
        identifier: str,
        request: str | None = None,
        *,
        host: str | None = None,
        **overrides: Any,
    ) -> ResolvedConfig:
        """Resolve one model, optionally for a request kind and an inventory host, with
        call-site overrides.

        Overrides are field names (camelCase or snake_case) of the load or inference config,
        or ``ttl``; ``None`` unsets a value. ``host`` names a host of ``hosts.yaml``: its
        layers apply, and it must run the model. Raises :class:`UnknownModelError`,
        :class:`UnknownRequestError`, :class:`UnknownHostError` or :class:`ProfileError` (an
        invalid override); ``TypeError`` if a name is not a string.
        """
        _check_name("identifier", identifier, optional=False)
        _check_name("request", request)
        _check_name("host", host)
        if host is not None:
            entry = self.host(host)
            if identifier in self._models and identifier not in entry.models:
                message = entry.does_not_run(identifier)
                raise UnknownModelError([Problem("call-site", None, None, "", message)])
        base = self._cache.get((identifier, request, host))
        if base is None:
            base = self._resolve(identifier, request, host)
            self._cache[(identifier, request, host)] = base
        if not overrides:
            return base
        call_site = _call_site(overrides, base.type)
        # the cached values are already the merge of every lower layer
        merged = merge_traced([(call_site.data, call_site.where)], (base._values, base._traced))
        layers = (*base._layers, call_site)
        profile = self._models[identifier]
        resolved, problems = _validate(
            profile, request, layers, merged, call_site.data.keys(), host=host
        )
        if problems:
            raise ProfileError(problems)
        return resolved

    def host(self, name: str) -> Host:
        """The inventory host ``name``; raises :class:`UnknownHostError` (with did-you-mean)."""
        found = self._hosts.get(name)
        if found is None:
            close = difflib.get_close_matches(name, list(self._hosts), n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; hosts.yaml has {', '.join(sorted(self._hosts)) or 'none'}"
            )
            message = f"no host named {name!r}{hint}"
            raise UnknownHostError([Problem("call-site", None, None, "", message)])
        return found

    def _resolve(self, identifier: str, request: str | None, host: str | None) -> ResolvedConfig:
        profile = self._models.get(identifier)
        if profile is None:
            raise UnknownModelError([_unknown("model", identifier, list(self._models))])
        if request is not None and request not in self._requests:
            raise UnknownRequestError([_unknown("request", request, list(self._requests))])
        if request is not None and profile.type == "embedding":
            problem = Problem(
                "call-site",
                None,
                None,
                "",
                f"{identifier!r} is an embedding model; it takes no request kinds",
            )
            raise ProfileError([problem])
        layers = self._layers.stack(profile, request, None, host)
        resolved, problems = _validate(profile, request, layers, host=host)
        if problems:
            raise ProfileError(problems)
        return resolved


@dataclass
class _Layers:
    """Every layer of a profile set, ready to be stacked per model and request."""

    user: _Layer | None = None
    global_: _Layer | None = None
    models: dict[str, _Layer] = field(default_factory=dict)
    requests: dict[str, _Layer] = field(default_factory=dict)
    model_requests: _ModelRequests = field(default_factory=lambda: _ModelRequests())
    env: _Layer | None = None
    env_models: dict[str, _Layer] = field(default_factory=dict)
    hosts: dict[str, _Layer] = field(default_factory=dict)
    host_models: dict[tuple[str, str], _Layer] = field(default_factory=dict)
    env_hosts: dict[str, _Layer] = field(default_factory=dict)
    env_host_models: dict[tuple[str, str], _Layer] = field(default_factory=dict)

    def stack(
        self,
        profile: ModelProfile,
        request: str | None,
        call_site: _Layer | None,
        host: str | None = None,
    ) -> tuple[_Layer, ...]:
        """The layers that apply to ``profile``, ``request`` and ``host``, in
        :data:`PRECEDENCE` order."""
        ident = profile.identifier
        on = host or ""  # no host is named "": a host layer applies only with a host
        candidates = {
            "user": self.user,
            "global": self.global_,
            "model": self.models.get(ident),
            "host": self.hosts.get(on),
            "host-model": self.host_models.get((on, ident)),
            "request": self.requests.get(request) if request else None,
            "model-request": self.model_requests.get((ident, request)) if request else None,
            "env": self.env,
            "env-model": self.env_models.get(ident),
            "env-host": self.env_hosts.get(on),
            "env-host-model": self.env_host_models.get((on, ident)),
            "call-site": call_site,
        }
        shared = ("user", "global", "host", "env", "env-host")
        layers = []
        for name in PRECEDENCE:
            layer = candidates[name]
            if layer is None:
                continue
            if profile.type == "embedding" and name in shared:
                layer = _for_embedding(layer)
            layers.append(layer)
        return tuple(layers)

    def on_host(self, host: str, identifier: str) -> bool:
        """Whether ``host`` has a layer of its own for ``identifier`` (else the model
        resolves there as without a host)."""
        return (
            host in self.hosts
            or host in self.env_hosts
            or (host, identifier) in self.host_models
            or (host, identifier) in self.env_host_models
        )


def _for_embedding(layer: _Layer) -> _Layer:
    """A shared layer as it applies to an embedding model: embedding load fields and ttl."""
    allowed = set(fields_of("EmbeddingLoad"))
    data: dict[str, Any] = {}
    if "ttl" in layer.data:
        data["ttl"] = layer.data["ttl"]
    load = layer.data.get("load")
    if isinstance(load, Replace) and isinstance(load.value, dict):
        data["load"] = Replace({k: v for k, v in load.value.items() if k in allowed})
    elif isinstance(load, dict):
        data["load"] = {k: v for k, v in load.items() if k in allowed}
    elif "load" in layer.data:
        data["load"] = load
    return _Layer(layer.name, data, layer.where)


def _unknown(kind: str, name: str, known: list[str]) -> Problem:
    close = difflib.get_close_matches(name, known, n=1)
    hint = (
        f"; did you mean {close[0]!r}?"
        if close
        else f"; known: {', '.join(sorted(known)) or 'none'}"
    )
    return Problem("call-site", None, None, "", f"no {kind} profile named {name!r}{hint}")


def _call_site(overrides: Mapping[str, Any], kind: str) -> _Layer:
    data: dict[str, Any] = {}
    where: dict[Path, Origin] = {}
    problems: list[Problem] = []
    targets: dict[str, tuple[Path, Any]] = {}
    for name in overrides:
        found = _callsite.target(name, kind)
        if isinstance(found, str):
            problems.append(Problem("call-site", None, None, name, found))
        else:
            targets[name] = found
    for name, other in _callsite.clashes((n, p) for n, (p, _) in targets.items()):
        message = f"also set by {other}; keep one"
        problems.append(Problem("call-site", None, None, name, message))
    if problems:
        raise ProfileError(problems)

    def report(path: Path, message: str) -> None:
        problems.append(Problem("call-site", None, None, dotted(path), message))

    for name, (path, fld) in targets.items():
        node = data
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        try:
            check_numbers(overrides[name], source="", floats=False)
        except ValueError as exc:
            report(path, str(exc))
            continue
        node[str(path[-1])] = canonical_value(overrides[name], fld, path, report)
        where[path] = Origin("call-site", "call-site", path=dotted(path))
    if problems:
        raise ProfileError(problems)
    return _Layer("call-site", data, where)


# ------------------------------------------------------------------------------------------
# Validation


def _check(model: str, value: Any) -> ValidationError | None:
    """None if the model ``model`` accepts ``value`` (merge markers settled), else its error.

    The quick check answers for what is certainly valid; anything else is validated by the
    pydantic model, imported only then.
    """
    if _quick.valid(model, value):
        return None
    from pydantic import ValidationError

    from lmsprofiles import _fields as f

    try:
        f.model(model).model_validate(settle(value))
    except ValidationError as exc:
        return exc
    return None


def _valid_alone(profile: ModelProfile, layers: tuple[_Layer, ...]) -> bool:
    """Whether the merge of ``layers`` is certainly valid, cross-field rules included:
    :func:`_validate` would find no problem. False: not certain (validate it)."""
    merged = overlay_values({}, [layer.data for layer in layers])
    load = "EmbeddingLoad" if profile.type == "embedding" else "LlmLoad"
    for section, model in (("load", load), ("inference", "Inference")):
        value = merged.get(section, {})
        if not _quick.valid(model, value) or (isinstance(value, dict) and RULES[section](value)):
            return False
    return _quick.valid("GlobalFile", {"ttl": merged.get("ttl")})


def _locate(
    path: Path, where: Mapping[Path, Any], layers: tuple[_Layer, ...] = ()
) -> Origin | None:
    """The origin of ``path``, else of its nearest ancestor a layer wrote."""
    probe = path
    while probe:
        entry = where.get(probe)
        if entry is not None:
            unset = unset_origin(entry)
            origin = unset if unset is not None else entry
            if isinstance(origin, Origin):
                return origin
        for layer in reversed(layers):
            if probe in layer.where:
                return layer.where[probe]
        below = next((o for p, o in where.items() if p[: len(probe)] == probe), None)
        if isinstance(below, Origin):
            return below  # e.g. an unknown key: point at what was written under it
        probe = probe[:-1]
    return None


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (got {describe(error['input'])})"
    if kind == "extra_forbidden":
        return f"'{loc[-1]}' is not a field here (embedding models take only embedding load fields)"
    if kind == "list_type":
        return f"must be a list (got {describe(error['input'])})"
    return str(error["msg"])


def _errors_to_problems(
    exc: ValidationError,
    prefix: Path,
    where: Mapping[Path, Any],
    fallback: Origin,
    *,
    partial: bool,
    context: str = "",
    layers: tuple[_Layer, ...] = (),
    unread: Collection[Path] = (),
) -> list[Problem]:
    """The problems of ``exc``; none at or below a path of ``unread`` (values that could not
    be read, each reported once already)."""
    from lmsprofiles import _fields as f

    problems = []
    for error in f.errors(exc):
        if (
            partial
            and error["type"] == "missing"
            and (prefix, tuple(error["loc"])) != ((), ("model",))
        ):
            continue
        path = (*prefix, *error["loc"])
        if unread and any(path[: len(u)] == u for u in unread):
            continue
        origin = _locate(path, where, layers) or fallback
        message = _message(error)
        if error["type"] == "missing" and origin.source != fallback.source:
            message += context
        problems.append(_problem(origin, path, message, exact=path in where))
    return problems


def _problem(origin: Origin, path: Path, message: str, *, exact: bool = True) -> Problem:
    shown = origin.path if exact and origin.path else dotted(path)
    if origin.kind == "file":
        return Problem(origin.source, origin.line, origin.column, shown, message)
    return Problem(origin.source, None, None, shown, message)


def _validate(
    profile: ModelProfile,
    request: str | None,
    layers: tuple[_Layer, ...],
    merged_traced: tuple[dict[str, Any], dict[Path, Any]] | None = None,
    sections: Collection[str] = ("load", "inference", "ttl"),
    *,
    host: str | None = None,
) -> tuple[ResolvedConfig, list[Problem]]:
    """Validate the merge of ``layers`` (``merged_traced`` if the caller has it already).

    Only ``sections`` are checked: a caller that knows the others are valid skips them.
    ``host`` is the inventory host the layers were stacked for, if any.
    """
    if merged_traced is None:
        merged_traced = merge_traced((layer.data, layer.where) for layer in layers)
    merged, where = merged_traced
    load_model = "EmbeddingLoad" if profile.type == "embedding" else "LlmLoad"
    problems: list[Problem] = []
    failed: list[tuple[ValidationError, Path]] = []
    for section, model in (("load", load_model), ("inference", "Inference")):
        if section in sections:
            error = _check(model, merged.get(section, {}))
            if error is not None:
                failed.append((error, (section,)))
    ttl = merged.get("ttl")
    if "ttl" in sections:
        error = _check("GlobalFile", {"ttl": ttl})
        if error is not None:
            failed.append((error, ()))
    resolved = ResolvedConfig(
        identifier=profile.identifier,
        model=profile.model,
        type=profile.type,
        deploy=profile.deploy,
        ttl=ttl if isinstance(ttl, int) else None,
        request=request,
        _values=merged,
        _layers=layers,
        _traced=where,
        host=host,
    )
    rule_hits = [
        ((section, *sub), message)
        for section in ("load", "inference")
        if section in sections and isinstance(merged.get(section), dict) and not failed
        for sub, message in RULES[section](merged[section])
    ]
    if failed or rule_hits:
        context = (
            f" (model {profile.identifier!r}"
            + (f", request {request!r}" if request else "")
            + (f", host {host!r})" if host else ")")
        )
        fallback = Origin("file", profile.source, 1, 1)
        for error, prefix in failed:
            problems += _errors_to_problems(
                error, prefix, where, fallback, partial=False, context=context, layers=layers
            )
        for rule_path, message in rule_hits:
            path = _last_written(rule_path, layers)
            origin = _locate(path, where, layers) or fallback
            suffix = context if origin.source != profile.source or host else ""
            problems.append(_problem(origin, path, message + suffix))
    return resolved, problems


_RULE_PEERS: Final[Mapping[Path, tuple[Path, ...]]] = {
    ("load", "gpu", "mainGpu"): (("load", "gpu", "splitStrategy"),),
    ("load", "llamaVCacheQuantizationType"): (("load", "flashAttention"),),
    ("inference", "structured", "jsonSchema"): (("inference", "structured", "type"),),
    ("inference", "structured", "gbnfGrammar"): (("inference", "structured", "type"),),
    ("inference", "rawTools", "tools"): (("inference", "rawTools", "type"),),
}
"""The other fields a cross-field rule reported at a path looks at."""


def _last_written(path: Path, layers: tuple[_Layer, ...]) -> Path:
    """Of ``path`` and the fields its cross-field rule looks at, the one written by the
    highest layer (``path`` on a tie): the value that broke the rule, where it is reported."""
    best, best_rank = path, -1
    for candidate in (path, *_RULE_PEERS.get(path, ())):
        rank = next((i for i in reversed(range(len(layers))) if candidate in layers[i].where), -1)
        if rank > best_rank:
            best, best_rank = candidate, rank
    return best


# ------------------------------------------------------------------------------------------
# Loading

FileKind = Literal["global", "request", "model", "hosts"]


@dataclass(frozen=True)
class FileRead:
    """One profile file read and checked on its own: all that loading needs of it.

    ``data`` has canonical keys (None: the file could not be read at all); ``where`` maps each
    canonical path to the line and column of its value, and the path as written when that is
    not the canonical one (a key spelled in snake_case); ``request_keys`` is
    where each ``requests.<name>`` key of a model file is written; ``unread`` the canonical
    paths of the values that could not be read (None in ``data``, each one of ``problems``).
    It is plain data, so the cache can keep it.
    """

    source: str
    data: dict[str, Any] | None
    where: dict[Path, tuple[int, int] | tuple[int, int, Path]]
    request_keys: dict[str, tuple[int, int]]
    problems: tuple[Problem, ...]
    unread: frozenset[Path] = frozenset()


class _Origins(Mapping[Path, Origin]):
    """A file's origins by canonical path (below ``prefix``), each made when first asked for."""

    __slots__ = ("_made", "_prefix", "_read")

    def __init__(self, read: FileRead, prefix: Path = ()) -> None:
        self._read = read
        self._prefix = prefix
        self._made: dict[Path, Origin] = {}

    def get(self, path: Path, default: Any = None) -> Any:
        made = self._made.get(path)
        if made is None:
            full = (*self._prefix, *path) if self._prefix else path
            entry = self._read.where.get(full)
            if entry is None:
                return default
            written = entry[2] if len(entry) == 3 else full
            made = Origin("file", self._read.source, entry[0], entry[1], dotted(written))
            self._made[path] = made
        return made

    def __getitem__(self, path: Path) -> Origin:
        made: Origin | None = self.get(path)
        if made is None:
            raise KeyError(path)
        return made

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, tuple):
            return False
        return ((*self._prefix, *path) if self._prefix else path) in self._read.where

    def __iter__(self) -> Iterator[Path]:
        n = len(self._prefix)
        return (p[n:] for p in self._read.where if p[:n] == self._prefix)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def read_file(file: FsPath, kind: FileKind, limits: Limits = DEFAULT_LIMITS) -> FileRead:
    """Read, canonicalize and check one file on its own."""
    source = display(file)
    try:
        doc = read(file, source, limits, every_problem=True)
    except ProfileError as exc:
        return FileRead(source, None, {}, {}, exc.problems)
    if kind == "model":
        embedding = doc.data.get("type") == "embedding"
        schema = "EmbeddingModelFile" if embedding else "ModelFile"
    elif kind == "hosts":
        from lmsprofiles import _inventory  # its shapes

        schema = _inventory.HOSTS_FILE.name
    else:
        schema = "GlobalFile" if kind == "global" else "RequestFile"
    problems: list[Problem] = list(doc.problems)
    canon = canonicalize(doc, schema, problems)
    unread = _canonical_paths(doc.unread, canon.where) if doc.unread else frozenset()
    request_keys: dict[str, tuple[int, int]] = {}
    raw_requests = canon.data.get("requests") if kind == "model" else None
    if isinstance(raw_requests, dict):
        position = doc.position
        request_keys = {name: position(("requests", name), key=True) for name in raw_requests}
    result = FileRead(source, canon.data, canon.where, request_keys, (), unread)
    error = _check(schema, _without(canon.data, unread) if unread else canon.data)
    if error is not None:
        fallback = Origin("file", source, 1, 1)
        origins = _Origins(result)
        problems += _errors_to_problems(error, (), origins, fallback, partial=True, unread=unread)
    if not problems:
        return result
    return FileRead(source, canon.data, canon.where, request_keys, tuple(problems), unread)


def _without(value: Any, paths: Collection[Path]) -> Any:
    """``value`` without the mapping entries at ``paths`` (copied where it changes)."""
    if not paths:
        return value
    if isinstance(value, Replace):
        return Replace(_without(value.value, paths))
    if isinstance(value, Append):
        return Append(tuple(_without(list(value.items), paths)))
    below: dict[Any, list[Path]] = {}
    for path in paths:
        below.setdefault(path[0], []).append(path[1:])
    if isinstance(value, dict):
        return {
            k: _without(v, [p for p in below[k] if p]) if k in below else v
            for k, v in value.items()
            if () not in below.get(k, ())
        }
    if isinstance(value, list):
        return [
            _without(v, [p for p in below[i] if p]) if i in below else v
            for i, v in enumerate(value)
        ]
    return value


def _canonical_paths(
    written: Collection[Path], where: Mapping[Path, tuple[int, int] | tuple[int, int, Path]]
) -> frozenset[Path]:
    """The canonical paths of the paths ``written`` as written in a file (``where``: from
    :func:`canonicalize`); one under a key it does not know has none."""
    canonical = {entry[2] if len(entry) == 3 else path: path for path, entry in where.items()}
    found = set()
    for path in written:
        for end in range(len(path), 0, -1):
            start = canonical.get(path[:end])
            if start is not None:
                found.add((*start, *path[end:]))
                break
    return frozenset(found)


class Store(Protocol):
    """What loading asks of a cache (:class:`lmsprofiles._cache.Store`)."""

    def file(self, path: FsPath, kind: FileKind) -> FileRead | None:
        """What was read from ``path`` before, if it has not changed since."""

    def keep_file(self, path: FsPath, kind: FileKind, read: FileRead) -> None:
        """Remember what was read from ``path`` (looked up with :meth:`file` just before)."""

    def checked(self, model: FsPath, *, on_hosts: bool = False) -> bool:
        """Whether the model in ``model`` was valid with every request kind (``on_hosts``:
        on every inventory host too), with these same files."""

    def keep_checked(self, model: FsPath, *, on_hosts: bool = False) -> None:
        """Remember that the model in ``model`` is valid with every request kind (``on_hosts``:
        on every inventory host too)."""


def load(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    user_config: str | os.PathLike[str] | _Auto | None = AUTO,
    cache: bool = False,
) -> ProfileSet:
    """Read, merge and validate a profile directory.

    ``env`` replaces ``os.environ`` as the source of ``LMSPROFILES_*`` variables;
    ``user_config`` is the user-level global file (default: ``global.yaml`` in the platform's
    user config dir, used if it exists; ``None`` skips it; a path given must exist). With
    ``cache``, what was read and checked is kept in the user cache dir and reused for the
    files that have not changed (a speed-up only: the answer is the same). Raises
    :class:`ProfileError` carrying every problem found; ``TypeError`` for an ``env`` that is
    not a mapping of strings to strings.
    """
    environ = dict(os.environ) if env is None else _environ(env)
    user_file = user_config_file() if isinstance(user_config, _Auto) else user_config
    user = None if user_file is None else FsPath(user_file)
    if user is not None and not isinstance(user_config, _Auto) and not os.path.lexists(user):
        message = "no such user-level global file (pass user_config=None to skip it)"
        raise ProfileError.single(display(user), message)
    if not cache:
        return load_tree(scan(FsPath(path), user), environ, None)
    from lmsprofiles import _cache

    return _cache.Store(("load", os.fspath(path)), environ, user).load(FsPath(path))


def _environ(env: object) -> dict[str, str]:
    if not isinstance(env, Mapping):
        raise TypeError(f"env= must be a mapping of names to strings, not {type(env).__name__}")
    for name, value in env.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(
                f"env= must map names to strings, like os.environ; {name!r} maps to "
                f"{type(value).__name__} {value!r}"
            )
    return dict(env)


def load_tree(
    tree: Tree, environ: Mapping[str, str], store: Store | None, *, quick: bool = True
) -> ProfileSet:
    """:func:`load` of the files of ``tree``, using ``store`` for those it has seen unchanged.

    ``quick=False`` validates every model with every request kind in full (the reference the
    cheaper check of :func:`_check_model` is tested against).
    """
    was_collecting = gc.isenabled()
    gc.disable()  # nothing read here is cyclic; collecting while it grows costs a third
    try:
        return _load(tree, environ, store, quick)
    finally:
        if was_collecting:
            gc.enable()


def _load(
    tree: Tree, environ: Mapping[str, str], store: Store | None, quick: bool = True
) -> ProfileSet:
    problems: list[Problem] = []
    settings = None  # no control variable: every default (pydantic-settings is not needed)
    limits = DEFAULT_LIMITS
    if has_control(environ):
        from lmsprofiles._env import Control, control

        try:
            settings = control(environ)
        except ProfileError as exc:
            problems.extend(exc.problems)
            settings = Control()
        limits = settings.limits
    problems += tree.problems
    if not tree.exists or (tree.empty and problems):
        raise ProfileError(problems)

    def read_one(file: FsPath, kind: FileKind) -> FileRead:
        done = store.file(file, kind) if store else None
        if done is None:
            done = read_file(file, kind, limits)
            if store:
                store.keep_file(file, kind, done)
        problems.extend(done.problems)
        return done

    layers = _Layers()
    _read_globals(tree, layers, problems, read_one)
    requests = _read_requests(tree, layers, problems, read_one)
    models, files = _read_models(tree, layers, requests, problems, read_one)
    overrides_ = overrides(environ, list(models), problems, limits)
    if overrides_.shared.data:
        layers.env = _env_layer("env", overrides_.shared, "GlobalFile", problems)
    for ident, env_layer in overrides_.models.items():
        schema = "EmbeddingScope" if models[ident].type == "embedding" else "GlobalFile"
        layers.env_models[ident] = _env_layer("env-model", env_layer, schema, problems)
    hosts: dict[str, Host] = {}
    if tree.hosts is not None or overrides_.inventory:
        from lmsprofiles import _inventory

        hosts = _inventory.read(tree, models, layers, environ, problems, limits, read_one)
    profile_set = ProfileSet(tree.root, settings, models, requests, layers, hosts)
    if not problems:
        problems += _check_all(profile_set, files, store, _Checked(quick))
    if problems:
        raise ProfileError(problems)
    return profile_set


ReadOne = Callable[[FsPath, FileKind], FileRead]


def _read_globals(tree: Tree, layers: _Layers, problems: list[Problem], read_one: ReadOne) -> None:
    """The user-level and the tree's global file; files outside the layout are problems."""
    layers.user = _global_layer("user", tree.user, read_one)
    for extra in tree.extra_globals:
        message = "both global.yaml and global.yml exist; keep one"
        problems.append(Problem(display(extra), None, None, "", message))
    layers.global_ = _global_layer("global", tree.global_, read_one)
    for extra in tree.unexpected:
        message = (
            "unexpected file: profiles are global.yaml, hosts.yaml, models/*.yaml and "
            "requests/*.yaml"
        )
        problems.append(Problem(display(extra), None, None, "", message))


def _global_layer(name: str, file: FsPath | None, read_one: ReadOne) -> _Layer | None:
    done = read_one(file, "global") if file is not None else None
    return _Layer(name, done.data, _Origins(done)) if done and done.data is not None else None


def _read_requests(
    tree: Tree, layers: _Layers, problems: list[Problem], read_one: ReadOne
) -> dict[str, str | None]:
    """The request kinds by name (the file stem) and their descriptions; a stem that breaks
    the rule of names (:func:`~lmsprofiles._fieldtable.odd_character`) is a problem."""
    requests: dict[str, str | None] = {}
    for file in tree.requests:
        done = read_one(file, "request")
        odd = t.odd_character(file.stem)
        if odd is not None:
            message = (
                f"the file name {file.stem!r} is the request's name and must not contain "
                f"{odd[0]!r} ({odd[1]}); rename the file"
            )
            problems.append(Problem(done.source, None, None, "", message))
        if done.data is None:
            requests[file.stem] = None
            continue
        description = done.data.get("description")
        requests[file.stem] = description if isinstance(description, str) else None
        layers.requests[file.stem] = _Layer(
            "request", {k: v for k, v in done.data.items() if k == "inference"}, _Origins(done)
        )
    return requests


def _env_layer(name: str, env_layer: EnvLayer, schema: str, problems: list[Problem]) -> _Layer:
    error = _check(schema, env_layer.data)
    if error is not None:
        fallback = Origin("env", "environment")
        problems += _errors_to_problems(error, (), env_layer.where, fallback, partial=True)
    return _Layer(name, env_layer.data, env_layer.where)


class _ModelRequests(Mapping[tuple[str, str], _Layer]):
    """The models' own ``requests.<name>`` layers by (identifier, name), each made when
    asked for: a tree of many models overriding many request kinds keeps only their files."""

    def __init__(self) -> None:
        self._reads: dict[str, tuple[FileRead, set[str]]] = {}

    def add(self, identifier: str, done: FileRead, name: str) -> None:
        """The model ``identifier`` (read as ``done``) has its own take on ``name``."""
        self._reads.setdefault(identifier, (done, set()))[1].add(name)

    def inference(self, identifier: str, name: str) -> Any:
        """What the model ``identifier`` writes at ``requests.<name>.inference``
        (:data:`_GONE`: nothing)."""
        found = self._reads.get(identifier)
        if found is None or name not in found[1] or found[0].data is None:
            return _GONE
        node = found[0].data.get("requests", {}).get(name)
        return node.get("inference", _GONE) if isinstance(node, dict) else _GONE

    def get(self, key: tuple[str, str], default: Any = None) -> Any:
        found = self._reads.get(key[0])
        if found is None or key[1] not in found[1]:
            return default
        return _model_request(found[0], key[1])

    def __getitem__(self, key: tuple[str, str]) -> _Layer:
        layer: _Layer | None = self.get(key)
        if layer is None:
            raise KeyError(key)
        return layer

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((ident, name) for ident, (_, names) in self._reads.items() for name in names)

    def __len__(self) -> int:
        return sum(len(names) for _, names in self._reads.values())


def _model_request(done: FileRead, name: str) -> _Layer:
    """A model's own ``requests.<name>`` as a layer whose paths start at ``inference``."""
    node = done.data.get("requests", {}).get(name) if done.data else None
    data = {}
    if isinstance(node, dict) and "inference" in node:
        data = {"inference": node["inference"]}
    return _Layer("model-request", data, _Origins(done, ("requests", name)))


def _read_models(
    tree: Tree,
    layers: _Layers,
    requests: Mapping[str, str | None],
    problems: list[Problem],
    read_one: ReadOne,
) -> tuple[dict[str, ModelProfile], dict[str, FsPath]]:
    """The model profiles by identifier, and the file each was read from."""
    models: dict[str, ModelProfile] = {}
    files: dict[str, FsPath] = {}
    claimed: dict[str, Origin] = {}
    for file in tree.models:
        done = read_one(file, "model")
        if done.data is None:
            continue
        data = done.data
        where = _Origins(done)
        written = data.get("identifier")
        identifier: str = written if isinstance(written, str) else file.stem
        here = where.get(("identifier",)) or Origin("file", done.source, 1, 1)
        odd = (
            None
            if isinstance(written, str) or ("identifier",) in done.unread
            else t.odd_character(identifier)
        )
        if odd is not None:
            message = (
                f"the file name {identifier!r} is the model's identifier and must not contain "
                f"{odd[0]!r} ({odd[1]}); rename the file or set identifier:"
            )
            problems.append(Problem(done.source, None, None, "", message))
        if identifier in claimed:
            first = claimed[identifier]
            message = f"identifier {identifier!r} is already claimed by {first.source}"
            problems.append(_problem(here, ("identifier",), message))
            continue
        claimed[identifier] = here
        raw_requests = data.get("requests")
        own_requests: dict[str, Any] = raw_requests if isinstance(raw_requests, dict) else {}
        for name in own_requests:
            if name not in requests:
                origin = where.get(("requests", name)) or here
                line, column = done.request_keys[name]
                close = difflib.get_close_matches(name, list(requests), n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f"; requests/ has {', '.join(sorted(requests)) or 'none'}"
                )
                problems.append(
                    Problem(
                        origin.source,
                        line,
                        column,
                        f"requests.{name}",
                        f"unknown request {name!r}{hint}",
                    )
                )
                continue
            layers.model_requests.add(identifier, done, name)
        kind = data.get("type", "llm")
        models[identifier] = ModelProfile(
            identifier=identifier,
            model=str(data.get("model", "")),
            type=cast(Literal["llm", "embedding"], kind if kind in ("llm", "embedding") else "llm"),
            deploy=data.get("deploy", True) is not False,
            source=done.source,
            requests=tuple(n for n in own_requests if n in requests),
            labels=_labels(data.get("labels")),
            model_at=str(where.get(("model",)) or done.source),
        )
        files[identifier] = file
        for key in ("requests", "inference"):
            if kind == "embedding" and key in data:
                origin = where.get((key,)) or here
                problems.append(_problem(origin, (key,), f"embedding models take no {key}"))
        body = {k: v for k, v in data.items() if k in ("load", "inference", "ttl")}
        layers.models[identifier] = _Layer("model", body, where)
    return models, files


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): label_text(v) for k, v in value.items()}


def _check_all(
    profile_set: ProfileSet, files: Mapping[str, FsPath], store: Store | None, checked: _Checked
) -> list[Problem]:
    """Check every model alone and with every request kind, then, once all of them are
    valid, on every inventory host that has layers for it; skip what ``store`` found valid
    before with the same files."""
    problems: list[Problem] = []
    for identifier, file in files.items():
        if store and store.checked(file):
            continue
        found = _check_model(profile_set, identifier, checked)
        problems = _once(problems + found)
        if store and not found:
            store.keep_checked(file)
    if problems:
        return problems
    layers = profile_set._layers
    on_hosts: dict[str, list[str]] = {}
    for name, host in profile_set.hosts.items():
        for identifier in host.models:
            if layers.on_host(name, identifier):
                on_hosts.setdefault(identifier, []).append(name)
    for identifier, file in files.items():
        names = on_hosts.get(identifier)
        if not names or (store and store.checked(file, on_hosts=True)):
            continue
        found = [p for name in names for p in _check_model(profile_set, identifier, checked, name)]
        problems = _once(problems + found)
        if store and not found:
            store.keep_checked(file, on_hosts=True)
    return problems


def _check_model(
    profile_set: ProfileSet,
    identifier: str,
    checked: _Checked | None = None,
    host: str | None = None,
) -> list[Problem]:
    """Resolve a model alone and with every request kind, on ``host`` if one is given; what
    only shows when merged.

    The model alone is merged without origins and quick-checked; only when that is not
    certainly valid is it validated in full, which finds and places its problems. Request
    layers hold nothing but inference fields, so when the model alone is valid a request kind
    needs only its merged inference section checked, values without origins; a combination
    that fails that is validated in full, which finds and places its problems exactly.
    ``checked`` remembers field values found valid or not, across models and hosts.
    """
    profile = profile_set.models[identifier]
    layers = profile_set._layers
    stack = layers.stack
    alone = stack(profile, None, None, host)
    problems: list[Problem] = []
    if not (checked is not None and checked.quick and _valid_alone(profile, alone)):
        problems = _validate(profile, None, alone, host=host)[1]
    if profile.type != "llm":
        return problems
    checked = _Checked() if checked is None else checked
    quick = None
    if not problems and checked.quick:
        quick = _InferenceCheck(layers, profile, checked, alone)
    for request in profile_set.requests:
        if quick is not None and quick.valid(request):
            continue
        problems += _validate(profile, request, stack(profile, request, None, host), host=host)[1]
    return _once(problems)


def _once(problems: list[Problem]) -> list[Problem]:
    """``problems`` without the repeats of one problem found again with another request kind,
    host or model (the same value at the same place; only the context after the message, the
    model and request it was found with, differs): the first is kept."""
    seen: set[tuple[str, int | None, int | None, str, str]] = set()
    kept = []
    for p in problems:
        key = (p.source, p.line, p.column, p.path, p.message.partition(" (model ")[0])
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept


@dataclass
class _Checked:
    """What one load found valid or not, for the next model; ``quick=False``: validate every
    combination in full."""

    quick: bool = True
    fields: dict[tuple[str, Any], bool] = field(default_factory=dict)
    """(field, :func:`_frozen` value) -> valid"""
    alone: dict[int, tuple[Any, bool]] = field(default_factory=dict)
    """id of a written value that does not merge with what lies below -> its value, valid"""


class _InferenceCheck:
    """Whether a model's merged inference section is valid with a request kind.

    When the schema checks each inference field on its own (no model or field validator
    sees two fields at once, no field is required), a field keeps its validity from where its
    value was checked before: the model alone for the fields a request kind does not touch,
    the file (or variable) that wrote it for a plain scalar. Only the values merged from two
    layers (a mapping, a list) are checked, each distinct one once per load (``checked``).
    Otherwise the merged section is checked whole. The cross-field rules run on it either way.
    """

    def __init__(
        self,
        layers: _Layers,
        profile: ModelProfile,
        checked: _Checked,
        alone: tuple[_Layer, ...],
    ) -> None:
        """``alone``: the layers of the model without a request kind (on its host, if any),
        those around a request kind's."""
        self.layers = layers
        self.identifier = profile.identifier
        self.checked = checked.fields
        self.alone = checked.alone
        below = [x for x in alone if _RANK[x.name] < _RANK["request"]]
        above = [x for x in alone if _RANK[x.name] > _RANK["model-request"]]
        merged = overlay_values({}, [_inference(x) for x in below])
        self.below: Any = merged.get("inference", {})
        self.above = [x.data["inference"] for x in above if "inference" in x.data]

    def valid(self, request: str) -> bool:
        """True: valid (the model alone is). False: the caller must validate in full."""
        shared = self.layers.requests.get(request)
        own = self.layers.model_requests.inference(self.identifier, request)
        added = [shared.data["inference"]] if shared and "inference" in shared.data else []
        if own is not _GONE:
            added.append(own)
        if not added:
            return True  # the same inference as the model alone
        written = [*added, *self.above]
        if not isinstance(self.below, dict) or not all(isinstance(x, dict) for x in written):
            return False
        merged = dict(self.below)
        fresh: dict[str, bool | None] = {}  # key -> valid, None: not known yet
        for layer in written:
            for key, value in layer.items():
                fresh.pop(key, None)
                if type(value) in _PLAIN:
                    merged[key] = value
                    continue
                new, fresh[key] = self._merged_field(key, merged.get(key, _GONE), value)
                if new is _GONE:
                    merged.pop(key, None)
                    del fresh[key]
                else:
                    merged[key] = new
        if not _quick.apart("Inference"):
            if _check("Inference", merged) is not None:
                return False
        elif not all(
            ok or (ok is None and self._field_valid(k, merged[k])) for k, ok in fresh.items()
        ):
            return False
        if all(RULE_FIELDS["inference"].isdisjoint(layer) for layer in added):
            return True  # what the rules read is as for the model alone, which is valid
        return not RULES["inference"](merged)

    def _merged_field(self, key: str, below: Any, value: Any) -> tuple[Any, bool | None]:
        """The merged value of field ``key`` (:data:`_GONE`: none) and whether it is valid
        (None: not known yet)."""
        if value is None or value is RESET:
            return _GONE, None
        if isinstance(value, (Replace, list)):  # the same whatever lies below
            known = self.alone.get(id(value))
            if known is None:
                new = overlay_values({}, [{key: value}]).get(key, _GONE)
                known = (new, new is _GONE or self._field_valid(key, new))
                self.alone[id(value)] = known
            return known
        if isinstance(value, Append) and {type(v) for v in value.items} <= _SCALARS:
            return [*(below if isinstance(below, list) else ()), *value.items], None
        start = {} if below is _GONE else {key: below}
        return overlay_values(start, [{key: value}]).get(key, _GONE), None

    def _field_valid(self, key: str, value: Any) -> bool:
        if _quick.valid_field("Inference", key, value):
            return True
        memo = (key, _frozen(value))
        known = self.checked.get(memo)
        if known is None:
            known = _check("Inference", {key: value}) is None
            self.checked[memo] = known
        return known


def _inference(layer: _Layer) -> dict[str, Any]:
    return {"inference": layer.data["inference"]} if "inference" in layer.data else {}


_RANK: Final = {name: rank for rank, name in enumerate(PRECEDENCE)}
_GONE: Final = object()
_SCALARS: Final = frozenset((str, int, float, bool, type(None)))
_PLAIN: Final = frozenset((str, int, float, bool))


def _frozen(value: Any) -> Any:
    """A hashable stand-in for ``value`` that tells types apart (``1``, ``1.0``, ``true``)."""
    if isinstance(value, list) and {type(v) for v in value} <= _SCALARS:
        return (list, tuple(map(type, value)), tuple(value))
    if isinstance(value, dict):
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(_frozen(v) for v in value))
    return (type(value), value)


def _check_name(what: str, value: object, *, optional: bool = True) -> None:
    """``TypeError`` unless ``value`` is a string (or None when ``optional``)."""
    if isinstance(value, str) or (optional and value is None):
        return
    expected = "a string or None" if optional else "a string"
    shown = f" {value!r}" if isinstance(value, int | float | bytes | None) else ""
    raise TypeError(f"{what} must be {expected}, not {type(value).__name__}{shown}")
