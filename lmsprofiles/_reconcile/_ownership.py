"""Which loaded instances lmsprofiles owns: the one rule, and write-ahead intents (pure, no I/O).

The ownership records of a host (:class:`State`) hold one :class:`OwnershipRecord` per
instance lmsprofiles loaded, and one :class:`Intent` per load or unload that was started but
not yet settled. Every change to LM Studio goes through the same three steps, whoever makes
it (``reconcile`` or a runtime session):

1. record the intent durably (:func:`with_intent`);
2. call LM Studio;
3. settle: record the outcome and drop the intent (:func:`settle_load`, :func:`settle_unload`).

A process killed between 1 and 3 leaves the intent behind; the next run resolves it against
what LM Studio lists (:func:`resolve`): an instance with the intent's identifier, model and
config is ours, an unload that happened is forgotten. So a crash at any point leaves state
the next run repairs, and never turns an instance lmsprofiles loaded into a "foreign" one.

The ownership rule (:func:`owned_record`) is shared by the planner and the sessions: an
instance is owned only if a record matches its identifier, model key and type.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lmsprofiles._reconcile._compare import compare
from lmsprofiles._reconcile._model import DesiredInstance, Kind, ObservedInstance, OwnershipRecord

__all__ = [
    "Intent",
    "State",
    "config_digest",
    "drop_intent",
    "now",
    "owned_record",
    "resolve",
    "settle_load",
    "settle_unload",
    "take_over",
    "with_intent",
    "with_references",
    "without_records",
]


def now() -> str:
    """The current time as an ISO 8601 UTC timestamp (seconds)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def config_digest(desired: DesiredInstance) -> str:
    """A short digest of what a load sends: model key, type, load config and ttl."""
    document = {
        "model": desired.model_key,
        "type": desired.kind,
        "load": desired.load,
        "ttl": desired.ttl,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Intent:
    """A load or unload that was started and not yet settled.

    For a load, ``load`` and ``ttl`` are what was sent, so an instance found later can be
    checked against them; ``digest`` is :func:`config_digest` of it.
    """

    op: Literal["load", "unload"]
    identifier: str
    model_key: str
    kind: Kind
    ttl: int | None = None
    load: Mapping[str, Any] = field(default_factory=dict)
    digest: str = ""
    started_at: str = ""

    @classmethod
    def loading(cls, desired: DesiredInstance) -> Intent:
        """The intent to load ``desired``."""
        return cls(
            "load",
            desired.identifier,
            desired.model_key,
            desired.kind,
            desired.ttl,
            dict(desired.load),
            config_digest(desired),
            now(),
        )

    @classmethod
    def unloading(cls, record: OwnershipRecord) -> Intent:
        """The intent to unload the owned instance ``record`` describes."""
        return cls(
            "unload", record.identifier, record.model_key, record.kind, record.ttl, {}, "", now()
        )

    def desired(self) -> DesiredInstance:
        """What the intended load asked for."""
        return DesiredInstance(self.identifier, self.model_key, self.kind, self.load, self.ttl)


@dataclass(frozen=True)
class State:
    """The ownership records and unsettled intents of one host, by identifier."""

    records: Mapping[str, OwnershipRecord] = field(default_factory=dict)
    intents: Mapping[str, Intent] = field(default_factory=dict)


def owned_record(
    records: Mapping[str, OwnershipRecord], observed: ObservedInstance
) -> OwnershipRecord | None:
    """The record that makes ``observed`` ours (same identifier, model key, type), or None."""
    record = records.get(observed.identifier)
    return record if record is not None and record.matches(observed) else None


def with_intent(state: State, intent: Intent) -> State:
    """``state`` with ``intent`` recorded (replacing any intent for the same identifier)."""
    return replace(state, intents={**state.intents, intent.identifier: intent})


def settle_load(state: State, intent: Intent, identifier: str) -> State:
    """``state`` after the load of ``intent`` created ``identifier``: owned, intent dropped."""
    record = OwnershipRecord(identifier, intent.model_key, intent.kind, intent.ttl, now())
    intents = {k: v for k, v in state.intents.items() if k != intent.identifier}
    return State({**state.records, identifier: record}, intents)


def take_over(state: State, observed: ObservedInstance, ttl: int | None) -> State:
    """``state`` with the foreign ``observed`` recorded as owned (adopted).

    ``ttl`` stands in for the instance's ttl when LM Studio does not report it.
    """
    if isinstance(observed.ttl_ms, int):
        ttl = observed.ttl_ms // 1000
    elif observed.ttl_ms is None:
        ttl = None
    record = OwnershipRecord(
        observed.identifier,
        observed.model_key,
        observed.kind,
        ttl,
        now(),
        observed.instance_reference,
    )
    return replace(state, records={**state.records, observed.identifier: record})


def with_references(state: State, observed: Iterable[ObservedInstance]) -> State:
    """``state`` with the instance reference of each owned instance in ``observed`` recorded
    where its record has none yet (a load does not report it; the next read-back does)."""
    records = dict(state.records)
    for have in observed:
        record = records.get(have.identifier)
        if (
            record is not None
            and record.instance_reference is None
            and have.instance_reference is not None
            and record.matches(have)
        ):
            records[have.identifier] = replace(record, instance_reference=have.instance_reference)
    return state if records == state.records else replace(state, records=records)


def drop_intent(state: State, identifier: str) -> State:
    """``state`` without the intent for ``identifier`` (the call failed: nothing changed)."""
    return replace(state, intents={k: v for k, v in state.intents.items() if k != identifier})


def settle_unload(state: State, identifier: str) -> State:
    """``state`` after ``identifier`` was unloaded (or its load failed): record and intent gone."""
    return State(
        {k: v for k, v in state.records.items() if k != identifier},
        {k: v for k, v in state.intents.items() if k != identifier},
    )


def without_records(state: State, identifiers: Iterable[str]) -> State:
    """``state`` without the records of ``identifiers``."""
    gone = set(identifiers)
    return replace(state, records={k: v for k, v in state.records.items() if k not in gone})


def resolve(
    state: State,
    observed: Iterable[ObservedInstance],
    *,
    only: str | None = None,
    in_progress: bool = False,
) -> tuple[State, tuple[tuple[str, str], ...]]:
    """Settle the intents an interrupted run left, against the instances LM Studio lists.

    Returns the state without intents, and one ``(identifier, note)`` per intent saying what
    was found:

    * a load whose instance is listed with the intent's identifier, model key, type and
      config (the comparison ``reconcile`` uses) was ours: it is recorded as owned;
    * a load with nothing (or something else) under its identifier recorded nothing;
    * an unload whose instance is gone happened: its record is dropped; one whose instance
      is still listed did not: the record stays.

    With ``only``, just the intent of that identifier is resolved (``observed`` need only
    hold that instance) and the others stay. ``in_progress`` says the intents are those of a
    run still going on (a read-only plan while another run holds the lock): the notes say
    how far it got rather than calling its steps interrupted.
    """
    by_identifier = {o.identifier: o for o in observed}
    records = dict(state.records)
    notes: list[tuple[str, str]] = []
    kept = {k: v for k, v in state.intents.items() if only is not None and k != only}
    for identifier, intent in sorted(state.intents.items()):
        if identifier in kept:
            continue
        have = by_identifier.get(identifier)
        when = f"started {intent.started_at}" if intent.started_at else "started earlier"
        step = (
            f"{'an' if intent.op == 'unload' else 'a'} {intent.op} of the run in progress ({when})"
            if in_progress
            else f"an interrupted {intent.op} ({when})"
        )
        if intent.op == "load":
            if have is not None and _is_intended(intent, have):
                records[identifier] = OwnershipRecord(
                    identifier,
                    intent.model_key,
                    intent.kind,
                    intent.ttl,
                    intent.started_at,
                    have.instance_reference,
                )
                done = "has completed" if in_progress else "completed"
                note = f"{step} {done}; recorded as loaded by lmsprofiles"
            elif in_progress:
                note = f"{step} has not completed yet"
            else:
                what = "no instance" if have is None else "an instance it did not load"
                note = f"{step} left {what}"
        elif have is None or owned_record(records, have) is None:
            records.pop(identifier, None)
            note = f"{step} {'has completed' if in_progress else 'completed'}"
        else:
            note = f"{step} {'has not happened yet' if in_progress else 'did not happen'}"
        notes.append((identifier, note))
    return State(records, kept), tuple(notes)


def _is_intended(intent: Intent, have: ObservedInstance) -> bool:
    if have.model_key != intent.model_key or have.kind != intent.kind:
        return False
    return compare(intent.desired(), have, recorded_ttl=intent.ttl).satisfied
