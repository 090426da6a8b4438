"""``lmsprofiles validate``: check the profiles and the environment."""

from __future__ import annotations

import argparse

from lmsprofiles._commands._options import add_globals, cached_answer, load_profiles


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
            models, requests, hosts = answer.models, len(answer.requests), answer.hosts
        else:
            profiles = load_profiles(args)
            directory = profiles.root
            models, requests = profiles.identifiers, len(profiles.requests)
            hosts = tuple(profiles.hosts)
    except ProfileError as exc:
        if not args.json:
            raise
        doc = {"valid": False, "problems": [p.as_dict() for p in exc.problems]}
        print(json.dumps(doc, indent=2))
        return exc.exit_code
    summary = f"{_count(len(models), 'model')}, {_count(requests, 'request')}"
    document: dict[str, object] = {"valid": True, "problems": [], "models": list(models)}
    if hosts:
        summary += f", {_count(len(hosts), 'host')}"
        document["hosts"] = list(hosts)
    if args.json:
        print(json.dumps(document))
    else:
        print(f"valid: {directory} ({summary})")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
