"""Shared fixtures: every test runs with a clean LMSPROFILES_* environment and its own
platform config/state dirs, so nothing on the developer's machine leaks in."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

EXAMPLE_PROFILES = Path(__file__).resolve().parent.parent / "profiles"

# Property tests run on shared, loaded CI machines: a slow case is no failure. No deadline and
# no too_slow health check; the number of cases (max_examples) is hypothesis's default or what
# a test sets, so a test runs as many cases as before. HYPOTHESIS_PROFILE=default restores
# hypothesis's own settings. The profile builds on the settings hypothesis starts with, which
# are its "ci" profile where it detects CI (the CI variable), so CI runs stay derandomized.
settings.register_profile("lmsprofiles-base", parent=settings())
settings.register_profile(
    "lmsprofiles",
    parent=settings.get_profile("lmsprofiles-base"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lmsprofiles"))

# A child process a test starts (the CLI, an emulator, a bench script) writes every thread's
# Python traceback to its stderr if it dies of a signal; tests.processes sets it too.
os.environ["PYTHONFAULTHANDLER"] = "1"


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
