"""Crash safety: ``reconcile`` (and a session) killed with SIGKILL at every step of a load or
unload, then run again until the host converges.

The process is stopped at a named step by ``_LMSPROFILES_FAILPOINT`` (it blocks there) and
killed with SIGKILL: no ``finally``, no atexit, as with the OOM killer or a cancelled CI job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lmsprofiles._reconcile._failpoint import ENV
from tests.reconcile.conftest import Host

REPO = Path(__file__).resolve().parents[2]
ALL = {"coder", "embed", "qwen-chat"}


def killed_at(host: Host, step: str, *argv: str, script: str | None = None) -> None:
    """Run ``reconcile ARGV`` (or a Python ``script``) until it reaches ``step``; SIGKILL it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
    env[ENV] = step
    if script is None:
        command = [sys.executable, "-m", "lmsprofiles", "reconcile", *host_args(host), *argv]
    else:
        command = [sys.executable, "-c", script]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("failpoint "):
                break
        else:
            pytest.fail(f"the run ended before failpoint {step} (exit {process.wait()})")
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL


def host_args(host: Host) -> list[str]:
    return [
        "--profiles",
        str(host.profiles),
        "--host",
        host.emulator.host,
        "--state-dir",
        str(host.state_dir),
    ]


def assert_converges(host: Host, *argv: str) -> None:
    """The next run repairs the state: exit 0, then nothing left to do, no intents left."""
    again = host.run("reconcile", *argv)
    assert again.code == 0, again.out + again.err
    assert host.run("plan", "--detailed-exitcode", *argv).code == 0
    [path] = (host.state_dir / "hosts").glob("*.json")
    document = json.loads(path.read_text())
    assert document["intents"] == {}
    loaded = host.loaded()
    assert set(document["instances"]) == set(loaded)


@pytest.mark.parametrize("step", ["load-intent", "loaded", "settled"])
def test_killed_during_a_fresh_load(host: Host, step: str) -> None:
    killed_at(host, f"{step}:qwen-chat")
    assert_converges(host)
    assert set(host.loaded()) == ALL


def test_killed_right_after_the_load_returned_keeps_the_instance_ours(host: Host) -> None:
    killed_at(host, "loaded:qwen-chat")
    reference = host.loaded()["qwen-chat"].instance_reference
    plan = host.run("plan")
    assert plan.code == 0, plan.out + plan.err  # not a conflict: the intent says it is ours
    assert "an interrupted load" in plan.out and "completed" in plan.out
    assert_converges(host)
    assert host.loaded()["qwen-chat"].instance_reference == reference


def test_killed_while_the_server_loads(host: Host) -> None:
    host.emulator.set_faults(load_seconds=30)
    command = [sys.executable, "-m", "lmsprofiles", "reconcile", *host_args(host)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not host.emulator.memory_used and time.monotonic() < deadline:
            time.sleep(0.02)
        assert host.emulator.memory_used, "no load started"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    host.emulator.clear_faults()
    assert_converges(host)
    assert set(host.loaded()) == ALL


@pytest.mark.parametrize("step", ["unload-intent", "unloaded", "load-intent", "loaded"])
def test_killed_during_a_reload(host: Host, step: str) -> None:
    assert host.run("reconcile").code == 0
    host.edit("models/qwen-chat.yaml", r"contextLength: 16384", "contextLength: 8192")
    killed_at(host, f"{step}:qwen-chat")
    assert_converges(host)
    assert host.loaded()["qwen-chat"].context_length == 8192


@pytest.mark.parametrize("step", ["unload-intent", "unloaded"])
def test_killed_during_a_prune(host: Host, step: str) -> None:
    assert host.run("reconcile").code == 0
    (host.profiles / "models" / "coder.yaml").unlink()
    killed_at(host, f"{step}:coder", "--prune")
    assert_converges(host, "--prune")
    assert set(host.loaded()) == {"embed", "qwen-chat"}


def test_session_killed_after_its_load_leaves_an_instance_reconcile_owns(host: Host) -> None:
    script = textwrap.dedent(
        f"""
        import lmsprofiles
        with lmsprofiles.connect(
            {str(host.profiles)!r}, host={host.emulator.host!r}, state_dir={str(host.state_dir)!r}
        ) as session:
            session.llm("qwen-chat")
        """
    )
    killed_at(host, "loaded:qwen-chat", script=script)
    reference = host.loaded()["qwen-chat"].instance_reference
    assert_converges(host)
    assert host.loaded()["qwen-chat"].instance_reference == reference


def interrupted_at(host: Host, step: str, signum: int) -> str:
    """Run reconcile in a process, send it ``signum`` at ``step`` and return its stderr once
    it exited 130."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
    env[ENV] = step
    command = [sys.executable, "-m", "lmsprofiles", "reconcile", *host_args(host)]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    assert process.stderr.readline().startswith(f"failpoint {step.replace(':', ' ')}")
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.strip().endswith("interrupted")
    assert "Traceback" not in err
    return err


def test_sigint_during_apply_exits_130_and_the_next_run_converges(host: Host) -> None:
    interrupted_at(host, "loaded:qwen-chat", signal.SIGINT)
    reference = host.loaded()["qwen-chat"].instance_reference
    assert_converges(host)
    assert host.loaded()["qwen-chat"].instance_reference == reference


@pytest.mark.parametrize("step", ["load-intent:qwen-chat", "loaded:qwen-chat"])
def test_sigterm_during_apply_is_handled_like_sigint(host: Host, step: str) -> None:
    interrupted_at(host, step, signal.SIGTERM)
    [path] = (host.state_dir / "hosts").glob("*.json")
    assert set(json.loads(path.read_text())["intents"]) == {"qwen-chat"}  # written, resolvable
    assert_converges(host)


def test_connection_dropped_mid_apply_exits_1_and_the_next_run_converges(host: Host) -> None:
    host.emulator.set_faults("qwen/qwen3-8b", drop_connection_at=0.5)
    result = host.run("reconcile")
    assert result.code == 1
    assert result.err.startswith(f"error: lost the connection to LM Studio at {host.emulator.host}")
    assert result.err.count("\n") == 1
    [path] = (host.state_dir / "hosts").glob("*.json")
    assert set(json.loads(path.read_text())["intents"]) == {"qwen-chat"}  # outcome unknown
    host.emulator.clear_faults()
    assert_converges(host)
    assert set(host.loaded()) == ALL


def test_server_restarted_between_runs(host: Host, tmp_path: Path) -> None:
    from lmsprofiles.emulator import Emulator

    first = Emulator().start()
    port = first.port
    try:
        restarted = Host(first, host.profiles, host.state_dir, host.capsys)
        assert restarted.run("reconcile").code == 0
    finally:
        first.stop()
    with Emulator(port=port).running() as second:
        restarted = Host(second, host.profiles, host.state_dir, host.capsys)
        plan = restarted.run("plan", "--detailed-exitcode")
        assert plan.code == 2 and "Plan: 3 to load" in plan.out
        assert_converges(restarted)
        assert set(restarted.loaded()) == ALL
