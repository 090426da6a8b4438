"""Write-ahead loads and unloads as I/O-free flows, shared by reconcile and the sessions.

Every exception of a request, ``KeyboardInterrupt`` and task cancellation included, is thrown
into the flow, so its ``finally`` blocks run (and may still yield, e.g. to release a lock)
before the exception reaches the caller.

A flow is a generator that yields the I/O it needs (:class:`Save`, :class:`CallLoad`,
:class:`CallUnload`, and for sessions more requests) and receives the results; a driver
does the I/O: :func:`drive` for blocking code, :func:`drive_async` for asyncio. So the
decisions and the order of steps exist once, and the sync and async code only differ in
how they wait (in the manner of sans-I/O libraries).

The steps of a load: save the intent, call LM Studio, save the outcome (owned, intent
dropped). A failure LM Studio reports (load failed) drops the intent again; a lost
connection or a timeout leaves it, because the outcome is unknown: the next run resolves it
(:func:`._ownership.resolve`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, cast

from lmsprofiles._errors import LMStudioError, LMStudioTimeoutError, LMStudioUnreachableError
from lmsprofiles._reconcile._failpoint import failpoint
from lmsprofiles._reconcile._model import DesiredInstance, Kind, OwnershipRecord
from lmsprofiles._reconcile._ownership import (
    Intent,
    State,
    drop_intent,
    settle_load,
    settle_unload,
    with_intent,
)

__all__ = [
    "CallLoad",
    "CallUnload",
    "Flow",
    "Outcome",
    "Save",
    "drive",
    "drive_async",
    "load_flow",
    "unload_flow",
]

T = TypeVar("T")
Flow: TypeAlias = Generator[Any, Any, T]
"""A flow yields requests (any of the dataclasses here or a caller's own) and returns T."""


@dataclass(frozen=True)
class Save:
    """Persist ``state`` (atomically, under the host lock)."""

    state: State


@dataclass(frozen=True)
class CallLoad:
    """Ask LM Studio to load ``desired``; the result is the identifier it got."""

    desired: DesiredInstance


@dataclass(frozen=True)
class CallUnload:
    """Ask LM Studio to unload ``identifier``."""

    identifier: str
    kind: Kind


@dataclass(frozen=True)
class Outcome:
    """How a load or unload ended: the new state, and the error LM Studio reported, if any.

    ``identifier`` is the identifier a load got (``None`` after a failure or an unload).
    """

    state: State
    error: LMStudioError | None = None
    identifier: str | None = None


_UNKNOWN_OUTCOME = (LMStudioUnreachableError, LMStudioTimeoutError)


def unload_flow(state: State, record: OwnershipRecord) -> Flow[Outcome]:
    """Unload the owned instance ``record`` describes, write-ahead."""
    identifier = record.identifier
    state = with_intent(state, Intent.unloading(record))
    yield Save(state)
    failpoint("unload-intent", identifier)
    try:
        yield CallUnload(identifier, record.kind)
    except _UNKNOWN_OUTCOME:
        raise
    except LMStudioError as exc:
        state = drop_intent(state, identifier)
        yield Save(state)
        return Outcome(state, exc)
    failpoint("unloaded", identifier)
    state = settle_unload(state, identifier)
    yield Save(state)
    return Outcome(state)


def load_flow(state: State, desired: DesiredInstance) -> Flow[Outcome]:
    """Load ``desired`` and record it as owned, write-ahead."""
    intent = Intent.loading(desired)
    state = with_intent(state, intent)
    yield Save(state)
    failpoint("load-intent", desired.identifier)
    try:
        identifier = yield CallLoad(desired)
    except _UNKNOWN_OUTCOME:
        raise
    except LMStudioError as exc:
        state = drop_intent(state, desired.identifier)
        yield Save(state)
        return Outcome(state, exc)
    failpoint("loaded", desired.identifier)
    state = settle_load(state, intent, str(identifier))
    yield Save(state)
    failpoint("settled", desired.identifier)
    return Outcome(state, identifier=str(identifier))


def drive(flow: Flow[T], handle: Callable[[Any], Any]) -> T:
    """Run ``flow`` to its end, doing each request with ``handle`` (blocking)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        done, request = _advance(flow, value, error)
        if done:
            return cast(T, request)
        try:
            value, error = handle(request), None
        except BaseException as exc:  # handed to the flow: it may handle it, or clean up
            value, error = None, exc


async def drive_async(flow: Flow[T], handle: Callable[[Any], Awaitable[Any]]) -> T:
    """Run ``flow`` to its end, doing each request with the coroutine ``handle``."""
    value: Any = None
    error: BaseException | None = None
    while True:
        done, request = _advance(flow, value, error)
        if done:
            return cast(T, request)
        try:
            value, error = await handle(request), None
        except BaseException as exc:  # handed to the flow: it may handle it, or clean up
            value, error = None, exc


def _advance(flow: Flow[Any], value: Any, error: BaseException | None) -> tuple[bool, Any]:
    """Give the flow the last result (or error): ``(False, next request)`` or ``(True, result)``."""
    try:
        return False, flow.send(value) if error is None else flow.throw(error)
    except StopIteration as stop:
        return True, stop.value
