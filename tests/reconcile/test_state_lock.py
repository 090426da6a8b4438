"""Ownership records on disk and the per-host lock."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from lmsprofiles._errors import LmsProfilesError, LockHeldError, StateError
from lmsprofiles._reconcile._host import parse_host, server_key
from lmsprofiles._reconcile._lock import host_lock, lock_path
from lmsprofiles._reconcile._model import DesiredInstance, OwnershipRecord
from lmsprofiles._reconcile._ownership import Intent, State, config_digest
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


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("localhost", "127.0.0.1:1234"),
        ("localhost:1234", "127.0.0.1:1234"),
        ("127.0.0.1:1234", "127.0.0.1:1234"),
        ("127.1.2.3:1234", "127.0.0.1:1234"),
        ("[::1]:1234", "127.0.0.1:1234"),
        ("[::ffff:127.0.0.1]:1234", "127.0.0.1:1234"),
        ("0.0.0.0:1234", "127.0.0.1:1234"),
        ("LocalHost.:41343", "127.0.0.1:41343"),
        ("GPU-Box:1234", "gpu-box:1234"),
        ("gpu-box", "gpu-box:1234"),
        ("[2001:DB8::0001]:80", "[2001:db8::1]:80"),
        ("10.0.0.5:1234", "10.0.0.5:1234"),
    ],
)
def test_server_key_treats_spellings_of_one_server_alike(address: str, key: str) -> None:
    assert server_key(parse_host(address)) == key
    assert lock_path(Path("s"), address) == Path("s/locks") / f"{host_slug(key)}.lock"


def test_intents_round_trip_and_newer_formats_are_refused(tmp_path: Path) -> None:
    store = OwnershipStore(tmp_path, "h:1")
    want = DesiredInstance("chat", "qwen/qwen3-8b", "llm", {"contextLength": 4096}, 600)
    state = State({}, {"chat": Intent.loading(want)})
    store.write(state)
    assert OwnershipStore(tmp_path, "h:1").read() == state
    document = json.loads(store.path.read_text())
    assert document["intents"]["chat"]["digest"] == config_digest(want)
    document["format_version"] = 3
    store.path.write_text(json.dumps(document))
    with pytest.raises(StateError, match="written by a newer lmsprofiles"):
        store.read()
