"""``plan`` and ``reconcile`` subcommands."""

from __future__ import annotations

import argparse


def configure(command: str, parser: argparse.ArgumentParser) -> None:
    """Add the options of ``plan`` or ``reconcile``."""


def run(command: str, args: argparse.Namespace) -> int:
    """Run ``plan`` or ``reconcile``."""
    raise NotImplementedError(command)
