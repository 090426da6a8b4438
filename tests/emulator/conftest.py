"""Fixtures for the emulator tests: SDK clients bound to the ``lmstudio_emulator`` fixture.

Every test here fails if the lmstudio SDK logs a warning or the emulator a protocol warning,
unless the test declares the one it provokes (``lmstudio_protocol_warnings.expect(...)``).
"""

from __future__ import annotations

from collections.abc import Iterator

import lmstudio as lms
import pytest

from lmsprofiles.emulator import Emulator
from lmsprofiles.emulator.pytest_plugin import ProtocolWarnings

QWEN = "qwen/qwen3-8b"
CODER = "qwen/qwen2.5-coder-14b"
GEMMA = "google/gemma-3-1b"
NOMIC = "text-embedding-nomic-embed-text-v1.5"


@pytest.fixture(autouse=True)
def _clean_protocol(lmstudio_protocol_warnings: ProtocolWarnings) -> ProtocolWarnings:
    return lmstudio_protocol_warnings


@pytest.fixture
def client(lmstudio_emulator: Emulator) -> Iterator[lms.Client]:
    """A sync SDK client (greeting probe included), closed after the test."""
    with lms.Client(lmstudio_emulator.host) as sdk_client:
        yield sdk_client


@pytest.fixture
def short_sync_timeout() -> Iterator[float]:
    """Sets the SDK's sync timeout to 1 s for the test and restores it afterwards."""
    previous = lms.get_sync_api_timeout()
    lms.set_sync_api_timeout(1.0)
    try:
        yield 1.0
    finally:
        lms.set_sync_api_timeout(previous)
