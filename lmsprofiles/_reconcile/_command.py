"""The ``plan``, ``reconcile`` and ``adopt`` commands: wiring profiles, client, state, lock, output.

Order of work: the options, the environment and the profiles are checked first (anything
invalid -> ``ProfileError``, exit 3, nothing contacted); then LM Studio is contacted (the
emulator started first with ``--emulator``); ``reconcile`` and ``adopt`` take the server's
lock before they read the ownership records and the instances, and keep it until the state
is read back. ``plan`` and ``reconcile --dry-run`` are read-only and take no lock.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import sys
import tempfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lmsprofiles._errors import ApplyError, Problem, ProfileError, UnknownModelError
from lmsprofiles._reconcile._apply import ApplyResult, apply_plan
from lmsprofiles._reconcile._client import LMStudioClient
from lmsprofiles._reconcile._compare import ContextPolicy
from lmsprofiles._reconcile._desired import control_settings, desired_instances
from lmsprofiles._reconcile._host import parse_host
from lmsprofiles._reconcile._lock import host_lock
from lmsprofiles._reconcile._model import DesiredInstance
from lmsprofiles._reconcile._ownership import State
from lmsprofiles._reconcile._plan import (
    Conflict,
    Invalid,
    Load,
    Plan,
    Reload,
    Reuse,
    make_plan,
)
from lmsprofiles._reconcile._progress import make_reporter
from lmsprofiles._reconcile._render import (
    plan_document,
    render_plan,
    render_result,
    result_document,
)
from lmsprofiles._reconcile._state import (
    STATE_DIR_ENV,
    OwnershipStore,
    check_state_dir,
    default_state_dir,
)
from lmsprofiles._reconcile._timeout import DEFAULT_TIMEOUT

__all__ = ["Options", "execute"]


@dataclass(frozen=True)
class Options:
    """Everything ``plan``, ``reconcile`` and ``adopt`` take from the command line.

    ``None`` means "not given". ``adopt`` is ``True`` to take over every foreign instance
    that matches a profile, or the identifiers to take over (``adopt NAME...``).
    """

    command: str
    profiles: Path | None = None
    host: str | None = None
    state_dir: Path | None = None
    prune: bool = False
    json_output: bool = False
    emulator: bool = False
    context_policy: ContextPolicy = "warn"
    detailed_exitcode: bool = False
    dry_run: bool = False
    lock_timeout: float = 0.0
    timeout: float | None = None
    adopt: bool | tuple[str, ...] = False
    no_color: bool = False


def execute(options: Options, out: TextIO | None = None) -> int:
    """Run the command; return 0, or 2 for pending changes where asked; raise on failure.

    A blocked plan or a partial apply raises :class:`ApplyError` (exit 4) after the output.
    """
    stream = out if out is not None else sys.stdout
    _quiet_sdk_logs()
    settings = control_settings()
    host = _host(options.host) if options.host else settings.host
    timeout = options.timeout or settings.timeout or DEFAULT_TIMEOUT
    state_dir = _state_dir(options, settings.state_dir)
    desired = desired_instances(options.profiles or settings.profiles)
    _check_adopt_names(options.adopt, desired)
    read_only = options.command == "plan" or options.dry_run
    with contextlib.ExitStack() as stack:
        if options.emulator:
            host = stack.enter_context(_emulator())
            if state_dir is None:
                temporary = tempfile.TemporaryDirectory(prefix="lmsprofiles-state-")
                state_dir = Path(stack.enter_context(temporary))
        state_dir = state_dir or default_state_dir()
        client = stack.enter_context(LMStudioClient(host, timeout=timeout))
        store = OwnershipStore(state_dir, client.host)
        if read_only:
            plan = _plan(options, desired, client, store.read())
            _emit_plan(options, plan, client.host, stream)
            _raise_if_blocked(plan)
            pending = options.dry_run or options.detailed_exitcode
            return 2 if pending and plan.changes_pending else 0
        operation = options.command
        with host_lock(state_dir, client.host, operation=operation, timeout=options.lock_timeout):
            state = store.read(set_aside_damaged=operation == "adopt")
            if store.outdated:
                store.write(state)
            plan = _plan(options, desired, client, state)
            if not options.json_output:
                for moved in store.set_aside:
                    stream.write(f"The damaged state file was moved to {moved}.\n")
                stream.write(_plan_text(options, plan, client.host, stream) + "\n")
            reporter = make_reporter(stream, json_output=options.json_output)
            try:
                result = apply_plan(
                    plan,
                    desired,
                    client,
                    store.write,
                    reporter=reporter,
                    adopt_only=operation == "adopt",
                )
            finally:
                reporter.close()
    _emit_result(options, result, client.host, stream)
    failures = _failures_that_count(options, result)
    if not failures:
        return 0
    if operation == "adopt":
        reasons = "; ".join(f"{i}: {m}" for i, _, m in failures)
        message = f"adopt could not take over {reasons}"
    else:
        names = ", ".join(dict.fromkeys(f"{i} ({a})" for i, a, _ in failures))
        message = f"reconcile applied its plan only in part; failed: {names}"
    raise ApplyError(message, [(i, m) for i, _, m in failures])


def _quiet_sdk_logs() -> None:
    """Keep the SDK's log records off stderr: every failure is reported as one line.

    Without a handler anywhere, Python prints warnings and errors of any logger on stderr
    (``logging.lastResort``); a command-line run has no log configuration of its own.
    """
    import logging

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def _host(text: str) -> str:
    try:
        return parse_host(text)
    except ValueError as exc:
        raise ProfileError.single("--host", str(exc)) from None


def _state_dir(options: Options, from_env: Path | None) -> Path | None:
    """The state dir given by ``--state-dir`` or the environment, checked; None: default."""
    if options.state_dir is not None:
        check_state_dir(options.state_dir, "--state-dir")
        return options.state_dir
    if from_env is not None:
        check_state_dir(from_env, STATE_DIR_ENV)
    return from_env


def _check_adopt_names(adopt: bool | Collection[str], desired: Sequence[DesiredInstance]) -> None:
    if isinstance(adopt, bool):
        return
    known = [d.identifier for d in desired]
    problems = []
    for name in adopt:
        if name not in known:
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            message = f"no deployed model profile named {name!r}{hint}"
            problems.append(Problem("adopt", None, None, name, message))
    if problems:
        raise UnknownModelError(problems)


def _plan(
    options: Options,
    desired: Sequence[DesiredInstance],
    client: LMStudioClient,
    state: State,
) -> Plan:
    observed = client.observe()
    downloaded = client.downloaded()
    return make_plan(
        desired,
        observed,
        state.records,
        intents=state.intents,
        downloaded=downloaded,
        prune=options.prune and options.command != "adopt",
        adopt=options.adopt,
        context_policy=options.context_policy,
    )


def _raise_if_blocked(plan: Plan) -> None:
    if plan.blocked:
        names = ", ".join(
            f"{a.desired.identifier} ({type(a).__name__.lower()})" for a in plan.blocked
        )
        raise ApplyError(
            f"the plan is blocked: {names}",
            [(a.desired.identifier, a.reason) for a in plan.blocked],
        )


def _failures_that_count(options: Options, result: ApplyResult) -> list[tuple[str, str, str]]:
    """``(identifier, action, message)`` of the failures that make the command exit 4.

    ``adopt`` answers only for the instances it was asked to take over.
    """
    failures = [(f.identifier, f.action, f.message) for f in result.failures]
    if options.command != "adopt":
        return failures
    if isinstance(options.adopt, bool):
        return []
    adopted = {s.identifier for s in result.steps}
    return [
        (name, "adopt", _why_not_adopted(result.plan, name))
        for name in options.adopt
        if name not in adopted
    ]


def _why_not_adopted(plan: Plan, identifier: str) -> str:
    for action in plan.actions:
        match action:
            case Load(desired=want) if want.identifier == identifier:
                return "no instance with this identifier is loaded"
            case Reuse(desired=want) | Reload(desired=want) if want.identifier == identifier:
                return "already loaded by lmsprofiles"
            case Conflict(desired=want) | Invalid(desired=want) if want.identifier == identifier:
                return action.reason
    return "not adopted"


def _emit_plan(options: Options, plan: Plan, host: str, stream: TextIO) -> None:
    if options.json_output:
        command = "reconcile" if options.dry_run else "plan"
        document = plan_document(plan, host=host, command=command)
        _write_json(document, stream)
    else:
        stream.write(_plan_text(options, plan, host, stream))


def _plan_text(options: Options, plan: Plan, host: str, stream: TextIO) -> str:
    """The plan as text, coloured by action when ``stream`` is a terminal."""
    from lmsprofiles._color import color_plan, use_color

    text = render_plan(plan, host=host)
    return color_plan(text) if use_color(stream, no_color=options.no_color) else text


def _emit_result(options: Options, result: ApplyResult, host: str, stream: TextIO) -> None:
    if options.json_output:
        _write_json(result_document(result, host=host, command=options.command), stream)
    else:
        stream.write(render_result(result, host=host, command=options.command))


def _write_json(document: dict[str, Any], stream: TextIO) -> None:
    stream.write(json.dumps(document, indent=2) + "\n")


@contextlib.contextmanager
def _emulator() -> Iterator[str]:
    """A fresh in-process emulator with the default catalog; yields its ``host:port``."""
    from lmsprofiles.emulator import Emulator

    with Emulator(catalog=None).running() as emulator:
        yield str(emulator.host)
