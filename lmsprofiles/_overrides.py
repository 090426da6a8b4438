"""``LMSPROFILES_*`` variables that override profiles.

Every ``LMSPROFILES_*`` variable but the control settings (:data:`CONTROL`, read by
:mod:`lmsprofiles._env`) is an override whose ``__``-separated segments are matched against
the schema, ignoring case and underscores, so ``LMSPROFILES_LOAD__CONTEXT_LENGTH`` and
``LMSPROFILES_LOAD__CONTEXTLENGTH`` both set ``load.contextLength``.
``LMSPROFILES_MODELS__<ID>__...`` targets the model whose identifier, upper-cased with every
other character than A-Z and 0-9 replaced by ``_``, is ``<ID>``. ``LMSPROFILES_HOSTS__<NAME>__...``
override the inventory (``hosts.yaml``) and are read by :mod:`lmsprofiles._inventory`.
Values are parsed by the type of the field they set. Unknown variables are problems.

This module imports only the standard library (the schema comes from
:mod:`lmsprofiles._shapes`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lmsprofiles import _fieldtable as t
from lmsprofiles._errors import Problem
from lmsprofiles._keys import Field, canonical_value, fields_of
from lmsprofiles._merge import Path
from lmsprofiles._origin import Origin
from lmsprofiles._units import with_unit
from lmsprofiles._yaml import DEFAULT_LIMITS, OUT_OF_RANGE, Limits, dotted, fits_64_bits

__all__ = [
    "CONTROL",
    "PREFIX",
    "EnvLayer",
    "Overrides",
    "check_numbers",
    "env_name",
    "has_control",
    "overrides",
    "parse_value",
]

PREFIX: Final = "LMSPROFILES_"
CONTROL: Final = (
    "HOST",
    "PROFILES",
    "STATE_DIR",
    "TIMEOUT",
    "MAX_FILE_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
)
"""The control settings: variables that steer lmsprofiles itself (``LMSPROFILES_HOST``...)."""
_SECTIONS: Final[Mapping[str, str]] = {"LOAD": "LlmLoad", "INFERENCE": "Inference"}
INTEGER: Final = re.compile(r"[+-]?[0-9]{1,25}")
"""An ASCII decimal integer, as a variable writes one."""
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NOT_FINITE = ("nan", "inf", "infinity", ".nan", ".inf")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_CONTROL_NAMES: Final = frozenset((PREFIX + name).lower() for name in CONTROL)


def has_control(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` may set a control setting (however its name is spelled): when
    not, every setting has its default and none needs reading."""
    return any(
        name.lower() in _CONTROL_NAMES
        or (name.upper().startswith(PREFIX) and name.upper()[len(PREFIX) :] in CONTROL)
        for name in environ
    )


def env_name(identifier: str) -> str:
    """How a model identifier is spelled in a variable name: ``qwen-chat`` -> ``QWEN_CHAT``."""
    return re.sub(r"[^A-Za-z0-9]", "_", identifier).upper()


@dataclass
class EnvLayer:
    """Overrides from the environment for one scope (every model, or one model)."""

    data: dict[str, Any] = field(default_factory=dict)
    where: dict[Path, Origin] = field(default_factory=dict)
    set_by: dict[Path, str] = field(default_factory=dict)
    """The variable that set each path."""


@dataclass
class Overrides:
    """All override variables, by scope."""

    shared: EnvLayer = field(default_factory=EnvLayer)
    models: dict[str, EnvLayer] = field(default_factory=dict)
    inventory: bool = False
    """Whether some ``LMSPROFILES_HOSTS...`` variable is set (:mod:`._inventory` reads it)."""


def overrides(
    environ: Mapping[str, str],
    identifiers: Iterable[str],
    problems: list[Problem],
    limits: Limits = DEFAULT_LIMITS,
) -> Overrides:
    """Parse every override variable; append a problem for each one that is wrong.

    Two variables of one scope that set the same value, or a value and part of it, are a
    problem: neither wins silently.
    """
    by_env: dict[str, str] = {}
    clashes: dict[str, list[str]] = {}
    for identifier in sorted(identifiers):
        clashes.setdefault(env_name(identifier), []).append(identifier)
        by_env.setdefault(env_name(identifier), identifier)
    result = Overrides()
    for name in sorted(environ):
        if not name.upper().startswith(PREFIX) or name.upper()[len(PREFIX) :] in CONTROL:
            continue
        segments = name[len(PREFIX) :].split("__")
        head = segments[0].upper()
        if head == "HOSTS":
            result.inventory = True  # the inventory's variables: lmsprofiles._inventory reads them
            continue
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
            _assign(name, segments[2:], environ[name], layer, problems, limits)
        elif head == "MODELS" and len(segments) >= 2:
            import difflib

            known = ", ".join(sorted(by_env)) or "none"
            guess = difflib.get_close_matches(segments[1].upper(), list(by_env), n=1)
            hint = f"; did you mean {PREFIX}MODELS__{guess[0]}__...?" if guess else ""
            message = f"no model profile with the identifier {segments[1]!r} ({known}){hint}"
            problems.append(Problem(name, None, None, "", message))
        else:
            _assign(name, segments, environ[name], result.shared, problems, limits)
    return result


def _assign(
    name: str,
    segments: list[str],
    text: str,
    layer: EnvLayer,
    problems: list[Problem],
    limits: Limits,
) -> None:
    path = _match(segments)
    if path is None:
        problems.append(Problem(name, None, None, "", _unknown(name)))
        return
    target, fld = path
    for other_path, other in layer.set_by.items():
        n = min(len(other_path), len(target))
        if other_path[:n] == target[:n]:
            message = f"also set by {other}; keep one"
            problems.append(Problem(name, None, None, dotted(target), message))
            return
    try:
        value = parse_value(text, fld, limits, len(target))
    except ValueError as exc:
        problems.append(Problem(name, None, None, dotted(target), str(exc)))
        return

    def report(path: Path, message: str) -> None:
        problems.append(Problem(name, None, None, dotted(path), message))

    value = canonical_value(value, fld, target, report)
    layer.set_by[target] = name
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
        return ("ttl",), fields_of("GlobalFile")["ttl"]
    model = _SECTIONS.get(head)
    if model is None:
        return None
    if len(segments) == 1:  # a whole section as a JSON object
        return (head.lower(),), Field(head.lower(), head.lower(), model, "", t.Nested(model))
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


def _candidates(*, control: bool = True) -> list[str]:
    names = [PREFIX + c for c in CONTROL] if control else []
    names.append(f"{PREFIX}TTL")
    for head, model in _SECTIONS.items():
        names.append(f"{PREFIX}{head}")
        for fld in fields_of(model).values():
            base = f"{PREFIX}{head}__{fld.name.upper()}"
            if fld.model is not None and fld.container == "":
                names.extend(f"{base}__{sub.name.upper()}" for sub in fields_of(fld.model).values())
            names.append(base)
    return names


def _other_section(upper: str, candidates: list[str]) -> list[str]:
    """``[the variable]`` with its section swapped when the field it names is one of the
    other section (``LOAD__TEMPERATURE`` -> ``INFERENCE__TEMPERATURE``), else ``[]``."""
    head, separator, rest = upper[len(PREFIX) :].partition("__")
    if not separator or head not in _SECTIONS:
        return []
    flat = rest.replace("_", "")
    for other in _SECTIONS:
        start = f"{PREFIX}{other}__"
        if other != head and any(
            c.startswith(start) and c[len(start) :].replace("_", "") == flat for c in candidates
        ):
            return [start + rest]
    return []


def _unknown(name: str, scope: str = "", extra: Iterable[str] = ()) -> str:
    """``unknown variable`` with the closest valid name.

    ``scope`` is the prefix of a scoped variable (``LMSPROFILES_HOSTS__GPU_A__``; a model's
    is found by itself): the guess is made for the rest and keeps it. ``extra`` are more
    names the scope takes (``ADDRESS``).
    """
    import difflib

    upper = name.upper()
    if not scope and upper.startswith(f"{PREFIX}MODELS__"):
        scope = f"{PREFIX}MODELS__{upper.split('__')[1]}__"
    scope = scope.upper()
    # a scope takes fields, never the settings of lmsprofiles itself (LMSPROFILES_TIMEOUT)
    candidates = _candidates(control=not scope) + [PREFIX + e for e in extra]
    bare = PREFIX + upper[len(scope) :] if scope else upper  # the variable as if unscoped
    guess = _other_section(bare, candidates)
    if not guess and scope:  # compare what follows the scope only: candidates share the prefix
        rest = [c[len(PREFIX) :] for c in candidates]
        guess = [PREFIX + g for g in difflib.get_close_matches(bare[len(PREFIX) :], rest, n=1)]
    elif not guess:
        guess = difflib.get_close_matches(upper, candidates, n=1, cutoff=0.6)
    if scope:
        guess = [scope + g[len(PREFIX) :] for g in guess]
    if guess and guess[0] != upper:
        return f"unknown variable; did you mean {guess[0]}?"
    if scope:
        fields = ", ".join([*extra, "LOAD__<FIELD>", "INFERENCE__<FIELD>", "TTL"])
        return f"unknown variable; name a field after {scope}: {fields}"
    return "unknown variable"


def parse_value(text: str, fld: Field, limits: Limits = DEFAULT_LIMITS, level: int = 1) -> Any:
    """Parse a variable's text by the type of the field it sets; ValueError says why not.

    ``level`` is how deep the field sits (``load.gpu`` is 2): JSON values below it count
    towards ``limits.max_depth`` as if they were written in a file.
    """
    stripped = text.strip()
    if len(text) > limits.max_file_bytes:
        raise ValueError(f"longer than {limits.max_file_bytes} bytes (LMSPROFILES_MAX_FILE_BYTES)")
    if stripped.lower() in ("", "null"):
        return None
    if fld.model is not None:
        return _json(stripped, list if fld.container == "list" else dict, limits, level)
    check = fld.kind
    lowered = stripped.lower()
    if isinstance(check, t.Num):
        return _parse_number(text, check)
    if isinstance(check, t.Bool):
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"must be {check.words} (got {text!r})")
    if isinstance(check, t.Choice):
        return False if check.off is not None and lowered == "false" else stripped
    if isinstance(check, t.Ratio):
        if lowered in ("max", "off"):
            return lowered
        return _number(text, f"must be {check.words}", integer=False)
    if isinstance(check, (t.Strings, t.Indices)):
        return _json(stripped, list, limits, level)
    if isinstance(check, (t.JsonObject, t.Labels)):
        return _json(stripped, dict, limits, level)
    return text


def _parse_number(text: str, check: t.Num) -> Any:
    if check.off is not None and text.strip().lower() == "false":
        return False
    if check.unit is not None and text.strip()[:1].isdigit() and any(c.isalpha() for c in text):
        return with_unit(text.strip(), check.unit)
    return _number(text, f"must be {check.words}", integer=check.kind == "integer")


def _number(text: str, words: str, *, integer: bool) -> int | float:
    """An ASCII decimal integer, else (unless ``integer``) a decimal number; no NaN, no inf."""
    stripped = text.strip()
    if INTEGER.fullmatch(stripped):
        value = int(stripped)
        if not fits_64_bits(value):
            raise ValueError(OUT_OF_RANGE)
        return value
    if stripped.lstrip("+-").isascii() and stripped.lstrip("+-").isdigit():
        raise ValueError(OUT_OF_RANGE)
    finite = f"{words}, not NaN or infinity (got {text!r})"
    if stripped.lower().lstrip("+-") in _NOT_FINITE:
        raise ValueError(finite)
    if not integer and _DECIMAL.fullmatch(stripped):
        number = float(stripped)
        if not math.isfinite(number):
            raise ValueError(finite)
        return number
    raise ValueError(f"{words} (got {text!r})")


def _json(text: str, kind: type[Any], limits: Limits, level: int) -> Any:
    example = '["a", "b"]' if kind is list else '{"key": "value"}'
    what = "a JSON list" if kind is list else "a JSON object"
    if level + _json_depth(text, limits.max_depth) > limits.max_depth:
        raise ValueError(f"nesting deeper than {limits.max_depth} levels (LMSPROFILES_MAX_DEPTH)")
    try:
        value = json.loads(text, parse_constant=_no_constant)
        check_numbers(value)
    except (json.JSONDecodeError, ValueError) as exc:
        if isinstance(exc, json.JSONDecodeError) or not str(exc).startswith("JSON "):
            raise ValueError(f"must be {what}, e.g. {example} (got {text!r})") from None
        raise ValueError(f"must be {what}: {str(exc).removeprefix('JSON ')}") from None
    if not isinstance(value, kind):
        raise ValueError(f"must be {what}, e.g. {example} (got {text!r})")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"JSON numbers cannot be NaN or infinity (got {name})")


def check_numbers(value: Any, source: str = "JSON ", *, floats: bool = True) -> None:
    """NaN, infinity and integers past 64 bits have no place in a config: ValueError naming
    the first found, in ``source`` (the kind of value, for the message). ``floats=False``
    leaves NaN and infinity to the field's own check."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif floats and isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{source}numbers cannot be NaN or infinity")
        elif isinstance(item, int) and not fits_64_bits(item):
            raise ValueError(source + OUT_OF_RANGE)


def _json_depth(text: str, stop: int) -> int:
    """How deep JSON brackets nest in ``text`` (strings skipped), counting up to ``stop + 1``."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop:
                    break
        elif char in "]}":
            depth -= 1
    return deepest
