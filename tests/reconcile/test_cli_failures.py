"""Failure rows of the issue: unreachable server, invalid profiles, concurrent runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from lmsprofiles._reconcile._lock import host_lock
from tests.reconcile.conftest import EXAMPLE_PROFILES, Host

REPO = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", ["plan", "reconcile"])
def test_unreachable_server_is_one_clear_line_and_exit_1(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"127.0.0.1:{closed_port()}"
    argv = [command, "--profiles", str(EXAMPLE_PROFILES), "--host", address]
    code = main([*argv, "--state-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == f"error: LM Studio is not reachable at {address}\n"


def test_invalid_profiles_exit_3_before_contacting_anything(
    host: Host,
) -> None:
    host.edit("models/qwen-chat.yaml", r"contextLength: 16384", "contextLenght: 16384")
    result = host.run("reconcile")
    assert result.code == 3
    assert "did you mean" in result.err
    assert host.loaded() == {}
    assert not host.state_dir.exists()


def test_second_reconcile_fails_with_exit_5_naming_the_holder(host: Host) -> None:
    with host_lock(host.state_dir, host.emulator.host, operation="reconcile", timeout=0):
        result = host.run("reconcile", "--lock-timeout", "0.2")
    assert result.code == 5
    assert f"pid {os.getpid()}" in result.err
    assert "reconcile since" in result.err
    assert host.loaded() == {}


def test_second_reconcile_waits_for_the_lock(host: Host) -> None:
    taken = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with host_lock(host.state_dir, host.emulator.host, operation="reconcile", timeout=0):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    threading.Timer(0.5, release.set).start()
    start = time.monotonic()
    result = host.run("reconcile", "--lock-timeout", "10")
    holder.join()
    assert result.code == 0, result.err
    assert time.monotonic() - start >= 0.4
    assert len(host.loaded()) == 3


def test_concurrent_reconcile_processes(host: Host) -> None:
    host.emulator.set_faults(load_seconds=1.0)
    argv = [
        sys.executable,
        "-m",
        "lmsprofiles",
        "reconcile",
        "--profiles",
        str(host.profiles),
        "--host",
        host.emulator.host,
        "--state-dir",
        str(host.state_dir),
    ]
    first = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not host.emulator.memory_used and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 5, second.stderr
    assert f"pid {first.pid}" in second.stderr
    host.emulator.clear_faults()
    assert host.run("reconcile").code == 0


def test_readme_command_runs_in_a_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
    env["LMSPROFILES_STATE_DIR"] = str(tmp_path / "state")
    result = subprocess.run(
        [sys.executable, "-m", "lmsprofiles", "reconcile", "--emulator"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Plan: 3 to load" in result.stdout
    assert "Verified: the loaded instances match the profiles." in result.stdout
    assert (tmp_path / "state" / "locks").is_dir()


def test_emulator_run_uses_a_throwaway_state_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LMSPROFILES_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for _ in range(2):
        code = main(["reconcile", "--emulator", "--profiles", str(EXAMPLE_PROFILES), "--json"])
        assert code == 0, capsys.readouterr().err
        assert '"applied"' in capsys.readouterr().out
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_state_dir_from_environment(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = host.state_dir.parent / "from-env"
    monkeypatch.setenv("LMSPROFILES_STATE_DIR", str(env_dir))
    argv = ["reconcile", "--profiles", str(host.profiles), "--host", host.emulator.host]
    assert main(argv) == 0
    assert len(list((env_dir / "hosts").iterdir())) == 1
