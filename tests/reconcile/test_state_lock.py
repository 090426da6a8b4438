"""Ownership records on disk and the per-host lock."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from lmsprofiles._errors import LmsProfilesError, LockHeldError
from lmsprofiles._reconcile._lock import host_lock, lock_path
from lmsprofiles._reconcile._model import OwnershipRecord
from lmsprofiles._reconcile._ownership import State
from lmsprofiles._reconcile._state import OwnershipStore, default_state_dir, host_slug


def test_records_round_trip_and_file_is_per_host(tmp_path: Path) -> None:
    store = OwnershipStore(tmp_path, "127.0.0.1:1234")
    assert store.read() == State()
    records = {
        "chat": OwnershipRecord("chat", "qwen/qwen3-8b", "llm", None, "2026-01-01T00:00:00+00:00"),
        "embed": OwnershipRecord("embed", "nomic", "embedding", 600, ""),
    }
    store.write(State(records))
    assert store.path == tmp_path / "hosts" / "127.0.0.1_1234.json"
    assert OwnershipStore(tmp_path, "127.0.0.1:1234").read() == State(records)
    assert OwnershipStore(tmp_path, "localhost:1234").read() == State(records)
    assert OwnershipStore(tmp_path, "other:1").read() == State()
    assert [p.name for p in store.path.parent.iterdir()] == ["127.0.0.1_1234.json"]


def test_damaged_state_file_is_a_clear_error(tmp_path: Path) -> None:
    store = OwnershipStore(tmp_path, "h:1")
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json")
    with pytest.raises(LmsProfilesError, match="damaged"):
        store.read()


def test_state_dir_from_environment(tmp_path: Path) -> None:
    assert default_state_dir({"LMSPROFILES_STATE_DIR": str(tmp_path)}) == tmp_path
    assert default_state_dir({}).name == "lmsprofiles"


def test_host_slug_is_file_name_safe() -> None:
    assert host_slug("127.0.0.1:1234") == "127.0.0.1_1234"
    assert host_slug("Box/../x:1") == "box_.._x_1"
    assert "/" not in host_slug("a/b")


def test_second_holder_fails_naming_the_first(tmp_path: Path) -> None:
    with host_lock(tmp_path, "h:1", operation="reconcile", timeout=0):
        info = json.loads(lock_path(tmp_path, "h:1").read_text())
        assert info["pid"] == os.getpid() and info["operation"] == "reconcile"
        second = host_lock(tmp_path, "h:1", operation="reconcile", timeout=0.2)
        with pytest.raises(LockHeldError) as raised, second:
            pass
        assert f"pid {os.getpid()}" in str(raised.value)
        assert "@" in str(raised.value) and "since" in str(raised.value)
        assert raised.value.exit_code == 5
        with host_lock(tmp_path, "other:1", operation="reconcile", timeout=0):
            pass
    with host_lock(tmp_path, "h:1", operation="reconcile", timeout=0):
        pass


def test_waiter_gets_the_lock_when_released(tmp_path: Path) -> None:
    released = threading.Event()

    def hold() -> None:
        with host_lock(tmp_path, "h:1", operation="reconcile", timeout=0):
            released.wait(5)
            time.sleep(0.2)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    released.set()
    start = time.monotonic()
    with host_lock(tmp_path, "h:1", operation="reconcile", timeout=5):
        waited = time.monotonic() - start
    holder.join()
    assert 0.05 < waited < 5
