"""Fixtures of the runtime tests: a copy of the example profiles and a state dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_PROFILES


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    target = tmp_path / "profiles"
    shutil.copytree(EXAMPLE_PROFILES, target)
    return target


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
