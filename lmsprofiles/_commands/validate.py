"""``lmsprofiles validate``: check the profiles and the environment."""

from __future__ import annotations

import argparse

from lmsprofiles._commands._options import add_globals, cached_answer, load_profiles

HELP = "check the profiles and the environment"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``validate``."""
    add_globals(parser, "profiles", "json", "no_cache")


def run(args: argparse.Namespace) -> int:
    """Print ``valid: ...`` (or the JSON result) and return 0; raise ``ProfileError``."""
    import json

    from lmsprofiles._errors import ProfileError

    try:
        cached = cached_answer(args)
        if cached is not None:
            directory, answer = cached
            answer.check()
            models, requests = answer.models, len(answer.requests)
        else:
            profiles = load_profiles(args)
            directory = profiles.root
            models, requests = profiles.identifiers, len(profiles.requests)
    except ProfileError as exc:
        if not args.json:
            raise
        doc = {"valid": False, "problems": [p.as_dict() for p in exc.problems]}
        print(json.dumps(doc, indent=2))
        return exc.exit_code
    if args.json:
        print(json.dumps({"valid": True, "problems": [], "models": list(models)}))
    else:
        print(f"valid: {directory} ({len(models)} models, {requests} requests)")
    return 0
