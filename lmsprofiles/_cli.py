"""The ``lmsprofiles`` command line: argument parsing and the one place that owns exit codes.

Each subcommand lives in a module that exposes ``configure(command, parser)`` and
``run(command, args) -> int``. Those modules import only the standard library at import time,
so ``lmsprofiles --help`` and ``validate`` never pay for the SDK or websockets.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

__all__ = ["main"]

EXIT_CODES = """\
exit codes:
  0  success, nothing to change
  1  runtime error (LM Studio unreachable, SDK error)
  2  changes pending (plan --detailed-exitcode, reconcile --dry-run)
  3  invalid profiles or environment (nothing was contacted)
  4  reconcile applied its plan only in part (or a foreign instance blocked a profile)
  5  another reconcile holds the lock for this host
"""

# command -> (module, one-line help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("lmsprofiles._cmd_profiles", "check the profiles and the environment"),
    "render": ("lmsprofiles._cmd_profiles", "print the resolved configs of one model"),
    "schema": ("lmsprofiles._cmd_profiles", "write schema.json, or check that it is current"),
    "plan": ("lmsprofiles._reconcile.cli", "show what reconcile would change"),
    "reconcile": ("lmsprofiles._reconcile.cli", "make LM Studio match the profiles"),
    "emulator": ("lmsprofiles.emulator._cli", "run the bundled LM Studio emulator"),
}


class _CommandModule(Protocol):
    def configure(self, command: str, parser: argparse.ArgumentParser) -> None: ...

    def run(self, command: str, args: argparse.Namespace) -> int: ...


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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--profiles",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="profile directory (default: $LMSPROFILES_PROFILES, else ./profiles)",
    )
    common.add_argument(
        "--host",
        metavar="HOST:PORT",
        default=argparse.SUPPRESS,
        help="LM Studio API host (default: $LMSPROFILES_HOST, else the SDK's discovery)",
    )
    parser = argparse.ArgumentParser(
        prog="lmsprofiles",
        description="Configuration as code for LM Studio models.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in _COMMANDS.items():
        module: _CommandModule = importlib.import_module(module_name)
        command_parser = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        module.configure(name, command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    from lmsprofiles._errors import LmsProfilesError, ProfileError

    parser = build_parser()
    args = parser.parse_args(argv)
    args.profiles = getattr(args, "profiles", None)
    args.host = getattr(args, "host", None)
    module_name = _COMMANDS[args.command][0]
    module: _CommandModule = importlib.import_module(module_name)
    try:
        return module.run(args.command, args)
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
