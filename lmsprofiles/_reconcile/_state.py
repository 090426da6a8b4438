"""Ownership records on disk: one JSON file per LM Studio server.

Files live in ``<state dir>/hosts/<server slug>.json``; the state dir is ``--state-dir``, else
``$LMSPROFILES_STATE_DIR``, else ``platformdirs.user_state_dir("lmsprofiles")``. The file is
named after the server (:func:`~lmsprofiles._reconcile._host.server_key`), not after how its
address was spelled. Writes are atomic and durable (a temporary file in the same directory,
fsync, ``os.replace``, fsync of the directory), so a crash leaves either the old or the new
file, never a half-written one. Writers hold the host lock (:mod:`._lock`).

Format 2 adds ``intents`` (:mod:`._ownership`); format 1 files are read as they are, and
records that an older version filed under another spelling of the same server (``localhost``
next to ``127.0.0.1``) are merged in and their files removed on the next write.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from lmsprofiles._errors import ProfileError, StateError
from lmsprofiles._reconcile._host import server_key
from lmsprofiles._reconcile._model import KINDS, OwnershipRecord
from lmsprofiles._reconcile._ownership import Intent, State

__all__ = [
    "STATE_DIR_ENV",
    "OwnershipStore",
    "check_state_dir",
    "default_state_dir",
    "host_slug",
]

STATE_DIR_ENV: Final = "LMSPROFILES_STATE_DIR"
_FORMAT_VERSION: Final = 2
_READABLE_VERSIONS: Final = (1, 2)
_RECOVERY: Final = (
    "run `lmsprofiles adopt` to set it aside and take over the loaded instances that match "
    "the profiles"
)


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$LMSPROFILES_STATE_DIR`` if set, else the platform's user state dir."""
    environ = os.environ if env is None else env
    if environ.get(STATE_DIR_ENV):
        return Path(environ[STATE_DIR_ENV])
    import platformdirs

    return Path(platformdirs.user_state_dir("lmsprofiles"))


def check_state_dir(path: Path, source: str) -> None:
    """Raise ``ProfileError`` (exit 3) if ``path`` exists and is not a directory.

    ``source`` names where the path came from (``--state-dir``, ``LMSPROFILES_STATE_DIR``).
    """
    if path.exists() and not path.is_dir():
        raise ProfileError.single(source, f"{path} is not a directory")


def host_slug(host: str) -> str:
    """A file-name-safe, readable form of ``host`` (``127.0.0.1:1234`` -> ``127.0.0.1_1234``)."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", host.strip().lower()).strip("_.")
    return slug or "default"


class OwnershipStore:
    """The ownership records of one server under ``state_dir``.

    ``host`` is the address in use (any spelling); the file is named after its server key.
    """

    def __init__(self, state_dir: Path, host: str) -> None:
        self.state_dir = state_dir
        self.key = server_key(host)
        self.path = state_dir / "hosts" / f"{host_slug(self.key)}.json"
        self.set_aside: list[Path] = []
        """Damaged files :meth:`read` moved aside, with their new names."""
        self.outdated = False
        """:meth:`read` found an older format or files of older versions: write to migrate."""

    def read(self, *, set_aside_damaged: bool = False) -> State:
        """The records and intents; empty if there is no file.

        Raises :class:`StateError` naming the file and the recovery if it cannot be read or
        parsed. With ``set_aside_damaged`` a damaged file is renamed to
        ``<name>.damaged-<time>`` (kept, not deleted) and the state starts empty.
        """
        state = self._read_file(self.path, set_aside_damaged=set_aside_damaged)
        for legacy in self._legacy_files():
            old = self._read_file(legacy, set_aside_damaged=set_aside_damaged)
            state = State({**old.records, **state.records}, {**old.intents, **state.intents})
            self.outdated = True
        return state

    def write(self, state: State) -> None:
        """Replace the file atomically and durably; remove merged files of older versions."""
        document = {
            "format_version": _FORMAT_VERSION,
            "host": self.key,
            "instances": {
                identifier: {
                    "model_key": r.model_key,
                    "type": r.kind,
                    "ttl": r.ttl,
                    "loaded_at": r.loaded_at,
                    "instance_reference": r.instance_reference,
                }
                for identifier, r in sorted(state.records.items())
            },
            "intents": {
                identifier: {
                    "op": i.op,
                    "model_key": i.model_key,
                    "type": i.kind,
                    "ttl": i.ttl,
                    "load": dict(i.load),
                    "digest": i.digest,
                    "started_at": i.started_at,
                }
                for identifier, i in sorted(state.intents.items())
            },
        }
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        except OSError as exc:
            raise StateError(f"cannot write the state file {self.path}: {_reason(exc)}") from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            _fsync_directory(directory)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StateError(
                    f"cannot write the state file {self.path}: {_reason(exc)}"
                ) from exc
            raise
        for legacy in self._legacy_files():
            legacy.unlink(missing_ok=True)

    def _legacy_files(self) -> list[Path]:
        """Files of this server under another name (written by versions keyed by spelling)."""
        directory = self.path.parent
        if not directory.is_dir():
            return []
        found = []
        for candidate in sorted(directory.glob("*.json")):
            if candidate.name == self.path.name:
                continue
            try:
                host = json.loads(candidate.read_text(encoding="utf-8")).get("host")
                if isinstance(host, str) and server_key(host) == self.key:
                    found.append(candidate)
            except (OSError, ValueError, AttributeError, RecursionError):
                continue
        return found

    def _read_file(self, path: Path, *, set_aside_damaged: bool) -> State:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return State()
        except OSError as exc:
            raise StateError(
                f"cannot read the state file {path}: {_reason(exc)}; fix its permissions, or "
                f"move it aside and run `lmsprofiles adopt` to take over the loaded instances "
                "that match the profiles"
            ) from exc
        try:
            state, version = _parse(data)
        except _Newer as exc:
            raise StateError(
                f"the state file {path} was written by a newer lmsprofiles ({exc}); "
                "upgrade lmsprofiles to use it"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            if set_aside_damaged:
                self.set_aside.append(_set_aside(path))
                return State()
            raise StateError(
                f"the state file {path} is damaged ({_describe(exc)}); {_RECOVERY}"
            ) from None
        self.outdated = self.outdated or version != _FORMAT_VERSION
        return state


class _Newer(ValueError):
    pass


def _parse(data: bytes) -> tuple[State, int]:
    document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict):
        raise TypeError("not a JSON object")
    version = document.get("format_version", 1)
    if isinstance(version, int) and version > _FORMAT_VERSION:
        raise _Newer(f"format_version {version}")
    if version not in _READABLE_VERSIONS:
        raise ValueError(f"unknown format_version {version!r}")
    records = {
        str(identifier): _record(str(identifier), entry)
        for identifier, entry in _mapping(document["instances"]).items()
    }
    intents = {
        str(identifier): _intent(str(identifier), entry)
        for identifier, entry in _mapping(document.get("intents", {})).items()
    }
    return State(records, intents), version


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected a JSON object")
    return value


def _kind(identifier: str, entry: Mapping[str, Any]) -> Any:
    kind = entry["type"]
    if kind not in KINDS:
        raise ValueError(f"unknown type {kind!r} for {identifier!r}")
    return kind


def _ttl(identifier: str, entry: Mapping[str, Any]) -> int | None:
    ttl = entry.get("ttl")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool)):
        raise TypeError(f"ttl of {identifier!r} is not an integer")
    return ttl


def _record(identifier: str, entry: Any) -> OwnershipRecord:
    entry = _mapping(entry)
    return OwnershipRecord(
        identifier,
        str(entry["model_key"]),
        _kind(identifier, entry),
        _ttl(identifier, entry),
        str(entry.get("loaded_at", "")),
        _reference(identifier, entry),
    )


def _reference(identifier: str, entry: Mapping[str, Any]) -> str | None:
    reference = entry.get("instance_reference")
    if reference is not None and not isinstance(reference, str):
        raise TypeError(f"instance_reference of {identifier!r} is not a string")
    return reference


def _intent(identifier: str, entry: Any) -> Intent:
    entry = _mapping(entry)
    op = entry["op"]
    if op not in ("load", "unload"):
        raise ValueError(f"unknown intent {op!r} for {identifier!r}")
    return Intent(
        op,
        identifier,
        str(entry["model_key"]),
        _kind(identifier, entry),
        _ttl(identifier, entry),
        dict(_mapping(entry.get("load", {}))),
        str(entry.get("digest", "")),
        str(entry.get("started_at", "")),
    )


def _set_aside(path: Path) -> Path:
    """Move ``path`` to ``<name>.damaged-<time>``, a name no file has yet (``-2``, ``-3``, ...
    after the time when another file was set aside in the same second): never over one."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    try:
        for n in itertools.count(1):
            target = path.with_name(f"{path.name}.damaged-{stamp}{'' if n == 1 else f'-{n}'}")
            try:
                os.link(path, target)  # fails if target exists, unlike a rename
            except FileExistsError:
                continue
            except OSError:  # no hard links here: the host lock is held, rename
                if target.exists():
                    continue
                os.replace(path, target)
                break
            path.unlink()
            break
    except OSError as exc:
        raise StateError(
            f"cannot move the damaged state file {path} aside: {_reason(exc)}"
        ) from exc
    return target


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at line {exc.lineno}"
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    return str(exc)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse it
        pass
    finally:
        os.close(fd)
