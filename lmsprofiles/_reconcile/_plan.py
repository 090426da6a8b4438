"""The planner: desired instances + observed instances + ownership -> a plan (pure, no I/O).

Per desired instance the plan holds exactly one of :class:`Load`, :class:`Reload`,
:class:`Reuse` or :class:`Conflict`; per observed instance that no desired instance claims,
one of :class:`Unload` or :class:`Leave`. Rules:

* an observed instance counts as *owned* only if an ownership record matches its identifier,
  model key and type; instances lmsprofiles did not load are never unloaded or reloaded;
* a desired identifier held by an instance we do not own is a :class:`Conflict` (the foreign
  instance is left alone and the desired one cannot be loaded under that name);
* owned instances whose profile is gone are unloaded only with ``prune``;
* other instances of a desired model key (``key:2`` left by ``lms load``) are reported as
  duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, assert_never

from lmsprofiles._reconcile._compare import (
    DEFAULT_CONTEXT_POLICY,
    Comparison,
    ContextPolicy,
    compare,
)
from lmsprofiles._reconcile._model import (
    UNKNOWN,
    DesiredInstance,
    ObservedInstance,
    OwnershipRecord,
)

__all__ = [
    "ACTION_NAMES",
    "Action",
    "ActionName",
    "Conflict",
    "Diagnostic",
    "Leave",
    "Load",
    "Plan",
    "Reload",
    "Reuse",
    "Unload",
    "action_name",
    "make_plan",
]


@dataclass(frozen=True)
class Load:
    """Load ``desired``: no instance with its identifier is loaded."""

    desired: DesiredInstance
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reload:
    """Unload the owned ``observed`` and load ``desired`` in its place."""

    desired: DesiredInstance
    observed: ObservedInstance
    comparison: Comparison


@dataclass(frozen=True)
class Reuse:
    """The owned ``observed`` satisfies ``desired``; nothing to do."""

    desired: DesiredInstance
    observed: ObservedInstance
    comparison: Comparison


@dataclass(frozen=True)
class Unload:
    """Unload the owned ``observed``: its profile is gone and pruning was asked for."""

    observed: ObservedInstance
    reason: str


@dataclass(frozen=True)
class Leave:
    """Leave ``observed`` alone: not ours, or ours but pruning was not asked for."""

    observed: ObservedInstance
    reason: str
    owned: bool = False


@dataclass(frozen=True)
class Conflict:
    """``desired`` cannot be loaded: a foreign instance ``observed`` holds its identifier."""

    desired: DesiredInstance
    observed: ObservedInstance
    reason: str


Action: TypeAlias = Load | Reload | Reuse | Unload | Leave | Conflict
ActionName: TypeAlias = Literal["load", "reload", "reuse", "unload", "leave", "conflict"]
ACTION_NAMES: Final[tuple[ActionName, ...]] = (
    "load",
    "reload",
    "reuse",
    "unload",
    "leave",
    "conflict",
)


def action_name(action: Action) -> ActionName:
    """The action's kind as used in text and JSON output."""
    match action:
        case Load():
            return "load"
        case Reload():
            return "reload"
        case Reuse():
            return "reuse"
        case Unload():
            return "unload"
        case Leave():
            return "leave"
        case Conflict():
            return "conflict"
        case _:
            assert_never(action)


@dataclass(frozen=True)
class Diagnostic:
    """A remark about the plan; ``error`` diagnostics make reconcile exit 4."""

    severity: Literal["error", "warning", "info"]
    identifier: str | None
    message: str


@dataclass(frozen=True)
class Plan:
    """What reconcile would do, in order: desired instances first, then the others.

    ``stale_records`` are ownership records whose instance is no longer loaded (expired by
    ttl or unloaded by someone); applying the plan forgets them.
    """

    actions: tuple[Action, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    stale_records: tuple[OwnershipRecord, ...] = ()
    prune: bool = False
    context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY

    @property
    def changes_pending(self) -> bool:
        """True if applying the plan would load, reload or unload anything."""
        return any(isinstance(a, Load | Reload | Unload) for a in self.actions)

    @property
    def summary(self) -> dict[ActionName, int]:
        """Number of actions of each kind, every kind present."""
        counts: dict[ActionName, int] = dict.fromkeys(ACTION_NAMES, 0)
        for action in self.actions:
            counts[action_name(action)] += 1
        return counts

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """The desired instances that cannot be loaded."""
        return tuple(a for a in self.actions if isinstance(a, Conflict))


def make_plan(
    desired: Sequence[DesiredInstance],
    observed: Sequence[ObservedInstance],
    owned: Mapping[str, OwnershipRecord],
    *,
    prune: bool = False,
    context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY,
) -> Plan:
    """Decide, per desired and per observed instance, what reconcile does.

    ``owned`` maps identifiers to the ownership records of this host. Raises ``ValueError``
    if two desired instances share an identifier.
    """
    _check_unique(d.identifier for d in desired)
    actions: list[Action] = []
    diagnostics: list[Diagnostic] = []
    claimed: set[int] = set()
    for want in sorted(desired, key=lambda d: d.identifier):
        index = _find(want, observed, claimed)
        if index is None:
            actions.append(_load(want, observed))
            continue
        claimed.add(index)
        have = observed[index]
        record = owned.get(have.identifier)
        if record is None or not record.matches(have):
            actions.append(_conflict(want, have, record))
            continue
        recorded_ttl = record.ttl
        result = compare(want, have, context_policy=context_policy, recorded_ttl=recorded_ttl)
        if result.satisfied:
            actions.append(Reuse(want, have, result))
        else:
            actions.append(Reload(want, have, result))
    by_key = {d.model_key: d.identifier for d in sorted(desired, key=lambda d: d.identifier)}
    rest = sorted(
        (o for i, o in enumerate(observed) if i not in claimed),
        key=lambda o: (o.kind, o.identifier),
    )
    for have in rest:
        actions.append(_other(have, owned, prune, by_key))
    for action in actions:
        diagnostics.extend(_diagnostics(action, by_key))
    stale = tuple(
        record
        for _, record in sorted(owned.items())
        if not any(record.matches(o) for o in observed)
    )
    return Plan(tuple(actions), tuple(diagnostics), stale, prune, context_policy)


def _check_unique(identifiers: Iterable[str]) -> None:
    seen: set[str] = set()
    for identifier in identifiers:
        if identifier in seen:
            raise ValueError(f"two desired instances share the identifier {identifier!r}")
        seen.add(identifier)


def _find(
    want: DesiredInstance, observed: Sequence[ObservedInstance], claimed: set[int]
) -> int | None:
    matches = [
        i for i, o in enumerate(observed) if o.identifier == want.identifier and i not in claimed
    ]
    same_kind = [i for i in matches if observed[i].kind == want.kind]
    best = same_kind or matches
    return best[0] if best else None


def _load(want: DesiredInstance, observed: Sequence[ObservedInstance]) -> Load:
    asked = want.load.get("contextLength")
    limits = [
        o.max_context_length
        for o in observed
        if o.model_key == want.model_key and o.max_context_length is not None
    ]
    if isinstance(asked, int) and limits:
        limit = min(limits)
        if asked > limit:
            return Load(
                want,
                (
                    f"contextLength {asked} exceeds the model maximum {limit}; "
                    "LM Studio will fit it lower",
                ),
            )
    return Load(want)


def _conflict(
    want: DesiredInstance, have: ObservedInstance, record: OwnershipRecord | None
) -> Conflict:
    reason = f"identifier {want.identifier!r} is held by an instance lmsprofiles did not load"
    if record is not None:
        reason += f" (it was replaced: now {have.kind} {have.model_key})"
    if have.model_key == want.model_key and compare(want, have, check_ttl=False).satisfied:
        reason += "; it matches the profile: unload it to let lmsprofiles manage it"
    else:
        reason += "; unload it or give the profile another identifier"
    return Conflict(want, have, reason)


def _other(
    have: ObservedInstance,
    owned: Mapping[str, OwnershipRecord],
    prune: bool,
    by_key: Mapping[str, str],
) -> Action:
    record = owned.get(have.identifier)
    if record is not None and record.matches(have):
        if prune:
            return Unload(have, "loaded by lmsprofiles; its profile is gone")
        return Leave(have, "loaded by lmsprofiles; its profile is gone (--prune unloads it)", True)
    duplicate_of = by_key.get(have.model_key)
    if duplicate_of is not None:
        return Leave(have, f"not loaded by lmsprofiles; duplicate of {duplicate_of!r}")
    return Leave(have, "not loaded by lmsprofiles")


def _diagnostics(action: Action, by_key: Mapping[str, str]) -> list[Diagnostic]:
    match action:
        case Load(desired=want, notes=notes):
            return [Diagnostic("warning", want.identifier, n) for n in notes]
        case Reload(comparison=result) | Reuse(comparison=result):
            found: list[Diagnostic] = []
            for d in result.notes:
                severity: Literal["warning", "info"] = (
                    "info" if d.observed is UNKNOWN else "warning"
                )
                found.append(Diagnostic(severity, action.desired.identifier, f"{d.path}: {d.note}"))
            return found
        case Conflict(desired=want, reason=reason):
            return [Diagnostic("error", want.identifier, f"cannot load: {reason}")]
        case Leave(observed=have, owned=False) if have.model_key in by_key:
            return [
                Diagnostic(
                    "warning",
                    have.identifier,
                    f"duplicate instance of {have.model_key} "
                    f"(managed as {by_key[have.model_key]!r}), not loaded by lmsprofiles",
                )
            ]
        case Leave() | Unload():
            return []
        case _:
            assert_never(action)
