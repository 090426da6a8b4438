"""``lmsprofiles adopt``: take over loaded instances that match a profile."""

from __future__ import annotations

import argparse

from lmsprofiles._commands._options import add_server_options, lock_seconds, run_plan


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``adopt``."""
    add_server_options(parser)
    parser.add_argument(
        "names",
        metavar="NAME",
        nargs="*",
        help="identifiers of the model profiles whose instances to take over (default: every "
        "instance lmsprofiles did not load whose identifier, model and type match a profile)",
    )
    parser.add_argument(
        "--lock-timeout",
        metavar="SECONDS",
        type=lock_seconds,
        default=0.0,
        help="wait this long for another run on the same host (default 0: exit 5 at once)",
    )
    parser.epilog = (
        "Records the instances as loaded by lmsprofiles; LM Studio is not changed. A later\n"
        "reconcile reloads an adopted instance that does not fit its profile. Also the way\n"
        "back from a lost or damaged state directory (a damaged file is moved aside).\n\n"
        + (parser.epilog or "")
    )


def run(args: argparse.Namespace) -> int:
    """Adopt and return 0; a named instance that cannot be taken over raises ``ApplyError``."""
    names: list[str] = args.names
    return run_plan(
        "adopt", args, adopt=tuple(names) if names else True, lock_timeout=args.lock_timeout
    )
