"""Fan-out: ``plan`` and ``reconcile`` on several hosts of the inventory at once.

Each host runs on a thread of its own, exactly as a run with ``--host`` does
(:func:`._command.run_host`): its own SDK client, ownership records, server lock and
write-ahead intents. A host that fails (unreachable, timed out, lock held, a load that
failed, ...) never stops the others. Text output is grouped by host in the order of the
inventory, each group printed once it and those before it are done, and ends with a table;
``--json`` prints one document with one plan per host. The exit code is the most severe over
the hosts, in the order of :data:`SEVERITY`.

Ctrl-C (or SIGTERM) stops every host before its next call to LM Studio and waits a moment
for them, then says on stderr what each host did; a step LM Studio is doing meanwhile (a long
load) is left to finish on the server, and its intent, recorded before it started, is
resolved by the next run, as after a single-host run that was interrupted or killed.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TextIO

from lmsprofiles._errors import LmsProfilesError, Problem, ProfileError, UnknownHostError
from lmsprofiles._reconcile._command import (
    HostRun,
    Options,
    Prepared,
    Target,
    _color,
    _with_emulator,
    run_host,
)
from lmsprofiles._reconcile._progress import Reporter, Tally
from lmsprofiles._reconcile._render import FORMAT_VERSION, SUMMARY_WORDS
from lmsprofiles._reconcile._state import default_state_dir

if TYPE_CHECKING:
    from lmsprofiles._inventory import Host
    from lmsprofiles._profiles import ProfileSet

__all__ = ["SEVERITY", "execute_fleet", "select_hosts", "worst"]

SEVERITY: Final = (130, 3, 1, 5, 4, 2, 0)
"""Exit codes, most severe first: interrupted, invalid, an error (unreachable, timed out,
connection lost, damaged state file), lock held, blocked or partly applied, changes pending,
success. A fan-out run exits with the first of these that any host gave."""

_STATUSES: Final = (
    "interrupted",
    "error",
    "failed",
    "blocked",
    "changes_pending",
    "applied",
    "no_changes",
)
"""Host statuses, most severe first; the run's status is the first any host has."""

_DONE: Final = {"adopt": "adopted", "load": "loaded", "unload": "unloaded"}
_GRACE_SECONDS: Final = 3.0
"""How long Ctrl-C waits for the hosts to stop between two calls to LM Studio."""


def worst(codes: Sequence[int]) -> int:
    """The most severe of exit codes (:data:`SEVERITY`); 0 for none."""
    rank = {code: i for i, code in enumerate(SEVERITY)}
    return min(codes, key=lambda c: rank.get(c, 0), default=0)


def select_hosts(profiles: ProfileSet, names: Sequence[str], *, every: bool = False) -> list[Host]:
    """The inventory hosts ``--all-hosts`` (``every``) or ``--hosts NAMES`` select, in the
    order of the inventory. An item of ``names`` is a host name, or ``KEY=VALUE`` for every
    host with that label. Raises :class:`ProfileError` (exit 3) for a name that is not a
    host, a label no host has, or an empty inventory."""
    option = "--all-hosts" if every else "--hosts"
    hosts = profiles.hosts
    if not hosts:
        files = [profiles.root / n for n in ("hosts.yaml", "hosts.yml")]
        written = [f for f in files if f.exists()]
        missing = f"there is no hosts.yaml in {profiles.root}"
        why = f"{written[0]} has no hosts" if written else missing
        raise ProfileError.single(option, f"no hosts to run on: {why} (docs/fleet.md)")
    if every:
        return list(hosts.values())
    chosen: set[str] = set()
    problems: list[Problem] = []
    for item in names:
        key, equals, value = item.partition("=")
        if equals:
            found = {h.name for h in hosts.values() if h.labels.get(key) == value}
            if not found:
                problems.append(Problem(option, None, None, item, f"no host has the label {item}"))
            chosen |= found
            continue
        try:
            chosen.add(profiles.host(item).name)
        except UnknownHostError as exc:
            problems += [Problem(option, None, None, item, p.message) for p in exc.problems]
    if problems:
        raise UnknownHostError(problems)
    return [host for name, host in hosts.items() if name in chosen]


@dataclass
class _Job:
    """One host's run on its own thread."""

    host: Host
    address: str
    done: threading.Event = field(default_factory=threading.Event)
    text: str = ""
    run: HostRun | None = None
    failure: BaseException | None = None
    """An exception lmsprofiles did not mean to raise: raised again by the main thread."""
    tally: Tally | None = None
    """The steps of its apply, once it applies."""

    def work(self, options: Options, prepared: Prepared, target: Target, **how: Any) -> None:
        buffer = io.StringIO()
        try:
            self.run = run_host(options, prepared, target, buffer, tally=self._count, **how)
        except LmsProfilesError as exc:
            self.run = HostRun(exc.exit_code, None, exc)
        except KeyboardInterrupt:
            self.run = HostRun(130)
        except BaseException as exc:  # a bug: reported by the main thread
            self.failure = exc
        finally:
            self.text = buffer.getvalue()
            self.done.set()

    def _count(self, reporter: Reporter) -> Reporter:
        self.tally = Tally(reporter)
        return self.tally

    @property
    def outcome(self) -> HostRun:
        return self.run if self.run is not None else HostRun(130)

    def did(self) -> str:
        """What the host did, for the summary of an interrupted fan-out."""
        if self.done.is_set() and self.run is not None and self.run.code != 130:
            return _result(self.run)
        tally = self.tally
        if tally is None:
            return "interrupted before any change"
        done: dict[str, list[str]] = {}
        for verb, identifier in tally.done:
            done.setdefault(verb, []).append(identifier)
        words = [f"{len(ids)} {_DONE[verb]} ({', '.join(ids)})" for verb, ids in done.items()]
        said = f"interrupted: {', '.join(words) or 'nothing changed'}"
        if tally.under_way is not None:
            said += f"; {' '.join(tally.under_way)} was under way"
        return said


def execute_fleet(options: Options, prepared: Prepared, stream: TextIO) -> int:
    """Run ``options.command`` on the selected hosts at once; return the most severe exit
    code over them (:data:`SEVERITY`)."""
    hosts = select_hosts(prepared.profiles, options.hosts, every=options.all_hosts)
    color = _color(options, stream)
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        state_dir = prepared.state_dir
        addresses = {host.name: host.address for host in hosts}
        if options.emulator:
            for host in hosts:
                addresses[host.name], state_dir = _with_emulator(stack, state_dir)
        state_dir = state_dir or default_state_dir()
        jobs = [_Job(host, addresses[host.name]) for host in hosts]
        for job in jobs:
            target = Target(job.address, job.host.name, state_dir)
            how = {"color": color, "stop": stop}
            thread = threading.Thread(
                target=job.work,
                args=(options, prepared, target),
                kwargs=how,
                name=f"lmsprofiles-host-{job.host.name}",
                daemon=True,  # a host stuck in a call to LM Studio never holds up the exit
            )
            thread.start()
        try:
            for job in jobs:
                _wait(job.done)
                if not options.json_output:
                    stream.write(_group(job))
                    stream.flush()
        except KeyboardInterrupt:
            stop.set()
            deadline = time.monotonic() + _GRACE_SECONDS
            for job in jobs:
                job.done.wait(max(0.0, deadline - time.monotonic()))
            width = max(len(job.host.name) for job in jobs)
            print("What each host did before the interruption:", file=sys.stderr)
            for job in jobs:
                print(f"  {job.host.name:<{width}}  {job.did()}", file=sys.stderr)
            raise
    for job in jobs:
        if job.failure is not None:
            raise job.failure
    code = worst([job.outcome.code for job in jobs])
    for job in jobs:
        error = job.outcome.error
        if error is not None:
            print(f"error: {job.host.name}: {error}", file=sys.stderr)
    if options.json_output:
        document = _document(options, jobs, code)
        stream.write(json.dumps(document, indent=2) + "\n")
    else:
        stream.write(_table(jobs, code))
    return code


def _wait(event: threading.Event) -> None:
    """Wait for ``event``, in short waits so that Ctrl-C is seen at once."""
    while not event.wait(0.2):
        pass


def _group(job: _Job) -> str:
    head = f"=== {job.host.name} ({job.address}) ===\n"
    body = job.text
    error = job.outcome.error
    if error is not None and job.outcome.document is None:
        body += f"error: {error}\n"
    return head + body + "\n"


def _status(run: HostRun) -> str:
    if run.document is not None:
        return str(run.document["status"])
    return "interrupted" if run.code == 130 else "error"


def _result(run: HostRun) -> str:
    """One line for the table: the status and what was (or would be) done, or the error."""
    document = run.document
    if document is None:
        return "interrupted" if run.code == 130 else f"error: {run.error}"
    status = str(document["status"]).replace("_", " ")
    result = document.get("result")
    if result is not None:
        done: dict[str, int] = {}
        for step in result["steps"]:
            done[step["verb"]] = done.get(step["verb"], 0) + 1
        counts = [f"{n} {_DONE[verb]}" for verb, n in done.items()]
        counts.append(f"{document['summary']['reuse']} reused")
        if result["failures"]:
            counts.append(f"{len(result['failures'])} failed")
    else:
        summary = document["summary"]
        counts = [f"{n} {SUMMARY_WORDS[name]}" for name, n in summary.items() if n]
    return f"{status}: {', '.join(counts)}" if counts else status


def _table(jobs: Sequence[_Job], code: int) -> str:
    rows = [("HOST", "ADDRESS", "EXIT", "RESULT")]
    rows += [
        (job.host.name, job.address, str(job.outcome.code), _result(job.outcome)) for job in jobs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{name:<{widths[0]}}  {address:<{widths[1]}}  {exit_code:>{widths[2]}}  {result}"
        for name, address, exit_code, result in rows
    ]
    hosts = f"{len(jobs)} host{'s' if len(jobs) != 1 else ''}"
    lines.append(f"{hosts}, exit {code}: the most severe over the hosts (docs/fleet.md)")
    return "\n".join(lines) + "\n"


def _document(options: Options, jobs: Sequence[_Job], code: int) -> dict[str, Any]:
    """The fan-out JSON document (docs/plan-json.md): one plan document per host."""
    command = "reconcile" if options.dry_run else options.command
    entries = []
    for job in jobs:
        run = job.outcome
        entries.append(
            {
                "name": job.host.name,
                "address": job.address,
                "labels": dict(job.host.labels),
                "status": _status(run),
                "exit_code": run.code,
                "error": None if run.error is None else str(run.error),
                "plan": run.document,
            }
        )
    statuses = [entry["status"] for entry in entries]
    status = min(statuses, key=_STATUSES.index, default="no_changes")
    return {
        "format_version": FORMAT_VERSION,
        "command": command,
        "status": status,
        "exit_code": code,
        "hosts": entries,
    }
