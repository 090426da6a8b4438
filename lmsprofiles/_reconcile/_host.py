"""LM Studio host addresses: parsing what users write, and which server an address names.

:func:`parse_host` is the one parser behind ``--host``, ``LMSPROFILES_HOST``, the
addresses of ``hosts.yaml`` and the ``host=`` argument of the runtime API. It accepts
``HOST:PORT`` and ``HOST`` (port 1234, LM Studio's default), with ``HOST`` a name, an IPv4
address or a bracketed IPv6 address (``[::1]:1234``); anything else is a :class:`ValueError`
saying what is wrong. An IPv4 address is written as four decimal numbers from 0 to 255
without leading zeros: the other spellings the system's resolver reads as addresses
(``127.1``, ``0x7f000001``, ``2130706433``, ``127.0.0.01``) are refused with the canonical
spelling as a hint, so that every accepted address is one the SDK (httpx) can use and names
one server key.

:func:`server_key` says which server an address names, for the per-host lock and ownership
records: every loopback spelling (``localhost``, ``127.0.0.1``, any ``127.x.y.z``, ``[::1]``,
``0.0.0.0``) is the same local server, names compare without case or a trailing dot, and a
port left out is 1234. Other names are not resolved: ``gpu-box:1234`` and ``10.0.0.5:1234`` are
two keys even if one resolves to the other.

Standard library only: the light commands import this through the control settings.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

__all__ = ["DEFAULT_PORT", "check_name", "parse_host", "server_key"]

DEFAULT_PORT: Final = 1234
"""LM Studio's default API server port."""

_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_NAME: Final = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?")
_NUMBER: Final = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_EXAMPLE: Final = "e.g. localhost:1234"


def parse_host(text: str) -> str:
    """``text`` as the ``HOST:PORT`` string the SDK connects to; ``ValueError`` if malformed.

    The host is kept as written (the SDK resolves names itself); a missing port becomes
    :data:`DEFAULT_PORT`.
    """
    value = text.strip()
    if not value:
        raise ValueError(f"is empty; give host:port, {_EXAMPLE}")
    if "://" in value:
        raise ValueError(f"give host:port without a scheme, {_EXAMPLE}")
    host, port = _split(value, text)
    return f"{host}:{port}"


def server_key(address: str) -> str:
    """The server ``address`` (a :func:`parse_host` result, or the SDK's ``api_host``) names.

    Loopback spellings become ``127.0.0.1``, names are lower-cased, IPv6 addresses are
    written in their short form, and the port is always present.
    """
    host, port = _split(address.strip(), address)
    bare = host[1:-1] if host.startswith("[") else host
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        name = bare.lower().rstrip(".")
        return f"127.0.0.1:{port}" if name in _LOOPBACK_NAMES else f"{name}:{port}"
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback or ip.is_unspecified:
        return f"127.0.0.1:{port}"
    return f"[{ip.compressed}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def _split(value: str, text: str) -> tuple[str, int]:
    """``(host, port)`` of ``value``; the host keeps its brackets."""
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError(f"unclosed '[' in {text!r}; write an IPv6 address as [::1]:1234")
        host, rest = value[: end + 1], value[end + 1 :]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{host} is not an IPv6 address (got {text!r})") from None
        if rest and not rest.startswith(":"):
            raise ValueError(f"expected ':PORT' after {host} (got {text!r})")
        return host, _port(rest[1:], text) if rest else DEFAULT_PORT
    if value.count(":") > 1:
        raise ValueError(
            f"expected host:port, {_EXAMPLE}; write an IPv6 address in brackets, "
            f"e.g. [::1]:1234 (got {text!r})"
        )
    host, sep, port = value.partition(":")
    try:
        check_name(host)
    except ValueError as exc:
        raise ValueError(f"{exc} (got {text!r})") from None
    return host, _port(port, text) if sep else DEFAULT_PORT


def check_name(host: str) -> None:
    """``ValueError`` unless ``host`` is a host name or an IPv4 address in its canonical
    spelling (four decimal numbers from 0 to 255, no leading zeros).

    A host whose last label is a number (decimal, or hexadecimal after ``0x``) is read as an
    IPv4 address by URL parsers and resolvers alike; written any other way than the
    canonical one, httpx refuses it or the resolver reads it as another spelling of an
    address (``127.1`` is ``127.0.0.1``), which would give one server two keys.
    """
    if not _NAME.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or address")
    bare = host.rstrip(".")
    labels = bare.split(".")
    if "" in labels or len(bare) > 253 or max(map(len, labels)) > 63:
        raise ValueError(
            f"{host!r} is not a host name: its dot-separated parts must be 1 to 63 characters, "
            "the whole at most 253"
        )
    if not _NUMBER.fullmatch(labels[-1]):
        return
    canonical = _canonical_ipv4(bare)
    if canonical == host:
        return
    if canonical == bare:
        raise ValueError(f"{host!r}: write the IPv4 address without the trailing dot, {bare}")
    if canonical is not None:
        raise ValueError(
            f"{host!r} is not written as an IPv4 address lmsprofiles takes (four decimal "
            f"numbers from 0 to 255, without leading zeros); write it as {canonical}, which is "
            "how the system reads it"
        )
    if all(_NUMBER.fullmatch(label) for label in labels):
        raise ValueError(
            f"{host!r} is not an IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.5)"
        )
    raise ValueError(
        f"{host!r} ends in a number, so it is read as an IPv4 address, and it is not one; "
        "write an IPv4 address as four numbers from 0 to 255, e.g. 10.0.0.5"
    )


def _canonical_ipv4(text: str) -> str | None:
    """``text`` as the system's resolver reads it as an IPv4 address (``127.1`` is
    ``127.0.0.1``), in the canonical spelling; None if it does not read it as one."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    import socket

    try:
        return socket.inet_ntoa(socket.inet_aton(text))
    except OSError:
        return None


def _port(text: str, whole: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"the port must be a number from 1 to 65535 (got {whole!r})")
    return int(text)
