"""``lmsprofiles schema``: write schema.json, or check that it is current."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing itself is not imported on the CLI's start-up path
if TYPE_CHECKING:
    from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``schema``."""
    parser.add_argument(
        "--check", action="store_true", help="fail (exit 1) if the file is not current"
    )
    parser.add_argument(
        "--output", metavar="FILE", default="schema.json", help="default: ./schema.json"
    )


def _write_command(target: Path) -> str:
    """The command that writes ``target``: with ``--output`` unless it is the default."""
    if str(target) == "schema.json":  # ./schema.json too: Path drops the "./"
        return "lmsprofiles schema"
    import shlex

    return f"lmsprofiles schema --output {shlex.quote(str(target))}"


def run(args: argparse.Namespace) -> int:
    """Write or check the file; return 0, or 1 when ``--check`` finds it stale or missing.

    A file that cannot be written or read (no such directory, a directory, no permission)
    is an ``LmsProfilesError`` naming it (exit 1).
    """
    from pathlib import Path

    from lmsprofiles import _jsonschema
    from lmsprofiles._errors import LmsProfilesError

    target = Path(args.output)
    wanted = _jsonschema.text()
    if args.check:
        try:
            current: bytes | None = target.read_bytes()
        except FileNotFoundError:
            current = None
        except OSError as exc:
            raise LmsProfilesError(f"cannot read {target}: {exc.strerror or exc}") from None
        if current != wanted.encode("utf-8"):
            state = "missing" if current is None else "stale"
            print(
                f"{target} is {state}; run `{_write_command(target)}` to update it", file=sys.stderr
            )
            return 1
        print(f"{target} is up to date")
        return 0
    try:
        target.write_text(wanted, encoding="utf-8")
    except OSError as exc:
        raise LmsProfilesError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}")
    return 0
