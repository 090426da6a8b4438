"""Counts the generated cases of the fuzz suite and prints the total at the end of the run."""

from __future__ import annotations

import time

import pytest

CASES = {"count": 0, "started": 0.0}


def count_case() -> None:
    """Called once per generated case."""
    if not CASES["count"]:
        CASES["started"] = time.monotonic()
    CASES["count"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CASES["count"]:
        seconds = time.monotonic() - CASES["started"]
        terminalreporter.write_line(f"fuzz: {CASES['count']} cases in {seconds:.1f} s")
