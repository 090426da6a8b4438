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
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lmsprofiles._errors import (
    ApplyError,
    LmsProfilesError,
    Problem,
    ProfileError,
    UnknownModelError,
)
from lmsprofiles._reconcile._apply import ApplyResult, apply_plan
from lmsprofiles._reconcile._compare import ContextPolicy
from lmsprofiles._reconcile._desired import control_settings, desired_instances, not_deployed
from lmsprofiles._reconcile._host import parse_host
from lmsprofiles._reconcile._lock import host_lock, lock_holder
from lmsprofiles._reconcile._loop import HostClient
from lmsprofiles._reconcile._model import DesiredInstance, DownloadedModel, Kind, ObservedInstance
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
from lmsprofiles._reconcile._progress import Reporter, make_reporter
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

if TYPE_CHECKING:
    from lmsprofiles._profiles import ProfileSet

__all__ = ["HostRun", "Options", "Prepared", "Target", "execute", "prepare", "run_host"]


@dataclass(frozen=True)
class Options:
    """Everything ``plan``, ``reconcile`` and ``adopt`` take from the command line.

    ``None`` means "not given". ``adopt`` is ``True`` to take over every foreign instance
    that matches a profile, or the identifiers to take over (``adopt NAME...``).
    ``hosts`` and ``all_hosts`` select hosts of the inventory to run on at once.
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
    hosts: tuple[str, ...] = ()
    """``--hosts``: names of inventory hosts, or ``KEY=VALUE`` for the hosts with that label."""
    all_hosts: bool = False


def execute(options: Options, out: TextIO | None = None) -> int:
    """Run the command; return 0, or 2 for pending changes where asked; raise on failure.

    A blocked plan or a partial apply raises :class:`ApplyError` (exit 4) after the output.
    With ``hosts`` or ``all_hosts`` the hosts of the inventory run at once
    (:mod:`._fleet`) and the most severe exit code over them is returned. SIGTERM is
    handled like Ctrl-C (``KeyboardInterrupt``): the step under way ends the same way.
    """
    with _sigterm_interrupts():
        return _execute(options, out)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While in the block, SIGTERM raises ``KeyboardInterrupt`` like SIGINT (main thread
    only: elsewhere signal handlers cannot be set)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _execute(options: Options, out: TextIO | None) -> int:
    stream = out if out is not None else sys.stdout
    _quiet_sdk_logs()
    prepared = prepare(options)
    if options.all_hosts or options.hosts:
        from lmsprofiles._reconcile._fleet import execute_fleet

        return execute_fleet(options, prepared, stream)
    host_name = None if options.emulator else _inventory_host(prepared, prepared.host)
    if host_name is not None and not isinstance(options.adopt, bool):
        _check_adopt_names(options.adopt, desired_instances(prepared.profiles, host_name))
    with contextlib.ExitStack() as stack:
        address, state_dir = prepared.host, prepared.state_dir
        if options.emulator:
            address, state_dir = _with_emulator(stack, state_dir)
        run = run_host(
            options,
            prepared,
            Target(address, host_name, state_dir or default_state_dir()),
            stream,
            color=_color(options, stream),
        )
    if options.json_output and run.document is not None:
        _write_json(run.document, stream)
    if run.error is not None:
        raise run.error
    return run.code


@dataclass(frozen=True)
class Prepared:
    """What a run knows before it contacts anything: options and profiles, all checked."""

    profiles: ProfileSet
    host: str | None
    """The address of ``--host`` or ``LMSPROFILES_HOST``; None: the SDK's discovery."""
    timeout: float
    state_dir: Path | None
    """``--state-dir`` or ``LMSPROFILES_STATE_DIR``, checked; None: the default."""


def prepare(options: Options) -> Prepared:
    """Check the options, the environment and the profiles; ``ProfileError`` (exit 3) if any
    is invalid. Nothing is contacted."""
    from lmsprofiles._profiles import load

    settings = control_settings()
    host = _host(options.host) if options.host else settings.host
    timeout = options.timeout or settings.timeout or DEFAULT_TIMEOUT
    state_dir = _state_dir(options, settings.state_dir)
    profiles = load(options.profiles or settings.profiles)
    if not isinstance(options.adopt, bool):
        _check_adopt_names(options.adopt, desired_instances(profiles))
    return Prepared(profiles, host, timeout, state_dir)


@dataclass(frozen=True)
class Target:
    """One LM Studio host to run against."""

    address: str | None
    """``HOST:PORT``; None: the SDK's discovery."""
    name: str | None
    """Its name in the inventory, if it has one; its layers and models then apply."""
    state_dir: Path


@dataclass(frozen=True)
class HostRun:
    """How the run on one host ended.

    ``code`` is the exit code; ``document`` the JSON document of the plan or the result
    (None if the run stopped before a plan); ``error`` the error to report, if any (a
    blocked plan or a partial apply is an :class:`ApplyError` with a document).
    """

    code: int
    document: dict[str, Any] | None = None
    error: LmsProfilesError | None = None


def run_host(
    options: Options,
    prepared: Prepared,
    target: Target,
    stream: TextIO,
    *,
    color: bool = False,
    stop: threading.Event | None = None,
    tally: Callable[[Reporter], Reporter] | None = None,
) -> HostRun:
    """Plan (and apply) on one host; text output goes to ``stream`` as it happens.

    Raises :class:`LmsProfilesError` for a run that stops before it has a plan (unreachable,
    timed out, lock held, damaged state file, ...). ``stop``, once set, interrupts the run
    (``KeyboardInterrupt``) before its next call to LM Studio. ``tally``, if given, wraps
    the reporter of the apply (to count the steps done).
    """
    read_only = options.command == "plan" or options.dry_run
    with HostClient(target.address, timeout=prepared.timeout) as client:
        name = target.name if target.address is not None else _inventory_host(prepared, client.host)
        label = client.host if name is None else f"{client.host} ({name})"
        desired = desired_instances(prepared.profiles, name)
        kept = not_deployed(prepared.profiles, name)
        if not isinstance(options.adopt, bool):
            _check_adopt_names(options.adopt, desired)
        api = _Stoppable(client, stop)
        store = OwnershipStore(target.state_dir, client.host)
        if read_only:
            holder = lock_holder(target.state_dir, client.host)
            plan = _plan(options, desired, api, store.read(), kept, in_progress=holder is not None)
            command = "reconcile" if options.dry_run else "plan"
            document = plan_document(plan, host=client.host, command=command)
            if not options.json_output:
                if holder is not None:
                    stream.write(
                        f"Note: another lmsprofiles run is in progress on this server: {holder}; "
                        "this plan shows the state it has reached so far.\n\n"
                    )
                stream.write(_plan_text(plan, label, color))
            error = _blocked(plan)
            pending = options.dry_run or options.detailed_exitcode
            code = 4 if error else 2 if pending and plan.changes_pending else 0
            return HostRun(code, _named(document, name), error)
        operation = options.command
        lock = host_lock(
            target.state_dir, client.host, operation=operation, timeout=options.lock_timeout
        )
        with lock:
            state = store.read(set_aside_damaged=operation == "adopt" or bool(options.adopt))
            if store.outdated:
                store.write(state)
            plan = _plan(options, desired, api, state, kept)
            if not options.json_output:
                for moved in store.set_aside:
                    stream.write(f"The damaged state file was moved to {moved}.\n")
                stream.write(_plan_text(plan, label, color) + "\n")
            reporter = make_reporter(
                stream, json_output=options.json_output, progress_bars=stop is None
            )
            if tally is not None:
                reporter = tally(reporter)
            try:
                result = apply_plan(
                    plan,
                    desired,
                    api,
                    store.write,
                    reporter=reporter,
                    adopt_only=operation == "adopt",
                )
            finally:
                reporter.close()
    document = result_document(result, host=client.host, command=operation)
    if not options.json_output:
        stream.write(render_result(result, host=label, command=operation))
    error = _partial(options, result)
    return HostRun(4 if error else 0, _named(document, name), error)


def _named(document: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The document with ``host_name`` after ``host`` when the host is in the inventory."""
    if name is None:
        return document
    keys = list(document)
    at = keys.index("host") + 1
    return (
        {k: document[k] for k in keys[:at]}
        | {"host_name": name}
        | {k: document[k] for k in keys[at:]}
    )


def _inventory_host(prepared: Prepared, address: str | None) -> str | None:
    """The name of the inventory host on the server ``address`` names, if there is one."""
    from lmsprofiles._inventory import on_server

    host = on_server(prepared.profiles.hosts, address)
    return None if host is None else host.name


def _with_emulator(stack: contextlib.ExitStack, state_dir: Path | None) -> tuple[str, Path]:
    """A fresh in-process emulator for the run, and a throwaway state dir unless one is given."""
    address = stack.enter_context(_emulator())
    if state_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="lmsprofiles-state-")
        state_dir = Path(stack.enter_context(temporary))
    return address, state_dir


def _color(options: Options, stream: TextIO) -> bool:
    from lmsprofiles._color import use_color

    return use_color(stream, no_color=options.no_color)


class _Stoppable:
    """The client, as the planner and the executor use it, stopping once ``stop`` is set."""

    def __init__(self, client: HostClient, stop: threading.Event | None) -> None:
        self._client = client
        self._stop = stop

    def _check(self) -> None:
        if self._stop is not None and self._stop.is_set():
            raise KeyboardInterrupt

    def downloaded(self) -> list[DownloadedModel]:
        self._check()
        return self._client.downloaded()

    def observe(self) -> list[ObservedInstance]:
        self._check()
        return self._client.observe()

    def load(
        self, desired: DesiredInstance, on_progress: Callable[[float], None] | None = None
    ) -> str:
        self._check()
        return self._client.load(desired, on_progress)

    def unload(self, identifier: str, kind: Kind) -> None:
        self._check()
        self._client.unload(identifier, kind)


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
    client: _Stoppable,
    state: State,
    kept: Mapping[str, str],
    *,
    in_progress: bool = False,
) -> Plan:
    """The plan for the host's state. The downloaded models are read only for a plan whose
    decisions depend on them (:attr:`Plan.needs_downloaded`: it loads something or blocks a
    profile): one that keeps what is loaded needs neither the list nor the websocket it is
    read on."""
    observed = client.observe()

    def plan(downloaded: Sequence[DownloadedModel] | None) -> Plan:
        return make_plan(
            desired,
            observed,
            state.records,
            intents=state.intents,
            downloaded=downloaded,
            prune=options.prune and options.command != "adopt",
            adopt=options.adopt,
            context_policy=options.context_policy,
            not_deployed=kept,
            in_progress=in_progress,
        )

    unchecked = plan(None)
    return plan(client.downloaded()) if unchecked.needs_downloaded else unchecked


def _blocked(plan: Plan) -> ApplyError | None:
    if not plan.blocked:
        return None
    names = ", ".join(f"{a.desired.identifier} ({type(a).__name__.lower()})" for a in plan.blocked)
    return ApplyError(
        f"the plan is blocked: {names}",
        [(a.desired.identifier, a.reason) for a in plan.blocked],
    )


def _partial(options: Options, result: ApplyResult) -> ApplyError | None:
    """The error (exit 4) of an apply whose failures count; None if there are none."""
    failures = _failures_that_count(options, result)
    if not failures:
        return None
    if options.command == "adopt":
        reasons = "; ".join(f"{i}: {m}" for i, _, m in failures)
        message = f"adopt could not take over {reasons}"
    else:
        names = ", ".join(dict.fromkeys(f"{i} ({a})" for i, a, _ in failures))
        message = f"reconcile applied its plan only in part; failed: {names}"
    return ApplyError(message, [(i, m) for i, _, m in failures])


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


def _plan_text(plan: Plan, host: str, color: bool) -> str:
    """The plan as text, coloured by action if ``color``."""
    text = render_plan(plan, host=host)
    if not color:
        return text
    from lmsprofiles._color import color_plan

    return color_plan(text)


def _write_json(document: dict[str, Any], stream: TextIO) -> None:
    stream.write(json.dumps(document, indent=2) + "\n")


@contextlib.contextmanager
def _emulator() -> Iterator[str]:
    """A fresh in-process emulator with the default catalog; yields its ``host:port``."""
    from lmsprofiles.emulator import Emulator

    with Emulator(catalog=None).running() as emulator:
        yield str(emulator.host)
