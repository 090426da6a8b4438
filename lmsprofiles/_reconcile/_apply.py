"""Executing a plan: adoptions, then unloads, then loads; then the state is read back and verified.

The executor talks to LM Studio only through :class:`InstanceApi` (satisfied by
``LMStudioClient``) and to the ownership records only through a ``save`` callback, so it can
run against the emulator or an in-memory fake alike. Rules:

* the state the plan was made with (intents of an interrupted run resolved, stale records
  dropped) is saved first;
* every unload (pruned instances and the old side of reloads) runs before any load, to free
  memory first;
* every load and unload is write-ahead: its intent is saved before LM Studio is asked and
  settled (recorded or forgotten) right after (:mod:`._ownership`), so a process killed at
  any point leaves records the next run resolves;
* a failed step is recorded and the run goes on with the others; the load half of a reload
  is skipped if its unload failed (the identifier is still taken);
* conflicts and preflight failures are reported as failures without being attempted;
* the read-back re-plans against the new state; anything still pending that did not
  already fail is a verification failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, assert_never

from lmsprofiles._errors import LMStudioError
from lmsprofiles._reconcile._model import DesiredInstance, Kind, ObservedInstance
from lmsprofiles._reconcile._ownership import State, settle_unload, take_over, with_references
from lmsprofiles._reconcile._plan import (
    Action,
    Adopt,
    Conflict,
    Invalid,
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
from lmsprofiles._reconcile._steps import (
    CallLoad,
    CallUnload,
    Flow,
    Outcome,
    Save,
    drive,
    load_flow,
    unload_flow,
)

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
    """One change made: ``verb`` is ``"load"``, ``"unload"`` or ``"adopt"``."""

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
    save: Callable[[State], None],
    *,
    reporter: Reporter | None = None,
    adopt_only: bool = False,
) -> ApplyResult:
    """Apply ``plan`` through ``api`` and verify the result.

    ``save`` persists the ownership state (called before and after every change). With
    ``adopt_only`` only the adoptions are recorded and LM Studio is not changed (the
    ``adopt`` command). Raises :class:`LMStudioUnreachableError` if the connection is lost
    and :class:`LMStudioTimeoutError` if LM Studio stops answering (the intent of the step
    under way stays recorded); other SDK failures are collected per action.
    """
    run = _Run(api, plan.state, save, reporter or SilentReporter())
    for record in plan.stale_records:
        run.state = settle_unload(run.state, record.identifier)
    if plan.resolved_intents or plan.stale_records:
        run.save(run.state)
    _adopt_phase(plan, run, report_blocked=not adopt_only)
    if adopt_only or not plan.changes_pending:
        # Nothing changed on the server: skip the read-back, which would repeat the plan.
        return ApplyResult(plan, tuple(run.steps), tuple(run.failures), plan)
    blocked = _unload_phase(plan, run)
    _load_phase(plan, run, blocked)
    observed = api.observe()
    for identifier, record in list(run.state.records.items()):
        if not any(record.matches(o) for o in observed):
            run.state = settle_unload(run.state, identifier)
            run.save(run.state)
    learned = with_references(run.state, observed)
    if learned != run.state:
        run.state = learned
        run.save(run.state)
    verification = make_plan(
        desired,
        observed,
        run.state.records,
        prune=plan.prune,
        context_policy=plan.context_policy,
        not_deployed=plan.not_deployed,
    )
    failed = {f.identifier for f in run.failures}
    for action in verification.actions:
        name = _pending_identifier(action)
        if name is not None and name not in failed:
            run.failures.append(
                Failure(name, "verify", f"still {action_name(action)} pending after apply")
            )
    return ApplyResult(plan, tuple(run.steps), tuple(run.failures), verification)


def _adopt_phase(plan: Plan, run: _Run, *, report_blocked: bool) -> None:
    for action in plan.actions:
        match action:
            case Adopt(desired=want, observed=have):
                run.state = take_over(run.state, have, want.ttl)
                run.save(run.state)
                run.steps.append(Step("adopt", have.identifier, have.model_key))
            case Conflict(desired=want, reason=reason) | Invalid(desired=want, reason=reason):
                if report_blocked:
                    run.failures.append(Failure(want.identifier, action_name(action), reason))
            case Load() | Reload() | Reuse() | Unload() | Leave():
                pass
            case _:
                assert_never(action)


def _unload_phase(plan: Plan, run: _Run) -> set[str]:
    """Run every unload; return the identifiers whose unload failed."""
    blocked: set[str] = set()
    for action in plan.actions:
        match action:
            case Unload(observed=have) | Reload(observed=have):
                if not run.unload(have, action_name(action)):
                    blocked.add(have.identifier)
            case Adopt(observed=have) if action.reloads:
                if not run.unload(have, "reload"):
                    blocked.add(have.identifier)
            case Adopt() | Load() | Reuse() | Leave() | Conflict() | Invalid():
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
            case Adopt(desired=want) if action.reloads:
                if want.identifier not in blocked:
                    run.load(want, "reload")
            case Adopt() | Unload() | Reuse() | Leave() | Conflict() | Invalid():
                pass
            case _:
                assert_never(action)


def _pending_identifier(action: Action) -> str | None:
    match action:
        case Load(desired=want) | Reload(desired=want) | Adopt(desired=want):
            return want.identifier
        case Unload(observed=have):
            return have.identifier
        case Reuse() | Leave() | Conflict() | Invalid():
            return None
        case _:
            assert_never(action)


class _Run:
    def __init__(
        self,
        api: InstanceApi,
        state: State,
        save: Callable[[State], None],
        reporter: Reporter,
    ) -> None:
        self.api = api
        self.state = state
        self.save = save
        self.reporter = reporter
        self.steps: list[Step] = []
        self.failures: list[Failure] = []

    def unload(self, have: ObservedInstance, action: str) -> bool:
        record = self.state.records.get(have.identifier)
        assert record is not None, "only owned instances are unloaded"
        self.reporter.start("unload", have.identifier, have.model_key)
        outcome = self._drive(unload_flow(self.state, record))
        self.state = outcome.state
        if outcome.error is not None:
            self.failures.append(Failure(have.identifier, action, str(outcome.error)))
            return False
        self.steps.append(Step("unload", have.identifier, have.model_key))
        return True

    def load(self, want: DesiredInstance, action: str) -> None:
        self.reporter.start("load", want.identifier, want.model_key)
        outcome = self._drive(load_flow(self.state, want))
        self.state = outcome.state
        if outcome.error is not None:
            self.failures.append(Failure(want.identifier, action, str(outcome.error)))
            return
        identifier = outcome.identifier or want.identifier
        self.steps.append(Step("load", identifier, want.model_key))
        if identifier != want.identifier:
            self.failures.append(
                Failure(want.identifier, action, f"LM Studio named the instance {identifier!r}")
            )

    def _drive(self, flow: Flow[Outcome]) -> Outcome:
        """Run a load or unload flow, reporting its end to the reporter."""
        try:
            outcome = drive(flow, self._handle)
        except LMStudioError as exc:  # connection lost or timed out: the intent stays
            self.reporter.finish(str(exc))
            raise
        self.reporter.finish(None if outcome.error is None else str(outcome.error))
        return outcome

    def _handle(self, request: Save | CallLoad | CallUnload) -> object:
        match request:
            case Save(state=state):
                self.save(state)
                return None
            case CallLoad(desired=want):
                return self.api.load(want, self.reporter.progress)
            case CallUnload(identifier=identifier, kind=kind):
                self.api.unload(identifier, kind)
                return None
