"""Executing a plan: unloads first, then loads; then the state is read back and verified.

The executor talks to LM Studio only through :class:`InstanceApi` (satisfied by
``LMStudioClient``) and to the ownership file only through a ``save`` callback, so it can run
against the emulator or an in-memory fake alike. Rules:

* every unload (pruned instances and the old side of reloads) runs before any load, to free
  memory first;
* a failed step is recorded and the run goes on with the others; the load half of a reload
  is skipped if its unload failed (the identifier is still taken);
* ownership is recorded right after each successful load and dropped after each unload,
  and saved after every change, so an interrupted run leaves true records behind;
* conflicts are reported as failures without being attempted;
* the read-back re-plans against the new state; anything still pending that did not
  already fail is a verification failure.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, assert_never

from lmsprofiles._errors import LMStudioError, LMStudioUnreachableError
from lmsprofiles._reconcile._model import (
    DesiredInstance,
    Kind,
    ObservedInstance,
    OwnershipRecord,
)
from lmsprofiles._reconcile._plan import (
    Action,
    Conflict,
    Leave,
    Load,
    Plan,
    Reload,
    Reuse,
    Unload,
    action_name,
    make_plan,
)
from lmsprofiles._reconcile._progress import Reporter, SilentReporter

__all__ = ["ApplyResult", "Failure", "InstanceApi", "Step", "apply_plan"]


class InstanceApi(Protocol):
    """What the executor needs from LM Studio."""

    def observe(self) -> list[ObservedInstance]: ...

    def load(
        self, desired: DesiredInstance, on_progress: Callable[[float], None] | None = None
    ) -> str: ...

    def unload(self, identifier: str, kind: Kind) -> None: ...


@dataclass(frozen=True)
class Step:
    """One change made: ``verb`` is ``"load"`` or ``"unload"``."""

    verb: str
    identifier: str
    model_key: str


@dataclass(frozen=True)
class Failure:
    """One action that did not happen (or did not stick); ``action`` as in the plan, or
    ``"verify"`` for a difference still present after applying."""

    identifier: str
    action: str
    message: str


@dataclass(frozen=True)
class ApplyResult:
    """What applying ``plan`` did; ``verification`` is the plan made from the state read back."""

    plan: Plan
    steps: tuple[Step, ...]
    failures: tuple[Failure, ...]
    verification: Plan

    @property
    def ok(self) -> bool:
        """True if everything in the plan happened and the read-back state matches."""
        return not self.failures


def apply_plan(
    plan: Plan,
    desired: Sequence[DesiredInstance],
    api: InstanceApi,
    owned: Mapping[str, OwnershipRecord],
    save: Callable[[Mapping[str, OwnershipRecord]], None],
    *,
    reporter: Reporter | None = None,
) -> ApplyResult:
    """Apply ``plan`` through ``api`` and verify the result.

    ``owned`` are the records the plan was made with; ``save`` persists the updated records
    (called after every change). Raises :class:`LMStudioUnreachableError` if the connection
    is lost; other SDK failures are collected per action.
    """
    run = _Run(api, dict(owned), save, reporter or SilentReporter())
    for record in plan.stale_records:
        run.forget(record.identifier)
    blocked = _unload_phase(plan, run)
    _load_phase(plan, run, blocked)
    observed = api.observe()
    for identifier, record in list(run.records.items()):
        if not any(record.matches(o) for o in observed):
            run.forget(identifier)
    verification = make_plan(
        desired,
        observed,
        run.records,
        prune=plan.prune,
        context_policy=plan.context_policy,
    )
    failed = {f.identifier for f in run.failures}
    for action in verification.actions:
        name = _pending_identifier(action)
        if name is not None and name not in failed:
            run.failures.append(
                Failure(name, "verify", f"still {action_name(action)} pending after apply")
            )
    return ApplyResult(plan, tuple(run.steps), tuple(run.failures), verification)


def _unload_phase(plan: Plan, run: _Run) -> set[str]:
    """Run every unload; return the identifiers whose unload failed."""
    blocked: set[str] = set()
    for action in plan.actions:
        match action:
            case Unload(observed=have) | Reload(observed=have):
                if not run.unload(have, action_name(action)):
                    blocked.add(have.identifier)
            case Conflict(desired=want, reason=reason):
                run.failures.append(Failure(want.identifier, "conflict", reason))
            case Load() | Reuse() | Leave():
                pass
            case _:
                assert_never(action)
    return blocked


def _load_phase(plan: Plan, run: _Run, blocked: set[str]) -> None:
    for action in plan.actions:
        match action:
            case Load(desired=want) | Reload(desired=want):
                if want.identifier not in blocked:
                    run.load(want, action_name(action))
            case Unload() | Reuse() | Leave() | Conflict():
                pass
            case _:
                assert_never(action)


def _pending_identifier(action: Action) -> str | None:
    match action:
        case Load(desired=want) | Reload(desired=want):
            return want.identifier
        case Unload(observed=have):
            return have.identifier
        case Reuse() | Leave() | Conflict():
            return None
        case _:
            assert_never(action)


class _Run:
    def __init__(
        self,
        api: InstanceApi,
        records: dict[str, OwnershipRecord],
        save: Callable[[Mapping[str, OwnershipRecord]], None],
        reporter: Reporter,
    ) -> None:
        self.api = api
        self.records = records
        self.save = save
        self.reporter = reporter
        self.steps: list[Step] = []
        self.failures: list[Failure] = []

    def forget(self, identifier: str) -> None:
        if self.records.pop(identifier, None) is not None:
            self.save(self.records)

    def unload(self, have: ObservedInstance, action: str) -> bool:
        self.reporter.start("unload", have.identifier, have.model_key)
        try:
            self.api.unload(have.identifier, have.kind)
        except LMStudioUnreachableError:
            self.reporter.finish("connection lost")
            raise
        except LMStudioError as exc:
            self.reporter.finish(str(exc))
            self.failures.append(Failure(have.identifier, action, str(exc)))
            return False
        self.reporter.finish(None)
        self.steps.append(Step("unload", have.identifier, have.model_key))
        self.forget(have.identifier)
        return True

    def load(self, want: DesiredInstance, action: str) -> None:
        self.reporter.start("load", want.identifier, want.model_key)
        try:
            identifier = self.api.load(want, self.reporter.progress)
        except LMStudioUnreachableError:
            self.reporter.finish("connection lost")
            raise
        except LMStudioError as exc:
            self.reporter.finish(str(exc))
            self.failures.append(Failure(want.identifier, action, str(exc)))
            return
        self.reporter.finish(None)
        self.steps.append(Step("load", identifier, want.model_key))
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        self.records[identifier] = OwnershipRecord(
            identifier, want.model_key, want.kind, want.ttl, now
        )
        self.save(self.records)
        if identifier != want.identifier:
            self.failures.append(
                Failure(want.identifier, action, f"LM Studio named the instance {identifier!r}")
            )
