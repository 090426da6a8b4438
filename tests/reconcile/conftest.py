"""Helpers for the end-to-end tests: a copy of the example profiles and the CLI in-process."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lmsprofiles._cli import main

EXAMPLE_PROFILES = Path(__file__).resolve().parents[2] / "profiles"


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Host:
    """The emulator plus a profile directory and state dir to reconcile it with."""

    emulator: Any
    profiles: Path
    state_dir: Path
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str) -> Outcome:
        command, *rest = args
        argv = [
            command,
            "--profiles",
            str(self.profiles),
            "--host",
            self.emulator.host,
            "--state-dir",
            str(self.state_dir),
            *rest,
        ]
        self.capsys.readouterr()
        code = main(argv)
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def edit(self, name: str, pattern: str, replacement: str) -> None:
        path = self.profiles / name
        text = path.read_text()
        changed = re.sub(pattern, replacement, text, flags=re.MULTILINE)
        assert changed != text, f"{pattern!r} not found in {name}"
        path.write_text(changed)

    def loaded(self) -> dict[str, Any]:
        return {i.identifier: i for i in self.emulator.instances()}

    def state_file(self) -> Path:
        """The one state file of this server, once a run has written it."""
        [path] = (self.state_dir / "hosts").glob("*.json")
        return path


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    target = tmp_path / "profiles"
    shutil.copytree(EXAMPLE_PROFILES, target)
    return target


@pytest.fixture
def host(
    lmstudio_emulator: Any,
    profiles_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Host]:
    for name in ("LMSPROFILES_HOST", "LMSPROFILES_PROFILES", "LMSPROFILES_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield Host(lmstudio_emulator, profiles_dir, tmp_path / "state", capsys)


GEMMA = "google/gemma-3-1b"
NOMIC = "text-embedding-nomic-embed-text-v1.5"


def preload_many(emulator: Any) -> None:
    """40 LLM instances (``m00``..``m39``, context 1024 + i) and one embedding instance
    (``embed``, 512), with answers held back so that calls made at once are in flight
    together."""
    emulator.memory_budget = 1 << 50
    emulator.latency_ms = 2
    for i in range(40):
        emulator.preload(GEMMA, f"m{i:02d}", context_length=1024 + i)
    emulator.preload(NOMIC, "embed", context_length=512)


def assert_read_each(observed: Any, downloaded: Any) -> None:
    """What a client read of the host :func:`preload_many` set up: every instance with its
    own config, and the downloaded models."""
    by_name = {o.identifier: o for o in observed}
    assert set(by_name) == {f"m{i:02d}" for i in range(40)} | {"embed"}
    for i in range(40):
        assert by_name[f"m{i:02d}"].load["contextLength"] == 1024 + i
        assert by_name[f"m{i:02d}"].kind == "llm"
    assert by_name["embed"].kind == "embedding"
    assert by_name["embed"].load["contextLength"] == 512
    assert {d.model_key for d in downloaded} >= {GEMMA, NOMIC}
