"""The command line's client: each host's SDK ``AsyncClient``, every host on one event loop."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmsprofiles._reconcile._loop import HostClient
from lmsprofiles.emulator import Emulator
from tests.reconcile.conftest import Host
from tests.reconcile.test_fleet import NAMES, write_profiles

REPO = Path(__file__).resolve().parents[2]


def test_a_run_opens_each_namespace_it_uses_once(host: Host) -> None:
    assert host.run("reconcile").code == 0
    assert host.emulator.websockets == {"llm": 1, "embedding": 1, "system": 1}


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
