"""``lmsprofiles emulator``: run the bundled LM Studio emulator until SIGINT or SIGTERM.

Only the standard library is imported at module level so that ``lmsprofiles --help`` stays
fast; websockets, pydantic and ruamel.yaml are imported by :func:`run`.
"""

from __future__ import annotations

import argparse
import sys

from lmsprofiles._commands._options import add_globals

DEFAULT_PORT = 41343
"""The first port the SDK's default discovery probes, so ``lms.Client()`` finds the emulator."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``emulator``; its ``--host`` is the address to bind."""
    parser.add_argument(
        "--host",
        metavar="ADDRESS[:PORT]",
        default=argparse.SUPPRESS,
        help="address to bind, optionally with the port: 127.0.0.1 (default), 0.0.0.0:1234, "
        "[::1]:1234, localhost, http://127.0.0.1:1234; LMSPROFILES_HOST is not read",
    )
    # the same before or after the command: check_globals applies bind_address to either
    add_globals(parser, own={"host": bind_address})
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        metavar="N",
        help=f"TCP port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--catalog",
        metavar="FILE",
        default=None,
        help="catalog YAML of models and emulator settings (default: the bundled catalog)",
    )
    parser.add_argument(
        "--latency-ms",
        type=_milliseconds,
        default=0.0,
        metavar="N",
        help="hold every message to a client back N milliseconds, as over a slow link (default 0)",
    )
    parser.add_argument(
        "--count",
        type=_count,
        default=1,
        metavar="N",
        help="run N emulators, each with its own state, on ports PORT, PORT+1, ... (a free "
        "port each with --port 0)",
    )
    parser.epilog = (
        "Prints 'listening on HOST:PORT' once ready, one line per emulator in port order; "
        "stops on SIGINT or SIGTERM.\n\n" + (parser.epilog or "")
    )


def bind_address(text: str) -> tuple[str, int | None]:
    """``--host`` as ``(address, port or None)``, from the forms people type.

    ``HOST``, ``HOST:PORT``, ``[IPV6]``, ``[IPV6]:PORT``, a bare IPv6 address, ``:PORT`` and
    any of these after ``http://``, ``https://``, ``ws://`` or ``wss://``. Raises
    ``argparse.ArgumentTypeError`` (a usage error) for anything else.
    """
    value = text.strip()
    for scheme in ("http://", "https://", "ws://", "wss://"):
        if value.lower().startswith(scheme):
            value = value[len(scheme) :].rstrip("/")
            break
    if "/" in value or not value:
        raise argparse.ArgumentTypeError(f"expected ADDRESS or ADDRESS:PORT, not {text!r}")
    port_text: str | None = None
    if value.startswith("["):
        address, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise argparse.ArgumentTypeError(f"expected [IPV6] or [IPV6]:PORT, not {text!r}")
        port_text = rest[1:] if rest else None
        _ipv6(address, text)
    elif value.count(":") == 1:
        address, _, port_text = value.partition(":")
    elif ":" in value:
        address = value  # a bare IPv6 address
        _ipv6(address, text)
    else:
        address = value  # a name or an IPv4 address
    if port_text is not None and not (
        port_text.isascii() and port_text.isdigit() and int(port_text) <= 65535
    ):
        raise argparse.ArgumentTypeError(f"the port in {text!r} must be 0 to 65535")
    if address and ":" not in address:
        from lmsprofiles._reconcile._host import check_name

        try:
            check_name(address)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{exc} (got {text!r})") from None
    return address or "127.0.0.1", None if port_text is None else int(port_text)


def _ipv6(address: str, text: str) -> None:
    import ipaddress

    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{address!r} is not an IPv6 address; expected ADDRESS, ADDRESS:PORT, "
            f"[IPV6]:PORT or a bare IPv6 address, not {text!r}"
        ) from None


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {text!r}")
    return int(text)


def _milliseconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60_000:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected milliseconds from 0 to 60000, not {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 64, not {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return 0, or raise an ``LmsProfilesError``."""
    import asyncio
    import signal

    from lmsprofiles.emulator import Emulator, load_catalog

    bind, host_port = args.host or ("127.0.0.1", None)
    if host_port is not None and args.port is not None and host_port != args.port:
        print(
            f"lmsprofiles emulator: error: --host names port {host_port} and --port "
            f"{args.port}; give one",
            file=sys.stderr,
        )
        return 2
    port: int | None = args.port if args.port is not None else host_port
    if port is None:
        port = DEFAULT_PORT
    last = port + args.count - 1 if port else 0
    if last > 65535:
        print(
            f"lmsprofiles emulator: error: --count {args.count} from port {port} needs ports "
            f"{port} to {last}; the last port is 65535",
            file=sys.stderr,
        )
        return 2
    catalog = load_catalog(args.catalog)
    emulators = [Emulator(catalog, bind=bind, port=port and port + i) for i in range(args.count)]
    for emulator in emulators:
        emulator.latency_ms = args.latency_ms

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        serving: list[asyncio.Task[None]] = []
        try:
            for emulator in emulators:  # one after the other: the lines come in port order
                bound = asyncio.Event()

                def ready(emu: Emulator, bound: asyncio.Event = bound) -> None:
                    print(f"listening on {emu.host}", flush=True)
                    bound.set()

                serving.append(asyncio.create_task(emulator.serve(stop, ready)))
                waiting = asyncio.create_task(bound.wait())
                await asyncio.wait([serving[-1], waiting], return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                if serving[-1].done():
                    break  # it cannot listen: gather() raises its error
            await asyncio.gather(*serving)
        finally:
            stop.set()
            await asyncio.gather(*serving, return_exceptions=True)

    asyncio.run(main())
    return 0
