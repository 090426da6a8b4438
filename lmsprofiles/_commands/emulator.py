"""``lmsprofiles emulator``: run the bundled LM Studio emulator until SIGINT or SIGTERM.

Only the standard library is imported at module level so that ``lmsprofiles --help`` stays
fast; websockets, pydantic and ruamel.yaml are imported by :func:`run`.
"""

from __future__ import annotations

import argparse
import sys

from lmsprofiles._commands._options import add_globals

HELP = "run the bundled LM Studio emulator"

DEFAULT_PORT = 41343
"""The first port the SDK's default discovery probes, so ``lms.Client()`` finds the emulator."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``emulator``; its ``--host`` is the address to bind."""
    parser.add_argument(
        "--host",
        metavar="ADDRESS",
        default=argparse.SUPPRESS,
        help="address to bind (default: 127.0.0.1); LMSPROFILES_HOST is not read",
    )
    add_globals(parser, own=("host",))
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"TCP port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--catalog",
        metavar="FILE",
        default=None,
        help="catalog YAML of models and emulator settings (default: the bundled catalog)",
    )
    parser.epilog = (
        "Prints 'listening on HOST:PORT' when ready; stops on SIGINT or SIGTERM.\n\n"
        + (parser.epilog or "")
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return 0, or raise an ``LmsProfilesError``."""
    import asyncio
    import signal

    from lmsprofiles.emulator import Emulator, load_catalog

    bind: str = args.host or "127.0.0.1"
    port: int = args.port
    if not 0 <= port <= 65535:
        print(f"error: --port must be between 0 and 65535, not {port}", file=sys.stderr)
        return 1
    emulator = Emulator(load_catalog(args.catalog), bind=bind, port=port)

    def ready(emu: Emulator) -> None:
        print(f"listening on {emu.host}", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await emulator.serve(stop, ready)

    asyncio.run(main())
    return 0
