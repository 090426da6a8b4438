"""Running lmsprofiles in a child process from a test, so that a crash is diagnosable.

Every child started here gets ``PYTHONFAULTHANDLER=1``: a child that dies of a signal
(SIGSEGV, SIGABRT, ...) writes the Python traceback of every thread to its stderr, and
:func:`explain` puts that stderr into the test's failure message.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CLI", "REPO", "Finished", "cli_env", "explain", "run_cli", "start_cli"]

REPO = Path(__file__).resolve().parents[1]
CLI = (sys.executable, "-m", "lmsprofiles")
"""The command line of the CLI, run by the interpreter running the tests."""


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``LMSPROFILES_*`` variables, with the fault handler
    on, then ``extra``."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("LMSPROFILES_")}
    return {**environ, "PYTHONFAULTHANDLER": "1", **(extra or {})}


def _unprivileged() -> list[str]:
    """A command prefix under which file permissions apply, even to root (which overrides
    them); skips the test when there is none."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions do not apply")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def start_cli(
    *argv: str,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
    unprivileged: bool = False,
    **popen: Any,
) -> subprocess.Popen[str]:
    """Start ``lmsprofiles ARGV`` (``popen`` as for :class:`subprocess.Popen`, text mode)."""
    prefix = _unprivileged() if unprivileged else []
    return subprocess.Popen([*prefix, *CLI, *argv], cwd=cwd, env=cli_env(env), text=True, **popen)


@dataclass(frozen=True)
class Finished:
    """A child that ran to its end: exit code (negative: killed by that signal) and output."""

    argv: Sequence[str]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return explain(self.argv, self.code, self.err)


def run_cli(
    *argv: str,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
    unprivileged: bool = False,
    stdin: str | None = None,
    timeout: float = 120,
) -> Finished:
    """Run ``lmsprofiles ARGV`` to its end; ``str()`` of the answer explains how it ended."""
    process = start_cli(
        *argv,
        cwd=cwd,
        env=env,
        unprivileged=unprivileged,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(explain(argv, None, err, f"still running after {timeout:g} s; killed"))
    return Finished(argv, process.returncode, out, err)


def explain(argv: Sequence[str], code: int | None, err: str | None, how: str = "") -> str:
    """How ``lmsprofiles ARGV`` ended, with its stderr, for a failure message."""
    if not how:
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exit {code}"
    text = f"lmsprofiles {' '.join(argv)}: {how}"
    return text + (f"\n--- its stderr ---\n{err}" if err else "\n(its stderr was empty)")
