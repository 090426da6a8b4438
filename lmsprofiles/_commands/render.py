"""``lmsprofiles render``: print the resolved configs of one model."""

from __future__ import annotations

import argparse
import sys

from lmsprofiles._commands._options import add_globals, load_profiles

TYPE_CHECKING = False  # typing itself is not imported on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``render``."""
    parser.add_argument(
        "--host",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="resolve for this host of hosts.yaml: its layers apply (the name, not an address)",
    )
    add_globals(parser, "profiles", "no_cache", own=("host",))
    parser.add_argument(
        "model", metavar="MODEL", nargs="?", help="instance identifier of the model"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every model, one YAML document each (a JSON list with --format json)",
    )
    parser.add_argument("--request", metavar="NAME", help="apply this request overlay (to LLMs)")
    parser.add_argument(
        "--show-origin", action="store_true", help="show where every value comes from"
    )
    parser.add_argument(
        "--hide-defaults",
        action="store_true",
        help="with --show-origin: leave out the fields nobody set (LM Studio's defaults)",
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
    """Print the resolved config(s) and return 0; raise ``ProfileError`` for bad input."""
    from lmsprofiles import _render

    if (args.model is None) == (not args.all):
        print("lmsprofiles render: error: give MODEL or --all (not both)", file=sys.stderr)
        return 2
    if args.hide_defaults and not args.show_origin:
        print("lmsprofiles render: error: --hide-defaults needs --show-origin", file=sys.stderr)
        return 2
    profiles, overrides = _load_with_sets(args)
    options = {"show_origin": args.show_origin, "hide_defaults": args.hide_defaults}
    host = args.host
    if not args.all:
        cfg = _resolve(profiles, args.model, args.request, host, overrides)
        render = _render.as_json if args.format == "json" else _render.as_yaml
        sys.stdout.write(render(cfg, **options))
        return 0
    configs = []
    identifiers = profiles.identifiers if host is None else profiles.host(host).models
    for identifier in identifiers:
        embedding = profiles.models[identifier].type == "embedding"
        request = None if embedding else args.request  # embedding models take none
        own = _for_embedding(overrides) if embedding else overrides
        configs.append(_resolve(profiles, identifier, request, host, own))
    if args.format == "json":
        sys.stdout.write(_render.all_as_json(configs, **options))
    else:
        sys.stdout.write(_render.all_as_yaml(configs, **options))
    return 0


def _resolve(
    profiles: Any, identifier: str, request: str | None, host: str | None, sets: dict[str, Any]
) -> Any:
    """``profiles.resolve``; a problem with a value of ``--set`` names ``--set``."""
    from lmsprofiles._errors import Problem, ProfileError

    try:
        return profiles.resolve(identifier, request, host=host, **sets)
    except ProfileError as exc:
        if not any(p.source == "call-site" and p.path for p in exc.problems):
            raise
        problems = [
            Problem("--set", None, None, p.path, p.message)
            if p.source == "call-site" and p.path
            else p
            for p in exc.problems
        ]
        raise type(exc)(problems) from None


def _load_with_sets(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The profile set and the ``--set`` overrides; the problems of both reported together."""
    from lmsprofiles._errors import ProfileError

    try:
        overrides, bad_sets = parse_sets(args.set), ProfileError(())
    except ProfileError as exc:
        overrides, bad_sets = {}, exc
    try:
        profiles = load_profiles(args)
    except ProfileError as exc:
        raise ProfileError([*exc.problems, *bad_sets.problems]) from None
    if bad_sets.problems:
        raise bad_sets
    return profiles, overrides


def _for_embedding(overrides: dict[str, Any]) -> dict[str, Any]:
    """The ``--set`` overrides that apply to an embedding model (ttl, embedding load fields)."""
    from lmsprofiles._callsite import target

    return {k: v for k, v in overrides.items() if not isinstance(target(k, "embedding"), str)}


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``--set FIELD=VALUE`` items as call-site overrides, values parsed by the field's type.

    ``FIELD`` is a field name or a dotted path (``load.gpu.ratio``). Raises ``ProfileError``
    listing every item that is malformed, names no field or sets what another item sets.
    """
    from lmsprofiles._callsite import clashes, target
    from lmsprofiles._errors import Problem, ProfileError
    from lmsprofiles._keys import canonical_value
    from lmsprofiles._overrides import parse_value
    from lmsprofiles._yaml import dotted

    overrides: dict[str, Any] = {}
    problems = []
    targets = []

    def report(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem("--set", None, None, dotted(path), message))

    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            problems.append(Problem("--set", None, None, item, "expected FIELD=VALUE"))
            continue
        found = target(name)
        if isinstance(found, str):
            problems.append(Problem("--set", None, None, name, found))
            continue
        path, fld = found
        targets.append((name, path))
        try:
            value = parse_value(text, fld, level=len(path))
        except ValueError as exc:
            problems.append(Problem("--set", None, None, name, str(exc)))
            continue
        overrides[name] = canonical_value(value, fld, path, report)
    for name, other in clashes(targets):
        problems.append(Problem("--set", None, None, name, f"also set by --set {other}; keep one"))
    if problems:
        raise ProfileError(problems)
    return overrides
