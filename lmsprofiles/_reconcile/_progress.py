"""How reconcile reports its steps while it applies a plan.

:class:`PlainReporter` writes one line per step (logs, CI); :class:`RichReporter` draws
progress bars on a terminal; :class:`SilentReporter` prints nothing (``--json``, where the
result document is the only output).
"""

from __future__ import annotations

from typing import Any, Protocol, TextIO

__all__ = ["PlainReporter", "Reporter", "RichReporter", "SilentReporter", "make_reporter"]


class Reporter(Protocol):
    """Receives the steps of an apply run, in order; ``finish`` follows every ``start``."""

    def start(self, verb: str, identifier: str, model_key: str) -> None: ...

    def progress(self, fraction: float) -> None: ...

    def finish(self, error: str | None) -> None: ...

    def close(self) -> None: ...


class SilentReporter:
    """Reports nothing."""

    def start(self, verb: str, identifier: str, model_key: str) -> None:
        """Ignore the step."""

    def progress(self, fraction: float) -> None:
        """Ignore the progress."""

    def finish(self, error: str | None) -> None:
        """Ignore the outcome."""

    def close(self) -> None:
        """Nothing to release."""


class PlainReporter:
    """One line when a step starts and one when it ends, for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._step = ""

    def start(self, verb: str, identifier: str, model_key: str) -> None:
        """Print ``<verb> <identifier> (<model>) ...``."""
        self._step = f"{verb} {identifier}"
        print(f"{verb} {identifier} ({model_key}) ...", file=self._stream, flush=True)

    def progress(self, fraction: float) -> None:
        """Plain output shows no intermediate progress."""

    def finish(self, error: str | None) -> None:
        """Print ``<verb> <identifier>: done`` or ``...: FAILED: <error>``."""
        outcome = "done" if error is None else f"FAILED: {error}"
        print(f"{self._step}: {outcome}", file=self._stream, flush=True)

    def close(self) -> None:
        """Nothing to release."""


class RichReporter:
    """A rich progress bar per step on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        self._console = Console(file=stream)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=self._console,
            transient=False,
        )
        self._progress.start()
        self._task: Any = None
        self._label = ""

    def start(self, verb: str, identifier: str, model_key: str) -> None:
        """Add a bar for the step."""
        self._label = f"{verb} {identifier} ({model_key})"
        self._task = self._progress.add_task(self._label, total=1.0)

    def progress(self, fraction: float) -> None:
        """Move the bar."""
        if self._task is not None:
            self._progress.update(self._task, completed=max(0.0, min(fraction, 1.0)))

    def finish(self, error: str | None) -> None:
        """Complete the bar, or mark it failed."""
        if self._task is None:
            return
        if error is None:
            self._progress.update(self._task, completed=1.0)
        else:
            self._progress.update(self._task, description=f"{self._label}: FAILED: {error}")
        self._task = None

    def close(self) -> None:
        """Stop drawing."""
        self._progress.stop()


def make_reporter(stream: TextIO, *, json_output: bool, progress_bars: bool = True) -> Reporter:
    """The reporter that fits ``stream``: silent for JSON, bars on a TTY (unless
    ``progress_bars`` is false), else lines."""
    if json_output:
        return SilentReporter()
    if progress_bars and stream.isatty():
        return RichReporter(stream)
    return PlainReporter(stream)
