"""How long lmsprofiles waits for LM Studio: ``--timeout``, ``LMSPROFILES_TIMEOUT``, ``timeout=``.

The timeout bounds every wait for the server: connecting (greeting, websocket handshake and
authentication) and each answer after a request. A load that keeps reporting progress is not
cut off: the wait starts again with every message, so only a silent server times out.

Standard library only: the light commands import this through the control settings.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Final, TypeVar

__all__ = ["DEFAULT_TIMEOUT", "parse_timeout", "run_bounded"]

DEFAULT_TIMEOUT: Final = 60.0
"""Seconds, the same as the SDK's own default for its synchronous API."""

T = TypeVar("T")


def parse_timeout(text: str) -> float:
    """A timeout as written by a user; ``ValueError`` unless it is a number of seconds > 0."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"must be a number of seconds > 0 (got {text!r})") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a number of seconds > 0 (got {text!r})")
    return value


def run_bounded(call: Callable[[], T], timeout: float, on_timeout: Callable[[], None]) -> T:
    """``call()``, or ``on_timeout()`` and :class:`TimeoutError` if it takes over ``timeout`` s.

    For blocking SDK calls that have no timeout of their own (opening a websocket): the call
    runs in a daemon thread; ``on_timeout`` should release it (e.g. close the client).
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    worker = threading.Thread(target=run, name="lmsprofiles-bounded", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        on_timeout()
        raise TimeoutError(f"no answer within {timeout:g} s")
    if failure:
        raise failure[0]
    return outcome[0]
