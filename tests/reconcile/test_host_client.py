"""The command line's client: each host's SDK ``AsyncClient``, every host on one event loop."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmsprofiles._reconcile._loop import HostClient
from lmsprofiles.emulator import Emulator
from tests.reconcile.conftest import Host, assert_read_each, preload_many
from tests.reconcile.test_fleet import NAMES, write_profiles

REPO = Path(__file__).resolve().parents[2]


def test_a_run_opens_each_namespace_it_uses_once(host: Host) -> None:
    assert host.run("reconcile").code == 0  # loads: the downloaded models are read
    assert host.emulator.websockets == {"llm": 1, "embedding": 1, "system": 1}


def test_a_plan_that_keeps_what_is_loaded_does_not_read_the_downloaded_models(
    host: Host,
) -> None:
    assert host.run("reconcile").code == 0
    before = host.emulator.websockets
    result = host.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    opened = host.emulator.websockets
    assert {ns: opened[ns] - before.get(ns, 0) for ns in opened} == {
        "llm": 1,
        "embedding": 1,
        "system": 0,
    }


def test_every_instance_gets_its_own_config_when_read_at_once(
    lmstudio_emulator: Emulator,
) -> None:
    preload_many(lmstudio_emulator)
    with HostClient(lmstudio_emulator.host) as client:
        assert client.serial_round_trips == 2  # the greeting, then llm and embedding at once
        observed = client.observe()
        assert client.serial_round_trips == 4  # the lists, then the configs
        assert client.round_trips == 2 + 41
        downloaded = client.downloaded()
        assert client.serial_round_trips == 6  # opening system, then the list
        client.downloaded()
        assert client.serial_round_trips == 7  # system is open
    assert_read_each(observed, downloaded)
    assert lmstudio_emulator.websockets == {"llm": 1, "embedding": 1, "system": 1}


def test_a_load_that_reports_progress_is_not_cut_off_by_the_timeout(host: Host) -> None:
    host.emulator.set_faults(load_seconds=1.2)  # progress every 0.05 s
    result = host.run("reconcile", "--timeout", "0.5")
    assert result.code == 0, result.err
    assert len(host.loaded()) == 3


def test_a_client_used_outside_its_block_says_so(lmstudio_emulator: Emulator) -> None:
    client = HostClient(lmstudio_emulator.host)
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        client.observe()
    with client:
        assert client.observe() == []
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        client.observe()


_THREADS = """
import sys, threading
from lmsprofiles._cli import main

started = []
start = threading.Thread.start
def record(thread, *args, **kwargs):
    started.append(thread.name)
    return start(thread, *args, **kwargs)
threading.Thread.start = record
code = main(sys.argv[1:])
print(sorted(started), file=sys.stderr)
sys.exit(code)
"""


def test_the_hosts_of_a_fan_out_share_one_event_loop(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        emulators = [stack.enter_context(Emulator().running()) for _ in NAMES]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
        for name, emulator in zip(NAMES, emulators, strict=True):
            env[f"LMSPROFILES_HOSTS__{name.upper().replace('-', '_')}__ADDRESS"] = emulator.host
        profiles = write_profiles(tmp_path)
        argv = ["plan", "--all-hosts", "--profiles", str(profiles)]
        argv += ["--state-dir", str(tmp_path / "state")]
        done = subprocess.run(
            [sys.executable, "-c", _THREADS, *argv],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        started = done.stderr.strip().splitlines()[-1]
        hosts = [f"lmsprofiles-host-{name}" for name in NAMES]
        assert started == str(sorted([*hosts, "lmsprofiles-io"]))
        for emulator in emulators:
            assert emulator.websockets == {"llm": 1, "embedding": 1, "system": 1}


def test_an_sdk_without_the_names_the_client_relies_on_gets_its_own_async_client(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmsprofiles._reconcile import _loop

    monkeypatch.setattr(_loop, "_made", [])
    renamed = (*_loop._PRIVATE_NAMES, "_AsyncSessionRenamedInALaterRelease")
    monkeypatch.setattr(_loop, "_PRIVATE_NAMES", renamed)
    assert host.run("reconcile").code == 0
    assert len(host.loaded()) == 3
    result = host.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    namespaces = ("embedding", "files", "llm", "repository", "system")
    assert host.emulator.websockets == dict.fromkeys(namespaces, 2)  # all five, each run


def test_calls_at_once_keep_their_order_and_limit_and_raise_the_first_failure() -> None:
    import asyncio

    from lmsprofiles._reconcile._loop import _at_once

    running, most, ended = [0], [0], []

    async def call(i: int) -> int:
        running[0] += 1
        most[0] = max(most[0], running[0])
        await asyncio.sleep(0)
        running[0] -= 1
        ended.append(i)
        if i in (3, 5):
            raise ValueError(f"call {i}")
        return i * i

    calls = [functools.partial(call, i) for i in range(10)]
    with pytest.raises(ValueError, match="call 3"):
        asyncio.run(_at_once(calls, 4))
    assert sorted(ended) == list(range(10)) and most[0] == 4  # every call ended, 4 at most
    squares = [functools.partial(call, i) for i in (0, 1, 2, 4, 6)]
    assert asyncio.run(_at_once(squares, 2)) == [0, 1, 4, 16, 36]
    assert asyncio.run(_at_once(squares, 32)) == [0, 1, 4, 16, 36]


_HANGING_RESOLVER = """
import socket, sys, threading
real = socket.getaddrinfo
def lookup(host, *args, **kwargs):
    if host in ("hang.invalid", b"hang.invalid"):
        threading.Event().wait()  # a resolver that never answers
    return real(host, *args, **kwargs)
socket.getaddrinfo = lookup
from lmsprofiles._cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_name_lookup_that_never_returns_does_not_hold_up_the_exit(tmp_path: Path) -> None:
    argv = ["plan", "--profiles", str(REPO / "profiles"), "--host", "hang.invalid:1234"]
    argv += ["--state-dir", str(tmp_path), "--timeout", "2"]
    done = subprocess.run(  # held up at the exit, it would time out here
        [sys.executable, "-c", _HANGING_RESOLVER, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == "error: LM Studio is not reachable at hang.invalid:1234\n"
