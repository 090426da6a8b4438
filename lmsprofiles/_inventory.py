"""The inventory: ``hosts.yaml``, the LM Studio hosts one profile directory drives.

```yaml
hosts:
  gpu-a:
    address: 10.0.0.11:1234          # required: HOST[:PORT], as --host takes it
    labels: {gpu: 24GB}              # free-form; --hosts gpu=24GB selects by them
    load: {gpu: {ratio: 0.8}}        # the host layer: every model on this host
    models:                          # the host-model layer: one model on this host
      qwen-chat:
        load: {contextLength: 32k}
    runs:                            # the models it has (default: every model profile)
      models: [qwen-chat]            #   by identifier
      labels: {size: small}          #   and/or every model profile with these labels
```

The file is read and checked like every profile file (positions, did-you-mean, the schema's
ranges, merge tags); ``LMSPROFILES_HOSTS__<NAME>__...`` variables override it: ``ADDRESS``,
``LABELS``, ``RUNS__MODELS``, ``RUNS__LABELS`` replace those values, and ``LOAD__...``,
``INFERENCE__...``, ``TTL`` and ``MODELS__<ID>__...`` are the ``env-host`` and
``env-host-model`` layers. Where the layers sit among the others is
:data:`lmsprofiles.PRECEDENCE`; docs/fleet.md explains the choice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from lmsprofiles import _fieldtable as t
from lmsprofiles._errors import Problem
from lmsprofiles._keys import fields_of
from lmsprofiles._merge import Path
from lmsprofiles._origin import Origin
from lmsprofiles._overrides import (
    PREFIX,
    EnvLayer,
    _assign,
    _match,
    _unknown,
    env_name,
    parse_value,
)
from lmsprofiles._reconcile._host import parse_host, server_key
from lmsprofiles._scan import Tree, display
from lmsprofiles._shapes import TTL, Spec, label_text, shape
from lmsprofiles._yaml import Limits, dotted

if TYPE_CHECKING:
    from lmsprofiles._profiles import ModelProfile, ReadOne, _Layer, _Layers

__all__ = ["HOSTS_FILE", "Host", "matches", "on_server", "read"]

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SECTIONS: Final = ("load", "inference", "ttl")
_TOPS: Final = tuple((s,) for s in _SECTIONS)


HOST_MODEL = shape(
    "HostModel",
    "``hosts.<name>.models.<identifier>``: one model on this host (the host-model layer).",
    Spec("load", t.Nested("LlmLoad"), "Load fields for this model on this host."),
    Spec("inference", t.Nested("Inference"), "Inference fields for this model on this host."),
    TTL._replace(description="ttl of this model on this host."),
)
RUNS = shape(
    "Runs",
    "``hosts.<name>.runs``: the model profiles the host has.",
    Spec("models", t.Strings(), "Identifiers of model profiles."),
    Spec("labels", t.Labels(), "Every model profile whose labels include all of these."),
)
HOST_ENTRY = shape(
    "HostEntry",
    "``hosts.<name>``: one LM Studio host.",
    Spec(
        "address",
        t.Address(),
        "HOST[:PORT] of its LM Studio API server; the port defaults to 1234.",
        required=True,
    ),
    Spec("labels", t.Labels(), "Free-form labels, e.g. {gpu: 24GB}."),
    Spec(
        "load",
        t.Nested("LlmLoad"),
        "Load fields for every model on this host (the host layer).",
    ),
    Spec("inference", t.Nested("Inference"), "Inference fields for every model on this host."),
    TTL._replace(description="ttl of every model on this host."),
    Spec(
        "models",
        t.Nested("HostModel", "dict"),
        "Per-model overlays on this host, by model identifier.",
    ),
    Spec("runs", t.Nested("Runs"), "The model profiles this host has; default: every one."),
)
HOSTS_FILE = shape(
    "HostsFile",
    "``hosts.yaml``: the LM Studio hosts the profiles drive.",
    Spec("hosts", t.Nested("HostEntry", "dict"), "Hosts by name."),
)
"""``hosts.yaml``: its shape, and those it nests (their pydantic models are made by
:func:`lmsprofiles._fields.model` when needed)."""


@dataclass(frozen=True)
class Host:
    """One host of the inventory, as read (variables applied)."""

    name: str
    address: str
    """``HOST:PORT`` of its LM Studio API server."""
    labels: Mapping[str, str]
    """Its labels, values as text."""
    models: tuple[str, ...]
    """Identifiers of the model profiles it has (``runs``), sorted."""
    source: str
    """The inventory file it is written in."""

    @property
    def server(self) -> str:
        """Which server its address names (the key of the lock and the ownership records)."""
        return server_key(self.address)

    def does_not_run(self, identifier: str) -> str:
        """The message for a model profile this host does not have."""
        runs = ", ".join(self.models) or "none"
        return f"host {self.name!r} does not run {identifier!r} (its models: {runs})"


def on_server(hosts: Mapping[str, Host], address: str | None) -> Host | None:
    """The host of ``hosts`` whose address names the same server as ``address``, if any."""
    if address is None:
        return None
    key = server_key(address)
    return next((host for host in hosts.values() if host.server == key), None)


def matches(labels: Mapping[str, str], wanted: Mapping[str, Any]) -> bool:
    """True if ``labels`` has every label of ``wanted`` (values compared as text)."""
    return all(labels.get(k) == label_text(v) for k, v in wanted.items())


# ------------------------------------------------------------------------------------------
# Reading


@dataclass
class _Entry:
    """One host while it is read: its data (variables applied) and where each value is from."""

    name: str
    data: dict[str, Any]
    set_by: dict[tuple[str, ...], str]


def read(
    tree: Tree,
    models: Mapping[str, ModelProfile],
    layers: _Layers,
    environ: Mapping[str, str],
    problems: list[Problem],
    limits: Limits,
    read_one: ReadOne,
) -> dict[str, Host]:
    """The hosts of the tree's ``hosts.yaml`` (read with ``read_one``, like every profile
    file) with its variables; their layers go into ``layers``.

    Appends a problem for everything wrong; a host with a problem is left out.
    """
    from lmsprofiles._profiles import _Origins

    variables = sorted(n for n in environ if _scope(n) is not None)
    for extra in tree.extra_hosts:
        message = "both hosts.yaml and hosts.yml exist; keep one"
        problems.append(Problem(display(extra), None, None, "", message))
    if tree.hosts is None:
        for name in variables:
            message = f"there is no hosts.yaml in {display(tree.root)} for it to override"
            problems.append(Problem(name, None, None, "", message))
        return {}
    done = read_one(tree.hosts, "hosts")
    if done.data is None:
        return {}
    data, source = done.data, done.source
    where: dict[Path, Origin] = dict(_Origins(done))
    written = data.get("hosts")
    entries = {
        name: _Entry(name, dict(entry), {})
        for name, entry in (written.items() if isinstance(written, dict) else ())
        if isinstance(entry, dict)
    }
    reader = _Reader(source, models, layers, where, problems, limits, done.unread)
    scoped = reader.variables(variables, entries, environ)
    hosts: dict[str, Host] = {}
    for entry in entries.values():
        host = reader.host(entry)
        if host is not None:
            hosts[host.name] = host
    for name, variable, segments in scoped:
        if name in hosts:
            reader.model_variable(hosts[name], variable, segments, environ[variable])
    reader.finish()
    reader.check_addresses(hosts)
    return hosts


def _scope(variable: str) -> list[str] | None:
    """The segments after ``LMSPROFILES_HOSTS`` of an inventory variable, else None."""
    if not variable.upper().startswith(PREFIX):
        return None
    segments = variable[len(PREFIX) :].split("__")
    return segments[1:] if segments[0].upper() == "HOSTS" else None


_METADATA: Final[Mapping[tuple[str, ...], tuple[str, ...]]] = {
    ("ADDRESS",): ("address",),
    ("LABELS",): ("labels",),
    ("RUNS", "MODELS"): ("runs", "models"),
    ("RUNS", "LABELS"): ("runs", "labels"),
}
"""Variable segments (upper-case, no ``_``) -> the inventory field they replace."""
_EXAMPLE: Final = f"{PREFIX}HOSTS__GPU_A__ADDRESS"
_HOST_FIELDS: Final = ("ADDRESS", "LABELS", "RUNS__MODELS", "RUNS__LABELS")


class _Reader:
    """Checks hosts and builds their layers; every problem goes to ``problems``."""

    def __init__(
        self,
        source: str,
        models: Mapping[str, ModelProfile],
        layers: _Layers,
        where: dict[Path, Origin],
        problems: list[Problem],
        limits: Limits,
        unread: Collection[Path] = (),
    ) -> None:
        """``unread``: the paths of the file's values that could not be read (reported)."""
        self.source = source
        self.unread = unread
        self.models = models
        self.layers = layers
        self.where = where
        self.problems = problems
        self.limits = limits
        self.env_hosts: dict[str, EnvLayer] = {}
        self.env_host_models: dict[tuple[str, str], EnvLayer] = {}

    # -- variables ---------------------------------------------------------------------------

    def variables(
        self, variables: Iterable[str], entries: Mapping[str, _Entry], environ: Mapping[str, str]
    ) -> list[tuple[str, str, list[str]]]:
        """Apply the variables that replace inventory values and the host-wide layer ones;
        return ``(host, variable, segments)`` of those scoped to a model, for later (which
        models a host has is known only once ``runs`` is)."""
        by_env: dict[str, list[str]] = {}
        for name in sorted(entries):
            by_env.setdefault(env_name(name), []).append(name)
        later = []
        for variable in variables:
            segments = _scope(variable) or []
            if len(segments) < 2:
                message = f"unknown variable; name a host and a field, e.g. {_EXAMPLE}"
                self.problems.append(Problem(variable, None, None, "", message))
                continue
            names = by_env.get(segments[0].upper(), [])
            if len(names) != 1:
                self.problems.append(self._no_host(variable, segments[0], names, by_env))
                continue
            name, rest = names[0], segments[1:]
            scope = f"{PREFIX}HOSTS__{segments[0]}__"
            if rest[0].upper() == "MODELS":
                later.append((name, variable, rest))
            elif rest[0].upper() in ("LOAD", "INFERENCE", "TTL"):
                layer = self.env_hosts.setdefault(name, EnvLayer())
                self._layer_variable(variable, scope, rest, environ[variable], layer)
            else:
                self._metadata_variable(entries[name], variable, scope, rest, environ[variable])
        return later

    def _no_host(
        self, variable: str, written: str, names: list[str], by_env: Mapping[str, list[str]]
    ) -> Problem:
        if names:
            both = " and ".join(repr(n) for n in names)
            message = f"ambiguous: {written.upper()} names both {both}; rename one of them"
            return Problem(variable, None, None, "", message)
        known = ", ".join(sorted(n for ns in by_env.values() for n in ns)) or "none"
        guess = difflib.get_close_matches(written.upper(), list(by_env), n=1)
        hint = f"; did you mean {PREFIX}HOSTS__{guess[0]}__...?" if guess else ""
        message = f"no host named {written!r} in {self.source} ({known}){hint}"
        return Problem(variable, None, None, "", message)

    def _layer_variable(
        self, variable: str, scope: str, rest: list[str], text: str, layer: EnvLayer
    ) -> None:
        if _match(rest) is None:
            message = _unknown(variable, scope, () if "MODELS__" in scope else _HOST_FIELDS)
            self.problems.append(Problem(variable, None, None, "", message))
            return
        _assign(variable, rest, text, layer, self.problems, self.limits)

    def _metadata_variable(
        self, entry: _Entry, variable: str, scope: str, rest: list[str], text: str
    ) -> None:
        key = tuple(s.upper().replace("_", "") for s in rest)
        path = _METADATA.get(key)
        if path is None:
            message = _unknown(variable, scope, _HOST_FIELDS)
            self.problems.append(Problem(variable, None, None, "", message))
            return
        full: Path = ("hosts", entry.name, *path)
        for other_path, other in entry.set_by.items():
            n = min(len(other_path), len(path))
            if other_path[:n] == path[:n]:
                message = f"also set by {other}; keep one"
                self.problems.append(Problem(variable, None, None, dotted(full), message))
                return
        from lmsprofiles._profiles import _check, _errors_to_problems

        model = RUNS.name if path[0] == "runs" else HOST_ENTRY.name
        try:
            value = parse_value(text, fields_of(model)[path[-1]], self.limits, len(full))
        except ValueError as exc:
            self.problems.append(Problem(variable, None, None, dotted(full), str(exc)))
            return
        error = _check(model, {path[-1]: value})  # the field on its own
        if error is not None:
            origin = Origin("env", variable)
            found = _errors_to_problems(error, full[:-1], {}, origin, partial=True)
            if found:
                self.problems += found
                return
        entry.set_by[path] = variable
        node = entry.data
        if path[0] == "runs":
            runs = node.get("runs")
            node["runs"] = node = dict(runs) if isinstance(runs, dict) else {}
        node[path[-1]] = value
        for stale in [p for p in self.where if p[: len(full)] == full]:
            del self.where[stale]
        self.where[full] = Origin("env", variable, path=dotted(full))

    def model_variable(self, host: Host, variable: str, rest: list[str], text: str) -> None:
        """A ``...__MODELS__<ID>__FIELD`` variable of ``host``: the env-host-model layer."""
        if len(rest) < 3:
            example = (
                f"{PREFIX}HOSTS__{env_name(host.name)}__MODELS__QWEN_CHAT__LOAD__CONTEXT_LENGTH"
            )
            message = f"unknown variable; name a field after the model, e.g. {example}"
            self.problems.append(Problem(variable, None, None, "", message))
            return
        by_env: dict[str, list[str]] = {}
        for identifier in sorted(self.models):
            by_env.setdefault(env_name(identifier), []).append(identifier)
        found = by_env.get(rest[1].upper(), [])
        if len(found) != 1:
            if found:
                both = " and ".join(repr(i) for i in found)
                message = (
                    f"ambiguous: {rest[1].upper()} names both {both}; give one an identifier: key"
                )
            else:
                guess = difflib.get_close_matches(rest[1].upper(), list(by_env), n=1)
                hint = f"; did you mean ...__MODELS__{guess[0]}__...?" if guess else ""
                message = f"no model profile with the identifier {rest[1]!r}{hint}"
            self.problems.append(Problem(variable, None, None, "", message))
            return
        identifier = found[0]
        if identifier not in host.models:
            message = host.does_not_run(identifier)
            self.problems.append(Problem(variable, None, None, "", message))
            return
        layer = self.env_host_models.setdefault((host.name, identifier), EnvLayer())
        scope = variable[: -len("__".join(rest[2:]))]
        self._layer_variable(variable, scope, rest[2:], text, layer)

    def finish(self) -> None:
        """Check the variables' layers, once every variable is read, and record them."""
        from lmsprofiles._profiles import _env_layer

        for name, layer in self.env_hosts.items():
            if layer.data:
                built = _env_layer("env-host", layer, "GlobalFile", self.problems)
                self.layers.env_hosts[name] = built
        for (name, identifier), layer in self.env_host_models.items():
            if layer.data:
                embedding = self.models[identifier].type == "embedding"
                schema = "EmbeddingScope" if embedding else "GlobalFile"
                built = _env_layer("env-host-model", layer, schema, self.problems)
                self.layers.env_host_models[(name, identifier)] = built

    # -- hosts -------------------------------------------------------------------------------

    def host(self, entry: _Entry) -> Host | None:
        """The host ``entry`` describes, its layers recorded; None if it has a problem."""
        name, data = entry.name, entry.data
        here = self._origin(("hosts", name))
        count = len(self.problems)
        if not _NAME.fullmatch(name):
            message = (
                "a host name is letters, digits, '.', '_' and '-', starting with a letter or "
                "digit (it is written in --hosts and in LMSPROFILES_HOSTS__NAME__... variables)"
            )
            self._problem(here, ("hosts", name), message)
        address = data.get("address")
        if "address" not in data:  # null is the file's problem (or the variable's)
            self._problem(here, ("hosts", name), "missing required key 'address'")
        selected = self._selected(name, data.get("runs"))
        self._host_models(name, data.get("models"), selected)
        layer = self._layer("host", data, ("hosts", name))
        if layer is not None:
            self.layers.hosts[name] = layer
        if len(self.problems) > count or not isinstance(address, str):
            return None
        try:
            address = parse_host(address)
        except ValueError:
            return None  # the file's check (or the variable's) reported it
        labels = data.get("labels")
        return Host(
            name=name,
            address=address,
            labels={str(k): label_text(v) for k, v in (labels or {}).items()},
            models=tuple(sorted(selected)),
            source=self.source,
        )

    def _selected(self, name: str, runs: Any) -> set[str]:
        if not isinstance(runs, dict):
            return set(self.models)
        chosen: set[str] = set()
        listed = runs.get("models")
        wanted = runs.get("labels")
        path: Path = ("hosts", name, "runs")
        unreadable = any((*path, key) in self.unread for key in ("models", "labels"))
        if listed is None and wanted in (None, {}) and not unreadable:  # `runs: {}`: a slip
            nothing = (
                "selects no model; write `runs: {models: []}` for a host that runs none, or "
                "leave runs out for every model"
            )
            self._problem(self._origin(path), path, nothing)
        for i, identifier in enumerate(listed if isinstance(listed, list) else ()):
            if not isinstance(identifier, str):
                continue
            if identifier in self.models:
                chosen.add(identifier)
                continue
            path = ("hosts", name, "runs", "models", i)
            self._problem(self._origin(path), path, self._unknown_model(identifier))
        if isinstance(wanted, dict) and wanted:
            chosen |= {i for i, p in self.models.items() if matches(p.labels, wanted)}
            for key, value in wanted.items():
                message = self._unknown_label(str(key), label_text(value))
                if message is not None:
                    path = ("hosts", name, "runs", "labels", key)
                    self._problem(self._origin(path), path, message)
        return chosen

    def _unknown_label(self, key: str, value: str) -> str | None:
        """The problem of a label ``key: value`` that no model profile has but one has a label
        close to (a typo); None otherwise: a host may select a label no model has yet."""
        values = {p.labels[key] for p in self.models.values() if key in p.labels}
        if value in values:
            return None
        if not values:
            keys = sorted({k for p in self.models.values() for k in p.labels})
            close = difflib.get_close_matches(key, keys, n=1)
            if not close:
                return None
            return f"no model profile has the label {key!r}; did you mean {close[0]!r}?"
        close = difflib.get_close_matches(value, sorted(values), n=1)
        if not close:
            return None
        return f"no model profile has the label {key}: {value}; did you mean {close[0]!r}?"

    def _host_models(self, name: str, overlays: Any, selected: set[str]) -> None:
        for identifier, overlay in (overlays or {}).items():
            path: Path = ("hosts", name, "models", identifier)
            here = self._origin(path)
            profile = self.models.get(identifier)
            if profile is None:
                self._problem(here, path, self._unknown_model(identifier))
                continue
            if identifier not in selected:
                message = (
                    f"host {name!r} does not run {identifier!r} (see its runs); remove this "
                    "overlay or add the model to runs"
                )
                self._problem(here, path, message)
                continue
            if profile.type == "embedding" and isinstance(overlay, dict) and "inference" in overlay:
                sub = (*path, "inference")
                self._problem(self._origin(sub), sub, "embedding models take no inference")
            layer = self._layer("host-model", overlay, path)
            if layer is not None:
                self.layers.host_models[(name, identifier)] = layer

    def _layer(self, name: str, data: Any, prefix: Path) -> _Layer | None:
        """The load, inference and ttl of ``data`` as a layer whose paths start at them."""
        from lmsprofiles._profiles import _Layer

        if not isinstance(data, dict):
            return None
        body = {k: v for k, v in data.items() if k in _SECTIONS}
        if not body:
            return None
        n = len(prefix)
        where = {
            p[n:]: o for p, o in self.where.items() if p[:n] == prefix and p[n : n + 1] in _TOPS
        }
        return _Layer(name, body, where)

    def check_addresses(self, hosts: Mapping[str, Host]) -> None:
        """Two hosts on one server would share its lock and records: a problem."""
        first: dict[str, Host] = {}
        for host in hosts.values():
            other = first.setdefault(host.server, host)
            if other is not host:
                path: Path = ("hosts", host.name, "address")
                given = self.where.get(("hosts", other.name, "address"))
                by = f", set by {given.source}" if given and given.kind == "env" else ""
                message = (
                    f"{host.address} is the same LM Studio server as host {other.name!r} "
                    f"({other.address}{by}); give each server one entry"
                )
                self._problem(self._origin(path), path, message)

    # -- helpers -----------------------------------------------------------------------------

    def _unknown_model(self, identifier: str) -> str:
        close = difflib.get_close_matches(identifier, list(self.models), n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else f"; models/ has {', '.join(sorted(self.models)) or 'none'}"
        )
        return f"no model profile with the identifier {identifier!r}{hint}"

    def _origin(self, path: Path) -> Origin:
        probe = path
        while probe:
            if probe in self.where:
                return self.where[probe]
            probe = probe[:-1]
        return Origin("file", self.source, 1, 1)

    def _problem(self, origin: Origin, path: Path, message: str) -> None:
        shown = dotted(path)
        if origin.kind == "file":
            self.problems.append(Problem(origin.source, origin.line, origin.column, shown, message))
        else:
            self.problems.append(Problem(origin.source, None, None, shown, message))
