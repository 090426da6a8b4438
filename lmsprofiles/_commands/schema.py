"""``lmsprofiles schema``: write schema.json, or check that it is current."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``schema``."""
    parser.add_argument(
        "--check", action="store_true", help="fail (exit 1) if the file is not current"
    )
    parser.add_argument(
        "--output", metavar="FILE", default="schema.json", help="default: ./schema.json"
    )


def run(args: argparse.Namespace) -> int:
    """Write or check the file; return 0, or 1 when ``--check`` finds it stale or missing."""
    from pathlib import Path

    from lmsprofiles import _jsonschema

    target = Path(args.output)
    wanted = _jsonschema.text()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != wanted:
            state = "missing" if current is None else "stale"
            print(f"{target} is {state}; run `lmsprofiles schema` to update it", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(wanted, encoding="utf-8")
    print(f"wrote {target}")
    return 0
