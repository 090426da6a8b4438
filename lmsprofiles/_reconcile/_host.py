"""LM Studio host addresses: parsing what users write, and which server an address names.

:func:`parse_host` is the one parser behind ``--host``, ``LMSPROFILES_HOST`` and the
``host=`` argument of the runtime API. It accepts ``HOST:PORT`` and ``HOST`` (port 1234, LM
Studio's default), with ``HOST`` a name, an IPv4 address or a bracketed IPv6 address
(``[::1]:1234``); anything else is a :class:`ValueError` saying what is wrong.

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

__all__ = ["DEFAULT_PORT", "parse_host", "server_key"]

DEFAULT_PORT: Final = 1234
"""LM Studio's default API server port."""

_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_NAME: Final = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?")
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
    if not _NAME.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or address (got {text!r})")
    return host, _port(port, text) if sep else DEFAULT_PORT


def _port(text: str, whole: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"the port must be a number from 1 to 65535 (got {whole!r})")
    return int(text)
