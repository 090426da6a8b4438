"""pytest plugin: the ``lmstudio_emulator`` fixture (registered through a ``pytest11`` entry point).

``lmstudio_emulator`` (function scope) starts an :class:`~lmsprofiles.emulator.Emulator` on a free
loopback port and yields it; ``emu.host`` is the ``"127.0.0.1:PORT"`` string for
``lms.Client``. Override the ``lmstudio_emulator_catalog`` fixture to use another catalog (a
:class:`~lmsprofiles.emulator.Catalog`, a path, or ``None`` for the bundled one).

The emulator package is imported lazily, inside the fixtures, so merely having this plugin
installed costs other test suites nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lmsprofiles.emulator import Catalog, Emulator

__all__ = ["lmstudio_emulator", "lmstudio_emulator_catalog"]


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
