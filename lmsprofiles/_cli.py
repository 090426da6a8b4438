"""The ``lmsprofiles`` command line: argument parsing and the one place that owns exit codes.

Each command is a module of :mod:`lmsprofiles._commands` exposing ``HELP``,
``configure(parser)`` and ``run(args) -> int``. Those modules import only the standard
library at import time, so ``lmsprofiles --help`` and ``validate`` never pay for the SDK or
websockets.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["build_parser", "main"]

EXIT_CODES = """\
exit codes:
  0  success, nothing to change
  1  runtime error (LM Studio unreachable or not answering, SDK error, damaged state file)
  2  changes pending (plan --detailed-exitcode, reconcile --dry-run)
  3  invalid profiles, options or environment (nothing was contacted)
  4  the plan is blocked (conflict, invalid profile) or was applied only in part
  5  another run holds the lock for this server
"""


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"lmsprofiles._commands.{name}")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lmsprofiles")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``, reading the installed version only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        parser.exit(message=f"{parser.prog} {_version()}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for the CLI reference and tests)."""
    from lmsprofiles._commands import COMMANDS
    from lmsprofiles._commands._options import GLOBALS, add_globals

    parser = argparse.ArgumentParser(
        prog="lmsprofiles",
        description="Configuration as code for LM Studio models.\n\n"
        "Global options may be given before or after the command; each command\n"
        "takes those that mean something to it (see `lmsprofiles COMMAND --help`).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_globals(parser, *GLOBALS)
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = _command(module_name)
        help_text: str = module.HELP
        command_parser = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_globals(command_parser)  # none unless the command declares them
        module.configure(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    from lmsprofiles._commands import COMMANDS
    from lmsprofiles._commands._options import check_globals
    from lmsprofiles._errors import LmsProfilesError, ProfileError

    parser = build_parser()
    args = parser.parse_args(argv)
    check_globals(parser, args)
    try:
        code: int = _command(COMMANDS[args.command]).run(args)
        return code
    except ProfileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return exc.exit_code
    except LmsProfilesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `lmsprofiles render x | head -1`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
