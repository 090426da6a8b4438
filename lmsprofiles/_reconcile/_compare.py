"""Semantic comparison of a desired instance with a loaded one (pure, no I/O).

The rules follow LM Studio's own notion of equality (docs/fields.md, "Comparing a loaded
instance with a profile"):

* only fields the profile sets are compared; a field LM Studio does not report cannot be
  verified and never forces a reload;
* ``gpu.ratio``: ``"max"`` is 1 and ``"off"`` is 0;
* checkbox fields (``seed``, rope base/scale, K/V cache quantization): ``false``, ``None`` and
  "absent" all mean "off", and an absent field is a real reading of "off";
* numbers compare numerically with a small tolerance (``40`` equals ``40.0``); booleans are
  never numbers;
* ``gpu.disabledGpus`` compares as a set, absent meaning none;
* ``contextLength`` is checked against the load config *and* the context the instance really
  runs with; a context the server fitted lower than asked is handled by a
  :data:`ContextPolicy` instead of reloading forever;
* a different model key, type or ttl forces a reload (ttl cannot change on a loaded
  instance); inference settings are not part of the comparison at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from lmsprofiles import _fieldtable as t
from lmsprofiles._reconcile._model import UNKNOWN, DesiredInstance, ObservedInstance, Unknown

__all__ = [
    "CHECKBOX_LOAD_FIELDS",
    "CONTEXT_POLICIES",
    "DEFAULT_CONTEXT_POLICY",
    "Comparison",
    "ContextPolicy",
    "Difference",
    "compare",
    "values_equal",
]

ContextPolicy: TypeAlias = Literal["warn", "reload"]
"""What to do when LM Studio runs an instance with less context than the profile asks for
although its load config asked for the right amount: ``"warn"`` reuses it and reports a
warning (the default: reloading would only be fitted again), ``"reload"`` reloads it."""

CONTEXT_POLICIES: Final[tuple[ContextPolicy, ...]] = ("warn", "reload")
DEFAULT_CONTEXT_POLICY: Final[ContextPolicy] = "warn"

CHECKBOX_LOAD_FIELDS: Final = frozenset(
    row.name for row in t.rows("load", accepted=True) if row.checkbox
)
"""Load fields LM Studio keeps as a checkbox: unchecked (absent, ``false``) means off."""

_REL_TOL: Final = 1e-6
_ABS_TOL: Final = 1e-9
_RATIO_WORDS: Final[Mapping[str, float]] = {"max": 1.0, "off": 0.0}
_NOT_REPORTED: Final = "not reported by LM Studio; not verified"


@dataclass(frozen=True)
class Difference:
    """One field where the loaded instance differs from the profile, or cannot be verified.

    ``path`` is dotted (``"load.contextLength"``, ``"load.gpu.ratio"``, ``"ttl"``, ``"model"``);
    ``observed`` is :data:`UNKNOWN` when LM Studio did not report the field. Only differences
    with ``forces_reload`` make the instance unsatisfying; the others are explanations (a
    context the server fitted, an unverifiable field). ``origin`` says where the desired
    value was set, when known.
    """

    path: str
    desired: Any
    observed: Any
    forces_reload: bool
    note: str = ""
    origin: str | None = None


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: every difference found, in path order."""

    differences: tuple[Difference, ...] = ()

    @property
    def satisfied(self) -> bool:
        """True if the loaded instance can be reused as it is."""
        return not self.reload_reasons

    @property
    def reload_reasons(self) -> tuple[Difference, ...]:
        """The differences that force a reload."""
        return tuple(d for d in self.differences if d.forces_reload)

    @property
    def notes(self) -> tuple[Difference, ...]:
        """The differences that do not force a reload (fitted context, unverifiable fields)."""
        return tuple(d for d in self.differences if not d.forces_reload)


def compare(
    desired: DesiredInstance,
    observed: ObservedInstance,
    *,
    context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY,
    recorded_ttl: int | Unknown | None = UNKNOWN,
    check_ttl: bool = True,
) -> Comparison:
    """Compare ``desired`` with the loaded instance ``observed``.

    ``recorded_ttl`` (seconds) is the ttl lmsprofiles loaded the instance with; it stands in
    for the instance's ttl when LM Studio does not report one. With ``check_ttl=False`` the
    ttl is ignored (for callers that only want to know whether a loaded instance can serve).
    The identifiers are not compared: the caller pairs instances up.
    """
    found: list[Difference] = []
    if observed.model_key != desired.model_key:
        found.append(
            Difference("model", desired.model_key, observed.model_key, True, "different model")
        )
    if observed.kind != desired.kind:
        found.append(Difference("type", desired.kind, observed.kind, True, "different type"))
    for key, want in desired.load.items():
        if want is None:
            continue
        if key == "contextLength":
            found.extend(_context_length(desired, observed, want, context_policy))
        elif key == "gpu" and isinstance(want, Mapping):
            found.extend(_gpu(want, observed.load.get("gpu")))
        else:
            found.extend(_field(key, want, observed.load))
    if check_ttl:
        found.extend(_ttl(desired.ttl, observed.ttl_ms, recorded_ttl))
    with_origins = (_with_origin(d, desired.origins) for d in found)
    return Comparison(tuple(sorted(with_origins, key=lambda d: d.path)))


def values_equal(desired: Any, observed: Any) -> bool:
    """LM Studio's equality for plain values: numeric with tolerance, deep for containers.

    Mappings compare on the desired keys only; sequences element-wise and in order.
    """
    if isinstance(desired, bool) or isinstance(observed, bool):
        return isinstance(desired, bool) and isinstance(observed, bool) and desired == observed
    if isinstance(desired, int | float) and isinstance(observed, int | float):
        return math.isclose(desired, observed, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    if isinstance(desired, Mapping):
        return isinstance(observed, Mapping) and all(
            key in observed and values_equal(value, observed[key])
            for key, value in desired.items()
            if value is not None
        )
    if _is_sequence(desired):
        return (
            _is_sequence(observed)
            and len(desired) == len(observed)
            and all(values_equal(a, b) for a, b in zip(desired, observed, strict=True))
        )
    return bool(desired == observed)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _field(key: str, want: Any, observed_load: Mapping[str, Any]) -> list[Difference]:
    path = f"load.{key}"
    have = observed_load.get(key, UNKNOWN)
    if key in CHECKBOX_LOAD_FIELDS:
        want_off = want is False
        have_off = have is UNKNOWN or have is None or have is False
        if want_off and have_off:
            return []
        if want_off or have_off:
            return [Difference(path, want, False if have_off else have, True)]
    if have is UNKNOWN:
        return [Difference(path, want, UNKNOWN, False, _NOT_REPORTED)]
    if values_equal(want, have):
        return []
    return [Difference(path, want, have, True)]


def _gpu(want: Mapping[str, Any], have_gpu: Any) -> list[Difference]:
    have: Mapping[str, Any] = have_gpu if isinstance(have_gpu, Mapping) else {}
    found: list[Difference] = []
    for key, value in want.items():
        if value is None:
            continue
        path = f"load.gpu.{key}"
        observed = have.get(key, UNKNOWN)
        if key == "disabledGpus":
            if observed is UNKNOWN:
                observed = []
            if sorted(value) != sorted(observed):
                found.append(Difference(path, value, observed, True))
        elif observed is UNKNOWN:
            found.append(Difference(path, value, UNKNOWN, False, _NOT_REPORTED))
        elif key == "ratio":
            if not values_equal(_ratio(value), _ratio(observed)):
                found.append(Difference(path, value, observed, True))
        elif not values_equal(value, observed):
            found.append(Difference(path, value, observed, True))
    return found


def _ratio(value: Any) -> Any:
    if isinstance(value, str):
        return _RATIO_WORDS.get(value, value)
    return value


def _context_length(
    desired: DesiredInstance, observed: ObservedInstance, want: Any, policy: ContextPolicy
) -> list[Difference]:
    path = "load.contextLength"
    configured = observed.load.get("contextLength")
    actual = observed.context_length
    if configured is not None and not values_equal(want, configured):
        shown = actual if actual is not None else configured
        return [Difference(path, want, shown, True)]
    if actual is None:
        if configured is None:
            return [Difference(path, want, UNKNOWN, False, _NOT_REPORTED)]
        return []
    if values_equal(want, actual):
        return []
    if actual < want and configured is not None:
        limit = observed.max_context_length
        why = f"model maximum {limit}" if limit is not None and limit < want else "fitted"
        action = "reloading (context policy 'reload')" if policy == "reload" else "kept"
        note = f"LM Studio runs it with {actual} tokens ({why}); {action}"
        return [Difference(path, want, actual, policy == "reload", note)]
    if configured is None:
        return [Difference(path, want, actual, True)]
    return [Difference(path, want, actual, False, "LM Studio runs it with more context")]


def _ttl(
    want: int | None, have_ms: int | Unknown | None, recorded: int | Unknown | None
) -> list[Difference]:
    note = "ttl cannot be changed on a loaded instance"
    if isinstance(have_ms, Unknown):
        if isinstance(recorded, Unknown) or recorded == want:
            return []
        return [Difference("ttl", want, recorded, True, note + " (as recorded at load)")]
    have = None if have_ms is None else have_ms / 1000
    if want is None and have is None:
        return []
    if want is not None and have is not None and values_equal(want, have):
        return []
    shown = have if have is None or not float(have).is_integer() else int(have)
    return [Difference("ttl", want, shown, True, note)]


def _with_origin(difference: Difference, origins: Mapping[str, str]) -> Difference:
    path = difference.path
    while path:
        if path in origins:
            return Difference(
                difference.path,
                difference.desired,
                difference.observed,
                difference.forces_reload,
                difference.note,
                origins[path],
            )
        path = path.rpartition(".")[0]
    return difference
