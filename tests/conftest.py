"""Shared fixtures: every test runs with a clean LMSPROFILES_* environment and its own
platform config/state dirs, so nothing on the developer's machine leaks in."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

EXAMPLE_PROFILES = Path(__file__).resolve().parent.parent / "profiles"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("xdg")
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.upper().startswith("LMSPROFILES_"):
            del os.environ[name]
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["XDG_STATE_HOME"] = str(home / "state")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


WriteTree = Callable[[dict[str, str]], Path]


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Write ``{relative path: YAML text}`` under a fresh profile dir and return the dir."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "profiles"
        root.mkdir(exist_ok=True)
        for name, text in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return root

    return write
