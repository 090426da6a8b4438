"""The CLI's commands: one module per command, each importing only the standard library.

A command module exposes ``HELP`` (its one-line help), ``configure(parser)`` (its options) and
``run(args) -> int`` (the exit code on success; failures are raised as
:class:`lmsprofiles.LmsProfilesError` for :func:`lmsprofiles._cli.main` to report). The work
itself lives elsewhere in the package and is imported inside ``run``, so that
``lmsprofiles --help`` and the light commands never pay for the SDK, websockets or rich.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COMMANDS"]

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
