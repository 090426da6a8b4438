"""An advisory per-host lock so that two reconciles never change one LM Studio host at once.

The lock is ``fcntl.flock`` on ``<state dir>/locks/<host slug>.lock``; the holder writes who
it is into the file (pid, user@hostname, operation, start time) so a waiting run can say
who holds it. The kernel drops the lock when the holder exits, so a crashed run never
leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from lmsprofiles._errors import LockHeldError
from lmsprofiles._reconcile._state import host_slug

__all__ = ["host_lock", "lock_path"]

_POLL_SECONDS: Final = 0.05


def lock_path(state_dir: Path, host: str) -> Path:
    """Where the lock file of ``host`` lives."""
    return state_dir / "locks" / f"{host_slug(host)}.lock"


@contextlib.contextmanager
def host_lock(state_dir: Path, host: str, *, operation: str, timeout: float) -> Iterator[None]:
    """Hold the lock of ``host`` for the ``with`` block.

    Waits up to ``timeout`` seconds (0 = do not wait); then raises :class:`LockHeldError`
    naming the holder.
    """
    path = lock_path(state_dir, host)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, host, timeout)
        try:
            _write_holder(fd, operation)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, host: str, timeout: float) -> None:
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockHeldError(
                    f"another lmsprofiles run holds the lock for {host}: {_holder(path)} "
                    f"(lock file {path}; waited {timeout:g} s, see --lock-timeout)"
                ) from None
            time.sleep(_POLL_SECONDS)


def _write_holder(fd: int, operation: str) -> None:
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    holder = {
        "pid": os.getpid(),
        "holder": f"{_user()}@{socket.gethostname()}",
        "operation": operation,
        "started": started,
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']}, {info['holder']}, {info['operation']} since {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in some containers
        return str(os.getuid())
