"""The ``plan`` and ``reconcile`` commands: wiring profiles, client, state, lock and output.

Order of work: the profiles are loaded and validated first (invalid -> ``ProfileError``,
exit 3, nothing contacted); then LM Studio is contacted (the emulator started first with
``--emulator``); ``reconcile`` takes the host lock before it reads the ownership records
and the instances, and keeps it until the state is read back.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lmsprofiles._errors import ApplyError
from lmsprofiles._reconcile._apply import ApplyResult, Failure, apply_plan
from lmsprofiles._reconcile._client import LMStudioClient
from lmsprofiles._reconcile._compare import ContextPolicy
from lmsprofiles._reconcile._desired import control_settings, desired_instances
from lmsprofiles._reconcile._lock import host_lock
from lmsprofiles._reconcile._model import DesiredInstance
from lmsprofiles._reconcile._plan import Plan, make_plan
from lmsprofiles._reconcile._progress import make_reporter
from lmsprofiles._reconcile._render import (
    plan_document,
    render_plan,
    render_result,
    result_document,
)
from lmsprofiles._reconcile._state import OwnershipStore, default_state_dir

__all__ = ["Options", "execute"]


@dataclass(frozen=True)
class Options:
    """Everything ``plan`` and ``reconcile`` take from the command line (``None`` = not given)."""

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
    no_color: bool = False


def execute(options: Options, out: TextIO | None = None) -> int:
    """Run the command; return 0, or 2 for pending changes where asked; raise on failure."""
    stream = out if out is not None else sys.stdout
    settings = control_settings()
    profiles = options.profiles or settings.profiles
    desired = desired_instances(profiles)
    with contextlib.ExitStack() as stack:
        host = options.host or settings.host
        state_dir = options.state_dir or settings.state_dir
        if options.emulator:
            host = stack.enter_context(_emulator())
            if state_dir is None:
                state_dir = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="lmsprofiles-state-"))
                )
        client = stack.enter_context(LMStudioClient(host))
        store = OwnershipStore(state_dir or default_state_dir(), client.host)
        if options.command == "plan" or options.dry_run:
            plan = _plan(options, desired, client, store)
            _emit_plan(options, plan, client.host, stream)
            pending = options.dry_run or options.detailed_exitcode
            return 2 if pending and plan.changes_pending else 0
        with host_lock(
            store.path.parent.parent,
            client.host,
            operation="reconcile",
            timeout=options.lock_timeout,
        ):
            plan = _plan(options, desired, client, store)
            if not options.json_output:
                stream.write(_plan_text(options, plan, client.host, stream) + "\n")
            result = _apply(options, plan, desired, client, store, stream)
    _emit_result(options, result, client.host, stream)
    if result.failures:
        names = ", ".join(dict.fromkeys(f.identifier for f in result.failures))
        raise ApplyError(
            f"reconcile applied its plan only in part; failed: {names}",
            [(f.identifier, f.message) for f in result.failures],
        )
    return 0


def _plan(
    options: Options,
    desired: Sequence[DesiredInstance],
    client: LMStudioClient,
    store: OwnershipStore,
) -> Plan:
    owned = store.read()
    observed = client.observe()
    return make_plan(
        desired, observed, owned, prune=options.prune, context_policy=options.context_policy
    )


def _apply(
    options: Options,
    plan: Plan,
    desired: Sequence[DesiredInstance],
    client: LMStudioClient,
    store: OwnershipStore,
    stream: TextIO,
) -> ApplyResult:
    owned = store.read()
    if not plan.changes_pending:
        # Nothing to change: skip the read-back, which would only repeat what was just read.
        if plan.stale_records:
            gone = {r.identifier for r in plan.stale_records}
            store.write({k: v for k, v in owned.items() if k not in gone})
        conflicts = tuple(
            Failure(c.desired.identifier, "conflict", c.reason) for c in plan.conflicts
        )
        return ApplyResult(plan, (), conflicts, plan)
    reporter = make_reporter(stream, json_output=options.json_output)
    try:
        return apply_plan(plan, desired, client, owned, store.write, reporter=reporter)
    finally:
        reporter.close()


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
        _write_json(result_document(result, host=host), stream)
    else:
        stream.write(render_result(result, host=host))


def _write_json(document: dict[str, Any], stream: TextIO) -> None:
    stream.write(json.dumps(document, indent=2) + "\n")


@contextlib.contextmanager
def _emulator() -> Iterator[str]:
    """A fresh in-process emulator with the default catalog; yields its ``host:port``."""
    from lmsprofiles.emulator import Emulator

    with Emulator(catalog=None).running() as emulator:
        yield str(emulator.host)
