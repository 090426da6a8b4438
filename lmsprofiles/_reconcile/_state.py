"""Ownership records: which instances lmsprofiles loaded, one JSON file per LM Studio host.

Files live in ``<state dir>/hosts/<host slug>.json``; the state dir is ``--state-dir``, else
``$LMSPROFILES_STATE_DIR``, else ``platformdirs.user_state_dir("lmsprofiles")``. Writes are
atomic (a temporary file in the same directory, then ``os.replace``), so a crash never
leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from lmsprofiles._errors import LmsProfilesError
from lmsprofiles._reconcile._model import KINDS, OwnershipRecord

__all__ = ["STATE_DIR_ENV", "OwnershipStore", "default_state_dir", "host_slug"]

STATE_DIR_ENV: Final = "LMSPROFILES_STATE_DIR"
_FORMAT_VERSION: Final = 1


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$LMSPROFILES_STATE_DIR`` if set, else the platform's user state dir."""
    environ = os.environ if env is None else env
    if environ.get(STATE_DIR_ENV):
        return Path(environ[STATE_DIR_ENV])
    import platformdirs

    return Path(platformdirs.user_state_dir("lmsprofiles"))


def host_slug(host: str) -> str:
    """A file-name-safe, readable form of ``host`` (``127.0.0.1:1234`` -> ``127.0.0.1_1234``)."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", host.strip().lower()).strip("_.")
    return slug or "default"


class OwnershipStore:
    """The ownership records of one host under ``state_dir``."""

    def __init__(self, state_dir: Path, host: str) -> None:
        self.host = host
        self.path = state_dir / "hosts" / f"{host_slug(host)}.json"

    def read(self) -> dict[str, OwnershipRecord]:
        """The records by identifier; none if the file does not exist.

        Raises :class:`LmsProfilesError` if the file cannot be read or parsed.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise LmsProfilesError(f"cannot read the state file {self.path}: {exc}") from exc
        try:
            document = json.loads(text)
            return {
                identifier: _record(identifier, entry)
                for identifier, entry in document["instances"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LmsProfilesError(
                f"the state file {self.path} is damaged ({exc}); "
                "delete it to forget which instances lmsprofiles loaded"
            ) from exc

    def write(self, records: Mapping[str, OwnershipRecord]) -> None:
        """Replace the records atomically."""
        document = {
            "format_version": _FORMAT_VERSION,
            "host": self.host,
            "instances": {
                identifier: {
                    "model_key": r.model_key,
                    "type": r.kind,
                    "ttl": r.ttl,
                    "loaded_at": r.loaded_at,
                }
                for identifier, r in sorted(records.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _record(identifier: str, entry: Any) -> OwnershipRecord:
    kind = entry["type"]
    if kind not in KINDS:
        raise ValueError(f"unknown type {kind!r} for {identifier!r}")
    ttl = entry.get("ttl")
    if ttl is not None and not isinstance(ttl, int):
        raise TypeError(f"ttl of {identifier!r} is not an integer")
    return OwnershipRecord(
        identifier, str(entry["model_key"]), kind, ttl, str(entry.get("loaded_at", ""))
    )
