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
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import platformdirs
from pydantic import BaseModel, ValidationError

from lmsprofiles import _fields as f
from lmsprofiles._env import Control, EnvLayer, control, overrides
from lmsprofiles._errors import (
    Problem,
    ProfileError,
    UnknownHostError,
    UnknownModelError,
    UnknownRequestError,
)
from lmsprofiles._keys import canonicalize, fields_of, spellings, unknown_key_message
from lmsprofiles._merge import Path, Replace, merge_traced, settle, unset_origin
from lmsprofiles._origin import DEFAULT, Origin
from lmsprofiles._yaml import DEFAULT_LIMITS, Document, Limits, describe, dotted, read

if TYPE_CHECKING:
    from lmstudio import LlmLoadModelConfigDict, LlmPredictionConfigDict

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

_YAML_SUFFIXES = (".yaml", ".yml")


class _Auto:
    def __repr__(self) -> str:
        return "AUTO"


AUTO: Final = _Auto()


def user_config_file() -> FsPath:
    """The user-level global file: ``global.yaml`` in the platform's user config dir."""
    return platformdirs.user_config_path("lmsprofiles") / "global.yaml"


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


@functools.cache
def omitted_false(model: type[BaseModel]) -> frozenset[str]:
    """Checkbox fields whose ``false`` is sent as "not set" (LM Studio's default is off)."""
    names = set()
    for alias, fld in fields_of(model).items():
        for check in fld.metadata:
            if getattr(check, "off", None) == f.OMIT:
                names.add(alias)
    return frozenset(names)


def _sdk_dict(values: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
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
        model = f.EmbeddingLoad if self.type == "embedding" else f.LlmLoad
        return cast("LlmLoadModelConfigDict", _sdk_dict(self._values.get("load", {}), model))

    @property
    def inference(self) -> LlmPredictionConfigDict:
        """Inference config for ``respond``/``complete``/``respond_stream(config=...)``."""
        sdk = _sdk_dict(self._values.get("inference", {}), f.Inference)
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

        Unset values give an origin whose ``kind`` is ``"default"``.
        """
        return self.origins.get(_canonical_path(path), DEFAULT)


def _as_unset(origin: Any) -> Origin:
    if isinstance(origin, Origin):
        return Origin(origin.kind, origin.source, origin.line, origin.column, origin.path, True)
    return Origin("default", "LM Studio default", unset=True)


def _canonical_path(path: str) -> str:
    """Accept snake_case segments in a dotted path: ``load.context_length``."""
    parts = path.split(".")
    model: type[BaseModel] | None = f.ModelFile
    out = []
    for part in parts:
        key, bracket, rest = part.partition("[")
        if model is not None:
            alias = spellings(model).get(key, key)
            fld = fields_of(model).get(alias)
            model = fld.model if fld is not None and fld.container == "" else None
            key = alias
        out.append(key + bracket + rest)
    return ".".join(out)


class ProfileSet:
    """A validated profile directory. Build it with :func:`load`.

    Resolving is cheap: files are parsed and validated once, and every resolution of a model
    and request kind without call-site overrides is cached.
    """

    def __init__(
        self,
        root: FsPath,
        control: Control,
        models: Mapping[str, ModelProfile],
        requests: Mapping[str, str | None],
        layers: _Layers,
        hosts: Mapping[str, Host] | None = None,
    ) -> None:
        self.root = root
        self.control = control
        self._models = dict(models)
        self._requests = dict(requests)
        self._layers = layers
        self._hosts = dict(hosts or {})
        self._cache: dict[tuple[str, str | None], ResolvedConfig] = {}
        self._host_cache: dict[tuple[str, str, str | None], ResolvedConfig] = {}

    def __repr__(self) -> str:
        counts = f"{len(self._models)} models, {len(self._requests)} requests"
        return f"<ProfileSet {str(self.root)!r}: {counts}>"

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
        invalid override).
        """
        if host is None:
            base = self._cache.get((identifier, request))
        else:
            entry = self.host(host)
            if identifier in self._models and identifier not in entry.models:
                message = entry.does_not_run(identifier)
                raise UnknownModelError([Problem("call-site", None, None, "", message)])
            base = self._host_cache.get((host, identifier, request))
        if base is None:
            base = self._resolve(identifier, request, host)
            if host is None:
                self._cache[(identifier, request)] = base
            else:
                self._host_cache[(host, identifier, request)] = base
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
    model_requests: dict[tuple[str, str], _Layer] = field(default_factory=dict)
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


def _for_embedding(layer: _Layer) -> _Layer:
    """A shared layer as it applies to an embedding model: embedding load fields and ttl."""
    allowed = set(fields_of(f.EmbeddingLoad))
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
    load_model = f.EmbeddingLoad if kind == "embedding" else f.LlmLoad
    data: dict[str, Any] = {}
    where: dict[Path, Origin] = {}
    problems: list[Problem] = []
    for name, value in overrides.items():
        if name == "ttl":
            section, alias = None, "ttl"
        elif name in spellings(load_model):
            section, alias = "load", spellings(load_model)[name]
        elif kind == "llm" and name in spellings(f.Inference):
            section, alias = "inference", spellings(f.Inference)[name]
        else:
            message = unknown_key_message(name, f.Inference if kind == "llm" else load_model)
            problems.append(Problem("call-site", None, None, name, message))
            continue
        path: Path = (section, alias) if section else (alias,)
        node = data.setdefault(section, {}) if section else data
        model = {None: f.GlobalFile, "load": load_model, "inference": f.Inference}[section]
        node[alias] = f.normalize(fields_of(model)[alias].metadata, value)
        where[path] = Origin("call-site", "call-site", path=dotted(path))
    if problems:
        raise ProfileError(problems)
    return _Layer("call-site", data, where)


# ------------------------------------------------------------------------------------------
# Validation


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
) -> list[Problem]:
    problems = []
    for error in exc.errors():
        if (
            partial
            and error["type"] == "missing"
            and (prefix, tuple(error["loc"])) != ((), ("model",))
        ):
            continue
        path = (*prefix, *error["loc"])
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
    load_model = f.EmbeddingLoad if profile.type == "embedding" else f.LlmLoad
    problems: list[Problem] = []
    failed: list[tuple[ValidationError, Path]] = []
    for section, model in (("load", load_model), ("inference", f.Inference)):
        if section not in sections:
            continue
        value = merged.get(section, {})
        try:
            model.model_validate(value)
        except ValidationError as exc:
            failed.append((exc, (section,)))
    ttl = merged.get("ttl")
    try:
        if "ttl" in sections:
            f.GlobalFile.model_validate({"ttl": ttl})
    except ValidationError as exc:
        failed.append((exc, ()))
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
        for sub, message in f.RULES[section](merged[section])
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
        for path, message in rule_hits:
            origin = _locate(path, where, layers) or fallback
            suffix = context if origin.source != profile.source or host else ""
            problems.append(_problem(origin, path, message + suffix))
    return resolved, problems


# ------------------------------------------------------------------------------------------
# Loading


def _display(path: FsPath) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _read_layer(
    file: FsPath,
    schema: type[BaseModel] | None,
    problems: list[Problem],
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Document, dict[str, Any], dict[Path, Origin]] | None:
    """Read, canonicalize and check one file on its own; None if it cannot be read at all."""
    try:
        doc = read(file, _display(file), limits)
    except ProfileError as exc:
        problems.extend(exc.problems)
        return None
    if schema is None:
        schema = f.EmbeddingModelFile if doc.data.get("type") == "embedding" else f.ModelFile
    canon = canonicalize(doc, schema, problems)
    where: dict[Path, Origin] = {}
    for c_path, w_path in canon.where.items():
        line, column = doc.position(w_path)
        where[c_path] = Origin("file", doc.source, line, column, dotted(w_path))
    try:
        schema.model_validate(settle(canon.data))
    except ValidationError as exc:
        fallback = Origin("file", doc.source, 1, 1)
        problems += _errors_to_problems(exc, (), where, fallback, partial=True)
    return doc, canon.data, where


def _entries(directory: FsPath, problems: list[Problem]) -> list[os.DirEntry[str]]:
    """The entries of ``directory``, sorted; none if it does not exist; a problem if it
    exists as a name but cannot be listed (no permission, a link loop, not a directory)."""
    if not os.path.lexists(directory):
        return []
    try:
        with os.scandir(directory) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problems.append(Problem(_display(directory), None, None, "", f"cannot read: {reason}"))
        return []


def _is_yaml(name: str) -> bool:
    return name.endswith(_YAML_SUFFIXES) and not name.startswith(".")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _yaml_files(directory: FsPath, problems: list[Problem]) -> list[FsPath]:
    """Every YAML name directly in ``directory``, whatever it is: reading says what is wrong."""
    return [FsPath(e.path) for e in _entries(directory, problems) if _is_yaml(e.name)]


def _unexpected_files(root: FsPath, problems: list[Problem]) -> Iterator[FsPath]:
    """YAML files outside the layout; links to directories are not followed."""
    for entry in _entries(root, problems):
        if _is_yaml(entry.name):
            if FsPath(entry.name).stem not in ("global", "hosts"):
                yield FsPath(entry.path)
        elif _is_dir(entry) and not entry.name.startswith("."):
            if entry.name in ("models", "requests"):  # only their subdirectories are stray
                subdirs = [e for e in _entries(FsPath(entry.path), problems) if _is_dir(e)]
                tops = [FsPath(e.path) for e in subdirs if not _is_yaml(e.name)]
            else:
                tops = [] if entry.is_symlink() else [FsPath(entry.path)]
            for top in tops:
                yield from _walk_yaml(top, problems)


def _walk_yaml(top: FsPath, problems: list[Problem]) -> Iterator[FsPath]:
    def unreadable(exc: OSError) -> None:
        where = FsPath(exc.filename) if exc.filename else top
        reason = exc.strerror or str(exc)
        problems.append(Problem(_display(where), None, None, "", f"cannot read: {reason}"))

    found = []
    for folder, dirs, files in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [FsPath(folder) / name for name in files + dirs if _is_yaml(name)]
    yield from sorted(found)


def _sub(
    layer_data: Mapping[str, Any], where: Mapping[Path, Origin], prefix: Path, name: str
) -> _Layer:
    """The part of a file under ``prefix`` as a layer whose paths start at ``inference``."""
    node: Any = layer_data
    for part in prefix:
        node = node.get(part) if isinstance(node, dict) else None
    data = (
        {"inference": node.get("inference")}
        if isinstance(node, dict) and "inference" in node
        else {}
    )
    n = len(prefix)
    sub_where = {p[n:]: o for p, o in where.items() if p[:n] == prefix}
    return _Layer(name, data, sub_where)


def load(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    user_config: str | os.PathLike[str] | _Auto | None = AUTO,
) -> ProfileSet:
    """Read, merge and validate a profile directory.

    ``env`` replaces ``os.environ`` as the source of ``LMSPROFILES_*`` variables;
    ``user_config`` is the user-level global file (default: ``global.yaml`` in the platform's
    user config dir, used if it exists; ``None`` skips it). Raises :class:`ProfileError`
    carrying every problem found.
    """
    environ = dict(os.environ if env is None else env)
    root = FsPath(path)
    problems: list[Problem] = []
    try:
        settings = control(environ)
    except ProfileError as exc:
        problems.extend(exc.problems)
        settings = Control()
    limits = settings.limits
    if not os.path.lexists(root):
        problems.append(Problem(_display(root), None, None, "", "no such profile directory"))
        raise ProfileError(problems)
    if not _entries(root, problems) and problems:
        raise ProfileError(problems)
    layers = _Layers()
    user_file = user_config_file() if isinstance(user_config, _Auto) else user_config
    if user_file is not None and os.path.lexists(user_file):
        read_user = _read_layer(FsPath(user_file), f.GlobalFile, problems, limits)
        if read_user:
            layers.user = _Layer("user", read_user[1], read_user[2])
    globals_ = [root / f"global{s}" for s in _YAML_SUFFIXES if os.path.lexists(root / f"global{s}")]
    for extra in globals_[1:]:
        problems.append(
            Problem(
                _display(extra), None, None, "", "both global.yaml and global.yml exist; keep one"
            )
        )
    if globals_:
        read_global = _read_layer(globals_[0], f.GlobalFile, problems, limits)
        if read_global:
            layers.global_ = _Layer("global", read_global[1], read_global[2])
    for extra in _unexpected_files(root, problems):
        problems.append(
            Problem(
                _display(extra),
                None,
                None,
                "",
                "unexpected file: profiles are global.yaml, hosts.yaml, models/*.yaml and "
                "requests/*.yaml",
            )
        )
    requests = _read_requests(root, layers, problems, limits)
    models = _read_models(root, layers, requests, problems, limits)
    overrides_ = overrides(environ, list(models), problems, limits)
    if overrides_.shared.data:
        layers.env = _env_layer("env", overrides_.shared, f.GlobalFile, problems)
    for ident, env_layer in overrides_.models.items():
        schema = f.EmbeddingScope if models[ident].type == "embedding" else f.GlobalFile
        layers.env_models[ident] = _env_layer("env-model", env_layer, schema, problems)
    from lmsprofiles import _inventory

    hosts = _inventory.read(root, models, layers, environ, problems, limits)
    profile_set = ProfileSet(root, settings, models, requests, layers, hosts)
    if not problems:  # the hosts' combinations once every model is valid on its own
        problems.extend(_check_all(profile_set) or _inventory.check(profile_set))
    if problems:
        raise ProfileError(problems)
    return profile_set


def _read_requests(
    root: FsPath, layers: _Layers, problems: list[Problem], limits: Limits
) -> dict[str, str | None]:
    requests: dict[str, str | None] = {}
    for file in _yaml_files(root / "requests", problems):
        read_request = _read_layer(file, f.RequestFile, problems, limits)
        if read_request is None:
            requests[file.stem] = None
            continue
        _, data, where = read_request
        requests[file.stem] = (
            data.get("description") if isinstance(data.get("description"), str) else None
        )
        layers.requests[file.stem] = _Layer(
            "request", {k: v for k, v in data.items() if k == "inference"}, where
        )
    return requests


def _env_layer(
    name: str, env_layer: EnvLayer, schema: type[BaseModel], problems: list[Problem]
) -> _Layer:
    try:
        schema.model_validate(env_layer.data)
    except ValidationError as exc:
        fallback = Origin("env", "environment")
        problems += _errors_to_problems(exc, (), env_layer.where, fallback, partial=True)
    return _Layer(name, env_layer.data, env_layer.where)


def _read_models(
    root: FsPath,
    layers: _Layers,
    requests: Mapping[str, str | None],
    problems: list[Problem],
    limits: Limits,
) -> dict[str, ModelProfile]:
    models: dict[str, ModelProfile] = {}
    claimed: dict[str, Origin] = {}
    for file in _yaml_files(root / "models", problems):
        read_model = _read_layer(file, None, problems, limits)
        if read_model is None:
            continue
        doc, data, where = read_model
        written = data.get("identifier")
        identifier: str = written if isinstance(written, str) else file.stem
        here = where.get(("identifier",)) or Origin("file", doc.source, 1, 1)
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
                line, column = doc.position(("requests", name), key=True)
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
            layers.model_requests[(identifier, name)] = _sub(
                data, where, ("requests", name), "model-request"
            )
        kind = data.get("type", "llm")
        models[identifier] = ModelProfile(
            identifier=identifier,
            model=str(data.get("model", "")),
            type=cast(Literal["llm", "embedding"], kind if kind in ("llm", "embedding") else "llm"),
            deploy=data.get("deploy", True) is not False,
            source=doc.source,
            requests=tuple(n for n in own_requests if n in requests),
            labels=_labels(data.get("labels")),
        )
        for key in ("requests", "inference"):
            if kind == "embedding" and key in data:
                origin = where.get((key,)) or here
                problems.append(_problem(origin, (key,), f"embedding models take no {key}"))
        body = {k: v for k, v in data.items() if k in ("load", "inference", "ttl")}
        layers.models[identifier] = _Layer("model", body, where)
    return models


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): f.label_text(v) for k, v in value.items()}


def _check_all(profile_set: ProfileSet) -> list[Problem]:
    """Resolve every model with every request kind; collect what only shows when merged."""
    problems: list[Problem] = []
    for identifier, profile in profile_set.models.items():
        kinds: list[str | None] = [None]
        if profile.type == "llm":
            kinds += list(profile_set.requests)
        for request in kinds:
            layers = profile_set._layers.stack(profile, request, None)
            resolved, found = _validate(profile, request, layers)
            problems += found
            if not found:
                profile_set._cache[(identifier, request)] = resolved
    return problems
