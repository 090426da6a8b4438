"""``emulator`` subcommand."""

from __future__ import annotations

import argparse


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """Add the options of ``emulator``."""


def run(command: str, args: argparse.Namespace) -> int:
    """Run the emulator until SIGINT or SIGTERM."""
    raise NotImplementedError(command)
