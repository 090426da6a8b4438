"""Sessions follow reconcile's rules: ownership by record, the host lock, write-ahead loads,
one load under concurrent first use, timeouts, and error advice that works."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import lmsprofiles
from lmsprofiles._cli import main
from lmsprofiles._reconcile._lock import HostLock, host_lock
from lmsprofiles.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]


def records(state_dir: Path) -> dict[str, Any]:
    [path] = (state_dir / "hosts").glob("*.json")
    instances: dict[str, Any] = json.loads(path.read_text())["instances"]
    return instances


def test_a_replacement_someone_else_loaded_is_never_unloaded(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        s.llm("qwen-chat")
    lmstudio_emulator.unload("qwen-chat")
    lmstudio_emulator.preload("google/gemma-3-1b", "qwen-chat")  # same identifier, not ours
    reference = lmstudio_emulator.instance("qwen-chat").instance_reference
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        with pytest.raises(lmsprofiles.InstanceConflictError) as raised:
            s.llm("qwen-chat")
    assert "it is llm google/gemma-3-1b; unload it" in str(raised.value)
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == reference


def test_the_conflict_advice_works(
    profiles_dir: Path,
    lmstudio_emulator: Emulator,
    state_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lmstudio_emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096)
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        with pytest.raises(lmsprofiles.InstanceConflictError) as raised:
            s.llm("qwen-chat")
    assert "run `lmsprofiles adopt qwen-chat` to let lmsprofiles manage it" in str(raised.value)
    argv = ["--profiles", str(profiles_dir), "--host", lmstudio_emulator.host]
    assert main(["adopt", "qwen-chat", *argv, "--state-dir", str(state_dir)]) == 0
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        assert s.llm("qwen-chat").identifier == "qwen-chat"  # reloaded: it is ours now
    assert lmstudio_emulator.instance("qwen-chat").context_length == 16384


def test_a_session_load_during_a_reconcile_keeps_its_record(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path, tmp_path: Path
) -> None:
    coder_only = tmp_path / "coder-only"
    shutil.copytree(profiles_dir, coder_only)
    for name in ("qwen-chat.yaml", "embed.yaml"):
        (coder_only / "models" / name).unlink()
    lmstudio_emulator.set_faults("qwen/qwen2.5-coder-14b", load_seconds=2.0)
    argv = [sys.executable, "-m", "lmsprofiles", "reconcile", "--profiles", str(coder_only)]
    argv += ["--host", lmstudio_emulator.host, "--state-dir", str(state_dir)]
    reconcile = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not lmstudio_emulator.memory_used and time.monotonic() < deadline:
            time.sleep(0.02)
        with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
            s.llm("qwen-chat")  # waits for the host lock the reconcile holds
    finally:
        assert reconcile.wait(timeout=60) == 0
    assert set(records(state_dir)) == {"coder", "qwen-chat"}
    lmstudio_emulator.clear_faults()
    pruned = [*argv[3:], "--prune"]
    assert main(pruned) == 0
    assert {i.identifier for i in lmstudio_emulator.instances()} == {"coder"}


async def test_concurrent_first_use_from_many_tasks_loads_once(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    lmstudio_emulator.set_faults(load_seconds=0.3)
    async with lmsprofiles.connect_async(
        profiles_dir, lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        handles = await asyncio.gather(*(session.llm("qwen-chat") for _ in range(8)))
    assert {h.identifier for h in handles} == {"qwen-chat"}
    assert all(h is handles[0] for h in handles)
    assert [i.identifier for i in lmstudio_emulator.instances()] == ["qwen-chat"]
    assert set(records(state_dir)) == {"qwen-chat"}


def test_concurrent_first_use_from_many_threads_loads_once(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    lmstudio_emulator.set_faults(load_seconds=0.3)
    handles: list[Any] = []
    errors: list[BaseException] = []
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:

        def use(name: str) -> None:
            try:
                handles.append(s.llm(name) if name != "embed" else s.embedding(name))
            except BaseException as exc:
                errors.append(exc)

        names = ["qwen-chat"] * 6 + ["coder"] * 3 + ["embed"] * 3
        threads = [threading.Thread(target=use, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(handles) == len(names)
    loaded = sorted(i.identifier for i in lmstudio_emulator.instances())
    assert loaded == ["coder", "embed", "qwen-chat"]
    assert set(records(state_dir)) == set(loaded)


def test_a_session_never_unloads_before_the_reload_can_succeed(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        s.llm("qwen-chat")
    reference = lmstudio_emulator.instance("qwen-chat").instance_reference
    profile = profiles_dir / "models" / "qwen-chat.yaml"
    profile.write_text(profile.read_text().replace("qwen/qwen3-8b", "qwen/qwen3-8B"))
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        with pytest.raises(lmsprofiles.LMStudioError, match="is not downloaded on this host"):
            s.llm("qwen-chat")
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == reference


def test_sync_session_timeout(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    lmstudio_emulator.unresponsive = True
    with pytest.raises(lmsprofiles.LMStudioTimeoutError, match=r"did not answer within 0\.5 s"):
        with lmsprofiles.connect(
            profiles_dir, lmstudio_emulator.host, state_dir=state_dir, timeout=0.5
        ) as s:
            s.llm("qwen-chat")


async def test_async_session_timeout(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    lmstudio_emulator.unresponsive = True
    with pytest.raises(lmsprofiles.LMStudioTimeoutError, match=r"did not answer within 0\.5 s"):
        async with lmsprofiles.connect_async(
            profiles_dir, lmstudio_emulator.host, state_dir=state_dir, timeout=0.5
        ) as s:
            await s.llm("qwen-chat")


def test_malformed_host_and_state_dir_are_profile_errors(
    profiles_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(lmsprofiles.ProfileError, match="host: the port must be a number"):
        lmsprofiles.connect(profiles_dir, "localhost:abc")
    regular = tmp_path / "file"
    regular.write_text("")
    with pytest.raises(lmsprofiles.ProfileError, match="is not a directory"):
        lmsprofiles.connect(profiles_dir, "localhost:1234", state_dir=regular)


async def test_a_cancelled_load_gives_the_host_lock_back(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    lmstudio_emulator.set_faults(load_seconds=30)
    async with lmsprofiles.connect_async(
        profiles_dir, lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        task = asyncio.create_task(session.llm("qwen-chat"))
        while not lmstudio_emulator.memory_used:
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with host_lock(state_dir, session.host, operation="test", timeout=0):
            pass  # not held any more
    assert set(json.loads(next((state_dir / "hosts").glob("*.json")).read_text())["intents"]) == {
        "qwen-chat"
    }  # the outcome is unknown: the next run resolves it


async def test_a_task_cancelled_while_waiting_for_the_lock_never_keeps_it(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    async with lmsprofiles.connect_async(
        profiles_dir, lmstudio_emulator.host, state_dir=state_dir
    ) as session:
        held = HostLock(state_dir, session.host, operation="test")
        held.acquire(0)
        task = asyncio.create_task(session.llm("qwen-chat"))
        await asyncio.sleep(0.2)  # the task waits for the lock
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        held.release()
        again = HostLock(state_dir, session.host, operation="test")
        await asyncio.to_thread(again.acquire, 10)  # the waiter took it and gave it back
        again.release()
    assert lmstudio_emulator.instances() == []


def test_a_same_model_replacement_someone_else_loaded_is_never_unloaded(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        s.llm("qwen-chat")  # loaded by the session alone: no reconcile read it back since
    ours = lmstudio_emulator.instance("qwen-chat").instance_reference
    assert records(state_dir)["qwen-chat"]["instance_reference"] == ours
    lmstudio_emulator.unload("qwen-chat")
    # the same model under the same identifier, loaded by someone else, with less context
    lmstudio_emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096)
    theirs = lmstudio_emulator.instance("qwen-chat").instance_reference
    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        with pytest.raises(lmsprofiles.InstanceConflictError, match="was not loaded by"):
            s.llm("qwen-chat")
    assert lmstudio_emulator.instance("qwen-chat").instance_reference == theirs


@pytest.mark.parametrize("blocked", ["hosts", "locks"])
@pytest.mark.parametrize("use", ["sync", "async"])
def test_a_state_dir_that_cannot_take_records_loads_nothing(
    profiles_dir: Path, lmstudio_emulator: Emulator, tmp_path: Path, blocked: str, use: str
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / blocked).write_text("")  # a file where the records or locks go
    with pytest.raises(lmsprofiles.StateError, match=f"{state / blocked}"):
        if use == "sync":
            with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state) as s:
                s.llm("qwen-chat")
        else:

            async def go() -> None:
                async with lmsprofiles.connect_async(
                    profiles_dir, lmstudio_emulator.host, state_dir=state
                ) as s:
                    await s.llm("qwen-chat")

            asyncio.run(go())
    assert lmstudio_emulator.instances() == []


def test_the_server_going_away_between_calls(profiles_dir: Path, state_dir: Path) -> None:
    emulator = Emulator()
    with emulator.running() as running:
        session = lmsprofiles.connect(profiles_dir, running.host, state_dir=state_dir, timeout=5)
        session.__enter__()
        session.llm("qwen-chat")
    try:  # stopped: every call says the connection is lost, at once
        with pytest.raises(lmsprofiles.LMStudioUnreachableError, match="lost the connection"):
            session.respond("qwen-chat", "Hello")
        with pytest.raises(lmsprofiles.LMStudioUnreachableError, match="lost the connection"):
            session.llm("coder")
    finally:
        session.close()
    assert records(state_dir)["qwen-chat"]["model_key"] == "qwen/qwen3-8b"


async def test_the_server_going_away_between_async_calls(
    profiles_dir: Path, state_dir: Path
) -> None:
    with Emulator().running() as running:
        async with lmsprofiles.connect_async(
            profiles_dir, running.host, state_dir=state_dir, timeout=5
        ) as session:
            await session.llm("qwen-chat")
            await asyncio.to_thread(running.stop)  # the loop answers the close meanwhile
            with pytest.raises(lmsprofiles.LMStudioUnreachableError, match="lost the connection"):
                await session.respond("qwen-chat", "Hello")
            with pytest.raises(lmsprofiles.LMStudioUnreachableError, match="lost the connection"):
                await session.embed("embed", "text")
    assert records(state_dir)["qwen-chat"]["model_key"] == "qwen/qwen3-8b"


def test_an_instance_unloaded_through_the_sdk_between_calls(
    profiles_dir: Path, lmstudio_emulator: Emulator, state_dir: Path
) -> None:
    import lmstudio

    with lmsprofiles.connect(profiles_dir, lmstudio_emulator.host, state_dir=state_dir) as s:
        s.respond("qwen-chat", "Hello")
        with lmstudio.Client(lmstudio_emulator.host) as other:
            other.llm.unload("qwen-chat")
        assert s.respond("qwen-chat", "Hello").content  # loaded again, once
    [instance] = [i for i in lmstudio_emulator.instances() if i.identifier == "qwen-chat"]
    assert records(state_dir)["qwen-chat"]["instance_reference"] == instance.instance_reference
