"""``lmsprofiles import``: write profiles from LM Studio presets, model.yaml files,
``lms load`` lines, or the instances loaded on a host."""

from __future__ import annotations

import argparse
import sys

from lmsprofiles._commands._options import add_globals, path, profile_dir


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``import``."""
    add_globals(parser, "profiles", "host", "timeout")
    parser.add_argument(
        "sources",
        metavar="SOURCE",
        nargs="*",
        help="a *.preset.json, a model.yaml, a shell script of `lms load` lines, an `lms load` "
        "command line (quoted), or - for standard input",
    )
    parser.add_argument(
        "--from-host",
        action="store_true",
        help="import every instance loaded on the LM Studio host (--host) as a model profile",
    )
    parser.add_argument(
        "--to",
        metavar="DIR",
        type=path,
        help="profile directory to write into (default: --profiles, $LMSPROFILES_PROFILES, "
        "else ./profiles)",
    )
    parser.add_argument("--name", metavar="NAME", help="file name (stem) of the profile written")
    parser.add_argument(
        "--model",
        metavar="KEY",
        help="model key for a preset's load settings, which name no model",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the files instead of writing them"
    )
    parser.add_argument("--force", action="store_true", help="replace files that exist")


def run(args: argparse.Namespace) -> int:
    """Write (or print) the profiles; return 0, or raise an ``LmsProfilesError``."""
    from lmsprofiles._interop._import import ImportOptions, run_import

    if not args.sources and not args.from_host:
        return _usage("give a SOURCE or --from-host")
    if not args.from_host:
        for option, given in (("--host", args.host), ("--timeout", args.timeout)):
            if given is not None:
                return _usage(f"{option} does not apply to 'import' without --from-host")
    elif args.model is not None and not args.sources:
        return _usage("--model does not apply to --from-host: the host names every model")
    if args.from_host:
        from lmsprofiles._reconcile._client import share_tls_context

        share_tls_context()  # one TLS context for the SDK's clients (see there)
    return run_import(
        ImportOptions(
            sources=tuple(args.sources),
            target=args.to or profile_dir(args),
            name=args.name,
            model=args.model,
            dry_run=args.dry_run,
            force=args.force,
            from_host=args.from_host,
            host=args.host,
            timeout=args.timeout,
        )
    )


def _usage(message: str) -> int:
    print(f"lmsprofiles import: error: {message}", file=sys.stderr)
    return 2
