"""``lmsprofiles render``: print the resolved configs of one model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lmsprofiles._commands._options import add_globals, profile_dir

HELP = "print the resolved configs of one model"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``render``."""
    add_globals(parser, "profiles")
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


def run(args: argparse.Namespace) -> int:
    """Print the resolved config and return 0; raise ``ProfileError`` for bad input."""
    from lmsprofiles import _render
    from lmsprofiles._profiles import load

    profiles = load(profile_dir(args))
    overrides = parse_sets(args.set)
    cfg = profiles.resolve(args.model, args.request, **overrides)
    if args.format == "json":
        sys.stdout.write(_render.as_json(cfg, show_origin=args.show_origin))
    else:
        sys.stdout.write(_render.as_yaml(cfg, show_origin=args.show_origin))
    return 0


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``--set FIELD=VALUE`` items as call-site overrides, values parsed by the field's type.

    Raises ``ProfileError`` listing every item that is malformed or names no field.
    """
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
