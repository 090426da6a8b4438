"""The planner: desired instances + observed instances + ownership -> a plan (pure, no I/O).

Per desired instance the plan holds exactly one of :class:`Load`, :class:`Reload`,
:class:`Reuse`, :class:`Adopt`, :class:`Conflict` or :class:`Invalid`; per observed instance
that no desired instance claims, one of :class:`Unload` or :class:`Leave`. Rules:

* unsettled intents of an interrupted run are resolved first (:func:`._ownership.resolve`);
* an observed instance counts as *owned* only if an ownership record matches its identifier,
  model key and type (:func:`._ownership.owned_record`); instances lmsprofiles did not load
  are never unloaded or reloaded;
* a desired identifier held by an instance we do not own is a :class:`Conflict`, unless
  adopting was asked for and the instance has the profile's model key and type: then it is
  an :class:`Adopt` (taken over, recorded as owned, reloaded if it does not fit);
* preflight: a profile whose load could not succeed (model not downloaded, wrong type,
  contextLength above the model's maximum) is :class:`Invalid` and never acted on: the
  instance it has, if any, stays as it is;
* owned instances whose profile is gone are unloaded only with ``prune``;
* other instances of a desired model key (``key:2`` left by ``lms load``) are reported as
  duplicates.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias, assert_never

from lmsprofiles._reconcile._compare import (
    DEFAULT_CONTEXT_POLICY,
    Comparison,
    ContextPolicy,
    compare,
)
from lmsprofiles._reconcile._desired import KEPT
from lmsprofiles._reconcile._model import (
    UNKNOWN,
    DesiredInstance,
    DownloadedModel,
    ObservedInstance,
    OwnershipRecord,
)
from lmsprofiles._reconcile._ownership import (
    Intent,
    State,
    owned_record,
    resolve,
    with_references,
)

__all__ = [
    "ACTION_NAMES",
    "Action",
    "ActionName",
    "Adopt",
    "Conflict",
    "Diagnostic",
    "Invalid",
    "Leave",
    "Load",
    "Plan",
    "Reload",
    "Reuse",
    "Unload",
    "action_name",
    "make_plan",
    "preflight",
]


@dataclass(frozen=True)
class Load:
    """Load ``desired``: no instance with its identifier is loaded."""

    desired: DesiredInstance


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


@dataclass(frozen=True)
class Adopt:
    """Take over the foreign ``observed``: it has ``desired``'s identifier, model key and type.

    It is recorded as owned; if it does not satisfy the profile (``comparison``), reconcile
    then reloads it like a :class:`Reload`.
    """

    desired: DesiredInstance
    observed: ObservedInstance
    comparison: Comparison

    @property
    def reloads(self) -> bool:
        """True if the adopted instance must be reloaded to fit the profile."""
        return not self.comparison.satisfied


@dataclass(frozen=True)
class Invalid:
    """``desired`` cannot be applied on this host (preflight); ``observed`` is left as it is."""

    desired: DesiredInstance
    observed: ObservedInstance | None
    reason: str


Action: TypeAlias = Load | Reload | Reuse | Unload | Leave | Conflict | Adopt | Invalid
ActionName: TypeAlias = Literal[
    "load", "reload", "reuse", "unload", "leave", "conflict", "adopt", "invalid"
]
ACTION_NAMES: Final[tuple[ActionName, ...]] = (
    "load",
    "reload",
    "reuse",
    "unload",
    "leave",
    "conflict",
    "adopt",
    "invalid",
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
        case Adopt():
            return "adopt"
        case Invalid():
            return "invalid"
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

    ``state`` is the ownership state the plan was made with, after resolving the intents of
    an interrupted run and before applying anything; ``stale_records`` are records whose
    instance is no longer loaded (expired by ttl or unloaded by someone): applying the plan
    forgets them. ``resolved_intents`` says whether ``state`` differs from the records
    read (intents resolved, instance references learned): applying writes it.
    """

    actions: tuple[Action, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    stale_records: tuple[OwnershipRecord, ...] = ()
    prune: bool = False
    context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY
    state: State = field(default_factory=State)
    resolved_intents: bool = False
    not_deployed: Mapping[str, str] = field(default_factory=dict)

    @property
    def changes_pending(self) -> bool:
        """True if applying the plan would load, reload, unload or adopt anything."""
        return any(isinstance(a, Load | Reload | Unload | Adopt) for a in self.actions)

    @property
    def needs_downloaded(self) -> bool:
        """True if a decision of the plan depends on the models the host has downloaded: it
        loads an instance (a load, a reload, an adopt that reloads), whose preflight checks
        the model, or it holds an invalid profile, whose reason may be that very check.
        A plan made without the list (``downloaded=None``) that needs none is the plan."""
        return any(
            isinstance(a, Load | Reload | Invalid) or (isinstance(a, Adopt) and a.reloads)
            for a in self.actions
        )

    @property
    def blocked(self) -> tuple[Conflict | Invalid, ...]:
        """The desired instances the plan cannot bring to their profile."""
        return tuple(a for a in self.actions if isinstance(a, Conflict | Invalid))

    @property
    def status(self) -> Literal["blocked", "changes_pending", "no_changes"]:
        """``blocked`` if any profile cannot be applied, else whether changes are pending."""
        if self.blocked:
            return "blocked"
        return "changes_pending" if self.changes_pending else "no_changes"

    @property
    def summary(self) -> dict[ActionName, int]:
        """Number of actions of each kind, every kind present."""
        counts: dict[ActionName, int] = dict.fromkeys(ACTION_NAMES, 0)
        for action in self.actions:
            counts[action_name(action)] += 1
        return counts

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """The desired instances held by an instance lmsprofiles did not load."""
        return tuple(a for a in self.actions if isinstance(a, Conflict))


def make_plan(
    desired: Sequence[DesiredInstance],
    observed: Sequence[ObservedInstance],
    owned: Mapping[str, OwnershipRecord],
    *,
    intents: Mapping[str, Intent] | None = None,
    downloaded: Sequence[DownloadedModel] | None = None,
    prune: bool = False,
    adopt: bool | Collection[str] = False,
    context_policy: ContextPolicy = DEFAULT_CONTEXT_POLICY,
    not_deployed: Mapping[str, str] | None = None,
    in_progress: bool = False,
) -> Plan:
    """Decide, per desired and per observed instance, what reconcile does.

    ``owned`` maps identifiers to the ownership records of this host and ``intents`` holds
    the unsettled intents of an interrupted run. ``downloaded`` lists the models the host
    can load (``None``: unknown, no preflight of model keys). ``adopt`` is ``True`` to take
    over every foreign instance that matches a profile, or the identifiers to take over.
    ``not_deployed`` maps the identifiers of model profiles that are not desired here to why
    (:func:`~._desired.not_deployed`): an owned instance of one is never unloaded if its
    profile has ``deploy: false``, else unloaded with ``prune`` for that reason.
    ``in_progress``: another run holds the server's lock, so ``intents`` are its steps under
    way (a read-only plan), not an interrupted run's. Raises
    ``ValueError`` if two desired instances share an identifier.
    """
    _check_unique(d.identifier for d in desired)
    start = State(dict(owned), dict(intents or {}))
    state, recovered = resolve(start, observed, in_progress=in_progress)
    learned = with_references(state, observed)
    state, learned_references = learned, learned != state
    records = state.records
    actions: list[Action] = []
    diagnostics = [Diagnostic("info", identifier, note) for identifier, note in recovered]
    claimed: set[int] = set()
    for want in sorted(desired, key=lambda d: d.identifier):
        index = _find(want, observed, claimed)
        have = None if index is None else observed[index]
        if index is not None:
            claimed.add(index)
        actions.append(
            _decide(want, have, records, downloaded, _adopting(adopt, want), context_policy)
        )
    by_key = {d.model_key: d.identifier for d in sorted(desired, key=lambda d: d.identifier)}
    rest = sorted(
        (o for i, o in enumerate(observed) if i not in claimed),
        key=lambda o: (o.kind, o.identifier),
    )
    for other in rest:
        actions.append(_other(other, records, prune, by_key, not_deployed or {}))
    for action in actions:
        diagnostics.extend(_diagnostics(action, by_key))
    stale = tuple(
        record
        for _, record in sorted(records.items())
        if not any(record.matches(o) for o in observed)
    )
    return Plan(
        tuple(actions),
        tuple(diagnostics),
        stale,
        prune,
        context_policy,
        state,
        bool(intents) or learned_references,
        dict(not_deployed or {}),
    )


def preflight(
    want: DesiredInstance,
    downloaded: Sequence[DownloadedModel] | None,
    observed: ObservedInstance | None = None,
    *,
    loading: bool = True,
) -> str | None:
    """Why a load of ``want`` could not succeed on this host, or None.

    Checks that the model key is downloaded (with a did-you-mean from the downloaded list)
    and of the profile's type, and that ``contextLength`` is within the model's maximum
    (from ``downloaded``, else from ``observed``). With ``loading=False`` (the instance is
    kept as it is) only the context length is checked: a profile asking for more than the
    model can hold is never satisfied.
    """
    model = _downloaded(want.model_key, downloaded or ())
    if loading and downloaded is not None:
        if model is None:
            return _not_downloaded(want, downloaded)
        if model.kind is not None and model.kind != want.kind:
            return (
                f"{want.model_key} is an {model.kind} model, but the profile loads it as "
                f"an {want.kind} model{_origin(want, 'type')}"
            )
    limit = model.max_context_length if model is not None else None
    if limit is None and observed is not None and observed.model_key == want.model_key:
        limit = observed.max_context_length
    asked = want.load.get("contextLength")
    if isinstance(asked, int) and not isinstance(asked, bool) and limit and asked > limit:
        return (
            f"load.contextLength {asked} exceeds the maximum of {want.model_key} "
            f"({limit}){_origin(want, 'load.contextLength')}"
        )
    return None


def _decide(
    want: DesiredInstance,
    have: ObservedInstance | None,
    records: Mapping[str, OwnershipRecord],
    downloaded: Sequence[DownloadedModel] | None,
    adopting: bool,
    context_policy: ContextPolicy,
) -> Action:
    if have is None:
        problem = preflight(want, downloaded)
        return Load(want) if problem is None else Invalid(want, None, problem)
    record = owned_record(records, have)
    result = compare(
        want,
        have,
        context_policy=context_policy,
        recorded_ttl=record.ttl if record is not None else UNKNOWN,
    )
    if record is None:
        same_model = have.model_key == want.model_key and have.kind == want.kind
        if not (adopting and same_model):
            return _conflict(want, have, records.get(have.identifier))
        problem = preflight(want, downloaded, have, loading=not result.satisfied)
        if problem is not None:
            return Invalid(want, have, f"{problem}; not taken over")
        return Adopt(want, have, result)
    problem = preflight(want, downloaded, have, loading=not result.satisfied)
    if problem is not None:
        return Invalid(want, have, f"{problem}; the loaded instance is kept")
    return Reuse(want, have, result) if result.satisfied else Reload(want, have, result)


def _adopting(adopt: bool | Collection[str], want: DesiredInstance) -> bool:
    return adopt if isinstance(adopt, bool) else want.identifier in adopt


def _downloaded(key: str, downloaded: Iterable[DownloadedModel]) -> DownloadedModel | None:
    for model in downloaded:
        if key in (model.model_key, model.path):
            return model
    return None


def _not_downloaded(want: DesiredInstance, downloaded: Sequence[DownloadedModel]) -> str:
    keys = [m.model_key for m in downloaded if m.kind in (None, want.kind)]
    same_case = [k for k in keys if k.lower() == want.model_key.lower()]
    guess = same_case or difflib.get_close_matches(want.model_key, keys, n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return f"model {want.model_key!r} is not downloaded on this host{_origin(want, 'model')}{hint}"


def _origin(want: DesiredInstance, path: str) -> str:
    origin = want.origins.get(path)
    return f" [{origin}]" if origin else ""


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


def _conflict(
    want: DesiredInstance, have: ObservedInstance, record: OwnershipRecord | None
) -> Conflict:
    reason = f"identifier {want.identifier!r} is held by an instance lmsprofiles did not load"
    if record is not None:
        reason += f" (it was replaced: now {have.kind} {have.model_key})"
    if have.model_key == want.model_key and have.kind == want.kind:
        reason += (
            f"; `lmsprofiles adopt {want.identifier}` takes it over (reconcile then reloads "
            "it if it does not fit)"
        )
    else:
        reason += (
            f"; unload it (`lms unload {have.identifier}`) or give the profile another identifier"
        )
    return Conflict(want, have, reason)


def _other(
    have: ObservedInstance,
    owned: Mapping[str, OwnershipRecord],
    prune: bool,
    by_key: Mapping[str, str],
    not_deployed: Mapping[str, str],
) -> Action:
    if owned_record(owned, have) is not None:
        why = not_deployed.get(have.identifier, "its profile is gone")
        if why == KEPT:
            return Leave(have, f"loaded by lmsprofiles; {KEPT} (never unloaded by reconcile)", True)
        if prune:
            return Unload(have, f"loaded by lmsprofiles; {why}")
        return Leave(have, f"loaded by lmsprofiles; {why} (--prune unloads it)", True)
    duplicate_of = by_key.get(have.model_key)
    if duplicate_of is not None:
        return Leave(have, f"not loaded by lmsprofiles; duplicate of {duplicate_of!r}")
    return Leave(have, "not loaded by lmsprofiles")


def _diagnostics(action: Action, by_key: Mapping[str, str]) -> list[Diagnostic]:
    match action:
        case Load():
            return []
        case Reload(comparison=result) | Reuse(comparison=result) | Adopt(comparison=result):
            found: list[Diagnostic] = []
            for d in result.notes:
                severity: Literal["warning", "info"] = (
                    "info" if d.observed is UNKNOWN else "warning"
                )
                found.append(Diagnostic(severity, action.desired.identifier, f"{d.path}: {d.note}"))
            return found
        case Conflict(desired=want, reason=reason):
            return [Diagnostic("error", want.identifier, f"cannot load: {reason}")]
        case Invalid(desired=want, reason=reason):
            return [Diagnostic("error", want.identifier, f"cannot apply: {reason}")]
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
