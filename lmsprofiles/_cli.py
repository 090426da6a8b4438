"""The ``lmsprofiles`` command line: argument parsing and the one place that owns exit codes.

Each command is a module of :mod:`lmsprofiles._commands` exposing ``configure(parser)`` and
``run(args) -> int``, with its one-line help in :data:`lmsprofiles._commands.HELP`. Those
modules import only the standard library at import time, so ``lmsprofiles --help`` and
``validate`` never pay for the SDK or websockets.
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
  0    success, nothing to change
  1    runtime error (LM Studio unreachable or not answering, SDK error, damaged state file)
  2    changes pending (plan --detailed-exitcode, reconcile --dry-run); a usage error
  3    invalid profiles, options or environment (nothing was contacted)
  4    the plan is blocked (conflict, invalid profile) or was applied only in part
  5    another run holds the lock for this server
  130  interrupted (Ctrl-C)
each command's --help lists the codes it returns
"""


def _exit_codes(command: str) -> str:
    """The end of ``COMMAND --help``: the exit codes that command returns."""
    import textwrap

    from lmsprofiles._commands import EXIT_CODES as BY_COMMAND

    width = max(_columns() - 2, 40)
    lines = [
        textwrap.fill(meaning, width, initial_indent=f"  {code:<3}  ", subsequent_indent=" " * 7)
        for code, meaning in sorted(BY_COMMAND[command].items())
    ]
    return "\n".join(
        ["exit codes:", *lines, "  also 2 for a usage error, 130 when interrupted (Ctrl-C)", ""]
    )


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
        # on stdout, as argparse's own version action does, so that it can be piped
        sys.stdout.write(f"{parser.prog} {_version()}\n")
        parser.exit()


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized to the terminal without importing shutil (and with it
    bz2 and lzma) on every start."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or _columns() - 2)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it: $COLUMNS, the terminal
    on standard output, else 80."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Listed(argparse.ArgumentParser):
    """A command that ``lmsprofiles --help`` only lists (its name and one-line help are kept
    by the parser above): never used to parse, so never set up."""

    def __init__(self, **kwargs: object) -> None:
        """Nothing to set up."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full argument parser (exposed for the CLI reference and tests).

    With ``command``, only that command's options are added (the other commands are there
    with their one-line help): what running that command needs; ``""`` adds none.
    """
    from lmsprofiles._commands import COMMANDS, HELP
    from lmsprofiles._commands._options import GLOBALS, add_globals

    parser = argparse.ArgumentParser(
        prog="lmsprofiles",
        description="Configuration as code for LM Studio models.\n\n"
        "Global options may be given before or after the command; each command\n"
        "takes those that mean something to it (see `lmsprofiles COMMAND --help`).",
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
    )
    add_globals(parser, *GLOBALS)
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    # before any command, argparse stops at --help or --version: the commands are only listed
    parser_class = _Listed if command == "" else argparse.ArgumentParser
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=parser_class
    )
    for name, module_name in COMMANDS.items():
        help_text = HELP[name]
        # only the named command's parser is used; the others are in the list of commands
        named = command in (None, name)
        command_parser = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=_exit_codes(name) if named else None,
            formatter_class=_Formatter,
            add_help=named,
        )
        if named:
            add_globals(command_parser)  # none unless the command declares them
            _command(module_name).configure(command_parser)
    return parser


def _refuse(parser: argparse.ArgumentParser, args: argparse.Namespace, words: list[str]) -> None:
    """Exit 2 for the words argparse did not recognise: a global option given after a
    command that does not take it is refused as one given before it ("--json does not
    apply to 'render'"), anything else as argparse refuses it."""
    from lmsprofiles._commands._options import GLOBALS

    options = {option for option, _ in GLOBALS.values()}
    for word in words:
        if word == "--":  # what follows is no option
            break
        if word.partition("=")[0] in options:
            parser.error(f"{word.partition('=')[0]} does not apply to '{args.command}'")
    parser.error(f"unrecognized arguments: {' '.join(words)}")


_STOPS = ("--help", "--version")
"""Options that print and exit where argparse meets them: what follows is never parsed."""


def _named_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, found as argparse will find it; None if unsure, and ""
    when argparse stops at ``--help`` or ``--version`` before any command (then no
    command's options are needed)."""
    from lmsprofiles._commands import COMMANDS
    from lmsprofiles._commands._options import GLOBALS

    options = {option: "action" not in keywords for option, keywords in GLOBALS.values()}
    options |= dict.fromkeys(_STOPS, False)
    words = iter(argv)
    for word in words:
        if word == "--":
            return None
        if word == "-h":
            return ""
        if not word.startswith("-"):
            return word if word in COMMANDS else None
        if word.startswith("--") and "=" not in word:
            matches = [option for option in options if option.startswith(word)]
            if len(matches) != 1:
                return None  # unknown or ambiguous: argparse says so
            if matches[0] in _STOPS:
                return ""
            if options[matches[0]]:
                next(words, None)  # its value
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    from lmsprofiles._commands import COMMANDS
    from lmsprofiles._commands._options import check_globals

    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(_named_command(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _refuse(parser, args, unknown)
    try:
        check_globals(parser, args)
        code: int = _command(COMMANDS[args.command]).run(args)
        return code
    except Exception as exc:
        reported = _report(exc)
        if reported is None:
            raise
        return reported
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _report(exc: Exception) -> int | None:
    """Print an error lmsprofiles raised on purpose and return its exit code; None for any
    other error (the error classes are imported only when something failed)."""
    from lmsprofiles._errors import LmsProfilesError, ProfileError

    if isinstance(exc, ProfileError):
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, LmsProfilesError):
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):  # pragma: no cover - `lmsprofiles render x | head -1`
        return 0
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
