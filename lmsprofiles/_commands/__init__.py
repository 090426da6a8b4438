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

__all__ = ["COMMANDS", "HELP"]

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
