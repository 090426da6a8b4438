"""``lmsprofiles reconcile``: make LM Studio match the profiles."""

from __future__ import annotations

import argparse

from lmsprofiles._commands._options import add_plan_options, lock_seconds, run_plan


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``reconcile``."""
    add_plan_options(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only show the plan; exit 2 if changes are pending",
    )
    parser.add_argument(
        "--lock-timeout",
        metavar="SECONDS",
        type=lock_seconds,
        default=0.0,
        help="wait this long for another reconcile of the same host (default 0: fail "
        "at once with exit 5)",
    )


def run(args: argparse.Namespace) -> int:
    """Apply the plan; return 0, or 2 for ``--dry-run`` with changes pending.

    A partial apply raises ``ApplyError`` (exit 4), a held lock ``LockHeldError`` (exit 5).
    """
    return run_plan("reconcile", args, dry_run=args.dry_run, lock_timeout=args.lock_timeout)
