"""Exceptions raised by lmsprofiles.

Every error the package raises on purpose derives from :class:`LmsProfilesError`; each class
carries the CLI exit code it maps to, so one handler in the CLI owns the exit codes::

    LmsProfilesError                  exit 1
    ├── ProfileError (ValueError)     exit 3  invalid profiles, environment or overrides
    │   ├── UnknownModelError                 no model profile with that identifier
    │   ├── UnknownRequestError               no request overlay with that name
    │   └── UnknownHostError                  no inventory host with that name
    ├── LMStudioUnreachableError      exit 1  nothing answers at the LM Studio host
    ├── LMStudioError                 exit 1  an SDK call failed (server error, ...)
    │   └── LMStudioTimeoutError              LM Studio did not answer within the timeout
    ├── StateError                    exit 1  the ownership records cannot be read
    ├── ApplyError                    exit 4  reconcile applied part of its plan, or the
    │                                         plan is blocked (conflict, preflight error)
    └── LockHeldError                 exit 5  another reconcile holds the host lock

SDK exceptions are translated at the boundary and never leave the package raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ApplyError",
    "LMStudioError",
    "LMStudioTimeoutError",
    "LMStudioUnreachableError",
    "LmsProfilesError",
    "LockHeldError",
    "Problem",
    "ProfileError",
    "StateError",
    "UnknownHostError",
    "UnknownModelError",
    "UnknownRequestError",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in the profiles or the environment.

    ``source`` is a file path, an environment variable's name or ``"call-site"``; ``line`` and
    ``column`` are 1-based and present only for files. ``path`` is the dotted path of the key
    as written in that source.
    """

    source: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        if self.path:
            return visible(f"{where}: {self.path}: {self.message}")
        return visible(f"{where}: {self.message}")

    def as_dict(self) -> dict[str, object]:
        """The problem as JSON-ready data."""
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
        }


def visible(text: str) -> str:
    """``text`` on one line with every character that does not print (a line break, a
    control character, a zero-width space) escaped as Python writes it: ``\\n``, ``\\u200b``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class LmsProfilesError(Exception):
    """Base class of every error lmsprofiles raises on purpose."""

    exit_code: int = 1


class ProfileError(LmsProfilesError, ValueError):
    """The profiles, the environment or a call-site override are invalid.

    ``problems`` holds every problem found: those in files first, by file and position, then
    those of variables, then those of call-site overrides.
    """

    exit_code = 3

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems), key=_problem_order))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, source: str, message: str, path: str = "") -> ProfileError:
        """An error with one problem that has no file position."""
        return cls([Problem(source, None, None, path, message)])


class UnknownModelError(ProfileError):
    """No model profile has the identifier that was asked for."""


class UnknownRequestError(ProfileError):
    """No request overlay has the name that was asked for."""


class UnknownHostError(ProfileError):
    """No host of the inventory (``hosts.yaml``) has the name that was asked for."""


class LMStudioUnreachableError(LmsProfilesError):
    """Nothing that speaks LM Studio's protocol answers at the host."""


class LMStudioError(LmsProfilesError):
    """A call to LM Studio through the SDK failed."""


class LMStudioTimeoutError(LMStudioError):
    """LM Studio accepted the connection but did not answer within the timeout."""


class StateError(LmsProfilesError):
    """The ownership records of a host cannot be read (damaged, or not readable).

    The message names the file and the way back (``lmsprofiles adopt``).
    """


class ApplyError(LmsProfilesError):
    """Reconcile applied only part of its plan, or the plan is blocked.

    ``failures`` says what failed and why, as ``(identifier, message)`` pairs.
    """

    exit_code = 4

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        self.failures: tuple[tuple[str, str], ...] = tuple(failures)
        super().__init__(message)


class LockHeldError(LmsProfilesError):
    """Another reconcile holds the lock for the same LM Studio host."""

    exit_code = 5


def _problem_order(p: Problem) -> tuple[int, str, int, int, str, str]:
    """Files first (by path, then line and column), then variables, then call-site
    overrides (``call-site``, ``--set``)."""
    if p.source in ("call-site", "--set"):
        kind = 2
    elif p.source.upper().startswith("LMSPROFILES_") and not {"/", "\\"} & set(p.source):
        kind = 1
    else:
        kind = 0
    return (kind, p.source, p.line or 0, p.column or 0, p.path, p.message)
