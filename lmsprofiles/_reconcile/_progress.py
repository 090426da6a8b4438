"""How reconcile reports its steps while it applies a plan.

:class:`PlainReporter` writes one line per step (logs, CI); :class:`RichReporter` draws
progress bars on a terminal; :class:`SilentReporter` prints nothing (``--json``, where the
result document is the only output).
"""

from __future__ import annotations

from typing import Any, Protocol, TextIO

__all__ = [
    "PlainReporter",
    "Reporter",
    "RichReporter",
    "SilentReporter",
    "Tally",
    "make_reporter",
]


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


class Tally:
    """Passes the steps on to ``reporter`` and keeps count: ``done`` lists the ``(verb,
    identifier)`` of the steps that succeeded, ``under_way`` the one started and not yet
    finished, if any (what an interrupted run had done)."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self.done: list[tuple[str, str]] = []
        self.under_way: tuple[str, str] | None = None

    def start(self, verb: str, identifier: str, model_key: str) -> None:
        """Note the step and pass it on."""
        self.under_way = (verb, identifier)
        self._reporter.start(verb, identifier, model_key)

    def progress(self, fraction: float) -> None:
        """Pass the progress on."""
        self._reporter.progress(fraction)

    def finish(self, error: str | None) -> None:
        """Count the step if it succeeded, and pass the outcome on."""
        if error is None and self.under_way is not None:
            self.done.append(self.under_way)
        self.under_way = None
        self._reporter.finish(error)

    def close(self) -> None:
        """Close the reporter passed to."""
        self._reporter.close()


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
