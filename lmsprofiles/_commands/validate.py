"""``lmsprofiles validate``: check the profiles and the environment."""

from __future__ import annotations

import argparse
import json

from lmsprofiles._commands._options import add_globals, profile_dir

HELP = "check the profiles and the environment"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``validate``."""
    add_globals(parser, "profiles", "json")


def run(args: argparse.Namespace) -> int:
    """Print ``valid: ...`` (or the JSON result) and return 0; raise ``ProfileError``."""
    from lmsprofiles._errors import ProfileError
    from lmsprofiles._profiles import load

    directory = profile_dir(args)
    try:
        profiles = load(directory)
    except ProfileError as exc:
        if not args.json:
            raise
        doc = {"valid": False, "problems": [p.as_dict() for p in exc.problems]}
        print(json.dumps(doc, indent=2))
        return exc.exit_code
    summary = f"{len(profiles.models)} models, {len(profiles.requests)} requests"
    document = {"valid": True, "problems": [], "models": list(profiles.identifiers)}
    if profiles.hosts:
        summary += f", {len(profiles.hosts)} hosts"
        document["hosts"] = list(profiles.hosts)
    if args.json:
        print(json.dumps(document))
    else:
        print(f"valid: {directory} ({summary})")
    return 0
