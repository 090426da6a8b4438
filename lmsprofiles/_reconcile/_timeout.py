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

__all__ = ["DEFAULT_TIMEOUT", "MAX_TIMEOUT", "check_seconds", "parse_timeout", "run_bounded"]

DEFAULT_TIMEOUT: Final = 60.0
"""Seconds, the same as the SDK's own default for its synchronous API."""

MAX_TIMEOUT: Final = 86400.0
"""The longest timeout, one day: longer ones are more than any wait for LM Studio needs, and
the waits of the standard library refuse values above about 292 years."""

T = TypeVar("T")


def parse_timeout(text: str) -> float:
    """A timeout as written by a user; ``ValueError`` unless it is a number of seconds > 0
    and at most :data:`MAX_TIMEOUT`."""
    if not text.strip():
        raise ValueError("is empty; give a number of seconds > 0")
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT:  # NaN fails too
        raise ValueError(
            f"must be a number of seconds > 0 and at most {MAX_TIMEOUT:g} (got {text!r})"
        )
    return value


def check_seconds(value: object, *, zero: bool = False) -> float:
    """``value`` as seconds for the runtime API: an int or a float, > 0 (>= 0 with ``zero``)
    and at most :data:`MAX_TIMEOUT`; ``TypeError`` for another type, ``ValueError`` for a
    number out of range, saying what is wrong."""
    least = ">= 0" if zero else "> 0"
    expected = f"must be a number of seconds {least} and at most {MAX_TIMEOUT:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{expected}, not {type(value).__name__} {value!r}")
    low_ok = value >= 0 if zero else value > 0
    if not (low_ok and value <= MAX_TIMEOUT):  # NaN fails too
        raise ValueError(f"{expected} (got {value!r})")
    return float(value)


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
