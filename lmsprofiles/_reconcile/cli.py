"""``plan`` and ``reconcile`` subcommands.

Only the standard library is imported here; the work happens in ``_command`` (imported when
a command runs), so ``lmsprofiles --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

_CONTEXT_POLICY_HELP = (
    "when LM Studio runs an instance with less context than the profile asks although it "
    "was asked for the right amount (the server fitted it): 'warn' reuses it with a "
    "warning (default), 'reload' reloads it"
)


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """Add the options of ``plan`` or ``reconcile``."""
    parser.add_argument(
        "--json", action="store_true", help="print a JSON document (docs/plan-json.md)"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="unload instances lmsprofiles loaded whose profile is gone",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="run against a fresh in-process LM Studio emulator instead of --host",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help="where ownership records and locks live (default: $LMSPROFILES_STATE_DIR, "
        "else the user state dir)",
    )
    parser.add_argument(
        "--context-policy",
        choices=("warn", "reload"),
        default="warn",
        help=_CONTEXT_POLICY_HELP,
    )
    if command == "plan":
        parser.add_argument(
            "--detailed-exitcode",
            action="store_true",
            help="exit 2 if changes are pending, 0 if there is nothing to do",
        )
    else:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only show the plan; exit 2 if changes are pending",
        )
        parser.add_argument(
            "--lock-timeout",
            metavar="SECONDS",
            type=float,
            default=0.0,
            help="wait this long for another reconcile of the same host (default 0: fail "
            "at once with exit 5)",
        )


def run(command: str, args: argparse.Namespace) -> int:
    """Run ``plan`` or ``reconcile``; return 0, or 2 when changes are pending and asked for.

    Failures are raised as ``lmsprofiles._errors`` exceptions for the dispatcher.
    """
    from lmsprofiles._reconcile._command import Options, execute

    options = Options(
        command=command,
        profiles=Path(args.profiles) if args.profiles else None,
        host=args.host,
        state_dir=args.state_dir,
        prune=args.prune,
        json_output=args.json,
        emulator=args.emulator,
        context_policy=args.context_policy,
        detailed_exitcode=getattr(args, "detailed_exitcode", False),
        dry_run=getattr(args, "dry_run", False),
        lock_timeout=getattr(args, "lock_timeout", 0.0),
    )
    return execute(options)
