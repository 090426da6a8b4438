"""Options shared by several commands, and the global options.

The global options (``--profiles``, ``--host``, ``--state-dir``, ``--timeout``, ``--json``,
``--no-cache``)
may be given before or after the command name. The top-level parser knows all of them; a
command's parser declares those it takes with :func:`add_globals`, and :func:`check_globals`
rejects one given before a command that does not take it, instead of ignoring it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Collection, Mapping

TYPE_CHECKING = False  # typing itself is not imported on the CLI's start-up path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from lmsprofiles._cache import Answer, Store
    from lmsprofiles._profiles import ProfileSet

__all__ = [
    "GLOBALS",
    "add_globals",
    "cached_answer",
    "check_globals",
    "load_profiles",
    "lock_seconds",
    "path",
    "profile_dir",
]

_ACCEPTS = "_accepts"
_OWN = "_own_values"


def path(text: str) -> Path:
    """``Path(text)``, for an option's ``type=``: pathlib is imported when an option is given."""
    from pathlib import Path

    return Path(text)


def _profiles_value(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty; name a directory, or leave the option out for ./profiles")
    return text


def _host_value(text: str) -> str:
    from lmsprofiles._reconcile._host import parse_host

    return parse_host(text)


def _state_dir_value(text: str) -> Path:
    if not text.strip():
        raise ValueError(
            "is empty; name a directory, or leave the option out for the user state dir"
        )
    return path(text)


def lock_seconds(text: str) -> float:
    """``--lock-timeout``: seconds from 0 to a day; anything else is a usage error."""
    from lmsprofiles._reconcile._timeout import MAX_TIMEOUT

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_TIMEOUT:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds from 0 to {MAX_TIMEOUT:g}, not {text!r}"
        )
    return value


def _timeout_value(text: str) -> float:
    from lmsprofiles._reconcile._timeout import parse_timeout

    return parse_timeout(text)


_VALUES: Mapping[str, Callable[[str], Any]] = {
    "profiles": _profiles_value,
    "host": _host_value,
    "state_dir": _state_dir_value,
    "timeout": _timeout_value,
}
"""The global options a variable can give too, each with its check (``ValueError`` says what
is wrong): checked the same way whichever gives them, as problems (exit 3)."""


GLOBALS: Mapping[str, tuple[str, dict[str, Any]]] = {
    "profiles": (
        "--profiles",
        {
            "metavar": "DIR",
            "help": "profile directory (default: $LMSPROFILES_PROFILES, else ./profiles)",
        },
    ),
    "host": (
        "--host",
        {
            "metavar": "HOST[:PORT]",
            "help": "LM Studio API host; the port defaults to 1234 (default: $LMSPROFILES_HOST, "
            "else the SDK's discovery)",
        },
    ),
    "state_dir": (
        "--state-dir",
        {
            "metavar": "DIR",
            "help": "where ownership records and locks live (default: $LMSPROFILES_STATE_DIR, "
            "else the user state dir)",
        },
    ),
    "timeout": (
        "--timeout",
        {
            "metavar": "SECONDS",
            "help": "wait at most this long for each answer from LM Studio, connecting "
            "included (default: $LMSPROFILES_TIMEOUT, else 60)",
        },
    ),
    "json": ("--json", {"action": "store_true", "help": "print one JSON document"}),
    "no_cache": (
        "--no-cache",
        {
            "action": "store_true",
            "help": "read every profile file anew; neither use nor update the cache of files "
            "read before",
        },
    ),
}
"""dest -> (option, argparse keywords) of every global option."""


def add_globals(
    parser: argparse.ArgumentParser,
    *names: str,
    own: Collection[str] | Mapping[str, Callable[[str], Any]] = (),
) -> None:
    """Give ``parser`` the global options ``names``; ``own`` are globals it defines itself.

    Values default to "not given" (``argparse.SUPPRESS``), so one given before the command
    is not overwritten by the command's parser. An own option declared without ``type=``
    may map to its converter in ``own``: :func:`check_globals` applies it to the value
    given before or after the command alike (an ``argparse.ArgumentTypeError`` is a usage
    error).
    """
    for name in names:
        option, keywords = GLOBALS[name]
        parser.add_argument(option, dest=name, default=argparse.SUPPRESS, **keywords)
    converters = dict(own) if isinstance(own, Mapping) else dict.fromkeys(own)
    parser.set_defaults(**{_ACCEPTS: frozenset((*names, *own)), _OWN: converters})


def check_globals(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fail (exit 2) for a global option given to a command that does not take it, and for
    an own option's value its converter refuses; raise ``ProfileError`` (exit 3) for values
    of global options their check refuses (:data:`_VALUES`: an empty one, a malformed host).

    Afterwards every global option is an attribute of ``args`` (``None``/``False`` when not
    given), converted: ``state_dir`` a ``Path``, ``timeout`` a float, ``host`` ``HOST:PORT``.
    """
    accepts: frozenset[str] = getattr(args, _ACCEPTS, frozenset())
    converters: Mapping[str, Callable[[str], Any] | None] = getattr(args, _OWN, {})
    problems: list[tuple[str, str]] = []
    for name, (option, keywords) in GLOBALS.items():
        if name in vars(args) and name not in accepts:
            parser.error(f"{option} does not apply to '{args.command}'")
        if name not in vars(args):
            setattr(args, name, False if keywords.get("action") == "store_true" else None)
            continue
        value = getattr(args, name)
        if not isinstance(value, str):
            continue
        convert = converters.get(name)
        if convert is not None:
            try:
                setattr(args, name, convert(value))
            except argparse.ArgumentTypeError as exc:
                parser.error(f"argument {option}: {exc}")
        elif name in converters:
            continue  # the command's own option, taken as it is
        elif name in _VALUES:
            try:
                setattr(args, name, _VALUES[name](value))
            except ValueError as exc:
                problems.append((option, str(exc)))
    if problems:
        from lmsprofiles._errors import Problem, ProfileError

        raise ProfileError([Problem(option, None, None, "", text) for option, text in problems])


def profile_dir(args: argparse.Namespace) -> Path:
    """The profile directory: ``--profiles``, else ``$LMSPROFILES_PROFILES``, else ./profiles."""
    import os
    from pathlib import Path

    from lmsprofiles._overrides import has_control

    if args.profiles:
        return Path(args.profiles)
    if not has_control(os.environ):
        return Path("profiles")
    from lmsprofiles._env import control
    from lmsprofiles._errors import ProfileError

    try:
        return control().profiles
    except ProfileError:
        return Path("profiles")  # load() reports the bad variable with every other problem


def _store(args: argparse.Namespace) -> Store:
    """The cache for the profile directory these options name."""
    import os

    from lmsprofiles._cache import Store
    from lmsprofiles._scan import user_config_file

    return Store(("cli", args.profiles or ""), os.environ, user_config_file())


def cached_answer(args: argparse.Namespace) -> tuple[Path, Answer] | None:
    """The profile directory and what loading it answered last time, if none of its files
    changed since (None with ``--no-cache``). Loads neither pydantic nor ruamel.yaml."""
    return None if args.no_cache else _store(args).answer()


def load_profiles(args: argparse.Namespace) -> ProfileSet:
    """Load the profile directory, through the cache unless ``--no-cache``.

    The garbage collector is paused meanwhile: importing the schema and reading profiles
    make no garbage cycles worth collecting, and collecting while they grow costs time.
    """
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        from lmsprofiles._profiles import load

        directory = profile_dir(args)
        if args.no_cache:
            return load(directory)
        return _store(args).load(directory)
    finally:
        if collecting:
            gc.enable()


_CONTEXT_POLICY_HELP = (
    "when LM Studio runs an instance with less context than the profile asks although it "
    "was asked for the right amount (the server fitted it): 'warn' reuses it with a "
    "warning (default), 'reload' reloads it"
)


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that talks to LM Studio (``plan``, ``reconcile``, ``adopt``)."""
    add_globals(parser, "profiles", "host", "state_dir", "timeout", "json", "no_cache")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="run against a fresh in-process LM Studio emulator instead of --host",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="never colour the plan (it is coloured on a terminal unless NO_COLOR is set)",
    )


def _host_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected NAME[,NAME...], not {text!r}")
    return names


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """The options ``plan`` and ``reconcile`` share."""
    add_server_options(parser)
    fleet = parser.add_mutually_exclusive_group()
    fleet.add_argument(
        "--hosts",
        metavar="NAME[,NAME...]",
        type=_host_names,
        default=(),
        help="run on these hosts of hosts.yaml at once (a name, or KEY=VALUE for the hosts "
        "with that label); instead of --host",
    )
    fleet.add_argument(
        "--all-hosts",
        action="store_true",
        help="run on every host of hosts.yaml at once; instead of --host",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="unload instances lmsprofiles loaded whose profile is gone",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over instances lmsprofiles did not load that have a profile's identifier, "
        "model and type (see the adopt command)",
    )
    parser.add_argument(
        "--context-policy",
        choices=("warn", "reload"),
        default="warn",
        help=_CONTEXT_POLICY_HELP,
    )


def run_plan(command: str, args: argparse.Namespace, **extra: Any) -> int:
    """Run ``plan``, ``reconcile`` or ``adopt`` with the shared options plus ``extra``."""
    from pathlib import Path

    from lmsprofiles._reconcile._client import share_tls_context
    from lmsprofiles._reconcile._command import Options, execute

    shared: dict[str, Any] = {
        "prune": getattr(args, "prune", False),
        "adopt": getattr(args, "adopt", False),
        "context_policy": getattr(args, "context_policy", "warn"),
        "hosts": getattr(args, "hosts", ()),
        "all_hosts": getattr(args, "all_hosts", False),
    }
    if args.host is not None and (shared["hosts"] or shared["all_hosts"] or args.emulator):
        option = (
            "--emulator" if args.emulator else "--all-hosts" if shared["all_hosts"] else "--hosts"
        )
        print(f"lmsprofiles {command}: error: give --host or {option}, not both", file=sys.stderr)
        return 2
    share_tls_context()  # the SDK's clients of this CLI process share one TLS context
    return execute(
        Options(
            command=command,
            profiles=None if args.profiles is None else Path(args.profiles),
            host=args.host,
            state_dir=args.state_dir,
            timeout=args.timeout,
            json_output=args.json,
            emulator=args.emulator,
            no_color=args.no_color,
            **(shared | extra),
        )
    )
