"""The CLI's commands: one module per command, each importing only the standard library.

A command module exposes ``configure(parser)`` (its options) and ``run(args) -> int`` (the
exit code on success; failures are raised as :class:`lmsprofiles.LmsProfilesError` for
:func:`lmsprofiles._cli.main` to report); its one-line help is in :data:`HELP`, so that
``lmsprofiles --help`` imports no command module. The work itself lives elsewhere in the
package and is imported inside ``run``, so that ``lmsprofiles --help`` and the light commands
never pay for the SDK, websockets or rich.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COMMANDS", "EXIT_CODES", "HELP"]

COMMANDS: Mapping[str, str] = {
    "validate": "validate",
    "render": "render",
    "schema": "schema",
    "plan": "plan",
    "reconcile": "reconcile",
    "adopt": "adopt",
    "import": "import_",
    "export": "export",
    "emulator": "emulator",
    "completion": "completion",
}
"""Command name -> its module in this package, in the order ``--help`` lists them."""

HELP: Mapping[str, str] = {
    "validate": "check the profiles and the environment",
    "render": "print the resolved configs of one model, or of every model",
    "schema": "write schema.json, or check that it is current",
    "plan": "show what reconcile would change",
    "reconcile": "make LM Studio match the profiles",
    "adopt": "take over loaded instances that match a profile",
    "import": "write profiles from LM Studio presets, model.yaml files, lms load lines or a host",
    "export": "print a model's resolved config as an LM Studio preset, model.yaml or lms load line",
    "emulator": "run the bundled LM Studio emulator",
    "completion": "print a shell completion script (bash, zsh or fish)",
}
"""Command name -> its one-line help."""

_RUNTIME = "runtime error: LM Studio unreachable or not answering, SDK error, damaged state file"
_INVALID = "invalid profiles, options or environment (nothing was contacted)"
_LOCKED = "another run holds the lock for this server"

EXIT_CODES: Mapping[str, Mapping[int, str]] = {
    "validate": {0: "valid", 3: "invalid profiles, options or environment"},
    "render": {
        0: "success",
        2: "both or neither of MODEL and --all; --hide-defaults without --show-origin",
        3: "invalid profiles, options or environment; an unknown model or request; a bad --set",
    },
    "schema": {
        0: "written, or (--check) up to date",
        1: "--check: the file is stale or missing; the file cannot be written or read",
    },
    "plan": {
        0: "nothing to change (without --detailed-exitcode: also changes pending)",
        1: _RUNTIME,
        2: "changes pending (--detailed-exitcode)",
        3: _INVALID,
        4: "the plan is blocked (a conflict, a profile the preflight refused)",
    },
    "reconcile": {
        0: "the host matches the profiles",
        1: _RUNTIME + ", connection lost",
        2: "changes pending (--dry-run)",
        3: _INVALID,
        4: "applied in part, or blocked",
        5: _LOCKED,
    },
    "adopt": {
        0: "taken over (or nothing to take over without NAMEs)",
        1: _RUNTIME,
        3: "a NAME that is no deployed profile; " + _INVALID,
        4: "a named instance could not be taken over",
        5: _LOCKED,
    },
    "import": {
        0: "written (or printed with --dry-run)",
        1: "a file exists (without --force) or cannot be written; LM Studio unreachable or "
        "nothing loaded (--from-host)",
        2: "neither SOURCE nor --from-host, or an option that does not apply",
        3: "an unreadable or invalid source, or files that would make the directory invalid "
        "(nothing was written)",
    },
    "export": {0: "printed", 3: "invalid profiles, or an unknown model or request"},
    "emulator": {
        0: "stopped cleanly (SIGINT or SIGTERM)",
        1: "cannot listen (the port is taken, the name does not resolve)",
        2: "a malformed --host, --port, --latency-ms or --count",
        3: "the catalog cannot be read or is invalid",
    },
    "completion": {0: "printed"},
}
"""Command name -> the exit codes it returns and what each means (the end of its ``--help``,
as in docs/cli.md). Every command also exits 2 on a usage error and 130 when interrupted."""
