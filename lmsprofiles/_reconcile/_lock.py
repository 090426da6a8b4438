"""An advisory per-server lock so that two runs never change one LM Studio server at once.

The lock is ``fcntl.flock`` on ``<state dir>/locks/<server slug>.lock``, named after the
server (:func:`~lmsprofiles._reconcile._host.server_key`), so ``localhost:1234`` and
``127.0.0.1:1234`` share one lock. ``reconcile`` and ``adopt`` hold it for their whole run;
runtime sessions hold it while they load, unload and write ownership records. The holder
writes who
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

from lmsprofiles._errors import LockHeldError, StateError
from lmsprofiles._reconcile._host import server_key
from lmsprofiles._reconcile._state import host_slug

__all__ = ["HostLock", "host_lock", "lock_holder", "lock_path"]

_POLL_SECONDS: Final = 0.05


def lock_path(state_dir: Path, host: str) -> Path:
    """Where the lock file of the server ``host`` names lives."""
    return state_dir / "locks" / f"{host_slug(server_key(host))}.lock"


class HostLock:
    """The lock of one server, taken with :meth:`acquire` and given back with :meth:`release`.

    Each instance opens the lock file itself, so two instances exclude each other even in
    one process (two threads of a session, a session and an in-process reconcile).
    """

    def __init__(
        self, state_dir: Path, host: str, *, operation: str, wait_option: str = "--lock-timeout"
    ) -> None:
        self.path = lock_path(state_dir, host)
        self.host = host
        self.operation = operation
        self.wait_option = wait_option
        self._fd: int | None = None

    def acquire(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds (0 = do not wait), else raise :class:`LockHeldError`."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"cannot open the lock file {self.path}: {exc.strerror}") from exc
        try:
            _acquire(fd, self.path, self.host, timeout, self.wait_option)
            _write_holder(fd, self.operation)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


@contextlib.contextmanager
def host_lock(state_dir: Path, host: str, *, operation: str, timeout: float) -> Iterator[None]:
    """Hold the lock of the server ``host`` names for the ``with`` block.

    Waits up to ``timeout`` seconds (0 = do not wait); then raises :class:`LockHeldError`
    naming the holder.
    """
    lock = HostLock(state_dir, host, operation=operation)
    lock.acquire(timeout)
    try:
        yield
    finally:
        lock.release()


def lock_holder(state_dir: Path, host: str) -> str | None:
    """Who holds the lock of the server ``host`` names (``pid N, user@host, reconcile since
    TIME``), or None if no run holds it. Creates nothing: for a read-only ``plan``."""
    path = lock_path(state_dir, host)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # no lock file: no run ever held it (or it cannot be read)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(path)
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, host: str, timeout: float, wait_option: str) -> None:
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockHeldError(
                    f"another lmsprofiles run holds the lock for {host}: {_holder(path)} "
                    f"(lock file {path}; waited {timeout:g} s, see {wait_option})"
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
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return "holder unknown"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in some containers
        return str(os.getuid())
