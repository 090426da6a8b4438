"""``validate``, ``render`` and ``schema``: the commands that need no LM Studio."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """Add the options of one of this module's commands."""
    if command == "validate":
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
    elif command == "render":
        parser.add_argument("model", metavar="MODEL", help="instance identifier of the model")
        parser.add_argument("--request", metavar="NAME", help="apply this request overlay")
        parser.add_argument(
            "--show-origin", action="store_true", help="show where every value comes from"
        )
        parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
        parser.add_argument(
            "--set",
            metavar="FIELD=VALUE",
            action="append",
            default=[],
            help="call-site override, e.g. --set maxTokens=64 (repeatable)",
        )
    elif command == "schema":
        parser.add_argument(
            "--check", action="store_true", help="fail (exit 1) if the file is not current"
        )
        parser.add_argument(
            "--output", metavar="FILE", default="schema.json", help="default: ./schema.json"
        )


def run(command: str, args: argparse.Namespace) -> int:
    """Run one of this module's commands."""
    if command == "schema":
        return _schema(args)
    if command == "validate":
        return _validate(args)
    return _render(args)


def profile_dir(args: argparse.Namespace) -> Path:
    """The profile directory: ``--profiles``, else ``$LMSPROFILES_PROFILES``, else ./profiles."""
    from lmsprofiles._env import control
    from lmsprofiles._errors import ProfileError

    if args.profiles:
        return Path(args.profiles)
    try:
        return control().profiles
    except ProfileError:
        return Path("profiles")  # load() reports the bad variable with every other problem


def _validate(args: argparse.Namespace) -> int:
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
    if args.json:
        print(json.dumps({"valid": True, "problems": [], "models": list(profiles.identifiers)}))
    else:
        print(f"valid: {directory} ({summary})")
    return 0


def _render(args: argparse.Namespace) -> int:
    from lmsprofiles import _render
    from lmsprofiles._profiles import load

    profiles = load(profile_dir(args))
    overrides = _parse_sets(args.set, profiles, args.model)
    cfg = profiles.resolve(args.model, args.request, **overrides)
    if args.format == "json":
        sys.stdout.write(_render.as_json(cfg, show_origin=args.show_origin))
    else:
        sys.stdout.write(_render.as_yaml(cfg, show_origin=args.show_origin))
    return 0


def _parse_sets(items: list[str], profiles: Any, identifier: str) -> dict[str, Any]:
    from lmsprofiles import _fields as f
    from lmsprofiles._env import parse_value
    from lmsprofiles._errors import Problem, ProfileError
    from lmsprofiles._keys import Field, fields_of, spellings, unknown_key_message

    overrides: dict[str, Any] = {}
    problems = []
    for item in items:
        name, sep, text = item.partition("=")
        fld: Field | None = None
        if name == "ttl":
            fld = Field("ttl", "ttl", None, "", tuple(f.GlobalFile.model_fields["ttl"].metadata))
        for model in (f.LlmLoad, f.Inference):
            if fld is None and name in spellings(model):
                fld = fields_of(model)[spellings(model)[name]]
        if not sep:
            problems.append(Problem("--set", None, None, item, "expected FIELD=VALUE"))
            continue
        if fld is None:
            message = unknown_key_message(name, f.Inference)
            problems.append(Problem("--set", None, None, name, message))
            continue
        try:
            overrides[name] = parse_value(text, fld)
        except ValueError as exc:
            problems.append(Problem("--set", None, None, name, str(exc)))
    if problems:
        raise ProfileError(problems)
    return overrides


def _schema(args: argparse.Namespace) -> int:
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
