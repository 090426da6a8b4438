"""Reading a host's state: the reads that do not depend on each other are made at once."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import lmstudio
import pytest

import lmsprofiles
from lmsprofiles._cli import main
from lmsprofiles._reconcile._client import _READERS, LMStudioClient, at_once, share_tls_context
from lmsprofiles.emulator import Emulator
from tests.conftest import EXAMPLE_PROFILES
from tests.reconcile.conftest import GEMMA, NOMIC, assert_read_each, preload_many

REPO = Path(__file__).resolve().parents[2]


def test_every_instance_gets_its_own_config_when_read_at_once(
    lmstudio_emulator: Emulator,
) -> None:
    preload_many(lmstudio_emulator)
    with LMStudioClient(lmstudio_emulator.host) as client:
        connecting = client.serial_round_trips
        observed = client.observe()
        assert client.serial_round_trips - connecting == 2  # the lists, then the configs
        assert client.round_trips == 2 + 41
        downloaded = client.downloaded()
        assert client.serial_round_trips - connecting == 3
        assert client.round_trips == 2 + 41 + 1
    assert_read_each(observed, downloaded)


def test_the_first_failure_in_order_is_raised_after_every_call_ended() -> None:
    ended: list[int] = []

    def call(i: int) -> int:
        ended.append(i)
        if i in (3, 5):
            raise ValueError(f"call {i}")
        return i

    try:
        at_once([functools.partial(call, i) for i in range(8)])
    except ValueError as exc:
        assert str(exc) == "call 3"
    else:
        raise AssertionError("no error raised")
    assert sorted(ended) == list(range(8))
    assert at_once([functools.partial(pow, i, 2) for i in range(50)]) == [i * i for i in range(50)]


def test_the_calls_are_in_flight_together_up_to_the_limit_of_readers() -> None:
    together = threading.Barrier(_READERS, timeout=10)  # broken unless 32 wait at once

    def call(i: int) -> int:
        together.wait()
        return i

    calls = [functools.partial(call, i) for i in range(_READERS * 3)]
    assert at_once(calls) == list(range(_READERS * 3))


def test_a_stuck_call_never_holds_up_the_end_of_the_process(tmp_path: Path) -> None:
    script = tmp_path / "stuck.py"
    script.write_text(
        "import threading\n"
        "from lmsprofiles._reconcile._client import at_once\n"
        "never = threading.Event()\n"
        "def read() -> None:\n"
        "    at_once([never.wait, never.wait])\n"
        "threading.Thread(target=read, daemon=True).start()\n"
        "print('main ends')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, cwd=REPO
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "main ends\n", "")


def test_clients_open_at_once_share_the_sdk_timeout_and_restore_it(
    lmstudio_emulator: Emulator,
) -> None:
    before = lmstudio.get_sync_api_timeout()
    first = LMStudioClient(lmstudio_emulator.host, timeout=7).__enter__()
    second = LMStudioClient(lmstudio_emulator.host, timeout=7).__enter__()
    assert lmstudio.get_sync_api_timeout() == 7
    first.close()
    assert lmstudio.get_sync_api_timeout() == 7  # the second one is still open
    second.close()
    assert lmstudio.get_sync_api_timeout() == before


def _httpx_as_installed(monkeypatch: pytest.MonkeyPatch) -> Any:
    """httpx's own ``create_ssl_context``, put back for this test (a CLI run earlier in this
    process shares it for the rest of the process) and again after it."""
    from httpx._transports import default

    make = default.create_ssl_context  # type: ignore[attr-defined]
    original = getattr(make, "__wrapped__", make)
    monkeypatch.setattr(default, "create_ssl_context", original)
    return original


@pytest.mark.parametrize("command", ["plan", "import"])
def test_cli_runs_share_one_tls_context_for_the_sdk_clients(
    command: str, lmstudio_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    from httpx._transports import default

    original = _httpx_as_installed(monkeypatch)
    lmstudio_emulator.preload(GEMMA, "gemma")
    argv = ["--host", lmstudio_emulator.host]
    if command == "plan":
        argv += ["plan", "--profiles", str(EXAMPLE_PROFILES), "--state-dir", str(tmp_path)]
    else:
        argv += ["import", "--from-host", "--to", str(tmp_path / "profiles"), "--dry-run"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0
    make = default.create_ssl_context  # type: ignore[attr-defined]
    assert make is not original
    first = make()
    assert make() is first
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname  # still verifies
    assert make(verify=False) is not make(verify=False)  # other settings: their own, as before


def test_a_library_leaves_httpx_as_it_is(
    lmstudio_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from httpx._transports import default

    original = _httpx_as_installed(monkeypatch)
    with LMStudioClient(lmstudio_emulator.host) as client:
        client.observe()
        client.downloaded()
    profiles = lmsprofiles.load(EXAMPLE_PROFILES, env={}, user_config=None)
    state_dir = tmp_path / "state"
    with lmsprofiles.connect(profiles, host=lmstudio_emulator.host, state_dir=state_dir) as s:
        assert s.llm("qwen-chat").identifier == "qwen-chat"
    assert default.create_ssl_context is original  # type: ignore[attr-defined]
    first = original()
    assert original() is not first


def test_sharing_the_tls_context_does_nothing_without_httpx_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from httpx._transports import default

    monkeypatch.delattr(default, "create_ssl_context")
    share_tls_context()
    assert not hasattr(default, "create_ssl_context")


_FIRST_READ = """
import sys
sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show at once
from lmsprofiles._reconcile._client import LMStudioClient
with LMStudioClient(sys.argv[1]) as client:
    observed = client.observe()
print(len(observed))
"""


def test_the_first_reads_of_a_process_at_once_do_not_crash_it(
    lmstudio_emulator: Emulator,
) -> None:
    # msgspec prepares each of the SDK's message types on first use; two threads preparing
    # one type at once crashed the interpreter (SIGSEGV) in about half of such processes.
    lmstudio_emulator.memory_budget = 1 << 50
    lmstudio_emulator.latency_ms = 20
    for i in range(12):
        lmstudio_emulator.preload(GEMMA, f"m{i:02d}", context_length=2048 + i)
    lmstudio_emulator.preload(NOMIC, "embed", context_length=512)
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    for _ in range(8):
        done = subprocess.run(
            [sys.executable, "-c", _FIRST_READ, lmstudio_emulator.host],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip() == "13"
