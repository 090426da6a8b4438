"""pytest plugin: LM Studio emulator fixtures (registered through a ``pytest11`` entry point).

``lmstudio_emulator`` (function scope) starts an :class:`~lmsprofiles.emulator.Emulator` on a free
loopback port and yields it; ``emu.host`` is the ``"127.0.0.1:PORT"`` string for
``lms.Client``. Override the ``lmstudio_emulator_catalog`` fixture to use another catalog (a
:class:`~lmsprofiles.emulator.Catalog`, a path, or ``None`` for the bundled one).

``lmstudio_protocol_warnings`` fails a test in which the ``lmstudio`` SDK logs a warning or an
error, or an emulator logs a protocol warning (a message one side could not use). Request it,
or wrap it in an autouse fixture, to hold a test suite to a clean protocol;
``.expect(pattern)`` allows a warning the test provokes on purpose.

The emulator package is imported lazily, inside the fixtures, so merely having this plugin
installed costs other test suites nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lmsprofiles.emulator import Catalog, Emulator

__all__ = [
    "ProtocolWarnings",
    "lmstudio_emulator",
    "lmstudio_emulator_catalog",
    "lmstudio_protocol_warnings",
]

EMULATOR_LOGGER = "lmsprofiles.emulator"


@pytest.fixture
def lmstudio_emulator_catalog() -> Catalog | str | os.PathLike[str] | None:
    """The catalog ``lmstudio_emulator`` uses; override it in a conftest.py."""
    return None


@pytest.fixture
def lmstudio_emulator(
    lmstudio_emulator_catalog: Catalog | str | os.PathLike[str] | None,
) -> Iterator[Emulator]:
    """A running LM Studio emulator on a free port, stopped after the test."""
    from lmsprofiles.emulator import Emulator

    with Emulator(lmstudio_emulator_catalog).running() as emulator:
        yield emulator


class ProtocolWarnings(logging.Handler):
    """Collects the warnings the ``lmstudio`` SDK and emulators log while a test runs.

    Every record at WARNING or above that the SDK logs (its package writes it), and every
    protocol warning an emulator logs (logger ``lmsprofiles.emulator``), is kept.
    """

    def __init__(self, sdk_dir: str | None) -> None:
        super().__init__(logging.WARNING)
        self._sdk_dir = sdk_dir
        self._expected: list[re.Pattern[str]] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        from_sdk = self._sdk_dir is not None and record.pathname.startswith(self._sdk_dir)
        if from_sdk or record.name == EMULATOR_LOGGER:
            self.records.append(record)

    def expect(self, pattern: str) -> None:
        """Allow warnings whose text contains a match of the regular expression ``pattern``."""
        self._expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        """The text of every collected warning that no :meth:`expect` pattern allows."""
        texts = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records]
        return [t for t in texts if not any(p.search(t) for p in self._expected)]


@pytest.fixture
def lmstudio_protocol_warnings() -> Iterator[ProtocolWarnings]:
    """Fail the test if the lmstudio SDK logs a warning or an emulator a protocol warning."""
    spec = importlib.util.find_spec("lmstudio")
    origin = spec.origin if spec is not None else None
    sdk_dir = str(Path(origin).parent) + os.sep if origin else None
    collector = ProtocolWarnings(sdk_dir)
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
    unexpected = collector.unexpected()
    if unexpected:
        pytest.fail("protocol warnings were logged:\n" + "\n".join(unexpected), pytrace=False)
