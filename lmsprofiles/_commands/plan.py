"""``lmsprofiles plan``: show what reconcile would change."""

from __future__ import annotations

import argparse

from lmsprofiles._commands._options import add_plan_options, run_plan


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``plan``."""
    add_plan_options(parser)
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 if changes are pending, 0 if there is nothing to do",
    )


def run(args: argparse.Namespace) -> int:
    """Print the plan; return 0, or 2 with ``--detailed-exitcode`` when changes are pending."""
    return run_plan("plan", args, detailed_exitcode=args.detailed_exitcode)
